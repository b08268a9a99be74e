"""``schoolgis schools``: import and export school lists, report the registry's data quality."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gis_service.cli.context import CliState, open_session
from gis_service.errors import InvalidInputError
from gis_service.settings import STALE_AFTER_DAYS

if TYPE_CHECKING:
    from gis_service.ingest.schools_import import ImportReport
    from gis_service.registry.quality import QualityReport

app = typer.Typer(
    help="Schools: import and export CSV/GeoJSON/GeoPackage lists, data quality.",
    no_args_is_help=True,
)


def _report_lines(report: ImportReport) -> list[str]:
    counts = (
        f"{report.file}: {report.rows_read} rows read, {report.accepted} accepted, "
        f"{len(report.rejected_rows)} rejected; {report.created} created, "
        f"{report.updated} updated, {report.unchanged} unchanged"
    )
    lines = [counts]
    if report.unknown_columns:
        lines.append(f"warning: unknown columns ignored: {', '.join(report.unknown_columns)}")
    lines += [f"warning: {warning}" for warning in report.warnings]
    lines += [
        f"row {p.row}, column {p.column or '-'}: {p.reason} — {p.detail}" for p in report.rejected
    ]
    return lines


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="CSV (UTF-8), GeoJSON or GeoPackage file of schools.")
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check the file and report; write nothing.")
    ] = False,
    actor: Annotated[str, typer.Option(help="Who the history records as the author.")] = "cli",
) -> None:
    """Import schools: every row is checked first; one rejected row means nothing is written."""
    from gis_service.db import repository
    from gis_service.ingest.schools_import import import_schools

    settings = ctx.ensure_object(CliState).settings()
    with open_session(settings) as session:
        district = repository.get_district(session, settings.district_code)
        report = import_schools(
            session,
            file,
            district_code=district.code,
            class_size_cap=settings.class_size_cap,
            actor=actor,
            dry_run=dry_run,
        )
        if report.written:
            session.commit()
    for line in _report_lines(report):
        typer.echo(line)
    if report.rejected:
        msg = (
            f"{file.name}: {len(report.rejected_rows)} of {report.rows_read} rows rejected; "
            "nothing was written"
        )
        raise InvalidInputError(msg)
    if dry_run:
        typer.echo("dry run: nothing was written")


@app.command("export")
def export(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="Output file: .csv, .geojson, .json (optionally .gz) or .gpkg.")
    ],
) -> None:
    """Export every school of the district; the file imports back without a change."""
    from gis_service.db import repository
    from gis_service.ingest.schools_export import export_schools

    settings = ctx.ensure_object(CliState).settings()
    with open_session(settings) as session:
        district = repository.get_district(session, settings.district_code)
        count = export_schools(session, file, district_code=district.code)
    typer.echo(f"{count} schools of district {district.code} written to {file}")


def _quality_lines(report: QualityReport) -> list[str]:
    lines = [
        f"district {report.district_code}: {report.schools} schools "
        f"(as of {report.today.isoformat()})",
        "completeness:",
    ]
    lines += [
        f"  {entry.field:<20} {entry.filled:>5} / {report.schools}  ({entry.share:.0%})"
        for entry in report.completeness
    ]
    for label, codes in (
        (f"not verified for {report.stale_after_days} days", report.stale),
        ("outside every ward", report.outside_wards),
        ("level inferred", report.level_inferred),
        ("default class-size cap", report.default_class_size_cap),
    ):
        lines.append(f"{label}: {len(codes)}")
    return lines


@app.command("quality")
def quality(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    stale_after_days: Annotated[
        int, typer.Option(help="Days after which a verification is too old.", min=0)
    ] = STALE_AFTER_DAYS,
) -> None:
    """Report how live, clean and complete the district's school records are."""
    from gis_service.db import repository
    from gis_service.registry.quality import quality_report

    settings = ctx.ensure_object(CliState).settings()
    with open_session(settings) as session:
        district = repository.get_district(session, settings.district_code)
        report = quality_report(
            session,
            district_code=district.code,
            today=dt.date.today(),
            stale_after_days=stale_after_days,
        )
    if as_json:
        typer.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
        return
    for line in _quality_lines(report):
        typer.echo(line)
