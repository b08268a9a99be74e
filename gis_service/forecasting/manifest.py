"""The forecast manifest (``forecast.toml``) and the inputs of a district forecast it gives.

A manifest sits next to the district's files (the bundled one is
``data/hcmc-district3/forecast.toml``) and names, each with its source and the date it
describes (``as_of``): the census age groups of the district (``[census_age_groups]``), the
ward totals of two census years (``[ward_population]``), the district's yearly series
(``[district_series]``), survival (``[survival]``) and housing developments
(``[[developments]]``). Its structure is checked by :class:`ForecastManifest`; the files it
names are read into :class:`ForecastInputs` by :func:`load_forecast_inputs`. Every error
names the file, and the table of the manifest or the column at fault.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails, PydanticCustomError
from shapely.geometry import Point

from enrolment.forecast import (
    BasePopulation,
    CohortRates,
    GrowthRates,
    HousingDevelopment,
    growth_rates_from_history,
)
from enrolment.single_age import apply_age_structure, split_five_year_groups
from gis_service.core_errors import enrolment_errors
from gis_service.db.forecast_inputs_repository import ForecastInputVersionRecord
from gis_service.errors import InvalidInputError, NotFoundError
from gis_service.ingest.files import read_vector
from gis_service.records import WardRecord
from gis_service.settings import BUNDLED_DISTRICT_DIR
from gis_service.text import normalize_text

__all__ = [
    "FORECAST_MANIFEST",
    "MAX_YEARS_AFTER_BASE",
    "ForecastInputs",
    "ForecastManifest",
    "InputNote",
    "bundled_forecast_manifest",
    "development_note",
    "forecast_year_range",
    "load_forecast_inputs",
    "ward_of",
]

FORECAST_MANIFEST = "forecast.toml"
#: Furthest year forecast, counted from the base (census) year.
MAX_YEARS_AFTER_BASE = 25

_AGE_GROUPS = [
    "0_04", "05_09", "10_14", "15_19", "20_24", "25_29", "30_34", "35_39", "40_44",
    "45_49", "50_54", "55_59", "60_64", "65_69", "70_74", "75_79", "80_84",
]  # fmt: skip
#: Error types of the manifest's own checks, whose messages say what is wrong in full.
_OWN_ERRORS = ("manifest_date", "manifest_columns")


def bundled_forecast_manifest() -> Path:
    """Return the forecast manifest of the bundled district (Quận 3)."""
    return BUNDLED_DISTRICT_DIR / FORECAST_MANIFEST


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


def forecast_year_range(inputs: ForecastInputs) -> tuple[int, int]:
    """Return the first and last school year the inputs can forecast (base year + 1 ..)."""
    base_year = inputs.base.base_year
    return base_year + 1, base_year + MAX_YEARS_AFTER_BASE


def ward_of(lon: float, lat: float, wards: Sequence[WardRecord]) -> str | None:
    """Return the code of the ward holding an EPSG:4326 point, ``None`` outside them all."""
    point = Point(lon, lat)
    for ward in wards:
        if ward.boundary.covers(point):
            return ward.code
    return None


def development_note(development: HousingDevelopment) -> InputNote:
    """Return the note of a housing development: its id, source and date."""
    return InputNote(
        f"development {development.development_id}", development.source, development.as_of
    )


# --------------------------------------------------------------------------- the TOML


def _toml_date(value: object) -> object:
    """Accept a TOML date only: not a date-time, not a string that looks like a date."""
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        kind, message = "manifest_date", "as_of must be a date (YYYY-MM-DD), got {value}"
        raise PydanticCustomError(kind, message, {"value": repr(value)})
    return value


def _year_columns(value: object) -> object:
    if not isinstance(value, dict) or len(value) < 2:
        kind, message = "manifest_columns", "columns must map two or more years to columns"
        raise PydanticCustomError(kind, message)
    return value


class _Sourced(BaseModel):
    """A table of the manifest: where its figures come from and the date they describe."""

    model_config = ConfigDict(coerce_numbers_to_str=True)

    source: str
    as_of: Annotated[dt.date, BeforeValidator(_toml_date)]

    def note(self, name: str) -> InputNote:
        """Return this table's input as users see it, under ``name``."""
        return InputNote(name=name, source=self.source, as_of=self.as_of)


class ForecastSection(BaseModel):
    """``[forecast]``: the district, the base (census) year and the single-age method."""

    model_config = ConfigDict(coerce_numbers_to_str=True)

    district_code: str
    base_year: int
    split_method: str = Field(default="sprague", description="'sprague' or 'pchip'")


class CensusAgeGroupsSection(_Sourced):
    """``[census_age_groups]``: a table of population by 5-year age group per district."""

    file: str = Field(description="CSV file, relative to the manifest's folder")
    province: str
    district: str


class WardPopulationSection(_Sourced):
    """``[ward_population]``: a vector file of wards with their totals in two or more years."""

    file: str = Field(description="vector file, relative to the manifest's folder")
    code: str = Field(description="the column of ward codes")
    columns: Annotated[dict[int, str], BeforeValidator(_year_columns)] = Field(
        description="census year to the column of the ward totals that year"
    )


class DistrictSeriesSection(_Sourced):
    """``[district_series]``: the district's yearly population, for the spread of growth."""

    file: str = Field(description="CSV file, relative to the manifest's folder")
    district_code: str
    quantiles: tuple[float, float] = (0.1, 0.9)


class SurvivalSection(_Sourced):
    """``[survival]``: the probability that a child aged a survives to a + 1, a = 0 .. 5."""

    by_age: list[float]


class DevelopmentEntry(_Sourced):
    """One ``[[developments]]`` table: a housing development, in a ward or at lon/lat."""

    id: str
    ward_code: str | None = None
    lon: float | None = Field(default=None, description="EPSG:4326 longitude, degrees")
    lat: float | None = Field(default=None, description="EPSG:4326 latitude, degrees")
    dwellings: int
    completion_year: int
    children_per_dwelling_per_cohort: float
    occupancy_ramp: tuple[float, ...] = (1.0,)


class ForecastManifest(BaseModel):
    """The tables of a forecast manifest (other keys are ignored)."""

    forecast: ForecastSection
    census_age_groups: CensusAgeGroupsSection
    ward_population: WardPopulationSection
    district_series: DistrictSeriesSection
    survival: SurvivalSection
    developments: list[DevelopmentEntry] = Field(default_factory=list)


def _problem(error: ErrorDetails, manifest: Path) -> str:
    """Say what is wrong in the manifest and in which of its tables."""
    table, *rest = error["loc"]
    if table == "developments" and rest and isinstance(rest[0], int):
        table = f"developments #{rest[0] + 1}"
        rest = rest[1:]
    if not rest and error["type"] in {"missing", "model_type"}:
        return f"{manifest}: the [{table}] section is missing"
    if error["type"] == "missing":
        return f"{manifest}: [{table}] needs '{rest[-1]}'"
    if error["type"] in _OWN_ERRORS:
        return f"{manifest}: [{table}] {error['msg']}"
    field = ".".join(str(part) for part in rest)
    where = f"[{table}] {field}" if field else f"[{table}]"
    return f"{manifest}: {where}: {error['msg']}"


def _read_manifest(manifest: Path) -> ForecastManifest:
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
        return ForecastManifest.model_validate(document)
    except ValidationError as error:
        raise InvalidInputError(_problem(error.errors()[0], manifest)) from None


# --------------------------------------------------------------------------- the files


def _census_groups(
    section: CensusAgeGroupsSection, manifest: Path
) -> tuple[npt.NDArray[np.float64], float]:
    file = manifest.parent / section.file
    province = normalize_text(section.province)
    district = normalize_text(section.district)
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


def _ward_table(section: WardPopulationSection, manifest: Path) -> pd.DataFrame:
    """Return the ward totals, one column per year (ascending), indexed by ward code."""
    file = manifest.parent / section.file
    columns = section.columns
    frame = read_vector(file)
    missing = [name for name in [section.code, *columns.values()] if name not in frame.columns]
    if missing:
        msg = f"{file}: no column {missing[0]!r}"
        raise InvalidInputError(msg)
    return pd.DataFrame(
        {year: frame[columns[year]].to_numpy(dtype=np.float64) for year in sorted(columns)},
        index=frame[section.code].astype(str),
    )


def _district_series(section: DistrictSeriesSection, manifest: Path) -> GrowthRates:
    file = manifest.parent / section.file
    frame = pd.read_csv(file, dtype={"district_code": str})
    rows = frame[frame["district_code"] == section.district_code]
    if len(rows) != 1:
        msg = f"{file}: expected one row for district {section.district_code}, found {len(rows)}"
        raise InvalidInputError(msg)
    columns = [column for column in frame.columns if column.startswith("pop_")]
    years = [int(column.removeprefix("pop_")) for column in columns]
    values = rows.iloc[0][columns].to_numpy(dtype=np.float64)
    return growth_rates_from_history(years, values, quantiles=section.quantiles)


def _developments(
    entries: Sequence[DevelopmentEntry], manifest: Path, wards: Sequence[WardRecord]
) -> tuple[HousingDevelopment, ...]:
    developments = []
    for number, entry in enumerate(entries, start=1):
        ward_code = entry.ward_code
        location = None
        if entry.lon is not None and entry.lat is not None:
            location = Point(entry.lon, entry.lat)
            ward_code = ward_code or ward_of(location.x, location.y, wards)
        if ward_code is None:
            msg = f"{manifest}: [developments #{number}] needs ward_code, or lon/lat inside a ward"
            raise InvalidInputError(msg)
        developments.append(
            HousingDevelopment(
                development_id=entry.id,
                ward_code=ward_code,
                dwellings=entry.dwellings,
                completion_year=entry.completion_year,
                children_per_dwelling_per_cohort=entry.children_per_dwelling_per_cohort,
                occupancy_ramp=entry.occupancy_ramp,
                source=entry.source,
                as_of=entry.as_of,
                location=location,
            )
        )
    return tuple(developments)


# --------------------------------------------------------------------------- the inputs


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
    NotFoundError
        If there is no such manifest.
    InvalidInputError
        If the manifest or a file it names is wrong (the message starts with the file).
    """
    document = _read_manifest(manifest)
    with enrolment_errors(str(manifest)):
        return _inputs_from(document, manifest, wards)


class _TableNotes(NamedTuple):
    census: InputNote
    ward: InputNote
    series: InputNote
    survival: InputNote


def _table_notes(document: ForecastManifest) -> _TableNotes:
    return _TableNotes(
        census=document.census_age_groups.note("census age groups"),
        ward=document.ward_population.note("ward population"),
        series=document.district_series.note("district series"),
        survival=document.survival.note("survival"),
    )


def _base_population(
    document: ForecastManifest,
    ward_table: pd.DataFrame,
    single_ages: npt.NDArray[np.float64],
    district_total: float,
) -> BasePopulation:
    """Return the base year's population by ward and age 0-6: age shares x ward totals."""
    notes = _table_notes(document)
    base_year = document.forecast.base_year
    return BasePopulation(
        ward_codes=tuple(ward_table.index),
        base_year=base_year,
        population_by_age=apply_age_structure(
            ward_table[base_year].to_numpy(), single_ages[:7], reference_total=district_total
        ),
        source=(
            f"{notes.census.source} ({document.forecast.split_method} single ages, district "
            f"shares) x {notes.ward.source}"
        ),
        as_of=notes.census.as_of,
    )


def _cohort_rates(
    document: ForecastManifest, ward_rates: npt.NDArray[np.float64], district_growth: GrowthRates
) -> CohortRates:
    """Each ward's growth as its migration and births trend; the district's spread as band."""
    notes = _table_notes(document)
    ward_years = sorted(document.ward_population.columns)
    return CohortRates(
        survival_by_age=np.asarray(document.survival.by_age, dtype=float),
        net_migration_rate=ward_rates,
        birth_change_rate=ward_rates,
        low_rate_offset=district_growth.low - district_growth.central,
        high_rate_offset=district_growth.high - district_growth.central,
        source=(
            f"migration and births trend: ward growth {ward_years[0]}-{ward_years[-1]} "
            f"({notes.ward.source}); band: spread of {notes.series.source}; survival: "
            f"{notes.survival.source}"
        ),
        as_of=max(notes.survival.as_of, notes.ward.as_of, notes.series.as_of),
    )


def _inputs_from(
    document: ForecastManifest, manifest: Path, wards: Sequence[WardRecord]
) -> ForecastInputs:
    settings = document.forecast
    groups, district_total = _census_groups(document.census_age_groups, manifest)
    single = split_five_year_groups(groups, method=settings.split_method)  # type: ignore[arg-type]
    ward_table = _ward_table(document.ward_population, manifest)
    ward_years = sorted(document.ward_population.columns)
    if settings.base_year not in ward_years:
        msg = f"{manifest}: [ward_population] has no column for the base year {settings.base_year}"
        raise InvalidInputError(msg)
    ward_codes = tuple(ward_table.index)
    ward_growth = {
        code: growth_rates_from_history(ward_years, ward_table.loc[code].to_numpy())
        for code in ward_codes
    }
    district_growth = _district_series(document.district_series, manifest)
    base = _base_population(document, ward_table, single, district_total)
    ward_rates = np.array([ward_growth[code].central for code in ward_codes])
    rates = _cohort_rates(document, ward_rates, district_growth)
    developments = _developments(document.developments, manifest, wards)
    return ForecastInputs(
        manifest=manifest,
        district_code=settings.district_code,
        base=base,
        rates=rates,
        developments=developments,
        district_growth=district_growth,
        ward_growth=ward_growth,
        split_method=settings.split_method,
        district_single_ages=single[:10],
        notes=(*_table_notes(document), *(development_note(d) for d in developments)),
    )
