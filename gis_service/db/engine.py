"""Engines for the two backends: PostGIS (system of record) and a SpatiaLite file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyogrio
import pysqlite3.dbapi2 as sqlite_dbapi
from geoalchemy2.admin.dialects.sqlite import init_spatialite
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import QueuePool

#: Connections kept open: one per worker thread of the service (anyio's default limiter is
#: 40), so a thread that holds a request never waits for a connection another one keeps.
POOL_SIZE = 40
#: Longest wait for a free connection, seconds; past it the request answers 503.
POOL_TIMEOUT_S = 2.0
#: Longest wait of a SpatiaLite writer for the one writer before it, milliseconds.
BUSY_TIMEOUT_MS = 10_000


def is_sqlite(url: str) -> bool:
    """Return whether ``url`` names a SQLite (SpatiaLite) store."""
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(
    url: str,
    *,
    spatialite_path: str | None = None,
    pool_size: int = POOL_SIZE,
    pool_timeout_s: float = POOL_TIMEOUT_S,
) -> Engine:
    """Create the engine for a store URL.

    Parameters
    ----------
    url
        ``postgresql+psycopg://...`` for PostGIS or ``sqlite:///FILE`` for SpatiaLite.
    spatialite_path
        Path of ``mod_spatialite``; required for SQLite URLs.
    pool_size
        Connections kept open; no more are opened.
    pool_timeout_s
        Longest wait for a free connection before ``sqlalchemy.exc.TimeoutError``.

    Returns
    -------
    Engine
        With the spatial extension loaded on every connection.

    Raises
    ------
    ValueError
        If a SQLite URL is given without ``spatialite_path``.
    """
    pool: dict[str, Any] = {
        "poolclass": QueuePool,
        "pool_size": pool_size,
        "max_overflow": 0,
        "pool_timeout": pool_timeout_s,
    }
    if not is_sqlite(url):
        return create_engine(url, plugins=["geoalchemy2"], pool_pre_ping=True, **pool)
    if spatialite_path is None:
        msg = "a SpatiaLite store needs the path of mod_spatialite"
        raise ValueError(msg)
    # This process is about to load the system mod_spatialite; GDAL's SQLite drivers
    # (GeoPackage) would load GDAL's own SpatiaLite beside it, and the two PROJ copies crash
    # the process when a GeoPackage is closed. GDAL needs no SpatiaLite for our files.
    pyogrio.set_gdal_config_options({"SPATIALITE_LOAD": "NO"})
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    else:
        pool = {}  # one in-memory database lives in its one connection
    engine = create_engine(url, module=sqlite_dbapi, **pool)

    @event.listens_for(engine, "connect")
    def _load_spatialite(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, open transactions so SAVEPOINT and DDL behave.
        dbapi_conn.isolation_level = None
        dbapi_conn.enable_load_extension(True)
        dbapi_conn.load_extension(spatialite_path)
        dbapi_conn.enable_load_extension(False)
        dbapi_conn.execute("PRAGMA foreign_keys = ON")
        # readers never wait for a writer nor block one; writers wait their turn
        dbapi_conn.execute("PRAGMA journal_mode = WAL")
        dbapi_conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        init_spatialite(dbapi_conn, init_mode="WGS84")

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN")

    return engine
