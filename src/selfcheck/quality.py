"""The data-quality record of a period (rows read, kept, excluded per reason, checksums,
how each file was read), written to ``data_quality.json`` by the run's first step."""

from __future__ import annotations

import json
from pathlib import Path

from selfcheck.config import Config
from selfcheck.errors import DataError
from selfcheck.ingest import DatasetQuality, DataStore
from selfcheck.ingest.records import UnusedFile

QUALITY_FILE = "data_quality.json"


def quality_path(config: Config) -> Path:
    return config.output_dir / QUALITY_FILE


def record_quality(config: Config, store: DataStore | None = None) -> dict[str, DatasetQuality]:
    """Validate every dataset of the period (building the cache) and write the quality record.

    The comparison periods (the previous one, the same one a year ago) are validated
    too when their data folder exists, so that the notebooks find them in the cache.
    """
    store = store or DataStore(config)
    quality = store.validate(config.period)
    unused = store.unused_files(config.period)
    path = quality_path(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(
        json.dumps(
            {
                "data_dir": str(config.data_dir()),
                "max_bad_share": config.params.max_bad_share,
                "datasets": [q.to_dict() for q in quality.values()],
                # every other file of the data folder, with why it is not read
                "unused_files": [u.to_dict() for u in unused],
            },
            ensure_ascii=False,
            indent=1,
        ),
        encoding="utf-8",
    )
    tmp.replace(path)
    for other in dict.fromkeys((config.period.previous(), config.period.year_ago())):
        if store.has_period(other):
            try:
                store.validate(other, rehash=False)
            except DataError as e:
                raise DataError(f"对比期 {other} 的数据 (comparison period {other}): {e}") from None
    return quality


def load_quality(config: Config) -> dict[str, DatasetQuality]:
    """The stored record, or a fresh one when the period has not been validated yet."""
    path = quality_path(config)
    if path.exists():
        d = json.loads(path.read_text(encoding="utf-8"))
        if d.get("data_dir") == str(config.data_dir()):
            return {q["name"]: DatasetQuality.from_dict(q) for q in d["datasets"]}
    return record_quality(config)


def load_unused_files(config: Config) -> list[UnusedFile]:
    """The files of the period's data folder that were not read, as the record lists them."""
    path = quality_path(config)
    if path.exists():
        d = json.loads(path.read_text(encoding="utf-8"))
        if d.get("data_dir") == str(config.data_dir()) and "unused_files" in d:
            return [UnusedFile(**u) for u in d["unused_files"]]
    return DataStore(config).unused_files(config.period)


def unused_lines(unused: list[UnusedFile]) -> list[str]:
    """The files not read, one line each, for the terminal (run and validate say the same)."""
    if not unused:
        return []
    return [f"数据目录中有 {len(unused)} 个文件未使用 (files not used)："] + [
        f"  · {u.name}：{u.reason}" for u in unused
    ]
