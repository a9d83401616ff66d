"""A KayentaJudge as the CanaryDeployer's evaluator, in both engines (issue 16 step 4):
hand-computed timelines, sweepable parameters, validation.

Deterministic: two baseline servers (ConstantLatency 0.01 s, never failing) behind round
robin, a request every 0.1 s (the first at 0.1 s), deploy at 1.05 s, one stage at 50%
for 10 s, evaluations every 5 s (6.05, 11.05). At each evaluation a window closes for
the canary and for the baseline; the judge compares every window so far.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from fastdeploy import ConstantLatency, LoadBalancer, Server, Simulation, Source
from fastdeploy.batch.assign import with_parameters
from fastdeploy.batch.lower import lower
from fastdeploy.deployment import CanaryDeployer, CanaryStage
from fastdeploy.kayenta import KayentaJudge, KayentaMetric
from fastdeploy.rules import canary as canary_rules
from fastdeploy.rules import kayenta as K
from fastdeploy.rules import measure


def both_engines(sim, replicas=(0,)):
    """The object engine's rows, checked equal to the batch engine's."""
    rows = [sim.run(replica=r).metrics for r in replicas]
    batch = sim.run_batch(list(replicas)).table.to_pylist()
    for obj, bat in zip(rows, batch):
        for k, v in obj.items():
            assert bat[k] == pytest.approx(v, rel=0, abs=1e-12) if isinstance(v, float) \
                else bat[k] == v, k
    return rows[0]


def kayenta_sim(judge, latency=0.01, failure_rate=0.0, stages=None, end=20.0):
    def base(name):
        return Server(name, concurrency=10, service_time=ConstantLatency(0.01))

    lb = LoadBalancer("lb", backends=[base("a"), base("b")])
    ca = CanaryDeployer("ca", lb, lambda n: Server(n, concurrency=10,
                                                   service_time=ConstantLatency(latency),
                                                   failure_rate=failure_rate),
                        stages=stages or [CanaryStage(0.5, 10.0)], metric_evaluator=judge,
                        evaluation_interval=5.0)
    sim = Simulation(end_time=end, sources=[Source.constant(10.0, lb, name="src")],
                     entities=[lb, ca], seed=1)
    sim.schedule(ca.deploy(at=1.05))
    return sim, ca


def test_a_healthy_canary_is_promoted_after_its_stage():
    judge = KayentaJudge([KayentaMetric("error_rate"), KayentaMetric("latency_p99")])
    sim, ca = kayenta_sim(judge)
    row = both_engines(sim)
    # 6.05: 5 s into the 10 s stage, Pass (identical series): again; 11.05: promoted.
    assert (row["ca.outcome"], row["ca.end_time"]) == ("promoted", 11.05)
    assert (row["ca.evaluations_performed"], row["ca.evaluations_passed"]) == (2, 2)
    r = judge.last_result
    assert (r.score, r.verdict) == (100.0, "Pass")
    assert r.metric("latency_p99").canary_samples == 2
    # The windows of the last evaluation: about half of 50 requests each side.
    w = ca.last_window
    assert w["canary"]["count"] + w["baseline"]["count"] == 50
    assert w["baseline"]["latency_p99"] == pytest.approx(0.01, rel=0.01)


def test_a_slower_canary_is_high_on_its_first_window():
    # One window each, canary p99 0.05 s against 0.01 s: the one difference is the whole
    # interval, above a quarter of itself -> High; the only metric -> score 0 -> Fail.
    judge = KayentaJudge([KayentaMetric("latency_p99")])
    sim, _ = kayenta_sim(judge, latency=0.05)
    row = both_engines(sim)
    assert (row["ca.outcome"], row["ca.end_time"]) == ("rolled_back", 6.05)
    m = judge.last_result.metric("latency_p99")
    assert m.classification == "High"
    assert m.lower == pytest.approx(0.04, rel=0.02)
    assert judge.last_result.verdict == "Fail"


@pytest.mark.parametrize("marginal, outcome, end", [(50.0, "promoted", 11.05),
                                                    (75.0, "rolled_back", 6.05)])
def test_half_the_metrics_failing_is_marginal_or_fail(marginal, outcome, end):
    # Every canary request fails (error rate 1 against 0: High); latencies are equal
    # (Pass): score 50. Marginal (healthy) at marginal_score 50, Fail at 75.
    judge = KayentaJudge([KayentaMetric("error_rate"), KayentaMetric("latency_mean")],
                         pass_score=95, marginal_score=marginal)
    sim, _ = kayenta_sim(judge, failure_rate=1.0)
    row = both_engines(sim)
    assert (row["ca.outcome"], row["ca.end_time"]) == (outcome, end)
    assert judge.last_result.score == 50.0


def test_windows_below_min_samples_are_no_data_and_fail():
    # About 25 requests per window and side, min_samples 100: every value is NaN, the only
    # metric is Nodata, half the metrics or more Nodata scores 0: Fail at once.
    judge = KayentaJudge([KayentaMetric("error_rate")], min_samples=100)
    sim, _ = kayenta_sim(judge)
    row = both_engines(sim)
    assert (row["ca.outcome"], row["ca.end_time"]) == ("rolled_back", 6.05)
    assert judge.last_result.metric("error_rate").classification == "Nodata"


def test_requests_are_counted_below_min_samples():
    # "requests" is the window's count, never no data: canary and baseline get the same
    # traffic at 50% (identical series): Pass.
    judge = KayentaJudge([KayentaMetric("requests", direction="either")], min_samples=100)
    sim, _ = kayenta_sim(judge)
    assert both_engines(sim)["ca.outcome"] == "promoted"


def test_parameters_sweep_and_replay():
    judge = KayentaJudge([KayentaMetric("error_rate"), KayentaMetric("latency_mean")])
    sim, _ = kayenta_sim(judge, failure_rate=1.0)
    paths = dict(sim.batch_parameters())
    for p in ("ca.metric_evaluator.pass_score", "ca.metric_evaluator.marginal_score",
              "ca.metric_evaluator.confidence", "ca.metric_evaluator.min_samples",
              "ca.metric_evaluator.metrics.0.allowed_increase",
              "ca.metric_evaluator.metrics.1.scale"):
        assert p in paths, p
    # allowed_increase: the error rate's effect size is NaN (the baseline's mean is 0)
    # and so ignored; the marginal score decides.
    params = {"ca.metric_evaluator.marginal_score": [75.0, 50.0]}
    result = sim.run_batch(2, params=params, seed=0)
    rows = result.table.to_pylist()
    assert [r["ca.outcome"] for r in rows] == ["rolled_back", "promoted"]
    for i in range(2):
        replay = with_parameters(sim, {"ca.metric_evaluator.marginal_score":
                                       params["ca.metric_evaluator.marginal_score"][i]})
        assert replay.run(replica=i).metrics["ca.outcome"] == rows[i]["ca.outcome"]
    with pytest.raises(ValueError, match="marginal_score must be <= .*pass_score"):
        sim.run_batch(1, params={"ca.metric_evaluator.marginal_score": [99.0]})
    with pytest.raises(ValueError, match="ca.metric_evaluator.confidence"):
        sim.run_batch(1, params={"ca.metric_evaluator.confidence": [1.0]})


def test_metric_parameters_replay_into_the_objects():
    judge = KayentaJudge([KayentaMetric("latency_p99")])
    sim, _ = kayenta_sim(judge, latency=0.05)
    # An effect size of 5 (0.05 s / 0.01 s) is below an allowed increase of 6: Pass.
    row = sim.run_batch(1, params={"ca.metric_evaluator.metrics.0.allowed_increase":
                                   [6.0]}).table.to_pylist()[0]
    assert row["ca.outcome"] == "promoted"
    replay = with_parameters(sim, {"ca.metric_evaluator.metrics.0.allowed_increase": 6.0})
    assert replay.run(replica=0).metrics["ca.outcome"] == "promoted"


def test_window_capacity_is_the_most_evaluations():
    sim, ca = kayenta_sim(KayentaJudge([KayentaMetric("error_rate")]),
                          stages=[CanaryStage(0.1, 0.0), CanaryStage(0.5, 12.0),
                                  CanaryStage(1.0, 10.0)])
    # 1 (a stage of 0 s still evaluates once) + ceil(12 / 5) + 2
    assert canary_rules.max_evaluations(ca._param_row(), 3) == 6
    model = lower(sim)
    P_ROWS, _ = model.params.rows(1, None)
    assert model.judge_size(P_ROWS) == (6, 1)


def test_judge_windows_is_the_judge_on_the_series():
    # judge_windows reads each metric's field from the window rows and judges the series
    # exactly as KayentaJudge.judge does on the same series.
    rng = np.random.default_rng(3)
    n = 7
    canary = np.zeros((n, measure.M_FIELDS))
    baseline = np.zeros((n, measure.M_FIELDS))
    for rows in (canary, baseline):
        rows[:, measure.M_COUNT] = rng.integers(0, 30, n)
        rows[:, measure.M_ERROR_RATE] = rng.random(n) * 0.1
        rows[:, measure.M_P99] = rng.random(n)
    judge = KayentaJudge([KayentaMetric("error_rate", scale=100.0),
                          KayentaMetric("latency_p99", direction="either"),
                          KayentaMetric("requests")], min_samples=10)
    results = np.zeros((3, K.RESULT_FIELDS))
    work = np.zeros((K.WORK_ROWS, max(n, K.METRIC_PARAMS)))
    value, code = K.judge_windows(judge.param_row(), canary, baseline, n, results, work)

    def series(rows, field):
        return [rows[j, field] if (field == measure.M_COUNT or rows[j, measure.M_COUNT] >= 10)
                else math.nan for j in range(n)]

    expected = judge.judge(
        {"error_rate": series(canary, measure.M_ERROR_RATE),
         "latency_p99": series(canary, measure.M_P99),
         "requests": series(canary, measure.M_COUNT)},
        {"error_rate": series(baseline, measure.M_ERROR_RATE),
         "latency_p99": series(baseline, measure.M_P99),
         "requests": series(baseline, measure.M_COUNT)})
    assert (value, K.VERDICT_NAMES[code]) == (expected.score, expected.verdict)
    assert judge.result_of(value, code, results) == expected


def test_only_a_scenario_with_a_judge_compiles_its_kernels():
    from fastdeploy.batch.bundles import PRESENT, make_parts

    sim, _ = kayenta_sim(KayentaJudge([KayentaMetric("error_rate")]))
    assert make_parts(lower(sim).scenario).judge is PRESENT
    from fastdeploy.presets import PRESETS

    assert make_parts(lower(PRESETS["canary-bad"](seed=1)).scenario).judge is None


def test_scenario_file_key(tmp_path):
    from fastdeploy.scenario import ScenarioError, loads

    text = """
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
[[canaries]]
name = "ca"
load_balancer = "lb"
template = "v1"
deploy_at = 1
metric_evaluator = { kind = "kayenta", pass_score = 90, min_samples = 2, metrics = [
    { measure = "error_rate", scale = 100 }, { measure = "latency_p99", critical = true }] }
"""
    sim = loads(text).build(0)
    ca = next(e for e in sim.entities if isinstance(e, CanaryDeployer))
    judge = ca.metric_evaluator
    assert type(judge) is KayentaJudge
    assert (judge.pass_score, judge.min_samples) == (90.0, 2)
    assert [m.measure for m in judge.metrics] == ["error_rate", "latency_p99"]
    assert judge.metrics[1].critical and judge.metrics[0].scale == 100.0
    assert "ca.metric_evaluator.metrics.0.scale" in dict(sim.batch_parameters())
    with pytest.raises(ScenarioError, match=r"metric_evaluator\.metrics\[0\]\.direction"):
        loads(text.replace('scale = 100', 'direction = "up"')).build(0)
