"""The lookup reads the published zones from memory, and sees changes made elsewhere.

A change this service answers shows in the very next look-up (see the closed zone school
in ``test_zones``); a change made by another process (the command line, another process of
the service) within the watch interval.
"""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from gis_service.public_data import WATCH_INTERVAL_S
from gis_service.settings import Settings
from tests.support.http import json_object
from tests.support.zones import Computed, publish_zones

HOME = {"lat": 10.7800, "lon": 106.6850}


def _version(client: TestClient) -> str:
    answer = json_object(client.get("/api/v1/eligibility", params=HOME))
    name: str = answer["zone_version"]["name"]
    return name


def test_a_version_published_by_another_process_shows_within_the_watch_interval(
    published_client: TestClient, fast_settings: Settings, computed: Computed
) -> None:
    assert _version(published_client) == "q3-optimal"
    # the command line publishes another version in its own process, straight to the store
    publish_zones(fast_settings, computed.roomy, name="q3-roomy")
    published_at = time.monotonic()
    while _version(published_client) != "q3-roomy":
        assert time.monotonic() - published_at < 5 * WATCH_INTERVAL_S, "never seen"
        time.sleep(0.05)
    seen_after_s = time.monotonic() - published_at
    assert seen_after_s < 2 * WATCH_INTERVAL_S + 1.0
    # the map page is drawn anew for the new state
    assert "q3-roomy" in published_client.get("/").text


def test_the_published_zones_are_drawn_once_and_sent_with_their_tag(
    published_client: TestClient,
) -> None:
    first = published_client.get("/api/v1/zones", headers={"Accept-Encoding": "br"})
    assert first.status_code == 200, first.text
    assert first.headers["content-encoding"] == "br"
    assert first.headers["content-type"] == "application/geo+json"
    assert first.json()["version"]["name"] == "q3-optimal"
    tag = first.headers["etag"]
    again = published_client.get("/api/v1/zones", headers={"If-None-Match": tag})
    assert (again.status_code, again.content) == (304, b"")
    # a version asked for by name is read from the store, as before
    named = published_client.get("/api/v1/zones", params={"version": "q3-optimal"})
    assert named.json()["features"] == first.json()["features"]
