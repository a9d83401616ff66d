"""The HorizontalPodAutoscaler in both engines: hand-computed timelines, a fixed scenario
with every metric kind and behavior, sweeps over its parameter paths, and its checks.

Deterministic timelines use evenly spaced arrivals (``Source.constant`` and a piecewise
profile: the k-th arrival when the profile's area reaches k) and the requests_per_second
metric, which depends on arrivals only; syncs start at 0.1 s so that no arrival ties one.
"""

from __future__ import annotations

import numpy as np
import pytest

from fastdeploy import (ConstantLatency, ExponentialLatency, LoadBalancer,
                        PiecewiseRateProfile, Server, Simulation, Source, SpikeProfile)
from fastdeploy.kubernetes import (ExternalMetric, HorizontalPodAutoscaler, HPABehavior,
                                   HPAScalingPolicy, HPAScalingRules, PodsMetric,
                                   ResourceMetric)
from fastdeploy.rules import hpa as rules

RPS = [PodsMetric("requests_per_second", 1.0)]


def fleet(rate, *, end=400.0, startup=0.0, **hpa_args):
    """One server (1 s per request) behind a load balancer, arrivals evenly spaced at
    ``rate`` (a number or PiecewiseRateProfile), an HPA syncing from 0.1 s."""
    lb = LoadBalancer("lb", backends=[Server("a", service_time=ConstantLatency(1.0))])
    src = Source("src", rate, lb, poisson=False)
    hpa = HorizontalPodAutoscaler(
        "hpa", lb, lambda n: Server(n, service_time=ConstantLatency(1.0),
                                    startup_delay=startup), **hpa_args)
    sim = Simulation(end_time=end, sources=[src], entities=[lb, hpa], seed=1)
    sim.schedule(hpa.start(at=0.1))
    return sim, hpa


def both(sim, hpa, replicas=(0,)):
    """The object engine's history, checked equal to the batch engine's rows and events."""
    from conftest import row_differences

    result = sim.run_batch(list(replicas))
    rows = result.table.to_pylist()
    events = result.scaling_events.to_pylist()
    for r in replicas:
        metrics = sim.run(replica=r).metrics
        assert row_differences(rows[list(replicas).index(r)], metrics) == []
        mine = [(e.time.to_seconds(), e.from_count, e.to_count) for e in hpa.scaling_history]
        got = [(e["time"], e["from_count"], e["to_count"]) for e in events
               if e["replica"] == r]
        assert got == mine
    return [(round(e.time.to_seconds(), 6), e.from_count, e.to_count)
            for e in hpa.scaling_history], metrics


def test_stabilization_holds_a_scale_down_for_the_window():
    # 4/s until 60 s, then 1/s; target 1 request/s per ready pod (the load balancer's
    # arrivals since the previous sync). 0.1: no arrival yet: 0/s proposes 0, min
    # keeps 1. 15.1: 60 arrivals in 15 s -> 4/s on 1 pod -> 4
    # (default up limit max(1 + 4, 2) = 5). 30.1 to 60.1: 4/s over 4 pods: ratio 1, stay.
    # 75.1: 15 arrivals -> 1/s -> 0.25 per pod -> 1, but proposals of 4 made within the
    # last 300 s (the last at 60.1) hold it until 360.1 = 60.1 + 300 (strictly younger
    # than the window counts), when the default 100 %/15 s policy lets it go to 1.
    sim, hpa = fleet(PiecewiseRateProfile([(0.0, 4.0), (60.0, 1.0)]), metrics=RPS)
    history, m = both(sim, hpa)
    assert history == [(15.1, 1, 4), (360.1, 4, 1)]
    assert m["hpa.evaluations"] == 27  # 0.1, 15.1, ..., 390.1
    # held back at 75.1, 90.1, ..., 345.1: 19 syncs
    assert m["hpa.cooldown_blocks"] == 19


def test_shorter_window_lets_it_go_sooner():
    sim, hpa = fleet(PiecewiseRateProfile([(0.0, 4.0), (60.0, 1.0)]), metrics=RPS,
                     behavior=HPABehavior(scale_down=HPAScalingRules(stabilization_window=60)))
    history, _ = both(sim, hpa)
    # the last proposal of 4 at 60.1 leaves the 60 s window at 120.1
    assert history == [(15.1, 1, 4), (120.1, 4, 1)]


def test_percent_policy_limits_growth_per_period():
    # 16/s throughout, target 1/s per pod. Scale-up policy: 100 % per 60 s. 0.1: one
    # arrival (at 1/16 s) in 0.1 s -> 10/s -> 10, limited to 1 -> 2 (+1 at 0.1). From
    # 15.1 the proposal is 16, but until 60.1 the period still holds that event
    # (strictly younger than 60 s): start 2 - 1 = 1 -> 2, no change. 60.1: start 2 -> 4;
    # then 120.1: 8; 180.1: 16.
    up = HPAScalingRules(policies=[HPAScalingPolicy("Percent", 100, 60)])
    sim, hpa = fleet(16.0, end=250.0, metrics=RPS, max_replicas=20,
                     behavior=HPABehavior(scale_up=up))
    history, m = both(sim, hpa)
    assert history == [(0.1, 1, 2), (60.1, 2, 4), (120.1, 4, 8), (180.1, 8, 16)]
    assert m["hpa.instances_added"] == 15


def test_sync_times():
    # 2/s with target 2/s per pod: ratio 1 every time; syncs at 0.1 + 7.5 k to 100 s.
    sim, hpa = fleet(2.0, end=100.0, metrics=[PodsMetric("requests_per_second", 2.0)],
                     sync_period=7.5)
    history, m = both(sim, hpa)
    assert history == []
    assert m["hpa.evaluations"] == 14
    assert m["hpa.scale_out_count"] == m["hpa.scale_in_count"] == 0


def test_bounds_apply_before_metrics():
    # minReplicas above the fleet: the first sync goes to it whatever the metrics say
    # (no rate yet at 0.1 s), without the behavior's limits.
    sim, hpa = fleet(1.0, end=20.0, metrics=RPS, min_replicas=7, max_replicas=9)
    history, _ = both(sim, hpa)
    assert history[0] == (0.1, 1, 7)


def test_sample_readiness():
    """A sync's view of its backends (rules/hpa.py sample): booting -> unready for every
    metric; ready for less than the metric window inside the CPU initialization period
    -> unready for CPU only; a backend there when the run started -> counted."""
    s = 10**9
    q = HorizontalPodAutoscaler("h", LoadBalancer("lb"), Server,
                                metric_window=30.0)._params[6:]
    row = np.zeros(rules.S_COLUMNS, np.int64)
    now = 100 * s
    rules.sample(row, 0.0, 3.0, 2, 0, 90 * s, 0, 0, now, 30 * s, q)
    assert (row[rules.S_STATE], row[rules.S_CPU_STATE]) == (rules.UNREADY, rules.UNREADY)
    assert row[rules.S_IN_FLIGHT] == 3000 and row[rules.S_REQUEST] == 2000
    rules.sample(row, 1.5, 0.0, 2, 1, 50 * s, 30 * s, 0, now, 30 * s, q)  # ready at 80 s
    assert (row[rules.S_STATE], row[rules.S_CPU_STATE]) == (rules.COUNTED, rules.UNREADY)
    rules.sample(row, 1.5, 0.0, 2, 1, 50 * s, 10 * s, 0, now, 30 * s, q)  # ready at 60 s
    assert row[rules.S_CPU_STATE] == rules.COUNTED and row[rules.S_BUSY] == 1500
    rules.sample(row, 1.5, 0.0, 2, 1, 0, 0, 0, now, 30 * s, q)  # there from the start
    assert row[rules.S_CPU_STATE] == rules.COUNTED


def test_removal_order():
    """Not ready first (newest created first), then the most recently ready."""
    samples = np.zeros((4, rules.S_COLUMNS), np.int64)
    samples[:, rules.S_READY] = [1, 1, 0, 0]
    samples[:, rules.S_RANK_NS] = [0, 50, 60, 70]
    out = np.zeros(4, np.int64)
    assert rules.choose_victims(samples, 4, 4, out) == 4
    assert list(out) == [3, 2, 1, 0]


EVERYTHING = """\
lb = LoadBalancer('lb', backends=[Server(f's{i}', concurrency=2,
                  service_time=ExponentialLatency(0.15)) for i in range(2)])
src = Source('src', SpikeProfile(baseline_rate=10, spike_rate=60, warmup_s=60,
             spike_duration_s=90), lb, poisson=True)
def make(name):
    return Server(name, concurrency=2, service_time=ExponentialLatency(0.15),
                  startup_delay=ExponentialLatency(8.0))
"""


@pytest.mark.parametrize("metrics,behavior", [
    ("None", "None"),
    ("[ResourceMetric(0.5)]", "HPABehavior(HPAScalingRules(stabilization_window=20, "
     "select_policy='Min', policies=[HPAScalingPolicy('Pods', 2, 10), "
     "HPAScalingPolicy('Percent', 50, 20)], tolerance=0.02), HPAScalingRules("
     "stabilization_window=30, policies=[HPAScalingPolicy('Pods', 1, 5)], tolerance=0.3))"),
    ("[PodsMetric('requests_in_flight', 1.0), ExternalMetric('queue_depth', "
     "target_value=2.0)]", "HPABehavior(scale_down=HPAScalingRules(stabilization_window=0))"),
    ("[PodsMetric('requests_per_second', 8.0), ExternalMetric('queue_depth', "
     "target_average_value=0.5)]", "HPABehavior(scale_up=HPAScalingRules("
     "select_policy='Disabled'))"),
])
def test_every_metric_and_behavior_agrees(metrics, behavior):
    ns = {}
    exec("from fastdeploy import *\nfrom fastdeploy.kubernetes import *\n" + EVERYTHING
         + f"hpa = HorizontalPodAutoscaler('hpa', lb, make, min_replicas=1, max_replicas=12, "
           f"metrics={metrics}, behavior={behavior}, sync_period=5.0, metric_window=10.0, "
           f"cpu_initialization_period=60.0, initial_readiness_delay=5.0)\n"
           "sim = Simulation(end_time=300, sources=[src], entities=[lb, hpa], seed=4)\n"
           "sim.schedule(hpa.start())\n", ns)
    sim, hpa = ns["sim"], ns["hpa"]
    both(sim, hpa, replicas=(0, 3))
    assert hpa.stats.evaluations == 61
    if "Disabled" not in behavior:
        assert hpa.stats.scale_out_count > 0 and hpa.stats.scale_in_count > 0


def spike_hpa(**kw):
    lb = LoadBalancer("lb", backends=[Server("s0", concurrency=4,
                                             service_time=ExponentialLatency(0.1))])
    src = Source("traffic", SpikeProfile(baseline_rate=20, spike_rate=100, warmup_s=100,
                                         spike_duration_s=100), lb, poisson=True)
    hpa = HorizontalPodAutoscaler(
        "hpa", lb, lambda n: Server(n, concurrency=4, service_time=ExponentialLatency(0.1),
                                    startup_delay=ExponentialLatency(10.0)),
        metrics=[ResourceMetric(0.6)], max_replicas=20, **kw)
    sim = Simulation(end_time=400, sources=[src], entities=[lb, hpa], seed=2)
    sim.schedule(hpa.start())
    return sim


@pytest.mark.parametrize("path,values,build", [
    ("hpa.tolerance", [0.05, 0.2], lambda v: dict(tolerance=v)),
    ("hpa.behavior.scale_down.stabilization_window", [0.0, 60.0],
     lambda v: dict(behavior=HPABehavior(scale_down=HPAScalingRules(stabilization_window=v)))),
    ("hpa.behavior.scale_up.policies.1.value", [10, 300],
     lambda v: dict(behavior=HPABehavior(scale_up=HPAScalingRules(policies=[
         HPAScalingPolicy("Pods", 4, 15), HPAScalingPolicy("Percent", v, 15)])))),
    ("hpa.metrics.0.target", [0.4, 0.8],
     lambda v: dict(metrics=None)),
])
def test_sweeps_equal_building_each(path, values, build, row_diff):
    sim = spike_hpa()
    if path == "hpa.behavior.scale_up.policies.1.value":
        sim = spike_hpa(**build(100))
    result = sim.run_batch(len(values), params={path: values})
    rows = result.table.to_pylist()
    for r, v in enumerate(values):
        kw = build(v)
        ref = spike_hpa(**kw) if path != "hpa.metrics.0.target" else None
        if ref is None:
            ref = spike_hpa()
            ref.entities[1].metrics = [ResourceMetric(v)]
        metrics = ref.run(replica=r).metrics
        row = {k: x for k, x in rows[r].items() if k != path}
        assert row_diff(row, metrics) == [], (path, v)
    assert len({(r["hpa.scale_out_count"], r["latency_p99"]) for r in rows}) > 1


def test_every_number_is_a_path():
    from fastdeploy.batch.lower import lower

    sim = spike_hpa(behavior=HPABehavior(HPAScalingRules(tolerance=0.0),
                                         HPAScalingRules(tolerance=0.2)))
    paths = set(lower(sim).params.defaults())
    for p in ("min_replicas", "max_replicas", "sync_period", "metric_window", "tolerance",
              "cpu_initialization_period", "initial_readiness_delay", "metrics.0.target",
              "behavior.scale_up.stabilization_window", "behavior.scale_up.tolerance",
              "behavior.scale_up.policies.0.value", "behavior.scale_up.policies.0.period",
              "behavior.scale_up.policies.1.value", "behavior.scale_up.policies.1.period",
              "behavior.scale_down.stabilization_window", "behavior.scale_down.tolerance",
              "behavior.scale_down.policies.0.value", "behavior.scale_down.policies.0.period"):
        assert f"hpa.{p}" in paths, p


@pytest.mark.parametrize("params,message", [
    ({"hpa.sync_period": [0.5]}, "hpa.sync_period"),
    ({"hpa.behavior.scale_down.policies.0.period": [0.0]},
     "hpa.behavior.scale_down.policies.0.period"),
    ({"hpa.behavior.scale_up.policies.0.value": [1.5]}, "hpa.behavior.scale_up.policies.0.value"),
    ({"hpa.behavior.scale_down.stabilization_window": [4000]},
     "hpa.behavior.scale_down.stabilization_window"),
    ({"hpa.min_replicas": [30]}, "min_replicas must be <= max_replicas"),
])
def test_bad_sweep_values_name_the_path(params, message):
    with pytest.raises(ValueError, match=message.replace(".", r"\.")):
        spike_hpa().run_batch(1, params=params)


@pytest.mark.parametrize("kwargs,message", [
    (dict(min_replicas=0), "min_replicas must be >= 1"),
    (dict(min_replicas=5, max_replicas=4), "min_replicas must be <= max_replicas"),
    (dict(sync_period=0.5), "sync_period must be >= 1.0"),
    (dict(tolerance=-1), "tolerance must be >= 0"),
    (dict(metrics=ResourceMetric(0.5)), "metrics must be a list"),
    (dict(metrics=[]), "metrics must hold 1 to 4"),
    (dict(metrics=["cpu"]), "metrics[0] must be a ResourceMetric"),
    (dict(behavior={}), "behavior must be an HPABehavior"),
    (dict(metric_window=-1), "metric_window must be >= 0"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises((TypeError, ValueError)) as e:
        HorizontalPodAutoscaler("h", LoadBalancer("lb"), Server, **kwargs)
    assert message in str(e.value)


@pytest.mark.parametrize("call,message", [
    (lambda: ResourceMetric(0), "ResourceMetric.target_utilization must be >= 0.005"),
    (lambda: PodsMetric("qps", 1), "PodsMetric.name must be"),
    (lambda: PodsMetric("requests_in_flight", 0), "target_average_value must be >= 0.001"),
    (lambda: ExternalMetric("queue_depth"), "exactly one of target_value"),
    (lambda: ExternalMetric("queue_depth", 1, 1), "exactly one of target_value"),
    (lambda: ExternalMetric("lag", 1), "ExternalMetric.name must be 'queue_depth'"),
])
def test_bad_metrics(call, message):
    with pytest.raises((TypeError, ValueError)) as e:
        call()
    assert message in str(e.value)


def test_backends_must_be_servers():
    class Thing:
        name = "x"

        def handle_event(self, e):
            return None

    lb = LoadBalancer("lb", backends=[Thing()])
    hpa = HorizontalPodAutoscaler("hpa", lb, Server)
    sim = Simulation(end_time=20, sources=[Source("s", 1.0, lb)], entities=[lb, hpa])
    sim.schedule(hpa.start())
    with pytest.raises(TypeError, match="built-in Servers"):
        sim.run(replica=0)


def test_readiness_delays_the_count():
    # External queue_depth, target value 5, read at the sync (metric_window 0); 2
    # arrivals/s, one server serving 1/s. Pods added boot for 100 s: the load balancer
    # queues requests at them, but they are not ready, so the proposal multiplies by one
    # ready pod. 15.1: 30 arrived, 15 started -> queue 15 -> 3 x 1 = 3. Each later sync
    # sees 30 more arrivals and 15 more starts (only the ready pod serves): queues 30, 45,
    # 60 -> 6, 9, 12 (max 10). Counting the booting pods as ready would give 18 at 30.1.
    sim, hpa = fleet(2.0, end=70.0, startup=100.0, max_replicas=10, metric_window=0.0,
                     metrics=[ExternalMetric("queue_depth", target_value=5.0)])
    history, m = both(sim, hpa)
    assert history == [(15.1, 1, 3), (30.1, 3, 6), (45.1, 6, 9), (60.1, 9, 10)]
    assert m["instance_seconds_booting"] > 0


def test_no_pods_no_action():
    """A load balancer with no backends: Kubernetes treats the target as disabled; each
    sync counts and does nothing (found by the agreement fuzzer: an AverageValue metric
    divided by zero pods)."""
    lb = LoadBalancer("lb")
    hpa = HorizontalPodAutoscaler(
        "hpa", lb, Server, max_replicas=3, sync_period=1.0,
        metrics=[ExternalMetric("queue_depth", target_average_value=0.2), ResourceMetric(0.5),
                 PodsMetric("requests_per_second", 1.0)])
    sim = Simulation(end_time=5.0, sources=[Source("s", 2.0, lb, poisson=False)],
                     entities=[lb, hpa])
    sim.schedule(hpa.start())
    history, m = both(sim, hpa)
    assert history == [] and m["hpa.evaluations"] == 6
