"""The answers of the forecast endpoints and of ``schoolgis forecast``, as pydantic models.

A district forecast is shown one year at a time (:class:`ForecastAnswer`, ``GET
/forecasts``) or every year at once (:class:`ForecastDocument`, ``schoolgis forecast run
--output``), with what it was computed from (:class:`ForecastComputed`, ``POST
/forecasts/compute``); :mod:`gis_service.forecasting.answers` builds them from a
:class:`~gis_service.forecasting.district.DistrictForecast`. Each ward, school or zone item
gives the first-grade entrants (low/central/high, rounded to 0.1), the seats, the seat and
classroom shortfalls (positive = short) and the first year short, in the key order of the
fields below; a figure that cannot be given is ``null``, never left out.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from gis_service.vocabulary import ForecastLevel

__all__ = [
    "BasePopulationUsed",
    "CapacityFigures",
    "CohortRatesUsed",
    "DemandBand",
    "DevelopmentUsed",
    "DistrictForecastSummary",
    "FirstYearShort",
    "ForecastAnswer",
    "ForecastComputed",
    "ForecastDocument",
    "ForecastInputNote",
    "ForecastInputVersionSummary",
    "ForecastInputsUsed",
    "ForecastItem",
    "ForecastItems",
    "ForecastRequestUsed",
    "ForecastZoneVersion",
    "SchoolCapacityUsed",
    "SchoolForecastItem",
    "WardForecastItem",
    "ZoneForecastItem",
]


class _Answer(BaseModel):
    """A part of an answer: exactly these keys (so that a union of items is unambiguous)."""

    model_config = ConfigDict(extra="forbid")


class DemandBand(_Answer):
    """A figure under the low, central and high demand variants."""

    low: float
    central: float
    high: float


class FirstYearShort(_Answer):
    """The first forecast year with more entrants than seats (``null``: none, or unknown)."""

    central: int | None
    high: int | None


class CapacityFigures(_Answer):
    """First-grade entrants of one unit and year against its first-grade seats."""

    first_grade_entrants: DemandBand | None = Field(description="null: no demand can be given")
    first_grade_classes: int | float | None = Field(
        description="null where a school's class count is unknown"
    )
    class_size_cap: float = Field(description="pupils per class")
    first_grade_seats: float | None = Field(description="classes x cap; null when unknown")
    capacity_known: bool
    seat_shortfall: DemandBand | None = Field(description="entrants - seats; positive = short")
    classroom_shortfall: DemandBand | None = Field(
        description="classes needed - classes; positive = short"
    )
    first_year_short: FirstYearShort = Field(description="over the forecast years")


class _Unit(_Answer):
    code: str
    name: str


class _CountedUnit(_Unit):
    primary_schools: int = Field(description="open primary schools located in the unit")


# The capacity figures come after the fields of a unit's head: bases are listed with the
# figures first because pydantic orders fields from the last base to the class itself.


class DistrictForecastSummary(CapacityFigures, _CountedUnit):
    """The whole district in one year."""

    unzoned_entrants: DemandBand | None = Field(
        description="entrants living in no zone of the published version (null: none published)"
    )


class WardForecastItem(CapacityFigures, _CountedUnit):
    """A ward in one year: its entrants against the seats of the schools located in it."""

    housing_yield: float = Field(description="entrants from housing developments")


class _SchoolHead(_Unit):
    ward_code: str | None
    demand_method: str | None = Field(description="how the school's demand is derived")
    no_demand_reason: str | None = Field(description="why no demand can be given")


class SchoolForecastItem(CapacityFigures, _SchoolHead):
    """An open first-grade school in one year."""

    enrolment_total: DemandBand | None = Field(
        description="pupils of every grade, projected from its enrolment history"
    )


class _ZoneHead(_Answer):
    code: str = Field(description="the zone school's code")
    name: str | None = Field(description="the zone school's name")


class ZoneForecastItem(CapacityFigures, _ZoneHead):
    """An admission zone of the published version in one year."""

    seats_assumed: bool = Field(description="the zoning assumed the school's class count")
    ward_shares: dict[str, float] = Field(
        description="share of each ward's entrants (less located housing) living in the zone"
    )


#: An item of one ward, school or zone in one year.
ForecastItem = WardForecastItem | SchoolForecastItem | ZoneForecastItem
#: The items of one year at one level.
ForecastItems = list[WardForecastItem] | list[SchoolForecastItem] | list[ZoneForecastItem]


class ForecastInputNote(_Answer):
    """One input of the forecast: what, from where, as of when."""

    name: str
    source: str
    as_of: dt.date


class ForecastInputVersionSummary(_Answer):
    """The forecast input version applied over the manifest (what never changes in it)."""

    id: int
    name: str
    inputs_hash: str
    created_at: str = Field(description="ISO 8601 date and time")
    created_by: str


class ForecastZoneVersion(_Answer):
    """The published zone version the forecast spread its entrants over."""

    id: int
    name: str
    method: str
    inputs_hash: str
    published_at: str | None = Field(description="ISO 8601 date and time")


class ForecastAnswer(_Answer):
    """One year of the district's forecast at one level."""

    district_code: str
    district_name: str
    level: ForecastLevel
    year: int
    base_year: int = Field(description="the census year of the inputs")
    horizon: tuple[int, int] = Field(description="first and last year of first_year_short")
    inputs: list[ForecastInputNote]
    inputs_version: ForecastInputVersionSummary | None
    zone_version: ForecastZoneVersion | None
    district: DistrictForecastSummary
    items: ForecastItems


class ForecastDocument(_Answer):
    """Every year of the district's forecast at one level."""

    district_code: str
    district_name: str
    level: ForecastLevel
    base_year: int = Field(description="the census year of the inputs")
    years: list[int]
    inputs: list[ForecastInputNote]
    inputs_version: ForecastInputVersionSummary | None
    zone_version: ForecastZoneVersion | None
    district_by_year: dict[str, DistrictForecastSummary]
    items_by_year: dict[str, ForecastItems]


class ForecastRequestUsed(_Answer):
    """What was asked of the forecast."""

    first_year: int
    years: int
    level: ForecastLevel
    class_size_cap: int


class BasePopulationUsed(_Answer):
    """The base year's population by ward and single age 0-6."""

    base_year: int
    split_method: str
    by_ward_age_0_6: dict[str, list[float]]
    source: str
    as_of: dt.date


class CohortRatesUsed(_Answer):
    """Survival, and the migration and births rates by ward (a value, or one per age)."""

    survival_by_age: list[float]
    net_migration_rate: dict[str, float | list[float]]
    birth_change_rate: dict[str, float | list[float]]
    low_rate_offset: float
    high_rate_offset: float
    source: str
    as_of: dt.date


class DevelopmentUsed(_Answer):
    """A housing development (``lon``/``lat``: EPSG:4326, null when given by ward only)."""

    name: str
    ward_code: str
    lon: float | None
    lat: float | None
    dwellings: int
    completion_year: int
    children_per_dwelling_per_cohort: float
    occupancy_ramp: list[float]
    source: str
    as_of: dt.date


class SchoolCapacityUsed(_Answer):
    """A school's first-grade classes (null: unknown) and its class-size cap."""

    code: str
    first_grade_classes: int | None
    class_size_cap: float


class ForecastInputsUsed(_Answer):
    """Every input of a forecast, each group with its source and date."""

    district_code: str
    request: ForecastRequestUsed
    base_population: BasePopulationUsed
    rates: CohortRatesUsed
    developments: list[DevelopmentUsed]
    schools: list[SchoolCapacityUsed]
    inputs_version: ForecastInputVersionSummary | None
    zone_version: ForecastZoneVersion | None


class ForecastComputed(ForecastDocument):
    """A computed forecast with its inputs and their hash."""

    computed_by: str
    inputs_used: ForecastInputsUsed
    inputs_hash: str = Field(description="SHA-256 of the canonical JSON of inputs_used")
