"""Test stores of both backends: templates with the bundled district, copies, empty stores.

The bundled district is loaded once per backend into a template (a SpatiaLite file, a
PostgreSQL template database); a test store is a copy of it. PostgreSQL copies are made one
ahead and dropped behind in a background thread, so a test waits for neither.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from gis_service.db import admission_models, repository  # noqa: F401  (its tables)
from gis_service.db.base import Base
from gis_service.settings import Settings
from gis_service.startup import open_engine, prepare_store

STORES = ("spatialite", "postgis")
DISTRICT_CODE = "770"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def postgres_server_url() -> str:
    """Return the PostgreSQL server of the tests (``SCHOOLGIS_TEST_POSTGRES_URL``)."""
    return os.environ.get("SCHOOLGIS_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def _admin_engine(server_url: str) -> Engine:
    return create_engine(server_url, isolation_level="AUTOCOMMIT")


def database_url(server_url: str, name: str) -> str:
    """Return the URL of the database ``name`` on the server of ``server_url``."""
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def create_database(server_url: str, name: str, *, template: str | None = None) -> None:
    """Create the database ``name``, empty or as a copy of ``template``."""
    admin = _admin_engine(server_url)
    with admin.connect() as conn:
        suffix = f' TEMPLATE "{template}"' if template else ""
        conn.execute(text(f'CREATE DATABASE "{name}"{suffix}'))
    admin.dispose()


def drop_database(server_url: str, name: str) -> None:
    """Drop the database ``name`` (closing its connections)."""
    admin = _admin_engine(server_url)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def postgis_problem(server_url: str) -> str | None:
    """Return why the server cannot hold test stores, or ``None`` when it can."""
    admin = _admin_engine(server_url)
    try:
        with admin.connect() as conn:
            available = conn.scalar(
                text("SELECT count(*) FROM pg_available_extensions WHERE name = 'postgis'")
            )
    except Exception as error:  # noqa: BLE001
        return f"PostgreSQL is not reachable at {server_url}: {error}"
    finally:
        admin.dispose()
    if not available:
        return "PostGIS is not installed on the PostgreSQL server (postgresql-NN-postgis-3)"
    return None


class DatabaseCopies:
    """Copies of a template database, one made ahead and the used ones dropped behind.

    One background thread creates and drops, in the order asked; :meth:`close` waits for it
    and raises the first error it met.
    """

    def __init__(self, server_url: str, template: str) -> None:
        self.server_url = server_url
        self.template = template
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-databases")
        self._ahead: Future[str] | None = None
        self._drops: list[Future[None]] = []

    def _create(self) -> str:
        name = f"schoolgis_test_{uuid.uuid4().hex[:12]}"
        create_database(self.server_url, name, template=self.template)
        return name

    def take(self) -> str:
        """Return the name of a fresh copy, and start making the next one."""
        ready = self._ahead or self._thread.submit(self._create)
        self._ahead = self._thread.submit(self._create)
        return ready.result()

    def release(self, name: str) -> None:
        """Drop the copy ``name`` in the background."""
        self._drops.append(self._thread.submit(drop_database, self.server_url, name))

    def close(self) -> None:
        """Drop the copy made ahead, wait for every drop; raise the first failure."""
        if self._ahead is not None:
            self.release(self._ahead.result())
            self._ahead = None
        self._thread.shutdown(wait=True)
        for dropped in self._drops:
            dropped.result()


@dataclass(frozen=True)
class Templates:
    """Where the per-backend templates with the bundled district live."""

    spatialite_file: Path
    networks_dir: Path
    postgis_server: str
    postgis_copies: DatabaseCopies


def create_templates(root: Path, server_url: str) -> Templates:
    """Load the bundled district into a SpatiaLite file under ``root`` and a new database."""
    spatialite_settings = Settings(data_dir=root, database_url=None)
    engine = open_engine(spatialite_settings)
    prepare_store(engine, spatialite_settings)
    engine.dispose()

    template = f"schoolgis_template_{uuid.uuid4().hex[:12]}"
    create_database(server_url, template)
    postgis_settings = Settings(data_dir=root, database_url=database_url(server_url, template))
    engine = open_engine(postgis_settings)
    prepare_store(engine, postgis_settings)
    with engine.connect() as conn:
        version = conn.scalar(text("SELECT postgis_version()"))
    engine.dispose()
    if not version:
        msg = f"PostGIS is not enabled in {template}"
        raise RuntimeError(msg)
    return Templates(
        spatialite_file=root / "schoolgis.sqlite",
        networks_dir=root / "networks",
        postgis_server=server_url,
        postgis_copies=DatabaseCopies(server_url, template),
    )


def drop_templates(templates: Templates) -> None:
    """Drop every PostgreSQL copy and the template database."""
    try:
        templates.postgis_copies.close()
    finally:
        drop_database(templates.postgis_server, templates.postgis_copies.template)


def make_store_settings(kind: str, templates: Templates, data_dir: Path) -> Iterator[Settings]:
    """Yield settings of a fresh copy of the template store of ``kind`` under ``data_dir``."""
    data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copytree(templates.networks_dir, data_dir / "networks")
    if kind == "spatialite":
        shutil.copyfile(templates.spatialite_file, data_dir / "schoolgis.sqlite")
        yield Settings(data_dir=data_dir, database_url=None)
        return
    copies = templates.postgis_copies
    name = copies.take()
    try:
        yield Settings(data_dir=data_dir, database_url=database_url(copies.server_url, name))
    finally:
        copies.release(name)


def empty_store_settings(kind: str, server_url: str, data_dir: Path) -> Iterator[Settings]:
    """Yield settings of an empty store (no schema, no district) of ``kind``."""
    if kind == "spatialite":
        yield Settings(data_dir=data_dir, database_url=None, load_bundled_district=False)
        return
    name = f"schoolgis_empty_{uuid.uuid4().hex[:12]}"
    create_database(server_url, name)
    try:
        yield Settings(
            data_dir=data_dir,
            database_url=database_url(server_url, name),
            load_bundled_district=False,
        )
    finally:
        drop_database(server_url, name)


def create_token(engine: Engine, role: str, name: str | None = None) -> str:
    """Create an API key of ``role`` (named ``test-ROLE`` by default); return its token."""
    with Session(engine) as session:
        token = repository.create_api_key(session, name=name or f"test-{role}", role=role)
        session.commit()
    return token


def make_token(settings: Settings, role: str, name: str | None = None) -> str:
    """Create an API key of ``role`` in the store of ``settings``; return its token."""
    engine = open_engine(settings)
    try:
        return create_token(engine, role, name)
    finally:
        engine.dispose()


def row_counts(settings: Settings) -> dict[str, int]:
    """Return the number of rows of every table of the service in the store of ``settings``."""
    engine = open_engine(settings)
    try:
        with engine.connect() as conn:
            return {
                table.name: conn.scalar(select(func.count()).select_from(table)) or 0
                for table in Base.metadata.sorted_tables
            }
    finally:
        engine.dispose()
