"""Admission rounds in the store: open one, read them, close one.

Functions here flush but never commit: the caller owns the transaction. A round's record
counts its applications and names its published placement run, if any.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gis_service.db.admission_models import AdmissionApplication, AdmissionRound, PlacementRun
from gis_service.db.models import District, ZoneVersion
from gis_service.db.repository import now, utc
from gis_service.errors import ConflictError, NotFoundError

__all__: Sequence[str] = (
    "RoundRecord",
    "RoundSpec",
    "close_round",
    "create_round",
    "get_round",
    "list_rounds",
    "published_run_ids",
    "round_row",
)


@dataclass(frozen=True, slots=True)
class RoundSpec:
    """A round to create."""

    district_code: str
    year: int
    name: str
    applications_close_at: dt.datetime
    results_at: dt.datetime | None
    max_choices: int
    rules: tuple[str, ...]
    priority_categories: tuple[str, ...]
    zone_version_id: int | None
    seats: dict[str, int]
    default_first_grade_classes: int | None
    created_by: str
    claimed_priority_counts: bool = False


@dataclass(frozen=True, slots=True)
class RoundRecord:
    """A stored round; ``applications`` counts its applications."""

    id: int
    district_code: str
    year: int
    name: str
    applications_close_at: dt.datetime
    results_at: dt.datetime | None
    max_choices: int
    rules: tuple[str, ...]
    priority_categories: tuple[str, ...]
    zone_version_id: int | None
    seats: dict[str, int]
    default_first_grade_classes: int | None
    status: str
    created_at: dt.datetime
    created_by: str
    closed_at: dt.datetime | None
    applications: int
    published_run_id: int | None
    claimed_priority_counts: bool

    def accepts_applications(self, when: dt.datetime) -> bool:
        """Whether the round takes applications at ``when`` (open and before its deadline)."""
        return self.status == "open" and when <= self.applications_close_at


def published_run_ids(session: Session, round_ids: Sequence[int]) -> dict[int, int]:
    """Return the published placement run of each of these rounds that has one."""
    if not round_ids:
        return {}
    rows = session.execute(
        select(PlacementRun.round_id, PlacementRun.id).where(
            PlacementRun.round_id.in_(round_ids), PlacementRun.status == "published"
        )
    ).all()
    return {int(round_id): int(run_id) for round_id, run_id in rows}


def _counts(session: Session, round_ids: Sequence[int]) -> dict[int, int]:
    if not round_ids:
        return {}
    rows = session.execute(
        select(AdmissionApplication.round_id, func.count())
        .where(AdmissionApplication.round_id.in_(round_ids))
        .group_by(AdmissionApplication.round_id)
    ).all()
    return {round_id: int(count) for round_id, count in rows}


def _round_record(
    row: AdmissionRound, district_code: str, *, applications: int, published_run_id: int | None
) -> RoundRecord:
    return RoundRecord(
        id=row.id,
        district_code=district_code,
        year=row.year,
        name=row.name,
        applications_close_at=utc(row.applications_close_at),
        results_at=None if row.results_at is None else utc(row.results_at),
        max_choices=row.max_choices,
        rules=tuple(row.rules),
        priority_categories=tuple(row.priority_categories),
        zone_version_id=row.zone_version_id,
        seats={str(k): int(v) for k, v in row.seats.items()},
        default_first_grade_classes=row.default_first_grade_classes,
        status=row.status,
        created_at=utc(row.created_at),
        created_by=row.created_by,
        closed_at=None if row.closed_at is None else utc(row.closed_at),
        applications=applications,
        published_run_id=published_run_id,
        claimed_priority_counts=row.claimed_priority_counts,
    )


def _records(session: Session, rows: Sequence[tuple[AdmissionRound, str]]) -> list[RoundRecord]:
    ids = [row.id for row, _ in rows]
    counts = _counts(session, ids)
    published = published_run_ids(session, ids)
    return [
        _round_record(
            row, code, applications=counts.get(row.id, 0), published_run_id=published.get(row.id)
        )
        for row, code in rows
    ]


def create_round(session: Session, spec: RoundSpec) -> RoundRecord:
    """Create an open admission round.

    Raises
    ------
    NotFoundError
        If the district or the zone version does not exist.
    ConflictError
        If the district already has a round of that name for that year.
    """
    district = session.scalar(select(District).where(District.code == spec.district_code))
    if district is None:
        msg = f"district {spec.district_code!r} is not in the registry"
        raise NotFoundError(msg)
    if spec.zone_version_id is not None:
        version = session.get(ZoneVersion, spec.zone_version_id)
        if version is None or version.district_id != district.id:
            msg = f"district {district.code} has no zone version {spec.zone_version_id}"
            raise NotFoundError(msg)
    taken = session.scalar(
        select(AdmissionRound.id).where(
            AdmissionRound.district_id == district.id,
            AdmissionRound.year == spec.year,
            AdmissionRound.name == spec.name,
        )
    )
    if taken is not None:
        msg = f"district {district.code} already has a {spec.year} round named {spec.name!r}"
        raise ConflictError(msg)
    row = AdmissionRound(
        district_id=district.id,
        year=spec.year,
        name=spec.name,
        applications_close_at=spec.applications_close_at,
        results_at=spec.results_at,
        max_choices=spec.max_choices,
        rules=list(spec.rules),
        priority_categories=list(spec.priority_categories),
        zone_version_id=spec.zone_version_id,
        seats=dict(spec.seats),
        default_first_grade_classes=spec.default_first_grade_classes,
        claimed_priority_counts=spec.claimed_priority_counts,
        status="open",
        created_at=now(),
        created_by=spec.created_by,
    )
    session.add(row)
    session.flush()
    return _round_record(row, district.code, applications=0, published_run_id=None)


def round_row(session: Session, round_id: int, *, lock: bool = False) -> tuple[AdmissionRound, str]:
    """Return a round's row and its district's code, for the store's other modules.

    Raises
    ------
    NotFoundError
        If there is no such round.
    """
    query = (
        select(AdmissionRound, District.code).join(District).where(AdmissionRound.id == round_id)
    )
    if lock:
        query = query.with_for_update(of=AdmissionRound)
    found = session.execute(query).first()
    if found is None:
        msg = f"no admission round {round_id}"
        raise NotFoundError(msg)
    return found[0], found[1]


def get_round(session: Session, round_id: int, *, lock: bool = False) -> RoundRecord:
    """Return a round; with ``lock`` its row is locked until the transaction ends.

    Locking serialises the writes of a round (applications, runs, publication) on PostGIS;
    SQLite serialises every write anyway.

    Raises
    ------
    NotFoundError
        If there is no such round.
    """
    return _records(session, [round_row(session, round_id, lock=lock)])[0]


def list_rounds(session: Session, district_code: str) -> list[RoundRecord]:
    """Return the district's rounds, newest year first."""
    rows = session.execute(
        select(AdmissionRound, District.code)
        .join(District)
        .where(District.code == district_code)
        .order_by(AdmissionRound.year.desc(), AdmissionRound.id.desc())
    ).all()
    return _records(session, [(row, code) for row, code in rows])


def close_round(session: Session, round_id: int) -> RoundRecord:
    """Close a round to new applications (nothing happens if it is closed already).

    Raises
    ------
    NotFoundError
        If there is no such round.
    """
    row, _ = round_row(session, round_id)
    if row.status != "closed":
        row.status = "closed"
        row.closed_at = now()
        session.flush()
    return get_round(session, round_id)
