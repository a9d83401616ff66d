"""AutoScaler: periodic evaluation of a policy, with cooldowns (SPEC section 7)."""

from __future__ import annotations

import numbers
from typing import Callable

from ..core import validate
from ..core.entity import Entity
from ..core.event import Event
from ..core.temporal import Instant, as_duration_ns
from ..rules import scaling
from ._common import check_fleet, event_at, has_backend, interval, make_instance
from .policies import ScalingPolicy, TargetUtilization
from .stats import AutoScalerStats, ScalingEvent

_EVALUATE = "_autoscaler_evaluate"
MAX_INSTANCES = 100_000


class AutoScaler(Entity):
    """Auto-scaling controller for load balancer backends.

    Args:
        name: Scaler identifier.
        load_balancer: LoadBalancer to manage (anything with all_backends,
            add_backend and remove_backend).
        server_factory: Creates a new server given its name.
        policy: Scaling decision policy (default TargetUtilization(0.7)).
        min_instances: Minimum backend count.
        max_instances: Maximum backend count.
        evaluation_interval: Seconds between evaluations.
        scale_out_cooldown: Seconds after any scaling action before a scale-out.
        scale_in_cooldown: Seconds after any scaling action before a scale-in.
    """

    def __init__(self, name: str, load_balancer, server_factory: Callable[[str], Entity],
                 policy: ScalingPolicy | None = None, min_instances: int = 1,
                 max_instances: int = 10, evaluation_interval: float = 10.0,
                 scale_out_cooldown: float = 30.0, scale_in_cooldown: float = 60.0):
        super().__init__(name)
        self.load_balancer, self.server_factory = check_fleet(load_balancer, server_factory)
        self.policy = TargetUtilization(0.7) if policy is None else policy
        if not isinstance(self.policy, ScalingPolicy):
            raise TypeError(f"policy must have evaluate(backends, current_count, "
                            f"min_instances, max_instances), got {policy!r}")
        self.min_instances = validate.integer("min_instances", min_instances, minimum=0)
        # A bound keeps a typo (or a fuzzer) from building a billion servers.
        self.max_instances = validate.integer("max_instances", max_instances, minimum=1,
                                              maximum=MAX_INSTANCES)
        if self.min_instances > self.max_instances:
            raise ValueError(f"min_instances must be <= max_instances, got "
                             f"min_instances={min_instances!r} > max_instances={max_instances!r}")
        self.evaluation_interval = interval("evaluation_interval", evaluation_interval)
        self.scale_out_cooldown = validate.seconds("scale_out_cooldown", scale_out_cooldown)
        self.scale_in_cooldown = validate.seconds("scale_in_cooldown", scale_in_cooldown)
        self._interval_ns = as_duration_ns(self.evaluation_interval, "evaluation_interval")
        self._out_cd_ns = as_duration_ns(self.scale_out_cooldown, "scale_out_cooldown")
        self._in_cd_ns = as_duration_ns(self.scale_in_cooldown, "scale_in_cooldown")
        self._running = False
        self._chain = 0
        self._counts = dict.fromkeys(AutoScalerStats.__dataclass_fields__, 0)
        self._history: list[ScalingEvent] = []
        self._managed: list = []
        self._next_k = 1
        self._last_action_ns = -1

    @property
    def stats(self) -> AutoScalerStats:
        """A frozen snapshot of the counters."""
        return AutoScalerStats(**self._counts)

    @property
    def scaling_history(self) -> list[ScalingEvent]:
        return list(self._history)

    @property
    def is_running(self) -> bool:
        return self._running

    def start(self, *, at=None) -> Event:
        """Start periodic evaluation; returns the first evaluation event (at now, or ``at``).

        While running, a second start() returns an event that does nothing.
        """
        if self._running:
            return event_at(self, at, _EVALUATE, {"chain": -1}, daemon=True)
        self._running = True
        self._chain += 1
        return event_at(self, at, _EVALUATE, {"chain": self._chain}, daemon=True)

    def stop(self) -> None:
        """Stop evaluating; pending evaluations do nothing."""
        self._running = False

    def handle_event(self, event: Event):
        if event.event_type != _EVALUATE:
            raise ValueError(f"AutoScaler {self.name!r} got an unexpected event {event!r}")
        if not self._running or event.context.get("chain") != self._chain:
            return None
        self._evaluate()
        return Event(Instant(event.time.nanoseconds + self._interval_ns), _EVALUATE, self,
                     context={"chain": self._chain}, daemon=True)

    def _evaluate(self):
        self._counts["evaluations"] += 1
        lb = self.load_balancer
        backends = lb.all_backends
        current = len(backends)
        desired = self.policy.evaluate(list(backends), current, self.min_instances,
                                       self.max_instances)
        if isinstance(desired, bool) or not isinstance(desired, numbers.Integral):
            raise TypeError(f"{self.name}: policy {self.policy!r} returned {desired!r}, "
                            "not an int")
        desired = int(desired)
        if desired > current:
            self._scale_out(current, min(desired, self.max_instances) - current)
        elif desired < current:
            self._scale_in(current, current - max(desired, self.min_instances))

    def _blocked(self, cooldown_ns) -> bool:
        if scaling.in_cooldown(self._clock.now_ns, self._last_action_ns, cooldown_ns):
            self._counts["cooldown_blocks"] += 1
            return True
        return False

    def _scale_out(self, current, n):
        if n <= 0 or self._blocked(self._out_cd_ns):
            return
        for _ in range(n):
            server = make_instance(self, self.server_factory, f"{self.name}_server_{self._next_k}")
            self._next_k += 1
            self.load_balancer.add_backend(server)
            self._managed.append(server)
        self._record("scale_out", current, current + n, f"Added {n} instances")
        self._counts["scale_out_count"] += 1
        self._counts["instances_added"] += n

    def _scale_in(self, current, n):
        if n <= 0 or self._blocked(self._in_cd_ns):
            return
        lb = self.load_balancer
        victims = [s for s in reversed(self._managed) if has_backend(lb, s)][:n]
        if len(victims) < n:
            others = [b for b in reversed(lb.all_backends) if all(b is not v for v in victims)]
            victims += others[: n - len(victims)]
        for v in victims:
            lb.remove_backend(v)
        self._managed = [s for s in self._managed if all(s is not v for v in victims)]
        removed = len(victims)
        if removed == 0:
            return
        self._record("scale_in", current, current - removed, f"Removed {removed} instances")
        self._counts["scale_in_count"] += 1
        self._counts["instances_removed"] += removed

    def _record(self, action, frm, to, reason):
        self._history.append(ScalingEvent(self.now, action, frm, to, reason))
        self._last_action_ns = self._clock.now_ns

    def _metric_fields(self) -> dict:
        return dict(self._counts)
