"""Sweeps: cost against p99 latency per point, with the Pareto front labelled."""

from __future__ import annotations

from itertools import pairwise

import numpy as np

from . import _mpl
from .inputs import as_sweep
from .labels import (
    fmt,
    metric_label,
    metric_name,
    param_unit,
    short_names,
    titled,
    with_unit,
)
from .pareto import pareto_front
from .placement import place_labels
from ..pooled import wide


def _stat(summary, metric: str, stat: str) -> np.ndarray:
    name = f"{metric}.{stat}"
    if name not in summary.column_names:
        have = sorted({c.rsplit(".", 1)[0] for c in summary.column_names if c.endswith(".mean")})
        raise ValueError(f"the sweep summary has no {name!r}; metrics: {', '.join(have)}")
    return np.asarray(summary.column(name).to_pylist(), dtype=np.float64)


def coincident(x, y, rel: float = 1e-9) -> list[list[int]]:
    """Groups (two or more indices, in order) of points drawn at the same place: equal x
    and y to ``rel`` of each axis' span. Common random numbers make this common: a
    parameter that changes nothing in a run gives identical means."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        return []
    tx = rel * max(np.ptp(x[ok]), abs(x[ok]).max(), 1e-300)
    ty = rel * max(np.ptp(y[ok]), abs(y[ok]).max(), 1e-300)
    seen = np.zeros(x.size, bool)
    groups = []
    for i in np.flatnonzero(ok):
        if seen[i]:
            continue
        same = np.flatnonzero(ok & (np.abs(x - x[i]) <= tx) & (np.abs(y - y[i]) <= ty))
        seen[same] = True
        if same.size > 1:
            groups.append([int(j) for j in same])
    return groups


def plot_tradeoff(sweep, *, x: str = "instance_seconds", y: str = "latency_p99",
                  log=None, title=None, out=None):
    """Each point's mean cost against its mean p99 latency, with 95% confidence bars,
    and the Pareto front (no other point is cheaper and faster) labelled with its settings.
    Points with equal means are drawn once and marked ``×k`` (k points); a front label
    then names the first setting and how many more share it.

    Args:
        sweep: A SweepResult, its summary or table, a sweep output directory or its
            ``_summary.parquet``.
        x, y: The metrics on the axes (both minimised): default ``instance_seconds``
            (cost) and ``latency_p99`` (each replica's p99, averaged over replicas).
        log: Log scale: True/False for both axes, a pair for (x, y), or None (default):
            an axis whose values span more than a factor of 10 is in log scale.
        title: The title (default: ``<label>: cost vs p99 latency (N points)``).
        out: Save to this path (.png, .svg or .pdf).

    Returns:
        The matplotlib Figure.
    """
    data = as_sweep(sweep)
    s = data.summary
    xm, xl, xh = (_stat(s, x, k) for k in ("mean", "ci_low", "ci_high"))
    ym, yl, yh = (_stat(s, y, k) for k in ("mean", "ci_low", "ci_high"))
    xl, yl = np.maximum(xl, 0.0), np.maximum(yl, 0.0)   # for the label placement too
    groups = coincident(xm, ym)
    shared = {g[0]: g for g in groups}
    hidden = {j for g in groups for j in g[1:]}
    front = np.array([i for i in pareto_front(xm, ym) if i not in hidden], dtype=np.int64)
    on = np.zeros(xm.size, bool)
    on[front] = True
    names = short_names(data.keys)
    points = data.points

    def err(m, lo, hi):
        # Intervals are infinite with one replica: no bar then. Costs and latencies are
        # never negative: a bar (a t interval of few replicas) stops at 0.
        low, high = m - lo, hi - m
        bad = ~np.isfinite(low) | ~np.isfinite(high)
        return np.where(bad, 0.0, np.vstack([low, high]))

    with _mpl.style():
        fig, ax = _mpl.figure(8.5, 5.5)
        rest = ~on
        rest[list(hidden)] = False
        if rest.any():
            ax.errorbar(xm[rest], ym[rest], xerr=err(xm, xl, xh)[:, rest],
                        yerr=err(ym, yl, yh)[:, rest], fmt="o", ms=5, color=_mpl.GREY,
                        ecolor=_mpl.GREY, elinewidth=1, capsize=2, alpha=0.8,
                        label="sweep point (mean, 95% CI)")
        ax.errorbar(xm[on], ym[on], xerr=err(xm, xl, xh)[:, on], yerr=err(ym, yl, yh)[:, on],
                    fmt="o", ms=7, color=_mpl.RED, ecolor=_mpl.RED, elinewidth=1.2,
                    capsize=2.5, zorder=3, label="Pareto front (mean, 95% CI), labelled\n"
                    + ", ".join(with_unit(names[k], param_unit(k)) for k in data.keys))
        if front.size > 1:
            ax.step(xm[front], ym[front], where="post", color=_mpl.RED, lw=1, ls="--",
                    alpha=0.7, zorder=2)
        logx, logy = (log, log) if log is None or isinstance(log, bool) else log
        logx = wide(xm, 10.0) if logx is None else logx
        logy = wide(ym, 10.0) if logy is None else logy
        if logx:
            _mpl.log_axis(ax, "x")
        if logy:
            _mpl.log_axis(ax, "y")
        ax.set_xlabel(metric_label(x, "mean", log=logx))
        ax.set_ylabel(metric_label(y, "mean", log=logy))
        ax.set_title(_mpl.wrap(title or titled(
            data.label, f"{metric_name(x)} vs {metric_name(y)} ({len(points)} points)"), fig))
        for first, group in shared.items():
            ax.annotate(f"×{len(group)}", (xm[first], ym[first]), xytext=(-6, -4),
                        textcoords="offset points", ha="right", va="top", fontsize=7,
                        color=_mpl.RED if on[first] else "#555555")
        if shared:
            ax.plot([], [], " ", label="×k: k points with equal means, drawn once")
        ax.legend(loc="upper right")
        ax.margins(0.12)
        # Values only, in the order the legend names them: short labels place cleanly.
        texts = [", ".join(fmt(points[i][k]) for k in data.keys)
                 + (f" (+{len(shared[i]) - 1} same)" if i in shared else "") for i in front]
        segments = []
        for i in range(xm.size):
            segments += [((xl[i], ym[i]), (xh[i], ym[i])), ((xm[i], yl[i]), (xm[i], yh[i]))]
        for a, b in pairwise(front):   # the front's steps
            segments += [((xm[a], ym[a]), (xm[b], ym[a])), ((xm[b], ym[a]), (xm[b], ym[b]))]
        place_labels(ax, xm[front], ym[front], texts, avoid_points=np.column_stack(
            [xm[rest], ym[rest]]), avoid_segments=segments, fontsize=7.5, color="#8b0000")
    return _mpl.finish(fig, out)
