"""The forecast manifest: what it accepts, and errors that name the file and the table at fault.

Each case changes one thing in a copy of the bundled ``forecast.toml`` whose file paths
point at the bundled data; no store is needed (developments are placed by ward code).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from gis_service.errors import InvalidInputError, NotFoundError
from gis_service.forecasting.manifest import (
    ForecastManifest,
    bundled_forecast_manifest,
    load_forecast_inputs,
)

DATA_DIR = bundled_forecast_manifest().parent
WARDS_FILE = DATA_DIR / "wards" / "district3_wards_2019.geojson.gz"
CENSUS_FILE = DATA_DIR / "population" / "population_by_age5_district_2019.csv.gz"
CENSUS_AS_OF = "as_of = 2019-04-01\n\n# Ward totals"
#: A development given by its ward, completed in 2028.
DEVELOPMENT = (
    '\n[[developments]]\nid = "tower-A"\nward_code = "27121"\ndwellings = 500\n'
    "completion_year = 2028\nchildren_per_dwelling_per_cohort = 0.02\n"
    'source = "building permit 2026/17"\nas_of = 2026-01-01\n'
)


def _manifest(tmp_path: Path, change: Callable[[str], str] = lambda text: text) -> Path:
    text = bundled_forecast_manifest().read_text(encoding="utf-8")
    text = re.sub(r'file = "', f'file = "{DATA_DIR}/', text)
    manifest = tmp_path / "forecast.toml"
    manifest.write_text(change(text), encoding="utf-8")
    return manifest


def test_the_bundled_manifest_validates() -> None:
    with bundled_forecast_manifest().open("rb") as handle:
        document = ForecastManifest.model_validate(tomllib.load(handle))
    assert document.forecast.district_code == "770"
    assert document.ward_population.columns == {2009: "Pop_2009", 2019: "Pop_2019"}
    assert document.district_series.quantiles == (0.1, 0.9)
    assert document.developments == []


def test_a_development_and_lenient_numbers(tmp_path: Path) -> None:
    def change(text: str) -> str:
        text = text.replace('district_code = "770"\nbase_year = 2019', "district_code = 770\n")
        return text.replace("[forecast]\n", '[forecast]\nbase_year = "2019"\n') + DEVELOPMENT

    inputs = load_forecast_inputs(_manifest(tmp_path, change))
    assert (inputs.district_code, inputs.base.base_year) == ("770", 2019)
    (development,) = inputs.developments
    assert (development.development_id, development.ward_code) == ("tower-A", "27121")
    assert development.occupancy_ramp == (1.0,)
    assert development.location is None
    assert [note.name for note in inputs.notes] == [
        "census age groups",
        "ward population",
        "district series",
        "survival",
        "development tower-A",
    ]


def test_a_missing_manifest_is_not_found(tmp_path: Path) -> None:
    missing = tmp_path / "forecast.toml"
    with pytest.raises(NotFoundError) as raised:
        load_forecast_inputs(missing)
    assert str(raised.value) == f"{missing}: no such forecast manifest"


CASES: list[tuple[str, Callable[[str], str], str]] = [
    ("bad TOML", lambda t: t + "\n[district\n", "{m}: not valid TOML (Expected ']' at the end"),
    (
        "no table",
        lambda t: t.replace("[survival]", "[survival_table]"),
        "{m}: the [survival] section is missing",
    ),
    (
        "a value instead of a table",
        lambda t: t.replace("[survival]\nby_age", "survival = 3\n[other]\nby_age"),
        "{m}: the [survival] section is missing",
    ),
    (
        "no key",
        lambda t: t.replace("base_year = 2019", ""),
        "{m}: [forecast] needs 'base_year'",
    ),
    (
        "no source",
        lambda t: t.replace('source = "2019 Population', 'origin = "2019 Population'),
        "{m}: [census_age_groups] needs 'source'",
    ),
    (
        "a string date",
        lambda t: t.replace(CENSUS_AS_OF, CENSUS_AS_OF.replace("2019-04-01", '"2019-04-01"')),
        "{m}: [census_age_groups] as_of must be a date (YYYY-MM-DD), got '2019-04-01'",
    ),
    (
        "a date and time",
        lambda t: t.replace(
            CENSUS_AS_OF, CENSUS_AS_OF.replace("2019-04-01", "2019-04-01T10:00:00")
        ),
        "{m}: [census_age_groups] as_of must be a date (YYYY-MM-DD), got "
        "datetime.datetime(2019, 4, 1, 10, 0)",
    ),
    (
        "a number that is not one",
        lambda t: t.replace("by_age = [0.995,", 'by_age = ["most",'),
        "{m}: [survival] by_age.0: Input should be a valid number",
    ),
    (
        "one census year",
        lambda t: t.replace('"2009" = "Pop_2009", ', ""),
        "{m}: [ward_population] columns must map two or more years to columns",
    ),
    (
        "a column the ward file lacks",
        lambda t: t.replace('"Pop_2009"', '"Pop_2008"'),
        f"{WARDS_FILE}: no column 'Pop_2008'",
    ),
    (
        "no column of the base year",
        lambda t: t.replace("base_year = 2019", "base_year = 2018"),
        "{m}: [ward_population] has no column for the base year 2018",
    ),
    (
        "a district the census lacks",
        lambda t: t.replace('province = "Thành phố Hồ Chí Minh"', 'province = "Hà Nội"'),
        f"{CENSUS_FILE}: expected one row for Quận 3, Hà Nội; found 0",
    ),
    (
        "a census file that is not there",
        lambda t: t.replace("population_by_age5_district_2019.csv.gz", "nothing.csv"),
        "{m}: cannot read the census table " + str(DATA_DIR / "population" / "nothing.csv"),
    ),
    (
        "a survival per age too few",
        lambda t: t.replace("by_age = [0.995, 0.999,", "by_age = [0.999,"),
        "{m}: survival_by_age: expected 6 values (ages 0-5), got shape (5,)",
    ),
    (
        "an unknown single-age method",
        lambda t: t.replace('split_method = "sprague"', 'split_method = "cubic"'),
        "{m}: method: unknown method 'cubic'; use 'sprague' or 'pchip'",
    ),
    (
        "a development in no ward",
        lambda t: t + DEVELOPMENT.replace('ward_code = "27121"\n', ""),
        "{m}: [developments #1] needs ward_code, or lon/lat inside a ward",
    ),
    (
        "a development without id",
        lambda t: t + DEVELOPMENT.replace('id = "tower-A"\n', ""),
        "{m}: [developments #1] needs 'id'",
    ),
    (
        "the second development's date",
        lambda t: t + DEVELOPMENT + DEVELOPMENT.replace("2026-01-01", '"2026"'),
        "{m}: [developments #2] as_of must be a date (YYYY-MM-DD), got '2026'",
    ),
    (
        "impossible figures",
        lambda t: t + DEVELOPMENT.replace("dwellings = 500", "dwellings = -5"),
        "{m}: dwellings: must be >= 0, got -5",
    ),
]


@pytest.mark.parametrize(
    ("change", "message"), [case[1:] for case in CASES], ids=[c[0] for c in CASES]
)
def test_errors_name_the_file_and_the_table(
    tmp_path: Path, change: Callable[[str], str], message: str
) -> None:
    manifest = _manifest(tmp_path, change)
    with pytest.raises(InvalidInputError) as raised:
        load_forecast_inputs(manifest)
    assert str(raised.value).startswith(message.format(m=manifest)), str(raised.value)
