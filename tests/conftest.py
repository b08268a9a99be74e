"""Shared fixtures: every store test runs on SpatiaLite and on a real PostGIS.

The bundled district is loaded once per backend into a template (a SpatiaLite file, a
PostgreSQL template database); each test gets its own copy, so tests never see each other's
rows. PostGIS runs on the machine's PostgreSQL server (``SCHOOLGIS_TEST_POSTGRES_URL``,
default ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``); an unreachable server or
a missing PostGIS fails the run, it is never skipped.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, sync_playwright
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from gis_service.app import create_app
from gis_service.db import repository
from gis_service.settings import Settings
from gis_service.startup import open_engine, prepare_store

STORES = ("spatialite", "postgis")
DISTRICT_CODE = "770"
#: Debian's Chromium, driven by Playwright (never a downloaded browser).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
#: Where browser tests save their screenshots (test artefacts).
SCREENSHOTS = Path(__file__).resolve().parents[1] / "build" / "screenshots"


@dataclass(frozen=True)
class Templates:
    """Where the per-backend templates with the bundled district live."""

    spatialite_file: Path
    networks_dir: Path
    postgis_server: str
    postgis_template: str


def _admin_engine(server_url: str) -> Engine:
    return create_engine(server_url, isolation_level="AUTOCOMMIT")


def _database_url(server_url: str, name: str) -> str:
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def _create_database(server_url: str, name: str, *, template: str | None = None) -> None:
    admin = _admin_engine(server_url)
    with admin.connect() as conn:
        suffix = f' TEMPLATE "{template}"' if template else ""
        conn.execute(text(f'CREATE DATABASE "{name}"{suffix}'))
    admin.dispose()


def _drop_database(server_url: str, name: str) -> None:
    admin = _admin_engine(server_url)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def postgis_server() -> str:
    url = os.environ.get(
        "SCHOOLGIS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    admin = _admin_engine(url)
    try:
        with admin.connect() as conn:
            available = conn.scalar(
                text("SELECT count(*) FROM pg_available_extensions WHERE name = 'postgis'")
            )
    except Exception as error:  # noqa: BLE001
        pytest.fail(f"PostgreSQL is not reachable at {url}: {error}")
    finally:
        admin.dispose()
    if not available:
        pytest.fail("PostGIS is not installed on the PostgreSQL server (postgresql-NN-postgis-3)")
    return url


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory, postgis_server: str) -> Iterator[Templates]:
    root = tmp_path_factory.mktemp("templates")
    spatialite_settings = Settings(data_dir=root, database_url=None)
    engine = open_engine(spatialite_settings)
    prepare_store(engine, spatialite_settings)
    engine.dispose()

    template = f"schoolgis_template_{uuid.uuid4().hex[:12]}"
    _create_database(postgis_server, template)
    postgis_settings = Settings(data_dir=root, database_url=_database_url(postgis_server, template))
    engine = open_engine(postgis_settings)
    prepare_store(engine, postgis_settings)
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT postgis_version()"))
    engine.dispose()
    try:
        yield Templates(
            spatialite_file=root / "schoolgis.sqlite",
            networks_dir=root / "networks",
            postgis_server=postgis_server,
            postgis_template=template,
        )
    finally:
        _drop_database(postgis_server, template)


def make_store_settings(kind: str, templates: Templates, data_dir: Path) -> Iterator[Settings]:
    """Yield settings of a fresh copy of the template store of ``kind`` under ``data_dir``."""
    data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copytree(templates.networks_dir, data_dir / "networks")
    if kind == "spatialite":
        shutil.copyfile(templates.spatialite_file, data_dir / "schoolgis.sqlite")
        yield Settings(data_dir=data_dir, database_url=None)
        return
    name = f"schoolgis_test_{uuid.uuid4().hex[:12]}"
    _create_database(templates.postgis_server, name, template=templates.postgis_template)
    try:
        yield Settings(
            data_dir=data_dir, database_url=_database_url(templates.postgis_server, name)
        )
    finally:
        _drop_database(templates.postgis_server, name)


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
    data_dir = tmp_path / "empty"
    if store_kind == "spatialite":
        yield Settings(data_dir=data_dir, database_url=None, load_bundled_district=False)
        return
    name = f"schoolgis_empty_{uuid.uuid4().hex[:12]}"
    _create_database(postgis_server, name)
    try:
        yield Settings(
            data_dir=data_dir,
            database_url=_database_url(postgis_server, name),
            load_bundled_district=False,
        )
    finally:
        _drop_database(postgis_server, name)


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


def _token(engine: Engine, role: str) -> str:
    with Session(engine) as session:
        token = repository.create_api_key(session, name=f"test-{role}", role=role)
        session.commit()
    return token


@pytest.fixture
def editor_token(engine: Engine) -> str:
    return _token(engine, "registry_editor")


@pytest.fixture
def planner_token(engine: Engine) -> str:
    return _token(engine, "planner")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Chromium for the browser tests (a missing Chromium fails them)."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
        yield launched
        launched.close()
