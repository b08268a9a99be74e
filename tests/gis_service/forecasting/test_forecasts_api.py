"""GET /api/v1/forecasts and POST /api/v1/forecasts/compute on both stores."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from shapely import Point

from gis_service.app import create_app
from gis_service.canonical import canonical_sha256
from gis_service.forecasting.schemas import (
    ForecastAnswer,
    ForecastComputed,
    SchoolForecastItem,
    WardForecastItem,
    ZoneForecastItem,
)
from gis_service.settings import Settings
from tests.support.http import auth, problem
from tests.support.zones import Computed, publish_zones

PARAMS = {"year": 2030, "from_year": 2027}
#: A home in Quận 3 (EPSG:4326) where the test's housing development is built.
TOWER_LON, TOWER_LAT = 106.6850, 10.7800


def test_ward_forecast(read_only_client: TestClient) -> None:
    response = read_only_client.get("/api/v1/forecasts", params={**PARAMS, "level": "ward"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["district_code"] == "770"
    assert body["level"] == "ward"
    assert body["year"] == 2030
    assert body["base_year"] == 2019
    assert body["horizon"] == [2027, 2036]
    assert {note["name"] for note in body["inputs"]} >= {"census age groups", "survival"}
    assert len(body["items"]) == 14
    for item in body["items"]:
        band = item["first_grade_entrants"]
        assert 0 < band["low"] <= band["central"] <= band["high"]
    total = sum(item["first_grade_entrants"]["central"] for item in body["items"])
    assert body["district"]["first_grade_entrants"]["central"] == pytest.approx(total, abs=1)
    assert body["district"]["first_grade_seats"] is None  # no bundled school has a class count


def test_school_forecast_after_entering_classes_and_enrolment(
    client: TestClient, editor_token: str
) -> None:
    enrolment = [
        {"school_year": year, "grade": grade, "pupils": 100 + year - 2025 - grade}
        for year in (2025, 2026)
        for grade in range(1, 6)
    ]
    patched = client.patch(
        "/api/v1/schools/79770006",
        json={"first_grade_classes": 2, "enrolment": enrolment},
        headers=auth(editor_token),
    )
    assert patched.status_code == 200, patched.text
    body = client.get("/api/v1/forecasts", params={**PARAMS, "level": "school"}).json()
    assert len(body["items"]) == 7
    school = next(item for item in body["items"] if item["code"] == "79770006")
    assert school["first_grade_seats"] == 70
    demand = school["first_grade_entrants"]["central"]
    assert demand > 70
    assert school["seat_shortfall"]["central"] == pytest.approx(demand - 70, abs=0.1)
    assert school["first_year_short"]["central"] == 2027
    assert school["enrolment_total"]["central"] > 0
    ward = client.get("/api/v1/forecasts", params={**PARAMS, "level": "ward"}).json()
    ward_8 = next(item for item in ward["items"] if item["code"] == "27121")
    assert ward_8["first_grade_seats"] == 70
    assert ward_8["capacity_known"] is True


@pytest.mark.parametrize(
    ("params", "pointer"),
    [
        ({"level": "district"}, "query:level"),
        ({"year": 2019}, None),
        ({"year": 2050, "from_year": 2027}, None),
    ],
)
def test_bad_requests_are_problems(
    read_only_client: TestClient, params: dict[str, str | int], pointer: str | None
) -> None:
    response = read_only_client.get("/api/v1/forecasts", params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    if pointer is not None:
        assert body["errors"][0]["pointer"] == pointer
    else:
        assert "base year 2019" in body["detail"]


def test_zone_level_without_published_zones_is_not_found(read_only_client: TestClient) -> None:
    response = read_only_client.get("/api/v1/forecasts", params={**PARAMS, "level": "zone"})
    problem(response, 404, "no published zones: compute and publish a version first")


# --- POST /api/v1/forecasts/compute -------------------------------------------------------


COMPUTE = {"first_year": 2027, "years": 5, "level": "zone"}
TOWER = {
    "name": "tower-A",
    "lon": TOWER_LON,
    "lat": TOWER_LAT,
    "dwellings": 1000,
    "completion_year": 2029,
    "children_per_dwelling_per_cohort": 0.02,
}
OVERRIDES = {"source": "planning office, permit 2026/17", "as_of": "2026-06-30"}


def _central(body: dict[str, Any], year: int) -> dict[str, float]:
    return {
        item["code"]: item["first_grade_entrants"]["central"]
        for item in body["items_by_year"][str(year)]
    }


@pytest.fixture
def zoned_client(settings: Settings, computed: Computed) -> Iterator[TestClient]:
    """A client of a store whose district has the optimal zones published."""
    publish_zones(settings, computed.optimal)
    with TestClient(create_app(settings)) as client:
        yield client


def test_zone_level_after_publishing_zones(zoned_read_only_client: TestClient) -> None:
    response = zoned_read_only_client.get("/api/v1/forecasts", params={**PARAMS, "level": "zone"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["zone_version"]["name"] == "q3-optimal"
    assert len(body["items"]) == 7
    assert all(item["seats_assumed"] and item["first_grade_seats"] == 280 for item in body["items"])
    total = sum(item["first_grade_entrants"]["central"] for item in body["items"])
    assert body["district"]["first_grade_entrants"]["central"] == pytest.approx(total, abs=1)


def test_compute_needs_a_planner(client: TestClient, editor_token: str) -> None:
    problem(client.post("/api/v1/forecasts/compute", json=COMPUTE), 401, "API key")
    response = client.post("/api/v1/forecasts/compute", json=COMPUTE, headers=auth(editor_token))
    problem(response, 403, "planner")


def test_compute_with_a_development_raises_its_zone_only(
    zoned_client: TestClient, planner_token: str, computed: Computed
) -> None:
    planner = auth(planner_token)
    plain = zoned_client.post("/api/v1/forecasts/compute", json=COMPUTE, headers=planner)
    assert plain.status_code == 200, plain.text
    baseline = plain.json()
    assert baseline["years"] == [2027, 2028, 2029, 2030, 2031]
    assert baseline["zone_version"]["name"] == "q3-optimal"
    assert baseline["inputs_used"]["developments"] == []
    assert len(baseline["inputs_hash"]) == 64
    again = zoned_client.post("/api/v1/forecasts/compute", json=COMPUTE, headers=planner).json()
    assert again["inputs_hash"] == baseline["inputs_hash"]
    body = {**COMPUTE, "overrides": {**OVERRIDES, "developments": [TOWER]}}
    response = zoned_client.post("/api/v1/forecasts/compute", json=body, headers=planner)
    assert response.status_code == 200, response.text
    with_tower = response.json()
    assert with_tower["inputs_hash"] != baseline["inputs_hash"]
    (used,) = with_tower["inputs_used"]["developments"]
    assert (used["name"], used["source"], used["as_of"]) == (
        "tower-A",
        OVERRIDES["source"],
        "2026-06-30",
    )
    assert {"name": "development tower-A", **{k: OVERRIDES[k] for k in ("source", "as_of")}} in (
        with_tower["inputs"]
    )
    zones = computed.optimal.zones
    holder = zones[zones.covers(Point(TOWER_LON, TOWER_LAT))]
    school = computed.geography.schools[int(holder["school"].iloc[0])].code
    for year in baseline["years"]:
        before, after = _central(baseline, year), _central(with_tower, year)
        added = 1000 * 0.02 if year >= 2029 else 0.0  # 20 entrants a year from completion
        assert after[school] == pytest.approx(before[school] + added, abs=0.15)
        assert {k: v for k, v in after.items() if k != school} == pytest.approx(
            {k: v for k, v in before.items() if k != school}, abs=0.15
        )


def test_compute_with_a_ward_migration_rate(client: TestClient, planner_token: str) -> None:
    planner = auth(planner_token)
    ward = {**COMPUTE, "level": "ward"}
    baseline = client.post("/api/v1/forecasts/compute", json=ward, headers=planner).json()
    assert baseline["zone_version"] is None
    body = {**ward, "overrides": {**OVERRIDES, "net_migration_rate": {"27121": 0.05}}}
    response = client.post("/api/v1/forecasts/compute", json=body, headers=planner)
    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["inputs_used"]["rates"]["net_migration_rate"]["27121"] == 0.05
    assert "net migration of wards 27121" in changed["inputs_used"]["rates"]["source"]
    before, after = _central(baseline, 2031), _central(changed, 2031)
    assert after["27121"] > before["27121"]
    assert {k: v for k, v in after.items() if k != "27121"} == {
        k: v for k, v in before.items() if k != "27121"
    }
    assert (
        changed["district_by_year"]["2031"]["first_grade_entrants"]["central"]
        > (baseline["district_by_year"]["2031"]["first_grade_entrants"]["central"])
    )


def _overrides(**changes: Any) -> dict[str, Any]:
    return {**COMPUTE, "overrides": {**OVERRIDES, **changes}}


def _tower(**changes: Any) -> dict[str, Any]:
    return _overrides(developments=[{**TOWER, **changes}])


MIGRATION = "/overrides/net_migration_rate"
DEVELOPMENT = "/overrides/developments/0"


@pytest.mark.parametrize(
    ("body", "pointer", "words"),
    [
        ({**COMPUTE, "horizon": 3}, "/horizon", ()),
        ({**COMPUTE, "years": 0}, "/years", ()),
        ({**COMPUTE, "years": 26}, "/years", ()),
        ({**COMPUTE, "level": "district"}, "/level", ()),
        ({**COMPUTE, "first_year": 2019}, "/first_year", ("base year 2019",)),
        ({**COMPUTE, "first_year": 2040, "years": 10}, "/first_year", ("2020-2044",)),
        ({**COMPUTE, "class_size_cap": 0}, "/class_size_cap", ()),
        ({**COMPUTE, "overrides": {"net_migration_rate": {}}}, "/overrides/source", ()),
        (_overrides(net_migration_rate={"99999": 0.01}), f"{MIGRATION}/99999", ("99999",)),
        (_overrides(net_migration_rate={"27121": 0.9}), f"{MIGRATION}/27121", ()),
        (_tower(lon=106.7030, lat=10.7700), DEVELOPMENT, ("outside",)),  # Quận 1
        (_tower(lon=TOWER_LAT, lat=TOWER_LON), f"{DEVELOPMENT}/lat", ("less than or equal",)),
        (_tower(dwellings=-1), f"{DEVELOPMENT}/dwellings", ()),
        (_tower(completion_year=2050), f"{DEVELOPMENT}/completion_year", ("2020-2044",)),
        (_tower(floors=30), f"{DEVELOPMENT}/floors", ()),
        (_overrides(developments=[TOWER, TOWER]), "/overrides/developments", ("must differ",)),
    ],
)
def test_compute_refuses_bad_bodies(
    client: TestClient,
    planner_token: str,
    body: dict[str, Any],
    pointer: str,
    words: tuple[str, ...],
) -> None:
    response = client.post("/api/v1/forecasts/compute", json=body, headers=auth(planner_token))
    body = problem(response, 422, *words)
    assert body["errors"][0]["pointer"] == pointer, body


# --- the answers' models ----------------------------------------------------------------

ITEM_OF = {"ward": WardForecastItem, "school": SchoolForecastItem, "zone": ZoneForecastItem}


def _same_json(model: ForecastAnswer | ForecastComputed, body: dict[str, Any]) -> bool:
    """The model gives back the body byte for byte: keys, their order, ints and floats."""
    return json.dumps(model.model_dump(mode="json")) == json.dumps(body)


def test_answers_validate_against_their_models(
    zoned_client: TestClient, planner_token: str
) -> None:
    for level, item_type in ITEM_OF.items():
        response = zoned_client.get("/api/v1/forecasts", params={**PARAMS, "level": level})
        assert response.status_code == 200, response.text
        answer = ForecastAnswer.model_validate(response.json())
        assert {type(item) for item in answer.items} == {item_type}
        assert _same_json(answer, response.json())
    body = {**COMPUTE, "level": "school", "overrides": {**OVERRIDES, "developments": [TOWER]}}
    response = zoned_client.post(
        "/api/v1/forecasts/compute", json=body, headers=auth(planner_token)
    )
    assert response.status_code == 200, response.text
    computed = ForecastComputed.model_validate(response.json())
    assert computed.years == [2027, 2028, 2029, 2030, 2031]
    assert all(
        type(item) is SchoolForecastItem
        for items in computed.items_by_year.values()
        for item in items
    )
    assert _same_json(computed, response.json())
    assert computed.inputs_hash == canonical_sha256(response.json()["inputs_used"])


def test_openapi_shows_the_answers(read_only_client: TestClient) -> None:
    spec = read_only_client.get("/openapi.json").json()

    def answer(path: str, method: str) -> Any:
        return spec["paths"][path][method]["responses"]["200"]["content"]["application/json"]

    assert answer("/api/v1/forecasts", "get")["schema"] == {
        "$ref": "#/components/schemas/ForecastAnswer"
    }
    assert answer("/api/v1/forecasts/compute", "post")["schema"] == {
        "$ref": "#/components/schemas/ForecastComputed"
    }
    schemas = spec["components"]["schemas"]
    assert list(schemas["ForecastAnswer"]["properties"]) == [
        "district_code",
        "district_name",
        "level",
        "year",
        "base_year",
        "horizon",
        "inputs",
        "inputs_version",
        "zone_version",
        "district",
        "items",
    ]
    items = schemas["ForecastAnswer"]["properties"]["items"]["anyOf"]
    assert [variant["items"]["$ref"].rsplit("/", 1)[1] for variant in items] == [
        "WardForecastItem",
        "SchoolForecastItem",
        "ZoneForecastItem",
    ]
    assert list(schemas["WardForecastItem"]["properties"]) == [
        "code",
        "name",
        "primary_schools",
        "first_grade_entrants",
        "first_grade_classes",
        "class_size_cap",
        "first_grade_seats",
        "capacity_known",
        "seat_shortfall",
        "classroom_shortfall",
        "first_year_short",
        "housing_yield",
    ]
    assert schemas["WardForecastItem"]["additionalProperties"] is False
    computed = schemas["ForecastComputed"]["properties"]
    assert computed["inputs_used"] == {"$ref": "#/components/schemas/ForecastInputsUsed"}
    assert "net_migration_rate" in schemas["CohortRatesUsed"]["properties"]
