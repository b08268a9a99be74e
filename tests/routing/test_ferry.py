"""Ferries: crossing time plus a wait, used when they are the only way, islands reported."""

from __future__ import annotations

import bz2
import xml.etree.ElementTree as ET
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

import routing
from routing import BuildOptions, RoadNetwork
from routing.modes import FERRY_SPEED_M_S, FERRY_WAIT_S
from tests.support.roads import CENTRAL_EXTRACT, lonlat

# A tiny network written for this test (not real data): an island commune reached only by
# boat, laid out like Thạnh An and the Cần Thạnh landing in Cần Giờ. The bundled district
# has no ferry, and the only real ferry in the bundled city file (Phà Phú Định, below) has
# no roads on its far bank, so it cannot show a crossing between two road networks.
ISLAND_OSM = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="test">
  <node id="1" lat="10.4130" lon="106.9560"/>
  <node id="2" lat="10.4130" lon="106.9600"/>
  <node id="3" lat="10.4160" lon="106.9600"/>
  <node id="4" lat="10.4160" lon="106.9560"/>
  <node id="5" lat="10.4190" lon="106.9580"/>
  <node id="11" lat="10.5240" lon="106.9760"/>
  <node id="12" lat="10.5260" lon="106.9760"/>
  <node id="13" lat="10.5260" lon="106.9790"/>
  <node id="14" lat="10.5290" lon="106.9790"/>
  <way id="101"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="1"/>
    <tag k="highway" v="residential"/><tag k="name" v="Đường Rừng Sác"/></way>
  <way id="102"><nd ref="3"/><nd ref="5"/>
    <tag k="highway" v="service"/><tag k="name" v="Đường ra bến phà"/></way>
  <way id="111"><nd ref="11"/><nd ref="12"/><nd ref="13"/><nd ref="14"/>
    <tag k="highway" v="residential"/><tag k="name" v="Đường Thạnh An"/></way>
  <way id="201"><nd ref="5"/><nd ref="11"/>
    <tag k="route" v="ferry"/><tag k="name" v="Phà Cần Thạnh - Thạnh An"/></way>
</osm>
"""


def _island_network(tmp_path: Path, *, with_ferry: bool) -> RoadNetwork:
    text = ISLAND_OSM
    if not with_ferry:
        start = text.index('  <way id="201">')
        text = text[:start] + text[text.index("</way>", start) + len("</way>\n") :]
    path = tmp_path / ("island.osm" if with_ferry else "island-no-ferry.osm")
    path.write_text(text, encoding="utf-8")
    return routing.load_network(path, cache_dir=tmp_path / "cache")


def test_the_ferry_is_used_when_it_is_the_only_way(tmp_path: Path) -> None:
    net = _island_network(tmp_path, with_ferry=True)
    ferry = np.flatnonzero(net.edge_ferry)
    assert ferry.size == 2  # one crossing, both directions
    crossing = float(net.edge_length_m[ferry[0]])
    assert 11_000 < crossing < 13_000
    assert np.allclose(net.edge_time_s[:, ferry], crossing / FERRY_SPEED_M_S + FERRY_WAIT_S)
    school = lonlat(net, 106.9580, 10.4131)  # on the mainland square
    home = lonlat(net, 106.9775, 10.5261)  # on the island road
    for mode in ("walk", "motorbike"):
        route = routing.shortest_route(net, mode, origin=home, destination=school)
        assert route.ferry_crossings == 1
        assert route.length_m > crossing
        assert route.travel_time_s > crossing / FERRY_SPEED_M_S + FERRY_WAIT_S
        matrix = routing.cost_matrix(net, mode, origins=home, destinations=school)
        assert matrix.length_m[0] == pytest.approx(route.length_m, abs=1e-6)
        assert matrix.travel_time_s[0] == pytest.approx(route.travel_time_s, abs=1e-6)
    # a trip on the mainland has no reason to take the boat
    local = routing.shortest_route(
        net, "walk", origin=school, destination=lonlat(net, 106.9600, 10.4150)
    )
    assert local.ferry_crossings == 0
    report = routing.component_report(net, "walk")
    assert report.n_components == 1
    island_nodes = np.isin(net.node_osmid, [11, 12, 13, 14])
    assert report.reached_by_ferry[island_nodes].all()
    assert not report.reached_by_ferry[~island_nodes].any()


def test_without_the_ferry_the_island_is_unreachable(tmp_path: Path) -> None:
    net = _island_network(tmp_path, with_ferry=False)
    school = lonlat(net, 106.9580, 10.4131)
    home = lonlat(net, 106.9775, 10.5261)
    matrix = routing.cost_matrix(net, "motorbike", origins=home, destinations=school)
    assert matrix.n_pairs == 0
    assert matrix.origin_reason(0) == "disconnected"
    with pytest.raises(routing.UnreachableError, match="no road or ferry joins") as caught:
        routing.shortest_route(net, "walk", origin=home, destination=school)
    assert caught.value.reason == "disconnected"


def _real_ferry_extract(target: Path) -> None:
    """Write the Phú Định ferry ways of the central file and the roads touching them."""
    nodes: dict[str, ET.Element] = {}
    ways: list[ET.Element] = []
    with bz2.open(CENTRAL_EXTRACT) as handle:
        for _, element in ET.iterparse(handle):
            if element.tag == "node":
                nodes[element.get("id", "")] = element
            elif element.tag == "way":
                ways.append(element)
    ferries = [w for w in ways if any(t.get("v") == "ferry" for t in w.iter("tag"))]
    landing = {nd.get("ref", "") for w in ferries for nd in w.iter("nd")}
    kept = [w for w in ways if landing & {nd.get("ref", "") for nd in w.iter("nd")}]
    used = {nd.get("ref", "") for w in kept for nd in w.iter("nd")}
    root = ET.Element("osm", version="0.6")
    root.extend(nodes[n] for n in sorted(used))
    root.extend(kept)
    ET.ElementTree(root).write(target, encoding="utf-8", xml_declaration=True)


def test_the_real_phu_dinh_ferry_is_a_crossing_with_a_wait(tmp_path: Path) -> None:
    path = tmp_path / "phu_dinh.osm"
    _real_ferry_extract(path)
    net = routing.load_network(path, cache_dir=tmp_path, options=BuildOptions(crs="EPSG:32648"))
    ferry = np.flatnonzero(net.edge_ferry)
    assert sorted(set(net.edge_osmid[ferry])) == [473226924, 489086382, 489086383]
    assert ferry.size == 6
    expected = net.edge_length_m[ferry] / FERRY_SPEED_M_S + FERRY_WAIT_S
    for mode_index in range(2):  # walkers and motorbikes both board
        assert np.allclose(net.edge_time_s[mode_index, ferry], expected)
    # the north landing has no road in the extract: only the boat reaches it
    report = routing.component_report(net, "motorbike")
    north = net.node_index(1846671346)
    assert report.reached_by_ferry[north]
    graph = net.mode_graph("motorbike")
    far_end = 2928727173  # the other end of Hoàng Đạo Thúy, on the south bank
    time, path_nodes = nx.single_source_dijkstra(graph, 1846671346, far_end, weight="travel_time_s")
    assert path_nodes[:2] == [1846671346, 366389418]
    assert time > FERRY_WAIT_S
    # a point beside the landing snaps to a road, never onto the ferry itself
    beside = np.array([net.node_x[north], net.node_y[north]]) + 5.0
    snapped = routing.snap_points(net, beside, mode="walk", max_distance_m=5_000)
    assert not net.edge_ferry[snapped.edge[0]]
