"""The ``schoolgis`` command as a user runs it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx
import pytest

from gis_service.settings import Settings
from tests.cli import run_schoolgis


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
