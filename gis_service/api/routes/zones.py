"""Admission zones and the eligibility lookup for parents.

``GET /eligibility`` answers, for a home, the school of the published zone it lies in, the
road-network distance, time and route to it, and the other first-grade schools in reach,
nearest first, with their free first-grade seats. ``GET /zones`` gives the published
zones as GeoJSON and ``GET /zones/points`` their demand points; ``POST /zones/compute``
computes a draft version and ``POST /zones/{version}/publish`` publishes one (both need the
planner role).
Coordinates are EPSG:4326, distances metres, durations seconds.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from gis_service.api.cached import cached_answer
from gis_service.api.deps import (
    CachedAnswersDep,
    HeavyJobsDep,
    LookupsDep,
    NetworkDep,
    OptionalPrincipalDep,
    PlannerDep,
    PublicDataDep,
    SessionDep,
    SettingsDep,
    ZoningCacheDep,
    rate_limited,
)
from gis_service.api.limits import RATE_LIMITED_RESPONSES
from gis_service.api.schemas import (
    GeoJSONResponse,
    LineGeometry,
    MultiPolygonGeometry,
    PointGeometry,
    TravelModeName,
    point_geometry,
    route_line,
)
from gis_service.db import zones_repository
from gis_service.db.repository import Principal
from gis_service.db.zones_repository import ZoneVersionRecord
from gis_service.errors import NotFoundError
from gis_service.geojson import zone_feature, zone_point_feature
from gis_service.text import PlainText
from gis_service.zones.compute import ZoningOptions, compute_zoning, default_version_name
from gis_service.zones.eligibility import SchoolInReach, home_eligibility
from gis_service.zones.geography import bundled_zoning_manifest, read_zoning_manifest

router = APIRouter(tags=["zones"])


class ZoneVersionPublic(BaseModel):
    """A zone version: how it was computed, from what, and whether it is published."""

    id: int
    name: str
    district_code: str
    method: str
    status: str
    options: dict[str, Any]
    inputs_hash: str
    created_at: dt.datetime
    created_by: str
    published_at: dt.datetime | None
    published_by: str | None
    statistics: dict[str, Any] | None = None
    inputs: dict[str, Any] | None = None


def _public(
    record: ZoneVersionRecord, *, statistics: bool = True, inputs: bool = False
) -> ZoneVersionPublic:
    """Return a version, with its figures and its inputs only when asked for."""
    public = ZoneVersionPublic.model_validate(record, from_attributes=True)
    return public.model_copy(
        update={
            "statistics": public.statistics if statistics else None,
            "inputs": public.inputs if inputs else None,
        }
    )


class ZoneComputeRequest(BaseModel):
    """What to compute. Classes of schools the registry does not know are assumed."""

    model_config = ConfigDict(extra="forbid")

    method: Literal["ward", "nearest", "optimal"] = "optimal"
    name: PlainText | None = Field(default=None, min_length=1, max_length=200)
    default_first_grade_classes: int | None = Field(
        default=None, ge=0, le=30, description="classes assumed where unknown (default: 8)"
    )
    mode: TravelModeName = "walk"
    solver: Literal["highs", "network_simplex"] = "highs"
    contiguity: bool = True


@router.post("/zones/compute", status_code=201)
async def compute_zones(
    session: SessionDep,
    settings: SettingsDep,
    networks: NetworkDep,
    cache: ZoningCacheDep,
    principal: PlannerDep,
    heavy_jobs: HeavyJobsDep,
    body: ZoneComputeRequest,
) -> ZoneVersionPublic:
    """Compute admission zones with one method and save them as a draft version."""

    def compute() -> ZoneVersionPublic:
        district_net = networks.for_district(session, settings.district_code)
        manifest = read_zoning_manifest(bundled_zoning_manifest())
        geography = cache.geography(session, district_net, manifest)
        options = ZoningOptions(
            method=body.method,
            default_first_grade_classes=body.default_first_grade_classes,
            mode=body.mode,
            solver=body.solver,
            contiguity=body.contiguity,
        )
        result = compute_zoning(geography, options)
        name = body.name or default_version_name(body.method)
        record = zones_repository.save_zone_version(
            session, result.draft(name=name, actor=principal.name)
        )
        session.commit()
        return _public(record, inputs=True)

    return await heavy_jobs.run(compute)


@router.get("/zones/versions")
def zone_versions(
    session: SessionDep, settings: SettingsDep, principal: OptionalPrincipalDep
) -> list[ZoneVersionPublic]:
    """Every zone version of the district, newest first (figures left out).

    Drafts and superseded versions are listed for staff keys only; anyone else sees the
    published version.
    """
    code = zones_repository.district_code_of(session, settings.district_code)
    return [
        _public(v, statistics=False)
        for v in zones_repository.list_zone_versions(session, code)
        if _visible(v, principal)
    ]


@router.post("/zones/{version}/publish")
def publish_zones(
    session: SessionDep, settings: SettingsDep, principal: PlannerDep, version: str
) -> ZoneVersionPublic:
    """Publish a version (by id or name); the eligibility lookup uses it from now on."""
    code = zones_repository.district_code_of(session, settings.district_code)
    record = zones_repository.publish_zone_version(
        session, version, district_code=code, actor=principal.name
    )
    session.commit()
    return _public(record)


VersionQuery = Annotated[
    str | None, Query(description="a version id or name (default: the published one)")
]


def _visible(record: ZoneVersionRecord, principal: Principal | None) -> bool:
    """Say whether the caller may see a version: the published one, or any for staff."""
    return record.status == "published" or (principal is not None and principal.role != "public")


def _chosen_version(
    session: Session, district_code: str | None, version: str | None, principal: Principal | None
) -> ZoneVersionRecord:
    """Return the version asked for, or the published one (404: a draft for the public)."""
    code = zones_repository.district_code_of(session, district_code)
    record = (
        zones_repository.published_zone_version(session, code)
        if version is None
        else zones_repository.get_zone_version(session, version, district_code=code)
    )
    if record is None:
        msg = f"district {code} has no published zones: compute and publish a version first"
        raise NotFoundError(msg)
    if not _visible(record, principal):
        msg = f"district {code} has no zone version {version!r}"
        raise NotFoundError(msg)
    return record


class ZoneProperties(BaseModel):
    """A zone's school, its estimated children and the school's first-grade seats."""

    school_code: str | None = Field(description="null: the area from which no school is reached")
    school_name: str | None
    children: float = Field(description="first-graders estimated to live in the zone")
    first_grade_seats: float | None
    seats_assumed: bool = Field(description="seats come from the assumed number of classes")
    free_first_grade_seats: int | None = Field(description="seats minus children, at least 0")


class ZoneFeature(BaseModel):
    """An admission zone as a GeoJSON Feature."""

    type: Literal["Feature"] = "Feature"
    id: str | None
    geometry: MultiPolygonGeometry
    properties: ZoneProperties


class ZoneCollection(BaseModel):
    """The zones of a version as a GeoJSON FeatureCollection that names the version."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[ZoneFeature]
    version: ZoneVersionPublic


class ZonePointProperties(BaseModel):
    """A demand point's children, its ward, its zone school and the road distance to it."""

    ward_code: str
    children: float = Field(description="children of first-grade age estimated to live here")
    placed: float = Field(description="of them, those seated in the zone school")
    school_code: str | None
    distance_m: float | None = Field(description="along the roads to the zone school")


class ZonePointFeature(BaseModel):
    """A demand point of a zone version as a GeoJSON Feature."""

    type: Literal["Feature"] = "Feature"
    id: str
    geometry: PointGeometry
    properties: ZonePointProperties


class ZonePointCollection(BaseModel):
    """The demand points of a version as a GeoJSON FeatureCollection that names the version."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[ZonePointFeature]
    version: ZoneVersionPublic


@router.get(
    "/zones",
    response_class=GeoJSONResponse,
    response_model=ZoneCollection,
    responses={304: {"description": "Not modified: the tag sent in `If-None-Match` holds"}},
)
def read_zones(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: OptionalPrincipalDep,
    public: PublicDataDep,
    answers: CachedAnswersDep,
    version: VersionQuery = None,
) -> Response:
    """The zones of the published version (or of ``version``: staff only for a draft).

    The published zones are drawn once per state of what the public sees and sent with
    an ``ETag`` (304 for a client that sends it back), gzip or brotli as accepted.
    """

    def collection() -> str:
        record = _chosen_version(session, settings.district_code, version, principal)
        zones = zones_repository.zones_of(session, record.id)
        return ZoneCollection(
            features=[ZoneFeature.model_validate(zone_feature(z)) for z in zones],
            version=_public(record, statistics=False),
        ).model_dump_json()

    if version is not None or public.state is None:
        return Response(collection(), media_type=GeoJSONResponse.media_type)
    cached = answers.drawn(("zones", *public.state), collection)
    session.close()
    return cached_answer(request, cached, media_type=GeoJSONResponse.media_type)


@router.get("/zones/points", response_class=GeoJSONResponse)
def read_zone_points(
    session: SessionDep,
    settings: SettingsDep,
    principal: OptionalPrincipalDep,
    version: VersionQuery = None,
) -> ZonePointCollection:
    """Where the version's first-graders are estimated to live, as GeoJSON points.

    Each demand point carries its children of first-grade age (the ward's census cohort
    spread over its streets), its ward, its zone school, the children seated there and
    the road distance to it.
    """
    record = _chosen_version(session, settings.district_code, version, principal)
    points = zones_repository.zone_points_of(session, record.id)
    return ZonePointCollection(
        features=[ZonePointFeature.model_validate(zone_point_feature(p)) for p in points],
        version=_public(record, statistics=False),
    )


class EligibleSchool(BaseModel):
    """A first-grade school with its network distance from the home and its free seats."""

    code: str
    name: str
    location: PointGeometry
    distance_m: float | None
    duration_s: float | None
    free_first_grade_seats: int | None = Field(
        description="seats minus the zone's estimated children (null: not in the version)"
    )
    seats_assumed: bool | None = Field(
        description="seats come from the assumed number of classes, not the registry"
    )


def _eligible(found: SchoolInReach) -> EligibleSchool:
    return EligibleSchool(
        code=found.school.code,
        name=found.school.name,
        location=point_geometry(found.school.lon, found.school.lat),
        distance_m=found.distance_m,
        duration_s=found.duration_s,
        free_first_grade_seats=found.free_first_grade_seats,
        seats_assumed=found.seats_assumed,
    )


class VersionSummary(BaseModel):
    """The published zone version an answer comes from."""

    id: int
    name: str
    method: str
    published_at: dt.datetime | None


class EligibilityAnswer(BaseModel):
    """The zone school of a home, the route to it and the other schools in reach."""

    lat: float
    lon: float
    mode: str
    zone_version: VersionSummary
    zone_school: EligibleSchool | None
    route: LineGeometry | None
    origin_snap_m: float | None = Field(
        description="the straight walk from the home to the road the route starts on, metres"
    )
    reason: str | None = Field(description="why the zone school or its route is missing")
    other_schools: list[EligibleSchool]


@router.get(
    "/eligibility",
    dependencies=[Depends(rate_limited("lookups"))],
    response_model=EligibilityAnswer,
    responses=RATE_LIMITED_RESPONSES,
)
async def eligibility(
    public: PublicDataDep,
    lookups: LookupsDep,
    lat: Annotated[float, Query(description="latitude of the home, EPSG:4326 degrees")],
    lon: Annotated[float, Query(description="longitude of the home, EPSG:4326 degrees")],
    mode: TravelModeName = "walk",
) -> Response:
    """The school whose published admission zone holds the home, and the alternatives.

    Any point of the district (its boundary line included) gets an answer; a point outside
    it, or with latitude and longitude swapped, is refused with a 422 problem. The route
    starts on the nearest road from which the zone school can be reached (a path the map
    leaves unjoined to the streets does not strand a home); ``origin_snap_m`` is the walk
    to it. When the home cannot reach its zone school on the network at all (no such road
    within the snapping limit: beyond water without a crossing), the zone school is still
    named and ``reason`` says why the route is missing. The published zones and schools
    are held in memory (a change shows within a second); past the look-ups that can wait
    for a thread, one more answers 503 with ``Retry-After`` at once.
    """
    data = public.lookup()

    def answer() -> bytes:
        found = home_eligibility(data, lat=lat, lon=lon, mode=mode, pointer="query:lat")
        return (
            EligibilityAnswer(
                lat=found.lat,
                lon=found.lon,
                mode=found.mode,
                zone_version=VersionSummary.model_validate(found.version, from_attributes=True),
                zone_school=None if found.zone_school is None else _eligible(found.zone_school),
                route=None if found.route is None else route_line(data.district_net, found.route),
                origin_snap_m=found.origin_snap_m,
                reason=found.reason,
                other_schools=[_eligible(s) for s in found.other_schools],
            )
            .model_dump_json()
            .encode()
        )

    return Response(await lookups.run(answer), media_type="application/json")
