"""Demand against first-grade capacity: seat and classroom gaps, the first year short."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from enrolment.errors import InvalidInputError
from enrolment.forecast import (
    FirstGradeCapacity,
    ForecastBand,
    aggregate_capacity,
    allocate_demand,
    compare_with_capacity,
)

AS_OF = dt.date(2024, 9, 5)
YEARS = (2025, 2026, 2027, 2028)


def band(
    central: list[list[float]], spread: float = 5.0, ids: tuple[str, ...] = ("A", "B")
) -> ForecastBand:
    values = np.array(central, dtype=float)
    return ForecastBand(
        unit_ids=ids, years=YEARS, low=values - spread, central=values, high=values + spread
    )


def capacity(
    classes: list[float], caps: list[float], ids: tuple[str, ...] = ("A", "B")
) -> FirstGradeCapacity:
    return FirstGradeCapacity(
        unit_ids=ids,
        classes=np.array(classes),
        class_size_cap=np.array(caps),
        source="registry",
        as_of=AS_OF,
    )


def test_seat_and_classroom_gaps() -> None:
    # School A: 2 classes x 35 = 70 seats. School B: 3 classes x 30 = 90 seats.
    demand = band([[60, 70, 71, 106], [80, 95, 90, 60]])
    result = compare_with_capacity(demand, capacity([2, 3], [35, 30]))
    np.testing.assert_allclose(result.seat_shortfall.central, [[-10, 0, 1, 36], [-10, 5, 0, -30]])
    # Classrooms needed = ceil(demand / cap): A 2, 2, 3, 4; B 3, 4, 3, 2.
    np.testing.assert_allclose(result.classroom_shortfall.central, [[0, 0, 1, 2], [0, 1, 0, -1]])
    # High demand = central + 5.
    np.testing.assert_allclose(result.seat_shortfall.high[0], [-5, 5, 6, 41])
    np.testing.assert_allclose(result.classroom_shortfall.high[0], [0, 1, 1, 2])
    np.testing.assert_allclose(result.capacity.seats, [70, 90])


def test_first_year_short_per_unit_and_variant() -> None:
    demand = band([[60, 70, 71, 106], [80, 85, 88, 60]])
    result = compare_with_capacity(demand, capacity([2, 3], [35, 30]))
    assert result.first_year_short("central") == (2027, None)  # 70 seats exactly full in 2026
    assert result.first_year_short("high") == (2026, 2027)  # 75 > 70; 93 > 90
    assert result.first_year_short("low") == (2028, None)


def test_unknown_capacity_is_not_a_shortfall() -> None:
    demand = band([[60, 70, 71, 106], [80, 85, 88, 60]])
    result = compare_with_capacity(demand, capacity([2, np.nan], [35, 35]))
    assert result.capacity_known.tolist() == [True, False]
    assert np.isnan(result.seat_shortfall.central[1]).all()
    assert result.first_year_short("high") == (2026, None)


def test_capacity_is_reordered_to_the_demand_units() -> None:
    demand = band([[60, 70, 71, 106], [80, 85, 88, 60]])
    result = compare_with_capacity(demand, capacity([3, 2], [30, 35], ids=("B", "A")))
    assert result.capacity.unit_ids == ("A", "B")
    assert result.first_year_short() == (2027, None)
    with pytest.raises(InvalidInputError, match="unknown ids"):
        compare_with_capacity(demand, capacity([3], [30], ids=("B",)))


def test_exact_multiples_need_no_extra_classroom() -> None:
    demand = band([[0.1 * 700, 35, 0, 36]], spread=0.0, ids=("A",))  # 0.1 * 700 = 70.00...01
    result = compare_with_capacity(demand, capacity([2], [35], ids=("A",)))
    np.testing.assert_allclose(result.classroom_shortfall.central, [[0, -1, -2, 0]])


def test_allocating_ward_demand_to_schools() -> None:
    wards = band([[100, 100, 100, 100], [50, 60, 70, 80]], spread=10.0, ids=("W1", "W2"))
    shares = [[0.6, 0.4, 0.0], [0.0, 0.5, 0.5]]
    schools = allocate_demand(wards, shares, to_ids=("S1", "S2", "S3"))
    np.testing.assert_allclose(schools.central[:, 0], [60, 65, 25])
    np.testing.assert_allclose(schools.low[:, 3], [54, 71, 35])
    # Totals are kept when every ward is fully served.
    np.testing.assert_allclose(schools.central.sum(axis=0), wards.central.sum(axis=0))
    with pytest.raises(InvalidInputError, match="at most 1"):
        allocate_demand(wards, [[0.6, 0.6, 0.0], [0.0, 0.0, 1.0]], to_ids=("S1", "S2", "S3"))


def test_aggregating_school_capacity_into_wards() -> None:
    schools = capacity([2, 4, np.nan, 1], [35, 30, 35, 35], ids=("S1", "S2", "S3", "S4"))
    wards = aggregate_capacity(
        schools,
        {"S1": "W1", "S2": "W1", "S3": "W2", "S4": "W3"},
        unit_ids=("W1", "W2", "W3", "W4"),
        default_class_size_cap=35,
    )
    np.testing.assert_allclose(wards.seats[[0, 2, 3]], [190, 35, 0])
    assert np.isnan(wards.seats[1])  # one school of W2 has unknown classes
    assert wards.class_size_cap[0] == pytest.approx(190 / 6)
    assert wards.class_size_cap[3] == 35  # no school: the default cap


def test_selecting_units_and_years() -> None:
    demand = band([[60, 70, 71, 106], [80, 85, 88, 60]])
    picked = demand.select(["B"]).select_years([2028, 2026])
    assert picked.unit_ids == ("B",)
    assert picked.years == (2028, 2026)
    np.testing.assert_allclose(picked.central, [[60, 85]])
    np.testing.assert_allclose(picked.high, [[65, 90]])
    with pytest.raises(InvalidInputError, match="2030"):
        demand.select_years([2030])
