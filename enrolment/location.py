"""Sites for new schools from a cost matrix: capacitated p-median and maximal covering.

Both models take the ``(n_points, n_sites)`` network cost matrix in metres (``inf`` where
there is no route) whose first :attr:`Sites.n_existing` columns are the existing schools,
always open, and whose other columns are candidate sites; the children at each demand
point; and the seats of every site (:class:`Sites`). They choose ``k`` candidates
(exactly ``k``, or at most ``k`` within a budget on opening costs) and are solved as
mixed-integer programs by SciPy's HiGHS (:func:`scipy.optimize.milp`, see
:mod:`enrolment._siting`) with a time limit and a relative gap. A demand point stands
for many children, so its children may be split between schools: assignments are
continuous, only the site choices are binary.

Capacitated p-median (:func:`p_median_sites`)::

    minimise    sum_ij w_i d_ij x_ij + M sum_i w_i u_i
    subject to  sum_j x_ij + u_i = 1           every point i with a pair
                sum_i w_i x_ij <= c_j          every existing school j
                sum_i w_i x_ij <= c_j y_j      every candidate j
                x_ij <= y_j                    every candidate pair (strong formulation)
                sum_j y_j = k                  (or <= k and sum_j b_j y_j <= B)
                0 <= x_ij, u_i <= 1,  y_j in {0, 1}

``x_ij`` is the share of point ``i``'s ``w_i`` children at site ``j``, ``u_i`` the share
left without a seat, ``y_j`` whether candidate ``j`` opens, ``c_j`` its seats, ``b_j``
its opening cost and ``B`` the budget. ``M = (n_existing + k + 1) x max d + 1`` metres
per child: more than seating one more child can cost in distance among the open schools
(an augmenting path visits each open school once), so for the sites chosen the fewest
children go unserved; between sitings, one child more without a seat weighs as ``M``
child-metres. Children left without a seat are always reported (:attr:`SiteSolution.
unserved`), with those of points that reach no site within the limit.

Maximal covering (:func:`max_covering_sites`), classic (capacities ignored)::

    maximise    sum_i w_i z_i
    subject to  z_i <= e_i + sum_(j in N_i) y_j   every point i
                sum_j y_j = k                  (or the budget, as above)
                0 <= z_i <= 1,  y_j in {0, 1}

``e_i`` is 1 when an existing school lies within the walking norm of point ``i`` and
``N_i`` its candidates within the norm. With ``capacitated=True`` the children covered
must also have a seat: maximise ``sum w_i x_ij`` over the pairs within the norm, subject
to ``sum_j x_ij <= 1`` and the capacity (and strong) rows of the p-median.

Restriction. Assignment variables exist only for the pairs within
:attr:`SiteOptions.max_distance_m` (the norm, for covering) with a route, and of these
only for each point's :attr:`SiteOptions.nearest` nearest candidates (ties to the lower
column) plus every existing school; the classic covering model has no assignment
variables and is never restricted. ``bound`` and ``gap`` are the proof for the
**restricted** model: no solution of it is better than ``bound``; a siting that needs
pairs outside it is not covered by the proof. A school opened at a candidate can take
only the children of points that count it among their nearest, so ``nearest`` must
reach as far as a new school's catchment: with candidates every 70 m (500 over Quận 3),
25 reach about 250 m, fewer children than 280 seats, and the model then picks other,
worse sites (5 % more walking on the district benchmark), while 50 chose the same sites
as the unrestricted model. The assignment reported is the restricted one; for the sites
chosen, the transportation problem over every pair (:func:`p_median_sites` with them as
existing schools and ``new_schools=0``) gives the children's real shortest assignment.

Formulation. The capacity rows alone (``"aggregated"``) are a valid model, but its
linear relaxation opens candidates by fractions ``load / seats`` and bounds poorly. The
``"strong"`` formulation (default) adds ``x_ij <= y_j`` for every candidate pair: one
row per pair and a relaxation so tight that its Lagrangian bound fixes almost every
candidate before branching (:mod:`enrolment._siting`), which needs the relaxation solved
once by an interior point method: its time grows with the pairs (seconds for 35,000,
about 40 s for 130,000). ``benchmarks/sites.py`` measures both formulations.

Gap. ``gap`` is the proven relative gap ``(objective - bound) / objective`` of the
program solved. For the p-median that program leaves out, as a constant, the penalty of
the children no siting can serve (those out of reach, and the children beyond every seat
``k`` new schools could add), so that the gap measures distance and avoidable shortfall,
not a penalty no siting avoids. Baseline: the same model with existing schools only
(``k = 0``; for the p-median this is the transportation problem), reported with every
solution.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from enrolment import _siting, _validate
from enrolment.errors import InvalidInputError
from enrolment.types import BoolArray, FloatArray, IntArray

#: Names of the formulations of the capacity linking (see the module docstring).
FORMULATIONS = ("strong", "aggregated")
#: Candidate sites per demand point kept as assignment variables.
DEFAULT_NEAREST = 50
#: Time limit of one solve, seconds.
DEFAULT_TIME_LIMIT_S = 60.0
#: Relative gap at which HiGHS stops.
DEFAULT_MIP_GAP = 1e-3
#: Shares of a point's children below this count as none.
_SHARE_TOLERANCE = 1e-7


def _vector(values: npt.ArrayLike, *, field: str) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        msg = f"expected a 1-D array, got shape {array.shape}"
        raise InvalidInputError(msg, field=field)
    return _validate.amounts(array, array.size, field=field)


def _count(value: int, *, field: str, least: int) -> int:
    if isinstance(value, bool):
        msg = f"expected an integer, got {value!r}"
        raise InvalidInputError(msg, field=field)
    try:
        number = operator.index(value)
    except TypeError:
        msg = f"expected an integer, got {value!r}"
        raise InvalidInputError(msg, field=field) from None
    if number < least:
        msg = f"must be at least {least}, got {number}"
        raise InvalidInputError(msg, field=field)
    return number


@dataclass(frozen=True, slots=True, eq=False)
class Sites:
    """Existing schools and candidate sites, in the order of the cost matrix's columns.

    Attributes
    ----------
    existing_seats
        ``(n_existing,)`` first-grade seats of each existing school (always open): the
        first columns of the cost matrix.
    candidate_seats
        ``(n_candidates,)`` seats of a school opened at each candidate site: the other
        columns.
    opening_cost
        ``(n_candidates,)`` cost of opening each candidate (any currency, the budget's),
        or ``None``; required with a budget.

    Raises
    ------
    InvalidInputError
        If an array is not 1-D, or holds a negative, NaN or infinite value.
    """

    existing_seats: FloatArray
    candidate_seats: FloatArray
    opening_cost: FloatArray | None = None

    def __post_init__(self) -> None:
        """Check the arrays and store them as float64."""
        candidates = _vector(self.candidate_seats, field="candidate_seats")
        object.__setattr__(
            self, "existing_seats", _vector(self.existing_seats, field="existing_seats")
        )
        object.__setattr__(self, "candidate_seats", candidates)
        if self.opening_cost is not None:
            cost = _validate.amounts(self.opening_cost, candidates.size, field="opening_cost")
            object.__setattr__(self, "opening_cost", cost)

    @property
    def n_existing(self) -> int:
        """Number of existing schools."""
        return int(self.existing_seats.size)

    @property
    def n_candidates(self) -> int:
        """Number of candidate sites."""
        return int(self.candidate_seats.size)

    @property
    def seats(self) -> FloatArray:
        """``(n_sites,)`` seats of every column: existing schools, then candidates."""
        return np.concatenate([self.existing_seats, self.candidate_seats])


@dataclass(frozen=True, slots=True)
class SiteOptions:
    """How a siting model is restricted, formulated and solved.

    Attributes
    ----------
    nearest
        Candidate sites per demand point kept as assignment variables (plus every
        existing school); ``None`` keeps all (see the module docstring).
    max_distance_m
        Pairs farther than this (metres) are no assignment variables; ``inf`` keeps every
        pair with a route. Covering models use the smaller of this and the norm.
    formulation
        ``"strong"`` (with ``x_ij <= y_j``) or ``"aggregated"`` (capacity rows only).
    time_limit_s
        Time limit of the solve, seconds.
    mip_rel_gap
        Relative gap at which HiGHS stops (0.001: 0.1 %).

    Raises
    ------
    InvalidInputError
        If a value is out of range or the formulation is unknown.
    """

    nearest: int | None = DEFAULT_NEAREST
    max_distance_m: float = math.inf
    formulation: str = "strong"
    time_limit_s: float = DEFAULT_TIME_LIMIT_S
    mip_rel_gap: float = DEFAULT_MIP_GAP

    def __post_init__(self) -> None:
        """Check every value."""
        if self.nearest is not None:
            _count(self.nearest, field="nearest", least=1)
        if not self.max_distance_m > 0:
            msg = f"must be a positive distance in metres (or inf), got {self.max_distance_m}"
            raise InvalidInputError(msg, field="max_distance_m")
        if self.formulation not in FORMULATIONS:
            msg = f"unknown formulation {self.formulation!r}; use one of {', '.join(FORMULATIONS)}"
            raise InvalidInputError(msg, field="formulation")
        if not (math.isfinite(self.time_limit_s) and self.time_limit_s > 0):
            msg = f"must be a positive finite number of seconds, got {self.time_limit_s}"
            raise InvalidInputError(msg, field="time_limit_s")
        if not 0 <= self.mip_rel_gap < 1:
            msg = f"must be a share in [0, 1), got {self.mip_rel_gap}"
            raise InvalidInputError(msg, field="mip_rel_gap")


@dataclass(frozen=True, slots=True, eq=False)
class SiteSolution:
    """The candidates opened, where the children go, and the proof for the model.

    Attributes
    ----------
    model
        ``"p_median"`` or ``"max_covering"``.
    opened
        Candidate sites opened, ascending (0 is the first candidate, i.e. column
        ``n_existing`` of the cost matrix).
    point, school, children, distance_m
        The assignment, one entry per pair used: demand point (row), school (column of
        the cost matrix), children of the point sent there and the pair's distance in
        metres. P-median: children with a seat. Covering: children covered, at the
        nearest open site within the norm (classic) or with a seat within it
        (capacitated).
    unserved
        ``(n_points,)`` children of each point left out: without a seat (p-median) or
        not covered (covering), including points that reach no site within the limit.
    objective
        P-median: child-metres walked plus ``penalty_m`` per unserved child. Covering:
        children covered.
    bound
        The best proven bound on ``objective`` for the restricted model (lower for the
        p-median, upper for covering): HiGHS's branch and bound with the Lagrangian bound
        of :mod:`enrolment._siting`.
    gap
        The proven relative gap (see the module docstring); at most the requested gap
        when ``status`` is ``"optimal"``.
    status
        ``"optimal"`` (within the requested gap) or ``"time_limit"``.
    seconds
        Wall-clock time of the solve.
    n_variables, n_constraints
        Size of the program given to HiGHS.
    fixed_sites
        Candidates fixed open or closed by the Lagrangian bound before branching (see
        :mod:`enrolment._siting`).
    penalty_m
        The cost ``M`` of one unserved child, metres (0 for covering).
    options
        The options solved with.
    baseline
        The same model with the existing schools only; ``None`` for the baseline itself.
    """

    model: str
    opened: IntArray
    point: IntArray
    school: IntArray
    children: FloatArray
    distance_m: FloatArray
    unserved: FloatArray
    objective: float
    bound: float
    gap: float
    status: str
    seconds: float
    n_variables: int
    n_constraints: int
    fixed_sites: int
    penalty_m: float
    options: SiteOptions
    baseline: SiteSolution | None = None

    @property
    def total_distance_m(self) -> float:
        """Child-weighted distance of the assignment, child-metres."""
        return float(np.dot(self.children, self.distance_m))

    @property
    def served_children(self) -> float:
        """Children assigned (seated, or covered)."""
        return float(self.children.sum())

    @property
    def unserved_children(self) -> float:
        """Children left out (without a seat, or not covered)."""
        return float(self.unserved.sum())

    @property
    def mean_distance_m(self) -> float:
        """Mean distance of the children assigned, metres (0 when none is)."""
        served = self.served_children
        return self.total_distance_m / served if served > 0 else 0.0

    @property
    def gain(self) -> float:
        """Improvement of ``objective`` over the baseline (0 for the baseline itself).

        P-median: the baseline's objective minus this one (penalised child-metres saved);
        covering: children covered beyond the baseline's.
        """
        if self.baseline is None:
            return 0.0
        change = self.objective - self.baseline.objective
        return -change if self.model == "p_median" else change


def p_median_sites(
    cost_m: npt.ArrayLike,
    children: npt.ArrayLike,
    *,
    sites: Sites,
    new_schools: int,
    budget: float | None = None,
    options: SiteOptions = SiteOptions(),
) -> SiteSolution:
    """Choose new schools' sites to minimise child-weighted distance within seats.

    Parameters
    ----------
    cost_m
        ``(n_points, n_existing + n_candidates)`` network distance in metres, existing
        schools first; ``inf`` for no route.
    children
        ``(n_points,)`` children of first-grade age per demand point.
    sites
        Seats of the existing schools and candidates (and opening costs).
    new_schools
        ``k``: candidates to open, exactly (at most, with a budget).
    budget
        Largest total opening cost of the candidates opened (``sites.opening_cost``);
        ``None`` for none.
    options
        Restriction, formulation and solver limits.

    Returns
    -------
    SiteSolution
        The sites, assignment, shortfall and proof, with the baseline (existing schools
        only, i.e. the transportation problem).

    Raises
    ------
    InvalidInputError
        If an input breaks its contract.
    InfeasibleError
        If HiGHS fails or finds no solution within the time limit.
    """
    cost, weights = _inputs(cost_m, children, sites)
    k = _new_schools(new_schools, sites, budget)
    usable = np.isfinite(cost) & (cost <= options.max_distance_m)
    kept = _kept_pairs(cost, usable, weights, sites.n_existing, options.nearest)
    largest = float(cost[kept].max()) if kept.any() else 0.0
    penalty = (sites.n_existing + k + 1) * largest + 1.0
    baseline = _assignment_model(
        cost, weights, sites, usable=usable, k=0, budget=None, options=options, penalty=penalty
    )
    solution = _assignment_model(
        cost, weights, sites, usable=usable, k=k, budget=budget, options=options, penalty=penalty
    )
    return replace(solution, baseline=baseline)


def max_covering_sites(
    cost_m: npt.ArrayLike,
    children: npt.ArrayLike,
    *,
    sites: Sites,
    new_schools: int,
    norm_m: float,
    capacitated: bool = False,
    budget: float | None = None,
    options: SiteOptions = SiteOptions(),
) -> SiteSolution:
    """Choose new schools' sites to maximise the children within a walking norm.

    Parameters
    ----------
    cost_m
        ``(n_points, n_existing + n_candidates)`` network distance in metres, existing
        schools first; ``inf`` for no route.
    children
        ``(n_points,)`` children of first-grade age per demand point.
    sites
        Seats of the existing schools and candidates (and opening costs); seats are used
        only when ``capacitated``.
    new_schools
        ``k``: candidates to open, exactly (at most, with a budget).
    norm_m
        The walking norm in metres (e.g. 1,000): a child is covered by an open school
        at most this far away.
    capacitated
        Whether a covered child also needs a seat at a school within the norm; ``False``
        is the classic maximal covering model.
    budget
        Largest total opening cost of the candidates opened; ``None`` for none.
    options
        Restriction (capacitated only), formulation and solver limits.

    Returns
    -------
    SiteSolution
        The sites, the children covered and by which school, and the proof, with the
        baseline (existing schools only).

    Raises
    ------
    InvalidInputError
        If an input breaks its contract.
    InfeasibleError
        If HiGHS fails or finds no solution within the time limit.
    """
    cost, weights = _inputs(cost_m, children, sites)
    k = _new_schools(new_schools, sites, budget)
    if not (math.isfinite(norm_m) and norm_m > 0):
        msg = f"must be a positive finite distance in metres, got {norm_m}"
        raise InvalidInputError(msg, field="norm_m")
    usable = np.isfinite(cost) & (cost <= min(norm_m, options.max_distance_m))
    solved = [
        _assignment_model(
            cost, weights, sites, usable=usable, k=n, budget=b, options=options, penalty=None
        )
        if capacitated
        else _classic_covering(cost, weights, sites, usable=usable, k=n, budget=b, options=options)
        for n, b in ((0, None), (k, budget))
    ]
    return replace(solved[1], baseline=solved[0])


# --------------------------------------------------------------------------- inputs


def _inputs(
    cost_m: npt.ArrayLike, children: npt.ArrayLike, sites: Sites
) -> tuple[FloatArray, FloatArray]:
    cost = _validate.cost_matrix(cost_m, field="cost_m")
    expected = sites.n_existing + sites.n_candidates
    if cost.shape[1] != expected:
        msg = (
            f"has {cost.shape[1]} columns; expected {sites.n_existing} existing schools "
            f"+ {sites.n_candidates} candidate sites = {expected}"
        )
        raise InvalidInputError(msg, field="cost_m")
    return cost, _validate.amounts(children, cost.shape[0], field="children")


def _new_schools(value: int, sites: Sites, budget: float | None) -> int:
    k = _count(value, field="new_schools", least=0)
    if budget is None and k > sites.n_candidates:
        msg = f"cannot open exactly {k} new schools among {sites.n_candidates} candidate sites"
        raise InvalidInputError(msg, field="new_schools")
    if budget is not None:
        if sites.opening_cost is None:
            msg = "a budget needs the candidates' opening costs (Sites.opening_cost)"
            raise InvalidInputError(msg, field="budget")
        if not (math.isfinite(budget) and budget >= 0):
            msg = f"must be a finite non-negative cost, got {budget}"
            raise InvalidInputError(msg, field="budget")
    return k


def _kept_pairs(
    cost: FloatArray, usable: BoolArray, weights: FloatArray, n_existing: int, nearest: int | None
) -> np.ndarray:
    """Mask of the assignment variables: usable pairs of points with children, restricted."""
    kept = usable & (weights > 0)[:, None]
    n_candidates = cost.shape[1] - n_existing
    if nearest is None or nearest >= n_candidates:
        return kept
    candidate = np.where(kept[:, n_existing:], cost[:, n_existing:], np.inf)
    order = np.argsort(candidate, axis=1, kind="stable")[:, :nearest]
    rows = np.repeat(np.arange(cost.shape[0]), nearest)
    columns = order.ravel()
    restricted = kept.copy()
    restricted[:, n_existing:] = False
    restricted[rows, n_existing + columns] = np.isfinite(candidate[rows, columns])
    return restricted


# --------------------------------------------------------------------------- models

_RowBlock = tuple[sp.csr_array, FloatArray]


def _assignment_model(
    cost: FloatArray,
    weights: FloatArray,
    sites: Sites,
    *,
    usable: BoolArray,
    k: int,
    budget: float | None,
    options: SiteOptions,
    penalty: float | None,
) -> SiteSolution:
    """P-median (``penalty`` given) or capacitated covering (``None``) over the kept pairs.

    Columns: ``x`` per kept pair, then (p-median) ``u`` per point with a pair, then ``y``
    per candidate (none when ``k`` is 0: the candidates stay closed), then (p-median) an
    offset column fixed at 1 carrying minus the penalty of the unavoidable shortfall.
    """
    n_existing = sites.n_existing
    if k == 0:
        usable = usable.copy()
        usable[:, n_existing:] = False
    point, school = np.nonzero(_kept_pairs(cost, usable, weights, n_existing, options.nearest))
    rows, row_of = np.unique(point, return_inverse=True)
    n_pairs, n_rows = point.size, rows.size
    n_shortfall = n_rows if penalty is not None else 0
    y_at = n_pairs + n_shortfall
    n_y = sites.n_candidates if k > 0 else 0
    n_columns = y_at + n_y + (1 if penalty is not None else 0)
    distance = cost[point, school]
    share_weight = weights[point]
    objective = np.zeros(n_columns)
    lower, upper = np.zeros(n_columns), np.ones(n_columns)
    assignment = _assignment_rows(
        row_of, n_rows, n_columns, shortfall_at=n_pairs if penalty is not None else None
    )
    capacity = _capacity_rows(
        school,
        share_weight,
        sites,
        n_columns,
        y_at=y_at if n_y else None,
        strong=options.formulation == "strong",
    )
    count, exact = _site_rows(sites, k, budget, n_columns, y_at=y_at) if n_y else ([], [])
    unavoidable = 0.0
    if penalty is None:
        objective[:n_pairs] = -share_weight
        upper_rows, equal_rows = [assignment, *capacity], []
    else:
        objective[:n_pairs] = share_weight * distance
        objective[n_pairs:y_at] = penalty * weights[rows]
        seats = sites.existing_seats.sum() + np.sort(sites.candidate_seats)[::-1][:k].sum()
        unavoidable = max(0.0, float(weights[rows].sum()) - float(seats))
        objective[-1] = -penalty * unavoidable
        lower[-1] = 1.0
        upper_rows, equal_rows = capacity, [assignment]
    structure = _siting.Assignment(
        n_rows=n_rows,
        equal=penalty is not None,
        site=school,
        weight=share_weight,
        seats=sites.seats,
        n_existing=n_existing,
        new_sites=k,
    )
    program = _program(
        objective,
        lower,
        upper,
        [*upper_rows, *count],
        [*equal_rows, *exact],
        y_at=y_at,
        n_y=n_y,
        assignment=structure,
    )
    solved = _solve(program, sites, k, budget, options)
    flow = weights[point] * np.clip(solved.x[:n_pairs], 0.0, 1.0)
    used = flow > _SHARE_TOLERANCE * weights[point]
    unserved = weights - np.bincount(point[used], flow[used], cost.shape[0])
    if penalty is None:
        value, bound = 0.0 - solved.objective, 0.0 - solved.bound
    else:
        outside = penalty * (unavoidable + float(weights.sum() - weights[rows].sum()))
        value, bound = solved.objective + outside, solved.bound + outside
    return SiteSolution(
        model="p_median" if penalty is not None else "max_covering",
        opened=np.flatnonzero(solved.x[y_at : y_at + n_y] > 0.5).astype(np.int64),
        point=point[used],
        school=school[used],
        children=flow[used],
        distance_m=distance[used],
        unserved=np.where(unserved > _SHARE_TOLERANCE * weights, unserved, 0.0),
        objective=value,
        bound=bound,
        gap=solved.gap,
        status="optimal" if solved.proven else "time_limit",
        seconds=solved.seconds,
        n_variables=n_columns,
        n_constraints=program.n_rows,
        fixed_sites=solved.fixed,
        penalty_m=penalty or 0.0,
        options=options,
    )


def _classic_covering(
    cost: FloatArray,
    weights: FloatArray,
    sites: Sites,
    *,
    usable: BoolArray,
    k: int,
    budget: float | None,
    options: SiteOptions,
) -> SiteSolution:
    """Solve the classic maximal covering model: ``z`` per point some site covers, ``y``."""
    n_existing = sites.n_existing
    if k == 0:
        usable = usable.copy()
        usable[:, n_existing:] = False
    existing = np.asarray(usable[:, :n_existing].any(axis=1), dtype=np.float64)
    rows = np.flatnonzero((weights > 0) & usable.any(axis=1))
    n_rows = rows.size
    n_y = sites.n_candidates if k > 0 else 0
    n_columns = n_rows + n_y
    row, candidate = np.nonzero(usable[rows, n_existing:])
    covering = _siting.rows(
        np.concatenate([np.arange(n_rows), row]),
        np.concatenate([np.arange(n_rows), n_rows + candidate]),
        np.concatenate([np.ones(n_rows), -np.ones(row.size)]),
        shape=(n_rows, n_columns),
    )
    count, exact = _site_rows(sites, k, budget, n_columns, y_at=n_rows) if n_y else ([], [])
    program = _program(
        np.concatenate([-weights[rows], np.zeros(n_y)]),
        np.zeros(n_columns),
        np.ones(n_columns),
        [(covering, existing[rows]), *count],
        exact,
        y_at=n_rows,
        n_y=n_y,
        assignment=None,
    )
    solved = _solve(program, sites, k, budget, options)
    opened = np.flatnonzero(solved.x[n_rows:] > 0.5).astype(np.int64)
    open_columns = np.concatenate([np.arange(n_existing), n_existing + opened])
    reach = np.where(usable[:, open_columns], cost[:, open_columns], np.inf)
    point = np.flatnonzero(np.isfinite(reach).any(axis=1) & (weights > 0))
    school = open_columns[np.argmin(reach[point], axis=1)] if point.size else point
    unserved = weights.copy()
    unserved[point] = 0.0
    return SiteSolution(
        model="max_covering",
        opened=opened,
        point=point,
        school=school,
        children=weights[point],
        distance_m=cost[point, school],
        unserved=unserved,
        objective=0.0 - solved.objective,
        bound=0.0 - solved.bound,
        gap=solved.gap,
        status="optimal" if solved.proven else "time_limit",
        seconds=solved.seconds,
        n_variables=n_columns,
        n_constraints=program.n_rows,
        fixed_sites=solved.fixed,
        penalty_m=0.0,
        options=options,
    )


# --------------------------------------------------------------------------- rows


def _program(
    objective: FloatArray,
    lower: FloatArray,
    upper: FloatArray,
    upper_rows: list[_RowBlock],
    equal_rows: list[_RowBlock],
    *,
    y_at: int,
    n_y: int,
    assignment: _siting.Assignment | None,
) -> _siting.Program:
    """Stack the row blocks into one program."""
    n_columns = objective.size

    def stacked(blocks: list[_RowBlock]) -> tuple[sp.csr_array, FloatArray]:
        if not blocks:
            return sp.csr_array((0, n_columns)), np.zeros(0)
        matrix = sp.vstack([block for block, _ in blocks], format="csr")
        rhs = np.concatenate([np.broadcast_to(b, block.shape[0]) for block, b in blocks])
        return sp.csr_array(matrix), rhs.astype(np.float64)

    upper_matrix, upper_rhs = stacked(upper_rows)
    equal_matrix, equal_rhs = stacked(equal_rows)
    return _siting.Program(
        objective=objective,
        upper_rows=upper_matrix,
        upper_rhs=upper_rhs,
        equal_rows=equal_matrix,
        equal_rhs=equal_rhs,
        lower=lower,
        upper=upper,
        y_at=y_at,
        n_y=n_y,
        assignment=assignment,
    )


def _assignment_rows(
    row_of: IntArray, n_rows: int, n_columns: int, *, shortfall_at: int | None
) -> _RowBlock:
    """``sum_j x_ij (+ u_i)`` per point with a pair, right-hand side 1.

    With ``u_i`` (columns from ``shortfall_at``) for the p-median's ``= 1``, without for
    the covering's ``<= 1``.
    """
    rows, columns = row_of, np.arange(row_of.size)
    if shortfall_at is not None:
        rows = np.concatenate([rows, np.arange(n_rows)])
        columns = np.concatenate([columns, shortfall_at + np.arange(n_rows)])
    matrix = _siting.rows(rows, columns, np.ones(rows.size), shape=(n_rows, n_columns))
    return matrix, np.ones(n_rows)


def _capacity_rows(
    school: IntArray,
    share_weight: FloatArray,
    sites: Sites,
    n_columns: int,
    *,
    y_at: int | None,
    strong: bool,
) -> list[_RowBlock]:
    """Seats of every site (``- c_j y_j`` for candidates) and, if strong, ``x_ij <= y_j``.

    ``y_at`` is the first ``y`` column, ``None`` when the candidates stay closed (then
    only the existing schools have rows).
    """
    n_existing = sites.n_existing
    pairs = np.arange(school.size)
    if y_at is None:
        capacity = _siting.rows(school, pairs, share_weight, shape=(n_existing, n_columns))
        return [(capacity, sites.existing_seats)]
    n_candidates = sites.n_candidates
    capacity = _siting.rows(
        np.concatenate([school, n_existing + np.arange(n_candidates)]),
        np.concatenate([pairs, y_at + np.arange(n_candidates)]),
        np.concatenate([share_weight, -sites.candidate_seats]),
        shape=(n_existing + n_candidates, n_columns),
    )
    blocks = [(capacity, np.concatenate([sites.existing_seats, np.zeros(n_candidates)]))]
    candidate = np.flatnonzero(school >= n_existing)
    if strong and candidate.size:
        count = candidate.size
        linking = _siting.rows(
            np.tile(np.arange(count), 2),
            np.concatenate([candidate, y_at + school[candidate] - n_existing]),
            np.concatenate([np.ones(count), -np.ones(count)]),
            shape=(count, n_columns),
        )
        blocks.append((linking, np.zeros(count)))
    return blocks


def _site_rows(
    sites: Sites, k: int, budget: float | None, n_columns: int, *, y_at: int
) -> tuple[list[_RowBlock], list[_RowBlock]]:
    """``sum y = k`` (an equality), or ``sum y <= k`` and ``sum b y <= B`` with a budget."""
    n_y = sites.n_candidates
    columns = y_at + np.arange(n_y)
    count = _siting.rows(np.zeros(n_y), columns, np.ones(n_y), shape=(1, n_columns))
    if budget is None or sites.opening_cost is None:  # no cost without a budget
        return [], [(count, np.array([float(k)]))]
    spend = _siting.rows(np.zeros(n_y), columns, sites.opening_cost, shape=(1, n_columns))
    return [(count, np.array([float(k)])), (spend, np.array([budget]))], []


def _solve(
    program: _siting.Program, sites: Sites, k: int, budget: float | None, options: SiteOptions
) -> _siting.Solved:
    """Solve with HiGHS, rounding relaxations to the best ``k`` sites the budget allows."""

    def round_sites(y: FloatArray) -> FloatArray:
        chosen = np.zeros(y.size)
        order = np.argsort(-y, kind="stable")
        if budget is None or sites.opening_cost is None:
            chosen[order[:k]] = 1.0
            return chosen
        spent = 0.0
        for site in order:
            if chosen.sum() < k and spent + sites.opening_cost[site] <= budget:
                chosen[site] = 1.0
                spent += float(sites.opening_cost[site])
        return chosen

    return _siting.solve_program(
        program,
        round_sites=round_sites,
        time_limit_s=options.time_limit_s,
        mip_rel_gap=options.mip_rel_gap,
    )
