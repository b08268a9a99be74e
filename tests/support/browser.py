"""The browser of the page tests: Debian's Chromium driven by Playwright, never a download."""

from __future__ import annotations

from pathlib import Path

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
