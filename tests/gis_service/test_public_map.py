"""The public web map in a real browser (Debian's headless Chromium driven by Playwright).

The service runs on a free local port with a fresh store of each backend and the bundled
district's published zones. Screenshots are written to ``build/screenshots/``; the
browser is the ``browser`` fixture of ``tests/conftest.py``.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page
from sqlalchemy.orm import Session

from gis_service.app import create_app
from gis_service.ingest.district import load_district
from gis_service.settings import Settings
from gis_service.startup import open_engine, prepare_store
from tests.support.admission import SCHOOLS, application, create_round, homes, names, submit
from tests.support.browser import SCREENSHOTS, wait_until
from tests.support.http import auth
from tests.support.stores import make_token
from tests.support.zones import Computed, publish_zones

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
HOME = (10.7800, 106.6850)  # lat, lon of a home in Quận 3
#: What the first view may transfer (page, scripts, styles, images; gzip where it helps):
#: about 2.5 s on a 1 Mbit/s rural mobile link.
PAGE_BUDGET_BYTES = 300_000
#: One worker runs the browser tests: one Chromium, and one writer of each screenshot.
pytestmark = pytest.mark.xdist_group("browser")


@contextmanager
def serving(settings: Settings) -> Iterator[str]:
    """Run the service on a free port in a thread; yield its base URL."""
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=0, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive(), "the service did not start"
        assert time.monotonic() < deadline, "the service did not start within 60 s"
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture
def site(fast_settings: Settings, computed: Computed) -> Iterator[str]:
    publish_zones(fast_settings, computed.optimal)
    with serving(fast_settings) as url:
        yield url


@pytest.fixture(scope="module")
def sites() -> Iterator[Callable[[Settings], str]]:
    """Serve a store once for the module: return the URL of the service on it."""
    with ExitStack() as stack:
        urls: dict[Path, str] = {}

        def url_of(settings: Settings) -> str:
            if settings.data_dir not in urls:
                urls[settings.data_dir] = stack.enter_context(serving(settings))
            return urls[settings.data_dir]

        yield url_of


@pytest.fixture
def read_only_site(zoned_read_only_settings: Settings, sites: Callable[[Settings], str]) -> str:
    """The service on the shared read-only store with the zones published (tests that read)."""
    return sites(zoned_read_only_settings)


@contextmanager
def opened(
    browser: Browser,
    url: str,
    *,
    path: str = "/",
    ready: str = "window.SchoolMap && SchoolMap.state.items",
    width: int = 1280,
    height: int = 800,
    allow: str | None = None,
) -> Iterator[Page]:
    """Open ``url`` in a fresh context; fail on any page error or request leaving the site.

    ``allow`` is a console error the test expects (for example a refused request).
    """
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    errors: list[str] = []
    outside: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on(
        "request",
        lambda request: (
            None if request.url.startswith((url, "data:")) else outside.append(request.url)
        ),
    )
    page.goto(url + path)
    wait_until(page, ready)
    try:
        yield page
    finally:
        context.close()
    assert [e for e in errors if allow is None or allow not in e] == [], errors
    assert outside == [], f"the page asked outside the service: {outside}"


def _markers_in_view(page: Page) -> int:
    """Schools drawn on the map: single markers plus the counts on the clusters."""
    singles = page.locator(".sg-school").count()
    clusters = page.locator(".marker-cluster span").all_inner_texts()
    return singles + sum(int(text) for text in clusters)


def _click_at(page: Page, lat: float, lon: float) -> None:
    point = page.evaluate(
        "([lat, lon]) => { const p = SchoolMap.state.map.latLngToContainerPoint([lat, lon]);"
        " return [p.x, p.y]; }",
        [lat, lon],
    )
    box = page.locator(".folium-map").bounding_box()
    panel = page.locator("#sg-panel").bounding_box()
    assert box is not None
    assert panel is not None
    x, y = box["x"] + point[0], box["y"] + point[1]
    assert not (panel["x"] <= x <= panel["x"] + panel["width"] and panel["y"] <= y), "under panel"
    page.mouse.click(x, y)


def _get(site: str, path: str, **params: str) -> dict[str, Any]:
    url = f"{site}{path}?{urllib.parse.urlencode(params)}"
    with urllib.request.urlopen(url, timeout=60) as response:
        assert response.status == 200
        answer: dict[str, Any] = json.load(response)
    return answer


def _eligibility(site: str, home: str, mode: str) -> dict[str, Any]:
    lat, lon = (part.strip() for part in home.split(","))
    return _get(site, "/api/v1/eligibility", lat=lat, lon=lon, mode=mode)


def _metres(value: float, language: str) -> str:
    separator = "." if language == "vi" else ","
    return f"{round(value):,}".replace(",", separator)


def test_parents_find_their_zone_school_on_the_map(browser: Browser, read_only_site: str) -> None:
    schools = _get(read_only_site, "/api/v1/schools", limit="500")
    codes = sorted(f["properties"]["code"] for f in schools["features"])
    assert len(codes) == 27
    with opened(browser, read_only_site) as page:
        assert page.locator("html").get_attribute("lang") == "vi"
        assert _markers_in_view(page) == len(codes)
        on_map = page.evaluate(
            "Object.keys(SchoolMap.state.markers).filter("
            "c => SchoolMap.state.schools.hasLayer(SchoolMap.state.markers[c])).sort()"
        )
        assert on_map == codes
        _click_at(page, *HOME)
        page.wait_for_selector("#sg-zone-school")
        home = page.input_value("#sg-home")
        walk = _eligibility(read_only_site, home, "walk")
        motorbike = _eligibility(read_only_site, home, "motorbike")
        zone_school = page.locator("#sg-zone-school")
        assert zone_school.inner_text() == walk["zone_school"]["name"]
        assert zone_school.get_attribute("data-code") == walk["zone_school"]["code"]
        for mode, answer in (("walk", walk), ("motorbike", motorbike)):
            line = page.locator(f'#sg-answer [data-mode="{mode}"]')
            assert float(line.get_attribute("data-distance-m") or "nan") == pytest.approx(
                answer["zone_school"]["distance_m"], abs=0
            )
            assert _metres(answer["zone_school"]["distance_m"], "vi") + " m" in line.inner_text()
        others = page.locator(".sg-others li")
        assert others.count() == len(walk["other_schools"])
        assert [others.nth(i).get_attribute("data-code") for i in range(others.count())] == [
            s["code"] for s in walk["other_schools"]
        ]
        assert page.evaluate("SchoolMap.state.route !== null")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / "public-map-desktop.png")

        page.get_by_role("button", name="Switch to English").click()
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.get_by_label("Find a school, ward or street").is_visible()
        assert page.locator("#sg-answer").get_by_text("Your first-grade zone school").is_visible()
        walking = page.locator('#sg-answer [data-mode="walk"]').inner_text()
        assert walking.startswith("Walking: ")
        assert _metres(walk["zone_school"]["distance_m"], "en") + " m" in walking
        page.get_by_role("button", name="Chuyển sang tiếng Việt").click()
        assert page.get_by_label("Tìm trường, phường hoặc đường").is_visible()

        page.get_by_label("Tìm trường, phường hoặc đường").fill("nguyen thai son")
        found = page.locator("#sg-results button").all_inner_texts()
        assert any("Nguyễn Thái Sơn" in text for text in found), found
        weight = page.evaluate(
            "performance.getEntriesByType('navigation').concat("
            "performance.getEntriesByType('resource')).reduce((n, e) => n + e.transferSize, 0)"
        )
        assert 0 < weight <= PAGE_BUDGET_BYTES


def test_the_map_fits_a_phone_screen(browser: Browser, read_only_site: str) -> None:
    with opened(browser, read_only_site, width=360, height=740) as page:
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        panel = page.locator("#sg-panel").bounding_box()
        assert panel is not None
        assert panel["width"] <= 360
        assert panel["y"] > 740 / 3  # a bottom sheet: the map stays visible above it
        page.fill("#sg-home", f"{HOME[0]}, {HOME[1]}")
        page.get_by_role("button", name="Tìm trường").click()
        page.wait_for_selector("#sg-zone-school")
        walk = _eligibility(read_only_site, page.input_value("#sg-home"), "walk")
        assert page.locator("#sg-zone-school").inner_text() == walk["zone_school"]["name"]
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / "public-map-phone.png")


def test_a_home_outside_the_district_gets_the_reason(browser: Browser, read_only_site: str) -> None:
    with opened(browser, read_only_site, allow="status of 422") as page:
        page.fill("#sg-home", "10.8500, 106.7700")
        page.get_by_role("button", name="Tìm trường").click()
        alert = page.get_by_role("alert")
        alert.wait_for()
        assert "outside" in alert.inner_text()


@pytest.fixture
def can_gio_site(empty_settings: Settings) -> Iterator[str]:
    engine = open_engine(empty_settings)
    try:
        prepare_store(engine, empty_settings)
        with Session(engine) as session:
            load_district(
                session,
                DATA_DIR / "hcmc-can-gio" / "district.toml",
                networks_dir=empty_settings.networks_dir,
                class_size_cap=empty_settings.class_size_cap,
            )
            session.commit()
    finally:
        engine.dispose()
    with serving(empty_settings) as url:
        yield url


def test_search_finds_places_without_diacritics(browser: Browser, can_gio_site: str) -> None:
    with opened(browser, can_gio_site) as page:
        page.get_by_label("Tìm trường, phường hoặc đường").fill("can thanh")
        found = page.locator("#sg-results button").all_inner_texts()
        assert any("Cần Thạnh" in text for text in found), found
        page.locator("#sg-results button").first.click()
        page.get_by_role("button", name="English").click()
        page.get_by_label("Find a school, ward or street").fill("CAN THANH")
        assert any("Cần Thạnh" in t for t in page.locator("#sg-results button").all_inner_texts())


def _token(settings: Settings, role: str) -> str:
    return make_token(settings, role, name=f"browser-{role}")


def _get_with_key(site: str, path: str, token: str, **params: str) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{site}{path}?{urllib.parse.urlencode(params)}",
        headers=auth(token),
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        answer: dict[str, Any] = json.load(response)
    return answer


def test_the_office_view_needs_a_staff_key(
    browser: Browser, site: str, fast_settings: Settings
) -> None:
    planner = _token(fast_settings, "planner")
    editor = _token(fast_settings, "registry_editor")
    with opened(
        browser,
        site,
        path="/office",
        ready="window.SchoolOffice && SchoolOffice.state.config",
        allow="status of 401",
    ) as page:
        assert page.locator("#sg-work").is_hidden()
        page.fill("#sg-key", "not-a-key")
        page.get_by_role("button", name="Đăng nhập").click()
        page.get_by_text("Không tải được").wait_for()
        assert page.locator("#sg-work").is_hidden()
        page.fill("#sg-key", editor)
        page.get_by_role("button", name="Đăng nhập").click()
        page.get_by_text("Vai trò registry_editor không mở được trang này").wait_for()
        assert page.locator("#sg-work").is_hidden()
        page.fill("#sg-key", planner)
        page.get_by_role("button", name="Đăng nhập").click()
        page.locator("#sg-forecast tbody tr").first.wait_for()
        year = page.input_value("#sg-year")
        forecast = _get_with_key(site, "/api/v1/forecasts", planner, level="zone", year=year)
        rows = page.locator("#sg-forecast tbody tr")
        assert rows.count() == len(forecast["items"]) == 7
        for index, item in enumerate(forecast["items"]):
            row = rows.nth(index)
            assert row.get_attribute("data-code") == item["code"]
            central = f"{round(item['first_grade_entrants']['central']):,}".replace(",", ".")
            assert row.locator("td").nth(1).inner_text().startswith(central)
        versions = page.locator("#sg-versions tbody tr")
        assert versions.count() == 7
        # where the chosen version's six-year-olds are estimated to live
        page.get_by_label("Nơi ở ước tính của trẻ 6 tuổi (phương án được chọn)").check()
        wait_until(page, "!!SchoolOffice.state.pointsLayer")
        version = page.input_value("#sg-version")
        points = _get_with_key(site, "/api/v1/zones/points", planner, version=version)
        drawn = page.evaluate("SchoolOffice.state.pointsLayer.getLayers().length")
        assert drawn == len(points["features"]) == 694
        assert page.inner_text("#sg-points-figures").startswith("694 điểm, 2.256 trẻ 6 tuổi")
        first = points["features"][0]["properties"]
        page.evaluate("void SchoolOffice.state.pointsLayer.getLayers()[0].openTooltip()")
        tip = page.locator(".leaflet-tooltip").inner_text()
        names = {
            f["properties"]["code"]: f["properties"]["name"]
            for f in _get(site, "/api/v1/schools", limit="500")["features"]
        }
        assert f"trường theo vùng: {names[first['school_code']]}" in tip
        assert f"{round(first['distance_m'])} m đi bộ" in tip.replace(".", "")
        page.get_by_label("Nơi ở ước tính của trẻ 6 tuổi (phương án được chọn)").uncheck()
        wait_until(page, "SchoolOffice.state.pointsLayer === null")
        page.select_option("#sg-level", "ward")
        wait_until(page, "SchoolOffice.state.forecast.level === 'ward'")
        assert page.locator("#sg-forecast tbody tr").count() == 14
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / "office-view.png")
        assert page.evaluate("window.localStorage.getItem('schoolgis.key')") is None


def test_the_office_sees_placement_by_school(
    browser: Browser, site: str, fast_settings: Settings, computed: Computed
) -> None:
    officer = _token(fast_settings, "enrolment_officer")
    with TestClient(create_app(fast_settings)) as client:
        created = create_round(client, officer)
        bodies = [
            application(home, name=name, choices=list(SCHOOLS[i % 3 : i % 3 + 2]))
            for i, (home, name) in enumerate(zip(homes(computed, 40), names(), strict=False))
        ]
        submit(client, created["id"], officer, bodies)
        run = client.post(
            f"/api/v1/rounds/{created['id']}/placement", json={"seed": 11}, headers=auth(officer)
        )
        assert run.status_code == 201, run.text
        figures = client.get(
            f"/api/v1/rounds/{created['id']}/placement/{run.json()['id']}", headers=auth(officer)
        ).json()["statistics"]
    with opened(
        browser,
        site,
        path="/office",
        ready="window.SchoolOffice && SchoolOffice.state.config",
    ) as page:
        page.fill("#sg-key", officer)
        page.get_by_role("button", name="Đăng nhập").click()
        page.locator("#sg-placement tbody tr").first.wait_for()
        rows = page.locator("#sg-placement tbody tr")
        assert rows.count() == len(figures["schools"])
        for index, school in enumerate(figures["schools"]):
            cells = rows.nth(index).locator("td")
            assert rows.nth(index).get_attribute("data-code") == school["code"]
            assert cells.nth(2).inner_text().startswith(str(school["seated"]))
        assert f"{figures['children']} trẻ" in page.inner_text("#sg-run-figures")


def test_a_planner_sees_a_scenario_against_the_baseline(
    browser: Browser, site: str, fast_settings: Settings
) -> None:
    planner = _token(fast_settings, "planner")
    new_school = {
        "kind": "add_school",
        "code": "NEW-1",
        "name": "Trường tiểu học dự kiến",
        "lon": 106.6798475,
        "lat": 10.7807537,
        "first_grade_classes": 8,
    }
    with TestClient(create_app(fast_settings)) as client:
        created = client.post(
            "/api/v1/scenarios",
            json={"name": "thêm một trường", "changes": [new_school]},
            headers=auth(planner),
        )
        assert created.status_code == 201, created.text
    compared = _get_with_key(site, "/api/v1/scenarios/compare", planner, ids="thêm một trường")
    mine = compared["scenarios"][0]
    with opened(
        browser, site, path="/office", ready="window.SchoolOffice && SchoolOffice.state.config"
    ) as page:
        page.fill("#sg-key", planner)
        page.get_by_role("button", name="Đăng nhập").click()
        page.locator("#sg-scenario-table tbody tr").first.wait_for()
        rows = page.locator("#sg-scenario-table tbody tr")
        assert rows.count() == 6
        walk = rows.nth(0).locator("td")
        baseline_walk = f"{round(compared['baseline']['figures']['mean_distance_m.walk']):,}"
        assert walk.nth(1).inner_text() == baseline_walk.replace(",", ".")
        assert walk.nth(2).inner_text() == f"{round(mine['figures']['mean_distance_m.walk']):,}"
        assert walk.nth(3).inner_text().startswith("-")
        markers = page.evaluate(
            "SchoolOffice.state.scenarioLayer.getLayers()"
            ".map(l => l.getLayers ? l.getLayers().length : 1)"
        )
        assert markers == [len(mine["moved"]["features"]), 1]
        moved = f"{round(mine['moved_children']):,}".replace(",", ".")
        assert page.inner_text("#sg-scenario-figures").startswith(f"{moved} trẻ đổi trường")
        page.screenshot(path=SCREENSHOTS / "office-scenario.png")
    officer = _token(fast_settings, "enrolment_officer")
    with opened(
        browser, site, path="/office", ready="window.SchoolOffice && SchoolOffice.state.config"
    ) as page:
        page.fill("#sg-key", officer)
        page.get_by_role("button", name="Đăng nhập").click()
        page.locator("#sg-forecast tbody tr").first.wait_for()
        assert page.locator("#sg-scenarios").is_hidden()
