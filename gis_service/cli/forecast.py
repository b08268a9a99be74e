"""``schoolgis forecast``: first-grade demand forecasts, as a table, JSON or an HTML report.

``run`` and ``report`` apply the district's adopted forecast input version over the
manifest, and say which; ``inputs list|save|adopt`` manage those versions.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError

from gis_service.cli.context import CliState, first_problem, open_session, read_json
from gis_service.errors import InvalidInputError
from gis_service.vocabulary import ForecastLevel

if TYPE_CHECKING:
    from collections.abc import Sequence

    from gis_service.forecasting.district import DistrictForecast
    from gis_service.forecasting.schemas import ForecastItem
    from gis_service.forecasting.versions import ForecastInputVersionIn

app = typer.Typer(
    help="First-grade demand forecasts: run, report, and versions of their inputs.",
    no_args_is_help=True,
)
inputs_app = typer.Typer(
    help="Forecast input versions (net migration rates, housing developments): list, save, adopt.",
    no_args_is_help=True,
)
app.add_typer(inputs_app, name="inputs")

InputsOption = Annotated[
    Path | None,
    typer.Option(
        "--inputs", help="Forecast manifest (default: the bundled district's forecast.toml)."
    ),
]
FirstYearOption = Annotated[
    int | None,
    typer.Option(
        "--first-year", help="First school year forecast (default: the next first-grade intake)."
    ),
]
YearsOption = Annotated[int, typer.Option("--years", min=1, max=25, help="School years forecast.")]
ActorOption = Annotated[str, typer.Option("--by", help="Who saves or adopts (recorded).")]


def _forecast(
    ctx: typer.Context, inputs: Path | None, first_year: int | None, years: int
) -> DistrictForecast:
    from gis_service.forecasting.district import compute_district_forecast, next_school_year
    from gis_service.forecasting.manifest import bundled_forecast_manifest
    from gis_service.forecasting.versions import read_district_inputs, with_adopted_version

    settings = ctx.ensure_object(CliState).settings()
    with open_session(settings) as session:
        district_inputs = read_district_inputs(
            session,
            district_code=settings.district_code,
            manifest=inputs or bundled_forecast_manifest(),
        )
        return compute_district_forecast(
            session,
            with_adopted_version(session, district_inputs),
            first_year=first_year or next_school_year(dt.datetime.now(dt.UTC).date()),
            years=years,
            class_size_cap=settings.class_size_cap,
        )


def _print_table(forecast: DistrictForecast, level: ForecastLevel) -> None:
    from gis_service.forecasting.answers import forecast_items
    from gis_service.forecasting.district import describe_inputs

    years = forecast.years
    first: Sequence[ForecastItem] = forecast_items(forecast, level=level, year=years[0])
    by_year = {year: forecast_items(forecast, level=level, year=year) for year in years}
    header = f"{'code':<10} {'name':<28}" + "".join(f"{year:>7}" for year in years)
    typer.echo(header + f"{'seats':>8} {'short from':>10}")
    for index, item in enumerate(first):
        cells = []
        for year in years:
            band = by_year[year][index].first_grade_entrants
            cells.append(f"{band.central:>7.0f}" if band else f"{'-':>7}")
        seats = item.first_grade_seats
        short = item.first_year_short.central
        typer.echo(
            f"{item.code:<10} {(item.name or '')[:28]:<28}"
            + "".join(cells)
            + f"{'?' if seats is None else f'{seats:.0f}':>8} {short or '-':>10}"
        )
    total = forecast.district_vs_capacity.demand.central[0]
    typer.echo(
        f"{forecast.district.code:<10} {'total (central)':<28}"
        + "".join(f"{value:>7.0f}" for value in total)
    )
    typer.echo(f"inputs: {describe_inputs(forecast)}")


@app.command("run")
def run(
    ctx: typer.Context,
    inputs: InputsOption = None,
    first_year: FirstYearOption = None,
    years: YearsOption = 10,
    level: Annotated[
        ForecastLevel,
        typer.Option("--level", help="ward, school or zone (zone needs a published zone version)."),
    ] = "ward",
    output: Annotated[
        Path | None, typer.Option("--output", help="Also write every year's items as JSON.")
    ] = None,
) -> None:
    """Forecast first-grade entrants per ward, school or zone against first-grade seats.

    The district's adopted forecast input version is applied; the last line says which.
    """
    from gis_service.forecasting.answers import forecast_document

    forecast = _forecast(ctx, inputs, first_year, years)
    _print_table(forecast, level)
    if output is not None:
        payload = forecast_document(forecast, level=level).model_dump(mode="json")
        output.write_text(json.dumps(payload, ensure_ascii=False, indent=1) + "\n")
        typer.echo(f"wrote {output}", err=True)


@app.command("report")
def report(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("--output", help="HTML file to write.")] = Path(
        "forecast-report.html"
    ),
    inputs: InputsOption = None,
    first_year: FirstYearOption = None,
    years: YearsOption = 10,
    map_year: Annotated[
        int | None, typer.Option("--map-year", help="Year of the ward maps (default: last).")
    ] = None,
) -> None:
    """Write the forecast report: one HTML file with charts that opens without a server.

    The district's adopted forecast input version is applied; the report says which.
    """
    from gis_service.forecasting.district import describe_inputs
    from gis_service.forecasting.report import forecast_report_data
    from maps.report import render_forecast_report

    forecast = _forecast(ctx, inputs, first_year, years)
    if map_year is not None and map_year not in forecast.years:
        msg = f"--map-year {map_year} is not among the forecast years {forecast.years}"
        raise typer.BadParameter(msg)
    data = forecast_report_data(forecast, generated_at=dt.datetime.now(dt.UTC), map_year=map_year)
    html = render_forecast_report(data)
    output.write_text(html, encoding="utf-8")
    typer.echo(
        f"wrote {output}: {forecast.district.name}, {forecast.years[0]}-{forecast.years[-1]}, "
        f"{len(forecast.wards)} wards, {len(forecast.schools)} primary schools; inputs: "
        f"{describe_inputs(forecast)}"
    )


# --- forecast input versions ------------------------------------------------------------

#: The command-line option that gives each field of a version other than its inputs.
_OPTION_OF = {"/name": "--name", "/note": "--note", "/based_on": "--based-on"}


def _where(pointer: str, file: Path) -> str:
    """Say where a problem is: in the inputs file (at a JSON pointer) or in an option."""
    if pointer == "/inputs" or pointer.startswith("/inputs/"):
        return f"{file} at {pointer.removeprefix('/inputs') or '/'}"
    return _OPTION_OF.get(pointer, pointer)


def _version_request(
    file: Path, *, name: str, note: str, based_on: str | None
) -> ForecastInputVersionIn:
    from gis_service.forecasting.versions import ForecastInputVersionIn

    fields = {"name": name, "note": note, "based_on": based_on, "inputs": read_json(file)}
    try:
        return ForecastInputVersionIn.model_validate(fields)
    except ValidationError as error:
        pointer, problem = first_problem(error)
        msg = f"{_where(pointer, file)}: {problem}"
        raise InvalidInputError(msg) from None


@inputs_app.command("list")
def list_inputs(ctx: typer.Context) -> None:
    """List the district's forecast input versions, newest first."""
    from gis_service.db import forecast_inputs_repository as versions
    from gis_service.db import repository

    settings = ctx.ensure_object(CliState).settings()
    with open_session(settings) as session:
        code = repository.get_district(session, settings.district_code).code
        found = versions.list_forecast_input_versions(session, code)
    if not found:
        typer.echo(f"district {code} has no forecast input version", err=True)
    for v in found:
        typer.echo(
            f"{v.id}\t{v.name}\t{v.status}\t{v.created_at:%Y-%m-%d %H:%M}\t{v.created_by}\t"
            f"{v.inputs_hash[:12]}\t{v.note}"
        )


@inputs_app.command("save")
def save_inputs(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            help="JSON file of the inputs: source, as_of, net_migration_rate, developments "
            "(the shape of the compute endpoint's overrides)."
        ),
    ],
    name: Annotated[str, typer.Option("--name", help="Version name, unique in the district.")],
    note: Annotated[str, typer.Option("--note", help="What changed and why.")] = "",
    based_on: Annotated[
        str | None, typer.Option("--based-on", help="The version (id or name) it was edited from.")
    ] = None,
    by: ActorOption = "cli",
) -> None:
    """Check forecast inputs and save them as a new draft version (versions never change)."""
    from gis_service.forecasting.manifest import bundled_forecast_manifest
    from gis_service.forecasting.versions import read_district_inputs, save_input_version

    settings = ctx.ensure_object(CliState).settings()
    request = _version_request(file, name=name, note=note, based_on=based_on)
    with open_session(settings) as session:
        district_inputs = read_district_inputs(
            session, district_code=settings.district_code, manifest=bundled_forecast_manifest()
        )
        try:
            record = save_input_version(session, district_inputs, request, created_by=by)
        except InvalidInputError as error:
            where = _where(error.problems[0].pointer, file) if error.problems else str(file)
            msg = f"{where}: {error.detail}"
            raise InvalidInputError(msg) from None
        session.commit()
    typer.echo(
        f"saved forecast input version {record.id} {record.name!r} (draft, sha256 "
        f"{record.inputs_hash})"
    )


@inputs_app.command("adopt")
def adopt_inputs(
    ctx: typer.Context,
    version: Annotated[str, typer.Argument(help="Version id or name.")],
    by: ActorOption = "cli",
) -> None:
    """Adopt a forecast input version: the district's forecasts use it from now on."""
    from gis_service.forecasting.manifest import bundled_forecast_manifest
    from gis_service.forecasting.versions import adopt_input_version, read_district_inputs

    settings = ctx.ensure_object(CliState).settings()
    with open_session(settings) as session:
        district_inputs = read_district_inputs(
            session, district_code=settings.district_code, manifest=bundled_forecast_manifest()
        )
        record = adopt_input_version(session, district_inputs, version, actor=by)
        session.commit()
    typer.echo(
        f"adopted forecast input version {record.id} {record.name!r} (sha256 "
        f"{record.inputs_hash}) for the forecasts of district {record.district_code}"
    )
