"""The metrics history store: every run's metrics by period, in an embedded DuckDB file.

``outputs/history.duckdb`` (beside the period folders) holds one row per period and
metric. Every run replaces its period's rows; sections read earlier periods from
it for QoQ / YoY and trends, and compute a period that is missing on demand from
its data. Sections only read (many kernels at once, read-only); the runner alone
writes, after the sections are done.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

import duckdb

from selfcheck.metrics.base import Measure, Metric
from selfcheck.period import Period

HISTORY_FILE = "history.duckdb"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS metrics (
    period VARCHAR NOT NULL,
    metric_id VARCHAR NOT NULL,
    value DOUBLE,
    numerator DOUBLE,
    denominator DOUBLE,
    n BIGINT,
    sd DOUBLE,
    sampled BOOLEAN,
    reason VARCHAR,
    PRIMARY KEY (period, metric_id)
)
"""


class HistoryStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        # every period's rows, read in one connection (opening DuckDB costs ~50 ms) and kept
        # while the file (and its write-ahead log) stays as it was
        self._rows: tuple[tuple, dict[str, list[tuple]]] | None = None

    def write(self, period: Period, metrics: Iterable[Metric]) -> int:
        """Replace the period's rows with these metrics (one transaction)."""
        rows = [
            (
                str(period),
                m.metric_id,
                _num(m.value),
                _num(m.numerator),
                _num(m.denominator),
                m.n,
                _num(m.sd),
                m.sampled,
                m.reason,
            )
            for m in metrics
        ]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with duckdb.connect(str(self.path)) as con:
            con.execute(_SCHEMA)
            con.execute("BEGIN TRANSACTION")
            con.execute("DELETE FROM metrics WHERE period = ?", [str(period)])
            if rows:  # one columnar insert: executemany goes row by row (3 s for 4,000 rows)
                new_rows = _arrow_rows(rows)  # noqa: F841 — read by name in the query
                con.execute("INSERT INTO metrics SELECT * FROM new_rows")
            con.execute("COMMIT")
        self._rows = None
        return len(rows)

    def read(self, period: Period) -> dict[str, Measure] | None:
        """The period's stored measures, or None when the period (or the store) is absent."""
        stored = self._all_rows()
        rows = stored.get(str(period)) if stored is not None else None
        if not rows:
            return None
        return {
            r[0]: Measure(
                value=r[1],
                numerator=r[2],
                denominator=r[3],
                n=r[4],
                reason=r[7],
                sampled=bool(r[6]),
                sd=r[5],
            )
            for r in rows
        }

    def _all_rows(self) -> dict[str, list[tuple]] | None:
        if not self.path.exists():
            return None
        stamp = tuple(_stamp(p) for p in (self.path, self.path.with_name(self.path.name + ".wal")))
        if self._rows is not None and self._rows[0] == stamp:
            return self._rows[1]
        try:
            with duckdb.connect(str(self.path), read_only=True) as con:
                rows = con.execute(
                    "SELECT period, metric_id, value, numerator, denominator, n, sd, sampled, "
                    "reason FROM metrics ORDER BY period, metric_id"
                ).fetchall()
        except (duckdb.IOException, duckdb.CatalogException):
            return None  # locked by a writer or not initialised: compute on demand instead
        by_period: dict[str, list[tuple]] = {}
        for r in rows:
            by_period.setdefault(r[0], []).append(r[1:])
        self._rows = (stamp, by_period)
        return by_period

    def periods(self) -> list[str]:
        if not self.path.exists():
            return []
        with duckdb.connect(str(self.path), read_only=True) as con:
            return [
                r[0]
                for r in con.execute("SELECT DISTINCT period FROM metrics ORDER BY 1").fetchall()
            ]


def _arrow_rows(rows: list[tuple]):
    import pyarrow as pa

    schema = pa.schema(
        [
            ("period", pa.string()),
            ("metric_id", pa.string()),
            ("value", pa.float64()),
            ("numerator", pa.float64()),
            ("denominator", pa.float64()),
            ("n", pa.int64()),
            ("sd", pa.float64()),
            ("sampled", pa.bool_()),
            ("reason", pa.string()),
        ]
    )
    columns = list(zip(*rows, strict=True))
    return pa.table([pa.array(c, f.type) for c, f in zip(columns, schema, strict=True)], schema)


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


def _num(v: float | None) -> float | None:
    if v is None:
        return None
    v = float(v)
    return None if math.isnan(v) else v
