"""The forecast report opened from disk in Chromium: drawn, offline and true to the JSON.

``schoolgis forecast report`` and ``schoolgis forecast run --output`` run on the same store
(both backends) with the bundled district's optimal zones published and one school's
first-grade classes entered, so the report has zone figures, school charts and a seats
line. The page must load without any page or console error and without fetching anything
but ``file:`` and ``data:`` URLs.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, Route
from sqlalchemy.orm import Session

from gis_service.db import repository
from gis_service.settings import Settings
from gis_service.startup import open_engine
from tests.support.browser import SCREENSHOTS
from tests.support.cli import run_schoolgis
from tests.support.zones import Computed, publish_zones

#: Nguyễn Thái Sơn, the only primary school of Phường 8: 2 classes of 35 = 70 seats.
SCHOOL_WITH_CLASSES = "79770006"
WARD_8 = "27121"
YEARS = ["--first-year", "2027", "--years", "5"]
#: The fills the shortfall map may use (surplus, shortfall, unknown capacity).
SHORTFALL_FILLS = {"#2166ac", "#67a9cf", "#d1e5f0", "#fddbc7", "#ef8a62", "#b2182b", "#d9d9d9"}
#: The rounding of the JSON (0.1) plus that of the page (whole children).
DISPLAY_TOLERANCE = 0.55
#: One worker runs the browser tests: one Chromium, and one writer of each screenshot.
pytestmark = pytest.mark.xdist_group("browser")


@dataclass(frozen=True)
class Run:
    """The files of one forecast run: the report page and the JSON at two levels."""

    page: Path
    wards: dict[str, Any]
    zones: dict[str, Any]


def _schoolgis(args: list[str], settings: Settings) -> None:
    done = run_schoolgis(args, settings)
    assert done.returncode == 0, done.stderr


@pytest.fixture
def run(fast_settings: Settings, computed: Computed, tmp_path: Path) -> Run:
    publish_zones(fast_settings, computed.optimal)
    engine = open_engine(fast_settings)
    try:
        with Session(engine) as session:
            school = repository.get_school(session, SCHOOL_WITH_CLASSES)
            repository.update_school(
                session, dataclasses.replace(school.data, first_grade_classes=2), actor="test"
            )
            session.commit()
    finally:
        engine.dispose()
    page = tmp_path / "báo cáo dự báo.html"  # a non-ASCII path, as planners name files
    _schoolgis(["forecast", "report", *YEARS, "--output", str(page)], fast_settings)
    documents = {}
    for level in ("ward", "zone"):
        out = tmp_path / f"{level}.json"
        _schoolgis(
            ["forecast", "run", *YEARS, "--level", level, "--output", str(out)], fast_settings
        )
        documents[level] = json.loads(out.read_text(encoding="utf-8"))
    return Run(page=page, wards=documents["ward"], zones=documents["zone"])


class PageWatch:
    """Page errors, console errors and requests for anything but ``file:`` or ``data:``."""

    def __init__(self, page: Page) -> None:
        self.problems: list[str] = []
        page.on("pageerror", self._page_error)
        page.on("console", self._console)
        page.on("request", self._request)
        page.route("**/*", self._route)

    def _page_error(self, error: Exception) -> None:
        self.problems.append(f"page error: {error}")

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.problems.append(f"console error: {message.text}")

    def _request(self, request: Request) -> None:
        if not request.url.startswith(("file://", "data:")):
            self.problems.append(f"request: {request.url}")

    def _route(self, route: Route) -> None:
        if route.request.url.startswith(("file://", "data:")):
            route.continue_()
        else:
            route.abort()


def _size(page: Page, selector: str) -> tuple[float, float]:
    box = page.locator(selector).bounding_box()
    assert box is not None, f"{selector} is not shown"
    return box["width"], box["height"]


def _drawn(page: Page, selector: str) -> None:
    width, height = _size(page, selector)
    assert width > 0, selector
    assert height > 0, selector


_TABLE_JS = """
(id) => [...document.querySelectorAll(`#${id} tr[data-code]`)].map((row) => [
    row.dataset.code,
    [...row.cells].slice(1, -3).map((cell) => cell.innerText),
    row.cells[row.cells.length - 3].innerText,
])
"""
_NUMBER = re.compile(r"[\d,]+")


def _numbers(text: str) -> list[float]:
    return [float(n.replace(",", "")) for n in _NUMBER.findall(text)]


def _check_table(page: Page, table_id: str, document: dict[str, Any]) -> int:
    """Check every row of a table against the JSON's items; return the number of rows."""
    years = document["years"]
    items = {
        str(year): {item["code"]: item for item in document["items_by_year"][str(year)]}
        for year in years
    }
    rows = page.evaluate(_TABLE_JS, table_id)
    assert [code for code, _, _ in rows] == [item["code"] for item in items[str(years[0])].values()]
    for code, cells, seats in rows:
        assert len(cells) == len(years), (code, cells)
        for year, cell in zip(years, cells, strict=True):
            band = items[str(year)][code]["first_grade_entrants"]
            shown = _numbers(cell)
            expected = [band["central"], band["low"], band["high"]]
            assert shown == pytest.approx(expected, abs=DISPLAY_TOLERANCE), (code, year, cell)
        stored = items[str(years[0])][code]["first_grade_seats"]
        if stored is None:
            assert seats.startswith("chưa rõ"), (code, seats)
        else:
            assert _numbers(seats)[0] == pytest.approx(stored, abs=DISPLAY_TOLERANCE), code
    return len(rows)


def test_the_report_is_drawn_offline_and_its_tables_are_the_json(
    browser: Browser, run: Run
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        watch = PageWatch(page)
        page.goto(run.page.as_uri(), wait_until="load")

        assert "Quận 3" in page.title()
        assert "alone (no forecast input version)" in page.locator("#inputs-used").inner_text()
        _drawn(page, '.card[data-unit="770"] svg.demand-chart')

        # The ward shortfall choropleth: every ward drawn, in the map's colours.
        _drawn(page, "#ward-shortfall-map")
        wards = page.locator("#ward-shortfall-map path[data-code]")
        assert wards.count() == 14
        fills = set()
        for index in range(wards.count()):
            ward = wards.nth(index)
            box = ward.bounding_box()
            assert box is not None
            assert box["width"] > 0
            assert box["height"] > 0
            fills.add(ward.get_attribute("fill"))
        assert fills <= SHORTFALL_FILLS
        assert len(fills) > 1
        _drawn(page, "#ward-entrants-map")

        # One demand-vs-capacity chart per zoned school; the seats line where seats are known.
        school_codes = [item["code"] for item in run.zones["items_by_year"]["2027"]]
        charts = page.locator("#school-charts .card[data-unit]")
        assert sorted(charts.evaluate_all("cards => cards.map(c => c.dataset.unit)")) == sorted(
            school_codes
        )
        for code in school_codes:
            chart = f'#school-charts .card[data-unit="{code}"]'
            _drawn(page, f"{chart} svg.demand-chart")
            _drawn(page, f"{chart} polygon.band")
            assert _size(page, f"{chart} polyline.central")[0] > 0
            seats_lines = page.locator(f"{chart} line.seats").count()
            assert seats_lines == (1 if code == SCHOOL_WITH_CLASSES else 0), code
        assert _size(page, f'#school-charts .card[data-unit="{SCHOOL_WITH_CLASSES}"] line.seats')[0]

        # The tables show the JSON forecast of the same store, to the child.
        assert _check_table(page, "ward-table", run.wards) == 14
        assert _check_table(page, "zone-table", run.zones) == 7
        ward_8 = {item["code"]: item for item in run.wards["items_by_year"]["2027"]}[WARD_8]
        assert ward_8["first_grade_seats"] == 70

        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / "forecast-report.png")
        assert watch.problems == []
    finally:
        context.close()
