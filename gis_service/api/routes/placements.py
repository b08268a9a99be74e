"""Placement runs: run (enrolment officer), read the figures, explain one result, publish.

A run's figures (seats, admitted children, cut-offs, shares placed) are aggregates: they
are public once the run is published, and visible to enrolment officers before. Where a
child was placed and why is personal: the explanation needs an officer's key or the
family's secret, and a family sees only the published run. Running and publishing are
audited, and so is every explanation read.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from gis_service.admission.explanations import PlacementExplanation, RunStatistics
from gis_service.admission.inputs import FrozenInputs
from gis_service.admission.runs import MAX_SEED, publish_placement, run_placement
from gis_service.api.access import (
    SECRET_HEADER,
    application_reader,
    is_officer,
    officer_context,
)
from gis_service.api.deps import (
    HeavyJobsDep,
    NetworkDep,
    OfficerDep,
    OptionalPrincipalDep,
    RateLimiterDep,
    SessionDep,
    rate_limited,
)
from gis_service.api.limits import RATE_LIMITED_RESPONSES
from gis_service.api.schemas import IdPath
from gis_service.db import audit_repository, placement_runs_repository, rounds_repository
from gis_service.db.placement_runs_repository import RunRecord
from gis_service.db.repository import Principal
from gis_service.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
)
from gis_service.vocabulary import PUBLISHABLE_METHOD, RunMethod

router = APIRouter(tags=["admission"])


class RunCreate(BaseModel):
    """How to place: the lottery seed (drawn and recorded when absent) and the method."""

    model_config = ConfigDict(extra="forbid")

    seed: int | None = Field(default=None, ge=0, le=MAX_SEED)
    method: RunMethod = Field(
        default=PUBLISHABLE_METHOD,
        description="deferred_acceptance (publishable) or boston (for comparison only)",
    )


class RunPublic(BaseModel):
    """A placement run: its state, fingerprints and figures (aggregates only)."""

    id: int
    round_id: int
    method: str
    seed: int
    status: str
    publishable: bool
    started_at: dt.datetime
    finished_at: dt.datetime | None
    published_at: dt.datetime | None
    inputs_sha256: str | None
    digest: str | None
    error: str | None
    statistics: RunStatistics | None = None


def run_public(run: RunRecord, *, statistics: bool = True) -> RunPublic:
    """Return the public view of a run (without its figures unless ``statistics``)."""
    shown = run if statistics else dataclasses.replace(run, statistics=None)
    return RunPublic.model_validate(shown, from_attributes=True)


def _visible(run: RunRecord, principal: Principal | None) -> None:
    """Refuse an unpublished run to anyone but an enrolment officer."""
    if run.status == "published" or is_officer(principal):
        return
    msg = f"placement run {run.id} is not published: only enrolment officers see it"
    if principal is None:
        raise AuthenticationError(msg)
    raise PermissionDeniedError(msg)


@router.post("/rounds/{round_id}/placement", status_code=201)
async def start_placement(
    request: Request,
    session: SessionDep,
    networks: NetworkDep,
    principal: OfficerDep,
    heavy_jobs: HeavyJobsDep,
    round_id: IdPath,
    body: RunCreate,
) -> RunPublic:
    """Place the round's applications (role ``enrolment_officer``); returns the finished run.

    The placement runs on the threads of heavy computations, never on those that serve
    the public.
    """
    audit = officer_context(request, principal)

    def place() -> RunRecord:
        return run_placement(
            session, networks, round_id=round_id, method=body.method, seed=body.seed, audit=audit
        )

    return run_public(await heavy_jobs.run(place))


@router.get("/rounds/{round_id}/placement")
def list_placements(
    session: SessionDep, principal: OptionalPrincipalDep, round_id: IdPath
) -> list[RunPublic]:
    """The round's runs, oldest first (the published one only, for all but officers)."""
    rounds_repository.get_round(session, round_id)
    runs = placement_runs_repository.list_runs(session, round_id)
    shown = runs if is_officer(principal) else [r for r in runs if r.status == "published"]
    return [run_public(r, statistics=False) for r in shown]


@router.get("/rounds/{round_id}/placement/{run_id}")
def read_placement(
    session: SessionDep, principal: OptionalPrincipalDep, round_id: IdPath, run_id: IdPath
) -> RunPublic:
    """A run's figures: shares placed, distances, each school's seats and cut-off."""
    run = placement_runs_repository.get_run(session, round_id, run_id)
    _visible(run, principal)
    return run_public(run)


@router.get(
    "/rounds/{round_id}/placement/{run_id}/inputs",
    responses={200: {"model": FrozenInputs, "description": "The frozen inputs (canonical JSON)"}},
)
def read_placement_inputs(
    request: Request, session: SessionDep, principal: OfficerDep, round_id: IdPath, run_id: IdPath
) -> Response:
    """The run's frozen inputs as canonical JSON; their SHA-256 is ``inputs_sha256``.

    They hold each application's id, choices and road distances: officers only, audited.
    """
    text = placement_runs_repository.run_inputs(session, round_id, run_id)
    if text is None:
        msg = f"placement run {run_id} has no inputs: it did not finish"
        raise ConflictError(msg)
    audit_repository.append_audit(
        session,
        officer_context(request, principal),
        action="placement.inputs",
        object_type="placement_run",
        object_id=str(run_id),
        round_id=round_id,
    )
    session.commit()
    return Response(text.encode(), media_type="application/json")


class ExplanationPublic(BaseModel):
    """Where a child was placed by a run and why not at each higher choice."""

    application_id: str
    round_id: int
    run_id: int
    run_status: str
    method: str
    explanation: PlacementExplanation


@router.get(
    "/rounds/{round_id}/placement/{run_id}/explain/{application_id}",
    dependencies=[Depends(rate_limited("secret_lookups"))],
    responses=RATE_LIMITED_RESPONSES,
)
def explain_placement(
    request: Request,
    session: SessionDep,
    limiter: RateLimiterDep,
    principal: OptionalPrincipalDep,
    round_id: IdPath,
    run_id: IdPath,
    application_id: str,
    secret: Annotated[str | None, Header(alias=SECRET_HEADER)] = None,
) -> ExplanationPublic:
    """One application's result and why (officer, or the family with its secret).

    A family sees only the published run; an unpublished run answers 404 to it.
    """
    reader, found = application_reader(
        session,
        request,
        limiter=limiter,
        principal=principal,
        application_id=application_id,
        secret=secret,
    )
    run = placement_runs_repository.get_run(session, round_id, run_id)
    not_found = NotFoundError(f"run {run_id} holds no result for this application")
    if found.round_id != round_id or (not reader.officer and run.status != "published"):
        raise not_found
    if run.status not in {"done", "published"}:
        msg = f"placement run {run_id} is {run.status}: it has no results"
        raise ConflictError(msg)
    row = placement_runs_repository.result_of(session, run_id, found.row_id)
    if row is None:
        raise not_found
    audit_repository.append_audit(
        session,
        reader.audit,
        action="placement.explain",
        object_type="application",
        object_id=found.application_id,
        round_id=round_id,
        detail={"run_id": run_id},
    )
    session.commit()
    return ExplanationPublic(
        application_id=found.application_id,
        round_id=round_id,
        run_id=run_id,
        run_status=run.status,
        method=run.method,
        explanation=row.explanation,
    )


@router.post("/rounds/{round_id}/placement/{run_id}/publish")
def publish(
    request: Request, session: SessionDep, principal: OfficerDep, round_id: IdPath, run_id: IdPath
) -> RunPublic:
    """Publish a run (role ``enrolment_officer``): the round closes and the run is frozen."""
    run = publish_placement(session, round_id, run_id, audit=officer_context(request, principal))
    session.commit()
    return run_public(run)
