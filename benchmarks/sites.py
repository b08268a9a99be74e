"""Benchmark site suggestion for new schools: capacitated p-median and maximal covering.

Run from the repository root::

    .venv/bin/python benchmarks/sites.py               # Quận 3: main runs and formulations
    .venv/bin/python benchmarks/sites.py --quick       # the main runs only
    .venv/bin/python benchmarks/sites.py --reference   # + the unrestricted model (minutes)
    .venv/bin/python benchmarks/sites.py --dense 5000  # + 5,000 demand points

Instance
--------
Quận 3 through the service (``gis_service.zones.geography.build_geography`` on a fresh SpatiaLite
store, as ``benchmarks/zoning.py``): the 2019 census cohort spread over the streets
(694 demand points), the 7 OSM primary schools with the assumed 8 first-grade classes x
35 seats each, walking distances. Candidate sites: a square grid over the district
(random offset, ``--seed``), each grid point moved to the nearest walking-network node
on a residential street (``residential``, ``living_street``, ``unclassified`` or
``service``: the alleys) within half a grid step; the grid step is the largest (in 5 %
steps) that gives at least ``--candidates`` distinct nodes inside the district, of which
``--candidates`` are drawn. Walking distances from every demand point to every candidate
are computed once (``routing.cost_matrix``). Each new school has 8 classes x 35 seats.

Runs
----
``p_median``
    ``k = 3`` new schools, default options (strong formulation, 50 nearest candidates
    per point, 0.1 % gap, 60 s). Targets: under 60 s, proven gap under 1 %.
``max_covering``
    The classic model, norm 1,000 m, ``k = 3``.
``max_covering_capacitated``
    The same with seats (a covered child needs a seat within 1,000 m).
``formulations``
    The p-median with each formulation (strong, aggregated) and restriction (25, 50, 100
    nearest candidates), 60 s each: time, size, candidates fixed by the Lagrangian bound,
    proven gap, objective and the sites chosen.
``reference`` (``--reference``)
    The unrestricted p-median (every pair with a route), 900 s: the sites and distance
    the restriction is measured against.
``dense`` (``--dense N``)
    ``N`` demand points: the 694 and ``N - 694`` drawn on residential-street nodes
    (seeded), each demand point's children shared equally with the drawn points nearest
    to it; p-median with each formulation and 25 or 50 nearest candidates, 60 s each.

For each main run: time, status, proven gap, the candidates chosen (with lon/lat), and
before (existing schools only) / after (with the sites chosen): mean distance of the
children seated and children without a seat, both from the transportation optimum on the
open schools over every pair (so without the restriction), and children within 1 km and
2 km walking of an open school. Results print as tables and go to
``benchmarks/results/sites.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
from scipy.spatial import cKDTree
from sqlalchemy.orm import Session

import enrolment
import routing
from gis_service.networks import DistrictNetwork, NetworkCache
from gis_service.planning import sites as sites_service
from gis_service.settings import DEFAULT_CLASS_SIZE_CAP, Settings
from gis_service.startup import open_engine, prepare_store
from gis_service.zones import geography as service

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
NEW_SCHOOLS = 3
NEW_SCHOOL_SEATS = 8 * DEFAULT_CLASS_SIZE_CAP
NORM_M = 1_000.0
TARGET_SECONDS = 60.0
TARGET_GAP = 0.01
NEAREST = (25, 50, 100)
DENSE_NEAREST = (25, 50)
REFERENCE_SECONDS = 900.0


def _seconds(start: float) -> float:
    return round(time.perf_counter() - start, 3)


def _geography() -> tuple[service.Geography, dict[str, float]]:
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(data_dir=Path(folder), database_url=None)
        engine = open_engine(settings)
        started = time.perf_counter()
        prepare_store(engine, settings)
        timings["store_s"] = _seconds(started)
        with Session(engine) as session:
            started = time.perf_counter()
            district_net = NetworkCache(settings).for_district(session)
            timings["network_s"] = _seconds(started)
            manifest = service.read_zoning_manifest(service.bundled_zoning_manifest())
            started = time.perf_counter()
            geography = service.build_geography(session, district_net, manifest)
            timings["geography_s"] = _seconds(started)
        engine.dispose()
    return geography, timings


def _proof(solution: enrolment.SiteSolution) -> dict[str, Any]:
    return {
        "seconds": round(solution.seconds, 3),
        "status": solution.status,
        "gap": solution.gap,
        "objective": round(solution.objective, 1),
        "bound": round(solution.bound, 1),
        "variables": solution.n_variables,
        "constraints": solution.n_constraints,
        "fixed_sites": solution.fixed_sites,
        "chosen": solution.opened.tolist(),
        "model_mean_distance_m": round(solution.mean_distance_m, 1),
        "model_unserved_children": round(solution.unserved_children, 2),
    }


def _run(
    solution: enrolment.SiteSolution,
    *,
    cost: np.ndarray,
    children: np.ndarray,
    seats: np.ndarray,
    lonlat: np.ndarray,
) -> dict[str, Any]:
    n_existing = cost.shape[1] - lonlat.shape[0]
    existing = np.arange(n_existing)
    row = _proof(solution)
    row["chosen"] = [
        {"candidate": int(c), "lon": round(lon, 6), "lat": round(lat, 6)}
        for c, (lon, lat) in zip(solution.opened, lonlat[solution.opened], strict=True)
    ]
    row["before"] = sites_service.access_figures(cost, children, seats, existing)
    opened = np.concatenate([existing, n_existing + solution.opened])
    row["after"] = sites_service.access_figures(cost, children, seats, opened)
    row["within_target"] = solution.seconds < TARGET_SECONDS and solution.gap < TARGET_GAP
    return row


def _variant(
    cost: np.ndarray,
    children: np.ndarray,
    sites: enrolment.Sites,
    options: enrolment.SiteOptions,
) -> dict[str, Any]:
    solution = enrolment.p_median_sites(
        cost, children, sites=sites, new_schools=NEW_SCHOOLS, options=options
    )
    return {
        "formulation": options.formulation,
        "nearest": options.nearest,
        **_proof(solution),
        "distance_m": round(solution.total_distance_m, 1),
    }


def dense_points(
    district_net: DistrictNetwork,
    points_xy: np.ndarray,
    children: np.ndarray,
    count: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """The demand points plus points on residential-street nodes sharing their children."""
    network = district_net.network
    streets = sites_service.residential_nodes(network)
    nodes = rng.choice(streets, size=count - len(points_xy), replace=False)
    drawn = np.column_stack([network.node_x[nodes], network.node_y[nodes]])
    _, parent = cKDTree(points_xy).query(drawn)
    share = 1 + np.bincount(parent, minlength=len(points_xy))
    xy = np.vstack([points_xy, drawn])
    weights = np.concatenate([children / share, children[parent] / share[parent]])
    return xy, weights


def district_case(args: argparse.Namespace) -> dict[str, Any]:
    """Quận 3: demand points, schools, sampled candidates; every run."""
    geography, timings = _geography()
    result: dict[str, Any] = {**timings}
    district_net = geography.district_net
    started = time.perf_counter()
    sites_xy, step = sites_service.grid_candidates(district_net, args.candidates, seed=args.seed)
    result["candidates_s"] = _seconds(started)
    result["grid_step_m"] = round(step, 1)
    points_xy = service.points_xy(geography.points)
    started = time.perf_counter()
    matrix = routing.cost_matrix(
        district_net.network, "walk", origins=points_xy, destinations=sites_xy
    )
    result["candidate_costs_s"] = _seconds(started)
    cost = np.hstack([geography.costs["walk"].distance_m, matrix.dense("length_m")])
    children = geography.points["children"].to_numpy(dtype=np.float64)
    estimate = enrolment.first_grade_seats(
        [s.first_grade_classes for s in geography.schools],
        [s.class_size_cap for s in geography.schools],
    )
    sites = enrolment.Sites(
        existing_seats=estimate.seats,
        candidate_seats=np.full(args.candidates, float(NEW_SCHOOL_SEATS)),
    )
    lon, lat = district_net.network.xy_to_lonlat(sites_xy[:, 0], sites_xy[:, 1])
    figures = {
        "cost": cost,
        "children": children,
        "seats": sites.seats,
        "lonlat": np.column_stack([lon, lat]),
    }
    result.update(
        demand_points=int(cost.shape[0]),
        children=round(float(children.sum()), 1),
        schools=sites.n_existing,
        existing_seats=float(sites.existing_seats.sum()),
        seats_note=estimate.describe(),
        candidates=args.candidates,
        new_schools=NEW_SCHOOLS,
        new_school_seats=NEW_SCHOOL_SEATS,
    )
    runs: dict[str, Any] = {}
    solution = enrolment.p_median_sites(cost, children, sites=sites, new_schools=NEW_SCHOOLS)
    runs["p_median"] = _run(solution, **figures)
    for name, capacitated in (("max_covering", False), ("max_covering_capacitated", True)):
        solution = enrolment.max_covering_sites(
            cost,
            children,
            sites=sites,
            new_schools=NEW_SCHOOLS,
            norm_m=NORM_M,
            capacitated=capacitated,
        )
        assert solution.baseline is not None
        runs[name] = _run(solution, **figures)
        runs[name]["covered_before"] = round(solution.baseline.objective, 1)
        runs[name]["covered_after"] = round(solution.objective, 1)
    result["runs"] = runs
    if not args.quick:
        result["formulations"] = [
            _variant(cost, children, sites, enrolment.SiteOptions(nearest=n, formulation=f))
            for f in enrolment.location.FORMULATIONS
            for n in NEAREST
        ]
    if args.reference:
        options = enrolment.SiteOptions(nearest=None, time_limit_s=REFERENCE_SECONDS)
        result["reference"] = _variant(cost, children, sites, options)
    if args.dense:
        result["dense"] = _dense_case(args, geography, points_xy, sites_xy, sites)
    return result


def _dense_case(
    args: argparse.Namespace,
    geography: service.Geography,
    points_xy: np.ndarray,
    sites_xy: np.ndarray,
    sites: enrolment.Sites,
) -> dict[str, Any]:
    district_net = geography.district_net
    children = geography.points["children"].to_numpy(dtype=np.float64)
    rng = np.random.default_rng(args.seed + 1)
    xy, weights = dense_points(district_net, points_xy, children, args.dense, rng)
    started = time.perf_counter()
    schools_xy = np.vstack([district_net.schools_xy(list(geography.schools)), sites_xy])
    matrix = routing.cost_matrix(district_net.network, "walk", origins=xy, destinations=schools_xy)
    cost = matrix.dense("length_m")
    return {
        "demand_points": int(cost.shape[0]),
        "children": round(float(weights.sum()), 1),
        "costs_s": _seconds(started),
        "variants": [
            _variant(cost, weights, sites, enrolment.SiteOptions(nearest=n, formulation=f))
            for f in enrolment.location.FORMULATIONS
            for n in DENSE_NEAREST
        ],
    }


def _pair(before: dict[str, float], after: dict[str, float], key: str) -> str:
    return f"{before[key]:.0f} -> {after[key]:.0f}"


def _variants_table(rows: list[dict[str, Any]]) -> None:
    print(
        f"{'formulation':<11} {'nearest':>7} {'variables':>9} {'rows':>7} {'fixed':>5}"
        f" {'s':>6} {'status':<10} {'gap %':>6} {'child-m':>10} chosen"
    )
    for row in rows:
        print(
            f"{row['formulation']:<11} {row['nearest']!s:>7} {row['variables']:>9}"
            f" {row['constraints']:>7} {row['fixed_sites']:>5} {row['seconds']:>6.1f}"
            f" {row['status']:<10} {100 * row['gap']:>6.3f} {row['distance_m']:>10.0f}"
            f" {row['chosen']}"
        )


def _print(case: dict[str, Any]) -> None:
    print("\n== district (Quận 3)")
    for key, value in case.items():
        if not isinstance(value, dict | list):
            print(f"  {key:<20} {value}")
    print(
        f"\n{'run':<25} {'s':>6} {'gap %':>6} {'chosen':<12} {'mean m':>11} {'no seat':>10}"
        f" {'<= 1 km':>13} {'<= 2 km':>13}"
    )
    for name, run in case["runs"].items():
        before, after = run["before"], run["after"]
        chosen = ",".join(str(c["candidate"]) for c in run["chosen"])
        print(
            f"{name:<25} {run['seconds']:>6.2f} {100 * run['gap']:>6.3f} {chosen:<12}"
            f" {_pair(before, after, 'mean_distance_m'):>11}"
            f" {_pair(before, after, 'unserved_children'):>10}"
            f" {_pair(before, after, 'within_1000m'):>13}"
            f" {_pair(before, after, 'within_2000m'):>13}"
        )
    if "formulations" in case:
        print("\nformulations and restrictions (p-median, 60 s each)")
        _variants_table(case["formulations"])
    if "reference" in case:
        print(f"\nunrestricted reference ({REFERENCE_SECONDS:.0f} s)")
        _variants_table([case["reference"]])
    if "dense" in case:
        dense = case["dense"]
        print(f"\ndense: {dense['demand_points']} demand points, {dense['children']} children")
        _variants_table(dense["variants"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=500)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--quick", action="store_true", help="the main runs only")
    parser.add_argument("--reference", action="store_true", help="the unrestricted model")
    parser.add_argument("--dense", type=int, default=0, help="also this many demand points")
    args = parser.parse_args()
    report: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "processor": platform.processor() or platform.machine(),
            "scipy": version("scipy"),
        },
        "seed": args.seed,
        "district": district_case(args),
    }
    _print(report["district"])
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "sites.json"
    out.write_text(json.dumps(report, indent=2, default=float), encoding="utf-8")
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
