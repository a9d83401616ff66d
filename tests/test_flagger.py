"""FlaggerCanary (issue 16 step 3): hand-computed timelines in both engines, "no values",
step weights, validation, sweepable parameters.

Deterministic: two baseline servers (0.1 s per request) behind round robin, a request
every 0.1 s (the first at 0.1 s), deploy at 1.05 s, ticks every 1 s (2.05, 3.05, ...).
Two canary instances (as many as the baseline) join at weight 0; at weight w the i-th
request since the weight was set goes to them when floor((i + 1) w) > floor(i w): at 25%
the 4th, 8th, ... (i = 3, 7, ...), at 50% every second one (i = 1, 3, ...).
"""

from __future__ import annotations

import pytest

from fastdeploy import ConstantLatency, LoadBalancer, Server, Simulation, Source
from fastdeploy.flagger import FlaggerCanary, FlaggerMetric


def both_engines(sim, replicas=(0,)):
    """The object engine's rows, checked equal to the batch engine's."""
    rows = [sim.run(replica=r).metrics for r in replicas]
    batch = sim.run_batch(list(replicas)).table.to_pylist()
    for obj, bat in zip(rows, batch):
        for k, v in obj.items():
            assert bat[k] == pytest.approx(v, rel=0, abs=1e-12) if isinstance(v, float) \
                else bat[k] == v, k
    return rows[0]


def flagger_sim(latency=0.2, failure_rate=0.0, end=8.0, **kw):
    def base(name):
        return Server(name, concurrency=10, service_time=ConstantLatency(0.1))

    lb = LoadBalancer("lb", backends=[base("a"), base("b")])
    args = dict(interval=1.0, threshold=2, step_weight=25, max_weight=50)
    args.update(kw)
    fl = FlaggerCanary("fl", lb, lambda n: Server(n, concurrency=10,
                                                  service_time=ConstantLatency(latency),
                                                  failure_rate=failure_rate), **args)
    sim = Simulation(end_time=end, sources=[Source.constant(10.0, lb, name="src")],
                     entities=[lb, fl], seed=1)
    sim.schedule(fl.deploy(at=1.05))
    return sim, fl


def stats(m):
    return tuple(m[f"fl.{k}"] for k in ("weight_steps", "checks_passed", "checks_failed",
                                         "checks_no_data"))


def test_promoted_after_max_weight():
    # 2.05: weight 0, no analysis: weight 25. 3.05: the canary completed the requests of
    # 2.4 and 2.8 (at 2.6, 3.0), all good, p99 0.2 <= 0.5: weight 50. 4.05: those of 3.2,
    # 3.4, 3.6, 3.8 pass: at max weight, promoted 3 s after the deploy.
    sim, fl = flagger_sim()
    m = both_engines(sim)
    assert (m["fl.outcome"], m["fl.status"]) == ("promoted", "completed")
    assert m["fl.end_time"] == pytest.approx(4.05, abs=1e-12)
    assert m["fl.time_to_decision"] == pytest.approx(3.0, abs=1e-12)
    assert stats(m) == (2, 2, 0, 0)
    assert m["fl.max_weight"] == 100.0
    # New version: 2 requests at 25%, 5 at 50% (3.2 .. 4.0), then all those of 4.1 ..
    # 7.8 done by the end (38): 45, none failed.
    assert (m["fl.requests_new"], m["fl.exposure"]) == (45, 0)
    assert fl.state.weight == 50 and fl.state.last_verdict == "pass"
    c = fl.last_window["canary"]
    assert (c["count"], c["success_rate"], c["start"], c["end"]) == pytest.approx(
        (4, 1.0, 3.05, 4.05))
    # The old backends are gone, the canaries serve everything.
    assert [b.name for b in fl.load_balancer.all_backends] == ["fl_canary", "fl_canary_2"]


def test_failed_checks_reach_the_threshold():
    # Every canary request fails: 3.05 and 4.05 fail (failed checks 1, 2) and halt at
    # 25%; 5.05: failed checks >= threshold 2: rolled back, 4 s after the deploy.
    # The canary failed the requests of 2.4, 2.8, ..., 4.8 (the split is not restarted
    # while halted): 7, all before the decision.
    sim, fl = flagger_sim(failure_rate=1.0)
    m = both_engines(sim)
    assert m["fl.outcome"] == "rolled_back"
    assert m["fl.time_to_decision"] == pytest.approx(4.0, abs=1e-12)
    assert stats(m) == (1, 0, 2, 0)
    assert m["fl.max_weight"] == 25.0
    assert (m["fl.requests_new"], m["fl.exposure"]) == (7, 7)
    assert fl.state.failed_checks == 2 and fl.state.last_verdict == "fail"
    assert [b.name for b in fl.load_balancer.all_backends] == ["a", "b"]


def test_request_duration_fails_a_slow_canary():
    # A canary taking 0.6 s: 3.05 judges the request of 2.4 (done at 3.0): p99 0.6 > 0.5
    # fails (threshold 1); 4.05 rolls back.
    sim, fl = flagger_sim(latency=0.6, threshold=1)
    m = both_engines(sim)
    assert m["fl.outcome"] == "rolled_back"
    assert m["fl.time_to_decision"] == pytest.approx(3.0, abs=1e-12)
    assert stats(m) == (1, 0, 1, 0)
    assert m["fl.exposure"] == 0


def test_no_values_halts_advancement_and_counts_as_failed():
    # min_samples 5 at 25% of 10 requests/s: windows of 2, 2 and 3 requests are "no
    # values found" (3.05, 4.05, 5.05), never a pass; 6.05: 3 failed checks, rolled back.
    metrics = [FlaggerMetric("request-success-rate", min=99, min_samples=5)]
    sim, fl = flagger_sim(threshold=3, metrics=metrics)
    m = both_engines(sim)
    assert m["fl.outcome"] == "rolled_back"
    assert m["fl.time_to_decision"] == pytest.approx(5.0, abs=1e-12)
    assert stats(m) == (1, 0, 3, 3)
    assert fl.state.last_verdict == "no_data"
    assert fl.last_window["canary"]["has_data"] is True  # the windows keep min_samples 1
    # The canary answered every 4th request from 2.4 to 6.0 (10), none failed.
    assert (m["fl.requests_new"], m["fl.exposure"]) == (10, 0)
    # With one sample enough, the same canary is promoted.
    metrics = [FlaggerMetric("request-success-rate", min=99, min_samples=1)]
    sim, _ = flagger_sim(threshold=3, metrics=metrics)
    assert both_engines(sim)["fl.outcome"] == "promoted"


def test_step_weights():
    # step_weights [10, 40]: 2.05 -> 10. At 10% the canary gets the request of 3.0 (i =
    # 9), done at 3.2: the window of 3.05 is empty, "no values": halted, one failed
    # check. 4.05: that request passes: 40 (the step to the next weight). 5.05: at the
    # last step weight, promoted, 4 s after the deploy.
    sim, fl = flagger_sim(step_weights=[10, 40], threshold=2)
    m = both_engines(sim)
    assert m["fl.outcome"] == "promoted"
    assert m["fl.time_to_decision"] == pytest.approx(4.0, abs=1e-12)
    assert stats(m) == (2, 2, 1, 1)


def test_weight_passes_max_weight_in_steps_of_step_weight():
    # step 20, max 50: 20, 40, 60 (Flagger adds the step, capped at 100 only), then
    # promotion: 4 ticks after the first.
    sim, fl = flagger_sim(step_weight=20, max_weight=50, end=10.0)
    m = both_engines(sim)
    assert m["fl.outcome"] == "promoted"
    assert m["fl.time_to_decision"] == pytest.approx(4.0, abs=1e-12)
    assert stats(m) == (3, 3, 0, 0)


def test_in_progress_at_the_end():
    sim, fl = flagger_sim(end=3.5)
    m = both_engines(sim)
    assert (m["fl.outcome"], m["fl.time_to_decision"], m["fl.max_weight"]) == (
        "in_progress", None, 50.0)


@pytest.mark.parametrize("kw, message", [
    (dict(interval=0), "interval must be > 0"),
    (dict(threshold=0), "threshold must be >= 1, got 0"),
    (dict(step_weight=0), "step_weight must be >= 1, got 0"),
    (dict(max_weight=101), "max_weight must be <= 100, got 101"),
    (dict(step_weights=[]), r"step_weights must hold at least one weight, got \[\]"),
    (dict(step_weights=[20, 10]), r"step_weights must increase, got step_weights\[1\]=10"),
    (dict(step_weights=[0]), r"step_weights\[0\] must be >= 1, got 0"),
    (dict(metrics=[1]), r"metrics\[0\] must be a FlaggerMetric, got 1"),
])
def test_flagger_canary_arguments_are_checked(kw, message):
    lb = LoadBalancer("lb", backends=[Server("a")])
    with pytest.raises((ValueError, TypeError), match=message):
        FlaggerCanary("fl", lb, lambda n: Server(n), **kw)


@pytest.mark.parametrize("args, message", [
    (("nope",), "name must be one of request-success-rate, request-duration"),
    (("error_rate",), "needs min or max, got neither"),
    (("error_rate", 0.5, 0.1), "min must be <= max, got min=0.5 > max=0.1"),
    (("error_rate", None, 0.1, 0), "min_samples must be >= 1, got 0"),
])
def test_flagger_metric_arguments_are_checked(args, message):
    with pytest.raises(ValueError, match=message):
        FlaggerMetric(*args)


def test_parameters_sweep_and_replay():
    sim, _ = flagger_sim(failure_rate=1.0)
    assert {"fl.interval", "fl.threshold", "fl.step_weight", "fl.max_weight",
            "fl.metrics.0.min", "fl.metrics.0.min_samples",
            "fl.metrics.1.max"} <= set(sim.batch_parameters())
    res = sim.run_batch(2, params={"fl.threshold": [1, 3]})
    rows = res.table.to_pylist()
    # threshold 1: rolled back at 4.05; 3: at 6.05.
    assert [r["fl.end_time"] for r in rows] == pytest.approx([4.05, 6.05])
    for i, row in enumerate(rows):
        again = res.replay(i).summary.metrics
        assert again["fl.end_time"] == row["fl.end_time"]
    with pytest.raises(ValueError, match="fl.step_weight"):
        sim.run_batch(1, params={"fl.step_weight": [0]})
    with pytest.raises(ValueError, match="fl.metrics.0.min"):
        flagger_sim(metrics=[FlaggerMetric("error_rate", min=0.0, max=0.5)])[0].run_batch(
            1, params={"fl.metrics.0.min": [0.9]})


SCENARIO = """
name = "flagger"
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
[[flaggers]]
name = "fl"
load_balancer = "lb"
template = "v2"
interval = 1
threshold = 2
step_weight = 25
max_weight = 50
deploy_at = 1.05
metrics = [{ name = "request-success-rate", min = 99 },
           { name = "request-duration", max = 0.5, min_samples = 1 }]
"""


def test_scenario_file_keys():
    # The file above is the timeline of test_failed_checks_reach_the_threshold.
    from fastdeploy.scenario import loads

    sim = loads(SCENARIO).build(0)
    fl = next(e for e in sim.entities if isinstance(e, FlaggerCanary))
    assert (fl.interval, fl.threshold, fl.step_weight, fl.max_weight) == (1.0, 2, 25, 50)
    assert fl.metrics == [FlaggerMetric("request-success-rate", min=99),
                          FlaggerMetric("request-duration", max=0.5)]
    m = both_engines(sim)
    assert m["fl.outcome"] == "rolled_back"
    assert m["fl.time_to_decision"] == pytest.approx(4.0, abs=1e-12)
    assert (m["fl.requests_new"], m["fl.exposure"]) == (7, 7)
    steps = loads(SCENARIO.replace("step_weight = 25", "step_weights = [10, 40]")).build(0)
    assert next(e for e in steps.entities if isinstance(e, FlaggerCanary)).step_weights == [
        10, 40]


@pytest.mark.parametrize("old, new, message", [
    ("threshold = 2", "threshold = 0", "flaggers[0].threshold: must be >= 1, got 0"),
    ("max_weight = 50", "max_weight = 150", "flaggers[0].max_weight: must be <= 100, got 150"),
    ("step_weight = 25", "step_weights = [30, 20]",
     "flaggers[0].step_weights: must increase, got step_weights[1]=20 after 30"),
    ("step_weight = 25", 'step_weights = ["x"]',
     "flaggers[0].step_weights[0]: expected an integer"),
    ('{ name = "request-success-rate", min = 99 }', '{ name = "nope", min = 99 }',
     "flaggers[0].metrics[0]"),
    ('{ name = "request-success-rate", min = 99 }',
     '{ name = "request-success-rate", min = 99, typo = 1 }', "typo"),
    ("interval = 1", "interval = -1", "flaggers[0].interval"),
])
def test_scenario_file_flagger_keys_are_checked(old, new, message):
    from fastdeploy.scenario import ScenarioError, loads

    assert old in SCENARIO
    with pytest.raises(ScenarioError, match=message.replace("[", r"\[").replace("]", r"\]")):
        loads(SCENARIO.replace(old, new)).build(0)


# == A KayentaJudge in the analysis ======================================================
def test_a_judge_fails_the_analysis_of_a_slower_canary():
    # No metrics, a judge on the p99: 2.05 no analysis (weight 25); 3.05 one window each,
    # canary 0.2 s against the baseline's 0.1 s: High, Fail -> a failed check (threshold
    # 1); 4.05 rolls back.
    from fastdeploy.kayenta import KayentaJudge, KayentaMetric

    judge = KayentaJudge([KayentaMetric("latency_p99")])
    sim, fl = flagger_sim(threshold=1, metrics=[], judge=judge)
    m = both_engines(sim)
    assert m["fl.outcome"] == "rolled_back"
    assert m["fl.time_to_decision"] == pytest.approx(3.0, abs=1e-12)
    assert stats(m) == (1, 0, 1, 0)
    assert fl.state.last_verdict == "fail"
    r = judge.last_result
    assert (r.verdict, r.metric("latency_p99").canary_samples) == ("Fail", 1)
    # The baseline's windows kept a histogram for the judge.
    assert fl.last_window["baseline"]["latency_p99"] == pytest.approx(0.1, rel=0.01)


def test_a_judge_that_passes_lets_the_canary_advance():
    # As test_promoted_after_max_weight, with a judge on the error rate (none fail on
    # either side: identical series, Pass) after the default checks.
    from fastdeploy.kayenta import KayentaJudge, KayentaMetric

    judge = KayentaJudge([KayentaMetric("error_rate")])
    sim, fl = flagger_sim(judge=judge)
    m = both_engines(sim)
    assert (m["fl.outcome"], m["fl.end_time"]) == ("promoted", pytest.approx(4.05))
    assert stats(m) == (2, 2, 0, 0)
    assert judge.last_result.metric("error_rate").canary_samples == 2
    paths = dict(sim.batch_parameters())
    assert "fl.judge.pass_score" in paths and "fl.judge.metrics.0.allowed_increase" in paths
    with pytest.raises(TypeError, match="judge must be a KayentaJudge"):
        flagger_sim(judge="kayenta")


def test_judge_scenario_file_key():
    from fastdeploy.kayenta import KayentaJudge
    from fastdeploy.scenario import loads

    sim = loads("""
[simulation]
end_time = 20
[templates.v1]
service_time = { kind = "constant", latency = 0.01 }
[[load_balancers]]
name = "lb"
backends = [{ template = "v1", count = 2 }]
[[sources]]
name = "src"
target = "lb"
rate = 10
[[flaggers]]
name = "fl"
load_balancer = "lb"
template = "v1"
metrics = []
judge = { kind = "kayenta", marginal_score = 50, metrics = [{ measure = "latency_p99" }] }
""").build(0)
    fl = next(e for e in sim.entities if isinstance(e, FlaggerCanary))
    assert type(fl.judge) is KayentaJudge and fl.judge.marginal_score == 50.0
    assert fl.metrics == []


def test_flagger_presets():
    # flagger-bad / flagger-good: canary-bad's fleet and traffic, FlaggerCanary on its
    # defaults, the new version failing 5% / 1% of requests.
    import inspect

    from fastdeploy.presets import PRESETS

    defaults = {k: p.default for k, p in inspect.signature(FlaggerCanary).parameters.items()
                if p.default is not inspect.Parameter.empty}
    for name, rate in (("flagger-bad", 0.05), ("flagger-good", 0.01)):
        sim = PRESETS[name](seed=0)
        fl = next(e for e in sim.entities if isinstance(e, FlaggerCanary))
        for k in ("interval", "threshold", "step_weight", "max_weight"):
            assert getattr(fl, k) == defaults[k], (name, k)
        assert [(m.name, m.min, m.max) for m in fl.metrics] == [
            ("request-success-rate", 99, None), ("request-duration", None, 0.5)]
        assert fl.server_factory("x").failure_rate == rate
        assert [b.failure_rate for b in fl.load_balancer.all_backends] == [0.01] * 4
    row = PRESETS["flagger-bad"](seed=0).run_batch(2).table.to_pylist()[0]
    for col in ("outcome", "time_to_decision", "max_weight", "requests_new", "exposure"):
        assert f"flagger.{col}" in row
    assert row["flagger.outcome"] == "rolled_back"
