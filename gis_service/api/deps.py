"""Dependencies of the routes: settings, a database session, the caller's role.

What only reads the app's state is ``async``: FastAPI runs it on the event loop instead of
handing it to a thread and back (a thread hop costs more than the reading).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Annotated

import anyio.to_thread
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from gis_service.api.compute import ComputeThreads, HeavyJobs
from gis_service.api.limits import RateLimiter, Scope
from gis_service.db import repository
from gis_service.db.repository import Principal
from gis_service.errors import AuthenticationError, PermissionDeniedError, StoreBusyError
from gis_service.networks import NetworkCache
from gis_service.planning.cache import PlanningCache
from gis_service.planning.evaluation import PlanningContext
from gis_service.public_data import PublicData
from gis_service.settings import Settings
from gis_service.web_map import CachedAnswers, MapBackgrounds
from gis_service.zones.geography import ZoningCache


async def get_settings(request: Request) -> Settings:
    """Return the settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


#: What a request that found every connection in use is told to wait, seconds.
BUSY_RETRY_AFTER_S = 1


def get_session(request: Request) -> Iterator[Session]:
    """Yield a session on the app's engine; the route commits what it writes.

    The session takes a connection on its first query only. A request that finds every
    connection in use for the pool's timeout answers 503 with ``Retry-After``.
    """
    engine: Engine = request.app.state.engine
    with Session(engine) as session:
        try:
            yield session
        except sa_exc.TimeoutError:
            msg = "every connection to the store is in use: try again in a moment"
            raise StoreBusyError(msg, retry_after_s=BUSY_RETRY_AFTER_S) from None


async def get_networks(request: Request) -> NetworkCache:
    """Return the app's road networks (each district's is loaded on first use)."""
    networks: NetworkCache = request.app.state.networks
    return networks


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
NetworkDep = Annotated[NetworkCache, Depends(get_networks)]

_bearer = HTTPBearer(auto_error=False, description="API key issued by `schoolgis keys create`")


def get_principal(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """Return who is calling, from the bearer token.

    Raises
    ------
    AuthenticationError
        If there is no token or it is unknown or revoked.
    """
    if credentials is None:
        msg = "this action needs an API key: send 'Authorization: Bearer <token>'"
        raise AuthenticationError(msg)
    principal = repository.principal_for_token(session, credentials.credentials)
    if principal is None:
        msg = "the API key is not valid (unknown or revoked)"
        raise AuthenticationError(msg)
    return principal


def require_role(*roles: str) -> Callable[[Principal], Principal]:
    """Return a dependency that admits callers holding one of ``roles`` (or ``admin``)."""
    allowed = {*roles, "admin"}

    def check(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if principal.role not in allowed:
            msg = f"role {principal.role!r} may not do this; needs one of {sorted(allowed)}"
            raise PermissionDeniedError(msg)
        return principal

    return check


RegistryEditorDep = Annotated[Principal, Depends(require_role("registry_editor"))]
PlannerDep = Annotated[Principal, Depends(require_role("planner"))]
OfficerDep = Annotated[Principal, Depends(require_role("enrolment_officer"))]


def get_optional_principal(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal | None:
    """Return the bearer key's holder, or ``None`` without a key.

    Raises
    ------
    AuthenticationError
        If a key is sent but is unknown or revoked.
    """
    if credentials is None:
        return None
    principal = repository.principal_for_token(session, credentials.credentials)
    if principal is None:
        msg = "the API key is not valid (unknown or revoked)"
        raise AuthenticationError(msg)
    return principal


OptionalPrincipalDep = Annotated[Principal | None, Depends(get_optional_principal)]


async def get_rate_limiter(request: Request) -> RateLimiter:
    """Return the app's rate limiter (counts in memory or in Redis)."""
    limiter: RateLimiter = request.app.state.rate_limiter
    return limiter


RateLimiterDep = Annotated[RateLimiter, Depends(get_rate_limiter)]


def client_key(request: Request) -> str:
    """Return who a request is counted against: the client's address."""
    return "unknown" if request.client is None else request.client.host


def rate_limited(
    scope: Scope,
) -> Callable[
    [Request, RateLimiter, HTTPAuthorizationCredentials | None], Coroutine[None, None, None]
]:
    """Return a dependency that counts an anonymous request in ``scope`` (429 past it).

    A caller with a valid staff key is not counted; a key that is not valid is 401. An
    anonymous request is counted without touching the store: on the event loop when the
    counts are in memory, in a thread when they are in Redis.
    """

    async def count(
        request: Request,
        limiter: RateLimiterDep,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> None:
        if credentials is None:
            if limiter.in_memory:
                limiter.hit(scope, client_key(request))
            else:
                await anyio.to_thread.run_sync(limiter.hit, scope, client_key(request))
            return
        await anyio.to_thread.run_sync(_check_key, request, credentials)

    return count


def _check_key(request: Request, credentials: HTTPAuthorizationCredentials) -> None:
    """Refuse a key that is not valid (401)."""
    with contextmanager(get_session)(request) as session:
        get_optional_principal(session, credentials)


async def get_zoning_cache(request: Request) -> ZoningCache:
    """Return the app's zoning cache (each district's geography, built on first use)."""
    cache: ZoningCache = request.app.state.zoning_cache
    return cache


ZoningCacheDep = Annotated[ZoningCache, Depends(get_zoning_cache)]


async def get_public_data(request: Request) -> PublicData:
    """Return what the public look-ups read, held in memory (no connection per look-up)."""
    public: PublicData = request.app.state.public_data
    return public


PublicDataDep = Annotated[PublicData, Depends(get_public_data)]


async def get_backgrounds(request: Request) -> MapBackgrounds:
    """Return the app's base layers (each district's, built on first use)."""
    backgrounds: MapBackgrounds = request.app.state.map_backgrounds
    return backgrounds


BackgroundsDep = Annotated[MapBackgrounds, Depends(get_backgrounds)]


async def get_cached_answers(request: Request) -> CachedAnswers:
    """Return the app's drawn answers: map pages and published zones, once per state."""
    answers: CachedAnswers = request.app.state.cached_answers
    return answers


CachedAnswersDep = Annotated[CachedAnswers, Depends(get_cached_answers)]


async def get_planning_cache(request: Request) -> PlanningCache:
    """Return the app's planning contexts (each district's, built on first use)."""
    cache: PlanningCache = request.app.state.planning_cache
    return cache


PlanningCacheDep = Annotated[PlanningCache, Depends(get_planning_cache)]


async def get_heavy_jobs(request: Request) -> HeavyJobs:
    """Return the threads of heavy computations (zones, placement, sites, scenarios).

    A route runs its heavy work with ``await heavy_jobs.run(work)``: on threads of their
    own at a lower priority, never on those that serve the public.
    """
    jobs: HeavyJobs = request.app.state.heavy_jobs
    return jobs


HeavyJobsDep = Annotated[HeavyJobs, Depends(get_heavy_jobs)]


async def get_lookups(request: Request) -> ComputeThreads:
    """Return the threads of eligibility look-ups (a full queue answers 503)."""
    lookups: ComputeThreads = request.app.state.lookups
    return lookups


LookupsDep = Annotated[ComputeThreads, Depends(get_lookups)]


def get_planning_context(
    session: SessionDep,
    settings: SettingsDep,
    networks: NetworkDep,
    zoning: ZoningCacheDep,
    planning: PlanningCacheDep,
    _: PlannerDep,
) -> PlanningContext:
    """Return the district's planning context, for a planner (checked first)."""
    district_net = networks.for_district(session, settings.district_code)
    return planning.context(
        session,
        district_net,
        zoning,
        class_size_cap=settings.class_size_cap,
        today=dt.datetime.now(dt.UTC).date(),
    )


PlanningDep = Annotated[PlanningContext, Depends(get_planning_context)]
