"""Argo Rollouts' canary strategy: ``ArgoCanary`` and its steps. Semantics and what is
modelled: ``fastdeploy docs canary-analysis`` ("Argo Rollouts"); the decisions:
``fastdeploy/rules/argo.py``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..core import validate
from ..core.entity import Entity
from ..core.event import Event
from ..core.temporal import Instant
from ..model.server import Server
from ..deployment._common import (GroupMeasures, check_fleet, deployer_metrics, event_at,
                                  grow_canary_group, has_backend, measurement_dict)
from ..rules import argo as rules
from ..rules import histogram, measure
from ..rules import kayenta as kayenta_rules
from .analysis import AnalysisTemplate

__all__ = ["Analysis", "ArgoBlueGreen", "ArgoCanary", "ArgoCanaryStats", "ArgoState",
           "BackgroundAnalysis", "Pause", "SetWeight"]

DEPLOY_EVENT = "_argo_deploy_start"
MEASURE_EVENT = "_argo_measure"
PAUSE_EVENT = "_argo_pause_end"
SCALE_DOWN_EVENT = "_argo_scale_down"


@dataclass(frozen=True)
class SetWeight:
    """``setWeight``: the canary's share of the traffic, percent in [0, 100]."""

    percent: int

    def __post_init__(self):
        object.__setattr__(self, "percent", validate.integer("percent", self.percent,
                                                             minimum=0, maximum=100))


@dataclass(frozen=True)
class Pause:
    """``pause``: for ``duration`` seconds, or until the end of the run when None (the
    rollout is then reported paused)."""

    duration: float | None = None

    def __post_init__(self):
        if self.duration is not None:
            object.__setattr__(self, "duration", validate.seconds("duration", self.duration))


@dataclass(frozen=True)
class Analysis:
    """``analysis``: an AnalysisRun of ``template``; the rollout waits for it: Successful
    goes on, Failed aborts, Inconclusive pauses."""

    template: AnalysisTemplate

    def __post_init__(self):
        if not isinstance(self.template, AnalysisTemplate):
            raise TypeError(f"template must be an AnalysisTemplate, got {self.template!r}")


@dataclass(frozen=True)
class BackgroundAnalysis:
    """``strategy.canary.analysis``: an AnalysisRun of ``template`` from the step
    ``starting_step`` (its index) until promotion; Failed aborts, Inconclusive pauses."""

    template: AnalysisTemplate
    starting_step: int = 0

    def __post_init__(self):
        if not isinstance(self.template, AnalysisTemplate):
            raise TypeError(f"template must be an AnalysisTemplate, got {self.template!r}")
        object.__setattr__(self, "starting_step", validate.integer(
            "starting_step", self.starting_step, minimum=0))


@dataclass(frozen=True)
class ArgoCanaryStats:
    """Statistics tracked by ArgoCanary."""

    deployments_started: int = 0
    deployments_completed: int = 0
    deployments_aborted: int = 0
    steps_completed: int = 0
    measurements_successful: int = 0
    measurements_failed: int = 0
    measurements_inconclusive: int = 0


@dataclass
class ArgoState:
    """Current state of an Argo rollout: status (idle, in_progress, completed,
    rolled_back, paused), the current step's index, the canary's weight (percent)."""

    status: str = "idle"
    step: int = 0
    weight: int = 0


class ArgoCanary(Entity):
    """Argo Rollouts' canary strategy with its steps and AnalysisRuns.

    ``deploy()`` starts at step 0 with weight 0 and goes through ``steps``: ``SetWeight``
    sets the canary's share (as many canary instances, ``{name}_canary``,
    ``{name}_canary_2``, ..., as ceil(weight x backends) with traffic routing);
    ``Pause`` waits (or pauses the rollout for good); ``Analysis`` waits for its run.
    ``analysis`` runs in the background from its starting step. A Failed run aborts
    (weight 0, the canary instances leave), an Inconclusive one pauses; after the last
    step the canary is promoted (the new version takes all the traffic, the old backends
    leave). Decisions: ``fastdeploy/rules/argo.py``.

    Args:
        name: Deployer identifier.
        load_balancer: LoadBalancer whose backends are the stable version.
        server_factory: Creates new-version servers given a name.
        steps: SetWeight, Pause and Analysis steps (at least one).
        analysis: A BackgroundAnalysis, or None.
        traffic_routing: True: the weight is a traffic split (Argo with a traffic
            router). False: the weight is realised by instance counts, as Argo without
            a traffic router (10 backends at 15%: 2 canary and 9 stable instances, the
            load balancer's strategy spreading the traffic over them); the stable's
            instances removed are made again (``{name}_stable_k``, ready at once, with
            the settings of the last one removed) when the weight goes back down or the
            rollout aborts. Its backends must then be built-in Servers.
    """

    def __init__(self, name: str, load_balancer, server_factory: Callable[[str], Entity],
                 steps: list, analysis: BackgroundAnalysis | None = None,
                 traffic_routing: bool = True):
        super().__init__(name)
        self.load_balancer, self.server_factory = check_fleet(load_balancer, server_factory)
        if not isinstance(steps, (list, tuple)) or not steps:
            raise ValueError(f"steps must hold at least one step, got {steps!r}")
        for k, s in enumerate(steps):
            if not isinstance(s, (SetWeight, Pause, Analysis)):
                raise TypeError(f"steps[{k}] must be a SetWeight, Pause or Analysis, got {s!r}")
        self.steps = list(steps)
        if analysis is not None:
            if not isinstance(analysis, BackgroundAnalysis):
                raise TypeError(f"analysis must be a BackgroundAnalysis, got {analysis!r}")
            if analysis.starting_step >= len(self.steps):
                raise ValueError(f"analysis.starting_step must be < len(steps) "
                                 f"({len(self.steps)}), got {analysis.starting_step}")
        self.analysis = analysis
        if not isinstance(traffic_routing, bool):
            raise TypeError(f"traffic_routing must be True or False, got {traffic_routing!r}")
        self.traffic_routing = traffic_routing
        self._record = np.zeros(rules.FIELDS, np.int64)
        rules.reset(self._record)
        self._params = self._param_row()
        n = self.n_slots
        self._slots = np.zeros((max(n, 1), rules.MS_FIELDS), np.int64)
        self._snap_hists = np.zeros((max(n, 1), measure.GROUPS, histogram.N_BUCKETS), np.int64)
        self._judge_arrays()
        self._measures = GroupMeasures()
        self._last = None
        self._group: list = []
        self._baseline: list = []

    @classmethod
    def from_manifest(cls, rollout, load_balancer, server_factory, *, templates=(),
                      queries=None, kayenta=None, name=None) -> ArgoCanary:
        """An ArgoCanary from an Argo Rollout manifest (``spec.strategy.canary``: steps,
        analysis, trafficRouting) and the AnalysisTemplate manifests its analyses name,
        each a YAML file path, YAML text or a parsed mapping. ``queries`` maps each
        metric's provider query to a built-in measurement (``fastdeploy.argo.MEASURES``),
        or to ``{"measure": name, "min_samples": n}``; ``kayenta`` maps each
        ``provider.kayenta`` metric's canaryConfigName to a KayentaJudge (run with the
        manifest's threshold.pass and threshold.marginal as its scores, its scope's step
        as the metric's step). A query or canary config missing from them, and any field
        the simulator cannot model, is refused with its path (ManifestError). The name
        is ``name``, else metadata.name."""
        from . import manifest

        meta_name, kwargs = manifest.parse(rollout, templates, queries, kayenta)
        name = name if name is not None else meta_name
        if name is None:
            raise ValueError("from_manifest needs a name: give name= or metadata.name")
        return cls(name, load_balancer, server_factory, **kwargs)

    # -- layout -------------------------------------------------------------------------
    def runs(self) -> list[tuple[object, AnalysisTemplate, bool]]:
        """(owner, template, background) of each analysis use, in slot order: the steps'
        Analysis, then the background analysis."""
        out = [(k, s.template, False) for k, s in enumerate(self.steps)
               if isinstance(s, Analysis)]
        if self.analysis is not None:
            out.append(("analysis", self.analysis.template, True))
        return out

    @property
    def n_slots(self) -> int:
        return sum(len(t.metrics) for _, t, _ in self.runs())

    @property
    def baseline_percentiles(self) -> bool:
        """Whether a metric reads a percentile ratio, or a KayentaJudge metric reads a
        percentile (the baseline then keeps a histogram)."""
        return any(m.baseline_histograms for m in self.slot_metrics())

    def slot_metrics(self) -> list:
        """The AnalysisMetrics of the metric slots, in slot order."""
        return [m for _, t, _ in self.runs() for m in t.metrics]

    def judge_offsets(self) -> list[int]:
        """Where each slot's judge row starts in the parameter row (rules/argo.py
        MP_JUDGE: after the slots, in slot order), -1 for a metric without a judge."""
        metrics = self.slot_metrics()
        at = rules.P_STEPS + rules.STEP_PARAMS * len(self.steps) + rules.M_PARAMS * len(metrics)
        out = []
        for m in metrics:
            if m.judged:
                out.append(at)
                at += len(m.measure.param_values())
            else:
                out.append(-1)
        return out

    def _param_row(self) -> np.ndarray:
        metrics = self.slot_metrics()
        offsets = self.judge_offsets()
        steps = []
        bg = (-1.0, 0.0, 0.0)
        first = 0
        for k, s in enumerate(self.steps):
            if isinstance(s, SetWeight):
                steps += [rules.K_SET_WEIGHT, float(s.percent), 0.0, 0.0]
            elif isinstance(s, Pause):
                steps += [rules.K_PAUSE, -1.0 if s.duration is None else float(s.duration),
                          0.0, 0.0]
            else:
                n = len(s.template.metrics)
                steps += [rules.K_ANALYSIS, 0.0, float(first), float(n)]
                first += n
        if self.analysis is not None:
            n = len(self.analysis.template.metrics)
            bg = (float(self.analysis.starting_step), float(first), float(n))
            first += n
        slots = [v for m, at in zip(metrics, offsets) for v in m.params(at)]
        judges = [v for m in metrics if m.judged for v in m.measure.param_row()]
        head = [float(len(self.steps)), float(first), *bg,
                1.0 if self.traffic_routing else 0.0,
                1.0 if self.baseline_percentiles else 0.0, self._scale_down_param(),
                float(sum(m.judged for m in metrics))]
        return np.array(head + steps + slots + judges, np.float64)

    def _scale_down_param(self) -> float:
        return -1.0  # a canary (rules/argo.py P_SCALE_DOWN)

    def _judge_arrays(self) -> None:
        """The Kayenta metrics' sub-windows (rules/argo.py series_first), the judge's
        result rows and scratch, sized from the parameter row now."""
        rows = int(rules.series_capacity(self._params))
        most = max([1] + [len(m.measure.metrics) for m in self.slot_metrics() if m.judged])
        self._series = np.zeros((measure.GROUPS, max(rows, 1), measure.M_FIELDS), np.float64)
        self._results = np.zeros((most, kayenta_rules.RESULT_FIELDS), np.float64)
        self._work = np.zeros((kayenta_rules.WORK_ROWS, max(rows, kayenta_rules.METRIC_PARAMS)),
                              np.float64)

    def _begin_run(self, now_ns: int) -> None:
        self._params = self._param_row()
        self._judge_arrays()
        self._measures.reset()
        self._slots[:] = 0
        self._last = None

    # -- views --------------------------------------------------------------------------
    @property
    def stats(self) -> ArgoCanaryStats:
        first = rules.STATS_FIRST
        return ArgoCanaryStats(*(int(v) for v in self._record[first:first + len(rules.STATS)]))

    @property
    def state(self) -> ArgoState:
        r = self._record
        return ArgoState(rules.STATUS_NAMES[int(r[rules.STATUS])], int(r[rules.STEP]),
                         int(r[rules.WEIGHT]))

    @property
    def canary_group(self) -> list:
        """The canary instances while a deployment is in progress or paused."""
        live = int(self._record[rules.STATUS]) in (rules.IN_PROGRESS, rules.PAUSED)
        return list(self._group) if live else []

    @property
    def end_time(self) -> Instant | None:
        end = int(self._record[rules.END_NS])
        return None if end < 0 else Instant(end)

    @property
    def last_measurement(self) -> dict | None:
        """The last measurement taken: ``{"metric": name, "phase": ..., "canary": {...},
        "baseline": {...}}`` (fastdeploy docs canary-analysis); None before one."""
        if self._last is None:
            return None
        name, phase, rows = self._last
        return {"metric": name, "phase": phase,
                "canary": measurement_dict(rows[measure.NEW]),
                "baseline": measurement_dict(rows[measure.BASE])}

    def metric_phases(self) -> dict:
        """Each analysis metric's phase in this deployment, by ``(step index or
        "analysis", metric name)``."""
        out, j = {}, 0
        for owner, t, _ in self.runs():
            for m in t.metrics:
                out[(owner, m.name)] = rules.PHASE_NAMES[int(self._slots[j, rules.MS_PHASE])]
                j += 1
        return out

    # -- events -------------------------------------------------------------------------
    def deploy(self, *, at=None) -> Event:
        """Start a deployment (at now, or ``at``); returns the start event. A deploy
        event that arrives while a deployment is in progress or paused does nothing."""
        return event_at(self, at, DEPLOY_EVENT, {})

    def handle_event(self, event: Event):
        t = event.event_type
        if t == DEPLOY_EVENT:
            return self._deploy()
        if t == MEASURE_EVENT:
            return self._measure(event.context["deployment"], event.context["slot"])
        if t == SCALE_DOWN_EVENT:
            if rules.scale_down_due(self._record, event.context["deployment"]):
                self._clear_split()
                self._remove_baseline()
            return None
        if t == PAUSE_EVENT:
            if not rules.pause_due(self._record, event.context["deployment"],
                                   event.context["step"]):
                return None
            rules.pause_ended(self._record)
            self._drive()
            return None
        raise ValueError(f"ArgoCanary {self.name!r} got an unexpected event {event!r}")

    def _deploy(self):
        if not rules.accepts_deploy(self._record):
            return None
        now_ns = self._clock.now_ns
        self._baseline = list(self.load_balancer.all_backends)
        if not self.traffic_routing:
            for b in self._baseline:
                if type(b) is not Server:
                    raise TypeError(f"ArgoCanary {self.name!r} without traffic routing "
                                    f"scales its stable backends, which must be built-in "
                                    f"Servers; got {b!r}")
        rules.begin(self._record, now_ns, len(self._baseline))
        self._slots[:] = 0
        for b in self._baseline:
            self._measures.tag(b, measure.BASE)
        rules.begin_groups(self._measures.records, self._measures.hists, self._params, now_ns)
        self._group = []
        self._drive()
        return None

    def _event(self, when_ns: int, kind: str, **context) -> Event:
        context["deployment"] = int(self._record[rules.DEPLOYMENT])
        return Event(Instant(when_ns), kind, self, context=context)

    def _push(self, event: Event) -> None:
        """Scheduled at once (not returned): the kernels push each event where it is
        made, between the start-up events of new instances, and the sequence numbers
        that order ties must agree."""
        self._clock.run.schedule(event)

    def _drive(self) -> None:
        """Carry the rollout on (rules.proceed) until it waits."""
        now_ns = self._clock.now_ns
        while True:
            action = rules.proceed(self._record, self._params, now_ns)
            if action == rules.SET_WEIGHT:
                self._apply_weight()
                continue
            if action in (rules.START_BACKGROUND, rules.START_RUN):
                self._start_run(action == rules.START_BACKGROUND, now_ns)
                if action == rules.START_BACKGROUND:
                    continue
            elif action == rules.WAIT_PAUSE:
                k = int(self._record[rules.STEP])
                self._push(self._event(now_ns + rules.pause_ns(self._params, k), PAUSE_EVENT,
                                       step=k))
            elif action == rules.PROMOTE:
                if rules.blue_green(self._params):
                    self._promote_blue_green(now_ns)
                else:
                    self._promote()
            return

    def _start_run(self, background: bool, now_ns: int) -> None:
        first, n = rules.run_slots(self._record, self._params, background)
        for j in range(first, first + n):
            when = rules.start_metric(self._slots[j], self._params, j, self._measures.records,
                                      self._measures.hists, self._snap_hists[j], now_ns)
            self._push(self._event(int(when), MEASURE_EVENT, slot=j))

    def _measure(self, deployment: int, j: int):
        now_ns = self._clock.now_ns
        if not rules.measurement_due(self._record, self._slots[j], deployment, now_ns):
            return None
        out = np.zeros((measure.GROUPS, measure.M_FIELDS), np.float64)
        taken = int(self._slots[j, rules.MS_COUNT])
        action = rules.measured(self._record, self._slots, self._params, j,
                                self._measures.records, self._measures.hists,
                                self._snap_hists[j], out, self._series, now_ns)
        if action == rules.JUDGE:
            value, code, phase = rules.judge_slot(self._slots[j], self._params, j,
                                                  self._series, self._results, self._work)
            judge = self.slot_metrics()[j].measure
            judge.last_result = judge.result_of(value, code, self._results)
            action = rules.recorded(self._record, self._slots, self._params, j, phase, now_ns)
        if self._slots[j, rules.MS_COUNT] != taken:
            self._last = (self._slot_name(j),
                          rules.PHASE_NAMES[int(self._slots[j, rules.MS_PHASE])], out)
        if action == rules.MEASURE_AGAIN:
            self._push(self._event(int(self._slots[j, rules.MS_NEXT_NS]), MEASURE_EVENT,
                                   slot=j))
        elif action == rules.ABORT:
            self._abort()
        elif action == rules.STEP_DONE:
            self._drive()
        return None

    def _slot_name(self, j: int) -> str:
        for _, t, _ in self.runs():
            if j < len(t.metrics):
                return t.metrics[j].name
            j -= len(t.metrics)
        return ""

    # -- actions on the fleet -------------------------------------------------------------
    def _apply_weight(self):
        canary, stable = rules.weight_set(self._record, self._params)
        grow_canary_group(self, canary)
        if not rules.routed(self._params):
            self._scale_stable(stable)
        elif self._group:
            split = getattr(self.load_balancer, "set_traffic_split", None)
            if split is not None:
                split(self._group, float(rules.fraction(self._record)))

    def _scale_stable(self, target: int):
        """Without traffic routing: the stable's live instances down to ``target`` (the
        last first), or up to it with new ones like the last removed."""
        lb = self.load_balancer
        live = [b for b in self._baseline if has_backend(lb, b)]
        for b in reversed(live[target:]):
            lb.remove_backend(b)
        for _ in range(target - len(live)):
            like = next((b for b in reversed(self._baseline) if not has_backend(lb, b)), None)
            if like is None:
                return
            k = rules.stable_made(self._record)
            server = Server(f"{self.name}_stable_{k}", concurrency=like.concurrency,
                            service_time=like.service_time,
                            queue_capacity=like.queue_capacity, failure_rate=like.failure_rate,
                            termination_grace=like.termination_grace)
            if hasattr(server, "set_clock"):
                server.set_clock(self._clock)
            self._measures.tag(server, measure.BASE)
            lb.add_backend(server)
            self._baseline.append(server)

    def _clear_split(self):
        clear = getattr(self.load_balancer, "clear_traffic_split", None)
        if clear is not None:
            clear()

    def _abort(self):
        self._clear_split()
        lb = self.load_balancer
        for s in self._group:
            if has_backend(lb, s):
                lb.remove_backend(s)
        if not rules.routed(self._params):
            self._scale_stable(int(self._record[rules.REPLICAS]))
        self._measures.decided()

    def _promote(self):
        grow_canary_group(self, int(self._record[rules.REPLICAS]))
        self._clear_split()
        self._remove_baseline()
        self._measures.decided()

    def _remove_baseline(self):
        lb = self.load_balancer
        for b in self._baseline:
            if has_backend(lb, b):
                lb.remove_backend(b)

    def _promote_blue_green(self, now_ns: int) -> None:
        """The active service switches to the new version (all the traffic); the old
        version leaves scale_down_delay later."""
        grow_canary_group(self, int(self._record[rules.REPLICAS]))
        split = getattr(self.load_balancer, "set_traffic_split", None)
        if split is not None and self._group:
            split(self._group, 1.0)
        self._measures.decided()
        self._push(self._event(now_ns + rules.scale_down_ns(self._params), SCALE_DOWN_EVENT))

    def _metric_fields(self) -> dict:
        return deployer_metrics(vars(self.stats), self.state, self._record, self._measures)


class ArgoBlueGreen(ArgoCanary):
    """Argo Rollouts' blue/green strategy (``spec.strategy.blueGreen``).

    ``deploy()`` brings up the preview: as many new-version instances as the load
    balancer has backends (``{name}_canary``, ...), which get ``preview_weight`` percent
    of the traffic (0: none, as Argo's preview service gets no user traffic; a share
    stands in for test traffic through it). Then the ``pre_promotion_analysis`` runs on
    the preview (Successful goes on, Failed aborts: the preview leaves; Inconclusive
    pauses); then, after ``auto_promotion_seconds`` (None: at once, Argo's
    autoPromotionEnabled), the promotion: the new version takes all the traffic, and the
    old backends leave ``scale_down_delay`` seconds later. The decisions are the
    ArgoCanary's rules (``fastdeploy/rules/argo.py``) on that program of steps.

    Args:
        name: Deployer identifier.
        load_balancer: LoadBalancer whose backends are the active (blue) version.
        server_factory: Creates new-version servers given a name.
        pre_promotion_analysis: An AnalysisTemplate run before the promotion, or None.
        auto_promotion_seconds: Seconds to wait before promoting (None: promote at once).
        scale_down_delay: Seconds the old version stays after the promotion
            (scaleDownDelaySeconds).
        preview_weight: Percent of the traffic the preview gets, in [0, 100].
    """

    def __init__(self, name: str, load_balancer, server_factory: Callable[[str], Entity],
                 pre_promotion_analysis: AnalysisTemplate | None = None,
                 auto_promotion_seconds: float | None = None, scale_down_delay: float = 30.0,
                 *, preview_weight: int = 0):
        if pre_promotion_analysis is not None and not isinstance(pre_promotion_analysis,
                                                                 AnalysisTemplate):
            raise TypeError("pre_promotion_analysis must be an AnalysisTemplate, got "
                            f"{pre_promotion_analysis!r}")
        self.pre_promotion_analysis = pre_promotion_analysis
        self.auto_promotion_seconds = (None if auto_promotion_seconds is None else
                                       validate.seconds("auto_promotion_seconds",
                                                        auto_promotion_seconds))
        self.scale_down_delay = validate.seconds("scale_down_delay", scale_down_delay)
        self.preview_weight = validate.integer("preview_weight", preview_weight, minimum=0,
                                               maximum=100)
        super().__init__(name, load_balancer, server_factory, self.steps)

    @property
    def steps(self) -> list:
        """The program the rules run: the preview, its analysis, the auto-promotion wait."""
        out = [SetWeight(self.preview_weight)]
        if self.pre_promotion_analysis is not None:
            out.append(Analysis(self.pre_promotion_analysis))
        if self.auto_promotion_seconds is not None:
            out.append(Pause(self.auto_promotion_seconds))
        return out

    @steps.setter
    def steps(self, value) -> None:
        pass  # derived from the attributes above

    def _scale_down_param(self) -> float:
        return float(self.scale_down_delay)

    def metric_phases(self) -> dict:
        """The pre-promotion analysis's metrics' phases, by ``("pre_promotion", name)``."""
        return {("pre_promotion", k[1]): v for k, v in super().metric_phases().items()}
