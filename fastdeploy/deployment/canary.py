"""CanaryDeployer: progressive traffic shifting with health evaluation (SPEC section 7)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..core import validate
from ..core.entity import Entity
from ..core.event import Event
import numpy as np

from ..core.temporal import Instant
from ..rules import canary as rules
from ..rules import kayenta as kayenta_rules
from ..rules import measure
from ._common import (GroupMeasures, check_fleet, deployer_metrics, event_at,
                      grow_canary_group, has_backend, interval, measurement_dict)
from .evaluators import ErrorRateEvaluator, GroupCounts, LatencyEvaluator, MetricEvaluator
from .stats import CanaryDeployerStats, CanaryState

# happysim's event type: an Event of this type scheduled by hand is a deploy().
DEPLOY_EVENT = "_canary_deploy_start"
EVALUATE_EVENT = "_canary_evaluate"
# The built-in evaluators the shared rule judges (their limit and multiplier are the
# parameters after the interval).
BUILTIN_EVALUATORS = {ErrorRateEvaluator: (rules.ERROR_RATE, "max_error_rate"),
                      LatencyEvaluator: (rules.LATENCY, "max_latency")}


@dataclass(frozen=True)
class CanaryStage:
    """Definition of a canary traffic stage.

    Attributes:
        traffic_percentage: Fraction of traffic to send to the canary, in (0, 1].
        evaluation_period: Seconds to observe at this stage before advancing.
    """

    traffic_percentage: float
    evaluation_period: float = 30.0

    def __post_init__(self):
        validate.number("traffic_percentage", self.traffic_percentage, minimum=0.0,
                        maximum=1.0, min_open=True)
        validate.seconds("evaluation_period", self.evaluation_period)


def default_stages() -> list[CanaryStage]:
    return [CanaryStage(0.01), CanaryStage(0.05), CanaryStage(0.25), CanaryStage(1.0)]


class CanaryDeployer(Entity):
    """Canary deployment with progressive traffic shifting.

    One unhealthy evaluation rolls back. The built-in evaluators compare the canary
    group's counters since creation with the baseline's since the deployment began, with
    no minimum sample size: on the default stages (1% first) a canary as good as the
    baseline is rolled back about four times in ten at 100 requests/s (docs/canary.md).

    Args:
        name: Deployer identifier.
        load_balancer: LoadBalancer to manage.
        server_factory: Creates new-version servers given a name.
        stages: Traffic stages (default [1%, 5%, 25%, 100%], 30 s each).
        metric_evaluator: Health evaluator (default ErrorRateEvaluator()). A
            ``fastdeploy.kayenta.KayentaJudge`` judges the windows of the evaluation
            intervals (canary group against baseline; fastdeploy docs canary-analysis).
        evaluation_interval: Seconds between metric evaluations.
    """

    def __init__(self, name: str, load_balancer, server_factory: Callable[[str], Entity],
                 stages: list[CanaryStage] | None = None,
                 metric_evaluator: MetricEvaluator | None = None,
                 evaluation_interval: float = 5.0):
        super().__init__(name)
        self.load_balancer, self.server_factory = check_fleet(load_balancer, server_factory)
        if stages is None:
            stages = default_stages()
        stages = list(stages)
        if not stages:
            raise ValueError("stages must hold at least one CanaryStage, got []")
        for k, st in enumerate(stages):
            if not isinstance(st, CanaryStage):
                raise TypeError(f"stages[{k}] must be a CanaryStage, got {st!r}")
        self.stages = stages
        self.metric_evaluator = ErrorRateEvaluator() if metric_evaluator is None else metric_evaluator
        if not isinstance(self.metric_evaluator, MetricEvaluator):
            raise TypeError("metric_evaluator must have is_healthy(canary, baseline_backends), "
                            f"got {metric_evaluator!r}")
        self.evaluation_interval = interval("evaluation_interval", evaluation_interval)
        # The shared state machine's record (rules/canary.py) and its parameter row.
        self._record = np.zeros(rules.FIELDS, np.int64)
        rules.reset(self._record)
        self._params = self._param_row()
        self._state = CanaryState(total_stages=len(stages))
        self._group: list = []
        self._baseline: list = []
        # The canary group's and the baseline's windowed measurements (rules/measure.py):
        # a window per evaluation interval; they do not change the decisions, which
        # keep happysim's rule.
        self._measures = GroupMeasures()
        self._last_window = None

    def _param_row(self) -> np.ndarray:
        ev = self.metric_evaluator
        builtin = BUILTIN_EVALUATORS.get(type(ev))
        limit = float(getattr(ev, builtin[1])) if builtin else 0.0
        multiplier = float(getattr(ev, "threshold_multiplier", 0.0)) if builtin else 0.0
        row = [float(self.evaluation_interval), limit, multiplier]
        for st in self.stages:
            row += [float(st.traffic_percentage), float(st.evaluation_period)]
        if self._judges_windows():
            row += list(ev.param_row())
        return np.array(row, np.float64)

    def _judges_windows(self) -> bool:
        """Whether the evaluator is a KayentaJudge, which the deployer runs on the
        windows of its evaluation intervals (rules/canary.py kayenta_judged) rather
        than through is_healthy."""
        from ..kayenta.judge import KayentaJudge

        return type(self.metric_evaluator) is KayentaJudge

    def _begin_run(self, now_ns: int) -> None:
        self._params = self._param_row()
        self._measures.reset()
        self._last_window = None

    @property
    def last_window(self) -> dict | None:
        """The measurements of the last evaluation interval, for the canary group and
        the baseline separately (``{"canary": {...}, "baseline": {...}}``: request
        count, error_rate, success_rate, latency_mean, latency_p50 .. latency_p99,
        has_data, start, end; fastdeploy docs canary-analysis); None before the first
        evaluation. Informational: the evaluators judge as happysim does."""
        if self._last_window is None:
            return None
        return {"canary": measurement_dict(self._last_window[measure.NEW]),
                "baseline": measurement_dict(self._last_window[measure.BASE])}

    @property
    def stats(self) -> CanaryDeployerStats:
        first = rules.STATS_FIRST
        return CanaryDeployerStats(*(int(v) for v in
                                     self._record[first:first + len(rules.STATS)]))

    @property
    def state(self) -> CanaryState:
        return self._state

    @property
    def canary(self):
        """The first canary instance while a deployment is in progress, else None."""
        if self._state.status == "in_progress" and self._group:
            return self._group[0]
        return None

    @property
    def canary_group(self) -> list:
        return list(self._group) if self._state.status == "in_progress" else []

    @property
    def end_time(self) -> Instant | None:
        end = int(self._record[rules.END_NS])
        return None if end < 0 else Instant(end)

    def deploy(self, *, at=None) -> Event:
        """Start a canary deployment (at now, or ``at``); returns the start event.

        A deploy event that arrives while a deployment is in progress does nothing.
        """
        return event_at(self, at, DEPLOY_EVENT, {})

    def handle_event(self, event: Event):
        if event.event_type == DEPLOY_EVENT:
            return self._deploy()
        if event.event_type == EVALUATE_EVENT:
            if not rules.evaluation_due(self._record, event.context.get("deployment", -1)):
                return None
            return self._evaluate()
        raise ValueError(f"CanaryDeployer {self.name!r} got an unexpected event {event!r}")

    # -- the deployment ------------------------------------------------------------------
    def _deploy(self):
        if not rules.accepts_deploy(self._record):
            return None
        self._baseline = list(self.load_balancer.all_backends)
        builtin = BUILTIN_EVALUATORS.get(type(self.metric_evaluator))
        # The built-in evaluators count the baseline from now; a user evaluator reads
        # what it likes, so nothing is read for it here.
        start = (GroupCounts.of(self._baseline, builtin[0]) if builtin is not None
                 else GroupCounts())
        now_ns = self._clock.now_ns
        rules.begin(self._record, start.as_array(), now_ns)
        for b in self._baseline:
            self._measures.tag(b, measure.BASE)
        if self._judges_windows():
            # The windows of this deployment, and the baseline's histograms when the judge
            # reads percentiles (the new version's windows always keep one here: they are
            # last_window's).
            both = bool(kayenta_rules.needs_histograms(self._judge_row()))
            self._measures.begin(now_ns, measure.HIST_BOTH if both else measure.HIST_NEW)
            cap = int(rules.max_evaluations(self._params, len(self.stages)))
            n_metrics = len(self.metric_evaluator.metrics)
            self._windows = np.zeros((measure.GROUPS, cap, measure.M_FIELDS), np.float64)
            self._results = np.zeros((n_metrics, kayenta_rules.RESULT_FIELDS), np.float64)
            self._work = np.zeros((kayenta_rules.WORK_ROWS,
                                   max(cap, kayenta_rules.METRIC_PARAMS)), np.float64)
        else:
            self._measures.begin(now_ns, True)
        self._group = []
        self._state = CanaryState("in_progress", 0, len(self.stages), 0.0)
        return self._start_stage(0)

    def _start_stage(self, k: int) -> Event:
        fraction = float(rules.stage_fraction(self._params, k))
        grow_canary_group(self, rules.canary_group_size(fraction, len(self._baseline)))
        split = getattr(self.load_balancer, "set_traffic_split", None)
        if split is not None:
            split(self._group, fraction)
        rules.stage_started(self._record, self._params, k, self._clock.now_ns)
        self._state.current_stage = k
        self._state.canary_traffic_pct = self.stages[k].traffic_percentage
        return self._next_evaluation()

    def _next_evaluation(self) -> Event:
        return Event(Instant(self._clock.now_ns + rules.interval_ns(self._params)),
                     EVALUATE_EVENT, self,
                     context={"deployment": int(self._record[rules.DEPLOYMENT])})

    def _healthy(self) -> bool:
        ev = self.metric_evaluator
        builtin = BUILTIN_EVALUATORS.get(type(ev))
        if builtin is not None:
            kind = builtin[0]
            canary = GroupCounts.of(self._group, kind).as_array()
            baseline = GroupCounts.of(self._baseline, kind).as_array()
            return bool(rules.builtin_healthy(kind, self._params, self._record, canary,
                                              baseline))
        if self._judges_windows():
            value, code = rules.kayenta_judged(self._record, self._params, len(self.stages),
                                               self._windows, self._last_window,
                                               self._results, self._work)
            ev.last_result = ev.result_of(value, code, self._results)
            return int(code) != kayenta_rules.VERDICT_FAIL
        return bool(ev.is_healthy(self._group[0], list(self._baseline)))

    def _judge_row(self) -> np.ndarray:
        return self._params[rules.judge_offset(len(self.stages)):]

    def _evaluate(self):
        self._last_window = self._measures.close_windows(1, self._clock.now_ns)
        action = rules.evaluated(self._record, self._params, len(self.stages), self._healthy(),
                                 self._clock.now_ns)
        if action == rules.ROLL_BACK:
            self._rollback()
            return None
        if action == rules.EVALUATE_AGAIN:
            return self._next_evaluation()
        if action == rules.NEXT_STAGE:
            return self._start_stage(int(self._record[rules.STAGE]) + 1)
        self._state.current_stage = int(self._record[rules.STAGE])
        self._promote()
        return None

    def _clear_split(self):
        clear = getattr(self.load_balancer, "clear_traffic_split", None)
        if clear is not None:
            clear()

    def _promote(self):
        lb = self.load_balancer
        grow_canary_group(self, len(self._baseline))
        self._clear_split()
        for b in self._baseline:
            if has_backend(lb, b):
                lb.remove_backend(b)
        self._finish(rules.COMPLETED)

    def _rollback(self):
        lb = self.load_balancer
        self._clear_split()
        for s in self._group:
            if has_backend(lb, s):
                lb.remove_backend(s)
        self._finish(rules.ROLLED_BACK)

    def _finish(self, status: int):
        rules.finished(self._record, status, self._clock.now_ns)
        self._measures.decided()
        self._state.status = rules.STATUS_NAMES[status]

    def _metric_fields(self) -> dict:
        return deployer_metrics(vars(self.stats), self._state, self._record,
                                self._measures)
