"""Applications for first grade: checked as a whole, then written in one transaction.

An application names one child (name, date of birth), the family's home (EPSG:4326 lon/lat,
inside the district; its ward is found from the home), a contact, the schools the family
ranks (best first, at most the round's ``max_choices``, each once), schools where the child
has a sibling, and an optional priority category of the round.

A batch (one JSON application, a JSON list, or a CSV file) is checked as a whole before
anything is written: each application on its own, then against the others of the batch
and against the round's stored applications (the same child twice). Every problem is
reported with a pointer (``/3/date_of_birth`` in JSON, ``row 3, column date_of_birth`` in
CSV), a reason code and a sentence; when there is any, nothing is written.

The Vietnamese rule for first grade: a child enters in the September of the calendar year
in which they turn six, age being counted by calendar year (Điều lệ trường tiểu học,
Thông tư 28/2020/TT-BGDĐT), so a round for the intake of ``year`` admits children born in
``year - 6``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from enrolment import FIRST_GRADE_AGE
from gis_service.admission.application_rows import (
    MAX_LISTED,
    ApplicationProblem,
    ApplicationsRejectedError,
    RawApplication,
    split_list,
)
from gis_service.db import (
    applications_repository,
    audit_repository,
    repository,
    rounds_repository,
)
from gis_service.db.applications_repository import (
    ApplicationRecord,
    IssuedApplication,
    NewApplication,
)
from gis_service.db.audit_repository import AuditContext
from gis_service.db.rounds_repository import RoundRecord
from gis_service.errors import ConflictError, InvalidInputError
from gis_service.networks import check_point
from gis_service.records import DistrictRecord
from gis_service.text import fold_text, no_control_characters, normalize_text
from gis_service.zones.eligibility import areas_holding
from gis_service.zones.geography import first_grade_schools

#: Two applications for the same child (name and date of birth) whose homes are closer
#: than this are one child applying twice.
DUPLICATE_HOME_M = 50.0
_MAX_TEXT = {"child_name": 200, "contact": 200, "ward_code": 16, "priority_category": 64}


@dataclass(frozen=True, slots=True)
class IntakeRules:
    """What a round's applications are checked against."""

    district: DistrictRecord
    year: int
    max_choices: int
    school_codes: frozenset[str]
    priority_categories: frozenset[str]
    wards: Mapping[str, BaseGeometry]


def intake_rules(session: Session, round_record: RoundRecord) -> IntakeRules:
    """Return the rules of a round: its district, year, schools, categories, wards."""
    district = repository.get_district(session, round_record.district_code)
    shapely.prepare(district.boundary)
    wards = {w.code: w.boundary for w in repository.list_wards(session, district.code)}
    for boundary in wards.values():
        shapely.prepare(boundary)
    return IntakeRules(
        district=district,
        year=round_record.year,
        max_choices=round_record.max_choices,
        school_codes=frozenset(s.code for s in first_grade_schools(session, district.code)),
        priority_categories=frozenset(round_record.priority_categories),
        wards=wards,
    )


def child_key(name: str, date_of_birth: dt.date) -> str:
    """Return the key of a child: folded name and date of birth."""
    return f"{fold_text(name)}|{date_of_birth.isoformat()}"


def parse_date(value: Any) -> dt.date | None:
    """Return a date from ``YYYY-MM-DD`` or ``DD/MM/YYYY`` text, or ``None`` if it is not one."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str):
        return None
    text = value.strip()
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    try:
        return float(text)
    except ValueError:
        return None


class _Checker:
    """Collects the problems of one application."""

    def __init__(self, raw: RawApplication) -> None:
        self.raw = raw
        self.problems: list[ApplicationProblem] = []

    def fail(self, name: str, reason: str, detail: str, position: int | None = None) -> None:
        self.problems.append(ApplicationProblem(self.raw.locate(name, position), reason, detail))

    def text(self, name: str, *, required: bool) -> str | None:
        value = self.raw.values.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.fail(name, "missing", f"{name} is required")
            return None
        if not isinstance(value, str | int) or isinstance(value, bool):
            self.fail(name, "invalid_value", f"{name} must be text, got {type(value).__name__}")
            return None
        try:
            text = normalize_text(no_control_characters(str(value)))
        except ValueError as error:
            self.fail(name, "control_character", f"{name} {error}")
            return None
        limit = _MAX_TEXT.get(name)
        if limit is not None and len(text) > limit:
            self.fail(name, "too_long", f"{name} is longer than {limit} characters")
            return None
        return text

    def codes(self, name: str) -> list[str] | None:
        value = self.raw.values.get(name)
        if value is None:
            return []
        if isinstance(value, str):
            value = split_list(value)
        if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
            self.fail(name, "invalid_value", f"{name} must be a list of school codes")
            return None
        return [str(v).strip() for v in value]


def _check_one(
    raw: RawApplication, rules: IntakeRules
) -> tuple[NewApplication | None, list[ApplicationProblem]]:
    """Check one application on its own."""
    check = _Checker(raw)
    for unknown in raw.unknown:
        check.fail(unknown, "unknown_field", f"{unknown!r} is not a field of an application")
    name = check.text("child_name", required=True)
    contact = check.text("contact", required=True)
    born = _birth_date(check, rules)
    home = _home(check, rules)
    ward = _ward(check, rules, home)
    choices = _choices(check, rules)
    siblings = _siblings(check, rules)
    category = check.text("priority_category", required=False)
    if category is not None and category not in rules.priority_categories:
        allowed = ", ".join(sorted(rules.priority_categories)) or "none in this round"
        check.fail(
            "priority_category",
            "unknown_priority_category",
            f"priority category {category!r} is not one of the round's ({allowed})",
        )
    if (
        check.problems
        or name is None
        or contact is None
        or born is None
        or home is None
        or ward is None
        or choices is None
        or siblings is None
    ):
        return None, check.problems
    return (
        NewApplication(
            child_name=name,
            child_key=child_key(name, born),
            date_of_birth=born,
            lon=home[0],
            lat=home[1],
            ward_code=ward,
            contact=contact,
            choices=tuple(choices),
            sibling_school_codes=tuple(siblings),
            priority_category=category,
        ),
        [],
    )


def _birth_date(check: _Checker, rules: IntakeRules) -> dt.date | None:
    value = check.raw.values.get("date_of_birth")
    if value is None or value == "":
        check.fail("date_of_birth", "missing", "date_of_birth is required")
        return None
    born = parse_date(value)
    if born is None:
        check.fail(
            "date_of_birth",
            "invalid_date",
            f"date_of_birth {value!r} is not a date: write YYYY-MM-DD or DD/MM/YYYY",
        )
        return None
    entry_year = born.year + FIRST_GRADE_AGE
    if entry_year != rules.year:
        check.fail(
            "date_of_birth",
            "not_first_grade_age",
            f"a child born on {born:%d/%m/%Y} turns {FIRST_GRADE_AGE} in {entry_year} and "
            f"enters first grade in September {entry_year}; the {rules.year} intake is for "
            f"children born in {rules.year - FIRST_GRADE_AGE}",
        )
        return None
    return born


def _home(check: _Checker, rules: IntakeRules) -> tuple[float, float] | None:
    raw = check.raw.values
    lon, lat = _number(raw.get("lon")), _number(raw.get("lat"))
    bad = False
    for name, value in (("lon", lon), ("lat", lat)):
        if raw.get(name) in (None, ""):
            check.fail(name, "missing", f"{name} of the home is required")
            bad = True
        elif value is None or not math.isfinite(value):
            detail = f"{name} {raw.get(name)!r} is not a number (EPSG:4326 degrees)"
            check.fail(name, "invalid_coordinates", detail)
            bad = True
    if bad or lon is None or lat is None:
        return None
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        detail = f"lat={lat}, lon={lon} are out of range (EPSG:4326 degrees)"
        check.fail("lat", "invalid_coordinates", detail)
        return None
    try:
        return check_point(rules.district, lat=lat, lon=lon, pointer="lat")
    except InvalidInputError as error:
        check.fail("lat", "outside_district", f"the home: {error.detail}")
        return None


def _ward(check: _Checker, rules: IntakeRules, home: tuple[float, float] | None) -> str | None:
    given = check.text("ward_code", required=False)
    if given is not None and given not in rules.wards:
        check.fail("ward_code", "unknown_ward", f"ward {given!r} is not a ward of the district")
        return None
    if home is None:
        return None
    lon, lat = home
    found = areas_holding(rules.wards.items(), [lon], [lat])[0]
    if found is None:
        check.fail("lat", "outside_district", "the district has no ward holding the home")
        return None
    if given is not None and given != found:
        check.fail(
            "ward_code", "ward_mismatch", f"the home lies in ward {found}, not in ward {given}"
        )
        return None
    return found


def _choices(check: _Checker, rules: IntakeRules) -> list[str] | None:
    choices = check.codes("choices")
    if choices is None:
        return None
    if not choices:
        check.fail("choices", "no_choice", "list at least one school", 0)
        return None
    ok = True
    if len(choices) > rules.max_choices:
        check.fail(
            "choices",
            "too_many_choices",
            f"{len(choices)} schools listed; this round allows at most {rules.max_choices}",
            rules.max_choices,
        )
        ok = False
    seen: dict[str, int] = {}
    for position, code in enumerate(choices[:MAX_LISTED]):
        if code in seen:
            detail = f"school {code} is listed twice (choices {seen[code] + 1} and {position + 1})"
            check.fail("choices", "repeated_choice", detail, position)
            ok = False
        elif code not in rules.school_codes:
            detail = f"school {code!r} is not an open first-grade school of the district"
            check.fail("choices", "unknown_school", detail, position)
            ok = False
        seen.setdefault(code, position)
    return choices if ok else None


def _siblings(check: _Checker, rules: IntakeRules) -> list[str] | None:
    siblings = check.codes("sibling_school_codes")
    if siblings is None:
        return None
    ok = True
    for position, code in enumerate(siblings):
        if code not in rules.school_codes:
            detail = f"sibling school {code!r} is not an open first-grade school of the district"
            check.fail("sibling_school_codes", "unknown_school", detail, position)
            ok = False
    return list(dict.fromkeys(siblings)) if ok else None


def _metric_homes(
    rules: IntakeRules, homes: Sequence[tuple[float, float]]
) -> npt.NDArray[np.float64]:
    transformer = Transformer.from_crs(4326, rules.district.metric_epsg, always_xy=True)
    lon = np.array([h[0] for h in homes], dtype=np.float64)
    lat = np.array([h[1] for h in homes], dtype=np.float64)
    x, y = transformer.transform(lon, lat)
    return np.column_stack([np.asarray(x), np.asarray(y)]).reshape(-1, 2)


def _duplicates(
    raws: Sequence[RawApplication],
    checked: Sequence[NewApplication | None],
    stored: Sequence[ApplicationRecord],
    rules: IntakeRules,
) -> list[tuple[int, ApplicationProblem]]:
    """Find the same child twice, in the batch or already in the round: (index, problem)."""
    valid = [(i, a) for i, a in enumerate(checked) if a is not None]
    homes = [(a.lon, a.lat) for _, a in valid] + [(s.lon, s.lat) for s in stored]
    if not homes:
        return []
    xy = _metric_homes(rules, homes)
    batch_xy = {index: xy[k] for k, (index, _) in enumerate(valid)}
    stored_xy = xy[len(valid) :]
    by_key: dict[str, list[int]] = {}
    for k, record in enumerate(stored):
        by_key.setdefault(record.child_key, []).append(k)
    seen: dict[str, list[int]] = {}
    problems: list[tuple[int, ApplicationProblem]] = []
    for index, application in valid:
        here = batch_xy[index]
        raw = raws[index]
        earlier = [
            j
            for j in seen.get(application.child_key, [])
            if float(np.hypot(*(batch_xy[j] - here))) < DUPLICATE_HOME_M
        ]
        applied = [
            stored[k]
            for k in by_key.get(application.child_key, [])
            if float(np.hypot(*(stored_xy[k] - here))) < DUPLICATE_HOME_M
        ]
        if earlier:
            detail = (
                f"{application.child_name}, born {application.date_of_birth:%d/%m/%Y}, "
                f"at the same home, is already {raws[earlier[0]].label}"
            )
            problems.append(
                (
                    index,
                    ApplicationProblem(raw.locate("child_name", None), "duplicate_child", detail),
                )
            )
        elif applied:
            detail = (
                f"{application.child_name}, born {application.date_of_birth:%d/%m/%Y}, "
                "already applied in this round"
            )
            problems.append(
                (
                    index,
                    ApplicationProblem(raw.locate("child_name", None), "already_applied", detail),
                )
            )
        seen.setdefault(application.child_key, []).append(index)
    return problems


def check_applications(
    session: Session, round_record: RoundRecord, raws: Sequence[RawApplication]
) -> list[NewApplication]:
    """Check a batch of applications as a whole.

    Returns
    -------
    list of NewApplication
        The applications, in order, when none has a problem.

    Raises
    ------
    ApplicationsRejectedError
        With every problem of every application.
    """
    rules = intake_rules(session, round_record)
    checked: list[NewApplication | None] = []
    problems: list[ApplicationProblem] = []
    rejected: set[int] = set()
    for index, raw in enumerate(raws):
        application, found = _check_one(raw, rules)
        checked.append(application)
        problems.extend(found)
        if found:
            rejected.add(index)
    keys = [a.child_key for a in checked if a is not None]
    stored = applications_repository.applications_of_children(session, round_record.id, keys)
    for index, problem in _duplicates(raws, checked, stored, rules):
        problems.append(problem)
        rejected.add(index)
    if problems:
        noun = "application" if len(raws) == 1 else "applications"
        detail = f"{len(rejected)} of {len(raws)} {noun} rejected; nothing was written"
        raise ApplicationsRejectedError(detail, problems)
    return [a for a in checked if a is not None]


def submit_applications(
    session: Session,
    round_id: int,
    raws: Sequence[RawApplication],
    *,
    audit: AuditContext,
    when: dt.datetime | None = None,
    priority_verified: bool = False,
) -> list[IssuedApplication]:
    """Check and write a batch of applications of a round; the caller commits.

    A priority category is recorded ``claimed`` until an officer checks it, or
    ``verified`` by the actor when ``priority_verified`` (an officer entering applications
    from documents seen). Every new application is written to the audit log. The round's
    row is locked until the caller's transaction ends, so two batches cannot both pass the
    duplicate check.

    Raises
    ------
    NotFoundError
        If there is no such round.
    ConflictError
        If the round is closed or past its deadline.
    ApplicationsRejectedError
        If any application has a problem (nothing is written).
    """
    round_record = rounds_repository.get_round(session, round_id, lock=True)
    moment = when or repository.now()
    if not round_record.accepts_applications(moment):
        state = (
            "closed"
            if round_record.status != "open"
            else f"past its deadline ({round_record.applications_close_at:%Y-%m-%d %H:%M} UTC)"
        )
        msg = f"round {round_id} takes no more applications: it is {state}"
        raise ConflictError(msg)
    applications = check_applications(session, round_record, raws)
    issued = applications_repository.add_applications(
        session, round_id, applications, actor=audit.actor, priority_verified=priority_verified
    )
    for application, new in zip(issued, applications, strict=True):
        audit_repository.append_audit(
            session,
            audit,
            action="application.create",
            object_type="application",
            object_id=application.application_id,
            round_id=round_id,
            detail={"ward_code": new.ward_code, "choices": len(new.choices)},
        )
    return issued


__all__ = [
    "DUPLICATE_HOME_M",
    "IntakeRules",
    "check_applications",
    "child_key",
    "intake_rules",
    "parse_date",
    "submit_applications",
]
