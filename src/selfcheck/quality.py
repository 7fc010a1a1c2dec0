"""The data-quality record of a period (rows read, kept, excluded per reason, checksums,
how each file was read), written to ``data_quality.json`` by the run's first step.

A period pooled from its part folders (``data_from: quarters`` / ``months``) also records
``data_from``, every part folder (present or not) and, for a partial period
(``allow_partial``), the parts missing and the sentence the appendix gives
(:func:`partial_text`); each dataset's entry keeps every part file's own record, with
its folder, under ``parts``.
"""

from __future__ import annotations

import json
from pathlib import Path

from selfcheck.config import Config
from selfcheck.errors import DataError
from selfcheck.group import data_folders
from selfcheck.ingest import DatasetQuality, DataStore
from selfcheck.ingest.pool import partial_text as _partial_text
from selfcheck.ingest.records import UnusedFile
from selfcheck.period import PER_YEAR

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
    record: dict = {
        "data_dir": _data_dir_text(config),
        "max_bad_share": config.params.max_bad_share,
    }
    if config.is_group:
        from selfcheck.group import read_members

        members = read_members(config)
        record["branches"] = [
            {"id": b.id, "name": b.name, "data_dir": str(folder)}
            for b, folder in zip(members.included, data_folders(config), strict=True)
        ]
        record["excluded_branches"] = members.excluded
    parts = store.part_folders(config.period)
    if parts:  # pooled from part folders (a quarter's record is as it always was)
        record["data_from"] = config.params.data_from.parts
        record["parts"] = [p.to_dict() for p in parts]
        record["missing_parts"] = [
            p.label if config.is_group else str(p.period) for p in parts if not p.present
        ]
        record["partial_text"] = _parts_partial_text(config, parts)
        # comparison periods with some parts but not all: no comparison, said here
        record["incomplete_comparisons"] = []
        for other in _comparisons(config):
            other_parts = store.part_folders(other)
            if not store.has_period(other) and any(p.present for p in other_parts):
                record["incomplete_comparisons"].append(
                    {
                        "period": str(other),
                        "missing_parts": [str(p.period) for p in other_parts if not p.present],
                    }
                )
    record["datasets"] = [q.to_dict() for q in quality.values()]
    # every other file of the data folder, with why it is not read
    record["unused_files"] = [u.to_dict() for u in unused]
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(path)
    for other in _comparisons(config):
        if store.has_period(other):
            try:
                store.validate(other, rehash=False)
            except DataError as e:
                raise DataError(f"对比期 {other} 的数据 (comparison period {other}): {e}") from None
    return quality


def _same_source(config: Config, d: dict) -> bool:
    """The stored record was written for this data folder and ``data_from``."""
    pooled = DataStore(config).pooled(config.period)
    parts = config.params.data_from.parts if pooled else None
    return d.get("data_dir") == _data_dir_text(config) and d.get("data_from") == parts


def _data_dir_text(config: Config) -> str:
    """The data folder (of a group's consolidated report, every branch's, one per line)."""
    return "\n".join(str(f) for f in data_folders(config))


def _comparisons(config: Config) -> list:
    """The comparison periods: the previous one (环比) and the same one a year ago (同比)."""
    return list(dict.fromkeys((config.period.previous(), config.period.year_ago())))


def load_quality(config: Config) -> dict[str, DatasetQuality]:
    """The stored record, or a fresh one when the period has not been validated yet."""
    path = quality_path(config)
    if path.exists():
        d = json.loads(path.read_text(encoding="utf-8"))
        if _same_source(config, d):
            return {q["name"]: DatasetQuality.from_dict(q) for q in d["datasets"]}
    return record_quality(config)


def partial_text(config: Config) -> str:
    """For a partial period (``data_from.allow_partial`` and parts missing), the sentence the
    appendix gives: which parts are missing, which the figures cover; else empty."""
    path = quality_path(config)
    if path.exists():
        d = json.loads(path.read_text(encoding="utf-8"))
        if _same_source(config, d):
            return d.get("partial_text", "")
    return _parts_partial_text(config, DataStore(config).part_folders(config.period))


def _parts_partial_text(config: Config, parts: list) -> str:
    """:func:`partial_text` of these parts; of a group, naming each missing part by branch."""
    if not config.is_group:
        return _partial_text(config.period, parts)
    missing = [p.label for p in parts if not p.present]
    if not missing:
        return ""
    return (
        f"本报告为部分期间：{config.period.title_zh}缺少 {'、'.join(missing)} 的数据"
        "（参数 data_from.allow_partial），集团汇总数据仅涵盖其余各期。"
    )


def source_text(config: Config) -> str:
    """Where the period's data come from, for the appendix: ``数据目录：…/data/2026Q3。`` or,
    pooled from part folders, ``数据由各季度的数据目录合并（参数 data_from）：2026Q1（…/data/2026Q1）、…。``
    followed, for a partial period, by :func:`partial_text`."""
    if config.is_group:
        from selfcheck.group import read_members

        members = read_members(config)
        kind = config.params.data_from.kind
        pooled = kind is not None and config.period.per_year < PER_YEAR[kind]
        periods = config.period.parts(kind) if pooled else [config.period]  # type: ignore[arg-type]
        # each branch's folders: of a period pooled from part folders, every part's
        by_branch = list(zip(*(data_folders(config, p) for p in periods), strict=True))
        folders = "、".join(
            f"{b.name}（{'、'.join(str(f) for f in fs)}）"
            for b, fs in zip(members.included, by_branch, strict=True)
        )
        text = f"集团汇总数据由各分支机构的数据目录合并：{folders}。"
        if pooled:
            text += partial_text(config)
        if members.excluded:
            names = {b.id: b.name for b in config.branches}
            text += (
                "未纳入汇总的机构："
                + "；".join(f"{names.get(i, i)}（{why}）" for i, why in members.excluded.items())
                + "。"
            )
        return text
    store = DataStore(config)
    parts = store.part_folders(config.period)
    if not parts:
        return f"数据目录：{config.data_dir()}。"
    kind = {"quarter": "季度", "month": "月份"}[parts[0].period.kind]
    folders = "、".join(f"{p.period}（{p.folder}）" for p in parts if p.present)
    return f"数据由各{kind}的数据目录合并（参数 data_from）：{folders}。" + partial_text(config)


def part_files(quality: DatasetQuality) -> list[DatasetQuality]:
    """The records of a dataset's files: each part file's for a pooled period, else its own
    (for tables with a row per file, e.g. the checksums)."""
    return list(quality.parts) or [quality]


def load_unused_files(config: Config) -> list[UnusedFile]:
    """The files of the period's data folder that were not read, as the record lists them."""
    path = quality_path(config)
    if path.exists():
        d = json.loads(path.read_text(encoding="utf-8"))
        if _same_source(config, d) and "unused_files" in d:
            return [UnusedFile(**u) for u in d["unused_files"]]
    return DataStore(config).unused_files(config.period)


def unused_lines(unused: list[UnusedFile]) -> list[str]:
    """The files not read, one line each, for the terminal (run and validate say the same)."""
    if not unused:
        return []
    return [f"数据目录中有 {len(unused)} 个文件未使用 (files not used)："] + [
        f"  · {u.name}：{u.reason}" for u in unused
    ]
