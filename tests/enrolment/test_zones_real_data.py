"""Cohort and demand points of the bundled district (Quận 3, 2019 census, OSM 2018).

The figures are worked out by hand from the bundled files:

* census 2019, Quận 3: 0-4 = 8,806, 5-9 = 11,329, 10-14 = 11,249, 15-19 = 12,195 persons,
  190,375 in all; the Sprague age-6 count is
  0.0080 x 8,806 + 0.2320 x 11,329 - 0.0480 x 11,249 + 0.0080 x 12,195 = 2,256.384;
* Phường 1 (27160) has 13,743 residents: 13,743 x 2,256.384 / 190,375 = 162.886 children.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import osmnx as ox
import pandas as pd
import pytest

from enrolment import demand_points, first_grade_cohort, residential_features
from enrolment.demand import check_demand_points
from gis_service.settings import BUNDLED_DISTRICT_DIR

METRIC = "EPSG:32648"


@pytest.fixture(scope="module")
def census_row() -> pd.Series:
    table = pd.read_csv(
        BUNDLED_DISTRICT_DIR / "population" / "population_by_age5_district_2019.csv.gz"
    )
    rows = table[(table["province"] == "Thành phố Hồ Chí Minh") & (table["district"] == "Quận 3")]
    assert len(rows) == 1
    return rows.iloc[0]


@pytest.fixture(scope="module")
def wards(census_row: pd.Series) -> gpd.GeoDataFrame:
    frame = gpd.read_file(
        f"/vsigzip/{BUNDLED_DISTRICT_DIR / 'wards' / 'district3_wards_2019.geojson.gz'}"
    ).to_crs(METRIC)
    groups = [census_row[f"total_{g}"] for g in ("0_04", "05_09", "10_14", "15_19", "20_24")]
    cohort = first_grade_cohort(
        frame["ward_code"],
        frame["Pop_2019"],
        district_age_groups=groups,
        district_population=float(census_row["total"]),
    )
    return frame.assign(children=cohort.children)[["ward_code", "children", "geometry"]]


@pytest.fixture(scope="module")
def features() -> tuple[gpd.GeoSeries, gpd.GeoSeries, gpd.GeoSeries]:
    osm = ox.features_from_xml(
        BUNDLED_DISTRICT_DIR / "roads" / "district3_2018_full.osm.bz2",
        tags={"building": True, "landuse": True, "highway": True},
    )
    return residential_features(osm.to_crs(METRIC))


def test_census_figures(census_row: pd.Series) -> None:
    assert census_row["total"] == 190_375
    assert [census_row["total_0_04"], census_row["total_05_09"]] == [8_806, 11_329]


def test_first_grade_cohort_of_quan_3(census_row: pd.Series, wards: gpd.GeoDataFrame) -> None:
    groups = [census_row[f"total_{g}"] for g in ("0_04", "05_09", "10_14", "15_19", "20_24")]
    cohort = first_grade_cohort(
        ["all"], [190_375], district_age_groups=groups, district_population=190_375
    )
    assert cohort.district_children == pytest.approx(2_256.384, abs=1e-6)
    assert cohort.share == pytest.approx(2_256.384 / 190_375)
    by_code = dict(zip(wards["ward_code"], wards["children"], strict=True))
    assert len(by_code) == 14
    assert by_code["27160"] == pytest.approx(13_743 * 2_256.384 / 190_375)
    assert by_code["27160"] == pytest.approx(162.886, abs=1e-3)
    assert sum(by_code.values()) == pytest.approx(2_256.384)  # wards hold all 190,375


def test_osm_residential_features(
    features: tuple[gpd.GeoSeries, gpd.GeoSeries, gpd.GeoSeries], wards: gpd.GeoDataFrame
) -> None:
    homes, landuse, streets = features
    # the extract (Quận 3 + 1 km) maps 632 homes, 3 residential estates, 4,068 streets
    assert (len(homes), len(landuse), len(streets)) == (632, 3, 4_068)
    coverage = {
        code: float(homes.intersection(shape).area.sum() / shape.area)
        for code, shape in zip(wards["ward_code"], wards.geometry, strict=True)
    }
    # mapped homes cover at most 4.2 % of a ward (Phường 13), none at all in five wards
    assert max(coverage.values()) == pytest.approx(0.0416, abs=5e-4)
    assert sorted(c for c, v in coverage.items() if v == 0) == [
        "27127",
        "27145",
        "27151",
        "27157",
        "27160",
    ]


def test_demand_points_follow_the_streets(
    features: tuple[gpd.GeoSeries, gpd.GeoSeries, gpd.GeoSeries], wards: gpd.GeoDataFrame
) -> None:
    homes, landuse, streets = features
    points = demand_points(wards, buildings=homes, landuse=landuse, roads=streets)
    check_demand_points(points)
    assert set(points["source"]) == {"road"}  # footprints cover < 25 % of every ward
    assert len(points) == 694
    totals = points.groupby("ward_code")["children"].sum()
    expected = wards.set_index("ward_code")["children"]
    assert totals.sort_index().to_numpy() == pytest.approx(expected.sort_index().to_numpy())
    assert points["children"].sum() == pytest.approx(2_256.384)
    shapes = dict(zip(wards["ward_code"], wards.geometry, strict=True))
    gaps = [
        shapes[c].distance(p) for c, p in zip(points["ward_code"], points.geometry, strict=True)
    ]
    assert max(gaps) < 1e-6
    assert points["point_id"].is_unique
    # no cell holds more than a few children: the zones can be drawn finely
    assert points["children"].max() < 25


def test_demand_points_from_footprints_where_asked(
    features: tuple[gpd.GeoSeries, gpd.GeoSeries, gpd.GeoSeries], wards: gpd.GeoDataFrame
) -> None:
    homes, landuse, streets = features
    points = demand_points(
        wards, buildings=homes, landuse=landuse, roads=streets, min_footprint_share=0.0
    )
    by_source = points.groupby("ward_code")["source"].first().to_dict()
    # Phường 1, 2, 10 have no mapped building; Phường 5's only one is a school (Trường cấp 1
    # Phan Văn Hân, office=educational_institution), Phường 14's a pagoda (Chùa Pháp Hoa)
    assert sorted(c for c, s in by_source.items() if s == "road") == [
        "27127",
        "27145",
        "27151",
        "27157",
        "27160",
    ]
    assert set(by_source.values()) == {"road", "building"}
    assert points.groupby("ward_code")["children"].sum().sum() == pytest.approx(2_256.384)
    assert np.isfinite(points["children"]).all()
