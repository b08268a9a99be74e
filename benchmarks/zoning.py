"""Benchmark admission zoning: each method on the bundled district and on a city-sized case.

Run from the repository root::

    .venv/bin/python benchmarks/zoning.py          # the bundled district (Quận 3)
    .venv/bin/python benchmarks/zoning.py --city   # + central Ho Chi Minh City

Cases
-----
district
    Quận 3 through the service (``gis_service.zones``) on a fresh SpatiaLite store: the
    2019 census cohort spread over the streets (694 demand points), the 7 OSM primary
    schools with the assumed 8 first-grade classes each, walking costs. The inputs
    (demand points, cost matrices, neighbours) are built once ("geography", timed cold),
    then every method is computed on them ("distances cached"): the target is under 2 s
    for the capacity-aware zones. Also run with seats fitted to the cohort (5 % spare,
    in proportion), where the capacity binds without a shortage.
city
    The city-sized extract of the routing benchmark (central Ho Chi Minh City),
    ``--points`` demand points and ``--schools`` schools sampled with ``--seed`` along the
    walkable roads, children per point drawn from a gamma distribution and seats set to
    ``--capacity-ratio`` times the children; costs are the walking distances to each
    point's ``--nearest`` nearest schools (a point is never zoned farther away), neighbours
    the Delaunay pairs up to ``--max-link-m``. Target: under 2 minutes for the
    capacity-aware zones. Seats are the same at every school, wherever it is (a stress
    case: zones stretch far to fill them); the case is run again with seats planned for
    each school's neighbourhood (whole classes of 35 for the children nearest to it, with
    the same spare share), and the nearest-school zones' own enclaves are counted (what
    the sample's neighbours allow when no capacity bends the zones).

Checks (printed and stored): the capacity-aware zoning before contiguity repairs is within
0.1 % of the transportation optimum's lower bound (``within_target``) and leaves no more
children above capacity than the optimum (``extra_overflow_children``; ``certified`` when
both hold); ``within_target_after_contiguity`` asks the same of the final, contiguous zones
(the bound knows nothing of contiguity, so this also measures what contiguity costs, and
``enclaves`` what it could not have where capacity forbids); with seats equal to the loads of the
ward-based zones (so that they respect them), the capacity-aware zones are never longer.
The transportation problem is solved by both SciPy's HiGHS and networkx's network simplex
(time and optimum compared). Results print as a table and go to
``benchmarks/results/zoning.json``.
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

import geopandas as gpd
import numpy as np
import shapely
from sqlalchemy.orm import Session

import enrolment
import routing
from enrolment import _transport
from gis_service.networks import NetworkCache
from gis_service.settings import Settings
from gis_service.startup import open_engine, prepare_store
from gis_service.zones import compute as service
from gis_service.zones import geography as geography_service
from routing.network import BuildOptions, RoadNetwork

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "hcmc-district3"
RESULTS = ROOT / "benchmarks" / "results"
METRIC_CRS = "EPSG:32648"
TARGET_GAP = 1e-3
#: Pupils per first-grade class, for the city case's planned seats.
CLASS_SIZE = 35.0


def _seconds(start: float) -> float:
    return round(time.perf_counter() - start, 3)


def _solver_comparison(
    cost: np.ndarray, children: np.ndarray, seats: np.ndarray, *, simplex: bool
) -> dict[str, Any]:
    highs = _transport.solve_transport(cost, children, seats, solver="highs")
    row: dict[str, Any] = {
        "pairs": int(highs.point.size),
        "highs_s": round(highs.seconds, 3),
        "highs_lower_bound_m": round(highs.lower_bound_m, 1),
    }
    if simplex:
        flow = _transport.solve_transport(cost, children, seats, solver="network_simplex")
        row["network_simplex_s"] = round(flow.seconds, 3)
        row["network_simplex_distance_m"] = round(flow.distance_m, 1)
        row["relative_difference"] = (
            abs(flow.distance_m - highs.distance_m) / max(highs.distance_m, 1.0)
            if abs(flow.overflow.sum() - highs.overflow.sum()) < 1e-2
            else None
        )
    return row


def _optimal_row(zoning: enrolment.Zoning, seconds: float) -> dict[str, Any]:
    report = zoning.solve
    assert report is not None
    overflow = float(np.clip(zoning.school_children() - zoning.seats, 0, None).sum())
    unrouted = float(zoning.children[zoning.assigned & ~zoning.routed].sum())
    gap_after = (zoning.total_distance_m - report.lower_bound_m) / max(report.lower_bound_m, 1.0)
    return {
        "seconds": seconds,
        "lp_s": round(report.lp_seconds, 3),
        "rounding_s": round(report.rounding_seconds, 3),
        "contiguity_s": round(report.contiguity_seconds, 3),
        "rounding": report.rounding,
        "lower_bound_m": round(report.lower_bound_m, 1),
        "rounded_distance_m": round(report.rounded_distance_m, 1),
        "gap_before_contiguity": report.rounding_gap,
        "gap_after_contiguity": gap_after,
        "within_target": report.rounding_gap <= TARGET_GAP,
        "within_target_after_contiguity": gap_after <= TARGET_GAP,
        "rounding_method": report.rounding_method,
        "certified": report.rounding == "certified",
        "shortfall_children": round(float(zoning.shortfall.sum()), 3),
        "lp_overflow_children": round(report.lp_overflow_children, 3),
        # children zoned without a route (by straight line) are outside the optimum
        "no_route_children": round(unrouted, 3),
        "extra_overflow_children": round(
            max(0.0, overflow - report.lp_overflow_children - unrouted), 3
        ),
        "enclaves": len(zoning.breaks),
    }


def district_case(*, simplex: bool) -> dict[str, Any]:
    """Quận 3 through the service, cold geography then every method."""
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(data_dir=Path(folder), database_url=None)
        engine = open_engine(settings)
        started = time.perf_counter()
        prepare_store(engine, settings)
        result["store_s"] = _seconds(started)
        with Session(engine) as session:
            started = time.perf_counter()
            district_net = NetworkCache(settings).for_district(session)
            result["network_s"] = _seconds(started)
            manifest = geography_service.read_zoning_manifest(
                geography_service.bundled_zoning_manifest()
            )
            started = time.perf_counter()
            geography = geography_service.ZoningCache().geography(session, district_net, manifest)
            result["geography_s"] = _seconds(started)
            result["geography_parts_s"] = {k: round(v, 3) for k, v in geography.seconds.items()}
        engine.dispose()
    result["demand_points"] = len(geography.points)
    result["schools"] = len(geography.schools)
    cost = geography.costs["walk"].distance_m
    children = geography.points["children"].to_numpy()
    methods: dict[str, Any] = {}
    zonings: dict[str, enrolment.Zoning] = {}
    for method in enrolment.METHODS:
        started = time.perf_counter()
        computed = service.compute_zoning(geography, service.ZoningOptions(method=method))
        methods[method] = {
            "seconds_with_polygons": _seconds(started),
            "total_distance_m": round(computed.zoning.total_distance_m, 1),
            "shortfall_children": round(float(computed.zoning.shortfall.sum()), 3),
            "enclaves": len(computed.zoning.breaks),
        }
        zonings[method] = computed.zoning
        if method == "optimal":
            methods[method].update(
                _optimal_row(computed.zoning, methods[method]["seconds_with_polygons"])
            )
    result["methods"] = methods
    seats = zonings["optimal"].seats
    result["transport_solvers"] = _solver_comparison(cost, children, seats, simplex=simplex)
    fitted = seats / seats.sum() * children.sum() * 1.05
    started = time.perf_counter()
    tight = enrolment.optimal_zones(
        cost, children=children, seats=fitted, neighbours=geography.neighbours
    )
    result["fitted_seats"] = _optimal_row(tight, _seconds(started))
    result["fitted_seats"]["over_capacity_schools"] = int(
        (tight.school_children() > fitted + 1e-6).sum()
    )
    ward = zonings["ward"]
    same = np.maximum(ward.school_children(), 0.0)
    started = time.perf_counter()
    versus = enrolment.optimal_zones(cost, children=children, seats=same)
    result["versus_ward_same_capacities"] = {
        "seconds": _seconds(started),
        "ward_distance_m": round(ward.total_distance_m, 1),
        "optimal_distance_m": round(versus.total_distance_m, 1),
        "never_worse": versus.total_distance_m <= ward.total_distance_m * (1 + 1e-9),
    }
    return result


def _load(name: str) -> RoadNetwork:
    options = BuildOptions(crs=METRIC_CRS)
    return routing.load_network(DATA / "roads" / name, cache_dir=RESULTS / "cache", options=options)


def _sample_on_roads(network: RoadNetwork, count: int, rng: np.random.Generator) -> np.ndarray:
    arcs = network.mode_graph_arrays("walk")
    twin = network.edge_twin
    canonical = (twin < 0) | (np.arange(network.n_edges) < twin)
    usable = np.flatnonzero(arcs.edge_forward & canonical & ~network.edge_ferry)
    weights = network.edge_length_m[usable] / network.edge_length_m[usable].sum()
    edges = rng.choice(usable, size=count, p=weights)
    lines = network.edge_geometries()[edges]
    return shapely.get_coordinates(
        shapely.line_interpolate_point(lines, rng.random(count), normalized=True)
    )


def city_case(args: argparse.Namespace) -> dict[str, Any]:
    """Central HCMC: sampled points and schools, k nearest schools per point."""
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    network = _load("hcm_2018_central_highways.osm.bz2")
    result: dict[str, Any] = {"network_s": _seconds(started), "nodes": network.n_nodes}
    homes = _sample_on_roads(network, args.points, rng)
    schools = _sample_on_roads(network, args.schools, rng)
    children = rng.gamma(2.0, 1.0, args.points)
    seats = np.full(args.schools, children.sum() * args.capacity_ratio / args.schools)
    started = time.perf_counter()
    nearest = routing.nearest_destinations(
        network, "walk", origins=homes, destinations=schools, k=args.nearest
    )
    cost = np.full((args.points, args.schools), np.inf)
    rows, ranks = np.nonzero(nearest.destination >= 0)
    cost[rows, nearest.destination[rows, ranks]] = nearest.length_m[rows, ranks]
    result["costs_s"] = _seconds(started)
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(homes[:, 0], homes[:, 1]), crs=METRIC_CRS)
    started = time.perf_counter()
    pairs = enrolment.neighbour_pairs(points, max_link_m=args.max_link_m)
    result["neighbours_s"] = _seconds(started)
    result.update(points=args.points, schools=args.schools, nearest=args.nearest)
    started = time.perf_counter()
    near = enrolment.nearest_zones(cost, children=children, seats=seats, neighbours=pairs)
    result["nearest"] = {
        "seconds": _seconds(started),
        "total_distance_m": round(near.total_distance_m, 1),
        # contiguity breaks of zones that no capacity bends: what the sample's neighbours
        # allow at best
        "enclaves": len(near.breaks),
        "enclave_children": round(sum(b.children for b in near.breaks), 1),
    }
    started = time.perf_counter()
    optimal = enrolment.optimal_zones(cost, children=children, seats=seats, neighbours=pairs)
    result["optimal"] = _optimal_row(optimal, _seconds(started))
    # seats planned for each school's own neighbourhood: whole classes for its nearest
    # children plus the same spare share
    catchment = near.school_children()
    planned = CLASS_SIZE * np.maximum(1.0, np.round(catchment * args.capacity_ratio / CLASS_SIZE))
    started = time.perf_counter()
    sized = enrolment.optimal_zones(cost, children=children, seats=planned, neighbours=pairs)
    result["optimal_planned_seats"] = _optimal_row(sized, _seconds(started))
    result["transport_solvers"] = _solver_comparison(
        cost, children, seats, simplex=not args.no_simplex
    )
    return result


def _print(name: str, case: dict[str, Any]) -> None:
    print(f"\n== {name}")
    for key, value in case.items():
        if isinstance(value, dict):
            print(f"  {key}:")
            for inner, item in value.items():
                print(f"    {inner:<32} {item}")
        else:
            print(f"  {key:<34} {value}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--city", action="store_true", help="also run the city-sized case")
    parser.add_argument("--points", type=int, default=20_000)
    parser.add_argument("--schools", type=int, default=300)
    parser.add_argument("--nearest", type=int, default=12)
    parser.add_argument("--capacity-ratio", type=float, default=1.05)
    parser.add_argument("--max-link-m", type=float, default=1_000.0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--no-simplex", action="store_true", help="skip network simplex")
    args = parser.parse_args()
    report: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "processor": platform.processor() or platform.machine(),
            "scipy": version("scipy"),
            "networkx": version("networkx"),
        },
        "district": district_case(simplex=not args.no_simplex),
    }
    _print("district (Quận 3)", report["district"])
    if args.city:
        report["city"] = city_case(args)
        _print("city (central Ho Chi Minh City)", report["city"])
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "zoning.json"
    out.write_text(json.dumps(report, indent=2, default=float), encoding="utf-8")
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
