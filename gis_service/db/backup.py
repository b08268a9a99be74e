"""Online, consistent backups of a store and their restore, on both backends.

A SpatiaLite store is copied page by page with SQLite's online backup API, in one step, so
the copy is one consistent snapshot even while the service writes; a restore copies the
backup into the live file the same way, inside one write transaction of the store, so
connections that stay open see the restored registry and a failed restore changes nothing.

A PostGIS store is written by ``pg_dump --format=custom`` (consistent by PostgreSQL's
snapshot) and restored by ``pg_restore --clean --if-exists --no-owner --single-transaction``
(a failed restore rolls back). The ``postgis`` extension is not part of the restore: it must
be installed in the target database (it is created when missing), so the restore never drops
or recreates it and works whatever PostGIS version the target runs. Rows of extension tables
such as ``spatial_ref_sys`` are not restored either.

A backup file names its backend by its first bytes: ``SQLite format 3`` for SpatiaLite,
``PGDMP`` for a pg_dump archive. Every file is validated before the store is touched: it must
be readable to the end, hold the registry tables and an ``alembic_version`` this code knows.
A store restored from an older revision is then migrated to the newest one.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pysqlite3.dbapi2 as sqlite_dbapi
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from gis_service.db import admission_models, models  # noqa: F401  (registers the tables)
from gis_service.db.base import Base
from gis_service.db.migrate import MIGRATIONS_DIR, upgrade_schema
from gis_service.errors import ConflictError, InvalidInputError, StoreError

__all__ = [
    "LOCK_TIMEOUT_S",
    "BackupInfo",
    "StoreKind",
    "backup_store",
    "inspect_backup",
    "restore_store",
]

#: The two backends a backup can belong to.
StoreKind = Literal["spatialite", "postgis"]

#: Longest wait for a lock held by another connection of the store before giving up.
LOCK_TIMEOUT_S = 30.0

#: Longest run of one PostgreSQL client tool.
PG_TOOL_TIMEOUT_S = 3600.0

_SQLITE_MAGIC = b"SQLite format 3\x00"
_PG_DUMP_MAGIC = b"PGDMP"
_STORE_NAMES: dict[StoreKind, str] = {"spatialite": "SpatiaLite", "postgis": "PostGIS"}

#: Tables every known revision has; a file without them is not a registry backup.
_CORE_TABLES = frozenset({"alembic_version", "district", "ward", "school"})

#: libpq settings a store URL may carry in its query, and the variables the tools read.
_LIBPQ_QUERY_ENV = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "application_name": "PGAPPNAME",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
}

_NOTHING_CHANGED = "nothing was changed"


@dataclass(frozen=True, slots=True)
class BackupInfo:
    """What a backup file holds.

    Attributes
    ----------
    path
        The backup file.
    store_kind
        The backend it belongs to: ``"spatialite"`` or ``"postgis"``.
    size_bytes
        Size of the file in bytes.
    revision
        The Alembic schema revision of the backed-up store.
    schools
        Number of schools (all districts, every status) in the backup.
    elapsed_s
        Wall-clock seconds the backup, restore or inspection took.
    """

    path: Path
    store_kind: StoreKind
    size_bytes: int
    revision: str
    schools: int
    elapsed_s: float


# --- shared -----------------------------------------------------------------------------


def _store_kind(engine: Engine) -> StoreKind:
    name = engine.dialect.name
    if name == "sqlite":
        return "spatialite"
    if name == "postgresql":
        return "postgis"
    msg = f"backups need a SpatiaLite or PostGIS store, not a {name} one"
    raise StoreError(msg)


def _file_kind(path: Path) -> StoreKind:
    try:
        with path.open("rb") as file:
            head = file.read(len(_SQLITE_MAGIC))
    except FileNotFoundError:
        msg = f"there is no backup file at {path}; {_NOTHING_CHANGED}"
        raise InvalidInputError(msg) from None
    except IsADirectoryError:
        msg = f"{path} is a folder, not a backup file; {_NOTHING_CHANGED}"
        raise InvalidInputError(msg) from None
    if head == _SQLITE_MAGIC:
        return "spatialite"
    if head.startswith(_PG_DUMP_MAGIC):
        return "postgis"
    msg = (
        f"{path} is not a schoolgis backup (neither a SpatiaLite database nor a pg_dump "
        f"custom-format archive); {_NOTHING_CHANGED}"
    )
    raise InvalidInputError(msg)


def _check_kind(path: Path, file_kind: StoreKind, store_kind: StoreKind) -> None:
    if file_kind != store_kind:
        msg = (
            f"{path} is a backup of a {_STORE_NAMES[file_kind]} store, but this store is "
            f"{_STORE_NAMES[store_kind]}: restore it into a {_STORE_NAMES[file_kind]} store; "
            f"{_NOTHING_CHANGED}"
        )
        raise InvalidInputError(msg)


def _known_revisions() -> tuple[set[str], str | None]:
    scripts = ScriptDirectory(str(MIGRATIONS_DIR))
    return {script.revision for script in scripts.walk_revisions()}, scripts.get_current_head()


def _check_contents(path: Path, revisions: list[str], tables: set[str]) -> str:
    missing = sorted(_CORE_TABLES - tables)
    if "alembic_version" in missing:
        msg = (
            f"{path} does not hold a schoolgis store (no alembic_version table); {_NOTHING_CHANGED}"
        )
        raise InvalidInputError(msg)
    if len(revisions) != 1:
        msg = f"{path} holds {len(revisions)} schema revisions instead of one; {_NOTHING_CHANGED}"
        raise InvalidInputError(msg)
    revision = revisions[0]
    known, head = _known_revisions()
    if revision not in known:
        msg = (
            f"{path} is at schema revision {revision!r}, which this version of schoolgis does "
            f"not know (newest known: {head}); {_NOTHING_CHANGED}"
        )
        raise InvalidInputError(msg)
    if revision == head:
        missing = sorted(set(Base.metadata.tables) - tables)
    if missing:
        msg = f"{path} lacks the tables {', '.join(missing)}; {_NOTHING_CHANGED}"
        raise InvalidInputError(msg)
    return revision


def _partial_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.partial")


def _check_target(path: Path, *, overwrite: bool) -> None:
    if path.is_dir():
        msg = f"{path} is a folder; name the backup file to write"
        raise InvalidInputError(msg)
    if path.exists() and not overwrite:
        msg = f"{path} already exists; choose another name or allow overwriting it"
        raise ConflictError(msg)
    path.parent.mkdir(parents=True, exist_ok=True)


def backup_store(engine: Engine, path: Path, *, overwrite: bool = False) -> BackupInfo:
    """Write a consistent backup of the store behind ``engine`` to ``path``, online.

    The file is written next to ``path`` under a temporary name, verified by reading it back,
    then renamed, so ``path`` is either the complete backup or untouched.

    Parameters
    ----------
    engine
        Engine of a SpatiaLite or PostGIS store; it may be in use meanwhile.
    path
        The backup file to write: a SQLite database for SpatiaLite, a ``pg_dump``
        custom-format archive for PostGIS.
    overwrite
        Replace ``path`` when it exists.

    Returns
    -------
    BackupInfo
        What was written.

    Raises
    ------
    ConflictError
        If ``path`` exists and ``overwrite`` is false.
    InvalidInputError
        If ``path`` is a folder or the SpatiaLite store file itself.
    StoreError
        If the store cannot be read, ``pg_dump`` is missing or fails.
    """
    started = time.perf_counter()
    kind = _store_kind(engine)
    _check_target(path, overwrite=overwrite)
    partial = _partial_path(path)
    try:
        if kind == "spatialite":
            _sqlite_backup(engine, partial, final=path)
            with closing(_open_sqlite_file(partial)) as written:
                revision, schools = _describe_sqlite(written, partial)
        else:
            tools = _PgTools.for_engine(engine)
            tools.dump(partial)
            revision, schools = tools.describe(partial)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return BackupInfo(
        path=path,
        store_kind=kind,
        size_bytes=path.stat().st_size,
        revision=revision,
        schools=schools,
        elapsed_s=time.perf_counter() - started,
    )


def inspect_backup(engine: Engine, path: Path) -> BackupInfo:
    """Validate ``path`` as a backup that can be restored into the store behind ``engine``.

    Nothing is written: the store is only asked its backend (and PostgreSQL its version).

    Returns
    -------
    BackupInfo
        What the file holds.

    Raises
    ------
    InvalidInputError
        If the file is missing, damaged, not a schoolgis backup, of the other backend, or at
        a schema revision this code does not know.
    StoreError
        If ``pg_restore`` is needed and missing.
    """
    started = time.perf_counter()
    store_kind = _store_kind(engine)
    file_kind = _file_kind(path)
    _check_kind(path, file_kind, store_kind)
    if file_kind == "spatialite":
        with closing(_open_sqlite_file(path)) as source:
            revision, schools = _describe_sqlite(source, path)
    else:
        revision, schools = _PgTools.for_engine(engine).describe(path)
    return BackupInfo(
        path=path,
        store_kind=file_kind,
        size_bytes=path.stat().st_size,
        revision=revision,
        schools=schools,
        elapsed_s=time.perf_counter() - started,
    )


def restore_store(engine: Engine, path: Path) -> BackupInfo:
    """Replace the contents of the store behind ``engine`` with the backup in ``path``.

    The file is validated first (see :func:`inspect_backup`); the store is replaced in one
    transaction, so a failed restore leaves it as it was. A backup at an older schema
    revision is then migrated to the newest one.

    Connections that stay open see the restored registry at once. A connection, of this
    engine or any other client, that sits in a transaction holding a lock on the store (an
    unfinished transaction that read a registry table) blocks the restore: after
    :data:`LOCK_TIMEOUT_S` seconds of waiting it is cancelled and fails. Close sessions
    (idle pooled connections are fine) or stop the service before restoring.

    Parameters
    ----------
    engine
        Engine of the store to overwrite.
    path
        A file written by :func:`backup_store` for the same backend.

    Returns
    -------
    BackupInfo
        What was restored.

    Raises
    ------
    InvalidInputError
        If the file is not a valid backup for this store; the store is untouched.
    StoreError
        If the restore itself fails (the store keeps its previous state).
    """
    started = time.perf_counter()
    store_kind = _store_kind(engine)
    file_kind = _file_kind(path)
    _check_kind(path, file_kind, store_kind)
    if file_kind == "spatialite":
        revision, schools = _sqlite_restore(engine, path)
    else:
        tools = _PgTools.for_engine(engine)
        revision, schools = tools.describe(path)
        _ensure_postgis(engine)
        tools.restore(path, engine)
    if revision != _known_revisions()[1]:
        upgrade_schema(engine)
    return BackupInfo(
        path=path,
        store_kind=file_kind,
        size_bytes=path.stat().st_size,
        revision=revision,
        schools=schools,
        elapsed_s=time.perf_counter() - started,
    )


# --- SpatiaLite -------------------------------------------------------------------------


def _sqlite_store_path(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        msg = f"only a SpatiaLite store in a file can be backed up, not {database or ':memory:'!r}"
        raise StoreError(msg)
    return Path(database)


def _same_file(one: Path, other: Path) -> bool:
    return one.resolve() == other.resolve()


def _open_sqlite_file(path: Path, *, read_only: bool = True) -> Any:
    """Open a plain SQLite connection (no SpatiaLite needed to copy or inspect pages)."""
    if read_only:
        uri = f"{path.resolve().as_uri()}?mode=ro"
        return sqlite_dbapi.connect(uri, uri=True, timeout=LOCK_TIMEOUT_S)
    return sqlite_dbapi.connect(str(path), timeout=LOCK_TIMEOUT_S)


class _LockTimeoutError(Exception):
    """The other end of a SQLite backup stayed locked for too long."""


def _copy_sqlite(source: Any, target: Any) -> None:
    """Copy every page of ``source`` into ``target`` in one step, bounded by the lock timeout."""
    deadline = time.monotonic() + LOCK_TIMEOUT_S
    busy = (sqlite_dbapi.SQLITE_BUSY, sqlite_dbapi.SQLITE_LOCKED)

    def _progress(status: int, _remaining: int, _total: int) -> None:
        if status in busy and time.monotonic() > deadline:
            raise _LockTimeoutError

    source.backup(target, pages=-1, progress=_progress, sleep=0.05)


def _sqlite_backup(engine: Engine, partial: Path, *, final: Path) -> None:
    store = _sqlite_store_path(engine)
    if _same_file(store, final):
        msg = f"{final} is the store itself; write the backup to another file"
        raise InvalidInputError(msg)
    if not store.is_file():
        msg = f"there is no SpatiaLite store at {store}"
        raise StoreError(msg)
    try:
        with (
            closing(_open_sqlite_file(store)) as source,
            closing(_open_sqlite_file(partial, read_only=False)) as target,
        ):
            _copy_sqlite(source, target)
            # the store keeps a write-ahead log; the backup is one self-contained file
            target.execute("PRAGMA journal_mode = DELETE")
    except _LockTimeoutError:
        msg = f"the store {store} stayed locked for {LOCK_TIMEOUT_S:g} s; no backup was written"
        raise StoreError(msg) from None
    except sqlite_dbapi.Error as error:
        msg = f"cannot back up the store {store}: {error}"
        raise StoreError(msg) from error


def _describe_sqlite(connection: Any, path: Path) -> tuple[str, int]:
    """Validate a SQLite backup file; return its schema revision and number of schools."""
    try:
        problems = [row[0] for row in connection.execute("PRAGMA quick_check").fetchall()]
        if problems != ["ok"]:
            msg = f"{path} is damaged ({problems[0]}); {_NOTHING_CHANGED}"
            raise InvalidInputError(msg)
        tables = {
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        if "alembic_version" in tables and "geometry_columns" not in tables:
            msg = f"{path} is a SQLite database but not a SpatiaLite one; {_NOTHING_CHANGED}"
            raise InvalidInputError(msg)
        revisions = (
            [row[0] for row in connection.execute("SELECT version_num FROM alembic_version")]
            if "alembic_version" in tables
            else []
        )
        revision = _check_contents(path, revisions, tables)
        schools = int(connection.execute("SELECT count(*) FROM school").fetchone()[0])
    except sqlite_dbapi.DatabaseError as error:
        msg = f"{path} is not a readable SQLite database ({error}); {_NOTHING_CHANGED}"
        raise InvalidInputError(msg) from error
    return revision, schools


def _sqlite_restore(engine: Engine, path: Path) -> tuple[str, int]:
    store = _sqlite_store_path(engine)
    if store.exists() and _same_file(store, path):
        msg = f"{path} is the store itself; {_NOTHING_CHANGED}"
        raise InvalidInputError(msg)
    with closing(_open_sqlite_file(path)) as source:
        revision, schools = _describe_sqlite(source, path)
        store.parent.mkdir(parents=True, exist_ok=True)
        try:
            with closing(_open_sqlite_file(store, read_only=False)) as target:
                _copy_sqlite(source, target)
        except _LockTimeoutError:
            msg = (
                f"the store {store} stayed locked by another connection for "
                f"{LOCK_TIMEOUT_S:g} s; {_NOTHING_CHANGED}"
            )
            raise StoreError(msg) from None
        except sqlite_dbapi.Error as error:
            msg = f"cannot restore into the store {store} ({error}); {_NOTHING_CHANGED}"
            raise StoreError(msg) from error
    return revision, schools


# --- PostGIS ----------------------------------------------------------------------------

#: A line of ``pg_restore --list``: ``id; tableoid oid DESCRIPTION schema name owner``.
_TOC_TABLE = re.compile(
    r"^\d+; \d+ \d+ (?P<desc>TABLE DATA|TABLE) (?P<schema>\S+) (?P<name>\S+)(?: \S*)?\s*$"
)
_TOC_LEFT_OUT = re.compile(
    r"^\d+; \d+ \d+ (?:EXTENSION |COMMENT - EXTENSION |SCHEMA - public(?: |$))"
)


def _server_major(engine: Engine) -> int:
    try:
        with engine.connect() as connection:
            number = connection.exec_driver_sql("SHOW server_version_num").scalar_one()
    except Exception as error:
        msg = f"cannot reach the PostGIS store: {str(error).splitlines()[0]}"
        raise StoreError(msg) from error
    return int(number) // 10000


def _find_pg_tool(name: str, major: int) -> Path:
    """Return ``name`` for a server of version ``major``: its own release first, then PATH."""
    candidates = [Path(f"/usr/lib/postgresql/{major}/bin/{name}")]
    on_path = shutil.which(name)
    if on_path is not None:
        candidates.append(Path(on_path))
    newer = sorted(
        (p for p in Path("/usr/lib/postgresql").glob(f"*/bin/{name}") if p.parts[-3].isdigit()),
        key=lambda p: int(p.parts[-3]),
    )
    candidates.extend(p for p in newer if int(p.parts[-3]) > major)
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    msg = (
        f"{name} was not found on PATH or in /usr/lib/postgresql/*/bin; install the "
        f"PostgreSQL {major} client tools (Debian: postgresql-client-{major})"
    )
    raise StoreError(msg)


def _first_error_line(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if "error:" in line.lower() or "fatal:" in line.lower()]
    return (errors or lines or ["no message"])[0]


def _copy_blocks(script: str) -> dict[str, list[str]]:
    """Return the rows of each ``COPY table ... FROM stdin`` block of a SQL script."""
    blocks: dict[str, list[str]] = {}
    rows: list[str] | None = None
    for line in script.splitlines():
        if rows is None:
            if line.startswith("COPY ") and line.endswith("FROM stdin;"):
                table = line.split()[1].split(".")[-1].strip('"')
                rows = blocks.setdefault(table, [])
        elif line == "\\.":
            rows = None
        else:
            rows.append(line)
    return blocks


@dataclass(frozen=True, slots=True)
class _PgTools:
    """The PostgreSQL client tools and connection settings for one PostGIS store."""

    pg_dump: Path
    pg_restore: Path
    arguments: tuple[str, ...]
    environment: dict[str, str]
    database: str

    @classmethod
    def for_engine(cls, engine: Engine) -> _PgTools:
        url = engine.url
        if not url.database:
            msg = "the PostGIS store URL names no database"
            raise StoreError(msg)
        major = _server_major(engine)
        environment = dict(os.environ)
        arguments = ["--no-password"]
        host = url.host or _query_value(url.query.get("host"))
        if host:
            arguments.append(f"--host={host}")
        if url.port is not None:
            arguments.append(f"--port={url.port}")
        if url.username:
            arguments.append(f"--username={url.username}")
        if url.password is not None:
            environment["PGPASSWORD"] = str(url.password)
        for key, variable in _LIBPQ_QUERY_ENV.items():
            value = _query_value(url.query.get(key))
            if value is not None:
                environment[variable] = value
        return cls(
            pg_dump=_find_pg_tool("pg_dump", major),
            pg_restore=_find_pg_tool("pg_restore", major),
            arguments=tuple(arguments),
            environment=environment,
            database=url.database,
        )

    def _run(
        self, tool: Path, arguments: list[str], *, environment: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(  # noqa: S603  (absolute tool path, no shell)
                [str(tool), *arguments],
                env=environment or self.environment,
                capture_output=True,
                text=True,
                timeout=PG_TOOL_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired as error:
            msg = f"{tool.name} did not finish within {PG_TOOL_TIMEOUT_S:g} s"
            raise StoreError(msg) from error

    def dump(self, path: Path) -> None:
        """Write the store's database to ``path`` as a custom-format archive."""
        lock_wait = f"--lock-wait-timeout={int(LOCK_TIMEOUT_S * 1000)}"
        result = self._run(
            self.pg_dump,
            [
                "--format=custom",
                lock_wait,
                f"--file={path}",
                *self.arguments,
                f"--dbname={self.database}",
            ],
        )
        if result.returncode != 0:
            msg = f"pg_dump failed: {_first_error_line(result.stderr)}"
            raise StoreError(msg)

    def _table_of_contents(self, path: Path) -> list[str]:
        result = self._run(self.pg_restore, ["--list", str(path)])
        if result.returncode != 0:
            msg = (
                f"{path} is not a readable pg_dump archive ({_first_error_line(result.stderr)}); "
                f"{_NOTHING_CHANGED}"
            )
            raise InvalidInputError(msg)
        return result.stdout.splitlines()

    def describe(self, path: Path) -> tuple[str, int]:
        """Validate an archive; return its schema revision and number of schools."""
        entries = [m for line in self._table_of_contents(path) if (m := _TOC_TABLE.match(line))]
        tables = {m["name"] for m in entries if m["desc"] == "TABLE"}
        with_data = {m["name"] for m in entries if m["desc"] == "TABLE DATA"}
        if "alembic_version" in tables and "alembic_version" not in with_data:
            msg = f"{path} holds the schema but no rows (a schema-only dump); {_NOTHING_CHANGED}"
            raise InvalidInputError(msg)
        # Reading the whole archive catches a truncated or damaged data section now, before
        # the store is touched, rather than half-way through the restore.
        read = self._run(self.pg_restore, [f"--file={os.devnull}", str(path)])
        if read.returncode != 0:
            msg = f"{path} is damaged ({_first_error_line(read.stderr)}); {_NOTHING_CHANGED}"
            raise InvalidInputError(msg)
        revisions: list[str] = []
        schools = 0
        if "alembic_version" in tables:
            script = self._run(
                self.pg_restore,
                ["--data-only", "--table=alembic_version", "--table=school", "--file=-", str(path)],
            )
            if script.returncode != 0:
                msg = f"{path} is damaged ({_first_error_line(script.stderr)}); {_NOTHING_CHANGED}"
                raise InvalidInputError(msg)
            blocks = _copy_blocks(script.stdout)
            revisions = blocks.get("alembic_version", [])
            schools = len(blocks.get("school", []))
        revision = _check_contents(path, revisions, tables)
        return revision, schools

    def restore(self, path: Path, engine: Engine) -> None:
        """Replace the store's registry with the archive in one transaction.

        ``pg_restore`` sets ``lock_timeout = 0`` itself, so the wait for locks held by other
        connections is bounded by watching its backend from ``engine`` instead.
        """
        with _restore_list(self._table_of_contents(path)) as selection:
            environment = dict(self.environment)
            environment["PGAPPNAME"] = f"schoolgis-restore-{uuid.uuid4().hex[:12]}"
            arguments = [
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "--exit-on-error",
                f"--use-list={selection}",
                *self.arguments,
                f"--dbname={self.database}",
                str(path),
            ]
            with engine.connect() as connection:
                watch = _LockWatch(
                    connection.execution_options(isolation_level="AUTOCOMMIT"),
                    environment["PGAPPNAME"],
                )
                returncode, stderr = _run_watched(
                    [str(self.pg_restore), *arguments], environment, watch
                )
        if watch.blocked_by is not None:
            msg = (
                f"the restore waited {LOCK_TIMEOUT_S:g} s for locks held by other connections "
                f"({watch.blocked_by}) and was cancelled; the store keeps its previous state. "
                "Finish their transactions or stop the service, then restore again"
            )
            raise StoreError(msg)
        if returncode != 0:
            msg = (
                f"pg_restore failed, the store keeps its previous state: "
                f"{_first_error_line(stderr)}"
            )
            raise StoreError(msg)


class _LockWatch:
    """Cancel a backend that waits too long for locks held by other connections."""

    def __init__(self, connection: Connection, application_name: str) -> None:
        self._connection = connection
        self._application_name = application_name
        self._waiting_since: float | None = None
        self.blocked_by: str | None = None

    def poll(self) -> None:
        """Look at the watched backend once; cancel it after :data:`LOCK_TIMEOUT_S` of waiting."""
        pid = self._connection.scalar(
            text(
                "SELECT pid FROM pg_stat_activity "
                "WHERE application_name = :name AND wait_event_type = 'Lock'"
            ),
            {"name": self._application_name},
        )
        if pid is None:
            self._waiting_since = None
            return
        now = time.monotonic()
        if self._waiting_since is None:
            self._waiting_since = now
        if self.blocked_by is not None or now - self._waiting_since < LOCK_TIMEOUT_S:
            return
        blockers = self._connection.execute(
            text(
                "SELECT pid, state, application_name FROM pg_stat_activity "
                "WHERE pid = ANY(pg_blocking_pids(:pid)) ORDER BY pid"
            ),
            {"pid": pid},
        ).all()
        self.blocked_by = (
            ", ".join(
                f"pid {row.pid} {row.state}"
                + (f" from {row.application_name}" if row.application_name else "")
                for row in blockers
            )
            or "another connection"
        )
        self._connection.execute(text("SELECT pg_cancel_backend(:pid)"), {"pid": pid})


def _run_watched(
    command: list[str], environment: dict[str, str], watch: _LockWatch
) -> tuple[int, str]:
    """Run ``command``, polling ``watch`` while it runs; return its exit status and stderr."""
    deadline = time.monotonic() + PG_TOOL_TIMEOUT_S
    process = subprocess.Popen(  # noqa: S603  (absolute tool path, no shell)
        command,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        while True:
            try:
                _, stderr = process.communicate(timeout=0.2)
            except subprocess.TimeoutExpired:
                if time.monotonic() > deadline:
                    msg = f"{Path(command[0]).name} did not finish within {PG_TOOL_TIMEOUT_S:g} s"
                    raise StoreError(msg) from None
                watch.poll()
            else:
                return process.returncode, stderr
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def _query_value(value: str | tuple[str, ...] | None) -> str | None:
    if isinstance(value, tuple):
        return value[-1] if value else None
    return value


@contextmanager
def _restore_list(toc: list[str]) -> Iterator[Path]:
    """Yield a ``--use-list`` file of the archive entries to restore.

    Left out: extensions and their comments (PostGIS stays as installed), the ``public``
    schema itself (PostGIS lives in it, so ``--clean`` must not drop it) and rows of tables
    whose definition is not in the archive (extension tables such as ``spatial_ref_sys``).
    """
    tables = [(line, _TOC_TABLE.match(line)) for line in toc]
    defined = {(m["schema"], m["name"]) for _, m in tables if m and m["desc"] == "TABLE"}
    kept = [
        line
        for line, table in tables
        if line[:1].isdigit()
        and not _TOC_LEFT_OUT.match(line)
        and not (
            table
            and table["desc"] == "TABLE DATA"
            and (table["schema"], table["name"]) not in defined
        )
    ]
    with tempfile.TemporaryDirectory(prefix="schoolgis-restore-") as folder:
        selection = Path(folder) / "restore.list"
        selection.write_text("\n".join(kept) + "\n", encoding="utf-8")
        yield selection


def _ensure_postgis(engine: Engine) -> None:
    """Create the ``postgis`` extension in an empty target database."""
    with engine.begin() as connection:
        present = connection.scalar(text("SELECT 1 FROM pg_extension WHERE extname = 'postgis'"))
        if present is None:
            connection.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
