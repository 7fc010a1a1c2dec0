import subprocess
import sys

import pytest

CODE = "import selfcheck.ingest, pyarrow as pa; print(pa.default_memory_pool().backend_name)"


def _backend(env_pool: str | None = None) -> str:
    import os

    env = dict(os.environ)
    env.pop("ARROW_DEFAULT_MEMORY_POOL", None)
    if env_pool:
        env["ARROW_DEFAULT_MEMORY_POOL"] = env_pool
    out = subprocess.run(
        [sys.executable, "-c", CODE], capture_output=True, text=True, check=True, env=env
    )
    return out.stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")
def test_reading_data_allocates_with_glibc_on_linux():
    # a fresh interpreter: importing the ingest package is what switches the allocator
    assert _backend() == "system"


def test_the_environment_choice_wins():
    assert _backend("mimalloc") == "mimalloc"
