"""Admission rounds: open one (enrolment officer), read them (anyone), close one; audit log.

A round's description and its counts are public; the applications in it are not (see
``applications.py``).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from gis_service.admission.rounds import DEFAULT_RULES, RoundRequest, open_round
from gis_service.api.access import officer_context
from gis_service.api.deps import OfficerDep, SessionDep, SettingsDep, require_role
from gis_service.db import admission_repository, repository
from gis_service.db.admission_repository import RoundRecord
from gis_service.vocabulary import MAX_CHOICES_LIMIT

router = APIRouter(tags=["admission"])


class RoundCreate(BaseModel):
    """A round to open. Times are ISO 8601; without an offset they are UTC."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    year: int = Field(ge=2000, le=2100, description="the intake year (September)")
    applications_close_at: dt.datetime
    results_at: dt.datetime | None = None
    max_choices: int = Field(default=3, ge=1, le=MAX_CHOICES_LIMIT)
    rules: list[str] = Field(
        default_factory=lambda: list(DEFAULT_RULES),
        min_length=1,
        max_length=4,
        description="priority groups, highest first: in_zone, sibling, priority_category, everyone",
    )
    priority_categories: list[str] = Field(default_factory=list, max_length=20)
    zone_version: str | None = Field(
        default=None, description="zone version id or name (default: the published one)"
    )
    seats: dict[str, int] = Field(
        default_factory=dict, description="first-grade seats by school code, over the registry's"
    )
    default_first_grade_classes: int | None = Field(
        default=None, ge=0, le=30, description="classes assumed where the registry has none"
    )


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
    applications: int
    published_run_id: int | None
    created_at: dt.datetime
    closed_at: dt.datetime | None


def round_public(record: RoundRecord) -> RoundPublic:
    """Return the public view of a round."""
    return RoundPublic(
        id=record.id,
        district_code=record.district_code,
        year=record.year,
        name=record.name,
        status=record.status,
        applications_close_at=record.applications_close_at,
        results_at=record.results_at,
        max_choices=record.max_choices,
        rules=list(record.rules),
        priority_categories=list(record.priority_categories),
        zone_version_id=record.zone_version_id,
        seats=record.seats,
        default_first_grade_classes=record.default_first_grade_classes,
        applications=record.applications,
        published_run_id=record.published_run_id,
        created_at=record.created_at,
        closed_at=record.closed_at,
    )


@router.post("/rounds", status_code=201)
def create_round(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: OfficerDep,
    body: RoundCreate,
) -> RoundPublic:
    """Open an admission round (role ``enrolment_officer``)."""
    record = open_round(
        session,
        RoundRequest(
            name=body.name,
            year=body.year,
            applications_close_at=body.applications_close_at,
            results_at=body.results_at,
            max_choices=body.max_choices,
            rules=body.rules,
            priority_categories=body.priority_categories,
            zone_version=body.zone_version,
            seats=body.seats,
            default_first_grade_classes=body.default_first_grade_classes,
        ),
        district_code=settings.district_code,
        audit=officer_context(request, principal),
    )
    session.commit()
    return round_public(record)


@router.get("/rounds")
def list_rounds(session: SessionDep, settings: SettingsDep) -> list[RoundPublic]:
    """Every round of the district, newest year first."""
    district = repository.get_district(session, settings.district_code)
    return [round_public(r) for r in admission_repository.list_rounds(session, district.code)]


@router.get("/rounds/{round_id}")
def read_round(session: SessionDep, round_id: int) -> RoundPublic:
    """A round: rules, deadlines, the number of applications, the published run."""
    return round_public(admission_repository.get_round(session, round_id))


@router.post("/rounds/{round_id}/close")
def close_round(
    request: Request, session: SessionDep, principal: OfficerDep, round_id: int
) -> RoundPublic:
    """Close a round to new applications (role ``enrolment_officer``)."""
    record = admission_repository.close_round(session, round_id)
    admission_repository.append_audit(
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
    round_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> list[AuditPublic]:
    """The audit log, oldest first (role ``admin``)."""
    entries = admission_repository.audit_entries(
        session, object_id=object_id, action=action, round_id=round_id, limit=limit
    )
    return [
        AuditPublic(
            id=e.id,
            at=e.at,
            actor=e.actor,
            role=e.role,
            action=e.action,
            object_type=e.object_type,
            object_id=e.object_id,
            round_id=e.round_id,
            request_id=e.request_id,
            request_method=e.request_method,
            request_path=e.request_path,
            client_address=e.client_address,
            detail=e.detail,
        )
        for e in entries
    ]
