"""Isochrones: nested polygons around what is reachable within the limits."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

import routing
from routing import RoadNetwork
from tests.support.roads import lonlat


def test_isochrones_are_nested_and_cover_what_is_reachable(district_network: RoadNetwork) -> None:
    net = district_network
    school = lonlat(net, 106.6870, 10.7810)
    areas = routing.isochrones(net, "walk", origin=school, limits=[600, 300, 900])
    assert list(areas["limit"]) == [300, 600, 900]
    assert areas.crs == net.crs
    polygons = list(areas.geometry)
    assert all(p.is_valid and p.area > 0 for p in polygons)
    assert polygons[0].area < polygons[1].area < polygons[2].area
    assert polygons[1].buffer(1e-6).contains(polygons[0])
    assert polygons[0].contains(shapely.Point(school))
    # every node a 10-minute walk away (with the margin of the road buffer) is inside
    times = routing.cost_matrix(
        net,
        "walk",
        origins=school,
        destinations=np.column_stack([net.node_x, net.node_y]),
        weight="travel_time_s",
        cutoff=600,
    )
    _, nodes = times.pairs()
    reached = shapely.points(net.node_x[nodes], net.node_y[nodes])
    assert nodes.size > 100
    assert shapely.contains(polygons[1].buffer(1.0), reached).mean() > 0.99
    # 600 s of walking covers about 720 m; the area stays within that radius plus the buffer
    assert shapely.Point(school).buffer(720 + 50 + 1).contains(polygons[1])


def test_motorbikes_reach_farther_than_walkers(district_network: RoadNetwork) -> None:
    net = district_network
    school = lonlat(net, 106.6870, 10.7810)
    walk = routing.isochrones(net, "walk", origin=school, limits=[300]).geometry[0]
    ride = routing.isochrones(net, "motorbike", origin=school, limits=[300]).geometry[0]
    toward = routing.isochrones(net, "motorbike", origin=school, limits=[300], toward=True)
    assert ride.area > 4 * walk.area
    assert toward.geometry[0].area == pytest.approx(ride.area, rel=0.3)
    by_length = routing.isochrones(
        net, "walk", origin=school, limits=[500], weight="length_m"
    ).geometry[0]
    assert by_length.area > 0


def test_isochrone_limits_are_checked(district_network: RoadNetwork) -> None:
    school = lonlat(district_network, 106.6870, 10.7810)
    with pytest.raises(routing.RoutingInputError, match="limits"):
        routing.isochrones(district_network, "walk", origin=school, limits=[-5])
    with pytest.raises(routing.RoutingInputError, match="at least one limit"):
        routing.isochrones(district_network, "walk", origin=school, limits=[])
