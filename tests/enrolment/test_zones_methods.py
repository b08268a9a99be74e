"""Zoning methods on small hand-made cost matrices whose answers are written out."""

from __future__ import annotations

import numpy as np
import pytest

from enrolment import (
    UNASSIGNED,
    InvalidInputError,
    nearest_zones,
    optimal_zones,
    place_children,
    ward_zones,
    zone_statistics,
)
from enrolment.testing import assert_zoning_consistent

INF = np.inf


def test_nearest_ignores_capacity_and_breaks_ties_to_the_lower_school() -> None:
    cost = np.array([[100.0, 400.0], [200.0, 300.0], [300.0, 300.0], [500.0, 100.0]])
    zoning = nearest_zones(cost, children=[10, 10, 10, 10], seats=[15, 15])
    assert zoning.school.tolist() == [0, 0, 0, 1]  # point 2 is tied: school 0
    assert zoning.school_children().tolist() == [30, 10]
    # school 0's 15 seats go to its nearest children: point 0 (10), then 5 of point 1
    assert zoning.placed.tolist() == [10, 5, 0, 10]
    assert zoning.shortfall.tolist() == [0, 5, 10, 0]
    assert zoning.total_distance_m == 10 * (100 + 200 + 300 + 100)
    assert zoning.solve is None
    assert_zoning_consistent(zoning)


def test_optimal_finds_the_optimum_within_capacity() -> None:
    # Nearest puts 20 children at school 1 (10 seats). Moving point 2 to school 0 costs
    # 10 x (300 - 200) = 1,000 child-metres, moving point 3 costs 10 x (500 - 100) = 4,000:
    # the optimum moves point 2.
    cost = np.array([[100.0, 400.0], [200.0, 300.0], [300.0, 200.0], [500.0, 100.0]])
    zoning = optimal_zones(cost, children=[10, 10, 10, 10], seats=[30, 10])
    assert zoning.school.tolist() == [0, 0, 0, 1]
    assert zoning.total_distance_m == pytest.approx(10 * (100 + 200 + 300 + 100))
    assert zoning.shortfall.sum() == 0
    assert zoning.placed.tolist() == [10, 10, 10, 10]
    report = zoning.solve
    assert report is not None
    assert report.rounding == "certified"
    assert report.lp_overflow_children == pytest.approx(0, abs=1e-9)
    assert report.lower_bound_m == pytest.approx(7_000, rel=1e-3)
    assert report.rounded_distance_m <= report.lower_bound_m * (1 + report.tolerance)
    assert_zoning_consistent(zoning, seats_respected=True)


def test_network_simplex_gives_the_same_optimum() -> None:
    cost = np.array([[100.0, 400.0], [200.0, 300.0], [300.0, 200.0], [500.0, 100.0]])
    highs = optimal_zones(cost, children=[10, 10, 10, 10], seats=[30, 10])
    simplex = optimal_zones(
        cost, children=[10, 10, 10, 10], seats=[30, 10], solver="network_simplex"
    )
    assert simplex.school.tolist() == highs.school.tolist()
    assert simplex.solve is not None
    assert simplex.solve.solver == "network_simplex"
    assert simplex.solve.lower_bound_m == pytest.approx(7_000)


def test_shortfall_is_reported_on_the_farthest_children() -> None:
    # 30 children, 25 seats. Seating everyone is impossible; the optimum seats 25 and the
    # 5 without a seat are those farthest from the school of their zone.
    cost = np.array([[100.0, 900.0], [200.0, 800.0], [900.0, 100.0]])
    zoning = optimal_zones(cost, children=[10, 10, 10], seats=[15, 10])
    assert zoning.school.tolist() == [0, 0, 1]
    assert zoning.placed.tolist() == [10, 5, 10]
    assert zoning.shortfall.tolist() == [0, 5, 0]
    assert zoning.solve is not None
    assert zoning.solve.lp_overflow_children == pytest.approx(5)
    assert zoning.school_children().tolist() == [20, 10]
    assert_zoning_consistent(zoning)


def test_unreachable_points_are_unassigned_and_counted() -> None:
    cost = np.array([[100.0, 200.0], [INF, INF], [300.0, INF]])
    for zoning in (
        nearest_zones(cost, children=[1, 4, 2], seats=[10, 10]),
        optimal_zones(cost, children=[1, 4, 2], seats=[10, 10]),
    ):
        assert zoning.school.tolist() == [0, UNASSIGNED, 0]
        assert zoning.assigned.tolist() == [True, False, True]
        assert zoning.shortfall.tolist() == [0, 0, 0]
        assert zoning.placed.tolist() == [1, 0, 2]
        assert np.isinf(zoning.distance_m[1])
        assert zoning.total_distance_m == 100 + 2 * 300


def test_points_without_a_route_are_zoned_by_the_fallback_and_reported() -> None:
    cost = np.array([[100.0, 200.0], [INF, INF], [300.0, INF]])
    straight = np.array([[80.0, 150.0], [500.0, 90.0], [250.0, 700.0]])
    for zoning in (
        nearest_zones(cost, children=[1, 4, 2], seats=[10, 10], fallback_m=straight),
        optimal_zones(cost, children=[1, 4, 2], seats=[10, 10], fallback_m=straight),
        ward_zones(
            cost,
            children=[1, 4, 2],
            seats=[10, 10],
            point_ward=["W", "W", "W"],
            school_ward=["W", None],
            fallback_m=straight,
        ),
    ):
        # point 1 goes to school 1 by straight line, or to its ward's school 0 (ward-based)
        expected = 0 if zoning.method == "ward" else 1
        assert zoning.school.tolist() == [0, expected, 0]
        assert zoning.assigned.all()
        assert zoning.routed.tolist() == [True, False, True]
        assert np.isinf(zoning.distance_m[1])
        assert zoning.total_distance_m == 100 + 2 * 300
        assert zoning.placed[1] == 4  # seats are given to it last, but there is room
        assert_zoning_consistent(zoning)
    stats = zone_statistics(
        nearest_zones(cost, children=[1, 4, 2], seats=[10, 10], fallback_m=straight), cost_m=cost
    )
    assert stats.no_route_children == 4
    assert stats.unassigned_children == 0
    assert stats.not_nearest_children == 0
    with pytest.raises(InvalidInputError, match="fallback_m"):
        nearest_zones(cost, children=[1, 4, 2], seats=[10, 10], fallback_m=straight[:, :1])


def test_a_point_too_big_for_any_school_is_reported_not_split() -> None:
    # 10 children, two schools of 6 seats: the transportation optimum splits the point
    # 6/4; a zone must hold it whole, so 4 children go without a seat.
    zoning = optimal_zones(np.array([[100.0, 200.0]]), children=[10], seats=[6, 6])
    assert zoning.school.tolist() == [0]
    assert zoning.placed.tolist() == [6]
    assert zoning.shortfall.tolist() == [4]
    assert zoning.solve is not None
    assert zoning.solve.lp_overflow_children == 0
    assert zoning.solve.rounding == "uncertified"


def test_points_without_children_join_their_nearest_school() -> None:
    cost = np.array([[100.0, 300.0], [300.0, 100.0], [250.0, 200.0]])
    zoning = optimal_zones(cost, children=[5, 5, 0], seats=[10, 10])
    assert zoning.school.tolist() == [0, 1, 1]


def test_ward_zones_follow_wards() -> None:
    # Ward W1 has schools 0 and 2, ward W2 school 1, ward W3 none.
    cost = np.array(
        [
            [100.0, 900.0, 300.0],  # W1: nearest own-ward school is 0
            [400.0, 200.0, 150.0],  # W1: school 1 is nearer, but 2 is its ward's nearest
            [900.0, 100.0, 800.0],  # W2
            [500.0, 300.0, 400.0],  # W3, no school: the whole ward goes to the school
            [600.0, 700.0, 200.0],  # W3  with least total distance: 2 (3x400+1x200 < ...)
        ]
    )
    zoning = ward_zones(
        cost,
        children=[1, 1, 1, 3, 1],
        seats=[5, 5, 5],
        point_ward=["W1", "W1", "W2", "W3", "W3"],
        school_ward=["W1", "W2", "W1"],
    )
    # W3 to school 0: 3x500+600=2100; school 1: 900+700=1600; school 2: 1200+200=1400.
    assert zoning.school.tolist() == [0, 2, 1, 2, 2]
    assert zoning.method == "ward"


def test_ward_zones_fall_back_to_nearest_without_a_common_school() -> None:
    cost = np.array([[100.0, INF], [INF, 100.0]])
    zoning = ward_zones(
        cost, children=[1, 1], seats=[1, 1], point_ward=["W", "W"], school_ward=[None, None]
    )
    assert zoning.school.tolist() == [0, 1]


def test_place_children_nearest_first() -> None:
    cost = np.array([[300.0], [100.0], [200.0]])
    placed = place_children(
        np.array([0, 0, 0]), cost=cost, children=np.array([4.0, 4.0, 4.0]), seats=np.array([6.0])
    )
    assert placed.tolist() == [0, 4, 2]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"cost_m": [[1.0, np.nan]], "children": [1], "seats": [1, 1]}, "cost_m"),
        ({"cost_m": [[1.0, -2.0]], "children": [1], "seats": [1, 1]}, "cost_m"),
        ({"cost_m": [1.0, 2.0], "children": [1], "seats": [1, 1]}, "cost_m"),
        ({"cost_m": [[1.0, 2.0]], "children": [1, 2], "seats": [1, 1]}, "children"),
        ({"cost_m": [[1.0, 2.0]], "children": [-1], "seats": [1, 1]}, "children"),
        ({"cost_m": [[1.0, 2.0]], "children": [1], "seats": [1, np.inf]}, "seats"),
        ({"cost_m": [[1.0, 2.0]], "children": [1], "seats": [1, 1], "solver": "x"}, "solver"),
        ({"cost_m": [[1.0, 2.0]], "children": [1], "seats": [1, 1], "tolerance": 2}, "tolerance"),
    ],
)
def test_bad_inputs_name_the_field(kwargs: dict[str, object], field: str) -> None:
    cost = kwargs.pop("cost_m")
    with pytest.raises(InvalidInputError) as raised:
        optimal_zones(cost, **kwargs)  # type: ignore[arg-type]
    assert raised.value.field == field
