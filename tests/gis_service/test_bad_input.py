"""Bad input answers a 4xx problem+json that says where, never a 5xx, and stores nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from gis_service.settings import MAX_FIRST_GRADE_CLASSES, MAX_FIRST_GRADE_SEATS
from tests.support.admission import round_body
from tests.support.http import auth, problem
from tests.support.stores import create_token

HUGE = str(2**64 + 1)

#: Requests naming an id, offset or version far beyond any stored id (``{}`` is ``HUGE``).
HUGE_NUMBER_REQUESTS = (
    ("GET", "/api/v1/schools?offset={}", 422),
    ("GET", "/api/v1/rounds/{}", 422),
    ("POST", "/api/v1/rounds/{}/close", 422),
    ("GET", "/api/v1/rounds/{}/placement", 422),
    ("GET", "/api/v1/rounds/1/placement/{}", 422),
    ("GET", "/api/v1/rounds/{}/placement/1/inputs", 422),
    ("GET", "/api/v1/rounds/1/placement/{}/explain/x", 422),
    ("POST", "/api/v1/rounds/1/placement/{}/publish", 422),
    ("GET", "/api/v1/audit?round_id={}", 422),
    ("GET", "/api/v1/zones?version={}", 404),
    ("GET", "/api/v1/zones/points?version={}", 404),
    ("POST", "/api/v1/zones/{}/publish", 404),
    ("GET", "/api/v1/scenarios/{}", 404),
    ("GET", "/api/v1/forecasts/inputs/{}", 404),
)


def test_huge_numbers_answer_4xx(client: TestClient, engine: Engine) -> None:
    headers = auth(create_token(engine, "admin"))
    for method, url, status in HUGE_NUMBER_REQUESTS:
        response = client.request(method, url.format(HUGE), headers=headers)
        body = problem(response, status)
        if status == 422:
            assert body["errors"][0]["pointer"].endswith(("offset", "round_id", "run_id"))


def test_ids_out_of_range_answer_422(client: TestClient) -> None:
    for bad in ("0", "-1", str(2**31)):
        body = problem(client.get(f"/api/v1/rounds/{bad}"), 422)
        assert body["errors"][0]["pointer"] == "path:round_id"


def test_classes_and_caps_are_bounded(client: TestClient, engine: Engine) -> None:
    headers = auth(create_token(engine, "registry_editor"))
    school = {"name": "Trường thử", "lon": 106.686, "lat": 10.781}
    for field, value in (
        ("first_grade_classes", 1_000_000_000),
        ("first_grade_classes", MAX_FIRST_GRADE_CLASSES + 1),
        ("class_size_cap", 101),
        ("first_grade_classes", 2**64),
    ):
        response = client.post("/api/v1/schools", json={**school, field: value}, headers=headers)
        body = problem(response, 422)
        assert [e["pointer"] for e in body["errors"]] == [f"/{field}"]
    listed = client.get("/api/v1/schools", params={"q": "Trường thử"}).json()
    assert listed["features"] == []
    officer = auth(create_token(engine, "enrolment_officer"))
    for seats in (MAX_FIRST_GRADE_SEATS + 1, 2**64):
        body = round_body(seats={"79770020": seats})
        response = client.post("/api/v1/rounds", json=body, headers=officer)
        assert [e["pointer"] for e in problem(response, 422)["errors"]] == ["/seats/79770020"]
    assert client.get("/api/v1/rounds").json() == []


def test_unreadable_uploads_name_the_file_not_the_server_folder(
    client: TestClient, engine: Engine
) -> None:
    headers = auth(create_token(engine, "registry_editor"))
    for name, content in (
        ("truong.gpkg", b"not a geopackage"),
        ("truong.csv.gz", b"not gzip"),
        ("truong.geojson", b"{"),
        ("truong.csv", b"\xff\xfe"),
    ):
        response = client.post(
            "/api/v1/schools/import", files={"file": (name, content)}, headers=headers
        )
        body = problem(response, 422, name)
        assert "/" not in body["detail"].replace("/api/v1", ""), body["detail"]
        assert "schoolgis-import" not in response.text
