"""Origin-destination costs: one-to-many, many-to-many with a cutoff, k nearest.

The searches run on compiled code (:mod:`routing._dijkstra`) over the mode's CSR arrays,
one Dijkstra per point on the smaller side (from each destination over the reversed arcs
when destinations are fewer, so that one-way rules still hold from origin to
destination), split across threads. Only pairs within the cutoff are kept, so memory grows
with the reachable pairs, never with ``origins x destinations`` or with the node count.

Distances are the minimised weight (``length_m`` by default, or ``travel_time_s``);
the other quantity is summed along the same path. Both include the off-network legs.
"""

from __future__ import annotations

import itertools
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from routing import _dijkstra
from routing._legs import direct_pairs, point_legs
from routing._validate import check_count, check_cutoff, check_weight
from routing.components import node_components
from routing.modes import TravelMode
from routing.network import ModeGraph, RoadNetwork
from routing.snapping import (
    MAX_SNAP_DISTANCE_M,
    SNAP_INVALID,
    SnappedPoints,
    as_snapped,
)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Int32Array = npt.NDArray[np.int32]

#: Why an origin reaches no destination; index = status code (0 means it reaches one).
ORIGIN_STATUS = (
    "ok",
    "off_network",
    "invalid",
    "disconnected",
    "beyond_cutoff",
    "no_route",
    "no_destination",
)
#: Explanation of each origin status, for people.
ORIGIN_STATUS_TEXT = {
    "ok": "reaches at least one destination",
    "off_network": "farther from every usable road than the snapping limit",
    "invalid": "coordinates are not finite numbers",
    "disconnected": "no destination in its part of the road network (island, no ferry)",
    "beyond_cutoff": "no destination within the cutoff in its part of the network",
    "no_route": "connected, but one-way rules block every route to a destination",
    "no_destination": "no destination could be placed on the road network",
}
_MAX_BUFFER = 1 << 27


@dataclass(frozen=True, slots=True, eq=False)
class CostMatrix:
    """The reachable origin-destination pairs of one mode, as a sparse matrix.

    Pairs are grouped by ``grouped_by`` (``"destination"`` or ``"origin"``): group ``g``
    holds pairs ``ptr[g]`` to ``ptr[g + 1] - 1``, whose other index is ``member``.
    Unlisted pairs are unreachable (or beyond the cutoff); an origin with no pair has a
    reason in ``origin_status``.

    Attributes
    ----------
    mode
        The travel mode's name.
    weight
        The minimised quantity: ``"length_m"`` or ``"travel_time_s"``.
    cutoff
        The limit on ``weight`` (metres or seconds), ``None`` for none.
    n_origins, n_destinations
        Matrix shape.
    grouped_by
        ``"destination"`` or ``"origin"``.
    ptr
        Start of each group's pairs.
    member
        The origin (when grouped by destination) or destination of each pair.
    length_m
        Network length of each pair's route in metres, off-network legs included.
    travel_time_s
        Travel time of each pair's route in seconds.
    origin_status
        Index into :data:`ORIGIN_STATUS` for each origin.
    destination_snapped
        Whether each destination could be snapped onto the network.
    """

    mode: str
    weight: str
    cutoff: float | None
    n_origins: int
    n_destinations: int
    grouped_by: str
    ptr: IntArray
    member: Int32Array
    length_m: FloatArray
    travel_time_s: FloatArray
    origin_status: npt.NDArray[np.uint8]
    destination_snapped: npt.NDArray[np.bool_]

    @property
    def n_pairs(self) -> int:
        """Number of reachable pairs."""
        return int(self.member.shape[0])

    def pairs(self) -> tuple[IntArray, IntArray]:
        """Return the origin and destination index of every pair."""
        group = np.repeat(np.arange(self.ptr.shape[0] - 1, dtype=np.int64), np.diff(self.ptr))
        member = self.member.astype(np.int64)
        if self.grouped_by == "destination":
            return member, group
        return group, member

    def to_frame(self) -> pd.DataFrame:
        """Return one row per reachable pair: origin, destination, length_m, travel_time_s."""
        origin, destination = self.pairs()
        return pd.DataFrame(
            {
                "origin": origin,
                "destination": destination,
                "length_m": self.length_m,
                "travel_time_s": self.travel_time_s,
            }
        )

    def to_sparse(self, value: str = "length_m") -> sp.csr_array:
        """Return an ``n_origins x n_destinations`` sparse array of ``value`` per pair.

        Stored entries are exactly the reachable pairs (a stored 0 is a pair at 0 m).
        """
        check_weight(value)
        data = self.length_m if value == "length_m" else self.travel_time_s
        origin, destination = self.pairs()
        shape = (self.n_origins, self.n_destinations)
        return sp.csr_array((data, (origin, destination)), shape=shape)

    def dense(self, value: str = "length_m") -> FloatArray:
        """Return the full matrix of ``value`` with ``inf`` for unreachable pairs."""
        check_weight(value)
        result = np.full((self.n_origins, self.n_destinations), np.inf)
        origin, destination = self.pairs()
        result[origin, destination] = self.length_m if value == "length_m" else self.travel_time_s
        return result

    def origin_reason(self, origin: int) -> str:
        """Return why ``origin`` reaches no destination (``"ok"`` when it reaches one)."""
        return ORIGIN_STATUS[int(self.origin_status[origin])]

    def unreachable_origins(self) -> IntArray:
        """Return the origins that reach no destination."""
        return np.flatnonzero(self.origin_status != 0).astype(np.int64)


def _default_workers(workers: int | None) -> int:
    if workers is not None:
        return check_count(workers, field="workers")
    return max(1, min(8, os.cpu_count() or 1))


def _search_all(
    *,
    n_sources: int,
    sources: _dijkstra.Attachments,
    graph: _dijkstra.Graph,
    targets: _dijkstra.TargetAttachments,
    direct: _dijkstra.Attachments,
    n_targets: int,
    cutoff: float,
    workers: int,
) -> _dijkstra.Result:
    """Run :func:`_dijkstra.many_to_many` over all sources, in contiguous chunks."""
    n_chunks = min(n_sources, workers * 4) if workers > 1 else 1
    bounds = np.linspace(0, n_sources, n_chunks + 1).astype(np.int64)
    chunks = [(int(a), int(b)) for a, b in itertools.pairwise(bounds)]

    def run(chunk: tuple[int, int]) -> _dijkstra.Result:
        first, stop = chunk
        n_direct = int(direct[0][stop] - direct[0][first])
        capacity = min(max(1, (stop - first) * n_targets + n_direct), _MAX_BUFFER)
        return _dijkstra.many_to_many(
            (first, stop), sources, graph, targets, direct, cutoff, capacity, n_targets
        )

    if len(chunks) == 1:
        return run(chunks[0])
    with ThreadPoolExecutor(max_workers=workers) as pool:
        parts = list(pool.map(run, chunks))
    result = _dijkstra.allocate(
        sum(p[0].shape[0] for p in parts), sum(p[1].shape[0] for p in parts)
    )
    at_count = at_pair = 0
    while parts:
        part = parts.pop(0)
        _dijkstra.copy_into(result, part, at_count, at_pair)
        at_count += part[0].shape[0]
        at_pair += part[1].shape[0]
    return result


def cost_matrix(
    network: RoadNetwork,
    mode: TravelMode | str,
    *,
    origins: Any,
    destinations: Any,
    weight: str = "length_m",
    cutoff: float | None = None,
    max_snap_m: float = MAX_SNAP_DISTANCE_M,
    workers: int | None = None,
) -> CostMatrix:
    """Return network lengths and times from every origin to every destination in reach.

    Parameters
    ----------
    network
        The road network.
    mode
        Travel mode or its name.
    origins, destinations
        :class:`~routing.snapping.SnappedPoints` of this mode, or points to snap: ``(n, 2)``
        x, y in the network's metric CRS, or a GeoSeries of points in that CRS. Origins to
        snap are snapped toward the destinations (see :func:`~routing.snapping.snap_points`).
    weight
        What routes minimise: ``"length_m"`` (shortest) or ``"travel_time_s"`` (fastest).
    cutoff
        Keep only pairs whose ``weight`` is at most this (metres or seconds).
    max_snap_m
        Snapping limit in metres, for points that are not snapped yet.
    workers
        Threads to search with (default: the machine's cores, at most 8).

    Returns
    -------
    CostMatrix
        The reachable pairs with ``length_m`` and ``travel_time_s``, and a reason for
        every origin that reaches no destination.

    Raises
    ------
    RoutingInputError
        If the points, weight, cutoff or mode are malformed.
    """
    resolved = network.travel_mode(mode)
    check_weight(weight)
    limit = check_cutoff(cutoff)
    threads = _default_workers(workers)
    end = as_snapped(network, destinations, resolved, max_snap_m, "destinations")
    start = as_snapped(network, origins, resolved, max_snap_m, "origins", toward=end)
    arcs = network.mode_graph_arrays(resolved)
    by_destination = len(end) <= len(start)
    leaving = point_legs(start, network, arcs, leaving=True)
    entering = point_legs(end, network, arcs, leaving=False)
    source_legs, target_legs = (entering, leaving) if by_destination else (leaving, entering)
    n_sources, n_targets = (len(end), len(start)) if by_destination else (len(start), len(end))
    direct = direct_pairs(start, end, network, arcs)
    counts, member, first, second = _search_all(
        n_sources=n_sources,
        sources=source_legs.seeds(weight),
        graph=arcs.csr(reverse=by_destination, weight=weight),
        targets=target_legs.targets(weight, network.n_nodes),
        direct=direct.grouped(by_destination=by_destination, n_groups=n_sources, weight=weight),
        n_targets=n_targets,
        cutoff=limit,
        workers=threads,
    )
    ptr = np.zeros(n_sources + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    length, time = (first, second) if weight == "length_m" else (second, first)
    status = _origin_status(
        network,
        arcs,
        start=start,
        end=end,
        reached=_reached_origins(
            by_destination=by_destination, ptr=ptr, member=member, n_origins=len(start)
        ),
        cutoff=cutoff,
    )
    return CostMatrix(
        mode=resolved.name,
        weight=weight,
        cutoff=None if cutoff is None else limit,
        n_origins=len(start),
        n_destinations=len(end),
        grouped_by="destination" if by_destination else "origin",
        ptr=ptr,
        member=member,
        length_m=length,
        travel_time_s=time,
        origin_status=status,
        destination_snapped=end.ok,
    )


def one_to_many(
    network: RoadNetwork,
    mode: TravelMode | str,
    *,
    origin: Any,
    destinations: Any,
    weight: str = "length_m",
    cutoff: float | None = None,
    max_snap_m: float = MAX_SNAP_DISTANCE_M,
) -> CostMatrix:
    """Return the costs from one origin to many destinations (a one-row :class:`CostMatrix`).

    Parameters are those of :func:`cost_matrix`, with a single ``origin`` point.
    """
    return cost_matrix(
        network,
        mode,
        origins=origin,
        destinations=destinations,
        weight=weight,
        cutoff=cutoff,
        max_snap_m=max_snap_m,
        workers=1,
    )


def _reached_origins(
    *, by_destination: bool, ptr: IntArray, member: Int32Array, n_origins: int
) -> npt.NDArray[np.bool_]:
    if by_destination:
        return np.bincount(member, minlength=n_origins) > 0
    return np.diff(ptr) > 0


def _origin_status(
    network: RoadNetwork,
    arcs: ModeGraph,
    *,
    start: SnappedPoints,
    end: SnappedPoints,
    reached: npt.NDArray[np.bool_],
    cutoff: float | None,
) -> npt.NDArray[np.uint8]:
    """Explain every origin that reaches no destination (codes of :data:`ORIGIN_STATUS`)."""
    status = np.zeros(len(start), dtype=np.uint8)
    status[~start.ok] = ORIGIN_STATUS.index("off_network")
    status[start.status == SNAP_INVALID] = ORIGIN_STATUS.index("invalid")
    lost = np.flatnonzero(start.ok & ~reached)
    if lost.size == 0:
        return status
    if not end.ok.any():
        status[lost] = ORIGIN_STATUS.index("no_destination")
        return status
    labels = node_components(network, arcs.mode)
    end_components = np.unique(labels[network.edge_u[end.edge[end.ok]]])
    start_components = labels[network.edge_u[start.edge[lost]]]
    cut_off = ORIGIN_STATUS.index("no_route" if cutoff is None else "beyond_cutoff")
    status[lost] = np.where(
        np.isin(start_components, end_components),
        cut_off,
        ORIGIN_STATUS.index("disconnected"),
    ).astype(np.uint8)
    return status


@dataclass(frozen=True, slots=True, eq=False)
class NearestDestinations:
    """The ``k`` nearest destinations of every origin, nearest first.

    Attributes
    ----------
    mode, weight, cutoff
        As in :class:`CostMatrix`.
    destination
        ``(n_origins, k)`` destination indices, ``-1`` where fewer than ``k`` are reachable.
    length_m, travel_time_s
        ``(n_origins, k)`` lengths (m) and times (s), ``inf`` where there is no destination.
    origin_status
        Index into :data:`ORIGIN_STATUS` for each origin.
    """

    mode: str
    weight: str
    cutoff: float | None
    destination: Int32Array
    length_m: FloatArray
    travel_time_s: FloatArray
    origin_status: npt.NDArray[np.uint8]

    def origin_reason(self, origin: int) -> str:
        """Return why ``origin`` reaches no destination (``"ok"`` when it reaches one)."""
        return ORIGIN_STATUS[int(self.origin_status[origin])]


def nearest_destinations(
    network: RoadNetwork,
    mode: TravelMode | str,
    *,
    origins: Any,
    destinations: Any,
    k: int,
    weight: str = "length_m",
    cutoff: float | None = None,
    max_snap_m: float = MAX_SNAP_DISTANCE_M,
) -> NearestDestinations:
    """Return the ``k`` nearest destinations (by network ``weight``) of every origin.

    One multi-source search from all destinations labels each node with its ``k`` nearest
    destinations; each origin then takes the best ``k`` among the labels of the nodes it
    can leave by and the destinations on its own edge. Ties go to the lower index.

    Parameters
    ----------
    network
        The road network.
    mode
        Travel mode or its name.
    origins, destinations
        Snapped points or points to snap (see :func:`cost_matrix`).
    k
        How many destinations per origin.
    weight
        ``"length_m"`` or ``"travel_time_s"``: what "nearest" means.
    cutoff
        Ignore destinations farther than this (metres or seconds).
    max_snap_m
        Snapping limit in metres, for points that are not snapped yet.

    Returns
    -------
    NearestDestinations
        ``(n_origins, k)`` arrays, nearest first.
    """
    resolved = network.travel_mode(mode)
    check_weight(weight)
    limit = check_cutoff(cutoff)
    count = check_count(k, field="k")
    end = as_snapped(network, destinations, resolved, max_snap_m, "destinations")
    start = as_snapped(network, origins, resolved, max_snap_m, "origins", toward=end)
    arcs = network.mode_graph_arrays(resolved)
    entering = point_legs(end, network, arcs, leaving=False)
    leaving = point_legs(start, network, arcs, leaving=True)
    labels = _dijkstra.k_nearest_labels(
        entering.seeds(weight),
        entering.point_of_leg().astype(np.int32),
        arcs.csr(reverse=True, weight=weight),
        count,
        limit,
    )
    direct = direct_pairs(start, end, network, arcs).grouped(
        by_destination=False, n_groups=len(start), weight=weight
    )
    best, first, second = _dijkstra.k_best_for_points(
        leaving.seeds(weight), direct, labels, count, limit
    )
    length, time = (first, second) if weight == "length_m" else (second, first)
    status = _origin_status(
        network, arcs, start=start, end=end, reached=best[:, 0] >= 0, cutoff=cutoff
    )
    return NearestDestinations(
        mode=resolved.name,
        weight=weight,
        cutoff=None if cutoff is None else limit,
        destination=best,
        length_m=length,
        travel_time_s=time,
        origin_status=status,
    )
