"""Contiguity of zones on hand-made networks: enclaves repaired, or reported with a reason."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely import Point

from enrolment import (
    InvalidInputError,
    keep_network_neighbours,
    nearest_zones,
    neighbour_pairs,
    optimal_zones,
)
from enrolment.contiguity import doorstep_points, find_enclaves, improve_zones
from enrolment.testing import assert_zoning_consistent

INF = np.inf
#: Five homes along one street, p0 .. p4; school A is by p0, school B by p4. The tests use
#: ``doorstep_m=0``: only a school's nearest point is at its door.
LINE = np.array([[0, 1], [1, 2], [2, 3], [3, 4]])


def line_costs(p2_to_a: float = 300.0) -> np.ndarray:
    # p3 has a short cut to A (160 m) that does not pass p2: the neighbour graph is the
    # street, the costs are the network's.
    return np.array(
        [
            [100.0, 600.0],
            [150.0, 400.0],
            [p2_to_a, 300.0],
            [160.0, 300.0],
            [500.0, 100.0],
        ]
    )


def test_without_contiguity_the_optimum_has_enclaves() -> None:
    # A has 30 seats for 40 children who are nearer to it. Moving p2 costs nothing
    # (300 m either way), so the optimum is A = {p0, p1, p3}, B = {p2, p4}:
    # 10 x (100 + 150 + 160 + 300 + 100) = 8,100 child-metres.
    zoning = optimal_zones(line_costs(), children=[10] * 5, seats=[30, 20])
    assert zoning.school.tolist() == [0, 0, 1, 0, 1]
    assert zoning.total_distance_m == pytest.approx(8_100)
    door = doorstep_points(line_costs(), doorstep_m=0)
    enclaves, detached = find_enclaves(
        zoning.school, pairs=LINE, door=door, children=np.full(5, 10.0)
    )
    assert sorted(e.tolist() for e in enclaves) == [[2], [3]]
    assert detached == []


def test_contiguity_is_restored_by_a_swap_that_keeps_capacity() -> None:
    # Handing p2 to A overfills A; A hands its border point p3 back to B. Result:
    # A = {p0, p1, p2}, B = {p3, p4}: 10 x (100 + 150 + 300 + 300 + 100) = 9,500.
    zoning = optimal_zones(
        line_costs(), children=[10] * 5, seats=[30, 20], neighbours=LINE, doorstep_m=0
    )
    assert zoning.school.tolist() == [0, 0, 0, 1, 1]
    assert zoning.breaks == ()
    assert zoning.total_distance_m == pytest.approx(9_500)
    assert zoning.solve is not None
    assert zoning.solve.rounded_distance_m == pytest.approx(8_100)
    assert_zoning_consistent(zoning, seats_respected=True)


def test_enclaves_that_capacity_forbids_to_fix_are_reported() -> None:
    # p2 cannot reach A at all, so it must be in B; A (30 seats) then holds p0, p1, p3.
    # p3 cannot join B without overfilling it, and B cannot hand p2 back: both stay cut
    # off, each with its reason.
    zoning = optimal_zones(
        line_costs(p2_to_a=INF), children=[10] * 5, seats=[30, 20], neighbours=LINE, doorstep_m=0
    )
    assert zoning.school.tolist() == [0, 0, 1, 0, 1]
    found = [(b.school, b.points.tolist(), b.children, b.reason) for b in zoning.breaks]
    assert found == [(0, [3], 10.0, "capacity"), (1, [2], 10.0, "unreachable")]
    assert zoning.shortfall.sum() == 0


def test_an_isolated_point_has_no_neighbour() -> None:
    cost = np.array([[100.0, 500.0], [200.0, 400.0], [450.0, 100.0], [120.0, 900.0]])
    # p3 has no neighbour pair and is nearest to A, whose door (within 200 m) is p0, p1
    zoning = nearest_zones(
        cost, children=[1, 1, 1, 1], seats=[9, 9], neighbours=[[0, 1], [1, 2]], doorstep_m=0
    )
    assert [(b.school, b.points.tolist(), b.reason) for b in zoning.breaks] == [
        (0, [3], "not_repaired")
    ]
    repaired = optimal_zones(
        cost, children=[1, 1, 1, 1], seats=[9, 9], neighbours=[[0, 1], [1, 2]], doorstep_m=0
    )
    assert [(b.school, b.points.tolist(), b.reason) for b in repaired.breaks] == [
        (0, [3], "no_neighbour")
    ]


def test_a_swap_that_would_detach_a_zone_is_refused() -> None:
    # Nearest: A = {p0}, B = {p1, p2}, but B has 10 seats for 20 children; moving p2
    # (regret 50 m) beats moving p1 (100 m): A = {p0, p2}, B = {p1}, p2 cut off.
    # Giving p2 back to B needs B to hand p1 to A, which would leave B without its door.
    cost = np.array([[100.0, 900.0], [150.0, 50.0], [300.0, 250.0]])
    zoning = optimal_zones(
        cost, children=[10, 10, 10], seats=[20, 10], neighbours=[[0, 1], [1, 2]], doorstep_m=0
    )
    assert zoning.school.tolist() == [0, 1, 0]
    assert [(b.school, b.points.tolist(), b.reason) for b in zoning.breaks] == [
        (0, [2], "capacity")
    ]


def test_a_zone_without_its_doorstep_is_detached() -> None:
    # p1 is B's door but tied between A and B, so nearest gives it to A (lower column).
    cost = np.array([[100.0, 900.0], [50.0, 50.0], [300.0, 200.0]])
    zoning = nearest_zones(
        cost, children=[1, 1, 1], seats=[5, 5], neighbours=[[0, 1], [1, 2]], doorstep_m=0
    )
    assert zoning.school.tolist() == [0, 0, 1]
    assert [(b.school, b.points.tolist(), b.reason) for b in zoning.breaks] == [
        (1, [2], "detached")
    ]


def test_neighbour_pairs_of_a_grid_and_duplicates() -> None:
    points = gpd.GeoDataFrame(
        geometry=[Point(0, 0), Point(100, 0), Point(0, 100), Point(100, 100), Point(0, 0)],
        crs="EPSG:32648",
    )
    pairs = neighbour_pairs(points, max_link_m=100.0)
    assert pairs.tolist() == [[0, 1], [0, 2], [0, 4], [1, 3], [2, 3]]
    every = neighbour_pairs(points)
    assert len(every) == 6  # the square's sides, one diagonal, the duplicate


def test_neighbour_pairs_on_a_line_and_tiny_sets() -> None:
    line = gpd.GeoDataFrame(geometry=[Point(x, 0) for x in (0, 300, 100)], crs="EPSG:32648")
    assert neighbour_pairs(line).tolist() == [[0, 2], [1, 2]]
    two = gpd.GeoDataFrame(geometry=[Point(0, 0), Point(5, 5)], crs="EPSG:32648")
    assert neighbour_pairs(two).tolist() == [[0, 1]]
    one = gpd.GeoDataFrame(geometry=[Point(0, 0)], crs="EPSG:32648")
    assert neighbour_pairs(one).shape == (0, 2)


def test_neighbour_pairs_refuse_degrees() -> None:
    points = gpd.GeoDataFrame(geometry=[Point(106.68, 10.78)], crs="EPSG:4326")
    with pytest.raises(InvalidInputError, match="metres"):
        neighbour_pairs(points)


def test_pairs_across_a_canal_are_dropped() -> None:
    pairs = np.array([[0, 1], [1, 2]])
    kept = keep_network_neighbours(
        pairs, straight_m=[100.0, 100.0], network_m=[140.0, 1_200.0], max_detour=2.5
    )
    assert kept.tolist() == [[0, 1]]
    with pytest.raises(InvalidInputError):
        keep_network_neighbours(pairs, straight_m=[1.0], network_m=[1.0, 2.0])


def test_border_moves_shorten_zones_and_keep_them_whole() -> None:
    # A = {p0 .. p3}, B = {p4} is contiguous, but p3 is 400 m from A and 200 m from B.
    # With room at B, p3 moves (gain 10 x 200 child-metres); with B full it stays. p1 is
    # nearer to B too, but never moves: that would cut p2 off A.
    cost = line_costs()
    cost[3] = [400.0, 200.0]
    cost[1] = [150.0, 50.0]  # a short cut from p1 to B that does not pass p2, p3
    door = doorstep_points(cost, doorstep_m=0)
    start = np.array([0, 0, 0, 0, 1])
    children = np.full(5, 10.0)
    roomy = improve_zones(
        start, cost=cost, children=children, seats=np.array([50.0, 50.0]), pairs=LINE, door=door
    )
    assert roomy.tolist() == [0, 0, 0, 1, 1]
    full = improve_zones(
        start, cost=cost, children=children, seats=np.array([50.0, 10.0]), pairs=LINE, door=door
    )
    assert full.tolist() == start.tolist()
    assert start.tolist() == [0, 0, 0, 0, 1]
