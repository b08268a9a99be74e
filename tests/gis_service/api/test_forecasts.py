"""GET /api/v1/forecasts on both stores."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

PARAMS = {"year": 2030, "from_year": 2027}


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_ward_forecast(client: TestClient) -> None:
    response = client.get("/api/v1/forecasts", params={**PARAMS, "level": "ward"})
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
        headers=_auth(editor_token),
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
        ({"level": "zone"}, "query:level"),
        ({"year": 2019}, None),
        ({"year": 2050, "from_year": 2027}, None),
    ],
)
def test_bad_requests_are_problems(
    client: TestClient, params: dict[str, object], pointer: str | None
) -> None:
    response = client.get("/api/v1/forecasts", params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    if pointer is not None:
        assert body["errors"][0]["pointer"] == pointer
    else:
        assert "base year 2019" in body["detail"]
