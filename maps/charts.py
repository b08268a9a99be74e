"""SVG charts for self-contained pages: demand bands against seats, and choropleths.

Each chart is returned as :class:`markupsafe.Markup` built with ``Markup.format``, so any
text put in it is escaped; names go through :func:`escape` first, the page's one escaping
rule. Choropleths are drawn from outlines already in a metric CRS (metres), north up.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import shapely
from markupsafe import Markup
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

_BAND_FILL = "#9ecae1"
_CENTRAL = "#08519c"
_SEATS = "#cb181d"
_UNKNOWN = "#d9d9d9"
_SEQUENTIAL = ("#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c")
_SURPLUS = ("#2166ac", "#67a9cf", "#d1e5f0")  # large, medium, small surplus
_SHORT = ("#fddbc7", "#ef8a62", "#b2182b")  # small, medium, large shortfall

#: What a choropleth shows: seats short (+) or spare (-), or a count (entrants).
ChoroplethKind = Literal["shortfall", "entrants"]


@dataclass(frozen=True)
class MapArea:
    """An area drawn on a choropleth: its code, name and outline in a metric CRS (metres)."""

    code: str
    name: str
    outline: BaseGeometry


def escape(text: str) -> Markup:
    """Return ``text`` escaped for HTML text and attribute values (``&<>"'``)."""
    return Markup(html.escape(text))  # noqa: S704 - every special character is escaped


def format_count(value: float) -> str:
    """Return a count rounded to a whole number with thousands separators (``1,234``)."""
    return f"{value:,.0f}"


def _nice_max(value: float) -> float:
    if value <= 0 or not math.isfinite(value):
        return 1.0
    magnitude = float(10.0 ** math.floor(math.log10(value)))
    for step in (1.0, 2.0, 2.5, 5.0):
        if value <= step * magnitude:
            return step * magnitude
    return 10.0 * magnitude


def band_chart(
    years: Sequence[int],
    low: Sequence[float],
    central: Sequence[float],
    high: Sequence[float],
    *,
    seats: float | None,
    title: str,
    width: int = 380,
    height: int = 200,
) -> Markup:
    """Return a line chart of a forecast with its low-high band and a dashed seats line.

    Parameters
    ----------
    years
        The forecast years, one per value.
    low, central, high
        The forecast by year (persons).
    seats
        The seats to compare with, or ``None`` when unknown (the chart says so).
    title
        Shown above the chart and read by screen readers.
    width, height
        Size in pixels.
    """
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
        Markup(
            '<svg class="demand-chart" width="{0}" height="{1}" viewBox="0 0 {0} {1}" '
            'role="img" aria-label="{2}"><text x="{3}" y="16" font-size="13" '
            'font-weight="600">{2}</text>'
        ).format(width, height, escape(title), left)
    ]
    for tick in np.linspace(0, y_max, 5):
        parts.append(
            Markup(
                '<line x1="{0}" x2="{1}" y1="{2:.1f}" y2="{2:.1f}" stroke="#eee"/>'
                '<text x="{3}" y="{4:.1f}" font-size="10" text-anchor="end">{5}</text>'
            ).format(left, width - right, y(tick), left - 4, y(tick) + 4, format_count(tick))
        )
    step = max(1, math.ceil(len(years) * 34 / plot_w))  # about 34 px per year label
    parts.extend(
        Markup('<text x="{:.1f}" y="{}" font-size="10" text-anchor="middle">{}</text>').format(
            x(index), height - 10, year
        )
        for index, year in enumerate(years)
        if index % step == 0
    )
    upper = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(high))
    lower = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in reversed(list(enumerate(low))))
    line = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(central))
    parts.append(
        Markup(
            '<polygon class="band" points="{} {}" fill="{}" opacity="0.8"/>'
            '<polyline class="central" points="{}" fill="none" stroke="{}" stroke-width="2"/>'
        ).format(upper, lower, _BAND_FILL, line, _CENTRAL)
    )
    parts.extend(
        Markup(
            '<circle cx="{:.1f}" cy="{:.1f}" r="2.5" fill="{}"><title>{}: {} ({} - {})</title>'
            "</circle>"
        ).format(
            x(index),
            y(value),
            _CENTRAL,
            years[index],
            format_count(value),
            format_count(low[index]),
            format_count(high[index]),
        )
        for index, value in enumerate(central)
    )
    if seats is not None:
        parts.append(
            Markup(
                '<line class="seats" x1="{0}" x2="{1}" y1="{2:.1f}" y2="{2:.1f}" stroke="{3}" '
                'stroke-width="2" stroke-dasharray="6 4"/><text x="{1}" y="{4:.1f}" '
                'font-size="10" text-anchor="end" fill="{3}">{5} chỗ / seats</text>'
            ).format(left, width - right, y(seats), _SEATS, y(seats) - 4, format_count(seats))
        )
    else:
        parts.append(
            Markup(
                '<text x="{}" y="{}" font-size="10" text-anchor="end" fill="#777">'
                "chưa rõ số lớp / capacity unknown</text>"
            ).format(width - right, top + 12)
        )
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def band_legend() -> Markup:
    """Return the legend of :func:`band_chart`: the band, the central line, the seats."""
    return Markup(
        '<svg width="520" height="22" role="img" aria-label="legend">'
        '<rect x="0" y="5" width="26" height="12" fill="{0}"/>'
        '<text x="32" y="15" font-size="11">thấp - cao / low - high</text>'
        '<line x1="170" x2="196" y1="11" y2="11" stroke="{1}" stroke-width="2"/>'
        '<text x="202" y="15" font-size="11">trung bình / central</text>'
        '<line x1="330" x2="356" y1="11" y2="11" stroke="{2}" stroke-width="2" '
        'stroke-dasharray="6 4"/>'
        '<text x="362" y="15" font-size="11">chỗ lớp 1 / first-grade seats</text></svg>'
    ).format(_BAND_FILL, _CENTRAL, _SEATS)


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


def choropleth(
    areas: Sequence[MapArea],
    values: Mapping[str, float | None],
    *,
    title: str,
    kind: ChoroplethKind,
    element_id: str,
    notes: Mapping[str, str] | None = None,
    width: int = 520,
) -> Markup:
    """Return a map of areas coloured by a value, each labelled with its short name.

    Parameters
    ----------
    areas
        The areas, in drawing order.
    values
        Each area's value by code; ``None`` (or NaN) where it is unknown.
    title
        Shown above the map and read by screen readers.
    kind
        ``"shortfall"``: a diverging scale (shortfall red, surplus blue, unknown grey);
        ``"entrants"``: a sequential scale from zero.
    element_id
        The ``id`` of the ``<svg>``.
    notes
        Text added to an area's tooltip, by code.
    width
        Width in pixels; the height follows the areas' extent.
    """
    min_x, min_y, max_x, max_y = shapely.total_bounds([area.outline for area in areas])
    pad = 10
    scale = (width - 2 * pad) / max(max_x - min_x, 1.0)
    height = int((max_y - min_y) * scale + 2 * pad + 40)
    finite = [abs(v) for v in values.values() if v is not None and math.isfinite(v)]
    top_value = max(finite, default=0.0)
    parts = [
        Markup(
            '<svg id="{0}" width="{1}" height="{2}" viewBox="0 0 {1} {2}" role="img" '
            'aria-label="{3}"><text x="{4}" y="16" font-size="13" font-weight="600">{3}</text>'
        ).format(element_id, width, height, escape(title), pad)
    ]
    for area in areas:
        path = " ".join(
            "M "
            + " L ".join(
                f"{(px - min_x) * scale + pad:.1f},{(max_y - py) * scale + pad + 24:.1f}"
                for px, py in ring
            )
            + " Z"
            for ring in _rings(area.outline)
        )
        value = values.get(area.code)
        colour = (
            _shortfall_colour(value, top_value)
            if kind == "shortfall"
            else _sequential_colour(value or 0.0, top_value * 1.0001)
        )
        shown = (
            "chưa rõ / unknown"
            if value is None or not math.isfinite(value)
            else format_count(value)
        )
        point = area.outline.representative_point()
        parts.append(
            Markup(
                '<path d="{}" data-code="{}" fill="{}" fill-rule="evenodd" stroke="#555" '
                'stroke-width="0.8"><title>{}: {}{}</title></path><text x="{:.1f}" y="{:.1f}" '
                'font-size="9" text-anchor="middle" fill="#222">{}</text>'
            ).format(
                path,
                escape(area.code),
                colour,
                escape(area.name),
                shown,
                escape((notes or {}).get(area.code, "")),
                (point.x - min_x) * scale + pad,
                (max_y - point.y) * scale + pad + 24,
                escape(area.name.replace("Phường ", "P.")),
            )
        )
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def choropleth_legend(kind: ChoroplethKind, top_value: float) -> list[tuple[str, str]]:
    """Return the ``(colour, label)`` entries of a choropleth's legend.

    Parameters
    ----------
    kind
        As for :func:`choropleth`.
    top_value
        The largest absolute value shown on the map.
    """
    if kind == "shortfall":
        return [
            (_SURPLUS[0], f"thừa / surplus > {format_count(top_value * 2 / 3)}"),
            (_SURPLUS[2], "thừa ít / small surplus"),
            (_SHORT[0], "thiếu ít / small shortfall"),
            (_SHORT[2], f"thiếu / shortfall > {format_count(top_value * 2 / 3)}"),
            (_UNKNOWN, "chưa rõ số lớp / capacity unknown"),
        ]
    band = top_value / len(_SEQUENTIAL)
    return [
        (colour, f"{format_count(index * band)} - {format_count((index + 1) * band)}")
        for index, colour in enumerate(_SEQUENTIAL)
    ]
