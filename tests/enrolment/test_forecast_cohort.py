"""Cohort-component arithmetic, housing yield and band ordering on hand-made populations."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from enrolment.errors import InvalidInputError
from enrolment.forecast import (
    BasePopulation,
    CohortRates,
    ForecastBand,
    HousingDevelopment,
    KnownBirths,
    forecast_first_grade,
    housing_first_grade_yield,
    project_cohorts,
)

AS_OF = dt.date(2019, 4, 1)
SURVIVAL = (0.990, 0.995, 0.996, 0.997, 0.998, 0.999)  # ages 0->1 ... 5->6


def one_ward(ages: list[float], *, base_year: int = 2019) -> BasePopulation:
    return BasePopulation(
        ward_codes=("W1",),
        base_year=base_year,
        population_by_age=np.array([ages]),
        source="hand-made",
        as_of=AS_OF,
    )


def rates(
    migration: float | list[float] | list[list[float]] = 0.0,
    births: float | list[float] = 0.0,
    *,
    low: float = 0.0,
    high: float = 0.0,
) -> CohortRates:
    return CohortRates(
        survival_by_age=np.array(SURVIVAL),
        net_migration_rate=np.asarray(migration, dtype=float),
        birth_change_rate=np.asarray(births, dtype=float),
        low_rate_offset=low,
        high_rate_offset=high,
        source="hand-made",
        as_of=AS_OF,
    )


def test_a_cohort_of_100_two_year_olds_four_years_later() -> None:
    # 100 two-year-olds in 2019, survival 0.996, 0.997, 0.998, 0.999 at ages 2..5,
    # net migration +2 % a year of the survivors: aged 6 in 2023.
    base = one_ward([0, 0, 100, 0, 0, 0, 0])
    projection = project_cohorts(base, rates(migration=0.02), horizon_years=4)
    known = 100 * 0.996 * 0.997 * 0.998 * 0.999 * 1.02**4  # = 107.1646...
    assert projection.years == (2019, 2020, 2021, 2022, 2023)
    assert projection.population_by_age[0, 4, 6] == pytest.approx(known, rel=1e-12)
    assert projection.population_by_age[0, 4, 6] == pytest.approx(107.16457, abs=1e-5)
    # Year by year the cohort moves one age up and nothing else appears (no births).
    assert projection.population_by_age[0, 1, 3] == pytest.approx(100 * 0.996 * 1.02)
    assert projection.population_by_age[0, 2, 4] == pytest.approx(100 * 0.996 * 0.997 * 1.02**2)
    assert np.count_nonzero(projection.population_by_age[0, 4]) == 1
    # ... and it is the first-grade demand of school year 2023-2024.
    forecast = forecast_first_grade(base, rates(migration=0.02), horizon_years=4)
    assert forecast.entrants.years == (2020, 2021, 2022, 2023)
    np.testing.assert_allclose(forecast.entrants.central[0], [0, 0, 0, known], rtol=1e-12)


def test_out_migration_and_age_specific_rates() -> None:
    base = one_ward([0, 0, 100, 0, 0, 0, 0])
    by_age = [[0.0, 0.0, -0.10, 0.0, 0.05, 0.0]]  # ages 0..5: -10 % at 2, +5 % at 4
    projection = project_cohorts(base, rates(migration=by_age), horizon_years=4)
    known = 100 * 0.996 * 0.90 * 0.997 * 0.998 * 1.05 * 0.999
    assert projection.first_grade_age[0, 4] == pytest.approx(known, rel=1e-12)


def test_births_follow_the_trend_and_known_births_restart_it() -> None:
    base = one_ward([50, 0, 0, 0, 0, 0, 0])
    trend = project_cohorts(base, rates(births=0.10), horizon_years=3)
    np.testing.assert_allclose(trend.population_by_age[0, :, 0], [50, 55, 60.5, 66.55])
    # The base year's 50 babies are 1 year old in 2020 (survival 0.99).
    assert trend.population_by_age[0, 1, 1] == pytest.approx(49.5)

    known = KnownBirths(
        years=(2021,), births=np.array([[40.0]]), source="civil registry", as_of=AS_OF
    )
    restarted = project_cohorts(base, rates(births=0.10), horizon_years=3, births=known)
    np.testing.assert_allclose(restarted.population_by_age[0, :, 0], [50, 55, 40, 44])


def test_known_births_must_fit_the_wards() -> None:
    base = one_ward([50, 0, 0, 0, 0, 0, 0])
    known = KnownBirths(years=(2020,), births=np.ones((2, 1)), source="x", as_of=AS_OF)
    with pytest.raises(InvalidInputError, match="births"):
        project_cohorts(base, rates(), horizon_years=2, births=known)


def test_housing_yield_by_year() -> None:
    development = HousingDevelopment(
        development_id="D1",
        ward_code="W2",
        dwellings=200,
        completion_year=2022,
        children_per_dwelling_per_cohort=0.05,
        occupancy_ramp=(0.5, 1.0),
        source="building permit 12/2021",
        as_of=dt.date(2021, 12, 1),
    )
    # 200 dwellings x 0.05 children per cohort = 10 entrants a year once fully occupied;
    # half occupied in the completion year.
    assert [development.first_grade_yield(year) for year in (2021, 2022, 2023, 2030)] == [
        0.0,
        5.0,
        10.0,
        10.0,
    ]
    table = housing_first_grade_yield(
        [development, development], ward_codes=("W1", "W2"), years=(2021, 2022, 2023)
    )
    np.testing.assert_allclose(table, [[0, 0, 0], [0, 10, 20]])


def test_housing_yield_is_added_to_the_ward_entrants_in_every_variant() -> None:
    base = BasePopulation(
        ward_codes=("W1", "W2"),
        base_year=2019,
        population_by_age=np.zeros((2, 7)),
        source="hand-made",
        as_of=AS_OF,
    )
    development = HousingDevelopment(
        development_id="D1",
        ward_code="W2",
        dwellings=300,
        completion_year=2021,
        children_per_dwelling_per_cohort=0.02,
        source="developer",
        as_of=AS_OF,
    )
    forecast = forecast_first_grade(
        base, rates(low=-0.01, high=0.01), horizon_years=3, developments=[development]
    )
    for name in ("low", "central", "high"):
        np.testing.assert_allclose(forecast.entrants.variant(name), [[0, 0, 0], [0, 6, 6]])
    np.testing.assert_allclose(forecast.housing_yield, [[0, 0, 0], [0, 6, 6]])


def test_a_development_outside_the_forecast_wards_is_refused() -> None:
    development = HousingDevelopment(
        development_id="D9",
        ward_code="elsewhere",
        dwellings=10,
        completion_year=2020,
        children_per_dwelling_per_cohort=0.1,
        source="x",
        as_of=AS_OF,
    )
    with pytest.raises(InvalidInputError, match="D9"):
        housing_first_grade_yield([development], ward_codes=("W1",), years=(2020,))


def test_band_is_ordered_and_widens_with_the_offsets() -> None:
    base = one_ward([1500, 1600, 1700, 1800, 1900, 2000, 2100])
    forecast = forecast_first_grade(
        base, rates(migration=0.01, births=-0.02, low=-0.015, high=0.02), horizon_years=10
    )
    band = forecast.entrants
    assert np.all(band.low <= band.central)
    assert np.all(band.central <= band.high)
    assert np.all(band.low[0, 1:] < band.central[0, 1:])
    assert np.all(np.diff(band.high[0] - band.low[0]) > 0)  # wider every year
    # Year 1 entrants are the 5-year-olds of the base year, aged one year.
    assert band.central[0, 0] == pytest.approx(2000 * 0.999 * 1.01)
    assert band.low[0, 0] == pytest.approx(2000 * 0.999 * (1.01 - 0.015))
    assert band.high[0, 0] == pytest.approx(2000 * 0.999 * (1.01 + 0.02))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    ages=st.lists(st.floats(0, 5000), min_size=7, max_size=7),
    migration=st.floats(-0.2, 0.2),
    births=st.floats(-0.2, 0.2),
    low=st.floats(-0.1, 0.0),
    high=st.floats(0.0, 0.1),
    horizon=st.integers(1, 12),
)
def test_band_order_holds_for_any_rates(
    ages: list[float], migration: float, births: float, low: float, high: float, horizon: int
) -> None:
    forecast = forecast_first_grade(
        one_ward(ages), rates(migration, births, low=low, high=high), horizon_years=horizon
    )
    band = forecast.entrants
    assert np.all(band.low <= band.central)
    assert np.all(band.central <= band.high)


def test_forecast_band_refuses_an_unordered_band() -> None:
    with pytest.raises(InvalidInputError, match="low <= central <= high"):
        ForecastBand(
            unit_ids=("W1",),
            years=(2020,),
            low=np.array([[5.0]]),
            central=np.array([[4.0]]),
            high=np.array([[6.0]]),
        )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"survival_by_age": np.ones(5)}, "survival_by_age"),
        ({"survival_by_age": np.array([1.0, 1.0, 1.0, 1.0, 1.0, 1.1])}, "survival_by_age"),
        ({"low_rate_offset": 0.01}, "low_rate_offset"),
        ({"net_migration_rate": np.array(-1.5)}, "net_migration_rate"),
        ({"source": " "}, "source"),
    ],
)
def test_rates_are_checked(kwargs: dict[str, object], field: str) -> None:
    values: dict[str, object] = {
        "survival_by_age": np.array(SURVIVAL),
        "net_migration_rate": np.array(0.0),
        "birth_change_rate": np.array(0.0),
        "source": "x",
        "as_of": AS_OF,
    }
    values.update(kwargs)
    with pytest.raises(InvalidInputError) as raised:
        CohortRates(**values)  # type: ignore[arg-type]
    assert raised.value.field == field


def test_base_population_needs_ages_0_to_6_and_one_code_per_ward() -> None:
    with pytest.raises(InvalidInputError, match="ages 0-6"):
        one_ward([1, 2, 3])
    with pytest.raises(InvalidInputError, match="ward_codes"):
        BasePopulation(
            ward_codes=("W1", "W1"),
            base_year=2019,
            population_by_age=np.zeros((2, 7)),
            source="x",
            as_of=AS_OF,
        )


def test_migration_rates_must_fit_the_wards() -> None:
    with pytest.raises(InvalidInputError, match="net_migration_rate"):
        project_cohorts(one_ward([0] * 7), rates(migration=[0.1, 0.2]), horizon_years=1)


def test_inputs_are_read_only() -> None:
    base = one_ward([0, 0, 100, 0, 0, 0, 0])
    with pytest.raises(ValueError, match="read-only"):
        base.population_by_age[0, 0] = 1.0
