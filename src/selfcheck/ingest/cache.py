"""The columnar cache: a period's validated datasets as Parquet, keyed by their inputs.

``<output dir of the period>/cache/<dataset>.parquet`` holds the typed rows of the
period and, in the file's own metadata, the key they were built with and the
quality record. The key covers the input file's SHA-256, the dataset's column
mapping, ``max_bad_share``, the time zone, the contract (schema) and
:data:`INGEST_VERSION`; anything else changed means a rebuild. Writes are atomic
(temporary file + rename), so parallel notebook kernels never see half a file.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from selfcheck.ingest.records import DatasetQuality
from selfcheck.schema import DATASETS

INGEST_VERSION = 1  # bump when the reading rules change the typed output
SCHEMA_VERSION = hashlib.sha256(repr(DATASETS).encode()).hexdigest()[:16]
META = b"selfcheck.ingest"


@dataclass(frozen=True)
class Stamp:
    """What a file looked like when it was hashed (a cheap re-check without re-hashing)."""

    name: str
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: Path) -> Stamp:
        st = path.stat()
        return cls(path.name, st.st_size, st.st_mtime_ns)


def cache_key(*, dataset: str, period: str, sha256: str, settings: str) -> str:
    text = json.dumps(
        {
            "dataset": dataset,
            "period": period,
            "sha256": sha256,
            "settings": settings,
            "schema": SCHEMA_VERSION,
            "ingest": INGEST_VERSION,
        },
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(text.encode()).hexdigest()


def read_meta(path: Path) -> dict | None:
    """The metadata of a cache file, or None (absent, unreadable, not ours)."""
    try:
        meta = pq.read_schema(path).metadata or {}
        return json.loads(meta[META])
    except (OSError, KeyError, ValueError, pa.ArrowException):
        return None


def write(path: Path, table: pa.Table, *, key: str, stamp: Stamp, quality: DatasetQuality) -> bool:
    """Write atomically; False when the folder is not writable (the run goes on uncached)."""
    meta = {
        "key": key,
        "input": {"name": stamp.name, "size": stamp.size, "mtime_ns": stamp.mtime_ns},
        "quality": quality.to_dict(),
    }
    table = table.replace_schema_metadata(
        {META: json.dumps(meta, ensure_ascii=False).encode("utf-8")}
    )
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        pq.write_table(table, tmp, compression="snappy", row_group_size=1 << 20)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
        return True
    except OSError:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        return False


def read_table(path: Path) -> pa.Table | None:
    try:
        return pq.read_table(path)
    except (OSError, pa.ArrowException):
        return None
