"""``schoolgis scenario`` and ``schoolgis sites``: planning scenarios and new school sites."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console

from gis_service.cli.context import CliState, first_problem, open_session, read_json
from gis_service.errors import InvalidInputError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from gis_service.db.scenarios_repository import ScenarioRecord
    from gis_service.planning.changes import ScenarioIn
    from gis_service.planning.evaluation import PlanningContext
    from gis_service.settings import Settings

scenario_app = typer.Typer(
    help="Planning scenarios: what-if changes laid over the registry, never applied.",
    no_args_is_help=True,
)
sites_app = typer.Typer(help="Sites for new schools (location-allocation).", no_args_is_help=True)

ActorOption = Annotated[str, typer.Option("--by", help="Who acts (recorded).")]
KeyArgument = Annotated[str, typer.Argument(help="Scenario id or name.")]
_STATUS = Console(stderr=True)


@contextmanager
def _planning(settings: Settings) -> Iterator[tuple[Session, PlanningContext]]:
    from gis_service.networks import NetworkCache
    from gis_service.planning.evaluation import planning_context
    from gis_service.zones.geography import ZoningCache

    with open_session(settings) as session:
        with _STATUS.status("preparing the district (demand points, distances, zones)"):
            district_net = NetworkCache(settings).for_district(session, settings.district_code)
            context = planning_context(
                session,
                district_net,
                ZoningCache(),
                class_size_cap=settings.class_size_cap,
                today=dt.datetime.now(dt.UTC).date(),
            )
        yield session, context


def _read_scenario(file: Path, *, name: str | None) -> ScenarioIn:
    """Read a scenario document (``name`` replaces the file's); problems name the place."""
    from gis_service.planning.changes import ScenarioIn

    document = read_json(file)
    if not isinstance(document, dict):
        msg = f"{file}: expected a JSON object with name, description and changes"
        raise InvalidInputError(msg)
    if name is not None:
        document["name"] = name
    try:
        return ScenarioIn.model_validate(document)
    except ValidationError as error:
        pointer, problem = first_problem(error)
        msg = f"{file} at {pointer}: {problem}"
        raise InvalidInputError(msg) from None


def _checked(context: PlanningContext, scenario: ScenarioIn, file: Path) -> None:
    from gis_service.planning.stored import check_scenario

    try:
        check_scenario(context, scenario)
    except InvalidInputError as error:
        where = error.problems[0].pointer if error.problems else "/"
        msg = f"{file} at {where}: {error.detail}"
        raise InvalidInputError(msg) from None


def _line(record: ScenarioRecord) -> str:
    return (
        f"{record.id}\t{record.name}\trevision {record.revision}\t{len(record.changes)} "
        f"change(s)\t{record.rezoning}\t{record.updated_at:%Y-%m-%d %H:%M}\t{record.updated_by}"
    )


FileArgument = Annotated[
    Path,
    typer.Argument(
        exists=True, dir_okay=False, help="JSON file: name, description, changes, rezoning."
    ),
]


@scenario_app.command("create")
def create(
    ctx: typer.Context,
    file: FileArgument,
    name: Annotated[str | None, typer.Option(help="Name (instead of the file's).")] = None,
    by: ActorOption = "cli",
) -> None:
    """Save a scenario from a JSON file after checking its changes against the district."""
    from gis_service.db import scenarios_repository
    from gis_service.planning.stored import draft_of

    settings = ctx.ensure_object(CliState).settings()
    scenario = _read_scenario(file, name=name)
    with _planning(settings) as (session, context):
        _checked(context, scenario, file)
        record = scenarios_repository.create_scenario(
            session, draft_of(scenario), district_code=context.district.code, actor=by
        )
        session.commit()
    typer.echo(f"scenario {record.id} {record.name!r}: {len(record.changes)} change(s) saved")


@scenario_app.command("edit")
def edit(
    ctx: typer.Context,
    scenario: KeyArgument,
    file: FileArgument,
    by: ActorOption = "cli",
) -> None:
    """Replace a scenario's name, description and changes with a JSON file's."""
    from gis_service.db import scenarios_repository
    from gis_service.planning.stored import draft_of

    settings = ctx.ensure_object(CliState).settings()
    with _planning(settings) as (session, context):
        code = context.district.code
        current = scenarios_repository.get_scenario(session, scenario, district_code=code)
        document = _read_scenario(file, name=None)
        _checked(context, document, file)
        record = scenarios_repository.update_scenario(
            session, current.id, draft_of(document), district_code=code, actor=by
        )
        session.commit()
    typer.echo(f"scenario {record.id} {record.name!r}: revision {record.revision}")


def _district(session: Session, settings: Settings) -> str:
    from gis_service.networks import NetworkCache

    return NetworkCache(settings).for_district(session, settings.district_code).district.code


@scenario_app.command("list")
def list_scenarios(ctx: typer.Context) -> None:
    """List the district's scenarios, newest first."""
    from gis_service.db import scenarios_repository

    settings = ctx.ensure_object(CliState).settings()
    with open_session(settings) as session:
        code = _district(session, settings)
        found = scenarios_repository.list_scenarios(session, code)
    if not found:
        typer.echo(f"district {code} has no scenario", err=True)
    for record in found:
        typer.echo(_line(record))


@scenario_app.command("show")
def show(ctx: typer.Context, scenario: KeyArgument) -> None:
    """Print a scenario as JSON (its changes as stored)."""
    from gis_service.db import scenarios_repository

    settings = ctx.ensure_object(CliState).settings()
    with open_session(settings) as session:
        code = _district(session, settings)
        record = scenarios_repository.get_scenario(session, scenario, district_code=code)
    document = {
        "id": record.id,
        "name": record.name,
        "description": record.description,
        "changes": record.changes,
        "rezoning": record.rezoning,
        "revision": record.revision,
    }
    typer.echo(json.dumps(document, ensure_ascii=False, indent=2))


@scenario_app.command("copy")
def copy(
    ctx: typer.Context,
    scenario: KeyArgument,
    name: Annotated[str, typer.Argument(help="Name of the copy.")],
    by: ActorOption = "cli",
) -> None:
    """Copy a scenario under a new name."""
    from gis_service.db import scenarios_repository
    from gis_service.planning.changes import scenario_name

    settings = ctx.ensure_object(CliState).settings()
    try:
        scenario_name(name)
    except ValueError as error:
        msg = f"name {name!r}: {error}"
        raise InvalidInputError(msg) from None
    with open_session(settings) as session:
        code = _district(session, settings)
        record = scenarios_repository.copy_scenario(
            session, scenario, name=name, district_code=code, actor=by
        )
        session.commit()
    typer.echo(f"scenario {record.id} {record.name!r}: copied from {record.copied_from_id}")


@scenario_app.command("delete")
def delete(ctx: typer.Context, scenario: KeyArgument) -> None:
    """Delete a scenario and its kept evaluation (the registry is not touched)."""
    from gis_service.db import scenarios_repository

    settings = ctx.ensure_object(CliState).settings()
    with open_session(settings) as session:
        code = _district(session, settings)
        record = scenarios_repository.delete_scenario(session, scenario, district_code=code)
        session.commit()
    typer.echo(f"scenario {record.id} {record.name!r} deleted")


@scenario_app.command("evaluate")
def evaluate(
    ctx: typer.Context,
    scenario: KeyArgument,
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Also save the evaluation as JSON.")
    ] = None,
    by: ActorOption = "cli",
) -> None:
    """Evaluate a scenario (distances, zones, 10-year seat gap) and keep the evaluation."""
    from gis_service.db import scenarios_repository
    from gis_service.planning.stored import evaluate_stored

    settings = ctx.ensure_object(CliState).settings()
    with _planning(settings) as (session, context):
        record = scenarios_repository.get_scenario(
            session, scenario, district_code=context.district.code
        )
        with _STATUS.status(f"evaluating {record.name!r}"):
            stored = evaluate_stored(session, context, record, actor=by)
        session.commit()
    document = stored.document
    figures = document["zoning"]["figures"]
    short = [
        f"{y['year']}: {y['zone_seat_shortfall']['central']:.0f}" for y in document["forecast"]
    ]
    typer.echo(
        f"scenario {record.id} {record.name!r} revision {stored.revision}: mean walk "
        f"{figures['mean_distance_m.walk']:.0f} m, p90 {figures['p90_distance_m.walk']:.0f} m, "
        f"{100 * figures['within_1km_walk_share']:.1f} % within 1 km, "
        f"{figures['shortfall_children']:.0f} without a seat; "
        f"{document['seconds']['total']:.2f} s"
    )
    typer.echo("seats short in zones (central): " + ", ".join(short))
    if json_path is not None:
        _write_json(json_path, document)


def _write_json(path: Path, document: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")
    typer.echo(f"saved {path}")


def _cell(value: float | None, *, share: bool = False) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    return f"{100 * value:.1f} %" if share else f"{value:,.0f}"


def print_comparison(comparison: Mapping[str, Any]) -> None:
    """Print a comparison (:func:`gis_service.planning.stored.compare_stored`) as tables."""
    columns = [("baseline", comparison["baseline"])] + [
        (f"{s['id']} {s['name']}"[:22], s) for s in comparison["scenarios"]
    ]
    typer.echo(f"{'figure':<28}" + "".join(f"{label:>24}" for label, _ in columns))
    for figure in comparison["baseline"]["figures"]:
        cells = []
        for _, column in columns:
            share = figure.endswith("_share")
            text = _cell(column["figures"][figure], share=share)
            change = column.get("change", {}).get(figure)
            if change is not None:
                text += f" ({'+' if change >= 0 else ''}{_cell(change, share=share)})"
            cells.append(f"{text:>24}")
        typer.echo(f"{figure:<28}" + "".join(cells))
    moved = [f"{s['moved_children']:>24,.0f}" for s in comparison["scenarios"]]
    typer.echo(f"{'children changing zone':<28}{'-':>24}" + "".join(moved))
    typer.echo("")
    title = "seats short in zones / spare"
    typer.echo(f"{title:<28}" + "".join(f"{label:>24}" for label, _ in columns))
    for j, year in enumerate(comparison["baseline"]["forecast"]):
        cells = []
        for _, column in columns:
            entry = column["forecast"][j]
            short = _cell(entry["zone_seat_shortfall"]["central"])
            cells.append(f"{short + ' / ' + _cell(entry['spare_seats_central']):>24}")
        typer.echo(f"{year['year']:<28}" + "".join(cells))


@scenario_app.command("compare")
def compare(
    ctx: typer.Context,
    scenarios: Annotated[list[str], typer.Argument(help="Scenario ids or names.")],
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Save the comparison as JSON.")
    ] = None,
    geojson_path: Annotated[
        Path | None,
        typer.Option("--geojson", help="Save where the children changing zone live (GeoJSON)."),
    ] = None,
) -> None:
    """Compare scenarios with the baseline: figures, seat gap by year, children moved."""
    from gis_service.planning.stored import compare_stored

    settings = ctx.ensure_object(CliState).settings()
    with _planning(settings) as (session, context):
        comparison = compare_stored(session, context, scenarios).model_dump(mode="json")
    _report(comparison, json_path=json_path, geojson_path=geojson_path)


def _report(
    comparison: Mapping[str, Any], *, json_path: Path | None, geojson_path: Path | None
) -> None:
    print_comparison(comparison)
    if json_path is not None:
        _write_json(json_path, comparison)
    if geojson_path is not None:
        _write_json(geojson_path, moved_layer(comparison["scenarios"]))


def moved_layer(scenarios: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Return one GeoJSON layer of the children changing zone, tagged with their scenario."""
    features = [
        {**feature, "properties": {**feature["properties"], "scenario": s["name"]}}
        for s in scenarios
        for feature in s["moved"]["features"]
    ]
    return {"type": "FeatureCollection", "features": features}


@sites_app.command("suggest")
def suggest(  # noqa: PLR0917 - typer reads the options from the signature
    ctx: typer.Context,
    new_schools: Annotated[int, typer.Option("--new-schools", "-k", min=1, max=20)] = 3,
    model: Annotated[str, typer.Option(help="p_median or max_covering.")] = "p_median",
    candidates: Annotated[
        int, typer.Option(help="Grid candidates over residential streets.", min=1, max=5000)
    ] = 500,
    candidates_file: Annotated[
        Path | None,
        typer.Option(
            "--candidates-file",
            exists=True,
            dir_okay=False,
            help="GeoJSON FeatureCollection of candidate Points/Polygons (instead of a grid).",
        ),
    ] = None,
    classes: Annotated[int, typer.Option(help="First-grade classes of a new school.")] = 8,
    norm_m: Annotated[float, typer.Option(help="Walking norm of covering, metres.")] = 1000.0,
    seed: Annotated[int, typer.Option(help="Seed of the grid's draw.")] = 42,
    time_limit: Annotated[float, typer.Option(help="Solver time limit, seconds.")] = 60.0,
    save_scenario: Annotated[
        str | None, typer.Option(help="Save the sites as a scenario of this name.")
    ] = None,
    compare_with_baseline: Annotated[
        bool, typer.Option("--compare", help="Evaluate that scenario and compare (needs a name).")
    ] = False,
    json_path: Annotated[Path | None, typer.Option("--json", help="Save as JSON.")] = None,
    by: ActorOption = "cli",
) -> None:
    """Choose sites for new schools; optionally save them as a scenario and compare it."""
    from gis_service.db import scenarios_repository
    from gis_service.planning.changes import ScenarioIn
    from gis_service.planning.sites import SiteRequest, suggest_sites
    from gis_service.planning.stored import compare_stored, draft_of, evaluate_stored

    settings = ctx.ensure_object(CliState).settings()
    if compare_with_baseline and save_scenario is None:
        msg = "--compare needs --save-scenario NAME (the scenario compared)"
        raise InvalidInputError(msg)
    request = SiteRequest.model_validate(
        {
            "new_schools": new_schools,
            "model": model,
            "grid_candidates": candidates,
            "candidates": None if candidates_file is None else _candidates(candidates_file),
            "first_grade_classes": classes,
            "norm_m": norm_m,
            "seed": seed,
            "time_limit_s": time_limit,
        }
    )
    with _planning(settings) as (session, context):
        with _STATUS.status("choosing sites") as status:
            suggestion = suggest_sites(
                context, request, progress=lambda step: status.update(f"choosing sites: {step}")
            )
        answer = suggestion.answer().model_dump(mode="json")
        _print_suggestion(answer)
        if save_scenario is not None:
            scenario = ScenarioIn.model_validate(
                {
                    "name": save_scenario,
                    "description": f"{new_schools} sites suggested ({model})",
                    "changes": suggestion.scenario_changes(),
                }
            )
            record = scenarios_repository.create_scenario(
                session, draft_of(scenario), district_code=context.district.code, actor=by
            )
            answer["scenario"] = {"id": record.id, "name": record.name}
            typer.echo(f"saved as scenario {record.id} {record.name!r}")
            if compare_with_baseline:
                evaluate_stored(session, context, record, actor=by)
                comparison = compare_stored(session, context, [record.id])
                answer["comparison"] = comparison.model_dump(mode="json")
            session.commit()
    if "comparison" in answer:
        typer.echo("")
        print_comparison(answer["comparison"])
    if json_path is not None:
        _write_json(json_path, answer)


def _candidates(file: Path) -> list[dict[str, Any]]:
    document = read_json(file)
    features = document.get("features") if isinstance(document, dict) else None
    if not isinstance(features, list) or not features:
        msg = f"{file}: expected a GeoJSON FeatureCollection with at least one feature"
        raise InvalidInputError(msg)
    candidates = []
    for feature in features:
        properties = feature.get("properties") or {} if isinstance(feature, dict) else {}
        candidates.append(
            {
                "name": properties.get("name"),
                "geometry": feature.get("geometry") if isinstance(feature, dict) else None,
                "opening_cost": properties.get("opening_cost"),
            }
        )
    return candidates


def _print_suggestion(answer: Mapping[str, Any]) -> None:
    before, after = answer["before"], answer["after"]
    typer.echo(
        f"{answer['model']}: {answer['new_schools']} of {answer['candidates']} candidates, "
        f"{answer['status']}, proven gap {100 * answer['gap']:.4f} %, "
        f"solve {answer['seconds']['solve']:.1f} s"
    )
    for site in answer["sites"]:
        typer.echo(
            f"  candidate {site['candidate']}\t{site['name']}\t{site['lat']:.6f}, "
            f"{site['lon']:.6f}\t{site['first_grade_seats']:.0f} seats"
        )
    typer.echo(
        f"mean walk of seated children {before['mean_distance_m']:.0f} -> "
        f"{after['mean_distance_m']:.0f} m; without a seat {before['unserved_children']:.0f}"
        f" -> {after['unserved_children']:.0f}; within 1 km {before['within_1000m']:.0f} -> "
        f"{after['within_1000m']:.0f}"
    )
