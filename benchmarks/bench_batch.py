"""Speed of the batch engine on presets, against the C++ floors, in one invocation.

    python benchmarks/bench_batch.py [--scenarios autoscale-spike,canary-bad,rolling]
        [--traffic 1] [--replicas 10000] [--threads 1,2] [--rounds 3] [--cold-runs 2]
        [--cpp-replicas 1000] [--cpp-fast-replicas 20000] [--cpp-source PATH]
        [--cpp-fast-source PATH] [--no-cpp] [--no-compile]

Prints requests simulated per second (wall, and per thread) and replicas per second for
each scenario and thread count, cold compile time (empty numba cache, new process) and
warm start (filled cache, new process) to the first result of a 1-replica run of the first
scenario, peak memory, and the same speed figures for the two C++ programs of the shared
anchors (built here with g++ -O2 -march=native): the plain heap-based autoscale.cpp and
the event-free autoscale_fast.cpp (default --rng fast). The C++ programs model only
autoscale-spike at traffic 1; every scenario is still compared with them (fastdeploy / plain
and fastdeploy / fast, same thread count), as issue 12 asks. All systems run in
interleaved rounds and the figures are medians over rounds (the ratios and the 2-thread /
1-thread scalings: medians of each round's ratio). --scenario NAME is an alias of
--scenarios NAME. --traffic X multiplies the rate of every source (the lowered
`<source>.profile.*rate` parameters, overridden per replica) and divides the replicas by
X, so that a run simulates about as many requests as at traffic 1; such a scenario is
named e.g. "autoscale-spike x10". The C++ sources default to shared/anchors/cpp/ in the
folder beside the repository. It prints a final JSON line with every figure: the keys
without a scenario name are those of the first scenario, "by_scenario" holds them all.
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
ANCHORS_CPP = os.path.join(os.path.dirname(REPO), "shared", "anchors", "cpp")
DEFAULT_CPP = os.path.join(ANCHORS_CPP, "autoscale.cpp")
DEFAULT_CPP_FAST = os.path.join(ANCHORS_CPP, "autoscale_fast.cpp")
CPP_SYSTEMS = (("cpp", "C++ plain"), ("cpp_fast", "C++ fast"))

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
    name = os.path.splitext(os.path.basename(source))[0]
    exe = os.path.join(tempfile.mkdtemp(prefix="fastdeploy-cpp-"), name)
    subprocess.run(["g++", "-O2", "-march=native", "-std=c++17", "-pthread", "-o", exe, source],
                   check=True)
    return exe


def run_cpp(exe, replicas, threads):
    line = subprocess.run([exe, "--replicas", str(replicas), "--threads", str(threads),
                           "--json"], capture_output=True, text=True, check=True).stdout
    return json.loads(line.strip().splitlines()[-1])


def traffic_rates(sim, factor):
    """{dotted path: value x factor} for every rate of every source's profile."""
    rates = {k: v * factor for k, v in sim.batch_parameters().items()
             if ".profile." in k and k.rsplit(".", 1)[-1].endswith("rate")}
    if not rates:
        raise SystemExit(f"--traffic: no source rate among the batch parameters of {sim}")
    return rates


class Case:
    """One scenario at one traffic factor: its simulation, replicas and rate overrides."""

    def __init__(self, name, traffic, replicas):
        from fastdeploy.presets import PRESETS

        self.name, self.traffic = name, traffic
        self.label = name if traffic == 1 else f"{name} x{traffic:g}"
        self.sim = PRESETS[name](0)
        self.replicas = max(1, round(replicas / traffic)) if traffic > 1 else replicas
        self.rates = traffic_rates(self.sim, traffic) if traffic != 1 else {}

    def run(self, replicas, threads):
        params = {k: np.full(replicas, v) for k, v in self.rates.items()} or None
        return self.sim.run_batch(replicas, threads=threads, params=params)

    def timed(self, threads):
        t0 = time.perf_counter()
        res = self.run(self.replicas, threads)
        wall = time.perf_counter() - t0
        requests = int(np.sum(res.table.column("requests_created").to_numpy()))
        return {"wall_s": wall, "requests": requests, "req_per_s": requests / wall,
                "replicas_per_s": self.replicas / wall}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--scenarios", default="autoscale-spike",
                    help="comma-separated presets, run interleaved within each round")
    ap.add_argument("--scenario", help="one preset (alias of --scenarios NAME)")
    ap.add_argument("--traffic", type=float, default=1.0,
                    help="multiply every source's rate by this (replicas divided by it)")
    ap.add_argument("--replicas", type=int, default=10000)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--cpp-replicas", type=int, default=1000)
    ap.add_argument("--cpp-fast-replicas", type=int, default=20000,
                    help="the fast C++ runs 1000 replicas in ~0.05 s; more give a steadier figure")
    ap.add_argument("--cpp-source", default=DEFAULT_CPP)
    ap.add_argument("--cpp-fast-source", default=DEFAULT_CPP_FAST)
    ap.add_argument("--no-cpp", action="store_true", help="skip both C++ programs")
    ap.add_argument("--no-compile", action="store_true", help="skip the cold/warm start runs")
    ap.add_argument("--rounds", type=int, default=3,
                    help="interleaved rounds of every system; figures are medians")
    ap.add_argument("--cold-runs", type=int, default=2, help="cold starts to measure")
    args = ap.parse_args()
    if args.rounds < 1 or (args.cold_runs < 1 and not args.no_compile):
        ap.error(f"--rounds and --cold-runs must be at least 1, got {args.rounds} and "
                 f"{args.cold_runs}")
    if args.traffic <= 0:
        ap.error(f"--traffic must be positive, got {args.traffic}")
    names = [args.scenario] if args.scenario else args.scenarios.split(",")
    figures: dict = {"scenario": names[0], "scenarios": names, "traffic": args.traffic,
                     "replicas": args.replicas, "cpp_replicas": args.cpp_replicas,
                     "cpp_fast_replicas": args.cpp_fast_replicas,
                     "machine": f"{os.cpu_count()} cores, {os.uname().machine}"}

    if not args.no_compile:
        colds = []
        caches = []
        for _ in range(args.cold_runs):
            caches.append(tempfile.mkdtemp(prefix="fastdeploy-numba-"))
            colds.append(child(names[0], 1, 1, caches[-1])["first_result_s"])
        warm = child(names[0], 1, 1, caches[-1])
        for cache in caches:
            shutil.rmtree(cache, ignore_errors=True)
        figures["cold_start_s"] = colds
        figures["warm_start_s"] = warm["first_result_s"]
        figures["import_s"] = warm["import_s"]
        print(f"{names[0]}: cold start (empty cache) to first result: "
              + ", ".join(f"{c:.2f}" for c in colds) + f" s (median {median(colds):.2f} s)")
        print(f"warm start (new process) to first result: {warm['first_result_s']:.3f} s "
              f"(import {warm['import_s']:.2f} s)")

    cases = [Case(name, args.traffic, args.replicas) for name in names]
    for case in cases:
        case.run(2, 1)  # compile or load from cache outside the timings
        rates = ", ".join(f"{k} {v:g}" for k, v in case.rates.items())
        print(f"{case.label}: {case.replicas} replicas per run" + (f"; {rates}" if rates else ""))
    figures["replicas_used"] = {c.label: c.replicas for c in cases}
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    thread_counts = [int(t) for t in args.threads.split(",")]
    exes = {}
    for system, source in (("cpp", args.cpp_source), ("cpp_fast", args.cpp_fast_source)):
        if args.no_cpp:
            break
        if os.path.exists(source):
            exes[system] = build_cpp(source)
        else:
            print(f"C++ source not found at {source}; pass --{system.replace('_', '-')}-source "
                  "or --no-cpp")
    cpps = [(s, title) for s, title in CPP_SYSTEMS if s in exes]

    # Rounds interleave the systems, so that a slow spell of the host (this machine is
    # shared) hits both sides of a ratio; the figures are medians over rounds.
    # row["fastdeploy"] is the first scenario (as before), row["scenarios"] all of them.
    rounds = []
    for r in range(args.rounds):
        row = {"scenarios": {c.label: {} for c in cases}, **{s: {} for s in exes}}
        line = [f"round {r + 1}"]
        for threads in thread_counts:
            for case in cases:
                row["scenarios"][case.label][threads] = case.timed(threads)
            for system, exe in exes.items():
                n = args.cpp_fast_replicas if system == "cpp_fast" else args.cpp_replicas
                row[system][threads] = run_cpp(exe, n, threads)
            for case in cases:
                f = row["scenarios"][case.label][threads]["req_per_s"]
                line.append(f"{case.label} {threads}t {f / 1e6:.2f} M/s")
            line += [f"{title} {threads}t {row[s][threads]['req_per_s'] / 1e6:.1f} M/s"
                     for s, title in cpps]
        row["fastdeploy"] = row["scenarios"][cases[0].label]
        print(", ".join(line), flush=True)
        rounds.append(row)
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    figures["rounds"] = rounds
    figures["peak_rss_mib"] = rss1 / 1024
    figures["rss_growth_per_replica_kib"] = (rss1 - rss0) / sum(c.replicas for c in cases)
    print(f"peak RSS {rss1 / 1024:.0f} MiB; growth over the warm-up "
          f"{figures['rss_growth_per_replica_kib']:.2f} KiB per replica of output")

    def rps(row, system, threads):  # system: a scenario label or a C++ system
        return (row[system] if system in exes else row["scenarios"][system])[threads]["req_per_s"]

    def med(fn):
        return median([fn(row) for row in rounds])

    cpp_summary = {}
    by_scenario = {c.label: {"replicas": c.replicas, "traffic": c.traffic} for c in cases}
    for threads in thread_counts:
        print(f"{threads} thread(s), medians over rounds (requests/s; per thread; "
              "fastdeploy / C++ of the same round):")
        for system, title in cpps:
            v = med(lambda row: rps(row, system, threads))
            cpp_summary[f"{system}_{threads}t_req_per_s"] = v
            print(f"  {title:<28} {v / 1e6:9.2f} M/s; {v / threads / 1e6:9.2f} M/s per thread")
        for case in cases:
            s = by_scenario[case.label]
            v = s[f"{threads}t_req_per_s"] = med(lambda row: rps(row, case.label, threads))
            s[f"{threads}t_req_per_s_per_thread"] = v / threads
            s[f"{threads}t_replicas_per_s"] = med(
                lambda row: row["scenarios"][case.label][threads]["replicas_per_s"])
            text = f"  {case.label:<28} {v / 1e6:9.2f} M/s; {v / threads / 1e6:9.2f} M/s per thread"
            for system, title in cpps:
                ratio = med(lambda row: rps(row, case.label, threads) / rps(row, system, threads))
                s[f"{threads}t_ratio_vs_{system}"] = ratio
                text += f"; / {title} {ratio:.4f}"
            print(text)
    if 1 in thread_counts and 2 in thread_counts:
        def scaling(system):
            return med(lambda row: rps(row, system, 2) / rps(row, system, 1))

        print("2 threads / 1 thread (median of rounds):")
        for system, title in cpps:
            cpp_summary[f"{system}_scaling_2_over_1"] = scaling(system)
            print(f"  {title:<28} {cpp_summary[f'{system}_scaling_2_over_1']:.2f}x")
        for case in cases:
            by_scenario[case.label]["scaling_2_over_1"] = scaling(case.label)
            print(f"  {case.label:<28} {by_scenario[case.label]['scaling_2_over_1']:.2f}x")

    # The keys of before (first scenario), then the C++ figures, then every scenario.
    first = by_scenario[cases[0].label]
    summary = {}
    for threads in thread_counts:
        summary[f"fastdeploy_{threads}t_req_per_s"] = first[f"{threads}t_req_per_s"]
        summary[f"fastdeploy_{threads}t_replicas_per_s"] = first[f"{threads}t_replicas_per_s"]
        for system, _ in cpps:
            summary[f"ratio_{threads}t_vs_{system}_{threads}t"] = first[
                f"{threads}t_ratio_vs_{system}"]
    if "scaling_2_over_1" in first:
        summary["scaling_2_over_1"] = first["scaling_2_over_1"]
    summary.update(cpp_summary)
    summary["by_scenario"] = by_scenario
    figures["summary"] = summary
    for exe in exes.values():
        shutil.rmtree(os.path.dirname(exe), ignore_errors=True)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
