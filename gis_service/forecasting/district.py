"""First-grade demand forecasts of a stored district against the registry's capacity.

The arithmetic lives in :mod:`enrolment.forecast`; this module computes a district's
forecast around it (:func:`compute_district_forecast`):

* the **inputs** come from the district's forecast manifest
  (:mod:`gis_service.forecasting.manifest`), with a planner's overrides or the district's
  adopted forecast input version applied (:mod:`gis_service.forecasting.overrides`,
  :mod:`gis_service.forecasting.versions`);
* the **wards, schools, capacities and enrolment history** come from the registry;
* the **admission zones** are the district's published zone version, if there is one
  (:mod:`gis_service.db.zones_repository`), with the demand points it was computed from.

The answers of the API and the CLI are shaped from the result by
:mod:`gis_service.forecasting.schemas`.

Levels
------
ward
    Entrants per ward against the first-grade seats of the open primary schools located in
    the ward (classes x cap; unknown when one of them has no class count). Children cross
    ward lines, so a ward short of seats relies on its neighbours' schools.
zone
    Needs a published zone version. Each ward's entrants are spread over the ward's demand
    points of that version in proportion to their children and summed per zone; a housing
    development with a location adds its yield to the zone holding it instead
    (:func:`enrolment.forecast.spread_to_zones`). A zone's demand is compared with the
    first-grade seats its zoning used (classes x cap, with the assumed number of classes
    where the registry had none: ``seats_assumed``).
school
    With a published zone version, a school's demand is its zone's demand, compared with
    the registry's seats (unknown when its classes are); schools not in the version get
    none. Without one, a school's demand is its share of its ward's entrants in its latest
    school year with first-grade enrolment, held for the years ahead, and schools without
    enrolment history get none. Where a school has an enrolment history, its enrolment by
    grade is projected by grade progression from its first-grade demand.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy.orm import Session

from enrolment.errors import EnrolmentError
from enrolment.forecast import (
    VARIANTS,
    CapacityComparison,
    FirstGradeCapacity,
    FirstGradeForecast,
    ForecastBand,
    ZoneDemand,
    aggregate_capacity,
    compare_with_capacity,
    forecast_first_grade,
    spread_to_zones,
)
from enrolment.grade_progression import EnrolmentHistory, GradeProjection, project_grades
from gis_service.core_errors import enrolment_errors
from gis_service.db import repository, zones_repository
from gis_service.db.zones_repository import ZoneRecord, ZoneVersionRecord
from gis_service.errors import InvalidInputError
from gis_service.forecasting.manifest import ForecastInputs, forecast_year_range
from gis_service.records import DistrictRecord, SchoolRecord, WardRecord
from gis_service.vocabulary import FIRST_GRADE_LEVELS

__all__ = [
    "DistrictForecast",
    "SchoolForecast",
    "ZoneForecast",
    "compute_district_forecast",
    "describe_inputs",
    "next_school_year",
    "primary_school_counts",
    "school_class_size_cap",
]

#: School levels that take first-grade pupils.
#: Grades of Vietnamese primary school.
PRIMARY_GRADES = 5
#: The school year starts in September.
SCHOOL_YEAR_START_MONTH = 9


def next_school_year(today: dt.date) -> int:
    """Return the first school year whose first-grade intake is still ahead on ``today``."""
    return today.year if today.month < SCHOOL_YEAR_START_MONTH else today.year + 1


@dataclass(frozen=True, slots=True)
class SchoolForecast:
    """One open first-grade school: its demand (if it can be given) and enrolment."""

    school: SchoolRecord
    demand_method: str | None
    reason: str | None
    enrolment: GradeProjection | None


@dataclass(frozen=True, slots=True)
class ZoneForecast:
    """First-grade demand of each zone of the published version against its seats.

    Attributes
    ----------
    version
        The published zone version.
    zones
        Its zones that have a school, in the order of ``vs_capacity``'s rows.
    demand
        Entrants by zone over every forecast year (the report years and those before).
    vs_capacity
        Entrants over the report years against the seats the zoning used.
    """

    version: ZoneVersionRecord
    zones: tuple[ZoneRecord, ...]
    demand: ZoneDemand
    vs_capacity: CapacityComparison


@dataclass(frozen=True, slots=True)
class DistrictForecast:
    """A district's first-grade forecast by ward, school and zone, against capacity."""

    district: DistrictRecord
    inputs: ForecastInputs
    years: tuple[int, ...]
    wards: tuple[WardRecord, ...]
    ward_forecast: FirstGradeForecast
    wards_vs_capacity: CapacityComparison
    district_vs_capacity: CapacityComparison
    schools: tuple[SchoolForecast, ...]
    schools_vs_capacity: CapacityComparison | None
    zones: ZoneForecast | None
    class_size_cap: int


# --------------------------------------------------------------------------- forecast


def school_class_size_cap(school: SchoolRecord, default_class_size_cap: int) -> float:
    """Return a school's cap: its own, or the default cap where the registry holds the default."""
    data = school.data
    return float(default_class_size_cap if data.class_size_cap_is_default else data.class_size_cap)


def _capacity(schools: Sequence[SchoolRecord], default_class_size_cap: int) -> FirstGradeCapacity:
    classes = [
        np.nan if s.data.first_grade_classes is None else float(s.data.first_grade_classes)
        for s in schools
    ]
    return FirstGradeCapacity(
        unit_ids=tuple(s.data.code for s in schools),
        classes=np.array(classes, dtype=np.float64),
        class_size_cap=np.array(
            [school_class_size_cap(s, default_class_size_cap) for s in schools]
        ),
        source="school registry: first-grade classes x class-size cap",
        as_of=max((s.updated_at.date() for s in schools), default=dt.date(1970, 1, 1)),
    )


def _enrolment_history(school: SchoolRecord) -> EnrolmentHistory | None:
    rows = [e for e in school.data.enrolment if 1 <= e.grade <= PRIMARY_GRADES]
    if not rows:
        return None
    years = sorted({e.school_year for e in rows})
    pupils = np.zeros((len(years), PRIMARY_GRADES))
    for e in rows:
        pupils[years.index(e.school_year), e.grade - 1] = e.pupils
    return EnrolmentHistory(
        school_id=school.data.code,
        school_years=tuple(years),
        pupils_by_grade=pupils,
        source=f"school registry ({school.data.source})",
        as_of=school.updated_at.date(),
    )


def _latest_first_grade_year(history: EnrolmentHistory) -> int | None:
    years = [
        year
        for year, pupils in zip(history.school_years, history.pupils_by_grade[:, 0], strict=True)
        if pupils > 0
    ]
    return max(years, default=None)


def _until(history: EnrolmentHistory, last_year: int) -> EnrolmentHistory:
    kept = [index for index, year in enumerate(history.school_years) if year <= last_year]
    return EnrolmentHistory(
        school_id=history.school_id,
        school_years=tuple(history.school_years[index] for index in kept),
        pupils_by_grade=history.pupils_by_grade[kept],
        source=history.source,
        as_of=history.as_of,
    )


def _ward_share_demand(
    school: SchoolRecord, history: EnrolmentHistory | None, ward_forecast: FirstGradeForecast
) -> tuple[ForecastBand, str, EnrolmentHistory] | str:
    """Return a school's share of its ward's entrants and the history behind it, or why not.

    The share is the school's first-grade pupils in its latest school year with any, over
    its ward's entrants that year (the base-year count of 6-year-olds, or the forecast).
    """
    ward = school.data.ward_code
    entrants = ward_forecast.entrants
    base_year = ward_forecast.base.base_year
    latest = None if history is None else _latest_first_grade_year(history)
    if history is None or latest is None:
        return "no first-grade enrolment history; demand per school needs admission zones"
    if ward is None or ward not in entrants.unit_ids:
        return "the school lies in no forecast ward"
    row = entrants.unit_ids.index(ward)
    if latest == base_year:
        ward_level = float(ward_forecast.base.population_by_age[row, 6])
    elif latest in entrants.years:
        ward_level = float(entrants.central[row, entrants.years.index(latest)])
    else:
        return (
            f"latest first-grade enrolment ({latest}) is outside {base_year}-"
            f"{entrants.years[-1]}, the years the forecast can relate it to"
        )
    first_grade = history.pupils_by_grade[history.school_years.index(latest), 0]
    share = first_grade / ward_level if ward_level > 0 else 0.0
    ward_band = entrants.select([ward])
    demand = ForecastBand(
        unit_ids=(school.data.code,),
        years=ward_band.years,
        **{name: ward_band.variant(name) * share for name in VARIANTS},
    )
    method = (
        f"{share:.1%} of ward {ward}'s entrants, its share in {latest} "
        f"({first_grade:.0f} first-graders)"
    )
    return demand, method, _until(history, latest)


def _zone_demand(
    school: SchoolRecord, history: EnrolmentHistory | None, zones: ZoneForecast
) -> tuple[ForecastBand, str, EnrolmentHistory | None] | str:
    """Return a school's zone's entrants as its demand, with its history, or why not."""
    code = school.data.code
    name = zones.version.name
    if code not in zones.demand.demand.unit_ids:
        return f"not in the published zone version {name!r} (added since it was computed)"
    zone_band = zones.demand.demand.select([code])
    return zone_band, f"entrants of its admission zone (published zone version {name!r})", history


def _projected_enrolment(
    history: EnrolmentHistory | None, demand: ForecastBand
) -> GradeProjection | None:
    """Return the enrolment by grade over the demand's years after the history, if any."""
    if history is None:
        return None
    ahead = [year for year in demand.years if year > history.school_years[-1]]
    if not ahead:
        return None
    try:
        return project_grades(history, horizon_years=len(ahead), first_grade_intake=demand)
    except EnrolmentError:
        return None  # too short a history for grade progression: demand only


def _school_forecast(
    school: SchoolRecord, ward_forecast: FirstGradeForecast, zones: ZoneForecast | None
) -> tuple[SchoolForecast, ForecastBand | None]:
    """Demand of one school (from its zone, else its ward share) and its grade projection."""
    history = _enrolment_history(school)
    found = (
        _ward_share_demand(school, history, ward_forecast)
        if zones is None
        else _zone_demand(school, history, zones)
    )
    if isinstance(found, str):
        return SchoolForecast(school, None, found, None), None
    demand, method, used_history = found
    return SchoolForecast(school, method, None, _projected_enrolment(used_history, demand)), demand


def _zone_capacity(
    version: ZoneVersionRecord,
    zones: Sequence[ZoneRecord],
    schools: Sequence[SchoolRecord],
    default_class_size_cap: int,
) -> FirstGradeCapacity:
    """Return each zone's seats: the classes its zoning used x the school's cap.

    The classes are the version's seats over its caps (assumed where the registry had
    none); the cap is the version's, or the default cap where the registry holds the
    default, so with the service's default cap the seats are the version's.
    """
    version_caps = {
        str(school["code"]): float(school["class_size_cap"])
        for school in version.inputs.get("schools", [])
    }
    registry = {school.data.code: school for school in schools}
    codes = tuple(str(zone.school_code) for zone in zones)
    fallback = float(default_class_size_cap)
    version_cap = np.array([version_caps.get(code, fallback) for code in codes])
    cap = np.array(
        [
            fallback
            if code in registry and registry[code].data.class_size_cap_is_default
            else version_caps.get(code, fallback)
            for code in codes
        ]
    )
    seats = np.array([np.nan if zone.seats is None else zone.seats for zone in zones])
    return FirstGradeCapacity(
        unit_ids=codes,
        classes=seats / version_cap,
        class_size_cap=cap,
        source=(
            f"zone version {version.name!r}: the first-grade classes its zoning used (assumed "
            "where the registry had none) x class-size cap"
        ),
        as_of=version.created_at.date(),
    )


def _zone_forecast(
    session: Session,
    district: DistrictRecord,
    ward_forecast: FirstGradeForecast,
    *,
    schools: Sequence[SchoolRecord],
    report_years: tuple[int, ...],
    class_size_cap: int,
) -> ZoneForecast | None:
    """Spread the ward entrants over the published version's zones (``None``: no version)."""
    version = zones_repository.published_zone_version(session, district.code)
    if version is None:
        return None
    zones = tuple(
        zone for zone in zones_repository.zones_of(session, version.id) if zone.school_code
    )
    points = zones_repository.zone_points_of(session, version.id)
    located = []
    for development in ward_forecast.developments:
        if development.location is None:
            continue
        spot = development.location.representative_point()
        holder = zones_repository.zone_at(session, version.id, lon=spot.x, lat=spot.y)
        if holder is not None and holder.school_code is not None:
            located.append((development, holder.school_code))
    demand = spread_to_zones(
        ward_forecast.entrants,
        [point.ward_code for point in points],
        point_weight=[point.children for point in points],
        point_zone=[point.school_code for point in points],
        zone_ids=[str(zone.school_code) for zone in zones],
        located_developments=located,
    )
    return ZoneForecast(
        version=version,
        zones=zones,
        demand=demand,
        vs_capacity=compare_with_capacity(
            demand.demand.select_years(report_years),
            _zone_capacity(version, zones, schools, class_size_cap),
        ),
    )


def _stack(bands: Sequence[ForecastBand], years: tuple[int, ...]) -> ForecastBand:
    picked = [band.select_years(years) for band in bands]
    return ForecastBand(
        unit_ids=tuple(band.unit_ids[0] for band in picked),
        years=years,
        **{name: np.vstack([band.variant(name) for band in picked]) for name in VARIANTS},
    )


def _report_years(inputs: ForecastInputs, *, first_year: int, years: int) -> tuple[int, ...]:
    """Return the school years reported, checked against what the base year allows."""
    last_year = first_year + years - 1
    earliest, latest = forecast_year_range(inputs)
    if years < 1 or first_year < earliest or last_year > latest:
        msg = (
            f"forecast years must lie in {earliest}-{latest} (base year "
            f"{inputs.base.base_year}), got {first_year}-{last_year}"
        )
        raise InvalidInputError(msg)
    return tuple(range(first_year, last_year + 1))


def _district_wards(
    session: Session, inputs: ForecastInputs
) -> tuple[DistrictRecord, tuple[WardRecord, ...]]:
    """Return the inputs' district and its registry wards, which must be the inputs' wards."""
    district = repository.get_district(session, inputs.district_code)
    wards = tuple(repository.list_wards(session, district.code))
    registry_codes = {ward.code for ward in wards}
    if registry_codes != set(inputs.base.ward_codes):
        missing = sorted(registry_codes ^ set(inputs.base.ward_codes))
        msg = f"the forecast inputs and the registry disagree on the wards: {missing[:5]}"
        raise InvalidInputError(msg)
    return district, wards


def _first_grade_schools(session: Session, district: DistrictRecord) -> list[SchoolRecord]:
    found, _ = repository.list_schools(
        session, repository.SchoolFilter(district_code=district.code, status="open")
    )
    return [s for s in found if s.data.level in FIRST_GRADE_LEVELS]


def _capacity_comparisons(
    ward_band: ForecastBand,
    capacity: FirstGradeCapacity,
    *,
    district: DistrictRecord,
    schools: Sequence[SchoolRecord],
    class_size_cap: int,
) -> tuple[CapacityComparison, CapacityComparison]:
    """Entrants against the seats of the schools located in each ward, and in the district."""
    wards_vs_capacity = compare_with_capacity(
        ward_band,
        aggregate_capacity(
            capacity,
            {s.data.code: s.data.ward_code for s in schools if s.data.ward_code},
            unit_ids=ward_band.unit_ids,
            default_class_size_cap=class_size_cap,
        ),
    )
    district_band = ForecastBand(
        unit_ids=(district.code,),
        years=ward_band.years,
        **{name: ward_band.variant(name).sum(axis=0, keepdims=True) for name in VARIANTS},
    )
    district_vs_capacity = compare_with_capacity(
        district_band,
        aggregate_capacity(
            capacity,
            {s.data.code: district.code for s in schools},
            unit_ids=(district.code,),
            default_class_size_cap=class_size_cap,
        ),
    )
    return wards_vs_capacity, district_vs_capacity


def _school_forecasts(
    schools: Sequence[SchoolRecord],
    capacity: FirstGradeCapacity,
    *,
    ward_forecast: FirstGradeForecast,
    zones: ZoneForecast | None,
    report_years: tuple[int, ...],
) -> tuple[tuple[SchoolForecast, ...], CapacityComparison | None]:
    """Each school's demand and enrolment, and the demand of those with one against seats."""
    results = []
    demands = []
    for school in schools:
        result, demand = _school_forecast(school, ward_forecast, zones)
        results.append(result)
        if demand is not None:
            demands.append(demand)
    if not demands:
        return tuple(results), None
    return tuple(results), compare_with_capacity(_stack(demands, report_years), capacity)


def compute_district_forecast(
    session: Session,
    inputs: ForecastInputs,
    *,
    first_year: int,
    years: int = 10,
    class_size_cap: int,
) -> DistrictForecast:
    """Forecast first-grade entrants by ward, school and zone and compare them with capacity.

    Zones (and school demand from them) come from the district's published zone version;
    without one, ``zones`` is ``None`` and school demand is a ward share (module docstring).

    Parameters
    ----------
    session
        A session on the registry holding the district.
    inputs
        The forecast inputs (:func:`gis_service.forecasting.manifest.load_forecast_inputs`).
    first_year
        First school year reported (its intake in September).
    years
        Number of school years reported.
    class_size_cap
        The default cap (pupils per class): for schools whose registry cap is the default
        and for units without classes (the service's setting, or a planner's what-if).

    Returns
    -------
    DistrictForecast
        Entrants with their band, seat and classroom shortfalls, first year short.

    Raises
    ------
    InvalidInputError
        If the years fall outside what the base year allows or the inputs do not match
        the registry's wards or the published zone version's demand points.
    NotFoundError
        If the district is not in the registry.
    """
    report_years = _report_years(inputs, first_year=first_year, years=years)
    district, wards = _district_wards(session, inputs)
    schools = _first_grade_schools(session, district)
    with enrolment_errors("the forecast failed on its inputs"):
        ward_forecast = forecast_first_grade(
            inputs.base,
            inputs.rates,
            horizon_years=report_years[-1] - inputs.base.base_year,
            developments=inputs.developments,
        )
        ward_band = ward_forecast.entrants.select([ward.code for ward in wards]).select_years(
            report_years
        )
        capacity = _capacity(schools, class_size_cap)
        wards_vs_capacity, district_vs_capacity = _capacity_comparisons(
            ward_band, capacity, district=district, schools=schools, class_size_cap=class_size_cap
        )
        zones = _zone_forecast(
            session,
            district,
            ward_forecast,
            schools=schools,
            report_years=report_years,
            class_size_cap=class_size_cap,
        )
        school_results, schools_vs_capacity = _school_forecasts(
            schools,
            capacity,
            ward_forecast=ward_forecast,
            zones=zones,
            report_years=report_years,
        )
    return DistrictForecast(
        district=district,
        inputs=inputs,
        years=report_years,
        wards=wards,
        ward_forecast=ward_forecast,
        wards_vs_capacity=wards_vs_capacity,
        district_vs_capacity=district_vs_capacity,
        schools=school_results,
        schools_vs_capacity=schools_vs_capacity,
        zones=zones,
        class_size_cap=class_size_cap,
    )


def primary_school_counts(forecast: DistrictForecast) -> dict[str, int]:
    """Return the number of open primary schools located in each ward of the forecast.

    Parameters
    ----------
    forecast
        The district forecast.

    Returns
    -------
    dict
        Ward code to number of schools (0 for wards without one).
    """
    counts = {ward.code: 0 for ward in forecast.wards}
    for result in forecast.schools:
        code = result.school.data.ward_code
        if code in counts:
            counts[code] += 1
    return counts


def describe_inputs(forecast: DistrictForecast) -> str:
    """Return in one line what the forecast is made from: its manifest and input version."""
    inputs = forecast.inputs
    manifest = f"{inputs.manifest.parent.name}/{inputs.manifest.name}"
    version = inputs.input_version
    if version is None:
        return f"{manifest} alone (no forecast input version)"
    return (
        f"{manifest} with forecast input version {version.id} {version.name!r} "
        f"(sha256 {version.inputs_hash})"
    )
