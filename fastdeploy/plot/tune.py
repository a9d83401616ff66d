"""Tunes: the objective trial by trial (``tune-history``) and the trade-off of two
objectives with the Pareto set (``tune-pareto``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from . import _mpl
from .labels import metric_name, titled, with_unit
from .pareto import pareto_front

TRIALS, FINALISTS, MANIFEST = "_trials.parquet", "_finalists.parquet", "_manifest.json"
STYLE = {  # status -> (colour, marker, legend)
    "feasible": (_mpl.GREEN, "o", "feasible"),
    "undecided": (_mpl.ORANGE, "s", "undecided"),
    "infeasible": (_mpl.RED, "x", "infeasible"),
}


@dataclass
class TuneData:
    """What the tune plots read.

    Attributes:
        trials: ``TuneResult.trials`` (or ``_trials.parquet``).
        finalists: ``TuneResult.finalists`` (or ``_finalists.parquet``).
        objectives: ((name, direction, unit), ...) in the tune's order.
        label: A name for titles.
    """

    trials: pa.Table
    finalists: pa.Table
    objectives: tuple
    label: str = "tune"


def _unit(metric: str, priced: bool):
    from ..metrics import metric_unit

    return "price units" if priced else metric_unit(metric)


def is_tune_dir(path) -> bool:
    """Whether ``path`` is a tune's output directory (``fastdeploy tune --out DIR``)."""
    p = Path(path)
    return p.is_dir() and (p / TRIALS).is_file()


def as_tune(data, label: str | None = None) -> TuneData:
    """TuneData from a TuneResult or a tune output directory.

    Raises:
        ValueError: anything else, or a directory whose tune has not finished.
    """
    if isinstance(data, TuneData):
        return data
    if hasattr(data, "trials") and hasattr(data, "finalists") and hasattr(data, "objectives"):
        objs = tuple((o.name, o.direction, _unit(o.metric, o.price_per_instance_hour
                                                  is not None)) for o in data.objectives)
        return TuneData(data.trials, data.finalists, objs, label or "tune")
    p = Path(data) if isinstance(data, (str, Path)) else None
    if p is None or not p.is_dir():
        raise ValueError(f"a tune plot needs a TuneResult or a tune output directory, got "
                         f"{data!r}")
    if not (p / TRIALS).is_file():
        raise ValueError(f"{p}: no {TRIALS} here: not the output of a finished tune "
                         "(`fastdeploy tune FILE --out DIR` writes it at the end; rerun "
                         "with --resume to finish an interrupted one)")
    with open(p / MANIFEST) as f:
        definition = json.load(f)["definition"]
    objs = []
    for o in definition["objectives"]:
        priced = o.get("price_per_instance_hour") is not None
        objs.append(("cost" if priced else o["metric"], o["direction"], _unit(o["metric"], priced)))
    return TuneData(pq.read_table(p / TRIALS), pq.read_table(p / FINALISTS), tuple(objs),
                    label or p.name or str(p))


def _col(table: pa.Table, name: str) -> np.ndarray:
    return np.asarray(table.column(name).to_pylist(), dtype=np.float64)


def _objective(data: TuneData, name: str | None, default: int = 0):
    names = [o[0] for o in data.objectives]
    if name is None:
        return data.objectives[default]
    if name not in names:
        raise ValueError(f"{name!r} is not an objective of this tune (objectives: "
                         f"{', '.join(names)})")
    return data.objectives[names.index(name)]


def _label(obj) -> str:
    return with_unit(f"{metric_name(obj[0])}, mean over replicas ({obj[1]})", obj[2])


def plot_tune_history(tune, *, objective: str | None = None, title=None, out=None):
    """Each trial's search mean of an objective against the trial number, coloured by its
    constraints' verdict (feasible, undecided, infeasible), the best feasible mean so far
    as a step line, and the finalists' holdout means with 95% intervals.

    Args:
        tune: A TuneResult or a tune output directory.
        objective: The objective's name (default: the first).
        title: The title.
        out: Save to this path (.png, .svg or .pdf).

    Returns:
        The matplotlib Figure.
    """
    data = as_tune(tune)
    name, direction, _ = obj = _objective(data, objective)
    t = data.trials
    trial = _col(t, "trial")
    y = _col(t, f"{name}.mean")
    status = np.asarray(t.column("status").to_pylist(), dtype=object)
    repeat = np.asarray([s.startswith("same point") for s in t.column("stop").to_pylist()])
    with _mpl.style():
        fig, ax = _mpl.figure(8.5, 5.0)
        for st, (color, marker, legend) in STYLE.items():
            sel = (status == st) & ~repeat & np.isfinite(y)
            if sel.any():
                ax.scatter(trial[sel], y[sel], c=color, marker=marker, s=22, zorder=3,
                           label=f"{legend} ({int(sel.sum())})")
        if repeat.any():
            ax.scatter(trial[repeat & np.isfinite(y)], y[repeat & np.isfinite(y)],
                       facecolors="none", edgecolors=_mpl.GREY, s=22, zorder=2,
                       label=f"repeated point, not re-run ({int(repeat.sum())})")
        feasible = np.where((status == "feasible") & np.isfinite(y), y, np.nan)
        sign = 1.0 if direction == "minimize" else -1.0
        best = sign * np.fmin.accumulate(sign * feasible) if feasible.size else feasible
        if np.isfinite(best).any():
            ax.step(trial, best, where="post", color=_mpl.GREEN, lw=1.2, alpha=0.8,
                    label="best feasible so far (search)")
        f = data.finalists
        if f.num_rows:
            fx, fm = _col(f, "trial"), _col(f, f"{name}.mean")
            lo, hi = _col(f, f"{name}.ci_low"), _col(f, f"{name}.ci_high")
            ok = np.asarray(f.column("best").to_pylist(), dtype=bool)
            err = np.vstack([fm - lo, hi - fm])
            err = np.where(np.isfinite(err), err, 0.0)
            ax.errorbar(fx, fm, yerr=err, fmt="D", ms=7, color=_mpl.BLUE, ecolor=_mpl.BLUE,
                        capsize=3, zorder=4, mfc="none", label="finalist on the holdout "
                        "(mean, 95% CI)")
            if ok.any():
                ax.scatter(fx[ok], fm[ok], marker="*", s=160, color=_mpl.BLUE, zorder=5,
                           label="reported best (holdout)")
        ax.set_xlabel("trial")
        ax.set_ylabel(_label(obj))
        ax.set_title(_mpl.wrap(title or titled(
            data.label, f"{metric_name(name)} by trial ({t.num_rows} trials)"), fig))
        ax.legend(loc="best", fontsize=8)
    return _mpl.finish(fig, out)


def plot_tune_pareto(tune, *, x: str | None = None, y: str | None = None, title=None,
                     out=None):
    """Two objectives of every trial (search means, coloured by verdict), the finalists'
    holdout means with 95% bars, and the reported Pareto set joined by a step line.

    Args:
        tune: A TuneResult or a tune output directory of a tune with two or more
            objectives.
        x, y: Objective names (default: the first two).
        title: The title.
        out: Save to this path.

    Returns:
        The matplotlib Figure.

    Raises:
        ValueError: a tune with one objective, or a name that is not an objective.
    """
    data = as_tune(tune)
    if len(data.objectives) < 2:
        raise ValueError("tune-pareto needs a tune with two or more objectives; this one "
                         f"has {data.objectives[0][0]} only (plot it with tune-history)")
    ox, oy = _objective(data, x, 0), _objective(data, y, 1)
    if ox[0] == oy[0]:
        raise ValueError(f"x and y are the same objective ({ox[0]})")
    t = data.trials
    tx, ty = _col(t, f"{ox[0]}.mean"), _col(t, f"{oy[0]}.mean")
    status = np.asarray(t.column("status").to_pylist(), dtype=object)
    with _mpl.style():
        fig, ax = _mpl.figure(8.5, 5.5)
        for st, (color, marker, legend) in STYLE.items():
            sel = (status == st) & np.isfinite(tx) & np.isfinite(ty)
            if sel.any():
                ax.scatter(tx[sel], ty[sel], c=color, marker=marker, s=20, alpha=0.6,
                           label=f"trial, {legend} (search mean)")
        f = data.finalists
        if f.num_rows:
            fx, fy = _col(f, f"{ox[0]}.mean"), _col(f, f"{oy[0]}.mean")
            ex = np.vstack([fx - _col(f, f"{ox[0]}.ci_low"), _col(f, f"{ox[0]}.ci_high") - fx])
            ey = np.vstack([fy - _col(f, f"{oy[0]}.ci_low"), _col(f, f"{oy[0]}.ci_high") - fy])
            ax.errorbar(fx, fy, xerr=np.where(np.isfinite(ex), ex, 0),
                        yerr=np.where(np.isfinite(ey), ey, 0), fmt="D", ms=6, mfc="none",
                        color=_mpl.BLUE, capsize=2.5, zorder=4,
                        label="finalist on the holdout (mean, 95% CI)")
            on = np.flatnonzero(np.asarray(f.column("best").to_pylist(), dtype=bool))
            if on.size:
                sx = 1.0 if ox[1] == "minimize" else -1.0
                sy = 1.0 if oy[1] == "minimize" else -1.0
                front = on[pareto_front(sx * fx[on], sy * fy[on])]
                ax.scatter(fx[front], fy[front], marker="*", s=150, color=_mpl.BLUE, zorder=5,
                           label="Pareto set (holdout, constraints met)")
                if front.size > 1:
                    ax.step(fx[front], fy[front], where="post", color=_mpl.BLUE, lw=1,
                            ls="--", zorder=3)
        ax.set_xlabel(_label(ox))
        ax.set_ylabel(_label(oy))
        ax.set_title(_mpl.wrap(title or titled(
            data.label, f"{metric_name(ox[0])} vs {metric_name(oy[0])} "
                        f"({t.num_rows} trials)"), fig))
        ax.legend(loc="best", fontsize=8)
    return _mpl.finish(fig, out)
