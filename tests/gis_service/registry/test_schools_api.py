"""The school registry API on both stores."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.support.http import auth


def test_lists_every_bundled_school_as_geojson(read_only_client: TestClient) -> None:
    response = read_only_client.get("/api/v1/schools")
    assert response.status_code == 200
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert body["numberMatched"] == 27
    assert len(body["features"]) == 27
    names = {f["properties"]["name"] for f in body["features"]}
    assert "Trường Tiểu học Trương Quyền" in names
    assert "Trường THPT Nguyễn Thị Minh Khai" in names
    for feature in body["features"]:
        lon, lat = feature["geometry"]["coordinates"]
        assert 106.66 < lon < 106.70
        assert 10.76 < lat < 10.80


def test_search_ignores_diacritics(read_only_client: TestClient) -> None:
    plain = read_only_client.get("/api/v1/schools", params={"q": "nguyen thai son"}).json()
    accented = read_only_client.get("/api/v1/schools", params={"q": "Nguyễn Thái Sơn"}).json()
    assert [f["id"] for f in plain["features"]] == [f["id"] for f in accented["features"]]
    assert [f["properties"]["name"] for f in plain["features"]] == [
        "Trường tiểu học Nguyễn Thái Sơn"
    ]
    do_luong = read_only_client.get("/api/v1/schools", params={"q": "DO LUONG"}).json()
    assert [f["properties"]["name"] for f in do_luong["features"]] == ["Trường tiểu học Đô Lương"]


def test_filters_by_level_ward_and_bbox(read_only_client: TestClient) -> None:
    primary = read_only_client.get("/api/v1/schools", params={"level": "Tiểu học"}).json()
    assert primary["numberMatched"] == 7
    assert {f["properties"]["level"] for f in primary["features"]} == {"tieu_hoc"}
    ward8 = read_only_client.get("/api/v1/schools", params={"ward": "27121"}).json()
    assert {f["properties"]["ward_code"] for f in ward8["features"]} == {"27121"}
    assert ward8["numberMatched"] == 3
    box = read_only_client.get(
        "/api/v1/schools", params={"bbox": "106.68,10.77,106.69,10.78"}
    ).json()
    for feature in box["features"]:
        lon, lat = feature["geometry"]["coordinates"]
        assert 106.68 <= lon <= 106.69
        assert 10.77 <= lat <= 10.78
    assert box["numberMatched"] == 6


def test_bad_bbox_is_a_problem(read_only_client: TestClient) -> None:
    response = read_only_client.get("/api/v1/schools", params={"bbox": "106.7,10.8"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert "bbox" in response.json()["detail"]


def test_unknown_school_is_404_problem(read_only_client: TestClient) -> None:
    response = read_only_client.get("/api/v1/schools/00000000")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 404


def test_writes_need_an_editor_key(client: TestClient, planner_token: str) -> None:
    body = {"name": "Tiểu học Mới", "lon": 106.686, "lat": 10.781, "level": "tieu_hoc"}
    assert client.post("/api/v1/schools", json=body).status_code == 401
    wrong = client.post("/api/v1/schools", json=body, headers=auth("not-a-token"))
    assert wrong.status_code == 401
    forbidden = client.post("/api/v1/schools", json=body, headers=auth(planner_token))
    assert forbidden.status_code == 403
    assert forbidden.headers["content-type"] == "application/problem+json"
    assert client.get("/api/v1/schools").json()["numberMatched"] == 27


def test_create_update_close_keeps_history(client: TestClient, editor_token: str) -> None:
    body = {
        "name": "Trường Tiểu học Lê Văn Tám",
        "lon": 106.6905,
        "lat": 10.7835,
        "level": "Tiểu học",
        "ownership": "công lập",
        "first_grade_classes": 4,
    }
    created = client.post("/api/v1/schools", json=body, headers=auth(editor_token))
    assert created.status_code == 201, created.text
    school = created.json()
    code = school["id"]
    assert code == "79770028"
    assert school["properties"]["first_grade_seats"] == 4 * 35
    assert school["properties"]["ward_code"] is not None

    patched = client.patch(
        f"/api/v1/schools/{code}",
        json={"first_grade_classes": 5, "class_size_cap": 30},
        headers=auth(editor_token),
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["properties"]["first_grade_seats"] == 150
    closed = client.post(f"/api/v1/schools/{code}/close", headers=auth(editor_token))
    assert closed.json()["properties"]["status"] == "closed"

    history = client.get(f"/api/v1/schools/{code}/history").json()
    assert [h["action"] for h in history] == ["create", "update", "close"]
    assert history[0]["before"] is None
    assert history[1]["before"]["first_grade_classes"] == 4
    assert history[1]["after"]["first_grade_classes"] == 5
    # the public sees the author's role, staff see the key's name
    assert [h["changed_by"] for h in history] == ["registry_editor"] * 3
    staff_view = client.get(f"/api/v1/schools/{code}/history", headers=auth(editor_token))
    assert staff_view.json()[1]["changed_by"] == "test-registry_editor"
    as_of_creation = client.get("/api/v1/schools", params={"as_of": history[0]["changed_at"]})
    states = {f["id"]: f for f in as_of_creation.json()["features"]}
    assert states[code]["properties"]["first_grade_classes"] == 4
    assert states[code]["properties"]["status"] == "open"


def test_bad_write_is_rejected_and_changes_nothing(client: TestClient, editor_token: str) -> None:
    outside = {"name": "Trường Xa", "lon": 106.75, "lat": 10.85, "level": "thcs"}
    response = client.post("/api/v1/schools", json=outside, headers=auth(editor_token))
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/lat"
    assert "outside the district" in response.json()["detail"]
    swapped = {"name": "Trường Đảo", "lon": 10.7835, "lat": 106.6905}
    response = client.post("/api/v1/schools", json=swapped, headers=auth(editor_token))
    assert response.status_code == 422
    assert "swapped" in response.json()["detail"]
    stored = client.get("/api/v1/schools", params={"q": "nguyen thai son"}).json()
    lon, lat = stored["features"][0]["geometry"]["coordinates"]
    duplicate = {"name": "Bản sao", "lon": lon + 0.00002, "lat": lat}  # about 2 m east
    response = client.post("/api/v1/schools", json=duplicate, headers=auth(editor_token))
    assert response.status_code == 422
    assert "stored school" in response.json()["detail"]
    missing = client.post("/api/v1/schools", json={"lon": 106.69}, headers=auth(editor_token))
    assert missing.status_code == 422
    pointers = {e["pointer"] for e in missing.json()["errors"]}
    assert {"/name", "/lat"} <= pointers
    assert client.get("/api/v1/schools").json()["numberMatched"] == 27


def test_district_and_wards(read_only_client: TestClient) -> None:
    district = read_only_client.get("/api/v1/district").json()
    assert district["properties"]["name"] == "Quận 3"
    assert district["properties"]["metric_crs"] == "EPSG:32648"
    assert district["properties"]["road_networks"][0]["file_name"].endswith(".osm.bz2")
    wards = read_only_client.get("/api/v1/wards").json()["features"]
    assert len(wards) == 14
    assert sum(w["properties"]["population"] for w in wards) == 190_375
    assert {w["properties"]["name"] for w in wards} >= {"Phường 1", "Phường 14"}


def test_openapi_docs_load(read_only_client: TestClient) -> None:
    assert read_only_client.get("/docs").status_code == 200
    assert "/api/v1/schools" in read_only_client.get("/openapi.json").json()["paths"]


def test_as_of_now_filters_like_the_live_registry(read_only_client: TestClient) -> None:
    later = "2100-01-01T00:00:00Z"
    for params in [
        {},
        {"level": "thcs"},
        {"ward": "27124"},
        {"q": "truong tieu hoc"},
        {"bbox": "106.675,10.775,106.690,10.790"},
        {"q": "79770003"},
    ]:
        live = read_only_client.get("/api/v1/schools", params=params).json()
        past = read_only_client.get("/api/v1/schools", params={**params, "as_of": later}).json()
        assert [f["id"] for f in past["features"]] == [f["id"] for f in live["features"]], params
        assert past["numberMatched"] == live["numberMatched"]
