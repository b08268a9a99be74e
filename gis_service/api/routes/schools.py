"""The school registry: search, read, history, create, update, close."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from gis_service.api.deps import (
    OptionalPrincipalDep,
    RegistryEditorDep,
    SessionDep,
    SettingsDep,
    rate_limited,
)
from gis_service.api.limits import RATE_LIMITED_RESPONSES
from gis_service.api.schemas import (
    HistoryModel,
    OffsetQuery,
    SchoolCollection,
    SchoolCreate,
    SchoolFeature,
    SchoolUpdate,
    history_model,
    school_feature,
)
from gis_service.db import repository
from gis_service.errors import InvalidInputError
from gis_service.registry import schools as registry
from gis_service.registry.validation import LEVELS, STATUSES, choice_code

router = APIRouter(prefix="/schools", tags=["schools"])

MAX_PAGE = 1000


def _bbox(value: str | None) -> tuple[float, float, float, float] | None:
    if value is None:
        return None
    parts = value.split(",")
    try:
        numbers = [float(part) for part in parts]
    except ValueError:
        numbers = []
    if len(numbers) != 4:
        msg = f"bbox must be 'min_lon,min_lat,max_lon,max_lat', got {value!r}"
        raise InvalidInputError(msg)
    min_lon, min_lat, max_lon, max_lat = numbers
    if not (-180 <= min_lon < max_lon <= 180 and -90 <= min_lat < max_lat <= 90):
        msg = f"bbox {value!r} is not a lon/lat box with min < max"
        raise InvalidInputError(msg)
    return min_lon, min_lat, max_lon, max_lat


@router.get(
    "",
    response_model_by_alias=True,
    dependencies=[Depends(rate_limited("lookups"))],
    responses=RATE_LIMITED_RESPONSES,
)
def list_schools(
    session: SessionDep,
    settings: SettingsDep,
    level: Annotated[str | None, Query(description="tieu_hoc, thcs, ... or 'Tiểu học'")] = None,
    ward: Annotated[str | None, Query(description="ward code")] = None,
    school_status: Annotated[str | None, Query(alias="status")] = None,
    bbox: Annotated[str | None, Query(description="min_lon,min_lat,max_lon,max_lat")] = None,
    q: Annotated[
        str | None, Query(max_length=200, description="name, with or without diacritics")
    ] = None,
    as_of: Annotated[dt.datetime | None, Query(description="the registry as it was then")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = MAX_PAGE,
    offset: OffsetQuery = 0,
) -> SchoolCollection:
    """Schools of the district as a GeoJSON FeatureCollection (EPSG:4326)."""
    district = repository.get_district(session, settings.district_code)
    where = repository.SchoolFilter(
        district_code=district.code,
        level=choice_code(level, LEVELS, field="level"),
        ward_code=ward,
        status=choice_code(school_status, STATUSES, field="status"),
        bbox=_bbox(bbox),
        q=q,
    )
    if as_of is not None:
        when = as_of if as_of.tzinfo else as_of.replace(tzinfo=dt.UTC)
        states = [
            s for s in repository.schools_as_of(session, district.code, when) if where.matches(s)
        ]
        page = states[offset : offset + limit]
        return SchoolCollection(
            features=[school_feature(s) for s in page],
            number_matched=len(states),
            number_returned=len(page),
        )
    records, total = repository.list_schools(session, where, limit=limit, offset=offset)
    return SchoolCollection(
        features=[school_feature(r.data, r) for r in records],
        number_matched=total,
        number_returned=len(records),
    )


@router.get("/{code}")
def read_school(session: SessionDep, code: str) -> SchoolFeature:
    """One school by its code."""
    record = repository.get_school(session, code)
    return school_feature(record.data, record)


@router.get("/{code}/history")
def read_school_history(
    session: SessionDep, principal: OptionalPrincipalDep, code: str
) -> list[HistoryModel]:
    """Every change of one school, oldest first: who, when, before and after.

    Staff keys see who made each change; everyone else sees the author's role (``staff``
    for a change made in the office without a key), never a key's name.
    """
    entries = repository.school_history(session, code)
    if principal is not None and principal.role != "public":
        return [history_model(entry) for entry in entries]
    roles = repository.key_roles(session, (entry.changed_by for entry in entries))
    return [history_model(entry, roles) for entry in entries]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_school(
    session: SessionDep,
    settings: SettingsDep,
    principal: RegistryEditorDep,
    body: SchoolCreate,
    response: Response,
) -> SchoolFeature:
    """Add a school (role ``registry_editor``); validated like an import row."""
    district = repository.get_district(session, settings.district_code)
    values = body.model_dump(mode="json")
    record = registry.create_school(
        session,
        values,
        district_code=district.code,
        class_size_cap=settings.class_size_cap,
        actor=principal.name,
    )
    session.commit()
    response.headers["Location"] = f"/api/v1/schools/{record.data.code}"
    return school_feature(record.data, record)


@router.patch("/{code}")
def update_school(
    session: SessionDep,
    settings: SettingsDep,
    principal: RegistryEditorDep,
    code: str,
    body: SchoolUpdate,
) -> SchoolFeature:
    """Change some fields of a school (role ``registry_editor``); history keeps the old state."""
    changes = body.model_dump(mode="json", exclude_unset=True)
    record = registry.update_school(
        session, code, changes, class_size_cap=settings.class_size_cap, actor=principal.name
    )
    session.commit()
    return school_feature(record.data, record)


@router.post("/{code}/close")
def close_school(session: SessionDep, principal: RegistryEditorDep, code: str) -> SchoolFeature:
    """Mark a school closed (role ``registry_editor``); it stays in the registry."""
    record = registry.close_school(session, code, actor=principal.name)
    session.commit()
    return school_feature(record.data, record)
