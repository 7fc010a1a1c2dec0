import subprocess
import sys

import pyarrow as pa


def _has_jemalloc() -> bool:
    try:
        pa.jemalloc_memory_pool()
    except (NotImplementedError, pa.ArrowNotImplementedError):
        return False
    return True


def test_reading_data_allocates_with_jemalloc_where_available():
    # a fresh interpreter: importing the ingest package is what switches the allocator
    code = "import selfcheck.ingest, pyarrow as pa; print(pa.default_memory_pool().backend_name)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    expected = "jemalloc" if _has_jemalloc() else pa.default_memory_pool().backend_name
    assert out.stdout.strip() == expected
