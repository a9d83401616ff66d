"""What instance lifecycle costs per request: autoscale-spike as it is; the same with an
observer that averages over a 30 s metric window (a second AutoScaler whose tolerance
keeps it from ever acting, so the simulated traffic is the same and the difference is the
cost of every server integrating its counts, and of the window marks and reads);
and autoscale-boot (instances that boot for Exponential(60 s)).

    python benchmarks/bench_lifecycle.py [--replicas 400] [--rounds 6] [--window 30]

One process, one thread, kernels warmed first; the variants run in turn each round, so a
drift of the machine's speed touches them alike. Prints requests simulated per second per
thread for each round, the medians, and the median per-round ratio to the plain run.
"""

from __future__ import annotations

import argparse
import json
import time
from statistics import median

from fastdeploy import Simulation
from fastdeploy.deployment import AutoScaler, TargetUtilization
from fastdeploy.presets import PRESETS


def with_observer(window: float) -> Simulation:
    """autoscale-spike and an AutoScaler that reads windowed metrics and never acts."""
    sim = PRESETS["autoscale-spike"](0)
    scaler = next(e for e in sim.entities if isinstance(e, AutoScaler))
    observer = AutoScaler("observer", scaler.load_balancer, scaler.server_factory,
                          policy=TargetUtilization(0.5, tolerance=1e9), min_instances=0,
                          max_instances=100_000, evaluation_interval=5.0,
                          metric_window=window)
    out = Simulation(start_time=sim.start_time, end_time=sim.end_time, sources=sim.sources,
                     entities=[*sim.entities, observer], seed=sim.seed)
    out.schedule(sim._pending + [observer.start()])
    return out


def throughput(name, replicas: int, params: dict) -> float:
    sim = PRESETS[name](0) if isinstance(name, str) else name()
    rows = {k: [v] * replicas for k, v in params.items()}
    t = time.perf_counter()
    r = sim.run_batch(replicas, threads=1, params=rows or None)
    wall = time.perf_counter() - t
    return sum(r.table.column("requests_created").to_pylist()) / wall


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--replicas", type=int, default=400)
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--window", type=float, default=30.0)
    args = p.parse_args(argv)
    variants = {
        "autoscale-spike": ("autoscale-spike", {}),
        f"autoscale-spike + observer, metric_window={args.window:g}": (
            lambda: with_observer(args.window), {}),
        "autoscale-boot": ("autoscale-boot", {}),
    }
    for name, params in variants.values():  # compile and warm up
        throughput(name, 2, params)
    figures = {label: [] for label in variants}
    for k in range(args.rounds):
        line = []
        for label, (name, params) in variants.items():
            figures[label].append(throughput(name, args.replicas, params))
            line.append(f"{label}: {figures[label][-1]:.4g}")
        print(f"round {k + 1}: " + "; ".join(line), flush=True)
    base = figures["autoscale-spike"]
    summary = {}
    for label, values in figures.items():
        ratio = median(v / b for v, b in zip(values, base))
        summary[label] = {"median_requests_per_s": median(values), "ratio_to_plain": ratio}
        print(f"{label}: median {median(values) / 1e6:.2f} M requests/s per thread, "
              f"{ratio:.3f}x the plain run")
    print(json.dumps({"replicas": args.replicas, "rounds": args.rounds, "figures": figures,
                      "summary": summary}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
