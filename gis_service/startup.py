"""Opening a store: engine from settings, schema at head, the bundled district loaded."""

from __future__ import annotations

import logging

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from gis_service.db import placement_runs_repository, repository, zones_repository
from gis_service.db.engine import POOL_SIZE, is_sqlite, make_engine
from gis_service.db.migrate import upgrade_schema
from gis_service.db.zones_repository import ZoneVersionRecord
from gis_service.ingest.district import LoadReport, load_district
from gis_service.networks import NetworkCache
from gis_service.settings import BUNDLED_DISTRICT_DIR, Settings
from gis_service.zones.compute import ZoningOptions, compute_zoning
from gis_service.zones.geography import ZoningCache, bundled_zoning_manifest, read_zoning_manifest

logger = logging.getLogger(__name__)

#: Who the first zones of the bundled district are recorded as published by.
BUNDLED_ZONES_ACTOR = "schoolgis serve (bundled district)"


def open_engine(settings: Settings, *, pool_size: int = POOL_SIZE) -> Engine:
    """Return the engine of the configured store (SpatiaLite unless ``DATABASE_URL`` is set).

    Parameters
    ----------
    settings
        The store's settings.
    pool_size
        Connections kept open.
    """
    url = settings.store_url
    spatialite = settings.resolved_spatialite_path() if is_sqlite(url) else None
    return make_engine(url, spatialite_path=spatialite, pool_size=pool_size)


def prepare_store(engine: Engine, settings: Settings) -> LoadReport | None:
    """Migrate the store to the newest schema and load the bundled district into an empty one.

    Returns
    -------
    LoadReport or None
        The report of the bundled load, or ``None`` when nothing was loaded.
    """
    upgrade_schema(engine)
    if not settings.load_bundled_district:
        return None
    with Session(engine) as session:
        if repository.list_districts(session):
            return None
        report = load_district(
            session,
            BUNDLED_DISTRICT_DIR / "district.toml",
            networks_dir=settings.networks_dir,
            class_size_cap=settings.class_size_cap,
        )
        session.commit()
    return report


#: Why a run found ``running`` when the service starts is failed.
INTERRUPTED_RUN_ERROR = (
    "interrupted: the service stopped while the run was computing (no result was saved)"
)


def fail_interrupted_runs(engine: Engine) -> list[int]:
    """Mark the placement runs a stopped service left ``running`` as failed; return them.

    The service calls it when it starts, before it answers: a run is computed inside the
    request that started it, so one still ``running`` then lost its process (a crash, a
    kill, a restart). Its results were never committed; it keeps its audit entry and is
    answered as ``failed`` with :data:`INTERRUPTED_RUN_ERROR`. One service serves a store;
    a ``schoolgis placement run`` of the command line still computing when the service
    starts is failed too, and its results are then refused (nothing is saved).
    """
    with Session(engine) as session:
        failed = placement_runs_repository.fail_interrupted_runs(
            session, error=INTERRUPTED_RUN_ERROR
        )
        session.commit()
    if failed:
        logger.warning("placement runs %s were left running and are now failed", failed)
    return failed


def publish_bundled_zones(session: Session, networks: NetworkCache) -> ZoneVersionRecord | None:
    """Compute and publish the bundled district's zones when it has no zone version yet.

    The service then answers the eligibility lookup and draws the zones on the public map
    from its first start. The version says it was made this way (``created_by``); planners
    replace it with ``schoolgis zones compute`` and ``publish``.

    Returns
    -------
    ZoneVersionRecord or None
        The published version, or ``None`` when nothing was done.
    """
    manifest = read_zoning_manifest(bundled_zoning_manifest())
    districts = {d.code for d in repository.list_districts(session)}
    if manifest.district_code not in districts:
        return None
    if zones_repository.list_zone_versions(session, manifest.district_code):
        return None
    district_net = networks.for_district(session, manifest.district_code)
    geography = ZoningCache().geography(session, district_net, manifest)
    result = compute_zoning(geography, ZoningOptions(method="optimal"))
    draft = result.draft(name="Vùng tuyển sinh ban đầu (optimal)", actor=BUNDLED_ZONES_ACTOR)
    saved = zones_repository.save_zone_version(session, draft)
    published = zones_repository.publish_zone_version(
        session, saved.id, district_code=manifest.district_code, actor=BUNDLED_ZONES_ACTOR
    )
    session.commit()
    return published
