"""Loading districts from their files: the bundled Quận 3, Cần Giờ, and bad manifests."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gis_service.db import repository
from gis_service.db.models import SchoolHistory
from gis_service.errors import InvalidInputError
from gis_service.ingest.district import infer_level, load_district
from gis_service.settings import BUNDLED_DISTRICT_DIR, Settings

DATA_DIR = BUNDLED_DISTRICT_DIR.parent


def test_bundled_district_is_loaded_with_real_facts(session: Session) -> None:
    district = repository.get_district(session)
    assert (district.code, district.name, district.metric_epsg) == ("770", "Quận 3", 32648)
    assert district.population == 190_375
    wards = repository.list_wards(session, "770")
    assert len(wards) == 14
    assert sum(w.population or 0 for w in wards) == 190_375
    schools, total = repository.list_schools(session, repository.SchoolFilter("770"))
    assert total == 27
    by_name = {s.data.name: s.data for s in schools}
    truong_quyen = by_name["Trường Tiểu học Trương Quyền"]
    assert truong_quyen.level == "tieu_hoc"
    assert truong_quyen.level_inferred
    assert truong_quyen.source_ref == "osm:way/289444668"
    assert truong_quyen.first_grade_classes is None
    assert truong_quyen.first_grade_seats is None
    assert truong_quyen.class_size_cap == 35
    assert truong_quyen.class_size_cap_is_default
    assert by_name["ILA"].level is None
    assert sum(s.data.level == "tieu_hoc" for s in schools) == 7
    assert all(s.data.ward_code is not None for s in schools)
    networks = repository.road_networks(session, "770")
    assert [n.file_name for n in networks] == ["district3_2018_highways.osm.bz2"]


def test_reload_is_idempotent(session: Session, settings: Settings) -> None:
    before, _ = repository.list_schools(session, repository.SchoolFilter("770"))
    history_rows = session.scalar(select(func.count()).select_from(SchoolHistory))
    report = load_district(
        session,
        BUNDLED_DISTRICT_DIR / "district.toml",
        networks_dir=settings.networks_dir,
        class_size_cap=35,
    )
    session.commit()
    assert (report.schools_added, report.schools_kept, report.wards) == (0, 27, 14)
    assert [s.reason for s in report.skipped] == ["missing_name", "missing_name"]
    after, _ = repository.list_schools(session, repository.SchoolFilter("770"))
    assert [s.data for s in after] == [s.data for s in before]
    assert session.scalar(select(func.count()).select_from(SchoolHistory)) == history_rows
    assert len(repository.road_networks(session, "770")) == 1


def test_another_district_loads_beside_the_first(session: Session, settings: Settings) -> None:
    report = load_district(
        session,
        DATA_DIR / "hcmc-can-gio" / "district.toml",
        networks_dir=settings.networks_dir,
        class_size_cap=35,
    )
    session.commit()
    assert (report.district_code, report.wards, report.metric_epsg) == ("787", 7, 32648)
    can_gio = repository.get_district(session, "787")
    assert can_gio.population == 71_526
    assert {w.name for w in repository.list_wards(session, "787")} >= {"Xã Thạnh An"}
    with pytest.raises(InvalidInputError, match="several districts"):
        repository.get_district(session)
    assert repository.list_schools(session, repository.SchoolFilter("787"))[1] == 0


def test_metric_crs_follows_the_data(session: Session, settings: Settings, tmp_path: Path) -> None:
    # The same wards moved 60 degrees west (UTM zone 38N) must get their own metric CRS.
    import geopandas as gpd
    from shapely import affinity

    wards = gpd.read_file(
        f"/vsigzip/{DATA_DIR / 'hcmc-can-gio' / 'can_gio_communes_2019.geojson.gz'}"
    )
    wards["geometry"] = wards.geometry.apply(lambda g: affinity.translate(g, xoff=-60))
    wards["ward_code"] = "9" + wards["ward_code"]
    wards.to_file(tmp_path / "wards.geojson", driver="GeoJSON")
    (tmp_path / "district.toml").write_text(
        '[district]\ncode = "999"\nname = "Thử nghiệm"\nsource = "test"\n'
        '[wards]\nfile = "wards.geojson"\ncode = "ward_code"\nname = "ward_name_vi"\n',
        encoding="utf-8",
    )
    report = load_district(
        session, tmp_path / "district.toml", networks_dir=settings.networks_dir, class_size_cap=35
    )
    assert report.metric_epsg == 32638


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ("", r"\[district\] Field required"),
        ("[district\n", "not valid TOML"),
        (
            '[district]\ncode = "1"\nname = "x"\nsource = "s"\n'
            '[wards]\nfile = "missing.geojson"\ncode = "c"\nname = "n"\n',
            "missing.geojson: no such file",
        ),
        (
            '[district]\ncode = "1"\nname = "x"\nsource = "s"\n'
            f'[wards]\nfile = "{DATA_DIR / "hcmc-can-gio" / "can_gio_communes_2019.geojson.gz"}"\n'
            'code = "no_such_column"\nname = "ward_name_vi"\n',
            "column 'no_such_column' is missing",
        ),
    ],
)
def test_bad_manifest_is_refused_and_changes_nothing(
    session: Session, settings: Settings, tmp_path: Path, manifest: str, message: str
) -> None:
    path = tmp_path / "district.toml"
    path.write_text(manifest, encoding="utf-8")
    with pytest.raises(InvalidInputError, match=message):
        load_district(session, path, networks_dir=settings.networks_dir, class_size_cap=35)
    session.rollback()
    assert [d.code for d in repository.list_districts(session)] == ["770"]


@pytest.mark.parametrize(
    ("name", "tags", "level"),
    [
        ("Trường tiểu học Đô Lương", {}, "tieu_hoc"),
        ("th phan dinh phung", {}, "tieu_hoc"),
        ("Trường PTCS Lê Qúy Đôn", {}, "thcs"),
        ("Trường PTTH Kiến Thiết", {}, "thpt"),
        ("Green Star", {"amenity": "kindergarten"}, "mam_non"),
        ("Trường Liên cấp Việt Úc", {}, "lien_cap"),
        ("Any school", {"isced": "1;2"}, "lien_cap"),
        ("Trường Nhật ngữ Sakura", {}, None),
    ],
)
def test_level_inference(name: str, tags: dict[str, str], level: str | None) -> None:
    assert infer_level(name, **tags) == level
