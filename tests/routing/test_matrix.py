"""Distances: equal to networkx's, both search directions, cutoff, k nearest, reasons."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from shapely import Point

import routing
from routing import RoadNetwork
from tests.routing.reference import graph_with_points
from tests.support.roads import lonlat, point_on_edge, straight_edge


def _random_points(network: RoadNetwork, count: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    # inside Quận 3's bounding box, where the extract is complete
    west, south = lonlat(network, 106.668, 10.768)
    east, north = lonlat(network, 106.696, 10.792)
    return rng.uniform([west, south], [east, north], size=(count, 2))


@pytest.mark.parametrize("mode", ["walk", "motorbike"])
@pytest.mark.parametrize("weight", ["length_m", "travel_time_s"])
def test_distances_equal_networkx(
    district_network: RoadNetwork, district_schools_xy: np.ndarray, mode: str, weight: str
) -> None:
    origins = routing.snap_points(
        district_network, _random_points(district_network, 30, 7), mode=mode
    )
    schools = routing.snap_points(district_network, district_schools_xy, mode=mode)
    assert origins.ok.all()
    assert schools.ok.all()
    matrix = routing.cost_matrix(
        district_network, mode, origins=origins, destinations=schools, weight=weight
    )
    ours = matrix.dense(weight)
    reference = graph_with_points(district_network, mode, {"o": origins, "d": schools})
    compared = 0
    for i in range(len(origins)):
        lengths = nx.single_source_dijkstra_path_length(reference, ("o", i), weight=weight)
        expected = np.array([lengths.get(("d", j), np.inf) for j in range(len(schools))])
        assert np.array_equal(np.isinf(expected), np.isinf(ours[i]))
        reachable = np.isfinite(expected)
        assert np.allclose(ours[i, reachable], expected[reachable], rtol=0, atol=1e-6)
        compared += int(reachable.sum())
    assert compared > 0.9 * len(origins) * len(schools)


def test_both_search_directions_agree(
    district_network: RoadNetwork, district_schools_xy: np.ndarray
) -> None:
    points = _random_points(district_network, 60, 11)
    many = routing.cost_matrix(
        district_network, "motorbike", origins=points, destinations=district_schools_xy
    )
    few = routing.cost_matrix(
        district_network, "motorbike", origins=points[:5], destinations=district_schools_xy
    )
    assert (many.grouped_by, few.grouped_by) == ("destination", "origin")
    for value in ("length_m", "travel_time_s"):
        assert np.allclose(many.dense(value)[:5], few.dense(value), rtol=0, atol=1e-6)


def test_cutoff_keeps_exactly_the_pairs_within(
    district_network: RoadNetwork, district_schools_xy: np.ndarray
) -> None:
    points = _random_points(district_network, 50, 3)
    full = routing.cost_matrix(
        district_network, "walk", origins=points, destinations=district_schools_xy
    )
    near = routing.cost_matrix(
        district_network, "walk", origins=points, destinations=district_schools_xy, cutoff=900.0
    )
    expected = np.where(full.dense() <= 900.0, full.dense(), np.inf)
    assert np.array_equal(near.dense(), expected)
    assert 0 < near.n_pairs < full.n_pairs
    by_time = routing.cost_matrix(
        district_network,
        "motorbike",
        origins=points,
        destinations=district_schools_xy,
        weight="travel_time_s",
        cutoff=120.0,
    )
    assert by_time.travel_time_s.max() <= 120.0
    sparse = near.to_sparse()
    assert sparse.shape == (50, len(district_schools_xy))
    assert sparse.nnz == near.n_pairs
    frame = near.to_frame()
    assert list(frame.columns) == ["origin", "destination", "length_m", "travel_time_s"]


def test_network_distance_is_never_shorter_than_a_straight_line(
    district_network: RoadNetwork, district_schools_xy: np.ndarray
) -> None:
    points = _random_points(district_network, 40, 5)
    matrix = routing.cost_matrix(
        district_network, "walk", origins=points, destinations=district_schools_xy
    )
    origin, school = matrix.pairs()
    straight = np.hypot(*(points[origin] - district_schools_xy[school]).T)
    assert (matrix.length_m >= straight - 1e-6).all()
    # walking time is length over one speed, except on steps (slower)
    assert (matrix.travel_time_s >= matrix.length_m / 1.2 - 1e-6).all()


def test_k_nearest_are_the_first_k_of_the_matrix(
    district_network: RoadNetwork, district_schools_xy: np.ndarray
) -> None:
    points = _random_points(district_network, 40, 9)
    for mode in ("walk", "motorbike"):
        full = routing.cost_matrix(
            district_network, mode, origins=points, destinations=district_schools_xy
        )
        nearest = routing.nearest_destinations(
            district_network, mode, origins=points, destinations=district_schools_xy, k=3
        )
        dense = full.dense()
        for i in range(len(points)):
            order = np.lexsort((np.arange(dense.shape[1]), dense[i]))[:3]
            expected = dense[i, order]
            assert np.allclose(nearest.length_m[i], expected, rtol=0, atol=1e-6)
            assert set(nearest.destination[i]) == set(order)


def test_one_to_many_is_one_row(
    district_network: RoadNetwork, district_schools_xy: np.ndarray
) -> None:
    home = lonlat(district_network, 106.6850, 10.7800)
    row = routing.one_to_many(
        district_network, "walk", origin=home, destinations=district_schools_xy
    )
    assert row.n_origins == 1
    assert row.n_pairs == len(district_schools_xy)
    assert row.origin_reason(0) == "ok"


def _stranded_point(net: RoadNetwork) -> np.ndarray:
    """The middle of a real four-node residential block that no walkable way joins."""
    report = routing.component_report(net, "walk")
    label = report.node_component[net.node_index(2022526419)]
    island = np.flatnonzero(report.node_component == label)
    assert label > 0
    assert set(net.node_osmid[island]) == {2022526419, 2231279241, 2231279243, 3761201996}
    edge = int(np.flatnonzero(np.isin(net.edge_u, island) & np.isin(net.edge_v, island))[0])
    middle: np.ndarray = np.mean(net.edge_coords(edge)[[0, -1]], axis=0)
    return middle


def test_unreachable_origins_come_back_with_a_reason(
    district_network: RoadNetwork, district_schools_xy: np.ndarray
) -> None:
    net = district_network
    points = np.vstack(
        [
            _stranded_point(net),
            lonlat(net, 106.7125, 10.7795),  # in the Saigon River, 500 m from the extract
            [np.nan, 1_192_000.0],
            lonlat(net, 106.6850, 10.7800),  # a home in Quận 3
        ]
    )
    # snapped onto the nearest road at all, the stranded point stays on its block
    origins = routing.snap_points(net, points, mode="walk")
    matrix = routing.cost_matrix(net, "walk", origins=origins, destinations=district_schools_xy)
    assert [matrix.origin_reason(i) for i in range(4)] == [
        "disconnected",
        "off_network",
        "invalid",
        "ok",
    ]
    assert matrix.unreachable_origins().tolist() == [0, 1, 2]
    assert matrix.dense()[:3].max() == np.inf
    short = routing.cost_matrix(
        net, "walk", origins=points[3:], destinations=district_schools_xy, cutoff=10.0
    )
    assert short.origin_reason(0) == "beyond_cutoff"
    nowhere = routing.cost_matrix(net, "walk", origins=points[3:], destinations=points[1:2])
    assert nowhere.origin_reason(0) == "no_destination"
    nearest = routing.nearest_destinations(
        net, "walk", origins=origins, destinations=district_schools_xy, k=2
    )
    assert [nearest.origin_reason(i) for i in range(4)] == [
        "disconnected",
        "off_network",
        "invalid",
        "ok",
    ]
    assert (nearest.destination[:3] == -1).all()


def test_a_home_on_an_unjoined_street_starts_from_the_nearest_joined_road(
    district_network: RoadNetwork, district_schools_xy: np.ndarray
) -> None:
    net = district_network
    stranded = _stranded_point(net)
    report = routing.component_report(net, "walk")
    arcs = net.mode_graph_arrays("walk")
    walkable = (arcs.edge_forward | arcs.edge_backward) & ~net.edge_ferry
    joined = net.edges_frame()[walkable & (report.node_component[net.edge_u] == 0)]
    walk_to_road = float(joined.distance(Point(*stranded)).min())
    assert 5.0 < walk_to_road < 250.0
    # origins given as points are snapped toward the schools: onto the streets they reach
    matrix = routing.cost_matrix(
        net, "walk", origins=stranded[None, :], destinations=district_schools_xy
    )
    assert matrix.origin_reason(0) == "ok"
    assert np.isfinite(matrix.dense()).all()
    nearest = routing.nearest_destinations(
        net, "walk", origins=stranded[None, :], destinations=district_schools_xy, k=1
    )
    assert nearest.length_m[0, 0] == pytest.approx(matrix.dense()[0].min(), abs=1e-6)
    school = int(nearest.destination[0, 0])
    route = routing.shortest_route(
        net, "walk", origin=stranded, destination=district_schools_xy[school]
    )
    assert route.origin_snap_m == pytest.approx(walk_to_road, abs=1e-6)
    assert route.length_m == pytest.approx(nearest.length_m[0, 0], abs=1e-6)
    assert route.geometry.coords[0] == pytest.approx(tuple(stranded))
    # no joined road within the limit: the home stays on its block, and says why
    with pytest.raises(routing.UnreachableError) as caught:
        routing.shortest_route(
            net,
            "walk",
            origin=stranded,
            destination=district_schools_xy[school],
            max_snap_m=walk_to_road - 1.0,
        )
    assert caught.value.reason == "disconnected"


def test_points_on_the_same_edge_reach_each_other_along_it(district_network: RoadNetwork) -> None:
    net = district_network
    edge = straight_edge(net, "Huỳnh Mẫn Đạt", oneway=False)  # a two-way street, 203 m
    a = point_on_edge(net, edge, 0.2, offset_m=5.0)
    b = point_on_edge(net, edge, 0.7, offset_m=-3.0)
    length = net.edge_length_m[edge]
    for mode in ("walk", "motorbike"):
        both = routing.cost_matrix(
            net, mode, origins=np.vstack([a, b]), destinations=np.vstack([a, b])
        )
        dense = both.dense()
        assert dense[0, 1] == pytest.approx(0.5 * length + 8.0, abs=1e-6)
        assert dense[1, 0] == pytest.approx(0.5 * length + 8.0, abs=1e-6)
        assert dense[0, 0] == pytest.approx(10.0, abs=1e-6)
