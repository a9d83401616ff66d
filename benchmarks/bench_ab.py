"""Interleaved A/B of two checkouts of fastdeploy: throughput per thread and cold start.

    python benchmarks/bench_ab.py --a PATH_A --b PATH_B [--scenarios autoscale-spike,...]
        [--replicas 400] [--rounds 6] [--cold-rounds 3] [--cold-scenarios autoscale-spike,...]

Each round runs A then B, each in a new process with PYTHONPATH set to its checkout:
requests simulated per second on one thread (the kernels warmed up first, so the figure
is the steady state), and the time to the first result with an empty numba cache (a new
NUMBA_CACHE_DIR each time; from the process's start, imports included, for each of
``--cold-scenarios``), with the CPU time that cold start took in both compiling
processes (the compile work: a busy host moves it less than the wall time). Prints
every round, the medians, and the median of the per-round ratios B/A (the figure that
holds when the machine's speed drifts), then a JSON line with all of it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from statistics import median

THROUGHPUT = r"""
import sys, time
from fastdeploy.presets import PRESETS
sim = PRESETS[sys.argv[1]](0)
sim.run_batch(2, threads=1)
t = time.perf_counter()
r = sim.run_batch(int(sys.argv[2]), threads=1)
wall = time.perf_counter() - t
print(sum(r.table.column("requests_created").to_pylist()) / wall)
"""

COLD = r"""
import time
t = time.perf_counter()
import resource, sys
from fastdeploy.presets import PRESETS
PRESETS[sys.argv[1]](0).run_batch(1, threads=1)
wall = time.perf_counter() - t
cpu = sum(resource.getrusage(who).ru_utime + resource.getrusage(who).ru_stime
          for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
print(wall, cpu)
"""


def child(checkout: str, code: str, *args, cache_dir=None):
    env = dict(os.environ, PYTHONPATH=os.path.abspath(checkout))
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = cache_dir
    # In the checkout's folder: ``python -c`` puts the working directory first on the
    # path, before PYTHONPATH, so from elsewhere it could import another checkout.
    out = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True,
                         text=True, check=True, cwd=os.path.abspath(checkout)).stdout
    figures = [float(x) for x in out.strip().splitlines()[-1].split()]
    return figures[0] if len(figures) == 1 else tuple(figures)


def interleaved(a: str, b: str, rounds: int, run) -> dict:
    pairs = []
    for k in range(rounds):
        fa, fb = run(a), run(b)
        pairs.append((fa, fb))
        print(f"  round {k + 1}: A {fa:.4g}  B {fb:.4g}  B/A {fb / fa:.3f}", flush=True)
    return {"a": [p[0] for p in pairs], "b": [p[1] for p in pairs],
            "a_median": median(p[0] for p in pairs), "b_median": median(p[1] for p in pairs),
            "ratio_median": median(p[1] / p[0] for p in pairs)}


def cold(checkout: str, scenario: str) -> tuple:
    """(wall seconds, CPU seconds of the process and of the second compiling process
    batch/precompile.py starts): the CPU figure is the compile work, which a busy host
    changes less than the wall time."""
    d = tempfile.mkdtemp(prefix="fastdeploy-cold-")
    try:
        return child(checkout, COLD, scenario, cache_dir=d)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--a", required=True, help="checkout A (the previous build)")
    p.add_argument("--b", required=True, help="checkout B (the new build)")
    p.add_argument("--scenarios", default="autoscale-spike,canary-bad,rolling")
    p.add_argument("--replicas", type=int, default=400)
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--cold-rounds", type=int, default=3)
    p.add_argument("--cold-scenarios", default="autoscale-spike")
    args = p.parse_args(argv)
    for name, value in (("--replicas", args.replicas), ("--rounds", args.rounds)):
        if value < 1:
            p.error(f"{name} must be >= 1, got {value}")
    if args.cold_rounds < 0:
        p.error(f"--cold-rounds must be >= 0, got {args.cold_rounds}")
    for path in (args.a, args.b):
        if not os.path.isdir(os.path.join(path, "fastdeploy")):
            p.error(f"{path!r} is not a fastdeploy checkout (no fastdeploy/ in it)")
    results = {}
    for scenario in args.scenarios.split(","):
        for checkout in (args.a, args.b):  # compile (or load) the kernels once
            child(checkout, THROUGHPUT, scenario, "2")
        print(f"{scenario}: requests/s per thread ({args.replicas} replicas)")
        r = interleaved(args.a, args.b, args.rounds,
                        lambda c, s=scenario: child(c, THROUGHPUT, s, str(args.replicas)))
        print(f"  median A {r['a_median'] / 1e6:.2f} M/s, B {r['b_median'] / 1e6:.2f} M/s, "
              f"B/A {r['ratio_median']:.3f}")
        results[scenario] = r
    for scenario in args.cold_scenarios.split(",") if args.cold_rounds else ():
        print(f"{scenario}: cold start to the first result, empty numba cache: wall (s), "
              "and CPU (s) of both compiling processes")
        rounds = []
        for k in range(args.cold_rounds):
            (wa, ca), (wb, cb) = cold(args.a, scenario), cold(args.b, scenario)
            rounds.append((wa, wb, ca, cb))
            print(f"  round {k + 1}: wall A {wa:.2f} B {wb:.2f} B/A {wb / wa:.3f}; "
                  f"CPU A {ca:.2f} B {cb:.2f} B/A {cb / ca:.3f}", flush=True)
        r = {"a": [x[0] for x in rounds], "b": [x[1] for x in rounds],
             "a_cpu": [x[2] for x in rounds], "b_cpu": [x[3] for x in rounds]}
        for key, (ia, ib) in (("", (0, 1)), ("_cpu", (2, 3))):
            r["a_median" + key] = median(x[ia] for x in rounds)
            r["b_median" + key] = median(x[ib] for x in rounds)
            r["ratio_median" + key] = median(x[ib] / x[ia] for x in rounds)
        print(f"  median wall A {r['a_median']:.2f} s, B {r['b_median']:.2f} s, "
              f"B/A {r['ratio_median']:.3f}; CPU A {r['a_median_cpu']:.2f} s, "
              f"B {r['b_median_cpu']:.2f} s, B/A {r['ratio_median_cpu']:.3f}")
        results[f"cold_start {scenario}"] = r
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
