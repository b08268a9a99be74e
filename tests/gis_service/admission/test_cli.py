"""``schoolgis rounds``, ``applications`` and ``placement`` on both stores."""

from __future__ import annotations

import csv
import datetime as dt
import re
import stat
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from gis_service.admission.export import EXPORT_COLUMNS
from gis_service.cli import app as cli_app
from gis_service.cli import main
from gis_service.db import audit_repository
from gis_service.db.audit_repository import AuditRecord
from gis_service.settings import Settings
from gis_service.startup import open_engine
from tests.support.admission import BORN, SCHOOLS, YEAR, homes
from tests.support.cli import run_schoolgis
from tests.support.zones import Computed


def _cli(settings: Settings, *args: str) -> str:
    options = ["--data-dir", str(settings.data_dir)]
    if settings.database_url is not None:
        options += ["--database-url", settings.database_url]
    result = CliRunner().invoke(cli_app, [*options, *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def _audited(settings: Settings, *, round_id: int) -> list[AuditRecord]:
    engine = open_engine(settings)
    try:
        with Session(engine) as session:
            return audit_repository.audit_entries(session, round_id=round_id)
    finally:
        engine.dispose()


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def test_a_round_from_the_command_line(
    fast_settings: Settings, computed: Computed, tmp_path: Path
) -> None:
    close_at = (dt.date.today() + dt.timedelta(days=20)).isoformat()
    created = _cli(
        fast_settings,
        "rounds", "create", "--name", "Lớp 1", "--year", str(YEAR), "--close-at", close_at,
        "--rules", "sibling,everyone", "--default-classes", "8", "--seats", f"{SCHOOLS[0]}=2",
        "--by", "office",
    )  # fmt: skip
    assert created.startswith(f"round 1 'Lớp 1' ({YEAR}): open until {close_at} 23:59 UTC")
    assert "1\t" in _cli(fast_settings, "rounds", "list")
    places = homes(computed, 5, seed=31)
    header = ["child_name", "date_of_birth", "lon", "lat", "contact", "choices"]
    rows = [
        [f"Trẻ số {i}", BORN.isoformat(), str(lon), str(lat), "0900", f"{SCHOOLS[0]};{SCHOOLS[1]}"]
        for i, (lon, lat) in enumerate(places)
    ]
    source = _write(tmp_path / "apps.csv", [header, *rows])
    imported = _cli(fast_settings, "applications", "import", "1", str(source), "--by", "office")
    secrets = tmp_path / "apps.secrets.csv"
    assert f"imported 5 applications into round 1; secrets in {secrets}" in imported
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o600
    issued = _read(secrets)
    assert [row["child_name"] for row in issued] == [f"Trẻ số {i}" for i in range(5)]

    ran = _cli(fast_settings, "placement", "run", "1", "--seed", "11", "--by", "office")
    found = re.search(r"placement run (\d+) of round 1 \(deferred_acceptance, seed 11\)", ran)
    assert found, ran
    run_id = found.group(1)
    assert "5 of 5 children seated" in ran
    again = _cli(fast_settings, "placement", "run", "1", "--seed", "11")
    assert ran.rsplit("digest ", 1)[1] == again.rsplit("digest ", 1)[1]
    assert "published placement run" in _cli(
        fast_settings, "placement", "publish", "1", run_id, "--by", "office"
    )
    out = tmp_path / "results" / "run.csv"
    assert "wrote 5 results" in _cli(fast_settings, "placement", "export", "1", run_id, str(out))
    exported = _read(out)
    assert tuple(exported[0]) == EXPORT_COLUMNS
    assert {row["application_id"] for row in exported} == {r["application_id"] for r in issued}
    assert sum(row["school_code"] == SCHOOLS[0] for row in exported) == 2
    assert stat.S_IMODE(out.stat().st_mode) == 0o600

    entries = _audited(fast_settings, round_id=1)
    actions = [(e.action, e.actor, e.request_method) for e in entries]
    assert actions[0] == ("round.create", "office", "CLI")
    assert actions.count(("application.create", "office", "CLI")) == 5
    assert ("placement.publish", "office", "CLI") in actions
    assert actions[-1] == ("placement.export", "cli", "CLI")
    assert entries[-1].request_path.startswith("schoolgis ")

    # errors: one line on stderr, a non-zero exit
    refused = run_schoolgis(["placement", "run", "1"], fast_settings)
    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1
    assert "round 1 is frozen" in refused.stderr
    _cli(
        fast_settings,
        "rounds", "create", "--name", "Lớp 1 bổ sung", "--year", str(YEAR), "--close-at",
        close_at, "--rules", "everyone", "--default-classes", "8",
    )  # fmt: skip
    lon, lat = places[0]
    bad = _write(tmp_path / "bad.csv", [header, ["Trẻ", "2001-01-01", str(lon), str(lat), "x", ""]])
    rejected = run_schoolgis(["applications", "import", "2", str(bad)], fast_settings)
    assert rejected.returncode == 1
    assert rejected.stderr.count("\n") == 1
    assert rejected.stderr.startswith(
        "schoolgis: error: 1 of 1 application rejected; nothing was written: "
        "row 1, column date_of_birth: a child born on 01/01/2001"
    )
    assert "row 1, column choices: list at least one school" in rejected.stderr
    assert not (tmp_path / "bad.secrets.csv").exists()


@pytest.mark.parametrize(
    ("option", "value", "problem"),
    [
        ("--rules", "sibling,rich", "--rules: unknown rule 'rich': use ("),
        ("--max-choices", "11", "--max-choices: Input should be less than or equal to 10"),
        ("--default-classes", "31", "--default-classes: Input should be less than or equal"),
        ("--results-at", "2000-01-01", "--results-at: results_at must not be before"),
    ],
)
def test_a_wrong_round_is_refused_on_one_line_before_the_store_opens(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, value: str, problem: str
) -> None:
    close_at = (dt.date.today() + dt.timedelta(days=20)).isoformat()
    code = main(
        [
            "--data-dir", str(tmp_path), "rounds", "create", "--name", "Lớp 1", "--year",
            str(YEAR), "--close-at", close_at, option, value,
        ]
    )  # fmt: skip
    assert code == 1
    error = capsys.readouterr().err
    assert error.startswith(f"schoolgis: error: {problem}")
    assert error.count("\n") == 1
    assert not any(tmp_path.iterdir())
