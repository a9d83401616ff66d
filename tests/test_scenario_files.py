"""Scenario files (fastdeploy.scenario): files build the same objects as the API, every kind
of mistake names its key, presets read from TOML equal the Python-built presets."""

from __future__ import annotations

import math
import re
import tomllib
from pathlib import Path

import pytest

from fastdeploy import (ConstantLatency, ExponentialLatency, LeastConnections,
                        LinearRampProfile, LoadBalancer, LogNormalLatency,
                        PiecewiseRateProfile, PowerOfTwoChoices, Random, RoundRobin, Server,
                        Simulation, Source, SpikeProfile, UniformLatency, WeightedRoundRobin)
from fastdeploy.deployment import (AutoScaler, CanaryDeployer, CanaryStage, ErrorRateEvaluator,
                                   LatencyEvaluator, QueueDepthScaling, RollingDeployer,
                                   StepScaling, TargetUtilization)
from fastdeploy.presets import (PRESETS, argo_canary_bad, argo_canary_good, autoscale_boot,
                                autoscale_spike, canary_bad, canary_good, flagger_bad,
                                flagger_good, hpa_spike, preset_path, rolling)
from fastdeploy.scenario import ScenarioError, load, loads
from fastdeploy.scenario import _parse as parse_module
from fastdeploy.scenario import _sweep as sweep_module

ROOT = Path(__file__).resolve().parents[1]


# -- the presets as they were built in Python before the TOML files (the reference) ----------
def ref_autoscale_spike(seed: int = 0, startup_delay=0.0) -> Simulation:
    def server(name):
        return Server(name, concurrency=4, service_time=ExponentialLatency(0.1))

    def booting(name):
        return Server(name, concurrency=4, service_time=ExponentialLatency(0.1),
                      startup_delay=startup_delay)

    lb = LoadBalancer("lb", backends=[server("server_0")], strategy=RoundRobin())
    traffic = Source.with_profile(SpikeProfile(baseline_rate=20, spike_rate=100, warmup_s=200,
                                               spike_duration_s=200), lb, name="traffic")
    scaler = AutoScaler("scaler", lb, booting, policy=TargetUtilization(0.6), min_instances=1,
                        max_instances=20, evaluation_interval=5, scale_out_cooldown=15,
                        scale_in_cooldown=60)
    sim = Simulation(end_time=600, sources=[traffic], entities=[lb, scaler], seed=seed)
    sim.schedule(scaler.start())
    return sim


def _ref_canary(new_failure_rate: float, seed: int) -> Simulation:
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


def ref_canary_bad(seed: int = 0) -> Simulation:
    return _ref_canary(0.05, seed)


def ref_canary_good(seed: int = 0) -> Simulation:
    return _ref_canary(0.01, seed)


def _ref_flagger(new_failure_rate: float, seed: int) -> Simulation:
    from fastdeploy.flagger import FlaggerCanary

    def server(name, failure_rate=0.01):
        return Server(name, concurrency=2, service_time=ExponentialLatency(0.05),
                      failure_rate=failure_rate)

    lb = LoadBalancer("lb", backends=[server(f"server_{i}") for i in range(4)],
                      strategy=WeightedRoundRobin())
    traffic = Source.poisson(100, lb, name="traffic")
    deployer = FlaggerCanary("flagger", lb, lambda name: server(name, new_failure_rate))
    sim = Simulation(end_time=750, sources=[traffic], entities=[lb, deployer], seed=seed)
    sim.schedule(deployer.deploy(at=10))
    return sim


def ref_flagger_bad(seed: int = 0) -> Simulation:
    return _ref_flagger(0.05, seed)


def ref_flagger_good(seed: int = 0) -> Simulation:
    return _ref_flagger(0.01, seed)


def _ref_argo(new_failure_rate: float, seed: int) -> Simulation:
    from fastdeploy.argo import (AnalysisMetric, AnalysisTemplate, ArgoCanary,
                                 BackgroundAnalysis, Pause, SetWeight)

    def server(name, failure_rate=0.01):
        return Server(name, concurrency=2, service_time=ExponentialLatency(0.05),
                      failure_rate=failure_rate)

    lb = LoadBalancer("lb", backends=[server(f"server_{i}") for i in range(4)],
                      strategy=WeightedRoundRobin())
    traffic = Source.poisson(100, lb, name="traffic")
    errors = AnalysisTemplate([AnalysisMetric("error-rate", "error_rate", success="<= 0.01",
                                              interval=60, failure_limit=2)])
    steps = [s for w in (20, 40, 60, 80) for s in (SetWeight(w), Pause(120))]
    deployer = ArgoCanary("argo", lb, lambda name: server(name, new_failure_rate), steps=steps,
                          analysis=BackgroundAnalysis(errors, starting_step=1))
    sim = Simulation(end_time=600, sources=[traffic], entities=[lb, deployer], seed=seed)
    sim.schedule(deployer.deploy(at=10))
    return sim


def ref_argo_canary_bad(seed: int = 0) -> Simulation:
    return _ref_argo(0.05, seed)


def ref_argo_canary_good(seed: int = 0) -> Simulation:
    return _ref_argo(0.01, seed)


def ref_rolling(seed: int = 0) -> Simulation:
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


def ref_autoscale_boot(seed: int = 0) -> Simulation:
    return ref_autoscale_spike(seed, startup_delay=ExponentialLatency(60))


def ref_hpa_spike(seed: int = 0) -> Simulation:
    from fastdeploy.kubernetes import HorizontalPodAutoscaler, ResourceMetric

    def booting(name):
        return Server(name, concurrency=4, service_time=ExponentialLatency(0.1),
                      startup_delay=ExponentialLatency(30))

    lb = LoadBalancer("lb", backends=[Server("server_0", concurrency=4,
                                             service_time=ExponentialLatency(0.1))],
                      strategy=RoundRobin())
    traffic = Source.with_profile(SpikeProfile(baseline_rate=20, spike_rate=100, warmup_s=200,
                                               spike_duration_s=200), lb, name="traffic")
    hpa = HorizontalPodAutoscaler("hpa", lb, booting, min_replicas=1, max_replicas=20,
                                  metrics=[ResourceMetric(0.6)])
    sim = Simulation(end_time=600, sources=[traffic], entities=[lb, hpa], seed=seed)
    sim.schedule(hpa.start())
    return sim


REFERENCE = {"autoscale-spike": ref_autoscale_spike, "autoscale-boot": ref_autoscale_boot,
             "hpa-spike": ref_hpa_spike, "canary-bad": ref_canary_bad,
             "canary-good": ref_canary_good, "rolling": ref_rolling,
             "flagger-bad": ref_flagger_bad, "flagger-good": ref_flagger_good,
             "argo-canary-bad": ref_argo_canary_bad, "argo-canary-good": ref_argo_canary_good}


def shape(sim: Simulation) -> dict:
    """What a simulation is made of, comparable across builds: components (names and
    classes in discovery order), every lowered number, load-balancer strategies and
    weights, the scheduled events, horizon and seed."""
    lbs = [c for c in sim.components if isinstance(c, LoadBalancer)]
    return {
        "components": [(c.name, type(c).__name__) for c in sim.components],
        "parameters": sim.batch_parameters(),
        "strategies": {lb.name: type(lb.strategy).__name__ for lb in lbs},
        "weights": {lb.name: [lb.weight_of(b) for b in lb.all_backends] for lb in lbs},
        "events": [(e.time.nanoseconds, e.event_type, e.target.name, e.daemon)
                   for e in sim._pending],
        "horizon": (sim.start_time.nanoseconds, sim.end_time.nanoseconds),
        "seed": sim.seed,
        "sources": [(s.name, s.poisson, s.target.name, repr(s.profile),
                     None if s.stop_after is None else s.stop_after.nanoseconds)
                    for s in sim.sources],
    }


# -- presets --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(REFERENCE))
def test_toml_preset_equals_python_preset(name):
    toml_sim = PRESETS[name](0)
    ref_sim = REFERENCE[name](0)
    assert shape(toml_sim) == shape(ref_sim)
    for replica in (0, 3):
        assert toml_sim.run(replica=replica).metrics == ref_sim.run(replica=replica).metrics


def test_preset_functions_keep_their_names_and_seeds():
    assert PRESETS == {"autoscale-spike": autoscale_spike, "autoscale-boot": autoscale_boot,
                       "hpa-spike": hpa_spike, "canary-bad": canary_bad,
                       "canary-good": canary_good, "rolling": rolling,
                       "flagger-bad": flagger_bad, "flagger-good": flagger_good,
                       "argo-canary-bad": argo_canary_bad,
                       "argo-canary-good": argo_canary_good}
    for name, build in PRESETS.items():
        assert build.__doc__.strip()
        assert build(5).seed == 5 and build().seed == 0
        assert shape(build(7)) == shape(REFERENCE[name](7))


def test_preset_files_are_copyable_and_packaged(tmp_path):
    for name in PRESETS:
        path = preset_path(name)
        assert path.name == f"{name}.toml" and path.is_file()
        sc = load(path)
        assert (sc.name, sc.path, sc.sweep) == (name, path, None)
        assert sc.description == PRESETS[name].__doc__.strip()
        copy = tmp_path / "mine.toml"
        copy.write_text(path.read_text())
        assert shape(load(copy).build()) == shape(REFERENCE[name](0))
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "presets/*.toml" in data["tool"]["setuptools"]["package-data"]["fastdeploy"]


# -- round trips: a file and the API give the same simulation -------------------------------
FULL = """
name = "full"
description = "every kind of part"

[simulation]
start_time = 5
duration = 60
seed = 7

[templates.base]
concurrency = 2
service_time = { kind = "lognormal", mean = 0.04, sigma = 0.3 }
queue_capacity = 50

[templates.fast]
extends = "base"
service_time = { kind = "uniform", low = 0.01, high = 0.03 }

[[servers]]
name = "big"
template = "base"
concurrency = 6

[[servers]]
name = "solo"
service_time = { kind = "constant", latency = 0.02 }

[[load_balancers]]
name = "front"
strategy = "weighted_round_robin"
backends = ["big", { template = "fast", count = 2, prefix = "f" }]
weights = [3, 1, 2]

[[load_balancers]]
name = "back"
strategy = "power_of_two_choices"
backends = [{ template = "base", count = 3 }]

[[load_balancers]]
name = "edge"
strategy = "least_connections"
backends = [{ template = "fast", count = 2, prefix = "e", weight = 2 }]

[[sources]]
name = "users"
target = "front"
profile = { kind = "linear_ramp", duration_s = 30, start_rate = 20, end_rate = 60 }

[[sources]]
name = "batch"
target = "back"
profile = { kind = "piecewise", points = [[0, 10], [20, 40], { time_s = 40, rate = 5 }] }
poisson = false
stop_after = 50

[[sources]]
name = "direct"
target = "solo"
rate = 5

[[sources]]
name = "edge-traffic"
target = "edge"
profile = { kind = "constant", rate = 30 }

[[autoscalers]]
name = "front-scaler"
load_balancer = "front"
template = { extends = "fast", failure_rate = 0.001 }
policy = { kind = "step", steps = [[0.8, 2], { threshold = 0.2, adjustment = -1 }] }
max_instances = 8
evaluation_interval = 3
start_at = 10

[[autoscalers]]
name = "back-scaler"
load_balancer = "back"
template = "base"
policy = { kind = "queue_depth", scale_out_threshold = 20, scale_in_threshold = 2 }
min_instances = 2
max_instances = 6
scale_out_cooldown = 5
scale_in_cooldown = 10

[[canaries]]
name = "edge-canary"
load_balancer = "edge"
template = "fast"
stages = [{ traffic_percentage = 0.1, evaluation_period = 10 }, { traffic_percentage = 1.0 }]
metric_evaluator = { kind = "latency", max_latency = 0.5 }
evaluation_interval = 2
deploy_at = 20
"""


def api_full(seed=7) -> Simulation:
    def base(name, **kw):
        args = dict(concurrency=2, service_time=LogNormalLatency(0.04, sigma=0.3),
                    queue_capacity=50)
        return Server(name, **{**args, **kw})

    def fast(name, **kw):
        return base(name, service_time=UniformLatency(0.01, 0.03), **kw)

    big, solo = base("big", concurrency=6), Server("solo", service_time=ConstantLatency(0.02))
    front = LoadBalancer("front", strategy=WeightedRoundRobin())
    for b, w in ((big, 3), (fast("f0"), 1), (fast("f1"), 2)):
        front._insert(b, w)
    back = LoadBalancer("back", backends=[base(f"server_{i}") for i in range(3)],
                        strategy=PowerOfTwoChoices())
    edge = LoadBalancer("edge", strategy=LeastConnections())
    for n in ("e0", "e1"):
        edge._insert(fast(n), 2)
    sources = [
        Source("users", LinearRampProfile(30, 20, 60), front),
        Source("batch", PiecewiseRateProfile([(0, 10), (20, 40), (40, 5)]), back,
               poisson=False, stop_after=50),
        Source("direct", 5, solo),
        Source("edge-traffic", 30, edge),
    ]
    front_scaler = AutoScaler("front-scaler", front, lambda n: fast(n, failure_rate=0.001),
                              policy=StepScaling([(0.8, 2), (0.2, -1)]), max_instances=8,
                              evaluation_interval=3)
    back_scaler = AutoScaler("back-scaler", back, base, policy=QueueDepthScaling(20, 2),
                             min_instances=2, max_instances=6, scale_out_cooldown=5,
                             scale_in_cooldown=10)
    canary = CanaryDeployer("edge-canary", edge, fast,
                            stages=[CanaryStage(0.1, 10), CanaryStage(1.0)],
                            metric_evaluator=LatencyEvaluator(0.5), evaluation_interval=2)
    sim = Simulation(start_time=5, duration=60, sources=sources,
                     entities=[front, back, edge, front_scaler, back_scaler, canary], seed=seed)
    sim.schedule(front_scaler.start(at=10))
    sim.schedule(back_scaler.start())
    sim.schedule(canary.deploy(at=20))
    return sim


SECOND = """
[simulation]
end_time = 40

[templates.app]
service_time = { kind = "constant", latency = 0.03 }
concurrency = 3
queue_capacity = 20
failure_rate = 0.02

[[load_balancers]]
name = "a"
backends = [{ template = "app", count = 3, prefix = "a_" }]

[[load_balancers]]
name = "b"
strategy = "random"
backends = [{ template = "app", count = 4, prefix = "b_" }]

[[load_balancers]]
name = "c"
strategy = "round_robin"
backends = [{ template = "app", count = 2, prefix = "c_" }]

[[sources]]
target = "a"
profile = { kind = "spike" }

[[sources]]
name = "to-b"
target = "b"
rate = 60

[[sources]]
name = "to-c"
target = "c"
rate = 40
poisson = true

[[autoscalers]]
name = "scaler"
load_balancer = "a"
template = "app"
policy = { kind = "target_utilization", target = 0.5, tolerance = 0.2 }

[[canaries]]
name = "canary"
load_balancer = "b"
template = { extends = "app", failure_rate = 0.2 }
metric_evaluator = { kind = "error_rate", max_error_rate = 0.1, threshold_multiplier = 3 }

[[rolling]]
name = "roll"
load_balancer = "c"
template = "app"
batch_size = 1
health_check_interval = 1.5
healthy_threshold = 3
max_failures = 2
deploy_at = 2.5
"""


def api_second(seed=0) -> Simulation:
    def app(name, failure_rate=0.02):
        return Server(name, concurrency=3, service_time=ConstantLatency(0.03),
                      queue_capacity=20, failure_rate=failure_rate)

    a = LoadBalancer("a", backends=[app(f"a_{i}") for i in range(3)])
    b = LoadBalancer("b", backends=[app(f"b_{i}") for i in range(4)], strategy=Random())
    c = LoadBalancer("c", backends=[app(f"c_{i}") for i in range(2)], strategy=RoundRobin())
    sources = [Source.with_profile(SpikeProfile(), a), Source.poisson(60, b, name="to-b"),
               Source.poisson(40, c, name="to-c")]
    scaler = AutoScaler("scaler", a, app, policy=TargetUtilization(0.5, tolerance=0.2))
    canary = CanaryDeployer("canary", b, lambda n: app(n, 0.2),
                            metric_evaluator=ErrorRateEvaluator(0.1, 3))
    roll = RollingDeployer("roll", c, app, batch_size=1, health_check_interval=1.5,
                           healthy_threshold=3, max_failures=2)
    sim = Simulation(end_time=40, sources=sources, entities=[a, b, c, scaler, canary, roll],
                     seed=seed)
    sim.schedule(scaler.start())
    sim.schedule(canary.deploy())
    sim.schedule(roll.deploy(at=2.5))
    return sim


@pytest.mark.parametrize("text, api", [(FULL, api_full), (SECOND, api_second)],
                         ids=["full", "second"])
def test_file_builds_what_the_api_builds(text, api):
    sc = loads(text)
    file_sim, api_sim = sc.build(), api()
    assert shape(file_sim) == shape(api_sim)
    for replica in (0, 1):
        assert file_sim.run(replica=replica).metrics == api_sim.run(replica=replica).metrics


def test_file_scenario_runs_in_the_batch_engine(agree):
    sim = loads(FULL).build()
    result = sim.run_batch(2)
    scalers = [c for c in sim.components if isinstance(c, AutoScaler)]
    agree(sim, result, [0, 1], scalers=scalers)
    assert result.table.column("seed").to_pylist() == [7, 7]


def test_weights_are_initial_not_added():
    sim = loads(FULL).build()
    front = sim.components[0]
    assert front.stats.backends_added == 0
    assert [front.weight_of(b) for b in front.all_backends] == [3, 1, 2]


def test_build_gives_independent_simulations_and_seeds():
    sc = loads(SECOND)
    a, b = sc.build(), sc.build(seed=3)
    assert a is not b and a.components[0] is not b.components[0]
    assert (a.seed, b.seed, sc.seed) == (0, 3, 0)
    first = a.run(replica=0).metrics
    b.run(replica=0)
    assert sc.build().run(replica=0).metrics == first
    assert sc.build(seed=3).run(replica=0).metrics == b.run(replica=0).metrics
    with pytest.raises(ValueError, match="seed"):
        sc.build(seed=-1)


def test_load_accepts_paths_and_text(tmp_path):
    f = tmp_path / "my-scenario.toml"
    f.write_text(SECOND)
    by_path, by_str, by_text = load(f), load(str(f)), load(SECOND)
    assert by_path.name == by_str.name == "my-scenario"
    assert by_text.name == "scenario" and by_text.path is None and by_path.path == f
    assert shape(by_path.build()) == shape(by_text.build()) == shape(loads(SECOND).build())
    assert loads(FULL).name == "full" and loads(FULL).description == "every kind of part"
    assert "full" in repr(loads(FULL))
    with pytest.raises(ScenarioError, match="no such file") as info:
        load(tmp_path / "missing.toml")
    assert info.value.file.endswith("missing.toml")
    with pytest.raises(ScenarioError, match="no such file"):
        load(str(tmp_path / "missing.toml"))
    with pytest.raises(ScenarioError, match="no such file"):
        load("my-scenari")          # a one-line string without = or [ is a path


def test_built_simulations_pickle():
    import pickle

    sim = loads(FULL).build()
    copy = pickle.loads(pickle.dumps(sim))
    assert shape(copy) == shape(sim)
    assert copy.run(replica=0).metrics == sim.run(replica=0).metrics


# -- mistakes -------------------------------------------------------------------------------
BASE = """
[simulation]
end_time = 30

[templates.web]
concurrency = 2
service_time = { kind = "exponential", mean_latency = 0.05 }

[[servers]]
name = "db"
template = "web"

[[load_balancers]]
name = "lb"
backends = ["db", { template = "web", count = 2 }]

[[load_balancers]]
name = "lb2"
backends = [{ template = "web", count = 2, prefix = "other_" }]

[[sources]]
name = "traffic"
target = "lb"
rate = 20

[[autoscalers]]
name = "scaler"
load_balancer = "lb"
template = "web"
policy = { kind = "target_utilization", target = 0.6 }
max_instances = 5

[[canaries]]
name = "canary"
load_balancer = "lb"
template = "web"
stages = [{ traffic_percentage = 0.5, evaluation_period = 5 }]
deploy_at = 5

[[rolling]]
name = "roll"
load_balancer = "lb2"
template = "web"
"""


def test_base_is_valid():
    sc = loads(BASE, name="base.toml")
    assert sc.name == "base"
    assert sc.build().run(replica=0).metrics["requests_created"] > 0


def mutate(old: str, new: str, base: str = BASE) -> str:
    assert base.count(old) >= 1, old
    return base.replace(old, new, 1)


# (old text, new text, key path named, a fragment of the message)
MISTAKES = {
    # unknown keys
    "unknown top-level key": ("[simulation]", "colour = 1\n[simulation]", "colour",
                              "unknown key"),
    "unknown key, did you mean": ("target = 0.6", "targt = 0.6", "autoscalers[0].policy.targt",
                                  "did you mean 'target'"),
    "unknown simulation key": ("end_time = 30", "end_time = 30\nsed = 1", "simulation.sed",
                               "unknown key"),
    "unknown server key": ('template = "web"\n\n[[load_balancers]]',
                           'template = "web"\nconcurency = 3\n\n[[load_balancers]]',
                           "servers[0].concurency", "did you mean 'concurrency'"),
    "unknown template key": ("concurrency = 2", "concurrency = 2\nfailure = 0.1",
                             "templates.web.failure", "unknown key"),
    "unknown backend group key": ("count = 2 }", "count = 2, size = 3 }",
                                  "load_balancers[0].backends[1].size", "unknown key"),
    "unknown stage key": ("evaluation_period = 5", "period = 5",
                          "canaries[0].stages[0].period", "unknown key"),
    "unknown rolling key": ('name = "roll"', 'name = "roll"\nbatch = 2', "rolling[0].batch",
                            "did you mean 'batch_size'"),
    "unknown service_time key": ("mean_latency = 0.05", "mean_latency = 0.05, sigma = 1",
                                 "templates.web.service_time.sigma", "unknown key"),
    # wrong types
    "string for a number": ("target = 0.6", 'target = "high"', "autoscalers[0].policy.target",
                            "expected a number"),
    "float for an integer": ("max_instances = 5", "max_instances = 5.0",
                             "autoscalers[0].max_instances", "expected an integer"),
    "number for a boolean": ("rate = 20", "rate = 20\npoisson = 1", "sources[0].poisson",
                             "expected true or false"),
    "number for a name": ('name = "scaler"', "name = 3", "autoscalers[0].name",
                          "expected a string"),
    "date for seconds": ("end_time = 30", "end_time = 2024-01-01", "simulation.end_time",
                         "expected a number of seconds"),
    "table for an array": ('backends = ["db", { template = "web", count = 2 }]',
                           "backends = { db = 1 }", "load_balancers[0].backends",
                           "expected an array, got a table"),
    "bad backend entry": ('backends = ["db"', 'backends = [3', "load_balancers[0].backends[0]",
                          "expected a server name or a table"),
    "bad pair": ("rate = 20", "profile = { kind = \"piecewise\", points = [[0, 1, 2]] }",
                 "sources[0].profile.points[0]", "pair"),
    "unknown kind": ('kind = "exponential"', 'kind = "expo"', "templates.web.service_time.kind",
                     "expected one of 'exponential'"),
    "unknown strategy": ('name = "lb"\n', 'name = "lb"\nstrategy = "roundrobin"\n',
                         "load_balancers[0].strategy", "did you mean 'round_robin'"),
    "template of the wrong type": ('template = "web"\npolicy', "template = 3\npolicy",
                                   "autoscalers[0].template", "template name or a table"),
    # missing required keys
    "missing simulation": ("[simulation]\nend_time = 30", "", "simulation",
                           "missing required key"),
    "missing horizon": ("end_time = 30", "seed = 1", "simulation", "end_time or duration"),
    "missing name": ('name = "scaler"', "", "autoscalers[0].name", "missing required key"),
    "missing target": ('target = "lb"', "", "sources[0].target", "missing required key"),
    "missing rate": ("rate = 20", "", "sources[0]", "rate or profile"),
    "missing kind": ('kind = "target_utilization", ', "", "autoscalers[0].policy.kind",
                     "missing required key"),
    "missing mean_latency": ('kind = "exponential", mean_latency = 0.05',
                             'kind = "exponential"', "templates.web.service_time.mean_latency",
                             "missing required key"),
    "missing traffic_percentage": ("traffic_percentage = 0.5, ", "",
                                   "canaries[0].stages[0].traffic_percentage",
                                   "missing required key"),
    "missing template": ('template = "web"\nstages', "stages",
                         "canaries[0].template", "missing required key"),
    "missing max_replicas": ('name = "roll"', 'name = "roll"',
                             "sweep.max_replicas", "missing required key"),
    # unknown references
    "unknown template": ('template = "web"\npolicy', 'template = "wbe"\npolicy',
                         "autoscalers[0].template", "unknown template 'wbe'"),
    "unknown extends": ("concurrency = 2", 'extends = "nope"\nconcurrency = 2',
                        "templates.web.extends", "unknown template 'nope'"),
    "unknown server": ('backends = ["db"', 'backends = ["dB"', "load_balancers[0].backends[0]",
                       "unknown server 'dB'"),
    "unknown load balancer": ('load_balancer = "lb2"', 'load_balancer = "lb3"',
                              "rolling[0].load_balancer", "unknown load balancer 'lb3'"),
    "unknown source target": ('target = "lb"', 'target = "lbb"', "sources[0].target",
                              "unknown target 'lbb'"),
    "server on two load balancers": ('prefix = "other_" }]', 'prefix = "other_" }, "db"]',
                                     "load_balancers[1].backends[1]",
                                     "already a backend of load_balancers[0]"),
    "unused server": ('backends = ["db", ', "backends = [", "servers[0].name", "not used"),
    "duplicate name": ('name = "roll"', 'name = "scaler"', "rolling[0].name",
                       "already used at autoscalers[0].name"),
    "generated name taken": ('name = "db"', 'name = "db"\n[[servers]]\nname = "server_1"',
                             "load_balancers[0].backends[1]",
                             "'server_1' (prefix 'server_' + 1) is already used at "
                             "servers[1].name"),
    "template cycle": ("concurrency = 2", 'extends = "web"\nconcurrency = 2',
                       "templates.web.extends", "cycle"),
    # values the constructors refuse
    "target above 1": ("target = 0.6", "target = 1.6", "autoscalers[0].policy.target",
                       "must be <= 1.0, got 1.6"),
    "min above max": ("max_instances = 5", "max_instances = 5\nmin_instances = 6",
                      "autoscalers[0].min_instances", "must be <= max_instances"),
    "zero concurrency": ("concurrency = 2", "concurrency = 0", "templates.web.concurrency",
                         "must be >= 1"),
    "zero mean latency": ("mean_latency = 0.05", "mean_latency = 0",
                          "templates.web.service_time.mean_latency", "must be > 0"),
    "failure rate above 1": ('template = "web"\n\n[[load_balancers]]',
                             'template = "web"\nfailure_rate = 2\n\n[[load_balancers]]',
                             "servers[0].failure_rate", "must be <= 1.0"),
    "negative rate": ("rate = 20", "rate = -20", "sources[0].rate", "must be >= 0"),
    "stage percentage 0": ("traffic_percentage = 0.5", "traffic_percentage = 0",
                           "canaries[0].stages[0].traffic_percentage", "must be > 0"),
    "negative batch size": ('name = "roll"', 'name = "roll"\nbatch_size = 0',
                            "rolling[0].batch_size", "must be >= 1"),
    "step threshold": ('kind = "target_utilization", target = 0.6',
                       'kind = "step", steps = [[0.8, 1], [-0.5, -1]]',
                       "autoscalers[0].policy.steps[1]", "threshold must be >= 0"),
    "queue thresholds": ('kind = "target_utilization", target = 0.6',
                         'kind = "queue_depth", scale_in_threshold = 500',
                         "autoscalers[0].policy.scale_in_threshold", "must be below"),
    "piecewise times": ("rate = 20", 'profile = { kind = "piecewise", points = [[5, 1], [5, 2]] }',
                        "sources[0].profile.points", "strictly increasing"),
    "evaluator": ("deploy_at = 5", 'deploy_at = 5\nmetric_evaluator = { kind = "latency", '
                                   "max_latency = 0 }",
                  "canaries[0].metric_evaluator.max_latency", "must be > 0"),
    "weight 0": ('backends = ["db", ', 'weights = [1, 0, 1]\nbackends = ["db", ',
                 "load_balancers[0].weights[1]", "expected a weight >= 1"),
    "weights count": ('backends = ["db", ', 'weights = [1, 2]\nbackends = ["db", ',
                      "load_balancers[0].weights", "one weight per backend (3)"),
    "both weights": ('"db", { template = "web", count = 2 }]',
                     '"db", { template = "web", count = 2, weight = 2 }]\nweights = [1, 1, 1]',
                     "load_balancers[0].weights", "not both"),
    "count 0": ("count = 2 }", "count = 0 }", "load_balancers[0].backends[1].count",
                "expected an integer >= 1"),
    "end before start": ("end_time = 30", "end_time = 30\nstart_time = 40",
                         "simulation.end_time", "must not be before start_time"),
    "end time and duration": ("end_time = 30", "end_time = 30\nduration = 30",
                              "simulation.duration", "not both"),
    "deploy before start": ("deploy_at = 5", "deploy_at = -1", "canaries[0].deploy_at",
                            "must be >= simulation.start_time"),
    "negative seed": ("end_time = 30", "end_time = 30\nseed = -1", "simulation.seed",
                      "must be >= 0"),
    "rate and profile": ("rate = 20", 'rate = 20\nprofile = { kind = "spike" }',
                         "sources[0].profile", "not both"),
    "empty stages": ("stages = [{ traffic_percentage = 0.5, evaluation_period = 5 }]",
                     "stages = []", "canaries[0].stages", "at least one stage"),
}


@pytest.mark.parametrize("case", list(MISTAKES))
def test_every_mistake_names_its_key(case):
    old, new, key, fragment = MISTAKES[case]
    text = mutate(old, new)
    if case == "missing max_replicas":
        text += ('\n[sweep]\nreplicas = 5\nparameters = { "scaler.policy.target" = [0.5] }\n'
                 'until = { latency_p99 = 0.01 }\n')
    with pytest.raises(ScenarioError) as info:
        loads(text, name="bad.toml")
    err = info.value
    assert err.key == key, str(err)
    assert fragment in err.detail, str(err)
    assert str(err).startswith(f"bad.toml: {key}: "), str(err)
    assert err.file == "bad.toml" and err.line is None


def test_scenario_error_is_a_value_error_and_names_the_file(tmp_path):
    f = tmp_path / "broken.toml"
    f.write_text(mutate("target = 0.6", "target = 0"))
    with pytest.raises(ValueError) as info:
        load(f)
    assert isinstance(info.value, ScenarioError)
    assert str(info.value) == f"{f}: autoscalers[0].policy.target: must be > 0.0, got 0.0"


@pytest.mark.parametrize("text, line", [
    ("[simulation]\nend_time = 30\n[[sources]\n", 3),
    ("[simulation]\nend_time = = 30\n", 2),
    ('name = "x"\nname = "y"\n', 2),
    ("[simulation]\nend_time = 30\n\n\nx = [1, 2\n", 5),
])
def test_toml_syntax_errors_give_the_line(text, line, tmp_path):
    f = tmp_path / "syntax.toml"
    f.write_text(text)
    with pytest.raises(ScenarioError) as info:
        load(f)
    err = info.value
    assert err.line == line and err.key is None
    assert str(err).startswith(f"{f}:{line}: TOML syntax error: ")


def test_unknown_key_lists_what_is_accepted():
    with pytest.raises(ScenarioError) as info:
        loads(mutate('name = "roll"', 'name = "roll"\nbatch_sise = 2'))
    msg = info.value.detail
    for key in ("batch_size", "health_check_interval", "healthy_threshold", "max_failures",
                "deploy_at"):
        assert key in msg


def test_typo_is_reported_before_a_missing_key():
    with pytest.raises(ScenarioError) as info:
        loads(mutate('target = "lb"', 'targt = "lb"'))
    assert info.value.key == "sources[0].targt"


# -- sweep ----------------------------------------------------------------------------------
def with_sweep(body: str) -> str:
    return BASE + "\n[sweep]\n" + body


def test_sweep_grid():
    sc = loads(with_sweep('replicas = 20\n[sweep.parameters]\n'
                          '"scaler.policy.target" = [0.5, 0.6, 0.7]\n'
                          '"scaler.max_instances" = { low = 2, high = 5, num = 3 }\n'
                          '"traffic.profile.rate" = { low = 1, high = 100, num = 3, log = true }\n'
                          '"canary.evaluation_interval" = 4\n'))
    assert sc.sweep == {
        "method": "grid",
        "parameters": {
            "scaler.policy.target": [0.5, 0.6, 0.7],
            "scaler.max_instances": [2, 4, 5],          # 3.5 rounds to 4
            "traffic.profile.rate": pytest.approx([1.0, 10.0, 100.0]),
            "canary.evaluation_interval": [4.0],
        },
        "replicas": 20, "points": 27, "seed": None, "crn": True, "until": None,
        "max_replicas": None, "chunk_replicas": None,
    }
    # No section, no sweep; the section does not change the scenario.
    assert loads(BASE).sweep is None
    assert shape(sc.build()) == shape(loads(BASE).build())


def test_sweep_unquoted_dotted_paths():
    sc = loads(with_sweep("replicas = 5\n[sweep.parameters]\nscaler.policy.target = [0.5, 0.7]\n"
                          "scaler.scale_in_cooldown = { low = 10, high = 30, num = 3 }\n"))
    assert sc.sweep["parameters"] == {"scaler.policy.target": [0.5, 0.7],
                                      "scaler.scale_in_cooldown": [10.0, 20.0, 30.0]}


@pytest.mark.parametrize("method", ["random", "latin_hypercube"])
def test_sweep_sampled_with_sequential_stopping(method):
    sc = loads(with_sweep(
        f'method = "{method}"\npoints = 12\nseed = 4\nreplicas = 50\nmax_replicas = 400\n'
        'chunk_replicas = 25\ncrn = false\n'
        'until = { latency_p99 = 0.01, "canary.status=rolled_back" = 0.05, '
        'scaler.scale_out_count = 0.5 }\n'
        '[sweep.parameters]\n"scaler.policy.target" = { low = 0.3, high = 0.9 }\n'
        '"scaler.evaluation_interval" = { low = 1, high = 30 }\n'
        '"roll.batch_size" = { low = 0.5, high = 2.5 }\n'))
    assert sc.sweep == {
        "method": method,
        "parameters": {"scaler.policy.target": (0.3, 0.9),
                       "scaler.evaluation_interval": (1, 30),
                       "roll.batch_size": (0.5, 2.5)},
        "replicas": 50, "points": 12, "seed": 4, "crn": False,
        "until": {"latency_p99": 0.01, "canary.status=rolled_back": 0.05,
                  "scaler.scale_out_count": 0.5},
        "max_replicas": 400, "chunk_replicas": 25,
    }


def test_sweep_paths_are_the_batch_parameters():
    sim = loads(BASE).build()
    paths = sim.batch_parameters()
    for path in ("scaler.policy.target", "canary.stages.0.traffic_percentage",
                 "scaler.server.concurrency", "db.service_time.mean_latency"):
        assert path in paths
        sc = loads(with_sweep(f'replicas = 1\n[sweep.parameters]\n"{path}" = [{paths[path]}]\n'))
        assert sc.sweep["parameters"] == {path: [paths[path]]}


def test_sweep_dict_drives_the_sweep_runner():
    sweep = pytest.importorskip("fastdeploy.sweep")
    for body in ('replicas = 2\n[sweep.parameters]\n"scaler.max_instances" = [2, 3]\n',
                 'method = "latin_hypercube"\npoints = 2\nreplicas = 1\n[sweep.parameters]\n'
                 '"scaler.max_instances" = { low = 1.5, high = 4 }\n'):
        sc = loads(with_sweep(body))
        s = sc.sweep
        if s["method"] == "grid":
            space = sweep.grid(s["parameters"])
        else:
            space = sweep.latin_hypercube(s["points"], s["parameters"], seed=s["seed"])
        runner = sweep.Sweep(sc.build(), space, s["replicas"], crn=s["crn"])
        assert len(runner.points) == s["points"] == 2
        assert {p["scaler.max_instances"] for p in runner.points} <= {2, 3, 4}


SWEEP_MISTAKES = [
    ('replicas = 5\n[sweep.parameters]\n"scaler.policy.targt" = [0.5]\n',
     'sweep.parameters."scaler.policy.targt"', "did you mean 'scaler.policy.target'"),
    ('replicas = 5\n[sweep.parameters]\n"scaler.policy.target" = [0.5, 1.5]\n',
     'sweep.parameters."scaler.policy.target"[1]', "expected a number in (0.0, 1.0], got 1.5"),
    ('replicas = 5\n[sweep.parameters]\n"scaler.max_instances" = [2, 2.5]\n',
     'sweep.parameters."scaler.max_instances"[1]', "expected an integer in [1, 100000]"),
    ('replicas = 5\n[sweep.parameters]\n"scaler.max_instances" = ["many"]\n',
     'sweep.parameters."scaler.max_instances"[0]', "got 'many' (a string)"),
    ('replicas = 5\n[sweep.parameters]\n"scaler.min_instances" = [1, 9]\n', "sweep.parameters",
     "min_instances must be <= max_instances at the grid point scaler.min_instances = 9"),
    ('replicas = 5\n[sweep.parameters]\n"scaler.policy.target" = []\n',
     'sweep.parameters."scaler.policy.target"', "at least one value"),
    ('replicas = 5\n[sweep.parameters]\n"scaler.policy.target" = "high"\n',
     'sweep.parameters."scaler.policy.target"', "expected an array of values or a range"),
    ('replicas = 5\n[sweep.parameters]\n"scaler.policy.target" = { low = 0.5, high = 0.9 }\n',
     'sweep.parameters."scaler.policy.target".num', "missing required key"),
    ('replicas = 5\n[sweep.parameters]\n'
     '"scaler.policy.target" = { low = 0.9, high = 0.5, num = 2 }\n',
     'sweep.parameters."scaler.policy.target".high', "high >= low"),
    ('replicas = 5\n[sweep.parameters]\n'
     '"scaler.scale_in_cooldown" = { low = 0, high = 5, num = 2, log = true }\n',
     'sweep.parameters."scaler.scale_in_cooldown".low', "log range needs low > 0"),
    ('method = "random"\nreplicas = 5\n[sweep.parameters]\n'
     '"scaler.policy.target" = { low = 0.5, high = 0.9 }\n', "sweep.points",
     "missing required key"),
    ('method = "random"\npoints = 3\nreplicas = 5\n[sweep.parameters]\n'
     '"scaler.policy.target" = { low = 0.5, high = 0.9, num = 3 }\n',
     'sweep.parameters."scaler.policy.target".num', "unknown key"),
    ('method = "random"\npoints = 3\nreplicas = 5\n[sweep.parameters]\n'
     '"scaler.policy.target" = [0.5, 0.9]\n',
     'sweep.parameters."scaler.policy.target"', "expected a range table {low, high}"),
    ('method = "latin_hypercube"\npoints = 3\nreplicas = 5\n[sweep.parameters]\n'
     '"scaler.policy.target" = { low = 0.0, high = 0.9 }\n',
     'sweep.parameters."scaler.policy.target".low', "expected a number in (0.0, 1.0]"),
    ('method = "latin_hypercube"\npoints = 3\nreplicas = 5\n[sweep.parameters]\n'
     '"scaler.max_instances" = { low = 2.2, high = 2.8 }\n',
     'sweep.parameters."scaler.max_instances"', "holds no integer"),
    ('replicas = 5\npoints = 3\n[sweep.parameters]\n"scaler.policy.target" = [0.5]\n',
     "sweep.points", "points is for random and latin_hypercube"),
    ('replicas = 5\nseed = 3\n[sweep.parameters]\n"scaler.policy.target" = [0.5]\n',
     "sweep.seed", "seed is for random and latin_hypercube"),
    ('method = "grdi"\nreplicas = 5\n[sweep.parameters]\n"scaler.policy.target" = [0.5]\n',
     "sweep.method", "did you mean 'grid'"),
    ('replicas = 0\n[sweep.parameters]\n"scaler.policy.target" = [0.5]\n', "sweep.replicas",
     "expected an integer >= 1"),
    ('[sweep.parameters]\n"scaler.policy.target" = [0.5]\n', "sweep.replicas",
     "missing required key"),
    ('replicas = 10\n', "sweep.parameters", "missing required key"),
    ('replicas = 10\n[sweep.parameters]\n', "sweep.parameters", "at least one parameter"),
    ('replicas = 5\ncrn = "yes"\n[sweep.parameters]\n"scaler.policy.target" = [0.5]\n',
     "sweep.crn", "expected true or false"),
    ('replicas = 5\nmax_replicas = 10\n[sweep.parameters]\n"scaler.policy.target" = [0.5]\n',
     "sweep.max_replicas", "give until too"),
    ('replicas = 5\nchunk_replicas = 10\n[sweep.parameters]\n"scaler.policy.target" = [0.5]\n',
     "sweep.chunk_replicas", "give until too"),
    ('replicas = 5\nuntil = { latency_p99 = 0.01 }\n[sweep.parameters]\n'
     '"scaler.policy.target" = [0.5]\n', "sweep.max_replicas", "missing required key"),
    ('replicas = 50\nmax_replicas = 10\nuntil = { latency_p99 = 0.01 }\n'
     '[sweep.parameters]\n"scaler.policy.target" = [0.5]\n', "sweep.max_replicas",
     "expected an integer >= replicas (50)"),
    ('replicas = 5\nmax_replicas = 99\nuntil = { latency_p999 = 0.1 }\n'
     '[sweep.parameters]\n"scaler.policy.target" = [0.5]\n', "sweep.until.latency_p999",
     "did you mean 'latency_p99'"),
    ('replicas = 5\nmax_replicas = 99\nuntil = { "canary.status" = 0.1 }\n'
     '[sweep.parameters]\n"scaler.policy.target" = [0.5]\n', 'sweep.until."canary.status"',
     "outcomes as '<column>=<status>'"),
    ('replicas = 5\nmax_replicas = 99\nuntil = { "canary.status=failed" = 0.1 }\n'
     '[sweep.parameters]\n"scaler.policy.target" = [0.5]\n',
     'sweep.until."canary.status=failed"', "'failed' is not a status"),
    ('replicas = 5\nmax_replicas = 99\nuntil = { "scaler.status=completed" = 0.1 }\n'
     '[sweep.parameters]\n"scaler.policy.target" = [0.5]\n',
     'sweep.until."scaler.status=completed"', "not an outcome column"),
    ('replicas = 5\nmax_replicas = 99\nuntil = { latency_p99 = -1 }\n'
     '[sweep.parameters]\n"scaler.policy.target" = [0.5]\n', "sweep.until.latency_p99",
     "expected a half-width > 0"),
    ('replicas = 5\nmax_replicas = 99\nuntil = {}\n'
     '[sweep.parameters]\n"scaler.policy.target" = [0.5]\n', "sweep.until",
     "at least one metric"),
    ('replicas = 5\ncolour = 1\n[sweep.parameters]\n"scaler.policy.target" = [0.5]\n',
     "sweep.colour", "unknown key"),
]


@pytest.mark.parametrize("body, key, fragment", SWEEP_MISTAKES,
                         ids=[f"sweep-{i}" for i in range(len(SWEEP_MISTAKES))])
def test_sweep_mistakes_name_their_key(body, key, fragment):
    with pytest.raises(ScenarioError) as info:
        loads(with_sweep(body), name="sweep.toml")
    assert info.value.key == key, str(info.value)
    assert fragment in info.value.detail, str(info.value)


# -- documentation ---------------------------------------------------------------------------
def test_docs_describe_every_key():
    doc = (ROOT / "fastdeploy" / "docs" / "scenarios.md").read_text()
    keys = set(parse_module.TOP_KEYS) | set(parse_module.SIMULATION_KEYS)
    keys |= set(parse_module.SERVER_FIELDS) | {"extends", "template", "count", "prefix",
                                                "weight", "weights", "backends", "strategy",
                                                "target", "rate", "profile", "poisson",
                                                "stop_after", "load_balancer", "policy",
                                                "stages", "metric_evaluator", "start_at",
                                                "deploy_at", "kind"}
    for kinds in (parse_module.DISTRIBUTIONS, parse_module.PROFILES, parse_module.POLICIES,
                  parse_module.EVALUATORS):
        for kind, (_, args) in kinds.items():
            assert f'"{kind}"' in doc, kind
            keys |= set(args)
    keys |= set(parse_module.STAGE_ARGS) | set(sweep_module.SWEEP_KEYS)
    keys |= set(sweep_module.GRID_RANGE_KEYS)
    keys |= {"min_instances", "max_instances", "evaluation_interval", "scale_out_cooldown",
             "scale_in_cooldown", "batch_size", "health_check_interval", "healthy_threshold",
             "max_failures", "manifest", "sync_period", "tolerance", "metric_window",
             "cpu_initialization_period", "initial_readiness_delay"}
    missing = sorted(k for k in keys if f"`{k}`" not in doc)
    assert not missing, missing
    for strategy in parse_module.STRATEGIES:
        assert f'"{strategy}"' in doc
    for method in sweep_module.METHODS:
        assert f'"{method}"' in doc


def test_docs_examples_load():
    doc = (ROOT / "fastdeploy" / "docs" / "scenarios.md").read_text()
    blocks = re.findall(r"```toml\n(.*?)```", doc, re.S)
    assert blocks
    for block in blocks:
        sc = loads(block)
        assert sc.build().end_time is not None
    example = loads(blocks[0])
    assert example.sweep["points"] == 12 and example.sweep["replicas"] == 200
    metrics = example.build().run(replica=0).metrics
    assert metrics["canary.status"] in ("completed", "rolled_back", "in_progress")
    assert not math.isnan(metrics["latency_mean"])
