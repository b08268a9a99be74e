"""Admission rounds: one district's first-grade intake of one year, its deadlines and rules.

A round fixes, before any application arrives, what the placement will use: the order of
the priority groups (``rules``), the zone version whose zones decide ``in_zone`` (the
district's published version unless another is named), the allowed priority categories,
the number of choices, and seats that override or complete the registry's.

:class:`RoundIn` is the one description of a round to open, for the API and the command
line alike: it checks every field on its own, and :func:`open_round` checks what needs the
store (the district, its schools and zone versions).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError
from sqlalchemy.orm import Session

from gis_service.db import audit_repository, repository, rounds_repository, zones_repository
from gis_service.db.audit_repository import AuditContext
from gis_service.db.rounds_repository import RoundRecord, RoundSpec
from gis_service.errors import FieldProblem, InvalidInputError, NotFoundError
from gis_service.settings import MAX_FIRST_GRADE_SEATS
from gis_service.text import PlainText, normalize_text
from gis_service.vocabulary import MAX_CHOICES_LIMIT, PRIORITY_RULES
from gis_service.zones.geography import first_grade_schools

#: The priority rule every child meets: the last priority group.
EVERYONE = "everyone"
#: The priority order used when a round names none: every rule, ``in_zone`` first.
DEFAULT_RULES = PRIORITY_RULES
#: Longest priority category, in characters.
MAX_CATEGORY_LENGTH = 64


def group_names(rules: Sequence[str]) -> tuple[str, ...]:
    """Return the name of every priority group, highest first (``everyone`` last)."""
    return tuple(rules) if EVERYONE in rules else (*rules, EVERYONE)


def _rule_problems(rules: Sequence[str]) -> list[tuple[int, str]]:
    """Return the position and the description of each wrong rule."""
    problems = []
    for position, rule in enumerate(rules):
        if rule not in PRIORITY_RULES:
            problems.append((position, f"unknown rule {rule!r}: use {PRIORITY_RULES}"))
        elif rule in rules[:position]:
            problems.append((position, f"rule {rule!r} is listed twice"))
        elif EVERYONE in rules[:position]:
            problems.append((position, f"rule {rule!r} follows 'everyone': never used"))
    return problems


def _utc(value: dt.datetime) -> dt.datetime:
    """Return a moment in UTC; a moment without an offset is taken as UTC."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _problem(detail: str) -> PydanticCustomError:
    return PydanticCustomError("invalid_value", detail)


def _wrong_items(problems: Sequence[tuple[int | str, str, object]]) -> PydanticValidationError:
    """Return the error of a list or mapping field naming each wrong item (key, detail, value).

    Raised by a field's validator, its items' problems point at ``/field/key``.
    """
    details = [
        InitErrorDetails(type=_problem(detail), loc=(key,), input=value)
        for key, detail, value in problems
    ]
    return PydanticValidationError.from_exception_data("RoundIn", details)


UtcMoment = Annotated[dt.datetime, AfterValidator(_utc)]


class RoundIn(BaseModel):
    """A round to open. Times are ISO 8601; without an offset they are UTC."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[PlainText, Field(min_length=1, max_length=200), AfterValidator(normalize_text)]
    year: int = Field(ge=2000, le=2100, description="the intake year (September)")
    applications_close_at: UtcMoment
    results_at: UtcMoment | None = None
    max_choices: int = Field(default=3, ge=1, le=MAX_CHOICES_LIMIT)
    rules: list[str] = Field(
        default_factory=lambda: list(DEFAULT_RULES),
        min_length=1,
        max_length=4,
        description="priority groups, highest first: in_zone, sibling, priority_category, everyone",
    )
    priority_categories: list[str] = Field(default_factory=list, max_length=20)
    zone_version: str | None = Field(
        default=None, description="zone version id or name (default: the published one)"
    )
    seats: dict[str, int] = Field(
        default_factory=dict, description="first-grade seats by school code, over the registry's"
    )
    default_first_grade_classes: int | None = Field(
        default=None, ge=0, le=30, description="classes assumed where the registry has none"
    )
    claimed_priority_counts: bool = Field(
        default=False,
        description="whether a priority category counts before an enrolment officer has "
        "verified it (by default only verified ones count)",
    )

    @field_validator("results_at")
    @classmethod
    def _not_before_close(
        cls, value: dt.datetime | None, info: ValidationInfo
    ) -> dt.datetime | None:
        close_at = info.data.get("applications_close_at")
        if value is not None and close_at is not None and value < close_at:
            msg = "results_at must not be before applications_close_at"
            raise _problem(msg)
        return value

    @field_validator("rules")
    @classmethod
    def _known_rules_in_order(cls, rules: list[str]) -> list[str]:
        """Refuse unknown or repeated rules and rules after ``everyone``, each at its place."""
        problems = _rule_problems(rules)
        if problems:
            raise _wrong_items([(at, detail, rules[at]) for at, detail in problems])
        return rules

    @field_validator("priority_categories")
    @classmethod
    def _normal_categories(cls, categories: list[str]) -> list[str]:
        """Return the categories in normal form, each once."""
        normal = list(dict.fromkeys(normalize_text(c) for c in categories))
        if any(not c or len(c) > MAX_CATEGORY_LENGTH for c in normal):
            msg = f"priority categories must be 1 to {MAX_CATEGORY_LENGTH} characters"
            raise _problem(msg)
        return normal

    @field_validator("seats")
    @classmethod
    def _seats_in_range(cls, seats: dict[str, int]) -> dict[str, int]:
        wrong = [
            (code, f"the seats of school {code} must not be negative, got {count}", count)
            if count < 0
            else (
                code,
                f"the seats of school {code} must not be more than {MAX_FIRST_GRADE_SEATS}, "
                f"got {count}",
                count,
            )
            for code, count in seats.items()
            if not 0 <= count <= MAX_FIRST_GRADE_SEATS
        ]
        if wrong:
            raise _wrong_items(wrong)
        return seats


def _fail(detail: str, *, pointer: str) -> InvalidInputError:
    return InvalidInputError(detail, problems=[FieldProblem(pointer, detail)])


def open_round(
    session: Session, request: RoundIn, *, district_code: str | None, audit: AuditContext
) -> RoundRecord:
    """Check a round against the store and create it (audited); the caller commits.

    Raises
    ------
    InvalidInputError
        If a school of ``seats`` is not an open first-grade school of the district, or the
        zone version is unknown or missing while the rule ``in_zone`` needs one.
    ConflictError
        If the district has a round of that name for that year.
    """
    district = repository.get_district(session, district_code)
    codes = {s.code for s in first_grade_schools(session, district.code)}
    for code in request.seats:
        if code not in codes:
            msg = f"school {code!r} is not an open first-grade school of the district"
            raise _fail(msg, pointer=f"/seats/{code}")
    if request.zone_version is None:
        version = zones_repository.published_zone_version(session, district.code)
    else:
        try:
            version = zones_repository.get_zone_version(
                session, request.zone_version, district_code=district.code
            )
        except NotFoundError as error:
            raise _fail(error.detail, pointer="/zone_version") from None
    if version is None and "in_zone" in request.rules:
        msg = (
            "the rule 'in_zone' needs a zone version: publish the district's zones or name "
            "one with zone_version"
        )
        raise _fail(msg, pointer="/zone_version")
    record = rounds_repository.create_round(
        session,
        RoundSpec(
            district_code=district.code,
            year=request.year,
            name=request.name,
            applications_close_at=request.applications_close_at,
            results_at=request.results_at,
            max_choices=request.max_choices,
            rules=tuple(request.rules),
            priority_categories=tuple(request.priority_categories),
            zone_version_id=None if version is None else version.id,
            seats=dict(request.seats),
            default_first_grade_classes=request.default_first_grade_classes,
            created_by=audit.actor,
            claimed_priority_counts=request.claimed_priority_counts,
        ),
    )
    audit_repository.append_audit(
        session,
        audit,
        action="round.create",
        object_type="admission_round",
        object_id=str(record.id),
        round_id=record.id,
        detail={"year": record.year, "name": record.name, "rules": list(record.rules)},
    )
    return record


__all__ = ["DEFAULT_RULES", "EVERYONE", "RoundIn", "group_names", "open_round"]
