"""Admission zones computed once per session, for the zone and forecast tests.

The district's geography (cohort, demand points, cost matrices) and two zonings are
computed on a SpatiaLite copy of the bundled district; each test saves what it needs
into its own fresh store (SpatiaLite or PostGIS) with :func:`publish_zones`.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from gis_service.db import zones_repository
from gis_service.networks import NetworkCache
from gis_service.settings import Settings
from gis_service.startup import open_engine
from gis_service.zones.compute import (
    Geography,
    ZoningOptions,
    ZoningResult,
    build_geography,
    bundled_zoning_manifest,
    compute_zoning,
    read_zoning_manifest,
)
from tests.conftest import DISTRICT_CODE, Templates, make_store_settings


@dataclass(frozen=True)
class Computed:
    """What the session computes once."""

    cache_dir: Path
    geography: Geography
    optimal: ZoningResult
    roomy: ZoningResult


@pytest.fixture(scope="session")
def computed(templates: Templates, tmp_path_factory: pytest.TempPathFactory) -> Computed:
    folder = tmp_path_factory.mktemp("zones")
    settings = next(make_store_settings("spatialite", templates, folder / "data"))
    engine = open_engine(settings)
    try:
        with Session(engine) as session:
            district_net = NetworkCache(settings).for_district(session)
            manifest = read_zoning_manifest(bundled_zoning_manifest())
            geography = build_geography(session, district_net, manifest)
    finally:
        engine.dispose()
    return Computed(
        cache_dir=settings.networks_dir / DISTRICT_CODE / "cache",
        geography=geography,
        optimal=compute_zoning(geography, ZoningOptions()),
        roomy=compute_zoning(geography, ZoningOptions(default_first_grade_classes=12)),
    )


@pytest.fixture
def fast_settings(settings: Settings, computed: Computed) -> Settings:
    """The test's store with the district's network cache already built."""
    cache = settings.networks_dir / DISTRICT_CODE / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    for saved in computed.cache_dir.glob("*.npz"):
        shutil.copyfile(saved, cache / saved.name)
    return settings


def publish_zones(settings: Settings, result: ZoningResult, name: str = "q3-optimal") -> int:
    """Save ``result`` as a zone version of the test's store and publish it; return its id."""
    engine = open_engine(settings)
    try:
        with Session(engine) as session:
            record = zones_repository.save_zone_version(
                session, result.draft(name=name, actor="test")
            )
            zones_repository.publish_zone_version(
                session, record.id, district_code=DISTRICT_CODE, actor="test"
            )
            session.commit()
            return record.id
    finally:
        engine.dispose()
