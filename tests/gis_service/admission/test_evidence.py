"""Priority categories need evidence: claimed by families, verified by officers, on both stores."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gis_service.app import create_app
from gis_service.settings import Settings
from tests.support.admission import (
    application,
    audit_entries,
    create_round,
    homes,
    submit,
)
from tests.support.cli import run_schoolgis
from tests.support.http import auth, json_object, problem
from tests.support.stores import make_token
from tests.support.zones import Computed

CATEGORY = "con_liet_si"


@pytest.fixture
def client(fast_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(fast_settings)) as client:
        yield client


@pytest.fixture
def officer(fast_settings: Settings) -> str:
    return make_token(fast_settings, "enrolment_officer", name="office-q3")


def _groups(client: TestClient, officer: str, round_id: int) -> dict[str, str]:
    """Run a placement; return each application's priority group at its first choice."""
    run = json_object(
        client.post(
            f"/api/v1/rounds/{round_id}/placement", json={"seed": 1}, headers=auth(officer)
        ),
        201,
    )
    inputs = json_object(
        client.get(f"/api/v1/rounds/{round_id}/placement/{run['id']}/inputs", headers=auth(officer))
    )
    names = inputs["priority_groups"]
    return {a["application_id"]: names[a["priority_groups"][0]] for a in inputs["applications"]}


def _read(client: TestClient, application_id: str, secret: str) -> dict[str, Any]:
    headers = {"X-Application-Secret": secret}
    return json_object(client.get(f"/api/v1/applications/{application_id}", headers=headers))


def test_a_family_claim_counts_once_an_officer_verifies_it(
    client: TestClient, officer: str, fast_settings: Settings, computed: Computed
) -> None:
    round_id = create_round(client, officer, rules=["priority_category", "everyone"])["id"]
    first, second = homes(computed, 2, seed=41)
    sent = client.post(
        f"/api/v1/rounds/{round_id}/applications",
        json=application(first, priority_category=CATEGORY),
    )
    (issued,) = json_object(sent, 201)["applications"]
    mine, secret = issued["application_id"], issued["secret"]
    (entered,) = submit(
        client,
        round_id,
        officer,
        [application(second, name="Trần Gia Huy", priority_category=CATEGORY)],
    )
    seen = _read(client, mine, secret)
    assert (seen["priority_category"], seen["priority_status"]) == (CATEGORY, "claimed")
    assert seen["priority_status_text"].startswith("Chờ xác minh")
    # an officer's entry was made from documents seen: verified by that officer
    assert _read(client, entered.application_id, entered.secret)["priority_status"] == "verified"
    assert _groups(client, officer, round_id) == {
        mine: "everyone",
        entered.application_id: "priority_category",
    }

    url = f"/api/v1/applications/{mine}/priority"
    problem(client.post(url, json={"verified": True}), 401)
    planner = make_token(fast_settings, "planner")
    problem(client.post(url, json={"verified": True}, headers=auth(planner)), 403)
    checked = json_object(client.post(url, json={"verified": True}, headers=auth(officer)))
    assert (checked["priority_status"], checked["priority_checked_by"]) == ("verified", "office-q3")
    assert checked["priority_status_text"].startswith("Đã xác minh")
    assert _groups(client, officer, round_id)[mine] == "priority_category"

    # the command line rejects it; placement no longer counts it
    cli = run_schoolgis(
        ["applications", "priority", mine, "--rejected", "--by", "Cô Lan"], fast_settings
    )
    assert cli.returncode == 0, cli.stderr
    assert "Không được xác nhận" in cli.stdout
    assert _read(client, mine, secret)["priority_status"] == "rejected"
    assert _groups(client, officer, round_id)[mine] == "everyone"
    checks = audit_entries(fast_settings, action="application.priority")
    assert [(e.actor, (e.detail or {}).get("status")) for e in checks] == [
        ("office-q3", "verified"),
        ("Cô Lan", "rejected"),
    ]
    # an application without a category, or an unknown one, has nothing to check
    problem(
        client.post(
            "/api/v1/applications/0000-0000-0000-0000/priority",
            json={"verified": True},
            headers=auth(officer),
        ),
        404,
    )


def test_a_round_may_let_claims_count_until_checked(
    client: TestClient, officer: str, computed: Computed
) -> None:
    created = create_round(
        client, officer, rules=["priority_category", "everyone"], claimed_priority_counts=True
    )
    assert created["claimed_priority_counts"] is True
    first, second = homes(computed, 2, seed=43)
    url = f"/api/v1/rounds/{created['id']}/applications"
    claimed = json_object(
        client.post(url, json=application(first, priority_category=CATEGORY)), 201
    )
    plain = json_object(client.post(url, json=application(second, name="Lê Khánh Linh")), 201)
    claimed_id = claimed["applications"][0]["application_id"]
    plain_id = plain["applications"][0]["application_id"]
    assert _groups(client, officer, created["id"]) == {
        claimed_id: "priority_category",
        plain_id: "everyone",
    }
    refused = client.post(
        f"/api/v1/applications/{plain_id}/priority", json={"verified": True}, headers=auth(officer)
    )
    problem(refused, 409, "claims no priority category")
