"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.staticfiles import StaticFiles

from gis_service import __version__
from gis_service.api.compute import ComputeThreads, HeavyJobs
from gis_service.api.freshness import RefreshAfterWrites
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
from gis_service.public_data import PublicData
from gis_service.settings import Settings
from gis_service.startup import fail_interrupted_runs, open_engine, prepare_store
from gis_service.web_map import CachedAnswers, MapBackgrounds
from gis_service.zones.geography import ZoningCache
from maps import assets
from maps.pages import ASSET_URL

API_PREFIX = "/api/v1"
#: gzip level of the answers the service compresses as it sends them: small JSON gains
#: little past 5 and costs more CPU per request (the map pages are compressed once).
GZIP_LEVEL = 5
#: Heavy computations run at once (zones, placement, site suggestion, scenarios), each in a
#: thread of their own at a lower priority: the threads that serve the public stay free.
HEAVY_JOBS = 2
#: Eligibility look-ups computed at once (a few milliseconds of CPU each, partly without
#: the GIL) and look-ups that may wait for them; one more answers 503 with Retry-After.
LOOKUPS_AT_ONCE = 2
LOOKUPS_WAITING = 64


def create_app(settings: Settings) -> FastAPI:
    """Return the service for ``settings``; the store is opened and prepared at start-up."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = open_engine(settings)
        if settings.prepare_store_at_start:
            prepare_store(engine, settings)
            fail_interrupted_runs(engine)
        app.state.engine = engine
        # the health check's own connection: it answers while every other one is in use
        app.state.health_engine = open_engine(settings, pool_size=1)
        app.state.heavy_jobs = HeavyJobs(HEAVY_JOBS)
        # each district's road network is built or read from its cache on first use
        app.state.networks = NetworkCache(settings)
        public_data = PublicData(engine, app.state.networks, settings.district_code)
        await anyio.to_thread.run_sync(public_data.refresh)
        app.state.public_data = public_data
        try:
            async with anyio.create_task_group() as watchers:
                watchers.start_soon(public_data.watch)
                yield
                watchers.cancel_scope.cancel()
        finally:
            app.state.heavy_jobs.close()
            app.state.health_engine.dispose()
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
    app.state.cached_answers = CachedAnswers()
    app.state.lookups = ComputeThreads(LOOKUPS_AT_ONCE, LOOKUPS_WAITING, "look-ups")
    # pages and GeoJSON shrink to a quarter or less: the map must load on a slow phone link
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=GZIP_LEVEL)
    app.add_middleware(SecurityHeaders, tile_url=settings.map_tile_url)
    app.add_middleware(RefreshAfterWrites)
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


def app_from_environment() -> FastAPI:
    """Return the service for the settings of the environment (each worker process's)."""
    return create_app(Settings())
