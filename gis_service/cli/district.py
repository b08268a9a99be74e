"""``schoolgis district``: load a district from its files, show what is loaded."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gis_service.cli.context import CliState, open_session
from gis_service.settings import BUNDLED_DISTRICT_DIR

app = typer.Typer(help="Districts: load from files, list.", no_args_is_help=True)


@app.command("load")
def load(
    ctx: typer.Context,
    manifest: Annotated[
        Path,
        typer.Argument(help="The district's TOML manifest (default: the bundled Quận 3)."),
    ] = BUNDLED_DISTRICT_DIR / "district.toml",
) -> None:
    """Load or reload a district: boundary, wards, schools and its road extract."""
    from gis_service.ingest.district import load_district

    settings = ctx.ensure_object(CliState).settings()
    with open_session(settings, load_bundled=False) as session:
        report = load_district(
            session,
            manifest,
            networks_dir=settings.networks_dir,
            class_size_cap=settings.class_size_cap,
        )
        session.commit()
    typer.echo(
        f"district {report.district_code}: {report.wards} wards, "
        f"{report.schools_added} schools added, {report.schools_kept} kept, "
        f"{report.schools_outside} outside the district, {len(report.skipped)} skipped; "
        f"metric CRS EPSG:{report.metric_epsg}"
    )
    for problem in report.skipped:
        typer.echo(f"  skipped row {problem.row}: {problem.column}: {problem.detail}")
    if report.road_network is not None:
        typer.echo(
            f"road extract {report.road_network.file_name} "
            f"(sha256 {report.road_network.sha256[:12]}) registered"
        )


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """List the districts in the store."""
    from gis_service.db import repository

    settings = ctx.ensure_object(CliState).settings()
    with open_session(settings, load_bundled=False) as session:
        for district in repository.list_districts(session):
            typer.echo(f"{district.code}\t{district.name}\tEPSG:{district.metric_epsg}")
