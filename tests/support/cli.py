"""Running the ``schoolgis`` command against a test store, as a user would.

:func:`run_schoolgis` runs the command in this process (its ``main``, with the environment,
working folder, standard streams and an empty standard input of a user's run);
:func:`run_schoolgis_process` starts it as a new process, for the tests of the process itself.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from gis_service.cli import main
from gis_service.settings import Settings


@dataclass(frozen=True)
class CliRun:
    """The exit code and the output of one run of the command."""

    returncode: int
    stdout: str
    stderr: str


def _is_store_variable(name: str) -> bool:
    return name.startswith("SCHOOLGIS_") or name == "DATABASE_URL"


def _store_variables(settings: Settings) -> dict[str, str]:
    variables = {"SCHOOLGIS_DATA_DIR": str(settings.data_dir)}
    if settings.database_url is not None:
        variables["DATABASE_URL"] = settings.database_url
    return variables


def cli_env(settings: Settings) -> dict[str, str]:
    """Return this process's environment pointed at the store of ``settings`` only."""
    env = {k: v for k, v in os.environ.items() if not _is_store_variable(k)}
    return env | _store_variables(settings)


@contextlib.contextmanager
def _environment_of(settings: Settings) -> Iterator[None]:
    """Point this process's environment at the store of ``settings`` until the block ends."""
    saved = {k: v for k, v in os.environ.items() if _is_store_variable(k)}
    for name in saved:
        del os.environ[name]
    os.environ.update(_store_variables(settings))
    try:
        yield
    finally:
        for name in [k for k in os.environ if _is_store_variable(k)]:
            del os.environ[name]
        os.environ.update(saved)


@contextlib.contextmanager
def _standard_streams(stdout: io.StringIO, stderr: io.StringIO) -> Iterator[None]:
    """Send the standard streams to ``stdout`` and ``stderr``; read from an empty input."""
    saved_stdin = sys.stdin
    sys.stdin = io.StringIO()
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            yield
    finally:
        sys.stdin = saved_stdin


def _exit_code(code: object) -> int:
    """Return the process exit code of ``sys.exit(code)``."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    sys.stderr.write(f"{code}\n")
    return 1


def run_schoolgis(args: Sequence[str], settings: Settings, *, cwd: Path | None = None) -> CliRun:
    """Run ``schoolgis ARGS`` on the store of ``settings`` with no input; capture its output.

    An exception that escapes the command ends the run as it ends the process: its
    traceback on stderr and exit code 1.
    """
    stdout, stderr = io.StringIO(), io.StringIO()
    with (
        _environment_of(settings),
        contextlib.chdir(cwd or Path.cwd()),
        _standard_streams(stdout, stderr),
    ):
        try:
            code = main(list(args))
        except SystemExit as exited:
            code = _exit_code(exited.code)
        except Exception:  # noqa: BLE001
            traceback.print_exc()
            code = 1
    return CliRun(returncode=code, stdout=stdout.getvalue(), stderr=stderr.getvalue())


def run_schoolgis_process(
    command: Sequence[str], settings: Settings, *, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``command``, a ``schoolgis`` command line, as a process on the store of ``settings``."""
    return subprocess.run(
        list(command),
        env=cli_env(settings),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
