"""School files in and out of the registry, and the data-quality report, on both stores."""

from __future__ import annotations

import csv
import datetime as dt
import json
import sqlite3
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import pytest
from pyproj import CRS, Transformer
from shapely import MultiPolygon, Point, box
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from gis_service.cli import app as cli_app
from gis_service.crs import WGS84, to_metric, to_wgs84
from gis_service.db import repository
from gis_service.db.models import SchoolHistory
from gis_service.errors import InvalidInputError
from gis_service.ingest.schools_export import export_schools
from gis_service.ingest.schools_file import (
    SCHOOL_FIELDS,
    map_headers,
    read_school_file,
    read_school_rows,
)
from gis_service.ingest.schools_import import ImportReport, import_schools
from gis_service.records import SchoolData
from gis_service.registry.quality import COMPLETENESS_FIELDS, assess_quality, quality_report
from gis_service.settings import Settings
from tests.support.cli import cli_env, run_schoolgis

DISTRICT = "770"
TRUONG_QUYEN = "79770020"  # Trường Tiểu học Trương Quyền, Phường 13 (OSM way 289444668)


# --- helpers --------------------------------------------------------------------------------


def _schools(session: Session) -> dict[str, SchoolData]:
    records, _ = repository.list_schools(session, repository.SchoolFilter(district_code=DISTRICT))
    return {r.data.code: r.data for r in records}


def _history_rows(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(SchoolHistory)) or 0


def _metric_crs(session: Session) -> CRS:
    return CRS.from_epsg(repository.get_district(session, DISTRICT).metric_epsg)


def _free_points(session: Session, count: int) -> list[tuple[float, float]]:
    """Ward representative points (EPSG:4326) more than 50 m from every school and each other."""
    metric = _metric_crs(session)
    schools = list(_schools(session).values())
    taken = list(
        to_metric(gpd.GeoSeries([Point(s.lon, s.lat) for s in schools], crs=WGS84), metric)
    )
    free: list[tuple[float, float]] = []
    for ward in repository.list_wards(session, DISTRICT):
        point = ward.boundary.representative_point()
        point_m = to_metric(gpd.GeoSeries([point], crs=WGS84), metric).iloc[0]
        if all(point_m.distance(other) > 50 for other in taken):
            free.append((point.x, point.y))
            taken.append(point_m)
        if len(free) == count:
            return free
    pytest.fail(f"the district has fewer than {count} ward points away from schools")


def _moved(session: Session, lon: float, lat: float, *, east_m: float) -> tuple[float, float]:
    """Return the point ``east_m`` metres east of (lon, lat), through the district's CRS."""
    metric = _metric_crs(session)
    point_m = to_metric(gpd.GeoSeries([Point(lon, lat)], crs=WGS84), metric).iloc[0]
    moved = to_wgs84(gpd.GeoSeries([Point(point_m.x + east_m, point_m.y)], crs=metric)).iloc[0]
    return moved.x, moved.y


def _outside_point(session: Session) -> tuple[float, float]:
    """A point 2 km east of the district's bounding box (in Quận 1 / Bình Thạnh)."""
    _, min_lat, max_lon, max_lat = repository.get_district(session, DISTRICT).boundary.bounds
    return _moved(session, max_lon, (min_lat + max_lat) / 2, east_m=2000)


def _write_csv(
    path: Path, rows: list[list[str]], *, separator: str = ",", bom: bool = False
) -> Path:
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        csv.writer(handle, delimiter=separator).writerows(rows)
    return path


def _write_geojson(path: Path, features: list[dict[str, object]], crs: str | None = None) -> Path:
    collection: dict[str, object] = {"type": "FeatureCollection", "features": features}
    if crs is not None:
        collection["crs"] = {"type": "name", "properties": {"name": crs}}
    path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    return path


def _import(session: Session, path: Path, *, dry_run: bool = False) -> ImportReport:
    return import_schools(
        session, path, district_code=DISTRICT, class_size_cap=35, actor="tester", dry_run=dry_run
    )


def _triples(report: ImportReport) -> set[tuple[int, str, str]]:
    return {(p.row, p.column, p.reason) for p in report.rejected}


def _good_file(session: Session, path: Path) -> Path:
    """An update of Trương Quyền (some columns only) and a new school with a blank code."""
    quyen = _schools(session)[TRUONG_QUYEN]
    (lon, lat) = _free_points(session, 1)[0]
    header = ["code", "name", "lon", "lat", "ownership", "first_grade_classes"]
    header += ["class_size_cap", "phone", "last_verified"]
    return _write_csv(
        path,
        [
            header,
            [
                TRUONG_QUYEN,
                quyen.name,
                repr(quyen.lon),
                repr(quyen.lat),
                "Công lập",
                "4",
                "40",
                "028 3930 1234",
                "2025-09-01",
            ],
            ["", "Trường Tiểu học Thử Nghiệm", repr(lon), repr(lat), "tu_thuc", "2", "", "", ""],
        ],
    )


# --- reading ----------------------------------------------------------------------------


def test_headers_match_in_english_and_vietnamese_with_or_without_diacritics() -> None:
    headers = [
        "Mã trường",
        "TEN TRUONG",
        "kinh do",
        "Vĩ Độ",
        "Cấp học",
        "Loại hình",
        "Địa chỉ",
        "Phường/xã",
        "Số lớp 1",
        "Sĩ số tối đa",
        "Trạng thái",
        "Điện thoại",
        "E-mail",
        "Website",
        "Nguồn",
        "source_ref",
        "Ngày xác minh",
        "Ghi chú",
    ]
    known, unknown = map_headers(headers)
    assert [known[h] for h in headers[:-1]] == list(SCHOOL_FIELDS)
    assert unknown == ("Ghi chú",)
    assert map_headers(["Sĩ số lớp", "Mã phường", "LONGITUDE", "First_Grade_Classes"])[0] == {
        "Sĩ số lớp": "class_size_cap",
        "Mã phường": "ward_code",
        "LONGITUDE": "lon",
        "First_Grade_Classes": "first_grade_classes",
    }


def test_two_columns_for_one_field_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="'Mã phường' and 'Phường/xã' both mean ward_code"):
        map_headers(["Mã phường", "Phường/xã"])


def test_csv_cells_stay_text_and_rows_count_from_one(tmp_path: Path) -> None:
    path = _write_csv(
        tmp_path / "s.csv",
        [
            ["Mã trường", "Tên trường", "Kinh độ", "Vĩ độ", "Điện thoại", "Ghi chú"],
            ["0123", "Trường A", "106,6869549", "10,7817518", "0283930", "x"],
            ["", "", "", "", "", ""],
            [],
            ["0124", "Trường B", "106.68", "10.78", "", ""],
        ],
        separator=";",
        bom=True,
    )
    school_file = read_school_file(path)
    assert [raw.row for raw in school_file.rows] == [1, 4]  # blank rows 2 and 3 are skipped
    first = school_file.rows[0]
    assert first.values["code"] == "0123"
    assert first.values["phone"] == "0283930"
    assert first.values["lon"] == "106,6869549"
    assert not first.has_geometry_column
    assert school_file.unknown_columns == ("Ghi chú",)
    assert read_school_rows(path) == list(school_file.rows)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("schools.xlsx", b"PK", "unsupported school file type"),
        ("schools.csv", b"name\nTr\xean\n", "not UTF-8"),
        ("schools.csv", b"", "not a readable CSV file"),
        ("schools.geojson", b"{not json", "not a readable vector file"),
        ("schools.gpkg", b"not a geopackage", "not a readable vector file"),
    ],
)
def test_unreadable_files_are_invalid_input_naming_the_file(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InvalidInputError, match=message) as caught:
        read_school_file(path)
    assert name in str(caught.value)


def test_missing_file_is_invalid_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match=r"missing\.csv: no such file"):
        read_school_file(tmp_path / "missing.csv")


# --- import: rejection ------------------------------------------------------------------


def test_bad_csv_writes_nothing_and_names_every_row_column_and_reason(
    session: Session, tmp_path: Path
) -> None:
    before_schools, before_history = _schools(session), _history_rows(session)
    stored = before_schools[TRUONG_QUYEN]
    a, b, c, d, e, f, g = _free_points(session, 7)
    out_lon, out_lat = _outside_point(session)
    near_lon, near_lat = _moved(session, stored.lon, stored.lat, east_m=2.0)
    header = ["code", "name", "lon", "lat", "level", "first_grade_classes"]
    rows = [
        header,
        ["", "Trường Tiểu học Hợp Lệ", repr(a[0]), repr(a[1]), "tieu_hoc", "3"],  # 1: fine
        ["", "", repr(b[0]), repr(b[1]), "tieu_hoc", ""],  # 2: no name
        ["", "Trường Ngoài Quận", repr(out_lon), repr(out_lat), "", ""],  # 3: outside
        ["", "Trường Đảo Tọa Độ", repr(c[1]), repr(c[0]), "", ""],  # 4: lat/lon swapped
        ["79770901", "Trường Mã Một", repr(d[0]), repr(d[1]), "", ""],  # 5: fine
        ["79770901", "Trường Mã Hai", repr(e[0]), repr(e[1]), "", ""],  # 6: same code as 5
        ["", "Trường Trùng Chỗ", repr(near_lon), repr(near_lat), "", ""],  # 7: 2 m from 20
        ["", "Trường Đại Học", repr(f[0]), repr(f[1]), "đại học", ""],  # 8: unknown level
        ["", "Trường Âm", repr(g[0]), repr(g[1]), "", "-2"],  # 9: negative classes
    ]
    report = _import(session, _write_csv(tmp_path / "bad.csv", rows))
    assert _triples(report) == {
        (2, "name", "missing_name"),
        (3, "lat", "outside_district"),
        (4, "lat", "latlon_swapped"),
        (6, "code", "duplicate_code"),
        (7, "geometry", "duplicate_location"),
        (8, "level", "unknown_level"),
        (9, "first_grade_classes", "negative_capacity"),
    }
    assert report.rejected_rows == (2, 3, 4, 6, 7, 8, 9)
    problem_7 = next(p for p in report.rejected if p.row == 7)
    assert f"stored school {TRUONG_QUYEN}" in problem_7.detail
    assert (report.rows_read, report.accepted) == (9, 2)
    assert (report.created, report.updated, report.unchanged) == (0, 0, 0)
    assert not report.written
    session.commit()
    assert _schools(session) == before_schools
    assert _history_rows(session) == before_history


def test_bad_geometries_in_geojson_are_rejected(session: Session, tmp_path: Path) -> None:
    before_history = _history_rows(session)
    (lon, lat), (lon2, lat2) = _free_points(session, 2)
    features: list[dict[str, object]] = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"name": "Trường Điểm Đúng"},
        },
        {
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": [[lon, lat], [lon2, lat2]]},
            "properties": {"name": "Trường Đường Thẳng"},
        },
        {
            "type": "Feature",
            "geometry": {"type": "GeometryCollection", "geometries": []},
            "properties": {"name": "Trường Rỗng"},
        },
        {"type": "Feature", "geometry": None, "properties": {"name": "Trường Không Hình"}},
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [lat2, lon2]},
            "properties": {"name": "Trường Đảo"},
        },
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": []},
            "properties": {"name": "Trường Điểm Rỗng", "Ghi chú": "GDAL cannot read this point"},
        },
    ]
    report = _import(session, _write_geojson(tmp_path / "bad.geojson", features))
    assert _triples(report) == {
        (2, "geometry", "invalid_geometry"),
        (3, "geometry", "invalid_geometry"),
        (4, "geometry", "invalid_geometry"),
        (5, "geometry", "latlon_swapped"),
        (6, "geometry", "invalid_geometry"),
    }
    assert "LineString" in next(p.detail for p in report.rejected if p.row == 2)
    assert report.unknown_columns == ("Ghi chú",)
    assert any("Invalid coord dimension" in w for w in report.warnings)
    assert (report.rows_read, report.accepted, report.written) == (6, 1, False)
    assert len(_schools(session)) == 27
    assert _history_rows(session) == before_history


def test_codes_the_store_cannot_take_are_rejected(session: Session, tmp_path: Path) -> None:
    schools = _schools(session)
    (a, b, c) = _free_points(session, 3)
    taken = schools[TRUONG_QUYEN].source_ref
    assert taken is not None
    rows = [
        ["code", "name", "lon", "lat", "source_ref"],
        ["79 770 999", "Trường Mã Lạ", repr(a[0]), repr(a[1]), ""],
        ["", "Trường Nguồn Trùng", repr(b[0]), repr(b[1]), taken],
        ["", "Trường Mới", repr(c[0]), repr(c[1]), "sgd:hcm/123"],
    ]
    report = _import(session, _write_csv(tmp_path / "codes.csv", rows))
    assert _triples(report) == {
        (1, "code", "invalid_code"),
        (2, "source_ref", "duplicate_source_ref"),
    }
    assert not report.written
    assert len(_schools(session)) == 27


# --- import: writing --------------------------------------------------------------------


def test_good_import_creates_updates_and_records_history(session: Session, tmp_path: Path) -> None:
    before = _schools(session)
    report = _import(session, _good_file(session, tmp_path / "good.csv"))
    assert report.rejected == ()
    assert (report.rows_read, report.accepted) == (2, 2)
    assert (report.created, report.updated, report.unchanged, report.written) == (1, 1, 0, True)
    session.commit()

    after = _schools(session)
    assert len(after) == 28
    quyen, old = after[TRUONG_QUYEN], before[TRUONG_QUYEN]
    assert quyen.ownership == "cong_lap"
    assert (quyen.first_grade_classes, quyen.class_size_cap) == (4, 40)
    assert not quyen.class_size_cap_is_default
    assert quyen.first_grade_seats == 160
    assert quyen.phone == "028 3930 1234"
    assert quyen.last_verified == dt.date(2025, 9, 1)
    # Columns the file does not have keep their stored values, and so do source_ref/enrolment.
    assert (quyen.level, quyen.level_inferred) == ("tieu_hoc", True)
    assert (quyen.source, quyen.source_ref) == (old.source, "osm:way/289444668")
    assert (quyen.ward_code, quyen.lon, quyen.lat) == (old.ward_code, old.lon, old.lat)
    history = repository.school_history(session, TRUONG_QUYEN)
    assert [h.action for h in history] == ["load", "import"]
    assert history[-1].changed_by == "tester"
    assert history[-1].before == old

    new = after["79770028"]  # blank code: the district's next free code
    assert new.name == "Trường Tiểu học Thử Nghiệm"
    assert (new.ownership, new.first_grade_classes, new.class_size_cap) == ("tu_thuc", 2, 35)
    assert new.class_size_cap_is_default
    assert new.ward_code is not None
    assert [(h.action, h.version) for h in repository.school_history(session, "79770028")] == [
        ("import", 1)
    ]


def test_dry_run_predicts_counts_and_writes_nothing(session: Session, tmp_path: Path) -> None:
    before, history = _schools(session), _history_rows(session)
    report = _import(session, _good_file(session, tmp_path / "good.csv"), dry_run=True)
    assert (report.created, report.updated, report.unchanged) == (1, 1, 0)
    assert report.dry_run
    assert not report.written
    session.commit()
    assert _schools(session) == before
    assert _history_rows(session) == history


def test_vietnamese_headers_semicolons_bom_and_ward_names(session: Session, tmp_path: Path) -> None:
    (lon, lat) = _free_points(session, 1)[0]
    ward = next(
        w for w in repository.list_wards(session, DISTRICT) if w.boundary.covers(Point(lon, lat))
    )
    header = ["Mã trường", "Tên trường", "Kinh độ", "Vĩ độ", "Cấp học", "Loại hình", "Địa chỉ"]
    header += ["Phường/xã", "Số lớp 1", "Sĩ số tối đa", "Trạng thái", "Điện thoại", "Email"]
    header += ["Website", "Nguồn", "Ngày xác minh", "Ghi chú"]
    row = ["79770500", "Trường Tiểu học Kỳ Đồng", str(lon).replace(".", ",")]
    row += [str(lat).replace(".", ","), "Tiểu học", "Công lập", "12 Kỳ Đồng", ward.name, "3"]
    row += ["35", "Đang hoạt động", "028 3843 0000", "kydong@example.edu.vn"]
    row += ["https://example.edu.vn", "Phòng GD&ĐT Quận 3", "2026-03-15", "mới"]
    path = _write_csv(tmp_path / "truong.csv", [header, row], separator=";", bom=True)
    report = _import(session, path)
    assert report.rejected == ()
    assert report.unknown_columns == ("Ghi chú",)
    assert (report.created, report.written) == (1, True)
    school = _schools(session)["79770500"]
    assert school.ward_code == ward.code  # "Phường …" name turned into its code
    assert (school.level, school.ownership, school.status) == ("tieu_hoc", "cong_lap", "open")
    assert (school.first_grade_classes, school.class_size_cap) == (3, 35)
    assert not school.class_size_cap_is_default  # written in the file, so known
    assert (school.lon, school.lat) == pytest.approx((lon, lat), abs=1e-12)
    assert school.email == "kydong@example.edu.vn"
    assert school.source == "Phòng GD&ĐT Quận 3"
    assert school.last_verified == dt.date(2026, 3, 15)


# --- export and round trip --------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".geojson", ".gpkg", ".geojson.gz"])
def test_export_then_import_changes_nothing(session: Session, tmp_path: Path, suffix: str) -> None:
    _import(session, _good_file(session, tmp_path / "good.csv"))
    session.commit()
    schools, history = _schools(session), _history_rows(session)
    path = tmp_path / f"export{suffix}"
    assert export_schools(session, path, district_code=DISTRICT) == 28
    report = _import(session, path)
    assert report.rejected == ()
    assert report.unknown_columns == ()
    assert (report.rows_read, report.created, report.updated, report.unchanged) == (28, 0, 0, 28)
    session.commit()
    assert _schools(session) == schools
    assert _history_rows(session) == history


def test_csv_export_is_excel_friendly(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "schools.csv"
    export_schools(session, path, district_code=DISTRICT)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 byte-order mark
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0] == ",".join(SCHOOL_FIELDS)
    assert len(lines) == 28
    assert any("Trường Tiểu học Trương Quyền" in line for line in lines)


def test_geojson_export_is_wgs84_points(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "schools.geojson"
    export_schools(session, path, district_code=DISTRICT)
    body = json.loads(path.read_text(encoding="utf-8"))
    stored = _schools(session)
    assert len(body["features"]) == 27
    for feature in body["features"]:
        school = stored[feature["properties"]["code"]]
        assert feature["geometry"] == {"type": "Point", "coordinates": [school.lon, school.lat]}


def test_gpkg_export_carries_epsg_4326(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "schools.gpkg"
    export_schools(session, path, district_code=DISTRICT)
    with closing(sqlite3.connect(path)) as conn:
        srs = conn.execute("SELECT srs_id FROM gpkg_geometry_columns").fetchall()
        count = conn.execute("SELECT count(*) FROM schools").fetchone()
    assert srs == [(4326,)]
    assert count == (27,)


def test_export_to_an_unknown_type_is_invalid_input(session: Session, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="unsupported school file type"):
        export_schools(session, tmp_path / "schools.xlsx", district_code=DISTRICT)


def test_reprojected_geojson_is_read_in_wgs84(session: Session, tmp_path: Path) -> None:
    """Features in UTM 48N come back within a centimetre, so the import changes nothing."""
    exported = tmp_path / "schools.geojson"
    export_schools(session, exported, district_code=DISTRICT)
    body = json.loads(exported.read_text(encoding="utf-8"))
    to_utm = Transformer.from_crs(4326, 32648, always_xy=True)
    for feature in body["features"]:
        feature["geometry"]["coordinates"] = list(
            to_utm.transform(*feature["geometry"]["coordinates"])
        )
    path = _write_geojson(tmp_path / "utm.geojson", body["features"], "EPSG:32648")
    rows = read_school_rows(path)
    stored = _schools(session)
    for raw in rows:
        school = stored[str(raw.values["code"])]
        assert isinstance(raw.geometry, Point)
        assert (raw.geometry.x, raw.geometry.y) == pytest.approx((school.lon, school.lat), abs=1e-7)
    report = _import(session, path)
    assert (report.updated, report.unchanged) == (0, 27)


@pytest.mark.parametrize("srs_id", [-1, 0])  # GeoPackage's undefined Cartesian / geographic
def test_gpkg_without_crs_is_refused(session: Session, tmp_path: Path, srs_id: int) -> None:
    path = tmp_path / "nocrs.gpkg"
    export_schools(session, path, district_code=DISTRICT)
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("UPDATE gpkg_geometry_columns SET srs_id = ?", (srs_id,))
        conn.execute("UPDATE gpkg_contents SET srs_id = ?", (srs_id,))
        conn.commit()
    with pytest.raises(InvalidInputError, match=r"nocrs\.gpkg: the file does not say its CRS"):
        _import(session, path)


# --- data quality ---------------------------------------------------------------------------


def test_quality_of_the_bundled_district(session: Session) -> None:
    report = quality_report(session, district_code=DISTRICT, today=dt.date(2026, 1, 1))
    assert report.schools == 27
    filled = {e.field: e.filled for e in report.completeness}
    assert filled == {
        "level": 21,  # 6 OSM schools (language centres, universities…) have no level
        "ownership": 0,
        "address": 7,
        "ward_code": 27,
        "first_grade_classes": 0,
        "phone": 0,
        "email": 0,
        "website": 0,
        "last_verified": 0,
    }
    assert report.completeness_of("address").share == pytest.approx(7 / 27)
    assert len(report.stale) == 27  # OSM gives no verification date
    assert report.outside_wards == ()
    assert len(report.level_inferred) == 21  # every known level came from a name or tag
    assert TRUONG_QUYEN in report.level_inferred
    assert len(report.default_class_size_cap) == 27


def test_quality_follows_an_import(session: Session, tmp_path: Path) -> None:
    _import(session, _good_file(session, tmp_path / "good.csv"))
    session.commit()
    report = quality_report(session, district_code=DISTRICT, today=dt.date(2026, 1, 1))
    assert report.schools == 28
    assert report.completeness_of("first_grade_classes").filled == 2
    assert report.completeness_of("last_verified").filled == 1
    assert TRUONG_QUYEN not in report.stale
    assert len(report.stale) == 27
    assert TRUONG_QUYEN not in report.default_class_size_cap
    assert len(report.default_class_size_cap) == 27  # the new school has the default cap
    later = quality_report(
        session, district_code=DISTRICT, today=dt.date(2026, 9, 2), stale_after_days=365
    )
    assert TRUONG_QUYEN in later.stale


def _school(code: str, lon: float, lat: float) -> SchoolData:
    return SchoolData(code=code, name=f"Trường {code}", lon=lon, lat=lat)


def test_assess_quality_counts_by_hand() -> None:
    wards = {"W1": MultiPolygon([box(0, 0, 1, 1)]), "W2": box(1, 0, 2, 1)}
    today = dt.date(2026, 1, 1)
    schools = [
        replace(
            _school("A", 0.5, 0.5), ward_code="W1", last_verified=dt.date(2025, 1, 1), phone="1"
        ),
        replace(_school("B", 1.0, 0.5), ward_code="W2", last_verified=dt.date(2024, 12, 31)),
        replace(_school("C", 0.5, 0.5), ward_code=None, level="thcs", level_inferred=True),
        replace(
            _school("D", 5.0, 5.0),
            ward_code="W1",
            class_size_cap=30,
            class_size_cap_is_default=False,
        ),
    ]
    report = assess_quality(schools, wards, district_code="X", today=today, stale_after_days=365)
    assert report.schools == 4
    assert [e.field for e in report.completeness] == list(COMPLETENESS_FIELDS)
    assert report.completeness_of("ward_code").filled == 3
    assert report.completeness_of("ward_code").share == 0.75
    assert report.completeness_of("phone").filled == 1
    assert report.stale == ("B", "C", "D")  # A is exactly 365 days old, B one day more
    assert report.outside_wards == ("C", "D")  # C has no ward code, D lies outside
    assert report.level_inferred == ("C",)
    assert report.default_class_size_cap == ("A", "B", "C")
    assert report.to_json()["stale"] == {"count": 3, "codes": ["B", "C", "D"]}
    with pytest.raises(KeyError):
        report.completeness_of("name")


def test_assess_quality_of_no_schools() -> None:
    report = assess_quality([], {}, district_code="X", today=dt.date(2026, 1, 1))
    assert report.schools == 0
    assert {e.share for e in report.completeness} == {0.0}


# --- command line ---------------------------------------------------------------------------


def test_cli_import_export_and_quality(
    settings: Settings, session: Session, tmp_path: Path
) -> None:
    runner = CliRunner()
    env = cli_env(settings)
    good = _good_file(session, tmp_path / "good.csv")
    session.rollback()

    dry = runner.invoke(cli_app, ["schools", "import", str(good), "--dry-run"], env=env)
    assert dry.exit_code == 0, dry.output
    assert "2 rows read, 2 accepted, 0 rejected; 1 created, 1 updated, 0 unchanged" in dry.stdout
    assert "dry run: nothing was written" in dry.stdout
    assert len(_schools(session)) == 27
    session.rollback()

    done = runner.invoke(cli_app, ["schools", "import", str(good)], env=env)
    assert done.exit_code == 0, done.output
    assert "1 created, 1 updated" in done.stdout
    assert len(_schools(session)) == 28
    assert repository.school_history(session, TRUONG_QUYEN)[-1].changed_by == "cli"
    session.rollback()

    exported = tmp_path / "out.gpkg"
    export = runner.invoke(cli_app, ["schools", "export", str(exported)], env=env)
    assert export.exit_code == 0, export.output
    assert f"28 schools of district {DISTRICT} written" in export.stdout
    again = runner.invoke(cli_app, ["schools", "import", str(exported)], env=env)
    assert again.exit_code == 0, again.output
    assert "0 created, 0 updated, 28 unchanged" in again.stdout

    quality = runner.invoke(cli_app, ["schools", "quality", "--json"], env=env)
    assert quality.exit_code == 0, quality.output
    body = json.loads(quality.stdout)
    assert body["schools"] == 28
    assert body["completeness"]["first_grade_classes"]["filled"] == 2
    text = runner.invoke(cli_app, ["schools", "quality"], env=env)
    assert text.exit_code == 0, text.output
    assert "level inferred: 21" in text.stdout


def test_cli_rejected_import_fails_and_writes_nothing(
    settings: Settings, session: Session, tmp_path: Path
) -> None:
    (lon, lat) = _free_points(session, 1)[0]
    out_lon, out_lat = _outside_point(session)
    history = _history_rows(session)
    session.rollback()
    path = _write_csv(
        tmp_path / "bad.csv",
        [
            ["Tên trường", "Kinh độ", "Vĩ độ"],
            ["Trường Tốt", repr(lon), repr(lat)],
            ["Trường Xa", repr(out_lon), repr(out_lat)],
        ],
    )
    result = CliRunner().invoke(cli_app, ["schools", "import", str(path)], env=cli_env(settings))
    assert result.exit_code == 1
    assert isinstance(result.exception, InvalidInputError)
    assert "row 2, column lat: outside_district — " in result.stdout

    process = run_schoolgis(["schools", "import", str(path)], settings)
    assert process.returncode == 1
    assert process.stderr.splitlines() == [
        "schoolgis: error: bad.csv: 1 of 2 rows rejected; nothing was written"
    ]
    assert "row 2, column lat: outside_district" in process.stdout
    assert len(_schools(session)) == 27
    assert _history_rows(session) == history
