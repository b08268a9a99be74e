"""Running the ``schoolgis`` command against a test store, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from gis_service.settings import Settings


def cli_env(settings: Settings) -> dict[str, str]:
    """Return this process's environment pointed at the store of ``settings`` only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHOOLGIS_")}
    env.pop("DATABASE_URL", None)
    env["SCHOOLGIS_DATA_DIR"] = str(settings.data_dir)
    if settings.database_url is not None:
        env["DATABASE_URL"] = settings.database_url
    return env


def run_schoolgis(
    args: list[str], settings: Settings, *, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``schoolgis ARGS`` on the store of ``settings`` with no input; capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "gis_service", *args],
        env=cli_env(settings),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
