"""SLO attainment: the share of replicas meeting each service-level objective, with its
95% Wilson interval, against a swept parameter."""

from __future__ import annotations

import numpy as np

from ..slo import parse_slos
from . import _mpl
from .inputs import as_sweep, summary_with
from .labels import param_label, settings, short_names, titled
from .rollback import COLORS, MARKERS, _percent


def attainment_curves(data, slos, parameter: str):
    """[(slo, other settings, x, p, low, high)] sorted by x: one curve per objective and
    per combination of the other swept parameters."""
    summary = summary_with(data, slos)
    keys = [k for k in data.keys if k != parameter]
    x_all = np.asarray(summary.column(parameter).to_pylist(), dtype=np.float64)
    others = [tuple(summary.column(k).to_pylist()[i] for k in keys)
              for i in range(summary.num_rows)]
    curves = []
    for slo in slos:
        cols = [np.asarray(summary.column(f"{slo.name}.{f}").to_pylist(), dtype=np.float64)
                for f in ("mean", "ci_low", "ci_high")]
        for combo in dict.fromkeys(others):
            rows = np.array([o == combo for o in others])
            order = np.argsort(x_all[rows], kind="stable")
            x, p, lo, hi = (a[rows][order] for a in (x_all, *cols))
            curves.append((slo, dict(zip(keys, combo)), x, p, lo, hi))
    return curves


def plot_slo_attainment(sweep, slos, *, parameter=None, log=False, title=None, out=None):
    """P(a replica meets each objective) per sweep point, with 95% Wilson intervals.

    Args:
        sweep: A SweepResult, its table, a sweep output directory (its per-replica rows)
            or a summary that already has the objectives' columns (``Sweep.run(slos=)``).
        slos: One objective or several: ``"latency_p99<=0.5"`` or ``fastdeploy.slo.SLO``.
        parameter: The swept path on x (default: the sweep's only parameter); with
            several swept parameters, one curve per combination of the others.
        log: Log scale on x.
        title: The title.
        out: Save to this path (.png, .svg or .pdf).

    Returns:
        The matplotlib Figure.
    """
    objectives = parse_slos(slos)
    if not objectives:
        raise ValueError("the slo_attainment plot needs an objective (slos=, --slo "
                         "METRIC<=VALUE in the CLI), e.g. latency_p99<=0.5")
    data = as_sweep(sweep)
    if parameter is None:
        if len(data.keys) != 1:
            raise ValueError("choose the parameter on x (parameter=, --parameter in the "
                             f"CLI): the sweep varies {', '.join(data.keys) or 'nothing'}")
        parameter = data.keys[0]
    elif parameter not in data.keys:
        raise ValueError(f"{data.label} did not sweep {parameter} (it swept "
                         f"{', '.join(data.keys) or 'nothing'})")
    curves = attainment_curves(data, objectives, parameter)
    names = short_names([k for k in data.keys if k != parameter])
    with _mpl.style():
        fig, ax = _mpl.figure(8.0, 4.8)
        for i, (slo, other, x, p, lo, hi) in enumerate(curves):
            label = slo.name + (f" ({settings(other, names)})" if other else "")
            ax.errorbar(x, p, yerr=np.clip(np.vstack([p - lo, hi - p]), 0, None),
                        fmt="-" + MARKERS[i % len(MARKERS)], color=COLORS[i % len(COLORS)],
                        ms=5, lw=1.6, capsize=3, elinewidth=1, label=label)
        if log:
            _mpl.log_axis(ax, "x")
        ax.set_ylim(-0.03, 1.03)
        ax.yaxis.set_major_formatter(_percent())
        ax.set_xlabel(param_label(parameter))
        ax.set_ylabel("replicas meeting the objective (%)")
        n = sorted(set(data.summary.column("n").to_pylist()))
        n_text = str(n[0]) if len(n) == 1 else f"{n[0]}-{n[-1]}"
        name = short_names([parameter])[parameter]
        ax.set_title(_mpl.wrap(title or titled(data.label, f"SLO attainment vs {name}"), fig))
        ax.legend(loc="best", title=f"95% Wilson intervals, n = {n_text} per point",
                  title_fontsize=8)
    return _mpl.finish(fig, out)
