"""Routes: one-way rules by mode, geometry that follows the roads, agreement with the matrix."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import shapely

import routing
from routing import RoadNetwork
from tests.support.roads import lonlat, point_on_edge, straight_edge


def test_one_way_streets_bind_motorbikes_but_not_walkers(district_network: RoadNetwork) -> None:
    net = district_network
    # Phan Xích Long is one-way for vehicles in the 2018 extract
    edge = straight_edge(net, "Phan Xích Long", oneway=True)
    length = float(net.edge_length_m[edge])
    upstream = point_on_edge(net, edge, 0.2, offset_m=4.0)
    downstream = point_on_edge(net, edge, 0.8, offset_m=4.0)
    direct = 0.6 * length + 8.0
    with_flow = routing.shortest_route(net, "motorbike", origin=upstream, destination=downstream)
    assert with_flow.length_m == pytest.approx(direct, abs=1e-6)
    against = routing.shortest_route(net, "motorbike", origin=downstream, destination=upstream)
    assert against.length_m > direct + 100
    # it leaves by the street's end and comes back in at its start, never against the flow
    assert against.node_osmids[0] == net.node_osmid[net.edge_v[edge]]
    assert against.node_osmids[-1] == net.node_osmid[net.edge_u[edge]]
    assert not against.edges_reversed.any()
    walk_back = routing.shortest_route(net, "walk", origin=downstream, destination=upstream)
    assert walk_back.length_m == pytest.approx(direct, abs=1e-6)
    matrix = routing.cost_matrix(
        net,
        "motorbike",
        origins=np.vstack([upstream, downstream]),
        destinations=np.vstack([upstream, downstream]),
    )
    assert matrix.dense()[0, 1] == pytest.approx(direct, abs=1e-6)
    assert matrix.dense()[1, 0] == pytest.approx(against.length_m, abs=1e-6)


def test_a_route_follows_the_roads_from_door_to_door(
    district_network: RoadNetwork, district_schools_xy: np.ndarray
) -> None:
    net = district_network
    home = lonlat(net, 106.6850, 10.7800)
    school = district_schools_xy[3]
    for mode in ("walk", "motorbike"):
        route = routing.shortest_route(net, mode, origin=home, destination=school)
        line = route.geometry
        assert line.is_valid
        assert np.allclose(line.coords[0], home)
        assert np.allclose(line.coords[-1], school)
        # the drawn line is as long as the route (osmnx lengths are great-circle metres)
        assert line.length == pytest.approx(route.length_m, rel=5e-3)
        matrix = routing.cost_matrix(net, mode, origins=home, destinations=school)
        assert route.length_m == pytest.approx(matrix.length_m[0], abs=1e-6)
        assert route.travel_time_s == pytest.approx(matrix.travel_time_s[0], abs=1e-6)
        # consecutive edges share their nodes, in order
        u = np.where(route.edges_reversed, net.edge_v[route.edges], net.edge_u[route.edges])
        v = np.where(route.edges_reversed, net.edge_u[route.edges], net.edge_v[route.edges])
        assert np.array_equal(u[1:], v[:-1])
        assert np.array_equal(net.node_osmid[u], route.node_osmids[:-1])
        # and every edge lies on the drawn line
        edges = net.edge_geometries()[route.edges]
        assert (shapely.distance(edges, line.buffer(0.01)) == 0).all()


def test_a_route_uses_the_fastest_roads_when_asked(district_network: RoadNetwork) -> None:
    net = district_network
    home = lonlat(net, 106.6700, 10.7700)
    school = lonlat(net, 106.6950, 10.7880)
    shortest = routing.shortest_route(net, "motorbike", origin=home, destination=school)
    fastest = routing.shortest_route(
        net, "motorbike", origin=home, destination=school, weight="travel_time_s"
    )
    assert fastest.travel_time_s <= shortest.travel_time_s
    assert fastest.length_m >= shortest.length_m
    graph = net.mode_graph("motorbike")
    first, last = fastest.node_osmids[0], fastest.node_osmids[-1]
    expected = nx.dijkstra_path_length(graph, int(first), int(last), weight="travel_time_s")
    along = net.edge_time_s[1, fastest.edges].sum()
    assert along == pytest.approx(expected, abs=1e-6)
