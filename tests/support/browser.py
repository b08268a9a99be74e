"""The browser of the page tests: Debian's Chromium driven by Playwright, never a download."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
#: Where browser tests save their screenshots (test artefacts).
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"


def wait_until(page: Page, expression: str, *, timeout_ms: float = 30_000) -> None:
    """Wait until the JavaScript ``expression`` is true in ``page``.

    Playwright's ``wait_for_function`` has the page compile the expression, which the
    service's Content-Security-Policy (no ``'unsafe-eval'``) refuses; this evaluates it
    through the DevTools protocol instead, every 50 ms.

    Raises
    ------
    AssertionError
        If it is still false after ``timeout_ms``.
    """
    waited_ms = 0.0
    while not page.evaluate(f"!!({expression})"):
        if waited_ms >= timeout_ms:
            msg = f"still false after {timeout_ms / 1000:.0f} s: {expression}"
            raise AssertionError(msg)
        page.wait_for_timeout(50)
        waited_ms += 50
