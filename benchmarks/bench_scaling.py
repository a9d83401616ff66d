"""How the batch engine's cost grows: with the horizon, the traffic rate and the replica count.

    python benchmarks/bench_scaling.py [--scenario autoscale-spike] [--replicas 1000]
        [--threads 1] [--memory 1000,10000,100000] [--cpp-source PATH]

Prints requests/s at 1x, 10x and 100x the preset's horizon and at 1x and 10x its traffic
(with 10x the autoscaler's max_instances where there is one, so the regime stays the
same), and the peak resident memory of a fresh process running 1,000 / 10,000 / 100,000
replicas (the kernels' workspace is per thread; outputs are per replica). For
autoscale-spike it also builds the C++ anchor at 1x and 10x traffic (the same scaling of
rates and fleet ceiling) and prints its slowdown beside fastdeploy's.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
from bench_batch import DEFAULT_CPP, build_cpp, run_cpp

MEMORY_CHILD = r"""
import json, resource, sys, time
from fastdeploy.presets import PRESETS
sim = PRESETS[sys.argv[1]](0)
sim.run_batch(1, threads=1)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
res = sim.run_batch(int(sys.argv[2]), threads=int(sys.argv[3]))
wall = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"replicas": int(sys.argv[2]), "wall_s": wall, "base_kib": base,
                  "peak_kib": peak, "table_bytes": res.table.nbytes}))
"""


def speed(sim, replicas, threads, params=None):
    t0 = time.perf_counter()
    res = sim.run_batch(replicas, threads=threads, params=params)
    wall = time.perf_counter() - t0
    requests = int(np.sum(res.table.column("requests_created").to_numpy()))
    return requests / wall, requests / replicas


def cpp_traffic(source, replicas, threads):
    """The C++ anchor at its own traffic and at 10x (rates and the fleet's ceiling x10)."""
    text = open(source).read()
    scaled = (text.replace("SEG_RATE[3] = {20.0, 100.0, 20.0}", "SEG_RATE[3] = {200.0, 1000.0, 200.0}")
              .replace("MAX_SERVERS = 20;", "MAX_SERVERS = 200;"))
    if scaled.count("1000.0") == text.count("1000.0") or "MAX_SERVERS = 200;" not in scaled:
        raise SystemExit("the C++ source no longer has the constants this script scales")
    tmp = tempfile.mkdtemp(prefix="fastdeploy-cpp10x-")
    scaled_source = os.path.join(tmp, "autoscale10x.cpp")
    with open(scaled_source, "w") as f:
        f.write(scaled)
    exes = [build_cpp(source), build_cpp(scaled_source)]
    try:
        return {1: run_cpp(exes[0], replicas, threads),
                10: run_cpp(exes[1], max(1, replicas // 10), threads)}
    finally:
        for path in [tmp] + [os.path.dirname(exe) for exe in exes]:
            shutil.rmtree(path, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--scenario", default="autoscale-spike")
    ap.add_argument("--replicas", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--memory", default="1000,10000,100000")
    ap.add_argument("--cpp-source", default=DEFAULT_CPP,
                    help="the C++ anchor; built at 1x and 10x traffic for autoscale-spike")
    args = ap.parse_args()
    from fastdeploy import Instant
    from fastdeploy.presets import PRESETS

    out: dict = {"scenario": args.scenario, "threads": args.threads}
    build = PRESETS[args.scenario]
    sim = build(0)
    sim.run_batch(1, threads=1)
    horizon = sim.end_time.to_seconds()
    out["horizon"] = {}
    for k in (1, 10, 100):
        s = build(0)
        s.end_time = Instant.from_seconds(horizon * k)
        n = max(1, args.replicas // k)
        rate, per = speed(s, n, args.threads)
        out["horizon"][k] = rate
        print(f"horizon x{k:<3d} ({horizon * k:.0f} s, {n} replicas, {per:.0f} requests each): "
              f"{rate / 1e6:.2f} M requests/s")
    out["traffic"] = {}
    defaults = sim.batch_parameters()
    for k in (1, 10):
        n = max(1, args.replicas // k)
        params = {}
        if k != 1:
            for path, value in defaults.items():
                if path.endswith("_rate") or path.endswith("profile.rate"):
                    params[path] = np.full(n, value * k)
                if path.endswith("max_instances"):
                    params[path] = np.full(n, value * k, dtype=np.int64)
        rate, per = speed(sim, n, args.threads, params or None)
        out["traffic"][k] = rate
        print(f"traffic x{k:<3d} ({n} replicas, {per:.0f} requests each): {rate / 1e6:.2f} M requests/s")
    if args.scenario == "autoscale-spike" and os.path.exists(args.cpp_source):
        out["cpp_traffic"] = cpp_traffic(args.cpp_source, args.replicas, args.threads)
        for k, c in out["cpp_traffic"].items():
            print(f"C++ traffic x{k:<3d} ({c['replicas']} replicas): "
                  f"{c['req_per_s'] / 1e6:.2f} M requests/s")
        fd = out["traffic"][10] / out["traffic"][1]
        cpp = out["cpp_traffic"][10]["req_per_s"] / out["cpp_traffic"][1]["req_per_s"]
        print(f"requests/s at 10x traffic / at 1x: fastdeploy {fd:.2f}, C++ {cpp:.2f}")
    out["memory"] = []
    for n in [int(x) for x in args.memory.split(",") if x]:
        line = subprocess.run([sys.executable, "-c", MEMORY_CHILD, args.scenario, str(n),
                               str(args.threads)], capture_output=True, text=True,
                              check=True).stdout.strip().splitlines()[-1]
        m = json.loads(line)
        out["memory"].append(m)
        grow = (m["peak_kib"] - m["base_kib"]) / n
        print(f"{n:>7d} replicas: peak RSS {m['peak_kib'] / 1024:.0f} MiB (after warm-up "
              f"{m['base_kib'] / 1024:.0f} MiB; {grow:.2f} KiB more per replica; result "
              f"table {m['table_bytes'] / n:.0f} B per replica), {m['wall_s']:.1f} s")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
