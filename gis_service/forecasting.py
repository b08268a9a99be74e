"""First-grade demand forecasts of a stored district against the registry's capacity.

The arithmetic lives in :mod:`enrolment.forecast`; this module does the I/O around it:

* the **inputs** come from a forecast manifest (``forecast.toml`` next to the district's
  files; the bundled one is ``data/hcmc-district3/forecast.toml``): census age groups of the
  district, ward totals of two census years, the district's yearly series, survival and
  housing developments, each with its source and date;
* the **wards, schools, capacities and enrolment history** come from the registry.

Levels
------
ward
    Entrants per ward against the first-grade seats of the open primary schools located in
    the ward (classes x cap; unknown when one of them has no class count). Children cross
    ward lines, so a ward short of seats relies on its neighbours' schools.
school
    A school's demand is its share of its ward's entrants in its latest school year with
    first-grade enrolment, held for the years ahead; its enrolment by grade is projected
    by grade progression. Schools without enrolment history get no demand: carrying
    children to schools needs the published admission zones, which do not exist yet.
zone
    Not available until admission zones are published.
"""

from __future__ import annotations

import datetime as dt
import tomllib
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from shapely.geometry import Point
from sqlalchemy.orm import Session

from enrolment.errors import EnrolmentError
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
    aggregate_capacity,
    compare_with_capacity,
    forecast_first_grade,
    growth_rates_from_history,
)
from enrolment.grade_progression import EnrolmentHistory, GradeProjection, project_grades
from enrolment.single_age import apply_age_structure, split_five_year_groups
from gis_service.db import repository
from gis_service.errors import InvalidInputError, NotFoundError
from gis_service.ingest.files import read_vector
from gis_service.records import DistrictRecord, SchoolRecord, WardRecord
from gis_service.settings import BUNDLED_DISTRICT_DIR

__all__ = [
    "FIRST_GRADE_LEVELS",
    "FORECAST_MANIFEST",
    "MAX_YEARS_AFTER_BASE",
    "DistrictForecast",
    "ForecastInputs",
    "InputNote",
    "Level",
    "SchoolForecast",
    "bundled_forecast_manifest",
    "compute_district_forecast",
    "district_summary",
    "forecast_items",
    "load_forecast_inputs",
    "next_school_year",
    "primary_school_counts",
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

Level = Literal["ward", "school"]

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
    """Everything a district forecast is made from, read from a forecast manifest."""

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


@dataclass(frozen=True, slots=True)
class SchoolForecast:
    """One open first-grade school: its demand (if it can be given) and enrolment."""

    school: SchoolRecord
    demand_method: str | None
    reason: str | None
    enrolment: GradeProjection | None


@dataclass(frozen=True, slots=True)
class DistrictForecast:
    """A district's first-grade forecast by ward and school, against capacity."""

    district: DistrictRecord
    inputs: ForecastInputs
    years: tuple[int, ...]
    wards: tuple[WardRecord, ...]
    ward_forecast: FirstGradeForecast
    wards_vs_capacity: CapacityComparison
    district_vs_capacity: CapacityComparison
    schools: tuple[SchoolForecast, ...]
    schools_vs_capacity: CapacityComparison | None
    class_size_cap: int


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


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


def _census_groups(
    section: Mapping[str, Any], manifest: Path
) -> tuple[npt.NDArray[np.float64], float]:
    file = manifest.parent / str(_value(section, "file", manifest, "census_age_groups"))
    province = _nfc(str(_value(section, "province", manifest, "census_age_groups")))
    district = _nfc(str(_value(section, "district", manifest, "census_age_groups")))
    try:
        table = pd.read_csv(file)
    except OSError as error:
        msg = f"{manifest}: cannot read the census table {file}: {error}"
        raise InvalidInputError(msg) from None
    rows = table[
        (table["province"].map(_nfc) == province) & (table["district"].map(_nfc) == district)
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


def _ward_of(lon: float, lat: float, wards: Sequence[WardRecord]) -> str | None:
    point = Point(lon, lat)
    for ward in wards:
        if ward.boundary.covers(point):
            return ward.code
    return None


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
            ward_code = ward_code or _ward_of(location.x, location.y, wards)
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
        *(InputNote(f"development {d.development_id}", d.source, d.as_of) for d in developments),
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


# --------------------------------------------------------------------------- forecast


def _capacity(schools: Sequence[SchoolRecord]) -> FirstGradeCapacity:
    classes = [
        np.nan if s.data.first_grade_classes is None else float(s.data.first_grade_classes)
        for s in schools
    ]
    return FirstGradeCapacity(
        unit_ids=tuple(s.data.code for s in schools),
        classes=np.array(classes, dtype=np.float64),
        class_size_cap=np.array([float(s.data.class_size_cap) for s in schools]),
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


def _school_forecast(
    school: SchoolRecord, ward_forecast: FirstGradeForecast
) -> tuple[SchoolForecast, ForecastBand | None]:
    """Demand of one school as its share of its ward's entrants, and its grade projection.

    The share is the school's first-grade pupils in its latest school year with any, over
    its ward's entrants that year (the base-year count of 6-year-olds, or the forecast).
    """
    history = _enrolment_history(school)
    ward = school.data.ward_code
    entrants = ward_forecast.entrants
    base_year = ward_forecast.base.base_year
    if history is None or not np.any(history.pupils_by_grade[:, 0] > 0):
        reason = "no first-grade enrolment history; demand per school needs admission zones"
        return SchoolForecast(school, None, reason, None), None
    if ward is None or ward not in entrants.unit_ids:
        reason = "the school lies in no forecast ward"
        return SchoolForecast(school, None, reason, None), None
    latest = max(
        year
        for year, pupils in zip(history.school_years, history.pupils_by_grade[:, 0], strict=True)
        if pupils > 0
    )
    row = entrants.unit_ids.index(ward)
    if latest == base_year:
        ward_level = float(ward_forecast.base.population_by_age[row, 6])
    elif latest in entrants.years:
        ward_level = float(entrants.central[row, entrants.years.index(latest)])
    else:
        reason = (
            f"latest first-grade enrolment ({latest}) is outside {base_year}-"
            f"{entrants.years[-1]}, the years the forecast can relate it to"
        )
        return SchoolForecast(school, None, reason, None), None
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
    ahead = [year for year in entrants.years if year > latest]
    kept = [index for index, year in enumerate(history.school_years) if year <= latest]
    enrolment = None
    if ahead:
        trimmed = EnrolmentHistory(
            school_id=history.school_id,
            school_years=tuple(history.school_years[index] for index in kept),
            pupils_by_grade=history.pupils_by_grade[kept],
            source=history.source,
            as_of=history.as_of,
        )
        try:
            enrolment = project_grades(trimmed, horizon_years=len(ahead), first_grade_intake=demand)
        except EnrolmentError:
            enrolment = None  # too short a history for grade progression: demand only
    return SchoolForecast(school, method, None, enrolment), demand


def _stack(bands: Sequence[ForecastBand], years: tuple[int, ...]) -> ForecastBand:
    picked = [band.select_years(years) for band in bands]
    return ForecastBand(
        unit_ids=tuple(band.unit_ids[0] for band in picked),
        years=years,
        **{name: np.vstack([band.variant(name) for band in picked]) for name in VARIANTS},
    )


def compute_district_forecast(
    session: Session,
    inputs: ForecastInputs,
    *,
    first_year: int,
    years: int = 10,
    class_size_cap: int,
) -> DistrictForecast:
    """Forecast first-grade entrants by ward and school and compare them with capacity.

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
        Pupils per class for wards without classes (the service's default cap).

    Returns
    -------
    DistrictForecast
        Entrants with their band, seat and classroom shortfalls, first year short.

    Raises
    ------
    InvalidInputError
        If the years fall outside what the base year allows or the inputs do not match
        the registry's wards.
    NotFoundError
        If the district is not in the registry.
    """
    base_year = inputs.base.base_year
    last_year = first_year + years - 1
    if years < 1 or first_year <= base_year or last_year > base_year + MAX_YEARS_AFTER_BASE:
        msg = (
            f"forecast years must lie in {base_year + 1}-{base_year + MAX_YEARS_AFTER_BASE} "
            f"(base year {base_year}), got {first_year}-{last_year}"
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
        capacity = _capacity(schools)
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
        school_results = []
        demands = []
        for school in schools:
            result, demand = _school_forecast(school, ward_forecast)
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
        As one item of :func:`forecast_items`, for the whole district.

    Raises
    ------
    InvalidInputError
        If ``year`` is not forecast.
    """
    return {
        "code": forecast.district.code,
        "name": forecast.district.name,
        "primary_schools": len(forecast.schools),
        **_comparison_item(forecast.district_vs_capacity, 0, _year_column(forecast, year)),
    }


def forecast_items(forecast: DistrictForecast, *, level: Level, year: int) -> list[dict[str, Any]]:
    """Return one JSON-ready item per ward or school for one forecast year.

    Parameters
    ----------
    forecast
        The district forecast.
    level
        ``"ward"`` or ``"school"``.
    year
        A year of ``forecast.years``.

    Returns
    -------
    list of dict
        Entrants (low/central/high), capacity, seat and classroom shortfall (positive =
        short), the first year short over the forecast years (central and high demand).

    Raises
    ------
    InvalidInputError
        If ``year`` is not forecast.
    """
    column = _year_column(forecast, year)
    if level == "ward":
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
            seats = data.first_grade_seats
            item.update(
                {
                    "first_grade_entrants": None,
                    "first_grade_classes": data.first_grade_classes,
                    "class_size_cap": data.class_size_cap,
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
