"""Grade-progression (cohort-survival) projection of a school's enrolment."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from enrolment.errors import InsufficientHistoryError, InvalidInputError
from enrolment.forecast import ForecastBand
from enrolment.grade_progression import EnrolmentHistory, project_grades

AS_OF = dt.date(2024, 9, 30)


def history(
    pupils: list[list[float]], years: tuple[int, ...] = (2021, 2022, 2023)
) -> EnrolmentHistory:
    return EnrolmentHistory(
        school_id="TH-01",
        school_years=years,
        pupils_by_grade=np.array(pupils, dtype=float),
        source="school report",
        as_of=AS_OF,
    )


def test_progression_ratios_and_projection_by_hand() -> None:
    # Grades 1-3. Grade 1 -> 2: 95/100 = 0.95, 99/110 = 0.90 -> central 194/210.
    # Grade 2 -> 3: 96/100 = 0.96, 95/95 = 1.00 -> central 191/195.
    past = history([[100, 100, 90], [110, 95, 96], [120, 99, 95]])
    projection = project_grades(past, horizon_years=2)
    np.testing.assert_allclose(projection.progression_central, [194 / 210, 191 / 195])
    np.testing.assert_allclose(projection.progression_low, [0.90, 0.96])
    np.testing.assert_allclose(projection.progression_high, [0.95, 1.00])
    assert projection.enrolment.years == (2024, 2025)
    assert projection.enrolment.unit_ids == ("1", "2", "3")
    central = projection.enrolment.central
    # Intake held at the past mean (110), grade 2 = last grade 1 x ratio, and so on.
    assert central[:, 0] == pytest.approx([110, 120 * 194 / 210, 99 * 191 / 195])
    assert central[:, 1] == pytest.approx([110, 110 * 194 / 210, 120 * 194 / 210 * 191 / 195])
    low = projection.enrolment.low
    assert low[:, 1] == pytest.approx([100, 100 * 0.90, 120 * 0.90 * 0.96])
    total = projection.total()
    assert total.central[0] == pytest.approx(central.sum(axis=0))


def test_intake_from_a_demand_forecast() -> None:
    past = history([[100, 100], [110, 95]], years=(2022, 2023))
    intake = ForecastBand(
        unit_ids=("TH-01",),
        years=(2024, 2025, 2026),
        low=np.array([[90.0, 95, 99]]),
        central=np.array([[100.0, 105, 110]]),
        high=np.array([[110.0, 115, 121]]),
    )
    projection = project_grades(past, horizon_years=2, first_grade_intake=intake)
    np.testing.assert_allclose(projection.enrolment.central[0], [100, 105])
    np.testing.assert_allclose(projection.enrolment.central[1], [110 * 0.95, 100 * 0.95])
    band = projection.enrolment
    assert np.all(band.low <= band.central)
    assert np.all(band.central <= band.high)
    with pytest.raises(InvalidInputError, match="2027"):
        project_grades(past, horizon_years=4, first_grade_intake=intake)


def test_years_with_a_gap_do_not_count_as_a_transition() -> None:
    past = history([[100, 100], [110, 95]], years=(2020, 2022))
    with pytest.raises(InsufficientHistoryError, match="grade 1"):
        project_grades(past, horizon_years=1)


def test_history_is_checked() -> None:
    with pytest.raises(InvalidInputError, match="school_years"):
        history([[1, 2], [3, 4]], years=(2022, 2021))
    with pytest.raises(InvalidInputError, match="pupils_by_grade"):
        history([[1, -2], [3, 4]], years=(2021, 2022))
