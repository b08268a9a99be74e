"""``schoolgis zones``: compute, compare and publish first-grade admission zones."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gis_service.cli.context import CliState, open_session

if TYPE_CHECKING:
    from gis_service.zones.compute import Comparison

app = typer.Typer(
    help="First-grade admission zones: compute, compare, publish.", no_args_is_help=True
)

ManifestOption = Annotated[
    Path | None,
    typer.Option("--inputs", help="Zoning manifest (default: the bundled district's zoning.toml)."),
]
ClassesOption = Annotated[
    int | None,
    typer.Option(
        "--default-classes",
        min=0,
        max=30,
        help="First-grade classes assumed where the registry has none (default: the manifest's).",
    ),
]
ModeOption = Annotated[str, typer.Option(help="Travel mode whose distances define zones.")]
ActorOption = Annotated[str, typer.Option("--by", help="Who computes or publishes (recorded).")]


@app.command("compute")
def compute(  # noqa: PLR0917 - typer reads the options from the signature
    ctx: typer.Context,
    method: Annotated[str, typer.Option(help="ward, nearest or optimal.")] = "optimal",
    name: Annotated[
        str | None, typer.Option(help="Version name (default: method and time).")
    ] = None,
    default_classes: ClassesOption = None,
    mode: ModeOption = "walk",
    solver: Annotated[str, typer.Option(help="highs or network_simplex.")] = "highs",
    contiguity: Annotated[
        bool, typer.Option("--contiguity/--no-contiguity", help="Repair enclaves (optimal).")
    ] = True,
    by: ActorOption = "cli",
    inputs: ManifestOption = None,
) -> None:
    """Compute zones with one method and save them as a draft version."""
    from gis_service.db import zones_repository
    from gis_service.networks import NetworkCache
    from gis_service.zones.compute import ZoningOptions, compute_zoning, default_version_name
    from gis_service.zones.geography import (
        ZoningCache,
        bundled_zoning_manifest,
        read_zoning_manifest,
    )

    settings = ctx.ensure_object(CliState).settings()
    manifest = read_zoning_manifest(inputs or bundled_zoning_manifest())
    options = ZoningOptions(
        method=method,
        default_first_grade_classes=default_classes,
        mode=mode,
        solver=solver,
        contiguity=contiguity,
    )
    with open_session(settings) as session:
        district_net = NetworkCache(settings).for_district(session, settings.district_code)
        geography = ZoningCache().geography(session, district_net, manifest)
        result = compute_zoning(geography, options)
        draft = result.draft(name=name or default_version_name(method), actor=by)
        record = zones_repository.save_zone_version(session, draft)
        session.commit()
    figures = draft.statistics["figures"]
    typer.echo(
        f"zone version {record.id} {record.name!r} ({record.method}, draft): "
        f"{figures['children']:.0f} children, {figures['shortfall_children']:.0f} without a "
        f"seat, mean walk {figures['mean_distance_m.walk']:.0f} m, "
        f"{figures['enclaves']:.0f} enclave(s); {result.seats.describe()}"
    )


def _cell(value: float) -> str:
    if not math.isfinite(value):
        return "-"
    shown = round(value, 3) + 0.0  # + 0.0 turns -0.0 into 0.0
    if shown == round(shown) or abs(shown) >= 10:
        return f"{shown:,.0f}"
    return f"{shown:.3f}"


def _print(comparison: Comparison) -> None:
    table = comparison.table
    methods = [str(m) for m in table.columns]
    names = {s.code: s.name for s in comparison.results[0].geography.schools}
    labels = {code: f"{code} {names.get(str(code), '')}" for code in comparison.schools.index}
    width = max([30, *(len(label) + 2 for label in labels.values())])
    typer.echo(f"{'figure':<{width}}" + "".join(f"{m:>14}" for m in methods))
    for figure, row in table.iterrows():
        typer.echo(f"{figure!s:<{width}}" + "".join(f"{_cell(float(v)):>14}" for v in row))
    typer.echo("")
    schools = comparison.schools
    typer.echo(f"{'school (seats - children)':<{width}}" + "".join(f"{m:>14}" for m in methods))
    for code, row in schools.iterrows():
        values = [float(row[f"seats_minus_children.{m}"]) for m in methods]
        typer.echo(f"{labels[code]:<{width}}" + "".join(f"{_cell(v):>14}" for v in values))
    typer.echo("")
    typer.echo(comparison.results[0].seats.describe())


@app.command("compare")
def compare(
    ctx: typer.Context,
    csv_path: Annotated[
        Path, typer.Option("--csv", help="Where to save the comparison table as CSV.")
    ] = Path("zones_comparison.csv"),
    json_path: Annotated[
        Path, typer.Option("--json", help="Where to save the comparison (all figures) as JSON.")
    ] = Path("zones_comparison.json"),
    default_classes: ClassesOption = None,
    mode: ModeOption = "walk",
    inputs: ManifestOption = None,
) -> None:
    """Compute the ward-based, nearest-school and optimal zones and compare them."""
    from gis_service.networks import NetworkCache
    from gis_service.zones.compute import ZoningOptions, compare_methods
    from gis_service.zones.geography import (
        ZoningCache,
        bundled_zoning_manifest,
        read_zoning_manifest,
    )

    settings = ctx.ensure_object(CliState).settings()
    manifest = read_zoning_manifest(inputs or bundled_zoning_manifest())
    options = ZoningOptions(default_first_grade_classes=default_classes, mode=mode)
    with open_session(settings) as session:
        district_net = NetworkCache(settings).for_district(session, settings.district_code)
        geography = ZoningCache().geography(session, district_net, manifest)
        comparison = compare_methods(geography, options)
    _print(comparison)
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    comparison.table.to_csv(csv_path)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(
        json.dumps(comparison.to_json(), ensure_ascii=False, indent=2), encoding="utf-8"
    )
    typer.echo(f"saved {csv_path} and {json_path}")


@app.command("publish")
def publish(
    ctx: typer.Context,
    version: Annotated[str, typer.Argument(help="Version id or name.")],
    by: ActorOption = "cli",
) -> None:
    """Publish a zone version: the eligibility lookup answers from it from now on."""
    from gis_service.db import zones_repository

    settings = ctx.ensure_object(CliState).settings()
    with open_session(settings) as session:
        code = zones_repository.district_code_of(session, settings.district_code)
        record = zones_repository.publish_zone_version(
            session, version, district_code=code, actor=by
        )
        session.commit()
    typer.echo(f"published zone version {record.id} {record.name!r} ({record.method})")


@app.command("list")
def list_versions(ctx: typer.Context) -> None:
    """List the district's zone versions, newest first."""
    from gis_service.db import zones_repository

    settings = ctx.ensure_object(CliState).settings()
    with open_session(settings) as session:
        code = zones_repository.district_code_of(session, settings.district_code)
        versions = zones_repository.list_zone_versions(session, code)
    for v in versions:
        typer.echo(f"{v.id}\t{v.name}\t{v.method}\t{v.status}\t{v.created_at:%Y-%m-%d %H:%M}")
