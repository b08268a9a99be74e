"""Security headers on every answer: a Content-Security-Policy, no sniffing, no referrer.

The API's answers are data: their policy allows nothing (``default-src 'none'``). The map
pages load their scripts, styles and base map from the service itself, the tiles of the
configured online layer if any, and ask the API on the same origin; folium writes the map
as inline scripts, so pages allow inline scripts but no other origin. The interactive API
documentation (``/docs``, ``/redoc``) loads Swagger UI and ReDoc from their CDN. No answer
may be shown in a frame of another site (``frame-ancestors 'none'``): the map that district
websites embed is the exported file (``schoolgis map export``), not a page of the service.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: The policy of every answer that is not a page: data, never run or framed.
API_POLICY = "default-src 'none'; frame-ancestors 'none'"

#: Where FastAPI's documentation pages load Swagger UI and ReDoc from.
DOCS_CDN = "https://cdn.jsdelivr.net"
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})
#: Where the API's answers are (everything else is a page or a file of the pages).
API_PATH = "/api/"

_COMMON = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def tile_source(tile_url: str | None) -> str:
    """Return the CSP source of an online tile layer's URL (``{s}`` subdomains as ``*``)."""
    if not tile_url:
        return ""
    parts = urlsplit(tile_url.replace("{s}", "*"))
    return f" {parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def page_policy(tile_url: str | None) -> str:
    """Return the policy of the map pages, whose tiles may come from ``tile_url``."""
    return (
        "default-src 'self'; script-src 'self' 'unsafe-inline'; "
        "style-src 'self' 'unsafe-inline'; "
        f"img-src 'self' data: blob:{tile_source(tile_url)}; connect-src 'self'; "
        "font-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    )


DOCS_POLICY = (
    f"default-src 'self'; script-src 'self' 'unsafe-inline' {DOCS_CDN}; "
    f"style-src 'self' 'unsafe-inline' {DOCS_CDN}; "
    "img-src 'self' data: https://fastapi.tiangolo.com; connect-src 'self'; "
    "worker-src blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


class SecurityHeaders:
    """ASGI middleware adding the security headers to every HTTP answer of an app."""

    def __init__(self, app: ASGIApp, *, tile_url: str | None = None) -> None:
        self.app = app
        self.page_policy = page_policy(tile_url)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer through the app, adding the headers it did not set itself."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _COMMON.items():
                    headers.setdefault(name, value)
                headers.setdefault("Content-Security-Policy", self._policy(path, headers))
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _policy(self, path: str, headers: MutableHeaders) -> str:
        if path in DOCS_PATHS:
            return DOCS_POLICY
        # a page's 304 carries no content type but must keep the page's policy
        if not path.startswith(API_PATH) or headers.get("content-type", "").startswith("text/html"):
            return self.page_policy
        return API_POLICY


__all__ = ["API_POLICY", "DOCS_POLICY", "SecurityHeaders", "page_policy", "tile_source"]
