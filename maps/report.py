"""The forecast report: one self-contained HTML page with inline SVG charts and maps.

Nothing in the page is fetched: no script, style sheet, font or image is linked, so it
opens from disk in any browser, offline. The page is the template
``assets/forecast-report.html`` filled from plain data (:class:`ForecastReportData`): the
district's and each ward's and school's first-grade entrants with their low-high band
against the seats (classes x cap), ward maps (choropleths) of the seat shortfall and of the
entrants, tables by ward and, once admission zones are published, by zone, and what the
forecast is made from.

Chart cards carry ``data-unit`` (the ward, school or district code), maps ``id`` and their
wards ``data-code``, table rows ``data-code``, so the page can be checked in a browser.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from maps.assets import ASSET_DIR
from maps.charts import (
    MapArea,
    band_chart,
    band_legend,
    choropleth,
    choropleth_legend,
    escape,
    format_count,
)

__all__ = [
    "ForecastReportData",
    "InputSource",
    "PublishedZones",
    "SchoolWithoutForecast",
    "UnitForecast",
    "render_forecast_report",
]


@dataclass(frozen=True)
class UnitForecast:
    """First-grade entrants of one unit (the district, a ward, zone or school) against seats.

    Attributes
    ----------
    code, name
        The unit.
    low, central, high
        Entrants in each forecast year (persons).
    seats
        First-grade seats (classes x cap), or ``None`` where the classes are unknown.
    first_year_short, first_year_short_high
        The first year the central (high) entrants exceed the seats, or ``None``.
    seats_assumed
        Whether the seats are assumed rather than entered (a zone's school).
    note
        A line under the unit's chart (how a school's demand is made).
    """

    code: str
    name: str
    low: tuple[float, ...]
    central: tuple[float, ...]
    high: tuple[float, ...]
    seats: float | None = None
    first_year_short: int | None = None
    first_year_short_high: int | None = None
    seats_assumed: bool = False
    note: str = ""


@dataclass(frozen=True)
class SchoolWithoutForecast:
    """An open primary school whose demand cannot be forecast, and why."""

    code: str
    name: str
    first_grade_seats: int | None
    reason: str


@dataclass(frozen=True)
class PublishedZones:
    """The published admission zone version and its zones' entrants against their seats."""

    name: str
    method: str
    published_on: dt.date | None
    zones: tuple[UnitForecast, ...]


@dataclass(frozen=True)
class InputSource:
    """One input of the forecast: what, from where, as of when."""

    name: str
    source: str
    as_of: dt.date


@dataclass(frozen=True)
class ForecastReportData:
    """Everything the forecast report shows.

    Attributes
    ----------
    years
        The forecast years.
    map_year
        The year shown on the ward maps.
    generated_at
        When the report was made.
    district
        The district's entrants against its seats.
    province_name
        The district's province (empty when unknown).
    wards
        Each ward's entrants against the seats of the schools located in it.
    ward_areas
        The wards in the district's metric CRS, in drawing order.
    ward_shortfall
        Each ward's seat shortfall (negative: surplus) in ``map_year``, ``None`` where its
        seats are unknown, by code.
    ward_entrants
        Each ward's central entrants in ``map_year``, by code.
    primary_schools
        The number of open primary schools located in each ward, by code.
    schools
        The entrants of each school with a demand forecast against its seats.
    schools_without_forecast
        The open primary schools without one.
    schools_with_classes
        How many open primary schools have a known number of first-grade classes.
    zones
        The published zone version's figures, or ``None`` without one.
    inputs_label
        The forecast input version applied, or that the manifest alone is.
    inputs_description
        In one line what the forecast is made from.
    input_sources
        Each input with its source.
    census_year
        The census the projection starts from.
    split_method
        How the census's 5-year age groups are split into single ages.
    growth_spread
        The low and high variants' shift of the annual growth rate from the central one.
    class_size_cap
        The default first-grade class cap (pupils).
    """

    years: tuple[int, ...]
    map_year: int
    generated_at: dt.datetime
    district: UnitForecast
    province_name: str
    wards: tuple[UnitForecast, ...]
    ward_areas: tuple[MapArea, ...]
    ward_shortfall: dict[str, float | None]
    ward_entrants: dict[str, float]
    primary_schools: dict[str, int]
    schools: tuple[UnitForecast, ...]
    schools_without_forecast: tuple[SchoolWithoutForecast, ...]
    schools_with_classes: int
    zones: PublishedZones | None
    inputs_label: str
    inputs_description: str
    input_sources: tuple[InputSource, ...]
    census_year: int
    split_method: str
    growth_spread: tuple[float, float]
    class_size_cap: int

    @property
    def open_schools(self) -> int:
        """The number of open primary schools."""
        return len(self.schools) + len(self.schools_without_forecast)


def _finalize(value: object) -> object:
    """Escape what the template writes as the charts escape their text (:func:`escape`).

    The page thus spells ``'`` and ``"`` one way (``&#x27;``, ``&quot;``) throughout;
    autoescaping leaves the resulting :class:`~markupsafe.Markup` as it is.
    """
    return value if isinstance(value, Markup) else escape(str(value))


_ENVIRONMENT = Environment(
    loader=FileSystemLoader(ASSET_DIR),
    autoescape=True,
    finalize=_finalize,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_ENVIRONMENT.filters["format_count"] = format_count
_TEMPLATE = _ENVIRONMENT.get_template("forecast-report.html")


def _unit_chart(
    unit: UnitForecast, years: Sequence[int], *, width: int, height: int, title: str | None = None
) -> Markup:
    return band_chart(
        years,
        unit.low,
        unit.central,
        unit.high,
        seats=unit.seats,
        title=unit.name if title is None else title,
        width=width,
        height=height,
    )


def _context(data: ForecastReportData) -> dict[str, object]:
    """Return the template's variables: the data and the charts drawn from it."""
    years, map_year, district = data.years, data.map_year, data.district
    known_shortfall = [abs(v) for v in data.ward_shortfall.values() if v is not None]
    return {
        "data": data,
        "band_legend": band_legend(),
        "district_chart": _unit_chart(
            district,
            years,
            width=760,
            height=280,
            title=f"{district.name}: trẻ vào lớp 1 / first-grade entrants",
        ),
        "shortfall_map": choropleth(
            data.ward_areas,
            data.ward_shortfall,
            title=f"Thiếu (+) / thừa (\u2212) chỗ lớp 1 — seat shortfall, {map_year}",
            kind="shortfall",
            element_id="ward-shortfall-map",
            notes={
                code: f" ({count} trường tiểu học / primary schools)"
                for code, count in data.primary_schools.items()
            },
        ),
        "shortfall_legend": choropleth_legend("shortfall", max(known_shortfall, default=0.0)),
        "entrants_map": choropleth(
            data.ward_areas,
            data.ward_entrants,
            title=f"Trẻ vào lớp 1 — entrants (central), {map_year}",
            kind="entrants",
            element_id="ward-entrants-map",
        ),
        "entrants_legend": choropleth_legend(
            "entrants", max(data.ward_entrants.values(), default=0.0)
        ),
        "ward_charts": [
            (ward, _unit_chart(ward, years, width=300, height=170)) for ward in data.wards
        ],
        "school_charts": [
            (school, _unit_chart(school, years, width=380, height=200)) for school in data.schools
        ],
        "growth_spread": [f"{shift:+.2%}" for shift in data.growth_spread],
    }


def render_forecast_report(data: ForecastReportData) -> str:
    """Return the forecast report as one self-contained HTML page.

    Parameters
    ----------
    data
        What the report shows.

    Returns
    -------
    str
        The HTML document (UTF-8 text), with no link to anything outside it.
    """
    return _TEMPLATE.render(_context(data))
