"""Errors of the enrolment core; every one subclasses :class:`EnrolmentError`."""

from __future__ import annotations


class EnrolmentError(Exception):
    """Base class of every error raised by :mod:`enrolment`."""


class InvalidInputError(EnrolmentError, ValueError):
    """An input array, table or GeoDataFrame breaks its documented contract.

    Parameters
    ----------
    detail
        What is wrong, in plain words.
    field
        The name of the offending parameter or column (``"cost_m"``, ``"children"``).
    """

    def __init__(self, detail: str, *, field: str) -> None:
        super().__init__(f"{field}: {detail}")
        self.field = field
        self.detail = detail


class InsufficientHistoryError(EnrolmentError, ValueError):
    """A series is too short for the estimate asked of it (e.g. a growth rate from one year)."""


class InterpolationError(EnrolmentError, ValueError):
    """An interpolation gave an impossible value (e.g. a negative count of persons)."""


class InfeasibleError(EnrolmentError):
    """A solver could not solve a problem that should always have a solution."""
