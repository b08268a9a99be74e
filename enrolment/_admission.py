"""Compiled admission kernels: priority ranking, deferred and immediate acceptance, guarantee.

An *application* is one (child, choice) pair, numbered ``child * k + choice`` where ``k``
is the width of the ``(n_children, k)`` choice array (``-1`` pads a row at its end). The
ranking lists every school's applications in priority order, CSR style: the applications
of school ``s`` are ``application[school_ptr[s]:school_ptr[s + 1]]``, best first, and
``rank[child, choice]`` is the position of that application in its school's list. Every
kernel compares applications by that one integer, so ties are settled once, in
:func:`rank_applications`, and the kernels are exactly deterministic.

Deferred acceptance keeps, for every school, a bounded max-heap of the ranks it holds
(its tentative admits, worst on top) in a slice of one array: the slice of school ``s``
starts at the sum of the seats of the schools before it and holds at most ``seats[s]``
ranks. A proposal to a full school either replaces the top (the worst admit, who then
proposes to their next choice at once) or is rejected, so the work is
``O(proposals x log seats)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
import numpy as np
import numpy.typing as npt

_F = TypeVar("_F", bound=Callable[..., Any])

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
#: ``(rank, school_ptr, application)``: the priority ranking (see the module docstring).
Ranking = tuple[IntArray, IntArray, IntArray]
#: ``(school, choice_rank, cutoff_rank)``: placement per child, last admitted rank per school.
Admission = tuple[IntArray, IntArray, IntArray]


def _jit(func: _F) -> _F:
    """Compile ``func`` in nopython mode with an on-disk cache."""
    return cast("_F", numba.njit(cache=True, nogil=True)(func))


@_jit
def rank_applications(
    choices: IntArray,
    priority_group: IntArray,
    distance_m: FloatArray,
    lottery_order: IntArray,
    n_schools: int,
    n_groups: int,
) -> Ranking:  # pragma: no cover - compiled
    """Rank every school's applications by priority group, then distance, then lottery.

    ``lottery_order`` lists the children best lottery number first; ``n_groups`` is one
    more than the largest priority group. Applications are bucketed by (school, group) in
    lottery order (a stable counting sort), then each bucket is sorted by distance with a
    stable merge sort, so equal distances keep the lottery order.
    """
    n_children, width = choices.shape
    n_buckets = n_schools * n_groups
    bucket_ptr = np.zeros(n_buckets + 1, dtype=np.int64)
    for child in range(n_children):
        for choice in range(width):
            school = choices[child, choice]
            if school >= 0:
                bucket_ptr[school * n_groups + priority_group[child, choice] + 1] += 1
    for bucket in range(n_buckets):
        bucket_ptr[bucket + 1] += bucket_ptr[bucket]
    fill = bucket_ptr[:-1].copy()
    application = np.empty(bucket_ptr[n_buckets], dtype=np.int64)
    for child in lottery_order:
        for choice in range(width):
            school = choices[child, choice]
            if school >= 0:
                bucket = school * n_groups + priority_group[child, choice]
                application[fill[bucket]] = child * width + choice
                fill[bucket] += 1
    distance = np.empty(application.shape[0])
    for bucket in range(n_buckets):
        lo, hi = bucket_ptr[bucket], bucket_ptr[bucket + 1]
        if hi - lo < 2:
            continue
        for p in range(lo, hi):
            distance[p] = distance_m[application[p] // width, application[p] % width]
        order = np.argsort(distance[lo:hi], kind="mergesort")
        application[lo:hi] = application[lo:hi][order]
    school_ptr = bucket_ptr[::n_groups].copy()
    rank = np.full((n_children, width), -1, dtype=np.int64)
    for school in range(n_schools):
        for p in range(school_ptr[school], school_ptr[school + 1]):
            rank[application[p] // width, application[p] % width] = p - school_ptr[school]
    return rank, school_ptr, application


@_jit
def _sift_up(heap: IntArray, lo: int, position: int) -> None:  # pragma: no cover - compiled
    """Move the entry at ``position`` of the max-heap starting at ``lo`` up to its place."""
    item = heap[lo + position]
    while position > 0:
        parent = (position - 1) >> 1
        if heap[lo + parent] >= item:
            break
        heap[lo + position] = heap[lo + parent]
        position = parent
    heap[lo + position] = item


@_jit
def _sift_down(heap: IntArray, lo: int, size: int) -> None:  # pragma: no cover - compiled
    """Move the top of the max-heap of ``size`` entries starting at ``lo`` down to its place."""
    item = heap[lo]
    position = 0
    while True:
        child = 2 * position + 1
        if child >= size:
            break
        if child + 1 < size and heap[lo + child + 1] > heap[lo + child]:
            child += 1
        if heap[lo + child] <= item:
            break
        heap[lo + position] = heap[lo + child]
        position = child
    heap[lo + position] = item


@_jit
def deferred_acceptance(
    choices: IntArray, seats: IntArray, ranking: Ranking
) -> Admission:  # pragma: no cover - compiled
    """Run child-proposing deferred acceptance; return placements and cut-off ranks.

    Children propose in index order; a child rejected, or bumped by a child ranked above
    them, proposes to their next choice at once. The child-optimal stable matching is
    unique, so the proposal order does not change the result. Returns
    ``(school, choice_rank, cutoff_rank)``: the school and choice position of each child
    (``-1`` when rejected by every choice) and the rank of each school's last admit
    (``-1`` when it admitted nobody).
    """
    rank, school_ptr, application = ranking
    n_children, width = choices.shape
    n_schools = seats.shape[0]
    heap_ptr = np.zeros(n_schools + 1, dtype=np.int64)
    for school in range(n_schools):
        heap_ptr[school + 1] = heap_ptr[school] + seats[school]
    heap = np.empty(heap_ptr[n_schools], dtype=np.int64)
    held = np.zeros(n_schools, dtype=np.int64)
    next_choice = np.zeros(n_children, dtype=np.int64)
    for first in range(n_children):
        child = first
        while child >= 0 and next_choice[child] < width:
            school = choices[child, next_choice[child]]
            if school < 0:
                break
            key = rank[child, next_choice[child]]
            lo = heap_ptr[school]
            if held[school] < seats[school]:
                heap[lo + held[school]] = key
                _sift_up(heap, lo, held[school])
                held[school] += 1
                child = -1
            elif held[school] > 0 and key < heap[lo]:
                bumped = application[school_ptr[school] + heap[lo]] // width
                heap[lo] = key
                _sift_down(heap, lo, held[school])
                next_choice[bumped] += 1
                child = bumped
            else:
                next_choice[child] += 1
    placed = np.full(n_children, -1, dtype=np.int64)
    choice_rank = np.full(n_children, -1, dtype=np.int64)
    cutoff_rank = np.full(n_schools, -1, dtype=np.int64)
    for school in range(n_schools):
        if held[school] > 0:
            cutoff_rank[school] = heap[heap_ptr[school]]
        for p in range(heap_ptr[school], heap_ptr[school] + held[school]):
            child = application[school_ptr[school] + heap[p]] // width
            placed[child] = school
            choice_rank[child] = next_choice[child]
    return placed, choice_rank, cutoff_rank


@_jit
def immediate_acceptance(
    choices: IntArray, seats: IntArray, ranking: Ranking
) -> Admission:  # pragma: no cover - compiled
    """Run immediate acceptance (the Boston mechanism); return as :func:`deferred_acceptance`.

    In round ``r`` every school admits, in priority order and while it has seats, the
    children not yet placed whose choice ``r`` it is; admissions are final.
    """
    _, school_ptr, application = ranking
    n_children, width = choices.shape
    n_schools = seats.shape[0]
    placed = np.full(n_children, -1, dtype=np.int64)
    choice_rank = np.full(n_children, -1, dtype=np.int64)
    cutoff_rank = np.full(n_schools, -1, dtype=np.int64)
    seats_left = seats.copy()
    for round_ in range(width):
        for school in range(n_schools):
            for p in range(school_ptr[school], school_ptr[school + 1]):
                if seats_left[school] == 0:
                    break
                child, choice = application[p] // width, application[p] % width
                if choice != round_ or placed[child] >= 0:
                    continue
                placed[child] = school
                choice_rank[child] = round_
                cutoff_rank[school] = p - school_ptr[school]
                seats_left[school] -= 1
    return placed, choice_rank, cutoff_rank


@_jit
def seat_nearest(
    order: IntArray, candidates: IntArray, placed: IntArray, seats_left: IntArray
) -> tuple[IntArray, IntArray, IntArray]:  # pragma: no cover - compiled
    """Seat every child without a school at their first candidate school with a free seat.

    Children are taken in ``order``; ``candidates`` is ``(n_children, r)``, nearest first,
    ``-1`` padded. Returns new ``(school, seats_left, candidate_rank)``: the school of each
    child, the seats left per school, and for each child seated here the position of the
    school in their candidate row (``-1`` for the others).
    """
    school = placed.copy()
    left = seats_left.copy()
    candidate_rank = np.full(placed.shape[0], -1, dtype=np.int64)
    for child in order:
        if school[child] >= 0:
            continue
        for position in range(candidates.shape[1]):
            candidate = candidates[child, position]
            if candidate < 0:
                break
            if left[candidate] > 0:
                left[candidate] -= 1
                school[child] = candidate
                candidate_rank[child] = position
                break
    return school, left, candidate_rank
