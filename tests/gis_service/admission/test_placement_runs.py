"""Placement runs on both stores: determinism, failures that change nothing, publication."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from gis_service.admission import runs as placement_runs
from gis_service.admission.runs import run_placement
from gis_service.app import create_app
from gis_service.db import audit_repository, placement_runs_repository, rounds_repository
from gis_service.db.admission_models import PlacementResult, PlacementRun
from gis_service.db.audit_repository import AuditContext
from gis_service.db.backup import backup_store, restore_store
from gis_service.errors import ConflictError
from gis_service.networks import NetworkCache
from gis_service.settings import Settings
from gis_service.startup import open_engine
from tests.support.admission import SCHOOLS, application, create_round, homes, names, submit
from tests.support.http import auth, json_object
from tests.support.stores import make_token
from tests.support.zones import Computed

CLI_AUDIT = AuditContext(
    actor="tester", role="admin", request_id="t", request_method="CLI", request_path="test"
)


@pytest.fixture
def client(fast_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(fast_settings)) as client:
        yield client


@pytest.fixture
def officer(fast_settings: Settings) -> str:
    return make_token(fast_settings, "enrolment_officer")


@pytest.fixture
def session(fast_settings: Settings) -> Iterator[Session]:
    engine = open_engine(fast_settings)
    with Session(engine) as session:
        yield session
    engine.dispose()


def _crowded_round(
    client: TestClient, officer: str, computed: Computed, *, count: int = 40, **changes: Any
) -> int:
    """A round where everyone asks for the same two small schools first."""
    seats = {SCHOOLS[0]: 5, SCHOOLS[1]: 5, **changes.pop("seats", {})}
    round_id: int = create_round(client, officer, seats=seats, **changes)["id"]
    rng = np.random.default_rng(9)
    bodies = []
    for home, name in zip(homes(computed, count, seed=13), names(), strict=False):
        choices = [SCHOOLS[0], SCHOOLS[1], SCHOOLS[int(rng.integers(2, 7))]]
        rng.shuffle(choices[:2])
        extra: dict[str, Any] = {"choices": choices[: int(rng.integers(1, 4))]}
        if rng.random() < 0.2:
            extra["sibling_school_codes"] = [SCHOOLS[1]]
        if rng.random() < 0.1:
            extra["priority_category"] = "con_liet_si"
        bodies.append(application(home, name=name, **extra))
    submit(client, round_id, officer, bodies)
    return round_id


def _run(client: TestClient, officer: str, round_id: int, **body: Any) -> dict[str, Any]:
    return json_object(
        client.post(f"/api/v1/rounds/{round_id}/placement", json=body, headers=auth(officer)),
        201,
    )


def _results(session: Session, run_id: int) -> str:
    rows = placement_runs_repository.run_results(session, run_id)
    payload = [
        [a.application_id, r.school_code, r.choice_rank, r.guaranteed, r.distance_m, r.explanation]
        for a, r in rows
    ]
    session.rollback()  # SQLite: end the read before the service writes
    return json.dumps(payload, sort_keys=True, ensure_ascii=False)


def test_the_same_seed_gives_byte_identical_results(
    client: TestClient, officer: str, session: Session, computed: Computed
) -> None:
    round_id = _crowded_round(client, officer, computed)
    first = _run(client, officer, round_id, seed=42)
    again = _run(client, officer, round_id, seed=42)
    other = _run(client, officer, round_id, seed=43)
    assert first["status"] == again["status"] == "done"
    assert first["digest"] == again["digest"]
    assert first["inputs_sha256"] == again["inputs_sha256"]
    assert first["statistics"] == again["statistics"]
    assert _results(session, first["id"]) == _results(session, again["id"])
    assert other["digest"] != first["digest"]
    assert other["inputs_sha256"] != first["inputs_sha256"]
    # the frozen inputs are served as they were hashed
    inputs = client.get(
        f"/api/v1/rounds/{round_id}/placement/{first['id']}/inputs", headers=auth(officer)
    )
    assert hashlib.sha256(inputs.content).hexdigest() == first["inputs_sha256"]
    frozen = inputs.json()
    assert (frozen["seed"], frozen["mechanism"], frozen["mode"]) == (
        42,
        "deferred_acceptance",
        "walk",
    )
    assert len(frozen["applications"]) == 40
    assert [s["seats"] for s in frozen["schools"][:2]] == [5, 5]
    stats = first["statistics"]
    assert stats["children"] == stats["seated_children"] == 40
    assert stats["guaranteed_children"] > 0
    by_code = {s["code"]: s for s in stats["schools"]}
    assert by_code[SCHOOLS[0]]["seated"] == by_code[SCHOOLS[1]]["seated"] == 5
    # the typed answers serve the figures and explanations exactly as they were saved
    stored = placement_runs_repository.get_run(session, round_id, first["id"]).statistics
    application, result = placement_runs_repository.run_results(session, first["id"])[-1]
    session.rollback()
    assert json.dumps(stats, ensure_ascii=False) == json.dumps(stored, ensure_ascii=False)
    explained = client.get(
        f"/api/v1/rounds/{round_id}/placement/{first['id']}/explain/{application.application_id}",
        headers=auth(officer),
    )
    assert json.dumps(json_object(explained, 200)["explanation"], ensure_ascii=False) == json.dumps(
        result.explanation, ensure_ascii=False
    )
    # a random seed is drawn and recorded when none is given
    drawn = _run(client, officer, round_id)
    assert 0 <= drawn["seed"] <= placement_runs.MAX_SEED


def test_explanations_name_the_cutoff_and_the_guarantee(
    client: TestClient, officer: str, session: Session, computed: Computed
) -> None:
    round_id = _crowded_round(client, officer, computed)
    run = _run(client, officer, round_id, seed=7)
    frozen = json.loads(placement_runs_repository.run_inputs(session, round_id, run["id"]) or "")
    codes = [s["code"] for s in frozen["schools"]]
    seats = {s["code"]: s["seats"] for s in frozen["schools"]}
    seated = {s["code"]: s["seated"] for s in run["statistics"]["schools"]}
    distances = {a["application_id"]: a["distance_m"] for a in frozen["applications"]}
    cutoffs = {s["code"]: s["cutoff"] for s in run["statistics"]["schools"]}
    order = run["statistics"]["priority_order"]
    assert order == ["sibling", "priority_category", "everyone"]
    guaranteed = 0
    for application_row, result in placement_runs_repository.run_results(session, run["id"]):
        told = result.explanation
        assert told["school_code"] == result.school_code
        for choice in told["choices"]:
            if choice["outcome"] != "below_cutoff":
                continue
            # a child refused by a school ranks below its last admitted child
            cutoff = cutoffs[choice["school_code"]]
            mine = (order.index(choice["priority"]), choice["distance_m"])
            assert mine >= (order.index(cutoff["priority"]), cutoff["distance_m"])
            assert f"'{cutoff['priority']}'" in choice["detail"]
        if told["guaranteed"]:
            guaranteed += 1
            assert told["choice_rank"] is None
            assert all(c["outcome"] != "placed" for c in told["choices"])
            # the seat is at a school with room, no farther than any school left with room
            row = distances[application_row.application_id]
            free = [c for c in codes if seated[c] < seats[c]]
            assert told["distance_m"] <= min(row[codes.index(c)] for c in free) + 0.1
    assert guaranteed == run["statistics"]["guaranteed_children"] > 0
    assert sum(seated.values()) == 40
    assert all(seated[c] <= seats[c] for c in codes)


def _snapshot(session: Session) -> dict[str, Any]:
    session.rollback()
    runs = session.execute(select(PlacementRun.id, PlacementRun.status)).all()
    results = session.execute(
        select(PlacementResult.run_id, func.count()).group_by(PlacementResult.run_id)
    ).all()
    session.rollback()
    return {"runs": sorted(runs), "results": sorted(results)}


def test_a_run_that_fails_midway_leaves_the_store_unchanged(
    client: TestClient,
    officer: str,
    session: Session,
    fast_settings: Settings,
    computed: Computed,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    round_id = _crowded_round(client, officer, computed)
    kept = _run(client, officer, round_id, seed=1)
    before = _snapshot(session)
    kept_results = _results(session, kept["id"])
    assert before == {"runs": [(kept["id"], "done")], "results": [(kept["id"], 40)]}
    networks = NetworkCache(fast_settings)

    def crash_after(calls: int, target: Any) -> Any:
        seen = {"n": 0}

        def wrapped(*args: Any, **kwargs: Any) -> Any:
            seen["n"] += 1
            if seen["n"] > calls:
                msg = "the machine went down"
                raise RuntimeError(msg)
            return target(*args, **kwargs)

        return wrapped

    # killed while explaining the placement, then while writing the results
    for module, name in (
        (placement_runs, "explain_child"),
        (placement_runs_repository, "_result_row"),
    ):
        with monkeypatch.context() as patch:
            patch.setattr(module, name, crash_after(25, getattr(module, name)))
            with pytest.raises(RuntimeError, match="went down"):
                run_placement(session, networks, round_id=round_id, seed=2, audit=CLI_AUDIT)
    after = _snapshot(session)
    failed = [run for run, status in after["runs"] if status == "failed"]
    assert len(failed) == 2
    assert after["results"] == before["results"]
    assert after["runs"] == sorted([*before["runs"], *((run, "failed") for run in failed)])
    assert _results(session, kept["id"]) == kept_results
    for run_id in failed:
        record = placement_runs_repository.get_run(session, round_id, run_id)
        assert record.error == "RuntimeError: the machine went down"
        assert record.digest is None
        assert placement_runs_repository.run_inputs(session, round_id, run_id) is None
    fails = audit_repository.audit_entries(session, action="placement.fail")
    assert [int(e.object_id) for e in fails] == failed

    # publishing killed midway publishes nothing
    original = audit_repository.append_audit

    def failing_audit(*args: Any, **kwargs: Any) -> None:
        if kwargs.get("action") == "placement.publish":
            msg = "the machine went down"
            raise RuntimeError(msg)
        original(*args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(audit_repository, "append_audit", failing_audit)
        with pytest.raises(RuntimeError):
            placement_runs.publish_placement(session, round_id, kept["id"], audit=CLI_AUDIT)
    session.rollback()
    assert placement_runs_repository.get_run(session, round_id, kept["id"]).status == "done"
    assert rounds_repository.get_round(session, round_id).status == "open"
    session.rollback()
    published = client.post(
        f"/api/v1/rounds/{round_id}/placement/{kept['id']}/publish", headers=auth(officer)
    )
    assert json_object(published, 200)["digest"] == kept["digest"]
    assert _results(session, kept["id"]) == kept_results


def test_publishing_freezes_the_round(client: TestClient, officer: str, computed: Computed) -> None:
    round_id = _crowded_round(client, officer, computed, count=12)
    boston = _run(client, officer, round_id, seed=5, method="boston")
    assert boston["statistics"]["mechanism"] == "immediate_acceptance"
    assert boston["publishable"] is False
    placed = _run(client, officer, round_id, seed=5)
    base = f"/api/v1/rounds/{round_id}/placement"
    refused = client.post(f"{base}/{boston['id']}/publish", headers=auth(officer))
    assert "comparison only" in json_object(refused, 409)["detail"]
    json_object(client.post(f"{base}/{placed['id']}/publish"), 401)
    json_object(client.post(f"{base}/{placed['id']}/publish", headers=auth(officer)), 200)
    # frozen: no other run, no second publication, no new application
    again = client.post(base, json={"seed": 5}, headers=auth(officer))
    assert "frozen" in json_object(again, 409)["detail"]
    json_object(client.post(f"{base}/{placed['id']}/publish", headers=auth(officer)), 409)
    (home,) = homes(computed, 1, seed=99)
    late = client.post(
        f"/api/v1/rounds/{round_id}/applications", json=application(home, name="Đỗ An")
    )
    json_object(late, 409)
    described = client.get(f"/api/v1/rounds/{round_id}").json()
    assert (described["status"], described["published_run_id"]) == ("closed", placed["id"])
    assert [r["id"] for r in client.get(base).json()] == [placed["id"]]
    json_object(client.post(f"{base}/999/publish", headers=auth(officer)), 404)


def test_a_killed_run_is_failed_by_the_next_one(
    client: TestClient, officer: str, session: Session, fast_settings: Settings, computed: Computed
) -> None:
    round_id = _crowded_round(client, officer, computed, count=5)
    killed = placement_runs_repository.start_run(
        session, round_id, method="deferred_acceptance", seed=3, actor="tester"
    )
    session.commit()
    later = _run(client, officer, round_id, seed=3)
    session.rollback()
    assert placement_runs_repository.get_run(session, round_id, killed.id).status == "running"
    session.execute(
        update(PlacementRun)
        .where(PlacementRun.id == killed.id)
        .values(started_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=2))
    )
    session.commit()
    run_placement(session, NetworkCache(fast_settings), round_id=round_id, seed=3, audit=CLI_AUDIT)
    stale = placement_runs_repository.get_run(session, round_id, killed.id)
    assert stale.status == "failed"
    assert stale.error is not None
    assert stale.error.startswith("interrupted")
    assert placement_runs_repository.get_run(session, round_id, later["id"]).status == "done"
    with pytest.raises(ConflictError):
        placement_runs_repository.save_run_results(
            session,
            round_id,
            killed.id,
            placement_runs_repository.RunOutcome("{}", "0" * 64, "0" * 64, {}, ()),
        )


def test_a_run_left_running_by_a_crash_is_failed_when_the_service_starts(
    client: TestClient, officer: str, session: Session, fast_settings: Settings, computed: Computed
) -> None:
    round_id = _crowded_round(client, officer, computed, count=5)
    crashed = placement_runs_repository.start_run(
        session, round_id, method="deferred_acceptance", seed=3, actor="tester"
    )
    session.commit()
    with TestClient(create_app(fast_settings)) as restarted:
        answered = json_object(
            restarted.get(
                f"/api/v1/rounds/{round_id}/placement/{crashed.id}", headers=auth(officer)
            ),
            200,
        )
        assert answered["status"] == "failed"
        assert answered["error"].startswith("interrupted: the service stopped")
        inputs = restarted.get(
            f"/api/v1/rounds/{round_id}/placement/{crashed.id}/inputs", headers=auth(officer)
        )
        assert "did not finish" in json_object(inputs, 409)["detail"]
    session.rollback()
    failed = placement_runs_repository.get_run(session, round_id, crashed.id)
    assert failed.finished_at is not None
    assert placement_runs_repository.run_results(session, crashed.id) == []
    session.rollback()
    assert _run(client, officer, round_id, seed=3)["status"] == "done"


def test_a_round_without_seats_or_applications_cannot_be_placed(
    client: TestClient, officer: str, computed: Computed
) -> None:
    empty = create_round(client, officer, name="empty")["id"]
    refused = client.post(f"/api/v1/rounds/{empty}/placement", json={}, headers=auth(officer))
    assert "no applications" in json_object(refused, 409)["detail"]
    unseated = create_round(client, officer, name="no seats", default_first_grade_classes=None)
    (home,) = homes(computed, 1, seed=8)
    submit(client, unseated["id"], officer, [application(home)])
    refused = client.post(
        f"/api/v1/rounds/{unseated['id']}/placement", json={"seed": 1}, headers=auth(officer)
    )
    assert "seats of schools" in json_object(refused, 422)["detail"]
    runs = client.get(f"/api/v1/rounds/{unseated['id']}/placement", headers=auth(officer))
    assert [r["status"] for r in runs.json()] == ["failed"]
    bad = client.post(
        f"/api/v1/rounds/{empty}/placement", json={"method": "lottery"}, headers=auth(officer)
    )
    json_object(bad, 422)


def test_rounds_runs_and_the_audit_log_survive_backup_and_restore(
    client: TestClient,
    officer: str,
    session: Session,
    fast_settings: Settings,
    computed: Computed,
    tmp_path: Path,
) -> None:
    round_id = _crowded_round(client, officer, computed, count=6)
    run = _run(client, officer, round_id, seed=8)
    kept = _results(session, run["id"])
    audited = len(audit_repository.audit_entries(session))
    session.rollback()
    engine = open_engine(fast_settings)
    try:
        suffix = ".sqlite" if fast_settings.database_url is None else ".dump"
        backup_store(engine, tmp_path / f"store{suffix}")
        _run(client, officer, round_id, seed=9)
        engine.dispose()
        restore_store(engine, tmp_path / f"store{suffix}")
        with Session(engine) as restored:
            runs = placement_runs_repository.list_runs(restored, round_id)
            assert [(r.id, r.digest) for r in runs] == [(run["id"], run["digest"])]
            assert _results(restored, run["id"]) == kept
            assert len(audit_repository.audit_entries(restored)) == audited
        # still append-only
        with engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
            conn.execute(text("DELETE FROM audit_log"))
    finally:
        engine.dispose()
