"""The FastAPI application factory."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.staticfiles import StaticFiles

from gis_service import __version__
from gis_service.api.headers import SecurityHeaders
from gis_service.api.limits import RateLimiter
from gis_service.api.problems import install_problem_handlers
from gis_service.api.routes import (
    applications,
    auth,
    distances,
    districts,
    forecasts,
    health,
    imports,
    pages,
    placements,
    rounds,
    scenarios,
    schools,
    zones,
)
from gis_service.networks import NetworkCache
from gis_service.planning.cache import PlanningCache
from gis_service.settings import Settings
from gis_service.startup import fail_interrupted_runs, open_engine, prepare_store
from gis_service.web_map import MapBackgrounds, MapPages
from gis_service.zones.eligibility import ZonesOfVersions
from gis_service.zones.geography import ZoningCache
from maps import assets
from maps.pages import ASSET_URL

API_PREFIX = "/api/v1"
#: Heavy computations run at once (zones, placement, site suggestion, scenarios), each in a
#: thread of their own: the 40 threads that serve the public stay free for it.
HEAVY_JOBS = 2
#: Eligibility look-ups computed at once; one more answers 503 with Retry-After at once
#: rather than queue behind them (each takes tens of milliseconds of CPU).
LOOKUPS_AT_ONCE = 4


def create_app(settings: Settings) -> FastAPI:
    """Return the service for ``settings``; the store is opened and prepared at start-up."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = open_engine(settings)
        prepare_store(engine, settings)
        fail_interrupted_runs(engine)
        app.state.engine = engine
        app.state.heavy_jobs = anyio.CapacityLimiter(HEAVY_JOBS)
        # each district's road network is built or read from its cache on first use
        app.state.networks = NetworkCache(settings)
        try:
            yield
        finally:
            engine.dispose()

    app = FastAPI(
        title="Bản đồ trường học — School GIS",
        summary="Vietnamese district school registry, admission zones and planning",
        version=__version__,
        lifespan=lifespan,
    )
    assets.check_assets()
    app.state.settings = settings
    app.state.zoning_cache = ZoningCache()
    app.state.planning_cache = PlanningCache()
    app.state.map_backgrounds = MapBackgrounds()
    app.state.rate_limiter = RateLimiter(settings)
    app.state.map_pages = MapPages()
    app.state.zone_versions = ZonesOfVersions()
    app.state.lookup_slots = threading.BoundedSemaphore(LOOKUPS_AT_ONCE)
    # pages and GeoJSON shrink to a quarter or less: the map must load on a slow phone link
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    app.add_middleware(SecurityHeaders, tile_url=settings.map_tile_url)
    if settings.cors_origins:
        # the exported map on a district's website asks the eligibility lookup from there
        app.add_middleware(
            CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET"]
        )
    install_problem_handlers(app)
    for router in (
        imports.router,
        distances.router,
        zones.router,
        schools.router,
        districts.router,
        forecasts.router,
        health.router,
        auth.router,
        rounds.router,
        applications.router,
        placements.router,
        scenarios.router,
    ):
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(pages.router)
    app.mount(ASSET_URL, StaticFiles(directory=assets.ASSET_DIR), name="map-assets")
    return app
