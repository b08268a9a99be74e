"""What a placement run tells: each family's explanation and the run's figures.

Every child's explanation says where they were placed and, for each of their choices,
what became of it in plain words: placed, full (with the school's cut-off: the last child
it admitted), not needed, or no seats. The run's figures give the shares placed, mean
distances and every school's seats, applicants and cut-off. Distances are metres, by road
unless ``distance_by`` says ``straight_line`` (no road route).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel

import enrolment
from gis_service.admission.inputs import MODE, PlacementInputs
from gis_service.vocabulary import MECHANISM_OF, RunMethod


class Cutoff(BaseModel):
    """The last child a school admitted: their priority group, distance and lottery number."""

    priority: str
    distance_m: float | None
    lottery: float | None


class ChoiceResult(BaseModel):
    """One choice of a child and what became of it."""

    rank: int
    school_code: str
    school_name: str
    outcome: str
    priority: str
    distance_m: float
    distance_by: str
    cutoff: Cutoff | None
    detail: str


class PlacementExplanation(BaseModel):
    """Where a child was placed and why not at each higher choice."""

    school_code: str | None
    school_name: str | None
    choice_rank: int | None
    guaranteed: bool
    distance_m: float | None
    distance_by: str | None
    lottery: float
    priority_order: list[str]
    zone_school: str | None
    choices: list[ChoiceResult]
    detail: str


class SchoolFigures(BaseModel):
    """A school in a run: its seats, applicants, admitted and seated children, cut-off."""

    code: str
    name: str
    seats: int
    seats_source: str
    applicants: int
    first_choice_applicants: int
    admitted: int
    guaranteed: int
    seated: int
    seats_left: int
    cutoff: Cutoff | None


class RunStatistics(BaseModel):
    """A run's figures: shares placed, mean distances, every school's seats and cut-off."""

    method: str
    mechanism: str
    seed: int
    mode: str
    children: int
    seated_children: int
    placed_share: float | None
    first_choice_share: float | None
    any_choice_share: float | None
    guaranteed_children: int
    unseated_children: int
    mean_choice_distance_m: float | None
    mean_distance_m: float | None
    straight_line_distances: int
    priority_order: list[str]
    zone_version_id: int | None
    schools: list[SchoolFigures]


def _finite(value: float, digits: int) -> float | None:
    return round(float(value), digits) if math.isfinite(value) else None


_FIXED_DETAILS = {
    enrolment.ChoiceOutcome.NO_SEATS: "the school offers no first-grade seats in this round",
    enrolment.ChoiceOutcome.NOT_NEEDED: "not needed: you were placed at a higher choice",
    enrolment.ChoiceOutcome.FILLED_EARLIER: (
        "filled in an earlier round by children who listed it higher"
    ),
    enrolment.ChoiceOutcome.NO_CHOICE: "no school at this position",
}


def _choice_detail(choice: enrolment.ChoiceExplanation, names: Sequence[str]) -> str:
    """Return what became of a choice, in plain words."""
    if choice.outcome == enrolment.ChoiceOutcome.PLACED:
        return f"placed here, your choice {choice.position + 1}"
    if choice.outcome in _FIXED_DETAILS:
        return _FIXED_DETAILS[choice.outcome]
    mine = f"'{names[choice.priority_group]}' at {choice.distance_m:.0f} m"
    if choice.cutoff_group is None or choice.cutoff_distance_m is None:
        return f"the school admitted nobody from its applicants; you were {mine}"
    last = f"'{names[choice.cutoff_group]}' at {choice.cutoff_distance_m:.0f} m"
    return (
        f"full: the last child it admitted was {last} (lottery {choice.cutoff_lottery:.6f}); "
        f"you were {mine}"
    )


def _choice_result(
    choice: enrolment.ChoiceExplanation, child: int, inputs: PlacementInputs
) -> ChoiceResult:
    names = inputs.group_names
    school = inputs.schools[choice.school]
    cutoff = None
    if choice.cutoff_group is not None:
        distance = choice.cutoff_distance_m
        lottery = choice.cutoff_lottery
        cutoff = Cutoff(
            priority=names[choice.cutoff_group],
            distance_m=None if distance is None else _finite(distance, 1),
            lottery=None if lottery is None else _finite(lottery, 6),
        )
    return ChoiceResult(
        rank=choice.position + 1,
        school_code=school.code,
        school_name=school.name,
        outcome=choice.outcome.name.lower(),
        priority=names[choice.priority_group],
        distance_m=round(choice.distance_m, 1),
        distance_by="road" if inputs.by_road[child, choice.school] else "straight_line",
        cutoff=cutoff,
        detail=_choice_detail(choice, names),
    )


def explain_child(
    placement: enrolment.Placement, child: int, inputs: PlacementInputs
) -> PlacementExplanation:
    """Return the explanation of one child's placement (row ``child`` of the inputs)."""
    told = placement.explain(child)
    school = None if told.school is None else inputs.schools[told.school]
    if school is None:
        summary = "no school with a free first-grade seat could be found for the child"
    elif told.guaranteed:
        summary = (
            f"none of the choices had a seat for the child: placed at {school.name}, the "
            "nearest school by road with a free seat"
        )
    else:
        summary = f"placed at {school.name}, choice {(told.choice_position or 0) + 1}"
    seated = told.school is not None
    return PlacementExplanation(
        school_code=None if school is None else school.code,
        school_name=None if school is None else school.name,
        choice_rank=None if told.choice_position is None else told.choice_position + 1,
        guaranteed=told.guaranteed,
        distance_m=None if told.distance_m is None else round(told.distance_m, 1),
        distance_by=None
        if not seated
        else ("road" if inputs.by_road[child, told.school] else "straight_line"),
        lottery=round(told.lottery, 6),
        priority_order=list(inputs.group_names),
        zone_school=inputs.zone_school[child],
        choices=[_choice_result(choice, child, inputs) for choice in told.choices],
        detail=summary,
    )


def run_statistics(
    placement: enrolment.Placement, inputs: PlacementInputs, *, method: RunMethod, seed: int
) -> RunStatistics:
    """Return the run's figures: shares, distances and every school's seats and cut-off."""
    stats = placement.statistics()
    names = inputs.group_names
    valid = inputs.choices >= 0
    n_schools = len(inputs.schools)
    listed = np.bincount(inputs.choices[valid], minlength=n_schools)
    first = np.bincount(inputs.choices[:, 0][valid[:, 0]], minlength=n_schools)
    seated_at = placement.school[placement.school >= 0]
    seated = np.bincount(seated_at, minlength=n_schools)
    guaranteed = np.bincount(placement.school[placement.guaranteed], minlength=n_schools)
    cutoff = placement.cutoff
    schools = [
        SchoolFigures(
            code=school.code,
            name=school.name,
            seats=school.seats,
            seats_source=school.source,
            applicants=int(listed[s]),
            first_choice_applicants=int(first[s]),
            admitted=int(stats.admitted[s]),
            guaranteed=int(guaranteed[s]),
            seated=int(seated[s]),
            seats_left=int(stats.seats_left[s]),
            cutoff=None
            if cutoff.child[s] < 0
            else Cutoff(
                priority=names[int(cutoff.priority_group[s])],
                distance_m=_finite(float(cutoff.distance_m[s]), 1),
                lottery=_finite(float(cutoff.lottery[s]), 6),
            ),
        )
        for s, school in enumerate(inputs.schools)
    ]
    children = stats.children
    return RunStatistics(
        method=method,
        mechanism=MECHANISM_OF[method],
        seed=seed,
        mode=MODE,
        children=children,
        seated_children=children - stats.unseated_children,
        placed_share=_finite((children - stats.unseated_children) / children, 6)
        if children
        else None,
        first_choice_share=_finite(stats.first_choice_share, 6),
        any_choice_share=_finite(stats.any_choice_share, 6),
        guaranteed_children=stats.guaranteed_children,
        unseated_children=stats.unseated_children,
        mean_choice_distance_m=_finite(stats.mean_choice_distance_m, 1),
        mean_distance_m=_finite(stats.mean_distance_m, 1),
        straight_line_distances=int((~inputs.by_road).sum()),
        priority_order=list(names),
        zone_version_id=None if inputs.zone_version is None else inputs.zone_version.id,
        schools=schools,
    )


__all__ = [
    "ChoiceResult",
    "Cutoff",
    "PlacementExplanation",
    "RunStatistics",
    "SchoolFigures",
    "explain_child",
    "run_statistics",
]
