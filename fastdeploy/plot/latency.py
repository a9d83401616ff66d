"""Latency: the distribution of per-replica p99 latency and the pooled latency CDF."""

from __future__ import annotations

import math
from numbers import Real

import numpy as np

from . import _mpl
from .inputs import as_runs
from .labels import fmt, titled
from ..pooled import latency_grid, pooled_cdf, wide


def plot_latency(result, *, slo=None, point=None, log=None, title=None, out=None):
    """Two panels: a histogram of the replicas' p99 latency, and the pooled latency CDF.

    Args:
        result: A BatchResult, a per-replica table or Parquet file, or a SweepResult (or
            sweep directory) with ``point``.
        slo: A latency objective in seconds: drawn on both panels, with the share of
            replicas whose p99 meets it and the pooled P(latency <= slo).
        point: The sweep point to plot (index or dict of parameters).
        log: Latency axes in log scale; None (default) chooses log for a heavy tail: the
            replicas' p99 spanning more than a factor of 20, or their p50 and p99
            together more than 50.
        title: The figure title (default: ``<label>: latency``).
        out: Save to this path (.png, .svg or .pdf).

    Returns:
        The matplotlib Figure. The pooled CDF is rebuilt from each replica's mean, p50,
        p90, p95, p99 and max latency (see ``fastdeploy.pooled``): exact at those
        quantiles, interpolated between them.
    """
    runs = as_runs(result, point=point)
    if runs.table is None:
        raise ValueError("the latency plot needs the per-replica table (latency_p99, ...), "
                         "not a time series")
    if "latency_p99" not in runs.table.column_names:
        raise ValueError("the table has no latency_p99 column")
    p99 = runs.table.column("latency_p99").to_numpy(zero_copy_only=False).astype(float)
    p99 = p99[~np.isnan(p99)]
    if p99.size == 0:
        raise ValueError("no replica completed a request: there is no latency to plot")
    if slo is not None and not (isinstance(slo, Real) and 0 < slo < math.inf):
        raise ValueError(f"slo must be a latency in seconds > 0, got {slo!r}")
    if log is None:
        p50 = runs.table.column("latency_p50").to_numpy(zero_copy_only=False)
        log = wide(p99) or wide(np.concatenate([p50.astype(float), p99]), 50.0)
    grid = latency_grid(runs.table, log=log)
    cdf = pooled_cdf(runs.table, grid)

    with _mpl.style():
        fig, (left, right) = _mpl.figure(11.0, 4.5, ncols=2)
        # -- left: per-replica p99 ------------------------------------------------------
        # The engine's quantiles sit on 2%-wide histogram buckets: no more bins than
        # distinct values, or the histogram shows gaps that are only that rounding.
        nbins = min(40, max(5, int(np.sqrt(p99.size)) + 1), np.unique(p99).size)
        bins = (np.geomspace(p99.min(), p99.max() * 1.0001, nbins + 1)
                if log and p99.min() > 0 else nbins)
        left.hist(p99, bins=bins, color=_mpl.BLUE, alpha=0.75,
                  label=f"replicas ({p99.size})")
        med = float(np.median(p99))
        left.axvline(med, color="black", lw=1.2, ls="--", label=f"median {fmt(med)} s")
        if slo is not None:
            # An SLO far from the data keeps its legend entry, not the axis range.
            span = float(p99.max() - p99.min()) or float(p99.max())
            off = not (float(p99.min()) - span / 2 <= slo <= float(p99.max()) + span / 2)
            share = float(np.mean(p99 <= slo))
            left.axvline(slo, color=_mpl.RED, lw=1.6,
                         label=f"SLO {fmt(slo)} s: met by {share:.0%} of replicas"
                               + (" (off the scale)" if off else ""))
        if log:
            _mpl.log_axis(left, "x")
        left.set_xlabel("p99 latency of a replica (s, log scale)" if log
                        else "p99 latency of a replica (s)")
        left.set_ylabel("replicas")
        left.set_title("Per-replica p99 latency")
        if slo is not None and off:
            if log:
                left.set_xlim(p99.min() / 1.1, p99.max() * 1.1)
            else:
                left.set_xlim(p99.min() - span * 0.1, p99.max() + span * 0.1)
        left.set_ylim(0, left.get_ylim()[1] * 1.3)  # room for the legend
        left.legend(loc="best")
        # -- right: pooled CDF ----------------------------------------------------------
        right.plot(grid, cdf, color=_mpl.BLUE, lw=1.8,
                   label="all requests, pooled over replicas")
        q = {p: float(grid[min(np.searchsorted(cdf, p - 1e-12), grid.size - 1)])
             for p in (0.5, 0.99)}
        for p, ls in ((0.5, ":"), (0.99, "--")):
            right.axhline(p, color=_mpl.GREY, lw=0.8, ls=ls)
            right.plot([q[p]], [p], "o", color="black", ms=4,
                       label=f"pooled p{round(p * 100)}: {fmt(q[p])} s")
        if slo is not None:
            at = float(np.interp(slo, grid, cdf))
            right.axvline(slo, color=_mpl.RED, lw=1.6,
                          label=f"SLO {fmt(slo)} s: P(latency ≤ SLO) = {at:.2%}")
        if log:
            _mpl.log_axis(right, "x")
            right.set_xlim(float(grid[0]), float(grid[-1]))
        else:
            # The body and the tail, not the whole way out to the largest maximum.
            top = max(q[0.99] * 1.6, slo * 1.15 if slo else 0.0)
            right.set_xlim(0, min(top, float(grid[-1])))
        right.set_ylim(0, 1.02)
        right.set_xlabel("latency (s, log scale)" if log else "latency (s)")
        right.set_ylabel("P(latency ≤ x)")
        right.set_title("Pooled latency CDF (rebuilt from quantiles)")
        right.legend(loc="lower right")
        fig.suptitle(_mpl.wrap(title or titled(runs.label, "latency"), fig, 0.9),
                     fontweight="bold", fontsize=13)
    return _mpl.finish(fig, out)
