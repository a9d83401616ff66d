"""Oracle: happysim 0.2.5 on deterministic scenarios, for the behaviour SPEC keeps.

happysim needs Python >= 3.13. Set FASTDEPLOY_HAPPYSIM_PYTHON to an interpreter that
has `happysim==0.2.5` installed (.ci/run does this when pyenv has a 3.13); otherwise
these tests skip. tests/oracle/happysim_runner.py builds each scenario in happysim and
prints its results as JSON; the tests build the same scenario here and compare.
"""

import json
import os
import subprocess

import pytest

from fastdeploy import ConstantLatency, LoadBalancer, RoundRobin, Server, Simulation, Source
from fastdeploy.deployment import (AutoScaler, CanaryDeployer, CanaryStage, QueueDepthScaling,
                                   RollingDeployer, StepScaling)

RUNNER = os.path.join(os.path.dirname(__file__), "oracle", "happysim_runner.py")
PYTHON = os.environ.get("FASTDEPLOY_HAPPYSIM_PYTHON")

pytestmark = pytest.mark.skipif(
    not PYTHON or not os.path.exists(PYTHON),
    reason="happysim 0.2.5 needs Python >= 3.13: set FASTDEPLOY_HAPPYSIM_PYTHON to an "
           "interpreter with happysim==0.2.5 installed (.ci/run does when pyenv has 3.13)")

_cache: dict = {}


def oracle(name: str) -> dict:
    if name not in _cache:
        out = subprocess.run([PYTHON, RUNNER, name], capture_output=True, text=True,
                             check=True, timeout=120).stdout
        _cache[name] = json.loads(out)
    return _cache[name]


def server(name, p):
    return Server(name, concurrency=p["server_concurrency"],
                  service_time=ConstantLatency(p["service_time_constant"]))


POLICIES = {
    "step_scaling": lambda: StepScaling([(0.8, 2), (0.3, 0), (0.0, -1)]),
    "queue_depth_scaling": lambda: QueueDepthScaling(scale_out_threshold=5, scale_in_threshold=1),
    "cooldown_timeline": lambda: StepScaling([(0.8, 1), (0.3, 0), (0.0, -1)]),
}


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_autoscaler_decisions_match_happysim(name):
    ref = oracle(name)
    p = ref["params"]
    assert p["policy"].split("(")[0] == type(POLICIES[name]()).__name__
    lb = LoadBalancer("lb", backends=[server(f"server_{i + 1}", p)
                                      for i in range(p["initial_servers"])],
                      strategy=RoundRobin())
    src = Source.constant(p["rate"], lb, name="source", stop_after=p["stop_after"])
    scaler = AutoScaler("scaler", lb, lambda n: server(n, p), policy=POLICIES[name](),
                        min_instances=p["min_instances"], max_instances=p["max_instances"],
                        evaluation_interval=p["evaluation_interval"],
                        scale_out_cooldown=p["scale_out_cooldown"],
                        scale_in_cooldown=p["scale_in_cooldown"])
    sim = Simulation(end_time=p["horizon"], sources=[src], entities=[lb, scaler])
    sim.schedule(scaler.start(at=p["scaler_start_at"]))
    sim.run()
    history = [[round(e.time.to_seconds(), 9), e.action, e.from_count, e.to_count]
               for e in scaler.scaling_history]
    assert history == ref["scaling_history"]
    assert [e.reason for e in scaler.scaling_history] == ref["scaling_reasons"]
    # happysim runs one event past the end time (SPEC 9.14); compare at the horizon.
    assert vars(scaler.stats) == ref["stats_at_horizon"]
    assert [b.name for b in lb.all_backends] == ref["final_backends"]


class AlwaysHealthy:
    def is_healthy(self, canary, baseline_backends):
        return True


def test_canary_stage_timing_matches_happysim():
    ref = oracle("canary_always_healthy")
    p = ref["params"]
    lb = LoadBalancer("lb", backends=[server(f"server_{i + 1}", p)
                                      for i in range(p["baseline_servers"])])
    src = Source.constant(p["rate"], lb, name="source")
    deployer = CanaryDeployer("deployer", lb, lambda n: server(n, p),
                              stages=[CanaryStage(f, t) for f, t in p["stages"]],
                              metric_evaluator=AlwaysHealthy(),
                              evaluation_interval=p["evaluation_interval"])
    sim = Simulation(end_time=p["horizon"], sources=[src], entities=[lb, deployer])
    sim.schedule(deployer.deploy(at=p["deploy_at"]))
    summary = sim.run()
    assert vars(deployer.stats) == ref["stats"]
    done = [t for t, kind, *_ in ref["transitions"] if kind == "_canary_complete"]
    assert summary.metrics["deployer.end_time"] == done[0]
    assert deployer.state.status == ref["final_state"]["status"]
    assert deployer.state.current_stage == ref["final_state"]["current_stage"]
    # SPEC 9.8: promotion keeps the fleet size (happysim leaves one instance).
    assert ref["final_backends"] == ["deployer_canary"]
    assert [b.name for b in lb.all_backends] == ["deployer_canary", "deployer_canary_2",
                                                 "deployer_canary_3"]


def test_rolling_threshold_one_matches_happysim():
    ref = oracle("rolling_threshold1")
    p = ref["params"]
    lb = LoadBalancer("lb", backends=[server(f"server_{i + 1}", p)
                                      for i in range(p["old_servers"])])
    src = Source.constant(p["rate"], lb, name="source")
    deployer = RollingDeployer("rolling", lb, lambda n: server(n, p), batch_size=p["batch_size"],
                               health_check_interval=p["health_check_interval"],
                               healthy_threshold=p["healthy_threshold"],
                               max_failures=p["max_failures"])
    sim = Simulation(end_time=p["horizon"], sources=[src], entities=[lb, deployer])
    sim.schedule(deployer.deploy(at=p["deploy_at"]))
    summary = sim.run()
    assert vars(deployer.stats) == ref["stats"]
    assert vars(deployer.state) == ref["final_state"]
    assert [b.name for b in lb.all_backends] == ref["final_backends"]
    # happysim passes a probe when it is queued (SPEC 9.2); here when it completes, so each
    # batch ends one probe service time or more later.
    end = summary.metrics["rolling.end_time"]
    assert ref["completion_time_s"] <= end < ref["completion_time_s"] + 1.0
