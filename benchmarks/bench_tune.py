"""The tuner against grids on the autoscale-spike question (issue 18).

"The cheapest autoscaler setting that keeps p99 under 500 ms in 95% of replicas": the
[tune] section of examples/tune-autoscale-spike.toml (target, min_instances, both
cooldowns). Prints:

- the tuner's result (holdout figures) for a few seeds, with the replicas it used;
- a full grid over the same space (LEVELS values per parameter, evenly spaced, log for
  a log range) at the same number of replicas as the tuner's budget, and at 5x that;
  its feasible optimum is the cheapest point whose constraint holds by the same rule
  (one-sided 95% Wilson bound), and that point is re-run on the tuner's holdout
  replicas to show the grid's own winner's curse;
- whether each tuner run reached the 5x grid's optimum: feasible on its holdout with a
  mean cost no higher than the top of the grid optimum's 95% interval, with at most a
  fifth of the grid's replicas.

No timed assertions: figures only. Run:
    python benchmarks/bench_tune.py [--seeds 0 1 2] [--levels 5 4 2 2]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

from fastdeploy.scenario import load
from fastdeploy.sweep import Sweep, grid
from fastdeploy.tune import Int, Tuner
from fastdeploy.tune.space import Choice

HERE = os.path.dirname(os.path.abspath(__file__))
FILE = os.path.join(HERE, "..", "examples", "tune-autoscale-spike.toml")


def levels(dim, num: int) -> list:
    """``num`` evenly spaced values over a dimension (geometric for a log range),
    rounded for an integer one (repeats dropped): the grid a [sweep] range table with
    ``num`` gives."""
    if isinstance(dim, Choice):
        return list(dim.values)
    pts = (np.geomspace if dim.log else np.linspace)(dim.low, dim.high, num)
    if isinstance(dim, Int):
        return list(dict.fromkeys(int(round(x)) for x in pts))
    return [float(f"{x:.12g}") for x in pts]


def grid_optimum(result, tuner):
    """(point, figures) of the cheapest point meeting every constraint, or (None, None)."""
    best = None
    obj = tuner.objectives[0]
    for i in range(len(result.points)):
        rows = result.rows_of(i)
        cons = [c.figures(rows, tuner.confidence) for c in tuner.constraints]
        if all(c["status"] == "feasible" for c in cons):
            f = obj.figures(rows)
            if best is None or obj.sign * f["mean"] < obj.sign * best[1]["mean"]:
                best = (i, f, cons)
    return best


def holdout(tuner, point: dict) -> dict:
    """``point`` on the tuner's holdout replicas: objective and constraint figures."""
    sim = tuner.simulation
    res = sim.run_batch(tuner.holdout_replicas, seed=tuner.holdout_seed,
                        params={k: v for k, v in point.items()})
    rows = res.table
    return {"objective": tuner.objectives[0].figures(rows),
            "constraints": [c.figures(rows, tuner.confidence) for c in tuner.constraints]}


def fmt_obj(f) -> str:
    return f"{f['mean']:.1f} [{f['ci_low']:.1f}, {f['ci_high']:.1f}]"


def fmt_con(c) -> str:
    return f"{c['estimate']:.4f} (one-sided bounds {c['low']:.4f}..{c['high']:.4f}, {c['status']})"


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--levels", type=int, nargs="+", default=[5, 4, 2, 2],
                    help="grid values per parameter, in the [tune.space] order")
    args = ap.parse_args()
    sc = load(FILE)
    spec = dict(sc.tune)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}")
    print(f"question: {spec['objective'][0].describe()} subject to "
          f"{[c.text for c in spec['constraints']]}")
    print(f"space: { {k: d for k, d in spec['space'].items()} }")
    print()
    runs = []
    for seed in args.seeds:
        tuner = Tuner(sc.build(), **{**spec, "seed": seed})
        t0 = time.perf_counter()
        r = tuner.run()
        wall = time.perf_counter() - t0
        runs.append((seed, tuner, r))
        print(f"tuner seed {seed}: {r.trials.num_rows} trials, {r.search_replicas} search + "
              f"{r.replicas - r.search_replicas} holdout = {r.replicas} replicas, {wall:.1f} s")
        if r.best is None:
            print("  no feasible finalist")
            continue
        print(f"  best {r.best['params']}")
        print(f"  holdout cost {fmt_obj(r.best['objectives'][tuner.objectives[0].name])}; "
              + "; ".join(fmt_con(c) for c in r.best["constraints"].values()))
    tuner = runs[0][1]
    budget = tuner.budget
    values = {k: levels(d, n) for (k, d), n in zip(tuner.space.items(), args.levels)}
    n_points = int(np.prod([len(v) for v in values.values()]))
    print()
    print(f"grid: {n_points} points: " + ", ".join(f"{k} {v}" for k, v in values.items()))
    grids = {}
    for factor in (1, 5):
        per_point = max(2, factor * budget // n_points)
        sweep = Sweep(sc.build(), grid(values), per_point, seed=tuner.seed)
        t0 = time.perf_counter()
        res = sweep.run()
        wall = time.perf_counter() - t0
        best = grid_optimum(res, tuner)
        total = per_point * n_points
        grids[factor] = (total, best, res)
        print(f"grid at {factor}x the tuner's budget: {per_point} replicas x {n_points} points "
              f"= {total} replicas, {wall:.1f} s")
        if best is None:
            print("  no point certified feasible")
            continue
        i, f, cons = best
        print(f"  optimum {res.points[i]}: cost {fmt_obj(f)}; "
              + "; ".join(fmt_con(c) for c in cons))
        h = holdout(tuner, res.points[i])
        print(f"  the same point on the tuner's holdout ({tuner.holdout_replicas} fresh "
              f"replicas): cost {fmt_obj(h['objective'])}; "
              + "; ".join(fmt_con(c) for c in h["constraints"]))
    print()
    total5, best5, _ = grids[5]
    reached_runs = 0
    for seed, t, r in runs:
        if best5 is None or r.best is None:
            print(f"seed {seed}: no comparison (no feasible optimum)")
            continue
        cost = r.best["objectives"][t.objectives[0].name]["mean"]
        reached = cost <= best5[1]["ci_high"]
        reached_runs += reached
        share = r.replicas / total5
        print(f"seed {seed}: tuner holdout cost {cost:.1f} vs 5x grid optimum "
              f"{best5[1]['mean']:.1f} (95% CI up to {best5[1]['ci_high']:.1f}): "
              f"{'reached' if reached else 'NOT reached'} "
              f"({100 * (cost / best5[1]['mean'] - 1):+.2f}%), with {r.replicas} replicas = "
              f"{share:.3f} of the 5x grid's {total5} ({'<=' if share <= 0.2 else '>'} 1/5)")
    print(f"reached in {reached_runs} of {len(runs)} tuner runs")


if __name__ == "__main__":
    main()
