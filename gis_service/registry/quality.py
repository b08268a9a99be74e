"""Data quality of the school registry: live, clean and complete ("sống, sạch, đủ").

:func:`assess_quality` is a pure function over school records and ward boundaries;
:func:`quality_report` reads them from the store and calls it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shapely import Point, prepared
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from gis_service.db import repository
from gis_service.records import SchoolData
from gis_service.settings import STALE_AFTER_DAYS

__all__ = [
    "COMPLETENESS_FIELDS",
    "FieldCompleteness",
    "QualityReport",
    "assess_quality",
    "quality_report",
]

#: The school fields that may be unknown (``None``), whose completeness is measured.
COMPLETENESS_FIELDS = (
    "level",
    "ownership",
    "address",
    "ward_code",
    "first_grade_classes",
    "phone",
    "email",
    "website",
    "last_verified",
)


@dataclass(frozen=True, slots=True)
class FieldCompleteness:
    """How many schools have a value for one field.

    Attributes
    ----------
    field
        The school field, e.g. ``first_grade_classes``.
    filled
        Schools with a value.
    share
        ``filled`` over all schools, from 0 to 1 (0 when there are no schools).
    """

    field: str
    filled: int
    share: float


@dataclass(frozen=True, slots=True)
class QualityReport:
    """The registry's quality for one district on one day; school lists hold codes, sorted.

    Attributes
    ----------
    district_code
        The district assessed.
    today
        The day the report is made for (staleness is counted from it).
    stale_after_days
        Days after which a verification is too old.
    schools
        Schools of the district (every status).
    completeness
        One entry per field of ``COMPLETENESS_FIELDS``, in that order.
    stale
        Schools never verified, or last verified more than ``stale_after_days`` ago.
    outside_wards
        Schools without a ward code, or whose point no ward polygon of the district covers.
    level_inferred
        Schools whose level was guessed (from the name or OSM tags) rather than stated.
    default_class_size_cap
        Schools whose class-size cap is the default rather than known.
    """

    district_code: str
    today: dt.date
    stale_after_days: int
    schools: int
    completeness: tuple[FieldCompleteness, ...]
    stale: tuple[str, ...]
    outside_wards: tuple[str, ...]
    level_inferred: tuple[str, ...]
    default_class_size_cap: tuple[str, ...]

    def completeness_of(self, field: str) -> FieldCompleteness:
        """Return the completeness of one field.

        Raises
        ------
        KeyError
            If ``field`` is not measured.
        """
        for entry in self.completeness:
            if entry.field == field:
                return entry
        msg = f"completeness of {field!r} is not measured; see COMPLETENESS_FIELDS"
        raise KeyError(msg)

    def to_json(self) -> dict[str, Any]:
        """Return the report as JSON-ready values (lists of codes with their counts)."""

        def codes(values: tuple[str, ...]) -> dict[str, Any]:
            return {"count": len(values), "codes": list(values)}

        return {
            "district_code": self.district_code,
            "today": self.today.isoformat(),
            "stale_after_days": self.stale_after_days,
            "schools": self.schools,
            "completeness": {
                e.field: {"filled": e.filled, "share": e.share} for e in self.completeness
            },
            "stale": codes(self.stale),
            "outside_wards": codes(self.outside_wards),
            "level_inferred": codes(self.level_inferred),
            "default_class_size_cap": codes(self.default_class_size_cap),
        }


def _is_stale(school: SchoolData, today: dt.date, stale_after_days: int) -> bool:
    if school.last_verified is None:
        return True
    return (today - school.last_verified).days > stale_after_days


def assess_quality(
    schools: Sequence[SchoolData],
    wards: Mapping[str, BaseGeometry],
    *,
    district_code: str,
    today: dt.date,
    stale_after_days: int = STALE_AFTER_DAYS,
) -> QualityReport:
    """Measure how live, clean and complete a district's school records are.

    Parameters
    ----------
    schools
        The district's schools (positions in EPSG:4326).
    wards
        Ward code -> ward boundary (EPSG:4326) of the district.
    district_code
        The district, named in the report.
    today
        The day staleness is counted from.
    stale_after_days
        A school last verified more than this many days before ``today`` is stale.

    Returns
    -------
    QualityReport
        Completeness per field and the schools that are stale, outside every ward, with an
        inferred level, or with the default class-size cap.

    Raises
    ------
    ValueError
        If ``stale_after_days`` is negative.
    """
    if stale_after_days < 0:
        msg = f"stale_after_days must be 0 or more, got {stale_after_days}"
        raise ValueError(msg)
    ordered = sorted(schools, key=lambda school: school.code)
    total = len(ordered)
    completeness: list[FieldCompleteness] = []
    for name in COMPLETENESS_FIELDS:
        filled = sum(getattr(school, name) is not None for school in ordered)
        completeness.append(FieldCompleteness(name, filled, filled / total if total else 0.0))
    ward_shapes = [prepared.prep(boundary) for boundary in wards.values()]

    def outside(school: SchoolData) -> bool:
        point = Point(school.lon, school.lat)
        return school.ward_code is None or not any(w.covers(point) for w in ward_shapes)

    return QualityReport(
        district_code=district_code,
        today=today,
        stale_after_days=stale_after_days,
        schools=total,
        completeness=tuple(completeness),
        stale=tuple(s.code for s in ordered if _is_stale(s, today, stale_after_days)),
        outside_wards=tuple(s.code for s in ordered if outside(s)),
        level_inferred=tuple(s.code for s in ordered if s.level_inferred),
        default_class_size_cap=tuple(s.code for s in ordered if s.class_size_cap_is_default),
    )


def quality_report(
    session: Session,
    *,
    district_code: str,
    today: dt.date,
    stale_after_days: int = STALE_AFTER_DAYS,
) -> QualityReport:
    """Return the quality report of a district's schools as stored (see :func:`assess_quality`).

    Raises
    ------
    NotFoundError
        If the district is not in the registry.
    """
    repository.get_district(session, district_code)
    records, _ = repository.list_schools(
        session, repository.SchoolFilter(district_code=district_code)
    )
    wards = {ward.code: ward.boundary for ward in repository.list_wards(session, district_code)}
    return assess_quality(
        [record.data for record in records],
        wards,
        district_code=district_code,
        today=today,
        stale_after_days=stale_after_days,
    )
