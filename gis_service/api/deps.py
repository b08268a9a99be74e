"""Dependencies of the routes: settings, a database session, the caller's role."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from gis_service.db import repository
from gis_service.db.repository import Principal
from gis_service.errors import AuthenticationError, PermissionDeniedError
from gis_service.networks import NetworkCache
from gis_service.planning.cache import PlanningCache
from gis_service.planning.evaluation import PlanningContext
from gis_service.settings import Settings
from gis_service.web_map import MapBackgrounds
from gis_service.zones.geography import ZoningCache


def get_settings(request: Request) -> Settings:
    """Return the settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """Yield a session on the app's engine; the route commits what it writes."""
    engine: Engine = request.app.state.engine
    with Session(engine) as session:
        yield session


def get_networks(request: Request) -> NetworkCache:
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


def get_zoning_cache(request: Request) -> ZoningCache:
    """Return the app's zoning cache (each district's geography, built on first use)."""
    cache: ZoningCache = request.app.state.zoning_cache
    return cache


ZoningCacheDep = Annotated[ZoningCache, Depends(get_zoning_cache)]


def get_backgrounds(request: Request) -> MapBackgrounds:
    """Return the app's base layers (each district's, built on first use)."""
    backgrounds: MapBackgrounds = request.app.state.map_backgrounds
    return backgrounds


BackgroundsDep = Annotated[MapBackgrounds, Depends(get_backgrounds)]


def get_planning_cache(request: Request) -> PlanningCache:
    """Return the app's planning contexts (each district's, built on first use)."""
    cache: PlanningCache = request.app.state.planning_cache
    return cache


PlanningCacheDep = Annotated[PlanningCache, Depends(get_planning_cache)]


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
