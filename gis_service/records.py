"""Plain records the registry hands out: no ORM objects, no geometry blobs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shapely.geometry.base import BaseGeometry

from gis_service.settings import DEFAULT_CLASS_SIZE_CAP

#: First-grade school levels and their Vietnamese names.
LEVEL_NAMES = {
    "mam_non": "Mầm non",
    "tieu_hoc": "Tiểu học",
    "thcs": "Trung học cơ sở",
    "thpt": "Trung học phổ thông",
    "lien_cap": "Liên cấp",
}
OWNERSHIP_NAMES = {"cong_lap": "Công lập", "tu_thuc": "Tư thục"}
STATUS_NAMES = {"open": "Đang hoạt động", "planned": "Dự kiến", "closed": "Đã đóng cửa"}


@dataclass(frozen=True, slots=True)
class Enrolment:
    """Pupils in one grade in the school year that starts in ``school_year``."""

    school_year: int
    grade: int
    pupils: int


@dataclass(frozen=True, slots=True)
class SchoolData:
    """Everything the registry stores about a school, as written by users or loaders.

    ``lon``/``lat`` are EPSG:4326 degrees. ``first_grade_classes`` is ``None`` when unknown.
    """

    code: str
    name: str
    lon: float
    lat: float
    level: str | None = None
    level_inferred: bool = False
    ownership: str | None = None
    address: str | None = None
    ward_code: str | None = None
    first_grade_classes: int | None = None
    class_size_cap: int = DEFAULT_CLASS_SIZE_CAP
    class_size_cap_is_default: bool = True
    status: str = "open"
    phone: str | None = None
    email: str | None = None
    website: str | None = None
    source: str = "registry"
    source_ref: str | None = None
    last_verified: dt.date | None = None
    enrolment: tuple[Enrolment, ...] = field(default_factory=tuple)

    @property
    def first_grade_seats(self) -> int | None:
        """First-grade seats: classes x class-size cap, ``None`` when classes are unknown."""
        if self.first_grade_classes is None:
            return None
        return self.first_grade_classes * self.class_size_cap

    def to_json(self) -> dict[str, Any]:
        """Return the school as JSON-ready values (the form kept in the history)."""
        return {
            "code": self.code,
            "name": self.name,
            "lon": self.lon,
            "lat": self.lat,
            "level": self.level,
            "level_inferred": self.level_inferred,
            "ownership": self.ownership,
            "address": self.address,
            "ward_code": self.ward_code,
            "first_grade_classes": self.first_grade_classes,
            "class_size_cap": self.class_size_cap,
            "class_size_cap_is_default": self.class_size_cap_is_default,
            "status": self.status,
            "phone": self.phone,
            "email": self.email,
            "website": self.website,
            "source": self.source,
            "source_ref": self.source_ref,
            "last_verified": None if self.last_verified is None else self.last_verified.isoformat(),
            "enrolment": [
                {"school_year": e.school_year, "grade": e.grade, "pupils": e.pupils}
                for e in self.enrolment
            ],
        }

    @classmethod
    def from_json(cls, values: dict[str, Any]) -> SchoolData:
        """Build a school from the JSON form written by :meth:`to_json`."""
        data = dict(values)
        verified = data.pop("last_verified", None)
        enrolment = tuple(Enrolment(**row) for row in data.pop("enrolment", []))
        return cls(
            **data,
            last_verified=None if verified is None else dt.date.fromisoformat(verified),
            enrolment=enrolment,
        )


@dataclass(frozen=True, slots=True)
class SchoolRecord:
    """A stored school: its data plus the registry's bookkeeping."""

    data: SchoolData
    district_code: str
    version: int
    updated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class WardRecord:
    """A ward or commune with its boundary (EPSG:4326)."""

    code: str
    name: str
    district_code: str
    population: int | None
    population_year: int | None
    source: str
    boundary: BaseGeometry


@dataclass(frozen=True, slots=True)
class DistrictRecord:
    """A district with its boundary (EPSG:4326) and the metric CRS used inside."""

    code: str
    name: str
    province_code: str | None
    province_name: str | None
    metric_epsg: int
    population: int | None
    population_year: int | None
    source: str
    loaded_at: dt.datetime
    boundary: BaseGeometry


@dataclass(frozen=True, slots=True)
class RoadNetworkRecord:
    """An OSM road extract registered for a district."""

    district_code: str
    file_name: str
    sha256: str
    size_bytes: int
    source: str
    registered_at: dt.datetime


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One change of a school: the state before and after (``None`` for none)."""

    school_code: str
    version: int
    action: str
    changed_at: dt.datetime
    changed_by: str
    before: SchoolData | None
    after: SchoolData | None


@dataclass(frozen=True, slots=True)
class DistrictContext:
    """What rows are checked against: the district (EPSG:4326) and the schools stored."""

    boundary: BaseGeometry
    metric_epsg: int
    wards: Mapping[str, BaseGeometry]
    stored_locations: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    class_size_cap: int = DEFAULT_CLASS_SIZE_CAP
