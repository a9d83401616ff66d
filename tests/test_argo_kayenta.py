"""A KayentaJudge as the provider of an ArgoCanary's AnalysisMetric (Argo's kayenta
provider, issue 16): hand-computed timelines in both engines, validation, sweeps and
replays, scenario-file keys.

The scenario is tests/test_argo.py's: two baseline servers (0.1 s per request) behind
round robin, a request every 0.1 s, deploy at 1.05 s; at weight 25 the canary answers
the requests of 1.4, 1.8, 2.2, ... (every 0.4 s). A Kayenta metric with interval 2 and
step 1 closes a sub-window every second after its run starts and judges the two of each
interval: its first measurement is 2 s after the run starts. Sub-windows of 1.05-2.05
and 2.05-3.05 hold the canary's requests finishing at 1.6, 2.0 and at 2.4, 2.8 (0.2 s
per request), the baseline's about 7 each.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_argo import argo_sim, both_engines, stats, template

from fastdeploy.argo import (Analysis, AnalysisMetric, AnalysisTemplate, BackgroundAnalysis,
                             Pause, SetWeight)
from fastdeploy.kayenta import KayentaJudge, KayentaMetric
from fastdeploy.rules import argo as rules


def judge(pass_score=95, marginal_score=75, *measures):
    return KayentaJudge([KayentaMetric(m) for m in (measures or ("error_rate",))],
                        pass_score=pass_score, marginal_score=marginal_score)


def kayenta_metric(j, **kw):
    return AnalysisMetric("kayenta", j, interval=2.0, step=1.0, **kw)


def test_pass_is_successful():
    # 1.05: weight 25, the run starts; sub-windows close at 2.05 and 3.05; at 3.05 the
    # judge compares error rates of 0 and 0 (identical: Pass, score 100): Successful,
    # weight 50, pause 1 s, promoted at 4.05.
    j = judge()
    sim, ar = argo_sim([SetWeight(25), Analysis(template(kayenta_metric(j))), SetWeight(50),
                        Pause(1.0)])
    m = both_engines(sim)
    assert (m["ar.outcome"], m["ar.end_time"]) == ("promoted", pytest.approx(4.05))
    assert stats(m) == (4, 1, 0, 0)
    assert (j.last_result.score, j.last_result.verdict) == (100.0, "Pass")
    res = j.last_result.metrics[0]
    assert (res.canary_samples, res.baseline_samples) == (2, 2)
    assert int(ar._slots[0, rules.MS_SCORE]) == 10000
    assert ar.metric_phases() == {(1, "kayenta"): "successful"}


@pytest.mark.parametrize("pass_score, outcome, end, counts", [
    # error_rate Pass, latency_mean High (0.2 s against 0.1 s in both sub-windows):
    # score 50. At pass 60 / marginal 50 that is Marginal: Inconclusive, the rollout
    # pauses at 3.05; at pass 50 Successful (promoted at 4.05, as above).
    (60, "paused", 3.05, (1, 0, 0, 1)),
    (50, "promoted", 4.05, (4, 1, 0, 0)),
])
def test_marginal_is_inconclusive(pass_score, outcome, end, counts):
    j = judge(pass_score, 50, "error_rate", "latency_mean")
    sim, _ = argo_sim([SetWeight(25), Analysis(template(kayenta_metric(j))), SetWeight(50),
                       Pause(1.0)])
    m = both_engines(sim)
    assert (m["ar.outcome"], m["ar.end_time"]) == (outcome, pytest.approx(end))
    assert stats(m) == counts
    assert j.last_result.score == 50.0
    assert [r.classification for r in j.last_result.metrics] == ["Pass", "High"]


@pytest.mark.parametrize("failure_limit, end, failed, exposure", [
    # The canary fails every request: error rates 1, 1 against 0, 0 (High: score 0,
    # Failed). Background measurements at 3.05, 5.05, 7.05: failure_limit 0 aborts at
    # the first, 1 at the second. Exposure: the canary's requests finished before the
    # abort: 1.6, 2.0, 2.4, 2.8 (4); up to 4.8 (9).
    (0, 3.05, 1, 4),
    (1, 5.05, 2, 9),
])
def test_fail_aborts_after_the_failure_limit(failure_limit, end, failed, exposure):
    j = judge()
    metric = kayenta_metric(j, failure_limit=failure_limit)
    sim, ar = argo_sim([SetWeight(25), Pause(10.0)], BackgroundAnalysis(template(metric), 1),
                       failure_rate=1.0)
    m = both_engines(sim)
    assert (m["ar.outcome"], m["ar.end_time"]) == ("rolled_back", pytest.approx(end))
    assert (m["ar.measurements_failed"], m["ar.exposure"]) == (failed, exposure)
    assert (j.last_result.score, j.last_result.verdict) == (0.0, "Fail")
    assert j.last_result.metrics[0].classification == "High"
    assert ar.metric_phases() == {("analysis", "kayenta"): "failed"}


def test_initial_delay_and_a_measurement_metric_in_the_same_run():
    # The judge's sub-windows start after its 1 s initial delay (2.05): 2.05-3.05 and
    # 3.05-4.05, its measurement at 4.05 (Pass). The run's error-rate metric measures at
    # 2.05, 3.05, 4.05 (count 3; the canary fails nothing): Successful at 4.05 too. The
    # step completes at 4.05: weight 50, pause 1 s, promoted at 5.05.
    j = judge()
    errors = AnalysisMetric("errors", "error_rate", success="<= 0.01", interval=1.0,
                            count=3)
    sim, ar = argo_sim([SetWeight(25), Analysis(template(kayenta_metric(j, initial_delay=1.0),
                                                         errors)), SetWeight(50), Pause(1.0)])
    m = both_engines(sim)
    assert (m["ar.outcome"], m["ar.end_time"]) == ("promoted", pytest.approx(5.05))
    assert stats(m) == (4, 4, 0, 0)
    assert j.last_result.verdict == "Pass"
    assert ar.metric_phases() == {(1, "kayenta"): "successful", (1, "errors"): "successful"}


def test_parameters_sweep_and_replay():
    j = judge()
    metric = kayenta_metric(j)
    sim, ar = argo_sim([SetWeight(25), Pause(10.0)], BackgroundAnalysis(template(metric), 1),
                       failure_rate=1.0)
    pre = "ar.analysis.template.metrics.0"
    paths = set(sim.batch_parameters())
    assert {f"{pre}.step", f"{pre}.interval", f"{pre}.failure_limit",
            f"{pre}.measure.pass_score", f"{pre}.measure.marginal_score",
            f"{pre}.measure.min_samples",
            f"{pre}.measure.metrics.0.allowed_increase"} <= paths
    assert f"{pre}.min_samples" not in paths and f"{pre}.success.threshold" not in paths
    from fastdeploy.batch import schema as sc
    from fastdeploy.batch.lower import lower

    model = lower(sim)
    off = int(model.scenario.canary_init[0, sc.CAS_POFF])
    row = ar._param_row()
    np.testing.assert_array_equal(model.params.values[off:off + len(row)], row)
    # failure_limit 1: aborted at 5.05; step 2 (one sub-window per interval, 1 against
    # 0): High, aborted at 3.05; marginal_score 0: the score 0 is Marginal, so
    # Inconclusive: paused at 3.05.
    res = sim.run_batch(3, params={f"{pre}.failure_limit": [1, 0, 0],
                                   f"{pre}.measure.marginal_score": [75, 75, 0],
                                   f"{pre}.step": [1.0, 2.0, 1.0]})
    rows = res.table.to_pylist()
    assert [r["ar.end_time"] for r in rows] == pytest.approx([5.05, 3.05, 3.05])
    assert [r["ar.outcome"] for r in rows] == ["rolled_back", "rolled_back", "paused"]
    for i, r in enumerate(rows):
        again = res.replay(i).summary.metrics
        assert (again["ar.end_time"], again["ar.outcome"]) == (r["ar.end_time"],
                                                               r["ar.outcome"])
    with pytest.raises(ValueError, match="whole number of"):
        sim.run_batch(1, params={f"{pre}.step": [0.75]})
    with pytest.raises(ValueError, match="measure.pass_score"):
        sim.run_batch(1, params={f"{pre}.measure.pass_score": [90.5]})


@pytest.mark.parametrize("kw, message", [
    ({"success": "<= 0.01"}, "success is not read with a KayentaJudge"),
    ({"min_samples": 5}, "min_samples is not read with a KayentaJudge"),
    ({"interval": 90.0, "step": 60.0}, "interval must be a whole number of steps"),
    ({"interval": 30.0}, "interval must be a whole number of steps"),
    ({"step": 0.0}, "step must be"),
])
def test_kayenta_metric_arguments_are_checked(kw, message):
    args = {"interval": 60.0, **kw}
    with pytest.raises(ValueError, match=message):
        AnalysisMetric("k", judge(), **args)


def test_whole_thresholds_and_step_only_with_a_judge():
    with pytest.raises(ValueError, match=r"measure.pass_score must be a whole number.*95.5"):
        AnalysisMetric("k", judge(95.5))
    with pytest.raises(ValueError, match="step is a Kayenta scope's step"):
        AnalysisMetric("e", "error_rate", success="<= 0.01", step=10.0)
    m = AnalysisMetric("k", judge(), interval=300.0)
    assert (m.step, m.sub_windows) == (60.0, 5)
    assert isinstance(AnalysisTemplate([m]).metrics[0].measure, KayentaJudge)


SCENARIO = """
name = "argo-kayenta"
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
[analysis_templates.judged]
metrics = [
  { name = "kayenta", interval = 2, step = 1, failure_limit = 1, measure = { kind = "kayenta", metrics = [{ measure = "error_rate" }] } },
]
[[argo_canaries]]
name = "ar"
load_balancer = "lb"
template = "v2"
deploy_at = 1.05
steps = [{ set_weight = 25 }, { pause = { duration = 10 } }]
analysis = { template = "judged", starting_step = 1 }
"""


def test_scenario_file_keys():
    # The timeline of test_fail_aborts_after_the_failure_limit with failure_limit 1.
    from fastdeploy.argo import ArgoCanary
    from fastdeploy.scenario import ScenarioError, loads

    sim = loads(SCENARIO).build(0)
    ar = next(e for e in sim.entities if isinstance(e, ArgoCanary))
    metric = ar.analysis.template.metrics[0]
    assert (type(metric.measure), metric.step, metric.interval) == (KayentaJudge, 1.0, 2.0)
    m = both_engines(sim)
    assert (m["ar.outcome"], m["ar.end_time"]) == ("rolled_back", pytest.approx(5.05))
    for old, new, message in [
            ('kind = "kayenta"', 'kind = "kayentaa"',
             r"analysis_templates.judged.metrics\[0\].measure.kind"),
            ("step = 1,", "step = 0.75,", r"analysis_templates.judged.metrics\[0\].*whole"),
            ('measure = "error_rate"', 'measure = "errors"', r"metrics\[0\].measure")]:
        assert old in SCENARIO
        with pytest.raises(ScenarioError, match=message):
            loads(SCENARIO.replace(old, new)).build(0)


# Argo's documented Kayenta AnalysisTemplate (its kayenta analysis docs, the second
# example: interval and count, start and end omitted), without analysis args (not
# modelled: the scopes' queries are written out) and with the CRD's field names (the
# CRD has `threshold`, the docs write `thresholds`), run in the background of a rollout.
KAYENTA_TEMPLATE = """
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: mann-whitney
spec:
  metrics:
  - name: mann-whitney
    interval: 2s
    failureLimit: 1
    provider:
      kayenta:
        address: https://kayenta.example.com
        application: guestbook
        canaryConfigName: my-test
        metricsAccountName: prometheus
        configurationAccountName: gcs
        storageAccountName: gcs
        threshold:
          pass: 90
          marginal: 75
        scopes:
        - name: default
          controlScope:
            scope: app=guestbook and rollouts-pod-template-hash=stable
            region: us-west-2
            step: 1
          experimentScope:
            scope: app=guestbook and rollouts-pod-template-hash=canary
            region: us-west-2
            step: 1
"""

KAYENTA_ROLLOUT = """
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
          stableIngress: guestbook
      analysis:
        templates:
        - templateName: mann-whitney
        startingStep: 1
      steps:
      - setWeight: 25
      - pause: {duration: 10s}
"""


def manifest_canary(rollout=KAYENTA_ROLLOUT, tpl=KAYENTA_TEMPLATE, kayenta=None):
    from fastdeploy import LoadBalancer
    from fastdeploy.argo import ArgoCanary

    sim, _ = argo_sim([SetWeight(25)], failure_rate=1.0)
    lb = next(e for e in sim.entities if isinstance(e, LoadBalancer))
    old = next(e for e in sim.entities if isinstance(e, ArgoCanary))
    given = {"my-test": judge()} if kayenta is None else kayenta
    return ArgoCanary.from_manifest(rollout, lb, old.server_factory, templates=[tpl],
                                    kayenta=given), lb


def test_rollout_manifest_with_a_kayenta_metric():
    # The timeline of test_fail_aborts_after_the_failure_limit with failure_limit 1.
    from fastdeploy import Simulation, Source

    given = judge(95, 75, "error_rate")
    ar, lb = manifest_canary(kayenta={"my-test": given})
    metric = ar.analysis.template.metrics[0]
    j = metric.measure
    assert (metric.interval, metric.step, metric.failure_limit) == (2.0, 1.0, 1)
    assert (j.pass_score, j.marginal_score) == (90, 75)   # the manifest's thresholds
    assert j is not given and j.metrics == given.metrics
    sim = Simulation(end_time=8.0, sources=[Source.constant(10.0, lb, name="src")],
                     entities=[lb, ar], seed=1)
    sim.schedule(ar.deploy(at=1.05))
    m = both_engines(sim)
    assert (m["ar.outcome"], m["ar.end_time"]) == ("rolled_back", pytest.approx(5.05))
    assert j.last_result.verdict == "Fail"


@pytest.mark.parametrize("old, new, message", [
    ("canaryConfigName: my-test", "canaryConfigName: other",
     (r"spec.metrics\[0\].provider.kayenta.canaryConfigName: no KayentaJudge given for "
      r"the canary config 'other'")),
    ("        threshold:", "        thresholds:",
     r"provider.kayenta.thresholds: unsupported field \(Argo's field is 'threshold'"),
    ("          marginal: 75", "          marginal: 95",
     r"threshold.marginal: must be <= threshold.pass \(90\), got 95"),
    ("          pass: 90\n", "          pass: 101\n", r"threshold.pass: must be <= 100"),
    ("            step: 1\n          experimentScope",
     "            step: 1\n            start: \"2019-03-29T01:08:34Z\"\n          experimentScope",
     (r"scopes\[0\].controlScope.start: unsupported field \(a scope's window is the "
      r"measurement's interval")),
    ("hash=canary\n            region: us-west-2\n            step: 1",
     "hash=canary\n            region: us-west-2\n            step: 2",
     r"scopes\[0\].experimentScope.step: must equal controlScope.step \(1\), got 2"),
    ("        storageAccountName: gcs", "        storageAccountName: gcs\n        lookback: true",
     r"provider.kayenta.lookback: only false is modelled"),
    ("    interval: 2s\n", "", r"spec.metrics\[0\].interval: required with provider.kayenta"),
    ("    interval: 2s\n", "    interval: 2s\n    successCondition: result[0] >= 90\n",
     r"spec.metrics\[0\]: success is not read with a KayentaJudge"),
    ("    interval: 2s\n", "    interval: 2500ms\n",
     r"spec.metrics\[0\]: interval must be a whole number of steps"),
    ("        - name: default\n", ("        - name: other\n          controlScope: {}\n"
                                   "        - name: default\n"),
     r"provider.kayenta.scopes: expected a list of one scope"),
])
def test_kayenta_manifest_fields_are_checked(old, new, message):
    from fastdeploy.argo.manifest import ManifestError

    assert old in KAYENTA_TEMPLATE, old
    tpl = KAYENTA_TEMPLATE.replace(old, new, 1)
    with pytest.raises(ManifestError, match=message):
        manifest_canary(tpl=tpl)


def test_kayenta_manifest_needs_the_mapping():
    from fastdeploy.argo.manifest import ManifestError

    with pytest.raises(ManifestError, match="canaryConfigName: no KayentaJudge given.*none"):
        manifest_canary(kayenta={})
    with pytest.raises(ValueError, match=r"kayenta\['my-test'\] must be a KayentaJudge"):
        manifest_canary(kayenta={"my-test": "judge"})


def test_argo_presets():
    # argo-canary-bad / -good: canary-bad's fleet and traffic, an ArgoCanary stepping
    # 20/40/60/80% with pauses of 120 s, a background error-rate analysis from step 1
    # (<= 0.01 every 60 s, failure_limit 2); the new version fails 5% / 1%.
    from fastdeploy.argo import ArgoCanary
    from fastdeploy.presets import PRESETS

    for name, rate in (("argo-canary-bad", 0.05), ("argo-canary-good", 0.01)):
        sim = PRESETS[name](seed=0)
        ar = next(e for e in sim.entities if isinstance(e, ArgoCanary))
        assert ar.steps == [s for w in (20, 40, 60, 80) for s in (SetWeight(w), Pause(120))]
        (metric,) = ar.analysis.template.metrics
        assert (metric.measure, str(metric.success), metric.interval, metric.failure_limit,
                ar.analysis.starting_step) == ("error_rate", "<= 0.01", 60.0, 2, 1)
        assert ar.server_factory("x").failure_rate == rate
        assert [b.failure_rate for b in ar.load_balancer.all_backends] == [0.01] * 4
    rows = PRESETS["argo-canary-bad"](seed=0).run_batch(2).table.to_pylist()
    # Three failed measurements (70, 130, 190 s) abort a 5x regression.
    assert [(r["argo.outcome"], r["argo.end_time"]) for r in rows] == [("rolled_back", 190.0)] * 2


def test_scenario_file_rollout_manifest_with_kayenta(tmp_path):
    # The manifests of test_rollout_manifest_with_a_kayenta_metric from a scenario file:
    # aborted at 5.05.
    from fastdeploy.argo import ArgoCanary
    from fastdeploy.scenario import ScenarioError, loads

    (tmp_path / "rollout.yaml").write_text(KAYENTA_ROLLOUT)
    (tmp_path / "mann-whitney.yaml").write_text(KAYENTA_TEMPLATE)
    head = SCENARIO.split("[analysis_templates.judged]")[0]
    text = head + f"""
[[argo_canaries]]
name = "ar"
load_balancer = "lb"
template = "v2"
deploy_at = 1.05
manifest = "{tmp_path / 'rollout.yaml'}"
template_manifests = ["{tmp_path / 'mann-whitney.yaml'}"]
kayenta = {{ my-test = {{ kind = "kayenta", metrics = [{{ measure = "error_rate" }}] }} }}
"""
    sim = loads(text).build(0)
    ar = next(e for e in sim.entities if isinstance(e, ArgoCanary))
    j = ar.analysis.template.metrics[0].measure
    assert (type(j), j.pass_score, j.marginal_score) == (KayentaJudge, 90, 75)
    m = both_engines(sim)
    assert (m["ar.outcome"], m["ar.end_time"]) == ("rolled_back", pytest.approx(5.05))
    with pytest.raises(ScenarioError, match=r"argo_canaries\[0\].manifest: .*canaryConfigName"):
        loads(text.replace("my-test =", "other =")).build(0)
    with pytest.raises(ScenarioError, match=r"argo_canaries\[0\].kayenta.my-test.metrics"):
        loads(text.replace('measure = "error_rate"', 'measure = "errors"')).build(0)
    with pytest.raises(ScenarioError, match=r"argo_canaries\[0\].kayenta: .*with manifest"):
        loads(SCENARIO + 'kayenta = { my-test = { kind = "kayenta", metrics = '
                         '[{ measure = "error_rate" }] } }\n').build(0)


def test_the_judge_part_is_compiled_only_with_a_kayenta_metric():
    from fastdeploy.batch.bundles import PRESENT, make_parts
    from fastdeploy.batch.lower import lower

    plain, _ = argo_sim([SetWeight(25), Analysis(template(
        AnalysisMetric("errors", "error_rate", success="<= 0.01", interval=1.0)))])
    judged, _ = argo_sim([SetWeight(25), Analysis(template(kayenta_metric(judge())))])
    for sim, want in ((plain, {"measured", "argo"}),
                      (judged, {"measured", "argo", "judge"})):
        parts = make_parts(lower(sim).scenario)
        assert {k for k, v in parts._asdict().items() if v is PRESENT} == want
