"""Stores shared by the tests that only read: one per kind and backend, made on first use.

A test that writes gets its own copy of the template store; a test that only reads may use a
shared one, and its fixture checks afterwards that no row was added or removed
(:func:`unchanged`), so a test that writes by mistake fails instead of making others depend
on the order they run in.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

from fastapi.testclient import TestClient

from gis_service.app import create_app
from gis_service.settings import Settings
from tests.support.stores import Templates, make_store_settings, row_counts
from tests.support.zones import copy_network_cache

_store_copy = contextlib.contextmanager(make_store_settings)


class SharedStores:
    """The shared stores of a session; each holds the bundled district and its network cache.

    Parameters
    ----------
    templates
        The template stores they are copies of.
    network_cache_dir
        The district's road-network cache, copied into each.
    folder
        Where their data folders go.
    stack
        Closes them (and their services) when the session ends.
    """

    def __init__(
        self,
        templates: Templates,
        network_cache_dir: Path,
        folder: Path,
        stack: contextlib.ExitStack,
    ) -> None:
        self._templates = templates
        self._network_cache_dir = network_cache_dir
        self._folder = folder
        self._stack = stack
        self._settings: dict[tuple[str, str], Settings] = {}
        self._clients: dict[tuple[str, str], TestClient] = {}

    def settings(
        self, kind: str, store_kind: str, prepare: Callable[[Settings], object] | None = None
    ) -> Settings:
        """Return the shared store ``kind`` on the backend ``store_kind``.

        ``prepare`` is given the store once, when it is made (for example to publish zones).
        """
        key = (kind, store_kind)
        if key not in self._settings:
            made = self._stack.enter_context(
                _store_copy(store_kind, self._templates, self._folder / kind / store_kind)
            )
            copy_network_cache(self._network_cache_dir, made)
            if prepare is not None:
                prepare(made)
            self._settings[key] = made
        return self._settings[key]

    def client(self, kind: str, store_kind: str) -> TestClient:
        """Return the service on the shared store ``kind`` (made before) of ``store_kind``."""
        key = (kind, store_kind)
        if key not in self._clients:
            app = create_app(self._settings[key])
            self._clients[key] = self._stack.enter_context(TestClient(app))
        return self._clients[key]


@contextlib.contextmanager
def unchanged(settings: Settings) -> Iterator[Settings]:
    """Yield ``settings``; then fail if the number of rows of any table of its store changed."""
    before = row_counts(settings)
    yield settings
    after = row_counts(settings)
    changed = {t: (before[t], after[t]) for t in before if before[t] != after[t]}
    assert not changed, f"a test wrote to a shared read-only store: {changed}"
