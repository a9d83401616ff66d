"""Instructions, branches and mispredicted branches per request, counted, not timed.

    python benchmarks/bench_instructions.py [--checkout .] [--scenario autoscale-spike]
        [--replicas 4,24]

This project's host is shared and its speed drifts by 15 to 40% within minutes, so a
change of a few percent needs many interleaved rounds to see (bench_ab.py). Counts do
not drift: this runs a scenario under valgrind's cachegrind (branch simulation on) at two
replica counts, and prints the difference per request of the compiled kernels' counts
(cachegrind's unnamed code: numba's machine code has no symbols), so that start-up,
imports and per-run work cancel. The mispredictions are those of cachegrind's simple
predictor model, not of this processor: a guide to where branches are data-dependent.

The kernels are compiled for a fixed target (NUMBA_CPU_NAME=haswell, in a cache folder of
their own) before the counted runs, so that the runs under valgrind, whose emulated
processor differs from the host's, load them from the cache instead of compiling them;
OpenBLAS's threads are held to one, since their spinning would be counted. Needs
valgrind (cg_annotate comes with it). Prints one line per replica count and one JSON
line.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

RUN = r"""
import sys
import numpy as np
from fastdeploy.presets import PRESETS
table = PRESETS[sys.argv[1]](0).run_batch(int(sys.argv[2]), threads=1).table
print("requests", int(np.sum(table.column("requests_created").to_numpy())))
"""

EVENTS = ("Ir", "Bc", "Bcm", "Bi", "Bim")
NAMES = {"Ir": "instructions", "Bc": "conditional branches",
         "Bcm": "conditional mispredicted", "Bi": "indirect branches",
         "Bim": "indirect mispredicted"}


def run(checkout, env, script, args, under_valgrind=None):
    # (A script file, not ``-c``: cachegrind writes the command line into its output
    # file's one-line header.)
    cmd = [sys.executable, script, *args]
    if under_valgrind is not None:
        cmd = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--branch-sim=yes",
               f"--cachegrind-out-file={under_valgrind}", *cmd]
    out = subprocess.run(cmd, env=env, cwd=checkout, capture_output=True, text=True,
                         check=True).stdout
    return int(re.search(r"^requests (\d+)$", out, re.M).group(1))


def jit_counts(out_file) -> list[int]:
    """The counts of cachegrind's unnamed code ("???:???") in one output file."""
    done = subprocess.run(["cg_annotate", out_file], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"cg_annotate {out_file}: {done.stderr.strip()}")
    text = done.stdout
    for line in text.splitlines():
        if line.rstrip().endswith("???:???"):
            # "554,329,172 (10.56%) ... 0  ???:???": the counts, without their percentages
            fields = re.sub(r"\(\s*[\d.]+%\)", " ", line).split()[:len(EVENTS)]
            return [int(f.replace(",", "")) for f in fields]
    raise SystemExit(f"{out_file}: cachegrind found no unnamed (compiled) code")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--checkout", default=".", help="the fastdeploy checkout to count")
    p.add_argument("--scenario", default="autoscale-spike")
    p.add_argument("--replicas", default="4,24",
                   help="two replica counts; their difference is counted")
    args = p.parse_args(argv)
    checkout = os.path.abspath(args.checkout)
    if not os.path.isdir(os.path.join(checkout, "fastdeploy")):
        p.error(f"--checkout: {args.checkout!r} is not a fastdeploy checkout")
    try:
        low, high = (int(x) for x in args.replicas.split(","))
    except ValueError:
        p.error(f"--replicas must be two counts such as 4,24, got {args.replicas!r}")
    if not 1 <= low < high:
        p.error(f"--replicas must be two counts, the first smaller, got {args.replicas!r}")
    for tool in ("valgrind", "cg_annotate"):
        if shutil.which(tool) is None:
            raise SystemExit(f"bench_instructions: {tool} is not installed")
    work = tempfile.mkdtemp(prefix="fastdeploy-count-")
    env = dict(os.environ, PYTHONPATH=checkout, NUMBA_CPU_NAME="haswell",
               NUMBA_CPU_FEATURES="+avx2", NUMBA_CACHE_DIR=os.path.join(work, "cache"),
               OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    script = os.path.join(work, "count_run.py")
    with open(script, "w") as f:
        f.write(RUN)
    try:
        run(checkout, env, script, [args.scenario, "2"])  # compile for the fixed target
        counts = {}
        for n in (low, high):
            out_file = os.path.join(work, f"cachegrind.{n}")
            requests = run(checkout, env, script, [args.scenario, str(n)], out_file)
            counts[n] = (requests, jit_counts(out_file))
            print(f"{n} replicas: {requests} requests; compiled code: "
                  + ", ".join(f"{e} {v:,}" for e, v in zip(EVENTS, counts[n][1])), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    d_req = counts[high][0] - counts[low][0]
    per_request = {e: (counts[high][1][i] - counts[low][1][i]) / d_req
                   for i, e in enumerate(EVENTS)}
    print(f"{args.scenario}, per request (replicas {low} -> {high}): "
          + ", ".join(f"{NAMES[e]} {per_request[e]:.2f}" for e in EVENTS))
    print(json.dumps({"checkout": args.checkout, "scenario": args.scenario,
                      "replicas": [low, high], "requests": [counts[low][0], counts[high][0]],
                      "per_request": per_request}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
