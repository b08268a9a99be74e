"""After a write, the public data is read anew before the writer gets its answer.

A write this service answers (a published zone version, an edited school, a loaded
district) shows in the next look-up of anyone: the middleware holds back the last part
of a successful write's answer until :meth:`~gis_service.public_data.PublicData.refresh`
has read the store's state (one cheap query when nothing the public sees changed).
"""

from __future__ import annotations

import logging

import anyio.to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gis_service.public_data import PublicData

logger = logging.getLogger(__name__)

#: The methods that may change the store.
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Answers below this status are successes.
FIRST_ERROR_STATUS = 400


class RefreshAfterWrites:
    """ASGI middleware: refresh the app's public data after each successful write."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; before the end of a successful write's answer, refresh."""
        if scope["type"] != "http" or scope["method"] not in WRITES:
            await self.app(scope, receive, send)
            return
        status = 0

        async def send_after_refresh(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif status < FIRST_ERROR_STATUS and not message.get("more_body", False):
                await _refresh(scope)
            await send(message)

        await self.app(scope, receive, send_after_refresh)


async def _refresh(scope: Scope) -> None:
    """Refresh the public data of the request's app (the watcher retries a failure)."""
    public: PublicData | None = getattr(scope["app"].state, "public_data", None)
    if public is None:
        return
    try:
        await anyio.to_thread.run_sync(public.refresh)
    except Exception:  # the write stands; the watcher reads again
        logger.exception("reading the store's state after a write failed")
