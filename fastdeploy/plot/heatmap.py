"""Sweeps: a heat map of one metric over a 2-parameter grid."""

from __future__ import annotations

import numpy as np

from . import _mpl
from .inputs import as_sweep
from .labels import fmt, metric_label, metric_name, param_label, short_names, titled

MAX_CELLS = 900


def heatmap_axes(keys, x=None, y=None) -> tuple[str, str]:
    """(x path, y path) of a heat map over a sweep of ``keys``: the two swept paths (the
    last one on x) unless given. ValueError when they cannot be chosen."""
    keys = list(keys)
    if x is None and y is None:
        if len(keys) != 2:
            raise ValueError(f"a heat map needs a sweep of 2 parameters; this one has "
                             f"{len(keys)} ({', '.join(keys) or 'none'}): choose x and y")
        x, y = keys[1], keys[0]   # grid order: the last path varies fastest -> columns
    elif x is None or y is None:
        rest = [k for k in keys if k != (x or y)]
        if len(rest) != 1:
            raise ValueError("give both x and y (swept parameters: " + ", ".join(keys) + ")")
        x, y = (rest[0], y) if x is None else (x, rest[0])
    for p in (x, y):
        if p not in keys:
            raise ValueError(f"{p!r} is not a swept parameter ({', '.join(keys)})")
    if x == y:
        raise ValueError("x and y must be two different parameters")
    return x, y


def grid_values(sweep_data, metric: str, stat: str = "mean", x=None, y=None):
    """(x path, y path, x values, y values, values[len(y), len(x)]) of a 2-parameter grid;
    cells no point covers are NaN. ValueError when the sweep is not such a grid."""
    keys = list(sweep_data.keys)
    x, y = heatmap_axes(keys, x, y)
    others = [k for k in keys if k not in (x, y)]
    s = sweep_data.summary
    col = f"{metric}.{stat}"
    if col not in s.column_names:
        have = sorted({c.rsplit(".", 1)[0] for c in s.column_names if c.endswith(".mean")})
        raise ValueError(f"the sweep summary has no {col!r}; metrics: {', '.join(have)}")
    for k in others:
        if len(set(s.column(k).to_pylist())) > 1:
            raise ValueError(f"the sweep also varies {k}: a heat map over {x} and {y} "
                             "would mix its values (plot a sweep of 2 parameters)")
    xs, ys = s.column(x).to_pylist(), s.column(y).to_pylist()
    xv, yv = sorted(set(xs)), sorted(set(ys))
    if len(xv) * len(yv) > MAX_CELLS:
        raise ValueError(f"{len(xv)} x {len(yv)} distinct values: not a grid (a random or "
                         "Latin hypercube sweep?); a heat map needs a grid sweep")
    values = np.full((len(yv), len(xv)), np.nan)
    seen = np.zeros_like(values, bool)
    for xi, yi, v in zip(xs, ys, s.column(col).to_pylist()):
        i, j = yv.index(yi), xv.index(xi)
        if seen[i, j]:
            raise ValueError(f"two points at {x}={fmt(xi)}, {y}={fmt(yi)}: not a grid")
        seen[i, j] = True
        values[i, j] = np.nan if v is None else v
    return x, y, xv, yv, values


def plot_heatmap(sweep, *, metric: str = "latency_p99", stat: str = "mean", x=None, y=None,
                 title=None, out=None):
    """A heat map of ``metric`` over a grid of two swept parameters, each cell annotated.

    Args:
        sweep: A SweepResult, its summary or table, a sweep output directory or its
            ``_summary.parquet``; a grid over two parameters.
        metric: A metric of the summary (``latency_p99``, ``instance_seconds``,
            ``requests_rejected``, ``canary.end_time``, ...) or an outcome probability
            ``<deployer>.status=<value>`` (its ``mean`` is the probability).
        stat: Which statistic per point: ``mean`` (default), ``p50``, ``p90``, ``p95``, ``p99``
            (percentiles across replicas, not for outcomes), ``ci_low``/``ci_high``.
        x, y: The parameters on the axes (default: the grid's last path on x).
        title: The title.
        out: Save to this path (.png, .svg or .pdf).

    Returns:
        The matplotlib Figure; the colour bar is labelled with the metric and its unit.
    """
    data = as_sweep(sweep)
    x, y, xv, yv, values = grid_values(data, metric, stat, x, y)
    names = short_names(data.keys)
    outcome = "status=" in metric
    with _mpl.style():
        w = min(11.0, max(6.5, 1.0 * len(xv) + 3.5))
        h = min(8.0, max(4.5, 0.55 * len(yv) + 2.5))
        fig, ax = _mpl.figure(w, h)
        cmap = "viridis"
        mesh = ax.imshow(values, origin="lower", aspect="auto", cmap=cmap,
                         interpolation="nearest")
        ax.grid(False)
        ax.set_xticks(range(len(xv)), [fmt(v) for v in xv])
        ax.set_yticks(range(len(yv)), [fmt(v) for v in yv])
        ax.set_xlabel(param_label(x))
        ax.set_ylabel(param_label(y))
        if len(xv) * len(yv) <= 150:
            finite = values[np.isfinite(values)]
            mid = (finite.min() + finite.max()) / 2 if finite.size else 0.0
            for i in range(len(yv)):
                for j in range(len(xv)):
                    v = values[i, j]
                    text = "n/a" if np.isnan(v) else (f"{v:.0%}" if outcome else fmt(v))
                    color = "black" if np.isnan(v) or v > mid else "white"
                    ax.text(j, i, text, ha="center", va="center", fontsize=8, color=color)
        if outcome:
            who, status = metric.split(".status=")
            label = f"P({who} {status.replace('_', ' ')})"
            name = label
        else:
            label = metric_label(metric, stat)
            name = {"mean": f"mean {metric_name(metric)}",
                    "ci_low": f"lower 95% bound of the mean {metric_name(metric)}",
                    "ci_high": f"upper 95% bound of the mean {metric_name(metric)}",
                    }.get(stat, f"{stat} across replicas of {metric_name(metric)}")
        bar = fig.colorbar(mesh, ax=ax)
        bar.set_label(label)
        if outcome:
            from matplotlib.ticker import PercentFormatter

            bar.ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        text = title or titled(data.label, f"{name} by {names[x]} and {names[y]}")
        ax.set_title(_mpl.wrap(text, fig, 0.85))
    return _mpl.finish(fig, out)
