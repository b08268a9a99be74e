"""Admission-zone versions in the registry: save drafts, publish, look zones up.

Functions here flush but never commit: the caller owns the transaction. Geometries are
EPSG:4326 (lon/lat) in and out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from geoalchemy2.shape import from_shape, to_shape
from shapely import MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gis_service.db.models import District, Zone, ZonePoint, ZoneVersion
from gis_service.db.repository import get_district, id_or_name, now, stored_lon_lat, utc
from gis_service.errors import ConflictError, InvalidInputError, NotFoundError


@dataclass(frozen=True, slots=True)
class ZoneRecord:
    """One school's zone (``school_code`` ``None``: the area that reaches no school).

    ``seats`` are the school's first-grade seats used by the zoning (``seats_assumed``:
    from the default number of classes), ``children`` the estimated children in the zone.
    """

    school_code: str | None
    school_name: str | None
    children: float
    seats: float | None
    seats_assumed: bool
    boundary: BaseGeometry

    @property
    def free_seats(self) -> float | None:
        """Seats left once the zone's children are seated (never below zero)."""
        return None if self.seats is None else max(0.0, self.seats - self.children)


@dataclass(frozen=True, slots=True)
class ZonePointRecord:
    """A demand point of a version and the seats its children were given."""

    point_id: str
    ward_code: str
    children: float
    placed: float
    school_code: str | None
    distance_m: float | None
    lon: float
    lat: float


@dataclass(frozen=True, slots=True)
class ZoneDraft:
    """A computed zoning to be saved as a draft version."""

    district_code: str
    name: str
    method: str
    options: dict[str, Any]
    inputs: dict[str, Any]
    inputs_hash: str
    statistics: dict[str, Any]
    created_by: str
    zones: tuple[ZoneRecord, ...]
    points: tuple[ZonePointRecord, ...]


@dataclass(frozen=True, slots=True)
class ZoneVersionRecord:
    """A saved zone version (without its zones and points)."""

    id: int
    district_code: str
    name: str
    method: str
    options: dict[str, Any]
    inputs: dict[str, Any]
    inputs_hash: str
    statistics: dict[str, Any]
    status: str
    created_at: dt.datetime
    created_by: str
    published_at: dt.datetime | None
    published_by: str | None


def _record(row: ZoneVersion, district_code: str) -> ZoneVersionRecord:
    return ZoneVersionRecord(
        id=row.id,
        district_code=district_code,
        name=row.name,
        method=row.method,
        options=dict(row.options),
        inputs=dict(row.inputs),
        inputs_hash=row.inputs_hash,
        statistics=dict(row.statistics),
        status=row.status,
        created_at=utc(row.created_at),
        created_by=row.created_by,
        published_at=None if row.published_at is None else utc(row.published_at),
        published_by=row.published_by,
    )


def _multipolygon(geometry: BaseGeometry) -> MultiPolygon:
    if isinstance(geometry, MultiPolygon):
        return geometry
    if isinstance(geometry, Polygon):
        return MultiPolygon([geometry])
    msg = f"a zone must be a polygon, got {geometry.geom_type}"
    raise InvalidInputError(msg)


def save_zone_version(session: Session, draft: ZoneDraft) -> ZoneVersionRecord:
    """Save a computed zoning as a draft version of its district.

    Raises
    ------
    NotFoundError
        If the district does not exist.
    ConflictError
        If the district already has a version of that name.
    """
    district = session.scalar(select(District).where(District.code == draft.district_code))
    if district is None:
        msg = f"district {draft.district_code!r} is not in the registry"
        raise NotFoundError(msg)
    taken = session.scalar(
        select(ZoneVersion.id).where(
            ZoneVersion.district_id == district.id, ZoneVersion.name == draft.name
        )
    )
    if taken is not None:
        msg = f"district {district.code} already has a zone version named {draft.name!r}"
        raise ConflictError(msg)
    row = ZoneVersion(
        district_id=district.id,
        name=draft.name,
        method=draft.method,
        options=draft.options,
        inputs=draft.inputs,
        inputs_hash=draft.inputs_hash,
        statistics=draft.statistics,
        status="draft",
        created_at=now(),
        created_by=draft.created_by,
    )
    row.zones = [
        Zone(
            school_code=zone.school_code,
            school_name=zone.school_name,
            children=zone.children,
            seats=zone.seats,
            seats_assumed=zone.seats_assumed,
            boundary=from_shape(_multipolygon(zone.boundary), srid=4326),
        )
        for zone in draft.zones
    ]
    row.points = [
        ZonePoint(
            point_id=point.point_id,
            ward_code=point.ward_code,
            children=point.children,
            placed=point.placed,
            school_code=point.school_code,
            distance_m=point.distance_m,
            location=from_shape(Point(point.lon, point.lat), srid=4326),
        )
        for point in draft.points
    ]
    session.add(row)
    session.flush()
    return _record(row, district.code)


def _versions(session: Session, district_code: str) -> list[tuple[ZoneVersion, str]]:
    rows = session.execute(
        select(ZoneVersion, District.code)
        .join(District)
        .where(District.code == district_code)
        .order_by(ZoneVersion.created_at.desc(), ZoneVersion.id.desc())
    ).all()
    return [(row, code) for row, code in rows]


def list_zone_versions(session: Session, district_code: str) -> list[ZoneVersionRecord]:
    """Return the district's zone versions, newest first."""
    return [_record(row, code) for row, code in _versions(session, district_code)]


def _version_row(session: Session, key: int | str, district_code: str) -> ZoneVersion:
    query = select(ZoneVersion).join(District).where(District.code == district_code)
    row = session.scalar(query.where(id_or_name(ZoneVersion.id, ZoneVersion.name, key)))
    if row is None:
        msg = f"district {district_code} has no zone version {key!r}"
        raise NotFoundError(msg)
    return row


def get_zone_version(session: Session, key: int | str, *, district_code: str) -> ZoneVersionRecord:
    """Return a version by id (or its text) or name.

    Raises
    ------
    NotFoundError
        If the district has no such version.
    """
    return _record(_version_row(session, key, district_code), district_code)


def publish_zone_version(
    session: Session, key: int | str, *, district_code: str, actor: str
) -> ZoneVersionRecord:
    """Publish a version; the district's previously published version is superseded.

    Raises
    ------
    NotFoundError
        If the district has no such version.
    """
    row = _version_row(session, key, district_code)
    if row.status == "published":
        return _record(row, district_code)
    for other, _ in _versions(session, district_code):
        if other.status == "published":
            other.status = "superseded"
    row.status = "published"
    row.published_at = now()
    row.published_by = actor
    session.flush()
    return _record(row, district_code)


def published_zone_version(session: Session, district_code: str) -> ZoneVersionRecord | None:
    """Return the district's published version, or ``None`` if none is published."""
    for row, code in _versions(session, district_code):
        if row.status == "published":
            return _record(row, code)
    return None


def _zone(row: Zone) -> ZoneRecord:
    return ZoneRecord(
        school_code=row.school_code,
        school_name=row.school_name,
        children=row.children,
        seats=row.seats,
        seats_assumed=row.seats_assumed,
        boundary=to_shape(row.boundary),
    )


def zones_of(session: Session, version_id: int) -> list[ZoneRecord]:
    """Return the zones of a version, ordered by school code (the unassigned area last)."""
    rows = session.scalars(select(Zone).where(Zone.version_id == version_id)).all()
    zones = [_zone(row) for row in rows]
    return sorted(zones, key=lambda z: (z.school_code is None, z.school_code or ""))


def zone_at(session: Session, version_id: int, *, lon: float, lat: float) -> ZoneRecord | None:
    """Return the zone of a version that holds the point (EPSG:4326), if any.

    A point on the edge of two zones belongs to the one whose school code sorts first.
    """
    point = from_shape(Point(lon, lat), srid=4326)
    rows = session.scalars(
        select(Zone).where(Zone.version_id == version_id, func.ST_Intersects(Zone.boundary, point))
    ).all()
    found = sorted(
        (_zone(row) for row in rows), key=lambda z: (z.school_code is None, z.school_code or "")
    )
    return found[0] if found else None


def zone_points_of(session: Session, version_id: int) -> list[ZonePointRecord]:
    """Return the demand points of a version in the order they were saved."""
    rows = session.scalars(
        select(ZonePoint).where(ZonePoint.version_id == version_id).order_by(ZonePoint.id)
    ).all()
    records = []
    for row in rows:
        lon, lat = stored_lon_lat(row.location)
        records.append(
            ZonePointRecord(
                point_id=row.point_id,
                ward_code=row.ward_code,
                children=row.children,
                placed=row.placed,
                school_code=row.school_code,
                distance_m=row.distance_m,
                lon=lon,
                lat=lat,
            )
        )
    return records


def district_code_of(session: Session, district_code: str | None) -> str:
    """Return the code of ``district_code`` or of the store's only district."""
    return get_district(session, district_code).code


__all__: Sequence[str] = (
    "ZoneDraft",
    "ZonePointRecord",
    "ZoneRecord",
    "ZoneVersionRecord",
    "district_code_of",
    "get_zone_version",
    "list_zone_versions",
    "publish_zone_version",
    "published_zone_version",
    "save_zone_version",
    "zone_at",
    "zone_points_of",
    "zones_of",
)
