"""Snapping onto the nearest edge: partial lengths, the off-network leg, the limit."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely import Point

import routing
from routing import RoadNetwork
from tests.support.roads import lonlat, point_on_edge, straight_edge


def test_a_point_beside_the_middle_of_an_edge_counts_half_the_edge(
    district_network: RoadNetwork,
) -> None:
    net = district_network
    edge = straight_edge(net, "Huỳnh Mẫn Đạt", oneway=False)
    length = float(net.edge_length_m[edge])
    assert length == pytest.approx(203.0, abs=0.5)
    home = point_on_edge(net, edge, 0.5, offset_m=12.0)
    snapped = routing.snap_points(net, home, mode="walk")
    assert snapped.status_names() == ["ok"]
    assert snapped.edge[0] in {edge, net.edge_twin[edge]}
    fraction = snapped.fraction[0] if snapped.edge[0] == edge else 1 - snapped.fraction[0]
    assert fraction == pytest.approx(0.5, abs=1e-9)
    assert snapped.distance_m[0] == pytest.approx(12.0, abs=1e-6)
    assert np.allclose([snapped.snapped_x[0], snapped.snapped_y[0]], point_on_edge(net, edge, 0.5))
    # to the street corner at the edge's start: half the edge plus the 12 m to the road
    corner = np.array([net.node_x[net.edge_u[edge]], net.node_y[net.edge_u[edge]]])
    for mode in ("walk", "motorbike"):
        matrix = routing.cost_matrix(net, mode, origins=home, destinations=corner)
        assert matrix.dense()[0, 0] == pytest.approx(0.5 * length + 12.0, abs=1e-6)
    speed = net.edge_length_m[edge] / net.edge_time_s[1, edge]
    route = routing.shortest_route(net, "motorbike", origin=home, destination=corner)
    assert route.travel_time_s == pytest.approx(0.5 * length / speed + 12.0 / 2.8, abs=1e-6)


def test_a_point_in_the_river_is_not_snapped_across_it(district_network: RoadNetwork) -> None:
    net = district_network
    # the middle of the Saigon River off Bến Bạch Đằng; the extract's roads end on the west bank
    river = lonlat(net, 106.7125, 10.7795)
    snapped = routing.snap_points(net, river, mode="walk")
    assert snapped.status_names() == ["too_far"]
    assert snapped.edge[0] == -1
    assert 400 < snapped.distance_m[0] < 700
    with pytest.raises(
        routing.SnapDistanceError,
        match=r"origin 0 is \d+ m from the nearest road open to walk \(limit 250 m\)",
    ) as caught:
        routing.shortest_route(net, "walk", origin=river, destination=lonlat(net, 106.69, 10.78))
    assert caught.value.index == 0
    assert caught.value.distance_m == pytest.approx(snapped.distance_m[0])
    # with a longer limit it would snap to the bank: the limit is what prevents it
    assert routing.snap_points(net, river, mode="walk", max_distance_m=2000).ok.all()


def test_snapping_reports_each_point(district_network: RoadNetwork) -> None:
    net = district_network
    points = np.vstack([lonlat(net, 106.685, 10.78), [np.inf, 0.0], lonlat(net, 106.80, 10.78)])
    snapped = routing.snap_points(net, points, mode="motorbike")
    assert snapped.status_names() == ["ok", "invalid", "too_far"]
    assert np.isnan(snapped.distance_m[1])
    with pytest.raises(routing.SnapDistanceError, match="school 1 has no finite coordinates"):
        snapped.raise_for_status(what="school")


def test_motorbikes_are_not_snapped_onto_footways(district_network: RoadNetwork) -> None:
    net = district_network
    highway = np.array(net.highway_names)[net.edge_highway]
    long_footways = np.flatnonzero((highway == "footway") & (net.edge_length_m > 60))
    spot = net.coords[net.coord_ptr[long_footways] + 1][:50]
    walk = routing.snap_points(net, spot, mode="walk")
    motorbike = routing.snap_points(net, spot, mode="motorbike")
    assert (highway[walk.edge[walk.ok]] == "footway").mean() > 0.8
    assert "footway" not in set(highway[motorbike.edge[motorbike.ok]])


def test_geoseries_must_be_in_the_network_crs(district_network: RoadNetwork) -> None:
    lonlat_points = gpd.GeoSeries([Point(106.685, 10.78)], crs="EPSG:4326")
    with pytest.raises(routing.RoutingInputError, match="EPSG:4326; the network is in EPSG:32648"):
        routing.snap_points(district_network, lonlat_points, mode="walk")
    metric = lonlat_points.to_crs(district_network.crs)
    assert routing.snap_points(district_network, metric, mode="walk").ok.all()
    with pytest.raises(routing.RoutingInputError, match="shape"):
        routing.snap_points(district_network, np.zeros((3, 3)), mode="walk")


def test_points_snapped_toward_schools_join_the_roads_that_reach_them(
    district_network: RoadNetwork, district_schools_xy: np.ndarray
) -> None:
    net = district_network
    rng = np.random.default_rng(7)
    west, south = lonlat(net, 106.668, 10.768)
    east, north = lonlat(net, 106.696, 10.792)
    homes = rng.uniform([west, south], [east, north], size=(2_000, 2))
    schools = routing.snap_points(net, district_schools_xy, mode="walk")
    plain = routing.snap_points(net, homes, mode="walk")
    toward = routing.snap_points(net, homes, mode="walk", toward=schools)
    labels = routing.node_components(net, "walk")
    school_parts = set(labels[net.edge_u[schools.edge]].tolist())
    stranded = ~np.isin(labels[net.edge_u[plain.edge]], list(school_parts))
    # homes whose nearest road reaches a school keep it; the others move to one that does
    assert 0 < stranded.sum() < 40
    assert np.array_equal(toward.edge[~stranded], plain.edge[~stranded])
    assert np.array_equal(toward.distance_m[~stranded], plain.distance_m[~stranded])
    assert np.isin(labels[net.edge_u[toward.edge]], list(school_parts)).all()
    assert (toward.distance_m[stranded] > plain.distance_m[stranded]).all()
    assert toward.ok.all()
    with pytest.raises(routing.RoutingInputError, match="snapped for walk, not motorbike"):
        routing.snap_points(net, homes[:1], mode="motorbike", toward=schools)
