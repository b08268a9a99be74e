"""Requests past what the service can take at once answer 503 with Retry-After, at once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import anyio
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from gis_service.api.compute import ComputeThreads
from gis_service.app import create_app
from gis_service.db import repository
from gis_service.db.engine import is_sqlite, make_engine
from gis_service.db.models import ApiKey
from gis_service.errors import BusyError
from gis_service.settings import Settings
from gis_service.startup import open_engine, prepare_store
from tests.support.http import problem

_T = TypeVar("_T")


def test_a_request_without_a_free_connection_answers_503_and_health_still_answers(
    fast_settings: Settings,
) -> None:
    url = fast_settings.store_url
    spatialite = fast_settings.resolved_spatialite_path() if is_sqlite(url) else None
    engine = make_engine(url, spatialite_path=spatialite, pool_size=1, pool_timeout_s=0.1)
    with TestClient(create_app(fast_settings)) as client:
        client.app.state.engine = engine  # type: ignore[attr-defined]
        with engine.connect():
            busy = client.get("/api/v1/schools")
            body = problem(busy, 503, "in use")
            assert busy.headers["retry-after"] == "1"
            assert body["title"] == "Store busy"
            # the health check has a connection of its own
            health = client.get("/api/v1/health")
            assert health.status_code == 200, health.text
        assert client.get("/api/v1/schools").status_code == 200
    engine.dispose()


def test_a_reader_holding_a_transaction_neither_blocks_nor_waits_for_a_writer(
    fast_settings: Settings,
) -> None:
    engine = open_engine(fast_settings)
    prepare_store(engine, fast_settings)
    try:
        with Session(engine) as reader, Session(engine) as writer:
            if is_sqlite(fast_settings.store_url):
                mode = reader.execute(text("PRAGMA journal_mode")).scalar()
                assert mode == "wal"
            keys_before = int(reader.scalar(select(func.count()).select_from(ApiKey)) or 0)
            repository.create_api_key(writer, name="written while read", role="planner")
            writer.commit()  # the reader's open transaction does not hold it up
            assert reader.scalar(select(func.count()).select_from(ApiKey)) in {
                keys_before,  # SpatiaLite: the reader keeps its snapshot
                keys_before + 1,  # PostGIS: each statement sees what was committed
            }
        with Session(engine) as later:
            assert later.scalar(select(func.count()).select_from(ApiKey)) == keys_before + 1
    finally:
        engine.dispose()


def test_a_lookup_finding_every_thread_taken_and_the_queue_full_answers_503(
    zoned_read_only_client: TestClient,
) -> None:
    home = {"lat": 10.7800, "lon": 106.6850}
    app = zoned_read_only_client.app
    kept = app.state.lookups  # type: ignore[attr-defined]
    full = ComputeThreads(1, 0, "look-ups")
    portal = zoned_read_only_client.portal
    assert portal is not None
    borrower = object()
    app.state.lookups = full  # type: ignore[attr-defined]
    portal.call(full.limiter.acquire_on_behalf_of_nowait, borrower)
    try:
        busy = zoned_read_only_client.get("/api/v1/eligibility", params=home)
        body = problem(busy, 503, "too many look-ups")
        assert busy.headers["retry-after"] == "1"
        assert body["title"] == "Service busy"
        portal.call(full.limiter.release_on_behalf_of, borrower)
        assert zoned_read_only_client.get("/api/v1/eligibility", params=home).status_code == 200
    finally:
        app.state.lookups = kept  # type: ignore[attr-defined]


def _in_a_loop_of_its_own(main: Callable[[], Awaitable[_T]]) -> _T:
    """Run ``main`` in an event loop of a thread of its own (another test may own this one)."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(anyio.run, main).result()


def test_compute_threads_queue_up_to_their_bound_then_refuse() -> None:
    async def scenario() -> list[str]:
        threads = ComputeThreads(1, 1, "look-ups")
        release = anyio.Event()
        outcomes: list[str] = []

        def work() -> str:
            anyio.from_thread.run(release.wait)
            return "done"

        async def ask() -> None:
            try:
                outcomes.append(await threads.run(work))
            except BusyError as error:
                outcomes.append(f"busy: {error.detail}")

        async with anyio.create_task_group() as group:
            group.start_soon(ask)  # takes the thread
            await anyio.wait_all_tasks_blocked()
            group.start_soon(ask)  # waits for it
            await anyio.wait_all_tasks_blocked()
            await ask()  # finds the queue full
            release.set()
        return outcomes

    outcomes = _in_a_loop_of_its_own(scenario)
    assert outcomes[0] == "busy: too many look-ups at once: try again in a moment"
    assert outcomes[1:] == ["done", "done"]


@pytest.mark.parametrize("waiting", [0, 3])
def test_compute_threads_run_at_once_while_a_thread_is_free(waiting: int) -> None:
    threads = ComputeThreads(2, waiting, "look-ups")
    assert _in_a_loop_of_its_own(lambda: threads.run(lambda: 41 + 1)) == 42
