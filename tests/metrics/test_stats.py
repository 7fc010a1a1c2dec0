import math

import pytest
from scipy import stats as sps

from selfcheck.config import Standards
from selfcheck.metrics import stats
from selfcheck.metrics.base import Measure
from selfcheck.metrics.evaluate import evaluate


def test_wilson_interval_by_hand():
    # 8 of 10: centre (0.8 + z²/20)/(1 + z²/10), half-width z·sqrt(p(1-p)/n + z²/4n²)/(1 + z²/10)
    lo, hi = stats.wilson(8, 10)
    assert lo == pytest.approx(0.490162, abs=1e-6)
    assert hi == pytest.approx(0.943318, abs=1e-6)
    assert stats.wilson(0, 0) is None
    lo, hi = stats.wilson(0, 20)
    assert lo == 0.0 and hi == pytest.approx(0.161125, abs=1e-6)


def test_mean_interval_by_hand():
    lo, hi = stats.mean_interval(85.0, 10.0, 25)  # t(0.975, 24) = 2.063899
    assert lo == pytest.approx(85 - 2.063899 * 2, abs=1e-5)
    assert hi == pytest.approx(85 + 2.063899 * 2, abs=1e-5)
    assert stats.mean_interval(85.0, 10.0, 1) is None
    assert stats.mean_interval(85.0, None, 30) is None


def test_two_proportions_by_hand():
    # 45/100 vs 30/100: pooled 0.375, se = sqrt(0.375·0.625·0.02), z = 0.15/se = 2.19089
    p = stats.two_proportions_p(45, 100, 30, 100)
    assert p == pytest.approx(0.028459, abs=1e-6)
    assert stats.two_proportions_p(10, 10, 20, 20) is None  # no variance
    assert stats.two_proportions_p(1, 0, 1, 5) is None


def test_welch_by_hand():
    # se² = 100/50 + 144/40 = 5.6; t = 5/sqrt(5.6); Welch–Satterthwaite df = 5.6²/(2²/49 + 3.6²/39)
    t = 5 / math.sqrt(5.6)
    df = 5.6**2 / (2**2 / 49 + 3.6**2 / 39)
    expected = 2 * sps.t.sf(t, df)
    assert df == pytest.approx(75.759, abs=1e-3)
    assert stats.welch_p(85, 10, 50, 80, 12, 40) == pytest.approx(expected, rel=1e-9)
    assert 0.03 < expected < 0.045
    assert stats.welch_p(85, 10, 1, 80, 12, 40) is None


def test_evaluate_attaches_interval_small_sample_and_p_value():
    from pathlib import Path
    from types import MappingProxyType

    std = Standards(Path("x"), MappingProxyType({}))
    current = {
        "satisfaction.top_box_rate": Measure(0.45, 45, 100, 100, sampled=True),
        "satisfaction.index": Measure(85.0, None, None, 25, sampled=True, sd=10.0),
        "phone.answer_rate": Measure(0.9, 90, 100, 100),
    }
    previous = {
        "satisfaction.top_box_rate": Measure(0.30, 30, 100, 100, sampled=True),
        "satisfaction.index": Measure(80.0, None, None, 40, sampled=True, sd=12.0),
    }
    m = {
        x.metric_id: x
        for x in evaluate(current, std, section="s", previous=previous, min_sample=30)
    }
    rate = m["satisfaction.top_box_rate"]
    assert rate.p_value == pytest.approx(0.028459, abs=1e-6) and rate.significant
    assert (rate.ci_low, rate.ci_high) == pytest.approx(stats.wilson(45, 100))
    assert rate.small_sample is False
    index = m["satisfaction.index"]
    assert index.small_sample is True  # n = 25 < 30
    assert index.ci_low == pytest.approx(85 - 2.063899 * 2, abs=1e-5)
    assert index.p_value == pytest.approx(stats.welch_p(85, 10, 25, 80, 12, 40))
    plain = m["phone.answer_rate"]
    assert (plain.ci_low, plain.p_value, plain.small_sample) == (None, None, False)
