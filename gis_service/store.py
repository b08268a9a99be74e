"""Opening a store: engine from settings, schema at head, the bundled district loaded."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from gis_service.db import repository
from gis_service.db.engine import is_sqlite, make_engine
from gis_service.db.migrate import upgrade_schema
from gis_service.ingest.district import LoadReport, load_district
from gis_service.settings import BUNDLED_DISTRICT_DIR, Settings


def open_engine(settings: Settings) -> Engine:
    """Return the engine of the configured store (SpatiaLite unless ``DATABASE_URL`` is set)."""
    url = settings.store_url
    spatialite = settings.resolved_spatialite_path() if is_sqlite(url) else None
    return make_engine(url, spatialite_path=spatialite)


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
