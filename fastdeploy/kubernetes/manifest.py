"""autoscaling/v2 HorizontalPodAutoscaler manifests -> the HorizontalPodAutoscaler's
arguments. Every field is either modeled or refused with its path
(``spec.metrics[1].object``); nothing is ignored."""

from __future__ import annotations

import os
import re

from .behavior import HPABehavior, HPAScalingPolicy, HPAScalingRules


class ManifestError(ValueError):
    """A manifest field that is malformed or that the simulator cannot model."""


def _err(path, detail):
    return ManifestError(f"manifest {path}: {detail}")


def _kind(v):
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, dict):
        return "a mapping"
    if isinstance(v, list):
        return "a list"
    if isinstance(v, str):
        return f"the string {v!r}"
    return repr(v)


def _map(v, path, allowed, why=None):
    if not isinstance(v, dict):
        raise _err(path, f"expected a mapping, got {_kind(v)}")
    for k in v:
        if k not in allowed:
            reason = (why or {}).get(k, "the simulator cannot model it")
            raise _err(f"{path}.{k}" if path else k, f"unsupported field ({reason}); "
                       f"supported here: {', '.join(allowed)}")
    return v


def _int(v, path, minimum=None):
    if isinstance(v, bool) or not isinstance(v, int):
        raise _err(path, f"expected an integer, got {_kind(v)}")
    if minimum is not None and v < minimum:
        raise _err(path, f"must be >= {minimum}, got {v}")
    return v


def _str(v, path, choices):
    if v not in choices:
        raise _err(path, f"expected one of {', '.join(map(repr, choices))}, got {_kind(v)}")
    return v


_SUFFIX = {"m": 1e-3, "": 1.0, "k": 1e3, "M": 1e6, "G": 1e9}


def quantity(v, path) -> float:
    """A Kubernetes quantity: a number, or a string such as "500m", "2", "1.5k"."""
    if isinstance(v, bool):
        raise _err(path, f"expected a quantity, got {_kind(v)}")
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*(m|k|M|G)?\s*", v)
        if m:
            return float(m.group(1)) * _SUFFIX[m.group(2) or ""]
    raise _err(path, f"expected a quantity (a number, or a string like '500m' or '2'), got "
                     f"{_kind(v)}")


_STATUS = {"status": "status is the cluster's observed state, not configuration: remove it"}


def header(doc: dict, api_version: str, kinds: tuple) -> dict:
    """Check a manifest's top level (apiVersion, kind, metadata, spec; status refused),
    its apiVersion and its kind (one of ``kinds``); its metadata (name, namespace,
    labels, annotations), for the caller to read."""
    _map(doc, "", ("apiVersion", "kind", "metadata", "spec"), _STATUS)
    if doc.get("apiVersion") != api_version:
        raise _err("apiVersion", f"expected {api_version!r}, got {_kind(doc.get('apiVersion'))}")
    if doc.get("kind") not in kinds:
        raise _err("kind", f"expected {' or '.join(repr(k) for k in kinds)}, got "
                           f"{_kind(doc.get('kind'))}")
    return _map(doc.get("metadata", {}), "metadata",
                ("name", "namespace", "labels", "annotations"))


def read(source) -> dict:
    """A manifest from a YAML file path, YAML text or an already parsed mapping."""
    if isinstance(source, dict):
        return source
    if isinstance(source, os.PathLike) or (isinstance(source, str) and "\n" not in source
                                           and source.strip().endswith((".yaml", ".yml"))):
        try:
            with open(source, encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            raise ManifestError(f"manifest {str(source)!r}: cannot read it: "
                                f"{e.strerror}") from None
    elif isinstance(source, str):
        text = source
    else:
        raise TypeError(f"source must be a YAML file path, YAML text or a mapping, got "
                        f"{source!r}")
    import yaml

    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ManifestError("manifest: not valid YAML: "
                            + " ".join(str(e).split())) from None
    if not isinstance(doc, dict):
        raise ManifestError(f"manifest: expected a mapping at the top, got {_kind(doc)}")
    return doc


def _rules(v, path) -> HPAScalingRules:
    _map(v, path, ("stabilizationWindowSeconds", "selectPolicy", "policies", "tolerance"))
    window = v.get("stabilizationWindowSeconds")
    if window is not None:
        window = _int(window, f"{path}.stabilizationWindowSeconds", 0)
    select = "Max"
    if "selectPolicy" in v:
        select = _str(v["selectPolicy"], f"{path}.selectPolicy", ("Max", "Min", "Disabled"))
    policies = None
    if "policies" in v:
        pp = f"{path}.policies"
        if not isinstance(v["policies"], list):
            raise _err(pp, f"expected a list, got {_kind(v['policies'])}")
        policies = []
        for i, p in enumerate(v["policies"]):
            q = f"{pp}[{i}]"
            _map(p, q, ("type", "value", "periodSeconds"))
            for k in ("type", "value", "periodSeconds"):
                if k not in p:
                    raise _err(f"{q}.{k}", "required")
            try:
                policies.append(HPAScalingPolicy(_str(p["type"], f"{q}.type",
                                                      ("Pods", "Percent")),
                                                 _int(p["value"], f"{q}.value", 1),
                                                 _int(p["periodSeconds"],
                                                      f"{q}.periodSeconds", 1)))
            except ValueError as e:
                raise _err(q, str(e)) from None
    tol = None
    if "tolerance" in v:
        tol = quantity(v["tolerance"], f"{path}.tolerance")
    try:
        return HPAScalingRules(window, select, policies, tol)
    except (ValueError, TypeError) as e:
        raise _err(path, str(e)) from None


def _target(v, path, types):
    _map(v, path, ("type", "averageUtilization", "averageValue", "value"))
    t = _str(v.get("type"), f"{path}.type", types)
    field = {"Utilization": "averageUtilization", "AverageValue": "averageValue",
             "Value": "value"}[t]
    for k in v:
        if k not in ("type", field):
            raise _err(f"{path}.{k}", f"unsupported with type {t!r} (it takes {field})")
    if field not in v:
        raise _err(f"{path}.{field}", f"required with type {t!r}")
    return t, v[field]


def _metric(v, path):
    from .hpa import EXTERNAL_METRICS, POD_METRICS, ExternalMetric, PodsMetric, ResourceMetric

    kinds = {"Resource": "resource", "Pods": "pods", "External": "external"}
    why = {"object": "Object metrics describe another Kubernetes object, which the "
                     "simulation has none of",
           "containerResource": "the simulated pods have one container: use Resource"}
    if not isinstance(v, dict):
        raise _err(path, f"expected a mapping, got {_kind(v)}")
    t = v.get("type")
    if t in ("Object", "ContainerResource"):
        raise _err(f"{path}.{'object' if t == 'Object' else 'containerResource'}",
                   f"unsupported metric type {t!r} ("
                   f"{why['object' if t == 'Object' else 'containerResource']})")
    _map(v, path, ("type", "resource", "pods", "external"), why)
    _str(t, f"{path}.type", tuple(kinds))
    body_key = kinds[t]
    for k in v:
        if k not in ("type", body_key):
            raise _err(f"{path}.{k}", f"does not go with type {t!r}")
    if body_key not in v:
        raise _err(f"{path}.{body_key}", f"required with type {t!r}")
    p = f"{path}.{body_key}"
    body = v[body_key]
    if t == "Resource":
        _map(body, p, ("name", "target"))
        if body.get("name") != "cpu":
            raise _err(f"{p}.name", f"only 'cpu' is modeled (utilization = in service / "
                                    f"concurrency), got {_kind(body.get('name'))}")
        tt, value = _target(body.get("target", {}), f"{p}.target", ("Utilization",))
        value = _int(value, f"{p}.target.averageUtilization", 1)
        return ResourceMetric(value / 100.0)
    _map(body, p, ("metric", "target"),
         {"describedObject": "Object metrics are not modeled"})
    _map(body.get("metric", {}), f"{p}.metric", ("name",),
         {"selector": "the simulated metrics carry no labels to select"})
    name = body.get("metric", {}).get("name")
    if t == "Pods":
        _str(name, f"{p}.metric.name", tuple(POD_METRICS))
        _, value = _target(body.get("target", {}), f"{p}.target", ("AverageValue",))
        return PodsMetric(name, quantity(value, f"{p}.target.averageValue"))
    _str(name, f"{p}.metric.name", EXTERNAL_METRICS)
    tt, value = _target(body.get("target", {}), f"{p}.target", ("Value", "AverageValue"))
    if tt == "Value":
        return ExternalMetric(name, target_value=quantity(value, f"{p}.target.value"))
    return ExternalMetric(name, target_average_value=quantity(value,
                                                              f"{p}.target.averageValue"))


def parse(doc: dict) -> tuple[str | None, dict]:
    """(metadata.name, the HorizontalPodAutoscaler's keyword arguments)."""
    meta = header(doc, "autoscaling/v2", ("HorizontalPodAutoscaler",))
    name = meta.get("name")
    if name is not None and not isinstance(name, str):
        raise _err("metadata.name", f"expected a string, got {_kind(name)}")
    if "spec" not in doc:
        raise _err("spec", "required")
    spec = _map(doc["spec"], "spec", ("scaleTargetRef", "minReplicas", "maxReplicas",
                                      "metrics", "behavior"))
    if "scaleTargetRef" in spec:  # the target is the load balancer given to from_manifest
        _map(spec["scaleTargetRef"], "spec.scaleTargetRef", ("apiVersion", "kind", "name"))
    out: dict = {}
    if "minReplicas" in spec:
        out["min_replicas"] = _int(spec["minReplicas"], "spec.minReplicas", 1)
    if "maxReplicas" not in spec:
        raise _err("spec.maxReplicas", "required")
    out["max_replicas"] = _int(spec["maxReplicas"], "spec.maxReplicas", 1)
    if "metrics" in spec:
        if not isinstance(spec["metrics"], list):
            raise _err("spec.metrics", f"expected a list, got {_kind(spec['metrics'])}")
        metrics = []
        for i, m in enumerate(spec["metrics"]):
            try:
                metrics.append(_metric(m, f"spec.metrics[{i}]"))
            except ManifestError:
                raise
            except (ValueError, TypeError) as e:
                raise _err(f"spec.metrics[{i}]", str(e)) from None
        out["metrics"] = metrics or None
    if "behavior" in spec:
        b = _map(spec["behavior"], "spec.behavior", ("scaleUp", "scaleDown"))
        out["behavior"] = HPABehavior(
            _rules(b["scaleUp"], "spec.behavior.scaleUp") if "scaleUp" in b else None,
            _rules(b["scaleDown"], "spec.behavior.scaleDown") if "scaleDown" in b else None)
    return name, out
