"""Admission rounds: open one (enrolment officer), read them (anyone), close one; audit log.

A round's description and its counts are public; the applications in it are not (see
``applications.py``).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from gis_service.admission.rounds import RoundIn, open_round
from gis_service.api.access import officer_context
from gis_service.api.deps import OfficerDep, SessionDep, SettingsDep, require_role
from gis_service.api.schemas import IdPath, IdQuery
from gis_service.db import audit_repository, repository, rounds_repository
from gis_service.db.rounds_repository import RoundRecord

router = APIRouter(tags=["admission"])


class RoundPublic(BaseModel):
    """A round: its rules and deadlines, how many applied, the published run if any."""

    id: int
    district_code: str
    year: int
    name: str
    status: str
    applications_close_at: dt.datetime
    results_at: dt.datetime | None
    max_choices: int
    rules: list[str]
    priority_categories: list[str]
    zone_version_id: int | None
    seats: dict[str, int]
    default_first_grade_classes: int | None
    claimed_priority_counts: bool
    applications: int
    published_run_id: int | None
    created_at: dt.datetime
    closed_at: dt.datetime | None


def round_public(record: RoundRecord) -> RoundPublic:
    """Return the public view of a round."""
    return RoundPublic.model_validate(record, from_attributes=True)


@router.post("/rounds", status_code=201)
def create_round(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: OfficerDep,
    body: RoundIn,
) -> RoundPublic:
    """Open an admission round (role ``enrolment_officer``)."""
    record = open_round(
        session,
        body,
        district_code=settings.district_code,
        audit=officer_context(request, principal),
    )
    session.commit()
    return round_public(record)


@router.get("/rounds")
def list_rounds(session: SessionDep, settings: SettingsDep) -> list[RoundPublic]:
    """Every round of the district, newest year first."""
    district = repository.get_district(session, settings.district_code)
    return [round_public(r) for r in rounds_repository.list_rounds(session, district.code)]


@router.get("/rounds/{round_id}")
def read_round(session: SessionDep, round_id: IdPath) -> RoundPublic:
    """A round: rules, deadlines, the number of applications, the published run."""
    return round_public(rounds_repository.get_round(session, round_id))


@router.post("/rounds/{round_id}/close")
def close_round(
    request: Request, session: SessionDep, principal: OfficerDep, round_id: IdPath
) -> RoundPublic:
    """Close a round to new applications (role ``enrolment_officer``)."""
    record = rounds_repository.close_round(session, round_id)
    audit_repository.append_audit(
        session,
        officer_context(request, principal),
        action="round.close",
        object_type="admission_round",
        object_id=str(round_id),
        round_id=round_id,
    )
    session.commit()
    return round_public(record)


class AuditPublic(BaseModel):
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
    detail: dict[str, Any] | None


@router.get("/audit", dependencies=[Depends(require_role("admin"))])
def read_audit(
    session: SessionDep,
    object_id: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    round_id: IdQuery = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> list[AuditPublic]:
    """The audit log, oldest first (role ``admin``)."""
    entries = audit_repository.audit_entries(
        session, object_id=object_id, action=action, round_id=round_id, limit=limit
    )
    return [AuditPublic.model_validate(e, from_attributes=True) for e in entries]
