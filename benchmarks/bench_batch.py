"""Speed of the batch engine on a preset, against the C++ floor, in one invocation.

    python benchmarks/bench_batch.py [--scenario autoscale-spike] [--replicas 10000]
        [--threads 1,2] [--rounds 3] [--cold-runs 2] [--cpp-replicas 1000]
        [--cpp-source PATH] [--no-cpp] [--no-compile]

Prints requests simulated per second (wall) and replicas per second for each thread
count, cold compile time (empty numba cache, new process) and warm start (filled cache,
new process) to the first result of a 1-replica run, peak memory, and the same speed
figures for the C++ program of the shared anchors (built here with g++ -O2
-march=native), with the ratios. The systems run in interleaved rounds and the figures
are medians over rounds (the ratios: medians of each round's ratio). The C++ source defaults to
shared/anchors/cpp/autoscale.cpp in the folder beside the repository. It prints a final
JSON line with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from statistics import median

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


def build_cpp(source):
    exe = os.path.join(tempfile.mkdtemp(prefix="fastdeploy-cpp-"), "autoscale")
    subprocess.run(["g++", "-O2", "-march=native", "-std=c++17", "-pthread", "-o", exe, source],
                   check=True)
    return exe


def run_cpp(exe, replicas, threads):
    line = subprocess.run([exe, "--replicas", str(replicas), "--threads", str(threads),
                           "--json"], capture_output=True, text=True, check=True).stdout
    return json.loads(line.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--scenario", default="autoscale-spike")
    ap.add_argument("--replicas", type=int, default=10000)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--cpp-replicas", type=int, default=1000)
    ap.add_argument("--cpp-source", default=DEFAULT_CPP)
    ap.add_argument("--no-cpp", action="store_true")
    ap.add_argument("--no-compile", action="store_true", help="skip the cold/warm start runs")
    ap.add_argument("--rounds", type=int, default=3,
                    help="interleaved rounds of every system; figures are medians")
    ap.add_argument("--cold-runs", type=int, default=2, help="cold starts to measure")
    args = ap.parse_args()
    if args.rounds < 1 or args.cold_runs < 1:
        ap.error(f"--rounds and --cold-runs must be at least 1, got {args.rounds} and "
                 f"{args.cold_runs}")
    figures: dict = {"scenario": args.scenario, "replicas": args.replicas,
                     "machine": f"{os.cpu_count()} cores, {os.uname().machine}"}

    if not args.no_compile:
        colds = []
        caches = []
        for _ in range(args.cold_runs):
            caches.append(tempfile.mkdtemp(prefix="fastdeploy-numba-"))
            colds.append(child(args.scenario, 1, 1, caches[-1])["first_result_s"])
        warm = child(args.scenario, 1, 1, caches[-1])
        for cache in caches:
            shutil.rmtree(cache, ignore_errors=True)
        figures["cold_start_s"] = colds
        figures["warm_start_s"] = warm["first_result_s"]
        figures["import_s"] = warm["import_s"]
        print("cold start (empty cache) to first result: "
              + ", ".join(f"{c:.2f}" for c in colds) + f" s (median {median(colds):.2f} s)")
        print(f"warm start (new process) to first result: {warm['first_result_s']:.3f} s "
              f"(import {warm['import_s']:.2f} s)")

    from fastdeploy.presets import PRESETS

    sim = PRESETS[args.scenario](0)
    sim.run_batch(2, threads=1)  # compile or load from cache outside the timings
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    thread_counts = [int(t) for t in args.threads.split(",")]
    cpp_exe = None
    if not args.no_cpp:
        if os.path.exists(args.cpp_source):
            cpp_exe = build_cpp(args.cpp_source)
        else:
            print(f"C++ source not found at {args.cpp_source}; pass --cpp-source or --no-cpp")

    # Rounds interleave the systems, so that a slow spell of the host (this machine is
    # shared) hits both sides of a ratio; the figures are medians over rounds.
    rounds = []
    for r in range(args.rounds):
        row = {"fastdeploy": {}, "cpp": {}}
        for threads in thread_counts:
            t0 = time.perf_counter()
            res = sim.run_batch(args.replicas, threads=threads)
            wall = time.perf_counter() - t0
            requests = int(np.sum(res.table.column("requests_created").to_numpy()))
            row["fastdeploy"][threads] = {"wall_s": wall, "requests": requests,
                                          "req_per_s": requests / wall,
                                          "replicas_per_s": args.replicas / wall}
            if cpp_exe:
                row["cpp"][threads] = run_cpp(cpp_exe, args.cpp_replicas, threads)
        line = [f"round {r + 1}"]
        for threads in thread_counts:
            f = row["fastdeploy"][threads]["req_per_s"]
            line.append(f"fastdeploy {threads}t {f / 1e6:.2f} M/s")
            if cpp_exe:
                c = row["cpp"][threads]["req_per_s"]
                line.append(f"C++ {threads}t {c / 1e6:.2f} M/s (ratio {f / c:.3f})")
        print(", ".join(line), flush=True)
        rounds.append(row)
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    figures["rounds"] = rounds
    figures["peak_rss_mib"] = rss1 / 1024
    figures["rss_growth_per_replica_kib"] = (rss1 - rss0) / args.replicas
    print(f"peak RSS {rss1 / 1024:.0f} MiB; growth over the warm-up "
          f"{(rss1 - rss0) / args.replicas:.2f} KiB per replica of output")

    def med(system, threads, key="req_per_s"):
        return median([row[system][threads][key] for row in rounds])

    summary = {}
    for threads in thread_counts:
        summary[f"fastdeploy_{threads}t_req_per_s"] = med("fastdeploy", threads)
        summary[f"fastdeploy_{threads}t_replicas_per_s"] = med("fastdeploy", threads,
                                                                "replicas_per_s")
        print(f"fastdeploy {threads} thread(s), median: "
              f"{summary[f'fastdeploy_{threads}t_req_per_s'] / 1e6:.2f} M requests/s, "
              f"{summary[f'fastdeploy_{threads}t_replicas_per_s']:.0f} replicas/s")
        if cpp_exe:
            summary[f"cpp_{threads}t_req_per_s"] = med("cpp", threads)
            ratio = median([row["fastdeploy"][threads]["req_per_s"]
                            / row["cpp"][threads]["req_per_s"] for row in rounds])
            summary[f"ratio_{threads}t_vs_cpp_{threads}t"] = ratio
            print(f"C++ {threads} thread(s), median: "
                  f"{summary[f'cpp_{threads}t_req_per_s'] / 1e6:.2f} M requests/s; "
                  f"fastdeploy / C++ (median of rounds): {ratio:.3f}")
    if 1 in thread_counts and 2 in thread_counts:
        scaling = median([row["fastdeploy"][2]["req_per_s"] / row["fastdeploy"][1]["req_per_s"]
                          for row in rounds])
        summary["scaling_2_over_1"] = scaling
        print(f"2 threads / 1 thread (median of rounds): {scaling:.2f}x")
        if cpp_exe:
            cs = median([row["cpp"][2]["req_per_s"] / row["cpp"][1]["req_per_s"]
                         for row in rounds])
            summary["cpp_scaling_2_over_1"] = cs
            print(f"C++ 2 threads / 1 thread (median of rounds): {cs:.2f}x")
    figures["summary"] = summary
    if cpp_exe:
        shutil.rmtree(os.path.dirname(cpp_exe), ignore_errors=True)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
