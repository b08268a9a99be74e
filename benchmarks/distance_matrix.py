"""Benchmark the origin x school distance matrix: the routing engine, scipy and networkx.

Run from the repository root::

    .venv/bin/python benchmarks/distance_matrix.py          # the bundled district (Quận 3)
    .venv/bin/python benchmarks/distance_matrix.py --city   # + central Ho Chi Minh City

Cases
-----
district
    The registered extract of Quận 3 (+1 km), its OSM schools inside the district boundary
    against the centroids of all its mapped buildings, full matrix (no cutoff).
city
    The city-sized extract of central Ho Chi Minh City; ``--schools`` school points and
    ``--origins`` origins sampled with ``--seed`` uniformly along the roads open to the
    mode (random lateral offset up to 30 m), ``--cutoff-m`` cutoff (5 km).

Methods, timed in the same run on the same graph and the same snapped points:

engine
    ``routing.cost_matrix`` (compiled Dijkstra per school over CSR arrays, threads,
    sparse output of the reachable pairs only).
scipy
    one call of ``scipy.sparse.csgraph.dijkstra(indices=schools, limit=cutoff)`` on the
    reversed graph with one virtual node per school, then the origins' costs read from its
    dense ``schools x nodes`` result.
networkx
    ``networkx.single_source_dijkstra_path_length`` per school (cutoff) on the same
    reversed graph with virtual school nodes, then the same gather.

Snapping is timed separately (same for all). Each method runs ``--repeat`` times (networkx
once): the table gives the median, the first ("cold": fresh memory, page faults) and the
best wall-clock seconds, and the median CPU seconds of the process (summed over threads; on
a shared machine, CPU seconds are what other work does not inflate). Peak memory is the
largest resident set size seen during the first run, minus the size just before it
(sampled every 2 ms). The load average is printed first: other work on the machine slows
every method. Results print as a table and go to ``benchmarks/results/distance_matrix.json``.

The reload of the district network from its cache (what every service start and every
worker does) is timed ``--repeat`` times as well, against its budget of half a second.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import scipy.sparse as sp
import shapely
from scipy.sparse import csgraph

import routing
from routing._legs import Legs, direct_pairs, point_legs
from routing.network import BuildOptions, RoadNetwork

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "hcmc-district3"
RESULTS = ROOT / "benchmarks" / "results"
METRIC_CRS = "EPSG:32648"
DISTRICT_EXTRACT = "district3_2018_highways.osm.bz2"
#: How long reading the district network back from its cache may take (seconds).
RELOAD_BUDGET_S = 0.5


# --- measuring -------------------------------------------------------------------------


def _rss_bytes() -> int:
    with Path("/proc/self/statm").open() as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakMemory:
    """Sample the resident set size in a thread while a block runs."""

    def __init__(self) -> None:
        self.start = 0
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss_bytes())
            time.sleep(0.002)

    def __enter__(self) -> PeakMemory:
        self.start = _rss_bytes()
        self.peak = self.start
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_bytes())

    @property
    def delta_mb(self) -> float:
        return (self.peak - self.start) / 2**20


@dataclass
class Measure:
    """Wall-clock seconds of each run (the first is cold), CPU seconds, pairs, memory."""

    method: str
    seconds: list[float]
    cpu_seconds: list[float]
    pairs: int
    peak_mb: float
    peak_rss_mb: float
    notes: str = ""
    max_abs_diff_m: float | None = None
    same_pairs: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def median_s(self) -> float:
        return statistics.median(self.seconds)

    @property
    def best_s(self) -> float:
        return min(self.seconds)

    @property
    def median_cpu_s(self) -> float:
        return statistics.median(self.cpu_seconds)


def _timed(
    function: Callable[[], Any], repeat: int
) -> tuple[Any, list[float], list[float], PeakMemory]:
    """Run ``function`` ``repeat`` times; memory is sampled during the first (cold) run."""
    seconds: list[float] = []
    cpu: list[float] = []
    result = None
    memory = PeakMemory()
    for run in range(repeat):
        result = None
        with memory if run == 0 else contextlib.nullcontext():
            start, start_cpu = time.perf_counter(), time.process_time()
            result = function()
            seconds.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
    return result, seconds, cpu, memory


# --- data ------------------------------------------------------------------------------


def load(name: str, *, simplify: bool) -> RoadNetwork:
    options = BuildOptions(crs=METRIC_CRS, simplify=simplify)
    return routing.load_network(DATA / "roads" / name, cache_dir=RESULTS / "cache", options=options)


def time_reload(name: str, repeat: int) -> dict[str, Any]:
    """Time ``repeat`` loads of the network ``name`` from its cache (built before)."""
    _, seconds, cpu, _ = _timed(lambda: load(name, simplify=True), repeat)
    return {
        "extract": name,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "median_s": statistics.median(seconds),
        "cold_s": seconds[0],
        "best_s": min(seconds),
        "median_cpu_s": statistics.median(cpu),
        "budget_s": RELOAD_BUDGET_S,
        "within_budget": statistics.median(seconds) < RELOAD_BUDGET_S,
    }


def print_reload(reload: dict[str, Any]) -> None:
    """Print the reload of the cached network: median, cold, best and CPU seconds, budget."""
    header = f"{'reload':<19}{'median s':>9}{'cold s':>8}{'best s':>8}{'cpu s':>8}  budget"
    print(header)
    print("-" * len(header))
    verdict = "within" if reload["within_budget"] else "OVER"
    print(
        f"{'district cache':<19}{reload['median_s']:9.3f}{reload['cold_s']:8.3f}"
        f"{reload['best_s']:8.3f}{reload['median_cpu_s']:8.2f}  "
        f"{verdict} {reload['budget_s']} s"
    )


def district_points(network: RoadNetwork) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    boundary = gpd.read_file(f"/vsigzip/{DATA / 'wards' / 'district3_boundary.geojson.gz'}")
    schools = gpd.read_file(
        f"/vsigzip/{DATA / 'schools' / 'schools_osm_2018_central_hcmc.geojson.gz'}"
    ).to_crs(boundary.crs)
    inside = schools[schools.within(boundary.union_all())]
    buildings = ox.features_from_xml(
        DATA / "roads" / "district3_2018_full.osm.bz2", tags={"building": True}
    )
    buildings = buildings[buildings.geometry.notna()]
    school_xy = inside.to_crs(network.crs).geometry.representative_point()
    home_xy = buildings.to_crs(network.crs).geometry.representative_point()
    return (
        np.column_stack([home_xy.x, home_xy.y]),
        np.column_stack([school_xy.x, school_xy.y]),
        {"schools": "OSM schools inside the district", "origins": "building centroids"},
    )


def sample_on_roads(
    network: RoadNetwork, mode: str, count: int, rng: np.random.Generator
) -> np.ndarray:
    """Points uniformly along the roads open to ``mode``, moved up to 30 m sideways."""
    arcs = network.mode_graph_arrays(mode)
    twin = network.edge_twin
    canonical = (twin < 0) | (np.arange(network.n_edges) < twin)
    usable = np.flatnonzero(arcs.edge_forward & canonical & ~network.edge_ferry)
    weights = network.edge_length_m[usable] / network.edge_length_m[usable].sum()
    edges = rng.choice(usable, size=count, p=weights)
    fractions = rng.random(count)
    lines = network.edge_geometries()[edges]
    points = shapely.get_coordinates(
        shapely.line_interpolate_point(lines, fractions, normalized=True)
    )
    angle = rng.random(count) * 2 * np.pi
    radius = rng.random(count) * 30.0
    return points + np.column_stack([np.cos(angle), np.sin(angle)]) * radius[:, None]


# --- baselines -------------------------------------------------------------------------


@dataclass
class Reversed:
    """The reversed mode graph with one virtual node per school (index n + school)."""

    n_nodes: int
    rows: np.ndarray
    cols: np.ndarray
    weights: np.ndarray
    exits: Legs
    direct: Any


def reversed_with_schools(network: RoadNetwork, mode: str, origins: Any, schools: Any) -> Reversed:
    arcs = network.mode_graph_arrays(mode)
    entering = point_legs(schools, network, arcs, leaving=False)
    leaving = point_legs(origins, network, arcs, leaving=True)
    n = network.n_nodes
    school_of_leg = entering.point_of_leg()
    rows = np.concatenate([arcs.arc_head, n + school_of_leg]).astype(np.int64)
    cols = np.concatenate([arcs.arc_tail, entering.node]).astype(np.int64)
    weights = np.concatenate([arcs.arc_length_m, entering.length_m])
    direct = direct_pairs(origins, schools, network, arcs)
    return Reversed(n + len(schools), rows, cols, weights, leaving, direct)


def gather(
    distance_rows: Callable[[int, int], np.ndarray],
    graph: Reversed,
    n_schools: int,
    cutoff: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Origin costs from per-school node distances: min over each origin's exits."""
    exits = graph.exits
    count = np.diff(exits.ptr)
    has_one = np.flatnonzero(count >= 1)
    has_two = np.flatnonzero(count == 2)
    first_leg = exits.ptr[has_one]
    second_leg = exits.ptr[has_two] + 1
    n_origins = count.shape[0]
    out_s, out_o, out_d = [], [], []
    block = 50
    for first in range(0, n_schools, block):
        dist = distance_rows(first, min(n_schools, first + block))
        costs = np.full((dist.shape[0], n_origins), np.inf)
        costs[:, has_one] = dist[:, exits.node[first_leg]] + exits.length_m[first_leg]
        costs[:, has_two] = np.minimum(
            costs[:, has_two], dist[:, exits.node[second_leg]] + exits.length_m[second_leg]
        )
        s, o = np.nonzero((costs <= cutoff) & np.isfinite(costs))
        out_s.append(s + first)
        out_o.append(o)
        out_d.append(costs[s, o])
    school = np.concatenate(out_s)
    origin = np.concatenate(out_o)
    length = np.concatenate(out_d)
    return _with_direct(school, origin, length, graph.direct, cutoff)


def _with_direct(
    school: np.ndarray, origin: np.ndarray, length: np.ndarray, direct: Any, cutoff: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    keep = direct.length_m <= cutoff
    school = np.concatenate([school, direct.destination[keep]])
    origin = np.concatenate([origin, direct.origin[keep]])
    length = np.concatenate([length, direct.length_m[keep]])
    order = np.lexsort((length, origin, school))
    school, origin, length = school[order], origin[order], length[order]
    first = np.ones(school.shape[0], dtype=bool)
    first[1:] = (school[1:] != school[:-1]) | (origin[1:] != origin[:-1])
    return school[first], origin[first], length[first]


def run_scipy(graph: Reversed, n_schools: int, cutoff: float, call_seconds: list[float]) -> Any:
    weights = np.maximum(graph.weights, 1e-9)  # scipy drops explicit zeros in sparse input
    order = np.lexsort((weights, graph.cols, graph.rows))
    rows, cols, weights = graph.rows[order], graph.cols[order], weights[order]
    first = np.ones(rows.shape[0], dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    matrix = sp.csr_array(
        (weights[first], (rows[first], cols[first])), shape=(graph.n_nodes, graph.n_nodes)
    )
    n_real = graph.n_nodes - n_schools

    def solve() -> Any:
        start = time.perf_counter()
        dist = csgraph.dijkstra(
            matrix, directed=True, indices=np.arange(n_real, graph.n_nodes), limit=cutoff
        )
        call_seconds.append(time.perf_counter() - start)
        return gather(lambda a, b: dist[a:b], graph, n_schools, cutoff)

    return solve


def run_networkx(graph: Reversed, n_schools: int, cutoff: float) -> Any:
    g = nx.MultiDiGraph()
    g.add_nodes_from(range(graph.n_nodes))
    g.add_weighted_edges_from(
        zip(graph.rows.tolist(), graph.cols.tolist(), graph.weights.tolist(), strict=True),
        weight="length_m",
    )
    n_real = graph.n_nodes - n_schools

    def rows(first: int, stop: int) -> np.ndarray:
        dist = np.full((stop - first, graph.n_nodes), np.inf)
        for i, school in enumerate(range(first, stop)):
            lengths = nx.single_source_dijkstra_path_length(
                g, n_real + school, cutoff=cutoff, weight="length_m"
            )
            nodes = np.fromiter(lengths.keys(), dtype=np.int64, count=len(lengths))
            dist[i, nodes] = np.fromiter(lengths.values(), dtype=float, count=len(lengths))
        return dist

    return lambda: gather(rows, graph, n_schools, cutoff)


# --- one case --------------------------------------------------------------------------


def compare(engine: routing.CostMatrix, other: tuple[np.ndarray, ...]) -> tuple[bool, float]:
    """Return whether both found the same pairs, and the largest length difference (m)."""
    origin, school = engine.pairs()
    ours = school * engine.n_origins + origin
    theirs = other[0].astype(np.int64) * engine.n_origins + other[1]
    order_ours, order_theirs = np.argsort(ours), np.argsort(theirs)
    if ours.shape != theirs.shape or not np.array_equal(ours[order_ours], theirs[order_theirs]):
        return False, float("nan")
    if ours.size == 0:
        return True, 0.0
    diff = np.abs(engine.length_m[order_ours] - other[2][order_theirs])
    return True, float(diff.max())


def run_case(  # noqa: PLR0913
    name: str,
    network: RoadNetwork,
    origins_xy: np.ndarray,
    schools_xy: np.ndarray,
    *,
    mode: str,
    cutoff: float | None,
    repeat: int,
    baselines: set[str],
    workers: int | None,
) -> dict[str, Any]:
    print(
        f"\n[{name}] {network.n_nodes:,} nodes, {network.n_edges:,} edges; "
        f"{len(schools_xy):,} schools x {len(origins_xy):,} origins, mode {mode}, "
        f"cutoff {cutoff if cutoff is not None else 'none'}",
        flush=True,
    )
    start = time.perf_counter()
    schools = routing.snap_points(network, schools_xy, mode=mode)
    origins = routing.snap_points(network, origins_xy, mode=mode, toward=schools)
    snap_s = time.perf_counter() - start
    limit = np.inf if cutoff is None else cutoff
    measures: list[Measure] = []

    def engine() -> routing.CostMatrix:
        return routing.cost_matrix(
            network, mode, origins=origins, destinations=schools, cutoff=cutoff, workers=workers
        )

    matrix, seconds, cpu, memory = _timed(engine, repeat)
    measures.append(
        Measure(
            "engine",
            seconds,
            cpu,
            matrix.n_pairs,
            memory.delta_mb,
            memory.peak / 2**20,
            notes=f"{workers or os.cpu_count()} threads; length_m and travel_time_s",
        )
    )
    graph = reversed_with_schools(network, mode, origins, schools)
    if "scipy" in baselines:
        call_seconds: list[float] = []
        solve = run_scipy(graph, len(schools), limit, call_seconds)
        result, seconds, cpu, memory = _timed(solve, repeat)
        same, worst = compare(matrix, result)
        call = ", ".join(f"{c:.2f}" for c in call_seconds)
        measures.append(
            Measure(
                "scipy",
                seconds,
                cpu,
                int(result[0].shape[0]),
                memory.delta_mb,
                memory.peak / 2**20,
                notes=f"dijkstra call alone {call} s, then dense gather; length only",
                max_abs_diff_m=worst,
                same_pairs=same,
                extra={"dijkstra_call_s": call_seconds},
            )
        )
        del result
    if "networkx" in baselines:
        solve = run_networkx(graph, len(schools), limit)
        result, seconds, cpu, memory = _timed(solve, 1)
        same, worst = compare(matrix, result)
        measures.append(
            Measure(
                "networkx",
                seconds,
                cpu,
                int(result[0].shape[0]),
                memory.delta_mb,
                memory.peak / 2**20,
                notes="per-school Dijkstra; length only",
                max_abs_diff_m=worst,
                same_pairs=same,
            )
        )
        del result
    reached = np.bincount(matrix.pairs()[0], minlength=matrix.n_origins) > 0
    return {
        "case": name,
        "mode": mode,
        "cutoff_m": cutoff,
        "nodes": network.n_nodes,
        "edges": network.n_edges,
        "schools": len(schools),
        "origins": len(origins),
        "schools_snapped": int(schools.ok.sum()),
        "origins_snapped": int(origins.ok.sum()),
        "origins_reaching_a_school": int(reached.sum()),
        "snap_seconds": snap_s,
        "measures": measures,
    }


def print_table(case: dict[str, Any]) -> None:
    """Print one case: median, cold (first) and best wall seconds, CPU seconds, pairs..."""
    measures: list[Measure] = case["measures"]
    nx_time = next((m.median_s for m in measures if m.method == "networkx"), None)
    header = (
        f"{'case':<9}{'method':<10}{'median s':>9}{'cold s':>8}{'best s':>8}{'cpu s':>8}"
        f"{'pairs':>11}{'pairs/s':>12}{'peak MB':>8}{'x nx':>7}  {'max|d| m':>8}  notes"
    )
    print(header)
    print("-" * len(header))
    for m in measures:
        speedup = f"{nx_time / m.median_s:6.1f}" if nx_time else "     -"
        diff = "-" if m.max_abs_diff_m is None else f"{m.max_abs_diff_m:.0e}"
        if m.same_pairs is False:
            diff = "DIFFER"
        print(
            f"{case['case']:<9}{m.method:<10}{m.median_s:9.3f}{m.seconds[0]:8.3f}{m.best_s:8.3f}"
            f"{m.median_cpu_s:8.2f}{m.pairs:11,}{m.pairs / m.median_s:12,.0f}{m.peak_mb:8.0f}"
            f"{speedup:>7}  {diff:>8}  {m.notes}"
        )
    print(
        f"(snapping {case['schools']:,} + {case['origins']:,} points: "
        f"{case['snap_seconds']:.3f} s, not included; "
        f"{case['origins_reaching_a_school']:,} origins reach a school)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--city", action="store_true", help="also run the city-sized case")
    parser.add_argument("--mode", default="motorbike", choices=["walk", "motorbike"])
    parser.add_argument("--schools", type=int, default=1000)
    parser.add_argument("--origins", type=int, default=100_000)
    parser.add_argument("--cutoff-m", type=float, default=5000.0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeat", type=int, default=3, help="runs of engine and scipy")
    parser.add_argument("--workers", type=int, default=None, help="engine threads")
    parser.add_argument("--no-networkx", action="store_true")
    parser.add_argument("--no-scipy", action="store_true")
    parser.add_argument(
        "--unsimplified",
        action="store_true",
        help="city graph without osmnx simplification (~150k nodes)",
    )
    args = parser.parse_args()
    baselines = set()
    if not args.no_scipy:
        baselines.add("scipy")
    if not args.no_networkx:
        baselines.add("networkx")
    RESULTS.mkdir(parents=True, exist_ok=True)

    load_1, load_5, _ = os.getloadavg()
    print(
        f"{os.cpu_count()} cores; load average {load_1:.2f} (1 min), {load_5:.2f} (5 min): "
        "other work on the machine slows every method"
    )
    start = time.perf_counter()
    district = load(DISTRICT_EXTRACT, simplify=True)
    warm = routing.cost_matrix(
        district,
        args.mode,
        origins=np.array([[685000.0, 1193000.0]]),
        destinations=np.array([[686000.0, 1192000.0]]),
    )
    del warm
    print(f"district network + compiled kernels ready in {time.perf_counter() - start:.1f} s")
    reload = time_reload(DISTRICT_EXTRACT, args.repeat)
    homes, schools, what = district_points(district)
    cases = [
        run_case(
            "district",
            district,
            homes,
            schools,
            mode=args.mode,
            cutoff=None,
            repeat=args.repeat,
            baselines=baselines,
            workers=args.workers,
        )
    ]
    cases[0]["points"] = what
    if args.city:
        start = time.perf_counter()
        city = load("hcm_2018_central_highways.osm.bz2", simplify=not args.unsimplified)
        print(
            f"city network ready in {time.perf_counter() - start:.1f} s (cached after the "
            "first build)"
        )
        rng = np.random.default_rng(args.seed)
        school_xy = sample_on_roads(city, args.mode, args.schools, rng)
        origin_xy = sample_on_roads(city, args.mode, args.origins, rng)
        case = run_case(
            "city",
            city,
            origin_xy,
            school_xy,
            mode=args.mode,
            cutoff=args.cutoff_m,
            repeat=args.repeat,
            baselines=baselines,
            workers=args.workers,
        )
        case["points"] = {"seed": args.seed, "sampling": "uniform along roads, <= 30 m off"}
        case["simplified"] = not args.unsimplified
        cases.append(case)
    print()
    for case in cases:
        print_table(case)
    print()
    print_reload(reload)
    report = {
        "machine": {
            "load_average_1_5_15_min": os.getloadavg(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "versions": {
            name: version(name) for name in ("numpy", "scipy", "networkx", "osmnx", "numba")
        },
        "cache_reload": reload,
        "cases": [
            {
                **case,
                "measures": [
                    {
                        **m.__dict__,
                        "median_s": m.median_s,
                        "cold_s": m.seconds[0],
                        "best_s": m.best_s,
                        "median_cpu_s": m.median_cpu_s,
                        "pairs_per_s": m.pairs / m.median_s,
                    }
                    for m in case["measures"]
                ],
            }
            for case in cases
        ],
    }
    target = RESULTS / "distance_matrix.json"
    target.write_text(json.dumps(report, indent=2, default=float))
    print(f"\nwritten {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
