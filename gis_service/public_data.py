"""What the public look-ups read, held in memory so that a look-up needs no connection.

The state of what the public sees (published zones, schools, wards, road extracts: one
cheap query, :func:`~gis_service.web_map.map_state`) is read at start-up, once per
``watch`` interval by a watcher of its own, and at once after every write this service
answers (:class:`~gis_service.api.freshness.RefreshAfterWrites`). When it changes, the
eligibility lookup's data (:class:`~gis_service.zones.eligibility.LookupData`) is read
anew and swapped in whole. A look-up then reads memory only; a change made by another
process (the command line, another process of the service) shows within the interval.
"""

from __future__ import annotations

import logging
import threading

import anyio
import anyio.to_thread
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from gis_service.errors import NotFoundError, StoreError
from gis_service.networks import NetworkCache
from gis_service.web_map import map_state
from gis_service.zones.eligibility import LookupData, lookup_data

logger = logging.getLogger(__name__)

#: Why there is no lookup data: what a look-up answers then.
ServiceErrorKind = NotFoundError | StoreError

#: Seconds between two readings of the store's state by the watcher.
WATCH_INTERVAL_S = 1.0


class PublicData:
    """The data of the public look-ups, read anew whenever the store's state changes.

    Parameters
    ----------
    engine
        The store.
    networks
        The service's road networks.
    district_code
        The district served (``None``: the only one of the store).
    """

    def __init__(self, engine: Engine, networks: NetworkCache, district_code: str | None) -> None:
        self._engine = engine
        self._networks = networks
        self._district_code = district_code
        self._lock = threading.Lock()
        # the watcher's own thread: it never waits behind the threads serving requests
        self._watcher = anyio.CapacityLimiter(1)
        self._state: tuple[object, ...] | None = None
        self._lookup: LookupData | None = None
        self._missing: ServiceErrorKind = NotFoundError("the store has not been read yet")

    @property
    def state(self) -> tuple[object, ...] | None:
        """The fingerprint of what the public sees, as last read (``None``: not read yet)."""
        return self._state

    def lookup(self) -> LookupData:
        """Return the eligibility lookup's data.

        Raises
        ------
        NotFoundError
            If the district, or its road extract, does not exist.
        StoreError
            If its road extract cannot be used.
        """
        found = self._lookup
        if found is None:
            raise type(self._missing)(self._missing.detail)
        return found

    def refresh(self) -> None:
        """Read the store's state and, when it changed, the lookup's data anew."""
        with self._lock, Session(self._engine) as session:
            state = map_state(session)
            if state == self._state:
                return
            lookup: LookupData | None = None
            try:
                district_net = self._networks.for_district(session, self._district_code)
                lookup = lookup_data(session, district_net)
            except (NotFoundError, StoreError) as error:
                self._missing = error
            self._lookup, self._state = lookup, state

    async def watch(self, interval_s: float = WATCH_INTERVAL_S) -> None:
        """Refresh every ``interval_s`` seconds until cancelled; a failed reading is retried."""
        while True:
            await anyio.sleep(interval_s)
            try:
                await anyio.to_thread.run_sync(self.refresh, limiter=self._watcher)
            except Exception:  # the watcher outlives a store briefly down
                logger.exception("reading the store's state failed; the last data is kept")
