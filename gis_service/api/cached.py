"""Answers drawn once per state of the store, sent with their tag and compressed bodies.

A browser (or any client) that sends the ``ETag`` back in ``If-None-Match`` gets 304
without a body; otherwise the smallest body the client accepts (brotli, gzip, none),
compressed once when the answer was drawn.
"""

from __future__ import annotations

from fastapi import Request, Response

from gis_service.web_map import CachedPage

#: Clients keep an answer but ask whether it changed (``If-None-Match``) before using it.
CACHE_CONTROL = "public, no-cache"


def cached_answer(request: Request, cached: CachedPage, media_type: str) -> Response:
    """Return ``cached`` as the request accepts it: 304, or its smallest accepted body."""
    headers = {"ETag": cached.etag, "Cache-Control": CACHE_CONTROL}
    sent_tags = {tag.strip() for tag in request.headers.get("if-none-match", "").split(",")}
    if cached.etag in sent_tags or "*" in sent_tags:
        return Response(status_code=304, headers={**headers, "Vary": "Accept-Encoding"})
    coding, body = cached.encoded(request.headers.get("accept-encoding", ""))
    if coding != "identity":
        # a coded body passes the gzip middleware untouched; it adds Vary to the others
        headers |= {"Content-Encoding": coding, "Vary": "Accept-Encoding"}
    return Response(body, media_type=media_type, headers=headers)
