"""Property tests: invariants of zoning on random small problems, checked by brute force."""

from __future__ import annotations

import itertools

import geopandas as gpd
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely import Point, box

from enrolment import UNASSIGNED, nearest_zones, optimal_zones, ward_zones, zone_polygons
from enrolment.testing import (
    assert_points_in_own_zone,
    assert_zones_partition,
    assert_zoning_consistent,
)

PROPERTY = settings(
    max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


@st.composite
def problems(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n_points = draw(st.integers(1, 6))
    n_schools = draw(st.integers(1, 3))
    cost = np.array(
        [
            [
                draw(st.one_of(st.integers(1, 30).map(lambda v: 100.0 * v), st.just(np.inf)))
                for _ in range(n_schools)
            ]
            for _ in range(n_points)
        ]
    )
    children = np.array([draw(st.integers(0, 6)) for _ in range(n_points)], dtype=float)
    seats = np.array([draw(st.integers(0, 15)) for _ in range(n_schools)], dtype=float)
    return cost, children, seats


def brute_force(cost: np.ndarray, children: np.ndarray, seats: np.ndarray) -> tuple[float, float]:
    """Return the least overflow and then the least distance over all zonings."""
    options = [np.flatnonzero(np.isfinite(row)) for row in cost]
    reachable = [i for i, o in enumerate(options) if o.size]
    best = (np.inf, np.inf)
    for choice in itertools.product(*(options[i] for i in reachable)):
        load = np.zeros(cost.shape[1])
        distance = 0.0
        for i, j in zip(reachable, choice, strict=True):
            load[j] += children[i]
            distance += children[i] * cost[i, j]
        overflow = float(np.clip(load - seats, 0, None).sum())
        best = min(best, (overflow, distance))
    return best


@PROPERTY
@given(problems())
def test_every_reachable_point_gets_exactly_one_zone(
    problem: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    cost, children, seats = problem
    reachable = np.isfinite(cost).any(axis=1)
    for zoning in (
        nearest_zones(cost, children=children, seats=seats),
        optimal_zones(cost, children=children, seats=seats),
    ):
        assert_zoning_consistent(zoning)
        assert ((zoning.school != UNASSIGNED) == reachable).all()
        assert zoning.placed.sum() <= seats.sum() + 1e-9


@PROPERTY
@given(problems())
def test_optimal_zones_match_brute_force(
    problem: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    cost, children, seats = problem
    zoning = optimal_zones(cost, children=children, seats=seats)
    report = zoning.solve
    assert report is not None
    best_overflow, best_distance = brute_force(cost, children, seats)
    overflow = float(np.clip(zoning.school_children() - seats, 0, None).sum())
    # the transportation optimum never needs more overflow than the best zoning
    assert report.lp_overflow_children <= best_overflow + 1e-6
    if report.lp_overflow_children >= best_overflow - 1e-6:
        # its bound holds for every zoning with that overflow
        assert report.lower_bound_m <= best_distance + 1e-6 * max(best_distance, 1)
    if report.rounding == "certified":
        assert abs(overflow - best_overflow) < 1e-6
        slack = report.tolerance * max(report.lower_bound_m, 1.0) + 1e-6
        assert zoning.total_distance_m <= best_distance + slack
    nearest = nearest_zones(cost, children=children, seats=seats)
    nearest_overflow = float(np.clip(nearest.school_children() - seats, 0, None).sum())
    assert overflow <= nearest_overflow + 1e-6


@PROPERTY
@given(problems(), st.lists(st.sampled_from(["W1", "W2"]), min_size=6, max_size=6))
def test_never_worse_than_ward_zones_under_the_same_capacities(
    problem: tuple[np.ndarray, np.ndarray, np.ndarray], wards: list[str]
) -> None:
    cost, children, seats = problem
    point_ward = wards[: cost.shape[0]]
    school_ward = (["W1", "W2", "W1"])[: cost.shape[1]]
    ward = ward_zones(
        cost, children=children, seats=seats, point_ward=point_ward, school_ward=school_ward
    )
    optimal = optimal_zones(cost, children=children, seats=seats)
    assert optimal.solve is not None
    ward_fits = (ward.school_children() <= seats + 1e-9).all()
    if ward_fits and optimal.solve.rounding == "certified":
        slack = optimal.solve.tolerance * max(optimal.solve.lower_bound_m, 1.0) + 1e-6
        assert optimal.total_distance_m <= ward.total_distance_m + slack


@PROPERTY
@given(
    st.lists(
        st.tuples(st.floats(1, 999), st.floats(1, 499), st.integers(-1, 3)),
        min_size=1,
        max_size=25,
    )
)
def test_zone_polygons_always_partition_the_district(
    rows: list[tuple[float, float, int]],
) -> None:
    district = box(0, 0, 1_000, 500)
    wards = gpd.GeoDataFrame(
        {"ward_code": ["W1", "W2"]},
        geometry=[box(0, 0, 500, 500), box(500, 0, 1_000, 500)],
        crs="EPSG:32648",
    )
    points = gpd.GeoDataFrame(
        {
            "point_id": [f"p{i}" for i in range(len(rows))],
            "ward_code": ["W1" if x < 500 else "W2" for x, _, _ in rows],
            "children": 1.0,
            "source": "road",
        },
        geometry=[Point(x, y) for x, y, _ in rows],
        crs="EPSG:32648",
    )
    school = np.array([s for _, _, s in rows])
    zones = zone_polygons(points, school, boundary=district, wards=wards)
    assert_zones_partition(zones, district)
    distinct = ~points.geometry.duplicated(keep=False).to_numpy()
    assert_points_in_own_zone(
        zones[zones["school"].isin(school[distinct])], points[distinct], school[distinct]
    )
