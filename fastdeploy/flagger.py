"""Flagger's progressive canary (fluxcd/flagger, ``spec.analysis``): ``FlaggerCanary``
and its metric checks ``FlaggerMetric``. Semantics and what is modelled:
``fastdeploy docs canary-analysis``; the decisions: ``fastdeploy/rules/flagger.py``."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .core import validate
from .core.entity import Entity
from .core.event import Event
from .core.temporal import Instant
from .deployment._common import (GroupMeasures, check_fleet, deployer_metrics, event_at,
                                 grow_canary_group, has_backend, measurement_dict)
from .deployment._common import interval as positive_seconds
from .rules import flagger as rules
from .rules import kayenta as kayenta_rules
from .rules import measure

__all__ = ["FlaggerCanary", "FlaggerCanaryStats", "FlaggerMetric", "FlaggerState"]

# An Event of this type scheduled by hand is a deploy().
DEPLOY_EVENT = "_flagger_deploy_start"
TICK_EVENT = "_flagger_tick"


@dataclass(frozen=True)
class FlaggerMetric:
    """One check of the analysis (Flagger's ``metrics[].thresholdRange``).

    Attributes:
        name: ``"request-success-rate"`` (the canary's success rate in percent, as
            Flagger's built-in), ``"request-duration"`` (its p99 latency, in seconds:
            Flagger's is in milliseconds), or a measurement by name (``error_rate``,
            ``success_rate``, ``latency_mean``, ``latency_p50``, ``latency_p90``,
            ``latency_p95``, ``latency_p99``, ``count``).
        min: The check fails below it (None: no lower bound).
        max: The check fails above it (None: no upper bound).
        min_samples: Fewer requests in the window is "no values found": the check
            halts advancement and counts as failed, as Flagger does.
        scale: The measurement is multiplied by it before the comparison, > 0: the
            units of the query a custom metric stands for (1000 for a latency in
            milliseconds, 100 for a rate in percent); on top of the built-ins' own
            (request-success-rate is already in percent).
    """

    name: str
    min: float | None = None
    max: float | None = None
    min_samples: int = 1
    scale: float = 1.0

    def __post_init__(self):
        if self.name not in rules.BUILTIN_METRICS:
            raise ValueError(f"name must be one of {', '.join(rules.BUILTIN_METRICS)}, "
                             f"got {self.name!r}")
        if self.min is None and self.max is None:
            raise ValueError(f"FlaggerMetric {self.name!r} needs min or max, got neither")
        for bound in ("min", "max"):
            v = getattr(self, bound)
            if v is not None:
                object.__setattr__(self, bound, validate.number(bound, v))
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min must be <= max, got min={self.min!r} > max={self.max!r}")
        object.__setattr__(self, "min_samples",
                           validate.integer("min_samples", self.min_samples, minimum=1))
        # A zero or negative scale would make the check constant or turn it inside out.
        object.__setattr__(self, "scale", validate.number("scale", self.scale, minimum=0.0,
                                                          min_open=True))

    def params(self) -> list[float]:
        """Its row of the parameter table (rules/flagger.py MP_ layout)."""
        field, scale = rules.BUILTIN_METRICS[self.name]
        return [float(field), scale * self.scale, -math.inf if self.min is None else float(self.min),
                math.inf if self.max is None else float(self.max), float(self.min_samples)]


def default_metrics() -> list[FlaggerMetric]:
    """Flagger's built-in checks as its docs configure them."""
    return [FlaggerMetric("request-success-rate", min=99),
            FlaggerMetric("request-duration", max=0.5)]


@dataclass(frozen=True)
class FlaggerCanaryStats:
    """Statistics tracked by FlaggerCanary."""

    deployments_started: int = 0
    deployments_completed: int = 0
    deployments_rolled_back: int = 0
    weight_steps: int = 0
    checks_passed: int = 0
    checks_failed: int = 0
    checks_no_data: int = 0


@dataclass
class FlaggerState:
    """Current state of a Flagger deployment: status (idle, in_progress, completed,
    rolled_back), the canary's weight (percent), its failed checks, and the last
    analysis's verdict (none, pass, fail, no_data)."""

    status: str = "idle"
    weight: int = 0
    failed_checks: int = 0
    last_verdict: str = "none"


class FlaggerCanary(Entity):
    """Flagger's canary analysis with progressive traffic shifting.

    ``deploy()`` scales the canary up (as many instances as the load balancer has
    backends, named ``{name}_canary``, ``{name}_canary_2``, ...) at weight 0. Every
    ``interval`` a tick: failed checks >= ``threshold`` roll back (weight 0, canary
    removed); the first tick starts the analysis without checks; later ticks check
    ``metrics`` on the canary's requests of the last interval, and a failed check or
    "no values" (fewer than ``min_samples`` requests) halts advancement and counts one
    failed check (cumulative); a passed analysis advances the weight by ``step_weight``
    (or to the next of ``step_weights``) until ``max_weight``, and the tick after
    reaching it promotes (the new version takes all the traffic, the old backends
    leave). Decisions: ``fastdeploy/rules/flagger.py``.

    Args:
        name: Deployer identifier.
        load_balancer: LoadBalancer whose backends the canary is judged against and
            replaces.
        server_factory: Creates new-version servers given a name.
        interval: Seconds between ticks (Flagger's ``analysis.interval``), > 0.
        threshold: Failed checks that roll back (``analysis.threshold``), >= 1.
        step_weight: Weight added per passed analysis, percent in [1, 100].
        step_weights: Weights to go through instead (increasing, in [1, 100]); the last
            is the max weight.
        max_weight: Weight after which the canary is promoted, percent in [1, 100].
        metrics: FlaggerMetric checks (default: request-success-rate >= 99,
            request-duration <= 0.5 s; ``[]`` for none, e.g. to judge by ``judge``
            alone).
        judge: A ``fastdeploy.kayenta.KayentaJudge`` that is part of the analysis: at
            each tick with an analysis, after the metrics pass, it judges the canary's
            windows against the baseline's over the analysed ticks of the deployment so
            far, and a Fail verdict fails the analysis (a failed check).
    """

    def __init__(self, name: str, load_balancer, server_factory: Callable[[str], Entity],
                 interval: float = 60.0, threshold: int = 5, step_weight: int = 10,
                 step_weights: list[int] | None = None, max_weight: int = 50,
                 metrics: list[FlaggerMetric] | None = None, judge=None):
        super().__init__(name)
        self.load_balancer, self.server_factory = check_fleet(load_balancer, server_factory)
        self.interval = positive_seconds("interval", interval)
        self.threshold = validate.integer("threshold", threshold, minimum=1)
        self.step_weight = validate.integer("step_weight", step_weight, minimum=1,
                                            maximum=100)
        self.max_weight = validate.integer("max_weight", max_weight, minimum=1, maximum=100)
        if step_weights is not None:
            step_weights = [validate.integer(f"step_weights[{k}]", w, minimum=1, maximum=100)
                            for k, w in enumerate(step_weights)]
            if not step_weights:
                raise ValueError("step_weights must hold at least one weight, got []")
            for k in range(1, len(step_weights)):
                if step_weights[k] <= step_weights[k - 1]:
                    raise ValueError(f"step_weights must increase, got step_weights[{k}]="
                                     f"{step_weights[k]} after {step_weights[k - 1]}")
        self.step_weights = step_weights
        metrics = default_metrics() if metrics is None else list(metrics)
        for k, m in enumerate(metrics):
            if not isinstance(m, FlaggerMetric):
                raise TypeError(f"metrics[{k}] must be a FlaggerMetric, got {m!r}")
        self.metrics = metrics
        from .kayenta.judge import KayentaJudge

        if judge is not None and type(judge) is not KayentaJudge:
            raise TypeError(f"judge must be a KayentaJudge or None, got {judge!r}")
        self.judge = judge
        self._record = np.zeros(rules.FIELDS, np.int64)
        rules.reset(self._record)
        self._params = self._param_row()
        self._measures = GroupMeasures()
        self._last_window = None
        self._group: list = []
        self._baseline: list = []

    @classmethod
    def from_manifest(cls, source, load_balancer, server_factory, *, templates=(),
                      queries=None, name=None, judge=None) -> FlaggerCanary:
        """A FlaggerCanary from a Flagger Canary manifest (flagger.app/v1beta1:
        ``spec.analysis`` interval, threshold, stepWeight or stepWeights, maxWeight,
        metrics) and the MetricTemplate manifests its custom metrics name, each a YAML
        file path, YAML text or a parsed mapping. ``queries`` maps each template's query
        (whitespace collapsed) to a measurement (``fastdeploy.flagger_manifest.MEASURES``)
        or to ``{"measure": name, "min_samples": n, "scale": s}``. request-duration's
        bounds are milliseconds in the manifest, seconds here. A query missing from
        ``queries``, and any field the simulator cannot model, is refused with its path
        (``fastdeploy.kubernetes.manifest.ManifestError``). The name is ``name``, else
        metadata.name; ``judge`` is as for the constructor (not a manifest field)."""
        from . import flagger_manifest

        meta_name, kwargs = flagger_manifest.parse(source, templates, queries)
        name = name if name is not None else meta_name
        if name is None:
            raise ValueError("from_manifest needs a name: give name= or metadata.name")
        return cls(name, load_balancer, server_factory, judge=judge, **kwargs)

    def _param_row(self) -> np.ndarray:
        steps = [] if self.step_weights is None else [float(w) for w in self.step_weights]
        # With step weights Flagger's stepWeight is 0 (nextStepWeight uses them then).
        row = [float(self.interval), float(self.threshold),
               0.0 if steps else float(self.step_weight), float(self.max_weight),
               float(len(steps)), float(len(self.metrics))] + steps
        for m in self.metrics:
            row += m.params()
        if self.judge is None:
            row.append(0.0)
        else:
            row += [1.0] + list(self.judge.param_row())
        return np.array(row, np.float64)

    def _begin_run(self, now_ns: int) -> None:
        self._params = self._param_row()
        self._measures.reset()
        self._last_window = None

    @property
    def stats(self) -> FlaggerCanaryStats:
        first = rules.STATS_FIRST
        return FlaggerCanaryStats(*(int(v) for v in
                                    self._record[first:first + len(rules.STATS)]))

    @property
    def state(self) -> FlaggerState:
        r = self._record
        return FlaggerState(rules.STATUS_NAMES[int(r[rules.STATUS])], int(r[rules.WEIGHT]),
                            int(r[rules.FAILED_CHECKS]),
                            rules.VERDICT_NAMES[int(r[rules.LAST_VERDICT])])

    @property
    def canary_group(self) -> list:
        """The canary instances while a deployment is in progress."""
        return list(self._group) if self._record[rules.STATUS] == rules.IN_PROGRESS else []

    @property
    def end_time(self) -> Instant | None:
        end = int(self._record[rules.END_NS])
        return None if end < 0 else Instant(end)

    @property
    def last_window(self) -> dict | None:
        """The measurements of the last interval (``{"canary": {...}, "baseline":
        {...}}``, fastdeploy docs canary-analysis) the last tick judged; None before the
        first tick."""
        if self._last_window is None:
            return None
        return {"canary": measurement_dict(self._last_window[measure.NEW]),
                "baseline": measurement_dict(self._last_window[measure.BASE])}

    def deploy(self, *, at=None) -> Event:
        """Start a deployment (at now, or ``at``); returns the start event. A deploy
        event that arrives while a deployment is in progress does nothing."""
        return event_at(self, at, DEPLOY_EVENT, {})

    def handle_event(self, event: Event):
        if event.event_type == DEPLOY_EVENT:
            return self._deploy()
        if event.event_type == TICK_EVENT:
            if not rules.tick_due(self._record, event.context.get("deployment", -1)):
                return None
            return self._tick()
        raise ValueError(f"FlaggerCanary {self.name!r} got an unexpected event {event!r}")

    def _deploy(self):
        if not rules.accepts_deploy(self._record):
            return None
        now_ns = self._clock.now_ns
        lb = self.load_balancer
        self._baseline = list(lb.all_backends)
        rules.begin(self._record, now_ns)
        for b in self._baseline:
            self._measures.tag(b, measure.BASE)
        both = self.judge is not None and self.judge.needs_histograms()
        self._measures.begin(now_ns, measure.HIST_BOTH if both else measure.HIST_NEW)
        if self.judge is not None:
            cap = int(rules.max_analyses(self._params))
            self._windows = np.zeros((measure.GROUPS, cap, measure.M_FIELDS), np.float64)
            self._results = np.zeros((len(self.judge.metrics), kayenta_rules.RESULT_FIELDS),
                                     np.float64)
            self._work = np.zeros((kayenta_rules.WORK_ROWS,
                                   max(cap, kayenta_rules.METRIC_PARAMS)), np.float64)
        self._group = []
        grow_canary_group(self, max(1, len(self._baseline)))
        self._set_split()
        return self._next_tick()

    def _set_split(self):
        split = getattr(self.load_balancer, "set_traffic_split", None)
        if split is not None:
            split(self._group, float(rules.fraction(self._record)))

    def _clear_split(self):
        clear = getattr(self.load_balancer, "clear_traffic_split", None)
        if clear is not None:
            clear()

    def _next_tick(self) -> Event:
        return Event(Instant(self._clock.now_ns + rules.interval_ns(self._params)), TICK_EVENT,
                     self, context={"deployment": int(self._record[rules.DEPLOYMENT])})

    def _tick(self):
        now_ns = self._clock.now_ns
        self._last_window = self._measures.close_windows(1, now_ns)
        judge_ok = True
        if self.judge is not None and rules.analysed(self._record, self._params):
            value, code = rules.judged(self._record, self._params, self._last_window,
                                       self._windows, self._results, self._work)
            self.judge.last_result = self.judge.result_of(value, code, self._results)
            judge_ok = int(code) != kayenta_rules.VERDICT_FAIL
        action = rules.tick(self._record, self._params, self._last_window[measure.NEW],
                            judge_ok, now_ns)
        lb = self.load_balancer
        if action == rules.ROLL_BACK:
            self._clear_split()
            for s in self._group:
                if has_backend(lb, s):
                    lb.remove_backend(s)
            self._measures.decided()
            return None
        if action == rules.PROMOTE:
            self._clear_split()
            for b in self._baseline:
                if has_backend(lb, b):
                    lb.remove_backend(b)
            self._measures.decided()
            return None
        if action == rules.SET_WEIGHT:
            self._set_split()
        return self._next_tick()

    def _metric_fields(self) -> dict:
        return deployer_metrics(vars(self.stats), self.state, self._record, self._measures)

