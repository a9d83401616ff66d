"""CanaryDeployer: progressive traffic shifting with health evaluation (SPEC section 7)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..core import validate
from ..core.entity import Entity
from ..core.event import Event
from ..core.temporal import Instant, as_duration_ns
from ..rules import canary as rules
from ._common import (check_fleet, deployer_metrics, event_at, finish_deployment, has_backend,
                      interval, make_instance)
from .evaluators import ErrorRateEvaluator, GroupCounts, LatencyEvaluator, MetricEvaluator
from .stats import CanaryDeployerStats, CanaryState

_DEPLOY = "_canary_deploy"
_EVALUATE = "_canary_evaluate"


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

    Args:
        name: Deployer identifier.
        load_balancer: LoadBalancer to manage.
        server_factory: Creates new-version servers given a name.
        stages: Traffic stages (default [1%, 5%, 25%, 100%], 30 s each).
        metric_evaluator: Health evaluator (default ErrorRateEvaluator()).
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
        self._interval_ns = as_duration_ns(self.evaluation_interval, "evaluation_interval")
        self._counts = dict.fromkeys(CanaryDeployerStats.__dataclass_fields__, 0)
        self._state = CanaryState(total_stages=len(stages))
        self._deployment = 0
        self._group: list = []
        self._baseline: list = []
        self._baseline_at_deploy = GroupCounts()
        self._stage_started_ns = 0
        self._made = 0
        self._end_ns = -1

    @property
    def stats(self) -> CanaryDeployerStats:
        return CanaryDeployerStats(**self._counts)

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
        return None if self._end_ns < 0 else Instant(self._end_ns)

    def deploy(self, *, at=None) -> Event:
        """Start a canary deployment (at now, or ``at``); returns the start event.

        A deploy event that arrives while a deployment is in progress does nothing.
        """
        return event_at(self, at, _DEPLOY, {})

    def handle_event(self, event: Event):
        if event.event_type == _DEPLOY:
            return self._deploy()
        if event.event_type == _EVALUATE:
            if (self._state.status != "in_progress"
                    or event.context.get("deployment") != self._deployment):
                return None
            return self._evaluate()
        raise ValueError(f"CanaryDeployer {self.name!r} got an unexpected event {event!r}")

    # -- the deployment ------------------------------------------------------------------
    def _deploy(self):
        if self._state.status == "in_progress":
            return None
        self._deployment += 1
        self._counts["deployments_started"] += 1
        self._baseline = list(self.load_balancer.all_backends)
        self._baseline_at_deploy = GroupCounts.of(self._baseline)
        self._group = []
        self._end_ns = -1
        self._state = CanaryState("in_progress", 0, len(self.stages), 0.0)
        return self._start_stage(0)

    def _start_stage(self, k: int) -> Event:
        stage = self.stages[k]
        self._grow_group(rules.canary_group_size(stage.traffic_percentage, len(self._baseline)))
        split = getattr(self.load_balancer, "set_traffic_split", None)
        if split is not None:
            split(self._group, stage.traffic_percentage)
        self._state.current_stage = k
        self._state.canary_traffic_pct = stage.traffic_percentage
        self._stage_started_ns = self._clock.now_ns
        return self._next_evaluation()

    def _next_evaluation(self) -> Event:
        return Event(Instant(self._clock.now_ns + self._interval_ns), _EVALUATE, self,
                     context={"deployment": self._deployment})

    def _grow_group(self, size: int):
        while len(self._group) < size:
            self._made += 1
            name = f"{self.name}_canary" if self._made == 1 else f"{self.name}_canary_{self._made}"
            server = make_instance(self, self.server_factory, name)
            self.load_balancer.add_backend(server)
            self._group.append(server)

    def _healthy(self) -> bool:
        ev = self.metric_evaluator
        if isinstance(ev, (ErrorRateEvaluator, LatencyEvaluator)):
            baseline = GroupCounts.of(self._baseline).minus(self._baseline_at_deploy)
            return bool(ev.judge(GroupCounts.of(self._group), baseline))
        return bool(ev.is_healthy(self._group[0], list(self._baseline)))

    def _evaluate(self):
        self._counts["evaluations_performed"] += 1
        if not self._healthy():
            self._counts["evaluations_failed"] += 1
            self._rollback()
            return None
        self._counts["evaluations_passed"] += 1
        stage = self.stages[self._state.current_stage]
        period_ns = as_duration_ns(stage.evaluation_period, "evaluation_period")
        if self._clock.now_ns - self._stage_started_ns < period_ns:
            return self._next_evaluation()
        self._counts["stages_completed"] += 1
        nxt = self._state.current_stage + 1
        if nxt < len(self.stages):
            return self._start_stage(nxt)
        # As in happysim, a promoted deployment reports current_stage == total_stages.
        self._state.current_stage = len(self.stages)
        self._promote()
        return None

    def _clear_split(self):
        clear = getattr(self.load_balancer, "clear_traffic_split", None)
        if clear is not None:
            clear()

    def _promote(self):
        lb = self.load_balancer
        self._grow_group(len(self._baseline))
        self._clear_split()
        for b in self._baseline:
            if has_backend(lb, b):
                lb.remove_backend(b)
        self._finish("completed", "deployments_completed")

    def _rollback(self):
        lb = self.load_balancer
        self._clear_split()
        for s in self._group:
            if has_backend(lb, s):
                lb.remove_backend(s)
        self._finish("rolled_back", "deployments_rolled_back")

    def _finish(self, status: str, counter: str):
        self._end_ns = finish_deployment(self._state, self._counts, status, counter,
                                         self._clock.now_ns)

    def _metric_fields(self) -> dict:
        return deployer_metrics(self._counts, self._state, self._end_ns)
