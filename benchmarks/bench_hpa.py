"""The HorizontalPodAutoscaler's cost per request: hpa-spike against autoscale-spike (same
traffic and servers; an HPA that syncs every 15 s instead of an AutoScaler every 5 s),
and the cold start with the HPA compiled in.

    python benchmarks/bench_hpa.py [--replicas 10000] [--rounds 3] [--cold-runs 2]

One process, one thread, kernels warmed first; the two presets run in turn each round
(so a drift of the machine's speed touches both alike). Prints requests simulated per
second per thread for each, the median per-round ratio, and the cold start: a new process
with an empty numba cache to the first result of a 1-replica hpa-spike run. A final JSON
line holds every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from statistics import median

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_batch import child  # noqa: E402
from bench_lifecycle import throughput as preset_throughput  # noqa: E402


VARIANTS = {"autoscale-spike": ("autoscale-spike", {}),
            "hpa-spike": ("hpa-spike", {}),
            # the same HPA reading its pods' values at the sync instead of 30 s means: what
            # the servers' integrals and the window's marks (fastdeploy docs
            # instance-lifecycle) cost per request
            "hpa-spike, metric_window=0": ("hpa-spike", {"hpa.metric_window": 0.0})}


def throughput(variant: str, replicas: int) -> float:
    name, params = VARIANTS[variant]
    return preset_throughput(name, replicas, params)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--replicas", type=int, default=10_000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--cold-runs", type=int, default=2)
    args = p.parse_args(argv)
    names = tuple(VARIANTS)
    for n in names:
        throughput(n, 2)  # warm: compiled (or loaded from the cache) before timing
    rates = {n: [] for n in names}
    ratios = []
    for k in range(args.rounds):
        for n in names:
            rates[n].append(throughput(n, args.replicas))
        ratios.append(rates["hpa-spike"][-1] / rates["autoscale-spike"][-1])
        print(f"round {k + 1}: " + ", ".join(f"{n} {rates[n][-1] / 1e6:.2f} M req/s"
                                             for n in names) + f", ratio {ratios[-1]:.3f}",
              flush=True)
    figures = {n: median(v) for n, v in rates.items()}
    figures["ratio_window0"] = median(a / b for a, b in zip(rates["hpa-spike, metric_window=0"],
                                                            rates["autoscale-spike"]))
    figures["ratio"] = median(ratios)
    print("medians: " + ", ".join(f"{n} {figures[n] / 1e6:.2f} M req/s per thread"
                                   for n in names)
          + f"; hpa-spike / autoscale-spike {figures['ratio']:.3f}, with metric_window=0 "
          f"{figures['ratio_window0']:.3f}")
    colds = []
    for _ in range(args.cold_runs):
        cache = tempfile.mkdtemp(prefix="fastdeploy-cold-")
        try:
            colds.append(child("hpa-spike", 1, 1, cache)["first_result_s"])
        finally:
            shutil.rmtree(cache, ignore_errors=True)
    figures["cold_start_s"] = colds
    print("cold start of hpa-spike (empty cache, new process) to first result: "
          + ", ".join(f"{c:.2f}" for c in colds) + " s")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
