"""The files of the public page: Leaflet from npm (installed at set-up), and our own.

Leaflet and Leaflet.markercluster come from ``maps/assets/node_modules`` (``npm ci`` in
``maps/assets``, run by ``make``); the page script, stylesheet and panel are ours. The
service serves this folder; the static export inlines the files, with the images the
stylesheets name as data URIs.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from jinja2 import Environment, FileSystemLoader, select_autoescape

#: The folder served at ``/static/map``.
ASSET_DIR = Path(__file__).parent / "assets"


@dataclass(frozen=True)
class Asset:
    """A stylesheet or script of the page, by its path inside :data:`ASSET_DIR`."""

    kind: Literal["css", "js"]
    path: str

    @property
    def file(self) -> Path:
        """The file on disk."""
        return ASSET_DIR / self.path


#: The pages the service draws: the public map, and the view of the office and planners.
PageName = Literal["public", "office"]

_LEAFLET = (
    Asset("css", "node_modules/leaflet/dist/leaflet.css"),
    Asset("css", "schoolgis-map.css"),
    Asset("js", "node_modules/leaflet/dist/leaflet.js"),
    Asset("js", "schoolgis-common.js"),
)
#: Each page's assets in load order.
PAGE_ASSETS: dict[PageName, tuple[Asset, ...]] = {
    "public": (
        *_LEAFLET,
        Asset("css", "node_modules/leaflet.markercluster/dist/MarkerCluster.css"),
        Asset("css", "node_modules/leaflet.markercluster/dist/MarkerCluster.Default.css"),
        Asset("js", "node_modules/leaflet.markercluster/dist/leaflet.markercluster.js"),
        Asset("js", "schoolgis-map.js"),
    ),
    "office": (*_LEAFLET, Asset("js", "schoolgis-office.js")),
}
#: The script object whose ``start(map, config)`` runs each page.
PAGE_SCRIPTS: dict[PageName, str] = {"public": "SchoolMap", "office": "SchoolOffice"}

_ENVIRONMENT = Environment(
    loader=FileSystemLoader(ASSET_DIR), autoescape=select_autoescape(["html"])
)
#: Each page's panel (Vietnamese first; the page script translates it).
PANEL_TEMPLATES = {
    "public": _ENVIRONMENT.get_template("panel.html"),
    "office": _ENVIRONMENT.get_template("office-panel.html"),
}

_CSS_URL = re.compile(r"url\((['\"]?)(?!data:)([^)'\"]+)\1\)")
_MEDIA_TYPES = {".png": "image/png", ".svg": "image/svg+xml", ".gif": "image/gif"}


class MissingAssetError(RuntimeError):
    """A page asset is not installed (``npm ci`` in ``maps/assets`` has not run)."""


def read_text(asset: Asset) -> str:
    """Return the text of an asset.

    Raises
    ------
    MissingAssetError
        If the file is missing.
    """
    try:
        return asset.file.read_text(encoding="utf-8")
    except FileNotFoundError:
        msg = f"map asset {asset.path} is missing: run `npm ci` in {ASSET_DIR.name}/ (make does)"
        raise MissingAssetError(msg) from None


def check_assets() -> None:
    """Raise :class:`MissingAssetError` unless every page asset is installed."""
    for asset in {a for page in PAGE_ASSETS.values() for a in page}:
        if not asset.file.is_file():
            read_text(asset)


def inline_css(asset: Asset) -> str:
    """Return a stylesheet with the images it names embedded as data URIs."""
    folder = asset.file.parent

    def embed(match: re.Match[str]) -> str:
        image = folder / match.group(2)
        media = _MEDIA_TYPES.get(image.suffix.lower())
        if media is None or not image.is_file():
            return match.group(0)
        encoded = base64.b64encode(image.read_bytes()).decode("ascii")
        return f"url(data:{media};base64,{encoded})"

    return _CSS_URL.sub(embed, read_text(asset))


def finish_page(html: str) -> str:
    """Give folium's page its language and a viewport that lets people zoom."""
    replacements = (
        ("<html>", '<html lang="vi">'),
        ("maximum-scale=1.0, user-scalable=no", "viewport-fit=cover"),
    )
    for old, new in replacements:
        if old not in html:
            msg = f"the folium page no longer contains {old!r}: update maps.assets.finish_page"
            raise RuntimeError(msg)
        html = html.replace(old, new, 1)
    return html
