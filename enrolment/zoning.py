"""First-grade admission zones from a cost matrix: ward-based, nearest school, optimal.

Every method takes the ``(n_points, n_schools)`` network cost matrix in metres (``inf``
where a point cannot reach a school), the children at each demand point and the seats of
each school, and returns a :class:`~enrolment.types.Zoning` that puts every point in
exactly one zone (or none, when it reaches no school):

``ward_zones``
    Today's practice: the school(s) of your ward. A point goes to the nearest school
    located in its own ward; a ward without a school it can reach goes, as a whole, to
    the one school that all its points can reach with the least child-weighted distance
    (a district office assigns such wards to a neighbouring school).
``nearest_zones``
    The nearest school on the network, capacity ignored. Ties go to the lower column.
``optimal_zones``
    Capacity-aware: the least child-weighted distance such that no school holds more
    children than seats, or, when seats are short, the fewest children above capacity
    (see :mod:`enrolment._transport` for the transportation problem, its exact solvers
    and the certified rounding to one school per point). Zones are then made contiguous on
    the network where capacity allows (:mod:`enrolment.contiguity`).

Seats are then given out in every method alike: a school's seats go to the children of its
zone nearest to it; the rest are the zone's shortfall, reported per point. A point that
reaches no school on the network (a footpath cut off from the streets, an island without
a ferry) is zoned by ``fallback_m`` when given (e.g. straight-line distance; it is then
reported as zoned without a route and seated last), else left unassigned and reported:
nothing is hidden.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from enrolment import _transport, _validate
from enrolment._transport import relieve_overflow
from enrolment.contiguity import (
    DEFAULT_DOORSTEP_M,
    doorstep_points,
    find_enclaves,
    improve_zones,
    repair_contiguity,
)
from enrolment.errors import InvalidInputError
from enrolment.types import (
    UNASSIGNED,
    BoolArray,
    ContiguityBreak,
    FloatArray,
    IntArray,
    SolveReport,
    Zoning,
)

SOLVERS = _transport.SOLVERS


def _checked(
    cost_m: npt.ArrayLike, children: npt.ArrayLike, seats: npt.ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    cost = _validate.cost_matrix(cost_m, field="cost_m")
    weights = _validate.amounts(children, cost.shape[0], field="children")
    capacity = _validate.amounts(seats, cost.shape[1], field="seats")
    return cost, weights, capacity


def nearest_school(cost: FloatArray) -> IntArray:
    """Return each point's nearest school by ``cost`` (lower column on ties; -1: none)."""
    nearest = np.asarray(np.argmin(cost, axis=1), dtype=np.int64)
    nearest[~np.isfinite(cost).any(axis=1)] = UNASSIGNED
    return nearest


def place_children(
    school: IntArray, *, cost: FloatArray, children: FloatArray, seats: FloatArray
) -> FloatArray:
    """Give each school's seats to the children of its zone nearest to it.

    Parameters
    ----------
    school
        Zone school per point (-1: none).
    cost
        ``(n_points, n_schools)`` metres.
    children
        Children per point.
    seats
        Seats per school.

    Returns
    -------
    numpy.ndarray
        Children of each point with a seat at its zone school (ties in distance go to the
        lower point index; a point may be seated in part).
    """
    placed = np.zeros_like(children)
    for zone in np.unique(school[school != UNASSIGNED]):
        members = np.flatnonzero(school == zone)
        order = members[np.lexsort((members, cost[members, zone]))]
        before = np.concatenate([[0.0], np.cumsum(children[order])[:-1]])
        placed[order] = np.clip(seats[zone] - before, 0.0, children[order])
    return placed


def _zoning(
    method: str,
    school: IntArray,
    *,
    cost: FloatArray,
    children: FloatArray,
    seats: FloatArray,
    breaks: tuple[ContiguityBreak, ...] = (),
    solve: SolveReport | None = None,
) -> Zoning:
    distance = np.full(school.shape[0], np.inf)
    assigned = school != UNASSIGNED
    distance[assigned] = cost[np.flatnonzero(assigned), school[assigned]]
    return Zoning(
        method=method,
        school=school,
        children=children,
        placed=place_children(school, cost=cost, children=children, seats=seats),
        distance_m=distance,
        seats=seats,
        breaks=breaks,
        solve=solve,
    )


def _fill_unrouted(
    school: IntArray,
    *,
    cost: FloatArray,
    fallback_m: npt.ArrayLike | None,
    point_ward: npt.NDArray[np.object_] | None = None,
    school_ward: npt.NDArray[np.object_] | None = None,
) -> IntArray:
    """Zone the points without any route by ``fallback_m`` (own-ward schools first)."""
    unrouted = np.flatnonzero(~np.isfinite(cost).any(axis=1))
    if fallback_m is None or unrouted.size == 0:
        return school
    fallback = _validate.cost_matrix(fallback_m, field="fallback_m")
    if fallback.shape != cost.shape:
        msg = f"expected shape {cost.shape}, got {fallback.shape}"
        raise InvalidInputError(msg, field="fallback_m")
    zones = school.copy()
    for point in unrouted:
        options = np.arange(cost.shape[1])
        if point_ward is not None and school_ward is not None:
            own = np.flatnonzero(school_ward == point_ward[point])
            if own.size and np.isfinite(fallback[point, own]).any():
                options = own
        if np.isfinite(fallback[point, options]).any():
            zones[point] = int(options[np.argmin(fallback[point, options])])
    return zones


def _reported_breaks(
    school: IntArray,
    *,
    cost: FloatArray,
    children: FloatArray,
    neighbours: npt.ArrayLike | None,
    doorstep_m: float,
) -> tuple[ContiguityBreak, ...]:
    """Enclaves of a zoning that is not repaired (ward-based, nearest), for the report."""
    if neighbours is None:
        return ()
    pairs = _validate.index_pairs(neighbours, cost.shape[0], field="neighbours")
    door = doorstep_points(cost, doorstep_m=doorstep_m)
    enclaves, detached = find_enclaves(school, pairs=pairs, door=door, children=children)
    breaks = [
        ContiguityBreak(int(school[e[0]]), e, float(children[e].sum()), "not_repaired")
        for e in enclaves
    ]
    breaks.extend(
        ContiguityBreak(zone, main, float(children[main].sum()), "detached")
        for zone, main in detached
    )
    return tuple(sorted(breaks, key=lambda b: (b.school, int(b.points[0]))))


def nearest_zones(
    cost_m: npt.ArrayLike,
    *,
    children: npt.ArrayLike,
    seats: npt.ArrayLike,
    neighbours: npt.ArrayLike | None = None,
    doorstep_m: float = DEFAULT_DOORSTEP_M,
    fallback_m: npt.ArrayLike | None = None,
) -> Zoning:
    """Zone every point to its nearest school on the network, capacity ignored.

    Parameters
    ----------
    cost_m
        ``(n_points, n_schools)`` network distance in metres; ``inf`` for no route.
    children
        ``(n_points,)`` children of first-grade age per point.
    seats
        ``(n_schools,)`` first-grade seats per school (used to give out seats only).
    neighbours
        ``(k, 2)`` neighbour pairs of points, to report enclaves (none are repaired).
    doorstep_m
        See :func:`enrolment.contiguity.doorstep_points`.
    fallback_m
        ``(n_points, n_schools)`` distances (e.g. straight-line metres) that zone the points
        with no network route to any school; without it such points stay unassigned.

    Returns
    -------
    Zoning
        Method ``"nearest"``.

    Raises
    ------
    InvalidInputError
        If an array breaks its contract.
    """
    cost, weights, capacity = _checked(cost_m, children, seats)
    school = _fill_unrouted(nearest_school(cost), cost=cost, fallback_m=fallback_m)
    breaks = _reported_breaks(
        school, cost=cost, children=weights, neighbours=neighbours, doorstep_m=doorstep_m
    )
    return _zoning("nearest", school, cost=cost, children=weights, seats=capacity, breaks=breaks)


def ward_zones(
    cost_m: npt.ArrayLike,
    *,
    children: npt.ArrayLike,
    seats: npt.ArrayLike,
    point_ward: Sequence[str | None],
    school_ward: Sequence[str | None],
    neighbours: npt.ArrayLike | None = None,
    doorstep_m: float = DEFAULT_DOORSTEP_M,
    fallback_m: npt.ArrayLike | None = None,
) -> Zoning:
    """Zone every point to a school of its own ward (today's practice).

    A point goes to the nearest school located in its ward. A ward with no school that
    its points can reach goes as a whole to the school that every one of its points can
    reach with the least child-weighted distance (the lower column on ties); points of
    such a ward that no common school serves go to their nearest school.

    Parameters
    ----------
    cost_m
        ``(n_points, n_schools)`` network distance in metres; ``inf`` for no route.
    children
        ``(n_points,)`` children of first-grade age per point.
    seats
        ``(n_schools,)`` first-grade seats per school (used to give out seats only).
    point_ward
        Ward code of each point.
    school_ward
        Ward code of each school (``None`` when unknown).
    neighbours, doorstep_m, fallback_m
        As in :func:`nearest_zones`; a point without a route goes to the nearest school of
        its ward by ``fallback_m`` (or the nearest of all if its ward has none).

    Returns
    -------
    Zoning
        Method ``"ward"``.

    Raises
    ------
    InvalidInputError
        If an array breaks its contract.
    """
    cost, weights, capacity = _checked(cost_m, children, seats)
    wards = _validate.labels(point_ward, cost.shape[0], field="point_ward")
    homes = _validate.labels(school_ward, cost.shape[1], field="school_ward")
    school = nearest_school(cost)
    routed = np.isfinite(cost).any(axis=1)
    for ward in sorted({w for w in wards if w is not None}):
        members = np.flatnonzero((wards == ward) & routed)
        own = np.flatnonzero(homes == ward)
        sub = cost[np.ix_(members, own)]
        reach = np.isfinite(sub).any(axis=1)
        if own.size and reach.all():
            school[members] = own[np.argmin(sub, axis=1)]
            continue
        common = np.isfinite(cost[members]).all(axis=0)
        if common.any():
            total = np.where(common, weights[members] @ np.where(common, cost[members], 0), np.inf)
            school[members] = int(np.argmin(total))
    school = _fill_unrouted(
        school, cost=cost, fallback_m=fallback_m, point_ward=wards, school_ward=homes
    )
    breaks = _reported_breaks(
        school, cost=cost, children=weights, neighbours=neighbours, doorstep_m=doorstep_m
    )
    return _zoning("ward", school, cost=cost, children=weights, seats=capacity, breaks=breaks)


def _still_cut_off(
    breaks: tuple[ContiguityBreak, ...],
    school: IntArray,
    *,
    pairs: IntArray,
    door: BoolArray,
    children: FloatArray,
) -> tuple[ContiguityBreak, ...]:
    """Keep the breaks whose points are still a cut-off part (a border move may link one)."""
    enclaves, detached = find_enclaves(school, pairs=pairs, door=door, children=children)
    parts = {tuple(e.tolist()) for e in enclaves} | {tuple(m.tolist()) for _, m in detached}
    return tuple(b for b in breaks if tuple(b.points.tolist()) in parts)


def optimal_zones(
    cost_m: npt.ArrayLike,
    *,
    children: npt.ArrayLike,
    seats: npt.ArrayLike,
    neighbours: npt.ArrayLike | None = None,
    doorstep_m: float = DEFAULT_DOORSTEP_M,
    solver: str = "highs",
    tolerance: float = _transport.DEFAULT_TOLERANCE,
    fallback_m: npt.ArrayLike | None = None,
) -> Zoning:
    """Zone points to minimise child-weighted distance within the schools' seats.

    The transportation problem is solved exactly and rounded to one school per point
    within ``tolerance`` of it where possible (see :mod:`enrolment._transport`), and
    enclaves are handed to neighbouring zones where that adds no child above capacity
    (see :mod:`enrolment.contiguity`). When seats are short overall, the fewest possible
    children are left above capacity, and they are reported per point as shortfall.

    Parameters
    ----------
    cost_m
        ``(n_points, n_schools)`` network distance in metres; ``inf`` for no route.
    children
        ``(n_points,)`` children of first-grade age per point.
    seats
        ``(n_schools,)`` first-grade seats per school.
    neighbours
        ``(k, 2)`` neighbour pairs of points (see :mod:`enrolment.contiguity`); ``None``
        skips the contiguity step.
    doorstep_m
        See :func:`enrolment.contiguity.doorstep_points`.
    solver
        ``"highs"`` (default) or ``"network_simplex"``: the transportation solver.
    tolerance
        Largest excess over the transportation optimum accepted as certified, as a share
        of its child-weighted distance (0.001: 0.1 %).
    fallback_m
        As in :func:`nearest_zones`: zones the points without a route (outside the
        optimisation; they are reported, and seated last).

    Returns
    -------
    Zoning
        Method ``"optimal"`` with a :class:`~enrolment.types.SolveReport`.

    Raises
    ------
    InvalidInputError
        If an array breaks its contract or the solver is unknown.
    InfeasibleError
        If a solver fails.
    """
    cost, weights, capacity = _checked(cost_m, children, seats)
    if solver not in SOLVERS:
        msg = f"unknown solver {solver!r}; use one of {', '.join(SOLVERS)}"
        raise InvalidInputError(msg, field="solver")
    if not 0 <= tolerance < 1:
        msg = f"must be a share in [0, 1), got {tolerance}"
        raise InvalidInputError(msg, field="tolerance")
    solution = _transport.solve_transport(cost, weights, capacity, solver=solver)
    rounding = _transport.round_to_zones(cost, weights, capacity, solution, tolerance=tolerance)
    school = rounding.school
    idle = (school == UNASSIGNED) & np.isfinite(cost).any(axis=1)
    school[idle] = nearest_school(cost[idle])
    school = _fill_unrouted(school, cost=cost, fallback_m=fallback_m)
    school = relieve_overflow(school, cost=cost, children=weights, seats=capacity)
    assigned = (school != UNASSIGNED) & np.isfinite(cost).any(axis=1)
    rounded_distance = float(
        np.dot(weights[assigned], cost[np.flatnonzero(assigned), school[assigned]])
    )
    load = np.bincount(school[assigned], weights=weights[assigned], minlength=cost.shape[1])
    rounded_total = rounded_distance + solution.penalty * float(
        np.clip(load - capacity, 0.0, None).sum()
    )
    certified = rounded_total - solution.lower_bound <= tolerance * max(solution.lower_bound_m, 1.0)
    started = time.perf_counter()
    breaks: tuple[ContiguityBreak, ...] = ()
    if neighbours is not None:
        pairs = _validate.index_pairs(neighbours, cost.shape[0], field="neighbours")
        door = doorstep_points(cost, doorstep_m=doorstep_m)
        school, breaks = repair_contiguity(
            school, cost=cost, children=weights, seats=capacity, pairs=pairs, door=door
        )
        school = improve_zones(
            school, cost=cost, children=weights, seats=capacity, pairs=pairs, door=door
        )
        breaks = _still_cut_off(breaks, school, pairs=pairs, door=door, children=weights)
    report = SolveReport(
        solver=solver,
        lower_bound_m=solution.lower_bound_m,
        lp_overflow_children=float(solution.overflow.sum()),
        rounding="certified" if certified else "uncertified",
        rounding_method=rounding.method,
        tolerance=tolerance,
        candidate_pairs=rounding.candidate_pairs,
        rounded_distance_m=rounded_distance,
        lp_seconds=solution.seconds,
        rounding_seconds=rounding.seconds,
        contiguity_seconds=time.perf_counter() - started,
    )
    return _zoning(
        "optimal",
        school,
        cost=cost,
        children=weights,
        seats=capacity,
        breaks=breaks,
        solve=report,
    )
