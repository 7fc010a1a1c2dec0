from selfcheck.metrics.base import Metric
from selfcheck.metrics.history import HistoryStore
from selfcheck.period import Period

Q2, Q3 = Period.parse("2026Q2"), Period.parse("2026Q3")


def metric(mid, value, **kw):
    return Metric(mid, mid, "rate", value, **kw)


def test_round_trip_and_replace(tmp_path):
    store = HistoryStore(tmp_path / "history.duckdb")
    assert store.read(Q3) is None  # no file yet
    store.write(
        Q3,
        [metric("a", 0.5, numerator=5, denominator=10, n=10), metric("b", None, reason="样本为0")],
    )
    store.write(Q2, [metric("a", 0.4)])
    got = store.read(Q3)
    assert got["a"].value == 0.5 and got["a"].numerator == 5 and got["a"].n == 10
    assert got["b"].value is None and got["b"].reason == "样本为0"
    store.write(Q3, [metric("a", 0.6, sampled=True, sd=1.5)])  # a re-run replaces the period
    got = store.read(Q3)
    assert set(got) == {"a"} and got["a"].value == 0.6 and got["a"].sampled and got["a"].sd == 1.5
    assert store.read(Q2)["a"].value == 0.4
    assert store.periods() == ["2026Q2", "2026Q3"]
    assert store.read(Period.parse("2026Q1")) is None
