"""The forecast report's data: a district forecast as :class:`maps.report.ForecastReportData`.

The page itself (:func:`maps.report.render_forecast_report`) knows no store and no CRS:
the wards are reprojected here to the district's metric CRS, each unit's entrants, seats
and first year short are taken from the forecast's comparisons with capacity, and the map
year's ward values are picked.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping

import geopandas as gpd
from pyproj import CRS

from enrolment.forecast import CapacityComparison
from gis_service.crs import WGS84, to_metric
from gis_service.forecasting.district import (
    DistrictForecast,
    describe_inputs,
    primary_school_counts,
)
from maps.charts import MapArea
from maps.report import (
    ForecastReportData,
    InputSource,
    PublishedZones,
    SchoolWithoutForecast,
    UnitForecast,
)

__all__ = ["forecast_report_data"]


def _units(
    comparison: CapacityComparison,
    names: Mapping[str, str],
    *,
    assumed: frozenset[str] = frozenset(),
    notes: Mapping[str, str] | None = None,
) -> dict[str, UnitForecast]:
    """Return each unit of a comparison with a name, by code in the comparison's order."""
    demand = comparison.demand
    seats = comparison.capacity.seats
    short = comparison.first_year_short("central")
    short_high = comparison.first_year_short("high")
    return {
        code: UnitForecast(
            code=code,
            name=names[code],
            low=tuple(demand.low[row].tolist()),
            central=tuple(demand.central[row].tolist()),
            high=tuple(demand.high[row].tolist()),
            seats=float(seats[row]) if math.isfinite(seats[row]) else None,
            first_year_short=short[row],
            first_year_short_high=short_high[row],
            seats_assumed=code in assumed,
            note=(notes or {}).get(code, ""),
        )
        for row, code in enumerate(demand.unit_ids)
        if code in names
    }


def _published_zones(forecast: DistrictForecast) -> PublishedZones | None:
    zones = forecast.zones
    if zones is None:
        return None
    version = zones.version
    units = _units(
        zones.vs_capacity,
        {str(z.school_code): z.school_name or str(z.school_code) for z in zones.zones},
        assumed=frozenset(str(z.school_code) for z in zones.zones if z.seats_assumed),
    )
    return PublishedZones(
        name=version.name,
        method=version.method,
        published_on=None if version.published_at is None else version.published_at.date(),
        zones=tuple(units.values()),
    )


def _inputs_label(forecast: DistrictForecast) -> str:
    version = forecast.inputs.input_version
    if version is None:
        return "forecast manifest alone"
    return f"forecast input version {version.name!r} (sha256 {version.inputs_hash[:12]}…)"


def _ward_areas(forecast: DistrictForecast) -> tuple[MapArea, ...]:
    wards = forecast.wards
    frame = gpd.GeoDataFrame(
        {"code": [w.code for w in wards]}, geometry=[w.boundary for w in wards], crs=WGS84
    )
    metric = to_metric(frame, CRS.from_epsg(forecast.district.metric_epsg))
    return tuple(
        MapArea(code=ward.code, name=ward.name, outline=outline)
        for ward, outline in zip(wards, metric.geometry, strict=True)
    )


def forecast_report_data(
    forecast: DistrictForecast,
    *,
    generated_at: dt.datetime,
    map_year: int | None = None,
) -> ForecastReportData:
    """Return what the forecast report shows of a district forecast.

    Parameters
    ----------
    forecast
        The district forecast (:func:`gis_service.forecasting.district.compute_district_forecast`).
    generated_at
        When the report is made (shown on the page).
    map_year
        Year shown on the maps (default: the last forecast year).

    Returns
    -------
    ForecastReportData
        For :func:`maps.report.render_forecast_report`.
    """
    years = forecast.years
    map_year = years[-1] if map_year is None else map_year
    column = years.index(map_year)
    district = forecast.district
    wards_cmp = forecast.wards_vs_capacity
    schools_cmp = forecast.schools_vs_capacity
    school_units = (
        {}
        if schools_cmp is None
        else _units(
            schools_cmp,
            {s.school.data.code: s.school.data.name for s in forecast.schools},
            notes={s.school.data.code: s.demand_method or "" for s in forecast.schools},
        )
    )
    rates = forecast.inputs.district_growth
    return ForecastReportData(
        years=years,
        map_year=map_year,
        generated_at=generated_at,
        district=_units(forecast.district_vs_capacity, {district.code: district.name})[
            district.code
        ],
        province_name=district.province_name or "",
        wards=tuple(_units(wards_cmp, {w.code: w.name for w in forecast.wards}).values()),
        ward_areas=_ward_areas(forecast),
        ward_shortfall={
            code: (
                None
                if not wards_cmp.capacity_known[row]
                else float(wards_cmp.seat_shortfall.central[row, column])
            )
            for row, code in enumerate(wards_cmp.demand.unit_ids)
        },
        ward_entrants={
            code: float(wards_cmp.demand.central[row, column])
            for row, code in enumerate(wards_cmp.demand.unit_ids)
        },
        primary_schools=primary_school_counts(forecast),
        schools=tuple(
            school_units[s.school.data.code]
            for s in forecast.schools
            if s.school.data.code in school_units
        ),
        schools_without_forecast=tuple(
            SchoolWithoutForecast(
                code=s.school.data.code,
                name=s.school.data.name,
                first_grade_seats=s.school.data.first_grade_seats,
                reason=s.reason or "",
            )
            for s in forecast.schools
            if s.school.data.code not in school_units
        ),
        schools_with_classes=sum(
            1 for s in forecast.schools if s.school.data.first_grade_classes is not None
        ),
        zones=_published_zones(forecast),
        inputs_label=_inputs_label(forecast),
        inputs_description=describe_inputs(forecast),
        input_sources=tuple(
            InputSource(name=note.name, source=note.source, as_of=note.as_of)
            for note in forecast.inputs.notes
        ),
        census_year=forecast.inputs.base.base_year,
        split_method=forecast.inputs.split_method,
        growth_spread=(rates.low - rates.central, rates.high - rates.central),
        class_size_cap=forecast.class_size_cap,
    )
