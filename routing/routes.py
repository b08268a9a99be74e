"""One route from an origin to a destination: its edges, length, time and geometry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely import LineString
from shapely.ops import substring

from routing import _dijkstra
from routing._legs import direct_pairs, point_legs
from routing._validate import check_weight
from routing.components import node_components
from routing.errors import RoutingInputError, UnreachableError
from routing.modes import TravelMode
from routing.network import ModeGraph, RoadNetwork
from routing.snapping import MAX_SNAP_DISTANCE_M, SnappedPoints, as_snapped

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True, eq=False)
class Route:
    """The best route between two points for one mode.

    Attributes
    ----------
    mode
        The travel mode's name.
    weight
        What the route minimises: ``"length_m"`` or ``"travel_time_s"``.
    length_m
        Route length in metres, off-network legs included.
    travel_time_s
        Travel time in seconds, ferry waits and off-network legs included.
    edges
        Network edges travelled end to end, in order (the partial edges at both ends are
        not listed).
    edges_reversed
        Whether each listed edge is travelled against its direction.
    node_osmids
        OSM ids of the nodes passed, in order.
    geometry
        The route as a LineString in the network's metric CRS, from the origin point to the
        destination point, following the roads.
    origin_snap_m, destination_snap_m
        Off-network legs at both ends, in metres.
    ferry_crossings
        Number of ferry edges on the route.
    """

    mode: str
    weight: str
    length_m: float
    travel_time_s: float
    edges: IntArray
    edges_reversed: npt.NDArray[np.bool_]
    node_osmids: IntArray
    geometry: LineString
    origin_snap_m: float
    destination_snap_m: float
    ferry_crossings: int


def _snap_one(
    network: RoadNetwork,
    point: Any,
    mode: TravelMode,
    limit: float,
    what: str,
    toward: SnappedPoints | None = None,
) -> SnappedPoints:
    snapped = as_snapped(network, point, mode, limit, what, toward=toward)
    if len(snapped) != 1:
        msg = f"the {what} must be a single point, got {len(snapped)}"
        raise RoutingInputError(msg, field=what)
    snapped.raise_for_status(what=what)
    return snapped


def shortest_route(
    network: RoadNetwork,
    mode: TravelMode | str,
    *,
    origin: Any,
    destination: Any,
    weight: str = "length_m",
    max_snap_m: float = MAX_SNAP_DISTANCE_M,
) -> Route:
    """Return the route from ``origin`` to ``destination`` that minimises ``weight``.

    Parameters
    ----------
    network
        The road network.
    mode
        Travel mode or its name (one-way rules bind motorbikes, not walkers).
    origin, destination
        One point each: ``(x, y)`` in the network's metric CRS or a one-point GeoSeries;
        the origin is snapped toward the destination (see
        :func:`~routing.snapping.snap_points`). The destination may come snapped for
        ``mode`` already (one of :class:`~routing.snapping.SnappedPoints`).
    weight
        ``"length_m"`` (shortest) or ``"travel_time_s"`` (fastest).
    max_snap_m
        Longest allowed off-network leg at either end, in metres.

    Returns
    -------
    Route
        Length, time, edges and a LineString following the roads.

    Raises
    ------
    SnapDistanceError
        If either point is too far from a road open to the mode.
    UnreachableError
        If no route exists (``reason`` ``"disconnected"`` or ``"no_route"``).
    """
    resolved = network.travel_mode(mode)
    check_weight(weight)
    end = _snap_one(network, destination, resolved, max_snap_m, "destination")
    start = _snap_one(network, origin, resolved, max_snap_m, "origin", toward=end)
    arcs = network.mode_graph_arrays(resolved)
    leaving = point_legs(start, network, arcs, leaving=True)
    entering = point_legs(end, network, arcs, leaving=False)
    graph = arcs.csr(reverse=False, weight=weight)
    dist1, dist2, pred = _dijkstra.shortest_tree(leaving.seeds(weight), graph, np.inf)
    first, second = entering.costs(weight)
    via_node = dist1[entering.node] + first
    best = int(np.argmin(via_node)) if via_node.size else -1
    best_cost = float(via_node[best]) if best >= 0 else np.inf
    direct = direct_pairs(start, end, network, arcs)
    direct_first = direct.length_m if weight == "length_m" else direct.time_s
    if direct_first.size and float(direct_first.min()) <= best_cost:
        return _direct_route(network, arcs, start, end, weight=weight)
    if not np.isfinite(best_cost):
        _raise_unreachable(network, resolved, start, end)
    path = _arc_path(arcs, pred, int(entering.node[best]))
    totals = (best_cost, float(dist2[entering.node[best]] + second[best]))
    length, time = totals if weight == "length_m" else totals[::-1]
    exit_node = int(arcs.arc_tail[path[0]]) if path.size else int(entering.node[best])
    pieces = [
        np.array([[start.x[0], start.y[0]], [start.snapped_x[0], start.snapped_y[0]]]),
        _end_piece(network, start, exit_node, leaving=True),
        *(_arc_coords(network, arcs, int(arc)) for arc in path),
        _end_piece(network, end, int(entering.node[best]), leaving=False),
        np.array([[end.snapped_x[0], end.snapped_y[0]], [end.x[0], end.y[0]]]),
    ]
    nodes = [exit_node, *(int(arcs.arc_head[arc]) for arc in path)]
    edges = arcs.arc_edge[path]
    return Route(
        mode=resolved.name,
        weight=weight,
        length_m=length,
        travel_time_s=time,
        edges=edges,
        edges_reversed=arcs.arc_reversed[path],
        node_osmids=network.node_osmid[nodes],
        geometry=_line(pieces),
        origin_snap_m=float(start.distance_m[0]),
        destination_snap_m=float(end.distance_m[0]),
        ferry_crossings=int(network.edge_ferry[edges].sum()),
    )


def _raise_unreachable(
    network: RoadNetwork, mode: TravelMode, start: SnappedPoints, end: SnappedPoints
) -> None:
    labels = node_components(network, mode)
    if labels[network.edge_u[start.edge[0]]] != labels[network.edge_u[end.edge[0]]]:
        msg = (
            f"no {mode.name} route: origin and destination are on parts of the road network "
            "that no road or ferry joins"
        )
        raise UnreachableError(msg, reason="disconnected")
    msg = f"no {mode.name} route: one-way rules block every path to the destination"
    raise UnreachableError(msg, reason="no_route")


def _arc_path(arcs: ModeGraph, pred: IntArray, last: int) -> IntArray:
    """Return the arcs from a seed node to ``last`` by following predecessors."""
    forward_arcs = arcs.forward[1]
    path: list[int] = []
    node = last
    while pred[node] >= 0:
        arc = int(forward_arcs[pred[node]])
        path.append(arc)
        node = int(arcs.arc_tail[arc])
    return np.array(path[::-1], dtype=np.int64)


def _arc_coords(network: RoadNetwork, arcs: ModeGraph, arc: int) -> FloatArray:
    coords = network.edge_coords(int(arcs.arc_edge[arc]))
    return coords[::-1] if arcs.arc_reversed[arc] else coords


def _end_piece(
    network: RoadNetwork, point: SnappedPoints, node: int, *, leaving: bool
) -> FloatArray:
    """Return the partial edge between a snapped point and ``node``, in travel order."""
    edge = int(point.edge[0])
    fraction = float(point.fraction[0])
    line = network.edge_geometries()[edge]
    towards_v = node == int(network.edge_v[edge]) and (
        node != int(network.edge_u[edge]) or fraction >= 0.5
    )
    part = (
        substring(line, fraction, 1.0, normalized=True)
        if towards_v
        else substring(line, 0.0, fraction, normalized=True)
    )
    coords = shapely.get_coordinates(part)
    # leaving towards v runs point -> v; leaving towards u runs point -> u (reversed);
    # entering from u runs u -> point; entering from v runs v -> point (reversed)
    if leaving != towards_v:
        coords = coords[::-1]
    return np.asarray(coords, dtype=float)


def _direct_route(
    network: RoadNetwork,
    arcs: ModeGraph,
    start: SnappedPoints,
    end: SnappedPoints,
    *,
    weight: str,
) -> Route:
    """Return the route between two points on the same edge that passes no node."""
    direct = direct_pairs(start, end, network, arcs)
    line = network.edge_geometries()[int(start.edge[0])]
    f_start, f_end = float(start.fraction[0]), float(end.fraction[0])
    part = substring(line, min(f_start, f_end), max(f_start, f_end), normalized=True)
    coords = shapely.get_coordinates(part)
    if f_end < f_start:
        coords = coords[::-1]
    pieces = [
        np.array([[start.x[0], start.y[0]], [start.snapped_x[0], start.snapped_y[0]]]),
        np.asarray(coords, dtype=float),
        np.array([[end.snapped_x[0], end.snapped_y[0]], [end.x[0], end.y[0]]]),
    ]
    return Route(
        mode=arcs.mode.name,
        weight=weight,
        length_m=float(direct.length_m[0]),
        travel_time_s=float(direct.time_s[0]),
        edges=np.zeros(0, dtype=np.int64),
        edges_reversed=np.zeros(0, dtype=bool),
        node_osmids=np.zeros(0, dtype=np.int64),
        geometry=_line(pieces),
        origin_snap_m=float(start.distance_m[0]),
        destination_snap_m=float(end.distance_m[0]),
        ferry_crossings=0,
    )


def _line(pieces: list[FloatArray]) -> LineString:
    """Join coordinate pieces into one LineString, dropping repeated points."""
    coords = np.concatenate([piece.reshape(-1, 2) for piece in pieces])
    keep = np.ones(coords.shape[0], dtype=bool)
    keep[1:] = np.any(np.abs(np.diff(coords, axis=0)) > 1e-9, axis=1)
    coords = coords[keep]
    if coords.shape[0] == 1:
        coords = np.vstack([coords, coords])
    return LineString(coords)
