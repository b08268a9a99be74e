"""First-grade admission in the store: rounds, applications, placement runs, audit log.

Functions here flush but never commit: the caller owns the transaction, so one request,
one import or the saving of one run's results is one transaction and a failure writes
nothing. Homes are EPSG:4326 (lon/lat) in and out. Application secrets are handed out
once and stored only as a salted SHA-256; the audit log is append-only (the store refuses
updates and deletes of its rows).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from geoalchemy2.shape import from_shape, to_shape
from shapely import Point
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gis_service.db.admission_models import (
    AdmissionApplication,
    AdmissionRound,
    AuditEntry,
    PlacementResult,
    PlacementRun,
)
from gis_service.db.models import District, ZoneVersion
from gis_service.db.repository import now, utc
from gis_service.errors import ConflictError, NotFoundError

#: Characters of application ids and secrets (Crockford's base 32: no I, L, O, U).
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
#: Characters of an application id (80 random bits), shown in groups of four.
APPLICATION_ID_LENGTH = 16
#: Characters of an application secret (100 random bits), shown in groups of four.
SECRET_LENGTH = 20
_CROCKFORD_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1"})


# --- records ------------------------------------------------------------------------------


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

    def accepts_applications(self, when: dt.datetime) -> bool:
        """Whether the round takes applications at ``when`` (open and before its deadline)."""
        return self.status == "open" and when <= self.applications_close_at


@dataclass(frozen=True, slots=True)
class NewApplication:
    """A validated application, ready to be written."""

    child_name: str
    child_key: str
    date_of_birth: dt.date
    lon: float
    lat: float
    ward_code: str
    contact: str
    choices: tuple[str, ...]
    sibling_school_codes: tuple[str, ...]
    priority_category: str | None


@dataclass(frozen=True, slots=True)
class ApplicationRecord:
    """A stored application (its secret is never read back)."""

    row_id: int
    application_id: str
    round_id: int
    child_name: str
    child_key: str
    date_of_birth: dt.date
    lon: float
    lat: float
    ward_code: str
    contact: str
    choices: tuple[str, ...]
    sibling_school_codes: tuple[str, ...]
    priority_category: str | None
    created_at: dt.datetime
    created_by: str


@dataclass(frozen=True, slots=True)
class IssuedApplication:
    """The public id and the secret of a new application (the secret is shown only once)."""

    application_id: str
    secret: str
    child_name: str


@dataclass(frozen=True, slots=True)
class RunRecord:
    """A placement run without its per-application results."""

    id: int
    round_id: int
    method: str
    seed: int
    status: str
    inputs_sha256: str | None
    digest: str | None
    statistics: dict[str, Any] | None
    error: str | None
    started_at: dt.datetime
    started_by: str
    finished_at: dt.datetime | None
    published_at: dt.datetime | None
    published_by: str | None


@dataclass(frozen=True, slots=True)
class ResultRow:
    """One application's placement, as saved with a run."""

    application_row_id: int
    school_code: str | None
    choice_rank: int | None
    guaranteed: bool
    distance_m: float | None
    explanation: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """Everything a finished run saves, in one transaction."""

    inputs_json: str
    inputs_sha256: str
    digest: str
    statistics: dict[str, Any]
    results: tuple[ResultRow, ...]


@dataclass(frozen=True, slots=True)
class AuditContext:
    """Who acts and from which request; every audit entry carries it.

    ``request_method`` is ``"CLI"`` for the command line.
    """

    actor: str
    role: str
    request_id: str
    request_method: str
    request_path: str
    client_address: str | None = None


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One entry of the audit log."""

    id: int
    at: dt.datetime
    actor: str
    role: str
    action: str
    object_type: str
    object_id: str
    round_id: int | None
    request_id: str
    request_method: str
    request_path: str
    client_address: str | None
    detail: dict[str, Any] | None = field(default=None)


# --- codes and secrets ----------------------------------------------------------------------


def _random_code(length: int) -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))
    return "-".join(raw[i : i + 4] for i in range(0, length, 4))


def normalize_code(value: str) -> str:
    """Return an application id or secret as stored: upper case, grouped by four.

    Spaces and dashes are ignored and the letters people confuse with digits (O, I, L)
    read as 0 and 1, so a code typed from paper still matches.
    """
    cleaned = "".join(ch for ch in value.upper() if ch.isalnum()).translate(_CROCKFORD_ALIASES)
    return "-".join(cleaned[i : i + 4] for i in range(0, len(cleaned), 4))


def _secret_hash(application_id: str, secret: str) -> str:
    salted = f"{application_id}:{normalize_code(secret)}"
    return hashlib.sha256(salted.encode()).hexdigest()


# --- rounds ---------------------------------------------------------------------------------


def _published_run_ids(session: Session, round_ids: Sequence[int]) -> dict[int, int]:
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
    )


def _records(session: Session, rows: Sequence[tuple[AdmissionRound, str]]) -> list[RoundRecord]:
    ids = [row.id for row, _ in rows]
    counts = _counts(session, ids)
    published = _published_run_ids(session, ids)
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
        status="open",
        created_at=now(),
        created_by=spec.created_by,
    )
    session.add(row)
    session.flush()
    return _round_record(row, district.code, applications=0, published_run_id=None)


def _round_row(
    session: Session, round_id: int, *, lock: bool = False
) -> tuple[AdmissionRound, str]:
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
    return _records(session, [_round_row(session, round_id, lock=lock)])[0]


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
    row, _ = _round_row(session, round_id)
    if row.status != "closed":
        row.status = "closed"
        row.closed_at = now()
        session.flush()
    return get_round(session, round_id)


# --- applications ---------------------------------------------------------------------------


def _application_record(row: AdmissionApplication) -> ApplicationRecord:
    home = to_shape(row.home)
    if not isinstance(home, Point):
        msg = f"expected a stored point, got {home.geom_type}"
        raise TypeError(msg)
    return ApplicationRecord(
        row_id=row.id,
        application_id=row.application_id,
        round_id=row.round_id,
        child_name=row.child_name,
        child_key=row.child_key,
        date_of_birth=row.date_of_birth,
        lon=float(home.x),
        lat=float(home.y),
        ward_code=row.ward_code,
        contact=row.contact,
        choices=tuple(row.choices),
        sibling_school_codes=tuple(row.sibling_school_codes),
        priority_category=row.priority_category,
        created_at=utc(row.created_at),
        created_by=row.created_by,
    )


def add_applications(
    session: Session, round_id: int, applications: Sequence[NewApplication], *, actor: str
) -> list[IssuedApplication]:
    """Write validated applications; return each one's public id and secret, in order.

    Raises
    ------
    NotFoundError
        If there is no such round.
    """
    _round_row(session, round_id)
    created = now()
    issued = []
    for application in applications:
        # 80 random bits: a clash is practically impossible, and the unique index refuses it
        application_id = _random_code(APPLICATION_ID_LENGTH)
        secret = _random_code(SECRET_LENGTH)
        session.add(
            AdmissionApplication(
                round_id=round_id,
                application_id=application_id,
                secret_hash=_secret_hash(application_id, secret),
                child_name=application.child_name,
                child_key=application.child_key,
                date_of_birth=application.date_of_birth,
                home=from_shape(Point(application.lon, application.lat), srid=4326),
                ward_code=application.ward_code,
                contact=application.contact,
                choices=list(application.choices),
                sibling_school_codes=list(application.sibling_school_codes),
                priority_category=application.priority_category,
                created_at=created,
                created_by=actor,
            )
        )
        issued.append(IssuedApplication(application_id, secret, application.child_name))
    session.flush()
    return issued


def round_applications(session: Session, round_id: int) -> list[ApplicationRecord]:
    """Return a round's applications in the order they were received."""
    rows = session.scalars(
        select(AdmissionApplication)
        .where(AdmissionApplication.round_id == round_id)
        .order_by(AdmissionApplication.id)
    ).all()
    return [_application_record(row) for row in rows]


def applications_of_children(
    session: Session, round_id: int, child_keys: Sequence[str]
) -> list[ApplicationRecord]:
    """Return the round's applications for any of these children (folded name and birth)."""
    if not child_keys:
        return []
    rows = session.scalars(
        select(AdmissionApplication)
        .where(
            AdmissionApplication.round_id == round_id,
            AdmissionApplication.child_key.in_(sorted(set(child_keys))),
        )
        .order_by(AdmissionApplication.id)
    ).all()
    return [_application_record(row) for row in rows]


def find_application(session: Session, application_id: str) -> ApplicationRecord | None:
    """Return the application with this public id, or ``None``."""
    row = session.scalar(
        select(AdmissionApplication).where(
            AdmissionApplication.application_id == normalize_code(application_id)
        )
    )
    return None if row is None else _application_record(row)


def application_for_secret(
    session: Session, application_id: str, secret: str
) -> ApplicationRecord | None:
    """Return the application if ``secret`` is its secret, else ``None`` (never say which).

    The comparison takes the same time whether the id exists or not.
    """
    key = normalize_code(application_id)
    row = session.scalar(
        select(AdmissionApplication).where(AdmissionApplication.application_id == key)
    )
    expected = row.secret_hash if row is not None else "0" * 64
    matches = hmac.compare_digest(expected, _secret_hash(key, secret))
    return _application_record(row) if row is not None and matches else None


# --- placement runs -------------------------------------------------------------------------


def _run_record(row: PlacementRun) -> RunRecord:
    return RunRecord(
        id=row.id,
        round_id=row.round_id,
        method=row.method,
        seed=int(row.seed),
        status=row.status,
        inputs_sha256=row.inputs_sha256,
        digest=row.digest,
        statistics=None if row.statistics is None else dict(row.statistics),
        error=row.error,
        started_at=utc(row.started_at),
        started_by=row.started_by,
        finished_at=None if row.finished_at is None else utc(row.finished_at),
        published_at=None if row.published_at is None else utc(row.published_at),
        published_by=row.published_by,
    )


def _run_row(session: Session, round_id: int, run_id: int) -> PlacementRun:
    row = session.get(PlacementRun, run_id)
    if row is None or row.round_id != round_id:
        msg = f"round {round_id} has no placement run {run_id}"
        raise NotFoundError(msg)
    return row


def start_run(session: Session, round_id: int, *, method: str, seed: int, actor: str) -> RunRecord:
    """Record a run as ``running``.

    Raises
    ------
    NotFoundError
        If there is no such round.
    """
    _round_row(session, round_id)
    row = PlacementRun(
        round_id=round_id,
        method=method,
        seed=seed,
        status="running",
        started_at=now(),
        started_by=actor,
    )
    session.add(row)
    session.flush()
    return _run_record(row)


def fail_stale_runs(session: Session, round_id: int, *, older_than: dt.timedelta) -> list[int]:
    """Mark the round's runs still ``running`` after ``older_than`` as failed; return them.

    A run whose process was killed never finishes; its results were never written.
    """
    limit = now() - older_than
    rows = session.scalars(
        select(PlacementRun).where(
            PlacementRun.round_id == round_id, PlacementRun.status == "running"
        )
    ).all()
    stale = [row for row in rows if utc(row.started_at) < limit]
    for row in stale:
        row.status = "failed"
        row.error = f"interrupted: no result {older_than} after it started"
        row.finished_at = now()
    session.flush()
    return [row.id for row in stale]


def _result_row(run_id: int, result: ResultRow) -> PlacementResult:
    return PlacementResult(
        run_id=run_id,
        application_row_id=result.application_row_id,
        school_code=result.school_code,
        choice_rank=result.choice_rank,
        guaranteed=result.guaranteed,
        distance_m=result.distance_m,
        explanation=result.explanation,
    )


def save_run_results(
    session: Session, round_id: int, run_id: int, outcome: RunOutcome
) -> RunRecord:
    """Save a finished run: its inputs, figures and every application's result.

    Raises
    ------
    NotFoundError
        If the round has no such run.
    ConflictError
        If the run is not ``running`` (finished, failed or published already).
    """
    row = _run_row(session, round_id, run_id)
    if row.status != "running":
        msg = f"placement run {run_id} is {row.status}: its results cannot change"
        raise ConflictError(msg)
    for result in outcome.results:
        session.add(_result_row(run_id, result))
        if len(session.new) >= 500:
            session.flush()
    row.status = "done"
    row.inputs_json = outcome.inputs_json
    row.inputs_sha256 = outcome.inputs_sha256
    row.digest = outcome.digest
    row.statistics = outcome.statistics
    row.finished_at = now()
    session.flush()
    return _run_record(row)


def fail_run(session: Session, round_id: int, run_id: int, *, error: str) -> RunRecord:
    """Mark a running run as failed with the reason.

    Raises
    ------
    NotFoundError
        If the round has no such run.
    """
    row = _run_row(session, round_id, run_id)
    if row.status == "running":
        row.status = "failed"
        row.error = error[:2000]
        row.finished_at = now()
        session.flush()
    return _run_record(row)


def get_run(session: Session, round_id: int, run_id: int) -> RunRecord:
    """Return a run of a round.

    Raises
    ------
    NotFoundError
        If the round has no such run.
    """
    return _run_record(_run_row(session, round_id, run_id))


def run_inputs(session: Session, round_id: int, run_id: int) -> str | None:
    """Return the canonical JSON of a run's inputs (``None`` until it is done)."""
    return _run_row(session, round_id, run_id).inputs_json


def list_runs(session: Session, round_id: int) -> list[RunRecord]:
    """Return a round's runs, oldest first."""
    rows = session.scalars(
        select(PlacementRun).where(PlacementRun.round_id == round_id).order_by(PlacementRun.id)
    ).all()
    return [_run_record(row) for row in rows]


def publish_run(session: Session, round_id: int, run_id: int, *, actor: str) -> RunRecord:
    """Publish a finished run; the round closes and the run is frozen from now on.

    Raises
    ------
    NotFoundError
        If the round has no such run.
    ConflictError
        If the round already has a published run, the run is not finished, or it is a
        Boston run (for comparison only).
    """
    round_row, _ = _round_row(session, round_id, lock=True)
    row = _run_row(session, round_id, run_id)
    published = _published_run_ids(session, [round_id]).get(round_id)
    if published is not None:
        msg = f"round {round_id} is frozen: placement run {published} is published"
        raise ConflictError(msg)
    if row.method == "boston":
        msg = f"placement run {run_id} is a Boston run, for comparison only: it cannot be published"
        raise ConflictError(msg)
    if row.status != "done":
        msg = f"placement run {run_id} is {row.status}: only a finished run can be published"
        raise ConflictError(msg)
    row.status = "published"
    row.published_at = now()
    row.published_by = actor
    if round_row.status != "closed":
        round_row.status = "closed"
        round_row.closed_at = row.published_at
    session.flush()
    return _run_record(row)


def result_of(session: Session, run_id: int, application_row_id: int) -> ResultRow | None:
    """Return an application's result in a run, or ``None``."""
    row = session.scalar(
        select(PlacementResult).where(
            PlacementResult.run_id == run_id,
            PlacementResult.application_row_id == application_row_id,
        )
    )
    if row is None:
        return None
    return ResultRow(
        application_row_id=row.application_row_id,
        school_code=row.school_code,
        choice_rank=row.choice_rank,
        guaranteed=row.guaranteed,
        distance_m=row.distance_m,
        explanation=dict(row.explanation),
    )


def run_results(session: Session, run_id: int) -> list[tuple[ApplicationRecord, ResultRow]]:
    """Return every application of a run with its result, in the order received."""
    rows = session.execute(
        select(AdmissionApplication, PlacementResult)
        .join(PlacementResult, PlacementResult.application_row_id == AdmissionApplication.id)
        .where(PlacementResult.run_id == run_id)
        .order_by(AdmissionApplication.id)
    ).all()
    return [
        (
            _application_record(application),
            ResultRow(
                application_row_id=result.application_row_id,
                school_code=result.school_code,
                choice_rank=result.choice_rank,
                guaranteed=result.guaranteed,
                distance_m=result.distance_m,
                explanation=dict(result.explanation),
            ),
        )
        for application, result in rows
    ]


# --- audit log ------------------------------------------------------------------------------


def append_audit(
    session: Session,
    context: AuditContext,
    *,
    action: str,
    object_type: str,
    object_id: str,
    round_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one entry to the audit log (written with the caller's transaction)."""
    session.add(
        AuditEntry(
            at=now(),
            actor=context.actor[:200],
            role=context.role[:32],
            action=action,
            object_type=object_type,
            object_id=object_id[:64],
            round_id=round_id,
            request_id=context.request_id[:64],
            request_method=context.request_method[:16],
            request_path=context.request_path[:500],
            client_address=None if context.client_address is None else context.client_address[:100],
            detail=detail,
        )
    )


def audit_entries(
    session: Session,
    *,
    object_id: str | None = None,
    action: str | None = None,
    round_id: int | None = None,
    limit: int = 1000,
) -> list[AuditRecord]:
    """Return audit entries, oldest first, optionally of one object, action or round."""
    query = select(AuditEntry).order_by(AuditEntry.id)
    if object_id is not None:
        query = query.where(AuditEntry.object_id == object_id)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    if round_id is not None:
        query = query.where(AuditEntry.round_id == round_id)
    rows = session.scalars(query.limit(limit)).all()
    return [
        AuditRecord(
            id=row.id,
            at=utc(row.at),
            actor=row.actor,
            role=row.role,
            action=row.action,
            object_type=row.object_type,
            object_id=row.object_id,
            round_id=row.round_id,
            request_id=row.request_id,
            request_method=row.request_method,
            request_path=row.request_path,
            client_address=row.client_address,
            detail=None if row.detail is None else dict(row.detail),
        )
        for row in rows
    ]


__all__: Sequence[str] = (
    "APPLICATION_ID_LENGTH",
    "CODE_ALPHABET",
    "SECRET_LENGTH",
    "ApplicationRecord",
    "AuditContext",
    "AuditRecord",
    "IssuedApplication",
    "NewApplication",
    "ResultRow",
    "RoundRecord",
    "RoundSpec",
    "RunOutcome",
    "RunRecord",
    "add_applications",
    "append_audit",
    "application_for_secret",
    "applications_of_children",
    "audit_entries",
    "close_round",
    "create_round",
    "fail_run",
    "fail_stale_runs",
    "find_application",
    "get_round",
    "get_run",
    "list_rounds",
    "list_runs",
    "normalize_code",
    "publish_run",
    "result_of",
    "round_applications",
    "run_inputs",
    "run_results",
    "save_run_results",
    "start_run",
)
