"""Zone polygons partition the district; every point lies in its own zone."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely import Point, box

from enrolment import InvalidInputError, zone_polygons
from enrolment.testing import assert_points_in_own_zone, assert_zones_partition

CRS = "EPSG:32648"


def points_frame(xy: list[tuple[float, float]], wards: list[str]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "point_id": [f"p{i}" for i in range(len(xy))],
            "ward_code": wards,
            "children": np.ones(len(xy)),
            "source": "road",
        },
        geometry=[Point(x, y) for x, y in xy],
        crs=CRS,
    )


def test_two_zones_split_a_square_down_the_middle() -> None:
    district = box(0, 0, 200, 100)
    points = points_frame([(50, 50), (150, 50)], ["W", "W"])
    zones = zone_polygons(points, np.array([0, 1]), boundary=district, school_ids=["A", "B"])
    assert zones["school"].tolist() == [0, 1]
    assert zones["school_id"].tolist() == ["A", "B"]
    left = zones.geometry.iloc[0].symmetric_difference(box(0, 0, 100, 100))
    assert left.area == pytest.approx(0, abs=1e-6)
    assert zones.geometry.area.tolist() == pytest.approx([10_000, 10_000])
    assert_zones_partition(zones, district)


def test_zones_follow_ward_boundaries() -> None:
    # Ward W1 is the left half, W2 the right half. The W1 point near the boundary would
    # take part of W2 in a plain Voronoi diagram; clipped by ward it does not.
    district = box(0, 0, 200, 100)
    wards = gpd.GeoDataFrame(
        {"ward_code": ["W1", "W2"]}, geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)], crs=CRS
    )
    points = points_frame([(95, 50), (190, 50), (10, 50)], ["W1", "W2", "W1"])
    zones = zone_polygons(points, np.array([0, 1, 0]), boundary=district, wards=wards)
    assert zones.geometry.area.tolist() == pytest.approx([10_000, 10_000])
    assert_zones_partition(zones, district)
    assert_points_in_own_zone(zones, points, np.array([0, 1, 0]))


def test_area_outside_every_ward_and_unassigned_points_are_covered() -> None:
    district = box(0, 0, 300, 100)
    wards = gpd.GeoDataFrame({"ward_code": ["W1"]}, geometry=[box(0, 0, 100, 100)], crs=CRS)
    points = points_frame([(50, 50), (250, 50), (150, 50)], ["W1", "W2", "W2"])
    school = np.array([0, -1, 1])
    zones = zone_polygons(points, school, boundary=district, wards=wards, school_ids=["A", "B"])
    assert zones["school"].tolist() == [0, 1, -1]
    assert zones["school_id"].isna().tolist() == [False, False, True]
    assert zones["school_id"].iloc[:2].tolist() == ["A", "B"]
    assert zones["children"].tolist() == [1, 1, 1]
    assert_zones_partition(zones, district)
    assert_points_in_own_zone(zones, points, school)


def test_points_at_one_place_share_a_cell() -> None:
    district = box(0, 0, 100, 100)
    points = points_frame([(20, 20), (20, 20), (80, 80)], ["W", "W", "W"])
    points["children"] = [1.0, 5.0, 1.0]
    zones = zone_polygons(points, np.array([0, 1, 1]), boundary=district)
    # the shared place goes to the heavier point's school (1): school 1 covers everything
    assert zones["school"].tolist() == [1]
    assert_zones_partition(zones, district)


def test_random_zonings_partition_the_district() -> None:
    rng = np.random.default_rng(7)
    district = box(0, 0, 1_000, 800).difference(box(400, 300, 600, 500))  # with a hole
    xy = rng.uniform([0, 0], [1_000, 800], size=(60, 2))
    keep = [not (400 < x < 600 and 300 < y < 500) for x, y in xy]
    xy = xy[keep]
    points = points_frame([tuple(p) for p in xy], ["W"] * len(xy))
    school = rng.integers(0, 4, len(xy))
    zones = zone_polygons(points, school, boundary=district)
    assert_zones_partition(zones, district)
    assert_points_in_own_zone(zones, points, school)


def test_partition_assertion_catches_gaps_and_overlaps() -> None:
    district = box(0, 0, 100, 100)
    gap = gpd.GeoDataFrame({"school": [0]}, geometry=[box(0, 0, 90, 100)], crs=CRS)
    with pytest.raises(AssertionError, match="uncovered"):
        assert_zones_partition(gap, district)
    overlap = gpd.GeoDataFrame(
        {"school": [0, 1]}, geometry=[box(0, 0, 60, 100), box(40, 0, 100, 100)], crs=CRS
    )
    with pytest.raises(AssertionError, match="overlap"):
        assert_zones_partition(overlap, district)


def test_bad_inputs() -> None:
    district = box(0, 0, 100, 100)
    points = points_frame([(50, 50)], ["W"])
    with pytest.raises(InvalidInputError, match="school"):
        zone_polygons(points, np.array([0, 1]), boundary=district)
    with pytest.raises(InvalidInputError, match="metres"):
        zone_polygons(points.to_crs("EPSG:4326"), np.array([0]), boundary=district)
    with pytest.raises(InvalidInputError, match="boundary"):
        zone_polygons(points, np.array([0]), boundary=Point(0, 0))
