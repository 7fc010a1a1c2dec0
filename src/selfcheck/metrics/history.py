"""The metrics history store: every run's metrics by period, in an embedded DuckDB file.

``outputs/history.duckdb`` (beside the period folders) holds one row per period and
metric, keyed by the period as written (``2026Q3``, ``2026-07``, ``2026H1``, ``2026``): a
month's rows are never read as a quarter's, nor a year's as a half's. Every run replaces its period's rows; sections read earlier periods from
it for QoQ / YoY and trends, and compute a period that is missing on demand from
its data. Sections only read (many kernels at once, read-only); the runner alone
writes, after the sections are done.

DuckDB lets one process at a time open the file for writing (and none while another
reads it). Runs of different periods share the store, so a write holds
``history.duckdb.lock`` (an OS file lock) and retries, for up to
:data:`WRITE_TIMEOUT` seconds, while DuckDB reports the file locked by a reader.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from pathlib import Path

import duckdb

from selfcheck.metrics.base import Measure, Metric
from selfcheck.period import KINDS, Period, PeriodKind

HISTORY_FILE = "history.duckdb"
WRITE_TIMEOUT = 300.0  # seconds a write waits for other runs' writers and readers

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
        from filelock import FileLock, Timeout

        from selfcheck.errors import OutputError

        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.path) + ".lock")
        deadline = time.monotonic() + WRITE_TIMEOUT
        try:
            with lock.acquire(timeout=WRITE_TIMEOUT):
                con = _connect_for_writing(self.path, deadline)
                with con:
                    con.execute(_SCHEMA)
                    con.execute("BEGIN TRANSACTION")
                    con.execute("DELETE FROM metrics WHERE period = ?", [str(period)])
                    if rows:  # one columnar insert: executemany goes row by row (3 s, 4,000 rows)
                        new_rows = _arrow_rows(rows)  # noqa: F841 — read by name in the query
                        con.execute("INSERT INTO metrics SELECT * FROM new_rows")
                    con.execute("COMMIT")
        except (Timeout, duckdb.IOException) as e:
            raise OutputError(
                f"指标历史库 {self.path} 被其他运行占用超过 {WRITE_TIMEOUT:.0f} 秒，"
                "本期指标未写入历史库。请等其他运行结束后重新运行。"
                f"(the history store stayed locked: {_first_line(e)})"
            ) from None
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

    def periods(self, kind: PeriodKind | None = None) -> list[str]:
        """The stored periods (of ``kind`` only, when given), in time order within a kind."""
        stored = self._all_rows()
        if not stored:
            return []
        found = [Period.parse(p) for p in stored]
        if kind is not None:
            found = [p for p in found if p.kind == kind]
        return [str(p) for p in sorted(found, key=lambda p: (KINDS.index(p.kind), p))]


def _connect_for_writing(path: Path, deadline: float):
    """A writing connection; while another process has the file open (DuckDB's "Could not
    set lock"), tried again until ``deadline``."""
    pause = 0.05
    while True:
        try:
            return duckdb.connect(str(path))
        except duckdb.IOException as e:
            if "lock" not in str(e).lower() or time.monotonic() + pause > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 1.0)


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


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
