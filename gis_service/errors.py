"""Errors of the service layer; ``api/problems.py`` maps each to an HTTP status."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One problem with one input field.

    Attributes
    ----------
    pointer
        Where the problem is: a JSON pointer (``/properties/name``) or ``row 12, column lat``.
    detail
        What is wrong, in plain words.
    """

    pointer: str
    detail: str


class ServiceError(Exception):
    """Base class of every error the service reports to its users."""

    title = "Service error"

    def __init__(self, detail: str, *, problems: list[FieldProblem] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.problems = problems or []


class NotFoundError(ServiceError):
    """A named thing (school, ward, district) does not exist."""

    title = "Not found"


class ConflictError(ServiceError):
    """The request clashes with what is stored (duplicate code, closed school)."""

    title = "Conflict"


class InvalidInputError(ServiceError):
    """The input is well formed but its values are wrong (outside the district, bad level)."""

    title = "Invalid input"


class AuthenticationError(ServiceError):
    """No credentials, or credentials that are not valid."""

    title = "Authentication required"


class PermissionDeniedError(ServiceError):
    """Valid credentials without the role the action needs."""

    title = "Permission denied"


class StoreError(ServiceError):
    """The store cannot be reached or is not in the expected state."""

    title = "Store error"


class BusyError(ServiceError):
    """The service has as much work as it can take now: the caller should try again shortly.

    Attributes
    ----------
    retry_after_s
        Whole seconds after which a new try is likely to be answered.
    """

    title = "Service busy"

    def __init__(self, detail: str, *, retry_after_s: int) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s


class StoreBusyError(BusyError):
    """Every connection to the store is in use."""

    title = "Store busy"


class RateLimitedError(BusyError):
    """A client sent more requests than its limits allow for now (``retry_after_s``)."""

    title = "Too many requests"


@dataclass(frozen=True, slots=True)
class RowProblem:
    """One rejected row of an import file.

    Attributes
    ----------
    row
        1-based data row number (the header is row 0 in CSV files).
    column
        The column at fault, or ``""`` when the row as a whole is.
    reason
        A short machine-readable reason code, such as ``missing_name``.
    detail
        The explanation shown to the user.
    """

    row: int
    column: str
    reason: str
    detail: str = field(default="")
