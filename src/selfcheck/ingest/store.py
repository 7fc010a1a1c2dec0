"""DataStore: the datasets of any period, read once per process, through the cache.

The runner's first step (:func:`selfcheck.quality.record_quality`) validates the
period with :meth:`DataStore.validate`, which hashes every input and (re)builds the
cache where it is stale. Each notebook kernel then opens its own store; ``get``
re-checks the input's size and modification time against the cache and, when they
match, reads the cached Arrow file instead of parsing the export again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from selfcheck.errors import DataError
from selfcheck.ingest import cache
from selfcheck.ingest.columns import DatasetMapping
from selfcheck.ingest.group import Member, pool_frames, pool_quality
from selfcheck.ingest.parallel import each
from selfcheck.ingest.pool import POOL_VERSION, PartFolder, labels, missing_text, pool
from selfcheck.ingest.read import (
    MAX_BAD_SHARE,
    MAX_OUTSIDE_SHARE,
    MIN_BAD_ROWS,
    ingest,
    to_pandas,
)
from selfcheck.ingest.records import DatasetQuality, UnusedFile
from selfcheck.ingest.source import find_file, sha256_of, stray_files, unused_files
from selfcheck.period import PER_YEAR, Period, PeriodKind
from selfcheck.schema import DATASETS, SURVEY_SCALE

CACHE_FOLDER = "cache"


def cache_folder(config: Any, period: Period) -> Path:
    """``<output dir of the period>/cache`` (``.../cache/<period>`` if the dir has no {period})."""
    pattern = config.params.output_dir
    out = config._resolve(pattern, period)
    return out / CACHE_FOLDER if "{period}" in pattern else out / CACHE_FOLDER / str(period)


def _config_of(source: Any):
    from selfcheck.config import Config

    if isinstance(source, Config):
        return source
    owner = getattr(source, "__self__", None)  # DataStore(config.data_dir): the same
    if isinstance(owner, Config) and getattr(source, "__func__", None) is Config.data_dir:
        return owner
    return None


class DataStore:
    """Datasets of any period, read once per process (notebooks and runner share it).

    ``DataStore(config)`` (or ``DataStore(config.data_dir)``) uses the parameters
    file's ``columns`` mapping, ``max_bad_share``, time zone, ``data_from`` and the
    cache; a plain ``DataStore(lambda period: folder)`` reads with the defaults and no
    cache (``parts="quarter"``: a longer period from its quarters' folders).
    """

    def __init__(
        self,
        source: Any,
        *,
        mapping: Mapping[str, DatasetMapping] | None = None,
        max_bad_share: float = MAX_BAD_SHARE,
        cache_dir_for: Callable[[Period], Path] | None = None,
        parts: PeriodKind | None = None,
        allow_partial: bool = False,
    ) -> None:
        config = _config_of(source)
        self._mapping: dict[str, DatasetMapping] = dict(mapping or {})
        self._max_bad_share = max_bad_share
        self._cache_dir_for = cache_dir_for
        self._params = ""
        self._timezone = "Asia/Shanghai"
        self._survey_scale = SURVEY_SCALE
        self._min_bad_rows = MIN_BAD_ROWS
        self._max_outside_share = MAX_OUTSIDE_SHARE
        self._parts: PeriodKind | None = parts
        self._allow_partial = allow_partial
        if config is not None:
            self._dir: Callable[[Period], Path] = config.data_dir
            self._mapping = {
                n: DatasetMapping.from_params(config.params.columns, n) for n in DATASETS
            }
            self._max_bad_share = config.params.max_bad_share
            self._cache_dir_for = cache_dir_for or (lambda p: cache_folder(config, p))
            self._params = str(config.params_path)
            self._timezone = config.params.timezone
            self._survey_scale = config.thresholds.survey_scale
            self._min_bad_rows = config.params.min_bad_rows
            self._max_outside_share = config.params.max_outside_share
            self._parts = config.params.data_from.kind
            self._allow_partial = config.params.data_from.allow_partial
        else:
            self._dir = source
        # a group's consolidated report: each branch's store, pooled (ingest/group.py)
        self._members: list[tuple[Member, DataStore]] = []
        if config is not None and config.is_group:
            from selfcheck.group import read_members

            for b in read_members(config).included:
                branch = config.for_branch(b.id)
                folder = branch.params.data_dir
                self._members.append((Member(b.id, b.name, folder), DataStore(branch)))
            if not self._members:  # never the group's own data_dir in their stead
                raise DataError(
                    f"集团的分支机构都未纳入本期汇总（{config.output_dir / 'members.json'}），"
                    "没有可汇总的数据。请重新运行集团参数文件 (no branch to pool)"
                )
        self._frames: dict[tuple[str, Period], pd.DataFrame | None] = {}
        self._quality: dict[tuple[str, Period], DatasetQuality] = {}

    # -- queries ----------------------------------------------------------------------
    def folder(self, period: Period) -> Path:
        return self._dir(period)

    def pooled(self, period: Period) -> bool:
        """The period is read from its part folders (``data_from``), not one folder."""
        return self._parts is not None and PER_YEAR[self._parts] > period.per_year

    def part_folders(self, period: Period) -> list[PartFolder]:
        """The part folders of a pooled period (empty for a period read from one folder); of a
        group's consolidated report, every branch's, labelled ``<branch name>/2026Q1``."""
        if self._members:
            return [
                replace(p, label=f"{m.name}/{p.label}")
                for m, store in self._members
                for p in store.part_folders(period)
            ]
        if not self.pooled(period):
            return []
        assert self._parts is not None
        periods = period.parts(self._parts)
        folders = [self._dir(p) for p in periods]
        return [
            PartFolder(p, f, label, _has_dataset(f))
            for p, f, label in zip(periods, folders, labels(folders), strict=True)
        ]

    @property
    def members(self) -> list[tuple[Member, DataStore]]:
        """Of a group's consolidated report: each branch and its store (else empty)."""
        return list(self._members)

    def _members_at(self, period: Period) -> list[tuple[Member, DataStore]]:
        """The members with the data folder of ``period`` (not the ``{period}`` pattern)."""
        return [(replace(m, folder=str(s.folder(period))), s) for m, s in self._members]

    def has_period(self, period: Period) -> bool:
        if self._members:  # a group's period: every branch has it
            return all(store.has_period(period) for _, store in self._members)
        if self.pooled(period):
            parts = self.part_folders(period)
            if self._allow_partial:
                return any(p.present for p in parts)
            return all(p.present for p in parts)
        return _has_dataset(self._dir(period))

    def quality(self, name: str, period: Period) -> DatasetQuality | None:
        return self._quality.get((name, period))

    def unused_files(self, period: Period) -> list[UnusedFile]:
        """Every file of the period's data folder (of each part folder: named with the
        folder, ``2026Q1/电话明细.xlsx``) that is not read as a dataset, with why."""
        if self._members:
            return [
                UnusedFile(f"{m.name}/{u.name}", u.reason)
                for m, store in self._members
                for u in store.unused_files(period)
            ]
        if self.pooled(period):
            return [
                UnusedFile(f"{p.label}/{u.name}", u.reason)
                for p in self.part_folders(period)
                if p.folder.is_dir()
                for u in unused_files(p.folder)
            ]
        folder = self._dir(period)
        return unused_files(folder) if folder.is_dir() else []

    def release(self, period: Period) -> None:
        """Forget the frames of ``period`` read so far (the next :meth:`get` reads them
        again, from the cache): a section done with an earlier period's figures keeps only
        the periods it still works on in memory."""
        for key in [k for k in self._frames if k[1] == period]:
            del self._frames[key]
        for _, store in self._members:
            store.release(period)

    def get(self, name: str, period: Period) -> pd.DataFrame | None:
        """A dataset of a period as a typed frame; None when the period has no such file."""
        key = (name, period)
        if key not in self._frames and self._members:
            got = [(m, store.get(name, period)) for m, store in self._members_at(period)]
            for _, store in self._members_at(period):  # held once, in the pooled frame
                store._frames.pop(key, None)
            frames = [(m, f) for m, f in got if f is not None]
            self._frames[key] = pool_frames(DATASETS[name], frames) if frames else None
            del got
            if frames:
                qualities = [
                    (m, store.quality(name, period)) for m, store in self._members_at(period)
                ]
                known = [(m, q) for m, q in qualities if q is not None]
                if known:
                    self._quality[key] = pool_quality(DATASETS[name], known)
        if key not in self._frames:
            if self.pooled(period):
                files = self._part_files(name, period) if self.has_period(period) else []
                if not files:
                    self._frames[key] = None
                else:
                    frame, quality = self._load_pooled(name, period, files, rehash=False)
                    self._frames[key] = frame
                    self._quality[key] = quality
                return self._frames[key]
            folder = self._dir(period)
            path = find_file(folder, name) if folder.is_dir() else None
            if path is None:
                self._frames[key] = None
            else:
                frame, quality = self._load(name, period, path, rehash=False, frame=True)
                self._frames[key] = frame
                self._quality[key] = quality
        return self._frames[key]

    def validate(self, period: Period, *, rehash: bool = True) -> dict[str, DatasetQuality]:
        """Read (or find valid in the cache) every dataset of the period; error if none."""
        if self._members:
            return self._validate_group(period, rehash=rehash)
        if self.pooled(period):
            return self._validate_pooled(period, rehash=rehash)
        folder = self._dir(period)
        if not folder.is_dir():
            raise DataError(
                f"数据目录不存在 (data folder not found): {folder}。请检查参数文件中的 data_dir，"
                f"或先运行 `selfcheck sample --period {period}` 生成示例数据。{self._parts_hint(period)}"
            )
        paths = {n: p for n in DATASETS if (p := find_file(folder, n)) is not None}
        if not paths:
            expected = "、".join(f"{n}.csv" for n in DATASETS)
            stray = [u for u in unused_files(folder) if u.name in stray_files(folder)]
            hint = (
                "目录中有 "
                + "、".join(u.name for u in stray[:8])
                + "，但文件名须为数据集名，例如 calls.csv、calls.xlsx：\n"
                + "\n".join(f"  · {u.name}：{u.reason}" for u in stray[:8])
                if stray
                else ""
            )
            raise DataError(
                f"{folder}: 没有任何数据集文件 (no dataset found)。应至少有以下之一（也可为 .xlsx 或"
                f" .parquet）：{expected}。{hint}"
            )
        sizes = {name: _size(path) for name, path in paths.items()}
        return self._load_each(self._load, period, paths, sizes, rehash=rehash)

    def _validate_pooled(self, period: Period, *, rehash: bool) -> dict[str, DatasetQuality]:
        parts = self.part_folders(period)
        missing = [p for p in parts if not p.present]
        if missing and (not self._allow_partial or len(missing) == len(parts)):
            kind = {"quarter": "季度", "month": "月份"}[self._parts or "quarter"]
            allow = (
                ""
                if len(missing) == len(parts)
                else "；如确需按已有数据编制部分期间的报告，可在参数文件中设"
                " data_from: {parts: …, allow_partial: true}（附录与数据质量记录将说明缺少的部分）"
            )
            raise DataError(
                f"{period.title_zh}的数据由各{kind}的数据目录合并（参数 data_from），但缺少"
                f" {missing_text(period, missing)}：目录不存在或其中没有任何数据集文件。请检查"
                f"参数文件中的 data_dir{allow}。"
                f" (data of {period} is pooled from its parts; missing: "
                f"{', '.join(str(p.period) for p in missing)})"
            )
        files = {n: got for n in DATASETS if (got := self._part_files(n, period))}
        sizes = {name: sum(_size(path) for _, path in these) for name, these in files.items()}
        return self._load_each(self._load_pooled, period, files, sizes, rehash=rehash)

    def _load_each(
        self,
        load: Callable[..., tuple[pd.DataFrame | None, DatasetQuality]],
        period: Period,
        sources: Mapping[str, Any],
        sizes: Mapping[str, int],
        *,
        rehash: bool,
    ) -> dict[str, DatasetQuality]:
        """``load(name, period, source, …)`` for every dataset, side by side, largest first
        (``parallel.each``), the cache files written meanwhile on a thread of their own."""
        keep_frames = self._cache_dir_for is None  # nothing to re-read from: keep them
        with cache.Writer() as writer:
            loaded = each(
                {
                    name: partial(
                        load, name, period, source, rehash=rehash, frame=keep_frames, writer=writer
                    )
                    for name, source in sources.items()
                },
                sizes,
            )
        for name, (frame, quality) in loaded.items():
            self._quality[(name, period)] = quality
            if keep_frames:
                self._frames[(name, period)] = frame
        return {n: self._quality[(n, period)] for n in sources}

    def _validate_group(self, period: Period, *, rehash: bool) -> dict[str, DatasetQuality]:
        """Every branch's datasets checked as its own report checks them; a branch whose data
        folder is missing is an error naming the branch."""
        checked: list[tuple[Member, dict[str, DatasetQuality]]] = []
        for member, store in self._members_at(period):
            try:
                checked.append((member, store.validate(period, rehash=rehash)))
            except DataError as e:
                raise DataError(
                    f"分支机构“{member.name}”（{member.id}）：{e} (branch {member.id})"
                ) from None
        names = [n for n in DATASETS if any(n in q for _, q in checked)]
        out: dict[str, DatasetQuality] = {}
        for name in names:
            out[name] = pool_quality(
                DATASETS[name], [(m, q[name]) for m, q in checked if name in q]
            )
            self._quality[(name, period)] = out[name]
        return out

    def _parts_hint(self, period: Period) -> str:
        """A year or half-year without its own folder whose quarter or month folders exist."""
        if self._parts is not None:
            return ""
        for kind, key in (("quarter", "quarters"), ("month", "months")):
            if PER_YEAR[kind] <= period.per_year:
                continue
            there = [p for p in period.parts(kind) if self._dir(p) != self._dir(period)]
            found = [p for p in there if _has_dataset(self._dir(p))]
            if found:
                return (
                    f"已有 {'、'.join(str(p) for p in found)} 的数据目录：如按这些目录合并编制"
                    f"{period.title_zh}的报告，请在参数文件中设 data_from: {key}（见 docs/ingest.md）。"
                    f" (the {kind} folders exist: set data_from: {key} to pool them)"
                )
        return ""

    def _part_files(self, name: str, period: Period) -> list[tuple[PartFolder, Path]]:
        return [
            (p, path)
            for p in self.part_folders(period)
            if p.present and (path := find_file(p.folder, name)) is not None
        ]

    # -- reading ----------------------------------------------------------------------
    def _settings(self, name: str) -> str:
        return json.dumps(
            {
                "mapping": self._mapping.get(name, DatasetMapping()).key(),
                "max_bad_share": self._max_bad_share,
                "timezone": self._timezone,
                "survey_scale": self._survey_scale,
                "min_bad_rows": self._min_bad_rows,
                "max_outside_share": self._max_outside_share,
            },
            sort_keys=True,
            ensure_ascii=False,
        )

    def _load(
        self,
        name: str,
        period: Period,
        path: Path,
        *,
        rehash: bool,
        frame: bool,
        writer: cache.Writer | None = None,
    ) -> tuple[pd.DataFrame | None, DatasetQuality]:
        stamp = cache.Stamp.of(path)
        cpath = None
        if self._cache_dir_for is not None:
            cpath = self._cache_dir_for(period) / f"{name}{cache.SUFFIX}"
        sha = None
        if cpath is not None and cpath.exists():
            meta = cache.read_meta(cpath)
            if meta is not None:
                same = meta.get("input") == {
                    "name": stamp.name,
                    "size": stamp.size,
                    "mtime_ns": stamp.mtime_ns,
                }
                recorded = meta.get("quality", {}).get("sha256")
                sha = recorded if same and not rehash else sha256_of(path)
                key = self._key(name, period, sha)
                if meta.get("key") == key:
                    quality = DatasetQuality.from_dict(meta["quality"])
                    if not frame:
                        return None, quality
                    table = cache.read_table(cpath)
                    if table is not None:
                        return to_pandas(table.replace_schema_metadata(None)), quality
        got = ingest(
            path,
            DATASETS[name],
            period,
            mapping=self._mapping.get(name),
            max_bad_share=self._max_bad_share,
            params=self._params,
            timezone=self._timezone,
            sha256=sha,
            survey_scale=self._survey_scale,
            min_bad_rows=self._min_bad_rows,
            max_outside_share=self._max_outside_share,
        )
        if cpath is not None:
            key = self._key(name, period, got.quality.sha256)
            (writer.write if writer else cache.write)(
                cpath, got.table, key=key, stamp=stamp, quality=got.quality
            )
        if not frame:
            return None, got.quality
        return (got.frame if got.frame is not None else to_pandas(got.table)), got.quality

    def _load_pooled(
        self,
        name: str,
        period: Period,
        files: list[tuple[PartFolder, Path]],
        *,
        rehash: bool,
        frame: bool = True,
        writer: cache.Writer | None = None,
    ) -> tuple[pd.DataFrame | None, DatasetQuality]:
        """The part files of a dataset, read for the whole period and pooled (``pool.py``);
        one cache entry for the pooled table, keyed by every part file."""
        stamps = [cache.Stamp.of(path) for _, path in files]
        cpath = None
        if self._cache_dir_for is not None:
            cpath = self._cache_dir_for(period) / f"{name}{cache.SUFFIX}"
        if cpath is not None and cpath.exists():
            meta = cache.read_meta(cpath)
            if meta is not None:
                recorded = meta.get("quality", {}).get("parts", [])
                same = meta.get("inputs") == [s.to_dict() for s in stamps]
                if same and not rehash and len(recorded) == len(files):
                    shas = [q["sha256"] for q in recorded]
                else:
                    shas = [sha256_of(path) for _, path in files]
                if meta.get("key") == self._pooled_key(name, period, files, shas):
                    quality = DatasetQuality.from_dict(meta["quality"])
                    if not frame:
                        return None, quality
                    table = cache.read_table(cpath)
                    if table is not None:
                        return to_pandas(table.replace_schema_metadata(None)), quality
        spec = DATASETS[name]
        got = [
            (
                part,
                path,
                ingest(
                    path,
                    spec,
                    period,
                    mapping=self._mapping.get(name),
                    max_bad_share=self._max_bad_share,
                    params=self._params,
                    timezone=self._timezone,
                    survey_scale=self._survey_scale,
                    min_bad_rows=self._min_bad_rows,
                    max_outside_share=self._max_outside_share,
                ),
            )
            for part, path in files
        ]
        with_file = {p.period for p, _ in files}
        pooled = pool(
            spec,
            period,
            got,
            lacking=[
                p for p in self.part_folders(period) if p.present and p.period not in with_file
            ],
            max_outside_share=self._max_outside_share,
            min_bad_rows=self._min_bad_rows,
        )
        if cpath is not None:
            shas = [g.quality.sha256 for _, _, g in got]
            key = self._pooled_key(name, period, files, shas)
            (writer.write if writer else cache.write)(
                cpath, pooled.table, key=key, stamp=stamps, quality=pooled.quality
            )
        if not frame:
            return None, pooled.quality
        return to_pandas(pooled.table), pooled.quality

    def _pooled_key(
        self, name: str, period: Period, files: list[tuple[PartFolder, Path]], shas: list[str]
    ) -> str:
        inputs = "\n".join(
            f"{p.period} {p.folder / path.name} {sha}"
            for (p, path), sha in zip(files, shas, strict=True)
        )
        present = ",".join(str(p.period) for p in self.part_folders(period) if p.present)
        return cache.cache_key(
            dataset=name,
            period=f"{period} pooled v{POOL_VERSION}",
            sha256=hashlib.sha256(f"{inputs}\n{present}".encode()).hexdigest(),
            settings=self._settings(name),
        )

    def _key(self, name: str, period: Period, sha: str) -> str:
        return cache.cache_key(
            dataset=name, period=str(period), sha256=sha, settings=self._settings(name)
        )


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _has_dataset(folder: Path) -> bool:
    return folder.is_dir() and any(find_file(folder, n) for n in DATASETS)
