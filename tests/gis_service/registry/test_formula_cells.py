"""The schools CSV shows typed text as text in a spreadsheet and still imports back as is."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from sqlalchemy.orm import Session

from gis_service.db import repository
from gis_service.ingest.schools_export import export_schools
from gis_service.ingest.schools_import import import_schools
from gis_service.registry import schools as registry

DISTRICT = "770"
TRUONG_QUYEN = "79770020"

TYPED = {
    "name": '=HYPERLINK("http://x.example","Trường")',
    "address": "-cmd|' /C calc'!A0",
    "phone": "+84 903 =1+1",
    "email": "@SUM(1+1)",
    "source": "-- nhập tay",
}


def test_formula_cells_are_neutralised_and_import_back(session: Session, tmp_path: Path) -> None:
    registry.update_school(session, TRUONG_QUYEN, TYPED, class_size_cap=35, actor="tester")
    session.commit()
    before = repository.get_school(session, TRUONG_QUYEN)
    path = tmp_path / "schools.csv"
    export_schools(session, path, district_code=DISTRICT)
    rows = list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))
    (row,) = [r for r in rows if r["code"] == TRUONG_QUYEN]
    stored = before.data
    for field in TYPED:
        assert row[field] == "'" + getattr(stored, field), field
    assert not any(cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r.values())

    report = import_schools(
        session, path, district_code=DISTRICT, class_size_cap=35, actor="tester"
    )
    assert report.rejected == ()
    assert (report.created, report.updated) == (0, 0)
    session.commit()
    assert repository.get_school(session, TRUONG_QUYEN) == before


def test_a_quote_before_plain_text_is_kept(session: Session, tmp_path: Path) -> None:
    quoted = "'Trường Tiểu học Trương Quyền'"
    registry.update_school(
        session, TRUONG_QUYEN, {"name": quoted}, class_size_cap=35, actor="tester"
    )
    session.commit()
    path = tmp_path / "schools.csv"
    export_schools(session, path, district_code=DISTRICT)
    report = import_schools(
        session, path, district_code=DISTRICT, class_size_cap=35, actor="tester"
    )
    assert (report.rejected, report.updated) == ((), 0)
    assert repository.get_school(session, TRUONG_QUYEN).data.name == quoted
