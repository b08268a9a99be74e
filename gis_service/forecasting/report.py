"""The forecast report: one self-contained HTML file with inline SVG charts and maps.

Nothing in the page is fetched: no script, style sheet, font or image is linked, so it
opens from disk in any browser, offline. Charts are drawn here as SVG: the district's and
each ward's and school's first-grade entrants with their low-high band against the seats
(classes x cap), and ward maps (choropleths) of the seat shortfall and of the entrants,
drawn in the district's metric CRS. Tables give the entrants of each ward and, once
admission zones are published, of each zone by year against their seats. The page says
what the forecast is made from: the manifest and the forecast input version applied.

Chart cards carry ``data-unit`` (the ward, school or district code), maps ``id`` and their
wards ``data-code``, table rows ``data-code``, so the page can be checked in a browser.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from html import escape

import geopandas as gpd
import numpy as np
import numpy.typing as npt
from pyproj import CRS
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from enrolment.forecast import CapacityComparison
from gis_service.crs import WGS84, to_metric
from gis_service.forecasting.district import (
    DistrictForecast,
    describe_inputs,
    primary_school_counts,
)
from gis_service.records import WardRecord

__all__ = ["render_forecast_report"]

FloatArray = npt.NDArray[np.float64]

_BAND_FILL = "#9ecae1"
_CENTRAL = "#08519c"
_SEATS = "#cb181d"
_UNKNOWN = "#d9d9d9"
_SEQUENTIAL = ("#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c")
_SURPLUS = ("#2166ac", "#67a9cf", "#d1e5f0")  # large, medium, small surplus
_SHORT = ("#fddbc7", "#ef8a62", "#b2182b")  # small, medium, large shortfall

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem;
       color: #222; max-width: 1200px; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; } h2 { margin-top: 2.2rem; }
.sub { color: #555; margin-top: 0; }
.grid { display: flex; flex-wrap: wrap; gap: 1rem; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: 0.5rem; background: #fff; }
table { border-collapse: collapse; font-size: 0.85rem; }
th, td { border: 1px solid #ddd; padding: 0.25rem 0.45rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.short { color: #b2182b; font-weight: 600; } .note { color: #555; font-size: 0.9rem; }
svg text { font-family: inherit; }
"""


def _fmt(value: float) -> str:
    return f"{value:,.0f}"


def _nice_max(value: float) -> float:
    if value <= 0 or not math.isfinite(value):
        return 1.0
    magnitude = float(10.0 ** math.floor(math.log10(value)))
    for step in (1.0, 2.0, 2.5, 5.0):
        if value <= step * magnitude:
            return step * magnitude
    return 10.0 * magnitude


def _band_chart(
    years: Sequence[int],
    low: FloatArray,
    central: FloatArray,
    high: FloatArray,
    *,
    seats: float | None,
    title: str,
    width: int = 380,
    height: int = 200,
) -> str:
    left, right, top, bottom = 48, 12, 26, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    ceiling = max(float(np.max(high)), seats or 0.0) * 1.08
    y_max = _nice_max(ceiling)
    span = max(len(years) - 1, 1)

    def x(index: int) -> float:
        return left + plot_w * index / span

    def y(value: float) -> float:
        return top + plot_h * (1 - value / y_max)

    parts = [
        f'<svg class="demand-chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
        f'<text x="{left}" y="16" font-size="13" font-weight="600">{escape(title)}</text>',
    ]
    for tick in np.linspace(0, y_max, 5):
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            'stroke="#eee"/>'
            f'<text x="{left - 4}" y="{y(tick) + 4:.1f}" font-size="10" text-anchor="end">'
            f"{_fmt(tick)}</text>"
        )
    step = max(1, math.ceil(len(years) * 34 / plot_w))  # about 34 px per year label
    for index, year in enumerate(years):
        if index % step == 0:
            parts.append(
                f'<text x="{x(index):.1f}" y="{height - 10}" font-size="10" '
                f'text-anchor="middle">{year}</text>'
            )
    upper = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(high))
    lower = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in reversed(list(enumerate(low))))
    parts.append(
        f'<polygon class="band" points="{upper} {lower}" fill="{_BAND_FILL}" opacity="0.8"/>'
    )
    line = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(central))
    parts.append(
        f'<polyline class="central" points="{line}" fill="none" stroke="{_CENTRAL}" '
        'stroke-width="2"/>'
    )
    for index, value in enumerate(central):
        parts.append(
            f'<circle cx="{x(index):.1f}" cy="{y(value):.1f}" r="2.5" fill="{_CENTRAL}">'
            f"<title>{years[index]}: {_fmt(value)} ({_fmt(low[index])} - "
            f"{_fmt(high[index])})</title></circle>"
        )
    if seats is not None:
        parts.append(
            f'<line class="seats" x1="{left}" x2="{width - right}" y1="{y(seats):.1f}" '
            f'y2="{y(seats):.1f}" stroke="{_SEATS}" stroke-width="2" stroke-dasharray="6 4"/>'
            f'<text x="{width - right}" y="{y(seats) - 4:.1f}" font-size="10" '
            f'text-anchor="end" fill="{_SEATS}">{_fmt(seats)} chỗ / seats</text>'
        )
    else:
        parts.append(
            f'<text x="{width - right}" y="{top + 12}" font-size="10" text-anchor="end" '
            'fill="#777">chưa rõ số lớp / capacity unknown</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _legend_chart() -> str:
    return (
        '<svg width="520" height="22" role="img" aria-label="legend">'
        f'<rect x="0" y="5" width="26" height="12" fill="{_BAND_FILL}"/>'
        '<text x="32" y="15" font-size="11">thấp - cao / low - high</text>'
        f'<line x1="170" x2="196" y1="11" y2="11" stroke="{_CENTRAL}" stroke-width="2"/>'
        '<text x="202" y="15" font-size="11">trung bình / central</text>'
        f'<line x1="330" x2="356" y1="11" y2="11" stroke="{_SEATS}" stroke-width="2" '
        'stroke-dasharray="6 4"/>'
        '<text x="362" y="15" font-size="11">chỗ lớp 1 / first-grade seats</text></svg>'
    )


def _rings(geometry: BaseGeometry) -> list[Sequence[tuple[float, ...]]]:
    parts = list(geometry.geoms) if isinstance(geometry, MultiPolygon) else [geometry]
    polygons = [part for part in parts if isinstance(part, Polygon)]
    rings: list[Sequence[tuple[float, ...]]] = []
    for polygon in polygons:
        rings.append(list(polygon.exterior.coords))
        rings.extend(list(interior.coords) for interior in polygon.interiors)
    return rings


def _shortfall_colour(value: float | None, scale: float) -> str:
    if value is None or not math.isfinite(value):
        return _UNKNOWN
    share = abs(value) / scale if scale > 0 else 0.0
    level = 0 if share < 1 / 3 else 1 if share < 2 / 3 else 2
    return _SHORT[level] if value > 0 else _SURPLUS[2 - level]


def _sequential_colour(value: float, scale: float) -> str:
    if scale <= 0:
        return _SEQUENTIAL[0]
    level = min(int(value / scale * len(_SEQUENTIAL)), len(_SEQUENTIAL) - 1)
    return _SEQUENTIAL[level]


def _choropleth(
    wards: Sequence[WardRecord],
    metric_crs: CRS,
    values: Mapping[str, float | None],
    *,
    title: str,
    kind: str,
    element_id: str,
    notes: Mapping[str, str] | None = None,
    width: int = 520,
) -> str:
    frame = gpd.GeoDataFrame(
        {"code": [w.code for w in wards]}, geometry=[w.boundary for w in wards], crs=WGS84
    )
    metric = to_metric(frame, metric_crs)
    min_x, min_y, max_x, max_y = metric.total_bounds
    pad = 10
    scale = (width - 2 * pad) / max(max_x - min_x, 1.0)
    height = int((max_y - min_y) * scale + 2 * pad + 40)
    finite = [abs(v) for v in values.values() if v is not None and math.isfinite(v)]
    top_value = max(finite, default=0.0)
    parts = [
        f'<svg id="{element_id}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
        f'<text x="{pad}" y="16" font-size="13" font-weight="600">{escape(title)}</text>',
    ]
    for ward, geometry in zip(wards, metric.geometry, strict=True):
        path = " ".join(
            "M "
            + " L ".join(
                f"{(px - min_x) * scale + pad:.1f},{(max_y - py) * scale + pad + 24:.1f}"
                for px, py in ring
            )
            + " Z"
            for ring in _rings(geometry)
        )
        value = values.get(ward.code)
        colour = (
            _shortfall_colour(value, top_value)
            if kind == "shortfall"
            else _sequential_colour(value or 0.0, top_value * 1.0001)
        )
        shown = "chưa rõ / unknown" if value is None or not math.isfinite(value) else _fmt(value)
        parts.append(
            f'<path d="{path}" data-code="{escape(ward.code)}" fill="{colour}" '
            'fill-rule="evenodd" stroke="#555" stroke-width="0.8">'
            f"<title>{escape(ward.name)}: {shown}"
            f"{escape((notes or {}).get(ward.code, ''))}</title></path>"
        )
        point = geometry.representative_point()
        parts.append(
            f'<text x="{(point.x - min_x) * scale + pad:.1f}" '
            f'y="{(max_y - point.y) * scale + pad + 24:.1f}" font-size="9" '
            f'text-anchor="middle" fill="#222">{escape(ward.name.replace("Phường ", "P."))}'
            "</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _choropleth_legend(kind: str, top_value: float) -> str:
    if kind == "shortfall":
        entries = [
            (_SURPLUS[0], f"thừa / surplus > {_fmt(top_value * 2 / 3)}"),
            (_SURPLUS[2], "thừa ít / small surplus"),
            (_SHORT[0], "thiếu ít / small shortfall"),
            (_SHORT[2], f"thiếu / shortfall > {_fmt(top_value * 2 / 3)}"),
            (_UNKNOWN, "chưa rõ số lớp / capacity unknown"),
        ]
    else:
        band = top_value / len(_SEQUENTIAL)
        entries = [
            (colour, f"{_fmt(index * band)} - {_fmt((index + 1) * band)}")
            for index, colour in enumerate(_SEQUENTIAL)
        ]
    cells = "".join(
        f'<span style="display:inline-block;margin-right:0.8rem">'
        f'<span style="display:inline-block;width:14px;height:10px;background:{colour};'
        f'border:1px solid #888;margin-right:4px"></span>{escape(label)}</span>'
        for colour, label in entries
    )
    return f'<div class="note">{cells}</div>'


def _first_short(year: int | None) -> str:
    return "—" if year is None else f'<span class="short">{year}</span>'


def _comparison_table(
    comparison: CapacityComparison,
    names: Mapping[str, str],
    *,
    heading: str,
    table_id: str,
    assumed: frozenset[str] = frozenset(),
) -> str:
    """Entrants of each unit by year (central, low-high) with seats and first year short."""
    years = comparison.demand.years
    head = "".join(f"<th>{year}</th>" for year in years)
    rows = []
    for row, code in enumerate(comparison.demand.unit_ids):
        cells = "".join(
            f"<td>{_fmt(comparison.demand.central[row, column])}"
            f'<br><span class="note">{_fmt(comparison.demand.low[row, column])}&ndash;'
            f"{_fmt(comparison.demand.high[row, column])}</span></td>"
            for column in range(len(years))
        )
        seats = comparison.capacity.seats[row]
        seats_text = _fmt(seats) if math.isfinite(seats) else "chưa rõ"
        if code in assumed:
            seats_text += '<br><span class="note">giả định / assumed</span>'
        rows.append(
            f'<tr data-code="{escape(code)}"><td>{escape(names[code])}</td>{cells}'
            f"<td>{seats_text}</td>"
            f"<td>{_first_short(comparison.first_year_short('central')[row])}</td>"
            f"<td>{_first_short(comparison.first_year_short('high')[row])}</td></tr>"
        )
    return (
        f'<table id="{table_id}"><tr><th>{heading}</th>{head}<th>chỗ / seats</th>'
        "<th>thiếu từ / short from</th><th>(cao / high)</th></tr>" + "".join(rows) + "</table>"
    )


def _zone_section(forecast: DistrictForecast) -> str:
    zones = forecast.zones
    if zones is None:
        return (
            "<p class='note'>Chưa có khu vực tuyển sinh được công bố / no published admission "
            "zones: zone figures appear once a zone version is computed and published.</p>"
        )
    version = zones.version
    return (
        f"<p class='note'>Zone version {escape(version.name)} ({escape(version.method)}), "
        "published "
        + ("" if version.published_at is None else version.published_at.date().isoformat())
        + ". Seats are those its zoning used.</p>"
        + _comparison_table(
            zones.vs_capacity,
            {str(z.school_code): z.school_name or str(z.school_code) for z in zones.zones},
            heading="Khu vực (trường) / zone (school)",
            table_id="zone-table",
            assumed=frozenset(str(z.school_code) for z in zones.zones if z.seats_assumed),
        )
    )


def _inputs_list(forecast: DistrictForecast) -> str:
    items = "".join(
        f"<li><b>{escape(note.name)}</b>: {escape(note.source)} (as of {note.as_of})</li>"
        for note in forecast.inputs.notes
    )
    return (
        f'<p id="inputs-used">Đầu vào / inputs: {escape(describe_inputs(forecast))}</p>'
        f"<ul>{items}</ul>"
    )


def _inputs_version_label(forecast: DistrictForecast) -> str:
    version = forecast.inputs.input_version
    if version is None:
        return "forecast manifest alone"
    return f"forecast input version {version.name!r} (sha256 {version.inputs_hash[:12]}…)"


def _school_section(forecast: DistrictForecast) -> str:
    comparison = forecast.schools_vs_capacity
    rows = (
        {code: i for i, code in enumerate(comparison.demand.unit_ids)}
        if comparison is not None
        else {}
    )
    charts, missing = [], []
    for result in forecast.schools:
        data = result.school.data
        if comparison is not None and data.code in rows:
            row = rows[data.code]
            seats = comparison.capacity.seats[row]
            charts.append(
                f'<div class="card" data-unit="{escape(data.code)}">'
                + _band_chart(
                    forecast.years,
                    comparison.demand.low[row],
                    comparison.demand.central[row],
                    comparison.demand.high[row],
                    seats=float(seats) if math.isfinite(seats) else None,
                    title=data.name,
                )
                + f'<div class="note">{escape(result.demand_method or "")}</div></div>'
            )
        else:
            seats_text = (
                "chưa rõ" if data.first_grade_seats is None else str(data.first_grade_seats)
            )
            missing.append(
                f"<tr><td>{escape(data.name)}</td><td>{escape(data.code)}</td>"
                f"<td>{seats_text}</td><td style='text-align:left'>{escape(result.reason or '')}"
                "</td></tr>"
            )
    parts = []
    if charts:
        parts.append(f'<div class="grid" id="school-charts">{"".join(charts)}</div>')
    if missing:
        parts.append(
            "<p class='note'>Trường chưa có dự báo nhu cầu / schools without a demand "
            "forecast:</p><table><tr><th>trường / school</th><th>mã / code</th>"
            "<th>chỗ lớp 1 / seats</th><th>lý do / reason</th></tr>" + "".join(missing) + "</table>"
        )
    if not forecast.schools:
        parts.append("<p>Không có trường tiểu học đang hoạt động / no open primary school.</p>")
    return "".join(parts)


def render_forecast_report(
    forecast: DistrictForecast,
    *,
    generated_at: dt.datetime,
    map_year: int | None = None,
) -> str:
    """Return the forecast report as one self-contained HTML page.

    Parameters
    ----------
    forecast
        The district forecast (:func:`gis_service.forecasting.district.compute_district_forecast`).
    generated_at
        When the report was made (shown on the page).
    map_year
        Year shown on the maps (default: the last forecast year).

    Returns
    -------
    str
        The HTML document (UTF-8 text), with no link to anything outside it.
    """
    years = forecast.years
    map_year = years[-1] if map_year is None else map_year
    column = years.index(map_year)
    district = forecast.district
    metric_crs = CRS.from_epsg(district.metric_epsg)
    total = forecast.district_vs_capacity
    seats = float(total.capacity.seats[0])
    schools_known = sum(
        1 for s in forecast.schools if s.school.data.first_grade_classes is not None
    )
    wards_cmp = forecast.wards_vs_capacity
    shortfall = {
        code: (
            None
            if not wards_cmp.capacity_known[row]
            else float(wards_cmp.seat_shortfall.central[row, column])
        )
        for row, code in enumerate(wards_cmp.demand.unit_ids)
    }
    entrants = {
        code: float(wards_cmp.demand.central[row, column])
        for row, code in enumerate(wards_cmp.demand.unit_ids)
    }
    finite_short = [abs(v) for v in shortfall.values() if v is not None]
    ward_charts = "".join(
        f'<div class="card" data-unit="{escape(ward.code)}">'
        + _band_chart(
            years,
            wards_cmp.demand.low[row],
            wards_cmp.demand.central[row],
            wards_cmp.demand.high[row],
            seats=float(wards_cmp.capacity.seats[row]) if wards_cmp.capacity_known[row] else None,
            title=ward.name,
            width=300,
            height=170,
        )
        + "</div>"
        for row, ward in enumerate(
            sorted(forecast.wards, key=lambda w: wards_cmp.demand.unit_ids.index(w.code))
        )
    )
    rates = forecast.inputs.district_growth
    first_short = total.first_year_short("central")[0]
    summary = (
        f"<p>Trẻ vào lớp 1 năm {years[0]}: <b>{_fmt(total.demand.central[0, 0])}</b> "
        f"({_fmt(total.demand.low[0, 0])}&ndash;{_fmt(total.demand.high[0, 0])}); năm {years[-1]}: "
        f"<b>{_fmt(total.demand.central[0, -1])}</b> ({_fmt(total.demand.low[0, -1])}&ndash;"
        f"{_fmt(total.demand.high[0, -1])}). First-grade entrants, central (low&ndash;high).</p>"
        f"<p>{schools_known} of {len(forecast.schools)} open primary schools have a known "
        "number of first-grade classes"
        + (
            f"; district seats {_fmt(seats)}, first year short: {first_short or 'none'}."
            if math.isfinite(seats)
            else "; the district's first-grade seats are unknown until every school's classes "
            "are entered (PATCH /api/v1/schools/{code})."
        )
        + "</p>"
    )
    method = (
        "<p>Cohort-component projection of the children aged 0&ndash;6 of each ward, one year at a "
        "time (survival, net migration, births trend), from the "
        f"{forecast.inputs.base.base_year} census: the district's 5-year age groups split into "
        f"single ages ({escape(forecast.inputs.split_method)}) and applied to each ward's "
        "total. The children aged 6 in a year enter first grade that September. Each ward's "
        "net migration and births change at its annual population growth between the two "
        "census years; the low and high variants shift those rates by the spread of the "
        f"district's past annual growth (10th&ndash;90th percentile around the median: "
        f"{rates.low - rates.central:+.2%} / {rates.high - rates.central:+.2%} a year). "
        "Housing developments add their pupil yield. Seats are first-grade classes &times; class "
        f"cap (default {forecast.class_size_cap}). "
        + (
            "A zone's demand is the entrants of its wards' demand points in the zone (in "
            "proportion to their children; a located development's yield goes to its zone), "
            "against the seats of the zone version; a school's demand is its zone's.</p>"
            if forecast.zones is not None
            else "Without published admission zones a school's demand is its share of its "
            "ward's entrants and needs its first-grade enrolment history.</p>"
        )
    )
    body = [
        f"<h1>Dự báo tuyển sinh lớp 1 — {escape(district.name)}</h1>",
        f"<p class='sub'>First-grade demand forecast {years[0]}&ndash;{years[-1]}, "
        f"{escape(district.province_name or '')} · generated "
        f"{generated_at.isoformat(timespec='minutes')} · inputs: "
        f"{escape(_inputs_version_label(forecast))}</p>",
        summary,
        _legend_chart(),
        f'<div class="card" data-unit="{escape(district.code)}" style="display:inline-block">'
        + _band_chart(
            years,
            total.demand.low[0],
            total.demand.central[0],
            total.demand.high[0],
            seats=seats if math.isfinite(seats) else None,
            title=f"{district.name}: trẻ vào lớp 1 / first-grade entrants",
            width=760,
            height=280,
        )
        + "</div>",
        f"<h2>Bản đồ phường năm {map_year} / ward maps, {map_year}</h2>",
        '<div class="grid"><div class="card">'
        + _choropleth(
            forecast.wards,
            metric_crs,
            shortfall,
            title=f"Thiếu (+) / thừa (\u2212) chỗ lớp 1 — seat shortfall, {map_year}",
            kind="shortfall",
            element_id="ward-shortfall-map",
            notes={
                code: f" ({count} trường tiểu học / primary schools)"
                for code, count in primary_school_counts(forecast).items()
            },
        )
        + _choropleth_legend("shortfall", max(finite_short, default=0.0))
        + '</div><div class="card">'
        + _choropleth(
            forecast.wards,
            metric_crs,
            entrants,
            title=f"Trẻ vào lớp 1 — entrants (central), {map_year}",
            kind="entrants",
            element_id="ward-entrants-map",
        )
        + _choropleth_legend("entrants", max(entrants.values(), default=0.0))
        + "</div></div>",
        "<p class='note'>Ward seats are the seats of the open primary schools located in the "
        "ward; children cross ward lines, so a ward without a school shows its whole demand "
        "as a shortfall.</p>",
        "<h2>Theo phường / by ward</h2>",
        _comparison_table(
            forecast.wards_vs_capacity,
            {w.code: w.name for w in forecast.wards},
            heading="Phường / ward",
            table_id="ward-table",
        ),
        f'<div class="grid" id="ward-charts" style="margin-top:1rem">{ward_charts}</div>',
        "<h2>Theo khu vực tuyển sinh / by admission zone</h2>",
        _zone_section(forecast),
        "<h2>Theo trường / by school</h2>",
        _school_section(forecast),
        "<h2>Phương pháp và nguồn / method and inputs</h2>",
        method,
        _inputs_list(forecast),
        "<p class='note'>School names from the registry (OpenStreetMap-derived entries: © "
        "OpenStreetMap contributors, ODbL 1.0). Ward polygons: CityScope HCMC; population: "
        "2019 Population and Housing Census (GSO).</p>",
    ]
    return (
        '<!DOCTYPE html>\n<html lang="vi"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Dự báo lớp 1 — {escape(district.name)} {years[0]}&ndash;{years[-1]}</title>"
        f"<style>{_CSS}</style></head><body>" + "\n".join(body) + "</body></html>\n"
    )
