"""Benchmark first-grade placement: deferred acceptance, guarantee and explanations.

Run from the repository root::

    .venv/bin/python benchmarks/placement.py                  # with the matching check
    .venv/bin/python benchmarks/placement.py --skip-matching  # placement only, quick

Instances (seeded, synthetic)
-----------------------------
Schools and homes are uniform random points in a 20 km square; 10,000 children over 200
schools, 30,000 over 400 and 150,000 over 1,000. Each child lists 5 of their 10 nearest
schools, chosen by distance divided by the school's popularity (log-normal, so a few
schools are much sought after) times log-normal noise. Distances are the straight-line
distance x 1.3, a stand-in for road distance in this benchmark only (the service gives
the placement road distances from :mod:`routing`). Priority group 0 where the choice is the
child's nearest school (its "zone"), 1 (sibling) for 5 % and 2 (priority category) for 3 %
of the other choices, 3 otherwise. Seats add up to the number of children (capacity ratio
1.0), spread over the schools in proportion to the children living nearest to each, so
popular schools fill up, some children are placed at none of their choices and the
guarantee step seats them at the nearest of their 20 nearest schools with a free seat.

Timed
-----
The whole run from arrays (:class:`enrolment.Applications`, which draws the lottery;
:func:`enrolment.place_applicants`: ranking, deferred acceptance, guarantee, the outcome of
every choice and the cut-offs; :meth:`~enrolment.Placement.statistics`). The first call
of the first instance is the warm-up: it compiles the numba kernels, or loads them from
numba's on-disk cache (``kernels_compiled_in_first_call`` says which; delete
``enrolment/__pycache__/_admission*`` for a cold start). The steady time is the best of 3
later calls. Immediate acceptance (Boston) is timed the same way, for comparison.
Children whose 20 nearest schools are all full when their turn comes stay unseated and
are counted (``unseated``).

Checked
-------
On the 10,000 and 30,000 instances the library ``matching`` (``HospitalResident``,
resident-optimal) solves the same problem, in a thread with a 512 MiB stack and a
recursion limit of 1,000,000 (it recurses deeply); the two matchings must be identical.
Its time includes building the game (``create_from_dictionaries``, which deep-copies every
player and takes most of it); the speed-up is also given against its ``solve`` alone.
Results print as a table and go to ``benchmarks/results/placement.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import threading
import time
import warnings
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any, cast

import numpy as np
from numba.core.dispatcher import Dispatcher
from scipy.spatial import cKDTree

import enrolment
from enrolment import _admission

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
SIZES = ((10_000, 200), (30_000, 400), (150_000, 1_000))
MATCHING_MOST_CHILDREN = 30_000
SIDE_M = 20_000.0
ROAD_FACTOR = 1.3
CHOICES = 5
NEARBY = 10
CANDIDATES = 20
REPEATS = 3


@dataclass(frozen=True)
class Instance:
    choices: np.ndarray
    priority_group: np.ndarray
    distance_m: np.ndarray
    seats: np.ndarray
    nearest: enrolment.NearestSchools
    seed: int


def make_instance(n_children: int, n_schools: int, seed: int) -> Instance:
    """Draw homes, schools, choices, priorities and seats (see the module docstring)."""
    rng = np.random.default_rng(seed)
    schools = rng.random((n_schools, 2)) * SIDE_M
    homes = rng.random((n_children, 2)) * SIDE_M
    straight_m, near = cKDTree(schools).query(homes, k=CANDIDATES)
    road_m = straight_m * ROAD_FACTOR
    popularity = rng.lognormal(0.0, 0.6, n_schools)
    noise = rng.lognormal(0.0, 0.3, (n_children, NEARBY))
    score = road_m[:, :NEARBY] / popularity[near[:, :NEARBY]] * noise
    picked = np.argsort(score, axis=1, kind="stable")[:, :CHOICES]
    choices = np.take_along_axis(near[:, :NEARBY], picked, axis=1)
    distance_m = np.take_along_axis(road_m[:, :NEARBY], picked, axis=1)
    draw = rng.random((n_children, CHOICES))
    group = np.select([choices == near[:, :1], draw < 0.05, draw < 0.08], [0, 1, 2], default=3)
    zone_children = np.bincount(near[:, 0], minlength=n_schools)
    seats = rng.multinomial(n_children, zone_children / zone_children.sum())
    return Instance(
        choices=choices.astype(np.int64),
        priority_group=group.astype(np.int64),
        distance_m=distance_m,
        seats=seats.astype(np.int64),
        nearest=enrolment.NearestSchools(school=near, distance_m=road_m),
        seed=seed,
    )


def run(instance: Instance, mechanism: str) -> tuple[enrolment.Placement, Any]:
    """Place the children from the arrays and summarise: the timed work."""
    applications = enrolment.Applications(
        choices=instance.choices,
        priority_group=instance.priority_group,
        distance_m=instance.distance_m,
        seed=instance.seed,
    )
    placement = enrolment.place_applicants(
        applications, instance.seats, nearest=instance.nearest, mechanism=mechanism
    )
    return placement, placement.statistics()


def timed(instance: Instance, mechanism: str) -> tuple[enrolment.Placement, float, list[float]]:
    started = time.perf_counter()
    placement, _ = run(instance, mechanism)
    first = time.perf_counter() - started
    steady = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        again, _ = run(instance, mechanism)
        steady.append(time.perf_counter() - started)
        if again.digest() != placement.digest():
            msg = "a rerun gave a different placement"
            raise RuntimeError(msg)
    return placement, first, steady


def matching_schools(instance: Instance, placement: enrolment.Placement) -> dict[str, Any]:
    """Solve with ``matching``'s resident-optimal HospitalResident; compare the matchings."""
    from matching.games import HospitalResident

    ranking = enrolment.rank_applicants(placement.applications, instance.seats.shape[0])
    n_applicants = np.diff(ranking.school_ptr)
    is_open = (instance.seats > 0) & (n_applicants > 0)
    open_schools = [int(s) for s in np.flatnonzero(is_open)]
    resident_prefs = {
        c: [int(s) for s in row if s >= 0 and is_open[s]] for c, row in enumerate(instance.choices)
    }
    resident_prefs = {c: prefs for c, prefs in resident_prefs.items() if prefs}
    hospital_prefs = {s: [int(c) for c in ranking.applicants(s)] for s in open_schools}
    capacities = {s: int(instance.seats[s]) for s in open_schools}
    outcome: dict[str, Any] = {}

    def solve() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            started = time.perf_counter()
            game = HospitalResident.create_from_dictionaries(
                resident_prefs, hospital_prefs, capacities
            )
            built = time.perf_counter()
            solved = game.solve(optimal="resident")
            outcome["build_s"] = built - started
            outcome["solve_s"] = time.perf_counter() - built
        outcome["pairs"] = {
            (int(r.name), int(h.name)) for h, residents in solved.items() for r in residents
        }

    sys.setrecursionlimit(1_000_000)
    threading.stack_size(512 * 1024 * 1024)
    thread = threading.Thread(target=solve)
    thread.start()
    thread.join()
    at_choice = placement.choice_position >= 0
    ours = {(int(c), int(placement.school[c])) for c in np.flatnonzero(at_choice)}
    return {
        "matching_s": round(outcome["build_s"] + outcome["solve_s"], 3),
        "matching_build_s": round(outcome["build_s"], 3),
        "matching_solve_s": round(outcome["solve_s"], 3),
        "identical": ours == outcome["pairs"],
    }


def _compiled_kernels() -> int:
    """Return how many kernel versions numba has compiled (not loaded from its cache)."""
    kernels = (
        _admission.rank_applications,
        _admission.deferred_acceptance,
        _admission.immediate_acceptance,
        _admission.seat_nearest,
    )
    # ``_jit`` keeps each kernel's Python signature for callers; the object is numba's Dispatcher
    dispatchers = [cast("Dispatcher", kernel) for kernel in kernels]
    misses: int = sum(sum(d.stats.cache_misses.values()) for d in dispatchers)
    return misses


def case(n_children: int, n_schools: int, *, seed: int, with_matching: bool) -> dict[str, Any]:
    instance = make_instance(n_children, n_schools, seed)
    compiled = _compiled_kernels()
    placement, first, steady = timed(instance, "deferred_acceptance")
    compiled = _compiled_kernels() - compiled
    boston, boston_first, boston_steady = timed(instance, "immediate_acceptance")
    stats = placement.statistics()
    boston_stats = boston.statistics()
    row: dict[str, Any] = {
        "children": n_children,
        "schools": n_schools,
        "seats": int(instance.seats.sum()),
        "first_choice_share": round(stats.first_choice_share, 4),
        "any_choice_share": round(stats.any_choice_share, 4),
        "guaranteed": stats.guaranteed_children,
        "unseated": stats.unseated_children,
        "mean_choice_distance_m": round(stats.mean_choice_distance_m, 1),
        "mean_distance_m": round(stats.mean_distance_m, 1),
        "kernels_compiled_in_first_call": compiled,
        "first_call_s": round(first, 3),
        "steady_s": round(min(steady), 3),
        "steady_runs_s": [round(s, 3) for s in steady],
        "boston_first_call_s": round(boston_first, 3),
        "boston_steady_s": round(min(boston_steady), 3),
        "boston_first_choice_share": round(boston_stats.first_choice_share, 4),
        "boston_any_choice_share": round(boston_stats.any_choice_share, 4),
        "digest": placement.digest(),
    }
    if with_matching and n_children <= MATCHING_MOST_CHILDREN:
        row.update(matching_schools(instance, placement))
        row["speed_up"] = round(row["matching_s"] / row["steady_s"], 1)
        row["speed_up_solve_only"] = round(row["matching_solve_s"] / row["steady_s"], 1)
    return row


COLUMNS = (
    ("children", "children", "{:,}"),
    ("schools", "schools", "{:,}"),
    ("first_choice_share", "1st choice", "{:.1%}"),
    ("any_choice_share", "any choice", "{:.1%}"),
    ("guaranteed", "guaranteed", "{:,}"),
    ("unseated", "unseated", "{:,}"),
    ("first_call_s", "first call s", "{:.3f}"),
    ("steady_s", "steady s", "{:.3f}"),
    ("boston_steady_s", "boston s", "{:.3f}"),
    ("matching_s", "matching s", "{:.2f}"),
    ("speed_up", "speed-up", "{:,.0f}x"),
    ("matching_solve_s", "solve only s", "{:.2f}"),
    ("speed_up_solve_only", "speed-up", "{:,.0f}x"),
    ("identical", "identical", "{}"),
)


def _print(rows: list[dict[str, Any]]) -> None:
    table = [[title for _, title, _ in COLUMNS]]
    for row in rows:
        table.append([fmt.format(row[key]) if key in row else "-" for key, _, fmt in COLUMNS])
    widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS))]
    for line in table:
        print("  ".join(cell.rjust(width) for cell, width in zip(line, widths, strict=True)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-matching", action="store_true", help="skip the matching check")
    parser.add_argument("--seed", type=int, default=20_260_901)
    args = parser.parse_args()
    rows = [
        case(n, m, seed=args.seed + i, with_matching=not args.skip_matching)
        for i, (n, m) in enumerate(SIZES)
    ]
    report = {
        "machine": {
            "python": platform.python_version(),
            "processor": platform.processor() or platform.machine(),
            "numpy": version("numpy"),
            "numba": version("numba"),
            "matching": version("matching"),
        },
        "cases": rows,
    }
    _print(rows)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "placement.json"
    out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
