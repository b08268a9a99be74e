"""Cohort, seats and demand points on small hand-made inputs."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import LineString, Point, box

from enrolment import (
    InvalidInputError,
    demand_points,
    first_grade_cohort,
    first_grade_seats,
    residential_features,
)
from enrolment.demand import check_demand_points

CRS = "EPSG:32648"


def test_cohort_applies_the_district_share_of_age_six_to_each_ward() -> None:
    groups = [1_000.0, 1_000.0, 1_000.0, 1_000.0, 1_000.0]  # flat: 200 a year
    cohort = first_grade_cohort(
        ["A", "B"], [6_000.0, 4_000.0], district_age_groups=groups, district_population=20_000
    )
    assert cohort.district_children == pytest.approx(200.0)
    assert cohort.share == pytest.approx(0.01)
    assert cohort.children.tolist() == pytest.approx([60.0, 40.0])
    assert cohort.to_frame()["ward_code"].tolist() == ["A", "B"]


def test_cohort_is_not_a_flat_split() -> None:
    # Sprague for age 6 (second year of 5-9): 0.0080, 0.2320, -0.0480, 0.0080
    groups = [500.0, 1_000.0, 1_500.0, 2_000.0, 2_500.0]
    cohort = first_grade_cohort(
        ["A"], [7_500.0], district_age_groups=groups, district_population=7_500
    )
    expected = 0.008 * 500 + 0.232 * 1_000 - 0.048 * 1_500 + 0.008 * 2_000
    assert expected == pytest.approx(180.0)
    assert cohort.district_children == pytest.approx(expected)
    assert cohort.children[0] == pytest.approx(expected)  # the flat split says 200


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"ward_population": [1.0]}, "ward_population"),
        ({"ward_population": [1.0, -1.0]}, "ward_population"),
        ({"ward_population": [10_000.0, 20_000.0]}, "ward_population"),
        ({"district_population": 0.0}, "district_population"),
        ({"age": 40}, "age"),
    ],
)
def test_cohort_refuses_bad_inputs(kwargs: dict[str, object], field: str) -> None:
    arguments: dict[str, object] = {
        "ward_population": [1.0, 2.0],
        "district_age_groups": [1.0] * 5,
        "district_population": 10.0,
    }
    arguments.update(kwargs)
    with pytest.raises(InvalidInputError) as raised:
        first_grade_cohort(["A", "B"], **arguments)  # type: ignore[arg-type]
    assert raised.value.field == field


def test_seats_assume_default_classes_where_unknown() -> None:
    estimate = first_grade_seats([4, None, 0], [35, 30, 35], default_classes=8)
    assert estimate.seats.tolist() == [140, 240, 0]
    assert estimate.assumed.tolist() == [False, True, False]
    assert estimate.any_assumed
    assert estimate.describe().startswith("ASSUMPTION: 1 of 3 schools")
    known = first_grade_seats([2], [35])
    assert not known.any_assumed
    assert "every school" in known.describe()
    with pytest.raises(InvalidInputError):
        first_grade_seats([1], [35, 35])
    with pytest.raises(InvalidInputError):
        first_grade_seats([1], [0])


def wards_frame() -> gpd.GeoDataFrame:
    # two 200 m x 100 m wards side by side
    return gpd.GeoDataFrame(
        {"ward_code": ["W1", "W2"], "children": [30.0, 12.0]},
        geometry=[box(0, 0, 200, 100), box(200, 0, 400, 100)],
        crs=CRS,
    )


def test_children_follow_building_area_when_footprints_cover_the_ward() -> None:
    # W1: two homes of 2,500 and 7,500 m² in two different 100 m cells: 50 % coverage.
    buildings = gpd.GeoSeries([box(10, 10, 60, 60), box(110, 0, 185, 100)], crs=CRS)
    points = demand_points(wards_frame(), buildings=buildings, cell_size_m=100.0)
    w1 = points[points["ward_code"] == "W1"]
    assert w1["source"].tolist() == ["building", "building"]
    assert w1["children"].tolist() == pytest.approx([7.5, 22.5])
    assert w1["point_id"].tolist() == ["W1:0:0", "W1:1:0"]
    assert w1.geometry.iloc[0].within(box(10, 10, 60, 60))
    # W2 has neither buildings nor roads: one point at its representative point
    w2 = points[points["ward_code"] == "W2"]
    assert w2["source"].tolist() == ["ward"]
    assert w2["children"].tolist() == [12.0]
    assert w2["point_id"].tolist() == ["W2:ward"]
    assert w2.geometry.iloc[0].within(box(200, 0, 400, 100))
    check_demand_points(points)


def test_sparse_footprints_give_way_to_roads() -> None:
    # one small house (1 % of W1) would get every child; the street is used instead
    buildings = gpd.GeoSeries([box(10, 10, 30, 20)], crs=CRS)
    roads = gpd.GeoSeries(
        [LineString([(0, 50), (200, 50)]), LineString([(300, 0), (300, 100)])], crs=CRS
    )
    points = demand_points(wards_frame(), buildings=buildings, roads=roads, cell_size_m=100.0)
    assert points["source"].tolist() == ["road"] * 4
    # W1's street is 100 m in each of its two cells; W2's street runs along the edge
    # between its two cells and counts half on each side
    assert points["children"].tolist() == pytest.approx([15.0, 15.0, 6.0, 6.0])
    assert points.geometry.iloc[0].equals(Point(50, 50))
    assert points.groupby("ward_code")["children"].sum().to_dict() == pytest.approx(
        {"W1": 30.0, "W2": 12.0}
    )
    with_buildings = demand_points(
        wards_frame(), buildings=buildings, roads=roads, min_footprint_share=0.0
    )
    assert with_buildings["source"].tolist()[:1] == ["building"]


def test_residential_features_pick_homes_land_use_and_streets() -> None:
    features = gpd.GeoDataFrame(
        {
            "building": ["yes", "yes", "school", None, None, None],
            "amenity": [None, "place_of_worship", None, None, None, None],
            "landuse": [None, None, None, "residential", None, None],
            "highway": [None, None, None, None, "residential", "motorway"],
        },
        geometry=[
            box(0, 0, 1, 1),
            box(2, 2, 3, 3),
            box(4, 4, 5, 5),
            box(0, 0, 9, 9),
            LineString([(0, 0), (1, 1)]),
            LineString([(0, 1), (1, 2)]),
        ],
        crs=CRS,
    )
    homes, landuse, streets = residential_features(features)
    assert len(homes) == 1
    assert homes.iloc[0].equals(box(0, 0, 1, 1))
    assert len(landuse) == 1
    assert len(streets) == 1
    assert streets.crs == features.crs
    bare = residential_features(gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1)], crs=CRS))
    assert [len(s) for s in bare] == [0, 0, 0]


def test_demand_point_contracts() -> None:
    wards = wards_frame()
    with pytest.raises(InvalidInputError, match="metres"):
        demand_points(wards.to_crs("EPSG:4326"))
    with pytest.raises(InvalidInputError, match="children"):
        demand_points(wards.drop(columns="children"))
    with pytest.raises(InvalidInputError, match="EPSG:4326"):
        demand_points(wards, roads=gpd.GeoSeries([LineString([(0, 0), (1, 1)])], crs=4326))
    with pytest.raises(InvalidInputError, match="cell_size_m"):
        demand_points(wards, cell_size_m=0)
    duplicated = pd.concat([wards, wards])
    with pytest.raises(InvalidInputError, match="unique"):
        demand_points(gpd.GeoDataFrame(duplicated, crs=CRS))
    points = demand_points(wards)
    with pytest.raises(InvalidInputError, match="point_id"):
        check_demand_points(points.drop(columns="point_id"))
    with pytest.raises(InvalidInputError, match="non-negative"):
        check_demand_points(points.assign(children=-1.0))
    with pytest.raises(InvalidInputError, match="Point"):
        check_demand_points(points.set_geometry(points.buffer(1)))
    assert np.isclose(points["children"].sum(), 42.0)
