"""Contiguity of zones on the network: neighbouring demand points, enclaves and their repair.

A zone is contiguous when every one of its demand points is linked to the school through
demand points of the same zone: a chain of *neighbour* pairs that starts at one of the
school's *doorstep* points. Neighbours are the pairs of points whose cells touch
(:func:`neighbour_pairs`, a Delaunay triangulation) and that are also close on the road
network (:func:`keep_network_neighbours`; the service computes the network distances
with :mod:`routing`, this module never sees the graph). The doorstep of a school is its
nearest demand point by network cost plus every point within ``doorstep_m`` of it.

A part of a zone that no such chain reaches is an *enclave*. :func:`repair_contiguity`
hands each enclave, smallest first, to the neighbouring zone (one whose school-linked part
touches it) that adds the least child-weighted distance, provided the move does not add
to the children above capacity (the receiving zone may hand border points back to make
room); when no neighbouring zone can take it the enclave stays and is reported as a
:class:`~enrolment.types.ContiguityBreak`: ``"capacity"`` (the neighbours are full),
``"unreachable"`` (no neighbouring zone's school can be reached from it) or
``"no_neighbour"`` (no neighbouring zone at all). A move is kept only if it leaves fewer
cut-off parts, so the repair ends. :func:`improve_zones` then shortens the repaired
zones by border moves and trades that keep every zone whole and add no child above
capacity.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from scipy.spatial import Delaunay, QhullError

from enrolment import _validate
from enrolment.errors import InvalidInputError
from enrolment.types import UNASSIGNED, BoolArray, ContiguityBreak, FloatArray, IntArray

#: Points within this network distance of a school's nearest point are at its door, metres.
DEFAULT_DOORSTEP_M = 200.0
#: Neighbours farther apart on the network than this many times their straight distance
#: (plus :data:`DEFAULT_DETOUR_SLACK_M`) are not neighbours on the network (a canal between).
DEFAULT_MAX_DETOUR = 2.5
DEFAULT_DETOUR_SLACK_M = 100.0


def neighbour_pairs(points: gpd.GeoDataFrame, *, max_link_m: float | None = None) -> IntArray:
    """Return the pairs of demand points that are neighbours in the plane.

    Neighbours are the edges of the Delaunay triangulation of the points (their Voronoi
    cells share a side), optionally only those at most ``max_link_m`` apart; points at the
    same place are neighbours of each other.

    Parameters
    ----------
    points
        Demand points (Point geometries in a projected CRS in metres).
    max_link_m
        Longest straight link kept, metres; ``None`` keeps every edge.

    Returns
    -------
    numpy.ndarray
        ``(k, 2)`` row indices ``(a, b)`` with ``a < b``, sorted.

    Raises
    ------
    InvalidInputError
        If the points are not Point geometries in a metric CRS.
    """
    _validate.metric_frame(points, field="points")
    _validate.geometry_types(points, ("Point",), field="points")
    xy = np.column_stack([points.geometry.x.to_numpy(), points.geometry.y.to_numpy()])
    unique, first, inverse = np.unique(xy, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    links: list[npt.NDArray[np.int64]] = []
    # points at one place: link each to the first point there
    same = np.flatnonzero(first[inverse] != np.arange(len(xy)))
    links.append(np.column_stack([first[inverse[same]], same]).astype(np.int64))
    if unique.shape[0] == 2:
        links.append(np.array([[first[0], first[1]]], dtype=np.int64))
    elif unique.shape[0] > 2:
        links.append(first[_delaunay_edges(unique)].astype(np.int64))
    pairs = np.sort(np.concatenate(links).reshape(-1, 2), axis=1)
    if max_link_m is not None:
        length = np.hypot(*(xy[pairs[:, 0]] - xy[pairs[:, 1]]).T)
        pairs = pairs[length <= max_link_m]
    return np.unique(pairs, axis=0).astype(np.int64)


def _delaunay_edges(xy: FloatArray) -> IntArray:
    try:
        triangles = Delaunay(xy).simplices
    except QhullError:
        # all points on one line: link them in order along it
        order = np.lexsort((xy[:, 1], xy[:, 0]))
        return np.column_stack([order[:-1], order[1:]]).astype(np.int64)
    edges = np.concatenate([triangles[:, [0, 1]], triangles[:, [1, 2]], triangles[:, [0, 2]]])
    return np.unique(np.sort(edges, axis=1), axis=0).astype(np.int64)


def keep_network_neighbours(
    pairs: npt.ArrayLike,
    *,
    straight_m: npt.ArrayLike,
    network_m: npt.ArrayLike,
    max_detour: float = DEFAULT_MAX_DETOUR,
    slack_m: float = DEFAULT_DETOUR_SLACK_M,
) -> IntArray:
    """Keep the neighbour pairs that are also close on the road network.

    Parameters
    ----------
    pairs
        ``(k, 2)`` neighbour pairs (from :func:`neighbour_pairs`).
    straight_m
        ``(k,)`` straight distance of each pair, metres.
    network_m
        ``(k,)`` network distance of each pair (shorter of both directions), metres;
        ``inf`` when there is no route.
    max_detour, slack_m
        A pair is kept when ``network_m <= max_detour * straight_m + slack_m``.

    Returns
    -------
    numpy.ndarray
        The kept pairs.

    Raises
    ------
    InvalidInputError
        If the arrays do not have one value per pair.
    """
    kept = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    straight = np.asarray(straight_m, dtype=np.float64)
    network = np.asarray(network_m, dtype=np.float64)
    if straight.shape != (kept.shape[0],) or network.shape != (kept.shape[0],):
        msg = f"expected one distance per pair ({kept.shape[0]})"
        raise InvalidInputError(msg, field="network_m")
    return kept[network <= max_detour * straight + slack_m]


def doorstep_points(cost: FloatArray, *, doorstep_m: float = DEFAULT_DOORSTEP_M) -> BoolArray:
    """Return ``(n_points, n_schools)``: whether each point is at each school's door.

    A school's door holds its nearest point by ``cost`` and every point within
    ``doorstep_m`` (metres) of the school.
    """
    finite = np.where(np.isfinite(cost), cost, np.inf)
    nearest = finite.min(axis=0)
    return np.asarray(finite <= np.maximum(nearest, doorstep_m)[None, :] + 1e-9)


def _components(school: IntArray, pairs: IntArray) -> IntArray:
    """Label the connected parts of every zone (pairs within one zone only)."""
    same = school[pairs[:, 0]] == school[pairs[:, 1]]
    same &= school[pairs[:, 0]] != UNASSIGNED
    linked = pairs[same]
    n = school.shape[0]
    graph = sp.coo_array(
        (np.ones(linked.shape[0]), (linked[:, 0], linked[:, 1])), shape=(n, n)
    ).tocsr()
    _, labels = connected_components(graph, directed=False)
    return np.asarray(labels, dtype=np.int64)


def _zone_parts(
    school: IntArray, pairs: IntArray, door: BoolArray, children: FloatArray
) -> tuple[IntArray, set[int], list[IntArray], list[tuple[int, IntArray]]]:
    """Split every zone into parts; return labels, linked parts, enclaves, detached zones."""
    labels = _components(school, pairs)
    n_labels = int(labels.max()) + 1 if labels.size else 0
    rows = np.flatnonzero(school != UNASSIGNED)
    label_zone = np.full(n_labels, UNASSIGNED, dtype=np.int64)
    label_zone[labels[rows]] = school[rows]
    linked_mask = np.zeros(n_labels, dtype=bool)
    linked_mask[labels[rows[door[rows, school[rows]]]]] = True
    weight = np.bincount(labels[rows], weights=children[rows], minlength=n_labels)
    detached: list[tuple[int, IntArray]] = []
    zones = np.unique(school[rows])
    for zone in np.setdiff1d(zones, label_zone[linked_mask]):
        parts = np.flatnonzero(label_zone == zone)
        main = int(parts[int(np.argmax(weight[parts]))])
        linked_mask[main] = True
        detached.append((int(zone), np.flatnonzero(labels == main).astype(np.int64)))
    cut_off = np.flatnonzero(~linked_mask & (label_zone != UNASSIGNED))
    cut_off = cut_off[np.lexsort((cut_off, label_zone[cut_off]))]
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    starts = np.searchsorted(sorted_labels, cut_off, side="left")
    stops = np.searchsorted(sorted_labels, cut_off, side="right")
    enclaves = [
        order[a:b].astype(np.int64) for a, b in zip(starts.tolist(), stops.tolist(), strict=True)
    ]
    return labels, set(np.flatnonzero(linked_mask).tolist()), enclaves, detached


def find_enclaves(
    school: IntArray, *, pairs: IntArray, door: BoolArray, children: FloatArray
) -> tuple[list[IntArray], list[tuple[int, IntArray]]]:
    """Return the enclaves of every zone, and the detached zones' main parts.

    Parameters
    ----------
    school
        Zone school per point (-1: none).
    pairs
        Neighbour pairs.
    door
        ``(n_points, n_schools)`` doorstep flags (:func:`doorstep_points`).
    children
        Children per point (a detached zone's main part is its largest by children).

    Returns
    -------
    tuple
        The enclaves (point indices, each within one zone), and for each zone holding no
        doorstep point, its school and the main part kept as the zone.
    """
    _, _, enclaves, detached = _zone_parts(school, pairs, door, children)
    return enclaves, detached


def repair_contiguity(
    school: IntArray,
    *,
    cost: FloatArray,
    children: FloatArray,
    seats: FloatArray,
    pairs: IntArray,
    door: BoolArray,
) -> tuple[IntArray, tuple[ContiguityBreak, ...]]:
    """Hand enclaves to neighbouring zones where capacity allows; report the rest.

    Each enclave, smallest first, joins the neighbouring zone (one whose school-linked
    part it touches) that adds the least child-weighted distance. If that would add
    children above capacity, the receiving zone hands border points back to the zone the
    enclave left (those touching its linked part, cheapest first) until the children above
    capacity are no more than before. A move is kept only if it leaves fewer cut-off parts.

    Parameters
    ----------
    school
        Zone school per point (-1: none); not modified.
    cost
        ``(n_points, n_schools)`` metres, ``inf`` for no route.
    children
        Children per point.
    seats
        Seats per school.
    pairs
        Neighbour pairs.
    door
        Doorstep flags (:func:`doorstep_points`).

    Returns
    -------
    tuple
        The repaired zone school per point, and the breaks that remain.
    """
    problem = _Problem(cost=cost, children=children, seats=seats, pairs=pairs, door=door)
    zones = school.copy()
    verdict: dict[tuple[int, ...], str] = {}
    dirty: set[int] | None = None  # zones changed in the last pass (None: the first pass)
    while True:
        labels, linked, enclaves, detached = _zone_parts(zones, pairs, door, children)
        cut_off = len(enclaves) + len(detached)
        changed: set[int] = set()
        for enclave in sorted(enclaves, key=lambda e: (float(children[e].sum()), int(e[0]))):
            key = tuple(enclave.tolist())
            options = _neighbour_zones(enclave, zones, labels, linked, pairs)
            around = {int(zones[enclave[0]]), *options}
            if changed & around:
                continue  # its surroundings moved in this pass: look again in the next
            if dirty is not None and key in verdict and not dirty & around:
                continue  # nothing around it changed since it was refused
            moved = _best_move(enclave, options, zones, problem, cut_off, (labels, linked))
            if moved is None:
                verdict[key] = _why_not(enclave, options, cost)
                continue
            differs = moved != zones
            changed.update(zones[differs].tolist(), moved[differs].tolist())
            zones = moved
            _, _, left, lost = _zone_parts(zones, pairs, door, children)
            cut_off = len(left) + len(lost)
        if not changed:
            break
        dirty = changed
    breaks = [
        ContiguityBreak(
            school=int(zones[enclave[0]]),
            points=enclave,
            children=float(children[enclave].sum()),
            reason=verdict[tuple(enclave.tolist())],
        )
        for enclave in enclaves
    ]
    breaks.extend(
        ContiguityBreak(
            school=zone, points=main, children=float(children[main].sum()), reason="detached"
        )
        for zone, main in detached
    )
    return zones, tuple(sorted(breaks, key=lambda b: (b.school, int(b.points[0]))))


def _why_not(enclave: IntArray, options: list[int], cost: FloatArray) -> str:
    if not options:
        return "no_neighbour"
    if not any(np.isfinite(cost[enclave, option]).all() for option in options):
        return "unreachable"
    return "capacity"


@dataclass(frozen=True, slots=True)
class _Problem:
    """What the repair works on."""

    cost: FloatArray
    children: FloatArray
    seats: FloatArray
    pairs: IntArray
    door: BoolArray
    adjacency: sp.csr_array = field(init=False, repr=False)

    def __post_init__(self) -> None:
        """Index the neighbour pairs by point (both directions)."""
        n = self.children.shape[0]
        both = np.concatenate([self.pairs, self.pairs[:, ::-1]])
        matrix = sp.csr_array((np.ones(both.shape[0]), (both[:, 0], both[:, 1])), shape=(n, n))
        object.__setattr__(self, "adjacency", matrix)

    def neighbours_of(self, points: IntArray) -> IntArray:
        """Return the neighbours of ``points`` (with repeats)."""
        indptr, indices = self.adjacency.indptr, self.adjacency.indices
        if points.size == 0:
            return np.zeros(0, dtype=np.int64)
        return np.concatenate([indices[indptr[p] : indptr[p + 1]] for p in points]).astype(np.int64)

    def loads(self, zones: IntArray) -> FloatArray:
        """Children zoned to each school."""
        assigned = zones != UNASSIGNED
        return np.asarray(
            np.bincount(
                zones[assigned], weights=self.children[assigned], minlength=self.seats.shape[0]
            ),
            dtype=np.float64,
        )

    def overflow(self, zones: IntArray) -> float:
        """Children above capacity over all schools."""
        return float(np.clip(self.loads(zones) - self.seats, 0.0, None).sum())

    def distance(self, zones: IntArray) -> float:
        """Child-weighted distance to the zone schools."""
        rows = np.flatnonzero(zones != UNASSIGNED)
        return float(np.dot(self.children[rows], self.cost[rows, zones[rows]]))


def _neighbour_zones(
    enclave: IntArray, zones: IntArray, labels: IntArray, linked: set[int], pairs: IntArray
) -> list[int]:
    """Zones whose school-linked part touches the enclave."""
    here = int(zones[enclave[0]])
    inside = np.zeros(zones.shape[0], dtype=bool)
    inside[enclave] = True
    touching = pairs[inside[pairs[:, 0]] ^ inside[pairs[:, 1]]]
    outer = np.where(inside[touching[:, 0]], touching[:, 1], touching[:, 0])
    return sorted(
        {
            int(zones[p])
            for p in outer
            if zones[p] not in (UNASSIGNED, here) and int(labels[p]) in linked
        }
    )


def _best_move(
    enclave: IntArray,
    options: list[int],
    zones: IntArray,
    problem: _Problem,
    cut_off: int,
    parts: tuple[IntArray, set[int]],
) -> IntArray | None:
    """Return the zones after the cheapest acceptable move of the enclave, if any.

    A move into a zone whose linked part the enclave touches always leaves one cut-off
    part fewer; a move that needs border points handed back is checked. ``parts`` are the
    labels and linked parts of ``zones``.
    """
    here = int(zones[enclave[0]])
    limit = problem.overflow(zones) + 1e-9
    labels, linked = parts
    home = (zones == here) & np.isin(labels, list(linked))
    best: tuple[float, int, IntArray] | None = None
    for option in options:
        if not np.isfinite(problem.cost[enclave, option]).all():
            continue
        trial = zones.copy()
        trial[enclave] = option
        if problem.overflow(trial) > limit:
            balanced = _hand_back(trial, enclave, here, option, problem, limit, home.copy())
            if balanced is None:
                continue
            found = _zone_parts(balanced, problem.pairs, problem.door, problem.children)
            if len(found[2]) + len(found[3]) >= cut_off:
                continue
            trial = balanced
        candidate = (problem.distance(trial), option, trial)
        if best is None or candidate[:2] < best[:2]:
            best = candidate
    return None if best is None else best[2]


_MAX_HAND_BACK = 200


def _hand_back(
    zones: IntArray,
    enclave: IntArray,
    here: int,
    option: int,
    problem: _Problem,
    limit: float,
    home: BoolArray,
) -> IntArray | None:
    """Move border points of ``option`` to ``here`` until overflow is back under ``limit``.

    A border point is a point of ``option``'s zone next to the linked part of ``here``'s
    zone (``home``); once handed back it joins that part, so the border grows with it.
    """
    trial = zones.copy()
    moved = np.zeros(zones.shape[0], dtype=bool)
    moved[enclave] = True
    cost, children, seats = problem.cost, problem.children, problem.seats
    load = problem.loads(trial)
    total = float(np.clip(load - seats, 0.0, None).sum())
    candidates = set(problem.neighbours_of(np.flatnonzero(home)).tolist())
    for _ in range(_MAX_HAND_BACK):
        if total <= limit:
            return trial
        border = np.array(
            sorted(p for p in candidates if trial[p] == option and not moved[p]), dtype=np.int64
        )
        border = border[np.isfinite(cost[border, here])] if border.size else border
        if border.size == 0:
            return None
        size = children[border]
        change = (
            np.clip(load[here] + size - seats[here], 0.0, None)
            - max(0.0, load[here] - seats[here])
            + np.clip(load[option] - size - seats[option], 0.0, None)
            - max(0.0, load[option] - seats[option])
        )
        useful = change < -1e-12
        if not useful.any():
            return None
        extra = np.where(useful, size * (cost[border, here] - cost[border, option]), np.inf)
        pick = int(np.lexsort((border, extra))[0])
        point = int(border[pick])
        trial[point] = here
        moved[point] = True
        candidates.update(problem.neighbours_of(np.array([point])).tolist())
        load[here] += children[point]
        load[option] -= children[point]
        total += float(change[pick])
    return None


#: Rounds of :func:`improve_zones` at most (each round moves every zone at most once).
_MAX_IMPROVE_ROUNDS = 1_000
#: Border points per side and zone pair tried in the exchanges of :func:`improve_zones`.
_EXCHANGE_CANDIDATES = 6
#: Least gain of a move worth making, child-metres.
_MIN_GAIN = 1e-6


def improve_zones(
    school: IntArray,
    *,
    cost: FloatArray,
    children: FloatArray,
    seats: FloatArray,
    pairs: IntArray,
    door: BoolArray,
) -> IntArray:
    """Shorten the zones' child-weighted distance by border moves that keep them whole.

    A local search over zones already made contiguous (:func:`repair_contiguity`): a
    border point of zone A next to the school-linked part of zone B moves to B when that
    is shorter, adds no child above capacity and leaves no part of A cut off from its
    school; where capacity binds, two border points of A and B trade places under the
    same conditions. Each round makes the best moves first, each zone at most once, until
    no move gains; enclaves the repair left are never moved.

    Parameters
    ----------
    school
        Zone school per point (-1: none); not modified.
    cost
        ``(n_points, n_schools)`` metres, ``inf`` for no route.
    children
        Children per point.
    seats
        Seats per school.
    pairs
        Neighbour pairs.
    door
        Doorstep flags (:func:`doorstep_points`).

    Returns
    -------
    numpy.ndarray
        The improved zone school per point: never longer, never more children above
        capacity, never more cut-off parts.
    """
    problem = _Problem(cost=cost, children=children, seats=seats, pairs=pairs, door=door)
    zones = school.copy()
    load = problem.loads(zones)
    for _ in range(_MAX_IMPROVE_ROUNDS):
        labels, linked, _, _ = _zone_parts(zones, pairs, door, children)
        moves = _border_moves(zones, labels, linked, problem)
        if moves.shape[0] == 0:
            break
        touched: set[int] = set()
        made = _single_moves(zones, load, moves, problem, touched)
        made += _exchanges(zones, load, moves, problem, touched)
        if made == 0:
            break
    return zones


def _border_moves(
    zones: IntArray, labels: IntArray, linked: set[int], problem: _Problem
) -> npt.NDArray[np.float64]:
    """Rows ``(point, from, to, gain)`` of every move of a linked border point, best first."""
    in_linked = np.isin(labels, np.fromiter(linked, dtype=np.int64, count=len(linked)))
    both = np.concatenate([problem.pairs, problem.pairs[:, ::-1]])
    point, other = both[:, 0], both[:, 1]
    keep = (zones[point] != zones[other]) & (zones[point] != UNASSIGNED)
    keep &= (zones[other] != UNASSIGNED) & in_linked[point] & in_linked[other]
    point = point[keep]
    rows = np.unique(np.column_stack([point, zones[point], zones[other[keep]]]), axis=0)
    gain = problem.children[rows[:, 0]] * (
        problem.cost[rows[:, 0], rows[:, 1]] - problem.cost[rows[:, 0], rows[:, 2]]
    )
    usable = np.isfinite(gain)
    rows, gain = rows[usable], gain[usable]
    order = np.lexsort((rows[:, 0], -gain))
    return np.column_stack([rows[order].astype(np.float64), gain[order]])


def _overflow_change(load: FloatArray, seats: FloatArray, change: dict[int, float]) -> float:
    """Change of the children above capacity when ``change`` is added to the loads."""
    return float(
        sum(
            max(0.0, load[zone] + delta - seats[zone]) - max(0.0, load[zone] - seats[zone])
            for zone, delta in change.items()
        )
    )


def _cut_off_parts(zones: IntArray, zone: int, problem: _Problem) -> int:
    """Count the parts of ``zone`` that no chain of its points links to its school."""
    members = np.flatnonzero(zones == zone)
    if members.size == 0:
        return 0
    inner = problem.adjacency[members][:, members]
    count, labels = connected_components(inner, directed=False)
    reached = np.zeros(count, dtype=bool)
    reached[labels[problem.door[members, zone]]] = True
    return int((~reached).sum()) if reached.any() else count


def _apply(
    zones: IntArray, load: FloatArray, problem: _Problem, moves: list[tuple[int, int, int]]
) -> bool:
    """Make ``moves`` ``(point, from, to)`` if no zone they touch gets a cut-off part."""
    touched = {z for _, a, b in moves for z in (a, b)}
    before = {zone: _cut_off_parts(zones, zone, problem) for zone in touched}
    for point, _, to in moves:
        zones[point] = to
    if all(_cut_off_parts(zones, zone, problem) <= before[zone] for zone in touched):
        for point, here, to in moves:
            load[here] -= problem.children[point]
            load[to] += problem.children[point]
        return True
    for point, here, _ in moves:
        zones[point] = here
    return False


def _single_moves(
    zones: IntArray,
    load: FloatArray,
    moves: npt.NDArray[np.float64],
    problem: _Problem,
    touched: set[int],
) -> int:
    """Make the gaining single moves, best first, each zone once; return how many."""
    made = 0
    for point_f, here_f, to_f, gain in moves.tolist():
        if gain <= _MIN_GAIN:
            break
        point, here, to = int(point_f), int(here_f), int(to_f)
        if here in touched or to in touched:
            continue
        size = float(problem.children[point])
        if _overflow_change(load, problem.seats, {here: -size, to: size}) > 1e-9:
            continue
        if _apply(zones, load, problem, [(point, here, to)]):
            touched.update((here, to))
            made += 1
    return made


def _exchanges(
    zones: IntArray,
    load: FloatArray,
    moves: npt.NDArray[np.float64],
    problem: _Problem,
    touched: set[int],
) -> int:
    """Trade two border points between zone pairs where that gains; return how many."""
    sides: dict[tuple[int, int], list[tuple[int, float]]] = {}
    for point_f, here_f, to_f, gain in moves.tolist():
        side = sides.setdefault((int(here_f), int(to_f)), [])
        if len(side) < _EXCHANGE_CANDIDATES:
            side.append((int(point_f), gain))
    made = 0
    for (a, b), forth in sorted(sides.items()):
        if a > b or a in touched or b in touched or (b, a) not in sides:
            continue
        best = _best_exchange(forth, sides[(b, a)], a, b, load, problem)
        if best is not None and _apply(zones, load, problem, [(best[0], a, b), (best[1], b, a)]):
            touched.update((a, b))
            made += 1
    return made


def _best_exchange(
    forth: list[tuple[int, float]],
    back: list[tuple[int, float]],
    a: int,
    b: int,
    load: FloatArray,
    problem: _Problem,
) -> tuple[int, int] | None:
    """Return the best gaining trade of a point of ``a`` for one of ``b`` adding no overflow."""
    best: tuple[float, int, int] | None = None
    for p, gain_p in forth:
        for q, gain_q in back:
            total = gain_p + gain_q
            if total <= _MIN_GAIN or (best is not None and total <= best[0]):
                continue
            shift = float(problem.children[q] - problem.children[p])
            if _overflow_change(load, problem.seats, {a: shift, b: -shift}) > 1e-9:
                continue
            best = (total, p, q)
    return None if best is None else (best[1], best[2])
