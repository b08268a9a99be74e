"""Threads of the computations requests ask for.

The event loop never computes: a route hands its work to a thread, so the loop goes on
answering (health, cached pages) while threads compute. Look-ups run on
:class:`ComputeThreads`, whose queue, once full, answers 503 with ``Retry-After`` at once
rather than letting a parent wait for minutes. Heavy jobs (zones, placement, site
suggestion, scenarios) run on :class:`HeavyJobs`: threads of their own at a lower
scheduling priority, so that the system gives the cores to the look-ups first.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import anyio
import anyio.to_thread

from gis_service.errors import BusyError

_T = TypeVar("_T")

logger = logging.getLogger(__name__)

#: How much lower the heavy jobs' threads are scheduled than those serving requests
#: (``nice`` steps: at 10, a busy look-up thread gets about ten times their CPU time).
HEAVY_JOB_NICENESS = 10

#: What a request that found the queue full is told to wait, seconds.
QUEUE_FULL_RETRY_AFTER_S = 1


class ComputeThreads:
    """Up to ``threads`` computations at once, and up to ``waiting`` more in a queue.

    Parameters
    ----------
    threads
        Computations run at once, each in a thread.
    waiting
        Requests that may wait for a thread; one more answers 503.
    what
        What is computed, in the 503 answer's words (``"look-ups"``).
    """

    def __init__(self, threads: int, waiting: int, what: str) -> None:
        self._limiter = anyio.CapacityLimiter(threads)
        self._waiting = waiting
        self._what = what

    @property
    def limiter(self) -> anyio.CapacityLimiter:
        """The limiter of the threads."""
        return self._limiter

    async def run(self, work: Callable[[], _T]) -> _T:
        """Return ``work()`` computed in one of the threads.

        Raises
        ------
        BusyError
            If every thread is taken and ``waiting`` requests already wait for one.
        """
        taken = self._limiter.borrowed_tokens >= self._limiter.total_tokens
        if taken and self._limiter.statistics().tasks_waiting >= self._waiting:
            msg = f"too many {self._what} at once: try again in a moment"
            raise BusyError(msg, retry_after_s=QUEUE_FULL_RETRY_AFTER_S)
        return await anyio.to_thread.run_sync(work, limiter=self._limiter)


def _lower_priority() -> None:
    """Lower the scheduling priority of the calling thread (Linux schedules threads apart)."""
    thread = threading.get_native_id()
    try:
        niceness = os.getpriority(os.PRIO_PROCESS, thread) + HEAVY_JOB_NICENESS
        os.setpriority(os.PRIO_PROCESS, thread, min(niceness, 19))
    except OSError as error:  # a system without per-thread priorities: same priority
        logger.warning("heavy jobs run at the priority of requests: %s", error)


class HeavyJobs:
    """Threads of their own for heavy jobs, at a lower scheduling priority.

    Parameters
    ----------
    threads
        Jobs computed at once; more wait for a thread (their callers wait for the answer).
    """

    def __init__(self, threads: int) -> None:
        self._executor = ThreadPoolExecutor(
            threads, thread_name_prefix="heavy-job", initializer=_lower_priority
        )

    async def run(self, work: Callable[[], _T]) -> _T:
        """Return ``work()`` computed on one of the heavy jobs' threads."""
        return await asyncio.wrap_future(self._executor.submit(work))

    def close(self) -> None:
        """Let the running jobs end; start no more."""
        self._executor.shutdown(wait=False, cancel_futures=True)
