"""Online backup and restore of a whole store, on SpatiaLite and on PostGIS."""

from __future__ import annotations

import dataclasses
import random
from contextlib import closing
from pathlib import Path
from typing import Any

import pysqlite3.dbapi2 as sqlite
import pytest
from geoalchemy2 import WKBElement
from geoalchemy2.shape import to_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Engine, delete, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from gis_service.cli import app
from gis_service.db import backup, repository
from gis_service.db.backup import backup_store, inspect_backup, restore_store
from gis_service.db.base import Base
from gis_service.db.models import ApiKey, RoadNetwork, School, SchoolHistory
from gis_service.errors import ConflictError, InvalidInputError, StoreError
from gis_service.registry import schools as registry
from gis_service.settings import Settings
from gis_service.startup import open_engine
from tests.support.cli import run_schoolgis
from tests.support.stores import Templates, make_store_settings

NGUYEN_THAI_SON = "osm:node/3638351702"
SUFFIX = {"spatialite": ".sqlite", "postgis": ".dump"}
OTHER = {"spatialite": "postgis", "postgis": "spatialite"}


# --- what the registry holds ------------------------------------------------------------


def _plain(value: Any) -> Any:
    """Turn records into comparable plain values (geometries as WKB hex)."""
    if isinstance(value, BaseGeometry):
        return value.wkb_hex
    if isinstance(value, WKBElement):
        return to_shape(value).wkb_hex
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _snapshot(engine: Engine) -> dict[str, Any]:
    """Everything the registry holds: through the repository, then every row of every table."""
    with Session(engine) as session:
        districts = repository.list_districts(session)
        state: dict[str, Any] = {"districts": _plain(districts)}
        for district in districts:
            schools, total = repository.list_schools(
                session, repository.SchoolFilter(district_code=district.code)
            )
            state[f"{district.code}/schools"] = (total, _plain(schools))
            state[f"{district.code}/history"] = {
                s.data.code: _plain(repository.school_history(session, s.data.code))
                for s in schools
            }
            state[f"{district.code}/wards"] = _plain(repository.list_wards(session, district.code))
            state[f"{district.code}/roads"] = _plain(
                repository.road_networks(session, district.code)
            )
        state["api_key"] = [
            tuple(row) for row in session.execute(select(ApiKey.__table__).order_by(ApiKey.id))
        ]
        for table in Base.metadata.sorted_tables:
            rows = session.execute(select(table).order_by(*table.primary_key.columns))
            state[f"table/{table.name}"] = [_plain(list(row)) for row in rows]
        state["alembic_version"] = session.scalars(
            text("SELECT version_num FROM alembic_version")
        ).all()
    return state


def _school_code(engine: Engine) -> str:
    with Session(engine) as session:
        code = repository.find_school_code_by_source(session, NGUYEN_THAI_SON)
    assert code is not None
    return code


def _enrich(engine: Engine) -> None:
    """Give the store history and keys beyond the bundled load, before the backup."""
    code = _school_code(engine)
    with Session(engine) as session:
        registry.update_school(
            session,
            code,
            {
                "first_grade_classes": 6,
                "phone": "028 3930 1234",
                "enrolment": [{"school_year": 2024, "grade": 1, "pupils": 201}],
            },
            class_size_cap=35,
            actor="nguyen.van.a",
        )
        repository.create_api_key(session, name="office", role="registry_editor")
        repository.create_api_key(session, name="old-laptop", role="planner")
        repository.revoke_api_key(session, "old-laptop")
        session.commit()


def _change(engine: Engine) -> None:
    """Edit, add and delete registry rows after the backup, each change committed."""
    code = _school_code(engine)
    with Session(engine) as session:
        registry.update_school(
            session, code, {"name": "Trường Tiểu học Đổi Tên"}, class_size_cap=35, actor="x"
        )
        session.commit()
        repository.create_api_key(session, name="after-backup", role="admin")
        session.commit()
        other = session.scalars(select(School.code).where(School.code != code)).first()
        session.execute(delete(School).where(School.code == other))
        session.execute(delete(SchoolHistory).where(SchoolHistory.school_code == other))
        session.execute(delete(RoadNetwork))
        session.execute(delete(ApiKey).where(ApiKey.name == "office"))
        session.commit()


def _wipe_rows(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())


def _drop_tables(engine: Engine) -> None:
    Base.metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))


@pytest.fixture
def backup_path(tmp_path: Path, store_kind: str) -> Path:
    return tmp_path / "backups" / f"registry{SUFFIX[store_kind]}"


# --- round trips ------------------------------------------------------------------------


@pytest.mark.parametrize("wipe", ["rows", "tables"])
def test_restore_brings_back_the_registry_exactly(
    engine: Engine, store_kind: str, backup_path: Path, wipe: str
) -> None:
    _enrich(engine)
    before = _snapshot(engine)
    written = backup_store(engine, backup_path)
    assert written.store_kind == store_kind
    assert written.schools == 27
    assert written.revision == "0006"
    assert written.size_bytes == backup_path.stat().st_size > 0

    _change(engine)
    changed = _snapshot(engine)
    assert changed != before
    assert changed["770/schools"][0] == 26
    engine.dispose()
    restored = restore_store(engine, backup_path)
    assert (restored.schools, restored.revision) == (27, "0006")
    assert _snapshot(engine) == before

    _change(engine)
    if wipe == "rows":
        _wipe_rows(engine)
        with Session(engine) as session:
            assert repository.list_districts(session) == []
    else:
        _drop_tables(engine)
    engine.dispose()
    restore_store(engine, backup_path)
    assert _snapshot(engine) == before

    # Sequences and spatial indexes came back too: new rows and spatial queries work.
    with Session(engine) as session:
        repository.create_api_key(session, name="after-restore", role="planner")
        session.commit()
        near = repository.list_schools(
            session,
            repository.SchoolFilter(district_code="770", bbox=(106.6, 10.7, 106.8, 10.9)),
        )
        assert near[1] == 27


def test_backup_is_consistent_while_a_write_is_open(
    engine: Engine, backup_path: Path, store_kind: str
) -> None:
    before = _snapshot(engine)
    code = _school_code(engine)
    with Session(engine) as writer:
        registry.update_school(writer, code, {"phone": "0909"}, class_size_cap=35, actor="x")
        writer.flush()
        backup_store(engine, backup_path)
        writer.commit()
    assert _snapshot(engine) != before
    engine.dispose()
    restore_store(engine, backup_path)
    assert _snapshot(engine) == before


def test_restore_is_seen_by_connections_that_stay_open(
    engine: Engine, backup_path: Path, store_kind: str
) -> None:
    backup_store(engine, backup_path)
    _change(engine)
    with engine.connect() as open_connection:
        assert open_connection.scalar(text("SELECT count(*) FROM school")) == 26
        open_connection.commit()  # idle between transactions, as a service's pool keeps it
        restore_store(engine, backup_path)
        assert open_connection.scalar(text("SELECT count(*) FROM school")) == 27


def test_backup_does_not_overwrite_unless_asked(engine: Engine, backup_path: Path) -> None:
    backup_path.parent.mkdir(parents=True)
    backup_path.write_bytes(b"keep me")
    with pytest.raises(ConflictError, match="already exists"):
        backup_store(engine, backup_path)
    assert backup_path.read_bytes() == b"keep me"
    assert backup_store(engine, backup_path, overwrite=True).schools == 27
    assert [p.name for p in backup_path.parent.iterdir()] == [backup_path.name]


def test_a_locked_store_fails_the_restore_and_keeps_its_state(
    engine: Engine, backup_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backup_store(engine, backup_path)
    _change(engine)
    changed = _snapshot(engine)
    monkeypatch.setattr(backup, "LOCK_TIMEOUT_S", 1.0)
    with Session(engine) as writer:
        # an edit not yet committed holds the store's write lock
        writer.execute(delete(ApiKey).where(ApiKey.name == "after-backup"))
        with pytest.raises(StoreError, match="lock"):
            restore_store(engine, backup_path)
        writer.rollback()
    assert _snapshot(engine) == changed


# --- files that must not be restored ----------------------------------------------------


def _corrupt_files(folder: Path, good: Path) -> dict[str, Path]:
    rng = random.Random(20240901)
    contents = {
        "random": rng.randbytes(64 * 1024),
        "empty": b"",
        "sqlite-header": b"SQLite format 3\x00" + rng.randbytes(8192),
        "pgdmp-header": b"PGDMP" + rng.randbytes(8192),
        "truncated": good.read_bytes()[: good.stat().st_size // 2],
        "csv": "code,name\n79770001,Trường\n".encode(),
    }
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, data in contents.items():
        files[name] = folder / f"{name}.bin"
        files[name].write_bytes(data)
    return files


def test_bad_files_are_refused_and_change_nothing(
    engine: Engine, backup_path: Path, tmp_path: Path
) -> None:
    backup_store(engine, backup_path)
    _change(engine)
    changed = _snapshot(engine)
    files = _corrupt_files(tmp_path / "bad", backup_path)
    files["missing"] = tmp_path / "nothing-here.dump"
    files["folder"] = tmp_path
    for name, path in files.items():
        with pytest.raises(InvalidInputError, match="nothing was changed") as caught:
            restore_store(engine, path)
        assert str(path) in str(caught.value), name
    assert _snapshot(engine) == changed


@pytest.fixture(scope="module")
def backups_of_each_kind(
    templates: Templates, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("kinds")
    paths = {}
    for kind in ("spatialite", "postgis"):
        # The store is dropped when the loop resumes the generator, after its one copy.
        for settings in make_store_settings(kind, templates, folder / kind):
            engine = open_engine(settings)
            paths[kind] = backup_store(engine, folder / f"store{SUFFIX[kind]}").path
            engine.dispose()
    return paths


def test_a_backup_of_the_other_backend_is_refused(
    engine: Engine, store_kind: str, backups_of_each_kind: dict[str, Path]
) -> None:
    _change(engine)
    changed = _snapshot(engine)
    foreign = backups_of_each_kind[OTHER[store_kind]]
    with pytest.raises(InvalidInputError, match=r"backup of a \w+ store, but this store is"):
        inspect_backup(engine, foreign)
    with pytest.raises(InvalidInputError, match="nothing was changed"):
        restore_store(engine, foreign)
    assert _snapshot(engine) == changed
    engine.dispose()
    assert restore_store(engine, backups_of_each_kind[store_kind]).schools == 27


def test_a_sqlite_file_that_is_not_a_store_is_refused(engine: Engine, tmp_path: Path) -> None:
    plain = tmp_path / "plain.sqlite"
    with closing(sqlite.connect(str(plain))) as connection:
        connection.execute("CREATE TABLE notes (body TEXT)")
        connection.commit()
    message = "does not hold a schoolgis store|backup of a SpatiaLite store, but"
    with pytest.raises(InvalidInputError, match=message):
        restore_store(engine, plain)


# --- the command line -------------------------------------------------------------------


def test_cli_backup_and_restore(
    settings: Settings, engine: Engine, backup_path: Path, store_kind: str
) -> None:
    _enrich(engine)
    before = _snapshot(engine)
    engine.dispose()
    written = run_schoolgis(["db", "backup", str(backup_path)], settings)
    assert written.returncode == 0, written.stderr
    assert written.stdout.startswith(f"backup written to {backup_path} (")
    assert "27 schools, schema 0006" in written.stdout

    again = run_schoolgis(["db", "backup", str(backup_path)], settings)
    assert again.returncode == 1
    assert (
        again.stderr
        == f"schoolgis: error: {backup_path} already exists: pass --force to overwrite it\n"
    )

    _change(engine)
    changed = _snapshot(engine)
    engine.dispose()
    unconfirmed = run_schoolgis(["db", "restore", str(backup_path)], settings)
    assert unconfirmed.returncode == 1
    assert unconfirmed.stderr.count("\n") == 1
    assert "pass --yes" in unconfirmed.stderr
    assert _snapshot(engine) == changed

    engine.dispose()
    restored = run_schoolgis(["db", "restore", "--yes", str(backup_path)], settings)
    assert restored.returncode == 0, restored.stderr
    assert restored.stdout.startswith(f"restored {backup_path} (")
    assert "27 schools" in restored.stdout
    assert _snapshot(engine) == before

    bad = backup_path.with_name("bad" + backup_path.suffix)
    bad.write_bytes(b"not a backup")
    refused = run_schoolgis(["db", "restore", "-y", str(bad)], settings)
    assert refused.returncode == 1
    assert refused.stderr.startswith("schoolgis: error: ")
    assert refused.stderr.count("\n") == 1
    assert "nothing was changed" in refused.stderr
    assert _snapshot(engine) == before


def test_cli_restore_asks_first(
    settings: Settings,
    engine: Engine,
    backup_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runner = CliRunner()
    env = {
        "SCHOOLGIS_DATA_DIR": str(settings.data_dir),
        "DATABASE_URL": settings.database_url,
        "SCHOOLGIS_DATABASE_URL": None,
    }
    before = _snapshot(engine)
    written = runner.invoke(app, ["db", "backup", str(backup_path)], env=env)
    assert written.exit_code == 0, written.output
    _change(engine)
    changed = _snapshot(engine)
    engine.dispose()

    monkeypatch.setattr("gis_service.cli.db._stdin_is_terminal", lambda: True)
    declined = runner.invoke(app, ["db", "restore", str(backup_path)], env=env, input="n\n")
    assert declined.exit_code != 0
    assert "Replace everything in the store" in declined.output
    assert "27 schools" in declined.output
    assert _snapshot(engine) == changed

    engine.dispose()
    accepted = runner.invoke(app, ["db", "restore", str(backup_path)], env=env, input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert f"restored {backup_path}" in accepted.output
    assert _snapshot(engine) == before
