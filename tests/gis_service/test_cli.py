"""The ``schoolgis`` command as a user runs it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx
import pytest

from gis_service.settings import Settings
from tests.support.cli import run_schoolgis, run_schoolgis_process


def test_district_list_and_keys(settings: Settings) -> None:
    listed = run_schoolgis(["district", "list"], settings)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.strip() == "770\tQuận 3\tEPSG:32648"
    created = run_schoolgis(
        ["keys", "create", "--name", "office", "--role", "registry_editor"], settings
    )
    assert created.returncode == 0, created.stderr
    assert len(created.stdout.strip()) >= 40
    again = run_schoolgis(
        ["keys", "create", "--name", "office", "--role", "registry_editor"], settings
    )
    assert again.returncode == 1
    assert again.stderr == "schoolgis: error: an API key named 'office' already exists\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["keys", "create", "--name", "x", "--role", "boss"], "unknown role 'boss'"),
        (["keys", "create", "--name", "x\x1by", "--role", "admin"], "character U+001B"),
        (["district", "load", "/nonexistent/district.toml"], "no such district manifest"),
        (["--database-url", "mysql://x/y", "district", "list"], "invalid setting database_url"),
    ],
)
def test_errors_are_one_line_on_stderr(settings: Settings, args: list[str], message: str) -> None:
    result = run_schoolgis(args, settings)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("schoolgis: error: ")
    assert message in result.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_starts_with_the_bundled_district(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHOOLGIS_")}
    env.pop("DATABASE_URL", None)
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gis_service",
            "--data-dir",
            str(tmp_path / "d"),
            "serve",
            "--port",
            str(port),
            "--workers",
            "2",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(f"{base}/api/v1/schools", timeout=5)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                assert time.monotonic() < deadline, "the service did not start in 60 s"
                time.sleep(0.2)
        assert response.status_code == 200
        body = response.json()
        assert body["numberMatched"] == 27
        assert "Trường tiểu học Nguyễn Thái Sơn" in {
            f["properties"]["name"] for f in body["features"]
        }
        assert httpx.get(f"{base}/docs", timeout=5).status_code == 200
        assert (tmp_path / "d" / "schoolgis.sqlite").is_file()
        # each of the two processes answers the lookup from the zones published at start
        home = {"lat": 10.7800, "lon": 106.6850}
        for _ in range(6):
            answer = httpx.get(f"{base}/api/v1/eligibility", params=home, timeout=30)
            assert answer.status_code == 200, answer.text
            assert answer.json()["zone_school"]["code"].startswith("79770")
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stderr:
            process.stderr.close()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["district", "bogus"], "No such command 'bogus'"),
        (["keys", "create", "--name", "x"], "Missing option '--role'"),
        (["serve", "--port", "http"], "Invalid value for '--port'"),
    ],
)
def test_usage_errors_are_one_line(settings: Settings, args: list[str], message: str) -> None:
    result = run_schoolgis(args, settings)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert message in result.stderr


def test_the_module_and_the_script_exit_with_the_code_of_main(tmp_path: Path) -> None:
    store = Settings(data_dir=tmp_path / "d", database_url=None)
    module = [sys.executable, "-m", "gis_service"]
    script = [str(Path(sys.executable).with_name("schoolgis"))]
    for command in (module, script):
        error = run_schoolgis_process(
            [*command, "keys", "create", "--name", "x", "--role", "boss"], store
        )
        assert error.returncode == 1, error.stderr
        assert error.stderr.count("\n") == 1, error.stderr
        assert error.stderr.startswith("schoolgis: error: ")
        assert "unknown role 'boss'" in error.stderr
        usage = run_schoolgis_process([*command, "district", "bogus"], store)
        assert usage.returncode == 2
        assert usage.stderr.count("\n") == 1, usage.stderr
        assert "No such command 'bogus'" in usage.stderr


#: Packages that the help of the command line must not load.
_HEAVY_PACKAGES = (
    "numba",
    "osmnx",
    "geopandas",
    "pandas",
    "scipy",
    "shapely",
    "routing",
    "enrolment",
)
#: Runs ``--help`` of every group and command in one process, the root first; writes the
#: exit code of each and the heavy packages it loaded (the import of the command line is
#: counted with the root's help).
_HELP_OF_EVERY_COMMAND = """
import contextlib, io, json, sys
heavy, report = set(json.loads(sys.argv[1])), sys.argv[2]
import typer
from typer.core import TyperGroup
from gis_service.cli import app, main

def paths(command, path):
    yield path
    if isinstance(command, TyperGroup):
        for name, sub in command.commands.items():
            yield from paths(sub, [*path, name])

loaded, seen = {}, set()
for path in paths(typer.main.get_command(app), []):
    with contextlib.redirect_stdout(io.StringIO()):
        code = main([*path, "--help"])
    names = {n.partition(".")[0] for n in sys.modules} & heavy
    loaded[" ".join(path)] = {"exit": code, "heavy": sorted(names - seen)}
    seen |= names
with open(report, "w", encoding="utf-8") as handle:
    json.dump(loaded, handle)
"""


def test_help_of_every_group_and_command_starts_without_the_heavy_packages(
    tmp_path: Path,
) -> None:
    report = tmp_path / "loaded.json"
    subprocess.run(
        [
            sys.executable,
            "-c",
            _HELP_OF_EVERY_COMMAND,
            json.dumps(_HEAVY_PACKAGES),
            str(report),
        ],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=120,
        check=True,
    )
    loaded = json.loads(report.read_text(encoding="utf-8"))
    groups = {"db", "district", "keys", "schools", "network", "forecast", "zones", "map"}
    groups |= {"rounds", "applications", "placement", "scenario", "sites", "forecast inputs"}
    assert {"", "serve", "distances", "keys create", *groups} <= set(loaded)
    assert {path: run["exit"] for path, run in loaded.items() if run["exit"] != 0} == {}
    assert {path: run["heavy"] for path, run in loaded.items() if run["heavy"]} == {}
