"""Applications for first grade: submit (JSON or CSV), and read one (officer or family).

A family may submit its own application without a key and receives the application's id
and secret once; a list of applications, or a CSV file, needs an enrolment officer's key.
A batch is checked as a whole: if any application has a problem, nothing is written and
the answer is a 422 problem whose ``errors`` give each problem's pointer, reason and
detail. Reading an application needs an officer's key or the family's secret (see
:mod:`gis_service.api.access`); every read is audited.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Path, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from gis_service.admission.application_rows import (
    ApplicationsRejectedError,
    json_applications,
    read_application_csv,
)
from gis_service.admission.applications import submit_applications
from gis_service.admission.evidence import PRIORITY_STATUS_TEXT, check_priority_claim
from gis_service.api.access import (
    FAMILY_ROLE,
    SECRET_HEADER,
    Reader,
    application_reader,
    audit_context,
    is_officer,
    officer_context,
)
from gis_service.api.deps import (
    OfficerDep,
    OptionalPrincipalDep,
    RateLimiterDep,
    SessionDep,
    rate_limited,
)
from gis_service.api.limits import RATE_LIMITED_RESPONSES
from gis_service.api.problems import PROBLEM_JSON
from gis_service.api.schemas import IdPath
from gis_service.db import audit_repository, placement_runs_repository, rounds_repository
from gis_service.db.applications_repository import ApplicationRecord, IssuedApplication
from gis_service.errors import AuthenticationError, InvalidInputError, PermissionDeniedError

router = APIRouter(tags=["admission"])

#: The largest application file an upload may be (bytes).
MAX_UPLOAD_BYTES = 10 * 1024 * 1024


class ApplicationIn(BaseModel):
    """One application (documentation of the body; the service checks it as a batch)."""

    child_name: str = Field(max_length=200)
    date_of_birth: dt.date = Field(description="YYYY-MM-DD (or DD/MM/YYYY)")
    lon: float = Field(description="home longitude, EPSG:4326 degrees")
    lat: float = Field(description="home latitude, EPSG:4326 degrees")
    ward_code: str | None = Field(default=None, description="checked against the home")
    contact: str = Field(max_length=200, description="phone or e-mail of the family")
    choices: list[str] = Field(description="school codes, best first")
    sibling_school_codes: list[str] = Field(default_factory=list)
    priority_category: str | None = None


_BODY_SCHEMA = ApplicationIn.model_json_schema()
_OPENAPI_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"oneOf": [_BODY_SCHEMA, {"type": "array", "items": _BODY_SCHEMA}]}
            }
        },
    }
}


class IssuedPublic(BaseModel):
    """A new application's id and secret: the secret is shown this once."""

    application_id: str
    secret: str
    child_name: str


class SubmittedPublic(BaseModel):
    """What a submission wrote."""

    round_id: int
    applications: list[IssuedPublic]
    ignored_columns: list[str] = Field(default_factory=list)


def _submitted(
    round_id: int, issued: list[IssuedApplication], ignored: tuple[str, ...] = ()
) -> SubmittedPublic:
    return SubmittedPublic(
        round_id=round_id,
        applications=[IssuedPublic.model_validate(a, from_attributes=True) for a in issued],
        ignored_columns=list(ignored),
    )


def rejected_response(request: Request, error: ApplicationsRejectedError) -> JSONResponse:
    """Return the 422 problem of a rejected batch, with every problem's reason."""
    body = {
        "type": "about:blank",
        "title": "Invalid input",
        "status": 422,
        "detail": error.detail,
        "instance": request.url.path,
        "errors": [p.to_json() for p in error.rejections],
    }
    return JSONResponse(body, status_code=422, media_type=PROBLEM_JSON)


@router.post(
    "/rounds/{round_id}/applications",
    status_code=201,
    response_model=SubmittedPublic,
    openapi_extra=_OPENAPI_BODY,
    dependencies=[Depends(rate_limited("writes"))],
    responses=RATE_LIMITED_RESPONSES,
)
def submit(
    request: Request,
    session: SessionDep,
    principal: OptionalPrincipalDep,
    round_id: IdPath,
    body: Annotated[Any, Body()],
) -> SubmittedPublic | JSONResponse:
    """Submit one application (anyone: the family) or a list (role ``enrolment_officer``).

    The answer holds each application's id and secret, shown only this once.
    """
    raws = json_applications(body)
    if is_officer(principal):
        audit = officer_context(request, principal)
    elif isinstance(body, list):
        msg = "a list of applications needs an enrolment officer's key; a family sends one"
        if principal is None:
            raise AuthenticationError(msg)
        raise PermissionDeniedError(msg)
    else:
        audit = audit_context(request, actor="family", role=FAMILY_ROLE)
    try:
        issued = submit_applications(
            session, round_id, raws, audit=audit, priority_verified=is_officer(principal)
        )
    except ApplicationsRejectedError as error:
        session.rollback()
        return rejected_response(request, error)
    session.commit()
    return _submitted(round_id, issued)


@router.post(
    "/rounds/{round_id}/applications/import", status_code=201, response_model=SubmittedPublic
)
def import_applications(
    request: Request,
    session: SessionDep,
    principal: OfficerDep,
    round_id: IdPath,
    file: UploadFile,
) -> SubmittedPublic | JSONResponse:
    """Import applications from a CSV file (role ``enrolment_officer``), all or nothing.

    Columns: ``child_name``, ``date_of_birth``, ``lon``, ``lat``, ``contact``,
    ``choice_1``... (or ``choices`` with codes separated by ``;``), optionally
    ``ward_code``, ``sibling_school_codes``, ``priority_category``. Problems point at
    ``row N, column C`` (row 1 is the first line under the header).
    """
    data = file.file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        msg = f"the file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB"
        raise InvalidInputError(msg)
    audit = officer_context(request, principal)
    try:
        parsed = read_application_csv(data)
        issued = submit_applications(
            session, round_id, parsed.rows, audit=audit, priority_verified=True
        )
    except ApplicationsRejectedError as error:
        session.rollback()
        return rejected_response(request, error)
    session.commit()
    return _submitted(round_id, issued, parsed.ignored_columns)


class ResultPublic(BaseModel):
    """Where the published placement put the child."""

    run_id: int
    school_code: str | None
    school_name: str | None
    choice_rank: int | None
    guaranteed: bool
    distance_m: float | None


class ApplicationPublic(BaseModel):
    """An application as the family or an officer sees it, with the published result."""

    application_id: str
    round_id: int
    child_name: str
    date_of_birth: dt.date
    lon: float
    lat: float
    ward_code: str
    contact: str
    choices: list[str]
    sibling_school_codes: list[str]
    priority_category: str | None
    priority_status: str | None = Field(description="claimed, verified or rejected")
    priority_status_text: str | None = Field(description="the state in words, Vietnamese first")
    created_at: dt.datetime
    result: ResultPublic | None


def _answer(session: SessionDep, reader: Reader, found: ApplicationRecord) -> ApplicationPublic:
    round_record = rounds_repository.get_round(session, found.round_id)
    result = None
    run_id = round_record.published_run_id
    if run_id is not None:
        row = placement_runs_repository.result_of(session, run_id, found.row_id)
        if row is not None:
            result = ResultPublic(
                run_id=run_id,
                school_code=row.school_code,
                school_name=row.explanation.get("school_name"),
                choice_rank=row.choice_rank,
                guaranteed=row.guaranteed,
                distance_m=row.distance_m,
            )
    audit_repository.append_audit(
        session,
        reader.audit,
        action="application.read",
        object_type="application",
        object_id=found.application_id,
        round_id=found.round_id,
    )
    session.commit()
    status_text = PRIORITY_STATUS_TEXT.get(found.priority_status or "")
    return ApplicationPublic.model_validate(
        {**dataclasses.asdict(found), "priority_status_text": status_text, "result": result}
    )


@router.get(
    "/applications/{application_id}",
    dependencies=[Depends(rate_limited("secret_lookups"))],
    responses=RATE_LIMITED_RESPONSES,
)
def read_application(
    request: Request,
    session: SessionDep,
    limiter: RateLimiterDep,
    principal: OptionalPrincipalDep,
    application_id: str,
    secret: Annotated[str | None, Header(alias=SECRET_HEADER)] = None,
) -> ApplicationPublic:
    """One application and its published result (officer, or the family with its secret)."""
    reader, found = application_reader(
        session,
        request,
        limiter=limiter,
        principal=principal,
        application_id=application_id,
        secret=secret,
    )
    return _answer(session, reader, found)


class Lookup(BaseModel):
    """A family's application id and secret (kept out of URLs and logs)."""

    model_config = ConfigDict(extra="forbid")

    application_id: str = Field(min_length=1, max_length=64)
    secret: str = Field(min_length=1, max_length=64)


@router.post(
    "/applications/lookup",
    dependencies=[Depends(rate_limited("secret_lookups"))],
    responses=RATE_LIMITED_RESPONSES,
)
def look_up_application(
    request: Request, session: SessionDep, limiter: RateLimiterDep, body: Lookup
) -> ApplicationPublic:
    """One application and its published result, for the family holding its secret."""
    reader, found = application_reader(
        session,
        request,
        limiter=limiter,
        principal=None,
        application_id=body.application_id,
        secret=body.secret,
    )
    return _answer(session, reader, found)


class PriorityCheck(BaseModel):
    """An enrolment officer's decision on a claimed priority category."""

    model_config = ConfigDict(extra="forbid")

    verified: bool = Field(description="true: the documents prove it; false: they do not")


class PriorityPublic(BaseModel):
    """The state of an application's priority category after an officer's check."""

    application_id: str
    priority_category: str
    priority_status: str
    priority_status_text: str
    priority_checked_at: dt.datetime
    priority_checked_by: str


@router.post("/applications/{application_id}/priority")
def check_priority(
    request: Request,
    session: SessionDep,
    principal: OfficerDep,
    application_id: Annotated[str, Path(max_length=64)],
    body: PriorityCheck,
) -> PriorityPublic:
    """Record whether a claimed priority category is proven (role ``enrolment_officer``).

    Placement counts a category once verified (or while claimed, if the round says so);
    a rejected one never. Audited; refused (409) once the round's placement is published.
    """
    checked = check_priority_claim(
        session, application_id, verified=body.verified, audit=officer_context(request, principal)
    )
    session.commit()
    status = checked.priority_status or ""
    return PriorityPublic(
        application_id=checked.application_id,
        priority_category=checked.priority_category or "",
        priority_status=status,
        priority_status_text=PRIORITY_STATUS_TEXT[status],
        priority_checked_at=checked.priority_checked_at or checked.created_at,
        priority_checked_by=checked.priority_checked_by or "",
    )
