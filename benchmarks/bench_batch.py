"""Speed of the batch engine on a preset, against the C++ floor, in one invocation.

    python benchmarks/bench_batch.py [--scenario autoscale-spike] [--replicas 10000]
        [--threads 1,2] [--cpp-replicas 1000] [--cpp-source PATH] [--no-cpp] [--no-compile]

Prints requests simulated per second (wall) and replicas per second for each thread
count, cold compile time (empty numba cache, new process) and warm start (filled cache,
new process) to the first result of a 1-replica run, peak memory, and the same speed
figures for the C++ program of the shared anchors (built here with g++ -O2
-march=native), with the ratios. The C++ source defaults to
shared/anchors/cpp/autoscale.cpp in the folder beside the repository. It prints a final
JSON line with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CPP = os.path.join(os.path.dirname(REPO), "shared", "anchors", "cpp", "autoscale.cpp")

CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from fastdeploy.presets import PRESETS
sim = PRESETS[sys.argv[1]](0)
t1 = time.perf_counter()
res = sim.run_batch(int(sys.argv[2]), threads=int(sys.argv[3]))
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "first_result_s": t2 - t1,
                  "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def child(scenario, replicas, threads, cache_dir):
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    out = subprocess.run([sys.executable, "-c", CHILD, scenario, str(replicas), str(threads)],
                         env=env, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def cpp_figures(source, replicas):
    exe = os.path.join(tempfile.mkdtemp(prefix="fastdeploy-cpp-"), "autoscale")
    subprocess.run(["g++", "-O2", "-march=native", "-std=c++17", "-pthread", "-o", exe, source],
                   check=True)
    out = {}
    for threads in (1, 2):
        line = subprocess.run([exe, "--replicas", str(replicas), "--threads", str(threads),
                               "--json"], capture_output=True, text=True, check=True).stdout
        out[threads] = json.loads(line.strip().splitlines()[-1])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--scenario", default="autoscale-spike")
    ap.add_argument("--replicas", type=int, default=10000)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--cpp-replicas", type=int, default=1000)
    ap.add_argument("--cpp-source", default=DEFAULT_CPP)
    ap.add_argument("--no-cpp", action="store_true")
    ap.add_argument("--no-compile", action="store_true", help="skip the cold/warm start runs")
    args = ap.parse_args()
    figures: dict = {"scenario": args.scenario, "replicas": args.replicas,
                     "machine": f"{os.cpu_count()} cores, {os.uname().machine}"}

    if not args.no_compile:
        cache = tempfile.mkdtemp(prefix="fastdeploy-numba-")
        cold = child(args.scenario, 1, 1, cache)
        warm = child(args.scenario, 1, 1, cache)
        figures["cold_start_s"] = cold["first_result_s"]
        figures["warm_start_s"] = warm["first_result_s"]
        figures["import_s"] = warm["import_s"]
        print(f"cold start (empty cache) to first result: {cold['first_result_s']:.2f} s")
        print(f"warm start (new process) to first result: {warm['first_result_s']:.3f} s "
              f"(import {warm['import_s']:.2f} s)")

    from fastdeploy.presets import PRESETS

    sim = PRESETS[args.scenario](0)
    sim.run_batch(2, threads=1)  # compile or load from cache outside the timings
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    speeds = {}
    for threads in [int(t) for t in args.threads.split(",")]:
        t0 = time.perf_counter()
        res = sim.run_batch(args.replicas, threads=threads)
        wall = time.perf_counter() - t0
        requests = int(np.sum(res.table.column("requests_created").to_numpy()))
        speeds[threads] = {"wall_s": wall, "requests": requests, "req_per_s": requests / wall,
                           "replicas_per_s": args.replicas / wall}
        print(f"fastdeploy {threads} thread(s): {args.replicas} replicas in {wall:.2f} s, "
              f"{requests / wall / 1e6:.2f} M requests/s, {args.replicas / wall:.0f} replicas/s")
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    figures["fastdeploy"] = speeds
    figures["peak_rss_mib"] = rss1 / 1024
    figures["rss_growth_per_replica_kib"] = (rss1 - rss0) / args.replicas
    print(f"peak RSS {rss1 / 1024:.0f} MiB; growth over the warm-up "
          f"{(rss1 - rss0) / args.replicas:.2f} KiB per replica of output")
    if 1 in speeds and 2 in speeds:
        figures["scaling_2_over_1"] = speeds[2]["req_per_s"] / speeds[1]["req_per_s"]
        print(f"2 threads / 1 thread: {figures['scaling_2_over_1']:.2f}x")

    if not args.no_cpp and os.path.exists(args.cpp_source):
        cpp = cpp_figures(args.cpp_source, args.cpp_replicas)
        figures["cpp"] = cpp
        for threads, c in cpp.items():
            print(f"C++ {threads} thread(s): {c['req_per_s'] / 1e6:.2f} M requests/s, "
                  f"{c['replicas_per_s']:.0f} replicas/s")
        if 1 in speeds:
            r = speeds[1]["req_per_s"] / cpp[1]["req_per_s"]
            figures["ratio_1thread_vs_cpp_1thread"] = r
            print(f"fastdeploy 1 thread / C++ 1 thread: {r:.3f}")
        if 2 in speeds:
            r = speeds[2]["req_per_s"] / cpp[2]["req_per_s"]
            figures["ratio_2threads_vs_cpp_2threads"] = r
            print(f"fastdeploy 2 threads / C++ 2 threads: {r:.3f}")
    elif not args.no_cpp:
        print(f"C++ source not found at {args.cpp_source}; pass --cpp-source or --no-cpp")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
