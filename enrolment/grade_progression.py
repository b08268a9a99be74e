"""Grade-progression (cohort-survival) projection of a school's enrolment by grade.

For a school with enrolment history, the grade-progression ratio from grade ``g`` to
``g + 1`` is the number of pupils in grade ``g + 1`` in one school year divided by the number
in grade ``g`` the year before (it folds together promotion, repetition and pupils moving in
or out). The projection carries each grade forward with these ratios::

    E[g+1, t+1] = E[g, t] * r[g]
    E[1, t]     = first-grade intake (a forecast, or the history's level)

The central ratio of a transition is the ratio of sums over all consecutive year pairs (a
pupil-weighted mean); the low and high ratios are the smallest and largest yearly ratio seen,
so ``low <= central <= high``. Without an intake forecast the intake is held at the mean of
the past first-grade enrolment, with the smallest and largest past intake as the band. Every
term grows with the ratios and the intake, so the band stays ordered.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from enrolment.errors import InsufficientHistoryError, InvalidInputError
from enrolment.forecast import VARIANTS, ForecastBand

__all__ = ["EnrolmentHistory", "GradeProjection", "project_grades"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class EnrolmentHistory:
    """Pupils by grade of one school over past school years.

    Attributes
    ----------
    school_id
        The school's registry code.
    school_years
        First calendar year of each school year (2019 = 2019-2020), strictly increasing.
    pupils_by_grade
        Pupils by school year (rows) and grade 1, 2, ... (columns), shape
        ``(n_years, n_grades)``.
    source
        Where the figures come from (the registry, the school's report).
    as_of
        The date of the figures.
    """

    school_id: str
    school_years: tuple[int, ...]
    pupils_by_grade: FloatArray
    source: str
    as_of: dt.date

    def __post_init__(self) -> None:
        """Check shapes and counts and make the array read-only."""
        pupils = np.array(self.pupils_by_grade, dtype=np.float64)
        years = self.school_years
        if any(later <= earlier for earlier, later in itertools.pairwise(years)):
            msg = f"school years must be strictly increasing, got {years}"
            raise InvalidInputError(msg, field="school_years")
        if pupils.ndim != 2 or pupils.shape[0] != len(years) or pupils.shape[1] < 1:
            msg = f"expected shape ({len(years)}, n_grades), got {pupils.shape}"
            raise InvalidInputError(msg, field="pupils_by_grade")
        if not np.all(np.isfinite(pupils)) or np.any(pupils < 0):
            msg = "pupil counts must be finite and non-negative"
            raise InvalidInputError(msg, field="pupils_by_grade")
        if not self.source.strip():
            msg = f"say where the enrolment of {self.school_id!r} comes from"
            raise InvalidInputError(msg, field="source")
        pupils.flags.writeable = False
        object.__setattr__(self, "pupils_by_grade", pupils)


@dataclass(frozen=True, slots=True)
class GradeProjection:
    """Projected enrolment by grade of one school, with its band.

    Attributes
    ----------
    school_id
        The school's registry code.
    enrolment
        Pupils with units = grades (``"1"``, ``"2"``, ...) and the projected school years.
    progression_low, progression_central, progression_high
        Grade-progression ratios from grade ``g`` to ``g + 1``, shape ``(n_grades - 1,)``.
    history
        The history the ratios came from.
    """

    school_id: str
    enrolment: ForecastBand
    progression_low: FloatArray
    progression_central: FloatArray
    progression_high: FloatArray
    history: EnrolmentHistory

    def total(self) -> ForecastBand:
        """Return the school's total enrolment (all grades) by year, with the band.

        Returns
        -------
        ForecastBand
            One unit (the school id).
        """
        return ForecastBand(
            unit_ids=(self.school_id,),
            years=self.enrolment.years,
            **{name: self.enrolment.variant(name).sum(axis=0, keepdims=True) for name in VARIANTS},
        )


def _progression_ratios(history: EnrolmentHistory) -> tuple[FloatArray, FloatArray, FloatArray]:
    pupils = history.pupils_by_grade
    years = history.school_years
    pairs = [index for index in range(len(years) - 1) if years[index + 1] - years[index] == 1]
    n_transitions = pupils.shape[1] - 1
    low, central, high = (np.empty(n_transitions) for _ in range(3))
    for grade in range(n_transitions):
        before = np.array([pupils[index, grade] for index in pairs])
        after = np.array([pupils[index + 1, grade + 1] for index in pairs])
        usable = before > 0
        if not np.any(usable):
            msg = (
                f"school {history.school_id!r}: no two consecutive school years with pupils in "
                f"grade {grade + 1} to estimate its progression to grade {grade + 2}"
            )
            raise InsufficientHistoryError(msg)
        yearly = after[usable] / before[usable]
        central[grade] = after[usable].sum() / before[usable].sum()
        low[grade], high[grade] = yearly.min(), yearly.max()
    return low, central, high


def _intake(
    history: EnrolmentHistory, years: tuple[int, ...], intake: ForecastBand | None
) -> dict[str, FloatArray]:
    if intake is None:
        first = history.pupils_by_grade[:, 0]
        levels = {"low": first.min(), "central": first.mean(), "high": first.max()}
        return {name: np.full(len(years), levels[name]) for name in VARIANTS}
    if len(intake.unit_ids) != 1:
        msg = f"expected one unit (the school), got {len(intake.unit_ids)}"
        raise InvalidInputError(msg, field="first_grade_intake")
    columns = {year: column for column, year in enumerate(intake.years)}
    missing = [year for year in years if year not in columns]
    if missing:
        msg = f"no intake forecast for school years {missing}"
        raise InvalidInputError(msg, field="first_grade_intake")
    index = [columns[year] for year in years]
    return {name: intake.variant(name)[0, index] for name in VARIANTS}


def project_grades(
    history: EnrolmentHistory,
    *,
    horizon_years: int,
    first_grade_intake: ForecastBand | None = None,
) -> GradeProjection:
    """Project a school's enrolment by grade for the school years after its history.

    Parameters
    ----------
    history
        Pupils by grade over at least two consecutive school years.
    horizon_years
        Number of school years to project after the last one observed (>= 1).
    first_grade_intake
        First-grade entrants of this school by year (one unit), e.g. ward demand carried to
        the school; must cover every projected year. Without it the intake is held at the
        history's level (see the module docstring).

    Returns
    -------
    GradeProjection
        Enrolment by grade and year with the low/central/high band, and the ratios used.

    Raises
    ------
    InsufficientHistoryError
        If a grade transition cannot be estimated (no consecutive years with pupils).
    InvalidInputError
        If the horizon is not positive or the intake does not cover the projected years.
    """
    if horizon_years < 1:
        msg = f"must be >= 1, got {horizon_years}"
        raise InvalidInputError(msg, field="horizon_years")
    ratios = dict(zip(VARIANTS, _progression_ratios(history), strict=True))
    last_year = history.school_years[-1]
    years = tuple(range(last_year + 1, last_year + horizon_years + 1))
    intake = _intake(history, years, first_grade_intake)
    n_grades = history.pupils_by_grade.shape[1]
    projected = {}
    for name in VARIANTS:
        grid = np.empty((n_grades, len(years)))
        previous = history.pupils_by_grade[-1]
        for column in range(len(years)):
            grid[0, column] = intake[name][column]
            grid[1:, column] = previous[:-1] * ratios[name]
            previous = grid[:, column]
        projected[name] = grid
    return GradeProjection(
        school_id=history.school_id,
        enrolment=ForecastBand(
            unit_ids=tuple(str(grade) for grade in range(1, n_grades + 1)),
            years=years,
            **projected,
        ),
        progression_low=ratios["low"],
        progression_central=ratios["central"],
        progression_high=ratios["high"],
        history=history,
    )
