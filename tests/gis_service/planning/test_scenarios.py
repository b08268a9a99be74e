"""Scenario evaluation on the bundled district: overlays, incremental distances, comparison."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from sqlalchemy.orm import Session

import routing
from gis_service.errors import InvalidInputError
from gis_service.networks import NetworkCache
from gis_service.planning.changes import ScenarioIn, overlay_geography
from gis_service.planning.comparison import compare_documents
from gis_service.planning.evaluation import PlanningContext, evaluate, planning_context
from gis_service.planning.schemas import EvaluationDocument
from gis_service.startup import open_engine
from gis_service.zones.geography import Geography, ZoningCache
from tests.support.stores import Templates, make_store_settings
from tests.support.zones import Computed, copy_network_cache

TODAY = dt.date(2026, 12, 2)
#: A street corner in Phường 9, Quận 3 (EPSG:4326), far from every primary school.
NEW_LON, NEW_LAT = 106.6798475, 10.7807537


@pytest.fixture(scope="module")
def context(
    templates: Templates, computed: Computed, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PlanningContext]:
    folder = tmp_path_factory.mktemp("scenarios")
    settings = next(make_store_settings("spatialite", templates, folder / "data"))
    copy_network_cache(computed.cache_dir, settings)
    engine = open_engine(settings)
    try:
        with Session(engine) as session:
            district_net = NetworkCache(settings).for_district(session)
            yield planning_context(
                session, district_net, ZoningCache(), class_size_cap=35, today=TODAY
            )
    finally:
        engine.dispose()


def _known(value: float | None) -> float:
    """``value``, which must be known."""
    assert value is not None
    return value


def _scenario(*changes: dict[str, Any], rezoning: str = "affected") -> ScenarioIn:
    return ScenarioIn.model_validate(
        {"name": "test", "changes": list(changes), "rezoning": rezoning}
    )


def _document(
    context: PlanningContext, *changes: dict[str, Any], **options: Any
) -> EvaluationDocument:
    return evaluate(context, _scenario(*changes, **options)).document()


@pytest.fixture(scope="module")
def baseline(context: PlanningContext) -> EvaluationDocument:
    return evaluate(context, ScenarioIn(name="baseline")).document()


def test_the_baseline_is_the_registry_as_it_is(
    context: PlanningContext, baseline: EvaluationDocument
) -> None:
    codes = [s.code for s in context.geography.schools]
    assert [s.code for s in baseline.schools] == codes
    assert {s.status for s in baseline.schools} == {"registry"}
    assert baseline.zoning.figures == context.baseline.statistics_json()["figures"]
    assert [y.year for y in baseline.forecast] == list(range(2027, 2037))
    assert len(baseline.points) == len(context.geography.points)


def test_the_baseline_inputs_are_hashed_once_per_context(
    context: PlanningContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    def described(_: Geography) -> dict[str, Any]:
        msg = "the geography was described again"
        raise AssertionError(msg)

    hashed = context.context_hash
    monkeypatch.setattr(Geography, "describe", described)
    first = evaluate(context, ScenarioIn(name="baseline"))
    second = evaluate(context, ScenarioIn(name="baseline"))
    assert first.context_hash == second.context_hash == context.context_hash == hashed
    assert len(hashed) == 64


@pytest.mark.parametrize("index", range(7))
def test_closing_a_school_moves_exactly_its_zone_children(
    context: PlanningContext, baseline: EvaluationDocument, index: int
) -> None:
    code = context.geography.schools[index].code
    closed = _document(context, {"kind": "close_school", "school_code": code})
    compared = compare_documents(baseline, [(1, closed)]).scenarios[0]
    in_zone = {p[0]: _known(p[3]) for p in baseline.points if p[4] == code}
    moved = {f.properties.point_id for f in compared.moved.features}
    assert moved == set(in_zone)
    assert compared.moved_children == pytest.approx(sum(in_zone.values()), abs=1e-2)
    assert {f.properties.from_school for f in compared.moved.features} == {code}
    assert code not in {f.properties.to_school for f in compared.moved.features}
    assert code not in [s.code for s in closed.schools]
    lost = next(s.seats for s in baseline.schools if s.code == code)
    assert closed.forecast[0].seats == baseline.forecast[0].seats - lost


def test_adding_a_school_where_children_live_lowers_the_mean_distance(
    context: PlanningContext, baseline: EvaluationDocument
) -> None:
    added = _document(
        context,
        {
            "kind": "add_school",
            "code": "NEW-1",
            "name": "Trường tiểu học dự kiến",
            "lon": NEW_LON,
            "lat": NEW_LAT,
            "first_grade_classes": 8,
        },
    )
    compared = compare_documents(baseline, [(1, added)]).scenarios[0]
    assert _known(compared.change["mean_distance_m.walk"]) < -10
    assert _known(compared.figures["mean_distance_m.walk"]) < _known(
        baseline.zoning.figures["mean_distance_m.walk"]
    )
    new = next(s for s in added.schools if s.code == "NEW-1")
    assert new.status == "planned"
    assert new.seats == 8 * 35
    assert _known(new.children) > 0.5 * new.seats
    assert compared.moved_children >= _known(new.children) - 1e-6
    assert added.forecast[0].seats == baseline.forecast[0].seats + 280


def test_a_new_school_routes_only_its_own_column(context: PlanningContext) -> None:
    scenario = _scenario(
        {
            "kind": "add_school",
            "code": "NEW-1",
            "name": "Trường mới",
            "lon": NEW_LON,
            "lat": NEW_LAT,
            "first_grade_classes": 6,
        },
        {"kind": "close_school", "school_code": context.geography.schools[2].code},
    )
    geography = context.geography
    overlay = context.resolve(scenario, as_of=TODAY)
    overlaid = overlay_geography(geography, overlay)
    assert [s.code for s in overlaid.schools] == [
        *(s.code for i, s in enumerate(geography.schools) if i != 2),
        "NEW-1",
    ]
    district_net = geography.district_net
    xy = np.column_stack([geography.points.geometry.x, geography.points.geometry.y])
    for mode in ("walk", "motorbike"):
        full = routing.cost_matrix(
            district_net.network,
            mode,
            origins=xy,
            destinations=district_net.schools_xy(list(overlaid.schools)),
        )
        np.testing.assert_allclose(overlaid.costs[mode].distance_m, full.dense("length_m"))
        np.testing.assert_allclose(overlaid.costs[mode].duration_s, full.dense("travel_time_s"))
        kept = [i for i in range(len(geography.schools)) if i != 2]
        np.testing.assert_array_equal(
            overlaid.costs[mode].distance_m[:, :-1], geography.costs[mode].distance_m[:, kept]
        )


def test_a_development_adds_its_children_to_the_zones_and_the_forecast(
    context: PlanningContext, baseline: EvaluationDocument
) -> None:
    block = {
        "kind": "add_development",
        "name": "khu-can-ho-A",
        "lon": 106.6850,
        "lat": 10.7800,
        "dwellings": 2000,
        "completion_year": 2029,
        "children_per_dwelling_per_cohort": 0.02,
        "occupancy_ramp": [0.5, 1.0],
    }
    built = _document(context, block)
    points = {p[0]: p for p in built.points}
    assert points["development:khu-can-ho-A"][3] == pytest.approx(40.0)
    assert built.zoning.figures["children"] == pytest.approx(
        _known(baseline.zoning.figures["children"]) + 40.0, abs=1e-3
    )
    by_year = {y.year: y.entrants.central for y in built.forecast}
    before = {y.year: y.entrants.central for y in baseline.forecast}
    assert by_year[2028] == pytest.approx(before[2028], abs=1e-3)
    assert _known(by_year[2029]) - _known(before[2029]) == pytest.approx(20.0, abs=1e-2)
    assert _known(by_year[2031]) - _known(before[2031]) == pytest.approx(40.0, abs=1e-2)
    compared = compare_documents(baseline, [(1, built)]).scenarios[0]
    assert "development:khu-can-ho-A" not in {
        f.properties.point_id for f in compared.moved.features
    }


def test_classes_and_the_class_size_cap_set_the_seats(
    context: PlanningContext, baseline: EvaluationDocument
) -> None:
    first, second = (s.code for s in context.geography.schools[:2])
    changed = _document(
        context,
        {"kind": "set_classes", "school_code": first, "first_grade_classes": 12},
        {"kind": "set_classes", "school_code": second, "first_grade_classes": 4},
    )
    seats = {s.code: (s.seats, s.status) for s in changed.schools}
    assert seats[first] == (12 * 35, "changed")
    assert seats[second] == (4 * 35, "changed")
    # as many seats as before, moved between two schools: as many children without a seat
    # (up to the zoning's rounding of each point to one school)
    assert changed.zoning.figures["shortfall_children"] == pytest.approx(
        baseline.zoning.figures["shortfall_children"], abs=0.05
    )
    capped = _document(context, {"kind": "set_class_size_cap", "class_size_cap": 30})
    assert {s.seats for s in capped.schools} == {8 * 30}
    assert capped.forecast[0].seats == 7 * 8 * 30
    assert capped.forecast[0].spare_seats_central == pytest.approx(
        _known(baseline.forecast[0].spare_seats_central) - 7 * 8 * 5, abs=1e-2
    )


def test_rezoning_everything_is_at_least_as_short_as_rezoning_the_affected(
    context: PlanningContext,
) -> None:
    change = {
        "kind": "add_school",
        "code": "NEW-1",
        "name": "Trường mới",
        "lon": NEW_LON,
        "lat": NEW_LAT,
        "first_grade_classes": 8,
    }
    affected = _document(context, change).zoning.figures
    everything = _document(context, change, rezoning="all").zoning.figures
    # fewer constraints, so no worse: up to the rounding of points to one school each
    assert _known(everything["shortfall_children"]) <= _known(affected["shortfall_children"]) + 0.05
    assert _known(everything["total_distance_m"]) <= _known(affected["total_distance_m"]) * 1.001
    assert _known(everything["mean_distance_m.walk"]) < _known(affected["mean_distance_m.walk"])


@pytest.mark.parametrize(
    ("change", "pointer", "words"),
    [
        (
            {"kind": "close_school", "school_code": "79770999"},
            "/changes/0/school_code",
            "not an open first-grade",
        ),
        (
            {
                "kind": "add_school",
                "code": "NEW-1",
                "name": "x",
                "lon": 106.70,
                "lat": 10.90,
                "first_grade_classes": 8,
            },
            "/changes/0",
            "outside",
        ),
        (
            {
                "kind": "add_development",
                "name": "late",
                "lon": 106.6850,
                "lat": 10.7800,
                "dwellings": 10,
                "completion_year": 2099,
                "children_per_dwelling_per_cohort": 0.02,
            },
            "/changes/0/completion_year",
            "outside the years",
        ),
    ],
)
def test_a_change_that_does_not_fit_the_district_names_its_place(
    context: PlanningContext, change: dict[str, Any], pointer: str, words: str
) -> None:
    with pytest.raises(InvalidInputError) as raised:
        evaluate(context, _scenario(change))
    assert raised.value.problems[0].pointer == pointer
    assert words in raised.value.detail


def test_a_scenario_cannot_close_twice_reuse_a_code_or_close_everything(
    context: PlanningContext,
) -> None:
    codes = [s.code for s in context.geography.schools]
    twice = [{"kind": "close_school", "school_code": codes[0]}] * 2
    with pytest.raises(InvalidInputError) as raised:
        evaluate(context, _scenario(*twice))
    assert raised.value.problems[0].pointer == "/changes/1/school_code"
    assert "closed in this scenario" in raised.value.detail
    reused = {
        "kind": "add_school",
        "code": codes[0],
        "name": "x",
        "lon": NEW_LON,
        "lat": NEW_LAT,
        "first_grade_classes": 8,
    }
    with pytest.raises(InvalidInputError) as raised:
        evaluate(context, _scenario(reused))
    assert raised.value.problems[0].pointer == "/changes/0/code"
    everything = [{"kind": "close_school", "school_code": code} for code in codes]
    with pytest.raises(InvalidInputError, match="closes every first-grade school"):
        evaluate(context, _scenario(*everything))
