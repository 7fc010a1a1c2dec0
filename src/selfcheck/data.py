"""Data ingest (kept importable as ``selfcheck.data``; the code lives in :mod:`selfcheck.ingest`)."""

from selfcheck.ingest import (
    FALSE_VALUES,
    MAX_BAD_SHARE,
    TRUE_VALUES,
    DatasetMapping,
    DatasetQuality,
    DataStore,
    Example,
    find_file,
    read_dataset,
    sha256_of,
)

__all__ = [
    "FALSE_VALUES",
    "MAX_BAD_SHARE",
    "TRUE_VALUES",
    "DataStore",
    "DatasetMapping",
    "DatasetQuality",
    "Example",
    "find_file",
    "read_dataset",
    "sha256_of",
]
