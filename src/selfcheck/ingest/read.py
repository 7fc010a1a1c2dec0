"""One dataset file → a typed, validated table of the period, and its quality record."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from selfcheck.errors import DataError
from selfcheck.ingest.checks import DUPLICATE, EMPTY, ENUM, NEGATIVE, reason_text, validate_frame
from selfcheck.ingest.columns import DatasetMapping, enum_aliases, params_hint, yaml_key
from selfcheck.ingest.parse import PARSE_REASONS, TS, convert
from selfcheck.ingest.records import OUTSIDE_PERIOD, DatasetQuality, Example
from selfcheck.ingest.source import RawTable, read_source, sha256_of
from selfcheck.period import Period
from selfcheck.schema import DatasetSpec

MAX_BAD_SHARE = 0.05
EXAMPLES_PER_REASON = 5
MALFORMED = "列数与表头不符"
PARSE = "parse"  # kind of a value that could not be read


@dataclass
class Ingested:
    table: pa.Table  # typed rows of the period (arrow types: string, timestamp[ms], ...)
    quality: DatasetQuality
    frame: pd.DataFrame | None = None  # the same rows as a frame, when it came for free


def read_dataset(
    path: Path,
    spec: DatasetSpec,
    period: Period,
    *,
    mapping: DatasetMapping | None = None,
    max_bad_share: float = MAX_BAD_SHARE,
    columns: list[str] | None = None,
    params: str = "",
    timezone: str = "Asia/Shanghai",
) -> tuple[pd.DataFrame, DatasetQuality]:
    """Read one dataset file for one period: typed, validated, filtered to the period."""
    got = ingest(
        path,
        spec,
        period,
        mapping=mapping,
        max_bad_share=max_bad_share,
        params=params,
        timezone=timezone,
    )
    frame = got.frame if got.frame is not None else to_pandas(got.table)
    if columns is not None:
        frame = frame[[c for c in columns if c in frame.columns]]
    return frame, got.quality


def ingest(
    path: Path,
    spec: DatasetSpec,
    period: Period,
    *,
    mapping: DatasetMapping | None = None,
    max_bad_share: float = MAX_BAD_SHARE,
    params: str = "",
    timezone: str = "Asia/Shanghai",
    sha256: str | None = None,
) -> Ingested:
    try:
        return _ingest(
            path, spec, period, mapping or DatasetMapping(), max_bad_share, params, timezone, sha256
        )
    except (pa.ArrowException, UnicodeError, ValueError, OverflowError, MemoryError) as e:
        # a safety net: a file this code did not foresee is still a data problem for the analyst
        raise DataError(
            f"{path}: 读取时出错（{type(e).__name__}: {e}）。请检查该文件的格式；"
            "如文件无误，请将本信息提供给维护人员。 (unexpected error while reading the file)"
        ) from e


def _ingest(
    path: Path,
    spec: DatasetSpec,
    period: Period,
    mapping: DatasetMapping,
    max_bad_share: float,
    params: str,
    timezone: str,
    sha256: str | None,
) -> Ingested:
    raw = read_source(path, spec, mapping, params=params)
    n = raw.num_rows
    quality = DatasetQuality(
        name=spec.name,
        file=path.name,
        sha256=sha256 or sha256_of(path),
        rows_read=n + len(raw.malformed),
        rows_kept=0,
        optional_columns_present=[
            c.name for c in spec.columns if not c.required and c.name in raw.columns
        ],
        optional_columns_missing=[
            c.name for c in spec.columns if not c.required and c.name not in raw.columns
        ],
        format=raw.format,
        encoding=raw.encoding,
        delimiter=raw.delimiter,
        sheet=raw.sheet,
        header_row=raw.header_row,
        columns_mapped=raw.renamed,
        ignored_columns=raw.ignored,
        notes=list(raw.notes),
    )
    if raw.malformed:
        quality.excluded[MALFORMED] = len(raw.malformed)
        quality.examples += [
            Example(line, "（整行）", text[:80], MALFORMED)
            for line, text in raw.malformed[:EXAMPLES_PER_REASON]
        ]

    # type every column (flags values that cannot be read)
    typed: dict[str, pa.ChunkedArray] = {}
    parse_bad: dict[str, np.ndarray] = {}
    for col in spec.columns:
        if col.name not in raw.columns:
            continue
        got = convert(
            raw.columns[col.name],
            col,
            mapping.values.get(col.name),
            excel=raw.excel,
            timezone=timezone,
            where=str(path),
        )
        typed[col.name] = got.array
        if got.bad is not None and got.bad.any():
            parse_bad[col.name] = got.bad
        if got.mapped:
            quality.values_mapped[col.name] = got.mapped
    table = pa.table(typed) if typed else pa.table({})
    frame = to_pandas(table)
    failures = validate_frame(frame, spec).rows if n else {}

    # one reason per row: columns in contract order, then duplicate ids
    bad = np.zeros(n, dtype=bool)
    firsts: list[tuple[str, str, np.ndarray]] = []  # (column, kind, rows) in the order found

    def flag(rows: np.ndarray, column: str, kind: str) -> None:
        rows = rows[~bad[rows]]
        if not len(rows):
            return
        bad[rows] = True
        col = spec.column(column)
        reason = f"{column} {PARSE_REASONS[col.type]}" if kind == PARSE else reason_text(col, kind)
        quality.excluded[reason] = quality.excluded.get(reason, 0) + len(rows)
        firsts.append((column, kind, rows))
        shown = rows[:EXAMPLES_PER_REASON]
        values = pc.take(raw.columns[column], pa.array(shown)).to_pylist()
        lines = raw.line_of(shown)
        quality.examples += [
            Example(int(ln), column, "" if v is None else str(v), reason, sheet)
            for ln, v, sheet in zip(lines, values, raw.sheet_of(shown), strict=True)
        ]

    for col in spec.columns:
        if col.name in parse_bad:
            flag(np.flatnonzero(parse_bad[col.name]), col.name, PARSE)
        for kind in (EMPTY, ENUM, NEGATIVE):
            rows = failures.get(col.name, {}).get(kind)
            if rows is not None:
                flag(rows, col.name, kind)
    if spec.id_column and DUPLICATE in failures.get(spec.id_column, {}):
        flag(failures[spec.id_column][DUPLICATE], spec.id_column, DUPLICATE)

    n_bad = int(bad.sum()) + len(raw.malformed)
    total = quality.rows_read
    if total and n_bad / total > max_bad_share:
        raise _too_many(path, spec, quality, raw, firsts, n_bad, total, max_bad_share, params)

    keep = ~bad
    if not spec.snapshot:
        anchor = table.column(spec.anchor).cast(pa.int64()).to_numpy(zero_copy_only=False)
        anchor = np.nan_to_num(anchor, nan=-(2**62)).astype(np.int64)
        start, end = _ms(period.start), _ms(period.end)
        inside = (anchor >= start) & (anchor < end)
        outside = ~inside & keep
        if outside.any():
            quality.excluded[OUTSIDE_PERIOD] = int(outside.sum())
        keep &= inside
        days = np.bincount((anchor[keep] - start) // 86_400_000, minlength=period.days)
        quality.empty_days = int((days[: period.days] == 0).sum())
    if keep.all():
        quality.rows_kept = table.num_rows
        return Ingested(table, quality, frame)
    kept = table.filter(pa.array(keep))
    quality.rows_kept = kept.num_rows
    return Ingested(kept, quality)


def _ms(t) -> int:
    return int(pd.Timestamp(t).value // 1_000_000)


def to_pandas(table: pa.Table) -> pd.DataFrame:
    """The frames the notebooks get: datetime64[ns], boolean, Int64, float64, string."""
    mapping = {
        pa.bool_(): pd.BooleanDtype(),
        pa.int64(): pd.Int64Dtype(),
        pa.string(): pd.StringDtype("pyarrow"),
        pa.large_string(): pd.StringDtype("pyarrow"),
    }
    frame = table.to_pandas(types_mapper=mapping.get)
    for name in frame.columns:
        dtype = frame[name].dtype
        if pd.api.types.is_datetime64_any_dtype(dtype) and dtype != np.dtype("datetime64[ns]"):
            frame[name] = frame[name].astype("datetime64[ns]")
    return frame


# -- the stop message ---------------------------------------------------------------------

_FIX = {
    PARSE: {
        "datetime": "时间应写成 YYYY-MM-DD HH:MM[:SS]、YYYY/MM/DD HH:MM[:SS] 或 YYYY年M月D日 HH:MM[:SS]，"
        "或在 Excel 中设为日期时间格式 (timestamps must use one of the contract's forms)",
        "date": "日期应写成 YYYY-MM-DD、YYYY/MM/DD 或 YYYY年M月D日 (dates must use a contract form)",
        "number": "该列只能填数字（可带千位分隔符，全角数字亦可），不能带单位或文字"
        " (numbers only; no units or words)",
        "int": "该列只能填整数 (whole numbers only)",
        "bool": "是/否列可填 true/false、1/0、Y/N、yes/no、是/否、有/无；其他写法可在参数文件 columns 的"
        " values 中映射 (booleans: true/false, 1/0, Y/N, yes/no, 是/否, 有/无)",
    },
    EMPTY: "必填列不能为空，请补齐后重新导出 (required values must not be empty)",
    NEGATIVE: "时长、次数不能为负数，请检查导出口径（例如结束时间早于开始时间）"
    " (durations and counts must not be negative)",
    DUPLICATE: "编号应唯一：请检查是否重复导出，或把两个文件拼在了一起 (ids must be unique)",
}


def _too_many(
    path: Path,
    spec: DatasetSpec,
    quality: DatasetQuality,
    raw: RawTable,
    firsts: list[tuple[str, str, np.ndarray]],
    n_bad: int,
    total: int,
    max_bad_share: float,
    params: str,
) -> DataError:
    lines = [
        f"{path}: {n_bad / total:.1%} 的行有问题（{n_bad:,} / {total:,} 行），超过允许的"
        f" {max_bad_share:.0%}（参数 max_bad_share），已停止。"
        f" (too many bad rows: {n_bad:,} of {total:,})"
    ]
    if raw.malformed:
        shown = "、".join(f"第 {ln} 行" for ln, _ in raw.malformed[:3])
        lines.append(
            f"  · {len(raw.malformed):,} 行的列数与表头不符，例如 {shown}："
            "请检查分隔符和引号（文本中含分隔符时须用英文双引号括起）。"
        )
    firsts = sorted(firsts, key=lambda f: -len(f[2]))
    for column, kind, rows in firsts[:3]:
        col = spec.column(column)
        shown = rows[:EXAMPLES_PER_REASON]
        values = pc.take(raw.columns[column], pa.array(shown)).to_pylist()
        examples = "、".join(
            f"{where} {'' if v is None else str(v)!r}"
            for where, v in zip(raw.where(shown), values, strict=True)
        )
        what = PARSE_REASONS[col.type] if kind == PARSE else reason_text(col, kind).split(" ", 1)[1]
        lines.append(f"  · 列 {column}（{col.zh}）{what}：{len(rows):,} 行，例如 {examples}。")
        if kind == ENUM:
            allowed = "、".join(
                f"{v}" + (f"（{z}）" if (z := _label(col, v)) else "") for v in col.enum
            )
            counts = pc.value_counts(
                pc.utf8_trim_whitespace(pc.take(raw.columns[column], pa.array(rows)))
            ).to_pylist()
            unknown = [c["values"] for c in sorted(counts, key=lambda c: -c["counts"])]
            snippet = "\n".join(
                f"            {yaml_key(str(u))}: {col.enum[0]}  # 改为 {'/'.join(col.enum)} 之一"
                for u in unknown[:4]
            )
            lines[-1] += f" 未知取值 (unknown values)：{'、'.join(map(str, unknown[:8]))}。"
            lines.append(
                f"    允许的取值 (allowed values)：{allowed}。若这些是源系统的代码，"
                f"请在参数文件{params_hint(params)}中映射 (map vendor codes with `columns:`)：\n"
                f"    columns:\n      {spec.name}:\n        values:\n          {column}:\n{snippet}"
            )
        elif kind == PARSE:
            lines.append(f"    修正 (fix)：{_FIX[PARSE][col.type]}")
        else:
            lines.append(f"    修正 (fix)：{_FIX[kind]}")
    lines.append(
        "  修正源数据后重新运行；如确认这些行可以剔除，可在参数文件中调高 max_bad_share。"
        " (fix the source, or raise max_bad_share if these rows may be dropped)"
    )
    return DataError("\n".join(lines))


def _label(col, value: str) -> str:
    labels = [k for k, v in enum_aliases(col.enum).items() if v == value and k != value.casefold()]
    return "/".join(labels)


__all__ = ["MAX_BAD_SHARE", "TS", "Ingested", "ingest", "read_dataset", "to_pandas"]
