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

import numpy as np
from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from shapely import Point
from sqlalchemy.orm import Session

import routing
from gis_service.api.deps import (
    NetworkDep,
    PlannerDep,
    SessionDep,
    SettingsDep,
    ZoningCacheDep,
)
from gis_service.api.schemas import PointGeometry
from gis_service.core_errors import routing_errors
from gis_service.db import zones_repository
from gis_service.db.zones_repository import ZoneVersionRecord
from gis_service.errors import NotFoundError
from gis_service.geojson import COORDINATE_DECIMALS, zone_feature, zone_point_feature
from gis_service.networks import DistrictNetwork, NetworkCache, check_point
from gis_service.zones.compute import (
    ZoningOptions,
    bundled_zoning_manifest,
    compute_zoning,
    default_version_name,
    first_grade_schools,
    read_zoning_manifest,
)

router = APIRouter(tags=["zones"])

Mode = Literal["walk", "motorbike"]


class GeoJSONResponse(JSONResponse):
    """A JSON response with the GeoJSON media type (RFC 7946)."""

    media_type = "application/geo+json"


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
    return ZoneVersionPublic(
        id=record.id,
        name=record.name,
        district_code=record.district_code,
        method=record.method,
        status=record.status,
        options=record.options,
        inputs_hash=record.inputs_hash,
        created_at=record.created_at,
        created_by=record.created_by,
        published_at=record.published_at,
        published_by=record.published_by,
        statistics=record.statistics if statistics else None,
        inputs=record.inputs if inputs else None,
    )


class ZoneComputeRequest(BaseModel):
    """What to compute. Classes of schools the registry does not know are assumed."""

    model_config = ConfigDict(extra="forbid")

    method: Literal["ward", "nearest", "optimal"] = "optimal"
    name: str | None = Field(default=None, min_length=1, max_length=200)
    default_first_grade_classes: int | None = Field(
        default=None, ge=0, le=30, description="classes assumed where unknown (default: 8)"
    )
    mode: Mode = "walk"
    solver: Literal["highs", "network_simplex"] = "highs"
    contiguity: bool = True


def _district_net(
    session: Session, networks: NetworkCache, district_code: str | None
) -> DistrictNetwork:
    return networks.for_district(session, district_code)


@router.post("/zones/compute", status_code=201)
def compute_zones(
    session: SessionDep,
    settings: SettingsDep,
    networks: NetworkDep,
    cache: ZoningCacheDep,
    principal: PlannerDep,
    body: ZoneComputeRequest,
) -> ZoneVersionPublic:
    """Compute admission zones with one method and save them as a draft version."""
    district_net = _district_net(session, networks, settings.district_code)
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
    draft = result.draft(name=body.name or default_version_name(body.method), actor=principal.name)
    record = zones_repository.save_zone_version(session, draft)
    session.commit()
    return _public(record, inputs=True)


@router.get("/zones/versions")
def zone_versions(session: SessionDep, settings: SettingsDep) -> list[ZoneVersionPublic]:
    """Every zone version of the district, newest first (figures left out)."""
    code = zones_repository.district_code_of(session, settings.district_code)
    return [
        _public(v, statistics=False) for v in zones_repository.list_zone_versions(session, code)
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


def _chosen_version(
    session: Session, district_code: str | None, version: str | None
) -> ZoneVersionRecord:
    """Return the version asked for, or the published one."""
    code = zones_repository.district_code_of(session, district_code)
    record = (
        zones_repository.published_zone_version(session, code)
        if version is None
        else zones_repository.get_zone_version(session, version, district_code=code)
    )
    if record is None:
        msg = f"district {code} has no published zones: compute and publish a version first"
        raise NotFoundError(msg)
    return record


def _collection(record: ZoneVersionRecord, features: list[dict[str, Any]]) -> dict[str, Any]:
    """Return features of a version as a GeoJSON collection that names the version."""
    return {
        "type": "FeatureCollection",
        "features": features,
        "version": _public(record, statistics=False).model_dump(mode="json"),
    }


@router.get("/zones", response_class=GeoJSONResponse)
def read_zones(
    session: SessionDep, settings: SettingsDep, version: VersionQuery = None
) -> dict[str, Any]:
    """The zones of the published version (or of ``version``) as a GeoJSON collection."""
    record = _chosen_version(session, settings.district_code, version)
    zones = zones_repository.zones_of(session, record.id)
    return _collection(record, [zone_feature(z) for z in zones])


@router.get("/zones/points", response_class=GeoJSONResponse)
def read_zone_points(
    session: SessionDep, settings: SettingsDep, version: VersionQuery = None
) -> dict[str, Any]:
    """Where the version's first-graders are estimated to live, as GeoJSON points.

    Each demand point carries its children of first-grade age (the ward's census cohort
    spread over its streets), its ward, its zone school, the children seated there and
    the road distance to it.
    """
    record = _chosen_version(session, settings.district_code, version)
    points = zones_repository.zone_points_of(session, record.id)
    return _collection(record, [zone_point_feature(p) for p in points])


class RouteLine(BaseModel):
    """A GeoJSON LineString in EPSG:4326 following the roads."""

    type: Literal["LineString"] = "LineString"
    coordinates: list[tuple[float, float]]


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
    route: RouteLine | None
    origin_snap_m: float | None = Field(
        description="the straight walk from the home to the road the route starts on, metres"
    )
    reason: str | None = Field(description="why the zone school or its route is missing")
    other_schools: list[EligibleSchool]


def _line(district_net: DistrictNetwork, found: routing.Route) -> RouteLine:
    xs, ys = found.geometry.xy
    lon, lat = district_net.network.xy_to_lonlat(np.asarray(xs), np.asarray(ys))
    return RouteLine(
        coordinates=[
            (round(float(a), COORDINATE_DECIMALS), round(float(b), COORDINATE_DECIMALS))
            for a, b in zip(lon, lat, strict=True)
        ]
    )


@router.get("/eligibility")
def eligibility(
    session: SessionDep,
    settings: SettingsDep,
    networks: NetworkDep,
    lat: Annotated[float, Query(description="latitude of the home, EPSG:4326 degrees")],
    lon: Annotated[float, Query(description="longitude of the home, EPSG:4326 degrees")],
    mode: Mode = "walk",
) -> EligibilityAnswer:
    """The school whose published admission zone holds the home, and the alternatives.

    Any point of the district (its boundary line included) gets an answer; a point outside
    it, or with latitude and longitude swapped, is refused with a 422 problem. The route
    starts on the nearest road from which the zone school can be reached (a path the map
    leaves unjoined to the streets does not strand a home); ``origin_snap_m`` is the walk
    to it. When the home cannot reach its zone school on the network at all (no such road
    within the snapping limit: beyond water without a crossing), the zone school is still
    named and ``reason`` says why the route is missing.
    """
    district_net = _district_net(session, networks, settings.district_code)
    lon, lat = check_point(district_net.district, lat=lat, lon=lon, pointer="query:lat")
    version = zones_repository.published_zone_version(session, district_net.district.code)
    if version is None:
        msg = (
            f"district {district_net.district.code} has no published admission zones: "
            "run `schoolgis zones compute` and `schoolgis zones publish`"
        )
        raise NotFoundError(msg)
    stored = zones_repository.zones_of(session, version.id)
    zones = {z.school_code: z for z in stored}
    zone = zones_repository.zone_at(session, version.id, lon=lon, lat=lat)
    if zone is None and stored:
        # the zones partition the district up to slivers of rounding: take the nearest
        home_point = Point(lon, lat)
        zone = min(stored, key=lambda z: z.boundary.distance(home_point))
    schools = first_grade_schools(session, district_net.district.code)
    origin = district_net.to_metric(lon, lat)
    with routing_errors("query:lat"):
        costs = routing.one_to_many(
            district_net.network,
            mode,
            origin=np.array([origin]),
            destinations=district_net.schools_xy(schools),
        )
    _, reached = costs.pairs()
    distance = dict(zip(reached.tolist(), costs.length_m.tolist(), strict=True))
    duration = dict(zip(reached.tolist(), costs.travel_time_s.tolist(), strict=True))

    def entry(index: int) -> EligibleSchool:
        school = schools[index]
        in_version = zones.get(school.code)
        free = None if in_version is None else in_version.free_seats
        return EligibleSchool(
            code=school.code,
            name=school.name,
            location=PointGeometry(
                coordinates=(
                    round(school.lon, COORDINATE_DECIMALS),
                    round(school.lat, COORDINATE_DECIMALS),
                )
            ),
            distance_m=None if index not in distance else round(distance[index], 2),
            duration_s=None if index not in duration else round(duration[index], 1),
            free_first_grade_seats=None if free is None else int(free),
            seats_assumed=None if in_version is None else in_version.seats_assumed,
        )

    codes = [s.code for s in schools]
    home = None if zone is None or zone.school_code not in codes else codes.index(zone.school_code)
    reason: str | None = None
    route: RouteLine | None = None
    origin_snap_m: float | None = None
    zone_school = None if home is None else entry(home)
    if zone is None or zone.school_code is None:
        reason = "the home lies in no school's zone: no school can be reached from there"
    elif home is None:
        reason = f"the zone school {zone.school_code} is no longer an open first-grade school"
    else:
        try:
            found = routing.shortest_route(
                district_net.network,
                mode,
                origin=origin,
                destination=district_net.to_metric(schools[home].lon, schools[home].lat),
            )
            route = _line(district_net, found)
            origin_snap_m = round(found.origin_snap_m, 2)
            zone_school = entry(home).model_copy(
                update={
                    "distance_m": round(found.length_m, 2),
                    "duration_s": round(found.travel_time_s, 1),
                }
            )
        except (routing.SnapDistanceError, routing.UnreachableError) as error:
            reason = f"no {mode} route from this home to its zone school: {error}"
    others = sorted((i for i in distance if i != home), key=lambda i: (distance[i], codes[i]))
    return EligibilityAnswer(
        lat=lat,
        lon=lon,
        mode=mode,
        zone_version=VersionSummary(
            id=version.id,
            name=version.name,
            method=version.method,
            published_at=version.published_at,
        ),
        zone_school=zone_school,
        route=route,
        origin_snap_m=origin_snap_m,
        reason=reason,
        other_schools=[entry(i) for i in others],
    )
