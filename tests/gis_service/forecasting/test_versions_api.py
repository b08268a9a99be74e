"""Forecast input versions through the API (save, list, read, adopt) on both stores."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from gis_service.db import forecast_inputs_repository as versions
from gis_service.db.forecast_inputs_repository import ForecastInputDraft
from gis_service.settings import Settings
from gis_service.startup import open_engine
from tests.support.http import auth, json_object
from tests.support.stores import DISTRICT_CODE

INPUTS = "/api/v1/forecasts/inputs"
#: A block in Quận 3 (EPSG:4326, lon/lat) where the versions' development is built.
BLOCK_LON, BLOCK_LAT = 106.6850, 10.7800
#: 400 dwellings x 0.025 children per cohort: 10 entrants a year once fully lived in,
#: half of that in its completion year (the occupancy ramp).
BLOCK = {
    "name": "block-B",
    "lon": BLOCK_LON,
    "lat": BLOCK_LAT,
    "dwellings": 400,
    "completion_year": 2029,
    "children_per_dwelling_per_cohort": 0.025,
    "occupancy_ramp": [0.5, 1.0],
}
BLOCK_YIELD = {2027: 0.0, 2028: 0.0, 2029: 5.0, 2030: 10.0, 2031: 10.0}
SOURCE = {"source": "planning office, permits 2026/31", "as_of": "2026-07-01"}


def _version(name: str = "permits-2026", **inputs: Any) -> dict[str, Any]:
    return {
        "name": name,
        "note": "the block of permit 2026/31",
        "inputs": {**SOURCE, "developments": [BLOCK], **inputs},
    }


def _canonical_hash(document: dict[str, Any]) -> str:
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _wards(client: TestClient, year: int) -> dict[str, Any]:
    response = client.get(
        "/api/v1/forecasts", params={"year": year, "from_year": 2027, "level": "ward"}
    )
    return json_object(response)


def _central(items: list[dict[str, Any]]) -> dict[str, float]:
    return {item["code"]: item["first_grade_entrants"]["central"] for item in items}


def test_save_list_adopt_and_the_forecasts_use_the_adopted_version(
    client: TestClient, planner_token: str
) -> None:
    planner = auth(planner_token)
    manifest_only = client.post(
        "/api/v1/forecasts/compute",
        json={"first_year": 2027, "years": 5, "level": "ward"},
        headers=planner,
    ).json()
    assert manifest_only["inputs_version"] is None

    saved = client.post(INPUTS, json=_version(), headers=planner)
    assert saved.status_code == 201, saved.text
    first = saved.json()
    assert (first["name"], first["status"], first["created_by"]) == (
        "permits-2026",
        "draft",
        "test-planner",
    )
    assert first["based_on_id"] is None
    assert first["inputs"]["developments"][0]["occupancy_ramp"] == [0.5, 1.0]
    assert first["inputs_hash"] == _canonical_hash(first["inputs"])
    # A draft changes nothing yet.
    assert _wards(client, 2029)["inputs_version"] is None

    listed = client.get(INPUTS, headers=planner).json()
    assert [(v["id"], v["status"], v["inputs"]) for v in listed] == [(first["id"], "draft", None)]
    assert client.get(f"{INPUTS}/permits-2026", headers=planner).json() == first
    assert client.get(f"{INPUTS}/{first['id']}", headers=planner).json() == first

    adopted = client.post(f"{INPUTS}/permits-2026/adopt", headers=planner)
    assert adopted.status_code == 200, adopted.text
    assert (adopted.json()["status"], adopted.json()["adopted_by"]) == ("adopted", "test-planner")

    for year, expected in BLOCK_YIELD.items():
        body = _wards(client, year)
        assert (body["inputs_version"]["name"], body["inputs_version"]["inputs_hash"]) == (
            "permits-2026",
            first["inputs_hash"],
        )
        assert {
            "name": "development block-B",
            "source": f"{SOURCE['source']} (forecast input version 'permits-2026')",
            "as_of": SOURCE["as_of"],
        } in body["inputs"]
        housed = [item for item in body["items"] if item["housing_yield"] > 0]
        before = _central(manifest_only["items_by_year"][str(year)])
        after = _central(body["items"])
        if expected == 0:
            assert housed == []
            assert after == before
            continue
        (ward,) = housed
        assert ward["housing_yield"] == expected
        code = ward["code"]
        assert after[code] == pytest.approx(before[code] + expected, abs=0.1)
        assert {k: v for k, v in after.items() if k != code} == {
            k: v for k, v in before.items() if k != code
        }

    # The compute endpoint gives the same forecast from the version by name.
    from_version = client.post(
        "/api/v1/forecasts/compute",
        json={"first_year": 2027, "years": 5, "level": "ward", "inputs_version": "permits-2026"},
        headers=planner,
    ).json()
    assert from_version["inputs_version"]["id"] == first["id"]
    assert _central(from_version["items_by_year"]["2030"]) == _central(
        _wards(client, 2030)["items"]
    )

    # Editing is saving a new version based on the old one; adopting it supersedes the old.
    second = client.post(
        INPUTS,
        json={
            **_version("permits-2026 + migration", net_migration_rate={"27121": 0.03}),
            "based_on": "permits-2026",
        },
        headers=planner,
    ).json()
    assert second["based_on_id"] == first["id"]
    assert second["inputs_hash"] != first["inputs_hash"]
    assert client.post(f"{INPUTS}/{second['id']}/adopt", headers=planner).status_code == 200
    statuses = [(v["name"], v["status"]) for v in client.get(INPUTS, headers=planner).json()]
    assert statuses == [("permits-2026 + migration", "adopted"), ("permits-2026", "superseded")]
    assert _wards(client, 2030)["inputs_version"]["name"] == "permits-2026 + migration"


BLOCK_AT = "/inputs/developments/0"


def _with_block(**changes: Any) -> dict[str, Any]:
    return _version(developments=[{**BLOCK, **changes}])


@pytest.mark.parametrize(
    ("body", "pointer", "words"),
    [
        (_version(net_migration_rate={"99999": 0.01}), "/inputs/net_migration_rate/99999", ()),
        (_version(net_migration_rate={"27121": 0.8}), "/inputs/net_migration_rate/27121", ()),
        (_with_block(dwellings=-5), f"{BLOCK_AT}/dwellings", ("greater than or equal to 0",)),
        (_with_block(completion_year=2019), f"{BLOCK_AT}/completion_year", ("2020-2044",)),
        (_with_block(completion_year=2045), f"{BLOCK_AT}/completion_year", ("2020-2044",)),
        (_with_block(lon=106.7030, lat=10.7700), BLOCK_AT, ("outside",)),  # Quận 1
        (_with_block(floors=30), f"{BLOCK_AT}/floors", ()),
        (_version(developments=[BLOCK, BLOCK]), "/inputs/developments", ("must differ",)),
        ({**_version(), "inputs": {"as_of": "2026-07-01"}}, "/inputs/source", ()),
        (_version(name="2026"), "/name", ("only digits",)),
        (_version(name="  "), "/name", ()),
        ({**_version(), "based_on": "no-such-version"}, "/based_on", ("no-such-version",)),
    ],
)
def test_bad_inputs_are_refused_at_their_pointer_and_nothing_is_saved(
    client: TestClient,
    planner_token: str,
    body: dict[str, Any],
    pointer: str,
    words: tuple[str, ...],
) -> None:
    planner = auth(planner_token)
    response = client.post(INPUTS, json=body, headers=planner)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["errors"][0]["pointer"] == pointer, problem
    for word in words:
        assert word in problem["detail"], problem["detail"]
    assert client.get(INPUTS, headers=planner).json() == []


def test_a_version_never_changes(client: TestClient, planner_token: str) -> None:
    planner = auth(planner_token)
    saved = client.post(INPUTS, json=_version(), headers=planner).json()
    where = f"{INPUTS}/{saved['id']}"
    changed = _version(net_migration_rate={"27121": 0.02})
    for method in ("PUT", "PATCH", "DELETE"):
        response = client.request(method, where, json=changed, headers=planner)
        assert response.status_code == 405, (method, response.text)
    again = client.post(INPUTS, json=changed, headers=planner)
    assert again.status_code == 409, again.text
    assert "versions never change: save under a new name" in again.json()["detail"]
    assert client.get(where, headers=planner).json() == saved
    assert len(client.get(INPUTS, headers=planner).json()) == 1


def test_versions_need_a_planner(client: TestClient, editor_token: str) -> None:
    calls = [
        ("GET", INPUTS, None),
        ("GET", f"{INPUTS}/permits-2026", None),
        ("POST", INPUTS, _version()),
        ("POST", f"{INPUTS}/permits-2026/adopt", None),
    ]
    for method, url, body in calls:
        anonymous = client.request(method, url, json=body)
        assert anonymous.status_code == 401, (method, url, anonymous.text)
        assert anonymous.headers["www-authenticate"] == "Bearer"
        editor = client.request(method, url, json=body, headers=auth(editor_token))
        assert editor.status_code == 403, (method, url, editor.text)
        assert "planner" in editor.json()["detail"]


def test_unknown_versions(client: TestClient, planner_token: str) -> None:
    planner = auth(planner_token)
    for method, url in (("GET", f"{INPUTS}/7"), ("POST", f"{INPUTS}/nope/adopt")):
        response = client.request(method, url, headers=planner)
        assert response.status_code == 404, response.text
        assert "has no forecast input version" in response.json()["detail"]
    compute = {"first_year": 2027, "years": 3, "inputs_version": "nope"}
    response = client.post("/api/v1/forecasts/compute", json=compute, headers=planner)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["pointer"] == "/inputs_version"


def test_compute_takes_overrides_or_a_version_not_both(
    client: TestClient, planner_token: str
) -> None:
    planner = auth(planner_token)
    client.post(INPUTS, json=_version(), headers=planner)
    both = {
        "first_year": 2027,
        "years": 3,
        "inputs_version": "permits-2026",
        "overrides": {**SOURCE, "net_migration_rate": {"27121": 0.01}},
    }
    response = client.post("/api/v1/forecasts/compute", json=both, headers=planner)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["pointer"] == "/inputs_version"
    assert "not both" in response.json()["detail"]


def test_a_version_that_no_longer_fits_is_not_adopted(
    settings: Settings, client: TestClient, planner_token: str
) -> None:
    # Saved behind the service's back, as if ward 27121 had since left the registry.
    inputs = {**SOURCE, "net_migration_rate": {"00000": 0.01}, "developments": None}
    engine = open_engine(settings)
    try:
        with Session(engine) as session:
            draft = ForecastInputDraft(
                district_code=DISTRICT_CODE,
                name="stale",
                note="",
                inputs=inputs,
                inputs_hash=_canonical_hash(inputs),
                created_by="test",
            )
            versions.save_forecast_input_version(session, draft)
            session.commit()
        planner = auth(planner_token)
        refused = client.post(f"{INPUTS}/stale/adopt", headers=planner)
        assert refused.status_code == 422, refused.text
        assert "'stale' does not fit" in refused.json()["detail"]
        assert client.get(f"{INPUTS}/stale", headers=planner).json()["status"] == "draft"
        with Session(engine) as session:
            versions.adopt_forecast_input_version(
                session, "stale", district_code=DISTRICT_CODE, actor="test"
            )
            session.commit()
    finally:
        engine.dispose()
    response = client.get("/api/v1/forecasts", params={"year": 2030})
    assert response.status_code == 422, response.text
    assert "forecast input version 'stale' does not fit" in response.json()["detail"]
