"""``schoolgis db``: schema migrations, backup and restore of the store."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gis_service.cli.context import CliState
from gis_service.errors import ConflictError, InvalidInputError

if TYPE_CHECKING:
    from gis_service.db.backup import BackupInfo

app = typer.Typer(help="The store: schema upgrades, backup and restore.", no_args_is_help=True)

_STORE_NAMES = {"spatialite": "SpatiaLite", "postgis": "PostGIS"}


@app.command()
def upgrade(ctx: typer.Context) -> None:
    """Bring the store's schema to the newest version."""
    from gis_service.db.migrate import upgrade_schema
    from gis_service.startup import open_engine

    settings = ctx.ensure_object(CliState).settings()
    engine = open_engine(settings)
    try:
        upgrade_schema(engine)
    finally:
        engine.dispose()
    typer.echo("schema is up to date")


def _size_text(size_bytes: int) -> str:
    if size_bytes < 1000:
        return f"{size_bytes} B"
    size = size_bytes / 1000
    for unit in ("kB", "MB"):
        if size < 1000:
            return f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"


def _summary(info: BackupInfo) -> str:
    return (
        f"{_STORE_NAMES[info.store_kind]}, {_size_text(info.size_bytes)}, "
        f"{info.schools} schools, schema {info.revision}"
    )


def _stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


@app.command()
def backup(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The backup file to write.")],
    force: Annotated[bool, typer.Option("--force", help="Overwrite FILE if it exists.")] = False,
) -> None:
    """Write a consistent backup of the store to FILE while the service keeps running.

    A SpatiaLite store is copied to a SQLite file, a PostGIS store is written by pg_dump in
    its custom format.
    """
    from gis_service.db.backup import backup_store
    from gis_service.startup import open_engine

    if file.exists() and not force:
        msg = f"{file} already exists: pass --force to overwrite it"
        raise ConflictError(msg)
    settings = ctx.ensure_object(CliState).settings()
    engine = open_engine(settings)
    try:
        info = backup_store(engine, file, overwrite=force)
    finally:
        engine.dispose()
    typer.echo(f"backup written to {info.path} ({_summary(info)}) in {info.elapsed_s:.2f} s")


@app.command()
def restore(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A backup written by `schoolgis db backup`.")],
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Replace the store without asking.")
    ] = False,
) -> None:
    """Replace everything in the store with the backup in FILE.

    The file is checked before the store is touched, and the store is replaced in one
    transaction: a failed restore leaves it as it was.
    """
    from gis_service.db.backup import inspect_backup, restore_store
    from gis_service.startup import open_engine

    settings = ctx.ensure_object(CliState).settings()
    engine = open_engine(settings)
    try:
        info = inspect_backup(engine, file)
        if not yes:
            if not _stdin_is_terminal():
                msg = "restore replaces the whole store and needs confirmation: pass --yes"
                raise InvalidInputError(msg)
            store = engine.url.render_as_string(hide_password=True)
            typer.confirm(
                f"Replace everything in the store {store} with {file} ({_summary(info)})?",
                abort=True,
            )
        restored = restore_store(engine, file)
    finally:
        engine.dispose()
    typer.echo(f"restored {file} ({_summary(restored)}) in {restored.elapsed_s:.2f} s")
