"""The district served and its wards."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from gis_service.api.deps import SessionDep, SettingsDep
from gis_service.api.schemas import district_feature, ward_feature
from gis_service.db import repository

router = APIRouter(tags=["district"])


@router.get("/district")
def read_district(session: SessionDep, settings: SettingsDep) -> dict[str, Any]:
    """The district served, as a GeoJSON Feature with its boundary and metric CRS."""
    district = repository.get_district(session, settings.district_code)
    feature = district_feature(district)
    feature["properties"]["road_networks"] = [
        {
            "file_name": r.file_name,
            "sha256": r.sha256,
            "size_bytes": r.size_bytes,
            "source": r.source,
            "registered_at": r.registered_at.isoformat(),
        }
        for r in repository.road_networks(session, district.code)
    ]
    return feature


@router.get("/wards")
def list_wards(session: SessionDep, settings: SettingsDep) -> dict[str, Any]:
    """Wards of the district as a GeoJSON FeatureCollection."""
    district = repository.get_district(session, settings.district_code)
    wards = repository.list_wards(session, district.code)
    return {"type": "FeatureCollection", "features": [ward_feature(w) for w in wards]}
