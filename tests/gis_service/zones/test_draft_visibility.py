"""Draft zone versions and their authors are for staff: the public sees the published one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from gis_service.app import create_app
from gis_service.db import zones_repository
from gis_service.settings import Settings
from gis_service.startup import open_engine
from tests.support.http import auth, json_list, problem
from tests.support.stores import make_token
from tests.support.zones import Computed, publish_zones


@pytest.fixture
def draft_client(fast_settings: Settings, computed: Computed) -> Iterator[TestClient]:
    publish_zones(fast_settings, computed.optimal)
    engine = open_engine(fast_settings)
    try:
        with Session(engine) as session:
            zones_repository.save_zone_version(
                session, computed.roomy.draft(name="nhap-rong", actor="planner-lan")
            )
            session.commit()
    finally:
        engine.dispose()
    with TestClient(create_app(fast_settings)) as client:
        yield client


def test_drafts_are_for_staff_only(draft_client: TestClient, fast_settings: Settings) -> None:
    client = draft_client
    public = json_list(client.get("/api/v1/zones/versions"))
    assert [(v["name"], v["status"]) for v in public] == [("q3-optimal", "published")]
    assert "planner-lan" not in client.get("/api/v1/zones/versions").text
    public_key = auth(make_token(fast_settings, "public"))
    staff = auth(make_token(fast_settings, "planner"))
    listed = json_list(client.get("/api/v1/zones/versions", headers=staff))
    draft = next(v for v in listed if v["name"] == "nhap-rong")
    assert (draft["status"], len(listed)) == ("draft", 2)
    for path in ("/api/v1/zones", "/api/v1/zones/points"):
        for key in ("nhap-rong", str(draft["id"])):
            problem(client.get(path, params={"version": key}), 404, key)
            problem(client.get(path, params={"version": key}, headers=public_key), 404)
            seen = client.get(path, params={"version": key}, headers=staff)
            assert seen.status_code == 200, seen.text
            assert seen.json()["version"]["name"] == "nhap-rong"
        published = client.get(path, params={"version": "q3-optimal"})
        assert published.json()["version"]["status"] == "published"
