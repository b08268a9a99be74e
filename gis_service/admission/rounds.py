"""Admission rounds: one district's first-grade intake of one year, its deadlines and rules.

A round fixes, before any application arrives, what the placement will use: the order of
the priority groups (``rules``), the zone version whose zones decide ``in_zone`` (the
district's published version unless another is named), the allowed priority categories,
the number of choices, and seats that override or complete the registry's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from gis_service.admission.runs import check_rules
from gis_service.db import admission_repository, repository, zones_repository
from gis_service.db.admission_repository import AuditContext, RoundRecord, RoundSpec
from gis_service.errors import FieldProblem, InvalidInputError, NotFoundError
from gis_service.text import normalize_text
from gis_service.vocabulary import MAX_CHOICES_LIMIT
from gis_service.zones.compute import first_grade_schools

#: The priority order used when a round names none.
DEFAULT_RULES = ("in_zone", "sibling", "priority_category", "everyone")


@dataclass(frozen=True, slots=True)
class RoundRequest:
    """What an enrolment officer asks for when opening a round."""

    name: str
    year: int
    applications_close_at: dt.datetime
    results_at: dt.datetime | None = None
    max_choices: int = 3
    rules: Sequence[str] = DEFAULT_RULES
    priority_categories: Sequence[str] = ()
    zone_version: str | None = None
    seats: Mapping[str, int] = field(default_factory=dict)
    default_first_grade_classes: int | None = None


def _aware(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _fail(detail: str, *, pointer: str) -> InvalidInputError:
    return InvalidInputError(detail, problems=[FieldProblem(pointer, detail)])


def open_round(
    session: Session, request: RoundRequest, *, district_code: str | None, audit: AuditContext
) -> RoundRecord:
    """Check and create a round (audited); the caller commits.

    Raises
    ------
    InvalidInputError
        If a rule, seat, category, date or the zone version is wrong.
    ConflictError
        If the district has a round of that name for that year.
    """
    district = repository.get_district(session, district_code)
    rules = check_rules(list(request.rules))
    if not 1 <= request.max_choices <= MAX_CHOICES_LIMIT:
        msg = f"max_choices must be from 1 to {MAX_CHOICES_LIMIT}, got {request.max_choices}"
        raise _fail(msg, pointer="/max_choices")
    close_at = _aware(request.applications_close_at)
    results_at = None if request.results_at is None else _aware(request.results_at)
    if results_at is not None and results_at < close_at:
        msg = "results_at must not be before applications_close_at"
        raise _fail(msg, pointer="/results_at")
    codes = {s.code for s in first_grade_schools(session, district.code)}
    for code, seats in request.seats.items():
        if code not in codes:
            msg = f"school {code!r} is not an open first-grade school of the district"
            raise _fail(msg, pointer=f"/seats/{code}")
        if seats < 0:
            msg = f"the seats of school {code} must not be negative, got {seats}"
            raise _fail(msg, pointer=f"/seats/{code}")
    categories = tuple(dict.fromkeys(normalize_text(c) for c in request.priority_categories))
    if any(not c or len(c) > 64 for c in categories):
        msg = "priority categories must be 1 to 64 characters"
        raise _fail(msg, pointer="/priority_categories")
    if request.zone_version is None:
        version = zones_repository.published_zone_version(session, district.code)
    else:
        try:
            version = zones_repository.get_zone_version(
                session, request.zone_version, district_code=district.code
            )
        except NotFoundError as error:
            raise _fail(error.detail, pointer="/zone_version") from None
    if version is None and "in_zone" in rules:
        msg = (
            "the rule 'in_zone' needs a zone version: publish the district's zones or name "
            "one with zone_version"
        )
        raise _fail(msg, pointer="/zone_version")
    record = admission_repository.create_round(
        session,
        RoundSpec(
            district_code=district.code,
            year=request.year,
            name=normalize_text(request.name),
            applications_close_at=close_at,
            results_at=results_at,
            max_choices=request.max_choices,
            rules=rules,
            priority_categories=categories,
            zone_version_id=None if version is None else version.id,
            seats={str(k): int(v) for k, v in request.seats.items()},
            default_first_grade_classes=request.default_first_grade_classes,
            created_by=audit.actor,
        ),
    )
    admission_repository.append_audit(
        session,
        audit,
        action="round.create",
        object_type="admission_round",
        object_id=str(record.id),
        round_id=record.id,
        detail={"year": record.year, "name": record.name, "rules": list(record.rules)},
    )
    return record


__all__ = ["DEFAULT_RULES", "RoundRequest", "open_round"]
