"""Fixtures of the routing tests: the bundled district's network, built once per session."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest

import routing
from gis_service.settings import BUNDLED_DISTRICT_DIR
from routing import RoadNetwork
from tests.support.roads import DISTRICT_EXTRACT, DISTRICT_OPTIONS


@pytest.fixture(scope="session")
def network_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache folder shared by the session (the district network is built into it once)."""
    return tmp_path_factory.mktemp("network-cache")


@pytest.fixture(scope="session")
def district_network(network_cache: Path) -> RoadNetwork:
    """Quận 3 + 1 km, from the bundled OSM extract, in EPSG:32648."""
    return routing.load_network(DISTRICT_EXTRACT, cache_dir=network_cache, options=DISTRICT_OPTIONS)


@pytest.fixture(scope="session")
def district_schools_xy(district_network: RoadNetwork) -> np.ndarray:
    """The bundled OSM schools inside Quận 3, as metric x, y."""
    boundary = gpd.read_file(
        f"/vsigzip/{BUNDLED_DISTRICT_DIR / 'wards/district3_boundary.geojson.gz'}"
    )
    schools = gpd.read_file(
        f"/vsigzip/{BUNDLED_DISTRICT_DIR / 'schools/schools_osm_2018_central_hcmc.geojson.gz'}"
    )
    inside = schools[schools.to_crs(boundary.crs).within(boundary.union_all())]
    points = inside.to_crs(district_network.crs).geometry.representative_point()
    return np.column_stack([points.x, points.y])
