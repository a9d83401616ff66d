"""Named scenarios of the project's benchmarks (shared/BENCHMARKS.md)."""

from __future__ import annotations

from ..core.simulation import Simulation
from ..deployment import (AutoScaler, CanaryDeployer, RollingDeployer, TargetUtilization)
from ..model.distributions import ExponentialLatency
from ..model.load_balancer import LoadBalancer
from ..model.profiles import SpikeProfile
from ..model.server import Server
from ..model.source import Source
from ..model.strategies import RoundRobin, WeightedRoundRobin


def autoscale_spike(seed: int = 0) -> Simulation:
    """Horizon 600 s; Poisson spike 20 -> 100 -> 20 req/s; TargetUtilization(0.6) scaler."""
    def server(name):
        return Server(name, concurrency=4, service_time=ExponentialLatency(0.1))

    lb = LoadBalancer("lb", backends=[server("server_0")], strategy=RoundRobin())
    traffic = Source.with_profile(SpikeProfile(baseline_rate=20, spike_rate=100, warmup_s=200,
                                               spike_duration_s=200), lb, name="traffic")
    scaler = AutoScaler("scaler", lb, server, policy=TargetUtilization(0.6), min_instances=1,
                        max_instances=20, evaluation_interval=5, scale_out_cooldown=15,
                        scale_in_cooldown=60)
    sim = Simulation(end_time=600, sources=[traffic], entities=[lb, scaler], seed=seed)
    sim.schedule(scaler.start())
    return sim


def _canary(new_failure_rate: float, seed: int) -> Simulation:
    def server(name, failure_rate=0.01):
        return Server(name, concurrency=2, service_time=ExponentialLatency(0.05),
                      failure_rate=failure_rate)

    lb = LoadBalancer("lb", backends=[server(f"server_{i}") for i in range(4)],
                      strategy=WeightedRoundRobin())
    traffic = Source.poisson(100, lb, name="traffic")
    deployer = CanaryDeployer("canary", lb, lambda name: server(name, new_failure_rate),
                              evaluation_interval=5)
    sim = Simulation(end_time=180, sources=[traffic], entities=[lb, deployer], seed=seed)
    sim.schedule(deployer.deploy(at=10))
    return sim


def canary_bad(seed: int = 0) -> Simulation:
    """Canary whose new servers fail 5% of requests (baseline 1%): detection power."""
    return _canary(0.05, seed)


def canary_good(seed: int = 0) -> Simulation:
    """Canary as healthy as the baseline (1% failures): false alarms."""
    return _canary(0.01, seed)


def rolling(seed: int = 0) -> Simulation:
    """Rolling deployment of 8 servers in batches of 2 under 80 req/s."""
    def server(name):
        return Server(name, concurrency=2, service_time=ExponentialLatency(0.05),
                      queue_capacity=100)

    lb = LoadBalancer("lb", backends=[server(f"server_{i}") for i in range(8)],
                      strategy=RoundRobin())
    traffic = Source.poisson(80, lb, name="traffic")
    deployer = RollingDeployer("rolling", lb, server, batch_size=2, health_check_interval=2,
                               healthy_threshold=2, max_failures=1)
    sim = Simulation(end_time=120, sources=[traffic], entities=[lb, deployer], seed=seed)
    sim.schedule(deployer.deploy(at=10))
    return sim


PRESETS = {
    "autoscale-spike": autoscale_spike,
    "canary-bad": canary_bad,
    "canary-good": canary_good,
    "rolling": rolling,
}
