"""Boundary models of the API: GeoJSON features in EPSG:4326 (lon, lat) and inputs."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from gis_service.geojson import COORDINATE_DECIMALS
from gis_service.records import (
    LEVEL_NAMES,
    OWNERSHIP_NAMES,
    STATUS_NAMES,
    DistrictRecord,
    HistoryEntry,
    SchoolData,
    SchoolRecord,
    WardRecord,
)


class PointGeometry(BaseModel):
    """A GeoJSON Point in EPSG:4326, ``[lon, lat]``."""

    type: Literal["Point"] = "Point"
    coordinates: tuple[float, float]


class EnrolmentModel(BaseModel):
    """Pupils in one grade in the school year starting in ``school_year``."""

    school_year: int = Field(ge=1900, le=2200)
    grade: int = Field(ge=1, le=12)
    pupils: int = Field(ge=0, le=100_000)


class SchoolProperties(BaseModel):
    """What the registry says about a school; ``*_name`` fields are Vietnamese labels."""

    code: str
    name: str
    level: str | None
    level_name: str | None
    level_inferred: bool
    ownership: str | None
    ownership_name: str | None
    address: str | None
    ward_code: str | None
    first_grade_classes: int | None
    class_size_cap: int
    class_size_cap_is_default: bool
    first_grade_seats: int | None = Field(description="classes x class-size cap; null if unknown")
    status: str
    status_name: str
    phone: str | None
    email: str | None
    website: str | None
    source: str
    source_ref: str | None
    last_verified: dt.date | None
    enrolment: list[EnrolmentModel]


class SchoolFeature(BaseModel):
    """A school as a GeoJSON Feature."""

    type: Literal["Feature"] = "Feature"
    id: str
    geometry: PointGeometry
    properties: SchoolProperties
    version: int | None = None
    updated_at: dt.datetime | None = None


class SchoolCollection(BaseModel):
    """A page of schools as a GeoJSON FeatureCollection."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[SchoolFeature]
    number_matched: int = Field(serialization_alias="numberMatched")
    number_returned: int = Field(serialization_alias="numberReturned")


def school_properties(data: SchoolData) -> SchoolProperties:
    """Return the API view of a school's data."""
    return SchoolProperties(
        code=data.code,
        name=data.name,
        level=data.level,
        level_name=LEVEL_NAMES.get(data.level) if data.level else None,
        level_inferred=data.level_inferred,
        ownership=data.ownership,
        ownership_name=OWNERSHIP_NAMES.get(data.ownership) if data.ownership else None,
        address=data.address,
        ward_code=data.ward_code,
        first_grade_classes=data.first_grade_classes,
        class_size_cap=data.class_size_cap,
        class_size_cap_is_default=data.class_size_cap_is_default,
        first_grade_seats=data.first_grade_seats,
        status=data.status,
        status_name=STATUS_NAMES[data.status],
        phone=data.phone,
        email=data.email,
        website=data.website,
        source=data.source,
        source_ref=data.source_ref,
        last_verified=data.last_verified,
        enrolment=[EnrolmentModel(**vars_of(e)) for e in data.enrolment],
    )


def vars_of(value: Any) -> dict[str, Any]:
    """Return the fields of a slotted dataclass as a dict."""
    return {name: getattr(value, name) for name in value.__dataclass_fields__}


def school_feature(data: SchoolData, record: SchoolRecord | None = None) -> SchoolFeature:
    """Return a school as a GeoJSON Feature (with bookkeeping when ``record`` is given)."""
    return SchoolFeature(
        id=data.code,
        geometry=PointGeometry(
            coordinates=(round(data.lon, COORDINATE_DECIMALS), round(data.lat, COORDINATE_DECIMALS))
        ),
        properties=school_properties(data),
        version=None if record is None else record.version,
        updated_at=None if record is None else record.updated_at,
    )


class _SchoolFields(BaseModel):
    """Optional fields of a school.

    ``level``, ``ownership`` and ``status`` accept codes (``tieu_hoc``) or Vietnamese names
    (``Tiểu học``), with or without diacritics.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    level: str | None = Field(default=None, max_length=50)
    ownership: str | None = Field(default=None, max_length=50)
    address: str | None = Field(default=None, max_length=500)
    ward_code: str | None = Field(default=None, max_length=16)
    first_grade_classes: int | None = None
    class_size_cap: int | None = None
    status: str | None = Field(default=None, max_length=50)
    phone: str | None = Field(default=None, max_length=64)
    email: str | None = Field(default=None, max_length=200)
    website: str | None = Field(default=None, max_length=300)
    source: str | None = Field(default=None, max_length=500)
    last_verified: dt.date | None = None


class SchoolCreate(_SchoolFields):
    """A new school. ``lon``/``lat`` are EPSG:4326 degrees; a blank code gets the next free one."""

    code: str | None = Field(default=None, max_length=32, pattern=r"^[0-9A-Za-z_.-]+$")
    name: str = Field(min_length=1, max_length=300)
    lon: float
    lat: float
    enrolment: list[EnrolmentModel] = Field(default_factory=list, max_length=500)


class SchoolUpdate(_SchoolFields):
    """Changes to a school: only the fields sent are changed (``null`` clears a field)."""

    name: str | None = Field(default=None, min_length=1, max_length=300)
    lon: float | None = None
    lat: float | None = None
    enrolment: list[EnrolmentModel] | None = Field(default=None, max_length=500)


class HistoryModel(BaseModel):
    """One change of a school."""

    version: int
    action: str
    changed_at: dt.datetime
    changed_by: str
    before: SchoolProperties | None
    after: SchoolProperties | None
    before_geometry: PointGeometry | None
    after_geometry: PointGeometry | None


def history_model(entry: HistoryEntry) -> HistoryModel:
    """Return the API view of one history entry."""

    def point(data: SchoolData | None) -> PointGeometry | None:
        return None if data is None else school_feature(data).geometry

    return HistoryModel(
        version=entry.version,
        action=entry.action,
        changed_at=entry.changed_at,
        changed_by=entry.changed_by,
        before=None if entry.before is None else school_properties(entry.before),
        after=None if entry.after is None else school_properties(entry.after),
        before_geometry=point(entry.before),
        after_geometry=point(entry.after),
    )


def geometry_json(geometry: BaseGeometry) -> dict[str, Any]:
    """Return a shapely geometry as a GeoJSON geometry object."""
    return dict(mapping(geometry))


def ward_feature(ward: WardRecord) -> dict[str, Any]:
    """Return a ward as a GeoJSON Feature."""
    return {
        "type": "Feature",
        "id": ward.code,
        "geometry": geometry_json(ward.boundary),
        "properties": {
            "code": ward.code,
            "name": ward.name,
            "district_code": ward.district_code,
            "population": ward.population,
            "population_year": ward.population_year,
            "source": ward.source,
        },
    }


def district_feature(district: DistrictRecord) -> dict[str, Any]:
    """Return a district as a GeoJSON Feature."""
    return {
        "type": "Feature",
        "id": district.code,
        "geometry": geometry_json(district.boundary),
        "properties": {
            "code": district.code,
            "name": district.name,
            "province_code": district.province_code,
            "province_name": district.province_name,
            "metric_crs": f"EPSG:{district.metric_epsg}",
            "population": district.population,
            "population_year": district.population_year,
            "source": district.source,
            "loaded_at": district.loaded_at.isoformat(),
        },
    }
