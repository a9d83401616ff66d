"""Deployments: how long deployments take, by outcome."""

from __future__ import annotations

import numpy as np

from . import _mpl
from .inputs import as_runs, shared_deployer

STATUS_COLORS = {"completed": _mpl.GREEN, "rolled_back": _mpl.RED}
STATUS_NAMES = {"completed": "completed", "rolled_back": "rolled back"}


def deployer_names(table) -> list[str]:
    """Deployers with a ``<name>.status`` column in a per-replica table."""
    return [c[:-len(".status")] for c in table.column_names if c.endswith(".status")]


def deploy_start(simulation, deployer: str):
    """When ``deployer``'s deployment starts in ``simulation`` (seconds): the time of its
    earliest scheduled deploy event; None when unknown."""
    if simulation is None:
        return None
    from ..argo.canary import DEPLOY_EVENT as ARGO_DEPLOY
    from ..deployment.canary import DEPLOY_EVENT as CANARY_DEPLOY
    from ..deployment.rolling import DEPLOY_EVENT as ROLLING_DEPLOY
    from ..flagger import DEPLOY_EVENT as FLAGGER_DEPLOY

    times = [e.time.to_seconds() for e in getattr(simulation, "_pending", ())
             if e.event_type in (CANARY_DEPLOY, ROLLING_DEPLOY, FLAGGER_DEPLOY, ARGO_DEPLOY)
             and getattr(e.target, "name", None) == deployer]
    return min(times) if times else None


def durations(table, deployer: str, start=None) -> dict[str, np.ndarray]:
    """{status: durations (s)} of the deployments that ended: ``end_time - start``
    (``start`` None: the end times themselves); ``unfinished`` counts the others."""
    status = np.asarray(table.column(f"{deployer}.status").to_pylist(), dtype=object)
    end = table.column(f"{deployer}.end_time").to_numpy(zero_copy_only=False).astype(float)
    out = {}
    for s in ("completed", "rolled_back"):
        v = end[(status == s) & ~np.isnan(end)]
        out[s] = v - start if start is not None else v
    out["unfinished"] = np.asarray(int(np.sum(np.isnan(end))))
    return out


def plot_durations(results, *, deployer=None, start=None, labels=None, point=None,
                   title=None, out=None):
    """Histograms of deployment durations, completed and rolled back stacked, one panel per
    result.

    Args:
        results: One result or several (a list, or a dict {label: result}): BatchResults,
            per-replica tables or Parquet files, or a SweepResult / sweep directory with
            ``point``.
        deployer: The canary or rolling deployer (default: the only one).
        start: When the deployment starts (s), to turn end times into durations. Default:
            read from the result's Simulation (its scheduled deploy event); without one
            (a table or file) the x axis is the end time.
        labels: Panel titles, one per result.
        point: The sweep point, for sweep inputs.
        title: The figure title.
        out: Save to this path (.png, .svg or .pdf).

    Returns:
        The matplotlib Figure; each legend gives the count and share of each outcome, and
        deployments still in progress at the end of the run are counted in the title.
    """
    if isinstance(results, dict):
        items = [as_runs(v, point=point, label=str(k)) for k, v in results.items()]
    else:
        seq = results if isinstance(results, (list, tuple)) else [results]
        items = [as_runs(v, point=point) for v in seq]
    if labels is not None:
        if len(labels) != len(items):
            raise ValueError(f"{len(labels)} labels for {len(items)} results")
        for r, lab in zip(items, labels):
            r.label = lab
    if not items:
        raise ValueError("no result to plot")
    for r in items:
        if r.table is None:
            raise ValueError(f"{r.label}: the durations plot needs a per-replica table")
    if deployer is None:
        deployer = shared_deployer([deployer_names(r.table) for r in items],
                                   "no canary or rolling deployer in the results (no "
                                   "<name>.status column)")
    for r in items:
        if f"{deployer}.status" not in r.table.column_names:
            raise ValueError(f"{r.label} has no deployer named {deployer!r} (deployers: "
                             f"{', '.join(deployer_names(r.table)) or 'none'})")
    starts = [start if start is not None else deploy_start(r.simulation, deployer)
              for r in items]
    as_duration = all(s is not None for s in starts)
    data = [durations(r.table, deployer, s if as_duration else None)
            for r, s in zip(items, starts)]
    finished = np.concatenate([np.concatenate([d["completed"], d["rolled_back"]])
                               for d in data])
    if finished.size == 0:
        raise ValueError(f"no deployment of {deployer} ended: nothing to plot")
    lo, hi = float(finished.min()), float(finished.max())
    bins = _bins(finished, lo, hi)
    with _mpl.style():
        fig, axes = _mpl.figure(8.0, 1.2 + 2.6 * len(items), nrows=len(items), sharex=True,
                                squeeze=False)
        for ax, r, d in zip(axes[:, 0], items, data):
            n = sum(d[s].size for s in STATUS_COLORS) + int(d["unfinished"])
            stacks = [s for s in STATUS_COLORS if d[s].size]
            ax.hist([d[s] for s in stacks], bins=bins, stacked=True,
                    color=[STATUS_COLORS[s] for s in stacks], alpha=0.8,
                    label=[f"{STATUS_NAMES[s]}: {d[s].size} ({d[s].size / n:.0%}), "
                           f"median {np.median(d[s]):.3g} s" for s in stacks])
            extra = (f"; {int(d['unfinished'])} still in progress at the end"
                     if int(d["unfinished"]) else "")
            head = "" if r.label == "run" else f"{r.label}: "
            ax.set_title(_mpl.wrap(f"{head}{n} replicas{extra}", fig, 1.2), fontsize=10)
            ax.set_ylabel("replicas")
            ax.legend(loc="best")
        what = "deployment duration" if as_duration else "deployment end time"
        axes[-1, 0].set_xlabel(f"{what} (s)" + ("" if as_duration else
                                                "  (start unknown: give start=)"))
        fig.suptitle(_mpl.wrap(title or f"{deployer}: {what} by outcome", fig, 0.9),
                     fontweight="bold", fontsize=13)
    return _mpl.finish(fig, out)


def _bins(values, lo, hi):
    """Bin edges. Deployers decide on an evaluation grid, so durations are often
    multiples of one interval: then one bin per multiple (centred on it), as long as that
    makes at most 150 bins; otherwise 40 equal bins."""
    distinct = np.unique(values)
    if distinct.size > 1:
        step = float(np.min(np.diff(distinct)))
        k = np.diff(distinct) / step
        count = round((hi - lo) / step) + 1
        if np.allclose(k, np.round(k), atol=1e-6) and count <= 150:
            return lo - step / 2 + step * np.arange(count + 1)
    elif distinct.size == 1:
        return np.array([lo - 0.5, lo + 0.5])
    return np.linspace(lo, hi, 41)
