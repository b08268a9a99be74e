"""Requests past what the service can take at once answer 503 with Retry-After, at once."""

from __future__ import annotations

from fastapi.testclient import TestClient

from gis_service.app import LOOKUPS_AT_ONCE, create_app
from gis_service.db.engine import is_sqlite, make_engine
from gis_service.settings import Settings
from tests.support.http import problem


def test_a_request_without_a_free_connection_answers_503_with_retry_after(
    fast_settings: Settings,
) -> None:
    url = fast_settings.store_url
    spatialite = fast_settings.resolved_spatialite_path() if is_sqlite(url) else None
    engine = make_engine(url, spatialite_path=spatialite, pool_size=1, pool_timeout_s=0.1)
    with TestClient(create_app(fast_settings)) as client:
        client.app.state.engine = engine  # type: ignore[attr-defined]
        with engine.connect():
            busy = client.get("/api/v1/health")
            body = problem(busy, 503, "in use")
            assert busy.headers["retry-after"] == "1"
            assert body["title"] == "Store busy"
        assert client.get("/api/v1/health").json()["status"] == "ok"
    engine.dispose()


def test_a_lookup_past_those_computed_at_once_answers_503_with_retry_after(
    zoned_read_only_client: TestClient,
) -> None:
    home = {"lat": 10.7800, "lon": 106.6850}
    slots = zoned_read_only_client.app.state.lookup_slots  # type: ignore[attr-defined]
    for _ in range(LOOKUPS_AT_ONCE):
        assert slots.acquire(blocking=False)
    try:
        busy = zoned_read_only_client.get("/api/v1/eligibility", params=home)
        body = problem(busy, 503, "too many look-ups")
        assert busy.headers["retry-after"] == "1"
        assert body["title"] == "Service busy"
    finally:
        for _ in range(LOOKUPS_AT_ONCE):
            slots.release()
    assert zoned_read_only_client.get("/api/v1/eligibility", params=home).status_code == 200
