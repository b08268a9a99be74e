"""SpatiaLite and PostGIS give the same answers to the same questions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.shared import SharedStores, unchanged
from tests.support.stores import STORES

QUERIES = [
    "/api/v1/schools",
    "/api/v1/schools?q=truong&limit=5&offset=3",
    "/api/v1/schools?q=Tiểu học",
    "/api/v1/schools?q=le quy don",
    "/api/v1/schools?level=thpt",
    "/api/v1/schools?ward=27139",
    "/api/v1/schools?bbox=106.675,10.775,106.690,10.790",
    "/api/v1/schools?status=closed",
    "/api/v1/schools/79770005",
    "/api/v1/wards",
    "/api/v1/schools/nope",
    "/api/v1/schools?bbox=1,2,3",
]
VOLATILE = {"updated_at", "changed_at", "loaded_at", "registered_at", "instance"}


def _stable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    return value


@pytest.fixture
def clients(shared_stores: SharedStores) -> Iterator[dict[str, TestClient]]:
    """The service on the shared read-only store of each backend."""
    with ExitStack() as stack:
        found = {}
        for kind in STORES:
            stack.enter_context(unchanged(shared_stores.settings("district", kind)))
            found[kind] = shared_stores.client("district", kind)
        yield found


def test_same_answers_on_both_stores(clients: dict[str, TestClient]) -> None:
    for query in QUERIES:
        answers = {kind: client.get(query) for kind, client in clients.items()}
        statuses = {kind: a.status_code for kind, a in answers.items()}
        assert len(set(statuses.values())) == 1, (query, statuses)
        bodies = [_stable(a.json()) for a in answers.values()]
        assert bodies[0] == bodies[1], query
    assert clients["postgis"].get("/api/v1/health").json()["store"] == "postgresql"
    assert clients["spatialite"].get("/api/v1/health").json()["store"] == "sqlite"
