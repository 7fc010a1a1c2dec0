"""Arrow's allocator: the system's (glibc malloc) on Linux, and giving memory back.

Measured on the default and the large sample (2-core Linux machine):

* pyarrow's default, mimalloc, hands freed pages back to the system eagerly; in a
  section kernel busy allocating and freeing frames that cost 0.3–0.7 s of system CPU
  a section (``response``: 0.5–0.9 s with mimalloc, 0.15–0.2 s with glibc or jemalloc);
* jemalloc is as fast, but in a process forked from the warm server what it had freed
  stayed resident: after validating the 10 M-call quarter the runner kept 1.7 GB
  through the whole run, ``release_unused`` notwithstanding;
* glibc malloc is as fast, and :func:`release` (``malloc_trim``) really returns it:
  the runner drops to 0.1 GB, and the large quarter's peak falls by ~1.5 GB.

Other platforms keep Arrow's default, and a process started with
``ARROW_DEFAULT_MEMORY_POOL`` set keeps its choice. Imported by :mod:`selfcheck.ingest`,
so every process that reads data — the runner, the fork server and its kernels —
allocates the same way.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import sys

import pyarrow as pa


def choose_pool() -> str:
    """The system allocator on Linux unless the environment names one; the backend in use."""
    if sys.platform.startswith("linux") and not os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        pa.set_memory_pool(pa.system_memory_pool())
    return pa.default_memory_pool().backend_name


def release() -> None:
    """Give back to the system what a large validation left allocated but unused.

    glibc keeps freed blocks in its heap for reuse (once large blocks have been freed it
    serves the next ones from there, and does not shrink it on its own); without this the
    runner would hold ~2 GB through the run of a 10 M-call quarter, while the section
    kernels need the memory.
    """
    gc.collect()
    pa.default_memory_pool().release_unused()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):  # not glibc (musl): nothing to do
            ctypes.CDLL(None).malloc_trim(0)


M_ARENA_MAX = -8  # glibc's mallopt parameter (malloc.h)


def one_heap() -> None:
    """Threads of this process allocate from one glibc heap from now on.

    By default glibc gives each new thread a heap (arena) of its own, and a block freed
    in one is not reused by another: with two datasets read side by side
    (``ingest/parallel.py``) the validating process peaked at 3.9 GB on the large
    quarter instead of 3.3 GB with one heap, for the same time (6.2 s; Arrow's and
    NumPy's large buffers are few, so the shared lock costs nothing measurable).
    Elsewhere (musl, macOS, Windows) nothing changes.
    """
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None).mallopt(M_ARENA_MAX, 1)


choose_pool()
