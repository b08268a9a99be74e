"""A realistic admission run on the bundled district (Quận 3), on both stores.

About 1,500 applications are drawn from the zoning's demand points (seeded): homes a few
metres around a demand point, weighted by its children; choices among the three schools
nearest by walking, with one popular school that many families put first. The round ranks
by the published zones, siblings and priority categories; seats are the assumed seven
classes of 35 (1,715 seats).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
from fastapi.testclient import TestClient
from shapely import Point
from sqlalchemy.orm import Session

from gis_service.app import create_app
from gis_service.crs import to_wgs84
from gis_service.db import placement_runs_repository
from gis_service.settings import Settings
from gis_service.startup import open_engine
from tests.support.admission import BORN, create_round, names
from tests.support.http import auth
from tests.support.stores import make_token
from tests.support.zones import Computed, publish_zones

CHILDREN = 1_500
CLASSES = 7
POPULAR = 2  # the school that a quarter of the families put first, by column


@pytest.fixture
def client(fast_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(fast_settings)) as client:
        yield client


def _applications(computed: Computed, *, seed: int = 2027) -> list[dict[str, Any]]:
    geography = computed.geography
    points = geography.points
    walk = geography.costs["walk"].distance_m
    codes = [s.code for s in geography.schools]
    rng = np.random.default_rng(seed)
    weights = points["children"].to_numpy(dtype=float)
    picked = rng.choice(len(points), size=CHILDREN, p=weights / weights.sum())
    xy = np.column_stack([points.geometry.x, points.geometry.y])[picked]
    moved = xy + rng.uniform(-20.0, 20.0, size=xy.shape)
    inside = np.array([geography.boundary.covers(Point(*p)) for p in moved])
    xy = np.where(inside[:, None], moved, xy)
    lonlat = to_wgs84(gpd.GeoSeries.from_xy(xy[:, 0], xy[:, 1], crs=points.crs))
    bodies = []
    given = list(itertools.islice(names(), CHILDREN))
    assert len(given) == CHILDREN
    for i, name in enumerate(given):
        nearest = [codes[j] for j in np.argsort(walk[picked[i]], kind="stable")[:3]]
        if rng.random() < 0.25 and nearest[0] != codes[POPULAR]:
            nearest = [codes[POPULAR], *[c for c in nearest if c != codes[POPULAR]]][:3]
        choices = nearest[: int(rng.choice([1, 2, 3], p=[0.2, 0.3, 0.5]))]
        body: dict[str, Any] = {
            "child_name": name,
            "date_of_birth": BORN.replace(
                month=int(rng.integers(1, 13)), day=int(rng.integers(1, 29))
            ).isoformat(),
            "lon": float(lonlat.iloc[i].x),
            "lat": float(lonlat.iloc[i].y),
            "contact": f"09{int(rng.integers(10_000_000, 99_999_999))}",
            "choices": choices,
        }
        if rng.random() < 0.08:
            body["sibling_school_codes"] = [choices[-1]]
        if rng.random() < 0.03:
            body["priority_category"] = "con_liet_si"
        bodies.append(body)
    return bodies


def test_every_child_of_the_district_is_placed_within_seats(
    client: TestClient, fast_settings: Settings, computed: Computed
) -> None:
    version = publish_zones(fast_settings, computed.optimal)
    officer = make_token(fast_settings, "enrolment_officer")
    created = create_round(
        client,
        officer,
        rules=["in_zone", "sibling", "priority_category", "everyone"],
        default_first_grade_classes=CLASSES,
    )
    assert created["zone_version_id"] == version
    round_id = created["id"]
    submitted = client.post(
        f"/api/v1/rounds/{round_id}/applications",
        json=_applications(computed),
        headers=auth(officer),
    )
    assert submitted.status_code == 201, submitted.text[:2000]
    assert len(submitted.json()["applications"]) == CHILDREN

    runs = {}
    for method in ("deferred_acceptance", "boston"):
        response = client.post(
            f"/api/v1/rounds/{round_id}/placement",
            json={"seed": 2027, "method": method},
            headers=auth(officer),
        )
        assert response.status_code == 201, response.text
        runs[method] = response.json()
    placed = runs["deferred_acceptance"]
    stats = placed["statistics"]
    seats = CLASSES * 35
    assert stats["children"] == stats["seated_children"] == CHILDREN
    assert stats["unseated_children"] == 0
    assert stats["placed_share"] == 1.0
    assert stats["guaranteed_children"] > 0
    schools = stats["schools"]
    assert len(schools) == 7
    assert all(s["seats"] == seats and s["seats_source"] == "assumed" for s in schools)
    assert all(s["seated"] <= s["seats"] for s in schools)
    assert sum(s["seated"] for s in schools) == CHILDREN
    assert schools[POPULAR]["first_choice_applicants"] > seats
    assert schools[POPULAR]["seats_left"] == 0
    # Boston, on the same applications, puts more children at their first choice but is
    # for comparison only
    boston = runs["boston"]["statistics"]
    assert boston["first_choice_share"] >= stats["first_choice_share"]
    assert runs["boston"]["publishable"] is False

    _check_explanations(fast_settings, placed)

    published = client.post(
        f"/api/v1/rounds/{round_id}/placement/{placed['id']}/publish", headers=auth(officer)
    )
    assert published.status_code == 200, published.text
    public = client.get(f"/api/v1/rounds/{round_id}/placement/{placed['id']}").json()
    assert public["statistics"]["schools"] == schools


def _check_explanations(settings: Settings, run: dict[str, Any]) -> None:
    """Every child is placed at a choice or guaranteed, ranked by the zones, below cut-offs."""
    engine = open_engine(settings)
    try:
        with Session(engine) as session:
            results = placement_runs_repository.run_results(session, run["id"])
    finally:
        engine.dispose()
    assert len(results) == CHILDREN
    stats = run["statistics"]
    cutoffs = {s["code"]: s["cutoff"] for s in stats["schools"]}
    order = stats["priority_order"]
    in_zone = 0
    for application, result in results:
        told = result.explanation
        assert result.school_code is not None
        assert (result.choice_rank is None) == result.guaranteed
        for choice in told["choices"]:
            expected_zone = told["zone_school"] == choice["school_code"]
            assert (choice["priority"] == "in_zone") == expected_zone
            in_zone += expected_zone
            if choice["outcome"] == "below_cutoff":
                cutoff = cutoffs[choice["school_code"]]
                mine = (order.index(choice["priority"]), choice["distance_m"])
                assert mine >= (order.index(cutoff["priority"]), cutoff["distance_m"])
        if result.choice_rank is not None:
            assert application.choices[result.choice_rank - 1] == result.school_code
    assert in_zone > CHILDREN / 2
