"""An independent networkx reference: points inserted into the mode graph by splitting arcs.

The engine attaches a snapped point to the end nodes of its edge through computed legs;
the reference instead cuts every arc that runs along the point's edge at the point and
links the point to its off-network position, then runs networkx's Dijkstra.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from typing import Any

import networkx as nx
import numpy as np

from routing import RoadNetwork, SnappedPoints


def graph_with_points(
    network: RoadNetwork, mode: str, points: dict[str, SnappedPoints]
) -> nx.MultiDiGraph:
    """Return the mode graph with a node ``(name, i)`` per snapped point of each set.

    ``(name, i)`` is the point itself; it is joined both ways by its off-network leg to
    ``(name, i, "road")``, the point on the road, which cuts every arc along its edge.
    """
    graph = network.mode_graph(mode)
    arcs = network.mode_graph_arrays(mode)
    speed = arcs.mode.connector_speed_m_s
    on_edge: dict[int, list[tuple[float, Any]]] = defaultdict(list)
    for name, snapped in points.items():
        for i in np.flatnonzero(snapped.ok):
            road = (name, int(i), "road")
            off = float(snapped.distance_m[i])
            graph.add_edge((name, int(i)), road, length_m=off, travel_time_s=off / speed)
            graph.add_edge(road, (name, int(i)), length_m=off, travel_time_s=off / speed)
            on_edge[int(snapped.edge[i])].append((float(snapped.fraction[i]), road))
    osmid = network.node_osmid
    for edge, cuts in on_edge.items():
        twin = int(network.edge_twin[edge])
        for arc in np.flatnonzero(np.isin(arcs.arc_edge, [edge, twin])):
            tail, head = int(osmid[arcs.arc_tail[arc]]), int(osmid[arcs.arc_head[arc]])
            along_edge = arcs.arc_edge[arc] == edge
            forwards = bool(along_edge) != bool(arcs.arc_reversed[arc])
            positions = sorted((f if forwards else 1.0 - f, road) for f, road in cuts)
            length = float(arcs.arc_length_m[arc])
            time = float(arcs.arc_time_s[arc])
            _remove_arc(graph, tail, head, int(arc), arcs)
            chain = [(0.0, tail), *positions, (1.0, head)]
            for (p0, n0), (p1, n1) in itertools.pairwise(chain):
                graph.add_edge(n0, n1, length_m=(p1 - p0) * length, travel_time_s=(p1 - p0) * time)
    return graph


def _remove_arc(graph: nx.MultiDiGraph, tail: int, head: int, arc: int, arcs: Any) -> None:
    edge = int(arcs.arc_edge[arc])
    for key, data in list(graph.get_edge_data(tail, head, default={}).items()):
        if data.get("edge") == edge:
            graph.remove_edge(tail, head, key)
            return
    msg = f"arc {arc} not found"
    raise KeyError(msg)
