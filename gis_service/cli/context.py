"""State shared by the sub-commands: the settings, built once from options and environment."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from gis_service.errors import InvalidInputError
from gis_service.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


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
    from sqlalchemy.orm import Session

    from gis_service.db.migrate import upgrade_schema
    from gis_service.startup import open_engine, prepare_store

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


def read_json(file: Path) -> Any:
    """Return the document of a JSON file.

    Raises
    ------
    InvalidInputError
        If the file is not valid JSON (the message names the file).
    """
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        msg = f"{file}: not valid JSON ({error})"
        raise InvalidInputError(msg) from None


def first_problem(error: ValidationError) -> tuple[str, str]:
    """Return the JSON pointer and the message of a validation error's first problem."""
    first = error.errors()[0]
    return "/" + "/".join(str(part) for part in first["loc"]), str(first["msg"])
