"""ArgoCanary (issue 16 step 2): hand-computed timelines in both engines for each step
kind, AnalysisRun limit and outcome, weights by replica counts (Argo's own table),
validation and sweepable parameters.

Deterministic: two baseline servers (0.1 s per request) behind round robin, a request
every 0.1 s (the first at 0.1 s), deploy at 1.05 s. With traffic routing the canary has
ceil(weight x 2 / 100) instances; at weight w the i-th request since the weight was set
goes to it when floor((i + 1) w) > floor(i w): at 25% the 4th, 8th, ... (set at 1.05:
the requests of 1.4, 1.8, 2.2, ...), at 50% every second one. A metric measures at
initial_delay + k x interval after its run starts, each measurement covering the
interval before it.
"""

from __future__ import annotations

import pytest

from fastdeploy import ConstantLatency, LoadBalancer, Server, Simulation, Source
from fastdeploy.argo import (Analysis, AnalysisMetric, AnalysisTemplate, ArgoBlueGreen,
                             ArgoCanary, BackgroundAnalysis, Condition, Pause, SetWeight)
from fastdeploy.rules import argo as rules


def both_engines(sim, replicas=(0,)):
    """The object engine's rows, checked equal to the batch engine's. The batch engine
    runs first: compiling the kernels before the object engine has compiled the rules on
    their own is how a user's first run compiles them (a rule that needs numba's
    runtime compiles on its own but not into the kernels)."""
    batch = sim.run_batch(list(replicas)).table.to_pylist()
    rows = [sim.run(replica=r).metrics for r in replicas]
    for obj, bat in zip(rows, batch):
        for k, v in obj.items():
            assert bat[k] == pytest.approx(v, rel=0, abs=1e-12) if isinstance(v, float) \
                else bat[k] == v, k
    return rows[0]


def argo_sim(steps, analysis=None, latency=0.2, failure_rate=0.0, end=8.0):
    def base(name):
        return Server(name, concurrency=10, service_time=ConstantLatency(0.1))

    lb = LoadBalancer("lb", backends=[base("a"), base("b")])
    ar = ArgoCanary("ar", lb, lambda n: Server(n, concurrency=10,
                                               service_time=ConstantLatency(latency),
                                               failure_rate=failure_rate),
                    steps=steps, analysis=analysis)
    sim = Simulation(end_time=end, sources=[Source.constant(10.0, lb, name="src")],
                     entities=[lb, ar], seed=1)
    sim.schedule(ar.deploy(at=1.05))
    return sim, ar


def template(*metrics):
    return AnalysisTemplate(list(metrics))


ERRORS = AnalysisMetric("errors", "error_rate", success="<= 0.01", interval=1.0)


def stats(m):
    return tuple(m[f"ar.{k}"] for k in ("steps_completed", "measurements_successful",
                                         "measurements_failed", "measurements_inconclusive"))


def test_analysis_step_passes_then_promotion():
    # 1.05: weight 25 (one canary instance), the run starts. 2.05: the canary answered
    # the requests of 1.4 and 1.8, none failed: Successful, weight 50, pause 1 s; 3.05:
    # promoted, 2 s after the deploy.
    sim, ar = argo_sim([SetWeight(25), Analysis(template(ERRORS)), SetWeight(50),
                        Pause(1.0)])
    m = both_engines(sim)
    assert (m["ar.outcome"], m["ar.status"]) == ("promoted", "completed")
    assert m["ar.time_to_decision"] == pytest.approx(2.0, abs=1e-12)
    assert stats(m) == (4, 1, 0, 0)
    assert m["ar.max_weight"] == 100.0
    # New version: 1.4, 1.8 at 25%; 2.2, 2.4, ..., 3.0 at 50% (5); then all of 3.1 ..
    # 7.8 (48).
    assert (m["ar.requests_new"], m["ar.exposure"]) == (55, 0)
    last = ar.last_measurement
    assert (last["metric"], last["phase"]) == ("errors", "successful")
    assert (last["canary"]["count"], last["canary"]["start"], last["canary"]["end"]) == (
        2, pytest.approx(1.05), pytest.approx(2.05))
    assert [b.name for b in ar.load_balancer.all_backends] == ["ar_canary", "ar_canary_2"]


@pytest.mark.parametrize("failure_limit, end, exposure", [(0, 2.05, 2), (2, 4.05, 7)])
def test_background_failure_limit_aborts_a_paused_rollout(failure_limit, end, exposure):
    # Every canary request fails. The background run starts with the rollout; the
    # rollout pauses for good at 1.05 (weight 25), the analysis runs on: 2.05, 3.05, ...
    # each Failed; failed > failure_limit aborts (1 with limit 0, 3 with limit 2).
    metric = AnalysisMetric("errors", "error_rate", success="<= 0.01", interval=1.0,
                            failure_limit=failure_limit)
    sim, ar = argo_sim([SetWeight(25), Pause()], BackgroundAnalysis(template(metric)),
                       failure_rate=1.0)
    m = both_engines(sim)
    assert (m["ar.outcome"], m["ar.status"]) == ("rolled_back", "rolled_back")
    assert m["ar.end_time"] == pytest.approx(end, abs=1e-12)
    assert stats(m) == (1, 0, failure_limit + 1, 0)
    # The canary failed every 4th request from 1.4 until the abort.
    assert (m["ar.requests_new"], m["ar.exposure"]) == (exposure, exposure)
    assert ar.state.weight == 0
    assert [b.name for b in ar.load_balancer.all_backends] == ["a", "b"]


def test_indefinite_pause_is_reported_paused():
    sim, ar = argo_sim([SetWeight(25), Pause()])
    m = both_engines(sim)
    assert (m["ar.outcome"], m["ar.status"]) == ("paused", "paused")
    # The pause is the decision (a person must act): 0 s after the deploy.
    assert m["ar.time_to_decision"] == pytest.approx(0.0, abs=1e-12)
    assert m["ar.max_weight"] == 25.0
    # The canary keeps its share until the end: 1.4, 1.8, ..., 7.8 (17).
    assert m["ar.requests_new"] == 17


def test_inconclusive_pauses():
    # A latency of 0.2 s meets neither condition: Inconclusive. inconclusive_limit 1
    # with count 3: 2.05 (1 <= 1) goes on, 3.05 (2 > 1) pauses the rollout.
    metric = AnalysisMetric("lat", "latency_mean", success="<= 0.15", failure=">= 0.3",
                            interval=1.0, count=3, inconclusive_limit=1)
    sim, ar = argo_sim([SetWeight(25), Analysis(template(metric)), SetWeight(50)])
    m = both_engines(sim)
    assert m["ar.outcome"] == "paused"
    assert m["ar.end_time"] == pytest.approx(3.05, abs=1e-12)
    assert stats(m) == (1, 0, 0, 2)
    assert m["ar.max_weight"] == 25.0
    assert ar.metric_phases() == {(1, "lat"): "inconclusive"}


def test_only_a_success_condition_fails_when_unmet():
    # Argo: without a failure condition an unmet success condition is Failed.
    metric = AnalysisMetric("lat", "latency_mean", success="<= 0.15", interval=1.0)
    sim, _ = argo_sim([SetWeight(25), Analysis(template(metric)), SetWeight(50)])
    m = both_engines(sim)
    assert (m["ar.outcome"], stats(m)) == ("rolled_back", (1, 0, 1, 0))


def test_no_data_is_inconclusive_never_a_pass():
    # min_samples 5: the canary's 2 requests a window are no data: Inconclusive, paused.
    metric = AnalysisMetric("errors", "error_rate", success="<= 0.01", interval=1.0,
                            min_samples=5)
    sim, ar = argo_sim([SetWeight(25), Analysis(template(metric))])
    m = both_engines(sim)
    assert (m["ar.outcome"], stats(m)) == ("paused", (1, 0, 0, 1))
    assert ar.last_measurement["canary"]["count"] == 2
    # An analysis at weight 0 has no canary instance at all: no data either.
    sim, _ = argo_sim([Analysis(template(ERRORS))])
    assert both_engines(sim)["ar.outcome"] == "paused"


def test_consecutive_success_limit():
    # Without a count the step's metric runs until 2 consecutive successes: 2.05, 3.05;
    # then the last step is done: promoted at 3.05.
    metric = AnalysisMetric("p99", "latency_p99", success="<= 0.5", interval=1.0,
                            consecutive_success_limit=2)
    sim, _ = argo_sim([SetWeight(25), Analysis(template(metric))])
    m = both_engines(sim)
    assert m["ar.outcome"] == "promoted"
    assert m["ar.time_to_decision"] == pytest.approx(2.0, abs=1e-12)
    assert stats(m) == (2, 2, 0, 0)
    # With count 1 the limit is not reached: Inconclusive (failure limit applicable).
    metric = AnalysisMetric("p99", "latency_p99", success="<= 0.5", interval=1.0, count=1,
                            consecutive_success_limit=2)
    sim, _ = argo_sim([SetWeight(25), Analysis(template(metric))])
    assert both_engines(sim)["ar.outcome"] == "paused"


def test_ratio_to_baseline_and_initial_delay():
    # latency_mean_ratio: 0.2 / 0.1 = 2 > 1.5 fails. initial_delay 1: the run starts at
    # 1.05, measures at 3.05 (window 2.05 .. 3.05): aborted at 3.05.
    metric = AnalysisMetric("ratio", "latency_mean_ratio", success="<= 1.5", interval=1.0,
                            initial_delay=1.0)
    sim, ar = argo_sim([SetWeight(25), Analysis(template(metric))])
    m = both_engines(sim)
    assert m["ar.outcome"] == "rolled_back"
    assert m["ar.end_time"] == pytest.approx(3.05, abs=1e-12)
    assert ar.last_measurement["canary"]["start"] == pytest.approx(2.05)
    # A p99 ratio makes the baseline keep percentiles: 0.2 / 0.1 = 2 <= 2.5 passes.
    metric = AnalysisMetric("ratio", "latency_p99_ratio", success="<= 2.5", interval=1.0)
    sim, ar = argo_sim([SetWeight(25), Analysis(template(metric))])
    assert both_engines(sim)["ar.outcome"] == "promoted"
    assert ar.last_measurement["baseline"]["latency_p99"] == pytest.approx(0.1, rel=0.01)


def test_in_progress_at_the_end():
    sim, _ = argo_sim([SetWeight(25), Pause(60.0)], end=3.0)
    m = both_engines(sim)
    assert (m["ar.outcome"], m["ar.time_to_decision"], m["ar.max_weight"]) == (
        "in_progress", None, 25.0)


# Argo's TestApproximateWeightedNewStableReplicaCounts (utils/replicaset/canary_test.go):
# (replicas, weight, maxSurge, canary, stable), maxWeight 100.
ARGO_TABLE = [
    (0, 0, 0, 0, 0), (0, 50, 0, 0, 0), (0, 100, 0, 0, 0), (0, 0, 1, 0, 0), (0, 50, 1, 0, 0),
    (0, 100, 1, 0, 0), (1, 0, 0, 0, 1), (1, 1, 0, 0, 1), (1, 49, 0, 0, 1), (1, 50, 0, 1, 0),
    (1, 99, 0, 1, 0), (1, 100, 0, 1, 0), (1, 0, 1, 0, 1), (1, 1, 1, 1, 1), (1, 49, 1, 1, 1),
    (1, 50, 1, 1, 1), (1, 99, 1, 1, 1), (1, 100, 1, 1, 0), (2, 0, 0, 0, 2), (2, 1, 0, 1, 1),
    (2, 50, 0, 1, 1), (2, 99, 0, 1, 1), (2, 100, 0, 2, 0), (2, 0, 1, 0, 2), (2, 1, 1, 1, 2),
    (2, 50, 1, 1, 1), (2, 99, 1, 2, 1), (2, 100, 1, 2, 0), (3, 10, 0, 1, 2), (3, 25, 0, 1, 2),
    (3, 33, 0, 1, 2), (3, 34, 0, 1, 2), (3, 49, 0, 1, 2), (3, 50, 0, 2, 1), (3, 10, 1, 1, 3),
    (3, 25, 1, 1, 3), (3, 33, 1, 1, 2), (3, 34, 1, 1, 2), (3, 49, 1, 2, 2), (3, 50, 1, 2, 2),
    (10, 0, 1, 0, 10), (10, 1, 0, 1, 9), (10, 14, 0, 1, 9), (10, 15, 0, 2, 8),
    (10, 16, 0, 2, 8), (10, 99, 0, 9, 1), (10, 100, 1, 10, 0), (10, 0, 1, 0, 10),
    (10, 1, 1, 1, 10), (10, 18, 1, 2, 9), (10, 19, 1, 2, 9), (10, 20, 1, 2, 8),
    (10, 23, 1, 2, 8), (10, 24, 1, 3, 8), (10, 25, 1, 3, 8), (10, 99, 1, 10, 1),
    (10, 100, 1, 10, 0)]


@pytest.mark.parametrize("replicas, weight, surge, canary, stable", ARGO_TABLE)
def test_replica_counts_without_traffic_routing(replicas, weight, surge, canary, stable):
    assert rules.basic_counts(replicas, weight, surge) == (canary, stable)


def test_replica_counts_of_argos_docs():
    # docs/features/canary.md: 10 replicas at 15% with maxSurge 25% (3): 2 canary, 9
    # stable.
    assert rules.max_surge(10) == 3
    assert rules.basic_counts(10, 15, rules.max_surge(10)) == (2, 9)
    # With traffic routing the canary has ceil(weight x replicas) and the stable all.
    assert [rules.canary_replicas(w, 10) for w in (0, 1, 15, 100)] == [0, 1, 2, 10]


@pytest.mark.parametrize("text, parsed", [("<= 0.01", ("<=", 0.01)), ("<2", ("<", 2.0)),
                                          (" >= 5 ", (">=", 5.0)), ("== 0", ("==", 0.0)),
                                          ("> -1e-3", (">", -0.001))])
def test_conditions_parse_once(text, parsed):
    c = AnalysisMetric("m", "error_rate", success=text).success
    assert (c.operator, c.threshold) == parsed
    assert AnalysisMetric("m", "error_rate", success=c).success == c


@pytest.mark.parametrize("kw, message", [
    (dict(measure="nope"), "measure must be one of error_rate"),
    (dict(success="< x"), r"success must compare with a number, got '< x'"),
    (dict(failure="= 1"), r"failure must be a comparison such as '<= 0.01'"),
    (dict(success="<= nan"), "threshold must be finite"),
    (dict(interval=0), "interval must be > 0"),
    (dict(count=0), "count must be >= 1, got 0"),
    (dict(initial_delay=-1), "initial_delay must be >= 0"),
    (dict(failure_limit=-2), "failure_limit must be >= -1, got -2"),
    (dict(failure_limit=-1), "failure_limit -1 .* needs consecutive_success_limit >= 1"),
    (dict(inconclusive_limit=-1), "inconclusive_limit must be >= 0, got -1"),
    (dict(consecutive_success_limit=-1), "consecutive_success_limit must be >= 0, got -1"),
    (dict(min_samples=0), "min_samples must be >= 1, got 0"),
])
def test_analysis_metric_arguments_are_checked(kw, message):
    args = dict(name="m", measure="error_rate")
    args.update(kw)
    with pytest.raises(ValueError, match=message):
        AnalysisMetric(**args)


def test_templates_steps_and_canary_arguments_are_checked():
    lb = LoadBalancer("lb", backends=[Server("a")])
    t = template(ERRORS)
    cases = [
        (lambda: AnalysisTemplate([]), "metrics must hold at least one AnalysisMetric"),
        (lambda: AnalysisTemplate([1]), r"metrics\[0\] must be an AnalysisMetric, got 1"),
        (lambda: AnalysisTemplate([ERRORS, ERRORS]), r"metrics\[1\]: two metrics are named"),
        (lambda: SetWeight(101), "percent must be <= 100, got 101"),
        (lambda: Pause(-1), "duration must be >= 0"),
        (lambda: Analysis("t"), "template must be an AnalysisTemplate, got 't'"),
        (lambda: BackgroundAnalysis(t, -1), "starting_step must be >= 0, got -1"),
        (lambda: Condition("=", 1), "operator must be one of <, <=, >, >=, ==, got '='"),
        (lambda: ArgoCanary("ar", lb, Server, []), r"steps must hold at least one step"),
        (lambda: ArgoCanary("ar", lb, Server, [1]), r"steps\[0\] must be a SetWeight, Pause "
                                                    "or Analysis, got 1"),
        (lambda: ArgoCanary("ar", lb, Server, [SetWeight(5)], analysis=t),
         "analysis must be a BackgroundAnalysis"),
        (lambda: ArgoCanary("ar", lb, Server, [SetWeight(5)],
                            analysis=BackgroundAnalysis(t, 1)),
         r"analysis.starting_step must be < len\(steps\) \(1\), got 1"),
    ]
    for make, message in cases:
        with pytest.raises((ValueError, TypeError), match=message):
            make()


def test_parameters_sweep_and_replay():
    metric = AnalysisMetric("errors", "error_rate", success="<= 0.01", interval=1.0)
    sim, ar = argo_sim([SetWeight(25), Pause()], BackgroundAnalysis(template(metric)),
                       failure_rate=1.0)
    paths = set(sim.batch_parameters())
    assert {"ar.steps.0.percent", "ar.analysis.starting_step",
            "ar.analysis.template.metrics.0.failure_limit",
            "ar.analysis.template.metrics.0.success.threshold",
            "ar.analysis.template.metrics.0.interval"} <= paths
    # The lowered row is the object's own parameter row.
    from fastdeploy.batch import schema as sc
    from fastdeploy.batch.lower import lower

    model = lower(sim)
    off = int(model.scenario.canary_init[0, sc.CAS_POFF])
    row = ar._param_row()
    assert list(model.params.values[off:off + len(row)]) == list(row)
    res = sim.run_batch(3, params={"ar.analysis.template.metrics.0.failure_limit": [0, 2, 0],
                                   "ar.analysis.template.metrics.0.success.threshold":
                                       [0.01, 0.01, 1.0]})
    rows = res.table.to_pylist()
    # limit 0: aborted at 2.05; limit 2: at 4.05; threshold 1.0: always met, still paused.
    assert [r["ar.end_time"] for r in rows] == pytest.approx([2.05, 4.05, 1.05])
    assert [r["ar.outcome"] for r in rows] == ["rolled_back", "rolled_back", "paused"]
    for i, row in enumerate(rows):
        again = res.replay(i).summary.metrics
        assert (again["ar.end_time"], again["ar.outcome"]) == (row["ar.end_time"],
                                                               row["ar.outcome"])
    with pytest.raises(ValueError, match="ar.steps.0.percent"):
        sim.run_batch(1, params={"ar.steps.0.percent": [101]})
    with pytest.raises(ValueError, match="failure_limit -1"):
        sim.run_batch(1, params={"ar.analysis.template.metrics.0.failure_limit": [-1]})


SCENARIO = """
name = "argo"
[simulation]
end_time = 8
seed = 1
[templates.v1]
concurrency = 10
service_time = { kind = "constant", latency = 0.1 }
[templates.v2]
concurrency = 10
service_time = { kind = "constant", latency = 0.2 }
failure_rate = 1.0
[[load_balancers]]
name = "lb"
strategy = "round_robin"
backends = [{ template = "v1", count = 2, prefix = "s" }]
[[sources]]
name = "src"
target = "lb"
rate = 10
poisson = false
[analysis_templates.errors]
metrics = [
  { name = "errors", measure = "error_rate", success = "<= 0.01", interval = 1, failure_limit = 2 },
]
[[argo_canaries]]
name = "ar"
load_balancer = "lb"
template = "v2"
deploy_at = 1.05
steps = [{ set_weight = 25 }, { pause = {} }]
analysis = { template = "errors", starting_step = 0 }
"""


def test_scenario_file_keys():
    # The file above is the timeline of test_background_failure_limit_aborts_a_paused_
    # rollout with failure_limit 2.
    from fastdeploy.scenario import loads

    sim = loads(SCENARIO).build(0)
    ar = next(e for e in sim.entities if isinstance(e, ArgoCanary))
    assert ar.steps == [SetWeight(25), Pause()]
    assert ar.analysis.template.metrics[0].failure_limit == 2
    assert ar.analysis.template.metrics[0].success == Condition("<=", 0.01)
    m = both_engines(sim)
    assert (m["ar.outcome"], m["ar.end_time"]) == ("rolled_back", pytest.approx(4.05))
    steps = loads(SCENARIO.replace('{ pause = {} }', '{ pause = { duration = 2 } }, '
                                   '{ analysis = "errors" }')).build(0)
    ar = next(e for e in steps.entities if isinstance(e, ArgoCanary))
    assert ar.steps[1:] == [Pause(2.0), Analysis(ar.analysis.template)]


@pytest.mark.parametrize("old, new, message", [
    ("set_weight = 25", "set_weight = 125", "argo_canaries[0].steps[0].set_weight: "
                                            "percent must be <= 100, got 125"),
    ("{ set_weight = 25 }", "{ set_weight = 25, pause = {} }",
     "argo_canaries[0].steps[0]: expected exactly one of set_weight, pause, analysis"),
    ("{ pause = {} }", "{ pause = { seconds = 1 } }", "argo_canaries[0].steps[1].pause.seconds"),
    ("{ pause = {} }", '{ analysis = "nope" }',
     "argo_canaries[0].steps[1].analysis: unknown analysis template 'nope'"),
    ('template = "errors"', 'template = "nope"',
     "argo_canaries[0].analysis.template: unknown analysis template"),
    ("starting_step = 0", "starting_step = 5", "argo_canaries[0]"),
    ("failure_limit = 2", "failure_limit = -3", "analysis_templates.errors.metrics[0]"),
    ('success = "<= 0.01"', 'success = "about 0.01"', "analysis_templates.errors.metrics[0]"),
    ('measure = "error_rate"', 'measure = "errors"', "analysis_templates.errors.metrics[0]"),
    ("interval = 1,", "interval = 1, typo = 1,", "typo"),
])
def test_scenario_file_argo_keys_are_checked(old, new, message):
    from fastdeploy.scenario import ScenarioError, loads

    assert old in SCENARIO
    with pytest.raises(ScenarioError, match=message.replace("[", r"\[").replace("]", r"\]")):
        loads(SCENARIO.replace(old, new)).build(0)


def test_weights_by_replica_counts_without_traffic_routing():
    # Ten stable instances (each 0.1 s); SetWeight(15) makes 2 canary instances and
    # leaves 9 stable (Argo's docs), round robin over the 11; SetWeight(50): 5 + 5;
    # then the failing canary's analysis aborts at 2.05: the canary leaves, the stable
    # is made whole again (5 new instances like the ones removed).
    def base(name):
        return Server(name, concurrency=10, service_time=ConstantLatency(0.1))

    lb = LoadBalancer("lb", backends=[base(f"s{i}") for i in range(10)])
    metric = AnalysisMetric("errors", "error_rate", success="<= 0.01", interval=1.0)
    ar = ArgoCanary("ar", lb, lambda n: Server(n, concurrency=10,
                                               service_time=ConstantLatency(0.2),
                                               failure_rate=1.0),
                    steps=[SetWeight(15), Pause(0.5), SetWeight(50),
                           Analysis(template(metric))], traffic_routing=False)
    sim = Simulation(end_time=4.0, sources=[Source.constant(10.0, lb, name="src")],
                     entities=[lb, ar], seed=1)
    sim.schedule(ar.deploy(at=1.05))
    m = both_engines(sim)
    assert m["ar.outcome"] == "rolled_back"
    assert m["ar.end_time"] == pytest.approx(2.55, abs=1e-12)
    # The largest share: 5 of 10 instances.
    assert m["ar.max_weight"] == 50.0
    names = [b.name for b in ar.load_balancer.all_backends]
    assert names == [f"s{i}" for i in range(5)] + [f"ar_stable_{k}" for k in range(1, 6)]


def test_replica_counts_timeline_at_15_percent():
    # Argo's docs: 10 replicas at 15% are 2 canary and 9 stable: the canary's share is
    # 2 of 11 instances.
    def base(name):
        return Server(name, concurrency=10, service_time=ConstantLatency(0.1))

    lb = LoadBalancer("lb", backends=[base(f"s{i}") for i in range(10)])
    ar = ArgoCanary("ar", lb, lambda n: Server(n, concurrency=10,
                                               service_time=ConstantLatency(0.1)),
                    steps=[SetWeight(15), Pause()], traffic_routing=False)
    sim = Simulation(end_time=3.0, sources=[Source.constant(10.0, lb, name="src")],
                     entities=[lb, ar], seed=1)
    sim.schedule(ar.deploy(at=1.05))
    m = both_engines(sim)
    assert (m["ar.outcome"], m["ar.max_weight"]) == ("paused", 18.1818)
    assert [b.name for b in ar.load_balancer.all_backends] == (
        [f"s{i}" for i in range(9)] + ["ar_canary", "ar_canary_2"])


ROLLOUT = """
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: ar
spec:
  replicas: 2
  strategy:
    canary:
      trafficRouting:
        nginx:
          stableIngress: app
      steps:
      - setWeight: 25
      - pause: {}
      analysis:
        templates:
        - templateName: errors
        startingStep: 0
"""

TEMPLATE = """
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: errors
spec:
  metrics:
  - name: errors
    interval: 1s
    failureLimit: 2
    successCondition: result[0] <= 0.01
    provider:
      prometheus:
        address: http://prometheus:9090
        query: |
          sum(rate(http_requests_total{status=~"5.."}[1m]))
          / sum(rate(http_requests_total[1m]))
"""

QUERY = ('sum(rate(http_requests_total{status=~"5.."}[1m])) / '
         'sum(rate(http_requests_total[1m]))')


def test_rollout_manifest():
    # The manifests above are the timeline of test_background_failure_limit_aborts_a_
    # paused_rollout with failure_limit 2.
    sim, _ = argo_sim([SetWeight(25), Pause()], failure_rate=1.0)
    lb = next(e for e in sim.entities if isinstance(e, LoadBalancer))
    old = next(e for e in sim.entities if isinstance(e, ArgoCanary))
    ar = ArgoCanary.from_manifest(ROLLOUT, lb, old.server_factory, templates=[TEMPLATE],
                                  queries={QUERY: "error_rate"})
    assert ar.name == "ar" and ar.traffic_routing is True
    assert ar.steps == [SetWeight(25), Pause()]
    metric = ar.analysis.template.metrics[0]
    assert (metric.measure, metric.interval, metric.failure_limit, metric.success) == (
        "error_rate", 1.0, 2, Condition("<=", 0.01))
    sim = Simulation(end_time=8.0, sources=[Source.constant(10.0, lb, name="src")],
                     entities=[lb, ar], seed=1)
    sim.schedule(ar.deploy(at=1.05))
    m = both_engines(sim)
    assert (m["ar.outcome"], m["ar.end_time"]) == ("rolled_back", pytest.approx(4.05))


@pytest.mark.parametrize("where, old, new, message", [
    ("rollout", "      - pause: {}", "      - experiment: {}",
     r"spec.strategy.canary.steps\[1\].experiment: unsupported field \(experiments"),
    ("rollout", "    canary:", "    blueGreen:", r"spec.strategy.blueGreen: unsupported field"),
    ("rollout", "      - setWeight: 25", "      - setWeight: 125",
     r"spec.strategy.canary.steps\[0\].setWeight: must be <= 100, got 125"),
    ("rollout", "      - pause: {}", "      - pause: {duration: 1x}",
     r"steps\[1\].pause.duration: expected a duration"),
    ("rollout", "templateName: errors", "templateName: nope",
     r"analysis.templates\[0\].templateName: no AnalysisTemplate named 'nope'"),
    ("rollout", "        startingStep: 0", "        startingStep: 2",
     r"analysis.startingStep: must be < the number of steps \(2\), got 2"),
    ("template", "    failureLimit: 2", "    consecutiveErrorLimit: 2",
     r"templates\[0\]: manifest spec.metrics\[0\].consecutiveErrorLimit: unsupported"),
    ("template", "result[0] <= 0.01", "result[0] <= 0.01 && result[0] >= 0",
     r"spec.metrics\[0\].successCondition: cannot model the condition"),
    ("template", "[1m]))\n", "[5m]))\n",
     r"spec.metrics\[0\].provider.prometheus.query: no measurement given for the query"),
])
def test_rollout_manifest_fields_are_checked(where, old, new, message):
    from fastdeploy.argo.manifest import ManifestError

    rollout, tpl = ROLLOUT, TEMPLATE
    if where == "rollout":
        assert old in rollout
        rollout = rollout.replace(old, new)
    else:
        assert old in tpl
        tpl = tpl.replace(old, new, 1)
    lb = LoadBalancer("lb", backends=[Server("a")])
    with pytest.raises(ManifestError, match=message):
        ArgoCanary.from_manifest(rollout, lb, Server, templates=[tpl],
                                 queries={QUERY: "error_rate"})


def green_sim(**kw):
    def base(name):
        return Server(name, concurrency=10, service_time=ConstantLatency(0.1))

    lb = LoadBalancer("lb", backends=[base("a"), base("b")])
    failure_rate = kw.pop("failure_rate", 0.0)
    bg = ArgoBlueGreen("bg", lb, lambda n: Server(n, concurrency=10,
                                                  service_time=ConstantLatency(0.2),
                                                  failure_rate=failure_rate), **kw)
    sim = Simulation(end_time=8.0, sources=[Source.constant(10.0, lb, name="src")],
                     entities=[lb, bg], seed=1)
    sim.schedule(bg.deploy(at=1.05))
    return sim, bg


def test_blue_green_promotes_then_scales_the_old_version_down():
    # 1.05: the preview (2 instances, no traffic); auto-promotion after 1 s: 2.05, all
    # the traffic to the new version; the old backends leave 2 s later (4.05).
    sim, bg = green_sim(auto_promotion_seconds=1.0, scale_down_delay=2.0)
    m = both_engines(sim)
    assert (m["bg.outcome"], m["bg.end_time"]) == ("promoted", pytest.approx(2.05))
    assert m["bg.max_weight"] == 100.0
    # The new version answers everything from 2.1 (2.1 .. 7.8: 58 requests).
    assert m["bg.requests_new"] == 58
    assert [b.name for b in bg.load_balancer.all_backends] == ["bg_canary", "bg_canary_2"]
    # The old version cost 2 x 4.05 s, the new one 2 x 6.95 s.
    assert m["instance_seconds"] == pytest.approx(2 * 4.05 + 2 * 6.95)


def test_blue_green_pre_promotion_analysis():
    # preview_weight 25 stands in for test traffic: the preview fails it all; the
    # pre-promotion analysis fails at 2.05 and aborts: the preview leaves.
    metric = AnalysisMetric("errors", "error_rate", success="<= 0.01", interval=1.0)
    sim, bg = green_sim(pre_promotion_analysis=template(metric), preview_weight=25,
                        failure_rate=1.0)
    m = both_engines(sim)
    assert (m["bg.outcome"], m["bg.end_time"]) == ("rolled_back", pytest.approx(2.05))
    assert [b.name for b in bg.load_balancer.all_backends] == ["a", "b"]
    assert bg.metric_phases() == {("pre_promotion", "errors"): "failed"}
    # Without traffic to the preview the analysis has no data: paused.
    sim, bg = green_sim(pre_promotion_analysis=template(metric))
    assert both_engines(sim)["bg.outcome"] == "paused"
    assert {"bg.scale_down_delay", "bg.preview_weight",
            "bg.pre_promotion_analysis.metrics.0.interval"} <= set(sim.batch_parameters())


def test_scenario_file_blue_green():
    from fastdeploy.scenario import ScenarioError, loads

    text = SCENARIO.split("[[argo_canaries]]")[0] + """
[[argo_blue_greens]]
name = "bg"
load_balancer = "lb"
template = "v2"
deploy_at = 1.05
pre_promotion_analysis = "errors"
preview_weight = 25
scale_down_delay = 2
"""
    sim = loads(text).build(0)
    bg = next(e for e in sim.entities if isinstance(e, ArgoBlueGreen))
    assert (bg.preview_weight, bg.scale_down_delay, bg.auto_promotion_seconds) == (25, 2.0,
                                                                                  None)
    assert bg.pre_promotion_analysis.metrics[0].failure_limit == 2
    # The preview fails everything, but a step's metric without a count measures once
    # (2.05), and one failure is within failure_limit 2: Successful (Argo: the count is
    # reached without exceeding the limit), promoted at once.
    m = both_engines(sim)
    assert (m["bg.outcome"], m["bg.end_time"]) == ("promoted", pytest.approx(2.05))
    assert m["bg.measurements_failed"] == 1
    with pytest.raises(ScenarioError, match=r"argo_blue_greens\[0\].preview_weight"):
        loads(text.replace("preview_weight = 25", "preview_weight = 101")).build(0)


def test_columns_have_units():
    from fastdeploy.metrics import metric_unit

    sim, _ = argo_sim([SetWeight(25)])
    m = sim.run(replica=0).metrics
    numeric = [k for k in m if k.startswith("ar.") and k not in ("ar.status", "ar.outcome")]
    assert numeric and all(metric_unit(k) is not None for k in numeric)


def test_scenario_file_rollout_manifest(tmp_path):
    from fastdeploy.scenario import ScenarioError, loads

    (tmp_path / "rollout.yaml").write_text(ROLLOUT)
    (tmp_path / "errors.yaml").write_text(TEMPLATE)
    head = SCENARIO.split("[analysis_templates.errors]")[0]
    text = head + f"""
[[argo_canaries]]
name = "ar"
load_balancer = "lb"
template = "v2"
deploy_at = 1.05
manifest = "{tmp_path / 'rollout.yaml'}"
template_manifests = ["{tmp_path / 'errors.yaml'}"]
queries = {{ '{QUERY}' = "error_rate" }}
"""
    sim = loads(text).build(0)
    ar = next(e for e in sim.entities if isinstance(e, ArgoCanary))
    assert ar.steps == [SetWeight(25), Pause()]
    assert ar.analysis.template.metrics[0].failure_limit == 2
    # The timeline of test_background_failure_limit_aborts_a_paused_rollout, limit 2.
    m = both_engines(sim)
    assert (m["ar.outcome"], m["ar.end_time"]) == ("rolled_back", pytest.approx(4.05))
    with pytest.raises(ScenarioError, match=r"argo_canaries\[0\].manifest: .*no measurement"):
        loads(text.replace('"error_rate" }', '"error_rate", x = "requests" }').replace(
            f"'{QUERY}'", "'other'")).build(0)
    with pytest.raises(ScenarioError, match=r"argo_canaries\[0\].steps: given by the manifest"):
        loads(text + 'steps = [{ set_weight = 5 }]\n').build(0)


def test_the_argo_part_is_compiled_only_with_an_argo_canary():
    from fastdeploy.batch.bundles import PRESENT, make_parts
    from fastdeploy.batch.lower import lower

    sim, _ = argo_sim([SetWeight(25)])
    parts = make_parts(lower(sim).scenario)
    assert {k for k, v in parts._asdict().items() if v is PRESENT} == {"measured", "argo"}
