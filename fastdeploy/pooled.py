"""A pooled latency distribution, rebuilt from the per-replica summaries.

The batch engine keeps, per replica, the count of completed requests, the mean latency
and the p50, p90, p95, p99 and max latency (from a log-bucket histogram, within 1%), not
the latencies themselves. The pooled CDF here is:

- per replica, a distribution through the replica's quantiles: probability 0.5 on
  [L, p50], 0.4 on [p50, p90], 0.05 on [p90, p95] and 0.04 on [p95, p99], each piece
  exponential-shaped (log P(latency > x) linear in x, so exact for exponential
  latencies), and 0.01 spread evenly on [p99, max]. L is the lower end that makes the
  distribution's mean equal the replica's ``latency_mean``, clamped to [0, p50 * p50 /
  p90] (no relatively narrower below the median than above it: a heavy tail's excess
  mean is not piled up at p50). A table without ``latency_p95`` (written before the
  engine reported it) is modelled without that knot;
- pooled: the mixture of the replicas' distributions weighted by
  ``requests_completed``, i.e. the distribution of the latency of a request drawn at
  random from all requests of all replicas, under that per-replica model.

It is exact (to the histogram's 1%) at each replica's p50, p90, p95, p99 and max, and
interpolated between them; below the medians it is shaped only by the means. Replicas
that completed no request have no latencies and are left out. The exact pooled CDF would
need the engine's per-replica latency histograms (summed over replicas), which
``BatchResult`` does not return.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq

# The per-replica quantile columns and their levels; latency_p95 may be missing.
QUANTILE_COLUMNS = (("latency_p50", 0.5), ("latency_p90", 0.9), ("latency_p95", 0.95),
                    ("latency_p99", 0.99))
OPTIONAL = {"latency_p95"}
REQUIRED = ("requests_completed", "latency_mean", "latency_max")


def _column(table, name) -> np.ndarray:
    return table.column(name).to_numpy(zero_copy_only=False).astype(np.float64)


def knot_levels(table) -> np.ndarray:
    """The cumulative probabilities of the model's knots for this table: 0, each quantile
    column present, 1."""
    levels = [q for c, q in QUANTILE_COLUMNS if c in table.column_names]
    return np.array([0.0, *levels, 1.0])


def replica_knots(table) -> tuple[np.ndarray, np.ndarray]:
    """(x, weights): x[i] = latencies (s) at cumulative probabilities ``knot_levels``
    for replica i, non-decreasing; weights = requests completed. Replicas with no
    completed request are dropped."""
    names = table.column_names
    missing = [c for c in REQUIRED + tuple(c for c, _ in QUANTILE_COLUMNS)
               if c not in names and c not in OPTIONAL]
    if missing:
        raise ValueError(f"the table has no {', '.join(missing)} column(s): the pooled "
                         "latency needs a batch run's per-replica table")
    quantiles = [_column(table, c) for c, _ in QUANTILE_COLUMNS if c in names]
    n, mean, mx = (_column(table, c) for c in REQUIRED)
    p50 = quantiles[0]
    keep = (n > 0) & ~np.isnan(p50) & ~np.isnan(mean)
    upper = np.maximum.accumulate(np.stack(quantiles + [mx], axis=1)[keep], axis=1)
    n, mean = n[keep], mean[keep]
    knots = knot_levels(table)
    # The model's mean is sum(mass x mean of the piece); solve it for L.
    mass = np.diff(knots)
    pos = [_tail_mean(_ratio(knots, k)) if k < len(mass) - 1 else 0.5
           for k in range(len(mass))]
    ends = upper.T
    rest = sum(mass[k] * (ends[k - 1] + (ends[k] - ends[k - 1]) * pos[k])
               for k in range(1, len(mass)))
    p50, p90 = ends[0], ends[1]
    low = ((mean - rest) / mass[0] - p50 * pos[0]) / (1.0 - pos[0])
    # At most p50 * p50 / p90: relatively no narrower below the median than above it. A
    # tight distribution (p90 = p50) may sit at p50; a heavy tail's excess mean stays in
    # the tail instead of piling the lower half up at p50.
    cap = np.where(p90 > 0, p50 * p50 / np.where(p90 > 0, p90, 1.0), p50)
    low = np.clip(low, 0.0, cap)
    return np.column_stack([low, upper]), n


def pooled_cdf(table, grid) -> np.ndarray:
    """P(latency <= x) for each x of ``grid`` (seconds), pooled over all requests."""
    x, w = replica_knots(table)
    if w.sum() == 0:
        raise ValueError("no replica completed a request: there is no latency to plot")
    return _mixture_cdf(x, w, knot_levels(table), np.asarray(grid, dtype=np.float64))


def _mixture_cdf(x, w, knots, grid) -> np.ndarray:
    cdf = np.zeros_like(grid)
    for xi, wi in zip(x, w):
        cdf += wi * _replica_cdf(xi, knots, grid)
    return cdf / w.sum()


def _ratio(knots, k: int) -> float:
    """P(latency > end of segment k) / P(latency > its start)."""
    return (1.0 - knots[k + 1]) / (1.0 - knots[k])


def _tail_mean(rho: float) -> float:
    """Mean position in [0, 1] of an exponential piece whose survival falls by ``rho``
    (the mean of a density proportional to rho**u on [0, 1])."""
    return 1.0 / np.log(1.0 / rho) - rho / (1.0 - rho)


def _replica_cdf(x: np.ndarray, knots: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """The model CDF through (x[k], knots[k]); a zero-width segment is a jump; every
    segment but the last (uniform) is an exponential piece."""
    out = np.zeros_like(grid)
    for k in range(len(knots) - 1):
        a, b = x[k], x[k + 1]
        mass = knots[k + 1] - knots[k]
        if b > a:
            u = np.clip((grid - a) / (b - a), 0.0, 1.0)
            if k < len(knots) - 2:
                rho = _ratio(knots, k)
                u = (1.0 - rho ** u) / (1.0 - rho)
            out += mass * u
        else:
            out += mass * (grid >= a)
    return out


def pooled_quantile(table, q: float) -> float:
    """The q-quantile (seconds) of the pooled distribution: the smallest latency whose
    pooled CDF reaches ``q`` (0 < q < 1), found to 1e-9 relative precision."""
    if not 0.0 < q < 1.0:
        raise ValueError(f"q must be in (0, 1), got {q!r}")
    x, w = replica_knots(table)
    if w.sum() == 0:
        raise ValueError("no replica completed a request: there is no pooled latency")
    knots = knot_levels(table)
    lo, hi = float(x.min()), float(x.max())
    f = lambda v: _mixture_cdf(x, w, knots, np.array([v]))[0] - q  # noqa: E731
    if f(lo) >= 0:
        return lo
    # The CDF is continuous except at jumps (zero-width pieces): brentq finds the point
    # where it crosses q, or the jump that steps over q.
    return float(brentq(f, lo, hi, xtol=1e-12, rtol=1e-9))


def latency_grid(table, points: int = 600, log: bool = False) -> np.ndarray:
    """Evaluation points (seconds) up to the largest replica max latency, with every
    replica knot added so the tail is drawn finely: from 0 evenly spaced, or with
    ``log`` geometrically spaced from a third of the smallest replica median."""
    x, _ = replica_knots(table)
    if x.size == 0:
        raise ValueError("no replica completed a request: there is no latency to plot")
    top = float(x[:, -1].max())
    knots = np.unique(x.ravel())
    if knots.size > points:
        knots = np.quantile(knots, np.linspace(0, 1, points))
    if log:
        positive = x[:, 1][x[:, 1] > 0]
        low = float(positive.min()) / 3 if positive.size else top / 1e3
        base = np.geomspace(low, max(top, low * 10), points)
        return np.unique(np.concatenate([base, knots[knots >= low]]))
    return np.unique(np.concatenate([np.linspace(0.0, top, points), knots]))


def wide(values, ratio: float = 20.0) -> bool:
    """True when positive ``values`` span more than ``ratio`` (a log axis reads better)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[(v > 0) & ~np.isnan(v)]
    return v.size > 1 and float(v.max() / v.min()) > ratio
