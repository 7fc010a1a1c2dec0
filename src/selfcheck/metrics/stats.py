"""Statistics for sampled measures: 95 % intervals and tests of the change on last quarter.

Rates use the Wilson score interval and a two-sided test of two independent
proportions (pooled z); means (satisfaction indexes, quality scores) use a
t interval and Welch's t test from summary statistics. All from scipy.
"""

from __future__ import annotations

import math

from scipy import stats

CONFIDENCE = 0.95
ALPHA = 0.05


def wilson(k: float, n: float, confidence: float = CONFIDENCE) -> tuple[float, float] | None:
    """Wilson score interval of k successes out of n; None when n is 0."""
    k, n = round(k), round(n)
    if n <= 0:
        return None
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


def mean_interval(
    mean: float, sd: float | None, n: int, confidence: float = CONFIDENCE
) -> tuple[float, float] | None:
    """t interval of a mean from its sample standard deviation (ddof=1); None when n < 2."""
    if sd is None or n is None or n < 2 or math.isnan(sd):
        return None
    half = stats.t.ppf(0.5 + confidence / 2, df=n - 1) * sd / math.sqrt(n)
    return float(mean - half), float(mean + half)


def two_proportions_p(k1: float, n1: float, k2: float, n2: float) -> float | None:
    """Two-sided p-value of H0: p1 == p2 (pooled z test); None when it cannot be tested."""
    if n1 <= 0 or n2 <= 0:
        return None
    pooled = (k1 + k2) / (n1 + n2)
    if pooled <= 0 or pooled >= 1:
        return None  # both samples all-or-nothing: no variance, no test
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    z = (k1 / n1 - k2 / n2) / se
    return float(2 * stats.norm.sf(abs(z)))


def welch_p(
    m1: float, s1: float | None, n1: int, m2: float, s2: float | None, n2: int
) -> float | None:
    """Two-sided p-value of Welch's t test from summary statistics; None when untestable."""
    if None in (s1, s2) or n1 is None or n2 is None or n1 < 2 or n2 < 2:
        return None
    if s1 == 0 and s2 == 0:  # type: ignore[comparison-overlap]
        return None
    res = stats.ttest_ind_from_stats(m1, s1, n1, m2, s2, n2, equal_var=False)
    return float(res.pvalue)
