"""Forecast input versions in the store and through ``schoolgis forecast inputs`` (both stores)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gis_service.db import forecast_inputs_repository as versions
from gis_service.db.forecast_inputs_repository import ForecastInputDraft
from gis_service.db.models import ForecastInputVersion
from gis_service.settings import Settings
from tests.support.cli import run_schoolgis
from tests.support.stores import DISTRICT_CODE

#: 400 dwellings x 0.025 children per cohort in Quận 3, lived in from 2028.
BLOCK = {
    "name": "block-B",
    "lon": 106.6850,
    "lat": 10.7800,
    "dwellings": 400,
    "completion_year": 2028,
    "children_per_dwelling_per_cohort": 0.025,
}
BLOCK_INPUTS = {
    "source": "planning office, permits 2026/31",
    "as_of": "2026-07-01",
    "developments": [BLOCK],
}
YEARS_2027_2029 = ["--first-year", "2027", "--years", "3"]


def _draft(name: str) -> ForecastInputDraft:
    return ForecastInputDraft(
        district_code=DISTRICT_CODE,
        name=name,
        note="",
        inputs=BLOCK_INPUTS,
        inputs_hash="0" * 64,
        created_by="test",
    )


def test_the_store_holds_one_adopted_version_per_district(session: Session) -> None:
    first = versions.save_forecast_input_version(session, _draft("first"))
    second = versions.save_forecast_input_version(session, _draft("second"))
    versions.adopt_forecast_input_version(
        session, first.id, district_code=DISTRICT_CODE, actor="test"
    )
    adopted = versions.adopt_forecast_input_version(
        session, "second", district_code=DISTRICT_CODE, actor="test"
    )
    assert (adopted.id, adopted.status) == (second.id, "adopted")
    assert versions.adopted_forecast_input_version(session, DISTRICT_CODE) == adopted
    assert [(v.name, v.status) for v in versions.list_forecast_input_versions(session, "770")] == [
        ("second", "adopted"),
        ("first", "superseded"),
    ]
    session.commit()
    with pytest.raises(IntegrityError):
        session.execute(
            update(ForecastInputVersion)
            .where(ForecastInputVersion.id == first.id)
            .values(status="adopted")
        )
    session.rollback()


def _write_inputs(tmp_path: Path, document: object, name: str = "inputs.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


def test_cli_save_list_adopt_then_run_and_report_use_the_version(
    settings: Settings, tmp_path: Path
) -> None:
    empty = run_schoolgis(["forecast", "inputs", "list"], settings)
    assert (empty.returncode, empty.stdout) == (0, ""), empty.stderr
    assert empty.stderr == "district 770 has no forecast input version\n"

    file = _write_inputs(tmp_path, BLOCK_INPUTS)
    note = ["--note", "khu B, giấy phép 2026/31", "--by", "Nguyễn Thị Lan"]
    saved = run_schoolgis(
        ["forecast", "inputs", "save", str(file), "--name", "permits-2026", *note], settings
    )
    assert saved.returncode == 0, saved.stderr
    assert saved.stdout.startswith("saved forecast input version 1 'permits-2026' (draft, sha256 ")
    digest = saved.stdout.split("sha256 ")[1].rstrip(")\n")
    assert len(digest) == 64

    adopted = run_schoolgis(["forecast", "inputs", "adopt", "permits-2026"], settings)
    assert adopted.returncode == 0, adopted.stderr
    assert adopted.stdout == (
        f"adopted forecast input version 1 'permits-2026' (sha256 {digest}) for the forecasts "
        "of district 770\n"
    )
    listed = run_schoolgis(["forecast", "inputs", "list"], settings)
    (line,) = listed.stdout.splitlines()
    fields = line.split("\t")
    assert fields[:3] == ["1", "permits-2026", "adopted"]
    assert fields[4:] == ["Nguyễn Thị Lan", digest[:12], "khu B, giấy phép 2026/31"]

    out = tmp_path / "forecast.json"
    run = run_schoolgis(
        ["forecast", "run", *YEARS_2027_2029, "--output", str(out)], settings, cwd=tmp_path
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[-1] == (
        "inputs: hcmc-district3/forecast.toml with forecast input version 1 'permits-2026' "
        f"(sha256 {digest})"
    )
    payload = json.loads(out.read_text(encoding="utf-8"))
    assert payload["inputs_version"]["name"] == "permits-2026"
    assert payload["inputs_version"]["inputs_hash"] == digest
    housing = {
        year: sum(item["housing_yield"] for item in payload["items_by_year"][str(year)])
        for year in (2027, 2028, 2029)
    }
    assert housing == {2027: 0, 2028: 10, 2029: 10}

    report = run_schoolgis(["forecast", "report", *YEARS_2027_2029], settings, cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    assert f"forecast input version 1 'permits-2026' (sha256 {digest})" in report.stdout
    html = (tmp_path / "forecast-report.html").read_text(encoding="utf-8")
    assert f"forecast input version &#x27;permits-2026&#x27; (sha256 {digest[:12]}" in html
    assert "development block-B" in html


def test_cli_refuses_bad_inputs_in_one_line_and_saves_nothing(
    settings: Settings, session: Session, tmp_path: Path
) -> None:
    negative = {**BLOCK_INPUTS, "developments": [{**BLOCK, "dwellings": -5}]}
    cases = [
        (
            _write_inputs(tmp_path, negative, "negative.json"),
            "permits-2026",
            "negative.json at /developments/0/dwellings: Input should be greater than or equal "
            "to 0",
        ),
        (
            _write_inputs(
                tmp_path, {**BLOCK_INPUTS, "net_migration_rate": {"99999": 0.01}}, "ward.json"
            ),
            "permits-2026",
            "ward.json at /net_migration_rate/99999: ward '99999' is not a ward of the forecast",
        ),
        (
            _write_inputs(tmp_path, BLOCK_INPUTS),
            "2026",
            "--name: Value error, a name must not be only digits",
        ),
    ]
    broken = tmp_path / "broken.json"
    broken.write_text('{"source": ', encoding="utf-8")
    cases.append((broken, "permits-2026", "broken.json: not valid JSON"))
    for file, name, message in cases:
        result = run_schoolgis(["forecast", "inputs", "save", str(file), "--name", name], settings)
        assert result.returncode == 1, (file, result.stdout)
        assert result.stdout == ""
        assert result.stderr.count("\n") == 1, result.stderr
        assert result.stderr.startswith("schoolgis: error: "), result.stderr
        assert message in result.stderr, result.stderr
    unknown = run_schoolgis(["forecast", "inputs", "adopt", "nope"], settings)
    assert (unknown.returncode, unknown.stderr) == (
        1,
        "schoolgis: error: district 770 has no forecast input version 'nope'\n",
    )
    assert versions.list_forecast_input_versions(session, DISTRICT_CODE) == []
