"""First-grade demand forecasts of a stored district against the registry's capacity.

The arithmetic lives in :mod:`enrolment.forecast`; this module does the I/O around it:

* the **inputs** come from a forecast manifest (``forecast.toml`` next to the district's
  files; the bundled one is ``data/hcmc-district3/forecast.toml``): census age groups of the
  district, ward totals of two census years, the district's yearly series, survival and
  housing developments, each with its source and date;
* the **wards, schools, capacities and enrolment history** come from the registry;
* the **admission zones** are the district's published zone version, if there is one
  (:mod:`gis_service.db.zones_repository`), with the demand points it was computed from.

A planner may override some inputs (:func:`with_overrides`): the net migration rate of
wards and the list of housing developments, for one computation or saved as a named
forecast input version (:mod:`gis_service.forecasting.versions`); the district's adopted
version applies to its forecasts and is named in their output (:func:`input_version_summary`).

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

import dataclasses
import datetime as dt
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from shapely.geometry import Point
from sqlalchemy.orm import Session

from enrolment.errors import EnrolmentError
from enrolment.errors import InvalidInputError as CoreInputError
from enrolment.forecast import (
    VARIANTS,
    BasePopulation,
    CapacityComparison,
    CohortRates,
    FirstGradeCapacity,
    FirstGradeForecast,
    ForecastBand,
    GrowthRates,
    HousingDevelopment,
    ZoneDemand,
    aggregate_capacity,
    compare_with_capacity,
    forecast_first_grade,
    growth_rates_from_history,
    spread_to_zones,
)
from enrolment.grade_progression import EnrolmentHistory, GradeProjection, project_grades
from enrolment.single_age import apply_age_structure, split_five_year_groups
from gis_service.db import repository, zones_repository
from gis_service.db.forecast_inputs_repository import ForecastInputVersionRecord
from gis_service.db.zones_repository import ZoneRecord, ZoneVersionRecord
from gis_service.errors import FieldProblem, InvalidInputError, NotFoundError
from gis_service.ingest.files import read_vector
from gis_service.networks import check_point
from gis_service.records import DistrictRecord, SchoolRecord, WardRecord
from gis_service.settings import BUNDLED_DISTRICT_DIR
from gis_service.text import normalize_text

__all__ = [
    "FIRST_GRADE_LEVELS",
    "FORECAST_MANIFEST",
    "MAX_YEARS_AFTER_BASE",
    "DevelopmentOverride",
    "DistrictForecast",
    "ForecastInputs",
    "ForecastOverrides",
    "InputNote",
    "Level",
    "SchoolForecast",
    "ZoneForecast",
    "bundled_forecast_manifest",
    "compute_district_forecast",
    "describe_inputs",
    "district_summary",
    "forecast_document",
    "forecast_items",
    "forecast_year_range",
    "input_version_summary",
    "inputs_document",
    "load_forecast_inputs",
    "next_school_year",
    "place_development",
    "primary_school_counts",
    "ward_of",
    "with_overrides",
    "zone_version_summary",
]

FORECAST_MANIFEST = "forecast.toml"
#: Furthest year forecast, counted from the base (census) year.
MAX_YEARS_AFTER_BASE = 25
#: School levels that take first-grade pupils.
FIRST_GRADE_LEVELS = ("tieu_hoc", "lien_cap")
#: Grades of Vietnamese primary school.
PRIMARY_GRADES = 5
#: The school year starts in September.
SCHOOL_YEAR_START_MONTH = 9

Level = Literal["ward", "school", "zone"]

_AGE_GROUPS = [
    "0_04", "05_09", "10_14", "15_19", "20_24", "25_29", "30_34", "35_39", "40_44",
    "45_49", "50_54", "55_59", "60_64", "65_69", "70_74", "75_79", "80_84",
]  # fmt: skip


def bundled_forecast_manifest() -> Path:
    """Return the forecast manifest of the bundled district (Quận 3)."""
    return BUNDLED_DISTRICT_DIR / FORECAST_MANIFEST


def next_school_year(today: dt.date) -> int:
    """Return the first school year whose first-grade intake is still ahead on ``today``."""
    return today.year if today.month < SCHOOL_YEAR_START_MONTH else today.year + 1


@dataclass(frozen=True, slots=True)
class InputNote:
    """One input of a forecast as shown to users: what, from where, as of when."""

    name: str
    source: str
    as_of: dt.date


@dataclass(frozen=True, slots=True)
class ForecastInputs:
    """Everything a district forecast is made from, read from a forecast manifest.

    ``input_version`` is the saved forecast input version applied over the manifest's
    inputs, if any (:func:`gis_service.forecasting.versions.with_input_version`).
    """

    manifest: Path
    district_code: str
    base: BasePopulation
    rates: CohortRates
    developments: tuple[HousingDevelopment, ...]
    district_growth: GrowthRates
    ward_growth: Mapping[str, GrowthRates]
    split_method: str
    district_single_ages: npt.NDArray[np.float64]
    notes: tuple[InputNote, ...]
    input_version: ForecastInputVersionRecord | None = None


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


@dataclass(frozen=True, slots=True)
class DevelopmentOverride:
    """A housing development given by a planner (see :class:`HousingDevelopment`).

    ``lon``/``lat`` are EPSG:4326 degrees; the ward is the one holding the point.
    """

    name: str
    lon: float
    lat: float
    dwellings: int
    completion_year: int
    children_per_dwelling_per_cohort: float
    occupancy_ramp: tuple[float, ...] = (1.0,)


@dataclass(frozen=True, slots=True)
class ForecastOverrides:
    """A planner's changes to the manifest's inputs for one computation.

    Attributes
    ----------
    source
        Where the overriding figures come from.
    as_of
        The date they describe.
    net_migration_rate
        Annual net migration rate (0.01 = +1 % a year) by ward code, replacing the ward's.
    developments
        The housing developments to use instead of the manifest's (``None``: keep those).
    """

    source: str
    as_of: dt.date
    net_migration_rate: Mapping[str, float] = field(default_factory=dict)
    developments: tuple[DevelopmentOverride, ...] | None = None


# --------------------------------------------------------------------------- inputs


def _section(manifest: Mapping[str, Any], name: str, path: Path) -> Mapping[str, Any]:
    section = manifest.get(name)
    if not isinstance(section, dict):
        msg = f"{path}: the [{name}] section is missing"
        raise InvalidInputError(msg)
    return section


def _value(section: Mapping[str, Any], key: str, path: Path, name: str) -> Any:
    if key not in section:
        msg = f"{path}: [{name}] needs '{key}'"
        raise InvalidInputError(msg)
    return section[key]


def _date(section: Mapping[str, Any], path: Path, name: str) -> dt.date:
    value = _value(section, "as_of", path, name)
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        msg = f"{path}: [{name}] as_of must be a date (YYYY-MM-DD), got {value!r}"
        raise InvalidInputError(msg)
    return value


def _note(section: Mapping[str, Any], path: Path, name: str) -> InputNote:
    return InputNote(
        name=name,
        source=str(_value(section, "source", path, name)),
        as_of=_date(section, path, name),
    )


def _census_groups(
    section: Mapping[str, Any], manifest: Path
) -> tuple[npt.NDArray[np.float64], float]:
    file = manifest.parent / str(_value(section, "file", manifest, "census_age_groups"))
    province = normalize_text(str(_value(section, "province", manifest, "census_age_groups")))
    district = normalize_text(str(_value(section, "district", manifest, "census_age_groups")))
    try:
        table = pd.read_csv(file)
    except OSError as error:
        msg = f"{manifest}: cannot read the census table {file}: {error}"
        raise InvalidInputError(msg) from None
    rows = table[
        (table["province"].map(normalize_text) == province)
        & (table["district"].map(normalize_text) == district)
    ]
    if len(rows) != 1:
        msg = f"{file}: expected one row for {district}, {province}; found {len(rows)}"
        raise InvalidInputError(msg)
    row = rows.iloc[0]
    groups = row[[f"total_{group}" for group in _AGE_GROUPS]].to_numpy(dtype=np.float64)
    return groups, float(row["total"])


def _ward_table(section: Mapping[str, Any], manifest: Path) -> tuple[pd.DataFrame, list[int]]:
    file = manifest.parent / str(_value(section, "file", manifest, "ward_population"))
    code = str(_value(section, "code", manifest, "ward_population"))
    columns = _value(section, "columns", manifest, "ward_population")
    if not isinstance(columns, dict) or len(columns) < 2:
        msg = f"{manifest}: [ward_population] columns must map two or more years to columns"
        raise InvalidInputError(msg)
    years = sorted(int(year) for year in columns)
    frame = read_vector(file)
    missing = [name for name in [code, *columns.values()] if name not in frame.columns]
    if missing:
        msg = f"{file}: no column {missing[0]!r}"
        raise InvalidInputError(msg)
    table = pd.DataFrame(
        {year: frame[columns[str(year)]].to_numpy(dtype=np.float64) for year in years},
        index=frame[code].astype(str),
    )
    return table, years


def _district_series(section: Mapping[str, Any], manifest: Path) -> GrowthRates:
    file = manifest.parent / str(_value(section, "file", manifest, "district_series"))
    code = str(_value(section, "district_code", manifest, "district_series"))
    low, high = (float(q) for q in section.get("quantiles", (0.1, 0.9)))
    frame = pd.read_csv(file, dtype={"district_code": str})
    rows = frame[frame["district_code"] == code]
    if len(rows) != 1:
        msg = f"{file}: expected one row for district {code}, found {len(rows)}"
        raise InvalidInputError(msg)
    columns = [column for column in frame.columns if column.startswith("pop_")]
    years = [int(column.removeprefix("pop_")) for column in columns]
    values = rows.iloc[0][columns].to_numpy(dtype=np.float64)
    return growth_rates_from_history(years, values, quantiles=(low, high))


def ward_of(lon: float, lat: float, wards: Sequence[WardRecord]) -> str | None:
    """Return the code of the ward holding an EPSG:4326 point, ``None`` outside them all."""
    point = Point(lon, lat)
    for ward in wards:
        if ward.boundary.covers(point):
            return ward.code
    return None


def _development_note(development: HousingDevelopment) -> InputNote:
    return InputNote(
        f"development {development.development_id}", development.source, development.as_of
    )


def _developments(
    entries: Sequence[Mapping[str, Any]], manifest: Path, wards: Sequence[WardRecord]
) -> tuple[HousingDevelopment, ...]:
    developments = []
    for number, entry in enumerate(entries, start=1):
        name = f"developments #{number}"
        ward_code = entry.get("ward_code")
        location = None
        if "lon" in entry and "lat" in entry:
            location = Point(float(entry["lon"]), float(entry["lat"]))
            ward_code = ward_code or ward_of(location.x, location.y, wards)
        if ward_code is None:
            msg = f"{manifest}: [{name}] needs ward_code, or lon/lat inside a ward"
            raise InvalidInputError(msg)
        developments.append(
            HousingDevelopment(
                development_id=str(_value(entry, "id", manifest, name)),
                ward_code=str(ward_code),
                dwellings=int(_value(entry, "dwellings", manifest, name)),
                completion_year=int(_value(entry, "completion_year", manifest, name)),
                children_per_dwelling_per_cohort=float(
                    _value(entry, "children_per_dwelling_per_cohort", manifest, name)
                ),
                occupancy_ramp=tuple(float(v) for v in entry.get("occupancy_ramp", (1.0,))),
                source=str(_value(entry, "source", manifest, name)),
                as_of=_date(entry, manifest, name),
                location=location,
            )
        )
    return tuple(developments)


def load_forecast_inputs(manifest: Path, *, wards: Sequence[WardRecord] = ()) -> ForecastInputs:
    """Read a forecast manifest and the files it names into the forecast's inputs.

    Parameters
    ----------
    manifest
        The ``forecast.toml`` file; paths in it are relative to its folder.
    wards
        The district's wards from the registry (to place developments given by lon/lat).

    Returns
    -------
    ForecastInputs
        The base population by ward and age 0-6, the rates with their band, developments.

    Raises
    ------
    InvalidInputError
        If the manifest or a file it names is missing or wrong.
    """
    try:
        with manifest.open("rb") as handle:
            document = tomllib.load(handle)
    except FileNotFoundError:
        msg = f"{manifest}: no such forecast manifest"
        raise NotFoundError(msg) from None
    except tomllib.TOMLDecodeError as error:
        msg = f"{manifest}: not valid TOML ({error})"
        raise InvalidInputError(msg) from None
    try:
        return _inputs_from(document, manifest, wards)
    except EnrolmentError as error:
        msg = f"{manifest}: {error}"
        raise InvalidInputError(msg) from None


def _inputs_from(
    document: Mapping[str, Any], manifest: Path, wards: Sequence[WardRecord]
) -> ForecastInputs:
    forecast = _section(document, "forecast", manifest)
    district_code = str(_value(forecast, "district_code", manifest, "forecast"))
    base_year = int(_value(forecast, "base_year", manifest, "forecast"))
    split_method = str(forecast.get("split_method", "sprague"))

    census = _section(document, "census_age_groups", manifest)
    groups, district_total = _census_groups(census, manifest)
    single = split_five_year_groups(groups, method=split_method)  # type: ignore[arg-type]

    ward_section = _section(document, "ward_population", manifest)
    ward_table, ward_years = _ward_table(ward_section, manifest)
    if base_year not in ward_years:
        msg = f"{manifest}: [ward_population] has no column for the base year {base_year}"
        raise InvalidInputError(msg)
    ward_codes = tuple(ward_table.index)
    ward_growth = {
        code: growth_rates_from_history(ward_years, ward_table.loc[code].to_numpy())
        for code in ward_codes
    }
    series = _section(document, "district_series", manifest)
    district_growth = _district_series(series, manifest)

    census_note = _note(census, manifest, "census age groups")
    ward_note = _note(ward_section, manifest, "ward population")
    base = BasePopulation(
        ward_codes=ward_codes,
        base_year=base_year,
        population_by_age=apply_age_structure(
            ward_table[base_year].to_numpy(), single[:7], reference_total=district_total
        ),
        source=(
            f"{census_note.source} ({split_method} single ages, district shares) x "
            f"{ward_note.source}"
        ),
        as_of=census_note.as_of,
    )
    survival = _section(document, "survival", manifest)
    survival_note = _note(survival, manifest, "survival")
    series_note = _note(series, manifest, "district series")
    ward_rates = np.array([ward_growth[code].central for code in ward_codes])
    rates = CohortRates(
        survival_by_age=np.asarray(_value(survival, "by_age", manifest, "survival"), dtype=float),
        net_migration_rate=ward_rates,
        birth_change_rate=ward_rates,
        low_rate_offset=district_growth.low - district_growth.central,
        high_rate_offset=district_growth.high - district_growth.central,
        source=(
            f"migration and births trend: ward growth {ward_years[0]}-{ward_years[-1]} "
            f"({ward_note.source}); band: spread of {series_note.source}; survival: "
            f"{survival_note.source}"
        ),
        as_of=max(survival_note.as_of, ward_note.as_of, series_note.as_of),
    )
    developments = _developments(document.get("developments", []), manifest, wards)
    notes = (
        census_note,
        ward_note,
        series_note,
        survival_note,
        *(_development_note(d) for d in developments),
    )
    return ForecastInputs(
        manifest=manifest,
        district_code=district_code,
        base=base,
        rates=rates,
        developments=developments,
        district_growth=district_growth,
        ward_growth=ward_growth,
        split_method=split_method,
        district_single_ages=single[:10],
        notes=notes,
    )


def _overridden_rates(
    rates: CohortRates,
    overrides: ForecastOverrides,
    *,
    ward_codes: Sequence[str],
    label: str,
    pointer: str,
) -> CohortRates:
    rows = {code: row for row, code in enumerate(ward_codes)}
    unknown = [code for code in overrides.net_migration_rate if code not in rows]
    if unknown:
        detail = f"ward {unknown[0]!r} is not a ward of the forecast ({len(rows)} wards)"
        problems = [
            FieldProblem(f"{pointer}/net_migration_rate/{code}", f"no ward {code!r}")
            for code in unknown
        ]
        raise InvalidInputError(detail, problems=problems)
    current = rates.net_migration_rate
    migration = np.array(np.broadcast_to(current, (len(rows),)) if current.ndim < 2 else current)
    for code, rate in overrides.net_migration_rate.items():
        migration[rows[code]] = rate
    try:
        return dataclasses.replace(
            rates,
            net_migration_rate=migration,
            source=f"{rates.source}; {label}: {overrides.source}",
            as_of=max(rates.as_of, overrides.as_of),
        )
    except CoreInputError as error:
        detail = f"net migration rate: {error.detail}"
        raise InvalidInputError(
            detail, problems=[FieldProblem(f"{pointer}/net_migration_rate", detail)]
        ) from None


def place_development(
    development: DevelopmentOverride,
    overrides: ForecastOverrides,
    *,
    district: DistrictRecord,
    wards: Sequence[WardRecord],
    years: tuple[int, int],
    pointer: str,
) -> HousingDevelopment:
    """Return a planner's development placed in its ward, with the overrides' provenance.

    Raises
    ------
    InvalidInputError
        If it is completed outside ``years`` (first, last), lies outside the district's
        wards or has impossible figures (the problem is at ``pointer``).
    """
    earliest, latest = years
    if not earliest <= development.completion_year <= latest:
        detail = (
            f"completion year {development.completion_year} is outside the years the "
            f"forecast covers, {earliest}-{latest}"
        )
        raise InvalidInputError(
            detail, problems=[FieldProblem(f"{pointer}/completion_year", detail)]
        )
    lon, lat = check_point(district, lat=development.lat, lon=development.lon, pointer=pointer)
    ward_code = ward_of(lon, lat, wards)
    if ward_code is None:
        detail = f"({lon}, {lat}) lies in no ward of district {district.code}"
        raise InvalidInputError(detail, problems=[FieldProblem(pointer, detail)])
    try:
        return HousingDevelopment(
            development_id=development.name,
            ward_code=ward_code,
            dwellings=development.dwellings,
            completion_year=development.completion_year,
            children_per_dwelling_per_cohort=development.children_per_dwelling_per_cohort,
            occupancy_ramp=development.occupancy_ramp,
            source=overrides.source,
            as_of=overrides.as_of,
            location=Point(lon, lat),
        )
    except CoreInputError as error:
        raise InvalidInputError(
            error.detail, problems=[FieldProblem(f"{pointer}/{error.field}", error.detail)]
        ) from None


def with_overrides(
    inputs: ForecastInputs,
    overrides: ForecastOverrides,
    *,
    district: DistrictRecord,
    wards: Sequence[WardRecord],
    pointer: str = "/overrides",
) -> ForecastInputs:
    """Return the inputs with a planner's net migration rates and developments.

    The overridden rates and developments carry the overrides' source and date, and the
    notes say which inputs were overridden.

    Parameters
    ----------
    inputs
        The manifest's inputs (:func:`load_forecast_inputs`).
    overrides
        The changes.
    district
        The district forecast (developments must lie in it).
    wards
        Its wards from the registry (to place developments).
    pointer
        JSON pointer of the overrides in the request, the prefix of the problems' pointers
        (``/overrides/net_migration_rate/<ward>``, ``/overrides/developments/<n>/lon``).

    Returns
    -------
    ForecastInputs
        The inputs with the overrides applied.

    Raises
    ------
    InvalidInputError
        If a ward is not forecast, a rate is impossible or a development lies outside
        the district's wards, is completed outside the forecast years
        (:func:`forecast_year_range`) or has impossible figures.
    """
    rates, notes = inputs.rates, list(inputs.notes)
    if overrides.net_migration_rate:
        label = f"net migration of wards {', '.join(sorted(overrides.net_migration_rate))}"
        rates = _overridden_rates(
            rates, overrides, ward_codes=inputs.base.ward_codes, label=label, pointer=pointer
        )
        notes.append(InputNote(label, overrides.source, overrides.as_of))
    developments = inputs.developments
    if overrides.developments is not None:
        placed: list[HousingDevelopment] = []
        years = forecast_year_range(inputs)
        for index, development in enumerate(overrides.developments):
            where = f"{pointer}/developments/{index}"
            if any(d.development_id == development.name for d in placed):
                detail = f"two developments are named {development.name!r}"
                raise InvalidInputError(detail, problems=[FieldProblem(f"{where}/name", detail)])
            placed.append(
                place_development(
                    development,
                    overrides,
                    district=district,
                    wards=wards,
                    years=years,
                    pointer=where,
                )
            )
        developments = tuple(placed)
        replaced = {_development_note(d) for d in inputs.developments}
        notes = [note for note in notes if note not in replaced]
        notes.extend(_development_note(d) for d in developments)
    return dataclasses.replace(inputs, rates=rates, developments=developments, notes=tuple(notes))


# --------------------------------------------------------------------------- forecast


def _class_size_cap(school: SchoolRecord, default_class_size_cap: int) -> float:
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
        class_size_cap=np.array([_class_size_cap(s, default_class_size_cap) for s in schools]),
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


def forecast_year_range(inputs: ForecastInputs) -> tuple[int, int]:
    """Return the first and last school year the inputs can forecast (base year + 1 ..)."""
    base_year = inputs.base.base_year
    return base_year + 1, base_year + MAX_YEARS_AFTER_BASE


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
        The forecast inputs (:func:`load_forecast_inputs`).
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
    base_year = inputs.base.base_year
    last_year = first_year + years - 1
    earliest, latest = forecast_year_range(inputs)
    if years < 1 or first_year < earliest or last_year > latest:
        msg = (
            f"forecast years must lie in {earliest}-{latest} (base year {base_year}), got "
            f"{first_year}-{last_year}"
        )
        raise InvalidInputError(msg)
    district = repository.get_district(session, inputs.district_code)
    wards = tuple(repository.list_wards(session, district.code))
    registry_codes = {ward.code for ward in wards}
    if registry_codes != set(inputs.base.ward_codes):
        missing = sorted(registry_codes ^ set(inputs.base.ward_codes))
        msg = f"the forecast inputs and the registry disagree on the wards: {missing[:5]}"
        raise InvalidInputError(msg)
    found, _ = repository.list_schools(
        session, repository.SchoolFilter(district_code=district.code, status="open")
    )
    schools = [s for s in found if s.data.level in FIRST_GRADE_LEVELS]
    try:
        ward_forecast = forecast_first_grade(
            inputs.base,
            inputs.rates,
            horizon_years=last_year - base_year,
            developments=inputs.developments,
        )
        report_years = tuple(range(first_year, last_year + 1))
        ward_band = ward_forecast.entrants.select([ward.code for ward in wards]).select_years(
            report_years
        )
        capacity = _capacity(schools, class_size_cap)
        ward_codes = ward_band.unit_ids
        wards_vs_capacity = compare_with_capacity(
            ward_band,
            aggregate_capacity(
                capacity,
                {s.data.code: s.data.ward_code for s in schools if s.data.ward_code},
                unit_ids=ward_codes,
                default_class_size_cap=class_size_cap,
            ),
        )
        district_band = ForecastBand(
            unit_ids=(district.code,),
            years=report_years,
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
        zones = _zone_forecast(
            session,
            district,
            ward_forecast,
            schools=schools,
            report_years=report_years,
            class_size_cap=class_size_cap,
        )
        school_results = []
        demands = []
        for school in schools:
            result, demand = _school_forecast(school, ward_forecast, zones)
            school_results.append(result)
            if demand is not None:
                demands.append(demand)
        schools_vs_capacity = None
        if demands:
            school_band = _stack(demands, report_years)
            schools_vs_capacity = compare_with_capacity(school_band, capacity)
    except EnrolmentError as error:
        msg = f"the forecast failed on its inputs: {error}"
        raise InvalidInputError(msg) from None
    return DistrictForecast(
        district=district,
        inputs=inputs,
        years=report_years,
        wards=wards,
        ward_forecast=ward_forecast,
        wards_vs_capacity=wards_vs_capacity,
        district_vs_capacity=district_vs_capacity,
        schools=tuple(school_results),
        schools_vs_capacity=schools_vs_capacity,
        zones=zones,
        class_size_cap=class_size_cap,
    )


# --------------------------------------------------------------------------- output


def _band_at(band: ForecastBand, row: int, column: int) -> dict[str, float] | None:
    values = {name: float(band.variant(name)[row, column]) for name in VARIANTS}
    if any(np.isnan(value) for value in values.values()):
        return None
    return {name: round(value, 1) for name, value in values.items()}


def _comparison_item(comparison: CapacityComparison, row: int, column: int) -> dict[str, Any]:
    capacity = comparison.capacity
    known = bool(comparison.capacity_known[row])
    classes = float(capacity.classes[row])
    return {
        "first_grade_entrants": _band_at(comparison.demand, row, column),
        "first_grade_classes": round(classes, 1) if known else None,
        "class_size_cap": round(float(capacity.class_size_cap[row]), 1),
        "first_grade_seats": round(float(capacity.seats[row]), 1) if known else None,
        "capacity_known": known,
        "seat_shortfall": _band_at(comparison.seat_shortfall, row, column),
        "classroom_shortfall": _band_at(comparison.classroom_shortfall, row, column),
        "first_year_short": {
            name: comparison.first_year_short(name)[row] for name in ("central", "high")
        },
    }


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


def district_summary(forecast: DistrictForecast, *, year: int) -> dict[str, Any]:
    """Return the district's entrants, seats and shortfall for one forecast year.

    Parameters
    ----------
    forecast
        The district forecast.
    year
        A year of ``forecast.years``.

    Returns
    -------
    dict
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
    return {
        "code": forecast.district.code,
        "name": forecast.district.name,
        "primary_schools": len(forecast.schools),
        **_comparison_item(forecast.district_vs_capacity, 0, column),
        "unzoned_entrants": unzoned,
    }


def _ward_items(forecast: DistrictForecast, year: int, column: int) -> list[dict[str, Any]]:
    comparison = forecast.wards_vs_capacity
    names = {ward.code: ward.name for ward in forecast.wards}
    counts = primary_school_counts(forecast)
    entrants = forecast.ward_forecast.entrants
    housing_column = entrants.years.index(year)
    return [
        {
            "code": code,
            "name": names[code],
            "primary_schools": counts[code],
            **_comparison_item(comparison, row, column),
            "housing_yield": round(
                float(
                    forecast.ward_forecast.housing_yield[
                        entrants.unit_ids.index(code), housing_column
                    ]
                ),
                1,
            ),
        }
        for row, code in enumerate(comparison.demand.unit_ids)
    ]


def _school_items(forecast: DistrictForecast, year: int, column: int) -> list[dict[str, Any]]:
    rows = (
        {code: i for i, code in enumerate(forecast.schools_vs_capacity.demand.unit_ids)}
        if forecast.schools_vs_capacity is not None
        else {}
    )
    items = []
    for result in forecast.schools:
        data = result.school.data
        item: dict[str, Any] = {
            "code": data.code,
            "name": data.name,
            "ward_code": data.ward_code,
            "demand_method": result.demand_method,
            "no_demand_reason": result.reason,
        }
        if data.code in rows and forecast.schools_vs_capacity is not None:
            item.update(_comparison_item(forecast.schools_vs_capacity, rows[data.code], column))
        else:
            cap = _class_size_cap(result.school, forecast.class_size_cap)
            classes = data.first_grade_classes
            seats = None if classes is None else classes * cap
            item.update(
                {
                    "first_grade_entrants": None,
                    "first_grade_classes": classes,
                    "class_size_cap": cap,
                    "first_grade_seats": seats,
                    "capacity_known": seats is not None,
                    "seat_shortfall": None,
                    "classroom_shortfall": None,
                    "first_year_short": {"central": None, "high": None},
                }
            )
        total = None
        if result.enrolment is not None and year in result.enrolment.enrolment.years:
            whole = result.enrolment.total()
            total = _band_at(whole, 0, whole.years.index(year))
        item["enrolment_total"] = total
        items.append(item)
    return items


def _zone_items(forecast: DistrictForecast, column: int) -> list[dict[str, Any]]:
    zones = _published_zones(forecast)
    shares = zones.demand.ward_shares
    ward_codes = forecast.ward_forecast.entrants.unit_ids
    return [
        {
            "code": zone.school_code,
            "name": zone.school_name,
            **_comparison_item(zones.vs_capacity, row, column),
            "seats_assumed": zone.seats_assumed,
            "ward_shares": {
                ward: round(float(shares[index, row]), 4)
                for index, ward in enumerate(ward_codes)
                if shares[index, row] > 0
            },
        }
        for row, zone in enumerate(zones.zones)
    ]


def forecast_items(forecast: DistrictForecast, *, level: Level, year: int) -> list[dict[str, Any]]:
    """Return one JSON-ready item per ward, school or zone for one forecast year.

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
    list of dict
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


def zone_version_summary(forecast: DistrictForecast) -> dict[str, Any] | None:
    """Return the published zone version the forecast used (``None``: none published)."""
    if forecast.zones is None:
        return None
    version = forecast.zones.version
    return {
        "id": version.id,
        "name": version.name,
        "method": version.method,
        "inputs_hash": version.inputs_hash,
        "published_at": None if version.published_at is None else version.published_at.isoformat(),
    }


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


def input_version_summary(forecast: DistrictForecast) -> dict[str, Any] | None:
    """Return the forecast input version the forecast used (``None``: the manifest alone).

    Only what never changes is given (not the version's adoption), so the summary is part
    of :func:`inputs_document` and its hash.
    """
    version = forecast.inputs.input_version
    if version is None:
        return None
    return {
        "id": version.id,
        "name": version.name,
        "inputs_hash": version.inputs_hash,
        "created_at": version.created_at.isoformat(),
        "created_by": version.created_by,
    }


def forecast_document(forecast: DistrictForecast, *, level: Level) -> dict[str, Any]:
    """Return the whole forecast at one level as JSON-ready values, every year.

    Parameters
    ----------
    forecast
        The district forecast.
    level
        ``"ward"``, ``"school"`` or ``"zone"``.

    Returns
    -------
    dict
        The district, its years, the inputs' notes (source, as of), the forecast input
        version and the zone version used, and the district summary and items of each year
        (:func:`forecast_items`).

    Raises
    ------
    NotFoundError
        If ``level`` is ``"zone"`` and the district has no published zone version.
    """
    return {
        "district_code": forecast.district.code,
        "district_name": forecast.district.name,
        "level": level,
        "base_year": forecast.inputs.base.base_year,
        "years": list(forecast.years),
        "inputs": [
            {"name": note.name, "source": note.source, "as_of": note.as_of.isoformat()}
            for note in forecast.inputs.notes
        ],
        "inputs_version": input_version_summary(forecast),
        "zone_version": zone_version_summary(forecast),
        "district_by_year": {
            str(year): district_summary(forecast, year=year) for year in forecast.years
        },
        "items_by_year": {
            str(year): forecast_items(forecast, level=level, year=year) for year in forecast.years
        },
    }


def _by_ward(values: npt.NDArray[np.float64], ward_codes: Sequence[str]) -> dict[str, Any]:
    """Rates by ward: a value each (a scalar applies to every ward) or one per age."""
    rows = np.broadcast_to(values, (len(ward_codes),)) if values.ndim < 2 else values
    return {code: np.asarray(rows[index]).tolist() for index, code in enumerate(ward_codes)}


def inputs_document(forecast: DistrictForecast, *, level: Level) -> dict[str, Any]:
    """Return every input of a forecast as JSON-ready values, each with source and date.

    Parameters
    ----------
    forecast
        The district forecast.
    level
        The level reported (part of what was asked).

    Returns
    -------
    dict
        The request (years, level, class-size cap), the base population by ward and age
        0-6, the rates by ward, the housing developments, the schools' first-grade classes
        and caps, and the forecast input version and zone version used.
    """
    inputs = forecast.inputs
    base, rates = inputs.base, inputs.rates
    wards = base.ward_codes
    return {
        "district_code": forecast.district.code,
        "request": {
            "first_year": forecast.years[0],
            "years": len(forecast.years),
            "level": level,
            "class_size_cap": forecast.class_size_cap,
        },
        "base_population": {
            "base_year": base.base_year,
            "split_method": inputs.split_method,
            "by_ward_age_0_6": {
                code: base.population_by_age[index].tolist() for index, code in enumerate(wards)
            },
            "source": base.source,
            "as_of": base.as_of.isoformat(),
        },
        "rates": {
            "survival_by_age": rates.survival_by_age.tolist(),
            "net_migration_rate": _by_ward(rates.net_migration_rate, wards),
            "birth_change_rate": _by_ward(rates.birth_change_rate, wards),
            "low_rate_offset": rates.low_rate_offset,
            "high_rate_offset": rates.high_rate_offset,
            "source": rates.source,
            "as_of": rates.as_of.isoformat(),
        },
        "developments": [
            {
                "name": d.development_id,
                "ward_code": d.ward_code,
                "lon": None if d.location is None else d.location.representative_point().x,
                "lat": None if d.location is None else d.location.representative_point().y,
                "dwellings": d.dwellings,
                "completion_year": d.completion_year,
                "children_per_dwelling_per_cohort": d.children_per_dwelling_per_cohort,
                "occupancy_ramp": list(d.occupancy_ramp),
                "source": d.source,
                "as_of": d.as_of.isoformat(),
            }
            for d in inputs.developments
        ],
        "schools": [
            {
                "code": result.school.data.code,
                "first_grade_classes": result.school.data.first_grade_classes,
                "class_size_cap": _class_size_cap(result.school, forecast.class_size_cap),
            }
            for result in forecast.schools
        ],
        "inputs_version": input_version_summary(forecast),
        "zone_version": zone_version_summary(forecast),
    }
