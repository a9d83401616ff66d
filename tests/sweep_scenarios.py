"""Small scenarios for the sweep tests (shared with the subprocess and the Dask workers).

Under NUMBA_DISABLE_JIT=1 the kernels run as plain Python, so the scenarios shrink
(shorter horizon, lower rate) and the tests scale replica counts with ``scale``.
"""

from __future__ import annotations

import os

from fastdeploy import ExponentialLatency, LoadBalancer, Server, Simulation, Source
from fastdeploy.deployment import AutoScaler, CanaryDeployer, CanaryStage, TargetUtilization
from fastdeploy.deployment.evaluators import ErrorRateEvaluator

NO_JIT = os.environ.get("NUMBA_DISABLE_JIT") == "1"
HORIZON = 20 if NO_JIT else 40
RATE = 6 if NO_JIT else 12


def scale(n: int, no_jit: int) -> int:
    """``n`` replicas compiled, ``no_jit`` as plain Python."""
    return no_jit if NO_JIT else n


def scaler_sim(seed: int = 0) -> Simulation:
    """One load balancer, a TargetUtilization scaler, Poisson traffic."""
    def server(name):
        return Server(name, concurrency=2, service_time=ExponentialLatency(0.15))

    lb = LoadBalancer("lb", backends=[server("s0")])
    src = Source.poisson(RATE, lb, name="traffic")
    scaler = AutoScaler("scaler", lb, server, policy=TargetUtilization(0.6), max_instances=6,
                        evaluation_interval=2, scale_out_cooldown=4, scale_in_cooldown=8)
    sim = Simulation(end_time=HORIZON, sources=[src], entities=[lb, scaler], seed=seed)
    sim.schedule(scaler.start())
    return sim


def canary_sim(seed: int = 0) -> Simulation:
    """A two-stage canary whose new servers fail 5% of requests (baseline 2%)."""
    def server(name, failure_rate=0.02):
        return Server(name, concurrency=2, service_time=ExponentialLatency(0.05),
                      failure_rate=failure_rate)

    lb = LoadBalancer("lb", backends=[server("s0"), server("s1")])
    src = Source.poisson(2 * RATE, lb, name="traffic")
    deployer = CanaryDeployer("canary", lb, lambda name: server(name, 0.05),
                              stages=[CanaryStage(0.25, 6), CanaryStage(1.0, 6)],
                              metric_evaluator=ErrorRateEvaluator(0.05), evaluation_interval=2)
    sim = Simulation(end_time=HORIZON, sources=[src], entities=[lb, deployer], seed=seed)
    sim.schedule(deployer.deploy(at=2))
    return sim
