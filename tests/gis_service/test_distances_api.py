"""The routing endpoints on both stores: GeoJSON answers and problem+json for bad points."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.support.http import problem

HOME = "10.7800,106.6850"  # lat,lon of a home in Quận 3
SCHOOL = "79770001"


@pytest.fixture
def client(read_only_client: TestClient) -> TestClient:
    """The app on a store these tests share (they only read); its network cache is built."""
    return read_only_client


def test_route_is_a_geojson_line_along_the_roads(client: TestClient) -> None:
    response = client.get("/api/v1/route", params={"from": HOME, "to": SCHOOL, "mode": "walk"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/geo+json"
    feature = response.json()
    assert feature["type"] == "Feature"
    assert feature["geometry"]["type"] == "LineString"
    coords = feature["geometry"]["coordinates"]
    assert len(coords) >= 3
    assert coords[0] == pytest.approx([106.6850, 10.7800], abs=1e-6)
    assert all(106.6 < lon < 106.8 and 10.7 < lat < 10.9 for lon, lat in coords)
    props = feature["properties"]
    assert props["school_code"] == SCHOOL
    assert props["distance_m"] > 0
    assert props["duration_s"] == pytest.approx(props["distance_m"] / 1.2, rel=0.05)
    motorbike = client.get(
        "/api/v1/route", params={"from": HOME, "to": SCHOOL, "mode": "motorbike"}
    ).json()["properties"]
    assert motorbike["duration_s"] < props["duration_s"]


def test_nearest_schools_are_ordered_by_network_distance(client: TestClient) -> None:
    response = client.get(
        "/api/v1/schools/nearest", params={"lat": 10.78, "lon": 106.685, "mode": "walk", "k": 4}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/geo+json"
    body = response.json()
    assert body["type"] == "FeatureCollection"
    features = body["features"]
    assert [f["properties"]["rank"] for f in features] == [1, 2, 3, 4]
    distances = [f["properties"]["distance_m"] for f in features]
    assert distances == sorted(distances)
    assert all(f["geometry"]["type"] == "Point" for f in features)
    assert all(f["properties"]["duration_s"] > 0 for f in features)
    primary = client.get(
        "/api/v1/schools/nearest",
        params={"lat": 10.78, "lon": 106.685, "mode": "motorbike", "k": 50, "level": "Tiểu học"},
    ).json()["features"]
    assert {f["properties"]["level"] for f in primary} == {"tieu_hoc"}
    assert len(primary) == 7


def test_isochrones_of_a_school_are_geojson_polygons(client: TestClient) -> None:
    response = client.get(f"/api/v1/isochrones/{SCHOOL}", params={"minutes": [5, 10]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert [f["properties"]["minutes"] for f in body["features"]] == [5, 10]
    for feature in body["features"]:
        assert feature["geometry"]["type"] in {"Polygon", "MultiPolygon"}
        ring = feature["geometry"]["coordinates"][0]
        ring = ring[0] if feature["geometry"]["type"] == "MultiPolygon" else ring
        assert ring[0] == ring[-1]
        lon, lat = ring[0]
        assert 106.6 < lon < 106.8
        assert 10.7 < lat < 10.9
    metres = client.get(f"/api/v1/isochrones/{SCHOOL}", params={"metres": 800, "mode": "motorbike"})
    assert metres.json()["features"][0]["properties"]["metres"] == 800
    problem(client.get(f"/api/v1/isochrones/{SCHOOL}", params={"minutes": 500}), 422, "minutes")


@pytest.mark.parametrize(
    ("origin", "words"),
    [
        ("95.0,106.68", ("out of range",)),
        ("10.7700,106.7030", ("outside Quận 3",)),  # Quận 1, near Bến Thành
        ("106.685,10.780", ("swapped", "latitude first")),
        ("ten,106.68", ("'lat,lon'",)),
    ],
)
def test_bad_coordinates_are_problems(
    client: TestClient, origin: str, words: tuple[str, ...]
) -> None:
    body = problem(client.get("/api/v1/route", params={"from": origin, "to": SCHOOL}), 422, *words)
    assert body["errors"] == [{"pointer": "query:from", "detail": body["detail"]}]


@pytest.mark.parametrize(
    ("lat", "lon", "words"),
    [
        ("-91", "106.68", ("out of range",)),
        ("10.77", "106.703", ("outside",)),
        ("106.685", "10.78", ("swapped",)),
        ("x", "106.68", ("query:lat",)),
    ],
)
def test_bad_nearest_points_are_problems(
    client: TestClient, lat: str, lon: str, words: tuple[str, ...]
) -> None:
    problem(client.get("/api/v1/schools/nearest", params={"lat": lat, "lon": lon}), 422, *words)


def test_unknown_schools_and_modes(client: TestClient) -> None:
    problem(client.get("/api/v1/route", params={"from": HOME, "to": "nope"}), 404, "nope")
    problem(client.get("/api/v1/isochrones/nope"), 404, "nope")
    problem(client.get("/api/v1/route", params={"from": HOME, "to": SCHOOL, "mode": "car"}), 422)
    # /schools/nearest is not taken for a school code
    assert client.get("/api/v1/schools/nearest").status_code == 422
    assert client.get(f"/api/v1/schools/{SCHOOL}").status_code == 200
