"""The public API: exported names, the documented signatures and dataclasses of the
deployment module (happysim 0.2.5's documentation page, transcribed below), protocols and
duck typing, the metric names of SPEC section 8, and time arithmetic (SPEC section 1)."""

from __future__ import annotations

import dataclasses
import inspect
import math
import typing

import pytest

import fastdeploy
import fastdeploy.deployment as dep
from fastdeploy import (ConstantLatency, Duration, Entity, Event, Instant, LoadBalancer,
                        LoadBalancerStats, Server, Simulation, Source)
from fastdeploy.deployment import (AutoScaler, CanaryDeployer, MetricEvaluator,
                                   QueueDepthScaling, RollingDeployer, ScalingPolicy,
                                   StepScaling, TargetUtilization)

CORE_NAMES = [
    "Instant", "Duration", "Event", "Entity", "Clock", "Simulation",
    "Server", "LoadBalancer", "RoundRobin", "WeightedRoundRobin", "LeastConnections", "Random",
    "PowerOfTwoChoices",
    "Source", "ConstantRateProfile", "LinearRampProfile", "SpikeProfile", "PiecewiseRateProfile",
    "ConstantLatency", "ExponentialLatency", "UniformLatency", "LogNormalLatency",
]

DEPLOYMENT_NAMES = [
    "AutoScaler", "AutoScalerStats", "QueueDepthScaling", "ScalingEvent", "ScalingPolicy",
    "StepScaling", "TargetUtilization", "CanaryDeployer", "CanaryDeployerStats", "CanaryStage",
    "CanaryState", "ErrorRateEvaluator", "LatencyEvaluator", "MetricEvaluator",
    "DeploymentState", "RollingDeployer", "RollingDeployerStats",
]

# Signatures as printed on the documentation page (verbatim parameter lists).
DOC_SIGNATURES = {
    "AutoScaler": """name: str, load_balancer: Entity, server_factory: Callable[[str], Entity],
        policy: ScalingPolicy | None = None, min_instances: int = 1, max_instances: int = 10,
        evaluation_interval: float = 10.0, scale_out_cooldown: float = 30.0,
        scale_in_cooldown: float = 60.0""",
    "QueueDepthScaling": "scale_out_threshold: int = 100, scale_in_threshold: int = 10",
    "StepScaling": "steps: list[tuple[float, int]]",
    "TargetUtilization": "target: float = 0.7",
    "CanaryDeployer": """name: str, load_balancer: Entity, server_factory: Callable[[str], Entity],
        stages: list[CanaryStage] | None = None, metric_evaluator: MetricEvaluator | None = None,
        evaluation_interval: float = 5.0""",
    "ErrorRateEvaluator": "max_error_rate: float = 0.05, threshold_multiplier: float = 2.0",
    "LatencyEvaluator": "max_latency: float = 1.0, threshold_multiplier: float = 1.5",
    "RollingDeployer": """name: str, load_balancer: Entity, server_factory: Callable[[str], Entity],
        batch_size: int = 1, health_check_interval: float = 2.0, healthy_threshold: int = 2,
        max_failures: int = 1""",
}

DOC_METHODS = {
    ("AutoScaler", "start"): "",
    ("AutoScaler", "stop"): "",
    ("CanaryDeployer", "deploy"): "",
    ("RollingDeployer", "deploy"): "",
    ("ScalingPolicy", "evaluate"):
        "backends: list[Entity], current_count: int, min_instances: int, max_instances: int",
    ("MetricEvaluator", "is_healthy"): "canary: Entity, baseline_backends: list[Entity]",
}

# Extensions the SPEC / README allow: keyword-only, with a default.
ALLOWED_EXTRA = {
    "TargetUtilization": {"tolerance": 0.1},                 # SPEC 7
    ("AutoScaler", "start"): {"at": None},                   # README: start(at=)
    ("CanaryDeployer", "deploy"): {"at": None},
    ("RollingDeployer", "deploy"): {"at": None},
    # instance lifecycle (docs/instance-lifecycle.md)
    "AutoScaler": {"metric_window": 0.0},
    "Server": {"startup_delay": 0.0, "termination_grace": None},
}

DOC_DATACLASSES = {
    "AutoScalerStats": """evaluations: int = 0, scale_out_count: int = 0,
        scale_in_count: int = 0, instances_added: int = 0, instances_removed: int = 0,
        cooldown_blocks: int = 0""",
    "ScalingEvent": "time: Instant, action: str, from_count: int, to_count: int, reason: str",
    "CanaryDeployerStats": """deployments_started: int = 0, deployments_completed: int = 0,
        deployments_rolled_back: int = 0, stages_completed: int = 0,
        evaluations_performed: int = 0, evaluations_passed: int = 0,
        evaluations_failed: int = 0""",
    "CanaryStage": "traffic_percentage: float, evaluation_period: float = 30.0",
    "CanaryState": """status: str = "idle", current_stage: int = 0, total_stages: int = 0,
        canary_traffic_pct: float = 0.0""",
    "DeploymentState": """status: str = "idle", total_instances: int = 0, replaced: int = 0,
        failed: int = 0, current_batch: int = 0""",
    "RollingDeployerStats": """deployments_started: int = 0, deployments_completed: int = 0,
        deployments_rolled_back: int = 0, instances_replaced: int = 0,
        health_checks_performed: int = 0, health_checks_passed: int = 0,
        health_checks_failed: int = 0""",
}
# "Frozen statistics snapshot" on the page; the states are updated in place. (Whether
# ScalingEvent and CanaryStage are frozen the page does not say.)
FROZEN = {"AutoScalerStats": True, "CanaryDeployerStats": True, "RollingDeployerStats": True,
          "CanaryState": False, "DeploymentState": False}


def doc_params(text: str) -> list[inspect.Parameter]:
    """The parameters of a documented parameter list (annotations are not evaluated)."""
    ns: dict = {"Instant": Instant}
    exec(f"from __future__ import annotations\ndef f({text}): pass", ns)
    return list(inspect.signature(ns["f"]).parameters.values())


def actual_params(obj) -> list[inspect.Parameter]:
    params = list(inspect.signature(obj).parameters.values())
    return [p for p in params if p.name != "self"]


def check_signature(key, documented, actual):
    doc = [(p.name, p.kind, p.default) for p in documented]
    act = [(p.name, p.kind, p.default) for p in actual]
    assert act[:len(doc)] == doc, key
    extra = {p.name: p for p in actual[len(doc):]}
    allowed = ALLOWED_EXTRA.get(key, {})
    assert set(extra) <= set(allowed), (key, set(extra))
    for name, p in extra.items():
        assert p.kind is inspect.Parameter.KEYWORD_ONLY, (key, name)
        assert p.default == allowed[name], (key, name)


# -- exports -----------------------------------------------------------------------------
@pytest.mark.parametrize("name", CORE_NAMES)
def test_fastdeploy_exports(name):
    assert hasattr(fastdeploy, name)
    assert name in fastdeploy.__all__


@pytest.mark.parametrize("name", DEPLOYMENT_NAMES)
def test_deployment_exports(name):
    assert hasattr(dep, name)
    assert name in dep.__all__


def test_from_import_star():
    ns: dict = {}
    exec("from fastdeploy import *\nfrom fastdeploy.deployment import *", ns)
    assert set(CORE_NAMES + DEPLOYMENT_NAMES) <= set(ns)


# -- documented signatures ---------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(DOC_SIGNATURES))
def test_constructor_signatures(name):
    check_signature(name, doc_params(DOC_SIGNATURES[name]), actual_params(getattr(dep, name)))


@pytest.mark.parametrize("key", sorted(DOC_METHODS))
def test_method_signatures(key):
    cls, meth = key
    check_signature(key, doc_params(DOC_METHODS[key]),
                    actual_params(getattr(getattr(dep, cls), meth)))


@pytest.mark.parametrize("name", sorted(DOC_DATACLASSES))
def test_dataclasses(name):
    cls = getattr(dep, name)
    assert dataclasses.is_dataclass(cls)
    doc = [(p.name, p.default) for p in doc_params(DOC_DATACLASSES[name])]
    act = [(f.name, inspect.Parameter.empty if f.default is dataclasses.MISSING else f.default)
           for f in dataclasses.fields(cls)]
    assert act == doc
    if name in FROZEN:
        assert cls.__dataclass_params__.frozen == FROZEN[name]


def test_stats_are_frozen_snapshots():
    st = dep.AutoScalerStats()
    with pytest.raises(dataclasses.FrozenInstanceError):
        st.evaluations = 3
    state = dep.CanaryState()
    state.status = "in_progress"  # state records are mutable


@pytest.mark.parametrize("cls, props", [
    (AutoScaler, ["stats", "scaling_history"]),
    (CanaryDeployer, ["stats", "canary", "state"]),
    (RollingDeployer, ["stats", "state"]),
])
def test_documented_attributes(cls, props):
    lb = LoadBalancer("lb", backends=[Server("s0")])
    obj = cls("x", lb, lambda n: Server(n))
    assert isinstance(obj, Entity)
    assert obj.name == "x"
    for p in props:
        getattr(obj, p)
    assert isinstance(obj.stats, getattr(dep, f"{cls.__name__}Stats"))


def test_documented_defaults_in_effect():
    lb = LoadBalancer("lb", backends=[Server("s0")])
    scaler = AutoScaler("as", lb, lambda n: Server(n))
    assert isinstance(scaler.policy, TargetUtilization) and scaler.policy.target == 0.7
    canary = CanaryDeployer("c", lb, lambda n: Server(n))
    assert [(s.traffic_percentage, s.evaluation_period) for s in canary.stages] == \
        [(0.01, 30.0), (0.05, 30.0), (0.25, 30.0), (1.0, 30.0)]
    assert isinstance(canary.metric_evaluator, dep.ErrorRateEvaluator)
    assert canary.canary is None
    assert canary.state == dep.CanaryState(total_stages=4)
    rolling = RollingDeployer("r", lb, lambda n: Server(n))
    assert rolling.state == dep.DeploymentState()
    # start()/deploy() give events at "now": the Simulation provides the clock
    Simulation(start_time=3, entities=[lb, scaler, canary, rolling])
    for ev in (scaler.start(), canary.deploy(), rolling.deploy()):
        assert isinstance(ev, Event)
        assert ev.time == Instant.from_seconds(3)
    assert scaler.start(at=7.5).time == Instant.from_seconds(7.5)


# SPEC sections 2, 4, 5 and 6: the core constructors.
SPEC_SIGNATURES = {
    "Event": "time, event_type, target, context=None, daemon=False",
    "Simulation": "start_time=Instant.Epoch, end_time=None, duration=None, sources=(), "
                  "entities=()",
    # rate and target are required unless happysim's general form is used
    # (event_provider=, arrival_time_provider=): tests/test_porting.py.
    "Source": "name, rate=None, target=None, poisson=True, stop_after=None",
    "LoadBalancer": 'name, backends=None, strategy=None, on_no_backend="reject"',
    "Server": "name, concurrency=1, service_time=None, queue_capacity=None, failure_rate=0.0",
    "SpikeProfile": "baseline_rate=10, spike_rate=150, warmup_s=10, spike_duration_s=15",
    "LinearRampProfile": "duration_s, start_rate, end_rate",
    "ConstantRateProfile": "rate",
    "UniformLatency": "low, high",
}


@pytest.mark.parametrize("name", sorted(SPEC_SIGNATURES))
def test_core_signatures(name):
    doc = doc_params(SPEC_SIGNATURES[name])
    act = actual_params(getattr(fastdeploy, name))
    assert [p.name for p in act[:len(doc)]] == [p.name for p in doc]
    for d, a in zip(doc, act):
        assert a.default == d.default or (d.default is inspect.Parameter.empty
                                          and a.default is inspect.Parameter.empty), (name, a)
    # anything more is keyword-only (seed, trace) or has a default (event_type)
    assert all(p.default is not inspect.Parameter.empty for p in act[len(doc):])


def test_server_default_service_time():
    assert Server("s").service_time == ConstantLatency(0.01)
    assert Source.constant(1, Server("s")).poisson is False
    assert Source.poisson(1, Server("s")).poisson is True


# -- protocols and duck typing -----------------------------------------------------------------
def test_protocols_are_runtime_checkable():
    class MyPolicy:
        def evaluate(self, backends, current_count, min_instances, max_instances):
            return current_count

    class MyEvaluator:
        def is_healthy(self, canary, baseline_backends):
            return True
    for p in (TargetUtilization(), StepScaling([(0.5, 1)]), QueueDepthScaling(), MyPolicy()):
        assert isinstance(p, ScalingPolicy)
    for e in (dep.ErrorRateEvaluator(), dep.LatencyEvaluator(), MyEvaluator()):
        assert isinstance(e, MetricEvaluator)
    assert not isinstance(object(), ScalingPolicy)
    assert not isinstance(object(), MetricEvaluator)
    assert not isinstance(MyEvaluator(), ScalingPolicy)
    assert typing.Protocol in ScalingPolicy.__mro__ and typing.Protocol in MetricEvaluator.__mro__


class DuckLB:
    """Not an Entity: only what the AutoScaler needs."""

    def __init__(self, backends):
        self._b = list(backends)

    @property
    def all_backends(self):
        return list(self._b)

    def add_backend(self, backend):
        self._b.append(backend)

    def remove_backend(self, backend):
        self._b.remove(backend)


class DuckBackend:
    """Not an Entity: a name, a utilization, a queue depth, and handle_event."""

    def __init__(self, name, utilization=1.0, depth=0):
        self.name = name
        self.utilization = utilization
        self.depth = depth

    def handle_event(self, event):
        return None


def test_duck_typed_load_balancer_and_backends_with_autoscaler():
    lb = DuckLB([DuckBackend("d0")])
    scaler = AutoScaler("as", lb, lambda n: DuckBackend(n), policy=TargetUtilization(0.5),
                        max_instances=8, evaluation_interval=10, scale_out_cooldown=0)
    sim = Simulation(end_time=25, entities=[scaler])
    sim.schedule(scaler.start())
    s = sim.run()
    # all saturated: 1 -> 2 -> 4 -> 8 at 0, 10, 20
    assert [b.name for b in lb.all_backends] == ["d0"] + [f"as_server_{k}" for k in range(1, 8)]
    assert [(e.from_count, e.to_count) for e in scaler.scaling_history] == [(1, 2), (2, 4),
                                                                            (4, 8)]
    assert s.metrics["as.instances_added"] == 7


def test_duck_typed_backends_on_a_load_balancer():
    lb = LoadBalancer("lb", backends=[DuckBackend("d0", utilization=0.0, depth=5)])
    scaler = AutoScaler("as", lb, lambda n: DuckBackend(n, utilization=0.0, depth=0),
                        policy=QueueDepthScaling(scale_out_threshold=5, scale_in_threshold=1),
                        evaluation_interval=10, scale_out_cooldown=0)
    src = Source.constant(1, lb, name="src")
    sim = Simulation(end_time=15, sources=[src], entities=[lb, scaler])
    sim.schedule(scaler.start())
    s = sim.run()
    # depth 5 >= 5 at 0 and at 10 -> 3 backends; requests go to the duck backends
    assert [b.name for b in lb.all_backends] == ["d0", "as_server_1", "as_server_2"]
    assert s.metrics["lb.requests_forwarded"] == 15


def test_rolling_deployer_with_a_duck_typed_load_balancer():
    lb = DuckLB([DuckBackend("d0"), DuckBackend("d1")])
    d = RollingDeployer("r", lb, lambda n: Server(n, service_time=ConstantLatency(0.1)))
    sim = Simulation(end_time=30, entities=[d])
    sim.schedule(d.deploy(at=1))
    sim.run()
    # batch 1 at 1: rounds 3, 5 -> done 5.1; batch 2: rounds 7.1, 9.1 -> done 9.2
    assert [b.name for b in lb.all_backends] == ["r_v2_1", "r_v2_2"]
    assert d.state.status == "completed"
    assert d.end_time == Instant.from_seconds(9.2)


def test_scheduled_events_take_sequence_numbers_before_first_arrivals():
    # README: events given to sim.schedule before the run come first, then each source's
    # first arrival in the order of ``sources``.
    class Rec(Entity):
        def handle_event(self, event):
            return None
    rec = Rec("rec")
    srv = Server("srv")
    a = Source.constant(1, srv, name="a", stop_after=1)
    b = Source.constant(1, srv, name="b", stop_after=1)
    sim = Simulation(end_time=2, sources=[b, a], entities=[srv, rec], trace=True)
    sim.schedule(Event(1.0, "mark", rec))
    sim.run()
    at_one = [e.target for e in sim.trace_log if e.time == Instant.from_seconds(1)]
    assert at_one == ["rec", "b", "a"]


def test_user_policy_class():
    class AddOneUntilThree:
        def __init__(self):
            self.calls = []

        def evaluate(self, backends, current_count, min_instances, max_instances):
            self.calls.append((len(backends), current_count, min_instances, max_instances))
            return min(current_count + 1, 3)
    policy = AddOneUntilThree()
    lb = LoadBalancer("lb", backends=[Server("s0")])
    scaler = AutoScaler("as", lb, lambda n: Server(n), policy=policy, min_instances=1,
                        max_instances=5, evaluation_interval=10, scale_out_cooldown=0)
    sim = Simulation(end_time=30, entities=[lb, scaler])
    sim.schedule(scaler.start())
    sim.run()
    assert policy.calls == [(1, 1, 1, 5), (2, 2, 1, 5), (3, 3, 1, 5), (3, 3, 1, 5)]
    assert [b.name for b in lb.all_backends] == ["s0", "as_server_1", "as_server_2"]


def test_user_policy_must_return_an_int():
    class Bad:
        def evaluate(self, backends, current_count, min_instances, max_instances):
            return 2.5
    lb = LoadBalancer("lb", backends=[Server("s0")])
    scaler = AutoScaler("as", lb, lambda n: Server(n), policy=Bad())
    sim = Simulation(end_time=1, entities=[lb, scaler])
    sim.schedule(scaler.start())
    with pytest.raises(TypeError, match="2.5"):
        sim.run()


# -- metric names (SPEC 8) -----------------------------------------------------------------------
BASE_METRICS = ["requests_created", "requests_completed", "requests_failed",
                "requests_rejected", "latency_mean", "latency_p50", "latency_p90",
                "latency_p95", "latency_p99", "latency_max", "instance_seconds",
                "final_instances", "peak_instances", "requests_dropped",
                "instance_seconds_booting", "ready_instances_mean", "time_underprovisioned"]


def field_names(name):
    return [p.name for p in doc_params(DOC_DATACLASSES[name])]


# Each deployer's outcome columns (issue 16 step 5; docs/canary-analysis.md).
OUTCOME = ("outcome", "time_to_decision", "max_weight", "requests_new", "exposure")


def test_metric_names_are_exactly_spec_8():
    lb = LoadBalancer("front", backends=[Server("s0")])
    scaler = AutoScaler("scaler", lb, lambda n: Server(n))
    canary = CanaryDeployer("canary", lb, lambda n: Server(n))
    rolling = RollingDeployer("rolling", lb, lambda n: Server(n))
    src = Source.constant(10, lb, name="src")
    sim = Simulation(end_time=5, sources=[src], entities=[lb, scaler, canary, rolling])
    m = sim.run().metrics
    expected_rest = (
        [f"front.{f.name}" for f in dataclasses.fields(LoadBalancerStats)]
        + [f"scaler.{f}" for f in field_names("AutoScalerStats")]
        + [f"canary.{f}" for f in field_names("CanaryDeployerStats")]
        + ["canary.status", "canary.end_time"] + [f"canary.{f}" for f in OUTCOME]
        + [f"rolling.{f}" for f in field_names("RollingDeployerStats")]
        + ["rolling.status", "rolling.end_time"] + [f"rolling.{f}" for f in OUTCOME])
    keys = list(m)
    assert keys[:len(BASE_METRICS)] == BASE_METRICS
    assert sorted(keys[len(BASE_METRICS):]) == sorted(expected_rest)
    assert len(keys) == len(BASE_METRICS) + len(expected_rest)
    # never deployed: idle, no end time
    assert (m["canary.status"], m["canary.end_time"]) == ("idle", None)
    assert (m["rolling.status"], m["rolling.end_time"]) == ("idle", None)
    assert m["requests_created"] == 50
    assert m["front.requests_received"] == 50
    assert m["instance_seconds"] == pytest.approx(5.0)


def test_load_balancer_stats_fields():
    assert [f.name for f in dataclasses.fields(LoadBalancerStats)] == [
        "requests_received", "requests_forwarded", "no_backend_available", "backends_added",
        "backends_removed"]


def test_no_latency_without_completions_and_lb_rejections_count():
    lb = LoadBalancer("lb")  # no backend: every request is rejected at the load balancer
    src = Source.constant(2, lb, name="src")
    m = Simulation(end_time=5, sources=[src], entities=[lb]).run().metrics
    assert m["requests_created"] == 10
    assert m["requests_rejected"] == 10
    assert m["lb.no_backend_available"] == 10
    assert m["requests_completed"] == 0
    for k in ("latency_mean", "latency_p50", "latency_p90", "latency_p95", "latency_p99",
              "latency_max"):
        assert m[k] is None
    assert (m["instance_seconds"], m["final_instances"], m["peak_instances"]) == (0.0, 0, 0)


class LatencyTap(Entity):
    def __init__(self, name, target, out):
        super().__init__(name)
        self.target = target
        self.out = out

    def handle_event(self, event):
        ctx = event.context
        fwd = Event(event.time, event.event_type, self.target, context=ctx)
        fwd.add_completion_hook(lambda t: self.out.append(t.nanoseconds - ctx["created_ns"]))
        return fwd


@pytest.mark.parametrize("seed", [1, 2])
def test_latency_percentiles_within_one_percent(seed):
    srv = Server("srv", concurrency=3, service_time=fastdeploy.ExponentialLatency(0.1))
    lat = []
    tap = LatencyTap("tap", srv, lat)
    src = Source.poisson(20, tap, name="src", stop_after=200)
    m = Simulation(end_time=1000, sources=[src], entities=[tap, srv], seed=seed).run().metrics
    n = len(lat)
    assert m["requests_completed"] == n > 3000
    lat.sort()
    for key, q in (("latency_p50", 0.5), ("latency_p90", 0.9), ("latency_p95", 0.95),
                   ("latency_p99", 0.99)):
        exact = lat[math.ceil(q * n) - 1] / 1e9  # nearest rank
        assert m[key] == pytest.approx(exact, rel=0.01)
    assert m["latency_max"] == lat[-1] / 1e9
    assert m["latency_mean"] == pytest.approx(sum(lat) / n / 1e9, rel=1e-12)


# -- time (SPEC 1) --------------------------------------------------------------------------------
@pytest.mark.parametrize("x, expected_ns", [
    (0.1, 100_000_000),
    (1.5, 1_500_000_000),
    (1.5e-9, 2),          # half rounds up
    (2.5e-9, 3),          # half rounds up (not to even)
    (1.4e-9, 1),
    (-1.5e-9, -1),        # floor(-1.5 + 0.5) = -1
    (-2.6e-9, -3),
    (0, 0),
    (3, 3_000_000_000),
    (1e-10, 0),
])
def test_from_seconds_rounding(x, expected_ns):
    assert Instant.from_seconds(x).nanoseconds == expected_ns
    assert Duration.from_seconds(x).nanoseconds == expected_ns
    assert expected_ns == math.floor(x * 1e9 + 0.5)


def test_instant_and_duration_arithmetic():
    t = Instant(1_000)
    d = Duration(250)
    assert t + d == Instant(1_250)
    assert isinstance(t + d, Instant)
    assert t - Instant(400) == Duration(600)
    assert isinstance(t - Instant(400), Duration)
    assert t - d == Instant(750)
    assert t + 1.5 == Instant(1_500_001_000)      # seconds stand for a Duration
    assert t + 2 == Instant(2_000_001_000)
    assert t - 0.000001 == Instant(0)
    assert d + d == Duration(500)
    assert d + 1 == Duration(1_000_000_250)
    assert 1 + d == Duration(1_000_000_250)
    assert d - Duration(50) == Duration(200)
    assert -d == Duration(-250)
    assert Instant.from_seconds(2).to_seconds() == 2.0
    assert Duration.from_seconds(0.25).to_seconds() == 0.25
    assert Instant.Epoch == Instant(0)
    assert Instant.Infinity > Instant(2**62)
    assert Instant.Infinity.to_seconds() == math.inf
    assert Instant.Infinity + Duration(5) == Instant.Infinity
    assert Instant.from_seconds(math.inf) == Instant.Infinity
    assert Instant(5) < Instant(6) and Duration(5) < Duration(6)
    assert hash(Instant(7)) == hash(Instant(7))


def test_comparisons_only_within_one_type():
    assert Instant(5) != Duration(5)
    with pytest.raises(TypeError):
        Instant(5) < Duration(6)
    with pytest.raises(TypeError):
        Duration(5) < Instant(6)
    with pytest.raises(TypeError):
        Instant(5) + Instant(6)
    with pytest.raises(TypeError):
        Instant(5) < 6


def test_simulation_summary():
    srv = Server("srv", service_time=ConstantLatency(0.5))
    src = Source.constant(1, srv, name="src", stop_after=3)
    s = Simulation(end_time=10, sources=[src], entities=[srv], seed=4).run(replica=2)
    # 3 arrivals + 3 completions
    assert s.events_processed == 6
    assert s.end_time == Instant.from_seconds(10)
    assert s.wall_time >= 0
    assert (s.seed, s.replica) == (4, 2)
    s2 = Simulation(duration=4, start_time=1, sources=[Source.constant(1, Server("t"),
                                                                        name="u")]).run()
    assert s2.end_time == Instant.from_seconds(5)
    assert s2.metrics["requests_created"] == 4  # 2, 3, 4, 5
