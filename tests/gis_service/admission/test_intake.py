"""Admission rounds and applications over HTTP, on both stores: checks, all or nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from shapely import Point
from shapely.geometry import shape
from sqlalchemy.orm import Session

from gis_service.app import create_app
from gis_service.db import applications_repository, audit_repository
from gis_service.settings import Settings
from gis_service.startup import open_engine
from tests.support.admission import (
    BORN,
    SCHOOLS,
    YEAR,
    application,
    create_round,
    homes,
    round_body,
)
from tests.support.http import auth, problem
from tests.support.stores import make_token
from tests.support.zones import Computed

#: A point in Quận 6, west of the district.
OUTSIDE = (106.6350, 10.7480)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def officer(settings: Settings) -> str:
    return make_token(settings, "enrolment_officer")


def _reasons(body: dict[str, Any]) -> set[tuple[str, str]]:
    return {(e["pointer"], e["reason"]) for e in body["errors"]}


def _stored(settings: Settings, round_id: int) -> tuple[int, int]:
    """Applications in the round and their creation entries in the audit log."""
    engine = open_engine(settings)
    try:
        with Session(engine) as session:
            count = len(applications_repository.round_applications(session, round_id))
            audited = audit_repository.audit_entries(session, action="application.create")
            return count, len(audited)
    finally:
        engine.dispose()


def test_a_bad_batch_is_rejected_whole_with_each_reason(
    client: TestClient, officer: str, settings: Settings, computed: Computed
) -> None:
    created = create_round(client, officer)
    round_id = created["id"]
    home, other, third = homes(computed, 3)
    wards = {
        f["properties"]["code"]: shape(f["geometry"])
        for f in client.get("/api/v1/wards").json()["features"]
    }
    own = next(code for code, area in wards.items() if area.covers(Point(*third)))
    elsewhere = next(code for code in sorted(wards) if code != own)
    batch = [
        application(home),
        application(other, name="Trần Bảo An", date_of_birth=dt.date(YEAR - 7, 12, 31).isoformat()),
        application(OUTSIDE, name="Lê Gia Huy"),
        application(third, name="Phạm Thảo My", choices=[SCHOOLS[0], "99999999"]),
        application(third, name="Võ Đức Nam", choices=[SCHOOLS[1], SCHOOLS[1]]),
        application(third, name="Vũ Khánh Linh", choices=list(SCHOOLS[:4])),
        # the first child again, typed without diacritics
        application(home, name="nguyen minh  anh"),
        application(third, name="Hoàng Anh Khoa", date_of_birth="31/02/2021"),
        application(third, name="Đặng Ngọc Hà", contact=""),
        application(third, name="Huỳnh Minh Phúc", priority_category="vip"),
        application(third, name="Phan Hoài Dũng", ward_code="00000"),
        application(third, name="Nguyễn Thanh Bình", nickname="Bin"),
        application(third, name="Lê Ngọc Châu", ward_code=elsewhere),
        application(third, name="Trần Minh Huy", ward_code=own, choices=[]),
    ]
    response = client.post(
        f"/api/v1/rounds/{round_id}/applications", json=batch, headers=auth(officer)
    )
    body = problem(response, 422)
    reasons = _reasons(body)
    expected = {
        ("/1/date_of_birth", "not_first_grade_age"),
        ("/2/lat", "outside_district"),
        ("/3/choices/1", "unknown_school"),
        ("/4/choices/1", "repeated_choice"),
        ("/5/choices/3", "too_many_choices"),
        ("/6/child_name", "duplicate_child"),
        ("/7/date_of_birth", "invalid_date"),
        ("/8/contact", "missing"),
        ("/9/priority_category", "unknown_priority_category"),
        ("/10/ward_code", "unknown_ward"),
        ("/11/nickname", "unknown_field"),
        ("/12/ward_code", "ward_mismatch"),
        ("/13/choices/0", "no_choice"),
    }
    assert reasons == expected
    assert body["detail"] == "13 of 14 applications rejected; nothing was written"
    age = next(e for e in body["errors"] if e["reason"] == "not_first_grade_age")
    assert f"children born in {YEAR - 6}" in age["detail"]
    assert "is already application 0" in next(
        e["detail"] for e in body["errors"] if e["reason"] == "duplicate_child"
    )
    assert _stored(settings, round_id) == (0, 0)
    assert client.get(f"/api/v1/rounds/{round_id}").json()["applications"] == 0

    # the good one alone goes in; sent again, the child has already applied
    first = client.post(f"/api/v1/rounds/{round_id}/applications", json=application(home))
    assert first.status_code == 201, first.text
    issued = first.json()["applications"]
    assert len(issued) == 1
    assert len(issued[0]["secret"]) == 24  # 20 characters in groups of four
    again = client.post(
        f"/api/v1/rounds/{round_id}/applications", json=application(home, name="NGUYỄN MINH ANH")
    )
    assert _reasons(problem(again, 422)) == {("/child_name", "already_applied")}
    assert _stored(settings, round_id) == (1, 1)


def _csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _upload(client: TestClient, round_id: int, content: bytes, token: str | None) -> Any:
    return client.post(
        f"/api/v1/rounds/{round_id}/applications/import",
        files={"file": ("applications.csv", content, "text/csv")},
        headers=auth(token) if token else None,
    )


def test_a_csv_file_is_imported_whole_or_not_at_all(
    client: TestClient, officer: str, settings: Settings, computed: Computed
) -> None:
    round_id = create_round(client, officer)["id"]
    places = homes(computed, 4, seed=11)
    header = ["STT", "child_name", "Ngày sinh", "lon", "lat", "contact", "choice_1", "choice_2"]

    def row(n: int, name: str, born: str, first: str, second: str) -> list[str]:
        lon, lat = places[n]
        return [str(n + 1), name, born, str(lon), str(lat), "0909 000 111", first, second]

    good = BORN.strftime("%d/%m/%Y")
    rows = [
        header,
        row(0, "Trần Gia Bảo", good, SCHOOLS[0], SCHOOLS[1]),
        row(1, "Lê Thảo Vy", "2015-01-01", SCHOOLS[0], ""),
        row(2, "Phạm Minh Khôi", good, SCHOOLS[2], "79779999"),
        row(3, "Võ Ngọc Hân", good, SCHOOLS[3], SCHOOLS[3]),
    ]
    assert problem(_upload(client, round_id, _csv(rows), None), 401)
    body = problem(_upload(client, round_id, _csv(rows), officer), 422)
    assert _reasons(body) == {
        ("row 2, column Ngày sinh", "not_first_grade_age"),
        ("row 3, column choice_2", "unknown_school"),
        ("row 4, column choice_2", "repeated_choice"),
    }
    assert body["detail"] == "3 of 4 applications rejected; nothing was written"
    assert _stored(settings, round_id) == (0, 0)

    fixed = [
        *rows[:2],
        row(1, "Lê Thảo Vy", good, SCHOOLS[0], ""),
        row(2, "Phạm Minh Khôi", good, SCHOOLS[2], SCHOOLS[4]),
    ]
    imported = _upload(client, round_id, _csv(fixed), officer)
    assert imported.status_code == 201, imported.text
    answer = imported.json()
    assert [a["child_name"] for a in answer["applications"]] == [
        "Trần Gia Bảo",
        "Lê Thảo Vy",
        "Phạm Minh Khôi",
    ]
    assert answer["ignored_columns"] == ["STT"]
    assert _stored(settings, round_id) == (3, 3)
    missing = problem(_upload(client, round_id, _csv([["child_name", "lon"]]), officer), 422)
    assert _reasons(missing) == {("column date_of_birth", "missing_column")}


def test_who_may_submit_and_when(
    client: TestClient, officer: str, settings: Settings, computed: Computed
) -> None:
    round_id = create_round(client, officer)["id"]
    first, second = homes(computed, 2, seed=5)
    url = f"/api/v1/rounds/{round_id}/applications"
    # a family sends its own application without a key; a list needs an officer
    assert client.post(url, json=application(first)).status_code == 201
    problem(client.post(url, json=[application(second)]), 401)
    planner = make_token(settings, "planner")
    problem(client.post(url, json=[application(second)], headers=auth(planner)), 403)
    closed = client.post(f"/api/v1/rounds/{round_id}/close", headers=auth(officer))
    assert closed.json()["status"] == "closed"
    late = problem(client.post(url, json=application(second)), 409)
    assert "closed" in late["detail"]
    past = create_round(
        client,
        officer,
        name="late",
        applications_close_at=(dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat(),
    )
    late = problem(
        client.post(f"/api/v1/rounds/{past['id']}/applications", json=application(second)), 409
    )
    assert "past its deadline" in late["detail"]
    problem(client.post("/api/v1/rounds/9999/applications", json=application(second)), 404)


def test_opening_a_round_checks_its_rules(
    client: TestClient, officer: str, settings: Settings
) -> None:
    url = "/api/v1/rounds"
    problem(client.post(url, json=round_body()), 401)
    planner = make_token(settings, "planner")
    problem(client.post(url, json=round_body(), headers=auth(planner)), 403)
    no_zones = problem(
        client.post(url, json=round_body(rules=["in_zone", "everyone"]), headers=auth(officer)),
        422,
    )
    assert no_zones["errors"][0]["pointer"] == "/zone_version"
    bad_rule = problem(
        client.post(url, json=round_body(rules=["sibling", "rich"]), headers=auth(officer)), 422
    )
    assert bad_rule["errors"][0]["pointer"] == "/rules/1"
    after = problem(
        client.post(url, json=round_body(rules=["everyone", "sibling"]), headers=auth(officer)),
        422,
    )
    assert "follows 'everyone'" in after["detail"]
    seats = problem(
        client.post(url, json=round_body(seats={"123": 40}), headers=auth(officer)), 422
    )
    assert seats["errors"][0]["pointer"] == "/seats/123"
    created = create_round(client, officer, seats={SCHOOLS[0]: 70})
    assert created["status"] == "open"
    assert created["seats"] == {SCHOOLS[0]: 70}
    assert created["rules"] == ["sibling", "priority_category", "everyone"]
    problem(client.post(url, json=round_body(), headers=auth(officer)), 409)
    public = client.get(f"/api/v1/rounds/{created['id']}")
    assert public.status_code == 200
    assert public.json()["applications"] == 0
    assert [r["id"] for r in client.get("/api/v1/rounds").json()] == [created["id"]]
    engine = open_engine(settings)
    try:
        with Session(engine) as session:
            entries = audit_repository.audit_entries(session, action="round.create")
    finally:
        engine.dispose()
    assert [(e.actor, e.role, e.object_id, e.request_method, e.request_path) for e in entries] == [
        ("test-enrolment_officer", "enrolment_officer", str(created["id"]), "POST", url)
    ]
