"""School lists out of the registry: CSV, GeoJSON and GeoPackage files that import back as is."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely import Point
from sqlalchemy.orm import Session

from gis_service.crs import WGS84
from gis_service.db import repository
from gis_service.ingest.schools_file import SCHOOL_FIELDS, file_format_of
from gis_service.records import SchoolData
from gis_service.text import spreadsheet_safe


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


def _csv_cell(value: str | int | None) -> str | int:
    """Return a registry value as a CSV cell: text made safe for spreadsheets."""
    if value is None:
        return ""
    return spreadsheet_safe(value) if isinstance(value, str) else value


def _write_csv(path: Path, schools: Sequence[SchoolData]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(SCHOOL_FIELDS)
    for school in schools:
        values = {name: _csv_cell(value) for name, value in _export_values(school).items()}
        # coordinates are numbers the service writes, never text: written as they are
        values["lon"] = repr(school.lon)
        values["lat"] = repr(school.lat)
        writer.writerow([values[f] for f in SCHOOL_FIELDS])
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
    kind = file_format_of(path)
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


__all__ = ["export_schools"]
