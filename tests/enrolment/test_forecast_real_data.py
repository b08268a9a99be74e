"""The forecast on the bundled district's real data (2019 census, HCMC district series).

Expected numbers are derived by hand from the census file
(``data/hcmc-district3/population/population_by_age5_district_2019.csv.gz``): Quận 3 has
8,806 children aged 0-4, 11,329 aged 5-9, 11,249 aged 10-14 and 12,195 aged 15-19.
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from enrolment.backtest import BASELINES, FORECAST_METHOD, backtest_totals
from enrolment.forecast import (
    BasePopulation,
    CohortRates,
    PopulationHistory,
    forecast_first_grade,
    growth_rates_from_history,
)
from enrolment.single_age import apply_age_structure, split_five_year_groups
from gis_service.settings import BUNDLED_DISTRICT_DIR

CENSUS = BUNDLED_DISTRICT_DIR / "population" / "population_by_age5_district_2019.csv.gz"
SERIES = BUNDLED_DISTRICT_DIR / "population" / "hcmc_district_population_2009_2019.csv.gz"
WARDS = BUNDLED_DISTRICT_DIR / "wards" / "district3_wards_2019.geojson.gz"
CENSUS_DATE = dt.date(2019, 4, 1)
AGE_COLUMNS = [
    "total_0_04", "total_05_09", "total_10_14", "total_15_19", "total_20_24", "total_25_29",
    "total_30_34", "total_35_39", "total_40_44", "total_45_49", "total_50_54", "total_55_59",
    "total_60_64", "total_65_69", "total_70_74", "total_75_79", "total_80_84",
]  # fmt: skip


@pytest.fixture(scope="module")
def census() -> pd.DataFrame:
    return pd.read_csv(CENSUS)


@pytest.fixture(scope="module")
def district3_groups(census: pd.DataFrame) -> np.ndarray:
    row = census[(census["province"] == "Thành phố Hồ Chí Minh") & (census["district"] == "Quận 3")]
    assert len(row) == 1
    groups: np.ndarray = row[AGE_COLUMNS].to_numpy(dtype=float)[0]
    return groups


@pytest.fixture(scope="module")
def wards() -> gpd.GeoDataFrame:
    return gpd.read_file(f"/vsigzip/{WARDS}")


@pytest.fixture(scope="module")
def series() -> pd.DataFrame:
    return pd.read_csv(SERIES, dtype={"district_code": str})


def test_census_groups_of_quan_3(census: pd.DataFrame, district3_groups: np.ndarray) -> None:
    assert district3_groups[:4].tolist() == [8806, 11329, 11249, 12195]
    q3 = census[census["district"] == "Quận 3"].iloc[0]
    assert district3_groups.sum() + q3["total_85+"] == q3["total"] == 190_375


@pytest.mark.parametrize("method", ["sprague", "pchip"])
def test_single_ages_keep_every_district_group(census: pd.DataFrame, method: str) -> None:
    groups = census[AGE_COLUMNS].to_numpy(dtype=float)
    for row in groups[groups.sum(axis=1) > 0]:
        single = split_five_year_groups(row, method=method)  # type: ignore[arg-type]
        np.testing.assert_allclose(single.reshape(-1, 5).sum(axis=1), row, rtol=1e-9)


def test_quan_3_single_ages_by_hand(district3_groups: np.ndarray) -> None:
    single = split_five_year_groups(district3_groups)
    assert single[5:10].sum() == pytest.approx(11_329)
    assert single[0:5].sum() == pytest.approx(8_806)
    # Second Sprague panel, rows 1-2, on the groups 0-4 ... 15-19.
    age_5 = 0.0336 * 8806 + 0.2272 * 11329 - 0.0752 * 11249 + 0.0144 * 12195
    age_6 = 0.0080 * 8806 + 0.2320 * 11329 - 0.0480 * 11249 + 0.0080 * 12195
    assert single[5] == pytest.approx(age_5) == pytest.approx(2199.5, abs=0.05)
    assert single[6] == pytest.approx(age_6) == pytest.approx(2256.4, abs=0.05)
    # Births fell: each younger single age is smaller than the next older one up to age 8.
    assert np.all(np.diff(single[:9]) > 0)


def test_ward_ages_are_the_district_shares(
    wards: gpd.GeoDataFrame, district3_groups: np.ndarray
) -> None:
    totals = wards["Pop_2019"].to_numpy(dtype=float)
    assert totals.sum() == 190_375
    single = split_five_year_groups(district3_groups)[:7]
    by_ward = apply_age_structure(totals, single, reference_total=190_375)
    assert by_ward.shape == (14, 7)
    np.testing.assert_allclose(by_ward.sum(axis=0), single)
    ward_8 = wards.index[wards["ward_name_vi"] == "Phường 8"][0]
    assert by_ward[ward_8, 6] == pytest.approx(16_481 * single[6] / 190_375)


def test_district_3_forecast_with_zero_rates_replays_the_census_ages(
    wards: gpd.GeoDataFrame, district3_groups: np.ndarray
) -> None:
    single = split_five_year_groups(district3_groups)[:7]
    base = BasePopulation(
        ward_codes=tuple(wards["ward_code"].astype(str)),
        base_year=2019,
        population_by_age=apply_age_structure(
            wards["Pop_2019"].to_numpy(dtype=float), single, reference_total=190_375
        ),
        source="2019 census (GSO): district 5-year groups, Sprague, ward totals",
        as_of=CENSUS_DATE,
    )
    rates = CohortRates(
        survival_by_age=np.ones(6),
        net_migration_rate=np.array(0.0),
        birth_change_rate=np.array(0.0),
        source="no change",
        as_of=CENSUS_DATE,
    )
    forecast = forecast_first_grade(base, rates, horizon_years=10)
    district = forecast.entrants.central.sum(axis=0)
    # 2020 entrants are the 5-year-olds of 2019, ..., 2025 the babies of 2019; then births
    # stay at the 2019 level.
    np.testing.assert_allclose(district[:6], single[5::-1])
    np.testing.assert_allclose(district[6:], single[0])
    assert district[0] == pytest.approx(2199.5, abs=0.05)


def test_ward_growth_rates_from_2009_and_2019(wards: gpd.GeoDataFrame) -> None:
    ward_2 = wards[wards["ward_name_vi"] == "Phường 2"].iloc[0]
    rates = growth_rates_from_history((2009, 2019), [ward_2["Pop_2009"], ward_2["Pop_2019"]])
    assert rates.central == pytest.approx((11_413 / 9_878) ** 0.1 - 1)  # +1.46 % a year


def test_bundled_district_series(series: pd.DataFrame, census: pd.DataFrame) -> None:
    assert len(series) == 24
    assert "pop_2018" not in series.columns
    q3 = series[series["district_code"] == "770"].iloc[0]
    assert q3["district_name_vi"] == "Quận 3"
    assert q3[["pop_2009", "pop_2014", "pop_2017", "pop_2019"]].tolist() == [
        190_553,
        193_694,
        199_095,
        190_375,
    ]
    hcmc = census[census["province"] == "Thành phố Hồ Chí Minh"].set_index("district")
    assert (series.set_index("district_name_vi")["pop_2019"] == hcmc["total"]).all()
    assert series["pop_2019"].sum() == 8_993_082


def test_backtest_on_the_24_districts(series: pd.DataFrame) -> None:
    columns = [column for column in series.columns if column.startswith("pop_")]
    history = PopulationHistory(
        unit_ids=tuple(series["district_code"]),
        years=tuple(int(column[4:]) for column in columns),
        population=series[columns].to_numpy(dtype=float),
        source="CityScope HCMC district layer; 2019 census",
        as_of=CENSUS_DATE,
    )
    result = backtest_totals(history, fit_until=2014)
    assert result.target_years == (2015, 2016, 2017, 2019)
    ours = {h: result.score(FORECAST_METHOD, h).mape_pct for h in (1, 3, 5)}
    assert ours == pytest.approx({1: 1.36, 3: 3.38, 5: 10.10}, abs=0.01)
    assert result.score(BASELINES[0], 5).mape_pct == pytest.approx(13.70, abs=0.01)
    assert result.score(BASELINES[1], 5).mape_pct == pytest.approx(10.85, abs=0.01)
    assert all(result.beats_baselines(h) for h in (1, 3, 5))
