"""Children of first-grade age per ward, from census population by 5-year age group.

Inputs and method
-----------------
1. The district's census population by 5-year age group (0-4, 5-9, ...; the 2019 census
   cube of the GSO gives it per district, not per ward) is split into single years of age
   with the Sprague multipliers (:func:`enrolment.single_age.split_five_year_groups`; a
   monotone spline over the cumulative counts, ``method="pchip"``, is the alternative).
   For Quận 3 in 2019 the groups 0-4, 5-9, 10-14, 15-19 hold 8,806, 11,329, 11,249 and
   12,195 persons, so age 6 is ``0.0080 x 8806 + 0.2320 x 11329 - 0.0480 x 11249 +
   0.0080 x 12195 = 2,256.4`` children (a flat split of 5-9 would say 2,265.8).
2. Each ward gets the district's share of that age applied to its own total population
   (wards are assumed to share the district's age structure):
   ``children[w] = population[w] x age_count / district_population``.

First-grade age is the age reached in the calendar year of entry: Vietnamese children
start first grade in September of the year they turn 6. The census counts completed
years on 1 April, so census age 6 stands for one school year's entrants, a quarter-year
approximation also made by the forecasts (:mod:`enrolment.forecast`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from enrolment.errors import InvalidInputError
from enrolment.single_age import AGE_GROUP_WIDTH_YEARS, SplitMethod, split_five_year_groups
from enrolment.types import FloatArray

#: Age reached in the calendar year a child starts first grade in Vietnam.
FIRST_GRADE_AGE = 6


@dataclass(frozen=True, slots=True, eq=False)
class CohortEstimate:
    """Children of first-grade age per ward, with the figures the estimate rests on.

    Attributes
    ----------
    ward_codes
        One code per ward.
    children
        ``(n_wards,)`` estimated children of ``age`` in each ward (persons, not rounded).
    age
        The single year of age estimated.
    district_children
        Children of that age in the whole district, from the split age groups.
    district_population
        The district's total population (all ages).
    method
        The single-age split: ``"sprague"`` or ``"pchip"``.
    """

    ward_codes: tuple[str, ...]
    children: FloatArray
    age: int
    district_children: float
    district_population: float
    method: str

    @property
    def share(self) -> float:
        """The share of the district's population at that age."""
        return self.district_children / self.district_population

    def to_frame(self) -> pd.DataFrame:
        """Return one row per ward: ``ward_code``, ``children``."""
        return pd.DataFrame({"ward_code": list(self.ward_codes), "children": self.children})


def first_grade_cohort(
    ward_codes: Sequence[str],
    ward_population: npt.ArrayLike,
    *,
    district_age_groups: npt.ArrayLike,
    district_population: float,
    age: int = FIRST_GRADE_AGE,
    method: SplitMethod = "sprague",
) -> CohortEstimate:
    """Estimate the children of first-grade age in each ward from census age groups.

    Parameters
    ----------
    ward_codes
        One code per ward.
    ward_population
        Total population of each ward (persons), in the order of ``ward_codes``.
    district_age_groups
        The district's population in consecutive closed 5-year groups from age 0 (0-4,
        5-9, ...; at least five groups for the Sprague split; leave out the open 85+).
    district_population
        The district's total population, all ages (persons).
    age
        The single year of age to estimate (6: first grade).
    method
        How 5-year groups are split into single years: ``"sprague"`` or ``"pchip"``.

    Returns
    -------
    CohortEstimate
        Children per ward and the district figures used.

    Raises
    ------
    InvalidInputError
        If the inputs disagree in length, a count is negative, the groups do not reach
        ``age``, or the ward populations add up to more than the district's.
    """
    codes = tuple(str(code) for code in ward_codes)
    population = np.asarray(ward_population, dtype=np.float64)
    if population.shape != (len(codes),):
        msg = f"expected {len(codes)} ward totals, got shape {population.shape}"
        raise InvalidInputError(msg, field="ward_population")
    if len(set(codes)) != len(codes):
        msg = "ward codes must be unique"
        raise InvalidInputError(msg, field="ward_codes")
    if not np.isfinite(population).all() or (population < 0).any():
        msg = "ward totals must be finite and non-negative"
        raise InvalidInputError(msg, field="ward_population")
    if not np.isfinite(district_population) or district_population <= 0:
        msg = f"must be a positive number of persons, got {district_population}"
        raise InvalidInputError(msg, field="district_population")
    if population.sum() > district_population * (1 + 1e-9):
        msg = (
            f"the wards hold {population.sum():,.0f} persons, more than the district's "
            f"{district_population:,.0f}"
        )
        raise InvalidInputError(msg, field="ward_population")
    groups = np.asarray(district_age_groups, dtype=np.float64)
    if not 0 <= age < groups.size * AGE_GROUP_WIDTH_YEARS:
        msg = f"age {age} is not covered by {groups.size} 5-year groups"
        raise InvalidInputError(msg, field="age")
    single = split_five_year_groups(groups, method=method)
    at_age = float(single[age])
    children = population * (at_age / district_population)
    return CohortEstimate(
        ward_codes=codes,
        children=children,
        age=age,
        district_children=at_age,
        district_population=float(district_population),
        method=method,
    )
