"""The bundled district's road network and zones, computed once, and stores that get them.

The network cache and the district's geography (cohort, demand points, cost matrices) with
two zonings are computed on a SpatiaLite copy of the bundled district; a test copies the
network cache into its own store (:func:`copy_network_cache`) and saves what it needs with
:func:`publish_zones`.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from gis_service.db import zones_repository
from gis_service.networks import NetworkCache
from gis_service.settings import Settings
from gis_service.startup import open_engine
from gis_service.zones.compute import ZoningOptions, ZoningResult, compute_zoning
from gis_service.zones.geography import (
    Geography,
    build_geography,
    bundled_zoning_manifest,
    read_zoning_manifest,
)
from tests.support.stores import DISTRICT_CODE, Templates, make_store_settings


@dataclass(frozen=True)
class Computed:
    """What the session computes once."""

    cache_dir: Path
    geography: Geography
    optimal: ZoningResult
    roomy: ZoningResult


def network_cache_of(settings: Settings) -> Path:
    """Return the folder of the district's road-network cache in the store of ``settings``."""
    return settings.networks_dir / DISTRICT_CODE / "cache"


def copy_network_cache(cache_dir: Path, settings: Settings) -> Settings:
    """Copy the network cache files of ``cache_dir`` into the store of ``settings``."""
    cache = network_cache_of(settings)
    cache.mkdir(parents=True, exist_ok=True)
    for saved in cache_dir.glob("*.npz"):
        shutil.copyfile(saved, cache / saved.name)
    return settings


def build_network_cache(templates: Templates, folder: Path) -> Path:
    """Build the district's road network in a SpatiaLite copy under ``folder``; return its cache."""
    settings = next(make_store_settings("spatialite", templates, folder))
    engine = open_engine(settings)
    try:
        with Session(engine) as session:
            NetworkCache(settings).for_district(session)
    finally:
        engine.dispose()
    return network_cache_of(settings)


def compute_zones(templates: Templates, cache_dir: Path, folder: Path) -> Computed:
    """Compute the district's geography and its optimal and roomy zonings."""
    settings = next(make_store_settings("spatialite", templates, folder))
    copy_network_cache(cache_dir, settings)
    engine = open_engine(settings)
    try:
        with Session(engine) as session:
            district_net = NetworkCache(settings).for_district(session)
            manifest = read_zoning_manifest(bundled_zoning_manifest())
            geography = build_geography(session, district_net, manifest)
    finally:
        engine.dispose()
    return Computed(
        cache_dir=cache_dir,
        geography=geography,
        optimal=compute_zoning(geography, ZoningOptions()),
        roomy=compute_zoning(geography, ZoningOptions(default_first_grade_classes=12)),
    )


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
