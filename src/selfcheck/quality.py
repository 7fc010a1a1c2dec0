"""The data-quality record of a period (rows read, kept, excluded per reason, checksums)."""

from __future__ import annotations

import json
from pathlib import Path

from selfcheck.config import Config
from selfcheck.data import DatasetQuality, DataStore

QUALITY_FILE = "data_quality.json"


def quality_path(config: Config) -> Path:
    return config.output_dir / QUALITY_FILE


def record_quality(config: Config, store: DataStore | None = None) -> dict[str, DatasetQuality]:
    """Read (validate) every dataset of the period and write the quality record."""
    store = store or DataStore(config.data_dir)
    quality = store.validate(config.period)
    path = quality_path(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(
        json.dumps(
            {
                "data_dir": str(config.data_dir()),
                "datasets": [q.to_dict() for q in quality.values()],
            },
            ensure_ascii=False,
            indent=1,
        ),
        encoding="utf-8",
    )
    tmp.replace(path)
    return quality


def load_quality(config: Config) -> dict[str, DatasetQuality]:
    """The stored record, or a fresh one when the period has not been validated yet."""
    path = quality_path(config)
    if path.exists():
        d = json.loads(path.read_text(encoding="utf-8"))
        if d.get("data_dir") == str(config.data_dir()):
            return {q["name"]: DatasetQuality.from_dict(q) for q in d["datasets"]}
    return record_quality(config)
