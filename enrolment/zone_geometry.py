"""Zone polygons from demand-point assignments, partitioning the district.

Each demand point gets the part of the district nearer to it than to any other point of
its ward: the Voronoi cells of each ward's points, clipped to the ward (so zones follow
ward boundaries wherever whole wards share a school, as they do in ward-based zoning).
District area outside every ward, and wards without points, take the Voronoi cells of all
points. The cells are then dissolved by zone school. Wards are made disjoint first (each
ward minus the wards before it), so the pieces cover the district exactly once: the zones
partition it (checked by :func:`enrolment.testing.assert_zones_partition`). Points at the
same place share one cell, which goes to the school of the point with most children.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from enrolment import _validate
from enrolment.demand import check_demand_points
from enrolment.errors import InvalidInputError
from enrolment.types import UNASSIGNED

ZONE_COLUMNS = ("school", "school_id", "children", "points")


def _polygonal(geometry: BaseGeometry) -> MultiPolygon:
    """Return the polygon parts of ``geometry`` (dropping slivers of lower dimension)."""
    parts = shapely.get_parts(shapely.get_parts(shapely.make_valid(geometry)))
    return MultiPolygon([p for p in parts if isinstance(p, Polygon) and not p.is_empty])


def _voronoi_cells(xy: npt.NDArray[np.float64], region: BaseGeometry) -> list[BaseGeometry]:
    """Return one Voronoi cell per (distinct) point, in input order, covering ``region``."""
    if xy.shape[0] == 1:
        return [region]
    min_x, min_y, max_x, max_y = region.bounds
    pad = max(max_x - min_x, max_y - min_y, 1.0)
    envelope = shapely.union(
        shapely.box(min_x - pad, min_y - pad, max_x + pad, max_y + pad),
        shapely.MultiPoint(xy).envelope.buffer(pad),
    )
    cells = shapely.voronoi_polygons(shapely.MultiPoint(xy), extend_to=envelope, ordered=True)
    return list(shapely.get_parts(cells))


def _distinct(
    xy: npt.NDArray[np.float64], school: npt.NDArray[np.int64], children: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Collapse points at one place; the place goes to the school of its heaviest point."""
    order = np.lexsort((np.arange(xy.shape[0]), -children))
    unique, first = np.unique(xy[order], axis=0, return_index=True)
    return unique, school[order[first]]


def zone_polygons(
    points: gpd.GeoDataFrame,
    school: npt.ArrayLike,
    *,
    boundary: BaseGeometry,
    wards: gpd.GeoDataFrame | None = None,
    school_ids: Sequence[str] | None = None,
) -> gpd.GeoDataFrame:
    """Dissolve the district into one (Multi)Polygon per zone school.

    Parameters
    ----------
    points
        Demand points (see :func:`enrolment.demand.check_demand_points`).
    school
        ``(n_points,)`` zone school (column index) of each point; -1 for none.
    boundary
        The district, a (Multi)Polygon in the points' CRS.
    wards
        Optional wards (``ward_code`` and a polygon, in the points' CRS); zones then follow
        ward boundaries where they can.
    school_ids
        Codes of the schools, by column index, for the ``school_id`` column.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per school with a zone (and one with ``school = -1`` for the area of points
        that reach no school, whose ``school_id`` is missing): ``school``, ``school_id``,
        ``children``, ``points`` (number of demand points), MultiPolygon geometry in the
        points' CRS; sorted by ``school`` (-1 last).

    Raises
    ------
    InvalidInputError
        If the inputs break their contracts or there is no demand point.
    """
    crs = check_demand_points(points)
    zone_of = np.asarray(school, dtype=np.int64)
    if zone_of.shape != (len(points),):
        msg = f"expected one school per point ({len(points)}), got shape {zone_of.shape}"
        raise InvalidInputError(msg, field="school")
    if len(points) == 0:
        msg = "there are no demand points to draw zones from"
        raise InvalidInputError(msg, field="points")
    if not isinstance(boundary, Polygon | MultiPolygon) or boundary.is_empty:
        msg = "the district boundary must be a non-empty (Multi)Polygon"
        raise InvalidInputError(msg, field="boundary")
    xy = np.column_stack([points.geometry.x.to_numpy(), points.geometry.y.to_numpy()])
    children = points["children"].to_numpy(dtype=np.float64)
    pieces: list[tuple[int, BaseGeometry]] = []
    remaining = shapely.make_valid(boundary)
    if wards is not None:
        _validate.same_crs(crs, wards, field="wards")
        _validate.columns(wards, ("ward_code",), field="wards")
        codes = points["ward_code"].astype(str).to_numpy()
        for code, shape in zip(
            wards["ward_code"].astype(str), wards.geometry.to_numpy(), strict=True
        ):
            region = shapely.intersection(remaining, shapely.make_valid(shape))
            inside = codes == code
            if region.is_empty or region.area <= 0 or not inside.any():
                continue
            remaining = shapely.difference(remaining, region)
            place, owner = _distinct(xy[inside], zone_of[inside], children[inside])
            pieces.extend(
                (int(o), shapely.intersection(cell, region))
                for o, cell in zip(owner, _voronoi_cells(place, region), strict=True)
            )
    if remaining.area > 0:
        place, owner = _distinct(xy, zone_of, children)
        pieces.extend(
            (int(o), shapely.intersection(cell, remaining))
            for o, cell in zip(owner, _voronoi_cells(place, remaining), strict=True)
        )
    rows = []
    for zone in sorted({o for o, _ in pieces}, key=lambda z: (z == UNASSIGNED, z)):
        shape = _polygonal(shapely.union_all([g for o, g in pieces if o == zone]))
        if shape.is_empty:
            continue
        members = zone_of == zone
        rows.append(
            {
                "school": zone,
                "school_id": None
                if school_ids is None or zone == UNASSIGNED
                else str(school_ids[zone]),
                "children": float(children[members].sum()),
                "points": int(members.sum()),
                "geometry": shape,
            }
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)
