"""Arrow's allocator: jemalloc where the build has it.

pyarrow's default, mimalloc, gives freed pages back to the system eagerly; in a section
kernel that is busy allocating and freeing frames this cost 0.3–0.7 s of system time a
section (measured: ``response`` on the default sample, 0.5–0.9 s of system CPU with
mimalloc, 0.16–0.2 s with jemalloc or the system allocator). Builds without jemalloc
(Windows) keep their default, and so does a process started with
``ARROW_DEFAULT_MEMORY_POOL`` set (the user's choice wins). Imported by :mod:`selfcheck.ingest`, so every process
that reads data — the runner, the fork server and its kernels — allocates the same way.
"""

from __future__ import annotations

import contextlib
import os

import pyarrow as pa


def use_jemalloc() -> str:
    """Make jemalloc Arrow's default pool if the build has it and the environment does not
    name one; the backend now in use."""
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return pa.default_memory_pool().backend_name
    with contextlib.suppress(NotImplementedError, pa.ArrowNotImplementedError):
        pa.set_memory_pool(pa.jemalloc_memory_pool())
    return pa.default_memory_pool().backend_name


def release() -> None:
    """Give back to the system what a large validation left allocated but unused (jemalloc
    keeps freed pages for reuse: the runner would hold ~2 GB of them through the whole run
    of a 10 M-call quarter, while the section kernels need the memory)."""
    import gc

    gc.collect()
    pa.default_memory_pool().release_unused()


BACKEND = use_jemalloc()
