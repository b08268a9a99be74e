"""Road-network distances: graphs from OSM, snapping, cost matrices, routes, isochrones.

The engine is pure: it takes and returns arrays, GeoDataFrames and frozen dataclasses;
only :mod:`routing.cache` reads and writes files. Lengths are metres, times seconds,
coordinates metres in the network's projected CRS.

Typical use::

    network = routing.load_network(osm_file, cache_dir=folder, options=BuildOptions(crs=...))
    matrix = routing.cost_matrix(network, "walk", origins=homes_xy, destinations=schools_xy,
                                 cutoff=5_000)
"""

from routing import errors as errors
from routing.cache import load_network
from routing.components import ComponentReport, component_report, node_components
from routing.errors import (
    NetworkDataError,
    RoutingError,
    RoutingInputError,
    SnapDistanceError,
    UnreachableError,
)
from routing.isochrones import isochrones
from routing.matrix import (
    ORIGIN_STATUS,
    ORIGIN_STATUS_TEXT,
    CostMatrix,
    NearestDestinations,
    cost_matrix,
    nearest_destinations,
    one_to_many,
)
from routing.modes import DEFAULT_MODES, MOTORBIKE, WALK, TravelMode
from routing.network import BuildOptions, ModeGraph, RoadNetwork, network_from_osm_graph
from routing.routes import Route, shortest_route
from routing.snapping import MAX_SNAP_DISTANCE_M, SnappedPoints, snap_points

__all__ = [
    "DEFAULT_MODES",
    "MAX_SNAP_DISTANCE_M",
    "MOTORBIKE",
    "ORIGIN_STATUS",
    "ORIGIN_STATUS_TEXT",
    "WALK",
    "BuildOptions",
    "ComponentReport",
    "CostMatrix",
    "ModeGraph",
    "NearestDestinations",
    "NetworkDataError",
    "RoadNetwork",
    "Route",
    "RoutingError",
    "RoutingInputError",
    "SnapDistanceError",
    "SnappedPoints",
    "TravelMode",
    "UnreachableError",
    "component_report",
    "cost_matrix",
    "errors",
    "isochrones",
    "load_network",
    "nearest_destinations",
    "network_from_osm_graph",
    "node_components",
    "one_to_many",
    "shortest_route",
    "snap_points",
]
