"""The contract as pandera schemas, built from :data:`selfcheck.schema.DATASETS`.

A schema checks one typed frame: dtypes (the frames the notebooks get), required
columns not empty, enum values, lower and upper bounds (the contract's ranges, the
survey scale, :data:`selfcheck.schema.PLAUSIBLE` maxima), the orderings of
:attr:`DatasetSpec.order` (an end never before its start) and unique ids.
Validation is lazy, and every failure case is turned into a (row, column, kind) so
the caller can exclude and count the rows per reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import numpy as np
import pandas as pd

from selfcheck.schema import DATASETS, PLAUSIBLE, SURVEY_SCALE, ColumnSpec, DatasetSpec

DTYPES = {
    "str": pd.StringDtype("pyarrow"),
    "enum": pd.StringDtype("pyarrow"),
    "datetime": np.dtype("datetime64[ns]"),
    "date": np.dtype("datetime64[ns]"),
    "bool": pd.BooleanDtype(),
    "int": pd.Int64Dtype(),
    "number": np.dtype("float64"),
}

# kinds of failure, in the order a row's reason is chosen when it has several
EMPTY, ENUM, NEGATIVE, LOW, HIGH, DUPLICATE = (
    "empty",
    "enum",
    "negative",
    "low",
    "high",
    "duplicate",
)
ORDER = "order"  # a pair of columns out of order (Failures.order)
_ORDER_CHECK = "order:"  # pandera check name: order:<later>:<earlier>
_RANGE = "range"  # pandera check name of the bounds: split into NEGATIVE / LOW / HIGH
_UNITS = {"s": " 秒", "h": " 小时"}


def bounds(col: ColumnSpec, survey_scale: int = SURVEY_SCALE) -> tuple[float | None, float | None]:
    """The column's (lower, upper) bound; survey scores get 1 and the survey scale."""
    if col.on_scale:
        return 1.0, float(survey_scale)
    return col.min_value, col.max_value


def _num(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:g}"


def reason_text(col: ColumnSpec, kind: str, survey_scale: int = SURVEY_SCALE) -> str:
    """The reason key of the quality record (stable: the appendix and tests use it)."""
    low, high = bounds(col, survey_scale)
    if kind == EMPTY:
        return f"{col.name} 为空"
    if kind == ENUM:
        return f"{col.name} 取值不在 {'/'.join(col.enum)} 之内"
    if kind == NEGATIVE:
        return f"{col.name} 为负数"
    if kind == LOW:
        if col.min_exclusive:
            return f"{col.name} 为零或负数" if low == 0 else f"{col.name} 不大于 {_num(low)}"
        return f"{col.name} 小于 {_num(low)}"
    if kind == HIGH:
        return f"{col.name} 大于 {_num(high)}{_UNITS.get(col.unit or '', '')}"
    if kind == DUPLICATE:
        return f"{col.name} 重复"
    raise KeyError(kind)


def order_reason(spec: DatasetSpec, later: str, earlier: str) -> str:
    """``resolved_at 早于 created_at``; for counts ``nodes_done 大于 nodes_total``."""
    if spec.column(later).type in ("datetime", "date"):
        return f"{later} 早于 {earlier}"
    return f"{earlier} 大于 {later}"


def _low_kind(col: ColumnSpec) -> str:
    return NEGATIVE if col.min_value == 0 and not col.min_exclusive else LOW


@cache
def dataset_schema(name: str, survey_scale: int = SURVEY_SCALE):
    """The pandera schema of one dataset (optional columns may be absent).

    The checks are pandera ``Check`` objects with vectorised functions that let
    nulls pass themselves (``ignore_na=False``): pandera's own NA handling copies
    the column first, which costs seconds on 10 M rows. Uniqueness is such a check
    too, with a fast path for ids that are already in order (exports usually are).
    """
    import pandera.pandas as pdx

    spec: DatasetSpec = DATASETS[name]
    columns = {}
    for c in spec.columns:
        checks = []
        if c.enum:
            allowed = list(c.enum)
            checks.append(
                pdx.Check(
                    lambda s, allowed=allowed: s.isin(allowed) | s.isna(),
                    name=ENUM,
                    ignore_na=False,
                    error=ENUM,
                )
            )
        low, high = bounds(c, survey_scale)
        if low is not None or high is not None:  # one check; the failing rows are split later
            checks.append(
                pdx.Check(
                    lambda s, low=low, high=high, ex=c.min_exclusive: _in_range(s, low, high, ex),
                    name=_RANGE,
                    ignore_na=False,
                    error=_RANGE,
                )
            )
        if c.unique:
            checks.append(
                pdx.Check(_first_occurrence, name=DUPLICATE, ignore_na=False, error=DUPLICATE)
            )
        columns[c.name] = pdx.Column(
            DTYPES[c.type],
            checks,
            nullable=not c.required,
            required=c.required,
            description=c.zh,
        )
    wide = [
        pdx.Check(
            lambda df, later=later, earlier=earlier: _in_order(df, spec, later, earlier),
            name=f"{_ORDER_CHECK}{later}:{earlier}",
            error=f"{_ORDER_CHECK}{later}:{earlier}",
            ignore_na=False,
        )
        for later, earlier in spec.order
    ]
    return pdx.DataFrameSchema(columns, checks=wide, strict=False, coerce=False, name=name)


def _in_order(df: pd.DataFrame, spec: DatasetSpec, later: str, earlier: str) -> pd.Series | bool:
    """False where ``later`` is before ``earlier`` (beyond the clock-skew tolerance)."""
    if later not in df.columns or earlier not in df.columns:
        return True
    a, b = df[later], df[earlier]
    if spec.column(later).type == "datetime":
        tol = np.timedelta64(int(PLAUSIBLE.order_tolerance_seconds * 1e9), "ns")
        ok = ~(a.to_numpy() + tol < b.to_numpy())  # NaT compares False: passes
        return pd.Series(ok, index=df.index)
    return ~(a < b).fillna(False)


def too_early(frame: pd.DataFrame, later: str, earlier: str) -> np.ndarray:
    """Rows whose ``later`` timestamp is before ``earlier`` but within the tolerance."""
    a, b = frame[later].to_numpy(), frame[earlier].to_numpy()
    tol = np.timedelta64(int(PLAUSIBLE.order_tolerance_seconds * 1e9), "ns")
    return (a < b) & ~(a + tol < b)


def _floats(s: pd.Series) -> np.ndarray:
    if s.dtype == np.float64:
        return s.to_numpy()
    return s.to_numpy(dtype="float64", na_value=np.nan)


def _in_range(s: pd.Series, low: float | None, high: float | None, exclusive: bool) -> pd.Series:
    """True where the value is within the bounds, or missing (NaN compares False)."""
    x = _floats(s)
    ok = np.ones(len(x), dtype=bool)
    if low is not None:
        ok &= ~((x <= low) if exclusive else (x < low))
    if high is not None:
        ok &= ~(x > high)
    return pd.Series(ok, index=s.index)


def _first_occurrence(s: pd.Series) -> pd.Series | bool:
    """True for the first occurrence of each value (and nulls); a scalar True if all unique."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arrow = getattr(s.array, "__arrow_array__", None)
    if arrow is not None and s.isna().sum() == 0 and len(s) > 1:
        a = arrow()
        if isinstance(a, pa.Array):
            a = pa.chunked_array([a])
        head, tail = a[:-1], a[1:]
        if pc.all(pc.less(head, tail)).as_py() or pc.all(pc.greater(head, tail)).as_py():
            return True  # strictly monotonic: no value twice
    return ~s.duplicated(keep="first") | s.isna()


@dataclass
class Failures:
    """Rows that break the contract: column → kind → row positions."""

    rows: dict[str, dict[str, np.ndarray]]
    order: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)  # (later, earlier)


def validate_frame(
    frame: pd.DataFrame, spec: DatasetSpec, *, survey_scale: int = SURVEY_SCALE
) -> Failures:
    """Run the dataset's schema on ``frame`` (RangeIndex) and collect the failing rows."""
    import pandera.errors as pe

    schema = dataset_schema(spec.name, survey_scale)
    out: dict[str, dict[str, np.ndarray]] = {}
    order: dict[tuple[str, str], np.ndarray] = {}
    try:
        schema.validate(frame, lazy=True, inplace=True)
    except pe.SchemaErrors as err:
        fc = err.failure_cases
        structural = fc[fc["index"].isna()]
        if len(structural):  # dtype or column failures: the typing step is wrong, not the data
            raise RuntimeError(
                f"{spec.name}: typed frame does not fit its schema:\n{structural.to_string()}"
            ) from None
        wide = fc["check"].astype(str).str.startswith(_ORDER_CHECK)
        for check, grp in fc[wide].groupby("check", sort=False):
            later, earlier = str(check)[len(_ORDER_CHECK) :].split(":")
            order[(later, earlier)] = np.unique(grp["index"].to_numpy(dtype=np.int64))
        for (column, check), grp in fc[~wide].groupby(["column", "check"], sort=False):
            rows = np.unique(grp["index"].to_numpy(dtype=np.int64))
            if str(check) == _RANGE:
                col = spec.column(str(column))
                _, high = bounds(col, survey_scale)
                above = np.zeros(len(rows), dtype=bool)
                if high is not None:
                    above = _floats(frame[col.name])[rows] > high
                for kind, part in ((_low_kind(col), rows[~above]), (HIGH, rows[above])):
                    if len(part):
                        out.setdefault(col.name, {})[kind] = part
                continue
            kind = _kind(str(check))
            out.setdefault(str(column), {})[kind] = rows
    return Failures(out, order)


def _kind(check: str) -> str:
    if check == "not_nullable":
        return EMPTY
    if check in (DUPLICATE, "field_uniqueness"):
        return DUPLICATE
    if check == ENUM or check.startswith("isin("):
        return ENUM
    if check == NEGATIVE or check.startswith("greater_than_or_equal_to("):
        return NEGATIVE
    if check in (LOW, HIGH):
        return check
    raise RuntimeError(f"unexpected pandera check {check!r}")
