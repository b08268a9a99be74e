"""The mixed-integer programs of :mod:`enrolment.location` and how HiGHS solves them.

A siting program minimises ``c x`` subject to ``A_ub x <= b_ub``, ``A_eq x = b_eq`` and
bounds, with a block of binary columns ``y`` (the candidate sites). The capacitated
models also describe their assignment (:class:`Assignment`): share ``x_p`` of a point's
``w_p`` children at a site, one assignment row per point, seats per site.

For those, before branching, the linear relaxation is solved by HiGHS's interior point
method with crossover (:func:`scipy.optimize.linprog`, ``"highs-ipm"``): on the strong
formulation it is many times faster than the dual simplex the MIP solver starts with.
Its duals ``alpha`` of the assignment rows give the Lagrangian bound of the relaxation
that keeps every other row::

    L(alpha) = sum_i alpha_i + sum_(existing e) v_e + (sum of the k smallest v_j)
               + sum_(other columns) min(r l, r u)
    v_j = min sum_p (c_p - alpha_i(p)) x_p   s.t.  sum_p w_p x_p <= c_j,  0 <= x_p <= 1

a continuous knapsack per site (greedy by reduced cost per child) and the choice of at
most ``k`` sites (a budget is dropped: the bound stays valid). It is a lower bound for
any ``alpha`` (of the right sign) and equals the relaxation's optimum at its duals. The
relaxation rounded to a siting (``round_sites``) and the program with ``y`` fixed there
give an incumbent of value ``U``. A candidate outside the ``k`` smallest ``v`` opens only
at a cost of at least ``L + v_j - v_(k)``; one inside closes only at ``L - v_j +
v_(k+1)``: where that exceeds ``U`` no solution better than ``U`` has it otherwise, and
it is fixed. On the district benchmark this fixes all but a handful of 500 candidates.
:func:`scipy.optimize.milp` then solves what is left, within the remaining time and the
requested gap; the incumbent is kept when HiGHS finds nothing better.

The bound reported is ``max(L, min(U, B))``, ``B`` HiGHS's bound on the reduced program:
a solution better than ``U`` lies in the reduced program, so nothing beats it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, OptimizeResult, linprog, milp

from enrolment.errors import InfeasibleError
from enrolment.types import FloatArray, IntArray

#: Relative slack on the incumbent before a candidate is fixed, for the solver tolerances.
_FIX_SLACK = 1e-7
#: Share of the time limit the linear relaxation may use.
_RELAXATION_SHARE = 0.8


@dataclass(frozen=True, slots=True, eq=False)
class Assignment:
    """The assignment inside a capacitated siting program.

    Attributes
    ----------
    n_rows
        The assignment rows (``sum_j x_ij (+ u_i)``, right-hand side 1) are the first
        ``n_rows`` rows of the equality block (``equal``) or of the ``<=`` block.
    equal
        Whether they are equalities.
    site
        ``(n_pairs,)`` site of each ``x`` column (columns ``0 .. n_pairs - 1``): existing
        schools ``0 .. n_existing - 1``, then candidate ``j`` as ``n_existing + j``, whose
        ``y`` is column ``y_at + j``.
    weight
        ``(n_pairs,)`` children of the point of each ``x`` column.
    seats
        ``(n_existing + n_y,)`` seats of every site.
    n_existing
        Existing schools (always open).
    new_sites
        ``k``: candidates opened at most.
    """

    n_rows: int
    equal: bool
    site: IntArray
    weight: FloatArray
    seats: FloatArray
    n_existing: int
    new_sites: int


@dataclass(frozen=True, slots=True, eq=False)
class Program:
    """A siting program: ``min c x``, ``A_ub x <= b_ub``, ``A_eq x = b_eq``, bounds.

    Attributes
    ----------
    objective
        ``c``.
    upper_rows, upper_rhs
        ``A_ub`` and ``b_ub``.
    equal_rows, equal_rhs
        ``A_eq`` and ``b_eq``.
    lower, upper
        Bounds of every column.
    y_at, n_y
        The binary columns: ``y_at`` to ``y_at + n_y - 1``.
    assignment
        The assignment of a capacitated model, ``None`` for the classic covering model
        (then HiGHS solves the program as it is).
    """

    objective: FloatArray
    upper_rows: sp.csr_array
    upper_rhs: FloatArray
    equal_rows: sp.csr_array
    equal_rhs: FloatArray
    lower: FloatArray
    upper: FloatArray
    y_at: int
    n_y: int
    assignment: Assignment | None

    @property
    def n_rows(self) -> int:
        """Number of constraints."""
        return int(self.upper_rows.shape[0] + self.equal_rows.shape[0])


@dataclass(frozen=True, slots=True, eq=False)
class Solved:
    """A solution of a program with HiGHS's proof.

    Attributes
    ----------
    x
        The best solution found.
    objective
        Its ``c x``.
    bound
        A lower bound of ``c x`` over the program's feasible solutions.
    gap
        ``(objective - bound) / |objective|`` (0 when they are equal).
    proven
        Whether ``gap`` is within the requested gap.
    seconds
        Wall-clock time of the whole solve.
    fixed
        Binary columns fixed by the Lagrangian bound before branching.
    """

    x: FloatArray
    objective: float
    bound: float
    gap: float
    proven: bool
    seconds: float
    fixed: int


def rows(
    row: npt.ArrayLike, column: npt.ArrayLike, value: npt.ArrayLike, *, shape: tuple[int, int]
) -> sp.csr_array:
    """Return a sparse matrix from coordinates (duplicates summed)."""
    return sp.csr_array((value, (row, column)), shape=shape)


def solve_program(
    program: Program,
    *,
    round_sites: Callable[[FloatArray], FloatArray],
    time_limit_s: float,
    mip_rel_gap: float,
) -> Solved:
    """Solve ``program`` within ``time_limit_s`` (see the module docstring).

    Parameters
    ----------
    program
        The program.
    round_sites
        Turns the relaxation's ``y`` into a feasible 0/1 siting.
    time_limit_s
        Time limit of the whole solve, seconds.
    mip_rel_gap
        Relative gap at which HiGHS stops.

    Returns
    -------
    Solved
        The best solution and its bound.

    Raises
    ------
    InfeasibleError
        If HiGHS finds no solution within the time limit.
    """
    started = time.perf_counter()
    if program.objective.size == 0:  # nothing to decide: no point reaches a site
        return Solved(program.objective, 0.0, 0.0, 0.0, True, 0.0, 0)
    lower, upper = program.lower.copy(), program.upper.copy()
    incumbent: tuple[FloatArray, float] | None = None
    bound, fixed = -np.inf, 0
    if program.assignment is not None and program.n_y:
        relaxed = _linprog(program, time_limit_s=_RELAXATION_SHARE * time_limit_s)
        if relaxed is not None:
            bound, values = _lagrangian(program, program.assignment, relaxed)
            siting = round_sites(np.asarray(relaxed.x[program.y_at : program.y_at + program.n_y]))
            incumbent = _fixed_sites(program, siting)
        if relaxed is not None and incumbent is not None:
            fixed = _fix_sites(
                program,
                values,
                new_sites=program.assignment.new_sites,
                bound=bound,
                incumbent=incumbent[1],
                lower=lower,
                upper=upper,
            )
    result = _milp(program, lower, upper, _left(started, time_limit_s), mip_rel_gap)
    found = result.x is not None
    if found and (incumbent is None or float(result.fun) <= incumbent[1]):
        x, value = np.asarray(result.x, dtype=np.float64), float(result.fun)
    elif incumbent is not None:
        x, value = incumbent
    else:
        msg = f"HiGHS found no siting within {time_limit_s} s: {result.message}"
        raise InfeasibleError(msg)
    if result.mip_dual_bound is not None:
        reduced_bound = float(result.mip_dual_bound)
    else:  # a linear program, solved exactly, or no bound at all
        reduced_bound = float(result.fun) if found else -np.inf
    ceiling = incumbent[1] if incumbent is not None else np.inf
    bound = min(max(bound, min(ceiling, reduced_bound)), value)
    gap = 0.0 if value == bound else (value - bound) / max(abs(value), 1e-12)
    return Solved(
        x=x,
        objective=value,
        bound=bound,
        gap=gap,
        proven=gap <= mip_rel_gap,
        seconds=time.perf_counter() - started,
        fixed=fixed,
    )


def _left(started: float, time_limit_s: float) -> float:
    return max(time_limit_s - (time.perf_counter() - started), 1e-3)


def _linprog(
    program: Program,
    *,
    time_limit_s: float | None = None,
    fixed: FloatArray | None = None,
) -> OptimizeResult | None:
    """Solve the linear relaxation (with ``y`` set to ``fixed``); ``None`` if HiGHS fails.

    The free relaxation is solved by the interior point method with crossover, the fixed
    one (a transportation problem once presolved) by the dual simplex.
    """
    lower, upper = program.lower.copy(), program.upper.copy()
    if fixed is not None:
        lower[program.y_at : program.y_at + program.n_y] = fixed
        upper[program.y_at : program.y_at + program.n_y] = fixed
    upper_block = program.upper_rows.shape[0] > 0
    equal_block = program.equal_rows.shape[0] > 0
    result = linprog(
        program.objective,
        A_ub=program.upper_rows if upper_block else None,
        b_ub=program.upper_rhs if upper_block else None,
        A_eq=program.equal_rows if equal_block else None,
        b_eq=program.equal_rhs if equal_block else None,
        bounds=np.column_stack([lower, upper]),
        method="highs-ipm" if fixed is None else "highs-ds",
        options={} if time_limit_s is None else {"time_limit": time_limit_s},
    )
    return result if result.status == 0 else None


def _lagrangian(
    program: Program, assignment: Assignment, relaxed: OptimizeResult
) -> tuple[float, FloatArray]:
    """Return ``L(alpha)`` at the relaxation's duals and every candidate's ``v_j``."""
    n_rows = assignment.n_rows
    if assignment.equal:
        block, alpha = program.equal_rows, np.asarray(relaxed.eqlin.marginals[:n_rows])
    else:
        block, alpha = program.upper_rows, np.minimum(relaxed.ineqlin.marginals[:n_rows], 0.0)
    reduced = program.objective - block[:n_rows].T @ alpha
    n_pairs, n_existing = assignment.site.size, assignment.n_existing
    values = _knapsacks(reduced[:n_pairs], assignment)
    other = np.ones(reduced.size, dtype=bool)
    other[:n_pairs] = False
    other[program.y_at : program.y_at + program.n_y] = False
    candidates = np.sort(values[n_existing:])[: assignment.new_sites]
    bound = float(alpha.sum()) + float(values[:n_existing].sum()) + float(candidates.sum())
    low, high = reduced[other] * program.lower[other], reduced[other] * program.upper[other]
    return bound + float(np.minimum(low, high).sum()), values[n_existing:]


def _knapsacks(reduced: FloatArray, assignment: Assignment) -> FloatArray:
    """``v_j``: the most negative reduced cost each site's seats can take (greedy per child)."""
    negative = np.flatnonzero(reduced < 0)
    site, weight, cost = assignment.site[negative], assignment.weight[negative], reduced[negative]
    order = np.lexsort((cost / weight, site))
    site, weight, cost = site[order], weight[order], cost[order]
    before = np.cumsum(weight) - weight
    filled = before - before[np.searchsorted(site, site, side="left")]
    share = np.clip((assignment.seats[site] - filled) / weight, 0.0, 1.0)
    return np.bincount(site, cost * share, minlength=assignment.seats.size).astype(np.float64)


def _fix_sites(
    program: Program,
    values: FloatArray,
    *,
    new_sites: int,
    bound: float,
    incumbent: float,
    lower: FloatArray,
    upper: FloatArray,
) -> int:
    """Fix, in ``lower`` and ``upper``, the candidates that only a worse solution changes.

    Returns the number of candidates fixed.
    """
    k = min(new_sites, values.size)
    order = np.argsort(values, kind="stable")
    inside = np.zeros(values.size, dtype=bool)
    inside[order[:k]] = True
    kth = values[order[k - 1]]
    after = values[order[k]] if k < values.size else 0.0
    limit = incumbent + _FIX_SLACK * max(abs(incumbent), 1.0)
    close = program.y_at + np.flatnonzero(~inside & (bound + values - kth > limit))
    keep = program.y_at + np.flatnonzero(inside & (bound - values + after > limit))
    upper[close] = lower[close]
    lower[keep] = upper[keep]
    return int(close.size + keep.size)


def _fixed_sites(program: Program, siting: FloatArray) -> tuple[FloatArray, float] | None:
    """Solve the program with ``y`` fixed to ``siting``: an incumbent and its value."""
    result = _linprog(program, fixed=siting)
    if result is None:
        return None
    x = np.asarray(result.x, dtype=np.float64)
    x[program.y_at : program.y_at + program.n_y] = siting
    return x, float(result.fun)


def _milp(
    program: Program, lower: FloatArray, upper: FloatArray, time_limit_s: float, gap: float
) -> OptimizeResult:
    integrality = np.zeros(program.objective.size)
    integrality[program.y_at : program.y_at + program.n_y] = 1.0
    constraints = [
        LinearConstraint(matrix, low, high)
        for matrix, low, high in (
            (program.upper_rows, -np.inf, program.upper_rhs),
            (program.equal_rows, program.equal_rhs, program.equal_rhs),
        )
        if matrix.shape[0]
    ]
    return milp(
        program.objective,
        constraints=constraints,
        integrality=integrality,
        bounds=Bounds(lower, upper),
        options={"time_limit": time_limit_s, "mip_rel_gap": gap},
    )
