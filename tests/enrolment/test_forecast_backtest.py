"""Growth rates, total projections and the backtest scoring on hand-made series."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from enrolment.backtest import (
    BASELINES,
    FORECAST_METHOD,
    backtest_totals,
    last_value_forecast,
    linear_trend_forecast,
)
from enrolment.errors import InsufficientHistoryError, InvalidInputError
from enrolment.forecast import PopulationHistory, growth_rates_from_history, project_totals

AS_OF = dt.date(2019, 4, 1)


def series(years: tuple[int, ...], *rows: list[float]) -> PopulationHistory:
    return PopulationHistory(
        unit_ids=tuple(f"U{index}" for index in range(len(rows))),
        years=years,
        population=np.array(rows, dtype=float),
        source="hand-made",
        as_of=AS_OF,
    )


def test_growth_rates_of_a_geometric_series() -> None:
    rates = growth_rates_from_history((2010, 2011, 2012), [100, 110, 121])
    assert rates.central == pytest.approx(0.10)
    assert rates.low == pytest.approx(0.10)
    assert rates.high == pytest.approx(0.10)


def test_a_gap_counts_its_annualised_rate_once_per_year() -> None:
    rates = growth_rates_from_history((2016, 2017, 2019), [100, 110, 133.1])
    assert rates.annual_rates == pytest.approx((0.10, 0.10, 0.10))
    assert rates.central == pytest.approx(0.10)


def test_spread_of_past_rates_sets_the_band() -> None:
    # Annual rates +10 %, 0 %, +10 %, 0 %, +10 %: median 10 %, 10th percentile 0 %.
    values = [100, 110, 110, 121, 121, 133.1]
    rates = growth_rates_from_history(range(2010, 2016), values)
    central = (133.1 / 100) ** (1 / 5) - 1
    assert rates.central == pytest.approx(central)
    assert rates.low == pytest.approx(central - 0.10)
    assert rates.high == pytest.approx(central)
    assert rates.low <= rates.central <= rates.high


def test_growth_rates_need_two_observations() -> None:
    with pytest.raises(InsufficientHistoryError):
        growth_rates_from_history((2019,), [100])
    with pytest.raises(InvalidInputError, match="values"):
        growth_rates_from_history((2018, 2019), [100, 0])


def test_project_totals_compounds_from_the_last_value() -> None:
    history = series((2010, 2011, 2012), [100, 110, 121])
    band = project_totals(history, years=(2013, 2015))
    np.testing.assert_allclose(band.central, [[133.1, 161.051]])
    with pytest.raises(InvalidInputError, match="after 2012"):
        project_totals(history, years=(2012,))


def test_baselines() -> None:
    history = series((2010, 2011, 2013), [10, 12, 16], [5, 5, 5])
    np.testing.assert_allclose(last_value_forecast(history, years=(2014, 2015)), [[16, 16], [5, 5]])
    np.testing.assert_allclose(
        linear_trend_forecast(history, years=(2014, 2015)), [[18, 20], [5, 5]]
    )


def test_backtest_scores_by_hand() -> None:
    # U0 grows 10 % a year (the forecast is exact), U1 grows by 10 persons a year.
    years = (2010, 2011, 2012, 2013, 2015)
    history = series(years, [100, 110, 121, 133.1, 161.051], [100, 110, 120, 130, 150])
    result = backtest_totals(history, fit_until=2012)
    assert result.fit_years == (2010, 2011, 2012)
    assert result.target_years == (2013, 2015)
    # Last value: U0 121 vs 133.1 (-9.0909 %), U1 120 vs 130 (-7.6923 %).
    last = result.score(BASELINES[0], 1)
    assert last.mape_pct == pytest.approx((100 * 12.1 / 133.1 + 100 * 10 / 130) / 2)
    assert last.bias_pct == pytest.approx(-last.mape_pct)
    # The linear trend is exact for U1.
    assert result.forecasts[BASELINES[1]][1] == pytest.approx([130, 150])
    # Compound growth is exact for U0; for U1 it uses (120/100)^(1/2) - 1.
    rate = 1.2**0.5
    assert result.forecasts[FORECAST_METHOD][0] == pytest.approx([133.1, 161.051])
    assert result.forecasts[FORECAST_METHOD][1] == pytest.approx([120 * rate, 120 * rate**3])
    ours = result.score(FORECAST_METHOD, 3)
    assert ours.target_year == 2015
    assert ours.mape_pct == pytest.approx(abs(120 * rate**3 - 150) / 150 * 100 / 2)
    with pytest.raises(InvalidInputError, match="no observed year after 2015"):
        backtest_totals(history, fit_until=2015)


def test_band_coverage() -> None:
    # Past rates +20 % and +10 %: central (132/100)^(1/2) - 1 = 14.9 %, band 10.9 % - 18.9 %.
    # 2013: 150 is inside (146.4 - 156.9); 200 is not.
    history = series((2010, 2011, 2012, 2013), [100, 120, 132, 150], [100, 120, 132, 200])
    result = backtest_totals(history, fit_until=2012)
    assert dict(result.band_coverage) == {1: 0.5}
    band = project_totals(history.until(2012), years=(2013,))
    assert band.low[0, 0] == pytest.approx(132 * (1.32**0.5 - 0.04))
    assert band.high[0, 0] == pytest.approx(132 * (1.32**0.5 + 0.04))
