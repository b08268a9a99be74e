"""Scenarios and site suggestion through the API, on both stores."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import Engine, text

from gis_service.app import create_app
from gis_service.planning.schemas import (
    EvaluationAnswer,
    ScenarioComparison,
    SiteSuggestionAnswer,
)
from gis_service.settings import Settings
from tests.support.http import auth, json_object

SCENARIOS = "/api/v1/scenarios"
#: The registry's tables: a scenario must never change a row of them.
REGISTRY_TABLES = ("district", "ward", "school", "school_enrolment", "school_history")
#: A street corner in Phường 9, Quận 3 (EPSG:4326), far from every primary school.
NEW_LON, NEW_LAT = 106.6798475, 10.7807537
NEW_SCHOOL = {
    "kind": "add_school",
    "code": "NEW-1",
    "name": "Trường tiểu học dự kiến Phường 9",
    "lon": NEW_LON,
    "lat": NEW_LAT,
    "first_grade_classes": 8,
}
#: A housing development alone: no child of the baseline's demand points changes zone school.
DEVELOPMENT = {
    "kind": "add_development",
    "name": "khu-can-ho-A",
    "lon": 106.6850,
    "lat": 10.7800,
    "dwellings": 2000,
    "completion_year": 2029,
    "children_per_dwelling_per_cohort": 0.02,
}


def _registry(engine: Engine) -> dict[str, list[Any]]:
    with engine.connect() as conn:
        return {
            table: [tuple(row) for row in conn.execute(text(f"SELECT * FROM {table} ORDER BY 1"))]
            for table in REGISTRY_TABLES
        }


@pytest.fixture
def planning_client(fast_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(fast_settings)) as client:
        yield client


def _first_school(client: TestClient) -> str:
    schools = client.get("/api/v1/schools", params={"level": "tieu_hoc", "limit": 200}).json()
    codes: list[str] = sorted(s["properties"]["code"] for s in schools["features"])
    return codes[0]


def test_scenarios_are_for_planners_only(
    planning_client: TestClient, editor_token: str, planner_token: str
) -> None:
    for method, path in (
        ("GET", SCENARIOS),
        ("POST", SCENARIOS),
        ("GET", f"{SCENARIOS}/compare?ids=1"),
        ("POST", f"{SCENARIOS}/1/evaluate"),
        ("POST", "/api/v1/sites/suggest"),
    ):
        anonymous = planning_client.request(method, path, json={"name": "x"})
        assert anonymous.status_code == 401, (method, path, anonymous.text)
        editor = planning_client.request(
            method, path, json={"name": "x"}, headers=auth(editor_token)
        )
        assert editor.status_code == 403, (method, path, editor.text)
    assert planning_client.get(SCENARIOS, headers=auth(planner_token)).json() == []


def test_a_scenario_lives_its_life_without_touching_the_registry(
    planning_client: TestClient, planner_token: str, engine: Engine
) -> None:
    planner = auth(planner_token)
    before = _registry(engine)
    closed_code = _first_school(planning_client)
    created = planning_client.post(
        SCENARIOS,
        json={"name": "thêm trường P9", "description": "một trường mới", "changes": [NEW_SCHOOL]},
        headers=planner,
    )
    assert created.status_code == 201, created.text
    added = created.json()
    assert (added["revision"], added["evaluated_revision"]) == (1, None)
    closing = planning_client.post(
        SCENARIOS,
        json={
            "name": "đóng trường",
            "changes": [{"kind": "close_school", "school_code": closed_code}],
        },
        headers=planner,
    ).json()
    again = planning_client.post(SCENARIOS, json={"name": "thêm trường P9"}, headers=planner)
    assert again.status_code == 409, again.text

    evaluated = planning_client.post(f"{SCENARIOS}/{added['id']}/evaluate", headers=planner)
    assert evaluated.status_code == 200, evaluated.text
    document = evaluated.json()
    assert document["revision"] == 1
    assert document["seconds"]["total"] < 3.0
    assert [s["code"] for s in document["schools"] if s["status"] == "planned"] == ["NEW-1"]
    assert (
        planning_client.get(f"{SCENARIOS}/{added['id']}", headers=planner).json()[
            "evaluated_revision"
        ]
        == 1
    )

    compared = planning_client.get(
        f"{SCENARIOS}/compare", params={"ids": f"{added['id']},đóng trường"}, headers=planner
    )
    body = json_object(compared)
    base = body["baseline"]
    adding, closed = body["scenarios"]
    assert adding["change"]["mean_distance_m.walk"] < 0
    assert adding["figures"]["mean_distance_m.walk"] < base["figures"]["mean_distance_m.walk"]
    assert closed["change"]["mean_distance_m.walk"] > 0
    assert {f["properties"]["from_school"] for f in closed["moved"]["features"]} == {closed_code}
    assert closed["moved_points"] == len(closed["moved"]["features"]) > 0
    assert len(closed["forecast"]) == len(base["forecast"]) == 10

    edited = planning_client.put(
        f"{SCENARIOS}/{added['id']}",
        json={"name": "thêm trường P9", "changes": [{**NEW_SCHOOL, "first_grade_classes": 4}]},
        headers=planner,
    )
    assert edited.status_code == 200, edited.text
    assert (edited.json()["revision"], edited.json()["evaluated_revision"]) == (2, 1)
    fresh = planning_client.get(
        f"{SCENARIOS}/compare", params={"ids": added["id"]}, headers=planner
    ).json()["scenarios"][0]
    assert next(s for s in fresh["schools"] if s["code"] == "NEW-1")["seats"] == 4 * 35

    copied = planning_client.post(
        f"{SCENARIOS}/{closing['id']}/copy", json={"name": "đóng trường (bản sao)"}, headers=planner
    )
    assert copied.status_code == 201, copied.text
    assert copied.json()["copied_from_id"] == closing["id"]
    assert copied.json()["changes"] == closing["changes"]
    deleted = planning_client.delete(f"{SCENARIOS}/{closing['id']}", headers=planner)
    assert deleted.status_code == 200, deleted.text
    gone = planning_client.get(f"{SCENARIOS}/{closing['id']}", headers=planner)
    assert gone.status_code == 404
    names = [s["name"] for s in planning_client.get(SCENARIOS, headers=planner).json()]
    assert sorted(names) == ["thêm trường P9", "đóng trường (bản sao)"]
    assert _registry(engine) == before


@pytest.mark.parametrize(
    ("changes", "pointer"),
    [
        ([{"kind": "close_school", "school_code": "79770999"}], "/changes/0/school_code"),
        ([NEW_SCHOOL, {**NEW_SCHOOL, "name": "again"}], "/changes/1/code"),
        ([{**NEW_SCHOOL, "lat": 10.95}], "/changes/0"),
        ([{"kind": "demolish", "school_code": "x"}], "/changes/0"),
    ],
)
def test_a_bad_change_is_refused_at_its_pointer_and_nothing_is_saved(
    planning_client: TestClient, planner_token: str, changes: list[Any], pointer: str
) -> None:
    planner = auth(planner_token)
    response = planning_client.post(
        SCENARIOS, json={"name": "sai", "changes": changes}, headers=planner
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["pointer"].startswith(pointer), response.json()
    assert planning_client.get(SCENARIOS, headers=planner).json() == []


def test_suggested_sites_become_a_scenario(planning_client: TestClient, planner_token: str) -> None:
    planner = auth(planner_token)
    response = planning_client.post(
        "/api/v1/sites/suggest",
        json={"new_schools": 1, "grid_candidates": 60, "scenario_name": "một trường gợi ý"},
        headers=planner,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "optimal"
    assert body["gap"] <= 1e-3
    assert len(body["sites"]) == 1
    # 280 more seats: fewer children without one (the seated walk a little farther on average)
    assert body["objective"] < body["baseline_objective"]
    assert body["gain"] == pytest.approx(body["baseline_objective"] - body["objective"], abs=1e-2)
    assert body["after"]["unserved_children"] < body["before"]["unserved_children"] - 200
    changes = body["scenario"]["changes"]
    assert [(c["kind"], c["lon"], c["lat"]) for c in changes] == [
        ("add_school", body["sites"][0]["lon"], body["sites"][0]["lat"])
    ]
    bad = planning_client.post(
        "/api/v1/sites/suggest",
        json={
            "new_schools": 1,
            "candidates": [{"geometry": {"type": "Point", "coordinates": [105.0, 21.0]}}],
        },
        headers=planner,
    )
    assert bad.status_code == 422, bad.text
    assert bad.json()["errors"][0]["pointer"] == "/candidates/0/geometry"
    assert [s["name"] for s in planning_client.get(SCENARIOS, headers=planner).json()] == [
        "một trường gợi ý"
    ]


def test_planner_candidates_with_a_budget(planning_client: TestClient, planner_token: str) -> None:
    lon, lat = NEW_LON, NEW_LAT
    plot = [[lon - 4e-4, lat - 4e-4], [lon + 4e-4, lat - 4e-4], [lon + 4e-4, lat + 4e-4]]
    candidates = [
        {"name": "lô đất P9", "geometry": {"type": "Polygon", "coordinates": [[*plot, plot[0]]]}},
        {"name": "góc phố", "geometry": {"type": "Point", "coordinates": [106.6880, 10.7760]}},
    ]
    body = {"new_schools": 1, "candidates": candidates}
    planner = auth(planner_token)
    free = planning_client.post("/api/v1/sites/suggest", json=body, headers=planner)
    assert free.status_code == 200, free.text
    assert free.json()["candidates"] == 2
    unpriced = planning_client.post(
        "/api/v1/sites/suggest", json={**body, "budget": 20.0}, headers=planner
    )
    assert unpriced.status_code == 422, unpriced.text
    assert "opening_cost" in unpriced.json()["detail"]
    for cheap, expected in ((0, "lô đất P9"), (1, "góc phố")):
        priced = [
            {**c, "opening_cost": 10.0 if i == cheap else 50.0} for i, c in enumerate(candidates)
        ]
        response = planning_client.post(
            "/api/v1/sites/suggest",
            json={**body, "candidates": priced, "budget": 20.0},
            headers=planner,
        )
        assert response.status_code == 200, response.text
        answer = response.json()
        assert [s["name"] for s in answer["sites"]] == [expected]
        assert answer["status"] == "optimal"
    chosen = answer["sites"][0]
    assert (chosen["lon"], chosen["lat"]) == (106.688, 10.776)


def _answer_schema(openapi: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    response = openapi["paths"][f"/api/v1{path}"][method]["responses"]["200"]
    schema: dict[str, Any] = response["content"]["application/json"]["schema"]
    return schema


def test_the_openapi_document_shows_the_planning_answers(tmp_path: Path) -> None:
    openapi = TestClient(create_app(Settings(data_dir=tmp_path))).get("/openapi.json").json()
    schemas = openapi["components"]["schemas"]
    for method, path, name in (
        ("post", "/scenarios/{scenario}/evaluate", "EvaluationAnswer"),
        ("get", "/scenarios/compare", "ScenarioComparison"),
        ("post", "/sites/suggest", "SuggestedSites"),
    ):
        assert _answer_schema(openapi, method, path) == {"$ref": f"#/components/schemas/{name}"}
    evaluation = schemas["EvaluationAnswer"]
    assert list(evaluation["properties"]) == [
        *("scenario_id", "revision", "computed_at", "computed_by"),
        *("scenario", "context_hash", "zoning", "schools", "forecast", "points", "seconds"),
    ]
    assert set(evaluation["required"]) == set(evaluation["properties"])
    year = schemas["YearGap"]["properties"]
    assert year["entrants"] == {"$ref": "#/components/schemas/VariantValues"}
    assert schemas["SchoolOutcome"]["properties"]["status"]["enum"] == [
        "registry",
        "changed",
        "planned",
    ]
    comparison = schemas["ScenarioComparison"]
    assert list(comparison["properties"]) == [
        "district_code",
        "first_year",
        "baseline",
        "scenarios",
    ]
    moved = schemas["ComparedScenario"]["properties"]["moved"]
    assert moved == {"$ref": "#/components/schemas/MovedLayer"}
    suggested = schemas["SuggestedSites"]
    assert "sites" in suggested["required"]
    assert "scenario" in suggested["properties"]
    assert "scenario" not in suggested["required"]


def _matches(model: type[BaseModel], body: bytes) -> BaseModel:
    """Validate an answer with its model, which must give back the very same bytes."""
    answer = model.model_validate_json(body)
    assert answer.model_dump_json().encode() == body
    return answer


def test_the_answers_are_their_models_byte_for_byte(
    planning_client: TestClient, planner_token: str
) -> None:
    planner = auth(planner_token)
    for name, changes in (("thêm trường", [NEW_SCHOOL]), ("khu nhà ở", [DEVELOPMENT])):
        created = planning_client.post(
            SCENARIOS, json={"name": name, "changes": changes}, headers=planner
        )
        assert created.status_code == 201, created.text
    evaluated = planning_client.post(f"{SCENARIOS}/thêm trường/evaluate", headers=planner)
    assert evaluated.status_code == 200, evaluated.text
    evaluation = _matches(EvaluationAnswer, evaluated.content)
    assert isinstance(evaluation, EvaluationAnswer)
    assert list(evaluated.json())[:5] == [
        *("scenario_id", "revision", "computed_at", "computed_by", "scenario")
    ]
    assert evaluation.computed_at.utcoffset() is not None

    compared = planning_client.get(
        f"{SCENARIOS}/compare", params={"ids": "thêm trường,khu nhà ở"}, headers=planner
    )
    assert compared.status_code == 200, compared.text
    comparison = _matches(ScenarioComparison, compared.content)
    assert isinstance(comparison, ScenarioComparison)
    adding, housing = comparison.scenarios
    assert adding.moved_points > 0
    # no child changes zone: the sum of no flow is written as the integer 0
    assert (housing.moved_points, housing.flows) == (0, [])
    assert '"moved_children":0,' in compared.text

    suggested = planning_client.post(
        "/api/v1/sites/suggest", json={"new_schools": 1, "grid_candidates": 40}, headers=planner
    )
    assert suggested.status_code == 200, suggested.text
    assert "scenario" not in suggested.json()
    _matches(SiteSuggestionAnswer, suggested.content)
