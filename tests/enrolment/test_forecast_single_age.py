"""Single ages from 5-year groups: totals kept, polynomials reproduced, negatives refused."""

from __future__ import annotations

import numpy as np
import pytest

from enrolment.errors import InterpolationError, InvalidInputError
from enrolment.single_age import SPRAGUE_PANELS, apply_age_structure, split_five_year_groups


@pytest.mark.parametrize("name", sorted(SPRAGUE_PANELS))
def test_each_sprague_panel_keeps_its_own_group(name: str) -> None:
    column = {"first": 0, "second": 1, "middle": 2, "next_to_last": 3, "last": 4}[name]
    expected = np.zeros(5)
    expected[column] = 1.0
    np.testing.assert_allclose(SPRAGUE_PANELS[name].sum(axis=0), expected, atol=1e-12)


@pytest.mark.parametrize("method", ["sprague", "pchip"])
def test_group_totals_are_kept(method: str) -> None:
    groups = np.array([8806, 11329, 11249, 12195, 15234, 18002, 16500, 14000, 9000.0])
    single = split_five_year_groups(groups, method=method)  # type: ignore[arg-type]
    assert single.shape == (45,)
    np.testing.assert_allclose(single.reshape(-1, 5).sum(axis=1), groups, rtol=1e-12)
    assert np.all(single >= 0)


def test_sprague_reproduces_a_cubic_population() -> None:
    ages = np.arange(60, dtype=float)
    single = 2000 + 30 * ages - 1.5 * ages**2 + 0.02 * ages**3
    groups = single.reshape(-1, 5).sum(axis=1)
    np.testing.assert_allclose(split_five_year_groups(groups), single, rtol=1e-10)


def test_a_flat_population_splits_evenly() -> None:
    single = split_five_year_groups([500.0] * 6, method="pchip")
    np.testing.assert_allclose(single, 100.0)
    np.testing.assert_allclose(split_five_year_groups([500.0] * 6), 100.0)


def test_groups_sprague_makes_negative_are_split_by_pchip_or_refused() -> None:
    groups = [0, 0, 1000, 0, 0, 0]
    with pytest.raises(InterpolationError, match="pchip"):
        split_five_year_groups(groups, negative_groups="raise")
    single = split_five_year_groups(groups)
    assert np.all(single >= 0)
    np.testing.assert_allclose(single.reshape(-1, 5).sum(axis=1), groups, atol=1e-9)
    monotone = split_five_year_groups(groups, method="pchip")
    sprague = SPRAGUE_PANELS["middle"] @ np.array([0, 0, 1000, 0, 0.0])
    np.testing.assert_allclose(single[10:15], sprague)  # the middle group keeps Sprague
    np.testing.assert_allclose(single[5:10], monotone[5:10])  # its neighbours went negative


def test_inputs_are_checked() -> None:
    with pytest.raises(InvalidInputError, match="at least 5"):
        split_five_year_groups([1, 2, 3])
    with pytest.raises(InvalidInputError, match="non-negative"):
        split_five_year_groups([1, 2, 3, -4, 5])
    with pytest.raises(InvalidInputError, match="method"):
        split_five_year_groups([1, 2, 3, 4, 5], method="flat")  # type: ignore[arg-type]


def test_ward_structure_is_the_district_share() -> None:
    # District of 1,000 persons with 30 aged 6; wards of 600 and 400 get 18 and 12.
    result = apply_age_structure([600, 400], [20, 30], reference_total=1000)
    np.testing.assert_allclose(result, [[12, 18], [8, 12]])
    with pytest.raises(InvalidInputError, match="reference_total"):
        apply_age_structure([600], [20], reference_total=0)
