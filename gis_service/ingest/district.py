"""Load a district (boundary, wards, schools, road extract) into the registry.

A district is described by a TOML manifest naming its files; the bundled Quận 3 is
``data/hcmc-district3/district.toml``. Loading is idempotent: wards are upserted by code,
schools are matched by their source reference (``osm:way/123``) and a school already in the
registry is kept as the office left it.
"""

from __future__ import annotations

import dataclasses
import math
import re
import shutil
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.orm import Session

from gis_service.crs import WGS84, estimate_metric_crs, to_wgs84
from gis_service.db import repository
from gis_service.errors import InvalidInputError, RowProblem
from gis_service.ingest.files import read_vector, sha256_of
from gis_service.records import DistrictRecord, RoadNetworkRecord
from gis_service.registry.validation import RawSchool, validate_schools
from gis_service.text import fold_text

ROAD_SUFFIXES = (".osm", ".osm.bz2", ".osm.gz", ".osm.pbf", ".xml", ".xml.bz2")

#: Name patterns that reveal a school's level when OSM does not tag it (folded text).
_LEVEL_PATTERNS = (
    ("lien_cap", re.compile(r"\blien cap\b")),
    ("mam_non", re.compile(r"\b(mam non|mau giao|nha tre|kindergarten)\b")),
    ("tieu_hoc", re.compile(r"\b(tieu hoc|primary)\b|^(truong )?th\b")),
    ("thcs", re.compile(r"\b(thcs|ptcs|trung hoc co so)\b")),
    ("thpt", re.compile(r"\b(thpt|ptth|trung hoc pho thong|high school)\b")),
)
_ISCED_LEVELS = {"0": "mam_non", "1": "tieu_hoc", "2": "thcs", "3": "thpt"}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")
    file: str
    source: str | None = None


class _DistrictSection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=16)
    name: str = Field(min_length=1)
    province_code: str | None = None
    province_name: str | None = None
    source: str


class _BoundarySection(_Section):
    population: str | None = None
    population_year: int | None = None


class _WardsSection(_Section):
    code: str
    name: str
    population: str | None = None
    population_year: int | None = None


class _SchoolsSection(_Section):
    format: str = Field(pattern="^(osm|registry)$")


class DistrictManifest(BaseModel):
    """The files of one district and which columns hold what."""

    model_config = ConfigDict(extra="forbid")
    district: _DistrictSection
    boundary: _BoundarySection | None = None
    wards: _WardsSection
    schools: _SchoolsSection | None = None
    roads: _Section | None = None


def read_manifest(path: Path) -> tuple[DistrictManifest, Path]:
    """Read a district manifest; return it and the folder its paths are relative to.

    Raises
    ------
    InvalidInputError
        If the file is missing, not TOML, or lacks a required entry.
    """
    try:
        values = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        msg = f"{path}: no such district manifest"
        raise InvalidInputError(msg) from None
    except tomllib.TOMLDecodeError as error:
        msg = f"{path}: not valid TOML ({error})"
        raise InvalidInputError(msg) from None
    try:
        return DistrictManifest.model_validate(values), path.resolve().parent
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        msg = f"{path}: [{where}] {first['msg']}"
        raise InvalidInputError(msg) from None


def infer_level(name: str, *, amenity: str | None = None, isced: str | None = None) -> str | None:
    """Return the school level from OSM tags, else from the name; ``None`` when unclear.

    Examples
    --------
    >>> infer_level("Trường Tiểu học Trương Quyền")
    'tieu_hoc'
    >>> infer_level("Green Star", amenity="kindergarten")
    'mam_non'
    """
    if isced:
        levels = {_ISCED_LEVELS.get(part.strip()) for part in re.split(r"[;,-]", isced)}
        levels.discard(None)
        if len(levels) == 1:
            return levels.pop()
        if len(levels) > 1:
            return "lien_cap"
    if amenity == "kindergarten":
        return "mam_non"
    folded = fold_text(name)
    for level, pattern in _LEVEL_PATTERNS:
        if pattern.search(folded):
            return level
    return None


@dataclass(frozen=True, slots=True)
class LoadReport:
    """What a district load did."""

    district_code: str
    metric_epsg: int
    wards: int
    schools_added: int
    schools_kept: int
    schools_outside: int
    skipped: tuple[RowProblem, ...] = field(default_factory=tuple)
    road_network: RoadNetworkRecord | None = None


def _cell(row: pd.Series[Any], column: str) -> Any:
    value = row.get(column)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def _population(frame: pd.DataFrame, column: str | None, index: int) -> int | None:
    if column is None:
        return None
    if column not in frame.columns:
        msg = f"population column {column!r} is not in the file"
        raise InvalidInputError(msg)
    value = frame[column].iloc[index]
    return None if pd.isna(value) else round(float(value))


def _osm_school_rows(frame: gpd.GeoDataFrame, source: str) -> list[tuple[RawSchool, bool]]:
    """Turn OSM school features into raw rows; the flag says the level was inferred."""
    rows: list[tuple[RawSchool, bool]] = []
    points = frame.geometry.representative_point()
    for number, (index, row) in enumerate(frame.iterrows(), start=1):
        name = _cell(row, "name:vi") or _cell(row, "name") or _cell(row, "name:en")
        isced = _cell(row, "isced:level")
        amenity = _cell(row, "amenity")
        level = infer_level(str(name or ""), amenity=amenity, isced=isced)
        street = " ".join(
            str(part)
            for part in (_cell(row, "addr:housenumber"), _cell(row, "addr:street"))
            if part
        )
        osm_ref = None
        if _cell(row, "osm_type") and _cell(row, "osm_id"):
            osm_ref = f"osm:{row['osm_type']}/{int(row['osm_id'])}"
        values = {
            "name": name,
            "level": level,
            "address": street or None,
            "source": source,
            "source_ref": osm_ref,
            "operator": _cell(row, "operator"),
        }
        point = points.loc[index]
        rows.append(
            (
                RawSchool(row=number, values=values, geometry=point, has_geometry_column=True),
                isced is None and level is not None,
            )
        )
    return rows


def _registry_rows(path: Path) -> list[tuple[RawSchool, bool]]:
    from gis_service.ingest.schools_file import read_school_rows

    return [(raw, False) for raw in read_school_rows(path)]


def _load_schools(
    session: Session,
    manifest: DistrictManifest,
    base: Path,
    district: DistrictRecord,
    *,
    class_size_cap: int,
    actor: str,
) -> tuple[int, int, int, list[RowProblem]]:
    section = manifest.schools
    if section is None:
        return 0, 0, 0, []
    path = base / section.file
    source = section.source or section.file
    if section.format == "osm":
        frame = to_wgs84(read_vector(path))
        rows = _osm_school_rows(frame, source)
    else:
        rows = _registry_rows(path)
    context = repository.district_context(session, district.code, class_size_cap=class_size_cap)
    inside = [
        (raw, inferred)
        for raw, inferred in rows
        if raw.geometry is None or context.boundary.covers(raw.geometry)
    ]
    inferred_rows = {raw.row for raw, inferred in inside if inferred}
    new_rows = [
        raw
        for raw, _ in inside
        if not raw.values.get("source_ref")
        or repository.find_school_code_by_source(session, str(raw.values["source_ref"])) is None
    ]
    result = validate_schools(new_rows, context)
    for row, data in result.accepted:
        school = dataclasses.replace(data, level_inferred=row in inferred_rows)
        repository.create_school(
            session, school, district_code=district.code, actor=actor, action="load"
        )
    kept = len(inside) - len(new_rows)
    return len(result.accepted), kept, len(rows) - len(inside), list(result.problems)


def _register_roads(
    session: Session, manifest: DistrictManifest, base: Path, code: str, networks_dir: Path
) -> RoadNetworkRecord | None:
    section = manifest.roads
    if section is None:
        return None
    path = base / section.file
    if not path.is_file():
        msg = f"{path}: no such road extract"
        raise InvalidInputError(msg)
    if not path.name.endswith(ROAD_SUFFIXES):
        msg = f"{path}: a road extract must be one of {', '.join(ROAD_SUFFIXES)}"
        raise InvalidInputError(msg)
    digest = sha256_of(path)
    target = networks_dir / code / path.name
    if not target.exists() or sha256_of(target) != digest:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    record = RoadNetworkRecord(
        district_code=code,
        file_name=path.name,
        sha256=digest,
        size_bytes=path.stat().st_size,
        source=section.source or section.file,
        registered_at=repository.now(),
    )
    repository.register_road_network(session, record)
    return record


def load_district(
    session: Session,
    manifest_path: Path,
    *,
    networks_dir: Path,
    class_size_cap: int,
    actor: str = "district-loader",
) -> LoadReport:
    """Load (or reload) a district from its manifest in the caller's transaction.

    Parameters
    ----------
    session
        Open session; the caller commits.
    manifest_path
        The district's TOML manifest.
    networks_dir
        Where registered road extracts are copied (one folder per district code).
    class_size_cap
        Default class-size cap for schools whose cap is not known.
    actor
        Who the history records as the author of added schools.

    Returns
    -------
    LoadReport
        Counts of what was added, kept, skipped (with reasons) and registered.

    Raises
    ------
    InvalidInputError
        If a file is missing or unreadable, or a named column is absent.
    """
    manifest, base = read_manifest(manifest_path)
    wards = _read_wards(manifest, base)
    if manifest.boundary is None:
        boundary = shapely.union_all([ward.boundary for ward in wards])
        population = sum(w.population or 0 for w in wards) or None
        population_year = manifest.wards.population_year
    else:
        boundary_frame = to_wgs84(read_vector(base / manifest.boundary.file))
        if len(boundary_frame) == 0:
            msg = f"{manifest.boundary.file}: the boundary file is empty"
            raise InvalidInputError(msg)
        boundary = boundary_frame.geometry.union_all()
        population = _population(boundary_frame, manifest.boundary.population, 0)
        population_year = manifest.boundary.population_year
    metric_crs = estimate_metric_crs(gpd.GeoSeries([boundary], crs=WGS84))
    epsg = metric_crs.to_epsg()
    if epsg is None:  # pragma: no cover - UTM zones always have EPSG codes
        msg = f"no EPSG code for {metric_crs.to_string()}"
        raise InvalidInputError(msg)
    district = DistrictRecord(
        code=manifest.district.code,
        name=manifest.district.name,
        province_code=manifest.district.province_code,
        province_name=manifest.district.province_name,
        metric_epsg=epsg,
        population=population,
        population_year=population_year,
        source=manifest.district.source,
        loaded_at=repository.now(),
        boundary=boundary,
    )
    repository.save_district(session, district)
    repository.save_wards(session, district.code, wards)
    added, kept, outside, problems = _load_schools(
        session, manifest, base, district, class_size_cap=class_size_cap, actor=actor
    )
    roads = _register_roads(session, manifest, base, district.code, networks_dir)
    return LoadReport(
        district_code=district.code,
        metric_epsg=epsg,
        wards=len(wards),
        schools_added=added,
        schools_kept=kept,
        schools_outside=outside,
        skipped=tuple(problems),
        road_network=roads,
    )


def _read_wards(manifest: DistrictManifest, base: Path) -> list[repository.WardData]:
    section = manifest.wards
    frame = read_vector(base / section.file)
    frame = to_wgs84(frame)
    for column in (section.code, section.name):
        if column not in frame.columns:
            msg = f"{section.file}: column {column!r} is missing"
            raise InvalidInputError(msg)
    if frame[section.code].isna().any() or frame[section.code].duplicated().any():
        msg = f"{section.file}: ward codes in {section.code!r} must be present and unique"
        raise InvalidInputError(msg)
    return [
        repository.WardData(
            code=str(frame[section.code].iloc[i]),
            name=str(frame[section.name].iloc[i]),
            boundary=frame.geometry.iloc[i],
            population=_population(frame, section.population, i),
            population_year=section.population_year,
            source=section.source or section.file,
        )
        for i in range(len(frame))
    ]
