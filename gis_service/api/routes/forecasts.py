"""First-grade demand forecasts by ward or school against first-grade capacity."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from gis_service.api.deps import SessionDep, SettingsDep
from gis_service.db import repository
from gis_service.errors import NotFoundError
from gis_service.forecasting import (
    MAX_YEARS_AFTER_BASE,
    bundled_forecast_manifest,
    compute_district_forecast,
    district_summary,
    forecast_items,
    load_forecast_inputs,
    next_school_year,
)

router = APIRouter(prefix="/forecasts", tags=["forecasts"])


@router.get("")
def read_forecasts(
    session: SessionDep,
    settings: SettingsDep,
    year: Annotated[
        int | None,
        Query(ge=1900, le=2200, description="School year (its September intake); default: next."),
    ] = None,
    level: Annotated[
        Literal["ward", "school"],
        Query(description="ward or school; zone needs published admission zones (not yet)."),
    ] = "ward",
    from_year: Annotated[
        int | None,
        Query(
            ge=1900,
            le=2200,
            description="First year of the horizon used for first_year_short; default: next.",
        ),
    ] = None,
    years: Annotated[
        int, Query(ge=1, le=MAX_YEARS_AFTER_BASE, description="Length of that horizon.")
    ] = 10,
) -> dict[str, Any]:
    """First-grade entrants (low/central/high), seats, shortfalls and first year short.

    Seat and classroom shortfalls are positive when short and negative when there is room
    to spare; they are null where a school's first-grade classes are unknown.
    """
    district = repository.get_district(session, settings.district_code)
    inputs = load_forecast_inputs(
        bundled_forecast_manifest(), wards=repository.list_wards(session, district.code)
    )
    if inputs.district_code != district.code:
        msg = f"no forecast inputs for district {district.code} ({district.name})"
        raise NotFoundError(msg)
    start = from_year or next_school_year(dt.datetime.now(dt.UTC).date())
    target = start if year is None else year
    start = min(start, target)
    forecast = compute_district_forecast(
        session,
        inputs,
        first_year=start,
        years=max(years, target - start + 1),
        class_size_cap=settings.class_size_cap,
    )
    return {
        "district_code": district.code,
        "district_name": district.name,
        "level": level,
        "year": target,
        "base_year": inputs.base.base_year,
        "horizon": [forecast.years[0], forecast.years[-1]],
        "inputs": [
            {"name": note.name, "source": note.source, "as_of": note.as_of.isoformat()}
            for note in inputs.notes
        ],
        "district": district_summary(forecast, year=target),
        "items": forecast_items(forecast, level=level, year=target),
    }
