"""Every page and every API answer carries the security headers."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi.testclient import TestClient

from gis_service.api.headers import API_POLICY, DOCS_POLICY, page_policy, tile_source


def _common(headers: Mapping[str, str]) -> str:
    """Check the headers every answer has; return its Content-Security-Policy."""
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    policy = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    return policy


def test_pages_api_answers_and_docs_send_security_headers(
    zoned_read_only_client: TestClient,
) -> None:
    client = zoned_read_only_client
    for path in ("/", "/office"):
        response = client.get(path)
        assert response.status_code == 200
        policy = _common(response.headers)
        assert policy == page_policy(None)
        assert "'unsafe-eval'" not in policy
        assert "script-src 'self' 'unsafe-inline';" in policy
        again = client.get(path, headers={"If-None-Match": response.headers["etag"]})
        assert again.status_code == 304
        assert _common(again.headers) == policy
    for path in ("/api/v1/health", "/api/v1/schools?limit=1", "/api/v1/rounds/999999"):
        assert _common(client.get(path).headers) == API_POLICY
    assert _common(client.get("/openapi.json").headers) == page_policy(None)
    for path in ("/docs", "/redoc"):
        assert _common(client.get(path).headers) == DOCS_POLICY


def test_the_tile_layer_host_is_allowed_for_images() -> None:
    assert tile_source("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png") == (
        " https://*.tile.openstreetmap.org"
    )
    assert "img-src 'self' data: blob: https://tiles.example.vn;" in page_policy(
        "https://tiles.example.vn/{z}/{x}/{y}.png"
    )
    assert tile_source(None) == tile_source("tiles/{z}/{x}/{y}.png") == ""
