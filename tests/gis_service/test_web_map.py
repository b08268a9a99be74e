"""The public map page and its static export, on both stores (the browser test is beside)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from gis_service.app import create_app
from gis_service.db import zones_repository
from gis_service.networks import NetworkCache
from gis_service.settings import Settings
from gis_service.startup import BUNDLED_ZONES_ACTOR, open_engine, publish_bundled_zones
from tests.support.cli import run_schoolgis
from tests.support.http import auth
from tests.support.zones import Computed, publish_zones

#: A URL the page would fetch from: a script, stylesheet, image or frame source.
FETCHED = re.compile(r"""<(?:script|link|img|iframe)\b[^>]*?(?:src|href)\s*=\s*["']([^"']+)["']""")


def _fetched_urls(html: str) -> list[str]:
    return [url for url in FETCHED.findall(html) if not url.startswith("data:")]


@pytest.fixture
def map_client(fast_settings: Settings, computed: Computed) -> Iterator[TestClient]:
    publish_zones(fast_settings, computed.optimal)
    with TestClient(create_app(fast_settings)) as client:
        yield client


def test_the_page_comes_from_the_live_registry(zoned_read_only_client: TestClient) -> None:
    response = zoned_read_only_client.get("/", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-encoding"] == "gzip"
    html = response.text
    assert '<html lang="vi">' in html
    assert "user-scalable=no" not in html
    assert "Trường học" in html
    assert "Quận 3" in html
    urls = _fetched_urls(html)
    assert urls
    assert all(url.startswith("/static/map/") for url in urls), urls
    for url in urls:
        assert zoned_read_only_client.get(url).status_code == 200, url
    assert "© OpenStreetMap contributors, ODbL 1.0" in html


def test_a_new_school_appears_on_the_page(map_client: TestClient, editor_token: str) -> None:
    before = map_client.get("/").headers["etag"]
    school = {
        "name": "Trường Tiểu học Thử Nghiệm Bản Đồ",
        "level": "tieu_hoc",
        "lon": 106.6861,
        "lat": 10.7812,
    }
    created = map_client.post("/api/v1/schools", json=school, headers=auth(editor_token))
    assert created.status_code == 201, created.text
    after = map_client.get("/", headers={"If-None-Match": before})
    assert after.status_code == 200
    assert after.headers["etag"] != before
    assert "Trường Tiểu học Thử Nghiệm Bản Đồ" in after.text


@pytest.mark.parametrize("page", ["/", "/office"])
def test_a_page_is_drawn_once_and_sent_compressed_or_not_modified(
    zoned_read_only_client: TestClient, page: str
) -> None:
    plain = zoned_read_only_client.get(page, headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200
    assert "content-encoding" not in plain.headers
    etag = plain.headers["etag"]
    assert plain.headers["cache-control"] == "public, no-cache"
    assert plain.headers["vary"] == "Accept-Encoding"
    for accept, coding in (("gzip, br", "br"), ("gzip", "gzip"), ("br;q=0, gzip", "gzip")):
        packed = zoned_read_only_client.get(page, headers={"Accept-Encoding": accept})
        assert packed.headers["content-encoding"] == coding, accept
        assert packed.headers["etag"] == etag
        assert packed.content == plain.content
        assert int(packed.headers["content-length"]) < len(plain.content) // 4
    again = zoned_read_only_client.get(page, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag


def test_the_export_is_one_self_contained_file(fast_settings: Settings, tmp_path: Path) -> None:
    target = tmp_path / "site" / "ban-do.html"
    done = run_schoolgis(
        ["map", "export", str(target), "--api-url", "https://tuyensinh.example.vn/"],
        fast_settings,
    )
    assert done.returncode == 0, done.stderr
    assert "27 schools" in done.stdout
    html = target.read_text(encoding="utf-8")
    assert _fetched_urls(html) == []
    assert "L.markerClusterGroup" in html
    assert '"https://tuyensinh.example.vn"' in html
    offline = tmp_path / "offline.html"
    assert run_schoolgis(["map", "export", str(offline)], fast_settings).returncode == 0
    assert "apiBase: null" in offline.read_text(encoding="utf-8")


def test_the_export_refuses_a_bad_api_url(fast_settings: Settings, tmp_path: Path) -> None:
    done = run_schoolgis(
        ["map", "export", str(tmp_path / "x.html"), "--api-url", "tuyensinh.example.vn"],
        fast_settings,
    )
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1
    assert "--api-url must start with http:// or https://" in done.stderr
    assert not (tmp_path / "x.html").exists()


def test_the_bundled_district_gets_its_first_zones_once(fast_settings: Settings) -> None:
    engine = open_engine(fast_settings)
    try:
        with Session(engine) as session:
            networks = NetworkCache(fast_settings)
            published = publish_bundled_zones(session, networks)
            assert published is not None
            assert published.status == "published"
            assert published.created_by == BUNDLED_ZONES_ACTOR
            assert publish_bundled_zones(session, networks) is None
            versions = zones_repository.list_zone_versions(session, "770")
            assert [v.id for v in versions] == [published.id]
    finally:
        engine.dispose()


def test_the_exported_map_may_ask_the_service_from_its_website(
    fast_settings: Settings, computed: Computed
) -> None:
    publish_zones(fast_settings, computed.optimal)
    site = "https://tuyensinh.example.vn"
    allowed = fast_settings.model_copy(update={"cors_origins": [site]})
    home = {"lat": "10.7800", "lon": "106.6850"}
    with TestClient(create_app(allowed)) as client:
        answer = client.get("/api/v1/eligibility", params=home, headers={"Origin": site})
        assert answer.status_code == 200
        assert answer.headers["access-control-allow-origin"] == site
        other = client.get(
            "/api/v1/eligibility", params=home, headers={"Origin": "https://elsewhere.example"}
        )
        assert "access-control-allow-origin" not in other.headers
    with TestClient(create_app(fast_settings)) as client:
        closed = client.get("/api/v1/eligibility", params=home, headers={"Origin": site})
        assert "access-control-allow-origin" not in closed.headers
