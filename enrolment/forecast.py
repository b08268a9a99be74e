"""First-grade demand forecasts by ward, with a low/central/high band, against capacity.

Everything here is pure: inputs are frozen dataclasses (each with the ``source`` it came from
and the date ``as_of`` it describes) and numpy arrays, outputs are frozen dataclasses.

Cohort-component model
----------------------
Ages are the age reached during the calendar year, so the birth cohort of a child aged
``a`` in year ``t`` is ``t - a`` and the children aged 6 in year ``t`` are the first-grade
entrants of the school year starting in September ``t`` (Vietnamese children enter first
grade in the calendar year they turn 6). Census counts (age at last birthday on 1 April) are
used as such, an approximation of about a quarter of a year. One step is one year::

    P[w, 0, t+1]   = B[w, t+1]
    P[w, a+1, t+1] = P[w, a, t] * s[a] * (1 + m[w, a])          a = 0 .. 5
    B[w, t]        = known births of year t, if given,
                     else B[w, t0] * (1 + b[w]) ** (t - t0)      t0: latest year <= t with
                                                                 a known age-0 count
    entrants[w, t] = P[w, 6, t] + housing yield[w, t]

``s[a]`` is the probability that a child aged ``a`` survives to ``a + 1``, ``m[w, a]`` the
annual net migration rate of that cohort in ward ``w`` (applied to the survivors), ``b[w]``
the annual relative change of births and ``B`` the births counted at age 0 (births net of
deaths before the count). The base year's age-0 count is the first ``B``.

Bands
-----
The low and high variants add ``rates.low_rate_offset`` (<= 0) and ``rates.high_rate_offset``
(>= 0) to every migration rate and birth-change rate. The offsets come from the spread of
past annual growth rates (:func:`growth_rates_from_history`: the 10th and 90th percentile of
the past annual rates, measured from their median), like the UN's low/high variants that
hold a fertility difference constant. Every term of the model increases with these rates,
so ``low <= central <= high`` holds by construction, and :class:`ForecastBand` checks it.
No randomness is involved: the same inputs give the same numbers.

Housing
-------
A development of ``D`` dwellings completed in year ``c`` adds, in every year ``t >= c``,
``D * children_per_dwelling_per_cohort * occupancy`` first-grade entrants to its ward, where
``occupancy`` follows ``occupancy_ramp`` (share of dwellings occupied in years ``c, c+1, ...``,
the last value holding on). This is the usual pupil-yield rule: each single-year cohort of
the new households holds that many children per dwelling. The yield is the same in all
three variants; vary the development itself to see its effect.

Zones
-----
Admission zones are made of demand points, each with a ward and a weight (the children
estimated to live there) and each in one zone. :func:`spread_to_zones` spreads a ward's
entrants over its demand points in proportion to their weights and sums them per zone::

    zone[z, t] = sum over wards w of entrants[w, t] * share[w, z]
                 + yield[z, t] of the developments located in zone z
    share[w, z] = weight of w's points in zone z / weight of all w's points

The yield of a development whose zone is known is taken out of its ward's entrants before
the spread and added to that zone: its children live in the development, not all over
the ward. Entrants of points in no zone, and of wards without a point, stay unzoned.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt
from shapely.geometry.base import BaseGeometry

from enrolment.errors import InsufficientHistoryError, InvalidInputError

__all__ = [
    "BAND_QUANTILES",
    "FIRST_GRADE_AGE_YEARS",
    "UNZONED",
    "VARIANTS",
    "BasePopulation",
    "CapacityComparison",
    "CohortProjection",
    "CohortRates",
    "FirstGradeCapacity",
    "FirstGradeForecast",
    "ForecastBand",
    "GrowthRates",
    "HousingDevelopment",
    "KnownBirths",
    "PopulationHistory",
    "Variant",
    "ZoneDemand",
    "aggregate_capacity",
    "allocate_demand",
    "compare_with_capacity",
    "forecast_first_grade",
    "growth_rates_from_history",
    "housing_first_grade_yield",
    "project_cohorts",
    "project_totals",
    "spread_to_zones",
]

#: Age (years, reached in the calendar year) at which children enter first grade.
FIRST_GRADE_AGE_YEARS = 6
_N_AGES = FIRST_GRADE_AGE_YEARS + 1

#: Percentiles of past annual growth rates that set the low and high variants.
BAND_QUANTILES = (0.1, 0.9)

Variant = Literal["low", "central", "high"]
VARIANTS: tuple[Variant, ...] = ("low", "central", "high")

FloatArray = npt.NDArray[np.float64]

#: Unit id of the entrants that live in no admission zone.
UNZONED = "unzoned"


def _frozen(values: npt.ArrayLike) -> FloatArray:
    array = np.array(values, dtype=np.float64)
    array.flags.writeable = False
    return array


def _check_provenance(source: str, as_of: dt.date) -> None:
    if not source.strip():
        msg = f"say where the input comes from (as of {as_of})"
        raise InvalidInputError(msg, field="source")


def _check_ids(name: str, ids: tuple[str, ...], size: int) -> None:
    if len(ids) != size:
        msg = f"{len(ids)} ids for {size} rows"
        raise InvalidInputError(msg, field=name)
    if len(set(ids)) != len(ids):
        msg = "ids must be unique"
        raise InvalidInputError(msg, field=name)


def _check_counts(name: str, values: FloatArray, *, allow_nan: bool = False) -> None:
    finite = np.isfinite(values) | (np.isnan(values) if allow_nan else False)
    if not np.all(finite):
        msg = "counts must be finite"
        raise InvalidInputError(msg, field=name)
    if np.any(values < 0):
        msg = "counts must be non-negative"
        raise InvalidInputError(msg, field=name)


def _check_years(name: str, years: tuple[int, ...]) -> None:
    if len(years) == 0 or any(b <= a for a, b in itertools.pairwise(years)):
        msg = f"years must be non-empty and strictly increasing, got {years}"
        raise InvalidInputError(msg, field=name)


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True, slots=True)
class BasePopulation:
    """Population by single year of age 0-6 of each ward in a base year.

    Attributes
    ----------
    ward_codes
        GSO ward codes, one per row.
    base_year
        The year the counts describe.
    population_by_age
        Persons by ward (rows) and age 0-6 (columns), shape ``(n_wards, 7)``.
    source
        Where the counts come from (e.g. "2019 census, district age shares, Sprague").
    as_of
        The date the counts describe (the census date).
    """

    ward_codes: tuple[str, ...]
    base_year: int
    population_by_age: FloatArray
    source: str
    as_of: dt.date

    def __post_init__(self) -> None:
        """Check shapes and counts and make the array read-only."""
        counts = _frozen(self.population_by_age)
        if counts.ndim != 2 or counts.shape[1] != _N_AGES:
            msg = f"expected shape (n_wards, {_N_AGES}) for ages 0-6, got {counts.shape}"
            raise InvalidInputError(msg, field="population_by_age")
        _check_counts("population_by_age", counts)
        _check_ids("ward_codes", self.ward_codes, counts.shape[0])
        _check_provenance(self.source, self.as_of)
        object.__setattr__(self, "population_by_age", counts)


@dataclass(frozen=True, slots=True)
class CohortRates:
    """Annual rates of the cohort-component projection (see the module docstring).

    Attributes
    ----------
    survival_by_age
        Probability that a child aged ``a`` survives to age ``a + 1``, for ``a = 0 .. 5``,
        shape ``(6,)``, each in (0, 1].
    net_migration_rate
        Annual net migration of a cohort as a share of its survivors (0.01 = +1 % a year):
        a scalar, one value per ward ``(n_wards,)`` or per ward and age ``(n_wards, 6)``.
    birth_change_rate
        Annual relative change of births (age-0 counts): a scalar or one value per ward.
    low_rate_offset
        Added to every migration and birth-change rate in the low variant (<= 0).
    high_rate_offset
        Added to every migration and birth-change rate in the high variant (>= 0).
    source
        Where the rates come from.
    as_of
        The date the rates were estimated or decided.
    """

    survival_by_age: FloatArray
    net_migration_rate: FloatArray
    birth_change_rate: FloatArray
    source: str
    as_of: dt.date
    low_rate_offset: float = 0.0
    high_rate_offset: float = 0.0

    def __post_init__(self) -> None:
        """Check the rates and make the arrays read-only."""
        survival = _frozen(self.survival_by_age)
        if survival.shape != (_N_AGES - 1,):
            msg = f"expected {_N_AGES - 1} values (ages 0-5), got shape {survival.shape}"
            raise InvalidInputError(msg, field="survival_by_age")
        if not np.all((survival > 0) & (survival <= 1)):
            msg = "survival probabilities must be in (0, 1]"
            raise InvalidInputError(msg, field="survival_by_age")
        if not (self.low_rate_offset <= 0 <= self.high_rate_offset):
            msg = (
                f"need low_rate_offset <= 0 <= high_rate_offset, got "
                f"{self.low_rate_offset} and {self.high_rate_offset}"
            )
            raise InvalidInputError(msg, field="low_rate_offset")
        for name in ("net_migration_rate", "birth_change_rate"):
            rates = _frozen(getattr(self, name))
            if not np.all(np.isfinite(rates)):
                msg = "rates must be finite"
                raise InvalidInputError(msg, field=name)
            if rates.size and float(rates.min()) + self.low_rate_offset <= -1:
                msg = "rates (with the low offset) must stay above -1 (-100 % a year)"
                raise InvalidInputError(msg, field=name)
            object.__setattr__(self, name, rates)
        _check_provenance(self.source, self.as_of)
        object.__setattr__(self, "survival_by_age", survival)

    def offset(self, variant: Variant) -> float:
        """Return the rate offset of a variant (0 for central).

        Parameters
        ----------
        variant
            ``"low"``, ``"central"`` or ``"high"``.

        Returns
        -------
        float
            The value added to migration and birth-change rates.
        """
        return {"low": self.low_rate_offset, "central": 0.0, "high": self.high_rate_offset}[variant]


@dataclass(frozen=True, slots=True)
class KnownBirths:
    """Births counted at age 0 per ward for the years where they are known.

    Attributes
    ----------
    years
        Calendar years, strictly increasing.
    births
        Persons aged 0 by ward (rows, in the order of the base population) and year
        (columns), shape ``(n_wards, n_years)``.
    source
        Where the counts come from (e.g. the civil registry).
    as_of
        The date of the extract.
    """

    years: tuple[int, ...]
    births: FloatArray
    source: str
    as_of: dt.date

    def __post_init__(self) -> None:
        """Check shapes and counts and make the array read-only."""
        births = _frozen(self.births)
        _check_years("years", self.years)
        if births.ndim != 2 or births.shape[1] != len(self.years):
            msg = f"expected shape (n_wards, {len(self.years)}), got {births.shape}"
            raise InvalidInputError(msg, field="births")
        _check_counts("births", births)
        _check_provenance(self.source, self.as_of)
        object.__setattr__(self, "births", births)


@dataclass(frozen=True, slots=True)
class HousingDevelopment:
    """A housing development whose households add first-grade entrants to a ward.

    Attributes
    ----------
    development_id
        The planner's identifier of the development.
    ward_code
        The ward it lies in (derived from ``location`` by the caller when needed).
    dwellings
        Number of dwellings.
    completion_year
        First calendar year its households live there.
    children_per_dwelling_per_cohort
        Expected children of each single-year cohort per dwelling (e.g. 0.03: 100
        dwellings give 3 first-grade entrants a year).
    source
        Where the figures come from (permit, developer, planning office).
    as_of
        The date of the figures.
    occupancy_ramp
        Share of dwellings occupied in the completion year and each later year; the last
        value holds on. ``(1.0,)`` means fully occupied at once.
    location
        Point or polygon of the development in EPSG:4326 (lon/lat), for maps; optional.
    """

    development_id: str
    ward_code: str
    dwellings: int
    completion_year: int
    children_per_dwelling_per_cohort: float
    source: str
    as_of: dt.date
    occupancy_ramp: tuple[float, ...] = (1.0,)
    location: BaseGeometry | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        """Check the figures."""
        if self.dwellings < 0:
            msg = f"must be >= 0, got {self.dwellings}"
            raise InvalidInputError(msg, field="dwellings")
        rate = self.children_per_dwelling_per_cohort
        if not math.isfinite(rate) or rate < 0:
            msg = f"must be a finite number >= 0, got {rate}"
            raise InvalidInputError(msg, field="children_per_dwelling_per_cohort")
        ramp = self.occupancy_ramp
        if not ramp or any(not (0 <= share <= 1) for share in ramp):
            msg = f"expected one or more shares in [0, 1], got {ramp}"
            raise InvalidInputError(msg, field="occupancy_ramp")
        _check_provenance(self.source, self.as_of)

    def first_grade_yield(self, year: int) -> float:
        """Return the first-grade entrants this development adds in a year.

        Parameters
        ----------
        year
            Calendar year.

        Returns
        -------
        float
            Persons (0 before completion).
        """
        if year < self.completion_year:
            return 0.0
        ramp = self.occupancy_ramp
        share = ramp[min(year - self.completion_year, len(ramp) - 1)]
        return self.dwellings * self.children_per_dwelling_per_cohort * share


@dataclass(frozen=True, slots=True)
class PopulationHistory:
    """A yearly population series of several units (districts, wards), possibly with gaps.

    Attributes
    ----------
    unit_ids
        One id per row.
    years
        Calendar years observed, strictly increasing (gaps allowed, e.g. no 2018).
    population
        Persons by unit (rows) and year (columns), shape ``(n_units, n_years)``, positive.
    source
        Where the series comes from.
    as_of
        The date of the last observation.
    """

    unit_ids: tuple[str, ...]
    years: tuple[int, ...]
    population: FloatArray
    source: str
    as_of: dt.date

    def __post_init__(self) -> None:
        """Check shapes and counts and make the array read-only."""
        values = _frozen(self.population)
        _check_years("years", self.years)
        if values.ndim != 2 or values.shape[1] != len(self.years):
            msg = f"expected shape (n_units, {len(self.years)}), got {values.shape}"
            raise InvalidInputError(msg, field="population")
        if not np.all(np.isfinite(values)) or np.any(values <= 0):
            msg = "population counts must be finite and positive"
            raise InvalidInputError(msg, field="population")
        _check_ids("unit_ids", self.unit_ids, values.shape[0])
        _check_provenance(self.source, self.as_of)
        object.__setattr__(self, "population", values)

    def until(self, last_year: int) -> PopulationHistory:
        """Return the series up to and including ``last_year`` (for backtests).

        Parameters
        ----------
        last_year
            The last year kept.

        Returns
        -------
        PopulationHistory
            The truncated series, same units, source and date.

        Raises
        ------
        InvalidInputError
            If no year is left.
        """
        keep = [index for index, year in enumerate(self.years) if year <= last_year]
        if not keep:
            msg = f"no observation in or before {last_year}"
            raise InvalidInputError(msg, field="last_year")
        return PopulationHistory(
            unit_ids=self.unit_ids,
            years=tuple(self.years[index] for index in keep),
            population=self.population[:, keep],
            source=self.source,
            as_of=self.as_of,
        )


@dataclass(frozen=True, slots=True)
class FirstGradeCapacity:
    """First-grade classes and class-size cap of each unit (school, ward, zone).

    Attributes
    ----------
    unit_ids
        One id per unit.
    classes
        First-grade classes of each unit, shape ``(n_units,)``; NaN where unknown.
    class_size_cap
        Pupils allowed per first-grade class, shape ``(n_units,)``, positive.
    source
        Where the figures come from (the registry, a scenario).
    as_of
        The date of the figures.
    """

    unit_ids: tuple[str, ...]
    classes: FloatArray
    class_size_cap: FloatArray
    source: str
    as_of: dt.date

    def __post_init__(self) -> None:
        """Check shapes and values and make the arrays read-only."""
        classes = _frozen(self.classes)
        cap = _frozen(self.class_size_cap)
        if classes.ndim != 1 or cap.shape != classes.shape:
            msg = f"classes {classes.shape} and class_size_cap {cap.shape} must be 1-D, equal"
            raise InvalidInputError(msg, field="classes")
        _check_counts("classes", classes, allow_nan=True)
        if not np.all(np.isfinite(cap) & (cap > 0)):
            msg = "class-size caps must be positive numbers"
            raise InvalidInputError(msg, field="class_size_cap")
        _check_ids("unit_ids", self.unit_ids, classes.size)
        _check_provenance(self.source, self.as_of)
        object.__setattr__(self, "classes", classes)
        object.__setattr__(self, "class_size_cap", cap)

    @property
    def seats(self) -> FloatArray:
        """First-grade seats (classes x cap) of each unit; NaN where classes are unknown."""
        return self.classes * self.class_size_cap


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class ForecastBand:
    """A forecast with its band: low, central and high values by unit and year.

    Attributes
    ----------
    unit_ids
        One id per row.
    years
        Calendar years, one per column.
    low, central, high
        Values (persons, seats or classes) of shape ``(n_units, n_years)`` with
        ``low <= central <= high`` everywhere (NaN allowed where a value is unknown).
    """

    unit_ids: tuple[str, ...]
    years: tuple[int, ...]
    low: FloatArray
    central: FloatArray
    high: FloatArray

    def __post_init__(self) -> None:
        """Check shapes and the band order and make the arrays read-only."""
        arrays = [_frozen(getattr(self, name)) for name in VARIANTS]
        shape = (len(self.unit_ids), len(self.years))
        for name, array in zip(VARIANTS, arrays, strict=True):
            if array.shape != shape:
                msg = f"expected shape {shape}, got {array.shape}"
                raise InvalidInputError(msg, field=name)
            object.__setattr__(self, name, array)
        low, central, high = arrays
        with np.errstate(invalid="ignore"):
            ordered = ((low <= central) & (central <= high)) | np.isnan(central)
        if not np.all(ordered):
            msg = "the band must satisfy low <= central <= high"
            raise InvalidInputError(msg, field="low")
        _check_ids("unit_ids", self.unit_ids, shape[0])

    def variant(self, name: Variant) -> FloatArray:
        """Return one variant's values.

        Parameters
        ----------
        name
            ``"low"``, ``"central"`` or ``"high"``.

        Returns
        -------
        numpy.ndarray
            Shape ``(n_units, n_years)``.
        """
        return {"low": self.low, "central": self.central, "high": self.high}[name]

    def select(self, unit_ids: Sequence[str]) -> ForecastBand:
        """Return the rows of some units, in the order given.

        Parameters
        ----------
        unit_ids
            Ids of units of this band.

        Returns
        -------
        ForecastBand
            A band over those units only.

        Raises
        ------
        InvalidInputError
            If an id is not a unit of this band.
        """
        index = _positions(self.unit_ids, unit_ids, "unit_ids")
        return ForecastBand(
            unit_ids=tuple(unit_ids),
            years=self.years,
            low=self.low[index],
            central=self.central[index],
            high=self.high[index],
        )

    def select_years(self, years: Sequence[int]) -> ForecastBand:
        """Return the columns of some years, in the order given.

        Parameters
        ----------
        years
            Years of this band.

        Returns
        -------
        ForecastBand
            A band over those years only.

        Raises
        ------
        InvalidInputError
            If a year is not in this band.
        """
        lookup = {year: column for column, year in enumerate(self.years)}
        missing = [year for year in years if year not in lookup]
        if missing:
            msg = f"years {missing} are not forecast (forecast years: {self.years})"
            raise InvalidInputError(msg, field="years")
        columns = [lookup[year] for year in years]
        return ForecastBand(
            unit_ids=self.unit_ids,
            years=tuple(years),
            low=self.low[:, columns],
            central=self.central[:, columns],
            high=self.high[:, columns],
        )


def _positions(known: Sequence[str], wanted: Sequence[str], name: str) -> list[int]:
    lookup = {unit: index for index, unit in enumerate(known)}
    missing = [unit for unit in wanted if unit not in lookup]
    if missing:
        msg = f"unknown ids {missing[:5]}"
        raise InvalidInputError(msg, field=name)
    return [lookup[unit] for unit in wanted]


@dataclass(frozen=True, slots=True)
class CohortProjection:
    """Projected population by ward, year and single age 0-6 (one variant).

    Attributes
    ----------
    ward_codes
        One per row.
    years
        The base year followed by each projected year.
    population_by_age
        Persons, shape ``(n_wards, n_years, 7)``; ``[:, 0, :]`` is the base population.
    variant
        Which variant of the rates was used.
    """

    ward_codes: tuple[str, ...]
    years: tuple[int, ...]
    population_by_age: FloatArray
    variant: Variant

    @property
    def first_grade_age(self) -> FloatArray:
        """Persons aged 6 by ward and year, shape ``(n_wards, n_years)``."""
        return self.population_by_age[:, :, FIRST_GRADE_AGE_YEARS]


@dataclass(frozen=True, slots=True)
class FirstGradeForecast:
    """First-grade entrants per ward and year with a band, and what they were made from.

    Attributes
    ----------
    entrants
        Children entering first grade (aged 6, plus housing yield), by ward and forecast
        year, persons.
    housing_yield
        The part of ``entrants`` that comes from housing developments, shape
        ``(n_wards, n_years)``, persons.
    central_projection
        The central cohort projection (ages 0-6), for inspection.
    base
        The base population used.
    rates
        The rates used.
    developments
        The housing developments used.
    births
        The known births used, if any.
    """

    entrants: ForecastBand
    housing_yield: FloatArray
    central_projection: CohortProjection
    base: BasePopulation
    rates: CohortRates
    developments: tuple[HousingDevelopment, ...]
    births: KnownBirths | None


@dataclass(frozen=True, slots=True)
class GrowthRates:
    """Annual growth rates of one series: a central rate and a low/high spread.

    Attributes
    ----------
    central
        Compound average annual rate between the first and last observation.
    low, high
        ``central`` plus the distance of the low/high percentile of the past annual rates
        from their median, so ``low <= central <= high``.
    annual_rates
        The past annual rates (a gap of ``k`` years contributes its annualised rate ``k``
        times).
    quantiles
        The percentiles (as fractions) used for ``low`` and ``high``.
    """

    central: float
    low: float
    high: float
    annual_rates: tuple[float, ...]
    quantiles: tuple[float, float]


@dataclass(frozen=True, slots=True)
class CapacityComparison:
    """First-grade demand against seats and classrooms, by unit and year.

    Attributes
    ----------
    demand
        Entrants by unit and year with the band, persons.
    capacity
        The capacity compared against (same units, same order).
    seat_shortfall
        ``demand - seats``: positive is a shortfall of seats, negative a surplus; NaN where
        the capacity is unknown. Its low/high follow the demand's.
    classroom_shortfall
        ``ceil(demand / class_size_cap) - classes``: classrooms short (positive) or spare
        (negative).
    """

    demand: ForecastBand
    capacity: FirstGradeCapacity
    seat_shortfall: ForecastBand
    classroom_shortfall: ForecastBand

    @property
    def capacity_known(self) -> npt.NDArray[np.bool_]:
        """Whether each unit's first-grade classes are known."""
        return np.isfinite(self.capacity.classes)

    def first_year_short(self, variant: Variant = "central") -> tuple[int | None, ...]:
        """Return the first forecast year each unit has more entrants than seats.

        Parameters
        ----------
        variant
            Which demand variant to test (``"high"`` answers "how soon could it happen").

        Returns
        -------
        tuple of int or None
            One per unit: the year, or None if it never runs short in the horizon or its
            capacity is unknown (see :attr:`capacity_known`).
        """
        short = self.seat_shortfall.variant(variant) > 0
        years = self.demand.years
        return tuple(years[int(np.argmax(row))] if bool(row.any()) else None for row in short)


@dataclass(frozen=True, slots=True)
class ZoneDemand:
    """First-grade entrants carried from wards to admission zones (:func:`spread_to_zones`).

    Attributes
    ----------
    demand
        Entrants by zone and year with the band, persons.
    unzoned
        Entrants living in no zone, one unit (:data:`UNZONED`), persons.
    ward_shares
        Share of each ward's entrants (less the yield of located developments) living in
        each zone, shape ``(n_wards, n_zones)``; a row sums to 1 when the ward is zoned.
    """

    demand: ForecastBand
    unzoned: ForecastBand
    ward_shares: FloatArray


# --------------------------------------------------------------------------- rates


def growth_rates_from_history(
    years: Sequence[int],
    values: npt.ArrayLike,
    *,
    quantiles: tuple[float, float] = BAND_QUANTILES,
) -> GrowthRates:
    """Estimate a central annual growth rate and its low/high spread from a series.

    Parameters
    ----------
    years
        Observation years, strictly increasing; gaps are allowed (a missing 2018).
    values
        Positive values (persons) observed in those years.
    quantiles
        Lower and upper percentile (fractions, ``0 <= q_low <= 0.5 <= q_high <= 1``) of the
        past annual rates that set the spread.

    Returns
    -------
    GrowthRates
        Central = compound average rate ``(last / first) ** (1 / span) - 1``; low/high =
        central + (percentile - median) of the annual rates.

    Raises
    ------
    InsufficientHistoryError
        With fewer than two observations.
    InvalidInputError
        If years are not increasing, values not positive, or quantiles out of range.
    """
    year_list = tuple(int(year) for year in years)
    series = np.asarray(values, dtype=np.float64)
    if series.shape != (len(year_list),):
        msg = f"{series.shape} values for {len(year_list)} years"
        raise InvalidInputError(msg, field="values")
    if len(year_list) < 2:
        msg = f"need at least two observations to estimate a growth rate, got {len(year_list)}"
        raise InsufficientHistoryError(msg)
    _check_years("years", year_list)
    if not np.all(np.isfinite(series)) or np.any(series <= 0):
        msg = "values must be finite and positive"
        raise InvalidInputError(msg, field="values")
    q_low, q_high = quantiles
    if not (0 <= q_low <= 0.5 <= q_high <= 1):
        msg = f"need 0 <= low <= 0.5 <= high <= 1, got {quantiles}"
        raise InvalidInputError(msg, field="quantiles")
    gaps = np.diff(np.asarray(year_list, dtype=np.float64))
    interval_rates = (series[1:] / series[:-1]) ** (1.0 / gaps) - 1.0
    annual = np.repeat(interval_rates, gaps.astype(np.int64))
    span = year_list[-1] - year_list[0]
    central = float((series[-1] / series[0]) ** (1.0 / span) - 1.0)
    median = float(np.median(annual))
    low = central + min(float(np.quantile(annual, q_low)) - median, 0.0)
    high = central + max(float(np.quantile(annual, q_high)) - median, 0.0)
    return GrowthRates(
        central=central,
        low=low,
        high=high,
        annual_rates=tuple(float(rate) for rate in annual),
        quantiles=(q_low, q_high),
    )


def project_totals(
    history: PopulationHistory,
    *,
    years: Sequence[int],
    quantiles: tuple[float, float] = BAND_QUANTILES,
) -> ForecastBand:
    """Project each unit's total at its compound growth rate, with the rate band.

    This is the growth component of the cohort model on its own (a population whose age
    structure does not change grows at the rate of its cohorts), and what the backtest
    scores against naive baselines.

    Parameters
    ----------
    history
        The observed series.
    years
        Target years, each after the last observed year.
    quantiles
        Percentiles of past annual rates for the band (:func:`growth_rates_from_history`).

    Returns
    -------
    ForecastBand
        ``last * (1 + rate) ** (year - last_year)`` for the low, central and high rate.

    Raises
    ------
    InvalidInputError
        If a target year is not after the last observation.
    InsufficientHistoryError
        If the history has fewer than two years.
    """
    target = tuple(int(year) for year in years)
    last_year = history.years[-1]
    if not target or min(target) <= last_year:
        msg = f"target years must all come after {last_year}, got {target}"
        raise InvalidInputError(msg, field="years")
    steps = np.asarray(target, dtype=np.float64) - last_year
    out = {name: np.empty((len(history.unit_ids), len(target))) for name in VARIANTS}
    for row, series in enumerate(history.population):
        rates = growth_rates_from_history(history.years, series, quantiles=quantiles)
        for name in VARIANTS:
            rate = getattr(rates, name)
            out[name][row] = series[-1] * (1.0 + rate) ** steps
    return ForecastBand(unit_ids=history.unit_ids, years=target, **out)


# --------------------------------------------------------------------------- projection


def _ward_rates(values: FloatArray, n_wards: int, name: str, shape: tuple[int, ...]) -> FloatArray:
    try:
        return np.broadcast_to(values, shape).astype(np.float64)
    except ValueError:
        msg = f"shape {values.shape} does not fit {n_wards} wards (expected {shape} or less)"
        raise InvalidInputError(msg, field=name) from None


def _known_births_by_year(births: KnownBirths | None, n_wards: int) -> Mapping[int, FloatArray]:
    if births is None:
        return {}
    if births.births.shape[0] != n_wards:
        msg = f"{births.births.shape[0]} rows for {n_wards} wards"
        raise InvalidInputError(msg, field="births")
    return {year: births.births[:, index] for index, year in enumerate(births.years)}


def project_cohorts(
    base: BasePopulation,
    rates: CohortRates,
    *,
    horizon_years: int,
    births: KnownBirths | None = None,
    variant: Variant = "central",
) -> CohortProjection:
    """Project the population aged 0-6 of each ward, one year at a time.

    Parameters
    ----------
    base
        Population by single age 0-6 per ward in the base year.
    rates
        Survival, net migration and birth-change rates (see the module docstring).
    horizon_years
        Number of years to project after the base year (>= 1).
    births
        Age-0 counts for years where they are known; they replace the trend in those years
        and restart it from there.
    variant
        Which variant of the rates to use.

    Returns
    -------
    CohortProjection
        Persons by ward, year (base year first) and age.

    Raises
    ------
    InvalidInputError
        If the horizon is not positive or the rates or births do not fit the wards.
    """
    if horizon_years < 1:
        msg = f"must be >= 1, got {horizon_years}"
        raise InvalidInputError(msg, field="horizon_years")
    n_wards = len(base.ward_codes)
    offset = rates.offset(variant)
    migration = rates.net_migration_rate
    if migration.ndim < 2:  # a scalar or one rate per ward: the same for every age
        migration = _ward_rates(migration, n_wards, "net_migration_rate", (n_wards,))[:, None]
    migration = _ward_rates(migration, n_wards, "net_migration_rate", (n_wards, _N_AGES - 1))
    birth_change = _ward_rates(rates.birth_change_rate, n_wards, "birth_change_rate", (n_wards,))
    known = _known_births_by_year(births, n_wards)
    ageing = rates.survival_by_age[None, :] * (1.0 + migration + offset)

    years = tuple(range(base.base_year, base.base_year + horizon_years + 1))
    population = np.zeros((n_wards, len(years), _N_AGES))
    population[:, 0, :] = base.population_by_age
    anchor_year, anchor_births = base.base_year, base.population_by_age[:, 0]
    for step, year in enumerate(years[1:], start=1):
        population[:, step, 1:] = population[:, step - 1, :-1] * ageing
        if year in known:
            anchor_year, anchor_births = year, known[year]
            population[:, step, 0] = anchor_births
        else:
            growth = (1.0 + birth_change + offset) ** (year - anchor_year)
            population[:, step, 0] = anchor_births * growth
    return CohortProjection(
        ward_codes=base.ward_codes,
        years=years,
        population_by_age=_frozen(population),
        variant=variant,
    )


def housing_first_grade_yield(
    developments: Sequence[HousingDevelopment],
    *,
    ward_codes: Sequence[str],
    years: Sequence[int],
) -> FloatArray:
    """First-grade entrants added by housing developments, by ward and year.

    Parameters
    ----------
    developments
        The developments (see :class:`HousingDevelopment` for the yield rule).
    ward_codes
        Ward order of the result.
    years
        Calendar years of the result.

    Returns
    -------
    numpy.ndarray
        Persons, shape ``(n_wards, n_years)``.

    Raises
    ------
    InvalidInputError
        If a development lies in a ward not listed.
    """
    rows = {code: index for index, code in enumerate(ward_codes)}
    result = np.zeros((len(rows), len(years)))
    for development in developments:
        if development.ward_code not in rows:
            msg = (
                f"development {development.development_id!r} lies in ward "
                f"{development.ward_code!r}, which is not forecast"
            )
            raise InvalidInputError(msg, field="developments")
        row = rows[development.ward_code]
        for column, year in enumerate(years):
            result[row, column] += development.first_grade_yield(year)
    return result


def forecast_first_grade(
    base: BasePopulation,
    rates: CohortRates,
    *,
    horizon_years: int = 10,
    developments: Sequence[HousingDevelopment] = (),
    births: KnownBirths | None = None,
) -> FirstGradeForecast:
    """Forecast first-grade entrants per ward for each year after the base year.

    Parameters
    ----------
    base
        Population by single age 0-6 per ward in the base year.
    rates
        Survival, migration and birth-change rates with the band offsets.
    horizon_years
        Number of school years to forecast (typically 5 to 10).
    developments
        Housing developments adding yield (see the module docstring).
    births
        Known age-0 counts, if any.

    Returns
    -------
    FirstGradeForecast
        Entrants by ward for years ``base_year + 1 .. base_year + horizon_years`` with the
        low/central/high band, the housing part and the inputs used.

    Raises
    ------
    InvalidInputError
        If the inputs do not fit each other (see :func:`project_cohorts`).
    """
    projections = {
        name: project_cohorts(base, rates, horizon_years=horizon_years, births=births, variant=name)
        for name in VARIANTS
    }
    years = projections["central"].years[1:]
    housing = housing_first_grade_yield(developments, ward_codes=base.ward_codes, years=years)
    entrants = ForecastBand(
        unit_ids=base.ward_codes,
        years=years,
        **{
            name: projection.first_grade_age[:, 1:] + housing
            for name, projection in projections.items()
        },
    )
    return FirstGradeForecast(
        entrants=entrants,
        housing_yield=_frozen(housing),
        central_projection=projections["central"],
        base=base,
        rates=rates,
        developments=tuple(developments),
        births=births,
    )


# --------------------------------------------------------------------------- capacity


def allocate_demand(
    demand: ForecastBand,
    shares: npt.ArrayLike,
    *,
    to_ids: Sequence[str],
) -> ForecastBand:
    """Carry demand from one set of units to another (wards to schools, points to zones).

    Parameters
    ----------
    demand
        Demand by source unit and year.
    shares
        Share of each source unit's demand going to each target unit, shape
        ``(n_sources, n_targets)``, non-negative, each row summing to at most 1 (less when
        part of a unit is served elsewhere). Published zones give these shares.
    to_ids
        Target unit ids, one per column of ``shares``.

    Returns
    -------
    ForecastBand
        Demand by target unit and year, the band carried through.

    Raises
    ------
    InvalidInputError
        If ``shares`` has the wrong shape, negative values or rows summing above 1.
    """
    matrix = np.asarray(shares, dtype=np.float64)
    expected = (len(demand.unit_ids), len(to_ids))
    if matrix.shape != expected:
        msg = f"expected shape {expected}, got {matrix.shape}"
        raise InvalidInputError(msg, field="shares")
    if not np.all(np.isfinite(matrix)) or np.any(matrix < 0):
        msg = "shares must be finite and non-negative"
        raise InvalidInputError(msg, field="shares")
    if np.any(matrix.sum(axis=1) > 1 + 1e-9):
        msg = "each source unit's shares must sum to at most 1"
        raise InvalidInputError(msg, field="shares")
    return ForecastBand(
        unit_ids=tuple(to_ids),
        years=demand.years,
        **{name: matrix.T @ demand.variant(name) for name in VARIANTS},
    )


def _ward_zone_shares(
    wards: Mapping[str, int],
    zones: Mapping[str, int],
    point_ward: Sequence[str],
    point_weight: FloatArray,
    point_zone: Sequence[str | None],
) -> FloatArray:
    """Share of each ward's point weight in each zone (rows of wards without weight: 0)."""
    in_zone = np.zeros((len(wards), len(zones)))
    total = np.zeros(len(wards))
    for ward, weight, zone in zip(point_ward, point_weight, point_zone, strict=True):
        if ward not in wards:
            msg = f"a demand point lies in ward {ward!r}, which is not forecast"
            raise InvalidInputError(msg, field="point_ward")
        total[wards[ward]] += weight
        if zone is None:
            continue
        if zone not in zones:
            msg = f"a demand point lies in zone {zone!r}, which is not listed"
            raise InvalidInputError(msg, field="point_zone")
        in_zone[wards[ward], zones[zone]] += weight
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = np.where(total[:, None] > 0, in_zone / total[:, None], 0.0)
    return np.asarray(shares, dtype=np.float64)


def spread_to_zones(
    entrants: ForecastBand,
    point_ward: Sequence[str],
    *,
    point_weight: npt.ArrayLike,
    point_zone: Sequence[str | None],
    zone_ids: Sequence[str],
    located_developments: Sequence[tuple[HousingDevelopment, str]] = (),
) -> ZoneDemand:
    """Carry each ward's first-grade entrants to admission zones through its demand points.

    See the module docstring (Zones) for the rule.

    Parameters
    ----------
    entrants
        Entrants by ward and year, including the yield of every development (as
        :func:`forecast_first_grade` gives them), persons.
    point_ward
        The ward of each demand point.
    point_weight
        The weight of each demand point (children estimated there; only their shares
        within a ward count), shape ``(n_points,)``, non-negative.
    point_zone
        The zone of each demand point, ``None`` for a point in no zone.
    zone_ids
        The zones of the result, in order.
    located_developments
        Developments whose zone is known, each with that zone.

    Returns
    -------
    ZoneDemand
        Entrants by zone with the band, the unzoned entrants and the ward shares.

    Raises
    ------
    InvalidInputError
        If the points do not fit together, a point or development lies in a ward not
        forecast or a zone not listed, or ``entrants`` lacks a development's yield.
    """
    weights = np.asarray(point_weight, dtype=np.float64)
    if weights.shape != (len(point_ward),) or len(point_zone) != len(point_ward):
        msg = (
            f"{len(point_ward)} point wards, {len(point_zone)} point zones and weights of "
            f"shape {weights.shape}: one of each per point"
        )
        raise InvalidInputError(msg, field="point_weight")
    _check_counts("point_weight", weights)
    _check_ids("zone_ids", tuple(zone_ids), len(zone_ids))
    wards = {code: row for row, code in enumerate(entrants.unit_ids)}
    zones = {zone: column for column, zone in enumerate(zone_ids)}
    shares = _ward_zone_shares(wards, zones, point_ward, weights, point_zone)
    developments = [development for development, _ in located_developments]
    ward_yield = housing_first_grade_yield(
        developments, ward_codes=entrants.unit_ids, years=entrants.years
    )
    zone_yield = np.zeros((len(zones), len(entrants.years)))
    for development, zone in located_developments:
        if zone not in zones:
            msg = f"development {development.development_id!r} lies in zone {zone!r}, not listed"
            raise InvalidInputError(msg, field="located_developments")
        zone_yield[zones[zone]] += [development.first_grade_yield(year) for year in entrants.years]
    # Every term of the entrants is >= 0, so removing the yields leaves >= 0 up to rounding.
    if np.any(entrants.low - ward_yield < -1e-9):
        msg = "the entrants do not include the yield of the located developments"
        raise InvalidInputError(msg, field="entrants")
    spread = ForecastBand(
        unit_ids=entrants.unit_ids,
        years=entrants.years,
        **{name: entrants.variant(name) - ward_yield for name in VARIANTS},
    )
    carried = allocate_demand(spread, shares, to_ids=zone_ids)
    unzoned_share = np.clip(1.0 - shares.sum(axis=1), 0.0, 1.0)[:, None]
    return ZoneDemand(
        demand=ForecastBand(
            unit_ids=tuple(zone_ids),
            years=entrants.years,
            **{name: carried.variant(name) + zone_yield for name in VARIANTS},
        ),
        unzoned=allocate_demand(spread, unzoned_share, to_ids=(UNZONED,)),
        ward_shares=_frozen(shares),
    )


def aggregate_capacity(
    capacity: FirstGradeCapacity,
    unit_of: Mapping[str, str],
    *,
    unit_ids: Sequence[str],
    default_class_size_cap: float,
) -> FirstGradeCapacity:
    """Sum the capacity of schools into larger units (wards, zones).

    A unit's classes are the sum of its schools' classes (NaN if any of them is unknown),
    its class-size cap the seat-weighted mean of theirs, or ``default_class_size_cap`` when
    it has no class (no school, or schools without first grade).

    Parameters
    ----------
    capacity
        Capacity of each school.
    unit_of
        The unit of each school id; schools not listed are left out.
    unit_ids
        The units of the result, in order (units without a school get 0 classes).
    default_class_size_cap
        Cap used for units without classes (pupils per class).

    Returns
    -------
    FirstGradeCapacity
        Capacity per unit, with the schools' source and date.

    Raises
    ------
    InvalidInputError
        If a school's unit is not in ``unit_ids``.
    """
    rows = {unit: index for index, unit in enumerate(unit_ids)}
    classes = np.zeros(len(rows))
    seats = np.zeros(len(rows))
    for school, school_classes, school_seats in zip(
        capacity.unit_ids, capacity.classes, capacity.seats, strict=True
    ):
        unit = unit_of.get(school)
        if unit is None:
            continue
        if unit not in rows:
            msg = f"school {school!r} belongs to unit {unit!r}, which is not listed"
            raise InvalidInputError(msg, field="unit_of")
        classes[rows[unit]] += school_classes
        seats[rows[unit]] += school_seats
    with np.errstate(invalid="ignore", divide="ignore"):
        cap = np.where(classes > 0, seats / np.where(classes > 0, classes, 1.0), np.nan)
    cap = np.where(np.isfinite(cap), cap, default_class_size_cap)
    return FirstGradeCapacity(
        unit_ids=tuple(unit_ids),
        classes=classes,
        class_size_cap=cap,
        source=capacity.source,
        as_of=capacity.as_of,
    )


def compare_with_capacity(
    demand: ForecastBand,
    capacity: FirstGradeCapacity,
) -> CapacityComparison:
    """Compare first-grade demand with seats (classes x cap) and classrooms, year by year.

    Parameters
    ----------
    demand
        Entrants by unit and year (persons) with the band.
    capacity
        Capacity of the same units (any order; it is reordered to ``demand``'s).

    Returns
    -------
    CapacityComparison
        Seat and classroom shortfalls (negative = surplus) with the band, and the first
        year each unit runs short (:meth:`CapacityComparison.first_year_short`).

    Raises
    ------
    InvalidInputError
        If a demand unit has no capacity entry.
    """
    index = _positions(capacity.unit_ids, demand.unit_ids, "capacity.unit_ids")
    ordered = FirstGradeCapacity(
        unit_ids=demand.unit_ids,
        classes=capacity.classes[index],
        class_size_cap=capacity.class_size_cap[index],
        source=capacity.source,
        as_of=capacity.as_of,
    )
    seats = ordered.seats[:, None]
    classes = ordered.classes[:, None]
    cap = ordered.class_size_cap[:, None]
    seat_gap = {name: demand.variant(name) - seats for name in VARIANTS}
    # Round before ceil so 70.0000000001 / 35 does not ask for a third classroom.
    classroom_gap = {
        name: np.ceil(np.round(demand.variant(name) / cap, 9)) - classes for name in VARIANTS
    }
    return CapacityComparison(
        demand=demand,
        capacity=ordered,
        seat_shortfall=ForecastBand(unit_ids=demand.unit_ids, years=demand.years, **seat_gap),
        classroom_shortfall=ForecastBand(
            unit_ids=demand.unit_ids, years=demand.years, **classroom_gap
        ),
    )
