"""The bundled base layer: the district's own roads and water, light enough for a phone.

No tile server is needed: the base map is drawn from the road network the service routes
on and from OpenStreetMap water features, merged per class, simplified and rounded to
about a metre, then carried in EPSG:4326 as GeoJSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

WGS84 = "EPSG:4326"
#: Decimal places of base-map coordinates (1e-5 degrees is about 1.1 m).
BASEMAP_DECIMALS = 5
#: Douglas-Peucker tolerance of base-map lines and polygons, metres.
SIMPLIFY_M = 2.0
#: Road classes drawn, widest first; every other highway value is a minor road.
ROAD_CLASSES: dict[str, frozenset[str]] = {
    "major": frozenset(
        {"motorway", "trunk", "primary", "secondary", "motorway_link", "trunk_link"}
        | {"primary_link", "secondary_link"}
    ),
    "street": frozenset({"tertiary", "tertiary_link", "residential", "unclassified"}),
}
MINOR_ROAD = "minor"


@dataclass(frozen=True)
class BaseLayer:
    """The base map: one GeoJSON collection of roads (by class) and one of water."""

    roads: dict[str, Any]
    water: dict[str, Any]


def road_class(highway: str) -> str:
    """Return the drawing class of an OSM ``highway`` value."""
    for name, values in ROAD_CLASSES.items():
        if highway in values:
            return name
    return MINOR_ROAD


def _rounded(geometry: BaseGeometry) -> BaseGeometry:
    return shapely.set_precision(geometry, 10.0**-BASEMAP_DECIMALS)


def _collection(geometries: gpd.GeoSeries, names: list[str], key: str) -> dict[str, Any]:
    wgs84 = geometries.to_crs(WGS84)
    features = [
        {"type": "Feature", "properties": {key: name}, "geometry": mapping(_rounded(geometry))}
        for name, geometry in zip(names, wgs84, strict=True)
        if not geometry.is_empty
    ]
    return {"type": "FeatureCollection", "features": features}


def road_layer(edges: gpd.GeoDataFrame) -> dict[str, Any]:
    """Return the roads of a network as one merged, simplified feature per road class.

    Parameters
    ----------
    edges
        Network edges in a metric CRS with a ``highway`` column; an edge and its reverse
        twin may both be present (they draw the same line).

    Returns
    -------
    dict
        A GeoJSON FeatureCollection in EPSG:4326 with a ``class`` property per feature.
    """
    classes = edges["highway"].map(road_class)
    names, merged = [], []
    for name in (*ROAD_CLASSES, MINOR_ROAD):
        lines = edges.geometry[classes == name].to_numpy()
        if len(lines) == 0:
            continue
        union = shapely.line_merge(shapely.union_all(lines))
        names.append(name)
        merged.append(union.simplify(SIMPLIFY_M, preserve_topology=False))
    return _collection(gpd.GeoSeries(merged, crs=edges.crs), names, "class")


def water_layer(water: gpd.GeoSeries, *, clip: BaseGeometry) -> dict[str, Any]:
    """Return water areas and waterway lines clipped to ``clip``, simplified.

    Parameters
    ----------
    water
        Water geometries (polygons and lines) in the same metric CRS as ``clip``.
    clip
        The area to keep, e.g. the district boundary with a margin.
    """
    kept = water[water.intersects(clip)].intersection(clip)
    kinds = np.where(kept.geom_type.str.contains("Polygon"), "area", "line")
    names, merged = [], []
    for kind in ("area", "line"):
        parts = kept[kinds == kind].to_numpy()
        if len(parts) == 0:
            continue
        union = shapely.union_all(parts)
        if kind == "line":
            union = shapely.line_merge(union)
        names.append(kind)
        merged.append(union.simplify(SIMPLIFY_M, preserve_topology=True))
    return _collection(gpd.GeoSeries(merged, crs=water.crs), names, "kind")
