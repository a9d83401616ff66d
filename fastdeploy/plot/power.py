"""Canary analyses: detection power, P(abort) against the size of a regression, one curve
per analysis (each a sweep of its own scenario over the new version's regression)."""

from __future__ import annotations

import numpy as np

from . import _mpl
from .inputs import as_sweep
from .labels import fmt, param_label, param_unit
from .rollback import share_curve

COLORS = (_mpl.RED, _mpl.BLUE, _mpl.GREEN, _mpl.PURPLE, _mpl.ORANGE, _mpl.GREY)
MARKERS = ("o", "s", "^", "D", "v", "P")
MAX_VALUE_TICKS = 12  # a log x axis with at most this many values gets a tick at each


def outcome_deployers(summary) -> list[str]:
    """Deployer names with outcome columns (``<name>.outcome=<value>.mean``)."""
    return sorted({c.split(".outcome=")[0] for c in summary.column_names
                   if ".outcome=" in c})


def power_curve(data, parameter: str, deployer: str, outcome: str = "rolled_back"):
    """(x, p, low, high) sorted by x: P(``<deployer>.outcome`` == ``outcome``) per point
    of a sweep, with its 95% Wilson interval (0 of n where the summary has no column)."""
    return share_curve(data, parameter, f"{deployer}.outcome={outcome}")


def regression_label(paths, baseline=None) -> str:
    """The x axis's label: the swept path, or the dotted ending the paths share when the
    analyses' deployers differ (``canary.server.failure_rate`` and
    ``flagger.server.failure_rate``: ``server.failure_rate``), with its unit; with
    ``baseline``, as a multiple of it (``server.service_time.mean_latency (x baseline
    0.05 s)``). Paths with nothing in common: ``regression``."""
    rows = [p.split(".") for p in paths]
    common = []
    for parts in zip(*(reversed(r) for r in rows)):
        if len(set(parts)) != 1:
            break
        common.append(parts[0])
    path = ".".join(reversed(common)) or "regression"
    if baseline is None:
        return param_label(path)
    unit = param_unit(path)
    return f"{path} (x baseline {fmt(baseline)}{' ' + unit if unit else ''})"


def plot_power(sweeps, *, parameter=None, baseline=None, outcome: str = "rolled_back",
               labels=None, log=False, title=None, out=None):
    """P(abort) of each canary analysis against the size of a regression, with 95%
    Wilson intervals: the detection power (and, at no regression, the false aborts).

    Each sweep is one analysis (a CanaryDeployer with an evaluator, a FlaggerCanary, ...)
    swept over the new version's regression (e.g. ``canary.server.failure_rate`` or
    ``fl.server.service_time.mean_latency``); its deployer is the only one with outcome
    columns (``<name>.outcome=...``) in its summary, and P(abort) is
    P(``<name>.outcome`` = ``outcome``).

    Args:
        sweeps: One sweep or several (a list, or a dict {label: sweep}); each a
            SweepResult, summary or table, sweep output directory or
            ``_summary.parquet``.
        parameter: The swept path on x, the same for every sweep, or a list with one per
            sweep (default: each sweep's only swept parameter).
        baseline: Divide x by this (the baseline's value of the parameter), so that x is
            the regression as a multiple of the baseline (1 = no regression).
        outcome: The outcome plotted: ``rolled_back`` (default: the abort) or
            ``promoted``, ...
        labels: Legend labels, one per sweep (default: the dict keys, else each sweep's
            label and deployer).
        log: Log scale on x.
        title: The title.
        out: Save to this path (.png, .svg or .pdf).

    Returns:
        The matplotlib Figure.

    Raises:
        ValueError: no sweep, a sweep without a deployer's outcome or with several, a
            parameter a sweep did not sweep, labels that do not match (named).
    """
    if isinstance(sweeps, dict):
        items = [(k, as_sweep(v)) for k, v in sweeps.items()]
    else:
        seq = sweeps if isinstance(sweeps, (list, tuple)) else [sweeps]
        items = [(None, as_sweep(v)) for v in seq]
    if not items:
        raise ValueError("sweeps: no sweep to plot")
    if labels is not None:
        if len(labels) != len(items):
            raise ValueError(f"labels: {len(labels)} labels for {len(items)} sweeps")
        items = [(lab, d) for lab, (_, d) in zip(labels, items)]
    if parameter is None or isinstance(parameter, str):
        params = [parameter] * len(items)
    else:
        params = list(parameter)
        if len(params) != len(items):
            raise ValueError(f"parameter: {len(params)} parameters for {len(items)} sweeps")
    if baseline is not None and not (isinstance(baseline, (int, float)) and baseline > 0):
        raise ValueError(f"baseline must be a number > 0, got {baseline!r}")
    curves = []
    for i, ((lab, d), par) in enumerate(zip(items, params)):
        name = lab or d.label
        if par is None:
            if len(d.keys) != 1:
                raise ValueError(f"parameter: {name} swept {', '.join(d.keys) or 'nothing'}; "
                                 "choose the one on x (parameter=, --parameter in the CLI)")
            par = d.keys[0]
        if par not in d.keys:
            raise ValueError(f"parameter: {name} did not sweep {par} (it swept "
                             f"{', '.join(d.keys) or 'nothing'})")
        found = outcome_deployers(d.summary)
        if len(found) != 1:
            raise ValueError(f"sweeps: {name} has {'no' if not found else 'several'} "
                             "deployer outcome columns (<name>.outcome=...): "
                             f"{', '.join(found) or 'none'}; one analysis per sweep")
        x, p, lo, hi = power_curve(d, par, found[0], outcome)
        if baseline is not None:
            x = x / baseline
        curves.append((lab or f"{d.label}: {found[0]}", d, par, x, p, lo, hi))
    with _mpl.style():
        # The legend goes below the axes (a legend inside hid points): room for its lines.
        fig, ax = _mpl.figure(8.0, 4.8 + 0.22 * (len(curves) + 1))
        for i, (lab, d, _, x, p, lo, hi) in enumerate(curves):
            n = sorted(set(d.summary.column("n").to_pylist()))
            n_text = str(n[0]) if len(n) == 1 else f"{n[0]}-{n[-1]}"
            ax.errorbar(x, p, yerr=np.clip(np.vstack([p - lo, hi - p]), 0, None),
                        fmt="-" + MARKERS[i % len(MARKERS)], color=COLORS[i % len(COLORS)],
                        ms=5, lw=1.6, capsize=3, elinewidth=1,
                        label=f"{lab} (n = {n_text} per point)")
        if log:
            _mpl.log_axis(ax, "x")
            xs = np.unique(np.concatenate([c[3] for c in curves]))
            if 0 < len(xs) <= MAX_VALUE_TICKS:
                # A few regression sizes (1, 1.1, 1.25, ..., 3): a tick at each, since a
                # narrow log axis labels only 1 and 2.
                from matplotlib.ticker import FixedLocator, NullLocator

                ax.xaxis.set_major_locator(FixedLocator(xs))
                ax.xaxis.set_minor_locator(NullLocator())
        ax.set_ylim(-0.03, 1.03)
        from matplotlib.ticker import PercentFormatter

        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_xlabel(regression_label(sorted({c[2] for c in curves}), baseline))
        what = "abort" if outcome == "rolled_back" else outcome.replace("_", " ")
        ax.set_ylabel(f"P({what}) (%)")
        ax.set_title(_mpl.wrap(title or f"Detection power: P({what}) vs regression size", fig))
        fig.legend(loc="outside lower center", title="95% Wilson intervals",
                   title_fontsize=8, frameon=False)
    return _mpl.finish(fig, out)
