"""Placement runs of an admission round: the store and the road network around the core.

A run loads the round's applications, measures every child's walking distance on the
district's road network to each open first-grade school (the straight line where no road
route exists, flagged as such), gives each (child, choice) its priority group from the
round's rules, and runs :func:`enrolment.place_applicants` with the run's seed: deferred
acceptance, then the guarantee step (the nearest school with a free seat), with an
explanation for every child. Boston (immediate acceptance) is offered on the same inputs
for comparison only and cannot be published.

Everything the core was given is frozen as canonical JSON (sorted keys, no spaces) with
its SHA-256, and the result is fingerprinted by :meth:`enrolment.Placement.digest`: the
same applications, seats, rules and seed give the same hash and byte-identical results.

The run is recorded as ``running`` first (who started it, with which seed, is in the
audit log), then computed, and its results are written in one transaction at the end: a
run that fails or is killed midway writes no result and leaves the round as it was (the
run itself is marked ``failed``). A published run freezes the round: no new run, no new
application, no other publication.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import logging
import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely import Point
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

import enrolment
import routing
from gis_service.canonical import canonical_json
from gis_service.core_errors import routing_errors
from gis_service.db import admission_repository, zones_repository
from gis_service.db.admission_repository import (
    ApplicationRecord,
    AuditContext,
    ResultRow,
    RoundRecord,
    RunOutcome,
    RunRecord,
)
from gis_service.db.zones_repository import ZoneVersionRecord
from gis_service.errors import ConflictError, FieldProblem, InvalidInputError
from gis_service.networks import DistrictNetwork, NetworkCache
from gis_service.records import SchoolData
from gis_service.vocabulary import PRIORITY_RULES, RUN_METHODS
from gis_service.zones.compute import first_grade_schools

logger = logging.getLogger(__name__)

#: The travel mode whose road distances rank children and pick the guarantee school.
MODE = "walk"
#: A run still ``running`` this long after it started was killed; the next run fails it.
STALE_RUN_AFTER = dt.timedelta(hours=1)
#: The core's mechanism for each run method.
MECHANISM_OF = {"deferred_acceptance": "deferred_acceptance", "boston": "immediate_acceptance"}
#: Largest seed (seeds are stored as signed 64-bit integers).
MAX_SEED = 2**63 - 1
#: Version of the frozen inputs' layout.
INPUTS_FORMAT = 1
EVERYONE = "everyone"

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def check_rules(rules: Sequence[str], *, pointer: str = "/rules") -> tuple[str, ...]:
    """Return a round's priority rules after checking them.

    The rules name the priority groups, highest first; ``everyone`` (every child) is the
    last group, added at the end when it is not listed.

    Raises
    ------
    InvalidInputError
        If a rule is unknown or repeated, or a rule follows ``everyone``.
    """
    problems = []
    for position, rule in enumerate(rules):
        where = f"{pointer}/{position}"
        if rule not in PRIORITY_RULES:
            problems.append(FieldProblem(where, f"unknown rule {rule!r}: use {PRIORITY_RULES}"))
        elif rule in rules[:position]:
            problems.append(FieldProblem(where, f"rule {rule!r} is listed twice"))
        elif EVERYONE in rules[:position]:
            problems.append(FieldProblem(where, f"rule {rule!r} follows 'everyone': never used"))
    if problems:
        raise InvalidInputError(problems[0].detail, problems=problems)
    return tuple(rules)


def group_names(rules: Sequence[str]) -> tuple[str, ...]:
    """Return the name of every priority group, highest first (``everyone`` last)."""
    return tuple(rules) if EVERYONE in rules else (*rules, EVERYONE)


@dataclass(frozen=True, slots=True)
class SchoolSeats:
    """A school of the run with its first-grade seats and where they come from.

    ``source`` is ``"round"`` (set for the round), ``"registry"`` (classes x cap in the
    registry) or ``"assumed"`` (the round's default classes x cap).
    """

    code: str
    name: str
    seats: int
    source: str
    lon: float
    lat: float


def school_seats(round_record: RoundRecord, schools: Sequence[SchoolData]) -> list[SchoolSeats]:
    """Return each school's seats for the round.

    Raises
    ------
    InvalidInputError
        If a school's seats are known neither to the round nor to the registry and the
        round assumes no default number of classes.
    """
    found = []
    missing = []
    for school in schools:
        if school.code in round_record.seats:
            seats, source = round_record.seats[school.code], "round"
        elif school.first_grade_seats is not None:
            seats, source = school.first_grade_seats, "registry"
        elif round_record.default_first_grade_classes is not None:
            seats = round_record.default_first_grade_classes * school.class_size_cap
            source = "assumed"
        else:
            missing.append(school.code)
            continue
        found.append(SchoolSeats(school.code, school.name, seats, source, school.lon, school.lat))
    if missing:
        msg = (
            f"the first-grade seats of schools {', '.join(missing)} are unknown: enter their "
            "classes in the registry, or give the round seats or default classes"
        )
        raise InvalidInputError(msg)
    return found


def zone_schools(
    zones: Sequence[zones_repository.ZoneRecord], lon: FloatArray, lat: FloatArray
) -> list[str | None]:
    """Return the school whose zone holds each home (EPSG:4326), as the eligibility lookup.

    A home on the edge of two zones belongs to the zone whose school code sorts first; a
    home in no zone (a sliver of rounding) to the nearest zone.
    """
    ordered = sorted(zones, key=lambda z: (z.school_code is None, z.school_code or ""))
    found: list[str | None] = [None] * len(lon)
    placed = np.zeros(len(lon), dtype=np.bool_)
    for zone in ordered:
        inside = shapely.intersects_xy(zone.boundary, lon, lat) & ~placed
        for index in np.flatnonzero(inside):
            found[int(index)] = zone.school_code
        placed |= inside
    for index in np.flatnonzero(~placed):
        if ordered:
            home = Point(float(lon[index]), float(lat[index]))
            found[int(index)] = min(ordered, key=lambda z: z.boundary.distance(home)).school_code
    return found


@dataclass(frozen=True, slots=True, eq=False)
class PlacementInputs:
    """Everything a run gives the placement core, with what is needed to explain it.

    Attributes
    ----------
    round
        The round.
    applications
        Its applications, in the order received (row ``i`` of every array).
    schools
        The schools with their seats, by code (column ``s``).
    choices
        ``(n, k)`` school indices of each child's choices, -1 padded.
    groups
        ``(n, k)`` priority group of each choice (index into ``group_names``).
    group_names
        The rule of each priority group, highest first.
    distance_m
        ``(n, n_schools)`` walking distance from each home to each school, metres.
    by_road
        ``(n, n_schools)`` whether the distance is by road (else straight line: no route).
    zone_school
        The school of each home's zone (``None`` without a zone version).
    zone_version
        The round's zone version.
    road_extract_sha256
        The road extract the distances were measured on.
    """

    round: RoundRecord
    applications: tuple[ApplicationRecord, ...]
    schools: tuple[SchoolSeats, ...]
    choices: IntArray
    groups: IntArray
    group_names: tuple[str, ...]
    distance_m: FloatArray
    by_road: BoolArray
    zone_school: tuple[str | None, ...]
    zone_version: ZoneVersionRecord | None
    road_extract_sha256: str

    def choice_distance_m(self) -> FloatArray:
        """Return the ``(n, k)`` distances to each choice (0 where there is none)."""
        rows = np.arange(self.choices.shape[0])[:, None]
        distance = self.distance_m[rows, np.maximum(self.choices, 0)]
        return np.where(self.choices >= 0, distance, 0.0)

    def to_json(self, *, method: str, seed: int) -> dict[str, Any]:
        """Return the inputs as JSON-ready values (no timestamps: same inputs, same JSON)."""
        codes = [s.code for s in self.schools]
        version = self.zone_version
        return {
            "format": INPUTS_FORMAT,
            "round": {
                "id": self.round.id,
                "district_code": self.round.district_code,
                "year": self.round.year,
                "max_choices": self.round.max_choices,
                "rules": list(self.round.rules),
                "priority_categories": sorted(self.round.priority_categories),
            },
            "method": method,
            "mechanism": MECHANISM_OF[method],
            "seed": seed,
            "mode": MODE,
            "road_extract_sha256": self.road_extract_sha256,
            "zone_version": None
            if version is None
            else {"id": version.id, "name": version.name, "inputs_hash": version.inputs_hash},
            "priority_groups": list(self.group_names),
            "schools": [
                {"code": s.code, "seats": s.seats, "seats_source": s.source} for s in self.schools
            ],
            "applications": [
                {
                    "application_id": application.application_id,
                    "choices": [codes[s] for s in self.choices[i] if s >= 0],
                    "priority_groups": [
                        int(g)
                        for g, s in zip(self.groups[i], self.choices[i], strict=True)
                        if s >= 0
                    ],
                    "zone_school": self.zone_school[i],
                    "distance_m": [float(d) for d in self.distance_m[i]],
                    "by_road": [bool(b) for b in self.by_road[i]],
                }
                for i, application in enumerate(self.applications)
            ],
        }


def _zone_version(session: Session, round_record: RoundRecord) -> ZoneVersionRecord | None:
    if round_record.zone_version_id is None:
        return None
    return zones_repository.get_zone_version(
        session, round_record.zone_version_id, district_code=round_record.district_code
    )


def _groups(
    applications: Sequence[ApplicationRecord],
    choices: IntArray,
    codes: Sequence[str],
    zone_school: Sequence[str | None],
    rules: Sequence[str],
) -> IntArray:
    """Return each choice's priority group: the first rule the child meets there."""
    groups = np.full(choices.shape, len(rules), dtype=np.int64)
    for i, application in enumerate(applications):
        for j, school in enumerate(choices[i]):
            if school < 0:
                continue
            code = codes[int(school)]
            met = {
                "in_zone": zone_school[i] == code,
                "sibling": code in application.sibling_school_codes,
                "priority_category": application.priority_category is not None,
                EVERYONE: True,
            }
            groups[i, j] = next((r for r, rule in enumerate(rules) if met[rule]), len(rules))
    return groups


def prepare_inputs(
    session: Session, district_net: DistrictNetwork, round_record: RoundRecord
) -> PlacementInputs:
    """Load a round's applications and measure what the placement needs.

    Raises
    ------
    ConflictError
        If the round has no application, or a chosen school is no longer an open
        first-grade school.
    InvalidInputError
        If seats are unknown or a rule needs a zone version the round lacks.
    """
    applications = tuple(admission_repository.round_applications(session, round_record.id))
    if not applications:
        msg = f"round {round_record.id} has no applications to place"
        raise ConflictError(msg)
    schools = tuple(
        school_seats(round_record, first_grade_schools(session, district_net.district.code))
    )
    codes = [s.code for s in schools]
    index = {code: i for i, code in enumerate(codes)}
    gone = sorted({c for a in applications for c in a.choices if c not in index})
    if gone:
        msg = (
            f"schools {', '.join(gone)} were chosen but are no longer open first-grade "
            "schools of the district: place the round once the registry is settled"
        )
        raise ConflictError(msg)
    width = max([round_record.max_choices, *(len(a.choices) for a in applications)])
    choices = np.full((len(applications), width), enrolment.UNASSIGNED, dtype=np.int64)
    for i, application in enumerate(applications):
        choices[i, : len(application.choices)] = [index[c] for c in application.choices]
    version = _zone_version(session, round_record)
    lon = np.array([a.lon for a in applications], dtype=np.float64)
    lat = np.array([a.lat for a in applications], dtype=np.float64)
    if version is not None:
        zone_school = zone_schools(zones_repository.zones_of(session, version.id), lon, lat)
    elif "in_zone" in round_record.rules:
        msg = f"round {round_record.id} ranks by 'in_zone' but has no zone version"
        raise InvalidInputError(msg)
    else:
        zone_school = [None] * len(applications)
    network = district_net.network
    hx, hy = network.lonlat_to_xy(lon, lat)
    homes = np.column_stack([hx, hy]).reshape(-1, 2)
    sx, sy = network.lonlat_to_xy([s.lon for s in schools], [s.lat for s in schools])
    targets = np.column_stack([sx, sy]).reshape(-1, 2)
    with routing_errors():
        matrix = routing.cost_matrix(network, MODE, origins=homes, destinations=targets)
    road = matrix.dense("length_m")
    straight = np.hypot(
        homes[:, None, 0] - targets[None, :, 0], homes[:, None, 1] - targets[None, :, 1]
    )
    by_road = np.isfinite(road)
    return PlacementInputs(
        round=round_record,
        applications=applications,
        schools=schools,
        choices=choices,
        groups=_groups(applications, choices, codes, zone_school, round_record.rules),
        group_names=group_names(round_record.rules),
        distance_m=np.where(by_road, road, straight),
        by_road=by_road,
        zone_school=tuple(zone_school),
        zone_version=version,
        road_extract_sha256=district_net.extract.sha256,
    )


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


def _explanation(
    placement: enrolment.Placement, child: int, inputs: PlacementInputs
) -> dict[str, Any]:
    """Return the JSON explanation of one child's placement."""
    told = placement.explain(child)
    names = inputs.group_names
    schools = inputs.schools
    listed = []
    for choice in told.choices:
        cutoff = None
        if choice.cutoff_group is not None:
            distance = choice.cutoff_distance_m
            lottery = choice.cutoff_lottery
            cutoff = {
                "priority": names[choice.cutoff_group],
                "distance_m": None if distance is None else _finite(distance, 1),
                "lottery": None if lottery is None else _finite(lottery, 6),
            }
        listed.append(
            {
                "rank": choice.position + 1,
                "school_code": schools[choice.school].code,
                "school_name": schools[choice.school].name,
                "outcome": choice.outcome.name.lower(),
                "priority": names[choice.priority_group],
                "distance_m": round(choice.distance_m, 1),
                "distance_by": "road" if inputs.by_road[child, choice.school] else "straight_line",
                "cutoff": cutoff,
                "detail": _choice_detail(choice, names),
            }
        )
    school = None if told.school is None else schools[told.school]
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
    return {
        "school_code": None if school is None else school.code,
        "school_name": None if school is None else school.name,
        "choice_rank": None if told.choice_position is None else told.choice_position + 1,
        "guaranteed": told.guaranteed,
        "distance_m": None if told.distance_m is None else round(told.distance_m, 1),
        "distance_by": None
        if not seated
        else ("road" if inputs.by_road[child, told.school] else "straight_line"),
        "lottery": round(told.lottery, 6),
        "priority_order": list(names),
        "zone_school": inputs.zone_school[child],
        "choices": listed,
        "detail": summary,
    }


def _statistics(
    placement: enrolment.Placement, inputs: PlacementInputs, *, method: str, seed: int
) -> dict[str, Any]:
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
    schools = []
    for s, school in enumerate(inputs.schools):
        admitted = cutoff.child[s] >= 0
        schools.append(
            {
                "code": school.code,
                "name": school.name,
                "seats": school.seats,
                "seats_source": school.source,
                "applicants": int(listed[s]),
                "first_choice_applicants": int(first[s]),
                "admitted": int(stats.admitted[s]),
                "guaranteed": int(guaranteed[s]),
                "seated": int(seated[s]),
                "seats_left": int(stats.seats_left[s]),
                "cutoff": None
                if not admitted
                else {
                    "priority": names[int(cutoff.priority_group[s])],
                    "distance_m": _finite(float(cutoff.distance_m[s]), 1),
                    "lottery": _finite(float(cutoff.lottery[s]), 6),
                },
            }
        )
    children = stats.children
    return {
        "method": method,
        "mechanism": MECHANISM_OF[method],
        "seed": seed,
        "mode": MODE,
        "children": children,
        "seated_children": children - stats.unseated_children,
        "placed_share": _finite((children - stats.unseated_children) / children, 6)
        if children
        else None,
        "first_choice_share": _finite(stats.first_choice_share, 6),
        "any_choice_share": _finite(stats.any_choice_share, 6),
        "guaranteed_children": stats.guaranteed_children,
        "unseated_children": stats.unseated_children,
        "mean_choice_distance_m": _finite(stats.mean_choice_distance_m, 1),
        "mean_distance_m": _finite(stats.mean_distance_m, 1),
        "straight_line_distances": int((~inputs.by_road).sum()),
        "priority_order": list(names),
        "zone_version_id": None if inputs.zone_version is None else inputs.zone_version.id,
        "schools": schools,
    }


def compute_outcome(inputs: PlacementInputs, *, method: str, seed: int) -> RunOutcome:
    """Run the placement core on the inputs; return what the run saves.

    Raises
    ------
    InvalidInputError
        If the core refuses the inputs.
    """
    try:
        applications = enrolment.Applications(
            choices=inputs.choices,
            priority_group=inputs.groups,
            distance_m=inputs.choice_distance_m(),
            seed=seed,
        )
        placement = enrolment.place_applicants(
            applications,
            [s.seats for s in inputs.schools],
            nearest=enrolment.NearestSchools.from_distance_matrix(inputs.distance_m),
            mechanism=MECHANISM_OF[method],
        )
    except enrolment.InvalidInputError as error:
        raise InvalidInputError(str(error)) from None
    inputs_json = canonical_json(inputs.to_json(method=method, seed=seed))
    results = []
    codes = [s.code for s in inputs.schools]
    for child, application in enumerate(inputs.applications):
        school = int(placement.school[child])
        position = int(placement.choice_position[child])
        distance = float(placement.distance_m[child])
        results.append(
            ResultRow(
                application_row_id=application.row_id,
                school_code=codes[school] if school >= 0 else None,
                choice_rank=position + 1 if position >= 0 else None,
                guaranteed=bool(placement.guaranteed[child]),
                distance_m=round(distance, 1) if math.isfinite(distance) else None,
                explanation=_explanation(placement, child, inputs),
            )
        )
    return RunOutcome(
        inputs_json=inputs_json,
        inputs_sha256=hashlib.sha256(inputs_json.encode()).hexdigest(),
        digest=placement.digest(),
        statistics=_statistics(placement, inputs, method=method, seed=seed),
        results=tuple(results),
    )


def _check_method_and_seed(method: str, seed: int | None) -> int:
    if method not in RUN_METHODS:
        msg = f"unknown method {method!r}; expected one of {RUN_METHODS}"
        raise InvalidInputError(msg, problems=[FieldProblem("/method", msg)])
    if seed is None:
        return secrets.randbelow(MAX_SEED + 1)
    if not 0 <= seed <= MAX_SEED:
        msg = f"the seed must be an integer from 0 to {MAX_SEED}, got {seed}"
        raise InvalidInputError(msg, problems=[FieldProblem("/seed", msg)])
    return seed


def _frozen(round_record: RoundRecord) -> ConflictError:
    msg = (
        f"round {round_record.id} is frozen: placement run {round_record.published_run_id} "
        "is published and cannot be run over or changed"
    )
    return ConflictError(msg)


def run_placement(
    session: Session,
    networks: NetworkCache,
    *,
    round_id: int,
    method: str = "deferred_acceptance",
    seed: int | None = None,
    audit: AuditContext,
) -> RunRecord:
    """Place a round's applications and save the results; return the finished run.

    The run is committed as ``running`` (and audited) first, then computed; its results
    are written and committed in one transaction at the end. On any error the results
    transaction is rolled back, the run is marked ``failed`` (audited) and the error is
    raised again.

    Parameters
    ----------
    session
        A session on the store; this function commits.
    networks
        The road networks.
    round_id
        The round.
    method
        ``"deferred_acceptance"`` (publishable) or ``"boston"`` (for comparison only).
    seed
        The lottery seed (``None``: drawn at random and recorded).
    audit
        Who runs it, from which request.

    Raises
    ------
    NotFoundError
        If there is no such round.
    ConflictError
        If the round is frozen (a run is published) or has nothing to place.
    InvalidInputError
        If the method or seed is wrong, or the round's seats or zones are missing.
    """
    seed = _check_method_and_seed(method, seed)
    round_record = admission_repository.get_round(session, round_id, lock=True)
    if round_record.published_run_id is not None:
        raise _frozen(round_record)
    admission_repository.fail_stale_runs(session, round_id, older_than=STALE_RUN_AFTER)
    run = admission_repository.start_run(
        session, round_id, method=method, seed=seed, actor=audit.actor
    )
    admission_repository.append_audit(
        session,
        audit,
        action="placement.run",
        object_type="placement_run",
        object_id=str(run.id),
        round_id=round_id,
        detail={"method": method, "seed": seed},
    )
    session.commit()
    try:
        district_net = networks.for_district(session, round_record.district_code)
        inputs = prepare_inputs(session, district_net, round_record)
        outcome = compute_outcome(inputs, method=method, seed=seed)
        current = admission_repository.get_round(session, round_id, lock=True)
        if current.published_run_id is not None:
            raise _frozen(current)
        finished = admission_repository.save_run_results(session, round_id, run.id, outcome)
        admission_repository.append_audit(
            session,
            audit,
            action="placement.done",
            object_type="placement_run",
            object_id=str(run.id),
            round_id=round_id,
            detail={
                "digest": outcome.digest,
                "inputs_sha256": outcome.inputs_sha256,
                "children": len(outcome.results),
            },
        )
        session.commit()
    except Exception as error:
        session.rollback()
        _record_failure(session, round_id, run.id, error, audit)
        raise
    return finished


def _record_failure(
    session: Session, round_id: int, run_id: int, error: Exception, audit: AuditContext
) -> None:
    reason = f"{type(error).__name__}: {error}"
    try:
        admission_repository.fail_run(session, round_id, run_id, error=reason)
        admission_repository.append_audit(
            session,
            audit,
            action="placement.fail",
            object_type="placement_run",
            object_id=str(run_id),
            round_id=round_id,
            detail={"error": reason[:500]},
        )
        session.commit()
    except SQLAlchemyError:
        session.rollback()
        logger.exception("could not record the failure of placement run %s", run_id)


def publish_placement(
    session: Session, round_id: int, run_id: int, *, audit: AuditContext
) -> RunRecord:
    """Publish a run (audited); the caller commits.

    Raises
    ------
    NotFoundError
        If the round has no such run.
    ConflictError
        If the round is frozen already, the run is unfinished, or it is a Boston run.
    """
    record = admission_repository.publish_run(session, round_id, run_id, actor=audit.actor)
    admission_repository.append_audit(
        session,
        audit,
        action="placement.publish",
        object_type="placement_run",
        object_id=str(run_id),
        round_id=round_id,
        detail={"digest": record.digest, "inputs_sha256": record.inputs_sha256},
    )
    return record


#: Columns of an exported run, in order.
EXPORT_COLUMNS = (
    "application_id",
    "child_name",
    "date_of_birth",
    "ward_code",
    "contact",
    "school_code",
    "school_name",
    "choice_rank",
    "guaranteed",
    "distance_m",
)


def export_results(
    session: Session, round_id: int, run_id: int, path: Path, *, audit: AuditContext
) -> int:
    """Write a run's results, one row per application, to a CSV file (audited).

    The file holds personal data: it is created readable by its owner only. The caller
    commits the audit entry.

    Returns
    -------
    int
        The number of applications written.

    Raises
    ------
    NotFoundError
        If the round has no such run.
    ConflictError
        If the run has no results (running or failed).
    """
    run = admission_repository.get_run(session, round_id, run_id)
    if run.status not in {"done", "published"}:
        msg = f"placement run {run_id} is {run.status}: it has no results to export"
        raise ConflictError(msg)
    rows = admission_repository.run_results(session, run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(EXPORT_COLUMNS)
        for application, result in rows:
            writer.writerow(
                [
                    application.application_id,
                    application.child_name,
                    application.date_of_birth.isoformat(),
                    application.ward_code,
                    application.contact,
                    result.school_code or "",
                    result.explanation.get("school_name") or "",
                    "" if result.choice_rank is None else result.choice_rank,
                    "yes" if result.guaranteed else "no",
                    "" if result.distance_m is None else f"{result.distance_m:.1f}",
                ]
            )
    admission_repository.append_audit(
        session,
        audit,
        action="placement.export",
        object_type="placement_run",
        object_id=str(run_id),
        round_id=round_id,
        detail={"applications": len(rows), "file": path.name},
    )
    return len(rows)


__all__ = [
    "EXPORT_COLUMNS",
    "MAX_SEED",
    "MECHANISM_OF",
    "MODE",
    "STALE_RUN_AFTER",
    "PlacementInputs",
    "SchoolSeats",
    "check_rules",
    "compute_outcome",
    "export_results",
    "group_names",
    "prepare_inputs",
    "publish_placement",
    "run_placement",
    "school_seats",
    "zone_schools",
]
