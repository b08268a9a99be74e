"""Forecast input versions in the registry: save, list, look up and adopt.

A version is never changed once saved (a change is a new version, ``based_on`` the old
one); only its adoption is recorded on it. Functions here flush but never commit: the
caller owns the transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from gis_service.db.models import District, ForecastInputVersion
from gis_service.db.repository import id_or_name, now, utc
from gis_service.errors import ConflictError, NotFoundError

__all__: Sequence[str] = (
    "ForecastInputDraft",
    "ForecastInputVersionRecord",
    "adopt_forecast_input_version",
    "adopted_forecast_input_version",
    "get_forecast_input_version",
    "list_forecast_input_versions",
    "save_forecast_input_version",
)


@dataclass(frozen=True, slots=True)
class ForecastInputDraft:
    """Forecast inputs to be saved as a new draft version of a district.

    ``inputs`` is the JSON document, ``inputs_hash`` the SHA-256 of its canonical form and
    ``based_on_id`` the id of the version of the same district it was edited from, if any.
    """

    district_code: str
    name: str
    note: str
    inputs: dict[str, Any]
    inputs_hash: str
    created_by: str
    based_on_id: int | None = None


@dataclass(frozen=True, slots=True)
class ForecastInputVersionRecord:
    """A saved forecast input version; ``status`` is draft, adopted or superseded."""

    id: int
    district_code: str
    name: str
    note: str
    inputs: dict[str, Any]
    inputs_hash: str
    based_on_id: int | None
    status: str
    created_at: dt.datetime
    created_by: str
    adopted_at: dt.datetime | None
    adopted_by: str | None


def _record(row: ForecastInputVersion, district_code: str) -> ForecastInputVersionRecord:
    return ForecastInputVersionRecord(
        id=row.id,
        district_code=district_code,
        name=row.name,
        note=row.note,
        inputs=dict(row.inputs),
        inputs_hash=row.inputs_hash,
        based_on_id=row.based_on_id,
        status=row.status,
        created_at=utc(row.created_at),
        created_by=row.created_by,
        adopted_at=None if row.adopted_at is None else utc(row.adopted_at),
        adopted_by=row.adopted_by,
    )


def _of_district(district_code: str) -> Select[ForecastInputVersion]:
    return select(ForecastInputVersion).join(District).where(District.code == district_code)


def save_forecast_input_version(
    session: Session, draft: ForecastInputDraft
) -> ForecastInputVersionRecord:
    """Save forecast inputs as a draft version of their district.

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
        _of_district(district.code).where(ForecastInputVersion.name == draft.name)
    )
    if taken is not None:
        msg = (
            f"district {district.code} already has a forecast input version named "
            f"{draft.name!r} (id {taken.id}); versions never change: save under a new name"
        )
        raise ConflictError(msg)
    row = ForecastInputVersion(
        district_id=district.id,
        name=draft.name,
        note=draft.note,
        inputs=draft.inputs,
        inputs_hash=draft.inputs_hash,
        based_on_id=draft.based_on_id,
        status="draft",
        created_at=now(),
        created_by=draft.created_by,
    )
    session.add(row)
    session.flush()
    return _record(row, district.code)


def list_forecast_input_versions(
    session: Session, district_code: str
) -> list[ForecastInputVersionRecord]:
    """Return the district's forecast input versions, newest first."""
    rows = session.scalars(
        _of_district(district_code).order_by(
            ForecastInputVersion.created_at.desc(), ForecastInputVersion.id.desc()
        )
    ).all()
    return [_record(row, district_code) for row in rows]


def _version_row(session: Session, key: int | str, district_code: str) -> ForecastInputVersion:
    """Return a version by id (an int or its digits) or by name."""
    query = _of_district(district_code)
    row = session.scalar(
        query.where(id_or_name(ForecastInputVersion.id, ForecastInputVersion.name, key))
    )
    if row is None:
        msg = f"district {district_code} has no forecast input version {key!r}"
        raise NotFoundError(msg)
    return row


def get_forecast_input_version(
    session: Session, key: int | str, *, district_code: str
) -> ForecastInputVersionRecord:
    """Return a version by id (an int or its digits) or by name.

    Raises
    ------
    NotFoundError
        If the district has no such version.
    """
    return _record(_version_row(session, key, district_code), district_code)


def adopt_forecast_input_version(
    session: Session, key: int | str, *, district_code: str, actor: str
) -> ForecastInputVersionRecord:
    """Adopt a version; the district's previously adopted version becomes superseded.

    Adopting the adopted version changes nothing.

    Raises
    ------
    NotFoundError
        If the district has no such version.
    """
    row = _version_row(session, key, district_code)
    if row.status == "adopted":
        return _record(row, district_code)
    session.execute(
        update(ForecastInputVersion)
        .where(
            ForecastInputVersion.district_id == row.district_id,
            ForecastInputVersion.status == "adopted",
        )
        .values(status="superseded")
    )
    row.status = "adopted"
    row.adopted_at = now()
    row.adopted_by = actor
    session.flush()
    return _record(row, district_code)


def adopted_forecast_input_version(
    session: Session, district_code: str
) -> ForecastInputVersionRecord | None:
    """Return the district's adopted version, or ``None`` if none is adopted."""
    row = session.scalar(
        _of_district(district_code).where(ForecastInputVersion.status == "adopted")
    )
    return None if row is None else _record(row, district_code)
