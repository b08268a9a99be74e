"""Boundary types shared by the routes: GeoJSON in EPSG:4326 (lon, lat), modes, inputs.

Coordinates the service computes (schools, route lines) are rounded to
:data:`gis_service.geojson.COORDINATE_DECIMALS`; stored boundaries go out as stored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

import routing
from gis_service.geojson import COORDINATE_DECIMALS
from gis_service.networks import DistrictNetwork
from gis_service.records import (
    LEVEL_NAMES,
    OWNERSHIP_NAMES,
    STATUS_NAMES,
    DistrictRecord,
    HistoryEntry,
    RoadNetworkRecord,
    SchoolData,
    SchoolRecord,
    WardRecord,
)
from gis_service.settings import MAX_CLASS_SIZE_CAP, MAX_FIRST_GRADE_CLASSES, MAX_ID
from gis_service.text import PlainText

#: The id of a stored row in a path (a round, a run...): larger numbers are answered 422.
IdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="a stored id")]
#: An optional id in a query.
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID, description="a stored id")]
#: How many rows of a listing to skip.
OffsetQuery = Annotated[int, Query(ge=0, le=MAX_ID, description="rows to skip")]


class ProblemItem(BaseModel):
    """One thing wrong with a request: where (a JSON pointer or a parameter) and what."""

    pointer: str
    detail: str


class Problem(BaseModel):
    """An error answer (RFC 9457 problem details, ``application/problem+json``)."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str
    errors: list[ProblemItem] | None = None


#: A travel mode of the road network.
TravelModeName = Literal["walk", "motorbike"]

#: A moment in ISO 8601 as :meth:`datetime.datetime.isoformat` writes it (``+00:00``).
IsoDateTime = Annotated[
    dt.datetime,
    PlainSerializer(dt.datetime.isoformat, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class GeoJSONResponse(JSONResponse):
    """A JSON response with the GeoJSON media type (RFC 7946)."""

    media_type = "application/geo+json"


class PointGeometry(BaseModel):
    """A GeoJSON Point in EPSG:4326, ``[lon, lat]``."""

    type: Literal["Point"] = "Point"
    coordinates: tuple[float, float]


def point_geometry(lon: float, lat: float) -> PointGeometry:
    """Return a point as a GeoJSON Point, coordinates rounded to ``COORDINATE_DECIMALS``."""
    return PointGeometry(
        coordinates=(round(float(lon), COORDINATE_DECIMALS), round(float(lat), COORDINATE_DECIMALS))
    )


class LineGeometry(BaseModel):
    """A GeoJSON LineString in EPSG:4326, ``[[lon, lat], ...]``."""

    type: Literal["LineString"] = "LineString"
    coordinates: list[tuple[float, float]]


def route_line(district_net: DistrictNetwork, route: routing.Route) -> LineGeometry:
    """Return a route along the roads as a GeoJSON LineString, rounded like every point."""
    xs, ys = route.geometry.xy
    lon, lat = district_net.network.xy_to_lonlat(np.asarray(xs), np.asarray(ys))
    return LineGeometry(
        coordinates=[
            (round(float(a), COORDINATE_DECIMALS), round(float(b), COORDINATE_DECIMALS))
            for a, b in zip(lon, lat, strict=True)
        ]
    )


class MultiPolygonGeometry(BaseModel):
    """A GeoJSON MultiPolygon in EPSG:4326: polygons of rings of ``[lon, lat]``."""

    type: Literal["MultiPolygon"] = "MultiPolygon"
    coordinates: list[list[list[tuple[float, float]]]]


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
        geometry=point_geometry(data.lon, data.lat),
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
    address: PlainText | None = Field(default=None, max_length=500)
    ward_code: str | None = Field(default=None, max_length=16)
    first_grade_classes: int | None = Field(default=None, ge=0, le=MAX_FIRST_GRADE_CLASSES)
    class_size_cap: int | None = Field(default=None, ge=1, le=MAX_CLASS_SIZE_CAP)
    status: str | None = Field(default=None, max_length=50)
    phone: PlainText | None = Field(default=None, max_length=64)
    email: PlainText | None = Field(default=None, max_length=200)
    website: PlainText | None = Field(default=None, max_length=300)
    source: PlainText | None = Field(default=None, max_length=500)
    last_verified: dt.date | None = None


class SchoolCreate(_SchoolFields):
    """A new school. ``lon``/``lat`` are EPSG:4326 degrees; a blank code gets the next free one."""

    code: str | None = Field(default=None, max_length=32, pattern=r"^[0-9A-Za-z_.-]+$")
    name: PlainText = Field(min_length=1, max_length=300)
    lon: float
    lat: float
    enrolment: list[EnrolmentModel] = Field(default_factory=list, max_length=500)


class SchoolUpdate(_SchoolFields):
    """Changes to a school: only the fields sent are changed (``null`` clears a field)."""

    name: PlainText | None = Field(default=None, min_length=1, max_length=300)
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


#: What the public sees as the author of a change made by someone without an API key
#: (a command run in the office or an import).
STAFF_AUTHOR = "staff"


def history_model(entry: HistoryEntry, roles: Mapping[str, str] | None = None) -> HistoryModel:
    """Return the API view of one history entry.

    With ``roles`` (key name to role: the view of the public) the author is shown by role
    (:data:`STAFF_AUTHOR` when not an API key), never by name.
    """

    def point(data: SchoolData | None) -> PointGeometry | None:
        return None if data is None else school_feature(data).geometry

    return HistoryModel(
        version=entry.version,
        action=entry.action,
        changed_at=entry.changed_at,
        changed_by=(
            entry.changed_by if roles is None else roles.get(entry.changed_by, STAFF_AUTHOR)
        ),
        before=None if entry.before is None else school_properties(entry.before),
        after=None if entry.after is None else school_properties(entry.after),
        before_geometry=point(entry.before),
        after_geometry=point(entry.after),
    )


class WardProperties(BaseModel):
    """What the registry says about a ward."""

    code: str
    name: str
    district_code: str
    population: int | None
    population_year: int | None
    source: str


class WardFeature(BaseModel):
    """A ward as a GeoJSON Feature with its boundary."""

    type: Literal["Feature"] = "Feature"
    id: str
    geometry: MultiPolygonGeometry
    properties: WardProperties


class WardCollection(BaseModel):
    """The wards of a district as a GeoJSON FeatureCollection."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[WardFeature]


def ward_feature(ward: WardRecord) -> WardFeature:
    """Return a ward as a GeoJSON Feature."""
    return WardFeature(
        id=ward.code,
        geometry=_multipolygon(ward.boundary),
        properties=WardProperties.model_validate(ward, from_attributes=True),
    )


class RoadNetworkModel(BaseModel):
    """A road extract registered for the district."""

    file_name: str
    sha256: str
    size_bytes: int
    source: str
    registered_at: IsoDateTime


class DistrictProperties(BaseModel):
    """What the registry says about the district served and its road extracts."""

    code: str
    name: str
    province_code: str | None
    province_name: str | None
    metric_crs: str = Field(description="the metric CRS distances are measured in (EPSG:...)")
    population: int | None
    population_year: int | None
    source: str
    loaded_at: IsoDateTime
    road_networks: list[RoadNetworkModel]


class DistrictFeature(BaseModel):
    """The district as a GeoJSON Feature with its boundary."""

    type: Literal["Feature"] = "Feature"
    id: str
    geometry: MultiPolygonGeometry
    properties: DistrictProperties


def district_feature(
    district: DistrictRecord, road_networks: list[RoadNetworkRecord]
) -> DistrictFeature:
    """Return a district with its road extracts as a GeoJSON Feature."""
    return DistrictFeature(
        id=district.code,
        geometry=_multipolygon(district.boundary),
        properties=DistrictProperties(
            code=district.code,
            name=district.name,
            province_code=district.province_code,
            province_name=district.province_name,
            metric_crs=f"EPSG:{district.metric_epsg}",
            population=district.population,
            population_year=district.population_year,
            source=district.source,
            loaded_at=district.loaded_at,
            road_networks=[
                RoadNetworkModel.model_validate(r, from_attributes=True) for r in road_networks
            ],
        ),
    )


def _multipolygon(boundary: BaseGeometry) -> MultiPolygonGeometry:
    return MultiPolygonGeometry.model_validate(mapping(boundary))
