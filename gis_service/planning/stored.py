"""Stored scenarios: checked before they are kept, evaluated and compared from the store.

A scenario's latest evaluation is kept with its revision and the baseline it was computed
against (:attr:`gis_service.planning.evaluation.PlanningContext.context_hash`); a
comparison uses it while both are current and evaluates the scenario afresh otherwise.
Functions here flush but never commit: the caller owns the transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.orm import Session

from gis_service.db import scenarios_repository
from gis_service.db.scenarios_repository import EvaluationRecord, ScenarioDraft, ScenarioRecord
from gis_service.planning.changes import ScenarioIn
from gis_service.planning.comparison import compare_documents
from gis_service.planning.evaluation import PlanningContext, evaluate
from gis_service.planning.schemas import EvaluationAnswer, EvaluationDocument, ScenarioComparison

__all__ = [
    "check_scenario",
    "compare_stored",
    "current_document",
    "draft_of",
    "evaluate_stored",
    "evaluation_answer",
    "scenario_of",
]


def scenario_of(record: ScenarioRecord) -> ScenarioIn:
    """Return a stored scenario as the document it was written as."""
    return ScenarioIn.model_validate(
        {
            "name": record.name,
            "description": record.description,
            "changes": record.changes,
            "rezoning": record.rezoning,
        }
    )


def draft_of(scenario: ScenarioIn) -> ScenarioDraft:
    """Return a checked scenario as what the store keeps."""
    return ScenarioDraft(
        name=scenario.name,
        description=scenario.description,
        changes=scenario.changes_json(),
        rezoning=scenario.rezoning,
    )


def check_scenario(context: PlanningContext, scenario: ScenarioIn) -> None:
    """Check a scenario's changes against the district before it is stored.

    Raises
    ------
    InvalidInputError
        If a change does not fit the district
        (see :func:`gis_service.planning.changes.resolve_changes`).
    """
    context.resolve(scenario, as_of=dt.datetime.now(dt.UTC).date())


def evaluate_stored(
    session: Session, context: PlanningContext, record: ScenarioRecord, *, actor: str
) -> EvaluationRecord:
    """Evaluate a stored scenario and keep the evaluation (the caller commits)."""
    evaluation = evaluate(context, scenario_of(record))
    return scenarios_repository.save_evaluation(
        session,
        record,
        context_hash=evaluation.context_hash,
        document=evaluation.document().model_dump(mode="json"),
        actor=actor,
    )


def evaluation_answer(stored: EvaluationRecord) -> EvaluationAnswer:
    """Return a kept evaluation with the scenario revision it is of, who computed it and when."""
    return EvaluationAnswer.model_validate(
        {
            "scenario_id": stored.scenario_id,
            "revision": stored.revision,
            "computed_at": stored.computed_at,
            "computed_by": stored.computed_by,
            **stored.document,
        }
    )


def current_document(
    session: Session, context: PlanningContext, record: ScenarioRecord
) -> EvaluationDocument:
    """Return a scenario's evaluation: the stored one while current, else a fresh one.

    The stored evaluation is current while it is of the scenario's revision and of the
    same baseline inputs (:attr:`PlanningContext.context_hash`); a fresh one is not kept.
    """
    stored = scenarios_repository.latest_evaluation(session, record.id)
    if (
        stored is not None
        and stored.revision == record.revision
        and stored.context_hash == context.context_hash
    ):
        return EvaluationDocument.model_validate(stored.document)
    return evaluate(context, scenario_of(record)).document()


def compare_stored(
    session: Session, context: PlanningContext, keys: Sequence[int | str]
) -> ScenarioComparison:
    """Compare stored scenarios (by id or name) with the baseline.

    Raises
    ------
    NotFoundError
        If a scenario does not exist.
    """
    code = context.district.code
    records = [scenarios_repository.get_scenario(session, key, district_code=code) for key in keys]
    baseline = evaluate(context, ScenarioIn(name="baseline")).document()
    compared = compare_documents(
        baseline, [(record.id, current_document(session, context, record)) for record in records]
    )
    return ScenarioComparison(
        district_code=code,
        first_year=context.first_year,
        baseline=compared.baseline,
        scenarios=compared.scenarios,
    )
