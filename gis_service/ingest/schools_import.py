"""School lists into the registry: checked against the district as a whole, then written.

A file with one bad row changes nothing: every row is validated first, and the rows are
written in one transaction only when all pass.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
from pyproj import CRS
from shapely import Point
from sqlalchemy.orm import Session

from gis_service.crs import WGS84, to_metric
from gis_service.db import repository
from gis_service.errors import NotFoundError, RowProblem
from gis_service.ingest.schools_file import read_school_file
from gis_service.records import SchoolData
from gis_service.registry.validation import RawSchool, validate_schools
from gis_service.text import fold_text

#: An imported position closer than this to the stored one is taken as unchanged (float noise
#: from spreadsheets that keep 15 significant digits, or from reprojection).
SAME_POSITION_M = 0.01

#: School codes the store and the API accept (as in ``SchoolCreate``).
_CODE_PATTERN = re.compile(r"[0-9A-Za-z_.-]{1,32}")


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import did, or would do.

    Attributes
    ----------
    file
        The file's name.
    rows_read
        Non-empty data rows in the file.
    accepted
        Rows that passed validation.
    created, updated, unchanged
        Schools added, changed, and matched without a change (predicted on a dry run).
    rejected
        Every problem of every rejected row; when there is one, nothing is written.
    unknown_columns
        Headers that mean no field (ignored, reported as warnings).
    warnings
        Other warnings about the file.
    written
        Whether the registry was changed (the caller still commits).
    dry_run
        Whether the import only checked the file.
    """

    file: str
    rows_read: int
    accepted: int
    created: int
    updated: int
    unchanged: int
    rejected: tuple[RowProblem, ...]
    unknown_columns: tuple[str, ...]
    written: bool
    dry_run: bool = False
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def rejected_rows(self) -> tuple[int, ...]:
        """Sorted numbers of the rows with at least one problem."""
        return tuple(sorted({problem.row for problem in self.rejected}))

    def to_json(self) -> dict[str, Any]:
        """Return the report as JSON-ready values."""
        return {
            "file": self.file,
            "rows_read": self.rows_read,
            "accepted": self.accepted,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected_rows": list(self.rejected_rows),
            "rejected": [
                {"row": p.row, "column": p.column, "reason": p.reason, "detail": p.detail}
                for p in self.rejected
            ],
            "unknown_columns": list(self.unknown_columns),
            "warnings": list(self.warnings),
            "written": self.written,
            "dry_run": self.dry_run,
        }


@dataclass(frozen=True, slots=True)
class _Plan:
    creates: tuple[SchoolData, ...]
    updates: tuple[SchoolData, ...]
    unchanged: int


def _stored_values(school: SchoolData) -> dict[str, str | None]:
    """Return a stored school as import text, for the columns a file leaves out."""

    def text(value: object) -> str | None:
        return None if value is None else str(value)

    return {
        "code": school.code,
        "name": school.name,
        "lon": repr(school.lon),
        "lat": repr(school.lat),
        "level": school.level,
        "ownership": school.ownership,
        "address": school.address,
        "first_grade_classes": text(school.first_grade_classes),
        "class_size_cap": None if school.class_size_cap_is_default else str(school.class_size_cap),
        "status": school.status,
        "phone": school.phone,
        "email": school.email,
        "website": school.website,
        "source": school.source,
        "source_ref": school.source_ref,
        "last_verified": None if school.last_verified is None else school.last_verified.isoformat(),
    }


def _fill_absent(
    rows: Sequence[RawSchool], columns: frozenset[str], stored: Mapping[str, SchoolData]
) -> list[RawSchool]:
    """Give rows of stored schools the stored values of the fields the file has no column for.

    The ward is left out: without a column it follows the position (see ``_merge``).
    """
    filled: list[RawSchool] = []
    for raw in rows:
        school = stored.get(str(raw.values.get("code") or "").strip())
        if school is None:
            filled.append(raw)
            continue
        absent = {
            name: value
            for name, value in _stored_values(school).items()
            if name not in columns and not (raw.has_geometry_column and name in {"lon", "lat"})
        }
        filled.append(dataclasses.replace(raw, values={**raw.values, **absent}))
    return filled


def _ward_codes_from_names(rows: Sequence[RawSchool], wards: Mapping[str, str]) -> list[RawSchool]:
    """Replace ward names (``Phường 8``, with or without diacritics) by their ward codes."""
    code_of_name = {fold_text(name): code for code, name in wards.items()}
    replaced: list[RawSchool] = []
    for raw in rows:
        value = raw.values.get("ward_code")
        code = None if value is None else code_of_name.get(fold_text(str(value)))
        if code is not None and value not in wards:
            replaced.append(dataclasses.replace(raw, values={**raw.values, "ward_code": code}))
        else:
            replaced.append(raw)
    return replaced


def _same_positions(pairs: Sequence[tuple[SchoolData, SchoolData]], metric_epsg: int) -> list[bool]:
    """Say for each (incoming, stored) pair whether the positions are within SAME_POSITION_M."""
    if not pairs:
        return []
    metric = CRS.from_epsg(metric_epsg)
    incoming = to_metric(gpd.GeoSeries([Point(a.lon, a.lat) for a, _ in pairs], crs=WGS84), metric)
    stored = to_metric(gpd.GeoSeries([Point(b.lon, b.lat) for _, b in pairs], crs=WGS84), metric)
    return [float(d) <= SAME_POSITION_M for d in incoming.distance(stored, align=False)]


def _merge(
    incoming: SchoolData, stored: SchoolData, *, same_position: bool, columns: frozenset[str]
) -> SchoolData:
    """Return the state an import row gives a stored school.

    The stored source reference and enrolment are kept; a position within SAME_POSITION_M
    keeps the stored coordinates (and, without a ward column, the stored ward); an unchanged
    level keeps its "inferred" mark.
    """
    lon, lat = (stored.lon, stored.lat) if same_position else (incoming.lon, incoming.lat)
    ward_code = incoming.ward_code
    if same_position and "ward_code" not in columns:
        ward_code = stored.ward_code
    return dataclasses.replace(
        incoming,
        code=stored.code,
        lon=lon,
        lat=lat,
        ward_code=ward_code,
        level_inferred=stored.level_inferred and incoming.level == stored.level,
        source_ref=stored.source_ref,
        enrolment=stored.enrolment,
    )


def _store_problems(
    session: Session,
    accepted: Sequence[tuple[int, SchoolData]],
    *,
    stored: Mapping[str, SchoolData],
) -> list[RowProblem]:
    """Problems only the store can reveal: codes it cannot hold or that belong elsewhere."""
    problems: list[RowProblem] = []
    source_refs = {s.source_ref: s.code for s in stored.values() if s.source_ref}
    first_row_of_ref: dict[str, int] = {}
    for row, school in accepted:
        if school.code and not _CODE_PATTERN.fullmatch(school.code):
            detail = f"code {school.code!r} must be 1-32 letters, digits, '.', '_' or '-'"
            problems.append(RowProblem(row, "code", "invalid_code", detail))
            continue
        if school.code in stored:
            continue
        if school.code:
            try:
                other = repository.get_school(session, school.code)
            except NotFoundError:
                pass
            else:
                detail = f"code {school.code} belongs to a school of district {other.district_code}"
                problems.append(RowProblem(row, "code", "duplicate_code", detail))
                continue
        ref = school.source_ref
        if ref is None:
            continue
        holder = source_refs.get(ref) or repository.find_school_code_by_source(session, ref)
        if holder is not None:
            detail = f"source_ref {ref} is already the source of school {holder}"
            problems.append(RowProblem(row, "source_ref", "duplicate_source_ref", detail))
        elif ref in first_row_of_ref:
            detail = f"source_ref {ref} is already used in row {first_row_of_ref[ref]}"
            problems.append(RowProblem(row, "source_ref", "duplicate_source_ref", detail))
        else:
            first_row_of_ref[ref] = row
    return problems


def _plan(
    accepted: Sequence[tuple[int, SchoolData]],
    stored: Mapping[str, SchoolData],
    *,
    columns: frozenset[str],
    metric_epsg: int,
) -> _Plan:
    matched = [(school, stored[school.code]) for _, school in accepted if school.code in stored]
    same = _same_positions(matched, metric_epsg)
    updates: list[SchoolData] = []
    unchanged = 0
    for (incoming, before), same_position in zip(matched, same, strict=True):
        after = _merge(incoming, before, same_position=same_position, columns=columns)
        if after == before:
            unchanged += 1
        else:
            updates.append(after)
    new = [school for _, school in accepted if school.code not in stored]
    # Explicit codes first, so that a blank code never takes a code a later row asks for.
    creates = sorted(new, key=lambda school: school.code == "")
    return _Plan(creates=tuple(creates), updates=tuple(updates), unchanged=unchanged)


def import_schools(
    session: Session,
    path: Path,
    *,
    district_code: str,
    class_size_cap: int,
    actor: str,
    dry_run: bool = False,
) -> ImportReport:
    """Import a school file into a district, all rows or none, in the caller's transaction.

    Every row is validated against the district and the stored schools first. Only when no
    row is rejected are the schools written: a row whose code is a stored school of the
    district updates it (its source reference and enrolment are kept; fields the file has no
    column for keep their stored values; a blank cell clears the field), any other row adds a
    school (a blank code gets the district's next free code). History records the action
    ``import``. Schools absent from the file are left alone. Ward names (``Phường 8``) are
    accepted in the ward column.

    Besides the validator's reasons, a row is rejected for what only the store reveals:
    ``invalid_code`` (not 1-32 letters, digits, ``.``, ``_``, ``-``), ``duplicate_code`` (the
    code belongs to a school of another district) and ``duplicate_source_ref`` (the source
    reference of a new school is already taken, in the store or by an earlier row).

    Parameters
    ----------
    session
        Open session; the caller commits (only when ``report.written``).
    path
        The school file (see :func:`read_school_file`).
    district_code
        The district the schools belong to.
    class_size_cap
        Class-size cap (pupils per class) of schools whose cap the file leaves blank.
    actor
        Who the history records as the author.
    dry_run
        Check the file and predict the counts, without writing.

    Returns
    -------
    ImportReport
        Counts, the problems of rejected rows and the unknown columns.

    Raises
    ------
    InvalidInputError
        If the file cannot be read as a school list.
    NotFoundError
        If the district is not in the registry.
    """
    school_file = read_school_file(path)
    context = repository.district_context(session, district_code, class_size_cap=class_size_cap)
    records, _ = repository.list_schools(
        session, repository.SchoolFilter(district_code=district_code)
    )
    stored = {record.data.code: record.data for record in records}
    wards = {ward.code: ward.name for ward in repository.list_wards(session, district_code)}
    rows = _fill_absent(school_file.rows, school_file.columns, stored)
    rows = _ward_codes_from_names(rows, wards)
    result = validate_schools(rows, context)
    problems = list(result.problems)
    problems += _store_problems(session, result.accepted, stored=stored)
    problems.sort(key=lambda p: (p.row, p.column, p.reason))
    rejected_rows = {problem.row for problem in problems}
    accepted = [(row, school) for row, school in result.accepted if row not in rejected_rows]
    report = ImportReport(
        file=path.name,
        rows_read=len(school_file.rows),
        accepted=len(accepted),
        created=0,
        updated=0,
        unchanged=0,
        rejected=tuple(problems),
        unknown_columns=school_file.unknown_columns,
        written=False,
        dry_run=dry_run,
        warnings=school_file.warnings,
    )
    if problems:
        return report
    plan = _plan(accepted, stored, columns=school_file.columns, metric_epsg=context.metric_epsg)
    report = dataclasses.replace(
        report, created=len(plan.creates), updated=len(plan.updates), unchanged=plan.unchanged
    )
    if dry_run:
        return report
    for school in plan.creates:
        repository.create_school(
            session, school, district_code=district_code, actor=actor, action="import"
        )
    for school in plan.updates:
        repository.update_school(session, school, actor=actor, action="import")
    return dataclasses.replace(report, written=True)


__all__ = ["SAME_POSITION_M", "ImportReport", "import_schools"]
