"""The forecast report drawn from hand-made data: no store, no forecast."""

from __future__ import annotations

import datetime as dt
import re

from shapely.geometry import box

from maps.charts import MapArea
from maps.report import (
    ForecastReportData,
    InputSource,
    PublishedZones,
    SchoolWithoutForecast,
    UnitForecast,
    render_forecast_report,
)

YEARS = (2027, 2028)


def _data(*, zones: PublishedZones | None = None) -> ForecastReportData:
    ward_1 = UnitForecast(
        code="W1",
        name="Phường 1",
        low=(1180.0, 1195.4),
        central=(1234.4, 1250.0),
        high=(1290.0, 1310.6),
        seats=1200.0,
        first_year_short=2027,
        first_year_short_high=2027,
    )
    ward_2 = UnitForecast(
        code="W2",
        name='Phường <b>2</b> & "Bến"',
        low=(40.0, 41.0),
        central=(45.0, 46.0),
        high=(50.0, 51.0),
    )
    return ForecastReportData(
        years=YEARS,
        map_year=2028,
        generated_at=dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC),
        district=UnitForecast(
            code="770",
            name="Quận 3",
            low=(1220.0, 1236.4),
            central=(1279.4, 1296.0),
            high=(1340.0, 1361.6),
            seats=1400.0,
        ),
        province_name="Thành phố Hồ Chí Minh",
        wards=(ward_1, ward_2),
        ward_areas=(
            MapArea("W1", ward_1.name, box(0, 0, 1000, 1000)),
            MapArea("W2", ward_2.name, box(1000, 0, 1800, 600)),
        ),
        ward_shortfall={"W1": 50.0, "W2": None},
        ward_entrants={"W1": 1250.0, "W2": 46.0},
        primary_schools={"W1": 1, "W2": 0},
        schools=(
            UnitForecast(
                code="S1",
                name="TH Nguyễn Thái Sơn",
                low=(60.0, 61.0),
                central=(66.0, 68.0),
                high=(72.0, 75.0),
                seats=70.0,
                note="ward share",
            ),
        ),
        schools_without_forecast=(
            SchoolWithoutForecast(
                code="S2",
                name="TH Lương Định Của",
                first_grade_seats=None,
                reason="no first-grade enrolment history",
            ),
        ),
        schools_with_classes=1,
        zones=zones,
        inputs_label="forecast input version 'permits' (sha256 0123456789ab…)",
        inputs_description="forecast.toml alone (no forecast input version)",
        input_sources=(InputSource("census age groups", "2019 census (GSO)", dt.date(2019, 4, 1)),),
        census_year=2019,
        split_method="Sprague",
        growth_spread=(-0.0125, 0.0150),
        class_size_cap=35,
    )


def _row(html: str, table_id: str, code: str) -> str:
    table = html.split(f'<table id="{table_id}">')[1].split("</table>", maxsplit=1)[0]
    match = re.search(rf'<tr data-code="{code}">(.*?)</tr>', table, re.DOTALL)
    assert match is not None, (table_id, code)
    return match.group(1)


def test_the_page_shows_the_data_it_is_given() -> None:
    html = render_forecast_report(_data())
    text = " ".join(html.split())  # the template wraps its long lines

    assert html.startswith("<!DOCTYPE html>")
    assert "<title>Dự báo lớp 1 — Quận 3 2027&ndash;2028</title>" in html
    assert "generated 2026-12-01T09:30+00:00" in text
    assert "inputs: forecast input version &#x27;permits&#x27; (sha256 0123456789ab…)" in text
    assert "district seats 1,400, first year short: none." in text
    assert "1 of 2 open primary schools have a known number of first-grade classes" in text
    assert "(10th&ndash;90th percentile around the median: -1.25% / +1.50% a year)" in text
    # The ward table: entrants rounded to the child with their band, seats, first years short.
    ward_1 = _row(html, "ward-table", "W1")
    assert '<td>1,234<br><span class="note">1,180&ndash;1,290</span></td>' in ward_1
    assert '<td>1,200</td><td><span class="short">2027</span></td>' in ward_1
    assert "<td>chưa rõ</td><td>—</td><td>—</td>" in _row(html, "ward-table", "W2")
    # Names are text, never markup.
    assert "<b>2</b>" not in html
    assert "Phường &lt;b&gt;2&lt;/b&gt; &amp; &quot;Bến&quot;" in html
    # One chart per ward and school; both maps with every ward.
    assert html.count('class="demand-chart"') == 1 + 2 + 1
    for map_id in ("ward-shortfall-map", "ward-entrants-map"):
        drawn = html.split(f'<svg id="{map_id}"')[1].split("</svg>")[0]
        assert drawn.count("<path d=") == 2
    assert "<title>Phường 1: 50 (1 trường tiểu học / primary schools)</title>" in html
    assert ": chưa rõ / unknown (0 trường tiểu học / primary schools)</title>" in html
    assert "schools without a demand forecast" in html
    assert "TH Lương Định Của" in html
    assert "Chưa có khu vực tuyển sinh được công bố" in html
    assert "<li><b>census age groups</b>: 2019 census (GSO) (as of 2019-04-01)</li>" in html
    for fetched in ("<script", "<link", "<img", "http:", "https:", "url("):
        assert fetched not in html


def test_published_zones_get_their_table() -> None:
    zone = UnitForecast(
        code="S1",
        name="TH Nguyễn Thái Sơn",
        low=(60.0, 61.0),
        central=(66.0, 68.0),
        high=(72.0, 75.0),
        seats=280.0,
        seats_assumed=True,
    )
    zones = PublishedZones(
        name="q3-optimal", method="optimal", published_on=dt.date(2026, 6, 1), zones=(zone,)
    )
    html = render_forecast_report(_data(zones=zones))
    text = " ".join(html.split())

    assert "Zone version q3-optimal (optimal), published 2026-06-01." in text
    assert '<br><span class="note">giả định / assumed</span>' in _row(html, "zone-table", "S1")
    assert "A zone's demand is the entrants of its wards' demand points" in text
