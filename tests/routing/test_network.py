"""Building the network from OSM: speeds, access, one-way edges, projection, cache."""

from __future__ import annotations

import shutil
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

import routing
from routing import MOTORBIKE, WALK, BuildOptions, RoadNetwork
from routing.cache import cache_key, cache_path, file_sha256
from tests.support.roads import DISTRICT_EXTRACT, DISTRICT_OPTIONS


def test_the_bundled_district_becomes_a_metric_network(district_network: RoadNetwork) -> None:
    net = district_network
    assert net.crs.to_epsg() == 32648
    assert (net.n_nodes, net.n_edges) == (6402, 16343)
    assert [m.name for m in net.modes] == ["walk", "motorbike"]
    # Quận 3 lies around 686 km east, 1 192 km north in UTM 48N
    assert 680_000 < net.node_x.mean() < 690_000
    assert 1_188_000 < net.node_y.mean() < 1_196_000
    assert net.source_sha256 == file_sha256(DISTRICT_EXTRACT)
    # every edge's geometry runs from its u to its v
    first = net.coords[net.coord_ptr[:-1]]
    last = net.coords[net.coord_ptr[1:] - 1]
    assert np.allclose(first, np.column_stack([net.node_x, net.node_y])[net.edge_u])
    assert np.allclose(last, np.column_stack([net.node_x, net.node_y])[net.edge_v])


def test_speeds_follow_the_table(district_network: RoadNetwork) -> None:
    net = district_network
    highway = np.array(net.highway_names)[net.edge_highway]
    walk, motorbike = net.edge_time_s
    primary = highway == "primary"
    assert primary.sum() > 100
    assert np.allclose(
        motorbike[primary], net.edge_length_m[primary] / MOTORBIKE.speed_of("primary")
    )
    walkable = primary & np.isfinite(walk)  # a few primary edges carry foot=no
    assert walkable.sum() > 0.9 * primary.sum()
    assert np.allclose(walk[walkable], net.edge_length_m[walkable] / 1.2)
    footway = highway == "footway"
    assert footway.sum() > 10
    assert np.isinf(motorbike[footway]).all()
    assert np.isfinite(walk[footway]).all()
    # a class the mode may not use at all
    assert MOTORBIKE.speed_of("steps") is None
    assert WALK.speed_of("motorway") is None


def test_one_way_streets_have_no_reverse_twin(district_network: RoadNetwork) -> None:
    net = district_network
    twin = net.edge_twin
    assert np.array_equal(twin[twin[twin >= 0]], np.flatnonzero(twin >= 0))
    assert (twin[net.edge_oneway] == -1).all()
    assert (twin[~net.edge_oneway] >= 0).all()
    walk = net.mode_graph_arrays("walk")
    motorbike = net.mode_graph_arrays("motorbike")
    # pedestrians get a reverse arc for every one-way edge they may use
    assert walk.arc_reversed.sum() == (net.edge_oneway & np.isfinite(net.edge_time_s[0])).sum()
    assert not motorbike.arc_reversed.any()


def test_networkx_models_match_the_arrays(district_network: RoadNetwork) -> None:
    graph = district_network.to_networkx()
    assert (graph.number_of_nodes(), graph.number_of_edges()) == (6402, 16343)
    u, _, data = next(iter(graph.edges(data=True)))
    assert data["length"] == data["length_m"] > 0
    assert data["geometry"].coords[0] == (graph.nodes[u]["x"], graph.nodes[u]["y"])
    motorbike = district_network.mode_graph("motorbike")
    assert (
        motorbike.number_of_edges() == district_network.mode_graph_arrays("motorbike").arc_edge.size
    )
    assert nx.number_weakly_connected_components(motorbike) > 1


def test_the_cache_reloads_the_same_network(
    district_network: RoadNetwork, network_cache: Path
) -> None:
    again = routing.load_network(
        DISTRICT_EXTRACT, cache_dir=network_cache, options=DISTRICT_OPTIONS
    )
    assert again is not district_network
    for name in ("node_osmid", "edge_u", "edge_v", "edge_length_m", "edge_time_s", "coords"):
        assert np.array_equal(getattr(again, name), getattr(district_network, name))
    assert again.street_names == district_network.street_names


def test_the_cache_key_changes_with_source_and_options() -> None:
    sha = "a" * 64
    keys = {
        cache_key(sha, DISTRICT_OPTIONS),
        cache_key("b" * 64, DISTRICT_OPTIONS),
        cache_key(sha, BuildOptions(crs="EPSG:32648", simplify=False)),
        cache_key(sha, BuildOptions(crs="EPSG:3405")),
        cache_key(sha, BuildOptions(crs="EPSG:32648", modes=(WALK,))),
    }
    assert len(keys) == 5
    assert cache_key(sha, DISTRICT_OPTIONS) == cache_key(sha, BuildOptions(crs="epsg:32648"))


def test_a_damaged_cache_is_rebuilt(
    district_network: RoadNetwork, network_cache: Path, tmp_path: Path
) -> None:
    key = cache_key(district_network.source_sha256, DISTRICT_OPTIONS)
    source = cache_path(DISTRICT_EXTRACT, network_cache, key)
    damaged = cache_path(DISTRICT_EXTRACT, tmp_path, key)
    shutil.copyfile(source, damaged)
    damaged.write_bytes(damaged.read_bytes()[:1000])
    rebuilt = routing.load_network(DISTRICT_EXTRACT, cache_dir=tmp_path, options=DISTRICT_OPTIONS)
    assert np.array_equal(rebuilt.edge_length_m, district_network.edge_length_m)
    assert damaged.stat().st_size == source.stat().st_size


def test_unusable_extracts_are_refused(tmp_path: Path) -> None:
    pbf = tmp_path / "roads.osm.pbf"
    pbf.write_bytes(b"\x00\x01")
    with pytest.raises(routing.NetworkDataError, match="must be OSM XML"):
        routing.load_network(pbf, cache_dir=tmp_path)
    broken = tmp_path / "roads.osm"
    broken.write_text("<osm><node id='1'")
    with pytest.raises(routing.NetworkDataError, match="not a readable OSM XML extract"):
        routing.load_network(broken, cache_dir=tmp_path)
    with pytest.raises(routing.NetworkDataError, match="cannot read"):
        routing.load_network(tmp_path / "missing.osm", cache_dir=tmp_path)
    no_roads = tmp_path / "buildings.osm"
    no_roads.write_text(
        "<osm version='0.6'><node id='1' lat='10.78' lon='106.68'/>"
        "<node id='2' lat='10.781' lon='106.681'/>"
        "<way id='5'><nd ref='1'/><nd ref='2'/><tag k='building' v='yes'/></way></osm>"
    )
    with pytest.raises(routing.NetworkDataError, match="no road"):
        routing.load_network(no_roads, cache_dir=tmp_path)


def test_unknown_modes_are_refused(district_network: RoadNetwork) -> None:
    with pytest.raises(routing.RoutingInputError, match="unknown travel mode 'bicycle'"):
        district_network.mode_graph_arrays("bicycle")
