"""Fixtures of the service tests: the district's network and zones, and shared read-only stores.

The road network and the district's geography with two zonings are computed once per
session on a SpatiaLite copy of the bundled district (:mod:`tests.support.zones`); a test
copies the network cache into its own store (``fast_settings``) and publishes the zones it
needs. Tests that only read share one store per backend (``read_only_*``, and
``zoned_read_only_*`` with the optimal zones published); each of them fails if the shared
store's rows changed while it ran.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gis_service.app import create_app
from gis_service.settings import Settings
from tests.support.shared import SharedStores, unchanged
from tests.support.stores import Templates
from tests.support.zones import (
    Computed,
    build_network_cache,
    compute_zones,
    copy_network_cache,
    publish_zones,
)


@pytest.fixture(scope="session")
def network_cache_dir(templates: Templates, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled district's road-network cache, built once per session."""
    return build_network_cache(templates, tmp_path_factory.mktemp("network") / "data")


@pytest.fixture(scope="session")
def computed(
    templates: Templates, network_cache_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Computed:
    return compute_zones(templates, network_cache_dir, tmp_path_factory.mktemp("zones") / "data")


@pytest.fixture
def fast_settings(settings: Settings, network_cache_dir: Path) -> Settings:
    """The test's store with the district's network cache already built."""
    return copy_network_cache(network_cache_dir, settings)


@pytest.fixture(scope="session")
def shared_stores(
    templates: Templates, network_cache_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SharedStores]:
    with ExitStack() as stack:
        yield SharedStores(templates, network_cache_dir, tmp_path_factory.mktemp("shared"), stack)


@pytest.fixture
def read_only_settings(store_kind: str, shared_stores: SharedStores) -> Iterator[Settings]:
    """A store of the bundled district (network cache built) shared by tests that only read."""
    with unchanged(shared_stores.settings("district", store_kind)) as settings:
        yield settings


@pytest.fixture
def read_only_client(
    store_kind: str, shared_stores: SharedStores, read_only_settings: Settings
) -> TestClient:
    """The service on ``read_only_settings``, started once per session."""
    return shared_stores.client("district", store_kind)


@pytest.fixture
def zoned_read_only_settings(
    store_kind: str, shared_stores: SharedStores, computed: Computed
) -> Iterator[Settings]:
    """A shared read-only store like ``read_only_settings`` with the optimal zones published."""
    shared = shared_stores.settings(
        "zoned", store_kind, lambda made: publish_zones(made, computed.optimal)
    )
    with unchanged(shared) as settings:
        yield settings


@pytest.fixture
def zoned_read_only_client(
    store_kind: str, shared_stores: SharedStores, zoned_read_only_settings: Settings
) -> TestClient:
    """The service on ``zoned_read_only_settings``, started once per session."""
    return shared_stores.client("zoned", store_kind)


@pytest.fixture
def published_client(fast_settings: Settings, computed: Computed) -> Iterator[TestClient]:
    """The service on ``fast_settings`` with the optimal zones published as ``q3-optimal``."""
    publish_zones(fast_settings, computed.optimal)
    with TestClient(create_app(fast_settings)) as client:
        yield client
