"""The district-level routes describe their answers in OpenAPI, not as free objects.

The registry (district, wards, import, quality), the health check, and the zones with the
eligibility lookup; the schema comes from the app alone (no store is opened).
"""

from __future__ import annotations

from typing import Any

import pytest

from gis_service.app import create_app
from gis_service.settings import Settings


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("openapi"), database_url=None)
    openapi: dict[str, Any] = create_app(settings).openapi()
    return openapi


@pytest.mark.parametrize(
    ("path", "method", "media_type", "fields"),
    [
        ("/api/v1/health", "get", "application/json", {"status", "store"}),
        ("/api/v1/district", "get", "application/json", {"type", "id", "geometry", "properties"}),
        ("/api/v1/wards", "get", "application/json", {"type", "features"}),
        ("/api/v1/schools/import", "post", "application/json", {"rows_read", "rejected"}),
        ("/api/v1/quality", "get", "application/json", {"completeness", "stale"}),
        ("/api/v1/zones", "get", "application/geo+json", {"type", "features", "version"}),
        ("/api/v1/zones/points", "get", "application/geo+json", {"features", "version"}),
        ("/api/v1/zones/versions", "get", "application/json", set()),
        ("/api/v1/eligibility", "get", "application/json", {"zone_school", "route"}),
        ("/api/v1/route", "get", "application/geo+json", {"geometry", "properties"}),
        ("/api/v1/schools/nearest", "get", "application/geo+json", {"features", "mode"}),
    ],
)
def test_a_route_answers_a_described_object(
    spec: dict[str, Any], path: str, method: str, media_type: str, fields: set[str]
) -> None:
    content = spec["paths"][path][method]["responses"]["200"]["content"]
    assert set(content) == {media_type}
    schema = content[media_type]["schema"]
    if schema.get("type") == "array":
        schema = schema["items"]
    name = schema["$ref"].removeprefix("#/components/schemas/")
    component = spec["components"]["schemas"][name]
    assert component.get("additionalProperties") is not True
    assert fields <= set(component["properties"]), sorted(component["properties"])


def test_geojson_features_describe_their_geometry_and_properties(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    for collection in ("WardCollection", "ZoneCollection", "ZonePointCollection"):
        feature = schemas[collection]["properties"]["features"]["items"]["$ref"]
        properties = schemas[feature.removeprefix("#/components/schemas/")]["properties"]
        for part in ("geometry", "properties"):
            assert "$ref" in properties[part], (collection, part, properties[part])
    assert schemas["ZoneFeature"]["properties"]["geometry"]["$ref"].endswith(
        "/MultiPolygonGeometry"
    )
    modes = spec["paths"]["/api/v1/eligibility"]["get"]["parameters"]
    assert next(p for p in modes if p["name"] == "mode")["schema"]["enum"] == ["walk", "motorbike"]
