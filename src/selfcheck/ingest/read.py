"""One dataset file → a typed, validated table of the period, and its quality record."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from selfcheck.errors import DataError
from selfcheck.ingest.checks import (
    DUPLICATE,
    EMPTY,
    ENUM,
    HIGH,
    LOW,
    NEGATIVE,
    ORDER,
    Failures,
    bounds,
    order_reason,
    reason_text,
    too_early,
    validate_frame,
)
from selfcheck.ingest.columns import DatasetMapping, params_hint, yaml_key
from selfcheck.ingest.parse import PARSE_REASONS, TS, convert, enum_aliases
from selfcheck.ingest.records import OUTSIDE_PERIOD, TOTALS_ROW, DatasetQuality, Example
from selfcheck.ingest.source import RawTable, read_source, sha256_of
from selfcheck.period import Period
from selfcheck.schema import PLAUSIBLE, SURVEY_SCALE, DatasetSpec

MAX_BAD_SHARE = 0.05
# a file stops the run only when its bad rows are above max_bad_share AND at least this
# many: one or two typos in a 12-row incidents file (8 %, 17 %) are excluded and counted,
# not fatal; 1 restores the plain share
MIN_BAD_ROWS = 3
# a dataset whose dated rows are mostly (more than this share, and at least MIN_BAD_ROWS)
# outside the period is another period's export: the run stops instead of reporting nothing
MAX_OUTSIDE_SHARE = 0.5
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
    survey_scale: int = SURVEY_SCALE,
    min_bad_rows: int = MIN_BAD_ROWS,
    max_outside_share: float = MAX_OUTSIDE_SHARE,
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
        survey_scale=survey_scale,
        min_bad_rows=min_bad_rows,
        max_outside_share=max_outside_share,
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
    survey_scale: int = SURVEY_SCALE,
    min_bad_rows: int = MIN_BAD_ROWS,
    max_outside_share: float = MAX_OUTSIDE_SHARE,
) -> Ingested:
    """Read, type, check and filter one file (see :func:`read_dataset`).

    ``survey_scale`` (``thresholds.survey_scale``) bounds the survey scores;
    ``min_bad_rows`` is the floor under ``max_bad_share`` for small files; more than
    ``max_outside_share`` of the valid rows outside the period stops the run (1: never).
    """
    try:
        return _ingest(
            path,
            spec,
            period,
            mapping or DatasetMapping(),
            max_bad_share,
            params,
            timezone,
            sha256,
            survey_scale,
            min_bad_rows,
            max_outside_share,
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
    survey_scale: int,
    min_bad_rows: int,
    max_outside_share: float,
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
        if got.cleaned:
            quality.notes.append(
                f"{col.name}：{got.cleaned:,} 个单元格含控制字符（不可见字符），已删除这些字符"
            )
    table = pa.table(typed) if typed else pa.table({})
    frame = to_pandas(table)
    failures = validate_frame(frame, spec, survey_scale=survey_scale) if n else None

    # one reason per row: totals rows, then columns in contract order, orderings, duplicate ids
    bad = np.zeros(n, dtype=bool)
    firsts: list[_Flagged] = []  # in the order found

    def flag(rows: np.ndarray, column: str, kind: str, reason: str, other: str = "") -> None:
        rows = rows[~bad[rows]]
        if not len(rows):
            return
        bad[rows] = True
        quality.excluded[reason] = quality.excluded.get(reason, 0) + len(rows)
        firsts.append(_Flagged(column, kind, rows, reason, other))
        shown = rows[:EXAMPLES_PER_REASON]
        lines = raw.line_of(shown)
        quality.examples += [
            Example(int(ln), column, v, reason, sheet)
            for ln, v, sheet in zip(
                lines, _values(raw, column, shown, other), raw.sheet_of(shown), strict=True
            )
        ]

    totals = _totals_rows(raw, spec, table, parse_bad, failures) if n else np.zeros(0, np.int64)
    if len(totals):
        first = spec.columns[0].name  # the id, where the word usually is
        flag(totals, first if first in raw.columns else spec.anchor, TOTALS, TOTALS_ROW)
    n_totals = len(totals)
    if failures is not None:
        for col in spec.columns:
            if col.name in parse_bad:
                flag(
                    np.flatnonzero(parse_bad[col.name]),
                    col.name,
                    PARSE,
                    f"{col.name} {PARSE_REASONS[col.type]}",
                )
            for kind in (EMPTY, ENUM, NEGATIVE, LOW, HIGH):
                rows = failures.rows.get(col.name, {}).get(kind)
                if rows is not None:
                    flag(rows, col.name, kind, reason_text(col, kind, survey_scale))
        for (later, earlier), rows in failures.order.items():
            reason = order_reason(spec, later, earlier)
            if spec.column(later).type in ("datetime", "date"):
                flag(rows, later, ORDER, reason, other=earlier)
            else:  # counts: the smaller one is too big (nodes_done above nodes_total)
                flag(rows, earlier, ORDER, reason, other=later)
        if spec.id_column and DUPLICATE in failures.rows.get(spec.id_column, {}):
            rows = failures.rows[spec.id_column][DUPLICATE]
            flag(
                rows, spec.id_column, DUPLICATE, reason_text(spec.column(spec.id_column), DUPLICATE)
            )

    # an end a few seconds before its start (clock skew, minute-only times): the same instant
    for later, earlier in spec.order:
        if later in frame.columns and earlier in frame.columns:
            if spec.column(later).type != "datetime":
                continue
            skew = too_early(frame, later, earlier) & ~bad
            if skew.any():
                table, frame = _align(table, frame, later, earlier, skew)
                quality.notes.append(
                    f"{int(skew.sum()):,} 行的 {later} 早于 {earlier} 不足"
                    f" {PLAUSIBLE.order_tolerance_seconds:g} 秒（系统时钟偏差或时间只精确到分钟），"
                    f"按与 {earlier} 同一时刻计"
                    f" ({later} slightly before {earlier}: taken as the same instant)"
                )

    n_bad = int(bad.sum()) - n_totals + len(raw.malformed)
    total = quality.rows_read - n_totals
    if total and n_bad / total > max_bad_share and n_bad >= min_bad_rows:
        raise _too_many(
            path, spec, quality, raw, firsts, n_bad, total, max_bad_share, params, survey_scale
        )

    keep = ~bad
    if not spec.snapshot:
        anchor = table.column(spec.anchor).cast(pa.int64()).to_numpy(zero_copy_only=False)
        anchor = np.nan_to_num(anchor, nan=-(2**62)).astype(np.int64)
        start, end = _ms(period.start), _ms(period.end)
        inside = (anchor >= start) & (anchor < end)
        outside = ~inside & keep
        n_outside = int(outside.sum())
        if n_outside:
            quality.excluded[OUTSIDE_PERIOD] = n_outside
            dated = int(keep.sum())
            if n_outside > max_outside_share * dated and n_outside >= min_bad_rows:
                raise _wrong_period(path, spec, period, anchor, keep, outside)
        keep &= inside
        days = np.bincount((anchor[keep] - start) // 86_400_000, minlength=period.days)
        quality.empty_days = int((days[: period.days] == 0).sum())
    if keep.all():
        quality.rows_kept = table.num_rows
        return Ingested(table, quality, frame)
    kept = table.filter(pa.array(keep))
    quality.rows_kept = kept.num_rows
    return Ingested(kept, quality)


@dataclass
class _Flagged:
    column: str  # the column shown
    kind: str
    rows: np.ndarray
    reason: str
    other: str = ""  # orderings: the column it was compared with


TOTALS = "totals"  # kind of a totals row
# the first cell of a totals row: 合计, 总计：, Total, Grand total, 小计（3条）…
_TOTALS_RE = (
    r"(?i)^(合\s*计|总\s*计|小\s*计|共\s*计|总\s*合\s*计|grand\s*total|sub-?\s*totals?|totals?|sum)"
)
_TOTALS_FIRST = re.compile(_TOTALS_RE + r"\s*([:：(（,，\s].*)?$")  # id or anchor cell
_TOTALS_CELL = re.compile(_TOTALS_RE + r"\s*[:：]?$")  # any other text cell, whole


def _totals_rows(
    raw: RawTable,
    spec: DatasetSpec,
    table: pa.Table,
    parse_bad: dict[str, np.ndarray],
    failures: Failures | None,
) -> np.ndarray:
    """Rows that are a totals line of the export (合计/总计/Total …), not a record.

    Only rows without a valid anchor timestamp or with another fault are looked at (a
    totals line has no date of its own, or empty required cells), so this costs
    nothing on a clean file.
    """
    if spec.anchor not in table.column_names:
        return np.arange(table.num_rows)[_totals_hits(raw, spec, np.arange(table.num_rows))]
    mask = np.array(table.column(spec.anchor).is_null().to_numpy(zero_copy_only=False))
    for b in parse_bad.values():
        mask |= b
    if failures is not None:
        for kinds in failures.rows.values():
            for rows in kinds.values():
                mask[rows] = True
        for rows in failures.order.values():
            mask[rows] = True
    rows = np.flatnonzero(mask)
    return rows[_totals_hits(raw, spec, rows)]


def _totals_hits(raw: RawTable, spec: DatasetSpec, rows: np.ndarray) -> np.ndarray:
    hit = np.zeros(len(rows), dtype=bool)
    if not len(rows):
        return hit
    take = pa.array(rows)
    first = {spec.columns[0].name, spec.anchor}
    for name, values in raw.columns.items():
        if not pa.types.is_string(values.type) and not pa.types.is_large_string(values.type):
            continue
        cells = pc.utf8_trim_whitespace(pc.utf8_normalize(pc.take(values, take), form="NFKC"))
        pattern = (_TOTALS_FIRST if name in first else _TOTALS_CELL).pattern
        hit |= pc.fill_null(pc.match_substring_regex(cells, pattern), False).to_numpy(
            zero_copy_only=False
        )
    return hit


def _values(raw: RawTable, column: str, rows: np.ndarray, other: str = "") -> list[str]:
    """The cells as exported (``other``: followed by the compared column's cell)."""
    if column not in raw.columns:
        return [""] * len(rows)
    take = pa.array(rows)
    values = ["" if v is None else str(v) for v in pc.take(raw.columns[column], take).to_pylist()]
    if other and other in raw.columns:
        others = pc.take(raw.columns[other], take).to_pylist()
        values = [
            f"{v}（{other} {'' if o is None else o}）" for v, o in zip(values, others, strict=True)
        ]
    return values


def _align(
    table: pa.Table, frame: pd.DataFrame, later: str, earlier: str, rows: np.ndarray
) -> tuple[pa.Table, pd.DataFrame]:
    """Set ``later`` to ``earlier`` on ``rows`` (a boolean mask), in the table and the frame."""
    i = table.column_names.index(later)
    column = table.column(later)
    fixed = pc.if_else(pa.array(rows), table.column(earlier).cast(column.type), column)
    table = table.set_column(i, later, fixed)
    frame[later] = frame[later].where(~rows, frame[earlier])
    return table, frame


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
    LOW: "取值低于数据规范允许的下限，请检查导出口径和单位 (value below the contract's range)",
    HIGH: "取值超出数据规范的范围或明显不合理（例如把毫秒当作秒、把分钟当作小时、填错了列），"
    "请检查导出口径和单位 (value above the contract's range or implausible: check units)",
    ORDER: "结束时间不能早于开始时间：请检查两列是否填反、时区或日期格式（月/日）是否一致"
    " (an end must not be before its start)",
    DUPLICATE: "编号应唯一：请检查是否重复导出，或把两个文件拼在了一起 (ids must be unique)",
}


def _fix(spec: DatasetSpec, f: _Flagged, survey_scale: int) -> str:
    col = spec.column(f.column)
    if f.kind == PARSE:
        return _FIX[PARSE][col.type]
    if col.on_scale and f.kind in (LOW, HIGH, NEGATIVE):
        return (
            f"满意度评分应在 1–{survey_scale} 分之间（参数 thresholds.survey_scale）；若问卷采用其他"
            f"量表（如 10 分制），请在参数文件的 thresholds 中设 survey_scale: 10"
            f" (survey scores must be on the scale 1–{survey_scale})"
        )
    if f.kind == ORDER and col.type not in ("datetime", "date"):
        return f"{f.column} 不能大于 {f.other}，请检查两列是否填反 ({f.column} must not exceed {f.other})"
    if f.kind == HIGH and col.max_value is not None:
        low, high = bounds(col, survey_scale)
        return f"{col.zh}应在 {low:g}–{high:g} 之间。" + _FIX[HIGH]
    return _FIX[f.kind]


def _too_many(
    path: Path,
    spec: DatasetSpec,
    quality: DatasetQuality,
    raw: RawTable,
    firsts: list[_Flagged],
    n_bad: int,
    total: int,
    max_bad_share: float,
    params: str,
    survey_scale: int,
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
    firsts = sorted((f for f in firsts if f.kind != TOTALS), key=lambda f: -len(f.rows))
    for f in firsts[:3]:
        column, kind, rows = f.column, f.kind, f.rows
        col = spec.column(column)
        shown = rows[:EXAMPLES_PER_REASON]
        values = _values(raw, column, shown, f.other)
        examples = "、".join(
            f"{where} {v!r}" for where, v in zip(raw.where(shown), values, strict=True)
        )
        what = f.reason.split(" ", 1)[1] if f.reason.startswith(column + " ") else f.reason
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
        else:
            lines.append(f"    修正 (fix)：{_fix(spec, f, survey_scale)}")
    lines.append(
        "  修正源数据后重新运行；如确认这些行可以剔除，可在参数文件中调高 max_bad_share。"
        " (fix the source, or raise max_bad_share if these rows may be dropped)"
    )
    return DataError("\n".join(lines))


_SPAN_ZH = {"year": "年度", "half": "半年", "quarter": "季度", "month": "月"}


def _ordinal_of(ms: np.ndarray, period: Period) -> np.ndarray:
    """Index among periods of ``period``'s kind (:attr:`Period.ordinal`) of epoch milliseconds."""
    months = ms.astype("datetime64[ms]").astype("datetime64[M]").astype(np.int64)  # since 1970-01
    return 1970 * period.per_year + months // period.months_long


def _wrong_period(
    path: Path,
    spec: DatasetSpec,
    period: Period,
    anchor: np.ndarray,
    dated: np.ndarray,
    outside: np.ndarray,
) -> DataError:
    """Most dated rows are outside the period: another quarter's export, or the wrong folder."""
    valid = anchor[dated]
    low = pd.Timestamp(int(valid.min()), unit="ms").date()
    high = pd.Timestamp(int(valid.max()), unit="ms").date()
    ordinals = _ordinal_of(anchor[outside], period)
    found, counts = np.unique(ordinals, return_counts=True)
    order = np.argsort(-counts, kind="stable")[:3]
    belongs = "、".join(
        f"{period.shift(int(q) - period.ordinal)}（{int(c):,} 行）"
        for q, c in zip(found[order], counts[order], strict=True)
    )
    col = spec.column(spec.anchor)
    n_out, n = int(outside.sum()), int(dated.sum())
    return DataError(
        f"{path}: {n_out:,} / {n:,} 行记录的{col.zh}（{spec.anchor}）不在 {period}"
        f"（{period.first_day} 至 {period.last_day}）之内；文件中的时间范围为 {low} 至 {high}，"
        f"这些记录属于 {belongs}。请检查参数文件的 data_dir 是否指向 {period} 的数据目录，"
        f"以及该目录中的 {path.name} 是否为本期的导出文件；如为跨多个{_SPAN_ZH[period.kind]}的累计导出，"
        "请只导出本期的记录。"
        f" (most rows are outside {period}: {n_out:,} of {n:,}; is this another {period.kind}'s"
        f" data? check data_dir and the folder, or export this {period.kind} only)"
    )


def _label(col, value: str) -> str:
    labels = [k for k, v in enum_aliases(col.enum).items() if v == value and k != value.casefold()]
    return "/".join(labels)


__all__ = ["MAX_BAD_SHARE", "TS", "Ingested", "ingest", "read_dataset", "to_pandas"]
