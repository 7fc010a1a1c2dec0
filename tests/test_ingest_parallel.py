"""Datasets read side by side (``ingest/parallel.py``) and cache files written in the
background (``cache.Writer``): the outcome is the one of reading them one by one."""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

import pyarrow as pa
import pytest
from conftest import write_params

from selfcheck import quality as quality_mod
from selfcheck.config import load_config
from selfcheck.errors import DataError
from selfcheck.ingest import cache, parallel
from selfcheck.ingest.records import DatasetQuality
from selfcheck.period import Period
from selfcheck.sample import generate

Q3 = Period.parse("2026Q3")


def test_results_come_in_the_given_order_and_the_heaviest_starts_first():
    started: list[str] = []
    lock = threading.Lock()

    def task(name: str, seconds: float):
        def run() -> str:
            with lock:
                started.append(name)
            time.sleep(seconds)
            return name.upper()

        return run

    tasks = {"a": task("a", 0.05), "b": task("b", 0.05), "c": task("c", 0.2), "d": task("d", 0)}
    got = parallel.each(tasks, {"a": 1, "b": 2, "c": 30, "d": 0}, n_threads=2)
    assert list(got.items()) == [("a", "A"), ("b", "B"), ("c", "C"), ("d", "D")]
    assert started[:2] == ["c", "b"]  # by weight, heaviest first
    assert sorted(started) == ["a", "b", "c", "d"]


def test_one_thread_runs_them_in_order():
    started: list[str] = []
    tasks = {n: (lambda n=n: started.append(n) or n) for n in "xyz"}
    assert parallel.each(tasks, {"x": 0, "y": 0, "z": 99}, n_threads=1) == {
        "x": "x",
        "y": "y",
        "z": "z",
    }
    assert started == ["x", "y", "z"]


def test_the_first_failure_in_order_is_raised_after_every_task_ended():
    finished: list[str] = []

    def fail(name: str, seconds: float):
        def run():
            time.sleep(seconds)
            finished.append(name)
            raise DataError(f"{name} is broken")

        return run

    def slow() -> str:
        time.sleep(0.3)
        finished.append("slow")
        return "ok"

    tasks = {"first": fail("first", 0.15), "second": fail("second", 0), "slow": slow}
    with pytest.raises(DataError, match="first is broken"):
        parallel.each(tasks, {"first": 1, "second": 1, "slow": 1}, n_threads=2)
    # the task still running when the error was known was waited for, not left behind
    assert sorted(finished) == ["first", "second", "slow"]


def test_threads_are_at_most_two_and_at_least_one(monkeypatch):
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: 16)
    assert parallel.threads() == 2
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: None)
    assert parallel.threads() == 1


def _quality(name: str) -> DatasetQuality:
    return DatasetQuality(name=name, file=f"{name}.csv", sha256="0" * 64, rows_read=3, rows_kept=3)


def test_the_writer_has_written_every_file_when_its_block_ends(tmp_path):
    table = pa.table({"x": list(range(1000))})
    stamp = cache.Stamp("x.csv", 1, 2)
    with cache.Writer() as writer:
        for i in range(5):
            writer.write(
                tmp_path / f"t{i}.arrow", table, key=f"k{i}", stamp=stamp, quality=_quality("x")
            )
    for i in range(5):
        path = tmp_path / f"t{i}.arrow"
        assert cache.read_meta(path)["key"] == f"k{i}"
        assert cache.read_table(path).column("x").to_pylist() == list(range(1000))
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"t{i}.arrow" for i in range(5)]


def test_a_write_that_fails_unexpectedly_is_raised_when_the_block_ends(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(cache, "write", broken)
    with pytest.raises(RuntimeError, match="disk on fire"), cache.Writer() as writer:
        writer.write(tmp_path / "t.arrow", pa.table({"x": [1]}), key="k")


def test_an_error_in_the_block_waits_for_the_writes_and_is_the_one_raised(tmp_path):
    table = pa.table({"x": list(range(100_000))})
    with pytest.raises(KeyError, match="mine"), cache.Writer() as writer:
        writer.write(
            tmp_path / "t.arrow",
            table,
            key="k",
            stamp=cache.Stamp("x", 1, 1),
            quality=_quality("x"),
        )
        raise KeyError("mine")
    assert cache.read_meta(tmp_path / "t.arrow")["key"] == "k"  # finished, not half-written
    assert [p.name for p in tmp_path.iterdir()] == ["t.arrow"]


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_validation_side_by_side_gives_the_same_cache_and_record(tmp_path, monkeypatch):
    """The sample quarter validated on two threads and on one: the same cache files, byte for
    byte, and the same quality record."""
    data = tmp_path / "data"
    generate(Q3, data, scale="small", history=0)
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: 2)  # two threads on any runner
    got = {}
    for n in (2, 1):
        monkeypatch.setattr(parallel, "THREADS", n)
        config = load_config(write_params(tmp_path / f"threads{n}", data))
        quality_mod.record_quality(config)
        got[n] = (
            _digests(config.output_dir / "cache"),
            (config.output_dir / "data_quality.json").read_text(encoding="utf-8"),
        )
    assert len(got[2][0]) == 10
    assert got[2] == got[1]


def test_two_broken_files_name_the_first_in_contract_order(tmp_path, monkeypatch):
    """Side by side, as one by one: of two broken datasets the error names the one the
    contract lists first (tickets before calls), and no cache file is left half-written."""
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: 2)  # two threads on any runner
    assert parallel.threads() == 2
    data = tmp_path / "data"
    generate(Q3, data, scale="small", history=0)
    folder = data / "2026Q3"
    # calls the larger, so it is read first, and fails first
    (folder / "calls.csv").write_text("x,y\n" + "1,2\n" * 50_000, encoding="utf-8")
    (folder / "tickets.csv").write_text("x,y\n1,2\n", encoding="utf-8")
    config = load_config(write_params(tmp_path, data))
    with pytest.raises(DataError) as err:
        quality_mod.record_quality(config)
    assert "tickets.csv" in str(err.value)
    assert "calls.csv" not in str(err.value)
    cache_dir = config.output_dir / "cache"
    leftovers = [p.name for p in cache_dir.iterdir() if p.suffix != ".arrow"]
    assert leftovers == []
