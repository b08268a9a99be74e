"""Frozen value types of admission zoning: travel costs, zonings, statistics.

Indices refer to the rows (demand points) and columns (schools) of the cost matrix the
zoning was computed from. Distances are metres, durations seconds; ``inf`` marks a pair
with no route.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Zone school of a demand point that reaches no school at all.
UNASSIGNED = -1

#: Names of the zoning methods.
METHODS = ("ward", "nearest", "optimal")


@dataclass(frozen=True, slots=True, eq=False)
class TravelCosts:
    """Network costs from every demand point to every school for one travel mode.

    Attributes
    ----------
    mode
        The travel mode's name (``"walk"``, ``"motorbike"``).
    distance_m
        ``(n_points, n_schools)`` route lengths in metres; ``inf`` where there is no route.
    duration_s
        ``(n_points, n_schools)`` travel times in seconds along the same routes.
    """

    mode: str
    distance_m: FloatArray
    duration_s: FloatArray


@dataclass(frozen=True, slots=True, eq=False)
class ContiguityBreak:
    """Demand points of a zone that are cut off from the zone's school on the network.

    Attributes
    ----------
    school
        The zone school (column index).
    points
        The demand points (row indices) of the cut-off part.
    children
        Children living at those points.
    reason
        Why the part was left cut off: ``"capacity"`` (every neighbouring zone that it could
        join is full), ``"unreachable"`` (it cannot reach the schools of the zones around
        it), ``"no_neighbour"`` (no zone around it), ``"not_repaired"`` (a method without
        repair: ward-based, nearest) or ``"detached"`` (the zone holds none of the points
        at its school's door; the part listed is the one kept as the zone).
    """

    school: int
    points: IntArray
    children: float
    reason: str


@dataclass(frozen=True, slots=True)
class SolveReport:
    """How the capacity-aware zoning was solved.

    Attributes
    ----------
    solver
        The transportation solver: ``"highs"`` (SciPy's HiGHS linear program) or
        ``"network_simplex"`` (networkx min-cost flow).
    lower_bound_m
        Child-weighted distance that no zoning leaving ``lp_overflow_children`` above
        capacity can beat (from the transportation optimum, where children may be split
        between schools), child-metres.
    lp_overflow_children
        Children above capacity in the transportation optimum (the unavoidable shortfall).
    rounding
        ``"certified"`` when the zoning before contiguity repairs is within ``tolerance``
        of ``lower_bound_m`` (so within it of the best possible zoning), else
        ``"uncertified"`` (the gap is then still known from the two distances).
    rounding_method
        How split points got one school: ``"greedy"`` or ``"milp"`` (see
        :mod:`enrolment._transport`).
    tolerance
        The excess over ``lower_bound_m`` accepted as certified, as a share of it.
    candidate_pairs
        Point-school pairs the integer step chose from.
    rounded_distance_m
        Child-weighted distance after the integer step, before contiguity repairs.
    lp_seconds, rounding_seconds, contiguity_seconds
        Wall-clock time of each step.
    """

    solver: str
    lower_bound_m: float
    lp_overflow_children: float
    rounding: str
    rounding_method: str
    tolerance: float
    candidate_pairs: int
    rounded_distance_m: float
    lp_seconds: float
    rounding_seconds: float
    contiguity_seconds: float

    @property
    def rounding_gap(self) -> float:
        """Excess of the rounded zoning's distance over the lower bound, as a share of it."""
        if self.lower_bound_m <= 0:
            return 0.0 if self.rounded_distance_m <= 0 else float("inf")
        return (self.rounded_distance_m - self.lower_bound_m) / self.lower_bound_m


@dataclass(frozen=True, slots=True, eq=False)
class Zoning:
    """Every demand point's zone school, by one method, with seats given out.

    Each point belongs to exactly one zone. Seats of a school go to the children of its
    zone nearest to it first; the children left without a seat are the ``shortfall``.

    Attributes
    ----------
    method
        ``"ward"``, ``"nearest"`` or ``"optimal"``.
    school
        ``(n_points,)`` zone school of each point; :data:`UNASSIGNED` (-1) where the point
        reaches no school and no fallback distance zoned it.
    children
        ``(n_points,)`` children of first-grade age at each point.
    placed
        ``(n_points,)`` of those, children with a seat at their zone school.
    distance_m
        ``(n_points,)`` cost (metres) from each point to its zone school; ``inf`` when
        unassigned or when the point was zoned without a route.
    seats
        ``(n_schools,)`` first-grade seats the placement used.
    breaks
        Parts of zones cut off from their school on the network (enclaves).
    solve
        How the capacity-aware method was solved; ``None`` for the other methods.
    """

    method: str
    school: IntArray
    children: FloatArray
    placed: FloatArray
    distance_m: FloatArray
    seats: FloatArray
    breaks: tuple[ContiguityBreak, ...] = ()
    solve: SolveReport | None = None

    @property
    def n_schools(self) -> int:
        """Number of schools (cost-matrix columns)."""
        return int(self.seats.shape[0])

    @property
    def assigned(self) -> BoolArray:
        """Whether each point has a zone school."""
        return np.asarray(self.school != UNASSIGNED)

    @property
    def routed(self) -> BoolArray:
        """Whether each point has a zone school it can reach on the network."""
        return np.asarray(self.assigned & np.isfinite(self.distance_m))

    @property
    def shortfall(self) -> FloatArray:
        """Children of each point in a zone but without a seat (zero where unassigned)."""
        return np.where(self.assigned, self.children - self.placed, 0.0)

    @property
    def total_distance_m(self) -> float:
        """Child-weighted distance to the zone schools over routed points, child-metres."""
        routed = self.routed
        return float(np.dot(self.children[routed], self.distance_m[routed]))

    def school_children(self) -> FloatArray:
        """Return the children in each school's zone, ``(n_schools,)``."""
        assigned = self.assigned
        return np.bincount(
            self.school[assigned], weights=self.children[assigned], minlength=self.n_schools
        ).astype(np.float64)

    def zone_points(self, school: int) -> IntArray:
        """Return the demand points of one school's zone."""
        return np.flatnonzero(self.school == school).astype(np.int64)


@dataclass(frozen=True, slots=True)
class ModeStatistics:
    """Travel to the zone school by one mode, over the children with a zone school.

    Percentiles are child-weighted (the smallest value reached by that share of children).
    ``nan`` when no child can make the trip by this mode.

    Attributes
    ----------
    mode
        The travel mode's name.
    mean_distance_m, median_distance_m, p90_distance_m
        Route length to the zone school, metres.
    mean_duration_s, median_duration_s, p90_duration_s
        Travel time to the zone school, seconds.
    no_route_children
        Children with a zone school that this mode cannot reach.
    """

    mode: str
    mean_distance_m: float
    median_distance_m: float
    p90_distance_m: float
    mean_duration_s: float
    median_duration_s: float
    p90_duration_s: float
    no_route_children: float


@dataclass(frozen=True, slots=True, eq=False)
class MethodStatistics:
    """The figures of one zoning method, for comparing methods side by side.

    Attributes
    ----------
    method
        The zoning method.
    children
        All children of first-grade age at the demand points.
    placed_children
        Children with a seat at their zone school.
    shortfall_children
        Children in a zone whose school has no seat left for them.
    unassigned_children
        Children at points with no zone school.
    no_route_children
        Children zoned to a school they have no network route to (by the fallback).
    total_distance_m
        Child-weighted distance on the zoning cost matrix, child-metres.
    within_1km_walk_share, within_2km_walk_share
        Share of the children with a zone school whose walk to it is at most 1 km / 2 km.
    not_nearest_children
        Children whose zone school is not their nearest school (on the zoning costs).
    enclaves, enclave_children
        Parts of zones cut off from their school on the network, and their children.
    modes
        Travel statistics per mode.
    school_children, school_seats
        ``(n_schools,)`` children in each zone and seats of each school.
    """

    method: str
    children: float
    placed_children: float
    shortfall_children: float
    unassigned_children: float
    no_route_children: float
    total_distance_m: float
    within_1km_walk_share: float
    within_2km_walk_share: float
    not_nearest_children: float
    enclaves: int
    enclave_children: float
    modes: tuple[ModeStatistics, ...]
    school_children: FloatArray
    school_seats: FloatArray

    @property
    def seats_minus_children(self) -> FloatArray:
        """Seats minus the children of each zone (negative: the zone is short of seats)."""
        return self.school_seats - self.school_children
