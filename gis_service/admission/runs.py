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
The explanations and figures are written by :mod:`~gis_service.admission.explanations`, the
frozen inputs described in :mod:`~gis_service.admission.inputs`.

The run is recorded as ``running`` first (who started it, with which seed, is in the
audit log), then computed, and its results are written in one transaction at the end: a
run that fails or is killed midway writes no result and leaves the round as it was (the
run itself is marked ``failed``). A published run freezes the round: no new run, no new
application, no other publication.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
import secrets
from collections.abc import Sequence

import numpy as np
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

import enrolment
import routing
from gis_service.admission.explanations import explain_child, run_statistics
from gis_service.admission.inputs import MODE, IntArray, PlacementInputs, school_seats
from gis_service.admission.rounds import EVERYONE, group_names
from gis_service.canonical import canonical_json
from gis_service.core_errors import enrolment_errors, routing_errors
from gis_service.db import (
    applications_repository,
    audit_repository,
    placement_runs_repository,
    rounds_repository,
    zones_repository,
)
from gis_service.db.applications_repository import ApplicationRecord
from gis_service.db.audit_repository import AuditContext
from gis_service.db.placement_runs_repository import ResultRow, RunOutcome, RunRecord
from gis_service.db.rounds_repository import RoundRecord
from gis_service.db.zones_repository import ZoneVersionRecord
from gis_service.errors import ConflictError, FieldProblem, InvalidInputError
from gis_service.networks import DistrictNetwork, NetworkCache
from gis_service.vocabulary import MECHANISM_OF, PUBLISHABLE_METHOD, RUN_METHODS, RunMethod
from gis_service.zones.eligibility import zone_for_homes
from gis_service.zones.geography import first_grade_schools

logger = logging.getLogger(__name__)

#: A run still ``running`` this long after it started was killed; the next run fails it.
STALE_RUN_AFTER = dt.timedelta(hours=1)
#: Largest seed (seeds are stored as signed 64-bit integers).
MAX_SEED = 2**63 - 1


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
    round_record: RoundRecord,
) -> IntArray:
    """Return each choice's priority group: the first rule the child meets there.

    A priority category meets ``priority_category`` once an officer verified it, or while
    only claimed if the round lets claims count.
    """
    rules = round_record.rules
    claimed_counts = round_record.claimed_priority_counts
    groups = np.full(choices.shape, len(rules), dtype=np.int64)
    for i, application in enumerate(applications):
        for j, school in enumerate(choices[i]):
            if school < 0:
                continue
            code = codes[int(school)]
            met = {
                "in_zone": zone_school[i] == code,
                "sibling": code in application.sibling_school_codes,
                "priority_category": application.priority_counts(claimed_counts=claimed_counts),
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
    applications = tuple(applications_repository.round_applications(session, round_record.id))
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
        zone_school = zone_for_homes(zones_repository.zones_of(session, version.id), lon, lat)
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
        groups=_groups(applications, choices, codes, zone_school, round_record),
        group_names=group_names(round_record.rules),
        distance_m=np.where(by_road, road, straight),
        by_road=by_road,
        zone_school=tuple(zone_school),
        zone_version=version,
        road_extract_sha256=district_net.extract.sha256,
    )


def compute_outcome(inputs: PlacementInputs, *, method: RunMethod, seed: int) -> RunOutcome:
    """Run the placement core on the inputs; return what the run saves.

    Raises
    ------
    InvalidInputError
        If the core refuses the inputs.
    """
    with enrolment_errors():
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
    inputs_json = canonical_json(inputs.frozen(method=method, seed=seed).model_dump())
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
                explanation=explain_child(placement, child, inputs).model_dump(),
            )
        )
    return RunOutcome(
        inputs_json=inputs_json,
        inputs_sha256=hashlib.sha256(inputs_json.encode()).hexdigest(),
        digest=placement.digest(),
        statistics=run_statistics(placement, inputs, method=method, seed=seed).model_dump(),
        results=tuple(results),
    )


def _run_method(method: str) -> RunMethod:
    for known in RUN_METHODS:
        if method == known:
            return known
    msg = f"unknown method {method!r}; expected one of {RUN_METHODS}"
    raise InvalidInputError(msg, problems=[FieldProblem("/method", msg)])


def _seed(seed: int | None) -> int:
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
    method: str = PUBLISHABLE_METHOD,
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
        A run method of :data:`~gis_service.vocabulary.RUN_METHODS`: only
        ``"deferred_acceptance"`` can be published, ``"boston"`` is for comparison.
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
    run_method = _run_method(method)
    seed = _seed(seed)
    round_record = rounds_repository.get_round(session, round_id, lock=True)
    if round_record.published_run_id is not None:
        raise _frozen(round_record)
    placement_runs_repository.fail_stale_runs(session, round_id, older_than=STALE_RUN_AFTER)
    run = placement_runs_repository.start_run(
        session, round_id, method=run_method, seed=seed, actor=audit.actor
    )
    audit_repository.append_audit(
        session,
        audit,
        action="placement.run",
        object_type="placement_run",
        object_id=str(run.id),
        round_id=round_id,
        detail={"method": run_method, "seed": seed},
    )
    session.commit()
    try:
        district_net = networks.for_district(session, round_record.district_code)
        inputs = prepare_inputs(session, district_net, round_record)
        outcome = compute_outcome(inputs, method=run_method, seed=seed)
        current = rounds_repository.get_round(session, round_id, lock=True)
        if current.published_run_id is not None:
            raise _frozen(current)
        finished = placement_runs_repository.save_run_results(session, round_id, run.id, outcome)
        audit_repository.append_audit(
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
        placement_runs_repository.fail_run(session, round_id, run_id, error=reason)
        audit_repository.append_audit(
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
    record = placement_runs_repository.publish_run(session, round_id, run_id, actor=audit.actor)
    audit_repository.append_audit(
        session,
        audit,
        action="placement.publish",
        object_type="placement_run",
        object_id=str(run_id),
        round_id=round_id,
        detail={"digest": record.digest, "inputs_sha256": record.inputs_sha256},
    )
    return record


__all__ = [
    "MAX_SEED",
    "STALE_RUN_AFTER",
    "compute_outcome",
    "prepare_inputs",
    "publish_placement",
    "run_placement",
]
