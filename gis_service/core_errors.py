"""Errors of the algorithmic core turned into service errors, in one place.

The core packages raise their own errors (:mod:`routing.errors`, :mod:`enrolment.errors`);
the service catches them at the seam with these context managers, so that every capability
answers the same problem (422 with a pointer, or a store error) for the same fault.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import enrolment
import routing
from gis_service.errors import FieldProblem, InvalidInputError, StoreError


@contextlib.contextmanager
def routing_errors(pointer: str = "") -> Iterator[None]:
    """Turn routing errors raised inside the block into service errors.

    A point too far from any road or an unreachable destination becomes an
    :class:`~gis_service.errors.InvalidInputError` (422) naming ``pointer``; unusable
    network data becomes a :class:`~gis_service.errors.StoreError`.
    """
    try:
        yield
    except (routing.SnapDistanceError, routing.UnreachableError, routing.RoutingInputError) as e:
        problems = [FieldProblem(pointer, str(e))] if pointer else []
        raise InvalidInputError(str(e), problems=problems) from None
    except routing.NetworkDataError as error:
        raise StoreError(str(error)) from None


@contextlib.contextmanager
def enrolment_errors(context: str = "", *, pointer_prefix: str | None = None) -> Iterator[None]:
    """Turn errors of the enrolment core raised inside the block into a 422 problem.

    Parameters
    ----------
    context
        What was being computed, put before the core's message (``"the forecast failed on
        its inputs"``); the core's message alone when empty.
    pointer_prefix
        When given, an input error names the JSON pointer ``{pointer_prefix}/{field}`` of
        the offending field (the core's own field name).
    """
    try:
        yield
    except enrolment.InvalidInputError as error:
        if pointer_prefix is None:
            raise InvalidInputError(f"{context}: {error}" if context else str(error)) from None
        pointer = f"{pointer_prefix}/{error.field}"
        detail = f"{context}: {error.detail}" if context else error.detail
        raise InvalidInputError(detail, problems=[FieldProblem(pointer, detail)]) from None
    except enrolment.EnrolmentError as error:
        raise InvalidInputError(f"{context}: {error}" if context else str(error)) from None
