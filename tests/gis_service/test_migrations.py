"""The Alembic migrations build the same schema on both stores."""

from __future__ import annotations

from sqlalchemy import Engine, inspect, text

from gis_service.db.base import Base
from gis_service.db.migrate import upgrade_schema
from gis_service.settings import Settings
from gis_service.startup import open_engine


def test_upgrade_builds_every_table_and_is_repeatable(empty_settings: Settings) -> None:
    engine = open_engine(empty_settings)
    try:
        upgrade_schema(engine)
        upgrade_schema(engine)
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            assert set(Base.metadata.tables) <= tables
            assert conn.scalar(text("SELECT version_num FROM alembic_version")) == "0006"
            school_columns = {c["name"] for c in inspect(conn).get_columns("school")}
            assert set(Base.metadata.tables["school"].columns.keys()) == school_columns
    finally:
        engine.dispose()


def test_downgrade_then_upgrade(empty_settings: Settings) -> None:
    from alembic import command

    from gis_service.db.migrate import alembic_config

    engine = open_engine(empty_settings)
    try:
        upgrade_schema(engine)
        config = alembic_config(engine)
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "base")
        with engine.connect() as conn:
            assert "school" not in inspect(conn).get_table_names()
        upgrade_schema(engine)
        with engine.connect() as conn:
            assert "school" in inspect(conn).get_table_names()
    finally:
        engine.dispose()


def test_forecast_input_versions_come_and_go_with_0003(empty_settings: Settings) -> None:
    from alembic import command

    from gis_service.db.migrate import alembic_config

    engine = open_engine(empty_settings)
    try:
        upgrade_schema(engine)
        with engine.connect() as conn:
            indexes = {i["name"] for i in inspect(conn).get_indexes("forecast_input_version")}
            assert "forecast_input_version_one_adopted" in indexes
        config = alembic_config(engine)
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0002")
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            assert "forecast_input_version" not in tables
            assert "zone_version" in tables
            assert conn.scalar(text("SELECT version_num FROM alembic_version")) == "0002"
        upgrade_schema(engine)
        with engine.connect() as conn:
            assert "forecast_input_version" in inspect(conn).get_table_names()
    finally:
        engine.dispose()


ADMISSION_TABLES = {
    "admission_round",
    "admission_application",
    "placement_run",
    "placement_result",
    "audit_log",
}


def test_admission_tables_come_and_go_with_0004(empty_settings: Settings) -> None:
    from alembic import command

    from gis_service.db.migrate import alembic_config

    engine = open_engine(empty_settings)
    try:
        upgrade_schema(engine)
        with engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) >= ADMISSION_TABLES
            columns = {c["name"] for c in inspect(conn).get_columns("admission_application")}
            assert set(Base.metadata.tables["admission_application"].columns.keys()) == columns
        config = alembic_config(engine)
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0003")
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            assert not ADMISSION_TABLES & tables
            assert "forecast_input_version" in tables
            assert conn.scalar(text("SELECT version_num FROM alembic_version")) == "0003"
        upgrade_schema(engine)
        with engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) >= ADMISSION_TABLES
    finally:
        engine.dispose()


SCENARIO_TABLES = {"scenario", "scenario_evaluation"}


def test_scenario_tables_come_and_go_with_0005(empty_settings: Settings) -> None:
    from alembic import command

    from gis_service.db.migrate import alembic_config

    engine = open_engine(empty_settings)
    try:
        upgrade_schema(engine)
        with engine.connect() as conn:
            for table in SCENARIO_TABLES:
                columns = {c["name"] for c in inspect(conn).get_columns(table)}
                assert set(Base.metadata.tables[table].columns.keys()) == columns
        config = alembic_config(engine)
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0004")
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            assert not SCENARIO_TABLES & tables
            assert tables >= ADMISSION_TABLES
            assert conn.scalar(text("SELECT version_num FROM alembic_version")) == "0004"
        upgrade_schema(engine)
        with engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) >= SCENARIO_TABLES
    finally:
        engine.dispose()


EVIDENCE_COLUMNS = {
    "admission_application": {"priority_status", "priority_checked_at", "priority_checked_by"},
    "admission_round": {"claimed_priority_counts"},
}


def _columns(engine: Engine, table: str) -> set[str]:
    with engine.connect() as conn:
        return {c["name"] for c in inspect(conn).get_columns(table)}


def test_priority_evidence_comes_and_goes_with_0006(settings: Settings) -> None:
    from alembic import command

    from gis_service.db.migrate import alembic_config

    engine = open_engine(settings)
    try:
        upgrade_schema(engine)
        for table, added in EVIDENCE_COLUMNS.items():
            assert _columns(engine, table) == set(Base.metadata.tables[table].columns.keys())
            assert added <= _columns(engine, table)
        config = alembic_config(engine)
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0005")
        for table, added in EVIDENCE_COLUMNS.items():
            assert not added & _columns(engine, table)
        with engine.begin() as conn:
            # a round and a claim stored before 0006: the round keeps counting claims
            district = conn.execute(text("SELECT min(id) FROM district")).scalar_one()
            conn.execute(
                text(
                    "INSERT INTO admission_round (district_id, year, name, "
                    "applications_close_at, max_choices, rules, priority_categories, seats, "
                    "status, created_at, created_by) VALUES (:d, 2027, 'r', "
                    "'2027-05-01 00:00:00+00:00', 3, '[]', '[]', '{}', 'open', "
                    "'2027-01-01 00:00:00+00:00', 't')"
                ),
                {"d": district},
            )
            assert conn.scalar(text("SELECT version_num FROM alembic_version")) == "0005"
        upgrade_schema(engine)
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT claimed_priority_counts FROM admission_round"))
        for table, added in EVIDENCE_COLUMNS.items():
            assert added <= _columns(engine, table)
    finally:
        engine.dispose()
