"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from gis_service import __version__
from gis_service.api.problems import install_problem_handlers
from gis_service.api.routes import districts, forecasts, health, imports, routing, schools, zones
from gis_service.networks import NetworkStore
from gis_service.settings import Settings
from gis_service.store import open_engine, prepare_store

API_PREFIX = "/api/v1"


def create_app(settings: Settings) -> FastAPI:
    """Return the service for ``settings``; the store is opened and prepared at start-up."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = open_engine(settings)
        prepare_store(engine, settings)
        app.state.engine = engine
        # each district's road network is built or read from its cache on first use
        app.state.networks = NetworkStore(settings)
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
    app.state.settings = settings
    install_problem_handlers(app)
    for router in (
        imports.router,
        routing.router,
        zones.router,
        schools.router,
        districts.router,
        forecasts.router,
        health.router,
    ):
        app.include_router(router, prefix=API_PREFIX)
    return app
