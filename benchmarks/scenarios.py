"""Benchmark scenario evaluation and the suggested-sites comparison on Quận 3.

Run from the repository root::

    .venv/bin/python benchmarks/scenarios.py

Through the service (a fresh SpatiaLite store of the bundled district): the planning
context is built once (demand points, walking and motorbike matrices, the baseline's
capacity-aware zones, forecast inputs), then each one-change scenario is evaluated
``--repeats`` times: distances (only what the change touches), zones, the 10-year seat
gap. Target: under 3 s per evaluation (``total``, median). Then the planner's documented
run: 3 new schools chosen among 500 grid candidates (p-median, 0.1 % gap), saved as a
scenario, evaluated and compared with the baseline. Results print as tables and go to
``benchmarks/results/scenarios.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from gis_service.networks import NetworkCache
from gis_service.planning import sites
from gis_service.planning.changes import ScenarioIn
from gis_service.planning.comparison import compare_documents
from gis_service.planning.evaluation import (
    PlanningContext,
    evaluate_scenario,
    planning_context,
)
from gis_service.settings import Settings
from gis_service.startup import open_engine, prepare_store
from gis_service.zones.geography import ZoningCache

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
TARGET_SECONDS = 3.0
TODAY = dt.date(2026, 12, 2)
#: A street corner of Phường 9, far from the district's primary schools.
NEW_SCHOOL = {
    "kind": "add_school",
    "code": "NEW-1",
    "name": "Trường tiểu học dự kiến",
    "lon": 106.6798475,
    "lat": 10.7807537,
    "first_grade_classes": 8,
}


def _cases(first_school: str) -> dict[str, dict[str, Any]]:
    return {
        "baseline": {"changes": []},
        "add a school": {"changes": [NEW_SCHOOL]},
        "add a school (rezone all)": {"changes": [NEW_SCHOOL], "rezoning": "all"},
        "close a school": {"changes": [{"kind": "close_school", "school_code": first_school}]},
        "expand a school to 12 classes": {
            "changes": [
                {"kind": "set_classes", "school_code": first_school, "first_grade_classes": 12}
            ]
        },
        "add a development": {
            "changes": [
                {
                    "kind": "add_development",
                    "name": "khu-can-ho",
                    "lon": 106.6850,
                    "lat": 10.7800,
                    "dwellings": 2000,
                    "completion_year": 2029,
                    "children_per_dwelling_per_cohort": 0.02,
                }
            ]
        },
        "class-size cap 30": {"changes": [{"kind": "set_class_size_cap", "class_size_cap": 30}]},
    }


def _evaluations(context: PlanningContext, repeats: int) -> list[dict[str, Any]]:
    rows = []
    for name, body in _cases(context.geography.schools[0].code).items():
        scenario = ScenarioIn.model_validate({"name": name, **body})
        runs = []
        for _ in range(repeats):
            evaluation = evaluate_scenario(context, scenario, as_of=TODAY)
            runs.append(dict(evaluation.seconds))
        document = evaluation.document()
        figures = document.zoning.figures
        median = {part: statistics.median(r[part] for r in runs) for part in runs[0]}
        rows.append(
            {
                "scenario": name,
                **{f"{part}_s": round(value, 3) for part, value in median.items()},
                "max_total_s": round(max(r["total"] for r in runs), 3),
                "mean_walk_m": figures["mean_distance_m.walk"],
                "without_seat": figures["shortfall_children"],
                "within_target": max(r["total"] for r in runs) < TARGET_SECONDS,
            }
        )
    return rows


def _suggested(context: PlanningContext) -> dict[str, Any]:
    started = time.perf_counter()
    suggestion = sites.suggest_sites(context, sites.SiteRequest())
    suggest_s = time.perf_counter() - started
    scenario = ScenarioIn.model_validate(
        {"name": "ba-truong-moi", "changes": suggestion.scenario_changes()}
    )
    started = time.perf_counter()
    document = evaluate_scenario(context, scenario, as_of=TODAY).document()
    baseline = evaluate_scenario(context, ScenarioIn(name="baseline"), as_of=TODAY).document()
    compared = compare_documents(baseline, [(1, document)])
    compare_s = time.perf_counter() - started
    return {
        "suggest_s": round(suggest_s, 3),
        "evaluate_and_compare_s": round(compare_s, 3),
        "suggestion": suggestion.answer().model_dump(mode="json"),
        "baseline": compared.baseline.figures,
        "scenario": compared.scenarios[0].figures,
        "change": compared.scenarios[0].change,
        "moved_children": compared.scenarios[0].moved_children,
        "spare_seats_2027": [
            baseline.forecast[0].spare_seats_central,
            document.forecast[0].spare_seats_central,
        ],
    }


def _print(report: dict[str, Any]) -> None:
    print(f"context: {report['context_s']:.2f} s cold, {report['context_warm_s']:.2f} s warm")
    print(
        f"\n{'scenario':<32} {'distances s':>11} {'zones s':>8} {'forecast s':>10}"
        f" {'total s':>8} {'max s':>6} {'mean walk m':>11} {'no seat':>8} {'< 3 s':>6}"
    )
    for row in report["evaluations"]:
        print(
            f"{row['scenario']:<32} {row['distances_s']:>11.3f} {row['zones_s']:>8.3f}"
            f" {row['forecast_s']:>10.3f} {row['total_s']:>8.3f} {row['max_total_s']:>6.3f}"
            f" {row['mean_walk_m']:>11.1f} {row['without_seat']:>8.1f}"
            f" {'yes' if row['within_target'] else 'NO':>6}"
        )
    run = report["suggested_sites"]
    answer = run["suggestion"]
    print(
        f"\nsuggested sites: k=3 of {answer['candidates']} in {run['suggest_s']:.1f} s"
        f" (solve {answer['seconds']['solve']:.1f} s, {answer['status']}, proven gap"
        f" {100 * answer['gap']:.4f} %); evaluate + compare {run['evaluate_and_compare_s']:.2f} s"
    )
    print(f"{'figure':<28} {'baseline':>12} {'3 new schools':>14} {'change':>10}")
    for figure, value in run["baseline"].items():
        after, change = run["scenario"][figure], run["change"][figure]
        print(f"{figure:<28} {value:>12.3f} {after:>14.3f} {change:>+10.3f}")
    print(f"children changing zone: {run['moved_children']:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(data_dir=Path(folder), database_url=None)
        engine = open_engine(settings)
        prepare_store(engine, settings)
        with Session(engine) as session:
            district_net = NetworkCache(settings).for_district(session)
            cache = ZoningCache()
            started = time.perf_counter()
            context = planning_context(
                session, district_net, cache, class_size_cap=settings.class_size_cap, today=TODAY
            )
            context_s = time.perf_counter() - started
            started = time.perf_counter()
            planning_context(
                session, district_net, cache, class_size_cap=settings.class_size_cap, today=TODAY
            )
            warm_s = time.perf_counter() - started
            report: dict[str, Any] = {
                "machine": {
                    "python": platform.python_version(),
                    "processor": platform.processor() or platform.machine(),
                },
                "repeats": args.repeats,
                "context_s": round(context_s, 3),
                "context_warm_s": round(warm_s, 3),
                "evaluations": _evaluations(context, args.repeats),
                "suggested_sites": _suggested(context),
            }
        engine.dispose()
    _print(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "scenarios.json"
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
