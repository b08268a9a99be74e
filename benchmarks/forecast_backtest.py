"""Backtest the population forecast on the 24 HCMC districts' yearly series.

Run from the repository root::

    .venv/bin/python benchmarks/forecast_backtest.py              # fit 2009-2014
    .venv/bin/python benchmarks/forecast_backtest.py --fit-until 2013

Data: ``data/hcmc-district3/population/hcmc_district_population_2009_2019.csv.gz`` (24
districts, 2009-2017 and the 2019 census; there is no 2018, so 4 years ahead is not
scored). The methods see the years up to ``--fit-until`` and forecast every later observed
year:

compound growth (forecast)
    ``enrolment.forecast.project_totals``: the last fitted value grown at the compound
    average annual rate of the fitted years, the growth rule of the cohort model, with its
    band (10th-90th percentile of past annual rates around the median);
last value
    the last fitted value, held flat;
linear trend
    the least-squares line through the fitted years.

MAPE and bias are percentages of the actual value over the 24 districts (bias > 0: too
high). Band coverage is the share of districts whose actual value lies in the forecast's
low-high band. The 2019 value is the census count, while 2009-2017 are yearly estimates:
several central districts drop sharply between 2017 and 2019 (Quận 1: 211,220 -> 142,625),
which dominates the 5-year error of every method.

The table is printed and the whole result (with per-district forecasts) is written to
``benchmarks/results/forecast_backtest.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from enrolment.backtest import BASELINES, FORECAST_METHOD, backtest_totals
from enrolment.forecast import PopulationHistory

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data/hcmc-district3/population/hcmc_district_population_2009_2019.csv.gz"
RESULTS = ROOT / "benchmarks/results/forecast_backtest.json"
SOURCE = (
    "CityScope HCMC district layer (hgscarlette/vn-demographic bfc5508): yearly population "
    "2009-2017, 2019 census (GSO)"
)


def load_history(path: Path) -> tuple[PopulationHistory, list[str]]:
    frame = pd.read_csv(path, dtype={"district_code": str})
    columns = [column for column in frame.columns if column.startswith("pop_")]
    years = tuple(int(column.removeprefix("pop_")) for column in columns)
    history = PopulationHistory(
        unit_ids=tuple(frame["district_code"]),
        years=years,
        population=frame[columns].to_numpy(dtype=np.float64),
        source=SOURCE,
        as_of=dt.date(2019, 4, 1),
    )
    return history, list(frame["district_name_vi"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fit-until", type=int, default=2014, help="last fitted year")
    parser.add_argument("--output", type=Path, default=RESULTS, help="JSON result file")
    args = parser.parse_args()

    history, names = load_history(DATA)
    result = backtest_totals(history, fit_until=args.fit_until)
    methods = (FORECAST_METHOD, *BASELINES)
    horizons = [year - args.fit_until for year in result.target_years]
    coverage = dict(result.band_coverage)

    print(
        f"Backtest: {len(history.unit_ids)} HCMC districts, fit "
        f"{result.fit_years[0]}-{result.fit_years[-1]}, forecast "
        f"{', '.join(str(year) for year in result.target_years)}"
    )
    header = (
        f"| {'years ahead':>11} | {'year':>4} | {'method':<27} | {'MAPE %':>7} | {'bias %':>7} |"
    )
    print(header)
    print("|" + "|".join("-" * (len(cell) + 0) for cell in header.split("|")[1:-1]) + "|")
    for horizon, year in zip(horizons, result.target_years, strict=True):
        for method in methods:
            score = result.score(method, horizon)
            print(
                f"| {horizon:>11} | {year:>4} | {method:<27} | {score.mape_pct:>7.2f} |"
                f" {score.bias_pct:>+7.2f} |"
            )
    print()
    print(
        "Band (10th-90th percentile of past annual rates) covers the actual value in: "
        + ", ".join(f"{coverage[h]:.0%} at {h} y" for h in horizons)
    )
    verdicts = {horizon: result.beats_baselines(horizon) for horizon in horizons}
    for horizon, beats in verdicts.items():
        word = "beats both baselines" if beats else "does NOT beat both baselines"
        ours = abs(result.score(FORECAST_METHOD, horizon).bias_pct)
        less_biased = [
            name for name in BASELINES if abs(result.score(name, horizon).bias_pct) < ours
        ]
        note = f"; smaller |bias|: {', '.join(less_biased)}" if less_biased else ""
        print(f"{horizon} year(s) ahead: the forecast {word} on MAPE{note}.")

    payload: dict[str, Any] = {
        "benchmark": "forecast_backtest",
        "run_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "data": str(DATA.relative_to(ROOT)),
        "source": SOURCE,
        "fit_years": list(result.fit_years),
        "target_years": list(result.target_years),
        "scores": [
            {
                "method": score.method,
                "horizon_years": score.horizon_years,
                "target_year": score.target_year,
                "mape_pct": round(score.mape_pct, 4),
                "bias_pct": round(score.bias_pct, 4),
                "n_series": score.n_series,
            }
            for score in result.scores
        ],
        "band_coverage": {str(h): share for h, share in result.band_coverage},
        "beats_both_baselines": {str(h): beats for h, beats in verdicts.items()},
        "districts": [
            {
                "district_code": code,
                "district_name_vi": name,
                "actual": result.actual[row].tolist(),
                "forecasts": {
                    method: [round(value, 1) for value in values[row].tolist()]
                    for method, values in result.forecasts.items()
                },
            }
            for row, (code, name) in enumerate(zip(history.unit_ids, names, strict=True))
        ],
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
    print(f"\nwrote {args.output}")


if __name__ == "__main__":
    main()
