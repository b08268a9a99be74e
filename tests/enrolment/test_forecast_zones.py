"""Ward entrants carried to admission zones through demand points, by hand.

Two wards, three demand points, two zones: W1 has a point of weight 3 in zone A and one of
weight 1 in zone B (shares 3/4 and 1/4); W2 has one point of weight 2 in zone B.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from enrolment.errors import InvalidInputError
from enrolment.forecast import (
    UNZONED,
    FirstGradeCapacity,
    ForecastBand,
    HousingDevelopment,
    compare_with_capacity,
    spread_to_zones,
)

YEARS = (2027, 2028)
POINT_WARD = ("W1", "W1", "W2")
POINT_WEIGHT = (3.0, 1.0, 2.0)
POINT_ZONE = ("A", "B", "B")


def entrants(central: list[list[float]], ids: tuple[str, ...] = ("W1", "W2")) -> ForecastBand:
    values = np.array(central, dtype=float)
    return ForecastBand(unit_ids=ids, years=YEARS, low=values - 4, central=values, high=values + 4)


def tower(ward_code: str = "W1") -> HousingDevelopment:
    # 500 dwellings x 0.02 children per cohort: 10 first-grade entrants a year from 2028.
    return HousingDevelopment(
        development_id="tower",
        ward_code=ward_code,
        dwellings=500,
        completion_year=2028,
        children_per_dwelling_per_cohort=0.02,
        source="test",
        as_of=dt.date(2026, 1, 1),
    )


def test_ward_entrants_are_spread_by_point_weight_and_compared_with_zone_seats() -> None:
    result = spread_to_zones(
        entrants([[40, 80], [10, 20]]),
        POINT_WARD,
        point_weight=POINT_WEIGHT,
        point_zone=POINT_ZONE,
        zone_ids=("A", "B"),
    )
    np.testing.assert_allclose(result.ward_shares, [[0.75, 0.25], [0.0, 1.0]])
    # A = 3/4 W1; B = 1/4 W1 + W2.
    np.testing.assert_allclose(result.demand.central, [[30, 60], [20, 40]])
    np.testing.assert_allclose(result.demand.low, [[27, 57], [15, 35]])
    np.testing.assert_allclose(result.demand.high, [[33, 63], [25, 45]])
    np.testing.assert_allclose(result.unzoned.central, [[0, 0]])
    assert result.unzoned.unit_ids == (UNZONED,)
    # Zone A's school: 1 class x 35 = 35 seats; zone B's: 1 class x 24 = 24 seats.
    seats = FirstGradeCapacity(
        unit_ids=("A", "B"),
        classes=np.array([1.0, 1.0]),
        class_size_cap=np.array([35.0, 24.0]),
        source="zone version",
        as_of=dt.date(2026, 1, 1),
    )
    comparison = compare_with_capacity(result.demand, seats)
    np.testing.assert_allclose(comparison.seat_shortfall.central, [[-5, 25], [-4, 16]])
    np.testing.assert_allclose(comparison.seat_shortfall.high, [[-2, 28], [1, 21]])
    # Classrooms: A ceil(30 / 35) - 1 = 0, ceil(60 / 35) - 1 = 1; B likewise with 24.
    np.testing.assert_allclose(comparison.classroom_shortfall.central, [[0, 1], [0, 1]])
    assert comparison.first_year_short("central") == (2028, 2028)
    assert comparison.first_year_short("high") == (2028, 2027)


def test_a_located_development_adds_its_yield_to_its_zone_only() -> None:
    # W1's entrants include the tower's 10 in 2028.
    with_tower = entrants([[40, 90], [10, 20]])
    located = spread_to_zones(
        with_tower,
        POINT_WARD,
        point_weight=POINT_WEIGHT,
        point_zone=POINT_ZONE,
        zone_ids=("A", "B"),
        located_developments=[(tower(), "B")],
    )
    # A = 3/4 x 80; B = 1/4 x 80 + 20 + 10.
    np.testing.assert_allclose(located.demand.central, [[30, 60], [20, 50]])
    np.testing.assert_allclose(located.demand.central.sum(axis=0), [50, 110])
    spread = spread_to_zones(
        with_tower,
        POINT_WARD,
        point_weight=POINT_WEIGHT,
        point_zone=POINT_ZONE,
        zone_ids=("A", "B"),
    )
    # Without its location the tower's yield is spread with the rest of W1.
    np.testing.assert_allclose(spread.demand.central, [[30, 67.5], [20, 42.5]])


def test_points_in_no_zone_and_wards_without_points_stay_unzoned() -> None:
    result = spread_to_zones(
        entrants([[40, 80], [10, 20], [6, 8]], ids=("W1", "W2", "W3")),
        (*POINT_WARD, "W2"),
        point_weight=(*POINT_WEIGHT, 2.0),
        point_zone=(*POINT_ZONE, None),
        zone_ids=("A", "B"),
    )
    np.testing.assert_allclose(result.ward_shares, [[0.75, 0.25], [0.0, 0.5], [0.0, 0.0]])
    np.testing.assert_allclose(result.demand.central, [[30, 60], [15, 30]])
    # Half of W2 and all of W3.
    np.testing.assert_allclose(result.unzoned.central, [[11, 18]])
    np.testing.assert_allclose(
        result.demand.central.sum(axis=0) + result.unzoned.central[0], [56, 108]
    )


def test_inputs_that_do_not_fit_are_refused() -> None:
    ward_entrants = entrants([[40, 80], [10, 20]])
    with pytest.raises(InvalidInputError, match="'W9', which is not forecast"):
        spread_to_zones(
            ward_entrants, ("W9",), point_weight=(1.0,), point_zone=("A",), zone_ids=("A",)
        )
    with pytest.raises(InvalidInputError, match="'C', which is not listed"):
        spread_to_zones(
            ward_entrants, ("W1",), point_weight=(1.0,), point_zone=("C",), zone_ids=("A",)
        )
    with pytest.raises(InvalidInputError, match="one of each per point"):
        spread_to_zones(
            ward_entrants, POINT_WARD, point_weight=(1.0,), point_zone=POINT_ZONE, zone_ids=("A",)
        )
    with pytest.raises(InvalidInputError, match="do not include the yield"):
        spread_to_zones(  # W2's low entrants in 2028 (4) are fewer than the tower's 10
            entrants([[40, 80], [10, 8]]),
            POINT_WARD,
            point_weight=POINT_WEIGHT,
            point_zone=POINT_ZONE,
            zone_ids=("A", "B"),
            located_developments=[(tower("W2"), "B")],
        )
