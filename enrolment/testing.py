"""Domain assertions for tests: zones partition the district, zonings are consistent.

These raise ``AssertionError`` with a message saying what is wrong and where, like
``geopandas.testing``; they are meant for test suites and benchmarks, not for validating
user input (that is :mod:`enrolment._validate`'s job).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from enrolment.types import UNASSIGNED, Zoning

#: Default tolerance: share of the district's area allowed for numerical slivers.
AREA_TOLERANCE = 1e-6


def assert_zones_partition(
    zones: gpd.GeoDataFrame, boundary: BaseGeometry, *, tolerance: float = AREA_TOLERANCE
) -> None:
    """Assert that the zone polygons cover the district exactly once.

    Parameters
    ----------
    zones
        One polygon per zone (:func:`enrolment.zone_geometry.zone_polygons`).
    boundary
        The district polygon, in the zones' CRS.
    tolerance
        Largest gap, overlap or overhang allowed, as a share of the district's area.

    Raises
    ------
    AssertionError
        If zones overlap, leave part of the district uncovered, or reach outside it.
    """
    area = float(boundary.area)
    assert area > 0, "the district has no area"
    geometries = list(zones.geometry)
    assert all(g is not None and g.is_valid for g in geometries), "a zone geometry is invalid"
    union = shapely.union_all(geometries)
    limit = tolerance * area
    overlap = sum(g.area for g in geometries) - union.area
    assert overlap <= limit, f"zones overlap by {overlap:.3f} m² (limit {limit:.3f} m²)"
    gap = shapely.difference(boundary, union).area
    assert gap <= limit, f"zones leave {gap:.3f} m² of the district uncovered (limit {limit:.3f})"
    overhang = shapely.difference(union, boundary).area
    assert overhang <= limit, f"zones reach {overhang:.3f} m² outside the district"


def assert_points_in_own_zone(
    zones: gpd.GeoDataFrame,
    points: gpd.GeoDataFrame,
    school: np.ndarray,
    *,
    tolerance_m: float = 1e-3,
) -> None:
    """Assert that every demand point lies in the polygon of its own zone.

    Parameters
    ----------
    zones
        Zone polygons with a ``school`` column.
    points
        The demand points the zones were drawn from.
    school
        Zone school of each point.
    tolerance_m
        Distance a point may lie outside its zone (points on a zone's edge), metres.

    Raises
    ------
    AssertionError
        Naming the first point outside its zone.
    """
    shapes = dict(zip(zones["school"].astype(int), zones.geometry, strict=True))
    for index, (zone, point) in enumerate(zip(school, points.geometry, strict=True)):
        shape = shapes.get(int(zone))
        assert shape is not None, f"point {index} is in zone {zone}, which has no polygon"
        gap = shape.distance(point)
        assert gap <= tolerance_m, f"point {index} lies {gap:.3f} m outside zone {zone}"


def assert_zoning_consistent(zoning: Zoning, *, seats_respected: bool = False) -> None:
    """Assert the bookkeeping of a zoning: one zone per point, seats never over-given.

    Parameters
    ----------
    zoning
        The zoning.
    seats_respected
        Also assert that no zone holds more children than its school's seats (true of the
        optimal method whenever total seats suffice and every point reaches a school).

    Raises
    ------
    AssertionError
        If a figure is inconsistent.
    """
    n_points = zoning.school.shape[0]
    for name in ("children", "placed", "distance_m"):
        shape = getattr(zoning, name).shape
        assert shape == (n_points,), f"{name} has shape {shape}, expected ({n_points},)"
    assigned = zoning.assigned
    assert ((zoning.school >= UNASSIGNED) & (zoning.school < zoning.n_schools)).all()
    assert not np.isnan(zoning.distance_m).any(), "a distance is NaN"
    assert np.isinf(zoning.distance_m[~assigned]).all(), "an unassigned point has a distance"
    assert (zoning.placed >= -1e-9).all(), "negative placed children"
    assert (zoning.placed <= zoning.children + 1e-9).all(), "more placed than children"
    assert (zoning.placed[~assigned] == 0).all(), "unassigned points have seats"
    seated = np.bincount(
        zoning.school[assigned], weights=zoning.placed[assigned], minlength=zoning.n_schools
    )
    assert (seated <= zoning.seats + 1e-6).all(), "a school gave out more seats than it has"
    if seats_respected:
        over = zoning.school_children() - zoning.seats
        worst = int(np.argmax(over))
        assert over[worst] <= 1e-6, f"school {worst} has {over[worst]:.3f} children too many"
