"""Scenario file (parsed TOML) -> a plan: checked plain values, each with its key path.

Types, required keys, unknown keys and references are checked here; values are checked
by the constructors themselves when the plan is built (``_build``), so a file accepts
exactly what the API accepts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..deployment import (CanaryStage, ErrorRateEvaluator, LatencyEvaluator,
                          QueueDepthScaling, StepScaling, TargetUtilization)
from ..model.distributions import (ConstantLatency, ExponentialLatency, LogNormalLatency,
                                   UniformLatency)
from ..model.profiles import (ConstantRateProfile, LinearRampProfile, PiecewiseRateProfile,
                              SpikeProfile)
from ..model.strategies import (LeastConnections, PowerOfTwoChoices, Random, RoundRobin,
                                WeightedRoundRobin)
from ..argo import (Analysis, AnalysisMetric, AnalysisTemplate, BackgroundAnalysis, Pause,
                    SetWeight)
from ..flagger import FlaggerMetric
from ..kayenta import KayentaJudge, KayentaMetric
from . import _reader as r
from ._reader import Context, Table, describe, hint

TOP_KEYS = ("name", "description", "simulation", "templates", "servers", "load_balancers",
            "sources", "autoscalers", "canaries", "rolling", "hpas", "flaggers",
            "analysis_templates", "argo_canaries", "argo_blue_greens", "sweep", "tune")
SIMULATION_KEYS = ("start_time", "end_time", "duration", "seed")
SERVER_FIELDS = ("concurrency", "service_time", "queue_capacity", "failure_rate",
                 "startup_delay", "termination_grace")
DEFAULT_PREFIX = "server_"

STRATEGIES = {"round_robin": RoundRobin, "weighted_round_robin": WeightedRoundRobin,
              "least_connections": LeastConnections, "random": Random,
              "power_of_two_choices": PowerOfTwoChoices}


def _pairs(first: str, second: str, first_check, second_check):
    """An array of [first, second] pairs (or {first = .., second = ..} tables) -> tuples."""
    def check(ctx, path, value):
        rows = r.array(ctx, path, value)
        out = []
        for k, row in enumerate(rows):
            p = r.join(path, k)
            if isinstance(row, dict):
                t = Table(ctx, p, row, (first, second))
                out.append((t.take(first, first_check), t.take(second, second_check)))
            elif isinstance(row, list) and len(row) == 2:
                out.append((first_check(ctx, r.join(p, 0), row[0]),
                            second_check(ctx, r.join(p, 1), row[1])))
            else:
                raise ctx.error(p, f"expected a [{first}, {second}] pair, got {describe(row)}")
        return out
    return check


REQUIRED = True
OPTIONAL = False

# kind -> (class, {argument: (checker, required)}); absent optional arguments take the
# constructor's default.
DISTRIBUTIONS = {
    "exponential": (ExponentialLatency, {"mean_latency": (r.seconds, REQUIRED)}),
    "constant": (ConstantLatency, {"latency": (r.seconds, REQUIRED)}),
    "uniform": (UniformLatency, {"low": (r.seconds, REQUIRED), "high": (r.seconds, REQUIRED)}),
    "lognormal": (LogNormalLatency, {"mean": (r.seconds, REQUIRED),
                                     "sigma": (r.number, OPTIONAL)}),
}
PROFILES = {
    "constant": (ConstantRateProfile, {"rate": (r.number, REQUIRED)}),
    "linear_ramp": (LinearRampProfile, {"duration_s": (r.seconds, REQUIRED),
                                        "start_rate": (r.number, REQUIRED),
                                        "end_rate": (r.number, REQUIRED)}),
    "spike": (SpikeProfile, {"baseline_rate": (r.number, OPTIONAL),
                             "spike_rate": (r.number, OPTIONAL),
                             "warmup_s": (r.seconds, OPTIONAL),
                             "spike_duration_s": (r.seconds, OPTIONAL)}),
    "piecewise": (PiecewiseRateProfile, {"points": (_pairs("time_s", "rate", r.seconds, r.number),
                                                    REQUIRED)}),
}
POLICIES = {
    "target_utilization": (TargetUtilization, {"target": (r.number, OPTIONAL),
                                               "tolerance": (r.number, OPTIONAL)}),
    "step": (StepScaling, {"steps": (_pairs("threshold", "adjustment", r.number, r.integer),
                                     REQUIRED)}),
    "queue_depth": (QueueDepthScaling, {"scale_out_threshold": (r.integer, OPTIONAL),
                                        "scale_in_threshold": (r.integer, OPTIONAL)}),
}
KAYENTA_METRIC_ARGS = {
    "measure": (r.string, REQUIRED), "direction": (r.string, OPTIONAL),
    "critical": (r.boolean, OPTIONAL), "allowed_increase": (r.number, OPTIONAL),
    "allowed_decrease": (r.number, OPTIONAL), "critical_increase": (r.number, OPTIONAL),
    "critical_decrease": (r.number, OPTIONAL), "must_have_data": (r.boolean, OPTIONAL),
    "nan_strategy": (r.string, OPTIONAL), "outliers": (r.string, OPTIONAL),
    "outlier_factor": (r.number, OPTIONAL), "group": (r.string, OPTIONAL),
    "scale": (r.number, OPTIONAL)}


def _kayenta_metrics(ctx, path, value) -> list:
    """A KayentaJudge's ``metrics``: an array of KayentaMetric tables, as Calls."""
    calls = []
    for k, m in enumerate(r.array(ctx, path, value)):
        t = Table(ctx, r.join(path, k), m, KAYENTA_METRIC_ARGS)
        calls.append(Call(KayentaMetric, {
            a: Field(t.take(a, check), t.key(a))
            for a, (check, required) in KAYENTA_METRIC_ARGS.items()
            if required or t.has(a)}, t.path))
    if not calls:
        raise ctx.error(path, "expected at least one metric")
    return calls


EVALUATORS = {
    "error_rate": (ErrorRateEvaluator, {"max_error_rate": (r.number, OPTIONAL),
                                        "threshold_multiplier": (r.number, OPTIONAL)}),
    "latency": (LatencyEvaluator, {"max_latency": (r.seconds, OPTIONAL),
                                   "threshold_multiplier": (r.number, OPTIONAL)}),
    "kayenta": (KayentaJudge, {"metrics": (_kayenta_metrics, REQUIRED),
                               "pass_score": (r.number, OPTIONAL),
                               "marginal_score": (r.number, OPTIONAL),
                               "confidence": (r.number, OPTIONAL),
                               "min_samples": (r.integer, OPTIONAL)}),
}
STAGE_ARGS = {"traffic_percentage": (r.number, REQUIRED),
              "evaluation_period": (r.seconds, OPTIONAL)}


def _analysis_measure(ctx, path, value):
    """An AnalysisMetric's ``measure``: a measurement's name, or a KayentaJudge's table
    ``{ kind = "kayenta", metrics = [...] }`` (Argo's kayenta provider)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return read_call(ctx, path, value, {"kayenta": EVALUATORS["kayenta"]})
    raise ctx.error(path, f"expected a measurement name or a {{ kind = \"kayenta\", ... }} "
                          f"table, got {describe(value)}")


ANALYSIS_METRIC_ARGS = {
    "name": (r.string, REQUIRED), "measure": (_analysis_measure, REQUIRED),
    "step": (r.seconds, OPTIONAL),
    "success": (r.string, OPTIONAL), "failure": (r.string, OPTIONAL),
    "interval": (r.seconds, OPTIONAL), "count": (r.integer, OPTIONAL),
    "initial_delay": (r.seconds, OPTIONAL), "failure_limit": (r.integer, OPTIONAL),
    "inconclusive_limit": (r.integer, OPTIONAL),
    "consecutive_success_limit": (r.integer, OPTIONAL), "min_samples": (r.integer, OPTIONAL)}
STEP_KINDS = ("set_weight", "pause", "analysis")
FLAGGER_METRIC_ARGS = {"name": (r.string, REQUIRED), "min": (r.number, OPTIONAL),
                       "max": (r.number, OPTIONAL), "min_samples": (r.integer, OPTIONAL),
                       "scale": (r.number, OPTIONAL)}


@dataclass
class Field:
    """A value and the key path it was written at."""

    value: object
    key: str


@dataclass
class Call:
    """A constructor call: class, keyword arguments (as Fields) and the table's key path."""

    cls: type
    args: dict[str, Field]
    key: str


@dataclass
class ServerConfig:
    """A server's settings (from a template, its ``extends`` chain and overrides)."""

    fields: dict[str, Field] = field(default_factory=dict)  # service_time holds a Call

    def merged(self, overrides: dict[str, Field]) -> ServerConfig:
        return ServerConfig({**self.fields, **overrides})


@dataclass
class ServerPlan:
    name: str
    key: str            # where the name comes from
    config: ServerConfig
    owner: str | None = None   # the key of the load balancer listing it


@dataclass
class LoadBalancerPlan:
    name: str
    key: str
    strategy: Field
    backends: list[str]
    weights: list[Field] | None


@dataclass
class SourcePlan:
    name: str
    key: str
    target: Field
    rate: Field | None
    profile: Call | None
    poisson: Field | None
    stop_after: Field | None


@dataclass
class ComponentPlan:
    """An autoscaler, canary or rolling deployer: its load balancer, template, arguments
    (policy, evaluator and stages as Calls) and when it starts."""

    kind: str
    name: str
    key: str
    load_balancer: Field
    template: ServerConfig
    template_key: str
    args: dict[str, object]
    at: Field | None


@dataclass
class Plan:
    name: str
    description: str
    simulation: dict[str, Field]
    templates: dict[str, ServerConfig]
    servers: list[ServerPlan]
    load_balancers: list[LoadBalancerPlan]
    sources: list[SourcePlan]
    components: list[ComponentPlan]
    sweep: object = None
    sweep_key: str = "sweep"
    tune: object = None


def read_call(ctx: Context, path: str, value, kinds: dict) -> Call:
    """A ``{kind = "...", args...}`` table -> Call."""
    t = Table(ctx, path, value)
    kind = t.take("kind", r.choice(list(kinds)))
    cls, args = kinds[kind]
    t.allow(["kind", *args])
    fields = {}
    for name, (check, required) in args.items():
        if t.has(name) or required:
            fields[name] = Field(t.take(name, check), t.key(name))
    return Call(cls, fields, path)


class Parser:
    def __init__(self, doc: dict, ctx: Context, default_name: str):
        self.ctx = ctx
        self.top = Table(ctx, "", doc, TOP_KEYS)
        self.default_name = default_name
        self.raw_templates: dict[str, dict] = {}
        self.templates: dict[str, ServerConfig] = {}
        self.names: dict[str, str] = {}  # entity name -> key path of its definition
        self.servers: dict[str, ServerPlan] = {}
        self.lbs: dict[str, LoadBalancerPlan] = {}
        self.prefix_next: dict[str, int] = {}

    def error(self, key, detail):
        return self.ctx.error(key, detail)

    # -- names --------------------------------------------------------------------------------
    def claim(self, name: str, key: str, how: str = "") -> None:
        """Entity names are unique across the file (they name metrics and random streams)."""
        if name in self.names:
            raise self.error(key, f"the name {name!r}{how} is already used at "
                                  f"{self.names[name]}; "
                                  "every server, load balancer, source, autoscaler and "
                                  "deployer needs its own name")
        self.names[name] = key

    def name_of(self, t: Table, default=r.MISSING) -> tuple[str, str]:
        name = t.take("name", r.string, default)
        return name, t.key("name")

    # -- templates and server settings ---------------------------------------------------------
    def server_fields(self, t: Table) -> dict[str, Field]:
        out = {}
        if t.has("concurrency"):
            out["concurrency"] = Field(t.take("concurrency", r.integer), t.key("concurrency"))
        if t.has("service_time"):
            key = t.key("service_time")
            out["service_time"] = Field(read_call(self.ctx, key, t.take("service_time"),
                                                  DISTRIBUTIONS), key)
        if t.has("queue_capacity"):
            out["queue_capacity"] = Field(t.take("queue_capacity", r.integer),
                                          t.key("queue_capacity"))
        if t.has("failure_rate"):
            out["failure_rate"] = Field(t.take("failure_rate", r.number), t.key("failure_rate"))
        if t.has("startup_delay"):
            # Seconds, or a distribution table like service_time.
            key = t.key("startup_delay")
            value = t.take("startup_delay")
            if isinstance(value, dict):
                value = read_call(self.ctx, key, value, DISTRIBUTIONS)
            else:
                value = r.number(self.ctx, key, value)
            out["startup_delay"] = Field(value, key)
        if t.has("termination_grace"):
            out["termination_grace"] = Field(t.take("termination_grace", r.number),
                                             t.key("termination_grace"))
        return out

    def template_body(self, path: str, value, stack: tuple) -> ServerConfig:
        """A template table (``extends`` and server settings)."""
        t = Table(self.ctx, path, value, ("extends", *SERVER_FIELDS))
        base = ServerConfig()
        if t.has("extends"):
            base = self.template(t.take("extends", r.string), t.key("extends"), stack)
        return base.merged(self.server_fields(t))

    def template(self, name: str, ref_key: str, stack: tuple = ()) -> ServerConfig:
        """The resolved template ``name``, referenced at ``ref_key``."""
        if name in self.templates:
            return self.templates[name]
        if name not in self.raw_templates:
            known = sorted(self.raw_templates)
            listing = ", ".join(known) if known else "none are defined ([templates.NAME])"
            raise self.error(ref_key, f"unknown template {name!r}{hint(name, known)}; "
                                      f"templates: {listing}")
        if name in stack:
            chain = " -> ".join((*stack, name))
            raise self.error(ref_key, f"templates extend each other in a cycle: {chain}")
        config = self.template_body(r.join("templates", name), self.raw_templates[name],
                                    (*stack, name))
        self.templates[name] = config
        return config

    def template_ref(self, t: Table, key: str = "template") -> tuple[ServerConfig, str]:
        """A template given by name or inline as a table."""
        value = t.take(key)
        path = t.key(key)
        if isinstance(value, str):
            return self.template(r.string(self.ctx, path, value), path), path
        if isinstance(value, dict):
            return self.template_body(path, value, ()), path
        raise self.error(path, f"expected a template name or a table of server settings, "
                               f"got {describe(value)}")

    # -- sections --------------------------------------------------------------------------
    def simulation(self) -> dict[str, Field]:
        t = self.top.sub("simulation", SIMULATION_KEYS)
        out = {}
        for k, check in (("start_time", r.seconds), ("end_time", r.seconds),
                         ("duration", r.seconds), ("seed", r.integer)):
            if t.has(k):
                out[k] = Field(t.take(k, check), t.key(k))
        if "end_time" in out and "duration" in out:
            raise self.error(t.key("duration"), "give end_time or duration, not both")
        if "end_time" not in out and "duration" not in out:
            raise self.error("simulation", "missing end_time or duration (the batch engine "
                                           "needs a horizon)")
        return out

    def array_of_tables(self, key: str) -> list[tuple[str, dict]]:
        rows = self.top.take(key, r.array, [])
        out = []
        for i, row in enumerate(rows):
            path = r.join(key, i)
            if not isinstance(row, dict):
                raise self.error(path, f"expected a table ([[{key}]]), got {describe(row)}")
            out.append((path, row))
        return out

    def server_list(self) -> None:
        for path, row in self.array_of_tables("servers"):
            t = Table(self.ctx, path, row, ("name", "template", *SERVER_FIELDS))
            name, nkey = self.name_of(t)
            base = self.template_ref(t)[0] if t.has("template") else ServerConfig()
            config = base.merged(self.server_fields(t))
            self.claim(name, nkey)
            self.servers[name] = ServerPlan(name, nkey, config)

    def load_balancer_list(self) -> list[LoadBalancerPlan]:
        plans = []
        for path, row in self.array_of_tables("load_balancers"):
            t = Table(self.ctx, path, row, ("name", "strategy", "backends", "weights"))
            name, nkey = self.name_of(t)
            self.claim(name, nkey)
            strategy = Field(t.take("strategy", r.choice(list(STRATEGIES)), "round_robin"),
                             t.key("strategy"))
            backends: list[str] = []
            group_weights: list[Field | None] = []
            for k, item in enumerate(t.take("backends", r.array, [])):
                ipath = r.join(t.key("backends"), k)
                if isinstance(item, str):
                    backends.append(self.backend_server(item, ipath, t.path))
                    group_weights.append(None)
                elif isinstance(item, dict):
                    g = Table(self.ctx, ipath, item, ("template", "count", "prefix", "weight"))
                    config, _ = self.template_ref(g)
                    count = g.take("count", r.integer, 1)
                    if count < 1:
                        raise self.error(g.key("count"), f"expected an integer >= 1, got {count}")
                    prefix = g.take("prefix", r.text, DEFAULT_PREFIX)
                    weight = (Field(g.take("weight", r.integer), g.key("weight"))
                              if g.has("weight") else None)
                    for _ in range(count):
                        n = self.prefix_next.get(prefix, 0)
                        self.prefix_next[prefix] = n + 1
                        sname = f"{prefix}{n}"
                        self.claim(sname, ipath, f" (prefix {prefix!r} + {n})")
                        self.servers[sname] = ServerPlan(sname, ipath, config, t.path)
                        backends.append(sname)
                        group_weights.append(weight)
                else:
                    raise self.error(ipath, f"expected a server name or a table "
                                            f"{{template, count, prefix}}, got {describe(item)}")
            weights = None
            if t.has("weights"):
                if any(w is not None for w in group_weights):
                    raise self.error(t.key("weights"), "give weights here or weight in the "
                                                       "backends' tables, not both")
                wl = t.take("weights", r.array)
                if len(wl) != len(backends):
                    raise self.error(t.key("weights"), f"expected one weight per backend "
                                                       f"({len(backends)}), got {len(wl)}")
                weights = [Field(r.integer(self.ctx, r.join(t.key("weights"), k), w),
                                 r.join(t.key("weights"), k)) for k, w in enumerate(wl)]
            elif any(w is not None for w in group_weights):
                weights = [w if w is not None else Field(1, t.key("backends"))
                           for w in group_weights]
            for w in weights or []:
                if w.value < 1:
                    raise self.error(w.key, f"expected a weight >= 1, got {w.value}")
            plan = LoadBalancerPlan(name, nkey, strategy, backends, weights)
            self.lbs[name] = plan
            plans.append(plan)
        return plans

    def backend_server(self, name: str, key: str, lb_key: str) -> str:
        s = self.servers.get(name)
        if s is None:
            known = sorted(self.servers)
            listing = ", ".join(known) if known else "none are defined ([[servers]])"
            raise self.error(key, f"unknown server {name!r}{hint(name, known)}; servers: "
                                  f"{listing}")
        if s.owner is not None:
            raise self.error(key, f"server {name!r} is already a backend of {s.owner}; a "
                                  "server belongs to one load balancer")
        s.owner = lb_key
        return name

    def source_list(self) -> list[SourcePlan]:
        plans = []
        for path, row in self.array_of_tables("sources"):
            t = Table(self.ctx, path, row, ("name", "target", "rate", "profile", "poisson",
                                            "stop_after"))
            name, nkey = self.name_of(t, "Source")
            self.claim(name, nkey if t.has("name") else path)
            target = Field(t.take("target", r.string), t.key("target"))
            if target.value not in self.lbs and target.value not in self.servers:
                known = sorted(self.lbs) + sorted(self.servers)
                raise self.error(target.key, f"unknown target {target.value!r}"
                                             f"{hint(target.value, known)}; expected a load "
                                             f"balancer or server name: {', '.join(known)}")
            rate = profile = None
            if t.has("rate") and t.has("profile"):
                raise self.error(t.key("profile"), "give rate or profile, not both")
            if t.has("rate"):
                rate = Field(t.take("rate", r.number), t.key("rate"))
            elif t.has("profile"):
                profile = read_call(self.ctx, t.key("profile"), t.take("profile"), PROFILES)
            else:
                raise self.error(path, "missing rate or profile (requests per second, or "
                                       "profile = {kind = ...})")
            opt = {k: Field(t.take(k, check), t.key(k)) if t.has(k) else None
                   for k, check in (("poisson", r.boolean), ("stop_after", r.seconds))}
            plans.append(SourcePlan(name, nkey, target, rate, profile, opt["poisson"],
                                    opt["stop_after"]))
        return plans

    def component_list(self, key: str, kind: str, numeric: dict, at_key: str) -> list:
        plans = []
        extra = {"autoscaler": ("policy",), "canary": ("stages", "metric_evaluator"),
                 "rolling": (), "hpa": ("manifest",),
                 "flagger": ("step_weights", "metrics", "judge", "manifest",
                             "template_manifests", "queries"),
                 "argo": ("steps", "analysis", "manifest", "template_manifests", "queries",
                          "kayenta"),
                 "argo_bg": ("pre_promotion_analysis",)}[kind]
        for path, row in self.array_of_tables(key):
            t = Table(self.ctx, path, row, ("name", "load_balancer", "template", *extra,
                                            *numeric, at_key))
            name, nkey = self.name_of(t)
            self.claim(name, nkey)
            lb = Field(t.take("load_balancer", r.string), t.key("load_balancer"))
            if lb.value not in self.lbs:
                known = sorted(self.lbs)
                raise self.error(lb.key, f"unknown load balancer {lb.value!r}"
                                         f"{hint(lb.value, known)}; load balancers: "
                                         f"{', '.join(known) if known else 'none'}")
            template, tkey = self.template_ref(t)
            args: dict[str, object] = {}
            for k, check in numeric.items():
                if t.has(k):
                    args[k] = Field(t.take(k, check), t.key(k))
            if t.has("manifest") and kind == "argo":
                args["manifest"] = self.argo_manifest(t)
            elif t.has("manifest") and kind == "flagger":
                args["manifest"] = self.flagger_manifest(t, numeric)
            elif t.has("manifest"):
                args["manifest"] = self.manifest(t)
            else:
                # These keys only say how to read a manifest: without one they would be
                # silently unused.
                for k in ("template_manifests", "queries"):
                    if t.has(k):
                        raise self.error(t.key(k), "goes with manifest: give the manifest "
                                                   "or remove it")
            if kind == "hpa" and "manifest" not in args:
                raise self.error(path, "missing manifest (a path to an autoscaling/v2 "
                                       "HorizontalPodAutoscaler YAML file, or the manifest "
                                       "as a table)")
            if t.has("policy"):
                args["policy"] = read_call(self.ctx, t.key("policy"), t.take("policy"),
                                           POLICIES)
            if t.has("judge"):
                args["judge"] = read_call(self.ctx, t.key("judge"), t.take("judge"),
                                          {"kayenta": EVALUATORS["kayenta"]})
            if t.has("metric_evaluator"):
                args["metric_evaluator"] = read_call(self.ctx, t.key("metric_evaluator"),
                                                     t.take("metric_evaluator"), EVALUATORS)
            if t.has("stages"):
                stages = []
                spath = t.key("stages")
                for k, st in enumerate(t.take("stages", r.array)):
                    st_t = Table(self.ctx, r.join(spath, k), st, STAGE_ARGS)
                    stages.append(Call(CanaryStage, {
                        a: Field(st_t.take(a, check), st_t.key(a))
                        for a, (check, required) in STAGE_ARGS.items()
                        if required or st_t.has(a)}, st_t.path))
                if not stages:
                    raise self.error(spath, "expected at least one stage")
                args["stages"] = Field(stages, spath)
            if t.has("step_weights"):
                wpath = t.key("step_weights")
                weights = [r.integer(self.ctx, r.join(wpath, k), w)
                           for k, w in enumerate(t.take("step_weights", r.array))]
                args["step_weights"] = Field(weights, wpath)
            if t.has("metrics"):
                mpath = t.key("metrics")
                checks = []
                for k, m in enumerate(t.take("metrics", r.array)):
                    m_t = Table(self.ctx, r.join(mpath, k), m, FLAGGER_METRIC_ARGS)
                    checks.append(Call(FlaggerMetric, {
                        a: Field(m_t.take(a, check), m_t.key(a))
                        for a, (check, required) in FLAGGER_METRIC_ARGS.items()
                        if required or m_t.has(a)}, m_t.path))
                args["metrics"] = Field(checks, mpath)
            if kind == "argo" and "manifest" not in args:
                if t.has("kayenta"):
                    raise self.error(t.key("kayenta"), "the canary configs of a manifest's "
                                                       "provider.kayenta: give it with manifest")
                args.update(self.argo_steps(t))
            if t.has("pre_promotion_analysis"):
                key = t.key("pre_promotion_analysis")
                args["pre_promotion_analysis"] = self.argo_template(
                    key, t.take("pre_promotion_analysis"))
            at = Field(t.take(at_key, r.seconds), t.key(at_key)) if t.has(at_key) else None
            plans.append(ComponentPlan(kind, name, nkey, lb, template, tkey, args, at))
        return plans

    def analysis_templates(self) -> None:
        """``[analysis_templates.NAME]``: ``metrics``, each an AnalysisMetric's keys."""
        self.argo_templates: dict[str, Call] = {}
        for tname, body in self.top.take("analysis_templates", r.table, {}).items():
            path = r.join("analysis_templates", tname)
            t = Table(self.ctx, path, body, ("metrics",))
            mpath = t.key("metrics")
            metrics = []
            for k, m in enumerate(t.take("metrics", r.array)):
                m_t = Table(self.ctx, r.join(mpath, k), m, ANALYSIS_METRIC_ARGS)
                metrics.append(Call(AnalysisMetric, {
                    a: Field(m_t.take(a, check), m_t.key(a))
                    for a, (check, required) in ANALYSIS_METRIC_ARGS.items()
                    if required or m_t.has(a)}, m_t.path))
            self.argo_templates[tname] = Call(AnalysisTemplate,
                                              {"metrics": Field(metrics, mpath)}, path)

    def argo_template(self, key: str, name) -> Call:
        name = r.string(self.ctx, key, name)
        if name not in self.argo_templates:
            known = sorted(self.argo_templates)
            raise self.error(key, f"unknown analysis template {name!r}{hint(name, known)}; "
                                  f"[analysis_templates]: {', '.join(known) or 'none'}")
        return self.argo_templates[name]

    def argo_steps(self, t: Table) -> dict:
        """An ArgoCanary's ``steps`` (each one of ``set_weight = P``, ``pause = {}`` or
        ``pause = { duration = S }``, ``analysis = "TEMPLATE"``) and background
        ``analysis = { template = "TEMPLATE", starting_step = K }``."""
        args = {}
        spath = t.key("steps")
        steps = []
        for k, row in enumerate(t.take("steps", r.array)):
            st = Table(self.ctx, r.join(spath, k), row, STEP_KINDS)
            given = [s for s in STEP_KINDS if st.has(s)]
            if len(given) != 1:
                raise self.error(st.path, "expected exactly one of set_weight, pause, "
                                          f"analysis, got {', '.join(given) or 'none'}")
            key = st.key(given[0])
            if given[0] == "set_weight":
                steps.append(Call(SetWeight, {"percent": Field(st.take("set_weight",
                                                                       r.integer), key)}, key))
            elif given[0] == "pause":
                p = st.sub("pause", ("duration",))
                pargs = ({"duration": Field(p.take("duration", r.seconds), p.key("duration"))}
                         if p.has("duration") else {})
                steps.append(Call(Pause, pargs, key))
            else:
                steps.append(Call(Analysis, {"template": Field(
                    self.argo_template(key, st.take("analysis")), key)}, key))
        args["steps"] = Field(steps, spath)
        if t.has("analysis"):
            b = t.sub("analysis", ("template", "starting_step"))
            bargs = {"template": Field(self.argo_template(b.key("template"),
                                                          b.take("template")),
                                       b.key("template"))}
            if b.has("starting_step"):
                bargs["starting_step"] = Field(b.take("starting_step", r.integer),
                                               b.key("starting_step"))
            args["analysis"] = Call(BackgroundAnalysis, bargs, b.path)
        return args

    def _source(self, key: str, value):
        """A manifest given as a YAML file path (relative to the scenario file) or a
        table."""
        import os

        if isinstance(value, str):
            base = os.path.dirname(self.ctx.file) if os.path.isfile(self.ctx.file) else ""
            source = value if os.path.isabs(value) else os.path.join(base, value)
            if not source.endswith((".yaml", ".yml")):
                raise self.error(key, f"expected a .yaml or .yml file, got {value!r}")
            return source
        if isinstance(value, dict):
            return value
        raise self.error(key, f"expected a file path or a table, got {describe(value)}")

    def argo_manifest(self, t: Table) -> Field:
        """An ArgoCanary from an Argo Rollout manifest: ``manifest`` (the Rollout),
        ``template_manifests`` (its AnalysisTemplates), ``queries`` (each metric's
        provider query -> a built-in measurement) and ``kayenta`` (each
        provider.kayenta canaryConfigName -> a ``{ kind = "kayenta", ... }`` judge
        table); ``steps`` and ``analysis`` are then the manifest's."""
        from ..argo.manifest import ManifestError, parse

        key, rollout, templates, queries, qkey = self.manifest_sources(
            t, ("steps", "analysis", "traffic_routing"))
        for q, v in queries.items():
            if not isinstance(v, str):
                raise self.error(r.join(qkey, q), f"expected a measurement name, got "
                                                  f"{describe(v)}")
        kayenta = self.kayenta_configs(t)
        try:
            return Field(parse(rollout, templates, queries, kayenta), key)
        except ManifestError as e:
            raise self.error(key, str(e)) from None

    def manifest_sources(self, t: Table, from_manifest) -> tuple:
        """A deployer table naming a manifest: refuses the keys ``from_manifest`` (the
        manifest gives them) and reads ``manifest``, ``template_manifests`` and
        ``queries``: (manifest key, manifest, templates, queries, queries key)."""
        key = t.key("manifest")
        for other in from_manifest:
            if t.has(other):
                raise self.error(t.key(other), "given by the manifest: remove it")
        manifest = self._source(key, t.take("manifest"))
        tkey = t.key("template_manifests")
        templates = [self._source(r.join(tkey, k), v) for k, v in
                     enumerate(t.take("template_manifests", r.array, []))]
        return key, manifest, templates, t.take("queries", r.table, {}), t.key("queries")

    def kayenta_configs(self, t: Table) -> dict:
        """``kayenta = { CONFIG = { kind = "kayenta", metrics = [...] }, ... }``: the
        KayentaJudge of each canary config name, built now (the manifest is read now)."""
        from ._build import make

        kkey = t.key("kayenta")
        return {name: make(self.ctx, read_call(self.ctx, r.join(kkey, name), v,
                                               {"kayenta": EVALUATORS["kayenta"]}))
                for name, v in t.take("kayenta", r.table, {}).items()}

    def flagger_manifest(self, t: Table, numeric) -> Field:
        """A FlaggerCanary from a Flagger Canary manifest: ``manifest`` (the Canary),
        ``template_manifests`` (its MetricTemplates) and ``queries`` (each template's query
        -> a measurement name, or a table {measure, min_samples, scale}); the analysis
        keys (interval, threshold, step_weight(s), max_weight, metrics) are then the
        manifest's. ``judge`` is not a manifest field and may be given with it."""
        from ..flagger_manifest import ManifestError, parse

        key, canary, templates, queries, qkey = self.manifest_sources(
            t, (*numeric, "step_weights", "metrics"))
        for q, v in queries.items():
            allowed = {"measure", "min_samples", "scale"}
            if not (isinstance(v, str) or (isinstance(v, dict) and "measure" in v
                                           and set(v) <= allowed)):
                raise self.error(r.join(qkey, q), f"expected a measurement name or a table "
                                                  f"{{measure, min_samples, scale}}, got "
                                                  f"{describe(v)}")
        try:
            return Field(parse(canary, templates, queries), key)
        except ManifestError as e:
            raise self.error(key, str(e)) from None

    def manifest(self, t: Table) -> Field:
        """An HPA's manifest (a YAML file path, relative to the scenario file, or a
        table), read and checked: a Field of the HorizontalPodAutoscaler's arguments and
        metadata.name."""
        import os

        from ..kubernetes.manifest import ManifestError, parse, read

        key = t.key("manifest")
        value = t.take("manifest")
        if isinstance(value, str):
            base = os.path.dirname(self.ctx.file) if os.path.isfile(self.ctx.file) else ""
            source = value if os.path.isabs(value) else os.path.join(base, value)
            if not source.endswith((".yaml", ".yml")):
                raise self.error(key, f"expected a .yaml or .yml file, got {value!r}")
        elif isinstance(value, dict):
            source = value
        else:
            raise self.error(key, f"expected a file path or a table, got {describe(value)}")
        try:
            return Field(parse(read(source)), key)
        except ManifestError as e:
            raise self.error(key, str(e)) from None

    # -- everything ---------------------------------------------------------------------------
    def parse(self) -> Plan:
        top = self.top
        name = top.take("name", r.string, self.default_name)
        description = top.take("description", r.text, "")
        simulation = self.simulation()
        raw = top.take("templates", r.table, {})
        for tname, body in raw.items():
            if not isinstance(body, dict):
                raise self.error(r.join("templates", tname),
                                 f"expected a table ([templates.{tname}]), got {describe(body)}")
        self.raw_templates = raw
        for tname in raw:
            self.template(tname, r.join("templates", tname))
        self.server_list()
        lbs = self.load_balancer_list()
        sources = self.source_list()
        targets = {s.target.value for s in sources}
        for s in self.servers.values():
            if s.owner is None and s.name not in targets:
                raise self.error(s.key, f"server {s.name!r} is not used: no load balancer "
                                        "lists it in backends and no source targets it")
        self.analysis_templates()
        components = (
            self.component_list("autoscalers", "autoscaler", {
                "min_instances": r.integer, "max_instances": r.integer,
                "evaluation_interval": r.seconds, "scale_out_cooldown": r.seconds,
                "scale_in_cooldown": r.seconds, "metric_window": r.seconds}, "start_at")
            + self.component_list("canaries", "canary", {"evaluation_interval": r.seconds},
                                  "deploy_at")
            + self.component_list("rolling", "rolling", {
                "batch_size": r.integer, "health_check_interval": r.seconds,
                "healthy_threshold": r.integer, "max_failures": r.integer}, "deploy_at")
            + self.component_list("hpas", "hpa", {
                "sync_period": r.seconds, "tolerance": r.number, "metric_window": r.seconds,
                "cpu_initialization_period": r.seconds,
                "initial_readiness_delay": r.seconds}, "start_at")
            + self.component_list("flaggers", "flagger", {
                "interval": r.seconds, "threshold": r.integer, "step_weight": r.integer,
                "max_weight": r.integer}, "deploy_at")
            + self.component_list("argo_canaries", "argo", {"traffic_routing": r.boolean},
                                  "deploy_at")
            + self.component_list("argo_blue_greens", "argo_bg", {
                "auto_promotion_seconds": r.seconds, "scale_down_delay": r.seconds,
                "preview_weight": r.integer}, "deploy_at"))
        sweep = top.take("sweep", r.table, None)
        tune = top.take("tune", r.table, None)
        return Plan(name, description, simulation, dict(self.templates),
                    list(self.servers.values()), lbs, sources, components, sweep, tune=tune)
