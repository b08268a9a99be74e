"""Zone statistics per method, worked out by hand on three homes and two schools."""

from __future__ import annotations

import numpy as np
import pytest

from enrolment import (
    InvalidInputError,
    TravelCosts,
    comparison_table,
    nearest_zones,
    school_table,
    ward_zones,
    zone_statistics,
)
from enrolment.comparison import weighted_quantile

WALK_M = np.array([[500.0, 1_500.0], [1_200.0, 800.0], [2_500.0, 300.0]])
COSTS = (
    TravelCosts("walk", WALK_M, WALK_M / 1.25),
    TravelCosts("motorbike", WALK_M * 1.1, WALK_M * 1.1 / 8.0),
)
CHILDREN = [10, 20, 30]
SEATS = [10, 40]


def test_nearest_statistics() -> None:
    zoning = nearest_zones(WALK_M, children=CHILDREN, seats=SEATS)
    stats = zone_statistics(zoning, cost_m=WALK_M, costs=COSTS)
    assert zoning.school.tolist() == [0, 1, 1]
    # distances 500 (10 children), 800 (20), 300 (30)
    walk, motorbike = stats.modes
    assert walk.mean_distance_m == pytest.approx((5_000 + 16_000 + 9_000) / 60)
    assert walk.median_distance_m == 300  # 30 of 60 children are within 300 m
    assert walk.p90_distance_m == 800
    assert walk.mean_duration_s == pytest.approx(500 / 1.25)
    assert motorbike.mean_distance_m == pytest.approx(550)
    assert motorbike.p90_duration_s == pytest.approx(880 / 8)
    assert stats.within_1km_walk_share == 1.0
    assert stats.within_2km_walk_share == 1.0
    assert stats.not_nearest_children == 0
    assert stats.school_children.tolist() == [10, 50]
    assert stats.seats_minus_children.tolist() == [0, -10]
    # school 1 seats its nearest children first: 30 at 300 m, then 10 of the 20 at 800 m
    assert stats.placed_children == 50
    assert stats.shortfall_children == 10
    assert stats.total_distance_m == 30_000


def test_ward_statistics_and_the_side_by_side_table() -> None:
    ward = ward_zones(
        WALK_M,
        children=CHILDREN,
        seats=SEATS,
        point_ward=["W1", "W1", "W2"],
        school_ward=["W1", "W2"],
    )
    nearest = nearest_zones(WALK_M, children=CHILDREN, seats=SEATS)
    stats = [zone_statistics(z, cost_m=WALK_M, costs=COSTS) for z in (ward, nearest)]
    assert ward.school.tolist() == [0, 0, 1]
    assert stats[0].not_nearest_children == 20
    assert stats[0].within_1km_walk_share == pytest.approx(40 / 60)
    table = comparison_table(stats)
    assert list(table.columns) == ["ward", "nearest"]
    assert list(table.loc["not_nearest_children"]) == [20, 0]
    assert list(table.loc["total_distance_m"]) == [5_000 + 24_000 + 9_000, 30_000]
    assert list(table.loc["schools_over_capacity"]) == [1, 1]
    # ward distances: 300 m (30 children), 500 m (10), 1,200 m (20)
    assert table.loc["median_distance_m.walk", "ward"] == 300
    assert table.loc["p90_distance_m.walk", "ward"] == 1_200
    schools = school_table(stats, ["A", "B"])
    assert list(schools.loc["A"]) == [10, 30, -20, 10, 0]
    assert list(schools.columns) == [
        "seats",
        "children.ward",
        "seats_minus_children.ward",
        "children.nearest",
        "seats_minus_children.nearest",
    ]


def test_a_mode_that_cannot_reach_the_zone_school() -> None:
    blocked = WALK_M.copy()
    blocked[2, 1] = np.inf
    zoning = nearest_zones(WALK_M, children=CHILDREN, seats=SEATS)
    stats = zone_statistics(
        zoning, cost_m=WALK_M, costs=[TravelCosts("motorbike", blocked, blocked / 8)]
    )
    assert stats.modes[0].no_route_children == 30
    assert stats.modes[0].mean_distance_m == pytest.approx((5_000 + 16_000) / 30)
    assert np.isnan(stats.within_1km_walk_share)  # no walking costs given


def test_weighted_quantile() -> None:
    values = np.array([3.0, 1.0, 2.0])
    assert weighted_quantile(values, np.array([1.0, 1.0, 1.0]), 0.5) == 2.0
    assert weighted_quantile(values, np.array([0.0, 5.0, 1.0]), 0.9) == 2.0
    assert np.isnan(weighted_quantile(values, np.zeros(3), 0.5))


def test_mismatched_matrices_are_refused() -> None:
    zoning = nearest_zones(WALK_M, children=CHILDREN, seats=SEATS)
    with pytest.raises(InvalidInputError, match="cost_m"):
        zone_statistics(zoning, cost_m=WALK_M[:2])
    with pytest.raises(InvalidInputError, match="walk"):
        zone_statistics(zoning, cost_m=WALK_M, costs=[TravelCosts("walk", WALK_M[:, :1], WALK_M)])
