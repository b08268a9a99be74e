"""School lists read from CSV, GeoJSON and GeoPackage files.

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
import datetime as dt
import gzip
import io
import math
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import pandas as pd
from pyproj.exceptions import ProjError

from gis_service.crs import to_wgs84
from gis_service.errors import InvalidInputError
from gis_service.ingest.files import read_vector
from gis_service.registry.validation import RawSchool
from gis_service.text import fold_text, from_spreadsheet_safe

__all__ = [
    "SCHOOL_FIELDS",
    "SchoolFile",
    "file_format_of",
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


def file_format_of(path: Path) -> FileFormat:
    """Return the school-list format of ``path`` from its name (``.csv``, ``.geojson``, ...)."""
    name = path.name.lower()
    for suffix, kind in sorted(_SUFFIXES, key=lambda item: -len(item[0])):
        if name.endswith(suffix):
            return kind
    supported = ", ".join(suffix for suffix, _ in _SUFFIXES)
    msg = f"{path.name}: unsupported school file type; use one of {supported}"
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
        msg = f"{path.name}: no such file"
        raise InvalidInputError(msg) from None
    try:
        if path.name.lower().endswith(".gz"):
            data = gzip.decompress(data)
        return data.decode("utf-8-sig")
    except (OSError, EOFError) as error:
        msg = f"{path.name}: not a readable gzip file ({error})"
        raise InvalidInputError(msg) from None
    except UnicodeDecodeError:
        msg = f"{path.name}: not UTF-8 text; save the sheet as 'CSV UTF-8'"
        raise InvalidInputError(msg) from None


def _read_csv(path: Path) -> pd.DataFrame:
    text = _decode(path)
    header_line = text.split("\n", 1)[0]
    separator = max(_SEPARATORS, key=header_line.count)
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=separator,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,  # keep row numbers in step with the lines
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as error:
        msg = f"{path.name}: not a readable CSV file ({str(error).strip()})"
        raise InvalidInputError(msg) from None
    # a cell the export made safe for spreadsheets ('=...) reads back as it was typed
    return frame.map(lambda cell: from_spreadsheet_safe(cell) if isinstance(cell, str) else cell)


def _read_geometry_file(path: Path) -> tuple[gpd.GeoDataFrame, tuple[str, ...]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = read_vector(path)
    # GeoPackages without a CRS come back with GDAL's "Undefined ... SRS" stand-ins.
    if frame.crs is None or frame.crs.name.lower().startswith("undefined"):
        msg = f"{path.name}: the file does not say its CRS"
        raise InvalidInputError(msg)
    try:
        frame = to_wgs84(frame)
    except (ValueError, ProjError) as error:
        msg = f"{path.name}: its CRS {frame.crs.name!r} cannot be converted to EPSG:4326 ({error})"
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
    kind = file_format_of(path)
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
        msg = f"{path.name}: the file holds no school rows"
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
