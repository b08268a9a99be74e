"""Benchmark the public map: what its first view transfers, and how fast it is drawn.

Run from the repository root::

    .venv/bin/python benchmarks/map_page.py

The bundled district is loaded into a fresh SpatiaLite store and its first zones are
published (as ``schoolgis serve`` does on a first start). Then, through the service with
``Accept-Encoding: gzip``, the page ``/`` and every file it links are fetched: the bytes
on the wire per file and in all are compared with the budget (300 kB: about 2.5 s on a
1 Mbit/s rural mobile link). Also timed: drawing the page (the first request builds the
base layer and street list, later ones reuse them), one eligibility answer, and the
self-contained export. Results print as a table and go to ``benchmarks/results/map_page.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import tempfile
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from gis_service.app import create_app
from gis_service.networks import NetworkCache
from gis_service.settings import Settings
from gis_service.startup import open_engine, prepare_store, publish_bundled_zones
from gis_service.web_map import MapBackgrounds, public_map_data
from maps.pages import render_map

ROOT = Path(__file__).resolve().parents[1]
BUDGET_BYTES = 300_000
LINKED = re.compile(r"""<(?:script|link)\b[^>]*?(?:src|href)="(/static/[^"]+)\"""")
HOME = {"lat": "10.7800", "lon": "106.6850"}


def _timed(action: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    result = action()
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="warm page draws to time")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(data_dir=Path(folder), database_url=None)
        engine = open_engine(settings)
        prepare_store(engine, settings)
        with Session(engine) as session:
            _, publish_s = _timed(lambda: publish_bundled_zones(session, NetworkCache(settings)))
        engine.dispose()
        with TestClient(create_app(settings)) as client:
            gzip = {"Accept-Encoding": "gzip"}
            page, first_s = _timed(lambda: client.get("/", headers=gzip))
            warm = [_timed(lambda: client.get("/", headers=gzip))[1] for _ in range(args.repeat)]
            files = [("/", page.num_bytes_downloaded, len(page.content))]
            for url in LINKED.findall(page.text):
                response = client.get(url, headers=gzip)
                assert response.status_code == 200, url
                files.append((url, response.num_bytes_downloaded, len(response.content)))
            answer, eligibility_s = _timed(
                lambda: client.get("/api/v1/eligibility", params=HOME, headers=gzip)
            )
            assert answer.status_code == 200, answer.text
        engine = open_engine(settings)
        with Session(engine) as session:
            data = public_map_data(
                session, NetworkCache(settings), MapBackgrounds(), district_code=None
            )
            export, export_s = _timed(lambda: render_map(data, assets_mode="inline"))
        engine.dispose()
    wire = sum(size for _, size, _ in files)
    result = {
        "machine": {"python": platform.python_version(), "cpu": platform.processor()},
        "files": [{"url": u, "wire_bytes": w, "bytes": b} for u, w, b in files],
        "wire_bytes": wire,
        "budget_bytes": BUDGET_BYTES,
        "within_budget": wire <= BUDGET_BYTES,
        "seconds_at_1_mbit": round(wire * 8 / 1_000_000, 2),
        "first_zones_s": round(publish_s, 3),
        "first_page_s": round(first_s, 3),
        "warm_page_s": round(min(warm), 3),
        "eligibility_s": round(eligibility_s, 3),
        "export_s": round(export_s, 3),
        "export_bytes": len(export.encode("utf-8")),
        "schools": len(data.schools),
    }
    print(f"{'file':<72}{'wire':>10}{'bytes':>10}")
    for url, size, raw in files:
        print(f"{url:<72}{size:>10,}{raw:>10,}")
    print(f"{'total (budget ' + format(BUDGET_BYTES, ',') + ')':<72}{wire:>10,}")
    print()
    for key in ("first_zones_s", "first_page_s", "warm_page_s", "eligibility_s", "export_s"):
        print(f"{key:<30}{result[key]:>10}")
    print(f"{'export_bytes':<30}{result['export_bytes']:>10,}")
    out = ROOT / "benchmarks" / "results" / "map_page.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(f"\nwithin budget: {result['within_budget']}; saved {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
