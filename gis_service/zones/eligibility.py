"""Which admission zone holds a home, and what a parent is told about it.

One rule decides the area that holds a point, for the public lookup, for placement runs
and for the ward of an application alike (:func:`areas_holding`): a point inside an area
(its edge included) belongs to it; on an edge shared by several areas, to the one whose
code sorts first; in a sliver that rounding leaves between the polygons, to the nearest
area. :func:`home_eligibility` answers a parent: the school of the published zone that
holds the home, the road route to it and the other first-grade schools in reach.
Coordinates are EPSG:4326, distances metres, durations seconds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from shapely import Point
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

import routing
from gis_service.core_errors import routing_errors
from gis_service.db import zones_repository
from gis_service.db.zones_repository import ZoneRecord, ZoneVersionRecord
from gis_service.errors import NotFoundError
from gis_service.networks import DistrictNetwork, check_point
from gis_service.records import SchoolData
from gis_service.zones.geography import first_grade_schools

__all__ = [
    "Eligibility",
    "LookupData",
    "SchoolInReach",
    "areas_holding",
    "home_eligibility",
    "lookup_data",
    "zone_for_homes",
]


def areas_holding(
    areas: Iterable[tuple[str | None, BaseGeometry]],
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
) -> list[str | None]:
    """Return the code of the area that holds each point.

    Parameters
    ----------
    areas
        ``(code, polygon)`` pairs in EPSG:4326 that cover a district up to slivers of
        rounding; a ``None`` code names an area of no one (it sorts last).
    lon, lat
        The points, EPSG:4326 degrees.

    Returns
    -------
    list
        Per point, the code of the area it lies in (its edge included); on an edge shared
        by several areas, the code that sorts first; in no area, the code of the nearest
        (again the first code on a tie). All ``None`` when there is no area.
    """
    ordered = sorted(areas, key=lambda area: (area[0] is None, area[0] or ""))
    x = np.atleast_1d(np.asarray(lon, dtype=np.float64))
    y = np.atleast_1d(np.asarray(lat, dtype=np.float64))
    found: list[str | None] = [None] * len(x)
    placed = np.zeros(len(x), dtype=np.bool_)
    for code, shape in ordered:
        inside = shapely.intersects_xy(shape, x, y) & ~placed
        for index in np.flatnonzero(inside):
            found[int(index)] = code
        placed |= inside
    if ordered:
        for index in np.flatnonzero(~placed):
            point = Point(float(x[index]), float(y[index]))
            found[int(index)] = min(ordered, key=lambda area: area[1].distance(point))[0]
    return found


def zone_for_homes(
    zones: Sequence[ZoneRecord], lon: npt.ArrayLike, lat: npt.ArrayLike
) -> list[str | None]:
    """Return the school of the zone that holds each home (see :func:`areas_holding`).

    Parameters
    ----------
    zones
        The zones of one version (the area that reaches no school has no school code).
    lon, lat
        The homes, EPSG:4326 degrees.
    """
    return areas_holding(((z.school_code, z.boundary) for z in zones), lon, lat)


@dataclass(frozen=True, slots=True)
class SchoolInReach:
    """A first-grade school with its road distance from a home and its free seats.

    Attributes
    ----------
    school
        The school.
    distance_m
        Along the roads from the home, to the centimetre (``None``: no route).
    duration_s
        The trip's duration, to a tenth of a second (``None``: no route).
    free_first_grade_seats
        Seats minus the zone's estimated children (``None``: not in the zone version).
    seats_assumed
        Whether the seats come from the assumed number of classes (``None``: not in the
        zone version).
    """

    school: SchoolData
    distance_m: float | None
    duration_s: float | None
    free_first_grade_seats: int | None
    seats_assumed: bool | None


@dataclass(frozen=True, slots=True, eq=False)
class Eligibility:
    """The zone school of a home, the route to it and the other schools in reach.

    Attributes
    ----------
    lon, lat
        The home, EPSG:4326 degrees.
    mode
        The travel mode of distances and the route.
    version
        The published zone version the answer comes from.
    zone_school
        The school of the zone holding the home (``None``: see ``reason``).
    route
        The road route to the zone school, in the network's metric CRS (``None``: see
        ``reason``).
    reason
        Why the zone school or its route is missing (``None`` when both are there).
    other_schools
        The other first-grade schools reachable from the home, nearest first.
    """

    lon: float
    lat: float
    mode: str
    version: ZoneVersionRecord
    zone_school: SchoolInReach | None
    route: routing.Route | None
    reason: str | None
    other_schools: tuple[SchoolInReach, ...]

    @property
    def origin_snap_m(self) -> float | None:
        """The straight walk from the home to the road the route starts on, metres."""
        return None if self.route is None else round(self.route.origin_snap_m, 2)


@dataclass(frozen=True, slots=True, eq=False)
class LookupData:
    """What the eligibility lookup reads, held in memory: a look-up needs no connection.

    Attributes
    ----------
    district_net
        The district with its road network.
    version
        The district's published zone version (``None``: none is published).
    zones
        Its zones.
    schools
        The district's open first-grade schools, by code.
    school_ends
        Per travel mode, the schools snapped onto the roads open to it, in the order of
        ``schools`` (snapped once here, not at every look-up).
    """

    district_net: DistrictNetwork
    version: ZoneVersionRecord | None
    zones: tuple[ZoneRecord, ...]
    schools: tuple[SchoolData, ...]
    school_ends: Mapping[str, routing.SnappedPoints]


def lookup_data(session: Session, district_net: DistrictNetwork) -> LookupData:
    """Read the district's published zones and first-grade schools, snap the schools.

    Parameters
    ----------
    session
        A session on the store; the lookup needs it no further.
    district_net
        The district with its road network.
    """
    code = district_net.district.code
    version = zones_repository.published_zone_version(session, code)
    zones = () if version is None else tuple(zones_repository.zones_of(session, version.id))
    schools = tuple(first_grade_schools(session, code))
    network = district_net.network
    ends_xy = district_net.schools_xy(list(schools))
    return LookupData(
        district_net=district_net,
        version=version,
        zones=zones,
        schools=schools,
        school_ends={
            mode.name: routing.snap_points(network, ends_xy, mode=mode) for mode in network.modes
        },
    )


def home_eligibility(
    data: LookupData,
    *,
    lat: float,
    lon: float,
    mode: str,
    pointer: str = "",
) -> Eligibility:
    """Return the school whose published zone holds a home, the route to it, the others.

    Parameters
    ----------
    data
        The district's published zones, schools and network (:func:`lookup_data`).
    lat, lon
        The home, EPSG:4326 degrees, as sent (checked to lie in the district, its boundary
        line included).
    mode
        The travel mode (``"walk"``, ``"motorbike"``).
    pointer
        Where the home came from, for the problem report of a refused point.

    Returns
    -------
    Eligibility
        The route starts on the nearest road from which the zone school can be reached;
        when the home cannot reach its zone school on the network at all (beyond water
        without a crossing), the zone school is still named and ``reason`` says why the
        route is missing.

    Raises
    ------
    InvalidInputError
        If the point lies outside the district (or has latitude and longitude swapped), or
        the home is too far from every road.
    NotFoundError
        If the district has no published zone version.
    """
    district_net = data.district_net
    lon, lat = check_point(district_net.district, lat=lat, lon=lon, pointer=pointer)
    if data.version is None:
        msg = (
            f"district {district_net.district.code} has no published admission zones: "
            "run `schoolgis zones compute` and `schoolgis zones publish`"
        )
        raise NotFoundError(msg)
    stored, schools = data.zones, data.schools
    zone_code = zone_for_homes(stored, [lon], [lat])[0]
    origin = district_net.to_metric(lon, lat)
    with routing_errors(pointer):
        ends = data.school_ends[district_net.network.travel_mode(mode).name]
        costs = routing.one_to_many(
            district_net.network, mode, origin=np.array([origin]), destinations=ends
        )
    _, reached = costs.pairs()
    distance = dict(zip(reached.tolist(), costs.length_m.tolist(), strict=True))
    duration = dict(zip(reached.tolist(), costs.travel_time_s.tolist(), strict=True))
    by_code = {zone.school_code: zone for zone in stored}

    def in_reach(index: int) -> SchoolInReach:
        school = schools[index]
        zone = by_code.get(school.code)
        free = None if zone is None else zone.free_seats
        return SchoolInReach(
            school=school,
            distance_m=None if index not in distance else round(distance[index], 2),
            duration_s=None if index not in duration else round(duration[index], 1),
            free_first_grade_seats=None if free is None else int(free),
            seats_assumed=None if zone is None else zone.seats_assumed,
        )

    codes = [s.code for s in schools]
    home = codes.index(zone_code) if zone_code in codes else None
    zone_school: SchoolInReach | None = None
    route: routing.Route | None = None
    if zone_code is None:
        reason: str | None = (
            "the home lies in no school's zone: no school can be reached from there"
        )
    elif home is None:
        reason = f"the zone school {zone_code} is no longer an open first-grade school"
    else:
        zone_school, route, reason = _route_to(
            district_net, mode, origin, in_reach(home), ends.take([home])
        )
    others = sorted((i for i in distance if i != home), key=lambda i: (distance[i], codes[i]))
    return Eligibility(
        lon=lon,
        lat=lat,
        mode=mode,
        version=data.version,
        zone_school=zone_school,
        route=route,
        reason=reason,
        other_schools=tuple(in_reach(i) for i in others),
    )


def _route_to(
    district_net: DistrictNetwork,
    mode: str,
    origin: tuple[float, float],
    zone_school: SchoolInReach,
    school_end: routing.SnappedPoints,
) -> tuple[SchoolInReach, routing.Route | None, str | None]:
    """Return the zone school with the distance of its route, the route, or why there is none."""
    try:
        route = routing.shortest_route(
            district_net.network,
            mode,
            origin=origin,
            destination=school_end,
        )
    except (routing.SnapDistanceError, routing.UnreachableError) as error:
        return zone_school, None, f"no {mode} route from this home to its zone school: {error}"
    by_route = dataclasses.replace(
        zone_school, distance_m=round(route.length_m, 2), duration_s=round(route.travel_time_s, 1)
    )
    return by_route, route, None
