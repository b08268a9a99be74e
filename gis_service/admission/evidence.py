"""Evidence for priority categories: a family's claim waits for an officer's check.

A priority category sent by a family is stored ``claimed``; an enrolment officer who has
seen the documents records it ``verified`` or ``rejected`` (audited). Placement counts a
category once verified, or while claimed if the round says claims count
(``claimed_priority_counts``). Categories an officer enters (a list, a CSV file) are
recorded verified by that officer.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from gis_service.db import applications_repository, audit_repository
from gis_service.db.applications_repository import ApplicationRecord
from gis_service.db.audit_repository import AuditContext

#: Each state of a priority claim in words, Vietnamese first.
PRIORITY_STATUS_TEXT = {
    "claimed": "Chờ xác minh giấy tờ (claimed: awaiting evidence)",
    "verified": "Đã xác minh (verified)",
    "rejected": "Không được xác nhận (rejected)",
}


def check_priority_claim(
    session: Session, application_id: str, *, verified: bool, audit: AuditContext
) -> ApplicationRecord:
    """Record an officer's check of an application's priority category, audited.

    The caller commits.

    Raises
    ------
    NotFoundError
        If there is no such application.
    ConflictError
        If it claims no priority category, or its round has a published placement.
    """
    checked = applications_repository.check_priority(
        session, application_id, verified=verified, actor=audit.actor
    )
    audit_repository.append_audit(
        session,
        audit,
        action="application.priority",
        object_type="application",
        object_id=checked.application_id,
        round_id=checked.round_id,
        detail={"category": checked.priority_category, "status": checked.priority_status},
    )
    return checked


__all__ = ["PRIORITY_STATUS_TEXT", "check_priority_claim"]
