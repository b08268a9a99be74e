"""Rate limits per client on what anyone may ask without a key.

Each client (its address; behind a proxy, run the server with ``--proxy-headers`` so it is
the caller's) has its own moving windows per kind of request (:data:`Scope`): anonymous
writes, look-ups, reads with an application's secret, and secrets that did not match.
Past a limit the answer is 429 problem+json with ``Retry-After``. Callers with a valid
staff key are not counted. The counts live in memory, or in Redis when
``SCHOOLGIS_RATE_LIMIT_STORAGE`` is a ``redis://`` URL so that every process shares them;
when Redis does not answer, requests are let through uncounted (and a warning is logged)
rather than refused.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from gis_service.api.problems import PROBLEM_JSON
from gis_service.errors import RateLimitedError
from gis_service.settings import Settings

logger = logging.getLogger(__name__)

#: The kinds of request counted apart.
Scope = Literal["writes", "lookups", "secret_lookups", "secret_failures"]

#: What each scope counts, for the 429 answer.
_WHAT: dict[Scope, str] = {
    "writes": "submissions",
    "lookups": "look-ups",
    "secret_lookups": "reads of an application",
    "secret_failures": "secrets that did not match",
}

#: The 429 answer as the OpenAPI documents it on every limited route.
RATE_LIMITED_RESPONSES: dict[int | str, dict[str, Any]] = {
    429: {
        "description": "Too many requests from this client for now: try again after "
        "`Retry-After` seconds.",
        "headers": {
            "Retry-After": {
                "description": "Seconds until the client's next request is counted again.",
                "schema": {"type": "integer", "minimum": 1},
            }
        },
        "content": {PROBLEM_JSON: {"schema": {"type": "object"}}},
    }
}


@dataclass(frozen=True, slots=True)
class WindowCount:
    """A client's requests in the current window of one limit, and how many are left."""

    used: int
    remaining: int


class RateLimiter:
    """Counts requests per client and scope and refuses those past the limits.

    Parameters
    ----------
    settings
        Where the counts are kept and the limits (``rate_limit_*``).
    """

    def __init__(self, settings: Settings) -> None:
        storage = settings.rate_limit_storage
        options: dict[str, str | bool] = {}
        if storage.startswith("redis"):
            options |= {"key_prefix": settings.rate_limit_key_prefix, "wrap_exceptions": True}
        self._strategy = MovingWindowRateLimiter(storage_from_string(storage, **options))
        self.enabled = settings.rate_limit_enabled
        #: Whether the counts are in this process's memory (counting does no I/O).
        self.in_memory = settings.rate_limits_in_memory
        self._limits: dict[Scope, Sequence[RateLimitItem]] = {
            "writes": parse_many(settings.rate_limit_writes),
            "lookups": parse_many(settings.rate_limit_lookups),
            "secret_lookups": parse_many(settings.rate_limit_secret_lookups),
            "secret_failures": parse_many(settings.rate_limit_secret_failures),
        }

    def hit(self, scope: Scope, client: str) -> WindowCount | None:
        """Count one request of ``client`` against the scope's limits.

        Returns
        -------
        WindowCount or None
            The requests counted and left in the scope's tightest window, or ``None``
            when limits are off.

        Raises
        ------
        RateLimitedError
            If the request is past one of the scope's limits.
        """
        if not self.enabled:
            return None
        try:
            return self._hit(scope, client)
        except StorageError:
            logger.warning("the rate-limit storage did not answer: %s not counted", scope)
            return None

    def _hit(self, scope: Scope, client: str) -> WindowCount:
        for item in self._limits[scope]:
            if not self._strategy.hit(item, scope, client):
                raise self._refusal(scope, item, client)
        counts = []
        for item in self._limits[scope]:
            remaining = self._strategy.get_window_stats(item, scope, client).remaining
            counts.append(WindowCount(used=item.amount - remaining, remaining=remaining))
        return min(counts, key=lambda count: count.remaining)

    def check(self, scope: Scope, client: str) -> None:
        """Refuse ``client`` if it is already past one of the scope's limits, counting nothing.

        Raises
        ------
        RateLimitedError
            If it is.
        """
        if not self.enabled:
            return
        try:
            past = [
                item for item in self._limits[scope] if not self._strategy.test(item, scope, client)
            ]
            if past:
                raise self._refusal(scope, past[0], client)
        except StorageError:
            logger.warning("the rate-limit storage did not answer: %s not checked", scope)

    def limit_of(self, scope: Scope) -> str:
        """Return the scope's limits in words, e.g. ``"10 per 1 hour"``."""
        return "; ".join(str(item) for item in self._limits[scope])

    def _refusal(self, scope: Scope, item: RateLimitItem, client: str) -> RateLimitedError:
        reset_at = self._strategy.get_window_stats(item, scope, client).reset_time
        retry_after_s = max(1, math.ceil(reset_at - time.time()))
        msg = (
            f"too many {_WHAT[scope]} from this address (at most {item}): "
            f"try again in {retry_after_s} s"
        )
        return RateLimitedError(msg, retry_after_s=retry_after_s)


__all__ = ["RATE_LIMITED_RESPONSES", "RateLimiter", "Scope", "WindowCount"]
