"""``schoolgis forecast``: first-grade demand forecasts, as a table, JSON or an HTML report."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from gis_service.cli.context import CliState, open_session
from gis_service.db import repository
from gis_service.forecast_report import render_forecast_report
from gis_service.forecasting import (
    DistrictForecast,
    bundled_forecast_manifest,
    compute_district_forecast,
    forecast_items,
    load_forecast_inputs,
    next_school_year,
)

app = typer.Typer(help="First-grade demand forecasts: run, report.", no_args_is_help=True)

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


def _forecast(
    ctx: typer.Context, inputs: Path | None, first_year: int | None, years: int
) -> DistrictForecast:
    settings = ctx.ensure_object(CliState).settings()
    manifest = inputs or bundled_forecast_manifest()
    with open_session(settings) as session:
        district = repository.get_district(session, settings.district_code)
        forecast_inputs = load_forecast_inputs(
            manifest, wards=repository.list_wards(session, district.code)
        )
        return compute_district_forecast(
            session,
            forecast_inputs,
            first_year=first_year or next_school_year(dt.datetime.now(dt.UTC).date()),
            years=years,
            class_size_cap=settings.class_size_cap,
        )


def _print_table(forecast: DistrictForecast, level: Literal["ward", "school"]) -> None:
    years = forecast.years
    first = forecast_items(forecast, level=level, year=years[0])
    by_year = {year: forecast_items(forecast, level=level, year=year) for year in years}
    header = f"{'code':<10} {'name':<28}" + "".join(f"{year:>7}" for year in years)
    typer.echo(header + f"{'seats':>8} {'short from':>10}")
    for index, item in enumerate(first):
        cells = []
        for year in years:
            band = by_year[year][index]["first_grade_entrants"]
            cells.append(f"{band['central']:>7.0f}" if band else f"{'-':>7}")
        seats = item["first_grade_seats"]
        short = item["first_year_short"]["central"]
        typer.echo(
            f"{item['code']:<10} {item['name'][:28]:<28}"
            + "".join(cells)
            + f"{'?' if seats is None else f'{seats:.0f}':>8} {short or '-':>10}"
        )
    total = forecast.district_vs_capacity.demand.central[0]
    typer.echo(
        f"{forecast.district.code:<10} {'total (central)':<28}"
        + "".join(f"{value:>7.0f}" for value in total)
    )


@app.command("run")
def run(
    ctx: typer.Context,
    inputs: InputsOption = None,
    first_year: FirstYearOption = None,
    years: YearsOption = 10,
    level: Annotated[
        str, typer.Option("--level", help="ward or school (zones: not published yet).")
    ] = "ward",
    output: Annotated[
        Path | None, typer.Option("--output", help="Also write every year's items as JSON.")
    ] = None,
) -> None:
    """Forecast first-grade entrants per ward or school against first-grade seats."""
    if level not in ("ward", "school"):
        msg = f"level must be 'ward' or 'school' (zones are not published yet), got {level!r}"
        raise typer.BadParameter(msg)
    chosen: Literal["ward", "school"] = "ward" if level == "ward" else "school"
    forecast = _forecast(ctx, inputs, first_year, years)
    _print_table(forecast, chosen)
    if output is not None:
        payload: dict[str, Any] = {
            "district_code": forecast.district.code,
            "district_name": forecast.district.name,
            "level": chosen,
            "base_year": forecast.inputs.base.base_year,
            "years": list(forecast.years),
            "inputs": [
                {"name": n.name, "source": n.source, "as_of": n.as_of.isoformat()}
                for n in forecast.inputs.notes
            ],
            "items_by_year": {
                str(year): forecast_items(forecast, level=chosen, year=year)
                for year in forecast.years
            },
        }
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
    """Write the forecast report: one HTML file with charts that opens without a server."""
    forecast = _forecast(ctx, inputs, first_year, years)
    if map_year is not None and map_year not in forecast.years:
        msg = f"--map-year {map_year} is not among the forecast years {forecast.years}"
        raise typer.BadParameter(msg)
    html = render_forecast_report(forecast, generated_at=dt.datetime.now(dt.UTC), map_year=map_year)
    output.write_text(html, encoding="utf-8")
    typer.echo(
        f"wrote {output}: {forecast.district.name}, {forecast.years[0]}-{forecast.years[-1]}, "
        f"{len(forecast.wards)} wards, {len(forecast.schools)} primary schools"
    )
