"""Backtests: hold out the last years of a series, forecast them, score against baselines.

The forecast scored is :func:`enrolment.forecast.project_totals` (compound growth at the
rate the cohort model uses, with its band). The two naive baselines are

``last value``
    every future year equals the last observed one;
``linear trend``
    the least-squares straight line through the fitted years, extended.

Errors are percentages of the actual value: MAPE is the mean of ``|forecast - actual| /
actual``, bias the mean of ``(forecast - actual) / actual`` (positive = forecasts too
high), both over the series, per horizon (years after the last fitted year). Band coverage
is the share of series whose actual value lies within the forecast's low-high band.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from enrolment.errors import InsufficientHistoryError, InvalidInputError
from enrolment.forecast import BAND_QUANTILES, PopulationHistory, project_totals

__all__ = [
    "BASELINES",
    "FORECAST_METHOD",
    "BacktestResult",
    "HorizonScore",
    "backtest_totals",
    "last_value_forecast",
    "linear_trend_forecast",
]

FORECAST_METHOD = "compound growth (forecast)"
BASELINES = ("last value", "linear trend")

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class HorizonScore:
    """Error of one method at one horizon.

    Attributes
    ----------
    method
        The method's name.
    horizon_years
        Years after the last fitted year.
    target_year
        The held-out year forecast.
    mape_pct
        Mean absolute percentage error, percent.
    bias_pct
        Mean percentage error, percent (positive = too high).
    n_series
        Number of series scored.
    """

    method: str
    horizon_years: int
    target_year: int
    mape_pct: float
    bias_pct: float
    n_series: int


@dataclass(frozen=True, slots=True)
class BacktestResult:
    """Scores of the forecast and the baselines over the held-out years.

    Attributes
    ----------
    fit_years
        Years the methods saw.
    target_years
        Held-out years scored.
    scores
        One score per method and horizon.
    band_coverage
        For each horizon, the share (0-1) of series whose actual value is inside the
        forecast's low-high band.
    forecasts
        Forecast values by method, shape ``(n_series, n_targets)``, for inspection.
    actual
        Held-out values, shape ``(n_series, n_targets)``.
    """

    fit_years: tuple[int, ...]
    target_years: tuple[int, ...]
    scores: tuple[HorizonScore, ...]
    band_coverage: tuple[tuple[int, float], ...]
    forecasts: dict[str, FloatArray]
    actual: FloatArray

    def score(self, method: str, horizon_years: int) -> HorizonScore:
        """Return the score of a method at a horizon.

        Parameters
        ----------
        method
            :data:`FORECAST_METHOD` or one of :data:`BASELINES`.
        horizon_years
            Years after the last fitted year.

        Returns
        -------
        HorizonScore
            The matching score.

        Raises
        ------
        InvalidInputError
            If there is no such score.
        """
        for score in self.scores:
            if score.method == method and score.horizon_years == horizon_years:
                return score
        msg = f"no score for {method!r} at {horizon_years} years ahead"
        raise InvalidInputError(msg, field="horizon_years")

    def beats_baselines(self, horizon_years: int) -> bool:
        """Whether the forecast's MAPE is below both baselines' at a horizon.

        Parameters
        ----------
        horizon_years
            Years after the last fitted year.

        Returns
        -------
        bool
            True if strictly better than both.
        """
        ours = self.score(FORECAST_METHOD, horizon_years).mape_pct
        return all(ours < self.score(name, horizon_years).mape_pct for name in BASELINES)


def last_value_forecast(history: PopulationHistory, *, years: Sequence[int]) -> FloatArray:
    """Forecast every year as the last observed value.

    Parameters
    ----------
    history
        The observed series.
    years
        Target years.

    Returns
    -------
    numpy.ndarray
        Shape ``(n_units, n_years)``.
    """
    return np.repeat(history.population[:, -1:], len(years), axis=1)


def linear_trend_forecast(history: PopulationHistory, *, years: Sequence[int]) -> FloatArray:
    """Forecast by the least-squares straight line through each unit's series.

    Parameters
    ----------
    history
        The observed series (at least two years).
    years
        Target years.

    Returns
    -------
    numpy.ndarray
        Shape ``(n_units, n_years)``.

    Raises
    ------
    InsufficientHistoryError
        With fewer than two observed years.
    """
    if len(history.years) < 2:
        msg = "a linear trend needs at least two observed years"
        raise InsufficientHistoryError(msg)
    observed = np.asarray(history.years, dtype=np.float64)
    target = np.asarray(years, dtype=np.float64)
    design = np.column_stack([np.ones_like(observed), observed - observed.mean()])
    coefficients, *_ = np.linalg.lstsq(design, history.population.T)
    intercept, slope = np.asarray(coefficients, dtype=np.float64)
    trend: FloatArray = intercept[:, None] + slope[:, None] * (target[None, :] - observed.mean())
    return trend


def _percentage_errors(forecast: FloatArray, actual: FloatArray) -> FloatArray:
    return (forecast - actual) / actual * 100.0


def backtest_totals(
    history: PopulationHistory,
    *,
    fit_until: int,
    quantiles: tuple[float, float] = BAND_QUANTILES,
) -> BacktestResult:
    """Fit on the years up to ``fit_until``, forecast the later observed years, score.

    Parameters
    ----------
    history
        The whole observed series (gaps allowed; a missing year is simply not scored).
    fit_until
        Last year the methods may see.
    quantiles
        Percentiles of past annual rates that set the forecast's band.

    Returns
    -------
    BacktestResult
        MAPE and bias per method and horizon, and the band coverage.

    Raises
    ------
    InvalidInputError
        If no year is held out.
    InsufficientHistoryError
        If fewer than two years are fitted.
    """
    fitted = history.until(fit_until)
    targets = tuple(year for year in history.years if year > fit_until)
    if not targets:
        msg = f"no observed year after {fit_until} to hold out"
        raise InvalidInputError(msg, field="fit_until")
    actual = history.population[:, [history.years.index(year) for year in targets]]
    band = project_totals(fitted, years=targets, quantiles=quantiles)
    forecasts = {
        FORECAST_METHOD: band.central,
        BASELINES[0]: last_value_forecast(fitted, years=targets),
        BASELINES[1]: linear_trend_forecast(fitted, years=targets),
    }
    scores = []
    for method, values in forecasts.items():
        errors = _percentage_errors(values, actual)
        for column, year in enumerate(targets):
            scores.append(
                HorizonScore(
                    method=method,
                    horizon_years=year - fit_until,
                    target_year=year,
                    mape_pct=float(np.abs(errors[:, column]).mean()),
                    bias_pct=float(errors[:, column].mean()),
                    n_series=int(actual.shape[0]),
                )
            )
    inside = (band.low <= actual) & (actual <= band.high)
    coverage = tuple(
        (year - fit_until, float(inside[:, column].mean())) for column, year in enumerate(targets)
    )
    return BacktestResult(
        fit_years=fitted.years,
        target_years=targets,
        scores=tuple(scores),
        band_coverage=coverage,
        forecasts={method: np.asarray(values) for method, values in forecasts.items()},
        actual=actual,
    )
