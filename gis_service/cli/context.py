"""State shared by the sub-commands: the settings, built once from options and environment."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from gis_service.db.migrate import upgrade_schema
from gis_service.settings import Settings
from gis_service.store import open_engine, prepare_store


@dataclass
class CliState:
    """Options of the root command, turned into settings on first use."""

    overrides: dict[str, object] = field(default_factory=dict)

    def settings(self) -> Settings:
        """Return the settings (environment, then command-line options)."""
        return Settings(**self.overrides)  # type: ignore[arg-type]


@contextmanager
def open_session(settings: Settings, *, load_bundled: bool = True) -> Iterator[Session]:
    """Yield a session on the store at the newest schema; the caller commits.

    With ``load_bundled`` an empty store first receives the bundled district.
    """
    engine = open_engine(settings)
    try:
        if load_bundled:
            prepare_store(engine, settings)
        else:
            upgrade_schema(engine)
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()
