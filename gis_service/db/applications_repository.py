"""Applications of admission rounds in the store: write them, find them, check a secret.

Functions here flush but never commit: the caller owns the transaction. Homes are
EPSG:4326 (lon/lat) in and out. Application secrets are handed out once and stored only
as a salted SHA-256.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from geoalchemy2.shape import from_shape
from shapely import Point
from sqlalchemy import select
from sqlalchemy.orm import Session

from gis_service.db.admission_models import AdmissionApplication
from gis_service.db.repository import now, stored_lon_lat, utc
from gis_service.db.rounds_repository import published_run_ids, round_row
from gis_service.errors import ConflictError, NotFoundError

__all__: Sequence[str] = (
    "APPLICATION_ID_LENGTH",
    "CODE_ALPHABET",
    "SECRET_LENGTH",
    "ApplicationRecord",
    "IssuedApplication",
    "NewApplication",
    "add_applications",
    "application_for_secret",
    "application_record",
    "applications_of_children",
    "check_priority",
    "find_application",
    "normalize_code",
    "round_applications",
)

#: Characters of application ids and secrets (Crockford's base 32: no I, L, O, U).
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
#: Characters of an application id (80 random bits), shown in groups of four.
APPLICATION_ID_LENGTH = 16
#: Characters of an application secret (100 random bits), shown in groups of four.
SECRET_LENGTH = 20
_CROCKFORD_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1"})


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
    priority_status: str | None
    priority_checked_at: dt.datetime | None
    priority_checked_by: str | None

    def priority_counts(self, *, claimed_counts: bool) -> bool:
        """Whether the priority category counts in placement (verified, or claims count)."""
        if self.priority_status == "verified":
            return True
        return claimed_counts and self.priority_status == "claimed"


@dataclass(frozen=True, slots=True)
class IssuedApplication:
    """The public id and the secret of a new application (the secret is shown only once)."""

    application_id: str
    secret: str
    child_name: str


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


def application_record(row: AdmissionApplication) -> ApplicationRecord:
    """Return the record of a stored application, for the store's other modules."""
    lon, lat = stored_lon_lat(row.home)
    return ApplicationRecord(
        row_id=row.id,
        application_id=row.application_id,
        round_id=row.round_id,
        child_name=row.child_name,
        child_key=row.child_key,
        date_of_birth=row.date_of_birth,
        lon=lon,
        lat=lat,
        ward_code=row.ward_code,
        contact=row.contact,
        choices=tuple(row.choices),
        sibling_school_codes=tuple(row.sibling_school_codes),
        priority_category=row.priority_category,
        created_at=utc(row.created_at),
        created_by=row.created_by,
        priority_status=row.priority_status,
        priority_checked_at=None
        if row.priority_checked_at is None
        else utc(row.priority_checked_at),
        priority_checked_by=row.priority_checked_by,
    )


def add_applications(
    session: Session,
    round_id: int,
    applications: Sequence[NewApplication],
    *,
    actor: str,
    priority_verified: bool = False,
) -> list[IssuedApplication]:
    """Write validated applications; return each one's public id and secret, in order.

    A priority category is stored ``claimed``, or ``verified`` by ``actor`` when
    ``priority_verified``.

    Raises
    ------
    NotFoundError
        If there is no such round.
    """
    round_row(session, round_id)
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
                **_priority_state(application, actor, created, verified=priority_verified),
            )
        )
        issued.append(IssuedApplication(application_id, secret, application.child_name))
    session.flush()
    return issued


def _priority_state(
    application: NewApplication, actor: str, moment: dt.datetime, *, verified: bool
) -> dict[str, Any]:
    if application.priority_category is None:
        return {}
    if not verified:
        return {"priority_status": "claimed"}
    return {
        "priority_status": "verified",
        "priority_checked_at": moment,
        "priority_checked_by": actor,
    }


def check_priority(
    session: Session, application_id: str, *, verified: bool, actor: str
) -> ApplicationRecord:
    """Record an officer's check of an application's priority category; the caller commits.

    Raises
    ------
    NotFoundError
        If there is no such application.
    ConflictError
        If it claims no priority category, or its round has a published placement.
    """
    row = session.scalar(
        select(AdmissionApplication).where(
            AdmissionApplication.application_id == normalize_code(application_id)
        )
    )
    if row is None:
        msg = f"no application {application_id!r}"
        raise NotFoundError(msg)
    if row.priority_category is None:
        msg = f"application {row.application_id} claims no priority category"
        raise ConflictError(msg)
    if published_run_ids(session, [row.round_id]):
        msg = f"round {row.round_id} has a published placement: its applications cannot change"
        raise ConflictError(msg)
    row.priority_status = "verified" if verified else "rejected"
    row.priority_checked_at = now()
    row.priority_checked_by = actor
    session.flush()
    return application_record(row)


def round_applications(session: Session, round_id: int) -> list[ApplicationRecord]:
    """Return a round's applications in the order they were received."""
    rows = session.scalars(
        select(AdmissionApplication)
        .where(AdmissionApplication.round_id == round_id)
        .order_by(AdmissionApplication.id)
    ).all()
    return [application_record(row) for row in rows]


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
    return [application_record(row) for row in rows]


def find_application(session: Session, application_id: str) -> ApplicationRecord | None:
    """Return the application with this public id, or ``None``."""
    row = session.scalar(
        select(AdmissionApplication).where(
            AdmissionApplication.application_id == normalize_code(application_id)
        )
    )
    return None if row is None else application_record(row)


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
    return application_record(row) if row is not None and matches else None
