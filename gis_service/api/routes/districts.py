"""The district served and its wards."""

from __future__ import annotations

from fastapi import APIRouter

from gis_service.api.deps import SessionDep, SettingsDep
from gis_service.api.schemas import DistrictFeature, WardCollection, district_feature, ward_feature
from gis_service.db import repository

router = APIRouter(tags=["district"])


@router.get("/district")
def read_district(session: SessionDep, settings: SettingsDep) -> DistrictFeature:
    """The district served, as a GeoJSON Feature with its boundary and metric CRS."""
    district = repository.get_district(session, settings.district_code)
    return district_feature(district, repository.road_networks(session, district.code))


@router.get("/wards")
def list_wards(session: SessionDep, settings: SettingsDep) -> WardCollection:
    """Wards of the district as a GeoJSON FeatureCollection."""
    district = repository.get_district(session, settings.district_code)
    wards = repository.list_wards(session, district.code)
    return WardCollection(features=[ward_feature(w) for w in wards])
