"""First-grade seats of schools for zoning, with the assumption used where classes are unknown.

A school's first-grade seats are its first-grade classes times its class-size cap (35
pupils by default, the usual cap for primary classes in Vietnam). Where the registry does
not know a school's classes, zoning still needs a number: the seats are then computed from
``default_classes``, and the result says which schools carry that **assumption**.

:data:`DEFAULT_FIRST_GRADE_CLASSES` (8) is an assumption, not a measured figure: a
typical public primary school of an inner Hồ Chí Minh City district opens six to ten
first-grade classes. Callers should pass the real classes, or a default of their own,
whenever they know better.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from enrolment.errors import InvalidInputError
from enrolment.types import BoolArray, FloatArray

#: ASSUMPTION: first-grade classes of a school whose number of classes is unknown.
DEFAULT_FIRST_GRADE_CLASSES = 8


@dataclass(frozen=True, slots=True, eq=False)
class SeatEstimate:
    """First-grade seats per school, marking those computed from the assumed classes.

    Attributes
    ----------
    seats
        ``(n_schools,)`` first-grade seats.
    assumed
        ``(n_schools,)`` whether the seats come from ``default_classes`` (unknown classes).
    default_classes
        The number of classes assumed where unknown.
    """

    seats: FloatArray
    assumed: BoolArray
    default_classes: int

    @property
    def any_assumed(self) -> bool:
        """Whether any school's seats rest on the assumption."""
        return bool(self.assumed.any())

    def describe(self) -> str:
        """Return a one-line statement of the assumption, for reports."""
        count = int(self.assumed.sum())
        if count == 0:
            return "first-grade seats from the registry's classes for every school"
        return (
            f"ASSUMPTION: {count} of {self.assumed.size} schools have no first-grade classes "
            f"in the registry; each is given {self.default_classes} classes"
        )


def first_grade_seats(
    classes: Sequence[int | None],
    class_size_cap: Sequence[int],
    *,
    default_classes: int = DEFAULT_FIRST_GRADE_CLASSES,
) -> SeatEstimate:
    """Return first-grade seats (classes x class-size cap), assuming classes where unknown.

    Parameters
    ----------
    classes
        First-grade classes of each school; ``None`` where unknown.
    class_size_cap
        Pupils allowed per first-grade class at each school.
    default_classes
        Classes assumed for a school whose ``classes`` is ``None``.

    Returns
    -------
    SeatEstimate
        Seats per school and which of them are assumed.

    Raises
    ------
    InvalidInputError
        If the sequences differ in length or a number is negative (a cap must be positive).
    """
    if len(classes) != len(class_size_cap):
        msg = f"{len(classes)} schools have classes but {len(class_size_cap)} have a cap"
        raise InvalidInputError(msg, field="class_size_cap")
    if default_classes < 0:
        msg = f"must be 0 or more, got {default_classes}"
        raise InvalidInputError(msg, field="default_classes")
    assumed = np.array([c is None for c in classes], dtype=np.bool_)
    known = np.array([default_classes if c is None else c for c in classes], dtype=np.float64)
    cap = np.asarray(class_size_cap, dtype=np.float64)
    if (known < 0).any():
        msg = "first-grade classes must be 0 or more"
        raise InvalidInputError(msg, field="classes")
    if cap.size and not (np.isfinite(cap) & (cap > 0)).all():
        msg = "class-size caps must be positive"
        raise InvalidInputError(msg, field="class_size_cap")
    return SeatEstimate(seats=known * cap, assumed=assumed, default_classes=default_classes)
