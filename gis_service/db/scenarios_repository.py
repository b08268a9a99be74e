"""Scenarios in the registry: create, list, read, edit, copy, delete, and their evaluations.

A scenario is stored apart from the registry tables and never changes them. Each edit
raises its ``revision``; its latest evaluation is kept with the revision and the baseline
(``context_hash``) it was computed for. Functions here flush but never commit: the caller
owns the transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.orm import Session

from gis_service.db.models import District, Scenario, ScenarioEvaluation
from gis_service.db.repository import id_or_name, now, utc
from gis_service.errors import ConflictError, NotFoundError

__all__: Sequence[str] = (
    "EvaluationRecord",
    "ScenarioDraft",
    "ScenarioRecord",
    "copy_scenario",
    "create_scenario",
    "delete_scenario",
    "get_scenario",
    "latest_evaluation",
    "list_scenarios",
    "save_evaluation",
    "update_scenario",
)


@dataclass(frozen=True, slots=True)
class ScenarioDraft:
    """A scenario's content as a planner gives it (checked by the caller)."""

    name: str
    description: str
    changes: list[dict[str, Any]]
    rezoning: str


@dataclass(frozen=True, slots=True)
class ScenarioRecord:
    """A stored scenario."""

    id: int
    district_code: str
    name: str
    description: str
    changes: list[dict[str, Any]]
    rezoning: str
    revision: int
    copied_from_id: int | None
    created_at: dt.datetime
    created_by: str
    updated_at: dt.datetime
    updated_by: str


@dataclass(frozen=True, slots=True)
class EvaluationRecord:
    """A scenario's stored evaluation."""

    scenario_id: int
    revision: int
    context_hash: str
    document: dict[str, Any]
    computed_at: dt.datetime
    computed_by: str


def _record(row: Scenario, district_code: str) -> ScenarioRecord:
    return ScenarioRecord(
        id=row.id,
        district_code=district_code,
        name=row.name,
        description=row.description,
        changes=list(row.changes),
        rezoning=row.rezoning,
        revision=row.revision,
        copied_from_id=row.copied_from_id,
        created_at=utc(row.created_at),
        created_by=row.created_by,
        updated_at=utc(row.updated_at),
        updated_by=row.updated_by,
    )


def _of_district(district_code: str) -> Select[Scenario]:
    return select(Scenario).join(District).where(District.code == district_code)


def _district(session: Session, district_code: str) -> District:
    district = session.scalar(select(District).where(District.code == district_code))
    if district is None:
        msg = f"district {district_code!r} is not in the registry"
        raise NotFoundError(msg)
    return district


def _check_name_free(
    session: Session, district: District, name: str, *, other_than: int | None = None
) -> None:
    taken = session.scalar(_of_district(district.code).where(Scenario.name == name))
    if taken is not None and taken.id != other_than:
        msg = f"district {district.code} already has a scenario named {name!r} (id {taken.id})"
        raise ConflictError(msg)


def create_scenario(
    session: Session,
    draft: ScenarioDraft,
    *,
    district_code: str,
    actor: str,
    copied_from_id: int | None = None,
) -> ScenarioRecord:
    """Store a new scenario of a district (revision 1).

    Raises
    ------
    NotFoundError
        If the district does not exist.
    ConflictError
        If the district already has a scenario of that name.
    """
    district = _district(session, district_code)
    _check_name_free(session, district, draft.name)
    moment = now()
    row = Scenario(
        district_id=district.id,
        name=draft.name,
        description=draft.description,
        changes=draft.changes,
        rezoning=draft.rezoning,
        revision=1,
        copied_from_id=copied_from_id,
        created_at=moment,
        created_by=actor,
        updated_at=moment,
        updated_by=actor,
    )
    session.add(row)
    session.flush()
    return _record(row, district.code)


def list_scenarios(session: Session, district_code: str) -> list[ScenarioRecord]:
    """Return the district's scenarios, newest first."""
    rows = session.scalars(
        _of_district(district_code).order_by(Scenario.created_at.desc(), Scenario.id.desc())
    ).all()
    return [_record(row, district_code) for row in rows]


def _row(session: Session, key: int | str, district_code: str) -> Scenario:
    """Return a scenario by id (an int or its digits) or by name."""
    query = _of_district(district_code)
    row = session.scalar(query.where(id_or_name(Scenario.id, Scenario.name, key)))
    if row is None:
        msg = f"district {district_code} has no scenario {key!r}"
        raise NotFoundError(msg)
    return row


def get_scenario(session: Session, key: int | str, *, district_code: str) -> ScenarioRecord:
    """Return a scenario by id or name.

    Raises
    ------
    NotFoundError
        If the district has no such scenario.
    """
    return _record(_row(session, key, district_code), district_code)


def update_scenario(
    session: Session, key: int | str, draft: ScenarioDraft, *, district_code: str, actor: str
) -> ScenarioRecord:
    """Replace a scenario's name, description and changes; its revision goes up by one.

    Raises
    ------
    NotFoundError
        If the district has no such scenario.
    ConflictError
        If another scenario of the district has the new name.
    """
    row = _row(session, key, district_code)
    _check_name_free(session, _district(session, district_code), draft.name, other_than=row.id)
    row.name = draft.name
    row.description = draft.description
    row.changes = draft.changes
    row.rezoning = draft.rezoning
    row.revision += 1
    row.updated_at = now()
    row.updated_by = actor
    session.flush()
    return _record(row, district_code)


def copy_scenario(
    session: Session, key: int | str, *, name: str, district_code: str, actor: str
) -> ScenarioRecord:
    """Store a copy of a scenario under a new name (revision 1, ``copied_from`` the original).

    Raises
    ------
    NotFoundError
        If the district has no such scenario.
    ConflictError
        If the district already has a scenario of that name.
    """
    original = _row(session, key, district_code)
    draft = ScenarioDraft(
        name=name,
        description=original.description,
        changes=list(original.changes),
        rezoning=original.rezoning,
    )
    return create_scenario(
        session, draft, district_code=district_code, actor=actor, copied_from_id=original.id
    )


def delete_scenario(session: Session, key: int | str, *, district_code: str) -> ScenarioRecord:
    """Delete a scenario and its evaluation; return what was deleted.

    Raises
    ------
    NotFoundError
        If the district has no such scenario.
    """
    row = _row(session, key, district_code)
    record = _record(row, district_code)
    session.execute(delete(ScenarioEvaluation).where(ScenarioEvaluation.scenario_id == row.id))
    session.delete(row)
    session.flush()
    return record


def save_evaluation(
    session: Session,
    scenario: ScenarioRecord,
    *,
    context_hash: str,
    document: dict[str, Any],
    actor: str,
) -> EvaluationRecord:
    """Keep a scenario's evaluation (replacing the one before)."""
    session.execute(delete(ScenarioEvaluation).where(ScenarioEvaluation.scenario_id == scenario.id))
    row = ScenarioEvaluation(
        scenario_id=scenario.id,
        revision=scenario.revision,
        context_hash=context_hash,
        document=document,
        computed_at=now(),
        computed_by=actor,
    )
    session.add(row)
    session.flush()
    return _evaluation(row)


def _evaluation(row: ScenarioEvaluation) -> EvaluationRecord:
    return EvaluationRecord(
        scenario_id=row.scenario_id,
        revision=row.revision,
        context_hash=row.context_hash,
        document=dict(row.document),
        computed_at=utc(row.computed_at),
        computed_by=row.computed_by,
    )


def latest_evaluation(session: Session, scenario_id: int) -> EvaluationRecord | None:
    """Return a scenario's stored evaluation, if any."""
    row = session.scalar(
        select(ScenarioEvaluation).where(ScenarioEvaluation.scenario_id == scenario_id)
    )
    return None if row is None else _evaluation(row)
