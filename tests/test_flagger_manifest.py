"""FlaggerCanary.from_manifest (issue 16, deliverable 6): Flagger Canary and MetricTemplate
manifests, modelled on Flagger's documented examples, read into the FlaggerCanary built in
code, agreeing in both engines; every refused field named by its path; scenario files
naming a manifest; the CLI's one-line error.

The timelines: two baseline servers (0.1 s per request) behind round robin, a request
every 0.1 s, deploy at 1.05 s, ticks every 10 s (11.05, 21.05, ...; Flagger's shortest
interval). Two canary instances (0.2 s per request) join at weight 0.
"""

from __future__ import annotations

import pytest
from test_cli import run_cli
from test_flagger import both_engines

from fastdeploy import ConstantLatency, LoadBalancer, Server, Simulation, Source
from fastdeploy.flagger import FlaggerCanary, FlaggerMetric
from fastdeploy.flagger_manifest import ManifestError

# The podinfo canary of Flagger's tutorials (its Istio progressive delivery), with the metric
# windows equal to the analysis interval.
PODINFO = """
apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: podinfo
  namespace: test
spec:
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: podinfo
  service:
    port: 9898
    targetPort: 9898
    gateways:
    - istio-system/public-gateway
    hosts:
    - app.example.com
    trafficPolicy:
      tls:
        mode: DISABLE
  # schedule interval, failed checks before a rollback, the canary's max traffic
  # percentage and its increment step
  analysis:
    interval: 1m
    threshold: 5
    maxWeight: 50
    stepWeight: 10
    metrics:
    - name: request-success-rate
      # minimum req success rate (non 5xx responses), percentage (0-100)
      thresholdRange:
        min: 99
      interval: 1m
    - name: request-duration
      # maximum req duration P99, milliseconds
      thresholdRange:
        max: 500
      interval: 1m
"""

# Flagger's custom-metric example (its usage docs, "Metrics Analysis"): a Prometheus error
# rate in percent, and a p99 in milliseconds.
ERRORS = """
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata:
  name: error-rate
  namespace: test
spec:
  provider:
    type: prometheus
    address: http://prometheus.istio-system:9090
  query: |
    100 - sum(
        rate(
            istio_requests_total{
              reporter="destination",
              destination_workload_namespace="{{ namespace }}",
              destination_workload="{{ target }}",
              response_code!~"5.*"
            }[{{ interval }}]
        )
    )
    /
    sum(
        rate(
            istio_requests_total{
              reporter="destination",
              destination_workload_namespace="{{ namespace }}",
              destination_workload="{{ target }}"
            }[{{ interval }}]
        )
    )
    * 100
"""
LATENCY = """
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata:
  name: latency
spec:
  provider:
    type: prometheus
    address: http://prometheus.linkerd-viz:9090
  query: |
    histogram_quantile(0.99, sum(rate(response_latency_ms_bucket{namespace="{{ namespace }}",
      deployment=~"{{ target }}"}[{{ interval }}])) by (le))
"""


def collapse(text: str) -> str:
    return " ".join(text.split("query: |", 1)[1].split())


QUERIES = {collapse(ERRORS): {"measure": "error_rate", "scale": 100},
           collapse(LATENCY): {"measure": "latency_p99", "scale": 1000}}

CUSTOM = """
apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: fl
  namespace: test
spec:
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: app}
  analysis:
    interval: 10s
    threshold: 2
    stepWeight: 25
    maxWeight: 50
    metrics:
    - name: error-rate
      templateRef:
        name: error-rate
      thresholdRange:
        max: 1
      interval: 10s
    - name: request-duration
      thresholdRange:
        max: 500
      interval: 10s
"""


def base(name):
    return Server(name, concurrency=10, service_time=ConstantLatency(0.1))


def fleet(failure_rate=0.0):
    lb = LoadBalancer("lb", backends=[base("a"), base("b")])

    def factory(n):
        return Server(n, concurrency=10, service_time=ConstantLatency(0.2),
                      failure_rate=failure_rate)

    return lb, factory


def run(fl, lb, end, source=None):
    sim = Simulation(end_time=end, sources=[source or Source.constant(10.0, lb, name="src")],
                     entities=[lb, fl], seed=1)
    sim.schedule(fl.deploy(at=1.05))
    return sim


def test_podinfo_manifest_is_the_canary_flagger_documents():
    lb, factory = fleet()
    fl = FlaggerCanary.from_manifest(PODINFO, lb, factory)
    assert fl.name == "podinfo"
    assert (fl.interval, fl.threshold, fl.step_weight, fl.step_weights, fl.max_weight) == (
        60.0, 5, 10, None, 50)
    # request-duration's 500 ms is 0.5 s.
    assert fl.metrics == [FlaggerMetric("request-success-rate", min=99),
                          FlaggerMetric("request-duration", max=0.5)]
    assert FlaggerCanary.from_manifest(PODINFO, lb, factory, name="x").name == "x"


def test_manifest_agrees_with_the_code_in_both_engines():
    # The podinfo canary on Poisson traffic, the canary failing 1% (at Flagger's 99% bar:
    # some replicas promote, some roll back): value for value the same rows as the same
    # FlaggerCanary built in code, in both engines.
    rows = []
    for build in ("manifest", "code"):
        lb, factory = fleet(failure_rate=0.01)
        if build == "manifest":
            fl = FlaggerCanary.from_manifest(PODINFO, lb, factory, name="fl")
        else:
            fl = FlaggerCanary("fl", lb, factory, interval=60, threshold=5, step_weight=10,
                               max_weight=50,
                               metrics=[FlaggerMetric("request-success-rate", min=99),
                                        FlaggerMetric("request-duration", max=0.5)])
        sim = run(fl, lb, 1000.0, Source.poisson(5.0, lb, name="src"))
        rows.append([both_engines(sim, replicas=(r,)) for r in (0, 1)])
    assert rows[0] == rows[1]
    assert [(r["fl.outcome"], r["fl.checks_passed"], r["fl.checks_failed"])
            for r in rows[0]] == [("promoted", 5, 2), ("rolled_back", 2, 5)]


def test_step_weights_manifest():
    # stepWeights 25, 50: 11.05 weight 25, 21.05 passes: 50, the last step (Flagger's max
    # weight), 31.05 passes: promoted.
    text = PODINFO.replace("interval: 1m", "interval: 10s").replace(
        "    maxWeight: 50\n", "").replace("stepWeight: 10", "stepWeights: [25, 50]")
    lb, factory = fleet()
    fl = FlaggerCanary.from_manifest(text, lb, factory, name="fl")
    assert (fl.interval, fl.step_weights) == (10.0, [25, 50])
    m = both_engines(run(fl, lb, 40.0))
    assert (m["fl.outcome"], m["fl.end_time"]) == ("promoted", pytest.approx(31.05))
    assert (m["fl.weight_steps"], m["fl.checks_passed"]) == (2, 2)
    # Without maxWeight Flagger goes up to 100.
    text = PODINFO.replace("    maxWeight: 50\n", "")
    assert FlaggerCanary.from_manifest(text, lb, factory).max_weight == 100


def test_custom_metric_template_in_its_units():
    # The error-rate template's query is in percent: scale 100, its max 1 (%). The canary
    # fails everything: 21.05 and 31.05 fail, 41.05 rolls back (threshold 2).
    lb, factory = fleet(failure_rate=1.0)
    fl = FlaggerCanary.from_manifest(CUSTOM, lb, factory, templates=[ERRORS, LATENCY],
                                     queries=QUERIES)
    # Flagger checks the built-ins first, then the templates' metrics.
    assert fl.metrics == [FlaggerMetric("request-duration", max=0.5),
                          FlaggerMetric("error_rate", max=1, scale=100)]
    m = both_engines(run(fl, lb, 45.0))
    assert (m["fl.outcome"], m["fl.end_time"]) == ("rolled_back", pytest.approx(41.05))
    assert (m["fl.checks_failed"], m["fl.checks_no_data"]) == (2, 0)
    lb, factory = fleet(failure_rate=1.0)
    code = FlaggerCanary("fl", lb, factory, interval=10, threshold=2, step_weight=25,
                         max_weight=50, metrics=[FlaggerMetric("request-duration", max=0.5),
                                                 FlaggerMetric("error_rate", max=1, scale=100)])
    assert both_engines(run(code, lb, 45.0)) == m
    # Read as a fraction (scale 1) the same bound passes an error rate of 1: promoted.
    lb, factory = fleet(failure_rate=1.0)
    fl = FlaggerCanary.from_manifest(CUSTOM, lb, factory, templates=[ERRORS],
                                     queries={collapse(ERRORS): "error_rate"})
    assert both_engines(run(fl, lb, 45.0))["fl.outcome"] == "promoted"


def test_latency_template_in_milliseconds():
    # A p99 template in ms (scale 1000) with max 150: the canary's 200 ms fail it.
    text = CUSTOM.replace("name: error-rate\n      templateRef:\n        name: error-rate",
                          "name: p99\n      templateRef:\n        name: latency").replace(
        "        max: 1\n", "        max: 150\n")
    lb, factory = fleet()
    fl = FlaggerCanary.from_manifest(text, lb, factory, templates=[LATENCY], queries=QUERIES)
    assert fl.metrics[1] == FlaggerMetric("latency_p99", max=150, scale=1000)
    m = both_engines(run(fl, lb, 45.0))
    assert (m["fl.outcome"], m["fl.checks_failed"]) == ("rolled_back", 2)


def test_the_docs_example():
    from pathlib import Path

    import fastdeploy

    page = Path(fastdeploy.__file__).parent / "docs" / "canary-analysis.md"
    section = page.read_text().split("### From a Canary manifest")[1]
    canary = section.split("```yaml\n")[1].split("```")[0]
    query = ("100 - sum(rate(requests{code!~'5..'}[{{ interval }}])) / "
             "sum(rate(requests[{{ interval }}])) * 100")
    assert query.replace("[{{ interval }}]", "") in section.replace(
        '"\n             "', "").replace("[{{ interval }}]", "")
    template = {"apiVersion": "flagger.app/v1beta1", "kind": "MetricTemplate",
                "metadata": {"name": "error-rate"},
                "spec": {"provider": {"type": "prometheus"}, "query": query}}
    lb, factory = fleet()
    fl = FlaggerCanary.from_manifest(canary, lb, factory, templates=[template],
                                     queries={query: {"measure": "error_rate", "scale": 100}})
    assert (fl.name, fl.interval, fl.threshold, fl.step_weight, fl.max_weight) == (
        "podinfo", 60.0, 5, 10, 50)
    assert fl.metrics == [FlaggerMetric("request-success-rate", min=99),
                          FlaggerMetric("request-duration", max=0.5),
                          FlaggerMetric("error_rate", max=1, scale=100)]


def test_deprecated_threshold_and_no_metrics():
    # Without thresholdRange Flagger compares with the deprecated threshold: a minimum for
    # the success rate, a maximum (ms) for the duration.
    text = PODINFO.replace("thresholdRange:\n        min: 99", "threshold: 99").replace(
        "thresholdRange:\n        max: 500", "threshold: 500")
    lb, factory = fleet()
    fl = FlaggerCanary.from_manifest(text, lb, factory)
    assert fl.metrics == [FlaggerMetric("request-success-rate", min=99),
                          FlaggerMetric("request-duration", max=0.5)]
    # Flagger truncates a bound in ms to whole ms.
    text = PODINFO.replace("max: 500", "max: 500.9")
    assert FlaggerCanary.from_manifest(text, lb, factory).metrics[1].max == 0.5
    # No metrics: no checks (not the constructor's defaults).
    text = PODINFO.split("    metrics:")[0]
    assert FlaggerCanary.from_manifest(text, lb, factory).metrics == []


def _edit(text, old, new):
    assert old in text, old
    return text.replace(old, new, 1)


A = "spec.analysis"


@pytest.mark.parametrize("old, new, message", [
    ("kind: Canary", "kind: Rollout", "manifest kind: expected 'Canary', got the string"),
    ("apiVersion: flagger.app/v1beta1", "apiVersion: flagger.app/v1alpha3",
     "manifest apiVersion: expected 'flagger.app/v1beta1'"),
    ("spec:\n", "status: {}\nspec:\n", "manifest status: unsupported field (status is"),
    ("    interval: 1m\n    threshold", "    threshold",
     f"manifest {A}.interval: required (Flagger's CRD requires it)"),
    ("    threshold: 5\n", "", f"manifest {A}.threshold: required"),
    ("    interval: 1m\n    threshold", "    interval: 5s\n    threshold",
     (f"manifest {A}.interval: must be >= 10s (Flagger runs a shorter interval at 10s), "
      "got '5s'")),
    ("    interval: 1m\n    threshold", "    interval: 1h\n    threshold",
     f"manifest {A}.interval: expected a duration such as '30s' or '1m', got the string '1h'"),
    ("threshold: 5", "threshold: 0", f"manifest {A}.threshold: must be >= 1 (Flagger runs"),
    ("threshold: 5", "threshold: five", f"manifest {A}.threshold: expected an integer"),
    ("maxWeight: 50", "maxWeight: 150", f"manifest {A}.maxWeight: must be <= 100, got 150"),
    ("stepWeight: 10", "stepWeight: 0", f"manifest {A}.stepWeight: must be >= 1, got 0"),
    ("    stepWeight: 10\n", "", f"manifest {A}.stepWeight: required, or stepWeights"),
    ("stepWeight: 10", "stepWeight: 10\n    stepWeights: [10, 20]",
     f"manifest {A}.stepWeights: give stepWeight or stepWeights, not both"),
    ("stepWeight: 10", "stepWeights: [10, 20]",
     f"manifest {A}.maxWeight: Flagger ignores maxWeight with stepWeights"),
    ("    maxWeight: 50\n    stepWeight: 10", "    stepWeights: [20, 10]",
     f"manifest {A}.stepWeights[1]: must be > the weight before it (20), got 10"),
    ("    maxWeight: 50\n    stepWeight: 10", "    stepWeights: [20, 120]",
     f"manifest {A}.stepWeights[1]: must be <= 100, got 120"),
    ("    maxWeight: 50\n    stepWeight: 10", "    stepWeights: []",
     f"manifest {A}.stepWeights: expected a non-empty list"),
    ("stepWeight: 10", "stepWeight: 10\n    stepWeightPromotion: 20",
     f"manifest {A}.stepWeightPromotion: only 0 (Flagger's default"),
    ("stepWeight: 10", "stepWeight: 10\n    iterations: 10",
     f"manifest {A}.iterations: unsupported field (A/B testing and blue/green"),
    ("stepWeight: 10", "stepWeight: 10\n    mirror: true",
     f"manifest {A}.mirror: true is not modelled (traffic mirroring"),
    ("stepWeight: 10", "stepWeight: 10\n    mirrorWeight: 50",
     f"manifest {A}.mirrorWeight: unsupported field (traffic mirroring"),
    ("stepWeight: 10", "stepWeight: 10\n    match: [{headers: {x: {exact: y}}}]",
     f"manifest {A}.match: unsupported field (A/B testing match"),
    ("stepWeight: 10", "stepWeight: 10\n    webhooks: [{name: load-test, url: http://x/}]",
     f"manifest {A}.webhooks: unsupported field (webhooks call services"),
    ("stepWeight: 10", "stepWeight: 10\n    alerts: [{name: a, providerRef: {name: s}}]",
     f"manifest {A}.alerts: unsupported field (alerts notify people"),
    ("stepWeight: 10", "stepWeight: 10\n    sessionAffinity: {cookieName: c}",
     f"manifest {A}.sessionAffinity: unsupported field (session affinity"),
    ("stepWeight: 10", "stepWeight: 10\n    primaryReadyThreshold: 50",
     f"manifest {A}.primaryReadyThreshold: unsupported field (readiness of the primary"),
    ("stepWeight: 10", "stepWeight: 10\n    canaryReadyThreshold: 50",
     f"manifest {A}.canaryReadyThreshold: unsupported field (readiness of the canary"),
    ("  analysis:", "  progressDeadlineSeconds: 60\n  analysis:",
     "manifest spec.progressDeadlineSeconds: unsupported field (the deadline for instances"),
    ("  analysis:", ("  autoscalerRef: {apiVersion: autoscaling/v2, kind: "
                     "HorizontalPodAutoscaler, name: podinfo}\n  analysis:"),
     "manifest spec.autoscalerRef: unsupported field (autoscaling the canary"),
    ("  analysis:", "  skipAnalysis: true\n  analysis:",
     "manifest spec.skipAnalysis: true is not modelled (promotion without an analysis"),
    ("  analysis:", "  suspend: true\n  analysis:", "manifest spec.suspend: true is not"),
    ("  analysis:", "  provider: kubernetes\n  analysis:",
     "manifest spec.provider: 'kubernetes' runs Flagger's blue/green strategy"),
    ("  analysis:", "  canaryAnalysis: {}\n  analysis:",
     "manifest spec.canaryAnalysis: Flagger ignores the deprecated canaryAnalysis"),
    ("  analysis:", "  analysis_: {}\n  analysis:", "manifest spec.analysis_: unsupported"),
    ("    port: 9898\n", "    port: 9898\n    retries: {attempts: 3}\n",
     "manifest spec.service.retries: unsupported field (retries are not modelled"),
    ("    port: 9898\n", "    port: 9898\n    timeout: 5s\n",
     "manifest spec.service.timeout: unsupported field (request timeouts"),
    ("        mode: DISABLE\n", "        mode: DISABLE\n      outlierDetection: {}\n",
     "manifest spec.service.trafficPolicy.outlierDetection: unsupported field (ejecting"),
    ("      interval: 1m\n    - name: request-duration",
     "      interval: 30s\n    - name: request-duration",
     (f"manifest {A}.metrics[0].interval: the query's window ('30s') must equal "
      "spec.analysis.interval (60 s)")),
    # Accepted, read as the podinfo canary:
    ("        min: 99\n      interval: 1m\n", "        min: 99\n",
     None),  # absent: Flagger's default 1m, which is the analysis interval
    ("interval: 1m\n    threshold", "interval: 60s\n    threshold", None),
    ("  analysis:", "  canaryAnalysis:", None),  # the deprecated name
    ("  analysis:", ("  provider: istio\n  metricsServer: http://prometheus:9090\n"
                    "  revertOnDeletion: true\n  skipAnalysis: false\n  suspend: false\n"
                    "  analysis:"), None),
    ("stepWeight: 10", "stepWeight: 10\n    mirror: false\n    stepWeightPromotion: 0", None),
    ("        min: 99\n", "        min: 99\n        max: 98\n",
     f"manifest {A}.metrics[0]: min must be <= max, got min=99.0 > max=98.0"),
    ("      thresholdRange:\n        min: 99\n", "      thresholdRange: {}\n",
     f"manifest {A}.metrics[0].thresholdRange: needs min or max"),
    ("        min: 99\n", "        min: 99\n      threshold: 99\n",
     f"manifest {A}.metrics[0].threshold: Flagger ignores the deprecated threshold"),
    ("        min: 99\n", "        min: high\n",
     f"manifest {A}.metrics[0].thresholdRange.min: expected a number, got the string 'high'"),
    ("        min: 99\n", "        min: 99\n      templateVariables: {direction: inbound}\n",
     f"manifest {A}.metrics[0].templateVariables: unsupported field (variables fill in"),
    ("        min: 99\n", "        min: 99\n      templateRef: {name: x}\n",
     f"manifest {A}.metrics[0].templateRef: 'request-success-rate' is Flagger's built-in"),
    ("    - name: request-duration", "    - name: my-latency",
     f"manifest {A}.metrics[1]: 'my-latency' is not one of Flagger's built-in checks"),
    ("    - name: request-duration", "    - name: x\n      templateRef: {name: nope}",
     (f"manifest {A}.metrics[1].templateRef.name: no MetricTemplate named 'nope' in "
      "namespace 'test' was given; given: error-rate")),
    ("    - name: request-duration", "    - name: x\n      query: up",
     f"manifest {A}.metrics[1].query: no measurement given for the query 'up'"),
    ("a", "[1,", "manifest: not valid YAML"),
])
def test_refused_fields_are_named_by_their_path(old, new, message):
    text = PODINFO if old != "a" else new
    if old != "a":
        text = _edit(PODINFO, old, new)
    lb, factory = fleet()
    if message is None:
        fl = FlaggerCanary.from_manifest(text, lb, factory, templates=[ERRORS],
                                         queries=QUERIES)
        podinfo = FlaggerCanary.from_manifest(PODINFO, lb, factory)
        assert [getattr(fl, k) for k in ("name", "interval", "threshold", "step_weight",
                                         "max_weight", "metrics")] == [
            getattr(podinfo, k) for k in ("name", "interval", "threshold", "step_weight",
                                          "max_weight", "metrics")]
        return
    with pytest.raises(ManifestError) as e:
        FlaggerCanary.from_manifest(text, lb, factory, templates=[ERRORS], queries=QUERIES)
    assert message in str(e.value)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("template, queries, message", [
    (ERRORS.replace("type: prometheus", "type: nagios"), QUERIES,
     "templates[0]: manifest spec.provider.type: expected one of prometheus"),
    (ERRORS.replace("kind: MetricTemplate", "kind: AnalysisTemplate"), QUERIES,
     "templates[0]: manifest kind: expected 'MetricTemplate'"),
    (ERRORS.replace("  query: |", "  interval: 1m\n  query: |"), QUERIES,
     "templates[0]: manifest spec.interval: unsupported field"),
    (ERRORS.split("  query: |")[0], QUERIES, "templates[0]: manifest spec.query: required"),
    (ERRORS, {}, f"manifest {A}.metrics[0].templateRef: no measurement given for the query "),
    (ERRORS, {collapse(ERRORS): "errors"},
     "maps to 'errors', not a measurement: expected one of error_rate"),
    (ERRORS, {collapse(ERRORS): {"measure": "error_rate", "factor": 2}},
     "must be a measurement name or {'measure': name, 'min_samples': n, 'scale': s}"),
    (ERRORS, {collapse(ERRORS): {"measure": "error_rate", "scale": 0}},
     f"manifest {A}.metrics[0]: scale must be > 0.0, got 0.0"),
    (ERRORS.replace("namespace: test", "namespace: other"), QUERIES,
     "no MetricTemplate named 'error-rate' in namespace 'test' was given"),
])
def test_templates_and_queries_are_checked(template, queries, message):
    lb, factory = fleet()
    with pytest.raises(ManifestError) as e:
        FlaggerCanary.from_manifest(CUSTOM, lb, factory, templates=[template],
                                    queries=queries)
    assert message in str(e.value)


def test_flagger_metric_scale_is_checked():
    with pytest.raises(ValueError, match="scale must be > 0.0, got -1"):
        FlaggerMetric("error_rate", max=1, scale=-1)
    with pytest.raises(TypeError, match="scale must be a number"):
        FlaggerMetric("error_rate", max=1, scale="2")


SCENARIO = """
name = "flagger-manifest"
[simulation]
end_time = 45
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
deploy_at = 1.05
manifest = "canary.yaml"
template_manifests = ["errors.yaml"]
"""


def write_scenario(tmp_path, extra=""):
    (tmp_path / "canary.yaml").write_text(CUSTOM)
    (tmp_path / "errors.yaml").write_text(ERRORS)
    query = collapse(ERRORS).replace("\\", "\\\\").replace('"', '\\"')
    f = tmp_path / "s.toml"
    f.write_text(SCENARIO + f'queries = {{ "{query}" = {{ measure = "error_rate", '
                            f'scale = 100 }} }}\n' + extra)
    return f


def test_scenario_file_names_a_manifest(tmp_path):
    from fastdeploy.scenario import load

    # The timeline of test_custom_metric_template_in_its_units; the paths are relative
    # to the scenario file.
    sim = load(write_scenario(tmp_path)).build(0)
    fl = next(e for e in sim.entities if isinstance(e, FlaggerCanary))
    assert (fl.name, fl.interval, fl.threshold, fl.step_weight, fl.max_weight) == (
        "fl", 10.0, 2, 25, 50)
    assert fl.metrics == [FlaggerMetric("request-duration", max=0.5),
                          FlaggerMetric("error_rate", max=1, scale=100)]
    m = both_engines(sim)
    assert (m["fl.outcome"], m["fl.end_time"]) == ("rolled_back", pytest.approx(41.05))
    # Sweepable as the constructor's arguments.
    assert {"fl.interval", "fl.metrics.1.max"} <= set(sim.batch_parameters())


@pytest.mark.parametrize("extra, message", [
    ("threshold = 3\n", "flaggers[0].threshold: given by the manifest: remove it"),
    ("step_weights = [10, 20]\n", "flaggers[0].step_weights: given by the manifest"),
    ('metrics = [{ name = "count", min = 1 }]\n', "flaggers[0].metrics: given by the manifest"),
])
def test_scenario_keys_mixing_manifest_and_settings(tmp_path, extra, message):
    from fastdeploy.scenario import ScenarioError, load

    f = write_scenario(tmp_path, extra)
    with pytest.raises(ScenarioError) as e:
        load(f).build(0)
    assert message in str(e.value)


def test_manifest_keys_without_a_manifest_are_refused():
    import test_flagger

    from fastdeploy.scenario import ScenarioError, loads

    for extra, key in (('queries = { up = "error_rate" }\n', "flaggers[0].queries"),
                       ('template_manifests = ["t.yaml"]\n', "flaggers[0].template_manifests")):
        with pytest.raises(ScenarioError, match=key.replace("[", r"\[").replace("]", r"\]")
                           + ": goes with manifest"):
            loads(test_flagger.SCENARIO + extra).build(0)


def test_scenario_manifest_errors_name_the_key(tmp_path):
    from fastdeploy.scenario import ScenarioError, load

    f = write_scenario(tmp_path)
    (tmp_path / "canary.yaml").write_text(CUSTOM.replace("threshold: 2", "threshold: 2\n"
                                                         "    webhooks: []"))
    with pytest.raises(ScenarioError, match=r"flaggers\[0\].manifest: manifest "
                                            r"spec.analysis.webhooks: unsupported field"):
        load(f).build(0)
    f.write_text(f.read_text().replace('scale = 100 }', 'scale = 100, typo = 1 }'))
    with pytest.raises(ScenarioError, match=r"flaggers\[0\].queries.* expected a measurement "
                                            r"name or a table"):
        load(f).build(0)
    # A judge is not a manifest field: it goes with one.
    f = write_scenario(tmp_path, 'judge = { kind = "kayenta", metrics = [{ measure = '
                                 '"error_rate" }] }\n')
    fl = next(e for e in load(f).build(0).entities if isinstance(e, FlaggerCanary))
    assert fl.judge is not None and fl.threshold == 2


def test_cli_shows_a_bad_manifest_in_one_line(tmp_path):
    f = write_scenario(tmp_path)
    (tmp_path / "canary.yaml").write_text(CUSTOM.replace("stepWeight: 25",
                                                         "stepWeight: 25\n    iterations: 10"))
    status, out, err = run_cli("run", str(f), "--replicas", "1")
    assert status == 2 and out == "" and "Traceback" not in err
    assert err.strip() == (f"{f}: flaggers[0].manifest: manifest spec.analysis.iterations: "
                           "unsupported field (A/B testing and blue/green iterations are not "
                           "modelled: only the progressive canary is); supported here: "
                           "interval, threshold, maxWeight, stepWeight, stepWeights, "
                           "stepWeightPromotion, mirror, metrics")
