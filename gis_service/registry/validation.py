"""Validation of school rows against a district, shared by imports and API writes.

A batch is checked as a whole: each row on its own (name, coordinates, level, capacity...),
then the rows against each other and against the schools already stored (duplicate codes,
two schools within a few metres). Nothing here touches the store.
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
from pyproj import CRS, Transformer
from scipy.spatial import cKDTree
from shapely import Point, prepared
from shapely.geometry.base import BaseGeometry

from gis_service.errors import InvalidInputError, RowProblem
from gis_service.records import DistrictContext, SchoolData
from gis_service.settings import MAX_CLASS_SIZE_CAP, MAX_FIRST_GRADE_CLASSES
from gis_service.text import fold_text, normalize_text

#: Two schools closer than this are taken to be the same school entered twice.
DUPLICATE_LOCATION_M = 5.0
#: A school this close outside the district boundary still counts as inside it.
DISTRICT_EDGE_TOLERANCE_M = 100.0

_LEVEL_WORDS = {
    "mam_non": ("mam non", "mau giao", "mn", "nha tre", "kindergarten", "preschool"),
    "tieu_hoc": ("tieu hoc", "th", "primary", "primary school"),
    "thcs": ("thcs", "trung hoc co so", "lower secondary", "ptcs"),
    "thpt": ("thpt", "trung hoc pho thong", "upper secondary", "ptth"),
    "lien_cap": ("lien cap", "multi-level", "multilevel"),
}
_OWNERSHIP_WORDS = {
    "cong_lap": ("cong lap", "public"),
    "tu_thuc": ("tu thuc", "ngoai cong lap", "dan lap", "private"),
}
_STATUS_WORDS = {
    "open": ("dang hoat dong", "hoat dong", "mo"),
    "planned": ("du kien", "quy hoach", "planned"),
    "closed": ("dong cua", "da dong cua", "closed"),
}


def _vocabulary(words: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    table = {code: code for code in words}
    for code, names in words.items():
        table.update(dict.fromkeys(names, code))
    return table


LEVELS = _vocabulary(_LEVEL_WORDS)
OWNERSHIPS = _vocabulary(_OWNERSHIP_WORDS)
STATUSES = _vocabulary(_STATUS_WORDS)


def choice_code(value: str | None, vocabulary: Mapping[str, str], *, field: str) -> str | None:
    """Return the code a user's word stands for (``"Tiểu học"`` -> ``"tieu_hoc"``).

    Raises
    ------
    InvalidInputError
        If ``value`` is not a word of ``vocabulary``; ``field`` names it in the message.
    """
    if value is None:
        return None
    code = vocabulary.get(fold_text(value))
    if code is None:
        msg = f"{field} {value!r} is not one of {sorted(set(vocabulary.values()))}"
        raise InvalidInputError(msg)
    return code


@dataclass(frozen=True, slots=True)
class RawSchool:
    """One input row before validation: field name -> raw value (text, number or None).

    ``geometry`` is the row's geometry when the source file has one (GeoJSON, GeoPackage);
    otherwise ``lon``/``lat`` are read from ``values``.
    """

    row: int
    values: Mapping[str, Any]
    geometry: BaseGeometry | None = None
    has_geometry_column: bool = False


@dataclass(frozen=True, slots=True)
class ValidationResult:
    """Rows that passed (with their input row numbers) and the problems of those that did not."""

    accepted: tuple[tuple[int, SchoolData], ...]
    problems: tuple[RowProblem, ...]

    @property
    def rejected_rows(self) -> list[int]:
        """Sorted row numbers with at least one problem."""
        return sorted({problem.row for problem in self.problems})


class _RowChecker:
    """Collects the problems of one row while its values are parsed."""

    def __init__(self, raw: RawSchool) -> None:
        self.raw = raw
        self.problems: list[RowProblem] = []

    def fail(self, column: str, reason: str, detail: str) -> None:
        self.problems.append(RowProblem(self.raw.row, column, reason, detail))

    def text(self, name: str) -> str | None:
        value = self.raw.values.get(name)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return None
        cleaned = normalize_text(str(value))
        return cleaned or None

    def number(self, name: str) -> float | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            number = float(value.replace(",", "."))
        except ValueError:
            self.fail(name, "invalid_number", f"{name} is not a number: {value!r}")
            return None
        if not math.isfinite(number):
            self.fail(name, "invalid_number", f"{name} is not a finite number: {value!r}")
            return None
        return number

    def integer(self, name: str) -> int | None:
        number = self.number(name)
        if number is None:
            return None
        if not number.is_integer():
            self.fail(name, "invalid_number", f"{name} must be a whole number, got {number}")
            return None
        return int(number)

    def choice(self, name: str, vocabulary: Mapping[str, str], reason: str) -> str | None:
        value = self.text(name)
        if value is None:
            return None
        code = vocabulary.get(fold_text(value))
        if code is None:
            allowed = ", ".join(sorted(set(vocabulary.values())))
            self.fail(name, reason, f"{name} {value!r} is not one of: {allowed}")
        return code

    def date(self, name: str) -> dt.date | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            self.fail(name, "invalid_date", f"{name} must be a date YYYY-MM-DD, got {value!r}")
            return None


class _Locator:
    """Point-in-district and point-in-ward tests, with metric tolerance."""

    def __init__(self, context: DistrictContext) -> None:
        self.context = context
        self.to_metric = Transformer.from_crs(
            CRS.from_epsg(4326), CRS.from_epsg(context.metric_epsg), always_xy=True
        )
        boundary_m = _transform(context.boundary, self.to_metric)
        self.district = prepared.prep(boundary_m.buffer(DISTRICT_EDGE_TOLERANCE_M))
        self.wards = {code: prepared.prep(geom) for code, geom in context.wards.items()}

    def metric_xy(self, lon: float, lat: float) -> tuple[float, float]:
        x, y = self.to_metric.transform(lon, lat)
        return float(x), float(y)

    def in_district(self, lon: float, lat: float) -> bool:
        return bool(self.district.contains(Point(self.metric_xy(lon, lat))))

    def ward_of(self, lon: float, lat: float) -> str | None:
        point = Point(lon, lat)
        for code, ward in self.wards.items():
            if ward.covers(point):
                return code
        return None


def _transform(geometry: BaseGeometry, transformer: Transformer) -> BaseGeometry:
    def project(xy: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    transformed: BaseGeometry = shapely.transform(geometry, project)
    return transformed


def _raw_position(check: _RowChecker) -> tuple[float, float] | None:
    """Read the row's position from its geometry or from its lon/lat columns."""
    raw = check.raw
    if not raw.has_geometry_column:
        lon, lat = check.number("lon"), check.number("lat")
        if lon is None or lat is None:
            if not any(p.column in {"lon", "lat"} for p in check.problems):
                column = "lon" if lon is None else "lat"
                check.fail(column, "missing_coordinates", "both lat and lon are needed")
            return None
        return lon, lat
    geometry = raw.geometry
    if geometry is None or geometry.is_empty:
        check.fail("geometry", "invalid_geometry", "the row has no geometry")
        return None
    if not isinstance(geometry, Point) or not geometry.is_valid:
        check.fail("geometry", "invalid_geometry", f"a school is a point, got {geometry.geom_type}")
        return None
    lon, lat = float(geometry.x), float(geometry.y)
    if not (math.isfinite(lon) and math.isfinite(lat)):
        check.fail("geometry", "invalid_geometry", "the point has non-finite coordinates")
        return None
    return lon, lat


def _coordinates(check: _RowChecker, locator: _Locator) -> tuple[float, float] | None:
    position = _raw_position(check)
    if position is None:
        return None
    lon, lat = position
    column = "geometry" if check.raw.has_geometry_column else "lat"
    if -180 <= lon <= 180 and -90 <= lat <= 90 and locator.in_district(lon, lat):
        return lon, lat
    if -180 <= lat <= 180 and -90 <= lon <= 90 and locator.in_district(lat, lon):
        check.fail(column, "latlon_swapped", f"lat and lon look swapped (lat={lat}, lon={lon})")
    elif -180 <= lon <= 180 and -90 <= lat <= 90:
        check.fail(column, "outside_district", f"(lon={lon}, lat={lat}) lies outside the district")
    else:
        check.fail(column, "invalid_geometry", f"({lon}, {lat}) is not a lon/lat position")
    return None


def _validate_row(raw: RawSchool, locator: _Locator) -> tuple[SchoolData | None, list[RowProblem]]:
    check = _RowChecker(raw)
    code = check.text("code") or ""
    name = check.text("name")
    if name is None:
        check.fail("name", "missing_name", "every school needs a name")
    position = _coordinates(check, locator)
    level = check.choice("level", LEVELS, "unknown_level")
    ownership = check.choice("ownership", OWNERSHIPS, "unknown_ownership")
    status = check.choice("status", STATUSES, "unknown_status") or "open"
    classes = check.integer("first_grade_classes")
    if classes is not None and classes < 0:
        check.fail("first_grade_classes", "negative_capacity", f"classes cannot be {classes}")
    elif classes is not None and classes > MAX_FIRST_GRADE_CLASSES:
        detail = f"classes cannot be more than {MAX_FIRST_GRADE_CLASSES}, got {classes}"
        check.fail("first_grade_classes", "capacity_too_large", detail)
    cap = check.integer("class_size_cap")
    if cap is not None and cap <= 0:
        check.fail("class_size_cap", "negative_capacity", f"class-size cap cannot be {cap}")
    elif cap is not None and cap > MAX_CLASS_SIZE_CAP:
        detail = f"class-size cap cannot be more than {MAX_CLASS_SIZE_CAP}, got {cap}"
        check.fail("class_size_cap", "capacity_too_large", detail)
    ward_code = check.text("ward_code")
    if ward_code is not None and ward_code not in locator.wards:
        check.fail("ward_code", "unknown_ward", f"ward {ward_code!r} is not in the district")
    last_verified = check.date("last_verified")
    if check.problems or name is None or position is None:
        return None, check.problems
    lon, lat = position
    data = SchoolData(
        code=code,
        name=name,
        lon=lon,
        lat=lat,
        level=level,
        ownership=ownership,
        address=check.text("address"),
        ward_code=ward_code or locator.ward_of(lon, lat),
        first_grade_classes=classes,
        class_size_cap=cap if cap is not None else locator.context.class_size_cap,
        class_size_cap_is_default=cap is None,
        status=status,
        phone=check.text("phone"),
        email=check.text("email"),
        website=check.text("website"),
        source=check.text("source") or "registry",
        source_ref=check.text("source_ref"),
        last_verified=last_verified,
    )
    return data, check.problems


def _duplicates(rows: Sequence[tuple[int, SchoolData]], locator: _Locator) -> list[RowProblem]:
    problems: list[RowProblem] = []
    first_row_of_code: dict[str, int] = {}
    for row, school in rows:
        if not school.code:
            continue
        if school.code in first_row_of_code:
            problems.append(
                RowProblem(
                    row,
                    "code",
                    "duplicate_code",
                    f"code {school.code} is already used in row {first_row_of_code[school.code]}",
                )
            )
        else:
            first_row_of_code[school.code] = row
    if not rows:
        return problems
    # Each incoming row against the other rows and against stored schools of other codes.
    incoming_codes = {school.code for _, school in rows if school.code}
    stored = [
        (code, xy)
        for code, xy in locator.context.stored_locations.items()
        if code not in incoming_codes
    ]
    labels = [f"row {row}" for row, _ in rows] + [f"stored school {code}" for code, _ in stored]
    codes = [school.code for _, school in rows] + [code for code, _ in stored]
    points = np.array(
        [locator.metric_xy(school.lon, school.lat) for _, school in rows]
        + [locator.metric_xy(*xy) for _, xy in stored]
    )
    tree = cKDTree(points)
    for i, j in sorted(tree.query_pairs(DUPLICATE_LOCATION_M)):
        if i >= len(rows) or (codes[i] and codes[i] == codes[j]):
            continue
        distance = float(np.hypot(*(points[i] - points[j])))
        row, other = (rows[j][0], labels[i]) if j < len(rows) else (rows[i][0], labels[j])
        problems.append(
            RowProblem(
                row,
                "geometry",
                "duplicate_location",
                f"{distance:.1f} m from {other} (closer than {DUPLICATE_LOCATION_M:g} m)",
            )
        )
    return problems


def validate_schools(rows: Sequence[RawSchool], context: DistrictContext) -> ValidationResult:
    """Check a batch of school rows against a district and the schools already stored.

    Parameters
    ----------
    rows
        The rows, with canonical field names (``code``, ``name``, ``lon``, ``lat``, ``level``,
        ``ownership``, ``address``, ``ward_code``, ``first_grade_classes``,
        ``class_size_cap``, ``status``, ``phone``, ``email``, ``website``, ``source``,
        ``source_ref``, ``last_verified``).
    context
        The district, its wards and the stored schools' positions (EPSG:4326).

    Returns
    -------
    ValidationResult
        Parsed schools of the rows without problems, and every problem found.
    """
    locator = _Locator(context)
    parsed: list[tuple[int, SchoolData]] = []
    problems: list[RowProblem] = []
    for raw in rows:
        data, row_problems = _validate_row(raw, locator)
        problems.extend(row_problems)
        if data is not None:
            parsed.append((raw.row, data))
    problems.extend(_duplicates(parsed, locator))
    bad_rows = {problem.row for problem in problems}
    accepted = tuple((row, data) for row, data in parsed if row not in bad_rows)
    ordered = tuple(sorted(problems, key=lambda p: (p.row, p.column, p.reason)))
    return ValidationResult(accepted=accepted, problems=ordered)
