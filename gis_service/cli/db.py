"""``schoolgis db``: schema migrations of the store."""

from __future__ import annotations

import typer

from gis_service.cli.context import CliState
from gis_service.db.migrate import upgrade_schema
from gis_service.store import open_engine

app = typer.Typer(help="The store: schema upgrades, backup and restore.", no_args_is_help=True)


@app.command()
def upgrade(ctx: typer.Context) -> None:
    """Bring the store's schema to the newest version."""
    settings = ctx.ensure_object(CliState).settings()
    engine = open_engine(settings)
    try:
        upgrade_schema(engine)
    finally:
        engine.dispose()
    typer.echo("schema is up to date")
