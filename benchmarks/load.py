"""Load the service over HTTP, open-loop, and measure what a parent waits for.

Run from the repository root::

    .venv/bin/python benchmarks/load.py            # the full run (about 5 minutes)
    .venv/bin/python benchmarks/load.py --quick    # every scenario, shorter and lighter

The script starts ``schoolgis serve`` itself on a free port of 127.0.0.1 with a fresh
throwaway SpatiaLite store of the bundled district (its first zones are published as on a
first start), creates an admin key with ``schoolgis keys create`` and stops the service
when done; each scenario gets a freshly started service on the same store, so requests one
scenario gave up on but left queued in the service do not weigh on the next. It talks to
loopback only; every loop is bounded in count and in time.

Requests are sent open-loop at a fixed arrival rate: request *i* is due at ``i / rate``
seconds and its latency is counted from that due time, so a stalled service (or client)
shows up in the figures instead of slowing the sender down. A request without an answer
within ``--timeout-s`` counts as a timeout.

Scenarios
---------
Each service first answers one page and one look-up (reading the road network and drawing
the page), then is measured. The per-client rate limits are off (``--rate-limits`` keeps
them): every request comes from one address here, not from thousands of parents.

``eligibility``
    ``GET /api/v1/eligibility`` at homes drawn from the published demand points, walking
    and by motorbike, 200 req/s for 60 s.
``map_page``
    ``GET /`` with ``Accept-Encoding: gzip, br``, 50 req/s for 30 s.
``burst``
    500 look-ups sent at once while another process polls ``GET /api/v1/health`` every
    100 ms, from 2 s before the burst to well after its last answer: the worst health
    latency and the split of the burst's answers (200/429/503/other).
``eligibility_under_jobs``
    Eligibility at 100 req/s while a placement run of a round with ``--applications``
    applications (default 150,000, a large city's intake; imported before as an
    officer's CSV file with ``schoolgis applications import``) and a site suggestion run.

``--scenarios eligibility,burst`` runs some of them only. Results print as a table and go
to ``benchmarks/results/load.json`` (``--out``).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime as dt
import json
import multiprocessing
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SCHOOLGIS = Path(sys.executable).with_name("schoolgis")
#: Longest wait for the service to start (the first start computes the zones), seconds.
START_TIMEOUT_S = 900.0
#: The choice columns of the applications file.
CHOICE_COLUMNS = ("choice_1", "choice_2", "choice_3")
#: Longest wait for the import of the applications, seconds.
IMPORT_TIMEOUT_S = 1800.0
#: Longest wait for a placement or site suggestion run, seconds.
JOB_TIMEOUT_S = 300.0


@dataclass
class Tally:
    """The answers of one scenario."""

    name: str
    latencies_s: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    timeouts: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    sent: int = 0
    first_due: float = 0.0
    last_done: float = 0.0

    def record(self, due: float, status: int | str) -> None:
        """Count an answer's status, or the name of the error that stood for one."""
        done = time.perf_counter()
        self.last_done = max(self.last_done, done)
        if isinstance(status, str):
            self.failures[status] += 1
            return
        self.statuses[status] += 1
        self.latencies_s.append(done - due)

    def summary(self, target_rate: float | None) -> dict[str, Any]:
        ok = sum(n for s, n in self.statuses.items() if 200 <= s < 400)
        span = max(self.last_done - self.first_due, 1e-9)
        lat = np.asarray(self.latencies_s) * 1000.0
        pct = (lambda q: round(float(np.percentile(lat, q)), 1)) if len(lat) else lambda _: None
        return {
            "scenario": self.name,
            "target_rate": target_rate,
            "sent": self.sent,
            "ok": ok,
            "achieved_rate": round(ok / span, 1),
            "p50_ms": pct(50),
            "p90_ms": pct(90),
            "p99_ms": pct(99),
            "max_ms": None if not len(lat) else round(float(lat.max()), 1),
            "errors": self.sent - ok - self.timeouts,
            "timeouts": self.timeouts,
            "statuses": {str(s): n for s, n in sorted(self.statuses.items())},
            "failures": dict(self.failures),
        }


async def _one(
    client: httpx2.AsyncClient, tally: Tally, due: float, method: str, url: str, **kw: Any
) -> None:
    try:
        response = await client.request(method, url, **kw)
    except httpx2.TimeoutException:
        tally.timeouts += 1
        tally.last_done = max(tally.last_done, time.perf_counter())
        return
    except httpx2.HTTPError as error:
        tally.record(due, type(error).__name__)
        return
    tally.record(due, response.status_code)


async def open_loop(
    client: httpx2.AsyncClient,
    tally: Tally,
    *,
    rate: float,
    duration_s: float,
    request: Any,
) -> None:
    """Send ``rate * duration_s`` requests at their due times; wait for every answer."""
    count = int(rate * duration_s)
    start = time.perf_counter()
    tally.first_due = start
    tasks = []
    for i in range(count):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        method, url, kw = request(i)
        tally.sent += 1
        tasks.append(asyncio.create_task(_one(client, tally, due, method, url, **kw)))
    await asyncio.gather(*tasks)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _environment(data_dir: Path, *, rate_limits: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL"}}
    env = {k: v for k, v in env.items() if not k.startswith("SCHOOLGIS_")}
    env["SCHOOLGIS_DATA_DIR"] = str(data_dir)
    # every request comes from one address here, not from thousands of parents
    env["SCHOOLGIS_RATE_LIMIT_ENABLED"] = "true" if rate_limits else "false"
    return env


def _wait_started(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            msg = f"the service stopped at start-up (exit code {server.returncode})"
            raise RuntimeError(msg)
        try:
            if httpx2.get(f"{base}/api/v1/health", timeout=2.0).status_code == 200:
                return
        except httpx2.HTTPError:
            pass
        time.sleep(0.5)
    msg = f"the service did not answer within {START_TIMEOUT_S:.0f} s"
    raise RuntimeError(msg)


def _homes(base: str) -> list[tuple[float, float]]:
    points = httpx2.get(f"{base}/api/v1/zones/points", timeout=60.0).json()["features"]
    return [tuple(f["geometry"]["coordinates"]) for f in points]


def _lat_lon(home: tuple[float, float]) -> dict[str, float]:
    return {"lat": home[1], "lon": home[0]}


def _eligibility(homes: list[tuple[float, float]], seed: int) -> Any:
    rng = np.random.default_rng(seed)
    picks = rng.integers(len(homes), size=1_000_000)

    def request(i: int) -> tuple[str, str, dict[str, Any]]:
        mode = "walk" if i % 2 == 0 else "motorbike"
        params = {**_lat_lon(homes[int(picks[i % len(picks)])]), "mode": mode}
        return "GET", "/api/v1/eligibility", {"params": params}

    return request


def _prepare_round(
    base: str,
    token: str,
    homes: list[tuple[float, float]],
    count: int,
    env: dict[str, str],
    folder: Path,
) -> int:
    """Open a round and import ``count`` applications at random homes; return its id.

    The applications go in as an officer's CSV file (``schoolgis applications import``,
    all or nothing), the way a large city brings the applications of its portal.
    """
    schools = httpx2.get(
        f"{base}/api/v1/schools",
        params={"level": "tieu_hoc", "status": "open"},
        timeout=60.0,
    ).json()["features"]
    codes = [s["properties"]["code"] for s in schools]
    year = dt.date.today().year + 1
    body = {
        "name": f"Tuyển sinh lớp 1 năm {year} (tải thử)",
        "year": year,
        "applications_close_at": (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).isoformat(),
        "max_choices": 3,
        "rules": ["sibling", "priority_category", "everyone"],
        "priority_categories": ["con_liet_si", "ho_ngheo"],
        "default_first_grade_classes": 8,
    }
    created = httpx2.post(
        f"{base}/api/v1/rounds",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=60.0,
    )
    created.raise_for_status()
    round_id: int = created.json()["id"]
    rng = np.random.default_rng(11)
    born = dt.date(year - 6, 3, 14).isoformat()
    applications = folder / "applications.csv"
    with applications.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["child_name", "date_of_birth", "lon", "lat", "contact", *CHOICE_COLUMNS])
        for i in range(count):
            lon, lat = homes[int(rng.integers(len(homes)))]
            choices = rng.choice(len(codes), size=min(3, len(codes)), replace=False)
            writer.writerow(
                [f"Nguyễn Văn Tải {i}", born, lon, lat, "0903 123 456"]
                + [codes[int(c)] for c in choices]
            )
    started = time.perf_counter()
    subprocess.run(
        [str(SCHOOLGIS), "applications", "import", str(round_id), str(applications)],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=IMPORT_TIMEOUT_S,
    )
    print(f"{count:,} applications imported in {time.perf_counter() - started:.0f} s")
    return round_id


async def _timed_job(
    client: httpx2.AsyncClient, url: str, body: dict[str, Any], token: str
) -> dict[str, Any]:
    start = time.perf_counter()
    try:
        response = await client.post(
            url, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=JOB_TIMEOUT_S
        )
        status: int | str = response.status_code
    except httpx2.HTTPError as error:
        status = type(error).__name__
    return {"url": url, "status": status, "seconds": round(time.perf_counter() - start, 2)}


def _client(base: str, args: argparse.Namespace) -> httpx2.AsyncClient:
    limits = httpx2.Limits(max_connections=2000, max_keepalive_connections=200)
    return httpx2.AsyncClient(base_url=base, limits=limits, timeout=args.timeout_s)


async def eligibility_scenario(
    base: str, homes: list[tuple[float, float]], args: argparse.Namespace
) -> list[dict[str, Any]]:
    """(a) Eligibility look-ups, open-loop."""
    tally = Tally("eligibility")
    rate = 100.0 if args.quick else 200.0
    async with _client(base, args) as client:
        await open_loop(
            client, tally, rate=rate, duration_s=60 * _scale(args), request=_eligibility(homes, 1)
        )
    return [tally.summary(rate)]


async def map_scenario(base: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    """(b) The map page, open-loop."""
    tally = Tally("map_page")
    headers = {"Accept-Encoding": "gzip, br"}
    async with _client(base, args) as client:
        await open_loop(
            client,
            tally,
            rate=50.0,
            duration_s=30 * _scale(args),
            request=lambda _i: ("GET", "/", {"headers": headers}),
        )
    return [tally.summary(50.0)]


def _poll_health(base: str, duration_s: float, timeout_s: float) -> dict[str, Any]:
    """Poll ``GET /api/v1/health`` every 100 ms for ``duration_s``; return the summary.

    It runs in a process of its own, as a monitoring probe would: the burst's client,
    busy with its 500 requests, cannot delay the probe's requests or its reading of them.
    """

    async def poll() -> dict[str, Any]:
        health = Tally("health_during_burst")
        async with httpx2.AsyncClient(base_url=base, timeout=timeout_s) as client:
            start = time.perf_counter()
            health.first_due = start
            for i in range(int(duration_s * 10)):
                due = start + i * 0.1
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                health.sent += 1
                await _one(client, health, due, "GET", "/api/v1/health")
        return health.summary(10.0)

    return asyncio.run(poll())


async def burst_scenario(
    base: str, homes: list[tuple[float, float]], args: argparse.Namespace
) -> list[dict[str, Any]]:
    """(c) Look-ups sent at once while another process polls health every 100 ms."""
    burst = Tally("burst")
    size = 100 if args.quick else 500
    request = _eligibility(homes, 2)
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as probe:
        # the probe polls from before the burst until well after its slowest answer
        polled = loop.run_in_executor(
            probe, _poll_health, base, args.timeout_s + 3.0, args.timeout_s
        )
        await asyncio.sleep(2.0)  # the probe's process starts and polls a quiet service
        async with _client(base, args) as client:
            now = time.perf_counter()
            burst.first_due = now
            burst.sent = size
            calls = [request(i) for i in range(size)]
            await asyncio.gather(*(_one(client, burst, now, m, url, **kw) for m, url, kw in calls))
        health = await polled
    return [burst.summary(None), health]


async def jobs_scenario(
    base: str,
    token: str,
    homes: list[tuple[float, float]],
    round_id: int,
    args: argparse.Namespace,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(d) Eligibility while a placement run and a site suggestion run."""
    tally = Tally("eligibility_under_jobs")
    rate = 100.0
    async with _client(base, args) as client:
        jobs = asyncio.gather(
            _timed_job(client, f"/api/v1/rounds/{round_id}/placement", {"seed": 1}, token),
            _timed_job(
                client, "/api/v1/sites/suggest", {"new_schools": 3, "time_limit_s": 60}, token
            ),
        )
        await open_loop(
            client, tally, rate=rate, duration_s=30 * _scale(args), request=_eligibility(homes, 3)
        )
        finished = await jobs
    return [tally.summary(rate)], list(finished)


#: The scenarios, in the order they run.
SCENARIOS = ("eligibility", "map_page", "burst", "eligibility_under_jobs")


def _scale(args: argparse.Namespace) -> float:
    return 0.25 if args.quick else 1.0


def _print(rows: list[dict[str, Any]], extra: dict[str, Any]) -> None:
    head = ("scenario", "rate", "sent", "ok/s", "p50", "p90", "p99", "max", "err", "t/o")
    print("  ".join(f"{h:>10}" for h in head))
    for r in rows:
        cells = (
            r["scenario"][:22],
            r["target_rate"],
            r["sent"],
            r["achieved_rate"],
            r["p50_ms"],
            r["p90_ms"],
            r["p99_ms"],
            r["max_ms"],
            r["errors"],
            r["timeouts"],
        )
        print("  ".join(f"{'-' if c is None else c!s:>10}" for c in cells))
    for r in rows:
        failures = f", failed {r['failures']}" if r["failures"] else ""
        print(f"{r['scenario']}: statuses {r['statuses']}{failures}")
    for job in extra.get("jobs", []):
        print(f"job {job['url']}: {job['status']} in {job['seconds']} s")
    print("latencies in ms, counted from each request's due time")


@contextmanager
def serving(env: dict[str, str], log: IO[bytes]) -> Iterator[str]:
    """Start ``schoolgis serve`` on a free port; yield its base URL; stop it."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [str(SCHOOLGIS), "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_started(base, server)
        # one look-up and one page first: they read the road network and draw the page
        httpx2.get(f"{base}/", timeout=START_TIMEOUT_S)
        homes = _homes(base)
        httpx2.get(f"{base}/api/v1/eligibility", params=_lat_lon(homes[0]), timeout=60.0)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a quarter of the time, lighter")
    parser.add_argument("--applications", type=int, default=150_000, help="of the placed round")
    parser.add_argument("--timeout-s", type=float, default=10.0, help="per request")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/load.json")
    parser.add_argument("--log", type=Path, help="the service's log (default: thrown away)")
    parser.add_argument(
        "--rate-limits", action="store_true", help="keep the per-client limits (429) on"
    )
    parser.add_argument(
        "--scenarios",
        default=",".join(SCENARIOS),
        help=f"comma-separated, of {', '.join(SCENARIOS)} (default: all)",
    )
    args = parser.parse_args()
    chosen = [name.strip() for name in args.scenarios.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(SCENARIOS))
    if unknown:
        parser.error(f"unknown scenarios {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}")
    applications = min(args.applications, 1_000) if args.quick else args.applications
    rows: list[dict[str, Any]] = []
    jobs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as folder:
        env = _environment(Path(folder), rate_limits=args.rate_limits)
        with (args.log or Path(folder) / "serve.log").open("wb") as log:
            with serving(env, log) as base:
                token = subprocess.run(
                    [str(SCHOOLGIS), "keys", "create", "--name", "load test", "--role", "admin"],
                    env=env,
                    cwd=ROOT,
                    check=True,
                    capture_output=True,
                    text=True,
                    timeout=120,
                ).stdout.strip()
                homes = _homes(base)
                round_id = (
                    _prepare_round(base, token, homes, applications, env, Path(folder))
                    if "eligibility_under_jobs" in chosen
                    else 0
                )
            # each scenario on a freshly started service: a backlog left by one (requests
            # given up by the client but still queued in the service) cannot skew the next
            if "eligibility" in chosen:
                with serving(env, log) as base:
                    rows += asyncio.run(eligibility_scenario(base, homes, args))
            if "map_page" in chosen:
                with serving(env, log) as base:
                    rows += asyncio.run(map_scenario(base, args))
            if "burst" in chosen:
                with serving(env, log) as base:
                    rows += asyncio.run(burst_scenario(base, homes, args))
            if "eligibility_under_jobs" in chosen:
                with serving(env, log) as base:
                    more, jobs = asyncio.run(jobs_scenario(base, token, homes, round_id, args))
                    rows += more
    extra = {"jobs": jobs}
    _print(rows, extra)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    result = {
        "quick": args.quick,
        "applications": applications,
        "timeout_s": args.timeout_s,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "scenarios": rows,
        **extra,
    }
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
