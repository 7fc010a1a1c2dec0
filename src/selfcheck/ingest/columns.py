"""Which header is which column: canonical names, the contract's Chinese headers, and the
per-period ``columns:`` mapping of the parameters file (header renames, value maps, and
date + time headers combined into one timestamp)."""

from __future__ import annotations

import difflib
import json
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from selfcheck.errors import DataError
from selfcheck.ingest.parse import join_date_time
from selfcheck.schema import DatasetSpec

if TYPE_CHECKING:
    import pyarrow as pa


def header_key(text: Any) -> str:
    """How headers are compared: NFKC (full-width → half-width), trimmed, case-folded."""
    s = unicodedata.normalize("NFKC", str(text)).replace("\ufeff", "")
    return s.strip().strip('"').strip().casefold()


@dataclass(frozen=True)
class DatasetMapping:
    """The ``columns.<dataset>`` entry of the parameters file, as plain dicts."""

    rename: Mapping[str, str] = field(default_factory=dict)  # header in the file → canonical
    values: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # column → {src: dst}
    # timestamp column → (date header, time header), read as one timestamp
    combine: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    @classmethod
    def from_params(cls, columns_model: Any, dataset: str) -> DatasetMapping:
        entry = getattr(columns_model, dataset, None) if columns_model is not None else None
        if entry is None:
            return cls()
        values = {k: dict(v) for k, v in entry.values.model_dump().items() if v}
        combine = {k: (v[0], v[1]) for k, v in entry.combine.items()}
        return cls(dict(entry.rename), values, combine)

    def key(self) -> str:
        """A stable text of the mapping (part of the cache key)."""
        key: dict[str, Any] = {
            "rename": dict(self.rename),
            "values": {k: dict(v) for k, v in self.values.items()},
        }
        if self.combine:  # absent when unused: keys of earlier cache entries stay valid
            key["combine"] = {k: list(v) for k, v in self.combine.items()}
        return json.dumps(key, ensure_ascii=False, sort_keys=True)


@dataclass
class HeaderMatch:
    """Which position of a header row holds which canonical column."""

    cells: list[str]
    positions: dict[str, int]  # canonical → position (of the date header when combined)
    duplicates: dict[str, list[int]]  # canonical → every position that matched it
    ignored: list[str]  # non-empty headers that matched nothing
    combined: dict[str, tuple[int, int]] = field(default_factory=dict)  # → (date, time) positions

    @property
    def score(self) -> int:
        return len(self.positions)

    def renamed(self) -> dict[str, str]:
        out = {
            self.cells[i]: c
            for c, i in self.positions.items()
            if self.cells[i] != c and c not in self.combined
        }
        for c, (d, t) in self.combined.items():
            out[f"{self.cells[d]} + {self.cells[t]}"] = c
        return out

    def needed(self) -> list[int]:
        """The positions a reader must read (both headers of a combined column)."""
        out = [*self.positions.values(), *(t for _, t in self.combined.values())]
        return list(dict.fromkeys(out))

    def columns(
        self, get: Callable[[int], pa.ChunkedArray], *, excel: bool = False
    ) -> dict[str, pa.ChunkedArray]:
        """Canonical name → raw values, ``get(position)`` reading one column of the file;
        a combined column is its date and time joined (``parse.join_date_time``)."""
        out = {}
        for c, i in self.positions.items():
            if c in self.combined:
                d, t = self.combined[c]
                out[c] = join_date_time(get(d), get(t), excel=excel)
            else:
                out[c] = get(i)
        return out


def aliases_of(spec: DatasetSpec, mapping: DatasetMapping) -> dict[str, str]:
    """Header key → canonical column: user renames first, then canonical names, then Chinese."""
    out: dict[str, str] = {}
    for c in spec.columns:
        out.setdefault(header_key(c.zh), c.name)
    for c in spec.columns:
        out[header_key(c.name)] = c.name
    for src, dst in mapping.rename.items():
        out[header_key(src)] = dst
    return out


def match_header(cells: Sequence[Any], spec: DatasetSpec, mapping: DatasetMapping) -> HeaderMatch:
    aliases = aliases_of(spec, mapping)
    parts = {  # header key → (combined column, 0 date / 1 time); before every other alias
        header_key(h): (c, k) for c, pair in mapping.combine.items() for k, h in enumerate(pair)
    }
    texts = ["" if c is None else str(c).replace("\ufeff", "").strip() for c in cells]
    positions: dict[str, int] = {}
    dup: dict[str, list[int]] = {}
    ignored = []
    halves: dict[str, list[list[int]]] = {}  # combined column → [date positions, time positions]
    for i, text in enumerate(texts):
        if not text:
            continue
        key = header_key(text)
        if key in parts:
            c, k = parts[key]
            halves.setdefault(c, [[], []])[k].append(i)
            continue
        canonical = aliases.get(key)
        if canonical is None:
            ignored.append(text)
            continue
        dup.setdefault(canonical, []).append(i)
        positions.setdefault(canonical, i)
    combined = {}
    for c, (dates, times) in halves.items():
        if not dates or not times:  # half a pair: not read (the missing-column message says so)
            ignored += [texts[i] for i in dates + times]
            continue
        if len(dates) > 1 or len(times) > 1 or c in positions:  # also another header of c
            dup[c] = sorted(dup.get(c, []) + dates + times)
        positions.setdefault(c, dates[0])
        combined[c] = (dates[0], times[0])
    return HeaderMatch(
        texts, positions, {k: v for k, v in dup.items() if len(v) > 1}, ignored, combined
    )


def check_header(
    match: HeaderMatch,
    spec: DatasetSpec,
    mapping: DatasetMapping,
    *,
    where: str,
    header_row: int | None,
    params: str,
    extra: str = "",
) -> None:
    """Required columns present, no column twice; else a DataError that shows the fix."""
    if match.duplicates:
        parts = [
            f"{c}（{spec.column(c).zh}）出现在第 {'、'.join(str(i + 1) for i in pos)} 列"
            f"（{'、'.join(repr(match.cells[i]) for i in pos)}）"
            for c, pos in match.duplicates.items()
        ]
        raise DataError(
            f"{where}: 表头中有多列对应同一标准列：{'；'.join(parts)}。{extra}"
            "请删除多余的列，或在参数文件的 columns 映射中只保留一个。"
            " (several headers map to the same column)"
        )
    missing = [c for c in spec.columns if c.required and c.name not in match.positions]
    if not missing:
        return
    row = f"第 {header_row} 行" if header_row else "表头"
    seen = "、".join(repr(t) for t in match.cells if t) or "（空）"
    lines = [
        f"{where}: 缺少必填列 "
        + "、".join(f"{c.name}（{c.zh}）" for c in missing)
        + "。 (missing required column(s): "
        + ", ".join(c.name for c in missing)
        + ")",
    ]
    found = {header_key(t) for t in match.cells if t}
    for c in missing:
        tried = [c.name, c.zh, *[s for s, d in mapping.rename.items() if d == c.name]]
        line = f"  {c.name} 已尝试的列名 (aliases tried)：{'、'.join(tried)}"
        if c.name in mapping.combine:
            pair = mapping.combine[c.name]
            absent = "、".join(h for h in pair if header_key(h) not in found)
            line += (
                f"；或由 {pair[0]} + {pair[1]} 合并（文件中没有 {absent}）"
                f" (or combined from {pair[0]} + {pair[1]}; not found: {absent})"
            )
        lines.append(line)
    lines.append(f"  文件{row}的列名 (headers found)：{seen}")
    if extra:
        lines.append(f"  {extra}")
    snippet = []
    pool = list(match.ignored)
    for c in missing:
        guess = _guess(c, pool)
        if guess is not None:
            pool.remove(guess)
        snippet.append(f"          {guess if guess is not None else '<文件中的列名>'}: {c.name}")
    lines.append(
        f"  若文件中某列就是它，只是列名不同，请在参数文件{params_hint(params)}中加入列名映射，例如"
        " (map the header with a `columns:` entry):\n"
        f"    columns:\n      {spec.name}:\n        rename:\n" + "\n".join(snippet)
    )
    raise DataError("\n".join(lines))


def params_hint(params: str) -> str:
    return f" {params} " if params else ""


def _guess(col, pool: list[str]) -> str | None:
    if not pool:
        return None
    keys = {header_key(p): p for p in pool}
    for alias in (col.zh, col.name):
        hit = difflib.get_close_matches(header_key(alias), list(keys), n=1, cutoff=0.5)
        if hit:
            return keys[hit[0]]
    return None


def yaml_key(text: str) -> str:
    """A value as a YAML mapping key (quoted when YAML would read it as something else)."""
    plain = text and not any(ch in text for ch in ":#{}[],&*!|>'\"%@`") and text.strip() == text
    if plain and text.lower() not in {"y", "n", "yes", "no", "true", "false", "on", "off", "null"}:
        try:
            float(text)
        except ValueError:
            return text
    return json.dumps(text, ensure_ascii=False)
