"""School file upload and download, and the quality report, over HTTP on both stores."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import geopandas as gpd
from fastapi.testclient import TestClient
from pyproj import CRS
from shapely.geometry import shape

from gis_service.crs import WGS84, to_metric
from tests.support.http import auth

CODE = "79770020"  # Trường Tiểu học Trương Quyền


def _csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _upload(
    client: TestClient,
    name: str,
    content: bytes,
    *,
    token: str | None = None,
    dry_run: bool = False,
) -> Any:
    return client.post(
        "/api/v1/schools/import",
        params={"dry_run": "true"} if dry_run else None,
        files={"file": (name, content, "application/octet-stream")},
        headers=auth(token) if token else None,
    )


def _count(client: TestClient) -> int:
    count: int = client.get("/api/v1/schools").json()["numberMatched"]
    return count


def _free_points(client: TestClient, count: int) -> list[tuple[float, float]]:
    """Ward representative points more than 50 m from every school and from each other."""
    metric = client.get("/api/v1/district").json()["properties"]["metric_crs"]
    schools = client.get("/api/v1/schools").json()["features"]
    taken = list(
        to_metric(gpd.GeoSeries([shape(f["geometry"]) for f in schools], crs=WGS84), CRS(metric))
    )
    free: list[tuple[float, float]] = []
    for ward in client.get("/api/v1/wards").json()["features"]:
        point = shape(ward["geometry"]).representative_point()
        point_m = to_metric(gpd.GeoSeries([point], crs=WGS84), CRS(metric)).iloc[0]
        if all(point_m.distance(other) > 50 for other in taken):
            free.append((point.x, point.y))
            taken.append(point_m)
    assert len(free) >= count
    return free[:count]


def _good_csv(client: TestClient) -> bytes:
    school = client.get(f"/api/v1/schools/{CODE}").json()
    lon, lat = school["geometry"]["coordinates"]
    free_lon, free_lat = _free_points(client, 1)[0]
    return _csv(
        [
            ["Mã trường", "Tên trường", "Kinh độ", "Vĩ độ", "Số lớp 1", "Ngày xác minh"],
            [CODE, school["properties"]["name"], repr(lon), repr(lat), "4", "2026-02-01"],
            ["", "Trường Tiểu học Mới", repr(free_lon), repr(free_lat), "2", ""],
        ]
    )


def test_upload_needs_an_editor_key(client: TestClient, planner_token: str) -> None:
    content = _good_csv(client)
    anonymous = _upload(client, "schools.csv", content)
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    assert _upload(client, "schools.csv", content, token="not-a-token").status_code == 401
    assert _upload(client, "schools.csv", content, token=planner_token).status_code == 403
    assert _count(client) == 27


def test_good_upload_creates_and_updates(client: TestClient, editor_token: str) -> None:
    response = _upload(client, "truong.csv", _good_csv(client), token=editor_token)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["file"] == "truong.csv"
    assert (report["created"], report["updated"], report["unchanged"]) == (1, 1, 0)
    assert report["written"] is True
    assert report["rejected"] == []
    assert _count(client) == 28
    school = client.get(f"/api/v1/schools/{CODE}").json()["properties"]
    assert (school["first_grade_classes"], school["first_grade_seats"]) == (4, 140)
    assert school["last_verified"] == "2026-02-01"
    history = client.get(f"/api/v1/schools/{CODE}/history").json()
    assert [h["action"] for h in history] == ["load", "import"]
    assert [h["changed_by"] for h in history] == ["staff", "registry_editor"]
    staff_view = client.get(f"/api/v1/schools/{CODE}/history", headers=auth(editor_token))
    assert staff_view.json()[-1]["changed_by"] == "test-registry_editor"
    new = client.get("/api/v1/schools/79770028").json()["properties"]
    assert new["name"] == "Trường Tiểu học Mới"


def test_dry_run_upload_writes_nothing(client: TestClient, editor_token: str) -> None:
    response = _upload(client, "truong.csv", _good_csv(client), token=editor_token, dry_run=True)
    assert response.status_code == 200
    report = response.json()
    assert (report["created"], report["updated"], report["written"], report["dry_run"]) == (
        1,
        1,
        False,
        True,
    )
    assert _count(client) == 27
    assert len(client.get(f"/api/v1/schools/{CODE}/history").json()) == 1


def test_rejected_upload_is_a_422_problem_with_the_report(
    client: TestClient, editor_token: str
) -> None:
    a, b, c, d = _free_points(client, 4)
    content = _csv(
        [
            ["code", "name", "lon", "lat", "level", "class_size_cap"],
            ["", "Trường Tốt", repr(a[0]), repr(a[1]), "tieu_hoc", ""],
            ["", "", repr(b[0]), repr(b[1]), "", ""],
            ["", "Trường Đảo", repr(c[1]), repr(c[0]), "", ""],
            ["", "Trường Lạ", repr(d[0]), repr(d[1]), "trường dạy nghề", "-5"],
        ]
    )
    response = _upload(client, "bad.csv", content, token=editor_token)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 422
    assert body["detail"] == "3 of 4 rows rejected; nothing was written"
    assert body["instance"] == "/api/v1/schools/import"
    assert [e["pointer"] for e in body["errors"]] == [
        "row 2, column name",
        "row 3, column lat",
        "row 4, column class_size_cap",
        "row 4, column level",
    ]
    assert all(e["detail"] for e in body["errors"])
    report = body["report"]
    assert report["rejected_rows"] == [2, 3, 4]
    assert [p["reason"] for p in report["rejected"]] == [
        "missing_name",
        "latlon_swapped",
        "negative_capacity",
        "unknown_level",
    ]
    assert (report["accepted"], report["written"]) == (1, False)
    assert _count(client) == 27


def test_unsupported_upload_is_a_problem(client: TestClient, editor_token: str) -> None:
    response = _upload(client, "schools.xlsx", b"PK\x03\x04", token=editor_token)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert "unsupported school file type" in response.json()["detail"]


def test_export_formats_and_round_trip(client: TestClient, editor_token: str) -> None:
    as_csv = client.get("/api/v1/schools/export", params={"format": "csv"})
    assert as_csv.status_code == 200
    assert as_csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="schools-770.csv"' in as_csv.headers["content-disposition"]
    assert as_csv.content.startswith(b"\xef\xbb\xbfcode,name,lon,lat,")
    assert len(as_csv.content.decode("utf-8-sig").splitlines()) == 28

    as_geojson = client.get("/api/v1/schools/export", params={"format": "geojson"})
    assert as_geojson.status_code == 200
    assert as_geojson.headers["content-type"] == "application/geo+json"
    features = json.loads(as_geojson.content)["features"]
    assert len(features) == 27
    assert {f["geometry"]["type"] for f in features} == {"Point"}

    as_gpkg = client.get("/api/v1/schools/export", params={"format": "gpkg"})
    assert as_gpkg.status_code == 200
    assert as_gpkg.content.startswith(b"SQLite format 3\x00")

    for name, export in (
        ("schools-770.csv", as_csv),
        ("schools-770.geojson", as_geojson),
        ("schools-770.gpkg", as_gpkg),
    ):
        response = _upload(client, name, export.content, token=editor_token)
        assert response.status_code == 200, response.text
        report = response.json()
        assert (report["created"], report["updated"], report["unchanged"]) == (0, 0, 27), name
    assert len(client.get(f"/api/v1/schools/{CODE}/history").json()) == 1


def test_export_of_an_unknown_format_is_a_problem(client: TestClient) -> None:
    response = client.get("/api/v1/schools/export", params={"format": "xlsx"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def test_quality_report(client: TestClient, editor_token: str) -> None:
    response = client.get("/api/v1/quality")
    assert response.status_code == 200
    body = response.json()
    assert body["district_code"] == "770"
    assert body["schools"] == 27
    assert body["completeness"]["first_grade_classes"] == {"filled": 0, "share": 0.0}
    assert body["completeness"]["ward_code"] == {"filled": 27, "share": 1.0}
    assert body["level_inferred"]["count"] == 21
    assert body["default_class_size_cap"]["count"] == 27
    assert body["outside_wards"] == {"count": 0, "codes": []}
    assert body["stale"]["count"] == 27

    _upload(client, "truong.csv", _good_csv(client), token=editor_token)
    after = client.get("/api/v1/quality", params={"stale_after_days": 36_500}).json()
    assert after["schools"] == 28
    assert after["completeness"]["first_grade_classes"]["filled"] == 2
    assert after["stale"]["count"] == 27  # only Trương Quyền has been verified
    assert CODE not in after["stale"]["codes"]
