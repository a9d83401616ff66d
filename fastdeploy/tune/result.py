"""What ``Tuner.run`` returns: the best settings with holdout figures, the trials, the rows."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from .goals import FEASIBLE


def jsonable(value):
    """``value`` with numpy scalars as Python numbers and non-finite floats as None."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def pareto_indices(points) -> list[int]:
    """Indices of the rows of ``points`` (n x k, every column minimised) that no other row
    dominates (no worse in every column, better in one), in row order."""
    pts = np.asarray(points, dtype=np.float64)
    out = []
    for i in range(pts.shape[0]):
        dominated = np.all(pts <= pts[i], axis=1) & np.any(pts < pts[i], axis=1)
        if not dominated.any():
            out.append(i)
    return out


def _columns(tuner, cands, extra=None) -> pa.Table:
    cols: dict[str, list] = {"trial": [c.trial for c in cands], "batch": [c.batch for c in cands]}
    for k in tuner.keys:
        integer = tuner.model.params.by_path[k].integer
        cols[k] = pa.array([c.params.get(k) for c in cands],
                           pa.int64() if integer else pa.float64())
    cols["replicas"] = [c.replicas for c in cands]
    cols["status"] = [c.status for c in cands]
    cols["stop"] = [c.stop for c in cands]
    cols["error"] = pa.array([c.error for c in cands], pa.string())
    for i, o in enumerate(tuner.objectives):
        for f in ("mean", "ci_low", "ci_high"):
            cols[f"{o.name}.{f}"] = pa.array(
                [c.objectives[i][f] if c.objectives else None for c in cands], pa.float64())
    for i, con in enumerate(tuner.constraints):
        for f in ("estimate", "low", "high"):
            cols[f"{con.text}.{f}"] = pa.array(
                [c.constraints[i][f] if c.constraints else None for c in cands], pa.float64())
        cols[f"{con.text}.status"] = pa.array(
            [c.constraints[i]["status"] if c.constraints else None for c in cands], pa.string())
    if extra:
        cols.update(extra)
    return pa.table(cols)


def _figures(tuner, c) -> dict:
    return {
        "trial": c.trial,
        "params": dict(c.params),
        "replicas": c.replicas,
        "status": c.status,
        "objectives": {o.name: dict(f) for o, f in zip(tuner.objectives, c.objectives)},
        "constraints": {con.text: {k: v for k, v in f.items() if k != "violation"}
                        for con, f in zip(tuner.constraints, c.constraints)},
    }


def _rows(cands, schema) -> pa.Table:
    parts = [c.rows for c in cands if c.rows is not None and c.rows.num_rows]
    if not parts:
        return schema.empty_table()
    return pa.concat_tables(parts).sort_by([("point", "ascending"), ("replica", "ascending")])


@dataclass(repr=False)
class TuneResult:
    """The outcome of a tune.

    Attributes:
        best: One objective: the finalist with the best holdout mean among those whose
            constraints all hold on the holdout (one-sided bounds), as a dict: ``trial``,
            ``params``, ``replicas`` (holdout), ``status``, ``objectives`` ({name: n, mean,
            ci_low, ci_high (two-sided 95% t)}), ``constraints`` ({text: n, estimate,
            low, high (one-sided bounds), status}). None when no finalist holds.
        pareto: Several objectives: the holdout-feasible finalists no other dominates,
            each a dict like ``best`` (one objective: ``[best]`` or ``[]``).
        trials: One row per trial: ``trial``, ``batch``, the parameters, ``replicas``,
            ``status`` (feasible / infeasible / undecided / invalid), ``stop`` (why its
            race ended), ``error`` (an invalid point's reason), per objective
            ``<name>.mean/.ci_low/.ci_high``, per constraint ``<text>.estimate/.low/.high/
            .status``: the search's figures (biased for the best: the winner's curse).
        finalists: The same columns for the finalists, from the holdout, plus ``best``
            (on the reported front).
        table: Every search replica: the sweep row schema, ``point`` = trial number.
        holdout_table: The finalists' holdout replicas (seed ``holdout_seed``).
        undecided: Trials whose constraints were still undecided when their race ended
            (at ``max_replicas`` or the budget), besides those shown worse than the
            incumbent (whose feasibility no longer matters).
        search_replicas: Replicas the search ran; ``replicas``: search plus holdout.
        budget: The tune's budget.
        wall_time: Seconds.
    """

    best: dict | None
    pareto: list
    trials: pa.Table
    finalists: pa.Table
    table: pa.Table
    holdout_table: pa.Table
    undecided: list
    search_replicas: int
    replicas: int
    budget: int
    holdout_seed: int
    objectives: tuple = field(default=())
    constraints: tuple = field(default=())
    keys: tuple = field(default=())
    wall_time: float = 0.0

    @classmethod
    def build(cls, tuner, done, finals, spent: int, wall: float) -> "TuneResult":
        signs = [o.sign for o in tuner.objectives]
        ok = [h for h in finals if h.status == FEASIBLE
              and all(math.isfinite(o["mean"]) for o in h.objectives)]
        if len(tuner.objectives) == 1:
            ok.sort(key=lambda h: (signs[0] * h.objectives[0]["mean"], h.trial))
            front = ok[:1]
        else:
            pts = [[s * o["mean"] for s, o in zip(signs, h.objectives)] for h in ok]
            front = [ok[i] for i in pareto_indices(pts)] if ok else []
            front.sort(key=lambda h: (signs[0] * h.objectives[0]["mean"], h.trial))
        on_front = {h.trial for h in front}
        done = sorted(done, key=lambda c: c.trial)
        holdout_replicas = sum(h.replicas for h in finals)
        return cls(
            best=_figures(tuner, front[0]) if len(tuner.objectives) == 1 and front else None,
            pareto=[_figures(tuner, h) for h in front],
            trials=_columns(tuner, done),
            finalists=_columns(tuner, finals, {"best": [h.trial in on_front for h in finals]}),
            table=_rows(done, tuner.schema),
            holdout_table=_rows(finals, tuner.schema),
            undecided=[c.trial for c in done if c.status == "undecided" and c.same_as is None
                       and c.stop != "worse than the incumbent"],
            search_replicas=spent, replicas=spent + holdout_replicas, budget=tuner.budget,
            holdout_seed=tuner.holdout_seed, objectives=tuner.objectives,
            constraints=tuner.constraints, keys=tuner.keys, wall_time=wall)

    def __repr__(self) -> str:
        best = (f"best trial {self.best['trial']}" if self.best is not None else
                f"{len(self.pareto)} on the Pareto front" if len(self.objectives) > 1 else
                "no feasible finalist")
        return (f"TuneResult({self.trials.num_rows} trials, {self.replicas}/{self.budget} "
                f"replicas, {best})")

    def report(self) -> dict:
        """The result as a JSON-able dict (what ``_result.json`` holds)."""
        return jsonable({
            "objectives": [o.describe() for o in self.objectives],
            "constraints": [c.text for c in self.constraints],
            "best": self.best, "pareto": self.pareto, "undecided": self.undecided,
            "trials": self.trials.num_rows, "search_replicas": self.search_replicas,
            "replicas": self.replicas, "budget": self.budget,
            "holdout_seed": self.holdout_seed,
        })

    def format(self) -> str:
        """A plain-text report: the winner (or front) with holdout figures and intervals,
        the finalists, and the undecided trials."""
        from ..summary import format_estimate, format_number

        lines = [f"{self.trials.num_rows} trials, {self.search_replicas} search replicas + "
                 f"{self.replicas - self.search_replicas} holdout = {self.replicas} of "
                 f"{self.budget} budgeted"]
        lines.append("objective: " + "; ".join(o.describe() for o in self.objectives))
        if self.constraints:
            lines.append("constraints: " + "; ".join(c.text for c in self.constraints)
                         + " (met when the one-sided bound clears the limit)")
        chosen = self.pareto
        if not chosen:
            lines.append("no finalist meets every constraint on the holdout"
                         + (" (no candidate was left to hold out)"
                            if self.finalists.num_rows == 0 else ""))
        title = "best" if len(self.objectives) == 1 else "Pareto set"
        for f in chosen:
            lines.append("")
            lines.append(f"{title}: trial {f['trial']} ("
                         + ", ".join(f"{k} = {format_number(v)}" for k, v in f["params"].items())
                         + f"), holdout of {f['replicas']} fresh replicas")
            for name, o in f["objectives"].items():
                lines.append(f"  {name}: {format_estimate(o['mean'], o['ci_low'], o['ci_high'])}"
                             " (95% t interval)")
            for text, c in f["constraints"].items():
                lines.append(f"  {text}: estimate {format_number(c['estimate'])}, one-sided "
                             f"bounds [{format_number(c['low'])}, {format_number(c['high'])}]"
                             f" -> {c['status']}")
        if self.finalists.num_rows:
            lines.append("")
            lines.append("finalists (holdout):")
            for r in self.finalists.to_pylist():
                obj = ", ".join(f"{o.name} {format_number(r[f'{o.name}.mean'])}"
                                for o in self.objectives)
                lines.append(f"  trial {r['trial']}: {obj}; constraints {r['status']}")
        if self.undecided:
            lines.append("")
            lines.append("undecided when their race ended (max_replicas or the budget), "
                         "not shown worse than the best: trials "
                         + ", ".join(str(t) for t in self.undecided))
        return "\n".join(lines)
