"""Who sees applications and results, on both stores, and what the audit log records."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from gis_service.app import create_app
from gis_service.db import audit_repository
from gis_service.settings import Settings
from gis_service.startup import open_engine
from tests.support.admission import (
    SCHOOLS,
    application,
    audit_entries,
    create_round,
    homes,
    submit,
)
from tests.support.http import auth, json_list, json_object, problem
from tests.support.stores import make_token
from tests.support.zones import Computed


@pytest.fixture
def client(fast_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(fast_settings)) as client:
        yield client


@pytest.fixture
def officer(fast_settings: Settings) -> str:
    return make_token(fast_settings, "enrolment_officer", name="office-q3")


def _status(response: httpx.Response, status: int) -> dict[str, Any]:
    if status >= 400:
        return problem(response, status)
    return json_object(response, status)


def test_applications_are_seen_by_officers_and_by_their_family_only(
    client: TestClient, officer: str, fast_settings: Settings, computed: Computed
) -> None:
    round_id = create_round(client, officer)["id"]
    first_home, second_home = homes(computed, 2, seed=21)
    mine, theirs = submit(
        client,
        round_id,
        officer,
        [application(first_home), application(second_home, name="Trần Gia Huy")],
    )
    url = f"/api/v1/applications/{mine.application_id}"
    # anonymous: 401; another family's secret or a made-up one: 404, as for an unknown id
    _status(client.get(url), 401)
    other = _status(client.get(url, headers={"X-Application-Secret": theirs.secret}), 404)
    unknown = _status(
        client.get(
            "/api/v1/applications/0000-0000-0000-0000",
            headers={"X-Application-Secret": theirs.secret},
        ),
        404,
    )
    assert other["detail"] == unknown["detail"]
    planner = make_token(fast_settings, "planner")
    _status(client.get(url, headers=auth(planner)), 403)
    # the family, with its secret typed loosely, and the officer
    loose = mine.secret.lower().replace("-", " ")
    family = _status(
        client.get(url, headers={"X-Application-Secret": loose, "X-Request-ID": "req-family-1"}),
        200,
    )
    assert family["child_name"] == "Nguyễn Minh Anh"
    assert family["ward_code"]
    assert family["result"] is None
    seen = _status(client.get(url, headers=auth(officer)), 200)
    assert seen == family
    looked_up = client.post(
        "/api/v1/applications/lookup",
        json={"application_id": mine.application_id, "secret": mine.secret},
    )
    assert _status(looked_up, 200)["application_id"] == mine.application_id
    wrong = {"application_id": mine.application_id, "secret": theirs.secret}
    _status(client.post("/api/v1/applications/lookup", json=wrong), 404)

    entries = audit_entries(fast_settings, object_id=mine.application_id)
    assert [(e.action, e.actor, e.role) for e in entries] == [
        ("application.create", "office-q3", "enrolment_officer"),
        ("application.denied", "unknown", "family"),
        ("application.read", f"family:{mine.application_id}", "family"),
        ("application.read", "office-q3", "enrolment_officer"),
        ("application.read", f"family:{mine.application_id}", "family"),
        ("application.denied", "unknown", "family"),
    ]
    by_family = entries[2]
    assert (by_family.request_id, by_family.request_method, by_family.request_path) == (
        "req-family-1",
        "GET",
        url,
    )
    assert by_family.client_address == "testclient"
    assert entries[4].request_path == "/api/v1/applications/lookup"
    # the secret itself is never stored or logged
    assert all(mine.secret not in str(e) for e in audit_entries(fast_settings))
    # administrators read the log over HTTP
    admin = make_token(fast_settings, "admin")
    _status(client.get("/api/v1/audit", headers=auth(officer)), 403)
    served = client.get(
        "/api/v1/audit", params={"object_id": mine.application_id}, headers=auth(admin)
    )
    assert [e["action"] for e in json_list(served)] == [e.action for e in entries]


def test_results_are_aggregates_for_the_public_and_personal_for_families(
    client: TestClient, officer: str, fast_settings: Settings, computed: Computed
) -> None:
    round_id = create_round(client, officer, seats={SCHOOLS[0]: 1})["id"]
    places = homes(computed, 3, seed=4)
    mine, _, _ = submit(
        client,
        round_id,
        officer,
        [
            application(places[0], sibling_school_codes=[SCHOOLS[0]]),
            application(places[1], name="Lê Khánh Linh", priority_category="ho_ngheo"),
            application(places[2], name="Võ Bảo Nam", choices=[SCHOOLS[0]]),
        ],
    )
    _status(client.post(f"/api/v1/rounds/{round_id}/placement", json={"seed": 1}), 401)
    run = _status(
        client.post(
            f"/api/v1/rounds/{round_id}/placement", json={"seed": 1}, headers=auth(officer)
        ),
        201,
    )
    run_url = f"/api/v1/rounds/{round_id}/placement/{run['id']}"
    explain_url = f"{run_url}/explain/{mine.application_id}"
    family = {"X-Application-Secret": mine.secret}
    # before publication: officers only; a family is told nothing
    _status(client.get(run_url), 401)
    assert client.get(f"/api/v1/rounds/{round_id}/placement").json() == []
    _status(client.get(explain_url, headers=family), 404)
    assert _status(client.get(explain_url, headers=auth(officer)), 200)["run_status"] == "done"
    _status(client.post(f"{run_url}/publish", headers=auth(officer)), 200)

    public = _status(client.get(run_url), 200)
    assert public["status"] == "published"
    schools = {s["code"]: s for s in public["statistics"]["schools"]}
    assert schools[SCHOOLS[0]]["seats"] == 1
    assert schools[SCHOOLS[0]]["cutoff"]["priority"] == "sibling"
    assert public["statistics"]["placed_share"] == 1.0
    assert mine.application_id not in str(public)
    assert "Minh Anh" not in str(public)
    told = _status(client.get(explain_url, headers=family), 200)["explanation"]
    assert (told["school_code"], told["choice_rank"], told["guaranteed"]) == (SCHOOLS[0], 1, False)
    assert told["choices"][0]["priority"] == "sibling"
    # the published result also shows on the application
    result = _status(client.get(f"/api/v1/applications/{mine.application_id}", headers=family), 200)
    assert result["result"]["school_code"] == SCHOOLS[0]
    _status(client.get(explain_url), 401)

    actions = [(e.action, e.role) for e in audit_entries(fast_settings, round_id=round_id)]
    assert ("placement.run", "enrolment_officer") in actions
    assert ("placement.done", "enrolment_officer") in actions
    assert ("placement.publish", "enrolment_officer") in actions
    explained = audit_entries(fast_settings, action="placement.explain")
    assert [(e.role, e.object_id, e.detail) for e in explained] == [
        ("enrolment_officer", mine.application_id, {"run_id": run["id"]}),
        ("family", mine.application_id, {"run_id": run["id"]}),
    ]


def test_the_audit_log_is_append_only(fast_settings: Settings) -> None:
    engine = open_engine(fast_settings)
    context = audit_repository.AuditContext(
        actor="tester", role="admin", request_id="r1", request_method="CLI", request_path="x"
    )
    try:
        with Session(engine) as session:
            audit_repository.append_audit(
                session, context, action="round.create", object_type="t", object_id="1"
            )
            session.commit()
        for statement in ("UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"):
            with engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
                conn.execute(text(statement))
        with Session(engine) as session:
            assert [e.actor for e in audit_repository.audit_entries(session)] == ["tester"]
    finally:
        engine.dispose()
