"""The transportation problem behind capacity-aware zoning, and its rounding to zones.

Transportation problem (children may be split between schools)::

    minimise    sum_ij d_ij f_ij + M sum_j s_j
    subject to  sum_j f_ij = w_i                  every point i with a finite cost
                sum_i f_ij - s_j <= c_j           every school j
                f_ij >= 0 (finite d_ij only), s_j >= 0

``f_ij`` are children of point ``i`` in the zone of school ``j``, ``w_i`` the point's
children, ``c_j`` the school's seats and ``s_j`` its overflow (children above its seats).
``M = (n_schools + 1) x max d + 1`` is larger than any distance an extra seated child
could cost (an augmenting path visits each school at most once), so the optimum first
seats as many children as the seats and the network allow and only then minimises the
child-weighted distance: when seats are short, the shortfall is the smallest possible and
falls on the children whose seating would cost the most distance.

Two exact solvers are offered: SciPy's HiGHS (``"highs"``, interior point with crossover,
so the optimum is a vertex) and networkx's network simplex (``"network_simplex"``, on
children scaled to thousandths and distances to decimetres). The benchmark
(``benchmarks/zoning.py``) measures both; HiGHS is the default because it was as fast or
faster at every size measured and gives the dual values the rounding step needs.

Ties. On a road network exact ties are everywhere: every point whose route to school
``j`` passes school ``k`` has the same ``d_ij - d_ik``, so any subset of them may move
between the two zones at the same cost, and an arbitrary subset makes enclaves. HiGHS
therefore solves with ``d_ij (1 + TIE_BREAK x d_ij / max d)``: among equal-cost choices
the points nearest the shared boundary move first. The perturbation is at most
``TIE_BREAK`` (0.01 %) of any zoning's distance; every figure reported uses the true
distances.

Rounding to zones (one school per point)::

    minimise    sum_ij w_i d_ij z_ij + M sum_j s_j
    subject to  sum_j z_ij = 1,  sum_i w_i z_ij - s_j <= c_j,  z_ij in {0, 1}

A vertex optimum splits few points between schools (at most one fewer than the schools,
plus those made to share by overflow). Each point first goes to the school that gets most
of its children; then :func:`relieve_overflow` moves whole points out of the schools left
above capacity into schools with room, cheapest per child first (``"greedy"``). The result
is compared with a lower bound valid for every zoning: the optimum's duals ``alpha_i``
(points) and ``beta_j`` (seats), made feasible for the true distances
(:attr:`TransportSolution.lower_bound`). Only if the excess is above the tolerance is the
integer program tried, over the pairs a zoning within ``delta`` of the optimum can use at
all (those with ``w_i r_ij <= delta``, ``r_ij = d_ij - alpha_i - beta_j`` the reduced
cost): SciPy's HiGHS MILP, time-limited, kept if better (``"milp"``). The integer program
is hard to prove optimal here (the ties again), which is why it is the fallback and not
the rule. Either way the report carries the bound, so the gap is always known.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from enrolment.errors import InfeasibleError
from enrolment.types import UNASSIGNED, FloatArray, IntArray

SOLVERS = ("highs", "network_simplex")
#: Allowed excess of a zoning over the lower bound, as a share of its distance.
DEFAULT_TOLERANCE = 1e-3
#: Relative weight of the squared-distance tie-break (see the module docstring).
TIE_BREAK = 1e-4
#: Children are scaled to this many units for the integer network simplex.
_FLOW_UNITS = 1000
#: Distances are scaled to this many units per metre for the integer network simplex.
_COST_UNITS = 10
#: Largest integer program tried: candidate pairs, and points with a choice among them.
_MAX_CANDIDATES = 200_000
_MAX_FREE_POINTS = 2_000
_MILP_SECONDS = 10.0
#: Flows below this share of a point's children count as zero.
_FLOW_TOLERANCE = 1e-7
#: Children above capacity smaller than this count as none.
_CAPACITY_TOLERANCE = 1e-9


@dataclass(frozen=True, slots=True, eq=False)
class TransportSolution:
    """An optimum of the transportation problem on the finite pairs.

    Attributes
    ----------
    point, school
        Row and column of every finite pair of a point with children.
    flow
        Children of ``point`` sent to ``school`` at the optimum.
    overflow
        ``(n_schools,)`` children above each school's seats.
    solved_cost
        ``(n_pairs,)`` the cost per child the solver minimised (tie-broken distance).
    objective
        The solver's optimum: ``sum(solved_cost x flow) + penalty x overflow``.
    distance_m
        True child-weighted distance of the optimum's flows, child-metres.
    lower_bound
        A lower bound of ``distance + penalty x overflow`` (true distances) of every
        zoning, from the duals; the optimum's own value without duals.
    penalty
        The cost ``M`` of a child above capacity.
    point_dual, school_dual
        Dual values of the point and seat constraints (``None`` for network simplex).
    solver
        The solver that found it.
    seconds
        Solve time.
    """

    point: IntArray
    school: IntArray
    flow: FloatArray
    overflow: FloatArray
    solved_cost: FloatArray
    objective: float
    distance_m: float
    lower_bound: float
    penalty: float
    point_dual: FloatArray | None
    school_dual: FloatArray | None
    solver: str
    seconds: float

    @property
    def lower_bound_m(self) -> float:
        """Child-weighted distance no zoning with the optimum's overflow can beat."""
        return self.lower_bound - self.penalty * float(self.overflow.sum())


def _pairs(cost: FloatArray, active: np.ndarray) -> tuple[IntArray, IntArray]:
    point, school = np.nonzero(np.isfinite(cost) & active[:, None])
    return np.asarray(point, dtype=np.int64), np.asarray(school, dtype=np.int64)


def overflow_penalty(cost: FloatArray) -> float:
    """Return ``M``: the cost of one child above capacity (see the module docstring)."""
    finite = cost[np.isfinite(cost)]
    largest = float(finite.max()) if finite.size else 0.0
    return float((cost.shape[1] + 1) * largest * (1 + TIE_BREAK) + 1.0)


def tie_broken(distance: FloatArray) -> FloatArray:
    """Return ``d (1 + TIE_BREAK x d / max d)``: distances with the squared tie-break."""
    largest = float(distance.max()) if distance.size else 0.0
    if largest <= 0:
        return distance.copy()
    return np.asarray(distance * (1.0 + TIE_BREAK * distance / largest), dtype=np.float64)


def solve_transport(
    cost: FloatArray, children: FloatArray, seats: FloatArray, *, solver: str = "highs"
) -> TransportSolution:
    """Solve the transportation problem over points with children and a finite cost.

    Parameters
    ----------
    cost
        ``(n_points, n_schools)`` metres, ``inf`` for no route.
    children
        ``(n_points,)`` children per point.
    seats
        ``(n_schools,)`` seats per school.
    solver
        ``"highs"`` or ``"network_simplex"``.

    Returns
    -------
    TransportSolution
        The optimum.

    Raises
    ------
    InfeasibleError
        If the solver fails (it should not: overflow keeps the problem feasible).
    """
    active = (children > 0) & np.isfinite(cost).any(axis=1)
    point, school = _pairs(cost, active)
    penalty = overflow_penalty(cost)
    distance = cost[point, school]
    started = time.perf_counter()
    alpha: FloatArray | None = None
    beta: FloatArray | None = None
    if solver == "highs":
        solved = tie_broken(distance)
        flow, overflow, alpha, beta = _highs_lp(solved, children, seats, point, school, penalty)
    else:
        solved = distance
        flow, overflow = _network_simplex(solved, children, seats, point, school, penalty)
    seconds = time.perf_counter() - started
    objective = float(np.dot(solved, flow)) + penalty * float(overflow.sum())
    lower = objective
    if beta is not None:
        lower = _dual_bound(distance, children, seats, point, school, np.clip(beta, -penalty, 0))
    return TransportSolution(
        point=point,
        school=school,
        flow=flow,
        overflow=overflow,
        solved_cost=solved,
        objective=objective,
        distance_m=float(np.dot(distance, flow)),
        lower_bound=lower,
        penalty=penalty,
        point_dual=alpha,
        school_dual=beta,
        solver=solver,
        seconds=seconds,
    )


def _dual_bound(
    distance: FloatArray,
    children: FloatArray,
    seats: FloatArray,
    point: IntArray,
    school: IntArray,
    beta: FloatArray,
) -> float:
    """Weak-duality bound for the true distances from the seat duals ``beta`` (<= 0).

    ``alpha_i = min_j (d_ij - beta_j)`` makes ``(alpha, beta)`` feasible for the dual of
    the untouched problem, so ``sum w alpha + sum c beta`` bounds its optimum from below.
    """
    reduced = distance - beta[school]
    alpha = np.full(children.shape[0], np.inf)
    np.minimum.at(alpha, point, reduced)
    rows = np.unique(point)
    return float(np.dot(children[rows], alpha[rows]) + np.dot(seats, beta))


def _highs_lp(
    cost: FloatArray,
    children: FloatArray,
    seats: FloatArray,
    point: IntArray,
    school: IntArray,
    penalty: float,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    n_points, n_schools = children.shape[0], seats.shape[0]
    n_pairs = point.size
    rows = np.unique(point)
    row_of = np.full(n_points, -1, dtype=np.int64)
    row_of[rows] = np.arange(rows.size)
    columns = np.arange(n_pairs)
    supply = sp.csr_array(
        (np.ones(n_pairs), (row_of[point], columns)), shape=(rows.size, n_pairs + n_schools)
    )
    capacity = sp.hstack(
        [
            sp.csr_array((np.ones(n_pairs), (school, columns)), shape=(n_schools, n_pairs)),
            -sp.eye_array(n_schools, format="csr"),
        ]
    ).tocsr()
    result = linprog(
        np.concatenate([cost, np.full(n_schools, penalty)]),
        A_ub=capacity,
        b_ub=seats,
        A_eq=supply,
        b_eq=children[rows],
        bounds=(0, None),
        method="highs-ipm",
    )
    if result.status != 0:
        msg = f"HiGHS could not solve the transportation problem: {result.message}"
        raise InfeasibleError(msg)
    alpha = np.zeros(n_points)
    alpha[rows] = result.eqlin.marginals
    beta = np.asarray(result.ineqlin.marginals, dtype=np.float64)
    x = np.clip(np.asarray(result.x, dtype=np.float64), 0.0, None)
    return x[:n_pairs], x[n_pairs:], alpha, beta


def _network_simplex(
    cost: FloatArray,
    children: FloatArray,
    seats: FloatArray,
    point: IntArray,
    school: IntArray,
    penalty: float,
) -> tuple[FloatArray, FloatArray]:
    import networkx as nx

    n_schools = seats.shape[0]
    supply = np.round(children * _FLOW_UNITS).astype(np.int64)
    room = np.floor(seats * _FLOW_UNITS).astype(np.int64)
    graph = nx.DiGraph()
    rows = np.unique(point)
    for row in rows:
        graph.add_node(("p", int(row)), demand=-int(supply[row]))
    graph.add_node("sink", demand=int(supply[rows].sum()))
    weights = np.round(cost * _COST_UNITS).astype(np.int64)
    graph.add_edges_from(
        (("p", int(i)), ("s", int(j)), {"weight": int(w)})
        for i, j, w in zip(point, school, weights, strict=True)
    )
    for j in range(n_schools):
        graph.add_edge(("s", j), "sink", weight=0, capacity=int(room[j]))
        graph.add_edge(("s", j), "over", weight=round(penalty * _COST_UNITS))
    graph.add_edge("over", "sink", weight=0)
    try:
        _, flows = nx.network_simplex(graph)
    except nx.NetworkXException as error:
        msg = f"network simplex could not solve the transportation problem: {error}"
        raise InfeasibleError(msg) from None
    flow = np.array(
        [flows[("p", int(i))].get(("s", int(j)), 0) for i, j in zip(point, school, strict=True)],
        dtype=np.float64,
    )
    overflow = np.array([flows[("s", j)].get("over", 0) for j in range(n_schools)], dtype=float)
    return flow / _FLOW_UNITS, overflow / _FLOW_UNITS


@dataclass(frozen=True, slots=True, eq=False)
class Rounding:
    """One school per point, from a transportation optimum.

    Attributes
    ----------
    school
        ``(n_points,)`` chosen school of each point with children and a route, -1 otherwise.
    method
        ``"greedy"`` (largest share, then overflow relieved) or ``"milp"``.
    candidate_pairs
        Pairs the integer program chose from.
    seconds
        Time spent.
    """

    school: IntArray
    method: str
    candidate_pairs: int
    seconds: float


def round_to_zones(
    cost: FloatArray,
    children: FloatArray,
    seats: FloatArray,
    solution: TransportSolution,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
) -> Rounding:
    """Give every point of the transportation optimum a single school.

    First each point goes to the school that gets most of its children at the optimum,
    then :func:`relieve_overflow` moves whole points out of schools left above capacity.
    If that zoning is not within ``tolerance`` of the lower bound, the integer program over
    the pairs allowed by the reduced costs is tried (time-limited) and the better kept.

    Parameters
    ----------
    cost
        ``(n_points, n_schools)`` true distances, metres.
    children, seats
        As given to :func:`solve_transport`.
    solution
        Its optimum.
    tolerance
        Allowed excess over the lower bound, as a share of its child-weighted distance.

    Returns
    -------
    Rounding
        The chosen school per point and how it was found.
    """
    started = time.perf_counter()
    chosen = _largest_flow(children.shape[0], solution)
    chosen = relieve_overflow(chosen, cost=cost, children=children, seats=seats)
    total = _true_total(chosen, cost, children, seats, solution.penalty)
    limit = solution.lower_bound + tolerance * max(solution.lower_bound_m, 1.0)
    if total <= limit or solution.point_dual is None or solution.school_dual is None:
        return Rounding(chosen, "greedy", int(_used(solution).sum()), time.perf_counter() - started)
    reduced = (
        solution.solved_cost
        - solution.point_dual[solution.point]
        - solution.school_dual[solution.school]
    )
    weighted = children[solution.point] * np.clip(reduced, 0.0, None)
    delta = max(tolerance - TIE_BREAK, tolerance / 2) * max(solution.distance_m, 1.0)
    candidate = (weighted <= delta) | _used(solution)
    options = np.bincount(solution.point[candidate], minlength=children.shape[0])
    if int(candidate.sum()) <= _MAX_CANDIDATES and int((options > 1).sum()) <= _MAX_FREE_POINTS:
        gap = 0.5 * delta / max(solution.objective, 1.0)
        found, _ = _restricted_program(children, seats, solution, candidate, gap=gap)
        if found is not None:
            found = relieve_overflow(found, cost=cost, children=children, seats=seats)
            if _true_total(found, cost, children, seats, solution.penalty) < total:
                seconds = time.perf_counter() - started
                return Rounding(found, "milp", int(candidate.sum()), seconds)
    return Rounding(chosen, "greedy", int(_used(solution).sum()), time.perf_counter() - started)


def _true_total(
    chosen: IntArray, cost: FloatArray, children: FloatArray, seats: FloatArray, penalty: float
) -> float:
    """Child-weighted true distance plus ``penalty`` per child above capacity."""
    rows = np.flatnonzero(chosen != UNASSIGNED)
    load = np.bincount(chosen[rows], weights=children[rows], minlength=seats.shape[0])
    overflow = float(np.clip(load - seats, 0.0, None).sum())
    return float(np.dot(children[rows], cost[rows, chosen[rows]])) + penalty * overflow


def relieve_overflow(
    school: IntArray, *, cost: FloatArray, children: FloatArray, seats: FloatArray
) -> IntArray:
    """Move whole points from schools above capacity to schools with room for them.

    While a school holds more children than seats, the cheapest move per child relieved
    is made: one of its points to a school with room for it, or, when none can take it,
    a chain of two moves (the point to a neighbouring school, which passes a point at
    least as big on to a school with room). Every move lowers the children above
    capacity, so this ends; it removes the overflow a rounding leaves where seats suffice.

    Parameters
    ----------
    school
        Zone school per point (-1: none); not modified.
    cost
        ``(n_points, n_schools)`` metres.
    children
        Children per point.
    seats
        Seats per school.

    Returns
    -------
    numpy.ndarray
        The zone school per point after the moves.
    """
    zones = school.copy()
    n_schools = cost.shape[1]
    assigned = zones != UNASSIGNED
    load = np.bincount(zones[assigned], weights=children[assigned], minlength=n_schools).astype(
        np.float64
    )
    for _ in range(zones.shape[0]):
        moves = _direct_move(zones, load, cost=cost, children=children, seats=seats)
        if moves is None:
            moves = _chain_move(zones, load, cost=cost, children=children, seats=seats)
        if moves is None:
            break
        for point, target in moves:
            load[zones[point]] -= children[point]
            load[target] += children[point]
            zones[point] = target
    return zones


def _movable(zones: IntArray, school: int, cost: FloatArray, children: FloatArray) -> IntArray:
    """Points of a zone with children and a route to its school."""
    return np.flatnonzero((zones == school) & (children > 0) & np.isfinite(cost[:, school]))


def _direct_move(
    zones: IntArray, load: FloatArray, *, cost: FloatArray, children: FloatArray, seats: FloatArray
) -> list[tuple[int, int]] | None:
    over = load - seats
    room = np.clip(seats - load, 0.0, None)
    best: tuple[float, int, int] | None = None
    for origin in np.flatnonzero(over > _CAPACITY_TOLERANCE):
        members = _movable(zones, int(origin), cost, children)
        relieved = np.minimum(children[members], over[origin])
        extra = cost[members] - cost[members, origin][:, None]
        fits = (children[members][:, None] <= room[None, :] + _CAPACITY_TOLERANCE) & (
            np.isfinite(extra)
        )
        fits[:, origin] = False
        if not fits.any():
            continue
        score = np.where(fits, extra * children[members][:, None], np.inf)
        score /= relieved[:, None]
        row, column = np.unravel_index(int(np.argmin(score)), score.shape)
        candidate = (float(score[row, column]), int(members[row]), int(column))
        if best is None or candidate < best:
            best = candidate
    return None if best is None else [(best[1], best[2])]


def _second_moves(
    zones: IntArray, room: FloatArray, *, cost: FloatArray, children: FloatArray
) -> dict[int, tuple[FloatArray, FloatArray, IntArray, IntArray]]:
    """Per school: each point's size and cheapest move to a school with room for it."""
    found: dict[int, tuple[FloatArray, FloatArray, IntArray, IntArray]] = {}
    for middle in np.unique(zones[zones != UNASSIGNED]):
        members = _movable(zones, int(middle), cost, children)
        if members.size == 0:
            continue
        size = children[members]
        extra = (cost[members] - cost[members, middle][:, None]) * size[:, None]
        fits = (size[:, None] <= room[None, :] + _CAPACITY_TOLERANCE) & np.isfinite(extra)
        fits[:, middle] = False
        extra = np.where(fits, extra, np.inf)
        target = np.argmin(extra, axis=1).astype(np.int64)
        price = extra[np.arange(members.size), target]
        usable = np.isfinite(price)
        if usable.any():
            found[int(middle)] = (size[usable], price[usable], members[usable], target[usable])
    return found


def _chain_move(
    zones: IntArray, load: FloatArray, *, cost: FloatArray, children: FloatArray, seats: FloatArray
) -> list[tuple[int, int]] | None:
    over = np.clip(load - seats, 0.0, None)
    room = np.clip(seats - load, 0.0, None)
    origins = np.flatnonzero(over > _CAPACITY_TOLERANCE)
    if origins.size == 0:
        return None
    second = _second_moves(zones, room, cost=cost, children=children)
    best: tuple[float, int, int, int, int] | None = None
    for origin in origins:
        members = _movable(zones, int(origin), cost, children)
        reachable = np.flatnonzero(np.isfinite(cost[members]).any(axis=0))
        for middle in reachable:
            if middle == origin or int(middle) not in second:
                continue
            sizes, prices, points, targets = second[int(middle)]
            step = cost[members, middle] - cost[members, origin]
            rows = np.flatnonzero(np.isfinite(step))
            size = children[members[rows]]
            # overflow after: origin loses the point, middle gains it and passes one on
            after = np.clip(load[middle] + size[:, None] - sizes[None, :] - seats[middle], 0, None)
            relieved = np.minimum(size, over[origin])[:, None] - (after - over[middle])
            total = (step[rows] * size)[:, None] + prices[None, :]
            score = np.where(relieved > _CAPACITY_TOLERANCE, total / relieved, np.inf)
            if not np.isfinite(score).any():
                continue
            row, column = np.unravel_index(int(np.argmin(score)), score.shape)
            candidate = (
                float(score[row, column]),
                int(members[rows[row]]),
                int(middle),
                int(points[column]),
                int(targets[column]),
            )
            if best is None or candidate < best:
                best = candidate
    if best is None:
        return None
    _, point, via, passed, target = best
    return [(passed, target), (point, via)]


def _used(solution: TransportSolution) -> np.ndarray:
    """Pairs carrying flow at the optimum (relative to the point's children)."""
    total = np.bincount(solution.point, weights=solution.flow)
    share = solution.flow / np.where(total[solution.point] > 0, total[solution.point], 1.0)
    return np.asarray(share > _FLOW_TOLERANCE)


def _largest_flow(n_points: int, solution: TransportSolution) -> IntArray:
    chosen = np.full(n_points, -1, dtype=np.int64)
    order = np.lexsort((solution.school, -solution.flow, solution.point))
    first = np.unique(solution.point[order], return_index=True)[1]
    chosen[solution.point[order[first]]] = solution.school[order[first]]
    return chosen


def _restricted_program(
    children: FloatArray,
    seats: FloatArray,
    solution: TransportSolution,
    candidate: np.ndarray,
    *,
    gap: float,
) -> tuple[IntArray | None, float]:
    """Solve the one-school-per-point program over the candidate pairs.

    Returns the chosen school per point (``None`` if the program failed) and its cost in
    the solver's terms (``sum(solved_cost x children) + penalty x overflow``).
    """
    n_points, n_schools = children.shape[0], seats.shape[0]
    point, school = solution.point[candidate], solution.school[candidate]
    unit_cost = solution.solved_cost[candidate]
    options = np.bincount(point, minlength=n_points)
    fixed = options[point] == 1
    chosen = np.full(n_points, -1, dtype=np.int64)
    chosen[point[fixed]] = school[fixed]
    load = np.bincount(school[fixed], weights=children[point[fixed]], minlength=n_schools).astype(
        np.float64
    )
    total = float(np.dot(children[point[fixed]], unit_cost[fixed]))
    free = ~fixed
    if free.any():
        rows, row_of = np.unique(point[free], return_inverse=True)
        n_free = int(free.sum())
        columns = np.arange(n_free)
        weights = children[point[free]]
        one_school = sp.csr_array(
            (np.ones(n_free), (row_of, columns)), shape=(rows.size, n_free + n_schools)
        )
        capacity = sp.hstack(
            [
                sp.csr_array((weights, (school[free], columns)), shape=(n_schools, n_free)),
                -sp.eye_array(n_schools, format="csr"),
            ]
        ).tocsr()
        result = milp(
            np.concatenate([weights * unit_cost[free], np.full(n_schools, solution.penalty)]),
            constraints=[
                LinearConstraint(one_school, 1.0, 1.0),
                LinearConstraint(capacity, -np.inf, seats - load),
            ],
            integrality=np.concatenate([np.ones(n_free), np.zeros(n_schools)]),
            bounds=Bounds(0.0, np.concatenate([np.ones(n_free), np.full(n_schools, np.inf)])),
            options={"time_limit": _MILP_SECONDS, "mip_rel_gap": gap},
        )
        if result.x is None:
            return None, np.inf
        pick = np.asarray(result.x[:n_free]) > 0.5
        chosen[point[free][pick]] = school[free][pick]
        load += np.bincount(school[free][pick], weights=weights[pick], minlength=n_schools)
        total += float(np.dot(weights[pick], unit_cost[free][pick]))
    overflow = float(np.clip(load - seats, 0.0, None).sum())
    return chosen, total + solution.penalty * overflow
