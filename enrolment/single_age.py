"""Single years of age from 5-year age groups, and ward age structures from district shares.

Census tables give population by 5-year age group (0-4, 5-9, ...); the forecast needs single
ages (how many children turn 6 next year). Two documented methods are offered, both of which
keep every 5-year total exactly:

``"sprague"`` (default)
    The Sprague fifth-difference osculatory multipliers (Sprague 1880; tabulated in Shryock
    and Siegel, *The Methods and Materials of Demography*, 1976, table C-1, and used by the
    UN Population Division and DemoTools). Each single age is a fixed linear combination of
    the five nearest groups; the first two and last two groups use their own end panels. It
    reproduces exactly any population whose single-age counts lie on a polynomial of degree
    up to three, but it can give negative counts for tiny or irregular populations (4 of
    Vietnam's 712 districts in the 2019 census, e.g. Huyện Trường Sa, at the oldest ages or
    in very small groups). Such groups are split by PCHIP instead (both keep the group's
    total), or the split is refused with ``negative_groups="raise"``.
``"pchip"``
    A monotone cubic (PCHIP, Fritsch-Carlson) spline through the cumulative count at the
    group boundaries (ages 0, 5, 10, ...), differenced at whole ages. Never negative, also
    exact on group totals, smoother at the ends than a flat split but less faithful to
    curvature than Sprague.

Ward age structure: the census publishes age groups per district only, so a ward's
population by age is the district's age shares applied to the ward total
(:func:`apply_age_structure`), a documented assumption.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy.interpolate import PchipInterpolator

from enrolment.errors import InterpolationError, InvalidInputError

__all__ = [
    "AGE_GROUP_WIDTH_YEARS",
    "SPRAGUE_PANELS",
    "NegativeGroups",
    "SplitMethod",
    "apply_age_structure",
    "split_five_year_groups",
]

AGE_GROUP_WIDTH_YEARS = 5

SplitMethod = Literal["sprague", "pchip"]
NegativeGroups = Literal["pchip", "raise"]

_FIRST = np.array(
    [
        [0.3616, -0.2768, 0.1488, -0.0336, 0.0000],
        [0.2640, -0.0960, 0.0400, -0.0080, 0.0000],
        [0.1840, 0.0400, -0.0320, 0.0080, 0.0000],
        [0.1200, 0.1360, -0.0720, 0.0160, 0.0000],
        [0.0704, 0.1968, -0.0848, 0.0176, 0.0000],
    ]
)
_SECOND = np.array(
    [
        [0.0336, 0.2272, -0.0752, 0.0144, 0.0000],
        [0.0080, 0.2320, -0.0480, 0.0080, 0.0000],
        [-0.0080, 0.2160, -0.0080, 0.0000, 0.0000],
        [-0.0160, 0.1840, 0.0400, -0.0080, 0.0000],
        [-0.0176, 0.1408, 0.0912, -0.0144, 0.0000],
    ]
)
_MIDDLE = np.array(
    [
        [-0.0128, 0.0848, 0.1504, -0.0240, 0.0016],
        [-0.0016, 0.0144, 0.2224, -0.0416, 0.0064],
        [0.0064, -0.0336, 0.2544, -0.0336, 0.0064],
        [0.0064, -0.0416, 0.2224, 0.0144, -0.0016],
        [0.0016, -0.0240, 0.1504, 0.0848, -0.0128],
    ]
)

#: Sprague multipliers: for the first, second, middle, next-to-last and last group, a 5 x 5
#: matrix whose row ``i`` gives single age ``i`` of the group from five consecutive groups
#: (the first five, the five centred on the group, or the last five). The end panels are
#: the first two reversed in both directions. Each panel's columns sum to 1 for the group
#: itself and 0 for the others, which is why group totals are kept.
SPRAGUE_PANELS: dict[str, npt.NDArray[np.float64]] = {
    "first": _FIRST,
    "second": _SECOND,
    "middle": _MIDDLE,
    "next_to_last": _SECOND[::-1, ::-1].copy(),
    "last": _FIRST[::-1, ::-1].copy(),
}

_SPRAGUE_MIN_GROUPS = 5
_NEGATIVE_TOLERANCE = 1e-9


def _as_group_counts(counts: npt.ArrayLike) -> npt.NDArray[np.float64]:
    values = np.asarray(counts, dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        msg = f"expected a non-empty 1-D sequence of group counts, got shape {values.shape}"
        raise InvalidInputError(msg, field="counts")
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        msg = "group counts must be finite and non-negative"
        raise InvalidInputError(msg, field="counts")
    return values


def _sprague(groups: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    n = groups.size
    if n < _SPRAGUE_MIN_GROUPS:
        msg = f"the Sprague method needs at least {_SPRAGUE_MIN_GROUPS} groups, got {n}"
        raise InvalidInputError(msg, field="counts")
    single = np.empty(n * AGE_GROUP_WIDTH_YEARS)
    for index in range(n):
        if index == 0:
            panel, window = SPRAGUE_PANELS["first"], groups[:5]
        elif index == 1:
            panel, window = SPRAGUE_PANELS["second"], groups[:5]
        elif index == n - 2:
            panel, window = SPRAGUE_PANELS["next_to_last"], groups[n - 5 :]
        elif index == n - 1:
            panel, window = SPRAGUE_PANELS["last"], groups[n - 5 :]
        else:
            panel, window = SPRAGUE_PANELS["middle"], groups[index - 2 : index + 3]
        start = index * AGE_GROUP_WIDTH_YEARS
        single[start : start + AGE_GROUP_WIDTH_YEARS] = panel @ window
    return single


def _pchip(groups: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    n = groups.size
    if n < 2:
        msg = f"the PCHIP method needs at least 2 groups, got {n}"
        raise InvalidInputError(msg, field="counts")
    boundaries = np.arange(n + 1, dtype=np.float64) * AGE_GROUP_WIDTH_YEARS
    cumulative = np.concatenate(([0.0], np.cumsum(groups)))
    spline = PchipInterpolator(boundaries, cumulative)
    ages = np.arange(n * AGE_GROUP_WIDTH_YEARS + 1, dtype=np.float64)
    at_ages = np.asarray(spline(ages), dtype=np.float64)
    # Pin the group boundaries to the exact cumulative counts so totals hold to the last bit.
    at_ages[::AGE_GROUP_WIDTH_YEARS] = cumulative
    return np.diff(at_ages)


def split_five_year_groups(
    counts: npt.ArrayLike,
    *,
    method: SplitMethod = "sprague",
    negative_groups: NegativeGroups = "pchip",
) -> npt.NDArray[np.float64]:
    """Split closed 5-year age groups (0-4, 5-9, ...) into single years of age.

    Parameters
    ----------
    counts
        Population of consecutive closed 5-year groups starting at age 0 (persons); leave
        out the open last group (85+), which cannot be split.
    method
        ``"sprague"`` (Sprague multipliers, needs at least 5 groups) or ``"pchip"`` (monotone
        spline of the cumulative count, needs at least 2 groups); see the module docstring.
    negative_groups
        What to do with a group the Sprague split makes negative: ``"pchip"`` splits that
        group by PCHIP instead, ``"raise"`` refuses.

    Returns
    -------
    numpy.ndarray
        Persons at each single age ``0 .. 5 * len(counts) - 1``; each run of five sums to
        the group it came from (up to floating-point rounding).

    Raises
    ------
    InvalidInputError
        If ``counts`` is not a 1-D sequence of finite non-negative numbers, is too short for
        the method, or the method is unknown.
    InterpolationError
        If the Sprague multipliers give a negative count and ``negative_groups="raise"``.
    """
    groups = _as_group_counts(counts)
    method_name: str = method  # checked at run time too: callers may pass any string
    if method_name == "sprague":
        single = _sprague(groups)
    elif method_name == "pchip":
        single = _pchip(groups)
    else:
        msg = f"unknown method {method!r}; use 'sprague' or 'pchip'"
        raise InvalidInputError(msg, field="method")
    scale = max(float(groups.max()), 1.0)
    negative = (single < -_NEGATIVE_TOLERANCE * scale).reshape(-1, AGE_GROUP_WIDTH_YEARS)
    if np.any(negative):
        age = int(np.argmin(single))
        if negative_groups == "raise":
            msg = (
                f"the {method} split gives a negative count ({single[age]:.3f}) at age {age}; "
                "the groups are too irregular for it (try method='pchip')"
            )
            raise InterpolationError(msg)
        monotone = _pchip(groups).reshape(-1, AGE_GROUP_WIDTH_YEARS)
        by_group = single.reshape(-1, AGE_GROUP_WIDTH_YEARS)
        bad = negative.any(axis=1)
        by_group[bad] = monotone[bad]
        single = by_group.reshape(-1)
    return np.clip(single, 0.0, None)


def apply_age_structure(
    unit_totals: npt.ArrayLike,
    age_counts: npt.ArrayLike,
    *,
    reference_total: float,
) -> npt.NDArray[np.float64]:
    """Return the population by age of units (wards) from their totals and an age structure.

    Each unit gets ``unit_total * age_counts / reference_total``: the reference area's
    (district's) share of each age, applied to the unit's total. This is an assumption
    (wards of a district have the district's age structure), used because the census
    publishes age groups per district only.

    Parameters
    ----------
    unit_totals
        Total population (all ages) of each unit, shape ``(n_units,)``, persons.
    age_counts
        Population of the reference area at the ages wanted (e.g. single ages 0-6 from
        :func:`split_five_year_groups`), shape ``(n_ages,)``, persons.
    reference_total
        Total population (all ages) of the reference area, persons; must be positive.

    Returns
    -------
    numpy.ndarray
        Persons by unit and age, shape ``(n_units, n_ages)``.

    Raises
    ------
    InvalidInputError
        If a count is negative or not finite, an array is not 1-D, or ``reference_total``
        is not positive.
    """
    totals = np.asarray(unit_totals, dtype=np.float64)
    ages = np.asarray(age_counts, dtype=np.float64)
    for name, values in (("unit_totals", totals), ("age_counts", ages)):
        if values.ndim != 1 or not np.all(np.isfinite(values)) or np.any(values < 0):
            msg = "expected a 1-D array of finite non-negative counts"
            raise InvalidInputError(msg, field=name)
    if not np.isfinite(reference_total) or reference_total <= 0:
        msg = f"must be a positive number of persons, got {reference_total}"
        raise InvalidInputError(msg, field="reference_total")
    return np.outer(totals, ages / reference_total)
