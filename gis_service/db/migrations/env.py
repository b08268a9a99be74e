"""Alembic environment: runs migrations on the engine of the configured store."""

from __future__ import annotations

from alembic import context
from geoalchemy2 import alembic_helpers
from sqlalchemy import Connection

from gis_service.db import admission_models, models  # noqa: F401  (registers the tables)
from gis_service.db.base import Base
from gis_service.db.engine import make_engine

#: Tables SpatiaLite creates for itself; they are not part of our schema.
SPATIALITE_TABLES = frozenset(
    {"ElementaryGeometries", "KNN", "SpatialIndex", "data_licenses", "sql_statements_log"}
)

config = context.config
connection = config.attributes.get("connection")


def _include_object(
    obj: object,
    name: str | None,
    type_: str,
    reflected: bool,  # noqa: FBT001  (Alembic's hook signature)
    compare_to: object,
) -> bool:
    if type_ == "table" and name in SPATIALITE_TABLES:
        return False
    return bool(
        alembic_helpers.include_object(  # type: ignore[no-untyped-call]
            obj, name, type_, reflected, compare_to
        )
    )


def _configure(conn: Connection) -> None:
    context.configure(
        connection=conn,
        target_metadata=Base.metadata,
        include_object=_include_object,
        process_revision_directives=alembic_helpers.writer,
        render_item=alembic_helpers.render_item,
        render_as_batch=True,
    )


if connection is not None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = make_engine(
        config.get_main_option("sqlalchemy.url") or "",
        spatialite_path=config.attributes.get("spatialite_path"),
    )
    with engine.connect() as conn:
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
