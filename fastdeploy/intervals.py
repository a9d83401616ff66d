"""Confidence intervals: the one place their math lives.

Student t intervals for means, paired differences (the mean of the differences) and
Welch's difference of two means; Wilson score intervals for probabilities. The
distributions come from ``scipy.stats``. Intervals are two-sided, 95% by default.
``clip`` cuts an interval to a metric's support (``fastdeploy.metrics``).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy import stats

CONFIDENCE = 0.95


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")


@lru_cache(maxsize=4096)
def t_quantile(p: float, df: float) -> float:
    """Quantile ``p`` of Student's t with ``df`` degrees of freedom (``scipy.stats.t``)."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be in (0, 1), got {p!r}")
    if not df > 0:
        raise ValueError(f"df must be > 0, got {df!r}")
    # Cached: sweeps ask for the same few df at every point and metric, and a scipy
    # ppf call costs tens of microseconds.
    return float(stats.t.ppf(p, df))


@lru_cache(maxsize=64)
def normal_quantile(p: float) -> float:
    """Quantile ``p`` of the standard normal distribution (``scipy.stats.norm``)."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be in (0, 1), got {p!r}")
    return float(stats.norm.ppf(p))


def _two_sided(confidence: float) -> float:
    """The upper quantile level of a two-sided interval: 0.975 for 95%."""
    _check_confidence(confidence)
    return 0.5 + confidence / 2


def t_half_width(values, confidence: float = CONFIDENCE) -> float:
    """Half-width of the t interval of the mean of ``values`` (NaN-free); inf below two
    values, where one sample says nothing about the spread."""
    x = np.asarray(values, dtype=np.float64)
    if x.size < 2:
        return math.inf
    return t_quantile(_two_sided(confidence), x.size - 1) * float(x.std(ddof=1)) / math.sqrt(x.size)


def mean_interval(values, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """(mean, low, high): the t interval of the mean of ``values`` (NaN-free).

    No values: (nan, nan, nan). One value: (mean, -inf, inf). A paired comparison is
    the mean interval of the differences.
    """
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        return math.nan, math.nan, math.nan
    m = float(x.mean())
    h = t_half_width(x, confidence)
    return m, m - h, m + h


def welch_interval(a, b, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """(mean(a) - mean(b), low, high): Welch's t interval for a difference of means of
    two independent samples (NaN-free).

    Either sample empty: NaNs; either with one value: (difference, -inf, inf).
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.size == 0 or b.size == 0:
        return math.nan, math.nan, math.nan
    d = float(a.mean() - b.mean())
    if a.size < 2 or b.size < 2:
        return d, -math.inf, math.inf
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    se2 = float(va + vb)
    if se2 == 0:
        return d, d, d
    # Welch-Satterthwaite degrees of freedom.
    df = se2 * se2 / (va * va / (a.size - 1) + vb * vb / (b.size - 1))
    h = t_quantile(_two_sided(confidence), float(df)) * math.sqrt(se2)
    return d, d - h, d + h


def wilson_interval(successes: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """(proportion, low, high): the Wilson score interval of ``successes`` out of ``n``.

    Equal to ``scipy.stats.binomtest(successes, n).proportion_ci(confidence,
    method="wilson")``, with the ends exact: 0 successes give a low end of exactly 0 and
    ``n`` successes a high end of exactly 1 (the closed form leaves rounding residue
    such as 4e-19 there).
    """
    if n <= 0:
        raise ValueError(f"n must be > 0, got {n!r}")
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be in [0, n], got {successes!r} of {n!r}")
    z = normal_quantile(_two_sided(confidence))
    p = successes / n
    # The closed form rather than binomtest: half_widths calls this for every point and
    # outcome after every round, and binomtest also computes a p-value we do not use.
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    lo = 0.0 if successes == 0 else max(0.0, centre - half)
    hi = 1.0 if successes == n else min(1.0, centre + half)
    return p, lo, hi


def clip(low: float, high: float, support: tuple[float, float]) -> tuple[float, float]:
    """(low, high) cut to ``support`` = (min, max): a count's t interval never goes below 0.

    NaN ends stay NaN (no values, nothing to clip).
    """
    s_lo, s_hi = support
    if not math.isnan(low):
        low = min(max(low, s_lo), s_hi)
    if not math.isnan(high):
        high = max(min(high, s_hi), s_lo)
    return low, high
