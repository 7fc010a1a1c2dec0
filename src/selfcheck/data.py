"""Data ingest: read a period's datasets into typed frames and record their quality.

Files are ``NAME.csv`` (canonical UTF-8, see data-contract.md) or
``NAME.parquet`` in the period's data folder. Reading is columnar (pyarrow);
nothing loops over rows in Python. Bad rows (duplicate id, negative duration,
unknown enum value) are excluded and counted per reason with the file line of
the first examples; records outside the period are excluded and counted; more
than ``MAX_BAD_SHARE`` of bad rows stops the run with an error naming the file,
the column and examples.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from selfcheck.errors import DataError
from selfcheck.period import Period
from selfcheck.schema import DATASETS, DatasetSpec

MAX_BAD_SHARE = 0.05
EXAMPLES_PER_REASON = 5
TRUE_VALUES = ["true", "True", "TRUE", "1", "Y", "y", "yes", "Yes", "YES", "是", "有"]
FALSE_VALUES = ["false", "False", "FALSE", "0", "N", "n", "no", "No", "NO", "否", "无"]
TIMESTAMP_FORMATS = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%d",  # date columns (hired_on, training date)
    "%Y/%m/%d",
]

_ARROW_TYPES = {
    "str": pa.string(),
    "enum": pa.string(),
    "datetime": pa.timestamp("s"),
    "date": pa.timestamp("s"),
    "bool": pa.bool_(),
    "int": pa.int64(),
    "number": pa.float64(),
}


@dataclass
class Example:
    line: int  # line in the file (header is line 1)
    column: str
    value: str
    reason: str


@dataclass
class DatasetQuality:
    name: str
    file: str
    sha256: str
    rows_read: int
    rows_kept: int
    excluded: dict[str, int] = field(default_factory=dict)
    examples: list[Example] = field(default_factory=list)
    optional_columns_present: list[str] = field(default_factory=list)
    optional_columns_missing: list[str] = field(default_factory=list)
    empty_days: int = 0  # days of the period with no record

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> DatasetQuality:
        d = dict(d)
        d["examples"] = [Example(**e) for e in d.get("examples", [])]
        return cls(**d)


def find_file(folder: Path, name: str) -> Path | None:
    for ext in (".csv", ".parquet", ".xlsx"):
        p = folder / f"{name}{ext}"
        if p.exists():
            return p
    return None


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_dataset(
    path: Path, spec: DatasetSpec, period: Period, *, columns: list[str] | None = None
) -> tuple[pd.DataFrame, DatasetQuality]:
    """Read one dataset file for one period: typed, validated, filtered to the period."""
    table = _read_table(path, spec)
    present = set(table.column_names)
    missing_req = [c.name for c in spec.columns if c.required and c.name not in present]
    if missing_req:
        names = "、".join(f"{c}（{spec.column(c).zh}）" for c in missing_req)
        raise DataError(
            f"{path}: 缺少必填列 {names}。第 1 行（表头）应包含这些列名（英文或中文均可）。"
            f" (missing required column(s): {', '.join(missing_req)})"
        )
    n = table.num_rows
    line = np.arange(2, n + 2)  # file line of each row (header is line 1)
    bad = np.zeros(n, dtype=bool)
    quality = DatasetQuality(
        name=spec.name,
        file=path.name,
        sha256=sha256_of(path),
        rows_read=n,
        rows_kept=0,
        optional_columns_present=[
            c.name for c in spec.columns if not c.required and c.name in present
        ],
        optional_columns_missing=[
            c.name for c in spec.columns if not c.required and c.name not in present
        ],
    )

    def flag(mask: np.ndarray, column: str, reason: str) -> None:
        new = mask & ~bad
        if not new.any():
            return
        quality.excluded[reason] = quality.excluded.get(reason, 0) + int(new.sum())
        values = table.column(column).to_pandas().astype("string").fillna("")
        for i in np.flatnonzero(new)[:EXAMPLES_PER_REASON]:
            quality.examples.append(Example(int(line[i]), column, str(values.iloc[i]), reason))
        bad[new] = True

    for col in spec.columns:
        if col.name not in present:
            continue
        arr = table.column(col.name)
        if col.required:
            flag(
                np.asarray(arr.is_null().to_numpy(zero_copy_only=False)),
                col.name,
                f"{col.name} 为空",
            )
        if col.enum:
            ok = pc.is_in(arr, value_set=pa.array(col.enum)).to_numpy(zero_copy_only=False)
            isnull = arr.is_null().to_numpy(zero_copy_only=False)
            flag(~ok & ~isnull, col.name, f"{col.name} 取值不在 {'/'.join(col.enum)} 之内")
        if col.min_value is not None:
            below = pc.fill_null(pc.less(arr, col.min_value), False).to_numpy(zero_copy_only=False)
            flag(below, col.name, f"{col.name} 为负数")
    id_col = spec.id_column
    if id_col is not None:
        ids = table.column(id_col).to_pandas()
        dup = ids.duplicated(keep="first").to_numpy() & ids.notna().to_numpy()
        flag(dup, id_col, f"{id_col} 重复")

    share = bad.sum() / n if n else 0.0
    if share > MAX_BAD_SHARE:
        examples = "; ".join(
            f"第 {e.line} 行 {e.column}={e.value!r}（{e.reason}）" for e in quality.examples[:5]
        )
        raise DataError(
            f"{path}: {share:.1%} 的行有误，超过允许的 {MAX_BAD_SHARE:.0%}，已停止。"
            f"示例：{examples}。请修正源数据或在导出时检查这些列。"
        )

    anchor = table.column(spec.anchor)
    if not spec.snapshot:
        ts = pc.cast(anchor, pa.timestamp("s"))
        inside = pc.and_(
            pc.greater_equal(ts, pa.scalar(period.start, pa.timestamp("s"))),
            pc.less(ts, pa.scalar(period.end, pa.timestamp("s"))),
        )
        inside_np = pc.fill_null(inside, False).to_numpy(zero_copy_only=False)
        outside = ~inside_np & ~bad
        if outside.any():
            quality.excluded["期间外"] = int(outside.sum())
        keep = inside_np & ~bad
    else:
        keep = ~bad
    kept = table.filter(pa.array(keep))
    if columns is not None:
        kept = kept.select([c for c in columns if c in kept.column_names])
    frame = _to_pandas(kept)
    quality.rows_kept = len(frame)
    if not spec.snapshot and len(frame):
        days = pd.to_datetime(frame[spec.anchor]).dt.normalize().nunique()
        quality.empty_days = period.days - int(days)
    elif not spec.snapshot:
        quality.empty_days = period.days
    return frame, quality


def _read_table(path: Path, spec: DatasetSpec) -> pa.Table:
    if path.suffix == ".xlsx":
        raise DataError(
            f"{path}: 暂不支持直接读取 .xlsx，请在 Excel 中另存为 CSV (UTF-8) 后放在同一目录。"
        )
    if path.stat().st_size == 0:
        raise DataError(f"{path}: 文件为空 (empty file)。请重新导出，或删除该文件。")
    if path.suffix == ".parquet":
        try:
            table = pq.read_table(path)
        except Exception as e:  # pyarrow raises several types for broken files
            raise DataError(f"{path}: 无法读取 Parquet 文件：{e}") from None
        return _cast_parquet(table, spec, path)
    header = _csv_header(path)
    types = {c.name: _ARROW_TYPES[c.type] for c in spec.columns if c.name in header}
    convert = pacsv.ConvertOptions(
        column_types=types,
        true_values=TRUE_VALUES,
        false_values=FALSE_VALUES,
        timestamp_parsers=TIMESTAMP_FORMATS,
        strings_can_be_null=True,
        include_columns=[c for c in header if c in types],
    )
    try:
        return pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(encoding="utf8", block_size=64 << 20),
            convert_options=convert,
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as e:
        raise _locate_csv_error(path, spec, header, e) from None


def _csv_header(path: Path) -> list[str]:
    with path.open("rb") as f:
        first = f.readline()
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(
            f"{path}: 第 1 行不是 UTF-8 编码。请将文件另存为“CSV UTF-8”后重试。"
        ) from None
    return [h.strip().strip('"') for h in text.rstrip("\r\n").split(",")]


def _locate_csv_error(
    path: Path, spec: DatasetSpec, header: list[str], err: Exception
) -> DataError:
    """Find the first bad cell behind an arrow conversion error (slow path, errors only)."""
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except Exception:
        return DataError(
            f"{path}: 无法解析 CSV 文件（{err}）。请检查分隔符是否为英文逗号、编码是否为 UTF-8。"
        )
    for col in spec.columns:
        if col.name not in raw.columns:
            continue
        s = raw[col.name].str.strip()
        filled = s != ""
        if col.type in ("datetime", "date"):
            parsed = pd.Series(pd.NaT, index=s.index)
            for fmt in TIMESTAMP_FORMATS:
                parsed = parsed.fillna(pd.to_datetime(s, format=fmt, errors="coerce"))
            bad = filled & parsed.isna()
            hint = "时间应写成 YYYY-MM-DD HH:MM:SS"
        elif col.type in ("int", "number"):
            bad = filled & pd.to_numeric(s, errors="coerce").isna()
            hint = "该列只能填数字"
        elif col.type == "bool":
            bad = filled & ~s.isin(TRUE_VALUES + FALSE_VALUES)
            hint = "是/否类列可填 true/false、1/0、Y/N、是/否、有/无"
        else:
            continue
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            return DataError(
                f"{path}: 第 {i + 2} 行，列 {col.name}（{col.zh}）的值 {s.iloc[i]!r} 无法识别。{hint}。"
                f"共 {int(bad.sum())} 行有此问题。"
            )
    return DataError(f"{path}: 无法解析 CSV 文件（{err}）。")


def _cast_parquet(table: pa.Table, spec: DatasetSpec, path: Path) -> pa.Table:
    cols = {}
    for c in spec.columns:
        if c.name in table.column_names:
            try:
                cols[c.name] = pc.cast(table.column(c.name), _ARROW_TYPES[c.type])
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
                raise DataError(f"{path}: 列 {c.name}（{c.zh}）类型不符：{e}") from None
    return pa.table(cols)


def _to_pandas(table: pa.Table) -> pd.DataFrame:
    mapping = {
        pa.bool_(): pd.BooleanDtype(),
        pa.int64(): pd.Int64Dtype(),
        pa.string(): pd.StringDtype(),
    }
    frame = table.to_pandas(types_mapper=mapping.get)
    for name in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[name]):
            frame[name] = frame[name].astype("datetime64[ns]")
    return frame


class DataStore:
    """Datasets of any period, read once per process (notebooks and runner share it)."""

    def __init__(self, data_dir_for) -> None:  # data_dir_for: Callable[[Period], Path]
        self._dir = data_dir_for
        self._frames: dict[tuple[str, Period], pd.DataFrame | None] = {}
        self._quality: dict[tuple[str, Period], DatasetQuality] = {}

    def folder(self, period: Period) -> Path:
        return self._dir(period)

    def has_period(self, period: Period) -> bool:
        folder = self._dir(period)
        return folder.is_dir() and any(find_file(folder, n) for n in DATASETS)

    def get(self, name: str, period: Period) -> pd.DataFrame | None:
        key = (name, period)
        if key not in self._frames:
            folder = self._dir(period)
            path = find_file(folder, name) if folder.is_dir() else None
            if path is None:
                self._frames[key] = None
            else:
                frame, quality = read_dataset(path, DATASETS[name], period)
                self._frames[key] = frame
                self._quality[key] = quality
        return self._frames[key]

    def validate(self, period: Period) -> dict[str, DatasetQuality]:
        """Read every dataset of the period; error if the folder or all datasets are missing."""
        folder = self._dir(period)
        if not folder.is_dir():
            raise DataError(
                f"数据目录不存在 (data folder not found): {folder}。请检查参数文件中的 data_dir，"
                f"或先运行 `selfcheck sample --period {period}` 生成示例数据。"
            )
        found = [n for n in DATASETS if find_file(folder, n)]
        if not found:
            expected = "、".join(f"{n}.csv" for n in DATASETS)
            raise DataError(f"{folder}: 没有任何数据集文件。应至少有以下之一：{expected}")
        for name in found:
            self.get(name, period)
        return {n: self._quality[(n, period)] for n in found}
