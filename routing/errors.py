"""Errors of the routing engine; each carries the context a caller needs to report it."""

from __future__ import annotations


class RoutingError(Exception):
    """Base class of every error raised by :mod:`routing`."""


class NetworkDataError(RoutingError, ValueError):
    """The road data cannot be turned into a usable network (missing, unreadable, empty)."""


class RoutingInputError(RoutingError, ValueError):
    """An argument is malformed: wrong shape, not finite, wrong CRS, unknown mode.

    Parameters
    ----------
    message
        What is wrong.
    field
        The argument at fault, for example ``"origins"`` or ``"mode"``.
    """

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class SnapDistanceError(RoutingError, ValueError):
    """A point is farther from every usable road than the allowed snapping distance.

    Parameters
    ----------
    message
        What is wrong, naming the point.
    index
        Position of the point in the input.
    distance_m
        Distance from the point to the nearest usable road in metres (``inf`` when the
        network has no usable road at all, ``nan`` when the point is not finite).
    max_distance_m
        The snapping limit in metres.
    """

    def __init__(
        self, message: str, *, index: int, distance_m: float, max_distance_m: float
    ) -> None:
        super().__init__(message)
        self.index = index
        self.distance_m = distance_m
        self.max_distance_m = max_distance_m


class UnreachableError(RoutingError):
    """No path joins an origin to a destination.

    Parameters
    ----------
    message
        What is unreachable and why, in words.
    reason
        A machine-readable reason: ``"disconnected"`` (different road components, for example
        an island without a ferry), ``"no_route"`` (connected, but one-way rules block every
        path) or ``"beyond_cutoff"``.
    """

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason
