"""Object graph -> BatchModel: the scenario as integer structure arrays plus a parameter
table (one float64 row per replica).

Only built-in parts lower. Anything else is refused with an error that names it and
points to the object engine (``sim.run(replica=i)``), which runs any Entity.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..core.simulation import Simulation, discover
from ..deployment.autoscaler import EVALUATE_EVENT as SCALER_EVENT
from ..deployment.autoscaler import MAX_INSTANCES, AutoScaler
from ..deployment.canary import DEPLOY_EVENT as CANARY_EVENT
from ..deployment.canary import CanaryDeployer
from ..deployment.evaluators import ErrorRateEvaluator, LatencyEvaluator
from ..deployment.numba_policy import NumbaPolicy, placeholder_kernel_function
from ..deployment.policies import QueueDepthScaling, StepScaling, TargetUtilization
from ..deployment.rolling import DEPLOY_EVENT as ROLLING_EVENT
from ..deployment.rolling import RollingDeployer
from ..argo import ArgoBlueGreen, ArgoCanary, Pause, SetWeight
from ..argo.canary import DEPLOY_EVENT as ARGO_EVENT
from ..flagger import DEPLOY_EVENT as FLAGGER_EVENT
from ..flagger import FlaggerCanary
from ..kayenta.judge import KayentaJudge
from ..kubernetes.behavior import MAX_PERIOD_SECONDS, MAX_STABILIZATION_SECONDS
from ..kubernetes.hpa import HorizontalPodAutoscaler
from ..model.arrival_providers import ConstantArrivalTimeProvider, PoissonArrivalTimeProvider
from ..model.event_providers import SimpleEventProvider
from ..model.load_balancer import LoadBalancer
from ..model.profiles import (ConstantRateProfile, LinearRampProfile, PiecewiseRateProfile,
                              SpikeProfile)
from ..model.server import Server
from ..model.sinks import LatencyTracker, Sink
from ..model.source import Source
from ..model.strategies import (LeastConnections, PowerOfTwoChoices, Random, RoundRobin,
                                WeightedRoundRobin)
from ..rules import argo, autoscaler, canary, flagger, hpa, rng, rolling
from ..rules.timeconv import MAX_SECONDS
from . import schema as sc
from .bundles import Scenario
from .params import ParamTable

STRATEGY_CODES = {RoundRobin: sc.ST_ROUND_ROBIN, WeightedRoundRobin: sc.ST_WEIGHTED,
                  LeastConnections: sc.ST_LEAST_CONN, Random: sc.ST_RANDOM,
                  PowerOfTwoChoices: sc.ST_POWER_OF_TWO}
POINTER = "run it in the object engine with sim.run(replica=i) instead"
# Bounds of a duration in seconds (the constructors' validate.seconds).
SECONDS = dict(minimum=0.0, maximum=MAX_SECONDS, max_open=True)
POSITIVE_SECONDS = dict(SECONDS, min_open=True)
TEMPLATE_CHECKS = 16


class LoweringError(TypeError):
    """A part of the scenario the batch engine cannot run."""


@dataclass
class Column:
    """A group of output columns: component name, kind ('lb', 'scaler', 'canary',
    'rolling') and its index among components of that kind."""

    name: str
    kind: str
    index: int


@dataclass
class BatchModel:
    """A scenario lowered for the kernels."""

    params: ParamTable
    scenario: Scenario
    start_ns: int
    end_ns: int
    columns: list[Column]
    scaler_names: list[str]
    server_cap: int
    pool_cap: int
    scaler_slots: list = field(default_factory=list)  # (interval slot, live chains)
    # the controllers' (evaluation interval, metric window) parameter slots
    window_slots: list = field(default_factory=list)
    # the KayentaJudges' ("canary", "flagger" or "argo", parameter offset, stages, metrics)
    judge_slots: list = field(default_factory=list)

    def mark_slots(self, P_ROWS: np.ndarray) -> int:
        """The most marks a server keeps for a controller's metric window in these rows
        (rules/autoscaler.py mark_slots; 0 when none averages)."""
        most = 0
        for interval_slot, window_slot in self.window_slots:
            for p in np.unique(P_ROWS[:, [interval_slot, window_slot]], axis=0):
                prm = np.zeros(autoscaler.P_POLICY, np.float64)
                prm[autoscaler.P_INTERVAL], prm[autoscaler.P_WINDOW] = p
                most = max(most, int(autoscaler.mark_slots(prm)))
        return most

    def judge_size(self, P_ROWS: np.ndarray) -> tuple[int, int]:
        """(The most windows a KayentaJudge's deployment judges in these rows, the most
        metrics of a judge): rules/canary.py max_evaluations, rules/flagger.py
        max_analyses, an ArgoCanary's Kayenta metrics' sub-windows (rules/argo.py
        series_capacity); (0, 0) without a judge."""
        windows = metrics = 0
        for kind, off, n_stages, n_metrics in self.judge_slots:
            for p in np.unique(P_ROWS[:, off:], axis=0):
                p = np.ascontiguousarray(p, np.float64)
                if kind == "canary":
                    most = canary.max_evaluations(p, n_stages)
                elif kind == "flagger":
                    most = flagger.max_analyses(p)
                else:
                    most = argo.series_capacity(p)
                windows = max(windows, int(most))
            metrics = max(metrics, n_metrics)
        return windows, metrics

    def max_concurrency(self, P_ROWS: np.ndarray) -> int:
        """The largest concurrency of any server or template over the given rows."""
        offsets = self.scenario.templates[:, sc.TPL_POFF] + sc.TP_CONCURRENCY
        if offsets.shape[0] == 0 or P_ROWS.shape[0] == 0:
            return 1
        return max(1, int(P_ROWS[:, offsets].max()))


def _server_signature(server) -> tuple:
    d = server.service_time
    u = server.startup_delay
    return (server.concurrency, server.queue_capacity, type(d).__name__, d.a, d.b,
            server.failure_rate, type(u).__name__, u.a, u.b, server.termination_grace)


def _refuse(part, why: str):
    name = getattr(part, "name", None)
    label = f"{type(part).__name__} {name!r}" if name else repr(part)
    raise LoweringError(f"the batch engine cannot run {label}: {why}; {POINTER}")


def _exact(part, cls, what):
    if type(part) is not cls:
        _refuse(part, f"{what} must be a built-in {cls.__name__} (not a subclass or another "
                      "class)")


class _Lowerer:
    def __init__(self, sim: Simulation):
        if sim.end_time is None:
            raise LoweringError("the batch engine needs an end time: give Simulation an "
                                f"end_time or duration; {POINTER}")
        self.sources, self.entities, self.pending = sim.initial_graph()
        self.start_ns = sim.start_time.nanoseconds
        self.end_ns = sim.end_time.nanoseconds
        self.pt = ParamTable()
        self.tpl_rows: list[tuple[int, int]] = []

    # -- parts ----------------------------------------------------------------------------
    def flagger_params(self, c) -> int:
        """A FlaggerCanary's parameters in rules/flagger.py's layout; returns the offset."""
        pt = self.pt
        n = c.name
        steps = c.step_weights or []
        off = pt.add(f"{n}.interval", c.interval, **POSITIVE_SECONDS)
        pt.add(f"{n}.threshold", c.threshold, integer=True, minimum=1)
        weight = dict(integer=True, minimum=1, maximum=100)
        if steps:
            pt.hidden(0.0)  # Flagger's stepWeight is 0 when stepWeights are given
        else:
            pt.add(f"{n}.step_weight", c.step_weight, **weight)
        pt.add(f"{n}.max_weight", c.max_weight, **weight)
        pt.hidden(float(len(steps)))
        pt.hidden(float(len(c.metrics)))
        slots = [pt.add(f"{n}.step_weights.{k}", w, **weight) for k, w in enumerate(steps)]
        for k in range(1, len(slots)):
            a, b = slots[k - 1], slots[k]
            pt.require(f"{n}.step_weights must increase ({n}.step_weights.{k} > "
                       f"{n}.step_weights.{k - 1})", lambda P, a=a, b=b: P[:, b] > P[:, a])
        for k, m in enumerate(c.metrics):
            field, scale = flagger.BUILTIN_METRICS[m.name]
            pt.hidden(float(field))
            pt.hidden(scale * m.scale)
            lo = hi = None
            for bound in ("min", "max"):
                v = getattr(m, bound)
                if v is None:
                    pt.hidden(-np.inf if bound == "min" else np.inf)
                else:
                    slot = pt.add(f"{n}.metrics.{k}.{bound}", v)
                    lo, hi = (slot, hi) if bound == "min" else (lo, slot)
            if lo is not None and hi is not None:
                pt.require(f"{n}.metrics.{k}.min must be <= {n}.metrics.{k}.max",
                           lambda P, lo=lo, hi=hi: P[:, lo] <= P[:, hi])
            pt.add(f"{n}.metrics.{k}.min_samples", m.min_samples, integer=True, minimum=1)
        if c.judge is None:
            pt.hidden(0.0)
        else:
            pt.hidden(1.0)
            self.judge_params(c.judge, f"{n}.judge")
        return off

    def argo_params(self, c) -> int:
        """An ArgoCanary's parameters in rules/argo.py's layout (ArgoCanary._param_row's
        values, each number a path); returns the offset."""
        pt = self.pt
        n = c.name
        runs = c.runs()
        off = pt.hidden(float(len(c.steps)))
        pt.hidden(float(c.n_slots))
        bg = c.analysis
        if bg is None:
            pt.hidden(-1.0)
        else:
            pt.add(f"{n}.analysis.starting_step", bg.starting_step, integer=True, minimum=0,
                   maximum=len(c.steps) - 1)
        bg_first = sum(len(t.metrics) for _, t, b in runs if not b)
        pt.hidden(float(bg_first) if bg is not None else 0.0)
        pt.hidden(float(len(bg.template.metrics)) if bg is not None else 0.0)
        pt.hidden(1.0 if c.traffic_routing else 0.0)
        pt.hidden(1.0 if c.baseline_percentiles else 0.0)
        green = type(c) is ArgoBlueGreen
        if green:
            pt.add(f"{n}.scale_down_delay", c.scale_down_delay, **SECONDS)
        else:
            pt.hidden(-1.0)
        pt.hidden(float(sum(m.judged for m in c.slot_metrics())))
        first = 0
        for k, st in enumerate(c.steps):
            if isinstance(st, SetWeight):
                pt.hidden(float(argo.K_SET_WEIGHT))
                pt.add(f"{n}.preview_weight" if green else f"{n}.steps.{k}.percent",
                       st.percent, integer=True, minimum=0, maximum=100)
                pt.hidden(0.0)
                pt.hidden(0.0)
            elif isinstance(st, Pause):
                pt.hidden(float(argo.K_PAUSE))
                if st.duration is None:
                    pt.hidden(-1.0)
                else:
                    pt.add(f"{n}.auto_promotion_seconds" if green else f"{n}.steps.{k}.duration",
                           st.duration, **SECONDS)
                pt.hidden(0.0)
                pt.hidden(0.0)
            else:
                pt.hidden(float(argo.K_ANALYSIS))
                pt.hidden(0.0)
                pt.hidden(float(first))
                pt.hidden(float(len(st.template.metrics)))
                first += len(st.template.metrics)
        judged = []  # (path prefix, metric) of the Kayenta metrics, in slot order
        offsets = iter(c.judge_offsets())
        for owner, template, _ in runs:
            if green:
                pre = f"{n}.pre_promotion_analysis"
            elif owner == "analysis":
                pre = f"{n}.analysis.template"
            else:
                pre = f"{n}.steps.{owner}.template"
            for j, m in enumerate(template.metrics):
                self.argo_metric(m, f"{pre}.metrics.{j}", next(offsets))
                if m.judged:
                    judged.append((f"{pre}.metrics.{j}", m))
        for pre, m in judged:
            # After the slots (rules/argo.py MP_JUDGE); Argo's thresholds are integers.
            self.judge_params(m.measure, f"{pre}.measure", whole_scores=True)
        return off

    def argo_metric(self, m, pre: str, judge_offset: int) -> None:
        """An AnalysisMetric's slot (AnalysisMetric.params' values)."""
        pt = self.pt
        row = m.params(judge_offset)
        if m.judged:
            for q in range(argo.MP_INTERVAL):
                pt.hidden(row[q])
        else:
            self.argo_conditions(m, pre, row)
        iv = pt.add(f"{pre}.interval", m.interval, **POSITIVE_SECONDS)
        if m.count is None:
            pt.hidden(-1.0)
        else:
            pt.add(f"{pre}.count", m.count, integer=True, minimum=1)
        pt.add(f"{pre}.initial_delay", m.initial_delay, **SECONDS)
        fl = pt.add(f"{pre}.failure_limit", m.failure_limit, integer=True, minimum=-1)
        pt.add(f"{pre}.inconclusive_limit", m.inconclusive_limit, integer=True, minimum=0)
        cs = pt.add(f"{pre}.consecutive_success_limit", m.consecutive_success_limit,
                    integer=True, minimum=0)
        if m.judged:
            pt.hidden(1.0)  # min_samples: the judge's own
            st = pt.add(f"{pre}.step", m.step, **POSITIVE_SECONDS)
            pt.hidden(float(judge_offset))

            def whole_steps(P, iv=iv, st=st):
                ns = np.floor(P[:, [iv, st]] * 1e9 + 0.5).astype(np.int64)
                return ns[:, 0] % ns[:, 1] == 0

            pt.require(f"{pre}.interval must be a whole number of {pre}.step", whole_steps)
        else:
            pt.add(f"{pre}.min_samples", m.min_samples, integer=True, minimum=1)
            pt.hidden(0.0)
            pt.hidden(-1.0)
        pt.require(f"{pre}.failure_limit -1 (no limit) needs "
                   f"{pre}.consecutive_success_limit >= 1",
                   lambda P, fl=fl, cs=cs: (P[:, fl] >= 0) | (P[:, cs] >= 1))

    def argo_conditions(self, m, pre: str, row) -> None:
        """A measurement metric's field, ratio flag and conditions."""
        pt = self.pt
        pt.hidden(row[argo.MP_FIELD])
        pt.hidden(row[argo.MP_RATIO])
        for name, cond in (("success", m.success), ("failure", m.failure)):
            pt.hidden(row[argo.MP_SUCCESS_OP if name == "success" else argo.MP_FAILURE_OP])
            if cond is None:
                pt.hidden(0.0)
            else:
                pt.add(f"{pre}.{name}.threshold", cond.threshold)

    def judge_params(self, judge, prefix: str, whole_scores: bool = False) -> None:
        """A KayentaJudge's judge row (rules/kayenta.py J_ layout): its numbers as paths
        under ``prefix`` (``...pass_score``, ``...metrics.K.allowed_increase``), its
        structure hidden; ``whole_scores``: the scores are integers (Argo's thresholds)."""
        pt = self.pt
        slots = {}
        for path, value, bounds in judge.param_values():
            if path is None:
                pt.hidden(value)
            else:
                if whole_scores and path in ("pass_score", "marginal_score"):
                    bounds = dict(bounds, integer=True)
                slots[path] = pt.add(f"{prefix}.{path}", value, **bounds)
        m, p = slots["marginal_score"], slots["pass_score"]
        pt.require(f"{prefix}.marginal_score must be <= {prefix}.pass_score",
                   lambda P, m=m, p=p: P[:, m] <= P[:, p])

    def server_params(self, server, prefix: str, boots: bool) -> int:
        """Lower a server's parameters; returns its template row. ``boots``: the
        template of instances created during the run (servers present at the start are
        ready at once: their start-up delay is no parameter)."""
        _exact(server, Server, "a backend")
        pt = self.pt
        off = pt.add(f"{prefix}.concurrency", server.concurrency, integer=True, minimum=1)
        if server.queue_capacity is None:
            pt.hidden(-1)
        else:
            pt.add(f"{prefix}.queue_capacity", server.queue_capacity, integer=True, minimum=0)
        dist = server.service_time
        self.distribution(dist, f"{prefix}.service_time")
        pt.add(f"{prefix}.failure_rate", server.failure_rate, minimum=0.0, maximum=1.0)
        startup = server.startup_delay
        if boots:
            self.distribution(startup, f"{prefix}.startup_delay")
        else:
            pt.hidden(0.0)
            pt.hidden(0.0)
        if server.termination_grace is None:
            pt.hidden(-1.0)
        else:
            pt.add(f"{prefix}.termination_grace", server.termination_grace, **SECONDS)
        self.tpl_rows.append((dist.kind, off, startup.kind if boots else 0))
        return len(self.tpl_rows) - 1

    def distribution(self, dist, prefix: str) -> None:
        """A latency distribution's two parameters (the second hidden when unused)."""
        pt = self.pt
        name_a, name_b = dist.param_names
        positive = name_a in ("mean_latency", "mean")
        pt.add(f"{prefix}.{name_a}", dist.a, minimum=0.0, min_open=positive)
        if name_b is None:
            pt.hidden(0.0)
        else:
            ib = pt.add(f"{prefix}.{name_b}", dist.b, minimum=0.0)
            if name_b == "high":
                ia = ib - 1
                pt.require(f"{prefix}: high must be >= low",
                           lambda P, ia=ia, ib=ib: P[:, ib] >= P[:, ia])

    def template(self, component, names: list[str]) -> int:
        """Lower the servers ``component.server_factory`` makes as one template.

        The factory is called with the names the component will give its first instances;
        they must all be built-in Servers, named as asked, with equal parameters, since
        the kernels create every instance from one template.
        """
        servers = [component.server_factory(n) for n in names]
        first = servers[0]
        for name, server in zip(names, servers):
            if type(server) is not Server:
                _refuse(component, f"its server_factory returned {server!r}, not a built-in "
                                   "Server")
            if server.name != name:
                _refuse(component, f"server_factory({name!r}) returned a server named "
                                   f"{server.name!r}; it must use the name it is given")
            if _server_signature(server) != _server_signature(first):
                _refuse(component, f"server_factory gives differently configured servers "
                                   f"({names[0]!r}: {_server_signature(first)}, {name!r}: "
                                   f"{_server_signature(server)}); the batch engine builds "
                                   "every instance from one template")
        return self.server_params(first, f"{component.name}.server", True)

    def profile(self, src) -> tuple[int, int, int]:
        prof = src.profile
        pre = f"{src.name}.profile"
        pt = self.pt
        pos = dict(minimum=0.0)
        if type(prof) is ConstantRateProfile:
            return sc.PROF_CONSTANT, pt.add(f"{pre}.rate", prof.rate, **pos), 1
        if type(prof) is LinearRampProfile:
            off = pt.add(f"{pre}.duration_s", prof.duration_s, minimum=0.0, min_open=True)
            pt.add(f"{pre}.start_rate", prof.start_rate, **pos)
            pt.add(f"{pre}.end_rate", prof.end_rate, **pos)
            return sc.PROF_LINEAR, off, 2
        if type(prof) is SpikeProfile:
            off = pt.add(f"{pre}.baseline_rate", prof.baseline_rate, **pos)
            pt.add(f"{pre}.spike_rate", prof.spike_rate, **pos)
            pt.add(f"{pre}.warmup_s", prof.warmup_s, **pos)
            pt.add(f"{pre}.spike_duration_s", prof.spike_duration_s, **pos)
            return sc.PROF_SPIKE, off, 3
        if type(prof) is PiecewiseRateProfile:
            off = -1
            for i, (t, r) in enumerate(prof.points):
                k = pt.add(f"{pre}.points.{i}.time", t, **pos)
                pt.add(f"{pre}.points.{i}.rate", r, **pos)
                off = k if off < 0 else off
            n = len(prof.points)
            if n > 1:
                first = off
                pt.require(f"{pre}.points: times must increase",
                           lambda P, f=first, n=n: np.all(np.diff(P[:, f:f + 2 * n:2], axis=1) > 0,
                                                          axis=1))
            return sc.PROF_PIECEWISE, off, n
        _refuse(src, f"its profile {prof!r} is not a built-in profile (use "
                     "ConstantRateProfile, LinearRampProfile, SpikeProfile, or "
                     "PiecewiseRateProfile for any rate over time given as (time, rate) "
                     "points)")

    def source(self, src) -> None:
        """Refuse a source whose parts have no built-in equivalent, naming the one to use."""
        p = src.event_provider
        if type(p) is not SimpleEventProvider or p.context_fn is not None:
            _refuse(src, f"its event_provider {p!r} is user code (use "
                         "SimpleEventProvider(target) without context_fn, or "
                         "Source(name, rate_or_profile, target), which create one request per "
                         "arrival)")
        a = src.arrival_time_provider
        if type(a) not in (ConstantArrivalTimeProvider, PoissonArrivalTimeProvider):
            _refuse(src, f"its arrival_time_provider {a!r} is not built-in (use "
                         "ConstantArrivalTimeProvider or PoissonArrivalTimeProvider)")

    def hpa_params(self, a) -> tuple[int, int, int]:
        """A HorizontalPodAutoscaler's parameters in rules/autoscaler.py's layout, then
        rules/hpa.py's (``param_values``: every number a path, what is structure hidden);
        returns the offset and the slots of its sync period and metric window."""
        pt = self.pt
        n = a.name
        off = pt.add(f"{n}.min_replicas", a.min_replicas, integer=True, minimum=1)
        pt.add(f"{n}.max_replicas", a.max_replicas, integer=True, minimum=1,
               maximum=MAX_INSTANCES)
        sync = pt.add(f"{n}.sync_period", a.sync_period, minimum=hpa.MIN_SYNC_PERIOD,
                      maximum=MAX_SECONDS, max_open=True)
        pt.hidden(0.0)  # no cooldowns
        pt.hidden(0.0)
        window = pt.add(f"{n}.metric_window", a.metric_window, **SECONDS)
        pt.require(f"{n}: min_replicas must be <= max_replicas",
                   lambda P, o=off: P[:, o + autoscaler.P_MIN] <= P[:, o + autoscaler.P_MAX])
        kinds = [m.code()[0] for m in a.metrics]
        for path, value in a.param_values():
            if not path:
                pt.hidden(value)
                continue
            last = path.rsplit(".", 1)[-1]
            if path.startswith("metrics."):
                k = int(path.split(".")[1])
                limits = (dict(minimum=0.005, maximum=100.0) if kinds[k] == hpa.CPU
                          else dict(minimum=0.001))
            elif last == "stabilization_window":
                limits = dict(minimum=0.0, maximum=MAX_STABILIZATION_SECONDS)
            elif last == "value":
                limits = dict(integer=True, minimum=1, maximum=2**31 - 1)
            elif last == "period":
                limits = dict(minimum=0.0, min_open=True, maximum=MAX_PERIOD_SECONDS)
            elif last == "tolerance":
                limits = dict(minimum=0.0)
            else:
                limits = SECONDS
            pt.add(f"{n}.{path}", value, **limits)
        return off, sync, window

    # -- the whole scenario --------------------------------------------------------------------
    def lower(self) -> BatchModel:
        comps = discover(self.sources, self.entities)
        sources = [c for c in comps if isinstance(c, Source)]
        if len(sources) != len(self.sources) or any(s not in sources for s in self.sources):
            _refuse(self.sources[0], "sources must be built-in Sources")
        # A Sink or LatencyTracker nothing built-in can send to receives nothing in either
        # engine (happysim's examples list one anyway): it lowers to nothing.
        comps = [c for c in comps if type(c) not in (Sink, LatencyTracker)]
        for c in comps:
            if type(c) not in (Source, Server, LoadBalancer, AutoScaler, CanaryDeployer,
                               RollingDeployer, HorizontalPodAutoscaler, FlaggerCanary,
                               ArgoCanary, ArgoBlueGreen):
                _refuse(c, "it is not a built-in component")
        for s in sources:
            self.source(s)
        servers = [c for c in comps if type(c) is Server]
        lbs = [c for c in comps if type(c) is LoadBalancer]
        # HorizontalPodAutoscalers are scalers with their own rules (policy autoscaler.HPA).
        scalers = [c for c in comps if type(c) in (AutoScaler, HorizontalPodAutoscaler)]
        # FlaggerCanaries and ArgoCanaries share the canaries' rows (schema CA_FLAGGER,
        # CA_ARGO).
        canaries = [c for c in comps if type(c) in (CanaryDeployer, FlaggerCanary, ArgoCanary,
                                                    ArgoBlueGreen)]
        rollings = [c for c in comps if type(c) is RollingDeployer]
        server_index = {id(s): i for i, s in enumerate(servers)}
        lb_index = {id(b): i for i, b in enumerate(lbs)}
        for s in servers:
            self.server_params(s, s.name, False)

        # Load balancers: strategy, initial backends and weights.
        owner: dict[int, str] = {}
        strategies: dict[int, str] = {}
        max_b = max([len(b.all_backends) for b in lbs] + [0])
        # Per load balancer: strategy, backend count, backends added and removed before
        # the run (they count in its stats), then (server, weight) pairs.
        LB_INIT = np.zeros((len(lbs), sc.LBS_PAIRS + 2 * max_b), np.int64)
        for i, lb in enumerate(lbs):
            code = STRATEGY_CODES.get(type(lb.strategy))
            if code is None:
                _refuse(lb, f"its strategy {lb.strategy!r} is not a built-in strategy")
            if id(lb.strategy) in strategies:
                _refuse(lb, f"it shares its strategy object with {strategies[id(lb.strategy)]!r}; "
                            "give each load balancer its own")
            strategies[id(lb.strategy)] = lb.name
            LB_INIT[i, sc.LBS_STRATEGY] = code
            LB_INIT[i, sc.LBS_BACKENDS] = len(lb.all_backends)
            LB_INIT[i, sc.LBS_ADDED] = lb.stats.backends_added
            LB_INIT[i, sc.LBS_REMOVED] = lb.stats.backends_removed
            for k, b in enumerate(lb.all_backends):
                if id(b) in owner:
                    _refuse(b, f"it is a backend of both {owner[id(b)]!r} and {lb.name!r}")
                owner[id(b)] = lb.name
                LB_INIT[i, sc.LBS_PAIRS + 2 * k] = server_index[id(b)]
                LB_INIT[i, sc.LBS_PAIRS + 2 * k + 1] = lb.weight_of(b)
            if lb.traffic_split[0]:
                _refuse(lb, "it has a traffic split set before the run")

        # Sources.
        SRC = np.zeros((len(sources), sc.SRC_FIELDS), np.int64)
        for i, s in enumerate(sources):
            row = SRC[i]
            if id(s.target) in lb_index:
                row[sc.SRC_TARGET_KIND], row[sc.SRC_TARGET] = sc.TO_LB, lb_index[id(s.target)]
            elif id(s.target) in server_index:
                row[sc.SRC_TARGET_KIND] = sc.TO_SERVER
                row[sc.SRC_TARGET] = server_index[id(s.target)]
            else:
                _refuse(s, f"its target {s.target!r} is not a LoadBalancer or Server")
            row[sc.SRC_POISSON] = 1 if s.poisson else 0
            row[sc.SRC_PROFILE], row[sc.SRC_POFF], row[sc.SRC_POINTS] = self.profile(s)
            if s.stop_after is None:
                row[sc.SRC_STOP_SLOT] = -1
            else:
                row[sc.SRC_STOP_SLOT] = self.pt.add(f"{s.name}.stop_after",
                                                    s.stop_after.to_seconds(), **SECONDS)

        def lb_of(component):
            lb = component.load_balancer
            if id(lb) not in lb_index:
                _refuse(component, f"its load balancer {lb!r} is not a built-in LoadBalancer")
            return lb_index[id(lb)]

        pt = self.pt
        SCS = np.zeros((len(scalers), sc.SCS_FIELDS), np.int64)
        SCS[:, sc.SCS_FUNCTION] = -1
        functions: list = []  # the distinct NumbaPolicy functions
        kernels_of: dict = {}
        scaler_slots = []
        window_slots = []
        for i, a in enumerate(scalers):
            n = a.name
            row = SCS[i]
            row[sc.SCS_LB] = lb_of(a)
            if type(a) is HorizontalPodAutoscaler:
                row[sc.SCS_POLICY] = autoscaler.HPA
                row[sc.SCS_POFF], interval_slot, window_slot = self.hpa_params(a)
                window_slots.append((interval_slot, window_slot))
                scaler_slots.append(interval_slot)
                continue
            # The parameters in rules/autoscaler.py's layout (PARAM_NAMES, then the policy's).
            limits = dict(min_instances=dict(integer=True, minimum=0),
                          max_instances=dict(integer=True, minimum=1, maximum=MAX_INSTANCES),
                          evaluation_interval=POSITIVE_SECONDS,
                          scale_out_cooldown=SECONDS, scale_in_cooldown=SECONDS,
                          metric_window=SECONDS)
            slots = [pt.add(f"{n}.{name}", getattr(a, name), **limits[name])
                     for name in autoscaler.PARAM_NAMES]
            window_slots.append((slots[autoscaler.P_INTERVAL], slots[autoscaler.P_WINDOW]))
            off = slots[autoscaler.P_MIN]
            pt.require(f"{n}: min_instances must be <= max_instances",
                       lambda P, o=off: P[:, o + autoscaler.P_MIN] <= P[:, o + autoscaler.P_MAX])
            pol = a.policy
            if type(pol) is TargetUtilization:
                row[sc.SCS_POLICY] = autoscaler.TARGET
                pt.add(f"{n}.policy.target", pol.target, minimum=0.0, maximum=1.0, min_open=True)
                pt.add(f"{n}.policy.tolerance", pol.tolerance, minimum=0.0)
            elif type(pol) is StepScaling:
                row[sc.SCS_POLICY] = autoscaler.STEP
                row[sc.SCS_NSTEPS] = len(pol.steps)
                for k, (thr, adj) in enumerate(pol.steps):
                    pt.add(f"{n}.policy.steps.{k}.threshold", thr, minimum=0.0)
                    pt.add(f"{n}.policy.steps.{k}.adjustment", adj, integer=True)
            elif type(pol) is QueueDepthScaling:
                row[sc.SCS_POLICY] = autoscaler.QUEUE_DEPTH
                o = pt.add(f"{n}.policy.scale_out_threshold", pol.scale_out_threshold,
                           integer=True, minimum=0)
                pt.add(f"{n}.policy.scale_in_threshold", pol.scale_in_threshold, integer=True,
                       minimum=0)
                pt.require(f"{n}.policy: scale_in_threshold must be below scale_out_threshold",
                           lambda P, o=o: P[:, o + 1] < P[:, o])
            elif type(pol) is NumbaPolicy:
                row[sc.SCS_POLICY] = autoscaler.FUNCTION
                for name, value in pol.params.items():
                    pt.add(f"{n}.policy.params.{name}", value)
                if pol.function not in functions:
                    if len(functions) == sc.MAX_POLICY_FUNCTIONS:
                        _refuse(a, f"a scenario may use at most {sc.MAX_POLICY_FUNCTIONS} "
                                   "different NumbaPolicy functions")
                    functions.append(pol.function)
                row[sc.SCS_FUNCTION] = functions.index(pol.function)
                row[sc.SCS_MEMORY] = pol.memory
                kernels_of[pol.function] = pol.kernel_function()
            else:
                _refuse(a, f"its policy {pol!r} is not a built-in policy")
            row[sc.SCS_POFF] = off
            scaler_slots.append(slots[autoscaler.P_INTERVAL])

        for a, (i_slot, w_slot) in zip(scalers, window_slots):
            interval_name = ("sync_period" if type(a) is HorizontalPodAutoscaler
                             else "evaluation_interval")
            pt.require(f"{a.name}.metric_window must be at most "
                       f"{autoscaler.MAX_WINDOW_INTERVALS} times {a.name}.{interval_name}",
                       lambda P, i=i_slot, w=w_slot:
                       P[:, w] <= autoscaler.MAX_WINDOW_INTERVALS * P[:, i])

        CAS = np.zeros((len(canaries), sc.CAS_FIELDS), np.int64)
        judges = []  # (kind, parameter offset, stages, metrics) of each KayentaJudge
        for i, c in enumerate(canaries):
            n = c.name
            row = CAS[i]
            row[sc.CAS_LB] = lb_of(c)
            if type(c) is FlaggerCanary:
                row[sc.CAS_EVALUATOR] = sc.CA_FLAGGER
                row[sc.CAS_POFF] = self.flagger_params(c)
                if c.judge is not None:
                    row[sc.CAS_JUDGE] = 1
                    judges.append(("flagger", row[sc.CAS_POFF], 0, len(c.judge.metrics)))
                continue
            if type(c) in (ArgoCanary, ArgoBlueGreen):
                row[sc.CAS_EVALUATOR] = sc.CA_ARGO
                row[sc.CAS_NSTAGES] = c.n_slots
                row[sc.CAS_POFF] = self.argo_params(c)
                judged = [m for m in c.slot_metrics() if m.judged]
                if judged:
                    row[sc.CAS_JUDGE] = 1
                    judges.append(("argo", row[sc.CAS_POFF], 0,
                                   max(len(m.measure.metrics) for m in judged)))
                continue
            # rules/canary.py's layout: interval, the evaluator's limit and multiplier, stages.
            off = pt.add(f"{n}.evaluation_interval", c.evaluation_interval, **POSITIVE_SECONDS)
            ev = c.metric_evaluator
            if type(ev) is ErrorRateEvaluator:
                row[sc.CAS_EVALUATOR] = canary.ERROR_RATE
                pt.add(f"{n}.metric_evaluator.max_error_rate", ev.max_error_rate, minimum=0.0,
                       maximum=1.0)
            elif type(ev) is LatencyEvaluator:
                row[sc.CAS_EVALUATOR] = canary.LATENCY
                pt.add(f"{n}.metric_evaluator.max_latency", ev.max_latency, minimum=0.0,
                       min_open=True)
            elif type(ev) is KayentaJudge:
                row[sc.CAS_EVALUATOR] = sc.CA_KAYENTA
                pt.hidden(0.0)  # no limit and multiplier
            else:
                _refuse(c, f"its metric_evaluator {ev!r} is not a built-in evaluator")
            if type(ev) is not KayentaJudge:
                pt.add(f"{n}.metric_evaluator.threshold_multiplier", ev.threshold_multiplier,
                       minimum=0.0, min_open=True)
            else:
                pt.hidden(0.0)
            for k, st in enumerate(c.stages):
                pt.add(f"{n}.stages.{k}.traffic_percentage", st.traffic_percentage, minimum=0.0,
                       maximum=1.0, min_open=True)
                pt.add(f"{n}.stages.{k}.evaluation_period", st.evaluation_period, **SECONDS)
            row[sc.CAS_NSTAGES] = len(c.stages)
            row[sc.CAS_POFF] = off
            if type(ev) is KayentaJudge:
                self.judge_params(ev, f"{n}.metric_evaluator")
                row[sc.CAS_JUDGE] = 1
                judges.append(("canary", off, len(c.stages), len(ev.metrics)))

        ROS = np.zeros((len(rollings), sc.ROS_FIELDS), np.int64)
        for i, r in enumerate(rollings):
            n = r.name
            ROS[i, sc.ROS_LB] = lb_of(r)
            limits = dict(batch_size=dict(integer=True, minimum=1),
                          health_check_interval=POSITIVE_SECONDS,
                          healthy_threshold=dict(integer=True, minimum=1),
                          max_failures=dict(integer=True, minimum=0))
            slots = [pt.add(f"{n}.{name}", getattr(r, name), **limits[name])
                     for name in rolling.PARAM_NAMES]
            ROS[i, sc.ROS_POFF] = slots[0]

        # Templates come after the initial servers, in component order.
        # The first few names each component will use (a factory that varies its servers
        # by name shows it there; checking thousands would only cost time and memory).
        fleet = min(max([len(b.all_backends) for b in lbs] + [1]), TEMPLATE_CHECKS)
        for i, a in enumerate(scalers):
            SCS[i, sc.SCS_TPL] = self.template(a, [f"{a.name}_server_{k}" for k in
                                                   range(1, min(a.max_instances,
                                                                TEMPLATE_CHECKS) + 2)])
        for i, c in enumerate(canaries):
            names = [f"{c.name}_canary"] + [f"{c.name}_canary_{k}" for k in range(2, fleet + 2)]
            CAS[i, sc.CAS_TPL] = self.template(c, names)
        for i, r in enumerate(rollings):
            ROS[i, sc.ROS_TPL] = self.template(r, [f"{r.name}_v2_{k}" for k in range(1, fleet + 2)])
        TPL = np.asarray(self.tpl_rows, dtype=np.int64).reshape(-1, sc.TPL_FIELDS)

        # Events scheduled before the run: the start() and deploy() events of built-in
        # components.
        index_of = {}
        for i, a in enumerate(scalers):
            index_of[id(a)] = (sc.SCALER_EVAL, i)
        deploy_type = {}
        for i, c in enumerate(canaries):
            index_of[id(c)] = (sc.CANARY_DEPLOY, i)
            deploy_type[id(c)] = {FlaggerCanary: FLAGGER_EVENT, ArgoCanary: ARGO_EVENT,
                                  ArgoBlueGreen: ARGO_EVENT}.get(type(c), CANARY_EVENT)
        for i, r in enumerate(rollings):
            index_of[id(r)] = (sc.ROLL_DEPLOY, i)
        INIT_EV = np.zeros((len(self.pending), sc.IE_FIELDS), np.int64)
        live_chains = [0] * len(scalers)
        live_evaluations = _live_evaluations(self.pending, scalers)
        for e, ev in enumerate(self.pending):
            if ev.time.nanoseconds < self.start_ns:
                # The object engine refuses it the same way when the run starts.
                raise ValueError(f"{ev!r} is scheduled before the current time "
                                 f"{self.start_ns / 1e9}s")
            kind_target = index_of.get(id(ev.target))
            expected = {sc.SCALER_EVAL: SCALER_EVENT, sc.CANARY_DEPLOY: CANARY_EVENT,
                        sc.ROLL_DEPLOY: ROLLING_EVENT}
            if (kind_target is None
                    or ev.event_type != deploy_type.get(id(ev.target), expected[kind_target[0]])
                    or ev.has_completion_hooks):
                raise LoweringError(f"the batch engine cannot run the scheduled event {ev!r}: "
                                    "only start() and deploy() events of built-in components "
                                    f"lower; {POINTER}")
            kind, target = kind_target
            payload = 0
            if kind == sc.SCALER_EVAL:
                # An evaluation the scaler will not act on (a second start(), or after
                # stop()) is a no-op in the kernels too.
                payload = sc.LIVE_CHAIN if id(ev) in live_evaluations else 0
                live_chains[target] += payload
            INIT_EV[e] = (ev.time.nanoseconds, kind, target, payload)

        # Start-up streams, per template: of the server itself (initial servers never
        # boot), then of each component that creates servers, in template order.
        creators = [s.name for s in servers] + [c.name for c in scalers + canaries + rollings]
        SID = np.array([rng.stream_id(rng.REQUESTS_STREAM)]
                       + [rng.stream_id(rng.source_stream(s.name)) for s in sources]
                       + [rng.stream_id(rng.routing_stream(b.name)) for b in lbs]
                       + [rng.stream_id(rng.probe_stream(r.name)) for r in rollings]
                       + [rng.stream_id(rng.startup_stream(n)) for n in creators],
                       dtype=np.uint64)

        columns = []
        counters = {"lb": 0, "scaler": 0, "canary": 0, "rolling": 0}
        kinds = {LoadBalancer: "lb", AutoScaler: "scaler", CanaryDeployer: "canary",
                 RollingDeployer: "rolling", HorizontalPodAutoscaler: "scaler",
                 FlaggerCanary: "flagger", ArgoCanary: "argo", ArgoBlueGreen: "argo"}
        for c in comps:
            k = kinds.get(type(c))
            if k is not None:
                # A FlaggerCanary's or ArgoCanary's outputs are a canary row (they share
                # the rows).
                slot = "canary" if k in ("flagger", "argo") else k
                columns.append(Column(c.name, k, counters[slot]))
                counters[slot] += 1

        conc = sum(s.concurrency for s in servers)
        server_cap = max(8, len(servers) + 2 * sum(a.max_instances for a in scalers)
                         + sum(2 * len(b.all_backends) + 2 for b in lbs) * len(canaries)
                         + sum(len(b.all_backends) + 2 for b in lbs) * len(rollings))
        # First guesses; a replica that needs more gets twice the room (batch/run.py).
        server_cap = min(server_cap, 1024)
        pool_cap = min(max(256, 4 * conc), 4096)
        policy_functions = tuple([kernels_of[f] for f in functions] + [
            placeholder_kernel_function()] * (sc.MAX_POLICY_FUNCTIONS - len(functions)))
        scenario = Scenario(templates=TPL, sources=SRC, stream_ids=SID, lb_init=LB_INIT,
                            scaler_init=SCS, canary_init=CAS, rolling_init=ROS,
                            init_events=INIT_EV, policy_functions=policy_functions,
                            hpa_sync=hpa.sync_function(any(
                                type(a) is HorizontalPodAutoscaler for a in scalers)))
        return BatchModel(self.pt, scenario, self.start_ns, self.end_ns, columns,
                          [a.name for a in scalers],
                          server_cap, pool_cap, list(zip(scaler_slots, live_chains)),
                          window_slots, judges)


def _live_evaluations(pending, scalers) -> set:
    """ids of the scheduled evaluations the scalers will act on, as the object engine
    decides when it handles them, in (time, scheduling) order: one of the running
    chain; one scheduled by hand (no chain: happysim's form) starts a chain if the
    scaler is not running by then."""
    live = set()
    running = {id(a): a.is_running for a in scalers}
    order = sorted(range(len(pending)), key=lambda i: (pending[i].time.nanoseconds, i))
    for i in order:
        ev = pending[i]
        a = ev.target
        if id(a) not in running or ev.event_type != SCALER_EVENT:
            continue
        if "chain" in ev.context:
            if a.evaluates(ev):
                live.add(id(ev))
        elif not running[id(a)]:
            running[id(a)] = True
            live.add(id(ev))
    return live


def lower(sim: Simulation) -> BatchModel:
    """Lower a Simulation built from built-in parts; LoweringError names what cannot be."""
    return _Lowerer(sim).lower()
