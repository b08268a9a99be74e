"""Registry writes for one school at a time: validated like an import, recorded in history."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from gis_service.db import repository
from gis_service.errors import ConflictError, FieldProblem, InvalidInputError
from gis_service.records import Enrolment, SchoolData, SchoolRecord
from gis_service.registry.validation import RawSchool, validate_schools


def _validated(
    session: Session,
    values: Mapping[str, Any],
    *,
    district_code: str,
    class_size_cap: int,
    own_code: str | None,
) -> SchoolData:
    context = repository.district_context(session, district_code, class_size_cap=class_size_cap)
    if own_code is not None:
        others = {c: xy for c, xy in context.stored_locations.items() if c != own_code}
        context = dataclasses.replace(context, stored_locations=others)
    result = validate_schools([RawSchool(row=1, values=values)], context)
    if result.problems:
        problems = [FieldProblem(f"/{p.column}", p.detail) for p in result.problems]
        summary = "; ".join(f"{p.column}: {p.detail}" for p in result.problems)
        raise InvalidInputError(summary, problems=problems)
    return result.accepted[0][1]


def create_school(
    session: Session,
    values: Mapping[str, Any],
    *,
    district_code: str,
    class_size_cap: int,
    actor: str,
) -> SchoolRecord:
    """Validate and add one school; ``values`` uses the import's field names.

    Raises
    ------
    InvalidInputError
        With one problem per bad field.
    ConflictError
        If the code is taken.
    """
    data = _validated(
        session, values, district_code=district_code, class_size_cap=class_size_cap, own_code=None
    )
    enrolment = tuple(Enrolment(**row) for row in values.get("enrolment") or [])
    data = dataclasses.replace(data, enrolment=enrolment)
    return repository.create_school(session, data, district_code=district_code, actor=actor)


def update_school(
    session: Session,
    code: str,
    changes: Mapping[str, Any],
    *,
    class_size_cap: int,
    actor: str,
) -> SchoolRecord:
    """Apply ``changes`` (only the fields given) to school ``code`` after validating the result.

    Raises
    ------
    NotFoundError
        If there is no such school.
    InvalidInputError
        If the changed school would not pass validation.
    """
    current = repository.get_school(session, code)
    merged = current.data.to_json()
    merged.update({k: v for k, v in changes.items() if k != "enrolment"})
    if "class_size_cap" in changes and changes["class_size_cap"] is None:
        merged["class_size_cap"] = None
    data = _validated(
        session,
        merged,
        district_code=current.district_code,
        class_size_cap=class_size_cap,
        own_code=code,
    )
    cap_is_default = (
        current.data.class_size_cap_is_default
        if "class_size_cap" not in changes
        else data.class_size_cap_is_default
    )
    level_inferred = current.data.level_inferred and "level" not in changes
    enrolment = (
        tuple(Enrolment(**row) for row in changes["enrolment"])
        if changes.get("enrolment") is not None
        else current.data.enrolment
    )
    data = dataclasses.replace(
        data,
        code=code,
        class_size_cap_is_default=cap_is_default,
        level_inferred=level_inferred,
        source_ref=current.data.source_ref,
        enrolment=enrolment,
    )
    return repository.update_school(session, data, actor=actor)


def close_school(session: Session, code: str, *, actor: str) -> SchoolRecord:
    """Mark school ``code`` closed; it stays in the registry and its history.

    Raises
    ------
    NotFoundError
        If there is no such school.
    ConflictError
        If it is already closed.
    """
    current = repository.get_school(session, code)
    if current.data.status == "closed":
        msg = f"school {code} is already closed"
        raise ConflictError(msg)
    closed = dataclasses.replace(current.data, status="closed")
    return repository.update_school(session, closed, actor=actor, action="close")
