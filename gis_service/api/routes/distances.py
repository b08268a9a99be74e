"""Network distances: a route to a school, the nearest schools, isochrones of a school.

Every answer is GeoJSON in EPSG:4326 (``[lon, lat]``); distances are metres along the
roads (off-network legs included), durations seconds. Points are sent as latitude and
longitude and must lie in the district; a point that is out of range, outside the district
or has latitude and longitude swapped is refused with a 422 problem.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import geopandas as gpd
import numpy as np
from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from shapely.geometry import mapping

import routing
from gis_service.api.deps import NetworkDep, SessionDep, SettingsDep, rate_limited
from gis_service.api.limits import RATE_LIMITED_RESPONSES
from gis_service.api.schemas import (
    GeoJSONResponse,
    LineGeometry,
    PointGeometry,
    TravelModeName,
    point_geometry,
    route_line,
)
from gis_service.core_errors import routing_errors
from gis_service.crs import to_wgs84
from gis_service.db import repository
from gis_service.errors import FieldProblem, InvalidInputError
from gis_service.geojson import round_coordinates
from gis_service.networks import check_point, parse_lat_lon
from gis_service.records import SchoolRecord
from gis_service.registry.validation import LEVELS
from gis_service.text import fold_text

router = APIRouter(tags=["routing"])

Weight = Literal["length_m", "travel_time_s"]

#: Most schools the nearest-schools answer lists.
MAX_NEAREST = 50
#: Limits of an isochrone request.
MAX_ISOCHRONES = 6
MAX_MINUTES = 120.0
MAX_METRES = 20_000.0


class RouteProperties(BaseModel):
    """What a route costs; ``distance_m`` and ``duration_s`` include the off-network legs."""

    mode: str
    weight: str = Field(description="what the route minimises: length_m or travel_time_s")
    distance_m: float
    duration_s: float
    school_code: str
    school_name: str
    origin_snap_m: float = Field(description="walk from the point to the road, metres")
    school_snap_m: float = Field(description="from the road to the school, metres")
    ferry_crossings: int


class RouteFeature(BaseModel):
    """A route as a GeoJSON Feature following the roads."""

    type: Literal["Feature"] = "Feature"
    geometry: LineGeometry
    properties: RouteProperties


class NearestProperties(BaseModel):
    """A school with its network distance from the requested point."""

    rank: int
    code: str
    name: str
    level: str | None
    distance_m: float
    duration_s: float


class NearestFeature(BaseModel):
    """A school as a GeoJSON Feature."""

    type: Literal["Feature"] = "Feature"
    id: str
    geometry: PointGeometry
    properties: NearestProperties


class NearestCollection(BaseModel):
    """Schools ordered by network distance (``reason`` says why the list may be empty)."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[NearestFeature]
    mode: str
    origin_snap_m: float
    reason: str | None = None


class IsochroneProperties(BaseModel):
    """One reachable area: within ``minutes`` (or ``metres``) of the school."""

    school_code: str
    mode: str
    direction: str
    minutes: float | None = None
    metres: float | None = None


class IsochroneFeature(BaseModel):
    """An isochrone polygon as a GeoJSON Feature."""

    type: Literal["Feature"] = "Feature"
    geometry: dict[str, Any]
    properties: IsochroneProperties


class IsochroneCollection(BaseModel):
    """Isochrones of one school, smallest first."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[IsochroneFeature]


def _school_in(session: SessionDep, code: str) -> SchoolRecord:
    return repository.get_school(session, code)


@router.get(
    "/route",
    response_class=GeoJSONResponse,
    dependencies=[Depends(rate_limited("lookups"))],
    responses=RATE_LIMITED_RESPONSES,
)
def route_to_school(
    session: SessionDep,
    networks: NetworkDep,
    origin: Annotated[
        str, Query(alias="from", description="start point 'lat,lon' (EPSG:4326 degrees)")
    ],
    to: Annotated[str, Query(description="code of the school to go to")],
    mode: TravelModeName = "walk",
    weight: Weight = "length_m",
) -> RouteFeature:
    """The route from a point to a school along the roads, as a GeoJSON LineString."""
    school = _school_in(session, to)
    district_net = networks.for_district(session, school.district_code)
    lat, lon = parse_lat_lon(origin, pointer="query:from")
    lon, lat = check_point(district_net.district, lat=lat, lon=lon, pointer="query:from")
    with routing_errors("query:from"):
        found = routing.shortest_route(
            district_net.network,
            mode,
            origin=district_net.to_metric(lon, lat),
            destination=district_net.to_metric(school.data.lon, school.data.lat),
            weight=weight,
        )
    return RouteFeature(
        geometry=route_line(district_net, found),
        properties=RouteProperties(
            mode=mode,
            weight=weight,
            distance_m=round(found.length_m, 2),
            duration_s=round(found.travel_time_s, 1),
            school_code=school.data.code,
            school_name=school.data.name,
            origin_snap_m=round(found.origin_snap_m, 2),
            school_snap_m=round(found.destination_snap_m, 2),
            ferry_crossings=found.ferry_crossings,
        ),
    )


def _level(value: str | None) -> str | None:
    if value is None:
        return None
    code = LEVELS.get(fold_text(value))
    if code is None:
        msg = f"level {value!r} is not one of {sorted(set(LEVELS.values()))}"
        raise InvalidInputError(msg, problems=[FieldProblem("query:level", msg)])
    return code


@router.get(
    "/schools/nearest",
    response_class=GeoJSONResponse,
    dependencies=[Depends(rate_limited("lookups"))],
    responses=RATE_LIMITED_RESPONSES,
)
def nearest_schools(
    session: SessionDep,
    settings: SettingsDep,
    networks: NetworkDep,
    lat: Annotated[float, Query(description="latitude, EPSG:4326 degrees")],
    lon: Annotated[float, Query(description="longitude, EPSG:4326 degrees")],
    mode: TravelModeName = "walk",
    k: Annotated[int, Query(ge=1, le=MAX_NEAREST, description="how many schools")] = 5,
    level: Annotated[str | None, Query(description="only this level (tieu_hoc...)")] = None,
    weight: Weight = "length_m",
) -> NearestCollection:
    """Open schools of the district ordered by network distance (or time) from a point."""
    district_net = networks.for_district(session, settings.district_code)
    lon, lat = check_point(district_net.district, lat=lat, lon=lon, pointer="query:lat")
    where = repository.SchoolFilter(
        district_code=district_net.district.code, level=_level(level), status="open"
    )
    records, _ = repository.list_schools(session, where)
    schools = [r.data for r in records]
    with routing_errors("query:lat"):
        targets = routing.snap_points(
            district_net.network, district_net.schools_xy(schools), mode=mode
        )
        origin = routing.snap_points(
            district_net.network, [district_net.to_metric(lon, lat)], mode=mode, toward=targets
        )
        origin.raise_for_status(what="the point")
        costs = routing.one_to_many(
            district_net.network, mode, origin=origin, destinations=targets, weight=weight
        )
    _, school_index = costs.pairs()
    value = costs.length_m if weight == "length_m" else costs.travel_time_s
    order = np.lexsort((school_index, value))[:k]
    features = [
        NearestFeature(
            id=schools[int(school_index[i])].code,
            geometry=point_geometry(
                schools[int(school_index[i])].lon, schools[int(school_index[i])].lat
            ),
            properties=NearestProperties(
                rank=rank,
                code=schools[int(school_index[i])].code,
                name=schools[int(school_index[i])].name,
                level=schools[int(school_index[i])].level,
                distance_m=round(float(costs.length_m[i]), 2),
                duration_s=round(float(costs.travel_time_s[i]), 1),
            ),
        )
        for rank, i in enumerate(order, start=1)
    ]
    return NearestCollection(
        features=features,
        mode=mode,
        origin_snap_m=round(float(origin.distance_m[0]), 2),
        reason=None if features else costs.origin_reason(0),
    )


def _limits(minutes: list[float] | None, metres: list[float] | None) -> tuple[str, list[float]]:
    if minutes and metres:
        msg = "give minutes or metres, not both"
        raise InvalidInputError(msg, problems=[FieldProblem("query:metres", msg)])
    name, values, top = (
        ("metres", metres, MAX_METRES)
        if metres
        else ("minutes", minutes or [5, 10, 15], MAX_MINUTES)
    )
    if len(values) > MAX_ISOCHRONES or any(not 0 < v <= top for v in values):
        msg = f"{name} must be 1 to {MAX_ISOCHRONES} values in (0, {top:g}]"
        raise InvalidInputError(msg, problems=[FieldProblem(f"query:{name}", msg)])
    return name, sorted(set(values))


@router.get(
    "/isochrones/{code}",
    response_class=GeoJSONResponse,
    dependencies=[Depends(rate_limited("lookups"))],
    responses=RATE_LIMITED_RESPONSES,
)
def school_isochrones(
    session: SessionDep,
    networks: NetworkDep,
    code: str,
    mode: TravelModeName = "walk",
    minutes: Annotated[list[float] | None, Query(description="time limits")] = None,
    metres: Annotated[list[float] | None, Query(description="length limits")] = None,
    direction: Annotated[
        Literal["to_school", "from_school"],
        Query(description="trips to the school (catchment) or from it"),
    ] = "to_school",
) -> IsochroneCollection:
    """Areas within given minutes (default 5, 10, 15) or metres of a school by road."""
    school = _school_in(session, code)
    district_net = networks.for_district(session, school.district_code)
    unit, values = _limits(minutes, metres)
    limits = [v * 60.0 for v in values] if unit == "minutes" else values
    with routing_errors(f"path:code/{code}"):
        areas = routing.isochrones(
            district_net.network,
            mode,
            origin=district_net.to_metric(school.data.lon, school.data.lat),
            limits=limits,
            weight="travel_time_s" if unit == "minutes" else "length_m",
            toward=direction == "to_school",
        )
    shapes = to_wgs84(gpd.GeoSeries(areas.geometry.to_numpy(), crs=areas.crs))
    features = []
    for value, shape in zip(values, shapes, strict=True):
        geometry = dict(mapping(shape))
        geometry["coordinates"] = round_coordinates(geometry["coordinates"])
        features.append(
            IsochroneFeature(
                geometry=geometry,
                properties=IsochroneProperties(
                    school_code=school.data.code,
                    mode=mode,
                    direction=direction,
                    minutes=value if unit == "minutes" else None,
                    metres=value if unit == "metres" else None,
                ),
            )
        )
    return IsochroneCollection(features=features)
