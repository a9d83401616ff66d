"""HorizontalPodAutoscaler.from_manifest (autoscaling/v2 YAML) and the scenario files'
``[[hpas]]`` tables: what is modeled, and every other field refused with its path."""

from __future__ import annotations

import textwrap

import pytest

from fastdeploy import LoadBalancer, Server
from fastdeploy.kubernetes import (ExternalMetric, HorizontalPodAutoscaler, HPABehavior,
                                   HPAScalingPolicy, HPAScalingRules, PodsMetric,
                                   ResourceMetric)
from fastdeploy.kubernetes.manifest import ManifestError
from fastdeploy.scenario import ScenarioError, load, loads

MANIFEST = ("""\
    apiVersion: autoscaling/v2
    kind: HorizontalPodAutoscaler
    metadata:
      name: web
      namespace: prod
    spec:
      scaleTargetRef:
        apiVersion: apps/v1
        kind: Deployment
        name: web
      minReplicas: 2
      maxReplicas: 12
      metrics:
      - type: Resource
        resource:
          name: cpu
          target:
            type: Utilization
            averageUtilization: 60
      - type: Pods
        pods:
          metric:
            name: requests_in_flight
          target:
            type: AverageValue
            averageValue: 1500m
      - type: External
        external:
          metric:
            name: queue_depth
          target:
            type: AverageValue
            averageValue: "2"
      behavior:
        scaleUp:
          stabilizationWindowSeconds: 30
          selectPolicy: Min
          tolerance: 0.05
          policies:
          - type: Pods
            value: 2
            periodSeconds: 60
          - type: Percent
            value: 50
            periodSeconds: 60
        scaleDown:
          policies:
          - type: Pods
            value: 1
            periodSeconds: 30
    """)


def test_from_manifest_text_file_and_dict(tmp_path):
    import yaml

    lb = LoadBalancer("lb")
    path = tmp_path / "hpa.yaml"
    path.write_text(MANIFEST)
    for source in (MANIFEST, str(path), path, yaml.safe_load(MANIFEST)):
        h = HorizontalPodAutoscaler.from_manifest(source, lb, Server, sync_period=10)
        assert h.name == "web" and h.sync_period == 10.0
        assert (h.min_replicas, h.max_replicas) == (2, 12)
        assert h.metrics == [ResourceMetric(0.6), PodsMetric("requests_in_flight", 1.5),
                             ExternalMetric("queue_depth", target_average_value=2.0)]
        assert h.behavior == HPABehavior(
            HPAScalingRules(30, "Min", (HPAScalingPolicy("Pods", 2, 60),
                                        HPAScalingPolicy("Percent", 50, 60)), 0.05),
            HPAScalingRules(None, "Max", (HPAScalingPolicy("Pods", 1, 30),), None))
        # the defaults fill what the manifest leaves out
        assert h.behavior.filled().scale_down.stabilization_window == 300.0


def test_minimal_manifest_takes_kubernetes_defaults():
    h = HorizontalPodAutoscaler.from_manifest(
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nspec:\n  maxReplicas: 5\n",
        LoadBalancer("lb"), Server, name="h")
    assert (h.min_replicas, h.max_replicas, h.metrics) == (1, 5, [ResourceMetric(0.8)])
    assert h.behavior == HPABehavior()


def _with(old, new):
    assert old in MANIFEST
    return MANIFEST.replace(old, new)


@pytest.mark.parametrize("text,message", [
    (_with("      - type: Pods\n        pods:", "      - type: Object\n        object:"),
     "manifest spec.metrics[1].object: unsupported metric type 'Object'"),
    (textwrap.dedent(MANIFEST) + "status:\n  currentReplicas: 3\n",
     "manifest status: unsupported field (status is the cluster's observed state"),
    (_with("          name: cpu", "          name: memory"),
     "manifest spec.metrics[0].resource.name: only 'cpu' is modeled"),
    (_with("            name: requests_in_flight",
           "            name: requests_in_flight\n            selector: {}"),
     "manifest spec.metrics[1].pods.metric.selector: unsupported field"),
    (_with("            type: Utilization", "            type: AverageValue"),
     "manifest spec.metrics[0].resource.target.type: expected one of 'Utilization'"),
    (_with("            averageValue: 1500m", "            averageValue: 1.5Ki"),
     "manifest spec.metrics[1].pods.target.averageValue: expected a quantity"),
    (_with("          selectPolicy: Min", "          selectPolicy: Fastest"),
     "manifest spec.behavior.scaleUp.selectPolicy: expected one of 'Max', 'Min', 'Disabled'"),
    (_with("            periodSeconds: 30", "            periodSeconds: 3000"),
     "manifest spec.behavior.scaleDown.policies[0]: policy.period must be <= 1800"),
    (_with("      maxReplicas: 12", "      maxReplicas: 12\n      replicas: 3"),
     "manifest spec.replicas: unsupported field"),
    (_with("apiVersion: autoscaling/v2", "apiVersion: autoscaling/v1"),
     "manifest apiVersion: expected 'autoscaling/v2'"),
    (_with("  minReplicas: 2", "  minReplicas: 0"), "manifest spec.minReplicas: must be >= 1"),
    (_with("      maxReplicas: 12\n", ""), "manifest spec.maxReplicas: required"),
    ("a: [1,\n", "manifest: not valid YAML"),
])
def test_refused_with_path(text, message):
    with pytest.raises(ManifestError) as e:
        HorizontalPodAutoscaler.from_manifest(text, LoadBalancer("lb"), Server)
    assert message in str(e.value)
    assert "\n" not in str(e.value)


def test_controller_settings_only():
    with pytest.raises(TypeError, match="unexpected keyword argument 'max_replicas'"):
        HorizontalPodAutoscaler.from_manifest(MANIFEST, LoadBalancer("lb"), Server,
                                              max_replicas=3)


SCENARIO = """\
name = "hpa-file"
[simulation]
end_time = 120
[templates.web]
concurrency = 2
service_time = { kind = "exponential", mean_latency = 0.1 }
[[load_balancers]]
name = "lb"
backends = [{ template = "web", count = 1 }]
[[sources]]
name = "src"
target = "lb"
profile = { kind = "spike", baseline_rate = 5, spike_rate = 40, warmup_s = 20, spike_duration_s = 40 }
[[hpas]]
name = "hpa"
load_balancer = "lb"
template = "web"
sync_period = 5
metric_window = 10
start_at = 0
"""


def test_scenario_file_names_a_manifest(tmp_path, row_diff):
    (tmp_path / "hpa.yaml").write_text(MANIFEST)
    f = tmp_path / "s.toml"
    f.write_text(SCENARIO + 'manifest = "hpa.yaml"\n')
    sim = load(f).build()
    hpa = [e for e in sim.entities if isinstance(e, HorizontalPodAutoscaler)][0]
    assert hpa.name == "hpa" and hpa.max_replicas == 12 and hpa.sync_period == 5.0
    row = sim.run_batch([0]).table.to_pylist()[0]
    assert row_diff(row, load(f).build().run(replica=0).metrics) == []
    assert row["hpa.evaluations"] == 25


def test_scenario_inline_manifest_and_sweep():
    sc = loads(SCENARIO + """\
[hpas.manifest]
apiVersion = "autoscaling/v2"
kind = "HorizontalPodAutoscaler"
spec = { maxReplicas = 6, behavior = { scaleDown = { stabilizationWindowSeconds = 10 } } }
""")
    sim = sc.build()
    result = sim.run_batch(2, params={"hpa.behavior.scale_down.stabilization_window": [0, 60]})
    assert len(result.table.to_pylist()) == 2


@pytest.mark.parametrize("extra,key,message", [
    ("", "hpas[0]", "missing manifest"),
    ('manifest = "hpa.txt"\n', "hpas[0].manifest", "expected a .yaml or .yml file"),
    ('manifest = "nope.yaml"\n', "hpas[0].manifest", "cannot read it"),
    ("manifest = 3\n", "hpas[0].manifest", "expected a file path or a table"),
    ("max_replicas = 3\n", "hpas[0].max_replicas", ""),
    ('[hpas.manifest]\napiVersion = "autoscaling/v2"\nkind = "HorizontalPodAutoscaler"\n'
     'spec = { maxReplicas = 3, metrics = [{ type = "Object", object = {} }] }\n',
     "hpas[0].manifest", "spec.metrics[0].object"),
])
def test_scenario_errors_name_the_key(extra, key, message):
    with pytest.raises(ScenarioError) as e:
        loads(SCENARIO.replace("sync_period = 5\n", "sync_period = 5\n") + extra).build()
    assert key in str(e.value) and message in str(e.value)


def test_scenario_controller_value_checked():
    with pytest.raises(ScenarioError) as e:
        loads(SCENARIO.replace("sync_period = 5", "sync_period = 0.5")
              + '[hpas.manifest]\napiVersion = "autoscaling/v2"\n'
                'kind = "HorizontalPodAutoscaler"\nspec = { maxReplicas = 3 }\n').build()
    assert "hpas[0].sync_period" in str(e.value)


def test_hpa_spike_preset():
    from fastdeploy.presets import PRESETS, hpa_spike

    assert "hpa-spike" in PRESETS
    sim = hpa_spike(0)
    hpa = [e for e in sim.entities if isinstance(e, HorizontalPodAutoscaler)][0]
    assert hpa.metrics == [ResourceMetric(0.6)] and hpa.behavior == HPABehavior()
    assert (hpa.sync_period, hpa.tolerance, hpa.max_replicas) == (15.0, 0.1, 20)
