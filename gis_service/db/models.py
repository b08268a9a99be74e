"""ORM tables of the registry. Geometries are stored in EPSG:4326 (lon/lat).

ORM objects never leave ``gis_service.db``: ``repository.py`` turns them into records.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gis_service.db.base import Base
from gis_service.vocabulary import ROLES

SCHOOL_LEVELS = ("mam_non", "tieu_hoc", "thcs", "thpt", "lien_cap")
OWNERSHIPS = ("cong_lap", "tu_thuc")
SCHOOL_STATUSES = ("open", "planned", "closed")


#: Folded search/sort keys compare byte-wise on both backends (PostgreSQL's "C" collation,
#: SQLite's default BINARY), so both list schools in the same order.
SortKey = String(300).with_variant(String(300, collation="C"), "postgresql")


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


class District(Base):
    """A district (quận/huyện) with its boundary and the metric CRS chosen for it."""

    __tablename__ = "district"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    province_code: Mapped[str | None] = mapped_column(String(16))
    province_name: Mapped[str | None] = mapped_column(String(200))
    boundary: Mapped[WKBElement] = mapped_column(Geometry("MULTIPOLYGON", srid=4326))
    metric_epsg: Mapped[int] = mapped_column(Integer)
    population: Mapped[int | None] = mapped_column(Integer)
    population_year: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(Text)
    loaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    wards: Mapped[list[Ward]] = relationship(back_populates="district")


class Ward(Base):
    """A ward or commune (phường/xã/thị trấn) of a district."""

    __tablename__ = "ward"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(SortKey, index=True)
    boundary: Mapped[WKBElement] = mapped_column(Geometry("MULTIPOLYGON", srid=4326))
    population: Mapped[int | None] = mapped_column(Integer)
    population_year: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(Text)

    district: Mapped[District] = relationship(back_populates="wards")


class School(Base):
    """A school of the registry: its current state (history lives in ``school_history``)."""

    __tablename__ = "school"
    __table_args__ = (
        CheckConstraint(_in("level", SCHOOL_LEVELS), name="level"),
        CheckConstraint(_in("ownership", OWNERSHIPS), name="ownership"),
        CheckConstraint(_in("status", SCHOOL_STATUSES), name="status"),
        CheckConstraint("first_grade_classes >= 0", name="first_grade_classes"),
        CheckConstraint("class_size_cap > 0", name="class_size_cap"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id", ondelete="CASCADE"))
    ward_code: Mapped[str | None] = mapped_column(ForeignKey("ward.code"))
    name: Mapped[str] = mapped_column(String(300))
    name_key: Mapped[str] = mapped_column(SortKey, index=True)
    level: Mapped[str | None] = mapped_column(String(16))
    level_inferred: Mapped[bool] = mapped_column(default=False)
    ownership: Mapped[str | None] = mapped_column(String(16))
    address: Mapped[str | None] = mapped_column(String(500))
    location: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=4326))
    first_grade_classes: Mapped[int | None] = mapped_column(Integer)
    class_size_cap: Mapped[int] = mapped_column(Integer)
    class_size_cap_is_default: Mapped[bool] = mapped_column(default=True)
    status: Mapped[str] = mapped_column(String(16))
    phone: Mapped[str | None] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(200))
    website: Mapped[str | None] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(Text)
    source_ref: Mapped[str | None] = mapped_column(String(100), unique=True)
    last_verified: Mapped[dt.date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    enrolments: Mapped[list[SchoolEnrolment]] = relationship(
        back_populates="school", cascade="all, delete-orphan", order_by="SchoolEnrolment.id"
    )


class SchoolEnrolment(Base):
    """Pupils enrolled in one grade of one school in one school year."""

    __tablename__ = "school_enrolment"
    __table_args__ = (
        UniqueConstraint("school_id", "school_year", "grade", name="school_year_grade"),
        CheckConstraint("grade BETWEEN 1 AND 12", name="grade"),
        CheckConstraint("pupils >= 0", name="pupils"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"))
    school_year: Mapped[int] = mapped_column(Integer)
    grade: Mapped[int] = mapped_column(Integer)
    pupils: Mapped[int] = mapped_column(Integer)

    school: Mapped[School] = relationship(back_populates="enrolments")


class SchoolHistory(Base):
    """One change of one school: who, when, and the school before and after (as JSON)."""

    __tablename__ = "school_history"
    __table_args__ = (UniqueConstraint("school_code", "version", name="school_code_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_code: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    changed_by: Mapped[str] = mapped_column(String(200))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class RoadNetwork(Base):
    """An OSM road extract registered for a district (the graph is built by ``routing``)."""

    __tablename__ = "road_network"

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id", ondelete="CASCADE"))
    file_name: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(Text)
    registered_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ApiKey(Base):
    """A bearer token (stored only as its SHA-256) granting one role."""

    __tablename__ = "api_key"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


# --- admission zones (issue 4) ----------------------------------------------------------

ZONING_METHODS = ("ward", "nearest", "optimal")
ZONE_VERSION_STATUSES = ("draft", "published", "superseded")


class ZoneVersion(Base):
    """A named, dated set of admission zones of a district, computed by one method.

    ``inputs`` describes what the zones were computed from (registry state, census, road
    extract, assumptions) and ``inputs_hash`` fingerprints it; ``statistics`` holds the
    method's figures. One version per district is ``published``: the eligibility lookup
    uses it.
    """

    __tablename__ = "zone_version"
    __table_args__ = (
        UniqueConstraint("district_id", "name", name="zone_version_district_name"),
        CheckConstraint(_in("method", ZONING_METHODS), name="method"),
        CheckConstraint(_in("status", ZONE_VERSION_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(16))
    options: Mapped[dict[str, Any]] = mapped_column(JSON)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    inputs_hash: Mapped[str] = mapped_column(String(64))
    statistics: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    published_by: Mapped[str | None] = mapped_column(String(200))

    zones: Mapped[list[Zone]] = relationship(
        back_populates="version", cascade="all, delete-orphan", order_by="Zone.id"
    )
    points: Mapped[list[ZonePoint]] = relationship(
        back_populates="version", cascade="all, delete-orphan", order_by="ZonePoint.id"
    )


class Zone(Base):
    """One school's admission zone in a version (``school_code`` null: no school reachable)."""

    __tablename__ = "zone"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("zone_version.id", ondelete="CASCADE"), index=True
    )
    school_code: Mapped[str | None] = mapped_column(String(32))
    school_name: Mapped[str | None] = mapped_column(String(300))
    children: Mapped[float] = mapped_column(Float)
    seats: Mapped[float | None] = mapped_column(Float)
    seats_assumed: Mapped[bool] = mapped_column(default=False)
    boundary: Mapped[WKBElement] = mapped_column(Geometry("MULTIPOLYGON", srid=4326))

    version: Mapped[ZoneVersion] = relationship(back_populates="zones")


class ZonePoint(Base):
    """A demand point of a version: its children, zone school and seats given."""

    __tablename__ = "zone_point"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("zone_version.id", ondelete="CASCADE"), index=True
    )
    point_id: Mapped[str] = mapped_column(String(64))
    ward_code: Mapped[str] = mapped_column(String(16))
    children: Mapped[float] = mapped_column(Float)
    placed: Mapped[float] = mapped_column(Float)
    school_code: Mapped[str | None] = mapped_column(String(32))
    distance_m: Mapped[float | None] = mapped_column(Float)
    location: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=4326))

    version: Mapped[ZoneVersion] = relationship(back_populates="points")


# --- forecast input versions ------------------------------------------------------------

FORECAST_INPUT_STATUSES = ("draft", "adopted", "superseded")


class ForecastInputVersion(Base):
    """A named, immutable set of a planner's forecast inputs of a district.

    ``inputs`` has the shape of the forecast's overrides (net migration rates by ward,
    housing developments, with their source and date) and ``inputs_hash`` is the SHA-256
    of its canonical JSON. Only the adoption columns ever change: one version per district
    is ``adopted`` (the district's forecasts use it), the one adopted before it is
    ``superseded``.
    """

    __tablename__ = "forecast_input_version"
    __table_args__ = (
        UniqueConstraint("district_id", "name", name="forecast_input_version_district_name"),
        CheckConstraint(_in("status", FORECAST_INPUT_STATUSES), name="status"),
        Index(
            "forecast_input_version_one_adopted",
            "district_id",
            unique=True,
            postgresql_where=text("status = 'adopted'"),
            sqlite_where=text("status = 'adopted'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    inputs_hash: Mapped[str] = mapped_column(String(64))
    based_on_id: Mapped[int | None] = mapped_column(ForeignKey("forecast_input_version.id"))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))
    adopted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    adopted_by: Mapped[str | None] = mapped_column(String(200))


class Scenario(Base):
    """A planner's scenario: named changes laid over a district's registry, never applied.

    ``changes`` is the JSON list of changes (:class:`gis_service.planning.changes.ScenarioIn`);
    each edit raises ``revision``, so an evaluation of an older revision is known stale.
    """

    __tablename__ = "scenario"
    __table_args__ = (UniqueConstraint("district_id", "name", name="scenario_district_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    rezoning: Mapped[str] = mapped_column(String(16))
    revision: Mapped[int] = mapped_column(Integer)
    copied_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("scenario.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(String(200))


class ScenarioEvaluation(Base):
    """The latest evaluation of a scenario: of which revision, against which baseline.

    ``context_hash`` is the SHA-256 of the baseline inputs it was computed against
    (registry schools, demand points, forecast inputs, years); ``document`` the figures.
    """

    __tablename__ = "scenario_evaluation"

    id: Mapped[int] = mapped_column(primary_key=True)
    scenario_id: Mapped[int] = mapped_column(
        ForeignKey("scenario.id", ondelete="CASCADE"), unique=True
    )
    revision: Mapped[int] = mapped_column(Integer)
    context_hash: Mapped[str] = mapped_column(String(64))
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    computed_by: Mapped[str] = mapped_column(String(200))
