"""Shared fixtures: every store test runs on SpatiaLite and on a real PostGIS.

Each test that may write gets its own copy of a template store holding the bundled district
(:mod:`tests.support.stores`), so tests never see each other's rows. PostGIS runs on the
machine's PostgreSQL server (``SCHOOLGIS_TEST_POSTGRES_URL``, default
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``); an unreachable server or a
missing PostGIS fails the run, it is never skipped.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, sync_playwright
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from gis_service.app import create_app
from gis_service.settings import Settings
from gis_service.startup import open_engine
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS
from tests.support.stores import (
    STORES,
    Templates,
    create_templates,
    create_token,
    drop_templates,
    empty_store_settings,
    make_store_settings,
    postgis_problem,
    postgres_server_url,
)

# the suite sends hundreds of requests from one client; the rate limits have their own tests
os.environ["SCHOOLGIS_RATE_LIMIT_ENABLED"] = "false"


@pytest.fixture(scope="session")
def postgis_server() -> str:
    url = postgres_server_url()
    problem = postgis_problem(url)
    if problem is not None:
        pytest.fail(problem)
    return url


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory, postgis_server: str) -> Iterator[Templates]:
    made = create_templates(tmp_path_factory.mktemp("templates"), postgis_server)
    try:
        yield made
    finally:
        drop_templates(made)


@pytest.fixture(params=STORES)
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(store_kind: str, templates: Templates, tmp_path: Path) -> Iterator[Settings]:
    """Settings of a store holding the bundled district, one fresh copy per test."""
    yield from make_store_settings(store_kind, templates, tmp_path / "data")


@pytest.fixture
def empty_settings(store_kind: str, postgis_server: str, tmp_path: Path) -> Iterator[Settings]:
    """Settings of an empty store (no schema, no district) of each backend."""
    yield from empty_store_settings(store_kind, postgis_server, tmp_path / "empty")


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = open_engine(settings)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine) as session:
        yield session


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def editor_token(engine: Engine) -> str:
    return create_token(engine, "registry_editor")


@pytest.fixture
def planner_token(engine: Engine) -> str:
    return create_token(engine, "planner")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Chromium for the browser tests (a missing Chromium fails them)."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
        yield launched
        launched.close()
