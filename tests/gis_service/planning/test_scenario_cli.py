"""``schoolgis scenario`` and ``schoolgis sites`` as a planner runs them, on both stores."""

from __future__ import annotations

import json
import re
from pathlib import Path

from gis_service.settings import Settings
from tests.support.cli import run_schoolgis


def _ok(args: list[str], settings: Settings) -> str:
    result = run_schoolgis(args, settings)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_documented_comparison_of_suggested_sites(
    fast_settings: Settings, tmp_path: Path
) -> None:
    saved = tmp_path / "suggested.json"
    out = _ok(
        [
            "sites", "suggest", "--new-schools", "3", "--candidates", "500",
            "--save-scenario", "ba-truong-moi", "--compare", "--json", str(saved),
        ],
        fast_settings,
    )  # fmt: skip
    answer = json.loads(saved.read_text(encoding="utf-8"))
    assert answer["status"] == "optimal"
    assert answer["gap"] < 0.01
    assert answer["seconds"]["solve"] < 60
    assert len(answer["sites"]) == 3
    assert re.search(r"p_median: 3 of 500 candidates, optimal, proven gap", out)
    comparison = answer["comparison"]
    scenario = comparison["scenarios"][0]
    assert scenario["name"] == "ba-truong-moi"
    assert scenario["change"]["mean_distance_m.walk"] < 0
    assert scenario["change"]["shortfall_children"] < 0
    for figure in ("mean_distance_m.walk", "within_1km_walk_share", "shortfall_children"):
        assert re.search(rf"^{re.escape(figure)}\s", out, re.MULTILINE), figure
    assert "children changing zone" in out
    assert re.search(r"^2036\s", out, re.MULTILINE)
    assert "HighsMip" not in out

    listed = _ok(["scenario", "list"], fast_settings)
    assert "ba-truong-moi\trevision 1\t3 change(s)" in listed
    shown = json.loads(_ok(["scenario", "show", "ba-truong-moi"], fast_settings))
    assert [c["code"] for c in shown["changes"]] == ["SITE-1", "SITE-2", "SITE-3"]
    layer = tmp_path / "moved.geojson"
    _ok(["scenario", "compare", "ba-truong-moi", "--geojson", str(layer)], fast_settings)
    moved = json.loads(layer.read_text(encoding="utf-8"))
    assert len(moved["features"]) == scenario["moved_points"]
    assert {f["properties"]["scenario"] for f in moved["features"]} == {"ba-truong-moi"}


def test_a_bad_scenario_file_is_one_line_and_stores_nothing(
    fast_settings: Settings, tmp_path: Path
) -> None:
    document = {
        "name": "đóng trường lạ",
        "changes": [{"kind": "close_school", "school_code": "79770999"}],
    }
    file = tmp_path / "scenario.json"
    file.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    result = run_schoolgis(["scenario", "create", str(file)], fast_settings)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"schoolgis: error: {file} at /changes/0/school_code: ")
    assert "79770999" in result.stderr
    file.write_text('{"name": "x", "changes": [{"kind": "demolish"}]}', encoding="utf-8")
    result = run_schoolgis(["scenario", "create", str(file)], fast_settings)
    assert result.returncode == 1
    assert result.stderr.startswith(f"schoolgis: error: {file} at /changes/0"), result.stderr
    listed = run_schoolgis(["scenario", "list"], fast_settings)
    assert listed.stdout == ""
    assert "has no scenario" in listed.stderr

    document["changes"] = [{"kind": "set_class_size_cap", "class_size_cap": 30}]
    file.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    _ok(["scenario", "create", str(file)], fast_settings)
    evaluated = _ok(["scenario", "evaluate", "đóng trường lạ"], fast_settings)
    assert "revision 1: mean walk" in evaluated
    assert "seats short in zones (central): 2027:" in evaluated
    copied = _ok(["scenario", "copy", "đóng trường lạ", "bản sao"], fast_settings)
    assert "copied from" in copied
    _ok(["scenario", "delete", "đóng trường lạ"], fast_settings)
    assert _ok(["scenario", "list"], fast_settings).count("\n") == 1
