"""Reading a period's datasets side by side: a small thread pool with an ordered outcome.

Most of reading a dataset is Arrow and NumPy work that releases the GIL (the CSV
parser, casts, hashing, the cache write), but much of it runs on one core: the
conversion of each column, the contract's checks, the row filters. Two datasets read
at once keep both cores of a small machine busy. Measured on the large quarter
(10 M calls, 1.1 GB of CSV, 2-core machine): validation 8.4 → 7.5 s with two
threads, 6.2 s with the cache written in the background as well
(:class:`selfcheck.ingest.cache.Writer`); the validating process's peak grows from
2.9 to 3.3 GB (the calls' table and the next dataset's are held at once; 3.9 GB
before the threads shared one heap, :func:`selfcheck.ingest.memory.one_heap`).

The outcome is the one of reading the datasets one after another: results in the
given order, and of several failures the first in that order is raised.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from selfcheck.ingest import memory

T = TypeVar("T")

THREADS = 2  # more would hold more datasets in memory at once for little gain: calls dominates


def threads() -> int:
    """Datasets read at once: two where the machine has two cores or more."""
    return max(1, min(THREADS, os.cpu_count() or 1))


def each(
    tasks: Mapping[str, Callable[[], T]], weight: Mapping[str, int], n_threads: int | None = None
) -> dict[str, T]:
    """``{name: task()}`` in the order of ``tasks``, run on ``n_threads`` threads, heaviest
    first (so the largest file does not start last).

    Every task has finished (or was cancelled before it started) when this returns or
    raises, so nothing goes on reading or writing behind the caller's back."""
    n_threads = threads() if n_threads is None else n_threads
    if n_threads <= 1 or len(tasks) <= 1:
        return {name: task() for name, task in tasks.items()}
    memory.one_heap()  # what one thread frees, the other reuses
    pool = ThreadPoolExecutor(n_threads, thread_name_prefix="selfcheck-read")
    futures: dict[str, Future[T]] = {}
    try:
        for name in sorted(tasks, key=lambda n: -weight.get(n, 0)):  # stable: ties in order
            futures[name] = pool.submit(tasks[name])
        return {name: futures[name].result() for name in tasks}
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
