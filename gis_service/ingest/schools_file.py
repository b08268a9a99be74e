"""School lists in and out of the registry: CSV, GeoJSON and GeoPackage files.

Reading maps each column header to a canonical field name (English, or Vietnamese with or
without diacritics, in any case) and keeps every cell as text, so that validation reports what
the user wrote. Importing validates the whole file against the district first and writes only
when every row passes: a file with one bad row changes nothing. Exporting writes every school of
a district in a form that imports back without a change.

Row numbers are 1-based data rows: the header is not counted, so row ``N`` of a CSV file is
line ``N + 1`` of the spreadsheet (when no cell spans several lines), and row ``N`` of a
GeoJSON or GeoPackage file is its ``N``-th feature.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import gzip
import io
import json
import math
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import pandas as pd
from pyproj import CRS
from pyproj.exceptions import ProjError
from shapely import Point
from sqlalchemy.orm import Session

from gis_service.crs import WGS84, to_metric, to_wgs84
from gis_service.db import repository
from gis_service.errors import InvalidInputError, NotFoundError, RowProblem
from gis_service.ingest.files import read_vector
from gis_service.records import SchoolData
from gis_service.registry.validation import RawSchool, validate_schools
from gis_service.text import fold_text

__all__ = [
    "SCHOOL_FIELDS",
    "ImportReport",
    "SchoolFile",
    "export_schools",
    "import_schools",
    "map_headers",
    "read_school_file",
    "read_school_rows",
]

#: The canonical fields of a school row, in the order exports write them.
SCHOOL_FIELDS = (
    "code",
    "name",
    "lon",
    "lat",
    "level",
    "ownership",
    "address",
    "ward_code",
    "first_grade_classes",
    "class_size_cap",
    "status",
    "phone",
    "email",
    "website",
    "source",
    "source_ref",
    "last_verified",
)

#: An imported position closer than this to the stored one is taken as unchanged (float noise
#: from spreadsheets that keep 15 significant digits, or from reprojection).
SAME_POSITION_M = 0.01

#: School codes the store and the API accept (as in ``SchoolCreate``).
_CODE_PATTERN = re.compile(r"[0-9A-Za-z_.-]{1,32}")

#: Header spellings of each field, as header keys (see ``_header_key``).
_HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "code": ("code", "school code", "school id", "ma", "ma truong", "ma so truong"),
    "name": ("name", "school name", "ten", "ten truong"),
    "lon": ("lon", "lng", "long", "longitude", "x", "kinh do"),
    "lat": ("lat", "latitude", "y", "vi do"),
    "level": ("level", "school level", "cap hoc"),
    "ownership": ("ownership", "loai hinh", "loai hinh truong"),
    "address": ("address", "dia chi"),
    "ward_code": (
        "ward code",
        "ward",
        "ma phuong",
        "ma phuong xa",
        "ma xa",
        "phuong",
        "phuong xa",
        "xa phuong",
    ),
    "first_grade_classes": (
        "first grade classes",
        "grade 1 classes",
        "so lop 1",
        "so lop lop 1",
    ),
    "class_size_cap": ("class size cap", "class size", "si so toi da", "si so lop", "si so"),
    "status": ("status", "trang thai"),
    "phone": ("phone", "telephone", "tel", "dien thoai", "so dien thoai"),
    "email": ("email", "e mail", "thu dien tu"),
    "website": ("website", "web", "trang web"),
    "source": ("source", "nguon", "nguon du lieu"),
    "source_ref": ("source ref", "source reference", "ma nguon"),
    "last_verified": ("last verified", "verified", "ngay xac minh", "xac minh"),
}

FileFormat = Literal["csv", "geojson", "gpkg"]

_SUFFIXES: tuple[tuple[str, FileFormat], ...] = (
    (".csv", "csv"),
    (".csv.gz", "csv"),
    (".geojson", "geojson"),
    (".geojson.gz", "geojson"),
    (".json", "geojson"),
    (".json.gz", "geojson"),
    (".gpkg", "gpkg"),
)
_SEPARATORS = (",", ";", "\t")
_UNNAMED = re.compile(r"^Unnamed: \d+$")


def _header_key(header: str) -> str:
    return re.sub(r"[^0-9a-z]+", " ", fold_text(header)).strip()


_FIELD_OF_KEY = {
    _header_key(alias): name
    for name, aliases in _HEADER_ALIASES.items()
    for alias in (name, *aliases)
}


def map_headers(headers: Iterable[str]) -> tuple[dict[str, str], tuple[str, ...]]:
    """Map column headers to canonical field names.

    Headers are compared with Vietnamese diacritics removed, in any case, with runs of
    punctuation and spaces taken as one space: ``Mã trường``, ``MA TRUONG`` and ``ma_truong``
    all mean ``code``.

    Parameters
    ----------
    headers
        The file's column headers, in file order.

    Returns
    -------
    tuple
        Header -> field name for the known headers, and the unknown headers in file order.

    Raises
    ------
    InvalidInputError
        If two headers mean the same field.
    """
    known: dict[str, str] = {}
    unknown: list[str] = []
    header_of_field: dict[str, str] = {}
    for header in headers:
        name = _FIELD_OF_KEY.get(_header_key(header))
        if name is None:
            unknown.append(header)
            continue
        if name in header_of_field:
            msg = f"columns {header_of_field[name]!r} and {header!r} both mean {name}"
            raise InvalidInputError(msg)
        header_of_field[name] = header
        known[header] = name
    return known, tuple(unknown)


def _format_of(path: Path) -> FileFormat:
    name = path.name.lower()
    for suffix, kind in sorted(_SUFFIXES, key=lambda item: -len(item[0])):
        if name.endswith(suffix):
            return kind
    supported = ", ".join(suffix for suffix, _ in _SUFFIXES)
    msg = f"{path}: unsupported school file type; use one of {supported}"
    raise InvalidInputError(msg)


def _cell_text(value: Any) -> str | None:
    """Return a cell as the text the user wrote; ``None`` for an empty cell."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if pd.isna(value):
        return None
    text = str(value)
    if isinstance(value, dt.datetime):  # pd.Timestamp included: GDAL reads dates as such
        midnight = value.time() == dt.time(0, 0) and value.tzinfo is None
        text = value.date().isoformat() if midnight else value.isoformat()
    elif isinstance(value, dt.date):
        text = value.isoformat()
    elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
        text = str(int(value))  # GDAL reads integer columns with gaps as floats
    return text


@dataclass(frozen=True, slots=True)
class SchoolFile:
    """The rows of a school file and what the reader noticed.

    Attributes
    ----------
    rows
        One raw row per non-empty data row, with canonical field names and text values;
        geometry files carry their geometry in EPSG:4326.
    columns
        The canonical fields the file has a column for.
    unknown_columns
        Headers that mean no field; their cells are ignored.
    warnings
        What the file reader warned about (e.g. a feature GDAL could not read).
    """

    rows: tuple[RawSchool, ...]
    columns: frozenset[str]
    unknown_columns: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def _decode(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        msg = f"{path}: no such file"
        raise InvalidInputError(msg) from None
    try:
        if path.name.lower().endswith(".gz"):
            data = gzip.decompress(data)
        return data.decode("utf-8-sig")
    except (OSError, EOFError) as error:
        msg = f"{path}: not a readable gzip file ({error})"
        raise InvalidInputError(msg) from None
    except UnicodeDecodeError:
        msg = f"{path}: not UTF-8 text; save the sheet as 'CSV UTF-8'"
        raise InvalidInputError(msg) from None


def _read_csv(path: Path) -> pd.DataFrame:
    text = _decode(path)
    header_line = text.split("\n", 1)[0]
    separator = max(_SEPARATORS, key=header_line.count)
    try:
        return pd.read_csv(
            io.StringIO(text),
            sep=separator,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,  # keep row numbers in step with the lines
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as error:
        msg = f"{path}: not a readable CSV file ({str(error).strip()})"
        raise InvalidInputError(msg) from None


def _read_geometry_file(path: Path) -> tuple[gpd.GeoDataFrame, tuple[str, ...]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = read_vector(path)
    # GeoPackages without a CRS come back with GDAL's "Undefined ... SRS" stand-ins.
    if frame.crs is None or frame.crs.name.lower().startswith("undefined"):
        msg = f"{path}: the file does not say its CRS"
        raise InvalidInputError(msg)
    try:
        frame = to_wgs84(frame)
    except (ValueError, ProjError) as error:
        msg = f"{path}: its CRS {frame.crs.name!r} cannot be converted to EPSG:4326 ({error})"
        raise InvalidInputError(msg) from None
    return frame, tuple(dict.fromkeys(str(w.message) for w in caught))


def _is_empty_unnamed(frame: pd.DataFrame, column: Any) -> bool:
    """Say whether a column is pandas' stand-in for a blank header over empty cells."""
    if not _UNNAMED.match(str(column)):
        return False
    return all(not (_cell_text(v) or "").strip() for v in frame[column])


def _is_blank(values: Mapping[str, str | None]) -> bool:
    return all(value is None or not value.strip() for value in values.values())


def read_school_file(path: Path) -> SchoolFile:
    """Read a school list: CSV, GeoJSON (``.geojson``/``.json``, or gzipped) or GeoPackage.

    CSV files are UTF-8 (with or without a byte-order mark) separated by commas, semicolons
    or tabs, with ``lon``/``lat`` columns in EPSG:4326 degrees; CSV rows whose cells are all
    empty are skipped (their numbers are not reused). GeoJSON and GeoPackage files carry a
    geometry per row, reprojected to EPSG:4326.

    Parameters
    ----------
    path
        The file; its type is chosen by its suffix.

    Returns
    -------
    SchoolFile
        The rows (numbered from 1, header not counted), the fields present, the unknown
        columns and the reader's warnings.

    Raises
    ------
    InvalidInputError
        If the file is missing, of an unsupported type, unreadable, without rows, without a
        CRS (GeoPackage), or has two columns for one field.
    """
    kind = _format_of(path)
    reader_warnings: tuple[str, ...] = ()
    geometries: list[Any] | None = None
    if kind == "csv":
        frame: pd.DataFrame = _read_csv(path)
    else:
        geo_frame, reader_warnings = _read_geometry_file(path)
        geometries = list(geo_frame.geometry)
        frame = pd.DataFrame(geo_frame.drop(columns=geo_frame.geometry.name))
    headers = [str(column) for column in frame.columns if not _is_empty_unnamed(frame, column)]
    known, unknown = map_headers(headers)
    rows: list[RawSchool] = []
    records = frame.to_dict(orient="records")
    for index, record in enumerate(records):
        values = {known[h]: _cell_text(record[h]) for h in headers if h in known}
        geometry = None if geometries is None else geometries[index]
        if geometries is None and _is_blank(values):
            continue
        rows.append(
            RawSchool(
                row=index + 1,
                values=values,
                geometry=geometry,
                has_geometry_column=geometries is not None,
            )
        )
    if not rows:
        msg = f"{path}: the file holds no school rows"
        raise InvalidInputError(msg)
    return SchoolFile(
        rows=tuple(rows),
        columns=frozenset(known.values()),
        unknown_columns=unknown,
        warnings=reader_warnings,
    )


def read_school_rows(path: Path) -> list[RawSchool]:
    """Read the rows of a school file for validation (see :func:`read_school_file`).

    Raises
    ------
    InvalidInputError
        If the file cannot be read as a school list.
    """
    return list(read_school_file(path).rows)


# --- import -------------------------------------------------------------------------------


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


# --- export -------------------------------------------------------------------------------


def _export_values(school: SchoolData) -> dict[str, str | int | None]:
    """Return a school's exported cells; a default class-size cap is left blank."""
    return {
        "code": school.code,
        "name": school.name,
        "level": school.level,
        "ownership": school.ownership,
        "address": school.address,
        "ward_code": school.ward_code,
        "first_grade_classes": school.first_grade_classes,
        "class_size_cap": None if school.class_size_cap_is_default else school.class_size_cap,
        "status": school.status,
        "phone": school.phone,
        "email": school.email,
        "website": school.website,
        "source": school.source,
        "source_ref": school.source_ref,
        "last_verified": None if school.last_verified is None else school.last_verified.isoformat(),
    }


def _write_csv(path: Path, schools: Sequence[SchoolData]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(SCHOOL_FIELDS)
    for school in schools:
        values = _export_values(school)
        values["lon"] = repr(school.lon)
        values["lat"] = repr(school.lat)
        writer.writerow(["" if values[f] is None else values[f] for f in SCHOOL_FIELDS])
    # The byte-order mark makes Excel read the file as UTF-8 (Vietnamese diacritics).
    data = buffer.getvalue().encode("utf-8-sig")
    if path.name.lower().endswith(".gz"):
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)


def _write_geojson(path: Path, schools: Sequence[SchoolData]) -> None:
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [school.lon, school.lat]},
            "properties": _export_values(school),
        }
        for school in schools
    ]
    collection = {"type": "FeatureCollection", "features": features}
    data = json.dumps(collection, ensure_ascii=False, indent=1).encode("utf-8")
    if path.name.lower().endswith(".gz"):
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)


def _write_gpkg(path: Path, schools: Sequence[SchoolData]) -> None:
    columns = [f for f in SCHOOL_FIELDS if f not in {"lon", "lat"}]
    rows = [_export_values(school) for school in schools]
    frame = pd.DataFrame({name: [row[name] for row in rows] for name in columns})
    for name in ("first_grade_classes", "class_size_cap"):
        frame[name] = frame[name].astype("Int64")
    geometry = gpd.GeoSeries([Point(s.lon, s.lat) for s in schools], crs=WGS84)
    path.unlink(missing_ok=True)
    gpd.GeoDataFrame(frame, geometry=geometry).to_file(path, layer="schools", driver="GPKG")


def export_schools(session: Session, path: Path, *, district_code: str) -> int:
    """Write every school of a district (all statuses) to a file, by code.

    The type follows the suffix: CSV (``.csv``; UTF-8 with a byte-order mark so that Excel
    shows Vietnamese; ``lon``/``lat`` columns in EPSG:4326 degrees), GeoJSON (``.geojson``,
    ``.json``, optionally ``.gz``; EPSG:4326) or GeoPackage (``.gpkg``, layer ``schools``,
    EPSG:4326). Headers are the canonical English field names; a class-size cap that is the
    default is left blank. An existing file is replaced. Importing the export into the same
    registry changes nothing.

    Parameters
    ----------
    session
        Open session.
    path
        The file to write.
    district_code
        The district whose schools are written.

    Returns
    -------
    int
        The number of schools written.

    Raises
    ------
    InvalidInputError
        If the suffix is not a supported type.
    NotFoundError
        If the district is not in the registry.
    """
    kind = _format_of(path)
    repository.get_district(session, district_code)
    records, _ = repository.list_schools(
        session, repository.SchoolFilter(district_code=district_code)
    )
    schools = sorted((record.data for record in records), key=lambda s: s.code)
    if kind == "csv":
        _write_csv(path, schools)
    elif kind == "geojson":
        _write_geojson(path, schools)
    else:
        _write_gpkg(path, schools)
    return len(schools)
