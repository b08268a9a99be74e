"""GeoJSON pieces shared by the API and the web map (EPSG:4326, lon/lat)."""

from __future__ import annotations

from typing import Any

from shapely.geometry import mapping

from gis_service.db.zones_repository import ZonePointRecord, ZoneRecord

#: Decimal places kept in coordinates (about 1 cm at the equator).
COORDINATE_DECIMALS = 7


def round_coordinates(coords: Any, decimals: int = COORDINATE_DECIMALS) -> Any:
    """Return GeoJSON coordinates (a number or nested sequences) rounded to ``decimals``."""
    if isinstance(coords, float | int):
        return round(float(coords), decimals)
    return [round_coordinates(c, decimals) for c in coords]


def zone_feature(zone: ZoneRecord) -> dict[str, Any]:
    """Return an admission zone as a GeoJSON feature with its school, children and seats."""
    geometry = dict(mapping(zone.boundary))
    geometry["coordinates"] = round_coordinates(geometry["coordinates"])
    return {
        "type": "Feature",
        "id": zone.school_code,
        "geometry": geometry,
        "properties": {
            "school_code": zone.school_code,
            "school_name": zone.school_name,
            "children": round(zone.children, 2),
            "first_grade_seats": zone.seats,
            "seats_assumed": zone.seats_assumed,
            "free_first_grade_seats": None if zone.free_seats is None else int(zone.free_seats),
        },
    }


def zone_point_feature(point: ZonePointRecord) -> dict[str, Any]:
    """Return a demand point of a zone version as a GeoJSON feature."""
    return {
        "type": "Feature",
        "id": point.point_id,
        "geometry": {
            "type": "Point",
            "coordinates": round_coordinates([point.lon, point.lat]),
        },
        "properties": {
            "ward_code": point.ward_code,
            "children": round(point.children, 3),
            "placed": round(point.placed, 3),
            "school_code": point.school_code,
            "distance_m": None if point.distance_m is None else round(point.distance_m, 1),
        },
    }
