"""The contract as pandera schemas, built from :data:`selfcheck.schema.DATASETS`.

A schema checks one typed frame: dtypes (the frames the notebooks get), required
columns not empty, enum values, lower bounds, unique ids. Validation is lazy, and
every failure case is turned into a (row, column, kind) so the caller can exclude
and count the rows per reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from selfcheck.schema import DATASETS, ColumnSpec, DatasetSpec

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
EMPTY, ENUM, NEGATIVE, DUPLICATE = "empty", "enum", "negative", "duplicate"


def reason_text(col: ColumnSpec, kind: str) -> str:
    """The reason key of the quality record (stable: the appendix and tests use it)."""
    if kind == EMPTY:
        return f"{col.name} 为空"
    if kind == ENUM:
        return f"{col.name} 取值不在 {'/'.join(col.enum)} 之内"
    if kind == NEGATIVE:
        return f"{col.name} 为负数"
    if kind == DUPLICATE:
        return f"{col.name} 重复"
    raise KeyError(kind)


@cache
def dataset_schema(name: str):
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
        if c.min_value is not None:
            low = c.min_value
            checks.append(
                pdx.Check(
                    lambda s, low=low: ~(s < low).fillna(False),
                    name=NEGATIVE,
                    ignore_na=False,
                    error=NEGATIVE,
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
    return pdx.DataFrameSchema(columns, strict=False, coerce=False, name=name)


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


def validate_frame(frame: pd.DataFrame, spec: DatasetSpec) -> Failures:
    """Run the dataset's schema on ``frame`` (RangeIndex) and collect the failing rows."""
    import pandera.errors as pe

    schema = dataset_schema(spec.name)
    out: dict[str, dict[str, np.ndarray]] = {}
    try:
        schema.validate(frame, lazy=True, inplace=True)
    except pe.SchemaErrors as err:
        fc = err.failure_cases
        structural = fc[fc["index"].isna()]
        if len(structural):  # dtype or column failures: the typing step is wrong, not the data
            raise RuntimeError(
                f"{spec.name}: typed frame does not fit its schema:\n{structural.to_string()}"
            ) from None
        for (column, check), grp in fc.groupby(["column", "check"], sort=False):
            kind = _kind(str(check))
            rows = np.unique(grp["index"].to_numpy(dtype=np.int64))
            out.setdefault(str(column), {})[kind] = rows
    return Failures(out)


def _kind(check: str) -> str:
    if check == "not_nullable":
        return EMPTY
    if check in (DUPLICATE, "field_uniqueness"):
        return DUPLICATE
    if check == ENUM or check.startswith("isin("):
        return ENUM
    if check == NEGATIVE or check.startswith("greater_than_or_equal_to("):
        return NEGATIVE
    raise RuntimeError(f"unexpected pandera check {check!r}")
