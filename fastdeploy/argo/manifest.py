"""Argo Rollout and AnalysisTemplate manifests -> an ArgoCanary's arguments.

A Rollout's ``spec.strategy.canary`` (steps, background analysis, traffic routing) and
the AnalysisTemplates its analyses name are read; each metric's provider query is mapped
to a built-in measurement by the mapping the caller gives (refused when a query is not
in it), and a ``provider.kayenta`` metric's ``canaryConfigName`` to a KayentaJudge the
caller gives. Every field is either modelled or refused with its path
(``spec.strategy.canary.steps[2].experiment``); nothing is ignored silently.
"""

from __future__ import annotations

import re

from ..kayenta.judge import KayentaJudge
from ..kubernetes.manifest import ManifestError, _err, _int, _kind, _map, header, read
from .analysis import MEASURES, AnalysisMetric, AnalysisTemplate, Condition
from .canary import Analysis, BackgroundAnalysis, Pause, SetWeight

__all__ = ["ManifestError", "parse", "parse_template"]

API_VERSION = "argoproj.io/v1alpha1"
_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
# successCondition / failureCondition: the query's value (``result`` or ``result[0]``)
# compared with a number; any other expression is refused.
_CONDITION = re.compile(r"^\s*result(?:\[0\])?\s*(<=|>=|==|<|>)\s*"
                        r"([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*$")
PROVIDERS = ("prometheus", "datadog", "newRelic", "wavefront", "graphite", "influxdb",
             "cloudWatch", "skywalking")
_NOT_MODELLED = {
    "blueGreen": "only the canary strategy is modelled",
    "experiment": "experiments are not modelled",
    "setCanaryScale": "the canary's instances follow its weight",
    "setHeaderRoute": "header routing is not modelled",
    "setMirrorRoute": "traffic mirroring is not modelled",
    "args": "analysis arguments are not modelled",
    "dryRun": "dry-run metrics are not modelled",
    "consecutiveErrorLimit": "the Error phase is not modelled",
}


def duration(v, path) -> float:
    """An Argo duration: a Go duration string ("30s", "1m30s", "500ms") or, where Argo
    takes an int, seconds."""
    if isinstance(v, bool):
        raise _err(path, f"expected a duration, got {_kind(v)}")
    if isinstance(v, int):
        if v < 0:
            raise _err(path, f"must be >= 0, got {v}")
        return float(v)
    if isinstance(v, str) and v.strip():
        text = v.strip()
        parts = _DURATION.findall(text)
        if parts and "".join(a + u for a, u in parts) == text:
            return sum(float(a) * _UNITS[u] for a, u in parts)
    raise _err(path, f"expected a duration such as '30s', '5m' or '1h', got {_kind(v)}")


def _int_or_string(v, path, minimum=None) -> int:
    """Argo's IntOrString as an integer ("3" or 3)."""
    if isinstance(v, str) and re.fullmatch(r"-?\d+", v.strip()):
        v = int(v)
    return _int(v, path, minimum)


def _condition(v, path) -> Condition:
    m = _CONDITION.match(v) if isinstance(v, str) else None
    if m is None:
        raise _err(path, f"cannot model the condition {_kind(v)}: expected the query's "
                         "value compared with a number, such as 'result[0] <= 0.01'")
    return Condition(m.group(1), float(m.group(2)))


def _measure(provider, path, queries) -> tuple[str, int]:
    """The built-in measurement (and min_samples) the caller maps the metric's query to."""
    p = _map(provider, path, PROVIDERS + ("job", "web", "kayenta", "plugin"),
             {"job": "a Job's result is not a measurement of the canary's requests",
              "web": "a web provider's result is not a measurement of the canary's requests",
              "plugin": "metric plugins are not modelled"})
    kinds = [k for k in p]
    if len(kinds) != 1:
        raise _err(path, f"expected exactly one provider, got {len(kinds)}")
    kind = kinds[0]
    if kind not in PROVIDERS:
        _map(p, path, PROVIDERS)
    body = p[kind]
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        raise _err(f"{path}.{kind}.query", "required: the query the measurement is mapped from")
    query = " ".join(body["query"].split())
    where = f"{path}.{kind}.query"
    if query not in queries:
        raise _err(where, f"no measurement given for the query {query!r}: add it to "
                          f"queries, mapped to one of {', '.join(MEASURES)}")
    target = queries[query]
    if isinstance(target, str):
        return target, 1
    if isinstance(target, dict) and set(target) <= {"measure", "min_samples"} \
            and "measure" in target:
        return target["measure"], target.get("min_samples", 1)
    raise _err(where, f"queries[{query!r}] must be a measurement name or "
                      f"{{'measure': name, 'min_samples': n}}, got {target!r}")


# Argo's kayenta provider (metricproviders/kayenta/kayenta.go; KayentaMetric in
# analysis_types.go). The service's address, application and accounts name where the
# canary run goes: accepted, not read.
_KAYENTA_CONNECTION = ("address", "application", "metricsAccountName",
                       "configurationAccountName", "storageAccountName")
_KAYENTA_NOT_MODELLED = {
    "thresholds": "Argo's field is 'threshold' (its kayenta docs write 'thresholds', which "
                  "the AnalysisTemplate CRD does not have: the API server refuses it)",
    "interval": "interval and count are the metric's fields (spec.metrics[].interval)",
    "count": "interval and count are the metric's fields (spec.metrics[].count)",
    "lookback": "a measurement judges its own interval; judging from the run's start is "
                "not modelled",
}
_SCOPE_NOT_MODELLED = {
    "start": "a scope's window is the measurement's interval (Argo's when start and end "
             "are omitted); explicit times are not modelled",
    "end": "a scope's window ends at the measurement (Argo's when start and end are "
           "omitted); explicit times are not modelled",
}


def _kayenta(body, path, kayenta) -> tuple[KayentaJudge, float]:
    """(the judge, the scopes' step) of a ``provider.kayenta``: the judge the caller maps
    its canaryConfigName to, with the manifest's thresholds as its scores."""
    k = _map(body, path, _KAYENTA_CONNECTION + ("canaryConfigName", "threshold", "scopes",
                                                "lookback"), _KAYENTA_NOT_MODELLED)
    if k.get("lookback", False) is not False:
        raise _err(f"{path}.lookback", f"only false is modelled "
                                       f"({_KAYENTA_NOT_MODELLED['lookback']}), got "
                                       f"{_kind(k['lookback'])}")
    config = k.get("canaryConfigName")
    if not isinstance(config, str):
        raise _err(f"{path}.canaryConfigName", f"required, a string; got {_kind(config)}")
    if config not in kayenta:
        raise _err(f"{path}.canaryConfigName", f"no KayentaJudge given for the canary config "
                                               f"{config!r}: add it to kayenta; given: "
                                               f"{', '.join(sorted(kayenta)) or 'none'}")
    judge = kayenta[config]
    if type(judge) is not KayentaJudge:
        raise ValueError(f"kayenta[{config!r}] must be a KayentaJudge, got {judge!r}")
    if "threshold" not in k:
        raise _err(f"{path}.threshold", "required: pass and marginal")
    t = _map(k["threshold"], f"{path}.threshold", ("pass", "marginal"))
    scores = {}
    for key in ("pass", "marginal"):
        if key not in t:
            raise _err(f"{path}.threshold.{key}", "required, an integer")
        scores[key] = _int(t[key], f"{path}.threshold.{key}", 0)
        if scores[key] > 100:
            raise _err(f"{path}.threshold.{key}", f"must be <= 100, got {scores[key]}")
    if scores["marginal"] > scores["pass"]:
        raise _err(f"{path}.threshold.marginal", f"must be <= threshold.pass "
                                                 f"({scores['pass']}), got {scores['marginal']}")
    return (KayentaJudge(judge.metrics, pass_score=scores["pass"],
                         marginal_score=scores["marginal"], confidence=judge.confidence,
                         group_weights=judge.group_weights, min_samples=judge.min_samples),
            _scope_step(k.get("scopes"), f"{path}.scopes"))


def _scope_step(scopes, path) -> float:
    """The step (seconds) of the one scope: the canary's (experimentScope) and the
    baseline's (controlScope) groups are the rollout's; their queries are not read."""
    if not isinstance(scopes, list) or len(scopes) != 1:
        raise _err(path, f"expected a list of one scope (the canary against the baseline), "
                         f"got {_kind(scopes) if not isinstance(scopes, list) else len(scopes)}")
    s = _map(scopes[0], f"{path}[0]", ("name", "controlScope", "experimentScope"))
    steps = []
    for side in ("controlScope", "experimentScope"):
        where = f"{path}[0].{side}"
        if side not in s:
            raise _err(where, "required")
        d = _map(s[side], where, ("scope", "region", "step"), _SCOPE_NOT_MODELLED)
        if "step" not in d:
            raise _err(f"{where}.step", "required, seconds per data point")
        steps.append(_int(d["step"], f"{where}.step", 1))
    if steps[0] != steps[1]:
        raise _err(f"{path}[0].experimentScope.step", f"must equal controlScope.step "
                                                      f"({steps[0]}), got {steps[1]}")
    return float(steps[0])


def _metric(v, path, queries, kayenta=None) -> AnalysisMetric:
    allowed = ("name", "interval", "count", "initialDelay", "successCondition",
               "failureCondition", "failureLimit", "inconclusiveLimit",
               "consecutiveSuccessLimit", "provider")
    m = _map(v, path, allowed, _NOT_MODELLED)
    if not isinstance(m.get("name"), str):
        raise _err(f"{path}.name", f"required, a string; got {_kind(m.get('name'))}")
    if "provider" not in m:
        raise _err(f"{path}.provider", "required")
    provider = m["provider"]
    if isinstance(provider, dict) and "kayenta" in provider:
        if len(provider) != 1:
            raise _err(f"{path}.provider", f"expected exactly one provider, got {len(provider)}")
        if "interval" not in m:
            raise _err(f"{path}.interval", "required with provider.kayenta: a measurement "
                                           "judges the interval before it")
        judge, step = _kayenta(provider["kayenta"], f"{path}.provider.kayenta", kayenta or {})
        args = {"name": m["name"], "measure": judge, "step": step}
    else:
        measure, min_samples = _measure(provider, f"{path}.provider", queries)
        args = dict(name=m["name"], measure=measure, min_samples=min_samples)
    if "interval" in m:
        args["interval"] = duration(m["interval"], f"{path}.interval")
    if "initialDelay" in m:
        args["initial_delay"] = duration(m["initialDelay"], f"{path}.initialDelay")
    if "count" in m:
        args["count"] = _int_or_string(m["count"], f"{path}.count", 1)
    for key, arg in (("successCondition", "success"), ("failureCondition", "failure")):
        if key in m:
            args[arg] = _condition(m[key], f"{path}.{key}")
    for key, arg, low in (("failureLimit", "failure_limit", -1),
                          ("inconclusiveLimit", "inconclusive_limit", 0),
                          ("consecutiveSuccessLimit", "consecutive_success_limit", 0)):
        if key in m:
            args[arg] = _int_or_string(m[key], f"{path}.{key}", low)
    try:
        return AnalysisMetric(**args)
    except (ValueError, TypeError) as e:
        raise _err(path, str(e)) from None


def parse_template(doc: dict, queries: dict, kayenta=None) -> tuple[str, AnalysisTemplate]:
    """(metadata.name, the AnalysisTemplate) of an AnalysisTemplate or
    ClusterAnalysisTemplate manifest."""
    meta = header(doc, API_VERSION, ("AnalysisTemplate", "ClusterAnalysisTemplate"))
    name = meta.get("name")
    if not isinstance(name, str):
        raise _err("metadata.name", f"required, a string; got {_kind(name)}")
    spec = _map(doc.get("spec"), "spec", ("metrics",), _NOT_MODELLED)
    metrics = spec.get("metrics")
    if not isinstance(metrics, list) or not metrics:
        raise _err("spec.metrics", f"expected a non-empty list, got {_kind(metrics)}")
    return name, AnalysisTemplate([_metric(m, f"spec.metrics[{i}]", queries, kayenta)
                                   for i, m in enumerate(metrics)])


def _templates(v, path, known) -> AnalysisTemplate:
    """The templates an analysis names (``templates: [{templateName: x}, ...]``), their
    metrics merged into one template, as Argo runs them in one AnalysisRun."""
    a = _map(v, path, ("templates", "startingStep") if path.endswith("canary.analysis")
             else ("templates",), _NOT_MODELLED)
    refs = a.get("templates")
    if not isinstance(refs, list) or not refs:
        raise _err(f"{path}.templates", f"expected a non-empty list, got {_kind(refs)}")
    metrics = []
    for i, ref in enumerate(refs):
        rpath = f"{path}.templates[{i}]"
        r = _map(ref, rpath, ("templateName", "clusterScope"))
        tname = r.get("templateName")
        if tname not in known:
            raise _err(f"{rpath}.templateName", f"no AnalysisTemplate named {tname!r} was given; "
                                                f"given: {', '.join(sorted(known)) or 'none'}")
        metrics += known[tname].metrics
    try:
        return AnalysisTemplate(metrics)
    except (ValueError, TypeError) as e:
        raise _err(f"{path}.templates", str(e)) from None


def _step(v, path, known):
    s = _map(v, path, ("setWeight", "pause", "analysis"), _NOT_MODELLED)
    if len(s) != 1:
        raise _err(path, f"expected exactly one of setWeight, pause, analysis, got "
                         f"{', '.join(s) or 'none'}")
    (kind, body), = s.items()
    if kind == "setWeight":
        w = _int(body, f"{path}.setWeight", 0)
        if w > 100:
            raise _err(f"{path}.setWeight", f"must be <= 100, got {w}")
        return SetWeight(w)
    if kind == "pause":
        p = _map(body if body is not None else {}, f"{path}.pause", ("duration",))
        return Pause(duration(p["duration"], f"{path}.pause.duration")
                     if "duration" in p else None)
    return Analysis(_templates(body, f"{path}.analysis", known))


def parse(rollout, templates=(), queries=None, kayenta=None) -> tuple[str | None, dict]:
    """(metadata.name, ArgoCanary keyword arguments) from a Rollout manifest and the
    AnalysisTemplate manifests its analyses name.

    Args:
        rollout: The Rollout: a YAML file path, YAML text or a parsed mapping.
        templates: AnalysisTemplate manifests, each as ``rollout``.
        queries: ``{provider query: measurement}``: each metric's query (whitespace
            collapsed) mapped to a built-in measurement name (``fastdeploy.argo.MEASURES``)
            or to ``{"measure": name, "min_samples": n}``.
        kayenta: ``{canaryConfigName: KayentaJudge}``: the judge each ``provider.kayenta``
            metric runs (a copy with the manifest's ``threshold.pass`` and
            ``threshold.marginal`` as its pass_score and marginal_score).

    Raises:
        ManifestError: a malformed or unmodelled field, named by its path.
    """
    queries = {" ".join(k.split()): v for k, v in (queries or {}).items()}
    known = {}
    for i, t in enumerate(templates):
        try:
            name, template = parse_template(read(t), queries, kayenta)
        except ManifestError as e:
            raise ManifestError(f"templates[{i}]: {e}") from None
        known[name] = template
    doc = read(rollout)
    meta = header(doc, API_VERSION, ("Rollout",))
    name = meta.get("name")
    if name is not None and not isinstance(name, str):
        raise _err("metadata.name", f"expected a string, got {_kind(name)}")
    # The pods (replicas, selector, template) are the load balancer's backends and the
    # server_factory's servers.
    spec = _map(doc.get("spec"), "spec", ("replicas", "selector", "template", "workloadRef",
                                          "revisionHistoryLimit", "strategy"))
    strategy = _map(spec.get("strategy"), "spec.strategy", ("canary",), _NOT_MODELLED)
    if "canary" not in strategy:
        raise _err("spec.strategy.canary", "required")
    c = _map(strategy["canary"], "spec.strategy.canary",
             ("steps", "analysis", "trafficRouting", "canaryService", "stableService",
              "maxSurge", "maxUnavailable"),
             {"dynamicStableScale": "the stable keeps its instances with traffic routing",
              "abortScaleDownDelaySeconds": "the canary leaves at the abort",
              "scaleDownDelaySeconds": "the stable leaves at the promotion",
              "antiAffinity": "placement is not modelled",
              "minPodsPerReplicaSet": "the canary follows its weight"})
    for key in ("maxSurge", "maxUnavailable"):
        if key in c and c[key] != "25%":
            raise _err(f"spec.strategy.canary.{key}", f"only Argo's default '25%' is modelled, "
                                                      f"got {_kind(c[key])}")
    steps_v = c.get("steps")
    if not isinstance(steps_v, list) or not steps_v:
        raise _err("spec.strategy.canary.steps", f"expected a non-empty list, got "
                                                 f"{_kind(steps_v)}")
    out: dict = {"steps": [_step(s, f"spec.strategy.canary.steps[{i}]", known)
                           for i, s in enumerate(steps_v)],
                 "traffic_routing": "trafficRouting" in c}
    if "analysis" in c:
        path = "spec.strategy.canary.analysis"
        template = _templates(c["analysis"], path, known)
        start = c["analysis"].get("startingStep", 0)
        start = _int(start, f"{path}.startingStep", 0)
        if start >= len(out["steps"]):
            raise _err(f"{path}.startingStep", f"must be < the number of steps "
                                               f"({len(out['steps'])}), got {start}")
        out["analysis"] = BackgroundAnalysis(template, start)
    return name, out
