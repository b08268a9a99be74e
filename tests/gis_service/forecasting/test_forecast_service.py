"""The district forecast on the registry (both stores), the CLI and the HTML report.

Hand-derived numbers: Quận 3's census groups 0-4 = 8,806, 5-9 = 11,329, 10-14 = 11,249,
15-19 = 12,195 give, by the Sprague multipliers, single ages 0 and 5; Phường 8 holds 16,481
of the district's 190,375 persons (15,458 in 2009), so its annual growth is
(16,481 / 15,458) ** (1 / 10) - 1; survival is 0.995 from age 0 and 0.999 at ages 1-5.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy.orm import Session

from gis_service.db import repository
from gis_service.errors import InvalidInputError, NotFoundError
from gis_service.forecasting.answers import district_summary, forecast_items
from gis_service.forecasting.district import (
    DistrictForecast,
    compute_district_forecast,
    next_school_year,
)
from gis_service.forecasting.manifest import bundled_forecast_manifest, load_forecast_inputs
from gis_service.forecasting.schemas import (
    DemandBand,
    ForecastItem,
    SchoolForecastItem,
    ZoneForecastItem,
)
from gis_service.registry import schools as registry
from gis_service.settings import Settings
from tests.support.cli import run_schoolgis
from tests.support.zones import Computed, publish_zones

WARD_8 = "27121"
NGUYEN_THAI_SON = "79770006"  # the only primary school of Phường 8 in the bundled registry
SHARE_8 = 16_481 / 190_375
GROWTH_8 = (16_481 / 15_458) ** 0.1 - 1
AGE_0 = 0.3616 * 8806 - 0.2768 * 11329 + 0.1488 * 11249 - 0.0336 * 12195
AGE_5 = 0.0336 * 8806 + 0.2272 * 11329 - 0.0752 * 11249 + 0.0144 * 12195
SURVIVAL_0_TO_6 = 0.995 * 0.999**5

ItemT = TypeVar("ItemT", bound=ForecastItem)


def ward_8_entrants(year: int) -> float:
    """Central first-grade entrants of Phường 8, by hand, for 2020 or any year after 2025."""
    if year == 2020:
        return SHARE_8 * AGE_5 * 0.999 * (1 + GROWTH_8)
    assert year > 2025
    return SHARE_8 * AGE_0 * SURVIVAL_0_TO_6 * (1 + GROWTH_8) ** (year - 2019)


def forecast(
    session: Session, first_year: int, years: int = 10, class_size_cap: int = 35
) -> DistrictForecast:
    inputs = load_forecast_inputs(
        bundled_forecast_manifest(), wards=repository.list_wards(session, "770")
    )
    return compute_district_forecast(
        session, inputs, first_year=first_year, years=years, class_size_cap=class_size_cap
    )


def item(items: Sequence[Any], code: str) -> Any:
    return next(entry for entry in items if entry.code == code)


def of_kind(kind: type[ItemT], items: Sequence[ForecastItem]) -> list[ItemT]:
    """``items``, every one of them a ``kind``."""
    narrowed: list[ItemT] = [entry for entry in items if isinstance(entry, kind)]
    assert len(narrowed) == len(items), items
    return narrowed


def central(band: DemandBand | None) -> float:
    """The central figure of ``band``, which must be given."""
    assert band is not None
    return band.central


def test_ward_entrants_of_the_bundled_district(session: Session) -> None:
    result = forecast(session, 2020, years=17)
    assert result.years == tuple(range(2020, 2037))
    assert [ward.code for ward in result.wards] == sorted(ward.code for ward in result.wards)
    ward_8 = item(forecast_items(result, level="ward", year=2020), WARD_8)
    assert ward_8.name == "Phường 8"
    assert ward_8.primary_schools == 1
    assert ward_8.first_grade_entrants.central == pytest.approx(ward_8_entrants(2020), abs=0.05)
    later = item(forecast_items(result, level="ward", year=2030), WARD_8)
    assert later.first_grade_entrants.central == pytest.approx(ward_8_entrants(2030), abs=0.05)
    band = later.first_grade_entrants
    assert band.low <= band.central <= band.high
    # No bundled school has a class count: capacity and shortfall are unknown, not zero.
    assert ward_8.capacity_known is False
    assert ward_8.seat_shortfall is None
    # A ward with no primary school has 0 seats: its whole demand is a shortfall.
    ward_7 = item(forecast_items(result, level="ward", year=2020), "27124")
    assert ward_7.primary_schools == 0
    assert ward_7.first_grade_seats == 0
    assert ward_7.seat_shortfall.central == ward_7.first_grade_entrants.central
    total = district_summary(result, year=2020)
    assert central(total.first_grade_entrants) == pytest.approx(
        sum(
            central(i.first_grade_entrants) for i in forecast_items(result, level="ward", year=2020)
        ),
        abs=0.5,
    )
    assert total.first_grade_seats is None


def test_capacity_gap_and_first_year_short(session: Session) -> None:
    # 3 classes of 40: 120 seats. Phường 8's entrants pass 120 in the first year by hand.
    registry.update_school(
        session,
        NGUYEN_THAI_SON,
        {"first_grade_classes": 3, "class_size_cap": 40},
        class_size_cap=35,
        actor="test",
    )
    result = forecast(session, 2026)
    expected_short = next(year for year in result.years if ward_8_entrants(year) > 120)
    ward_8 = item(forecast_items(result, level="ward", year=2030), WARD_8)
    assert ward_8.first_grade_seats == 120
    assert ward_8.seat_shortfall.central == pytest.approx(ward_8_entrants(2030) - 120, abs=0.05)
    expected_classrooms = -(-round(ward_8_entrants(2030), 6) // 40) - 3
    assert ward_8.classroom_shortfall.central == expected_classrooms
    assert ward_8.first_year_short.central == expected_short
    assert ward_8.first_year_short.high <= expected_short


def test_school_demand_from_its_enrolment_history(session: Session) -> None:
    history = [
        *(
            {"school_year": 2025, "grade": g, "pupils": p}
            for g, p in enumerate([120, 118, 115, 110, 112], start=1)
        ),
        *(
            {"school_year": 2026, "grade": g, "pupils": p}
            for g, p in enumerate([125, 119, 117, 114, 109], start=1)
        ),
    ]
    registry.update_school(
        session,
        NGUYEN_THAI_SON,
        {"first_grade_classes": 4, "enrolment": history},
        class_size_cap=35,
        actor="test",
    )
    result = forecast(session, 2027)
    school = item(forecast_items(result, level="school", year=2027), NGUYEN_THAI_SON)
    # Its share of Phường 8's entrants in 2026 (125 first-graders) carries on: 125 * (1 + g).
    assert school.first_grade_entrants.central == pytest.approx(125 * (1 + GROWTH_8), abs=0.05)
    assert school.first_grade_seats == 140
    assert school.seat_shortfall.central == pytest.approx(125 * (1 + GROWTH_8) - 140, abs=0.05)
    assert "2026" in school.demand_method
    total = (
        125 * (1 + GROWTH_8) + 125 * 119 / 120 + 119 * 117 / 118 + 117 * 114 / 115 + 114 * 109 / 110
    )
    assert school.enrolment_total.central == pytest.approx(total, abs=0.05)
    schools = of_kind(SchoolForecastItem, forecast_items(result, level="school", year=2027))
    others = [i for i in schools if i.code != NGUYEN_THAI_SON]
    assert len(others) == 6
    assert all(
        i.first_grade_entrants is None
        and i.no_demand_reason is not None
        and "zones" in i.no_demand_reason
        for i in others
    )


def test_years_outside_the_base_years_are_refused(session: Session) -> None:
    with pytest.raises(InvalidInputError, match="2020-2044"):
        forecast(session, 2019)
    with pytest.raises(InvalidInputError, match="not forecast"):
        forecast_items(forecast(session, 2027, years=2), level="ward", year=2030)


def test_next_school_year() -> None:
    assert next_school_year(dt.date(2026, 8, 31)) == 2026
    assert next_school_year(dt.date(2026, 9, 1)) == 2027


def test_a_manifest_with_a_development(tmp_path: Path, session: Session) -> None:
    text = bundled_forecast_manifest().read_text(encoding="utf-8")
    data_dir = bundled_forecast_manifest().parent
    text = re.sub(r'file = "', f'file = "{data_dir}/', text)
    text += (
        '\n[[developments]]\nid = "tower-A"\nlon = 106.6900\nlat = 10.7850\ndwellings = 500\n'
        "completion_year = 2028\nchildren_per_dwelling_per_cohort = 0.02\n"
        'source = "test"\nas_of = 2026-01-01\n'
    )
    manifest = tmp_path / "forecast.toml"
    manifest.write_text(text, encoding="utf-8")
    wards = repository.list_wards(session, "770")
    inputs = load_forecast_inputs(manifest, wards=wards)
    (development,) = inputs.developments
    with_tower = compute_district_forecast(
        session, inputs, first_year=2027, years=3, class_size_cap=35
    )
    without = forecast(session, 2027, years=3)
    ward = development.ward_code
    before = item(forecast_items(with_tower, level="ward", year=2027), ward)
    after = item(forecast_items(with_tower, level="ward", year=2028), ward)
    plain = item(forecast_items(without, level="ward", year=2028), ward)
    assert before.housing_yield == 0
    assert after.housing_yield == pytest.approx(10.0)  # 500 dwellings x 0.02
    assert after.first_grade_entrants.central == pytest.approx(
        plain.first_grade_entrants.central + 10.0, abs=0.05
    )


def test_cli_run_prints_the_wards_and_writes_json(settings: Settings, tmp_path: Path) -> None:
    out = tmp_path / "forecast.json"
    result = run_schoolgis(
        ["forecast", "run", "--first-year", "2027", "--years", "3", "--output", str(out)],
        settings,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[2:5] == ["2027", "2028", "2029"]
    assert len(lines) == 1 + 14 + 1 + 1
    assert any(line.startswith("27121") and "Phường 8" in line for line in lines)
    assert lines[-1] == "inputs: hcmc-district3/forecast.toml alone (no forecast input version)"
    payload = json.loads(out.read_text())
    assert payload["years"] == [2027, 2028, 2029]
    assert payload["inputs_version"] is None
    assert len(payload["items_by_year"]["2028"]) == 14
    assert payload["inputs"][0]["as_of"] == "2019-04-01"
    no_zones = run_schoolgis(["forecast", "run", "--level", "zone"], settings, cwd=tmp_path)
    assert no_zones.returncode == 1
    assert no_zones.stdout == ""
    assert no_zones.stderr.splitlines() == [
        "schoolgis: error: district 770 has no published zones: compute and publish a version first"
    ]
    bad = run_schoolgis(["forecast", "run", "--level", "district"], settings, cwd=tmp_path)
    assert bad.returncode == 2
    assert "'district' is not one of 'ward', 'school', 'zone'" in bad.stderr


def test_cli_report_writes_a_self_contained_page(settings: Settings, tmp_path: Path) -> None:
    result = run_schoolgis(
        ["forecast", "report", "--first-year", "2027", "--output", "report.html"],
        settings,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "14 wards, 7 primary schools" in result.stdout
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert "Quận 3" in html
    assert "Phường 8" in html
    assert html.count("<svg") >= 1 + 2 + 14  # district chart, two maps, one chart per ward
    assert html.count("<path d=") >= 2 * 14  # every ward on both maps
    # Nothing is fetched: no scripts, links, images or URLs at all.
    for forbidden in ("<script", "<link", "<img", "http:", "https:", "url(", "@import"):
        assert forbidden not in html


# --- the zone level: the published zone version of the bundled district (both stores) ---


def test_zone_level_spreads_the_ward_entrants_over_the_published_zones(
    settings: Settings, session: Session, computed: Computed
) -> None:
    publish_zones(settings, computed.optimal)
    # A default cap of 25 instead of 35: the zoning's 8 assumed classes give 200 seats.
    result = forecast(session, 2027, class_size_cap=25)
    school_codes = sorted(school.code for school in computed.geography.schools)
    by_year = {}
    for year in result.years:
        zones = of_kind(ZoneForecastItem, forecast_items(result, level="zone", year=year))
        assert [zone.code for zone in zones] == school_codes  # every zone school, once
        district = district_summary(result, year=year)
        # The optimal zones hold every populated demand point: nothing is left unzoned.
        assert central(district.unzoned_entrants) == pytest.approx(0, abs=1e-9)
        assert sum(central(zone.first_grade_entrants) for zone in zones) == pytest.approx(
            central(district.first_grade_entrants), abs=0.5
        )
        by_year[year] = {zone.code: zone for zone in zones}
    first = by_year[2027]
    assert {(z.first_grade_seats, z.seats_assumed) for z in first.values()} == {(200, True)}
    for code in school_codes:
        for variant in ("central", "high"):
            short = [
                y for y in result.years if getattr(by_year[y][code].seat_shortfall, variant) > 0
            ]
            assert getattr(first[code].first_year_short, variant) == (short[0] if short else None)
    # Trương Quyền's zone has the most entrants (225 in 2027): 9 classes of 25 for 8.
    crowded = first["79770020"]
    assert central(crowded.first_grade_entrants) > 200
    assert crowded.first_year_short.central == 2027
    assert central(crowded.classroom_shortfall) == 1
    # Each ward's entrants are spread whole over the zones.
    for ward in result.wards:
        total = sum(zone.ward_shares.get(ward.code, 0) for zone in first.values())
        assert total == pytest.approx(1, abs=1e-3)
    # A school's demand is its zone's; the registry knows no classes, so no shortfall.
    for school in of_kind(SchoolForecastItem, forecast_items(result, level="school", year=2030)):
        assert school.first_grade_entrants == by_year[2030][school.code].first_grade_entrants
        assert school.demand_method is not None
        assert "zone version 'q3-optimal'" in school.demand_method
        assert school.seat_shortfall is None


def test_zone_level_needs_published_zones(session: Session) -> None:
    result = forecast(session, 2027, years=3)
    assert result.zones is None
    with pytest.raises(NotFoundError, match="no published zones: compute and publish a version"):
        forecast_items(result, level="zone", year=2027)
    assert district_summary(result, year=2027).unzoned_entrants is None


YEARS_2027_2029 = ["--first-year", "2027", "--years", "3"]


def test_cli_run_by_zone(settings: Settings, computed: Computed, tmp_path: Path) -> None:
    publish_zones(settings, computed.optimal)
    out = tmp_path / "zones.json"
    result = run_schoolgis(
        ["forecast", "run", "--level", "zone", *YEARS_2027_2029, "--output", str(out)],
        settings,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1 + 7 + 1 + 1
    assert all(line.split()[-2] == "280" for line in lines[1:-2])  # the zone's seats
    payload = json.loads(out.read_text())
    assert payload["level"] == "zone"
    assert payload["zone_version"]["name"] == "q3-optimal"
    assert len(payload["items_by_year"]["2028"]) == 7
    assert payload["district_by_year"]["2028"]["unzoned_entrants"]["central"] == 0
    report = run_schoolgis(["forecast", "report", *YEARS_2027_2029], settings, cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    html = (tmp_path / "forecast-report.html").read_text(encoding="utf-8")
    zone_table = html.split("by admission zone")[1].split("by school")[0]
    assert "q3-optimal" in zone_table
    assert zone_table.count("giả định / assumed") == 7
