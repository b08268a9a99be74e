"""The audit log in the store: who did what to which object, from which request.

The log is append-only (the store refuses updates and deletes of its rows); an entry is
written with the caller's transaction, so an action that is rolled back leaves none.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gis_service.db.admission_models import AuditEntry
from gis_service.db.repository import now, utc

__all__: Sequence[str] = ("AuditContext", "AuditRecord", "append_audit", "audit_entries")


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
