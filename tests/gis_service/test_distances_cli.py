"""``schoolgis network build`` and ``schoolgis distances`` as a user runs them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from gis_service.settings import Settings
from tests.support.cli import run_schoolgis


def test_network_build_then_distances(settings: Settings, tmp_path: Path) -> None:
    built = run_schoolgis(["network", "build"], settings)
    assert built.returncode == 0, built.stderr
    assert "district 770: 6,402 nodes, 16,343 edges, EPSG:32648" in built.stdout
    assert "walk:" in built.stdout
    assert "motorbike:" in built.stdout
    assert list((settings.networks_dir / "770" / "cache").glob("*.npz"))
    origins = tmp_path / "homes.csv"
    origins.write_text(
        "id,lat,lon\nhome-1,10.7800,106.6850\nhome-2,10.7750,106.6900\nriver,10.7795,106.7125\n",
        encoding="utf-8",
    )
    out = tmp_path / "out" / "matrix.parquet"
    result = run_schoolgis(
        ["distances", str(origins), str(out), "--mode", "motorbike", "--k", "3"], settings
    )
    assert result.returncode == 0, result.stderr
    assert "3 origins x 27 schools (motorbike): 6 pairs, 2 origins reach a school" in result.stdout
    table = pd.read_parquet(out)
    assert list(table.columns) == [
        "origin_id",
        "school_code",
        "rank",
        "distance_m",
        "duration_s",
        "status",
    ]
    home = table[table["origin_id"] == "home-1"]
    assert list(home["rank"]) == [1, 2, 3]
    assert home["distance_m"].is_monotonic_increasing
    river = table[table["origin_id"] == "river"]
    assert list(river["status"]) == ["off_network"]
    csv = tmp_path / "matrix.csv"
    again = run_schoolgis(["distances", str(origins), str(csv), "--cutoff-m", "800"], settings)
    assert again.returncode == 0, again.stderr
    walk = pd.read_csv(csv)
    assert (walk.loc[walk["status"] == "ok", "distance_m"] <= 800).all()
    bad = run_schoolgis(["distances", str(origins), str(tmp_path / "m.xlsx")], settings)
    assert bad.returncode == 1
    assert (
        bad.stderr
        == f"schoolgis: error: {tmp_path / 'm.xlsx'}: the output must end in .csv or .parquet\n"
    )
