"""Data ingest: a period's dataset files → typed, validated frames and their quality record.

Modules, one concern each:

* :mod:`~selfcheck.ingest.source` — find and read a file: CSV (encoding, delimiter and
  header row detected), XLSX (sheet and header row found, merged cells), Parquet;
* :mod:`~selfcheck.ingest.columns` — which header is which column (canonical, Chinese,
  the ``columns:`` mapping of the parameters file) and the messages when one is missing;
* :mod:`~selfcheck.ingest.parse` — typing text columns, vectorised (timestamps, numbers,
  booleans, enums);
* :mod:`~selfcheck.ingest.checks` — the contract as pandera schemas;
* :mod:`~selfcheck.ingest.read` — one file → the period's typed rows + quality record;
* :mod:`~selfcheck.ingest.cache` — the Arrow file cache; :mod:`~selfcheck.ingest.store` —
  :class:`DataStore`, what the runner and the notebooks use.
* :mod:`~selfcheck.ingest.pool` — a longer period from its quarter or month folders
  (``data_from``): the part files pooled into one table.

See docs/ingest.md.
"""

from selfcheck.ingest import memory  # noqa: F401  (sets Arrow's allocator first)
from selfcheck.ingest.columns import DatasetMapping
from selfcheck.ingest.parse import FALSE_VALUES, TRUE_VALUES
from selfcheck.ingest.read import MAX_BAD_SHARE, ingest, read_dataset, to_pandas
from selfcheck.ingest.records import DatasetQuality, Example
from selfcheck.ingest.source import find_file, sha256_of
from selfcheck.ingest.store import DataStore, cache_folder

__all__ = [
    "FALSE_VALUES",
    "MAX_BAD_SHARE",
    "TRUE_VALUES",
    "DataStore",
    "DatasetMapping",
    "DatasetQuality",
    "Example",
    "cache_folder",
    "find_file",
    "ingest",
    "read_dataset",
    "sha256_of",
    "to_pandas",
]
