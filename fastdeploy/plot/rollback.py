"""Deployments: the probability of a rollback against a swept parameter, one curve per
sweep (e.g. a bad canary's detection power and a good canary's false alarms)."""

from __future__ import annotations

import numpy as np

from ..intervals import wilson_interval
from . import _mpl
from .inputs import as_sweep, shared_deployer
from .labels import param_label, short_names

COLORS = (_mpl.RED, _mpl.BLUE, _mpl.GREEN, _mpl.PURPLE, _mpl.ORANGE, _mpl.GREY)
MARKERS = ("o", "s", "^", "D", "v", "P")


def deployers(summary) -> list[str]:
    """Deployer names with outcome columns (``<name>.status=<value>.mean``) in a summary."""
    return sorted({c.split(".status=")[0] for c in summary.column_names if ".status=" in c})


def outcome_curve(data, parameter: str, deployer: str, status: str = "rolled_back"):
    """(x, p, low, high) sorted by x: P(deployer ended ``status``) per point, with its 95%
    Wilson interval. A status never seen in the sweep has p = 0 at every point (the
    summary then has no column for it; the interval is Wilson's for 0 of n)."""
    return share_curve(data, parameter, f"{deployer}.status={status}")


def share_curve(data, parameter: str, column: str):
    """(x, p, low, high) sorted by x: the share of replicas in category ``column`` (a
    summary's ``<column>.mean``, such as ``canary.status=rolled_back``) per point of a
    sweep, with its 95% Wilson interval (0 of n where the summary has no such column)."""
    s = data.summary
    x = np.asarray(s.column(parameter).to_pylist(), dtype=np.float64)
    if f"{column}.mean" in s.column_names:
        p, lo, hi = (np.asarray(s.column(f"{column}.{k}").to_pylist(), dtype=np.float64)
                     for k in ("mean", "ci_low", "ci_high"))
    else:
        n = s.column("n").to_pylist()
        p, lo, hi = (np.asarray(v) for v in zip(*(wilson_interval(0, int(k)) for k in n)))
    order = np.argsort(x, kind="stable")
    return x[order], p[order], lo[order], hi[order]


def plot_rollback(sweeps, *, parameter=None, deployer=None, status: str = "rolled_back",
                  labels=None, log=False, title=None, out=None):
    """P(rollback) against a swept parameter with 95% Wilson intervals, one curve per sweep.

    Args:
        sweeps: One sweep or several (a list, or a dict {label: sweep}); each a
            SweepResult, summary or table, sweep output directory or ``_summary.parquet``,
            swept over the same parameter. The classic pair: the same canary sweep on a
            bad new version (the curve is the detection power) and on a good one (the
            false alarm rate).
        parameter: The swept path on x (default: the sweeps' only parameter).
        deployer: The deployer whose outcome is plotted (default: the only one).
        status: The outcome: ``rolled_back`` (default) or ``completed``, ...
        labels: Legend labels, one per sweep (default: the dict keys, else each sweep's
            label: its directory or scenario name).
        log: Log scale on x.
        title: The title.
        out: Save to this path (.png, .svg or .pdf).

    Returns:
        The matplotlib Figure.
    """
    if isinstance(sweeps, dict):
        items = [(k, as_sweep(v)) for k, v in sweeps.items()]
    else:
        seq = sweeps if isinstance(sweeps, (list, tuple)) else [sweeps]
        items = [(None, as_sweep(v)) for v in seq]
    if labels is not None:
        if len(labels) != len(items):
            raise ValueError(f"{len(labels)} labels for {len(items)} sweeps")
        items = [(lab, d) for lab, (_, d) in zip(labels, items)]
    items = [(lab or d.label, d) for lab, d in items]
    if not items:
        raise ValueError("no sweep to plot")
    if parameter is None:
        common = set(items[0][1].keys).intersection(*(d.keys for _, d in items[1:]))
        if len(common) != 1:
            raise ValueError("choose the parameter on x (parameter=, --parameter in the "
                             f"CLI): the sweeps share {', '.join(sorted(common)) or 'none'}")
        parameter = common.pop()
    if deployer is None:
        deployer = shared_deployer([deployers(d.summary) for _, d in items],
                                   "no deployer outcome in the sweep summaries (no "
                                   "<name>.status=<value> columns): a canary or rolling sweep?")
    for lab, d in items:
        if parameter not in d.keys:
            raise ValueError(f"{lab} did not sweep {parameter} (it swept "
                             f"{', '.join(d.keys) or 'nothing'})")
        if not any(c.startswith(f"{deployer}.status=") for c in d.summary.column_names):
            raise ValueError(f"{lab} has no outcome of a deployer named {deployer!r} "
                             f"(deployers: {', '.join(deployers(d.summary)) or 'none'})")
    with _mpl.style():
        fig, ax = _mpl.figure(8.0, 4.8)
        for i, (lab, d) in enumerate(items):
            x, p, lo, hi = outcome_curve(d, parameter, deployer, status)
            c = COLORS[i % len(COLORS)]
            ax.errorbar(x, p, yerr=np.clip(np.vstack([p - lo, hi - p]), 0, None), fmt="-" + MARKERS[i % 6],
                        color=c, ms=5, lw=1.6, capsize=3, elinewidth=1,
                        label=f"{lab} (n = {_n_text(d)} per point)")
        if log:
            _mpl.log_axis(ax, "x")
        ax.set_ylim(-0.03, 1.03)
        ax.yaxis.set_major_formatter(_percent())
        ax.set_xlabel(param_label(parameter))
        what = status.replace("_", " ")
        ax.set_ylabel(f"P({deployer} {what}) (%)")
        name = short_names([parameter])[parameter]
        ax.set_title(_mpl.wrap(title or f"Probability of "
                               f"{'rollback' if status == 'rolled_back' else what} vs {name}",
                               fig))
        ax.legend(loc="best", title="95% Wilson intervals", title_fontsize=8)
    return _mpl.finish(fig, out)


def _n_text(d) -> str:
    n = sorted(set(d.summary.column("n").to_pylist()))
    return str(n[0]) if len(n) == 1 else f"{n[0]}-{n[-1]}"


def _percent():
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(1.0, decimals=0)
