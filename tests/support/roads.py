"""The bundled road extracts and points placed on the district network, for routing tests."""

from __future__ import annotations

import numpy as np

from gis_service.settings import BUNDLED_DISTRICT_DIR
from routing import BuildOptions, RoadNetwork

DISTRICT_EXTRACT = BUNDLED_DISTRICT_DIR / "roads" / "district3_2018_highways.osm.bz2"
CENTRAL_EXTRACT = BUNDLED_DISTRICT_DIR / "roads" / "hcm_2018_central_highways.osm.bz2"
DISTRICT_OPTIONS = BuildOptions(crs="EPSG:32648")


def lonlat(network: RoadNetwork, lon: float, lat: float) -> np.ndarray:
    """Return the metric x, y of a point given in degrees."""
    x, y = network.lonlat_to_xy([lon], [lat])
    return np.array([x[0], y[0]])


def point_on_edge(
    network: RoadNetwork, edge: int, fraction: float, *, offset_m: float = 0.0
) -> np.ndarray:
    """Return a point at ``fraction`` of a straight edge, ``offset_m`` to its left."""
    start, end = network.edge_coords(edge)[[0, -1]]
    direction = (end - start) / np.hypot(*(end - start))
    left = np.array([-direction[1], direction[0]])
    point: np.ndarray = start + fraction * (end - start) + offset_m * left
    return point


def straight_edge(network: RoadNetwork, name: str, *, oneway: bool) -> int:
    """Return the longest straight (two-point) edge of the street ``name``."""
    names = np.array([network.street_names[i] if i >= 0 else "" for i in network.edge_name])
    straight = np.diff(network.coord_ptr) == 2
    found = np.flatnonzero((names == name) & straight & (network.edge_oneway == oneway))
    if found.size == 0:
        msg = f"no straight edge of {name!r}"
        raise LookupError(msg)
    return int(found[np.argmax(network.edge_length_m[found])])
