"""Flagger Canary and MetricTemplate manifests -> a FlaggerCanary's arguments.

A Canary's ``spec.analysis`` (interval, threshold, stepWeight / stepWeights, maxWeight,
metrics) is read, with the MetricTemplates its custom metrics name; each template's
query is mapped to a built-in measurement by the mapping the caller gives (refused when
a query is not in it). Every field is either modelled, accepted because it names what
the load balancer and the server factory already are, or refused with its path and a
reason (``spec.analysis.webhooks``); nothing is ignored silently. Semantics from
Flagger's pkg/apis/flagger/v1beta1/canary.go, pkg/controller/scheduler.go and
scheduler_metrics.go; what is read and refused: ``fastdeploy docs canary-analysis``.
"""

from __future__ import annotations

import math
import re

from .argo.manifest import _DURATION, _UNITS
from .flagger import FlaggerMetric
from .kubernetes.manifest import ManifestError, _err, _int, _kind, _map, header, read
from .rules import flagger as rules

__all__ = ["MEASURES", "ManifestError", "parse", "parse_template"]

API_VERSION = "flagger.app/v1beta1"
# Flagger's two built-in checks; any other metric needs a MetricTemplate or a query.
SUCCESS_RATE, DURATION = "request-success-rate", "request-duration"
# The measurements a custom metric's query can be mapped to (rules/flagger.py).
MEASURES = tuple(n for n in rules.BUILTIN_METRICS if n not in (SUCCESS_RATE, DURATION))
# Flagger's CRD takes intervals matching this (a number, then s or m), and the scheduler
# reads them with Go's time.ParseDuration.
_CRD_INTERVAL = re.compile(r"^[0-9]+(m|s)")
# The scheduler runs a shorter analysis interval at 10 s (GetAnalysisInterval).
MIN_INTERVAL = 10.0
# A metric's query window when it gives none (GetMetricInterval).
METRIC_INTERVAL = 60.0
PROVIDERS = ("prometheus", "datadog", "externalmetrics", "cloudwatch", "newrelic",
             "graphite", "stackdriver", "influxdb", "dynatrace", "keptn", "splunk")
_ANALYSIS_REFUSED = {
    "iterations": "A/B testing and blue/green iterations are not modelled: only the "
                  "progressive canary is",
    "mirrorWeight": "traffic mirroring is not modelled",
    "primaryReadyThreshold": "readiness of the primary is not modelled (FlaggerCanary does "
                             "not wait for instances to be ready)",
    "canaryReadyThreshold": "readiness of the canary is not modelled (FlaggerCanary does "
                            "not wait for instances to be ready)",
    "alerts": "alerts notify people and take no part in the analysis; remove them",
    "webhooks": "webhooks call services outside the simulation (a load tester's traffic is "
                "the scenario's sources; a judge is FlaggerCanary's judge=)",
    "match": "A/B testing match conditions are not modelled",
    "sessionAffinity": "session affinity is not modelled: every request is routed on its "
                       "own",
}
_SPEC_REFUSED = {
    "autoscalerRef": "autoscaling the canary and the primary is not modelled: the canary "
                     "has as many instances as the load balancer's backends",
    "progressDeadlineSeconds": "the deadline for instances to become ready is not modelled "
                               "(FlaggerCanary does not wait for instances to be ready)",
}
_SERVICE_REFUSED = {
    "timeout": "request timeouts are not modelled",
    "backendTimeout": "request timeouts are not modelled",
    "retries": "retries are not modelled: a failed request fails",
    "match": "routing only some requests to the service is not modelled",
    "mirror": "traffic mirroring is not modelled",
    "headless": "a headless service's clients pick the instances themselves, which is not "
                "modelled",
    "trafficDistribution": "topology-aware routing is not modelled",
}
# Fields of spec.service that name or decorate the generated objects, or act on HTTP
# details (paths, headers, origins) the simulated requests do not have.
_SERVICE_ACCEPTED = ("name", "port", "portName", "targetPort", "appProtocol", "portDiscovery",
                     "gateways", "gatewayRefs", "hosts", "delegation", "meshName", "backends",
                     "apex", "primary", "canary", "unmanagedMetadata", "rewrite", "headers",
                     "corsPolicy", "trafficPolicy")


def go_duration(v, path) -> float:
    """Seconds of a Flagger interval: a Go duration string the CRD accepts ("30s", "1m",
    "1m30s")."""
    if isinstance(v, str) and _CRD_INTERVAL.match(v):
        parts = _DURATION.findall(v)
        if parts and "".join(a + u for a, u in parts) == v:
            return sum(float(a) * _UNITS[u] for a, u in parts)
    raise _err(path, f"expected a duration such as '30s' or '1m', got {_kind(v)}")


def _number(v, path) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise _err(path, f"expected a number, got {_kind(v)}")
    return float(v)


def _flag_off(spec, key, path, why) -> None:
    """A boolean field accepted only false (Flagger's default)."""
    if key in spec:
        v = spec[key]
        if not isinstance(v, bool):
            raise _err(path, f"expected true or false, got {_kind(v)}")
        if v:
            raise _err(path, f"true is not modelled ({why}); only false is")


def _header(doc, kind) -> tuple[str | None, str | None]:
    """(metadata.namespace, metadata.name) after checking apiVersion and kind."""
    meta = header(doc, API_VERSION, (kind,))
    for key in ("name", "namespace"):
        if key in meta and not isinstance(meta[key], str):
            raise _err(f"metadata.{key}", f"expected a string, got {_kind(meta[key])}")
    return meta.get("namespace"), meta.get("name")


def parse_template(doc: dict) -> tuple[str | None, str, str]:
    """(metadata.namespace, metadata.name, the query with whitespace collapsed) of a
    MetricTemplate manifest."""
    namespace, name = _header(doc, "MetricTemplate")
    if name is None:
        raise _err("metadata.name", "required: the name a templateRef gives")
    if "spec" not in doc:
        raise _err("spec", "required")
    spec = _map(doc["spec"], "spec", ("provider", "query"))
    # Where the query runs (address, credentials, region) is not read: the simulator
    # measures the canary's requests itself, through the queries mapping.
    provider = _map(spec.get("provider", {}), "spec.provider",
                    ("type", "address", "headers", "secretRef", "region",
                     "insecureSkipVerify"))
    if provider.get("type") not in PROVIDERS:
        raise _err("spec.provider.type", f"expected one of {', '.join(PROVIDERS)}, got "
                                         f"{_kind(provider.get('type'))}")
    query = spec.get("query")
    if not isinstance(query, str) or not query.strip():
        raise _err("spec.query", f"required, the query the measurement is mapped from; got "
                                 f"{_kind(query)}")
    return namespace, name, " ".join(query.split())


def _mapped(query, where, queries) -> dict:
    """FlaggerMetric arguments (name, min_samples, scale) the caller maps ``query`` to."""
    if query not in queries:
        raise _err(where, f"no measurement given for the query {query!r}: add it to "
                          f"queries, mapped to one of {', '.join(MEASURES)}")
    target = queries[query]
    if isinstance(target, str):
        target = {"measure": target}
    if not (isinstance(target, dict) and "measure" in target
            and set(target) <= {"measure", "min_samples", "scale"}):
        raise _err(where, f"queries[{query!r}] must be a measurement name or "
                          f"{{'measure': name, 'min_samples': n, 'scale': s}}, got {target!r}")
    if target["measure"] not in MEASURES:
        raise _err(where, f"queries[{query!r}] maps to {target['measure']!r}, not a "
                          f"measurement: expected one of {', '.join(MEASURES)}")
    out = {"name": target["measure"]}
    for key in ("min_samples", "scale"):
        if key in target:
            out[key] = target[key]
    return out


def _bounds(m, path, name) -> tuple[float | None, float | None]:
    """(min, max) in the metric's own units: thresholdRange, or the deprecated threshold
    (a minimum for the success rate, a maximum otherwise; 0 when absent) as Flagger
    compares without a range."""
    if "thresholdRange" in m:
        if "threshold" in m:
            raise _err(f"{path}.threshold", "Flagger ignores the deprecated threshold when "
                                            "thresholdRange is given: remove one")
        r = _map(m["thresholdRange"], f"{path}.thresholdRange", ("min", "max"))
        if not r:
            raise _err(f"{path}.thresholdRange", "needs min or max (without either the "
                                                 "check only halts on no values)")
        return tuple(None if k not in r else _number(r[k], f"{path}.thresholdRange.{k}")
                     for k in ("min", "max"))
    t = _number(m.get("threshold", 0), f"{path}.threshold")
    return (t, None) if name == SUCCESS_RATE else (None, t)


def _ms_to_seconds(v):
    # Flagger turns a bound in milliseconds into a time.Duration, which truncates it to
    # whole milliseconds.
    return None if v is None else math.trunc(v) / 1000.0


def _metric(m, path, interval, templates, queries, namespace) -> tuple[int, FlaggerMetric]:
    """(the pass Flagger checks it in, the FlaggerMetric) of ``spec.analysis.metrics[k]``:
    pass 0 the built-ins and inline queries (runBuiltinMetricChecks), pass 1 the
    templates' (runMetricChecks)."""
    m = _map(m, path, ("name", "interval", "threshold", "thresholdRange", "query",
                       "templateRef"),
             {"templateVariables": "variables fill in the template's query, which is mapped "
                                   "as written through queries"})
    name = m.get("name")
    if not isinstance(name, str):
        raise _err(f"{path}.name", f"required, a string; got {_kind(name)}")
    window = (go_duration(m["interval"], f"{path}.interval") if "interval" in m
              else METRIC_INTERVAL)
    if window != interval:
        given = f"{m['interval']!r}" if "interval" in m else "absent: Flagger's default '1m'"
        raise _err(f"{path}.interval", f"the query's window ({given}) must equal "
                                       f"spec.analysis.interval ({interval:g} s): fastdeploy "
                                       "judges every check on the canary's requests of the "
                                       "last analysis interval")
    builtin = name in (SUCCESS_RATE, DURATION)
    if builtin and ("templateRef" in m or "query" in m):
        key = "templateRef" if "templateRef" in m else "query"
        raise _err(f"{path}.{key}", f"{name!r} is Flagger's built-in check: Flagger would run "
                                    f"it and the {key} both; rename the metric")
    if "templateRef" in m and "query" in m:
        raise _err(f"{path}.query", "Flagger would run the inline query and the templateRef "
                                    "both: give one")
    lo, hi = _bounds(m, path, name)
    if name == DURATION:
        args, lo, hi = {"name": DURATION}, _ms_to_seconds(lo), _ms_to_seconds(hi)
    elif builtin:
        args = {"name": name}
    elif "query" in m:
        if not isinstance(m["query"], str) or not m["query"].strip():
            raise _err(f"{path}.query", f"expected a query, got {_kind(m['query'])}")
        args = _mapped(" ".join(m["query"].split()), f"{path}.query", queries)
    elif "templateRef" in m:
        args = _mapped(_template(m["templateRef"], f"{path}.templateRef", templates,
                                 namespace), f"{path}.templateRef", queries)
    else:
        raise _err(path, f"{name!r} is not one of Flagger's built-in checks ({SUCCESS_RATE}, "
                         f"{DURATION}): it needs a templateRef (a MetricTemplate)")
    try:
        metric = FlaggerMetric(min=lo, max=hi, **args)
    except (ValueError, TypeError) as e:
        raise _err(path, str(e)) from None
    return (1 if "templateRef" in m else 0), metric


def _template(ref, path, templates, namespace) -> str:
    """The query of the MetricTemplate ``ref`` names: in its namespace, else the Canary's
    (Flagger's lookup); a template or Canary without a namespace matches any."""
    r = _map(ref, path, ("name", "namespace", "apiVersion", "kind"))
    name = r.get("name")
    if not isinstance(name, str):
        raise _err(f"{path}.name", f"required, a string; got {_kind(name)}")
    ns = r.get("namespace") or namespace
    for t_ns, t_name, query in templates:
        if t_name == name and (ns is None or t_ns is None or t_ns == ns):
            return query
    given = ", ".join(t[1] for t in templates) or "none"
    raise _err(f"{path}.name", f"no MetricTemplate named {name!r}"
                               f"{f' in namespace {ns!r}' if ns else ''} was given; given: "
                               f"{given}")


def _weights(a, path) -> dict:
    """step_weight and max_weight, or step_weights: exactly one of stepWeight and
    stepWeights (the CRD's oneOf)."""
    if "stepWeight" in a and "stepWeights" in a:
        raise _err(f"{path}.stepWeights", "give stepWeight or stepWeights, not both "
                                          "(Flagger's CRD takes one)")
    weight = {"minimum": 1}
    if "stepWeights" in a:
        if "maxWeight" in a:
            raise _err(f"{path}.maxWeight", "Flagger ignores maxWeight with stepWeights (the "
                                            "last step weight is the max): remove it")
        ws = a["stepWeights"]
        if not isinstance(ws, list) or not ws:
            raise _err(f"{path}.stepWeights", f"expected a non-empty list, got {_kind(ws)}")
        out = [_int(w, f"{path}.stepWeights[{k}]", **weight) for k, w in enumerate(ws)]
        for k, w in enumerate(out):
            if w > 100:
                raise _err(f"{path}.stepWeights[{k}]", f"must be <= 100, got {w}")
            if k and w <= out[k - 1]:
                raise _err(f"{path}.stepWeights[{k}]", f"must be > the weight before it "
                                                       f"({out[k - 1]}), got {w}")
        return {"step_weights": out}
    if "stepWeight" not in a:
        raise _err(f"{path}.stepWeight", "required, or stepWeights (without either Flagger "
                                         "never shifts traffic to the canary)")
    out = {}
    for key, arg in (("stepWeight", "step_weight"), ("maxWeight", "max_weight")):
        if key in a:
            v = _int(a[key], f"{path}.{key}", **weight)
            if v > 100:
                raise _err(f"{path}.{key}", f"must be <= 100, got {v}")
            out[arg] = v
    # Without maxWeight Flagger goes up to the total weight, 100.
    out.setdefault("max_weight", 100)
    return out


def _analysis(a, path, templates, queries, namespace) -> dict:
    a = _map(a, path, ("interval", "threshold", "maxWeight", "stepWeight", "stepWeights",
                       "stepWeightPromotion", "mirror", "metrics"), _ANALYSIS_REFUSED)
    for key in ("interval", "threshold"):
        if key not in a:
            raise _err(f"{path}.{key}", "required (Flagger's CRD requires it)")
    interval = go_duration(a["interval"], f"{path}.interval")
    if interval < MIN_INTERVAL:
        raise _err(f"{path}.interval", f"must be >= 10s (Flagger runs a shorter interval at "
                                       f"10s), got {a['interval']!r}")
    threshold = _int(a["threshold"], f"{path}.threshold")
    if threshold < 1:
        raise _err(f"{path}.threshold", f"must be >= 1 (Flagger runs a threshold below 1 as "
                                        f"1), got {threshold}")
    _flag_off(a, "mirror", f"{path}.mirror", "traffic mirroring is not modelled")
    if "stepWeightPromotion" in a and _int(a["stepWeightPromotion"],
                                           f"{path}.stepWeightPromotion", 0) != 0:
        raise _err(f"{path}.stepWeightPromotion",
                   "only 0 (Flagger's default: all the traffic at once) is modelled: it "
                   "paces the shift from the canary to the updated primary after the "
                   "promotion, both the new version, which the promotion here does at once")
    out = {"interval": interval, "threshold": threshold, **_weights(a, path)}
    metrics = a.get("metrics", [])
    if not isinstance(metrics, list):
        raise _err(f"{path}.metrics", f"expected a list, got {_kind(metrics)}")
    checks = [_metric(m, f"{path}.metrics[{k}]", interval, templates, queries, namespace)
              for k, m in enumerate(metrics)]
    # Flagger checks the built-ins and inline queries first, then the templates' metrics,
    # each pass in the manifest's order; the first that fails decides.
    out["metrics"] = [m for p in (0, 1) for k, m in checks if k == p]
    return out


def parse(canary, templates=(), queries=None) -> tuple[str | None, dict]:
    """(metadata.name, FlaggerCanary keyword arguments) from a Canary manifest and the
    MetricTemplate manifests its metrics name.

    Args:
        canary: The Canary: a YAML file path, YAML text or a parsed mapping.
        templates: MetricTemplate manifests, each as ``canary``.
        queries: ``{query: measurement}``: each MetricTemplate's (or inline) query,
            whitespace collapsed, mapped to a measurement name (``MEASURES``) or to
            ``{"measure": name, "min_samples": n, "scale": s}``.

    Raises:
        ManifestError: a malformed or unmodelled field, named by its path.
    """
    queries = {" ".join(k.split()): v for k, v in (queries or {}).items()}
    known = []
    for i, t in enumerate(templates):
        try:
            known.append(parse_template(read(t)))
        except ManifestError as e:
            raise ManifestError(f"templates[{i}]: {e}") from None
    doc = read(canary)
    namespace, name = _header(doc, "Canary")
    if "spec" not in doc:
        raise _err("spec", "required")
    # targetRef (the Deployment), service (the Service routing to it), provider,
    # metricsServer and the router references name what the load balancer and the
    # server_factory are; revertOnDeletion acts when the Canary is deleted, never in a run.
    spec = _map(doc["spec"], "spec",
                ("targetRef", "service", "analysis", "canaryAnalysis", "provider",
                 "metricsServer", "ingressRef", "routeRef", "upstreamRef", "skipAnalysis",
                 "suspend", "revertOnDeletion"), _SPEC_REFUSED)
    if "targetRef" in spec:
        _map(spec["targetRef"], "spec.targetRef", ("apiVersion", "kind", "name"))
    if spec.get("provider") == "kubernetes":
        raise _err("spec.provider", "'kubernetes' runs Flagger's blue/green strategy (10 "
                                    "iterations), which is not modelled")
    if "service" in spec:
        service = _map(spec["service"], "spec.service", _SERVICE_ACCEPTED, _SERVICE_REFUSED)
        if "trafficPolicy" in service:
            _map(service["trafficPolicy"], "spec.service.trafficPolicy", ("tls",),
                 {"loadBalancer": "the load balancer's strategy is the scenario's",
                  "connectionPool": "connection limits are not modelled",
                  "outlierDetection": "ejecting instances is not modelled"})
    _flag_off(spec, "skipAnalysis", "spec.skipAnalysis",
              "promotion without an analysis is not modelled")
    _flag_off(spec, "suspend", "spec.suspend", "a suspended canary never runs")
    if "revertOnDeletion" in spec and not isinstance(spec["revertOnDeletion"], bool):
        raise _err("spec.revertOnDeletion", f"expected true or false, got "
                                            f"{_kind(spec['revertOnDeletion'])}")
    if "analysis" in spec and "canaryAnalysis" in spec:
        raise _err("spec.canaryAnalysis", "Flagger ignores the deprecated canaryAnalysis when "
                                          "analysis is given: remove one")
    key = "analysis" if "analysis" in spec else "canaryAnalysis"
    if key not in spec:
        raise _err("spec.analysis", "required (without an analysis Flagger promotes at once)")
    return name, _analysis(spec[key], f"spec.{key}", known, queries, namespace)
