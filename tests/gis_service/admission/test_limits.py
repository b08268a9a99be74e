"""Rate limits per client, counted in memory and in the real Redis server, on both stores."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx2 as httpx
import pytest
import redis
from fastapi.testclient import TestClient

from gis_service.app import create_app
from gis_service.settings import Settings
from tests.support.admission import application, audit_entries, create_round, homes, submit
from tests.support.http import auth, json_object, problem
from tests.support.stores import make_token
from tests.support.zones import Computed

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(params=["memory", "redis"])
def limit_storage(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """Where the counts are kept: memory, or the Redis server under a prefix of this test."""
    if request.param == "memory":
        yield {"rate_limit_storage": "memory://"}
        return
    prefix = f"schoolgis-test-{uuid.uuid4().hex}"
    server = redis.Redis.from_url(REDIS_URL)
    try:
        yield {"rate_limit_storage": REDIS_URL, "rate_limit_key_prefix": prefix}
        assert server.keys(f"{prefix}*"), "the counts were not kept in Redis"
    finally:
        for key in server.scan_iter(f"{prefix}*"):
            server.delete(key)
        server.close()


def _limited(settings: Settings, storage: dict[str, Any], **limits: str) -> Settings:
    return settings.model_copy(update={"rate_limit_enabled": True, **storage, **limits})


def _refused(response: httpx.Response, *words: str) -> int:
    """Check a 429 problem naming ``words``; return its ``Retry-After`` seconds."""
    problem(response, 429, *words)
    retry_after_s = int(response.headers["retry-after"])
    assert 1 <= retry_after_s <= 3600
    return retry_after_s


def test_anonymous_applications_past_the_limit_are_refused(
    fast_settings: Settings, computed: Computed, limit_storage: dict[str, Any]
) -> None:
    settings = _limited(fast_settings, limit_storage, rate_limit_writes="2/minute")
    officer = make_token(settings, "enrolment_officer")
    first, second, third, fourth = homes(computed, 4, seed=31)
    with TestClient(create_app(settings)) as client:
        round_id = create_round(client, officer)["id"]
        url = f"/api/v1/rounds/{round_id}/applications"
        for home in (first, second):
            json_object(client.post(url, json=application(home)), 201)
        retry_after_s = _refused(client.post(url, json=application(third)), "submissions")
        assert retry_after_s <= 60
        # staff keys are not counted
        submit(client, round_id, officer, [application(third), application(fourth)])
        stored = audit_entries(settings, action="application.create", round_id=round_id)
        assert len(stored) == 4
        documented = client.get("/openapi.json").json()["paths"]
        refusal = documented["/api/v1/rounds/{round_id}/applications"]["post"]["responses"]["429"]
        assert "Retry-After" in refusal["headers"]
        assert "application/problem+json" in refusal["content"]


def test_wrong_secrets_are_counted_throttled_and_audited_once_per_window(
    fast_settings: Settings, computed: Computed, limit_storage: dict[str, Any]
) -> None:
    settings = _limited(
        fast_settings,
        limit_storage,
        rate_limit_secret_failures="5/hour",
        rate_limit_secret_lookups="100/minute",
    )
    officer = make_token(settings, "enrolment_officer")
    with TestClient(create_app(settings)) as client:
        round_id = create_round(client, officer)["id"]
        (mine,) = submit(client, round_id, officer, [application(homes(computed, 1)[0])])
        lookup = "/api/v1/applications/lookup"
        wrong = {"application_id": mine.application_id, "secret": "AAAA-BBBB-CCCC-DDDD"}
        guesses = [client.post(lookup, json=wrong) for _ in range(40)]
        assert [g.status_code for g in guesses] == [404] * 5 + [429] * 35
        _refused(guesses[-1], "secrets that did not match")
        # past the limit even the right secret waits: guessing cannot go on
        right = {"application_id": mine.application_id, "secret": mine.secret}
        _refused(client.post(lookup, json=right), "secrets that did not match")
        url = f"/api/v1/applications/{mine.application_id}"
        _refused(client.get(url, headers={"X-Application-Secret": mine.secret}))
        json_object(client.get(url, headers=auth(officer)), 200)
    denied = audit_entries(settings, action="application.denied")
    assert [(e.object_id, (e.detail or {}).get("failures_in_window")) for e in denied] == [
        (mine.application_id, 1),
        (mine.application_id, 5),
    ]
    assert all(e.detail and e.detail["limit"] == "5 per 1 hour" for e in denied)


def test_look_ups_past_the_limit_are_refused(
    zoned_read_only_settings: Settings, computed: Computed, limit_storage: dict[str, Any]
) -> None:
    settings = _limited(zoned_read_only_settings, limit_storage, rate_limit_lookups="3/minute")
    (home,) = homes(computed, 1, seed=5)
    params = {"lon": home[0], "lat": home[1]}
    with TestClient(create_app(settings)) as client:
        for _ in range(2):
            json_object(client.get("/api/v1/eligibility", params=params), 200)
        json_object(client.get("/api/v1/schools", params={"q": "Lê"}), 200)
        _refused(client.get("/api/v1/eligibility", params=params), "look-ups")
        _refused(client.get("/api/v1/schools"), "look-ups")
        school = "79770020"
        _refused(
            client.get("/api/v1/route", params={"from": f"{home[1]},{home[0]}", "to": school}),
            "look-ups",
        )
        _refused(client.get("/api/v1/schools/nearest", params=params), "look-ups")
        _refused(client.get(f"/api/v1/isochrones/{school}"), "look-ups")
        # what is not a counted look-up still answers
        json_object(client.get("/api/v1/health"), 200)
        paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/v1/eligibility",
        "/api/v1/schools",
        "/api/v1/route",
        "/api/v1/schools/nearest",
        "/api/v1/isochrones/{code}",
    ):
        assert "429" in paths[path]["get"]["responses"]


def test_look_ups_go_on_uncounted_while_redis_does_not_answer(
    read_only_settings: Settings,
) -> None:
    # nothing listens on port 1: every count fails, the service answers anyway
    unreachable = {"rate_limit_storage": "redis://127.0.0.1:1/0"}
    settings = _limited(read_only_settings, unreachable, rate_limit_lookups="1/minute")
    with TestClient(create_app(settings)) as client:
        for _ in range(3):
            json_object(client.get("/api/v1/schools", params={"q": "Lê"}), 200)


def test_a_rate_limit_that_cannot_be_read_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="10/minute"):
        Settings(rate_limit_writes="ten a minute")
    with pytest.raises(ValueError, match="redis"):
        Settings(rate_limit_storage="memcached://127.0.0.1")
