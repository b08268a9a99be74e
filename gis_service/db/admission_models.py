"""ORM tables of first-grade admission: rounds, applications, placement runs, audit log.

Homes are stored in EPSG:4326 (lon/lat). Application secrets are stored only as their
SHA-256. The audit log is append-only: migration 0004 adds triggers that refuse any
``UPDATE`` or ``DELETE`` of its rows on both backends.

ORM objects never leave ``gis_service.db``: ``rounds_repository.py``,
``applications_repository.py``, ``placement_runs_repository.py`` and
``audit_repository.py`` turn them into records.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gis_service.db.base import Base
from gis_service.vocabulary import MAX_CHOICES_LIMIT, RUN_METHODS

ROUND_STATUSES = ("open", "closed")
RUN_STATUSES = ("running", "done", "failed", "published")


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


class AdmissionRound(Base):
    """An admission round of a district: one intake year, its deadlines and rules.

    ``rules`` orders the priority groups (e.g. ``["in_zone", "sibling",
    "priority_category", "everyone"]``); ``zone_version_id`` is the zone version whose
    zones decide ``in_zone``; ``seats`` overrides the registry's first-grade seats by school
    code and ``default_first_grade_classes`` fills the schools whose classes are unknown.
    ``claimed_priority_counts`` lets priority categories count in placement before an
    officer has checked them.
    """

    __tablename__ = "admission_round"
    __table_args__ = (
        UniqueConstraint("district_id", "year", "name", name="admission_round_district_year_name"),
        CheckConstraint(_in("status", ROUND_STATUSES), name="status"),
        CheckConstraint(f"max_choices BETWEEN 1 AND {MAX_CHOICES_LIMIT}", name="max_choices"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    applications_close_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    results_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    max_choices: Mapped[int] = mapped_column(Integer, default=3)
    rules: Mapped[list[str]] = mapped_column(JSON)
    priority_categories: Mapped[list[str]] = mapped_column(JSON)
    zone_version_id: Mapped[int | None] = mapped_column(ForeignKey("zone_version.id"))
    seats: Mapped[dict[str, int]] = mapped_column(JSON)
    default_first_grade_classes: Mapped[int | None] = mapped_column(Integer)
    claimed_priority_counts: Mapped[bool] = mapped_column(default=False, server_default=false())
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    applications: Mapped[list[AdmissionApplication]] = relationship(
        back_populates="round", order_by="AdmissionApplication.id"
    )


class AdmissionApplication(Base):
    """A family's application for one child: who, where they live, the ranked choices.

    ``application_id`` is public and random; ``secret_hash`` is the SHA-256 of the secret
    given to the family once. ``child_key`` is the folded name and date of birth, so the
    same child is found whatever the spelling of diacritics. ``priority_status`` is
    ``claimed``, ``verified`` or ``rejected`` when there is a ``priority_category``.
    """

    __tablename__ = "admission_application"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(
        ForeignKey("admission_round.id", ondelete="CASCADE"), index=True
    )
    application_id: Mapped[str] = mapped_column(String(32), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    child_name: Mapped[str] = mapped_column(String(200))
    child_key: Mapped[str] = mapped_column(String(220), index=True)
    date_of_birth: Mapped[dt.date] = mapped_column(Date)
    home: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=4326))
    ward_code: Mapped[str] = mapped_column(String(16))
    contact: Mapped[str] = mapped_column(String(200))
    choices: Mapped[list[str]] = mapped_column(JSON)
    sibling_school_codes: Mapped[list[str]] = mapped_column(JSON)
    priority_category: Mapped[str | None] = mapped_column(String(64))
    priority_status: Mapped[str | None] = mapped_column(String(16))
    priority_checked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    priority_checked_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))

    round: Mapped[AdmissionRound] = relationship(back_populates="applications")


class PlacementRun(Base):
    """One placement of a round's applications with one seed and one method.

    ``inputs_json`` is the canonical JSON of everything the placement was computed from
    (choices, priority groups, road distances, seats, seed) and ``inputs_sha256`` its
    SHA-256; ``digest`` fingerprints the result (:meth:`enrolment.Placement.digest`).
    A run is ``running`` while it computes, then ``done`` (results saved in one
    transaction) or ``failed``; a published run is frozen.
    """

    __tablename__ = "placement_run"
    __table_args__ = (
        CheckConstraint(_in("status", RUN_STATUSES), name="status"),
        CheckConstraint(_in("method", RUN_METHODS), name="method"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(
        ForeignKey("admission_round.id", ondelete="CASCADE"), index=True
    )
    method: Mapped[str] = mapped_column(String(32))
    seed: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    inputs_json: Mapped[str | None] = mapped_column(Text)
    inputs_sha256: Mapped[str | None] = mapped_column(String(64))
    digest: Mapped[str | None] = mapped_column(String(64))
    statistics: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    started_by: Mapped[str] = mapped_column(String(200))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    published_by: Mapped[str | None] = mapped_column(String(200))


class PlacementResult(Base):
    """Where one application was placed by one run, and why (``explanation``)."""

    __tablename__ = "placement_result"
    __table_args__ = (
        UniqueConstraint("run_id", "application_row_id", name="placement_result_run_application"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(
        ForeignKey("placement_run.id", ondelete="CASCADE"), index=True
    )
    application_row_id: Mapped[int] = mapped_column(
        ForeignKey("admission_application.id", ondelete="CASCADE"), index=True
    )
    school_code: Mapped[str | None] = mapped_column(String(32))
    choice_rank: Mapped[int | None] = mapped_column(Integer)
    guaranteed: Mapped[bool] = mapped_column(default=False)
    distance_m: Mapped[float | None] = mapped_column(Float)
    explanation: Mapped[dict[str, Any]] = mapped_column(JSON)


class AuditEntry(Base):
    """Who did what to which object, when, from which request (append-only)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(64), index=True)
    round_id: Mapped[int | None] = mapped_column(Integer)
    request_id: Mapped[str] = mapped_column(String(64))
    request_method: Mapped[str] = mapped_column(String(16))
    request_path: Mapped[str] = mapped_column(String(500))
    client_address: Mapped[str | None] = mapped_column(String(100))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
