"""How many sections run at once: per core, one more for a small warm run, and the second
phase (the sections that read the others' results) unbound by the period's size."""

from __future__ import annotations

import pytest

from selfcheck.execution import runner


@pytest.fixture
def two_cores(monkeypatch):
    monkeypatch.setattr(runner.os, "cpu_count", lambda: 2)


def test_one_per_core_and_one_more_for_a_small_warm_quarter(two_cores):
    small, large = 1 << 20, runner.EXTRA_WORKER_MAX_BYTES
    assert runner.default_workers(True, small) == 3
    assert runner.default_workers(True, large) == 2  # a large quarter's kernels are busy
    assert runner.default_workers(False, small) == 2  # cold kernels: no waiting to fill


def test_the_second_phase_is_not_held_to_the_large_quarters_count(two_cores):
    assert runner.phase_workers(True, runner.EXTRA_WORKER_MAX_BYTES) == (2, 3)
    assert runner.phase_workers(True, 1 << 20) == (3, 3)
    assert runner.phase_workers(False, runner.EXTRA_WORKER_MAX_BYTES) == (2, 2)


def test_an_unknown_core_count_is_one(monkeypatch):
    monkeypatch.setattr(runner.os, "cpu_count", lambda: None)
    assert runner.phase_workers(False, 0) == (1, 1)
