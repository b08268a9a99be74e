"""Every query of the registry: typed functions in, records out.

Functions here flush but never commit: the caller owns the transaction, so one request or
one import is one transaction and a rejected one changes nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from geoalchemy2 import WKBElement
from geoalchemy2.shape import from_shape, to_shape
from shapely import MultiPolygon, Point, Polygon, box
from shapely.geometry.base import BaseGeometry
from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select
from sqlalchemy.orm import QueryableAttribute, Session, selectinload

from gis_service.db.models import (
    ApiKey,
    District,
    RoadNetwork,
    School,
    SchoolEnrolment,
    SchoolHistory,
    Ward,
)
from gis_service.errors import ConflictError, InvalidInputError, NotFoundError
from gis_service.records import (
    DistrictContext,
    DistrictRecord,
    Enrolment,
    HistoryEntry,
    RoadNetworkRecord,
    SchoolData,
    SchoolRecord,
    WardRecord,
)
from gis_service.settings import MAX_ID
from gis_service.text import fold_text, normalize_text


def utc(value: dt.datetime) -> dt.datetime:
    """Return ``value`` as an aware UTC datetime (SQLite hands back naive UTC values)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def id_or_name(
    id_column: QueryableAttribute[int], name_column: QueryableAttribute[str], key: int | str
) -> ColumnElement[bool]:
    """Return the condition finding a row by id (an int or its digits) or by name.

    An id beyond the stored ids' range finds nothing rather than overflowing the store.
    """
    if isinstance(key, int) or key.isdecimal():
        number = int(key)
        return id_column == number if 0 < number <= MAX_ID else false()
    return name_column == key


def now() -> dt.datetime:
    """Return the current time in UTC, to the microsecond."""
    return dt.datetime.now(dt.UTC)


def stored_lon_lat(location: WKBElement) -> tuple[float, float]:
    """Return the EPSG:4326 lon/lat of a stored point geometry.

    Raises
    ------
    TypeError
        If the stored geometry is not a point (a broken store).
    """
    point = to_shape(location)
    if not isinstance(point, Point):
        msg = f"expected a stored point, got {point.geom_type}"
        raise TypeError(msg)
    return float(point.x), float(point.y)


def _multipolygon(geometry: BaseGeometry) -> MultiPolygon:
    if isinstance(geometry, MultiPolygon):
        return geometry
    if isinstance(geometry, Polygon):
        return MultiPolygon([geometry])
    msg = f"expected a polygon, got {geometry.geom_type}"
    raise InvalidInputError(msg)


# --- districts and wards ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WardData:
    """A ward as loaded from a district's files (boundary in EPSG:4326)."""

    code: str
    name: str
    boundary: BaseGeometry
    population: int | None
    population_year: int | None
    source: str


def _district_record(row: District) -> DistrictRecord:
    return DistrictRecord(
        code=row.code,
        name=row.name,
        province_code=row.province_code,
        province_name=row.province_name,
        metric_epsg=row.metric_epsg,
        population=row.population,
        population_year=row.population_year,
        source=row.source,
        loaded_at=utc(row.loaded_at),
        boundary=to_shape(row.boundary),
    )


def _district_row(session: Session, code: str | None) -> District:
    if code is not None:
        row = session.scalar(select(District).where(District.code == code))
        if row is None:
            msg = f"district {code!r} is not in the registry"
            raise NotFoundError(msg)
        return row
    rows = session.scalars(select(District).order_by(District.code).limit(2)).all()
    if not rows:
        msg = "the registry holds no district yet: run `schoolgis district load`"
        raise NotFoundError(msg)
    if len(rows) > 1:
        msg = "the registry holds several districts: set SCHOOLGIS_DISTRICT_CODE"
        raise InvalidInputError(msg)
    return rows[0]


def get_district(session: Session, code: str | None = None) -> DistrictRecord:
    """Return the district ``code``, or the only district when ``code`` is ``None``.

    Raises
    ------
    NotFoundError
        If there is no such district.
    InvalidInputError
        If ``code`` is ``None`` and the store holds several districts.
    """
    return _district_record(_district_row(session, code))


def list_districts(session: Session) -> list[DistrictRecord]:
    """Return every district of the store, by code."""
    return [_district_record(r) for r in session.scalars(select(District).order_by(District.code))]


def save_district(session: Session, record: DistrictRecord) -> None:
    """Insert the district or replace its stored description (matched by code)."""
    row = session.scalar(select(District).where(District.code == record.code))
    if row is None:
        row = District(code=record.code)
        session.add(row)
    row.name = record.name
    row.province_code = record.province_code
    row.province_name = record.province_name
    row.boundary = from_shape(_multipolygon(record.boundary), srid=4326)
    row.metric_epsg = record.metric_epsg
    row.population = record.population
    row.population_year = record.population_year
    row.source = record.source
    row.loaded_at = record.loaded_at
    session.flush()


def save_wards(session: Session, district_code: str, wards: Sequence[WardData]) -> None:
    """Insert or update the district's wards (matched by code).

    Raises
    ------
    ConflictError
        If a ward code already belongs to another district.
    """
    district = _district_row(session, district_code)
    existing = {
        w.code: w
        for w in session.scalars(select(Ward).where(Ward.code.in_([w.code for w in wards])))
    }
    for ward in wards:
        row = existing.get(ward.code)
        if row is None:
            row = Ward(code=ward.code, district_id=district.id)
            session.add(row)
        elif row.district_id != district.id:
            msg = f"ward {ward.code} belongs to another district"
            raise ConflictError(msg)
        row.name = normalize_text(ward.name)
        row.name_key = fold_text(ward.name)
        row.boundary = from_shape(_multipolygon(ward.boundary), srid=4326)
        row.population = ward.population
        row.population_year = ward.population_year
        row.source = ward.source
    session.flush()


def list_wards(session: Session, district_code: str) -> list[WardRecord]:
    """Return the wards of a district ordered by code."""
    rows = session.execute(
        select(Ward, District.code)
        .join(District)
        .where(District.code == district_code)
        .order_by(Ward.code)
    ).all()
    return [
        WardRecord(
            code=ward.code,
            name=ward.name,
            district_code=code,
            population=ward.population,
            population_year=ward.population_year,
            source=ward.source,
            boundary=to_shape(ward.boundary),
        )
        for ward, code in rows
    ]


def district_context(
    session: Session, district_code: str, *, class_size_cap: int
) -> DistrictContext:
    """Return what school rows of a district are validated against."""
    district = get_district(session, district_code)
    stored = session.execute(
        select(School.code, School.location).join(District).where(District.code == district_code)
    ).all()
    locations: dict[str, tuple[float, float]] = {}
    for code, location in stored:
        locations[code] = stored_lon_lat(location)
    return DistrictContext(
        boundary=district.boundary,
        metric_epsg=district.metric_epsg,
        wards={w.code: w.boundary for w in list_wards(session, district_code)},
        stored_locations=locations,
        class_size_cap=class_size_cap,
    )


# --- road networks ----------------------------------------------------------------------


def register_road_network(session: Session, record: RoadNetworkRecord) -> None:
    """Record an OSM extract for a district; the same file (by hash) is recorded once."""
    district = _district_row(session, record.district_code)
    row = session.scalar(
        select(RoadNetwork).where(
            RoadNetwork.district_id == district.id, RoadNetwork.sha256 == record.sha256
        )
    )
    if row is None:
        row = RoadNetwork(district_id=district.id, sha256=record.sha256)
        session.add(row)
    row.file_name = record.file_name
    row.size_bytes = record.size_bytes
    row.source = record.source
    row.registered_at = record.registered_at
    session.flush()


def road_networks(session: Session, district_code: str) -> list[RoadNetworkRecord]:
    """Return the road extracts registered for a district, newest first."""
    rows = session.scalars(
        select(RoadNetwork)
        .join(District)
        .where(District.code == district_code)
        .order_by(RoadNetwork.registered_at.desc(), RoadNetwork.id.desc())
    )
    return [
        RoadNetworkRecord(
            district_code=district_code,
            file_name=row.file_name,
            sha256=row.sha256,
            size_bytes=row.size_bytes,
            source=row.source,
            registered_at=utc(row.registered_at),
        )
        for row in rows
    ]


# --- schools ----------------------------------------------------------------------------


def _school_data(row: School) -> SchoolData:
    lon, lat = stored_lon_lat(row.location)
    return SchoolData(
        code=row.code,
        name=row.name,
        lon=lon,
        lat=lat,
        level=row.level,
        level_inferred=row.level_inferred,
        ownership=row.ownership,
        address=row.address,
        ward_code=row.ward_code,
        first_grade_classes=row.first_grade_classes,
        class_size_cap=row.class_size_cap,
        class_size_cap_is_default=row.class_size_cap_is_default,
        status=row.status,
        phone=row.phone,
        email=row.email,
        website=row.website,
        source=row.source,
        source_ref=row.source_ref,
        last_verified=row.last_verified,
        enrolment=tuple(
            Enrolment(e.school_year, e.grade, e.pupils)
            for e in sorted(row.enrolments, key=lambda e: (e.school_year, e.grade))
        ),
    )


def _school_record(row: School, district_code: str) -> SchoolRecord:
    return SchoolRecord(
        data=_school_data(row),
        district_code=district_code,
        version=row.version,
        updated_at=utc(row.updated_at),
    )


def _apply(row: School, data: SchoolData) -> None:
    row.name = normalize_text(data.name)
    row.name_key = fold_text(data.name)
    row.level = data.level
    row.level_inferred = data.level_inferred
    row.ownership = data.ownership
    row.address = data.address
    row.ward_code = data.ward_code
    row.location = from_shape(Point(data.lon, data.lat), srid=4326)
    row.first_grade_classes = data.first_grade_classes
    row.class_size_cap = data.class_size_cap
    row.class_size_cap_is_default = data.class_size_cap_is_default
    row.status = data.status
    row.phone = data.phone
    row.email = data.email
    row.website = data.website
    row.source = data.source
    row.source_ref = data.source_ref
    row.last_verified = data.last_verified
    wanted = {(e.school_year, e.grade): e.pupils for e in data.enrolment}
    row.enrolments = [e for e in row.enrolments if (e.school_year, e.grade) in wanted]
    by_key = {(e.school_year, e.grade): e for e in row.enrolments}
    for key, pupils in sorted(wanted.items()):
        if key in by_key:
            by_key[key].pupils = pupils
        else:
            row.enrolments.append(SchoolEnrolment(school_year=key[0], grade=key[1], pupils=pupils))


def _schools_query() -> Select[School, str]:
    return select(School, District.code).join(District).options(selectinload(School.enrolments))


def next_school_code(session: Session, district_code: str) -> str:
    """Return the next free school code of a district.

    Codes follow the Ministry's pattern: province code, district code, then a three-digit
    (or longer) sequence number, e.g. ``79770001``.
    """
    district = _district_row(session, district_code)
    prefix = f"{district.province_code or ''}{district.code}"
    codes = session.scalars(select(School.code).where(School.code.like(f"{prefix}%"))).all()
    numbers = [int(c[len(prefix) :]) for c in codes if c[len(prefix) :].isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1:03d}"


def get_school(session: Session, code: str) -> SchoolRecord:
    """Return the school ``code``.

    Raises
    ------
    NotFoundError
        If no school has that code.
    """
    found = session.execute(_schools_query().where(School.code == code)).first()
    if found is None:
        msg = f"school {code!r} is not in the registry"
        raise NotFoundError(msg)
    return _school_record(found[0], found[1])


@dataclass(frozen=True, slots=True)
class SchoolFilter:
    """Filters of a school search; ``None`` means no filter on that field.

    ``bbox`` is ``(min_lon, min_lat, max_lon, max_lat)`` in EPSG:4326; ``q`` matches names
    with or without Vietnamese diacritics, every word of it, or a school code exactly.
    """

    district_code: str
    level: str | None = None
    ward_code: str | None = None
    status: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    q: str | None = None

    def matches(self, school: SchoolData) -> bool:
        """Return whether ``school`` passes the filters (used on past states of the registry)."""
        if self.level is not None and school.level != self.level:
            return False
        if self.ward_code is not None and school.ward_code != self.ward_code:
            return False
        if self.status is not None and school.status != self.status:
            return False
        if self.bbox is not None and not box(*self.bbox).intersects(Point(school.lon, school.lat)):
            return False
        if self.q is None or not self.q.strip() or school.code == self.q.strip():
            return True
        name = fold_text(school.name)
        return all(word in name for word in fold_text(self.q).split())


def list_schools(
    session: Session, where: SchoolFilter, *, limit: int | None = None, offset: int = 0
) -> tuple[list[SchoolRecord], int]:
    """Return one page of schools matching ``where`` (ordered by folded name, then code).

    Returns
    -------
    tuple
        The page of schools and the number of all matching schools.
    """
    query = _schools_query().where(District.code == where.district_code)
    if where.level is not None:
        query = query.where(School.level == where.level)
    if where.ward_code is not None:
        query = query.where(School.ward_code == where.ward_code)
    if where.status is not None:
        query = query.where(School.status == where.status)
    if where.bbox is not None:
        envelope = from_shape(box(*where.bbox), srid=4326)
        query = query.where(func.ST_Intersects(School.location, envelope))
    if where.q is not None and where.q.strip():
        folded = fold_text(where.q)
        by_name = [School.name_key.contains(word, autoescape=True) for word in folded.split()]
        query = query.where(or_(School.code == where.q.strip(), and_(*by_name)))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    query = query.order_by(School.name_key, School.code).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    rows = session.execute(query).all()
    return [_school_record(row, code) for row, code in rows], total


def _write_history(
    session: Session,
    *,
    code: str,
    version: int,
    action: str,
    actor: str,
    when: dt.datetime,
    before: SchoolData | None,
    after: SchoolData | None,
) -> None:
    session.add(
        SchoolHistory(
            school_code=code,
            version=version,
            action=action,
            changed_at=when,
            changed_by=actor,
            before=None if before is None else before.to_json(),
            after=None if after is None else after.to_json(),
        )
    )


def create_school(
    session: Session, data: SchoolData, *, district_code: str, actor: str, action: str = "create"
) -> SchoolRecord:
    """Add a school; a blank ``data.code`` gets the district's next free code.

    Raises
    ------
    ConflictError
        If the code or the source reference is already taken.
    """
    district = _district_row(session, district_code)
    code = data.code or next_school_code(session, district_code)
    data = dataclasses.replace(data, code=code, name=normalize_text(data.name))
    if session.scalar(select(School.id).where(School.code == code)) is not None:
        msg = f"school code {code} is already in the registry"
        raise ConflictError(msg)
    if data.source_ref is not None and session.scalar(
        select(School.code).where(School.source_ref == data.source_ref)
    ):
        msg = f"a school from {data.source_ref} is already in the registry"
        raise ConflictError(msg)
    when = now()
    row = School(code=code, district_id=district.id, version=1, updated_at=when)
    _apply(row, data)
    session.add(row)
    _write_history(
        session,
        code=code,
        version=1,
        action=action,
        actor=actor,
        when=when,
        before=None,
        after=data,
    )
    session.flush()
    return _school_record(row, district.code)


def update_school(
    session: Session, data: SchoolData, *, actor: str, action: str = "update"
) -> SchoolRecord:
    """Replace the stored state of school ``data.code``; an unchanged school is left alone.

    Raises
    ------
    NotFoundError
        If no school has that code.
    """
    found = session.execute(_schools_query().where(School.code == data.code)).first()
    if found is None:
        msg = f"school {data.code!r} is not in the registry"
        raise NotFoundError(msg)
    row, district_code = found
    before = _school_data(row)
    data = dataclasses.replace(data, name=normalize_text(data.name))
    if before == data:
        return _school_record(row, district_code)
    when = now()
    row.version += 1
    row.updated_at = when
    _apply(row, data)
    _write_history(
        session,
        code=data.code,
        version=row.version,
        action=action,
        actor=actor,
        when=when,
        before=before,
        after=data,
    )
    session.flush()
    return _school_record(row, district_code)


def find_school_code_by_source(session: Session, source_ref: str) -> str | None:
    """Return the code of the school loaded from ``source_ref`` (e.g. ``osm:way/123``)."""
    return session.scalar(select(School.code).where(School.source_ref == source_ref))


def _history_entry(row: SchoolHistory) -> HistoryEntry:
    return HistoryEntry(
        school_code=row.school_code,
        version=row.version,
        action=row.action,
        changed_at=utc(row.changed_at),
        changed_by=row.changed_by,
        before=None if row.before is None else SchoolData.from_json(row.before),
        after=None if row.after is None else SchoolData.from_json(row.after),
    )


def school_history(session: Session, code: str) -> list[HistoryEntry]:
    """Return every change of school ``code``, oldest first.

    Raises
    ------
    NotFoundError
        If the school has no history.
    """
    rows = session.scalars(
        select(SchoolHistory)
        .where(SchoolHistory.school_code == code)
        .order_by(SchoolHistory.version)
    ).all()
    if not rows:
        msg = f"school {code!r} has no history in the registry"
        raise NotFoundError(msg)
    return [_history_entry(row) for row in rows]


def schools_as_of(session: Session, district_code: str, when: dt.datetime) -> list[SchoolData]:
    """Return the district's schools as the registry held them at ``when`` (by name, code)."""
    district_schools = select(School.code).join(District).where(District.code == district_code)
    latest = (
        select(SchoolHistory.school_code, func.max(SchoolHistory.version).label("version"))
        .where(
            SchoolHistory.changed_at <= when,
            SchoolHistory.school_code.in_(district_schools),
        )
        .group_by(SchoolHistory.school_code)
        .subquery()
    )
    rows = session.scalars(
        select(SchoolHistory).join(
            latest,
            (SchoolHistory.school_code == latest.c.school_code)
            & (SchoolHistory.version == latest.c.version),
        )
    ).all()
    states = [SchoolData.from_json(row.after) for row in rows if row.after is not None]
    return sorted(states, key=lambda s: (fold_text(s.name), s.code))


# --- API keys ---------------------------------------------------------------------------


def key_roles(session: Session, names: Iterable[str]) -> dict[str, str]:
    """Return the role of each API key among ``names`` (other names are left out)."""
    wanted = sorted(set(names))
    if not wanted:
        return {}
    rows = session.execute(select(ApiKey.name, ApiKey.role).where(ApiKey.name.in_(wanted)))
    return {row.name: row.role for row in rows}


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the API key's name and its role."""

    name: str
    role: str


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_key(session: Session, *, name: str, role: str) -> str:
    """Create an API key and return its token; only the token's SHA-256 is stored.

    Raises
    ------
    ConflictError
        If a key of that name exists.
    """
    if session.scalar(select(ApiKey.id).where(ApiKey.name == name)) is not None:
        msg = f"an API key named {name!r} already exists"
        raise ConflictError(msg)
    token = secrets.token_urlsafe(32)
    session.add(ApiKey(name=name, role=role, key_hash=_token_hash(token), created_at=now()))
    session.flush()
    return token


def revoke_api_key(session: Session, name: str) -> None:
    """Revoke the API key ``name``.

    Raises
    ------
    NotFoundError
        If there is no live key of that name.
    """
    row = session.scalar(select(ApiKey).where(ApiKey.name == name, ApiKey.revoked_at.is_(None)))
    if row is None:
        msg = f"no live API key named {name!r}"
        raise NotFoundError(msg)
    row.revoked_at = now()
    session.flush()


def principal_for_token(session: Session, token: str) -> Principal | None:
    """Return who holds ``token``, or ``None`` for an unknown or revoked token."""
    row = session.scalar(
        select(ApiKey).where(ApiKey.key_hash == _token_hash(token), ApiKey.revoked_at.is_(None))
    )
    return None if row is None else Principal(name=row.name, role=row.role)
