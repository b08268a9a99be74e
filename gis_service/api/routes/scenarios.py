"""Planning scenarios and new school sites, for planners only.

``/scenarios`` holds a planner's named overlays of changes on the registry (add, expand,
reduce or close a school, add a housing development, change the class-size cap); they
never change the registry. ``POST /scenarios/{id}/evaluate`` computes the scenario's
distances, zones and 10-year seat gap and keeps the result; ``GET /scenarios/compare``
puts scenarios beside the baseline. ``POST /sites/suggest`` chooses sites for new schools
(capacitated p-median or maximal covering) and can save them as a scenario. Every route
needs a planner's key: scenarios are internal to planning.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.orm import Session

from gis_service.api.deps import (
    HeavyJobsDep,
    NetworkDep,
    PlannerDep,
    PlanningDep,
    SessionDep,
    SettingsDep,
)
from gis_service.db import scenarios_repository
from gis_service.db.scenarios_repository import ScenarioRecord
from gis_service.errors import FieldProblem, InvalidInputError
from gis_service.planning.changes import ScenarioIn, scenario_name
from gis_service.planning.schemas import (
    EvaluationAnswer,
    ScenarioComparison,
    SiteSuggestionAnswer,
)
from gis_service.planning.sites import SiteRequest, suggest_sites
from gis_service.planning.stored import (
    check_scenario,
    compare_stored,
    draft_of,
    evaluate_stored,
    evaluation_answer,
)
from gis_service.settings import Settings

router = APIRouter(tags=["scenarios"])

#: Scenarios compared at once, at most.
MAX_COMPARED = 10


class ScenarioPublic(BaseModel):
    """A stored scenario, with whether its kept evaluation is current."""

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
    evaluated_revision: int | None = Field(
        default=None, description="revision of the kept evaluation (null: never evaluated)"
    )


def _public(session: Session, record: ScenarioRecord) -> ScenarioPublic:
    stored = scenarios_repository.latest_evaluation(session, record.id)
    return _described(record, evaluated_revision=None if stored is None else stored.revision)


def _described(record: ScenarioRecord, *, evaluated_revision: int | None) -> ScenarioPublic:
    return ScenarioPublic(**dataclasses.asdict(record), evaluated_revision=evaluated_revision)


@router.post("/scenarios", status_code=201)
def create_scenario(
    session: SessionDep, context: PlanningDep, principal: PlannerDep, body: ScenarioIn
) -> ScenarioPublic:
    """Save a scenario after checking its changes against the district (422 with pointers)."""
    check_scenario(context, body)
    record = scenarios_repository.create_scenario(
        session, draft_of(body), district_code=context.district.code, actor=principal.name
    )
    session.commit()
    return _public(session, record)


def _district_code(session: Session, settings: Settings, networks: NetworkDep) -> str:
    return networks.for_district(session, settings.district_code).district.code


@router.get("/scenarios")
def list_scenarios(
    session: SessionDep, settings: SettingsDep, networks: NetworkDep, _: PlannerDep
) -> list[ScenarioPublic]:
    """Every scenario of the district, newest first."""
    code = _district_code(session, settings, networks)
    return [_public(session, r) for r in scenarios_repository.list_scenarios(session, code)]


def _keys(ids: str) -> list[str]:
    keys = [key.strip() for key in ids.split(",") if key.strip()]
    if not keys or len(keys) > MAX_COMPARED:
        detail = f"give 1 to {MAX_COMPARED} scenario ids or names, separated by commas"
        raise InvalidInputError(detail, problems=[FieldProblem("query:ids", detail)])
    return keys


@router.get("/scenarios/compare")
def compare_scenarios(
    session: SessionDep,
    context: PlanningDep,
    ids: Annotated[str, Query(description="scenario ids or names, separated by commas")],
) -> ScenarioComparison:
    """Scenarios beside the baseline: figures and their change, seat gap by year, moves.

    Each scenario's kept evaluation is used while current (same revision, same baseline
    inputs); otherwise it is evaluated afresh for the answer (and not kept).
    """
    return compare_stored(session, context, _keys(ids))


@router.get("/scenarios/{scenario}")
def read_scenario(
    session: SessionDep, settings: SettingsDep, networks: NetworkDep, _: PlannerDep, scenario: str
) -> ScenarioPublic:
    """One scenario, by id or name."""
    code = _district_code(session, settings, networks)
    return _public(
        session, scenarios_repository.get_scenario(session, scenario, district_code=code)
    )


@router.put("/scenarios/{scenario}")
def edit_scenario(
    session: SessionDep,
    context: PlanningDep,
    principal: PlannerDep,
    scenario: str,
    body: ScenarioIn,
) -> ScenarioPublic:
    """Replace a scenario's name, description and changes (its revision goes up)."""
    check_scenario(context, body)
    record = scenarios_repository.update_scenario(
        session,
        scenario,
        draft_of(body),
        district_code=context.district.code,
        actor=principal.name,
    )
    session.commit()
    return _public(session, record)


class CopyRequest(BaseModel):
    """The name of the copy."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)

    _check_name = field_validator("name")(scenario_name)


@router.post("/scenarios/{scenario}/copy", status_code=201)
def copy_scenario(
    session: SessionDep,
    settings: SettingsDep,
    networks: NetworkDep,
    principal: PlannerDep,
    scenario: str,
    body: CopyRequest,
) -> ScenarioPublic:
    """Copy a scenario under a new name (to edit it without losing the original)."""
    code = _district_code(session, settings, networks)
    record = scenarios_repository.copy_scenario(
        session, scenario, name=body.name, district_code=code, actor=principal.name
    )
    session.commit()
    return _public(session, record)


@router.delete("/scenarios/{scenario}")
def delete_scenario(
    session: SessionDep, settings: SettingsDep, networks: NetworkDep, _: PlannerDep, scenario: str
) -> ScenarioPublic:
    """Delete a scenario and its kept evaluation (the registry is not touched)."""
    code = _district_code(session, settings, networks)
    record = scenarios_repository.delete_scenario(session, scenario, district_code=code)
    session.commit()
    return _described(record, evaluated_revision=None)


@router.post("/scenarios/{scenario}/evaluate")
async def evaluate_scenario(
    session: SessionDep,
    context: PlanningDep,
    principal: PlannerDep,
    heavy_jobs: HeavyJobsDep,
    scenario: str,
) -> EvaluationAnswer:
    """Evaluate a scenario (distances, zones, seat gap per year) and keep the evaluation."""

    def evaluate() -> EvaluationAnswer:
        record = scenarios_repository.get_scenario(
            session, scenario, district_code=context.district.code
        )
        stored = evaluate_stored(session, context, record, actor=principal.name)
        session.commit()
        return evaluation_answer(stored)

    return await heavy_jobs.run(evaluate)


class SuggestRequest(SiteRequest):
    """A site suggestion, optionally saved as a scenario of planned schools."""

    scenario_name: str | None = Field(
        default=None, min_length=1, max_length=200, description="save the sites as a scenario"
    )

    @field_validator("scenario_name")
    @classmethod
    def _name_is_not_an_id(cls, name: str | None) -> str | None:
        return None if name is None else scenario_name(name)


class SuggestedSites(SiteSuggestionAnswer):
    """Sites suggested, with the scenario they were saved as (only when saved)."""

    scenario: ScenarioPublic | None = Field(
        default=None,
        exclude_if=lambda scenario: scenario is None,
        description="the scenario of planned schools (missing when not saved)",
    )


@router.post("/sites/suggest")
async def suggest(
    session: SessionDep,
    context: PlanningDep,
    principal: PlannerDep,
    heavy_jobs: HeavyJobsDep,
    body: SuggestRequest,
) -> SuggestedSites:
    """Choose sites for new schools with the gain over the baseline and the proven gap."""
    suggestion = await heavy_jobs.run(lambda: suggest_sites(context, body))
    answer = SuggestedSites.model_validate(suggestion.answer(), from_attributes=True)
    if body.scenario_name is not None:
        scenario = ScenarioIn.model_validate(
            {
                "name": body.scenario_name,
                "description": f"{body.new_schools} sites suggested ({body.model})",
                "changes": suggestion.scenario_changes(),
            }
        )
        record = scenarios_repository.create_scenario(
            session, draft_of(scenario), district_code=context.district.code, actor=principal.name
        )
        session.commit()
        answer.scenario = _public(session, record)
    return answer
