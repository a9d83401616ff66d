"""The autoscale-spike scenario in the object engine: one replica, printed as a table.

Run: python examples/autoscale_spike.py [--replica N] [--seed S]
"""

import argparse

from fastdeploy import ExponentialLatency, LoadBalancer, RoundRobin, Server, Simulation, Source
from fastdeploy import SpikeProfile
from fastdeploy.deployment import AutoScaler, TargetUtilization


def build(seed: int = 0) -> Simulation:
    def make_server(name):
        return Server(name, concurrency=4, service_time=ExponentialLatency(0.1))

    lb = LoadBalancer("lb", backends=[make_server("server_0")], strategy=RoundRobin())
    traffic = Source.with_profile(SpikeProfile(baseline_rate=20, spike_rate=100, warmup_s=200,
                                               spike_duration_s=200), lb, name="traffic")
    scaler = AutoScaler("scaler", lb, make_server, policy=TargetUtilization(0.6),
                        min_instances=1, max_instances=20, evaluation_interval=5,
                        scale_out_cooldown=15, scale_in_cooldown=60)
    sim = Simulation(end_time=600, sources=[traffic], entities=[lb, scaler], seed=seed)
    sim.schedule(scaler.start())
    return sim


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--replica", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    summary = build(args.seed).run(replica=args.replica)
    for k, v in summary.metrics.items():
        print(f"{k:32s} {v}")
    print(f"{'events_processed':32s} {summary.events_processed}")
    print(f"{'wall_time_s':32s} {summary.wall_time:.3f}")


if __name__ == "__main__":
    main()
