"""Placement runs of admission rounds in the store: start, save or fail, read, publish.

Functions here flush but never commit: the caller owns the transaction, so the saving of
one run's results is one transaction and a failure writes nothing. A published run
freezes its round.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gis_service.db.admission_models import AdmissionApplication, PlacementResult, PlacementRun
from gis_service.db.applications_repository import ApplicationRecord, application_record
from gis_service.db.repository import now, utc
from gis_service.db.rounds_repository import published_run_ids, round_row
from gis_service.errors import ConflictError, NotFoundError
from gis_service.vocabulary import PUBLISHABLE_METHOD

__all__: Sequence[str] = (
    "ResultRow",
    "RunOutcome",
    "RunRecord",
    "fail_interrupted_runs",
    "fail_run",
    "fail_stale_runs",
    "get_run",
    "list_runs",
    "publish_run",
    "result_of",
    "run_inputs",
    "run_results",
    "save_run_results",
    "start_run",
)


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

    @property
    def publishable(self) -> bool:
        """Whether the run may be published: finished, by the publishable method."""
        return self.status == "done" and self.method == PUBLISHABLE_METHOD


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
    round_row(session, round_id)
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
    return _fail_rows(session, stale, f"interrupted: no result {older_than} after it started")


def fail_interrupted_runs(session: Session, *, error: str) -> list[int]:
    """Mark every run still ``running``, in any round, as failed with ``error``; return them.

    Called when the service starts: a run belongs to the process that started it, so a
    run found ``running`` then was left by a process that stopped (a crash or a kill). Its
    results were never committed, so nothing of it is visible.
    """
    rows = session.scalars(select(PlacementRun).where(PlacementRun.status == "running")).all()
    return _fail_rows(session, list(rows), error)


def _fail_rows(session: Session, rows: list[PlacementRun], error: str) -> list[int]:
    for row in rows:
        row.status = "failed"
        row.error = error
        row.finished_at = now()
    session.flush()
    return [row.id for row in rows]


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


def _result(row: PlacementResult) -> ResultRow:
    return ResultRow(
        application_row_id=row.application_row_id,
        school_code=row.school_code,
        choice_rank=row.choice_rank,
        guaranteed=row.guaranteed,
        distance_m=row.distance_m,
        explanation=dict(row.explanation),
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
    admission_round, _ = round_row(session, round_id, lock=True)
    row = _run_row(session, round_id, run_id)
    published = published_run_ids(session, [round_id]).get(round_id)
    if published is not None:
        msg = f"round {round_id} is frozen: placement run {published} is published"
        raise ConflictError(msg)
    if row.method != PUBLISHABLE_METHOD:
        msg = f"placement run {run_id} is a Boston run, for comparison only: it cannot be published"
        raise ConflictError(msg)
    if row.status != "done":
        msg = f"placement run {run_id} is {row.status}: only a finished run can be published"
        raise ConflictError(msg)
    row.status = "published"
    row.published_at = now()
    row.published_by = actor
    if admission_round.status != "closed":
        admission_round.status = "closed"
        admission_round.closed_at = row.published_at
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
    return None if row is None else _result(row)


def run_results(session: Session, run_id: int) -> list[tuple[ApplicationRecord, ResultRow]]:
    """Return every application of a run with its result, in the order received."""
    rows = session.execute(
        select(AdmissionApplication, PlacementResult)
        .join(PlacementResult, PlacementResult.application_row_id == AdmissionApplication.id)
        .where(PlacementResult.run_id == run_id)
        .order_by(AdmissionApplication.id)
    ).all()
    return [(application_record(application), _result(result)) for application, result in rows]
