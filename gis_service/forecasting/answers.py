"""A district forecast shaped into the answers of the API and the CLI.

:func:`forecast_answer` gives one year (``GET /forecasts``), :func:`forecast_document`
every year (``schoolgis forecast run --output``) and :func:`computed_forecast` every year
with every input used and their hash (``POST /forecasts/compute``); the models are in
:mod:`gis_service.forecasting.schemas`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from enrolment.forecast import VARIANTS, CapacityComparison, ForecastBand
from gis_service.canonical import canonical_sha256
from gis_service.errors import InvalidInputError, NotFoundError
from gis_service.forecasting.district import (
    DistrictForecast,
    ZoneForecast,
    primary_school_counts,
    school_class_size_cap,
)
from gis_service.forecasting.schemas import (
    BasePopulationUsed,
    CapacityFigures,
    CohortRatesUsed,
    DemandBand,
    DevelopmentUsed,
    DistrictForecastSummary,
    FirstYearShort,
    ForecastAnswer,
    ForecastComputed,
    ForecastDocument,
    ForecastInputNote,
    ForecastInputsUsed,
    ForecastInputVersionSummary,
    ForecastItems,
    ForecastRequestUsed,
    ForecastZoneVersion,
    SchoolCapacityUsed,
    SchoolForecastItem,
    WardForecastItem,
    ZoneForecastItem,
)
from gis_service.vocabulary import ForecastLevel

__all__ = [
    "computed_forecast",
    "district_summary",
    "forecast_answer",
    "forecast_document",
    "forecast_items",
    "input_version_summary",
    "inputs_document",
    "zone_version_summary",
]


# --------------------------------------------------------------------------- one year


def _band_at(band: ForecastBand, row: int, column: int) -> DemandBand | None:
    values = {name: float(band.variant(name)[row, column]) for name in VARIANTS}
    if any(np.isnan(value) for value in values.values()):
        return None
    return DemandBand(**{name: round(value, 1) for name, value in values.items()})


def _figures(comparison: CapacityComparison, row: int, column: int) -> CapacityFigures:
    capacity = comparison.capacity
    known = bool(comparison.capacity_known[row])
    classes = float(capacity.classes[row])
    return CapacityFigures(
        first_grade_entrants=_band_at(comparison.demand, row, column),
        first_grade_classes=round(classes, 1) if known else None,
        class_size_cap=round(float(capacity.class_size_cap[row]), 1),
        first_grade_seats=round(float(capacity.seats[row]), 1) if known else None,
        capacity_known=known,
        seat_shortfall=_band_at(comparison.seat_shortfall, row, column),
        classroom_shortfall=_band_at(comparison.classroom_shortfall, row, column),
        first_year_short=FirstYearShort(
            central=comparison.first_year_short("central")[row],
            high=comparison.first_year_short("high")[row],
        ),
    )


def _year_column(forecast: DistrictForecast, year: int) -> int:
    if year not in forecast.years:
        msg = f"year {year} is not forecast; years: {forecast.years[0]}-{forecast.years[-1]}"
        raise InvalidInputError(msg)
    return forecast.years.index(year)


def _published_zones(forecast: DistrictForecast) -> ZoneForecast:
    if forecast.zones is None:
        msg = (
            f"district {forecast.district.code} has no published zones: compute and publish a "
            "version first"
        )
        raise NotFoundError(msg)
    return forecast.zones


def district_summary(forecast: DistrictForecast, *, year: int) -> DistrictForecastSummary:
    """Return the district's entrants, seats and shortfall for one forecast year.

    Parameters
    ----------
    forecast
        The district forecast.
    year
        A year of ``forecast.years``.

    Returns
    -------
    DistrictForecastSummary
        As one item of :func:`forecast_items`, for the whole district, with the entrants
        living in no zone of the published version (``None`` without one).

    Raises
    ------
    InvalidInputError
        If ``year`` is not forecast.
    """
    column = _year_column(forecast, year)
    unzoned = None
    if forecast.zones is not None:
        band = forecast.zones.demand.unzoned
        unzoned = _band_at(band, 0, band.years.index(year))
    return DistrictForecastSummary(
        code=forecast.district.code,
        name=forecast.district.name,
        primary_schools=len(forecast.schools),
        **dict(_figures(forecast.district_vs_capacity, 0, column)),
        unzoned_entrants=unzoned,
    )


def _ward_items(forecast: DistrictForecast, year: int, column: int) -> list[WardForecastItem]:
    comparison = forecast.wards_vs_capacity
    names = {ward.code: ward.name for ward in forecast.wards}
    counts = primary_school_counts(forecast)
    entrants = forecast.ward_forecast.entrants
    housing = forecast.ward_forecast.housing_yield[:, entrants.years.index(year)]
    return [
        WardForecastItem(
            code=code,
            name=names[code],
            primary_schools=counts[code],
            **dict(_figures(comparison, row, column)),
            housing_yield=round(float(housing[entrants.unit_ids.index(code)]), 1),
        )
        for row, code in enumerate(comparison.demand.unit_ids)
    ]


def _school_items(forecast: DistrictForecast, year: int, column: int) -> list[SchoolForecastItem]:
    comparison = forecast.schools_vs_capacity
    rows = {} if comparison is None else {c: i for i, c in enumerate(comparison.demand.unit_ids)}
    items = []
    for result in forecast.schools:
        data = result.school.data
        if comparison is not None and data.code in rows:
            figures = _figures(comparison, rows[data.code], column)
        else:
            cap = school_class_size_cap(result.school, forecast.class_size_cap)
            classes = data.first_grade_classes
            seats = None if classes is None else classes * cap
            figures = CapacityFigures(
                first_grade_entrants=None,
                first_grade_classes=classes,
                class_size_cap=cap,
                first_grade_seats=seats,
                capacity_known=seats is not None,
                seat_shortfall=None,
                classroom_shortfall=None,
                first_year_short=FirstYearShort(central=None, high=None),
            )
        total = None
        if result.enrolment is not None and year in result.enrolment.enrolment.years:
            whole = result.enrolment.total()
            total = _band_at(whole, 0, whole.years.index(year))
        items.append(
            SchoolForecastItem(
                code=data.code,
                name=data.name,
                ward_code=data.ward_code,
                demand_method=result.demand_method,
                no_demand_reason=result.reason,
                **dict(figures),
                enrolment_total=total,
            )
        )
    return items


def _zone_items(forecast: DistrictForecast, column: int) -> list[ZoneForecastItem]:
    zones = _published_zones(forecast)
    shares = zones.demand.ward_shares
    ward_codes = forecast.ward_forecast.entrants.unit_ids
    return [
        ZoneForecastItem(
            code=str(zone.school_code),
            name=zone.school_name,
            **dict(_figures(zones.vs_capacity, row, column)),
            seats_assumed=zone.seats_assumed,
            ward_shares={
                ward: round(float(shares[index, row]), 4)
                for index, ward in enumerate(ward_codes)
                if shares[index, row] > 0
            },
        )
        for row, zone in enumerate(zones.zones)
    ]


def forecast_items(forecast: DistrictForecast, *, level: ForecastLevel, year: int) -> ForecastItems:
    """Return one item per ward, school or zone for one forecast year.

    Parameters
    ----------
    forecast
        The district forecast.
    level
        ``"ward"``, ``"school"`` or ``"zone"``.
    year
        A year of ``forecast.years``.

    Returns
    -------
    list
        Entrants (low/central/high), capacity, seat and classroom shortfall (positive =
        short), the first year short over the forecast years (central and high demand).
        Zones also say whether their seats are assumed and which share of each ward's
        entrants (less located housing) lives in them.

    Raises
    ------
    InvalidInputError
        If ``year`` is not forecast.
    NotFoundError
        If ``level`` is ``"zone"`` and the district has no published zone version.
    """
    column = _year_column(forecast, year)
    if level == "ward":
        return _ward_items(forecast, year, column)
    if level == "zone":
        return _zone_items(forecast, column)
    return _school_items(forecast, year, column)


# --------------------------------------------------------------------------- provenance


def zone_version_summary(forecast: DistrictForecast) -> ForecastZoneVersion | None:
    """Return the published zone version the forecast used (``None``: none published)."""
    if forecast.zones is None:
        return None
    version = forecast.zones.version
    return ForecastZoneVersion(
        id=version.id,
        name=version.name,
        method=version.method,
        inputs_hash=version.inputs_hash,
        published_at=None if version.published_at is None else version.published_at.isoformat(),
    )


def input_version_summary(forecast: DistrictForecast) -> ForecastInputVersionSummary | None:
    """Return the forecast input version the forecast used (``None``: the manifest alone).

    Only what never changes is given (not the version's adoption), so the summary is part
    of :func:`inputs_document` and its hash.
    """
    version = forecast.inputs.input_version
    if version is None:
        return None
    return ForecastInputVersionSummary(
        id=version.id,
        name=version.name,
        inputs_hash=version.inputs_hash,
        created_at=version.created_at.isoformat(),
        created_by=version.created_by,
    )


def _notes(forecast: DistrictForecast) -> list[ForecastInputNote]:
    return [
        ForecastInputNote(name=note.name, source=note.source, as_of=note.as_of)
        for note in forecast.inputs.notes
    ]


def forecast_answer(
    forecast: DistrictForecast, *, level: ForecastLevel, year: int
) -> ForecastAnswer:
    """Return one year of the forecast at one level, with its inputs and versions.

    Raises
    ------
    InvalidInputError
        If ``year`` is not forecast.
    NotFoundError
        If ``level`` is ``"zone"`` and the district has no published zone version.
    """
    return ForecastAnswer(
        district_code=forecast.district.code,
        district_name=forecast.district.name,
        level=level,
        year=year,
        base_year=forecast.inputs.base.base_year,
        horizon=(forecast.years[0], forecast.years[-1]),
        inputs=_notes(forecast),
        inputs_version=input_version_summary(forecast),
        zone_version=zone_version_summary(forecast),
        district=district_summary(forecast, year=year),
        items=forecast_items(forecast, level=level, year=year),
    )


def forecast_document(forecast: DistrictForecast, *, level: ForecastLevel) -> ForecastDocument:
    """Return the whole forecast at one level, every year.

    Parameters
    ----------
    forecast
        The district forecast.
    level
        ``"ward"``, ``"school"`` or ``"zone"``.

    Returns
    -------
    ForecastDocument
        The district, its years, the inputs' notes (source, as of), the forecast input
        version and the zone version used, and the district summary and items of each year
        (:func:`forecast_items`).

    Raises
    ------
    NotFoundError
        If ``level`` is ``"zone"`` and the district has no published zone version.
    """
    return ForecastDocument(
        district_code=forecast.district.code,
        district_name=forecast.district.name,
        level=level,
        base_year=forecast.inputs.base.base_year,
        years=list(forecast.years),
        inputs=_notes(forecast),
        inputs_version=input_version_summary(forecast),
        zone_version=zone_version_summary(forecast),
        district_by_year={
            str(year): district_summary(forecast, year=year) for year in forecast.years
        },
        items_by_year={
            str(year): forecast_items(forecast, level=level, year=year) for year in forecast.years
        },
    )


# --------------------------------------------------------------------------- inputs


def _by_ward(
    values: npt.NDArray[np.float64], ward_codes: Sequence[str]
) -> dict[str, float | list[float]]:
    """Rates by ward: a value each (a scalar applies to every ward) or one per age."""
    rows = np.broadcast_to(values, (len(ward_codes),)) if values.ndim < 2 else values
    return {code: np.asarray(rows[index]).tolist() for index, code in enumerate(ward_codes)}


def _developments_used(forecast: DistrictForecast) -> list[DevelopmentUsed]:
    used = []
    for d in forecast.inputs.developments:
        spot = None if d.location is None else d.location.representative_point()
        used.append(
            DevelopmentUsed(
                name=d.development_id,
                ward_code=d.ward_code,
                lon=None if spot is None else spot.x,
                lat=None if spot is None else spot.y,
                dwellings=d.dwellings,
                completion_year=d.completion_year,
                children_per_dwelling_per_cohort=d.children_per_dwelling_per_cohort,
                occupancy_ramp=list(d.occupancy_ramp),
                source=d.source,
                as_of=d.as_of,
            )
        )
    return used


def inputs_document(forecast: DistrictForecast, *, level: ForecastLevel) -> ForecastInputsUsed:
    """Return every input of a forecast, each with source and date.

    Parameters
    ----------
    forecast
        The district forecast.
    level
        The level reported (part of what was asked).

    Returns
    -------
    ForecastInputsUsed
        The request (years, level, class-size cap), the base population by ward and age
        0-6, the rates by ward, the housing developments, the schools' first-grade classes
        and caps, and the forecast input version and zone version used.
    """
    inputs = forecast.inputs
    base, rates = inputs.base, inputs.rates
    wards = base.ward_codes
    return ForecastInputsUsed(
        district_code=forecast.district.code,
        request=ForecastRequestUsed(
            first_year=forecast.years[0],
            years=len(forecast.years),
            level=level,
            class_size_cap=forecast.class_size_cap,
        ),
        base_population=BasePopulationUsed(
            base_year=base.base_year,
            split_method=inputs.split_method,
            by_ward_age_0_6={
                code: base.population_by_age[index].tolist() for index, code in enumerate(wards)
            },
            source=base.source,
            as_of=base.as_of,
        ),
        rates=CohortRatesUsed(
            survival_by_age=rates.survival_by_age.tolist(),
            net_migration_rate=_by_ward(rates.net_migration_rate, wards),
            birth_change_rate=_by_ward(rates.birth_change_rate, wards),
            low_rate_offset=rates.low_rate_offset,
            high_rate_offset=rates.high_rate_offset,
            source=rates.source,
            as_of=rates.as_of,
        ),
        developments=_developments_used(forecast),
        schools=[
            SchoolCapacityUsed(
                code=result.school.data.code,
                first_grade_classes=result.school.data.first_grade_classes,
                class_size_cap=school_class_size_cap(result.school, forecast.class_size_cap),
            )
            for result in forecast.schools
        ],
        inputs_version=input_version_summary(forecast),
        zone_version=zone_version_summary(forecast),
    )


def computed_forecast(
    forecast: DistrictForecast, *, level: ForecastLevel, computed_by: str
) -> ForecastComputed:
    """Return every year of the forecast with the inputs used and their hash.

    ``inputs_hash`` is the SHA-256 of the canonical JSON of ``inputs_used``
    (:func:`gis_service.canonical.canonical_sha256`), so equal inputs give equal hashes.

    Raises
    ------
    NotFoundError
        If ``level`` is ``"zone"`` and the district has no published zone version.
    """
    used = inputs_document(forecast, level=level)
    return ForecastComputed(
        **dict(forecast_document(forecast, level=level)),
        computed_by=computed_by,
        inputs_used=used,
        inputs_hash=canonical_sha256(used.model_dump(mode="json")),
    )
