"""Admission zones through the service, on both stores: versions, API, eligibility, CLI.

The district's geography and two zonings are computed once per session
(``tests/gis_service/conftest.py``); each test saves what it needs into its own fresh store
(SpatiaLite or PostGIS).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import osmnx as ox
import pandas as pd
import pytest
import shapely
from fastapi.testclient import TestClient
from shapely import LineString, Point
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from enrolment import zone_polygons
from enrolment.testing import (
    assert_points_in_own_zone,
    assert_zones_partition,
    assert_zoning_consistent,
)
from gis_service.app import create_app
from gis_service.cli import app as cli_app
from gis_service.crs import to_wgs84
from gis_service.db import zones_repository
from gis_service.errors import ConflictError, NotFoundError
from gis_service.settings import Settings
from gis_service.startup import open_engine
from gis_service.zones.compute import ZoningOptions, compare_methods, compute_zoning
from tests.support.http import auth, problem
from tests.support.zones import Computed, publish_zones

DISTRICT = "770"
METRIC = "EPSG:32648"
HOME = (10.7800, 106.6850)  # lat, lon of a home in Quận 3
#: A home on a footpath cut off from the road network (its demand point reaches no school).
CUT_OFF_HOME = (10.782625, 106.678938)
CANAL_OSM_ID = ("relation", 6948537)
ROADS = Path(__file__).resolve().parents[3] / "data" / "hcmc-district3" / "roads"


# --- the zones of the bundled district (no store involved) -------------------------------


def test_every_populated_point_belongs_to_exactly_one_zone(computed: Computed) -> None:
    geography = computed.geography
    for result in (computed.optimal, computed.roomy):
        zoning = result.zoning
        assert_zoning_consistent(zoning)
        populated = zoning.children > 0
        assert zoning.assigned[populated].all()
        metric = zone_polygons(
            geography.points,
            zoning.school,
            boundary=geography.boundary,
            wards=geography.wards[["ward_code", "geometry"]],
        )
        assert_zones_partition(metric, geography.boundary)
        assert_points_in_own_zone(metric, geography.points, zoning.school)
        # the zones as stored and served (EPSG:4326, repaired after reprojection)
        district = geography.district_net.district.boundary
        assert_zones_partition(result.zones, district, tolerance=1e-6)
        points = geography.points.set_geometry(to_wgs84(geography.points.geometry))
        assert_points_in_own_zone(result.zones, points, zoning.school, tolerance_m=1e-7)
    # every demand point reaches a school: those beside a footpath the map leaves unjoined
    # to the streets start from the nearest street instead
    assert computed.optimal.statistics.no_route_children == 0
    assert set(geography.unreachable) == {"ok"}


def test_no_school_is_over_capacity_when_seats_suffice(computed: Computed) -> None:
    roomy = computed.roomy
    assert roomy.seats.seats.sum() == 7 * 12 * 35 > roomy.zoning.children.sum()
    assert roomy.zoning.solve is not None
    assert roomy.zoning.solve.rounding == "certified"
    assert (roomy.zoning.school_children() <= roomy.seats.seats + 1e-6).all()
    assert roomy.zoning.shortfall.sum() == pytest.approx(0, abs=1e-9)
    # with the assumed 8 classes (1,960 seats for 2,256 children) the shortfall is the
    # least possible and reported per ward
    short = computed.optimal.statistics_json()
    assert short["figures"]["shortfall_children"] == pytest.approx(2_256.384 - 1_960, abs=0.01)
    assert sum(short["shortfall_by_ward"].values()) == pytest.approx(296.384, abs=0.01)


def _row(table: pd.DataFrame, label: str) -> pd.Series[Any]:
    """The row ``label`` of ``table`` (one row: the labels are unique)."""
    row = table.loc[label]
    assert isinstance(row, pd.Series), row
    return row


def test_methods_side_by_side(computed: Computed) -> None:
    comparison = compare_methods(computed.geography, ZoningOptions())
    assert list(comparison.table.columns) == ["ward", "nearest", "optimal"]
    table = comparison.table
    assert table.loc["not_nearest_children", "nearest"] == 0
    assert _row(table, "children").tolist() == pytest.approx([2_256.384] * 3)
    # seats are short: the optimal zones seat every seat, the others leave some empty
    placed = _row(table, "placed_children")
    assert placed["optimal"] == pytest.approx(1_960)
    assert placed["ward"] < 1_960
    for name in ("mean_distance_m.walk", "p90_duration_s.motorbike", "within_1km_walk_share"):
        assert np.isfinite(table.loc[name]).all()
    payload = comparison.to_json()
    assert set(payload["methods"]) == {"ward", "nearest", "optimal"}
    assert payload["methods"]["optimal"]["solve"]["rounding"] == "certified"
    assert payload["methods"]["optimal"]["solve"]["rounding_gap"] <= 1e-3


def test_inputs_are_fingerprinted(computed: Computed) -> None:
    again = compute_zoning(computed.geography, ZoningOptions())
    assert again.inputs_hash() == computed.optimal.inputs_hash()
    assert computed.roomy.inputs_hash() != computed.optimal.inputs_hash()
    inputs = computed.optimal.inputs()
    assert inputs["census"]["district_children"] == pytest.approx(2_256.384)
    assert inputs["demand_points"] == 694
    assert all(s["seats_assumed"] for s in inputs["schools"])
    assert inputs["seats"]["note"].startswith("ASSUMPTION")


# --- versions in the registry (both stores) -----------------------------------------------


def test_zone_versions_round_trip(session: Session, computed: Computed) -> None:
    draft = computed.optimal.draft(name="trial", actor="planner-1")
    saved = zones_repository.save_zone_version(session, draft)
    assert saved.status == "draft"
    assert saved.inputs_hash == computed.optimal.inputs_hash()
    with pytest.raises(ConflictError, match="trial"):
        zones_repository.save_zone_version(session, draft)
    assert zones_repository.published_zone_version(session, DISTRICT) is None
    by_name = zones_repository.get_zone_version(session, "trial", district_code=DISTRICT)
    assert by_name.id == saved.id
    assert by_name.statistics["figures"]["children"] == pytest.approx(2_256.384)
    published = zones_repository.publish_zone_version(
        session, saved.id, district_code=DISTRICT, actor="head of office"
    )
    assert (published.status, published.published_by) == ("published", "head of office")
    assert published.published_at is not None
    zones = zones_repository.zones_of(session, saved.id)
    assert len(zones) == 7
    assert {z.seats for z in zones} == {280.0}
    points = zones_repository.zone_points_of(session, saved.id)
    assert len(points) == 694
    assert sum(p.children for p in points) == pytest.approx(2_256.384)
    first = points[0]
    found = zones_repository.zone_at(session, saved.id, lon=first.lon, lat=first.lat)
    assert found is not None
    assert found.school_code == first.school_code
    second = zones_repository.save_zone_version(
        session, computed.roomy.draft(name="roomy", actor="planner-1")
    )
    zones_repository.publish_zone_version(session, "roomy", district_code=DISTRICT, actor="x")
    statuses = {v.name: v.status for v in zones_repository.list_zone_versions(session, DISTRICT)}
    assert statuses == {"trial": "superseded", "roomy": "published"}
    current = zones_repository.published_zone_version(session, DISTRICT)
    assert current is not None
    assert current.id == second.id
    with pytest.raises(NotFoundError):
        zones_repository.get_zone_version(session, 9_999, district_code=DISTRICT)
    session.rollback()


# --- the HTTP API (both stores) -------------------------------------------------------------


@pytest.fixture
def zone_client(fast_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(fast_settings)) as client:
        yield client


def test_compute_and_publish_over_http(
    zone_client: TestClient, planner_token: str, editor_token: str
) -> None:
    body = {"method": "optimal", "name": "api-draft", "default_first_grade_classes": 12}
    problem(zone_client.post("/api/v1/zones/compute", json=body), 401)
    editor = auth(editor_token)
    problem(zone_client.post("/api/v1/zones/compute", json=body, headers=editor), 403)
    planner = auth(planner_token)
    problem(zone_client.get("/api/v1/zones"), 404, "no published zones")
    created = zone_client.post("/api/v1/zones/compute", json=body, headers=planner)
    assert created.status_code == 201, created.text
    version = created.json()
    assert (version["name"], version["status"], version["method"]) == (
        "api-draft",
        "draft",
        "optimal",
    )
    assert version["statistics"]["figures"]["shortfall_children"] == 0
    assert version["inputs"]["census"]["age"] == 6
    again = zone_client.post("/api/v1/zones/compute", json=body, headers=planner)
    problem(again, 409, "api-draft")
    bad = zone_client.post("/api/v1/zones/compute", json={"method": "magic"}, headers=planner)
    problem(bad, 422)
    published = zone_client.post("/api/v1/zones/api-draft/publish", headers=planner)
    assert published.status_code == 200, published.text
    assert published.json()["status"] == "published"
    zones = zone_client.get("/api/v1/zones")
    assert zones.status_code == 200
    assert zones.headers["content-type"] == "application/geo+json"
    collection = zones.json()
    assert collection["type"] == "FeatureCollection"
    assert collection["version"]["name"] == "api-draft"
    features = collection["features"]
    assert len(features) == 7
    assert all(f["geometry"]["type"] == "MultiPolygon" for f in features)
    assert all(f["properties"]["first_grade_seats"] == 420 for f in features)
    listed = zone_client.get("/api/v1/zones/versions").json()
    assert [v["name"] for v in listed] == ["api-draft"]
    # where the version's first-graders are estimated to live, each with its zone school
    points = zone_client.get("/api/v1/zones/points", params={"version": "api-draft"})
    assert points.status_code == 200, points.text
    assert points.headers["content-type"] == "application/geo+json"
    spots = points.json()["features"]
    assert len(spots) == 694
    assert all(f["geometry"]["type"] == "Point" for f in spots)
    assert sum(f["properties"]["children"] for f in spots) == pytest.approx(2_256.384, abs=0.01)
    per_school: dict[str, float] = {}
    for spot in spots:
        code = spot["properties"]["school_code"]
        per_school[code] = per_school.get(code, 0.0) + spot["properties"]["children"]
    for zone in features:
        # zones are rounded to hundredths, points to thousandths
        code = zone["properties"]["school_code"]
        assert per_school[code] == pytest.approx(zone["properties"]["children"], abs=0.1)
    assert zone_client.get("/api/v1/zones/points").json()["version"]["name"] == "api-draft"
    problem(zone_client.get("/api/v1/zones/points", params={"version": "nope"}), 404, "nope")


def test_eligibility_names_the_zone_school_and_the_route(
    zoned_read_only_client: TestClient, computed: Computed
) -> None:
    lat, lon = HOME
    response = zoned_read_only_client.get("/api/v1/eligibility", params={"lat": lat, "lon": lon})
    assert response.status_code == 200, response.text
    answer = response.json()
    zones = computed.optimal.zones
    holder = zones[zones.covers(Point(lon, lat))]
    assert len(holder) == 1
    expected = computed.geography.schools[int(holder["school"].iloc[0])]
    school = answer["zone_school"]
    assert (school["code"], school["name"]) == (expected.code, expected.name)
    assert school["distance_m"] > 0
    assert school["duration_s"] == pytest.approx(school["distance_m"] / 1.2, rel=0.05)
    assert school["free_first_grade_seats"] >= 0
    assert school["seats_assumed"] is True
    assert answer["reason"] is None
    route = answer["route"]["coordinates"]
    assert route[0] == pytest.approx([lon, lat], abs=1e-6)
    assert route[-1] == pytest.approx(school["location"]["coordinates"], abs=3e-3)
    others = answer["other_schools"]
    assert len(others) == 6
    assert [o["distance_m"] for o in others] == sorted(o["distance_m"] for o in others)
    assert expected.code not in {o["code"] for o in others}
    assert answer["zone_version"]["name"] == "q3-optimal"
    motorbike = zoned_read_only_client.get(
        "/api/v1/eligibility", params={"lat": lat, "lon": lon, "mode": "motorbike"}
    ).json()
    assert motorbike["zone_school"]["code"] == expected.code
    assert motorbike["zone_school"]["duration_s"] < school["duration_s"]


def test_eligibility_routes_a_home_on_an_unjoined_footpath_from_the_nearest_street(
    zoned_read_only_client: TestClient,
) -> None:
    # the nearest mapped way to this home is a footpath that no way joins to the streets
    lat, lon = CUT_OFF_HOME
    response = zoned_read_only_client.get("/api/v1/eligibility", params={"lat": lat, "lon": lon})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["reason"] is None
    school = answer["zone_school"]
    route = answer["route"]["coordinates"]
    assert route[0] == pytest.approx([lon, lat], abs=1e-6)
    home = _metric_point(Point(lon, lat))
    line = gpd.GeoSeries([LineString(route)], crs="EPSG:4326").to_crs(METRIC).iloc[0]
    # the first leg is the straight walk to the street, longer than to the footpath
    first_leg = home.distance(_metric_point(Point(*route[1])))
    assert answer["origin_snap_m"] == pytest.approx(first_leg, abs=0.05)
    footpath = _footpath_distance(home)
    assert footpath < answer["origin_snap_m"] < 250.0
    assert school["distance_m"] == pytest.approx(line.length, rel=0.01)


def _footpath_distance(home: BaseGeometry) -> float:
    """Metres from a point to the nearest walkable way of the bundled extract."""
    graph = ox.graph_from_xml(ROADS / "district3_2018_highways.osm.bz2")
    edges = ox.graph_to_gdfs(graph, nodes=False).to_crs(METRIC)
    return float(edges.distance(home).min())


def test_eligibility_answers_everywhere_in_the_district(
    zoned_read_only_client: TestClient, computed: Computed
) -> None:
    # a grid over the district and points on its boundary line, for both modes
    district = computed.geography.district_net.district.boundary
    west, south, east, north = district.bounds
    grid = [
        Point(x, y)
        for x in np.linspace(west, east, 14)
        for y in np.linspace(south, north, 14)
        if district.contains(Point(x, y))
    ]
    edge = [district.boundary.interpolate(t, normalized=True) for t in np.linspace(0, 1, 16)]
    assert len(grid) > 65
    for mode, homes in (("walk", grid + edge), ("motorbike", grid[::3] + edge[::4])):
        for home in homes:
            params = {"lat": home.y, "lon": home.x, "mode": mode}
            response = zoned_read_only_client.get("/api/v1/eligibility", params=params)
            assert response.status_code == 200, (params, response.text)
            answer = response.json()
            assert answer["reason"] is None, (params, answer["reason"])
            assert answer["zone_school"]["distance_m"] > 0
            assert answer["origin_snap_m"] < 250.0
            assert answer["route"]["coordinates"][0] == pytest.approx([home.x, home.y], abs=1e-6)


@pytest.fixture(scope="module")
def canal_and_bridges() -> tuple[BaseGeometry, BaseGeometry]:
    """Kênh Nhiêu Lộc - Thị Nghè and the bridges of the district's roads (EPSG:32648)."""
    water = ox.features_from_xml(ROADS / "district3_2018_full.osm.bz2", tags={"natural": "water"})
    canal = water.to_crs(METRIC).loc[CANAL_OSM_ID].geometry
    graph = ox.graph_from_xml(ROADS / "district3_2018_highways.osm.bz2")
    edges = ox.graph_to_gdfs(graph, nodes=False).to_crs(METRIC)
    bridges = edges[edges["bridge"].notna()].union_all()
    return canal, bridges


def test_eligibility_routes_a_home_beyond_the_canal_over_a_bridge(
    zoned_read_only_client: TestClient,
    computed: Computed,
    canal_and_bridges: tuple[BaseGeometry, BaseGeometry],
) -> None:
    # Kênh Nhiêu Lộc - Thị Nghè cuts the district in two; three of its primary schools are
    # on the smaller bank, too few for the larger one, so some homes are zoned across it.
    canal, bridges = canal_and_bridges
    district = computed.optimal.zones.to_crs(METRIC).union_all()
    banks = sorted(shapely.get_parts(district.difference(canal)), key=lambda g: -g.area)[:2]
    schools = computed.geography.schools
    school_bank = [_bank(banks, _metric_point(Point(s.lon, s.lat))) for s in schools]
    assert Counter(school_bank) == {0: 4, 1: 3}
    points = computed.geography.points.to_crs(METRIC)
    school = computed.optimal.zoning.school
    across = [
        i
        for i, point in enumerate(points.geometry)
        if school[i] >= 0 and _bank(banks, point) not in (None, school_bank[school[i]])
    ]
    assert across, "no home is zoned across the canal"
    home = points.geometry.iloc[across[0]]
    lon, lat = gpd.GeoSeries([home], crs=METRIC).to_crs("EPSG:4326").iloc[0].coords[0]
    response = zoned_read_only_client.get("/api/v1/eligibility", params={"lat": lat, "lon": lon})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["reason"] is None
    zone_school = answer["zone_school"]
    assert zone_school["code"] == schools[school[across[0]]].code
    route = (
        gpd.GeoSeries([LineString(answer["route"]["coordinates"])], crs="EPSG:4326")
        .to_crs(METRIC)
        .iloc[0]
    )
    # the route crosses the canal, on bridges only, and the distance is the route's
    over_water = route.intersection(canal)
    assert over_water.length > 0
    assert over_water.difference(bridges.buffer(2.0)).length < 1.0
    assert zone_school["distance_m"] == pytest.approx(route.length, rel=0.01)
    assert zone_school["distance_m"] > home.distance(_metric_point(zone_school["location"]))


def _bank(banks: list[BaseGeometry], point: BaseGeometry) -> int | None:
    """Which bank of the canal a point is on (``None``: on neither, e.g. on the water)."""
    return next((i for i, bank in enumerate(banks) if bank.covers(point)), None)


def _metric_point(point: BaseGeometry | dict[str, Any]) -> BaseGeometry:
    """A point (shapely or GeoJSON, EPSG:4326) in the metric CRS."""
    shape = point if isinstance(point, BaseGeometry) else shapely.geometry.shape(point)
    metric: BaseGeometry = gpd.GeoSeries([shape], crs="EPSG:4326").to_crs(METRIC).iloc[0]
    return metric


@pytest.mark.parametrize(
    ("lat", "lon", "words"),
    [
        (10.7700, 106.7030, ("outside",)),  # Quận 1, near Bến Thành
        (106.685, 10.780, ("swapped",)),
        (91.0, 106.68, ("out of range",)),
    ],
)
def test_eligibility_refuses_points_outside_the_district(
    zoned_read_only_client: TestClient, lat: float, lon: float, words: tuple[str, ...]
) -> None:
    body = problem(
        zoned_read_only_client.get("/api/v1/eligibility", params={"lat": lat, "lon": lon}),
        422,
        *words,
    )
    assert body["errors"][0]["pointer"] == "query:lat"


def test_eligibility_names_why_a_closed_zone_school_is_missing(
    published_client: TestClient, editor_token: str
) -> None:
    lat, lon = HOME
    before = published_client.get("/api/v1/eligibility", params={"lat": lat, "lon": lon}).json()
    code = before["zone_school"]["code"]
    closed = published_client.post(f"/api/v1/schools/{code}/close", headers=auth(editor_token))
    assert closed.status_code == 200, closed.text
    answer = published_client.get("/api/v1/eligibility", params={"lat": lat, "lon": lon}).json()
    assert answer["reason"] == f"the zone school {code} is no longer an open first-grade school"
    assert (answer["zone_school"], answer["route"], answer["origin_snap_m"]) == (None, None, None)
    # the other schools are still listed, nearest first, without the closed one
    assert [o["code"] for o in answer["other_schools"]] == [
        o["code"] for o in before["other_schools"]
    ]


def test_eligibility_needs_published_zones(read_only_client: TestClient) -> None:
    lat, lon = HOME
    problem(
        read_only_client.get("/api/v1/eligibility", params={"lat": lat, "lon": lon}),
        404,
        "no published admission zones",
    )


# --- the command line (both stores) ----------------------------------------------------------


def _cli(settings: Settings, *args: str) -> str:
    options = ["--data-dir", str(settings.data_dir)]
    if settings.database_url is not None:
        options += ["--database-url", settings.database_url]
    result = CliRunner().invoke(cli_app, [*options, *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_zones_compute_compare_publish(fast_settings: Settings, tmp_path: Path) -> None:
    computed_line = _cli(fast_settings, "zones", "compute", "--name", "cli-1", "--by", "tester")
    assert "'cli-1' (optimal, draft)" in computed_line
    assert "ASSUMPTION" in computed_line
    assert "cli-1" in _cli(fast_settings, "zones", "list")
    assert "published zone version" in _cli(fast_settings, "zones", "publish", "cli-1")
    csv_file, json_file = tmp_path / "cmp.csv", tmp_path / "cmp.json"
    table = _cli(
        fast_settings, "zones", "compare", "--csv", str(csv_file), "--json", str(json_file)
    )
    assert table.splitlines()[0].split() == ["figure", "ward", "nearest", "optimal"]
    assert "mean_distance_m.walk" in table
    assert csv_file.read_text().startswith("figure,ward,nearest,optimal")
    saved = json.loads(json_file.read_text())
    assert set(saved["methods"]) == {"ward", "nearest", "optimal"}
    engine = open_engine(fast_settings)
    try:
        with Session(engine) as session:
            current = zones_repository.published_zone_version(session, DISTRICT)
            assert current is not None
            assert (current.name, current.created_by, current.published_by) == (
                "cli-1",
                "tester",
                "cli",
            )
    finally:
        engine.dispose()


def test_zone_polygons_are_in_wgs84(computed: Computed) -> None:
    zones = computed.optimal.zones
    assert zones.crs.to_epsg() == 4326
    west, south, east, north = zones.total_bounds
    assert 106.66 < west < east < 106.71
    assert 10.76 < south < north < 10.80
    assert to_wgs84(zones).equals(zones)


def test_zone_versions_survive_backup_and_restore(
    fast_settings: Settings, computed: Computed, tmp_path: Path, store_kind: str
) -> None:
    from gis_service.db.backup import backup_store, restore_store

    version_id = publish_zones(fast_settings, computed.optimal, name="kept")
    engine = open_engine(fast_settings)
    try:
        suffix = ".sqlite" if store_kind == "spatialite" else ".dump"
        backup_store(engine, tmp_path / f"zones{suffix}")
        with Session(engine) as session:
            zones_repository.save_zone_version(
                session, computed.roomy.draft(name="after the backup", actor="test")
            )
            session.commit()
        engine.dispose()
        restore_store(engine, tmp_path / f"zones{suffix}")
        with Session(engine) as session:
            versions = zones_repository.list_zone_versions(session, DISTRICT)
            assert [(v.id, v.name, v.status) for v in versions] == [
                (version_id, "kept", "published")
            ]
            assert len(zones_repository.zones_of(session, version_id)) == 7
            lat, lon = HOME
            assert zones_repository.zone_at(session, version_id, lon=lon, lat=lat) is not None
    finally:
        engine.dispose()
