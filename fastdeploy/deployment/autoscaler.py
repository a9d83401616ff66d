"""AutoScaler: periodic evaluation of a policy, with cooldowns (SPEC section 7)."""

from __future__ import annotations

import numbers
from typing import Callable

import numpy as np

from ..core import validate
from ..core.entity import Entity
from ..core.event import Event
from ..core.temporal import Instant
from ..rules import autoscaler as rules
from ._common import check_fleet, event_at, instance_bounds, interval, make_instance
from .numba_policy import NumbaPolicy, observation
from .policies import ScalingPolicy, TargetUtilization
from .stats import AutoScalerStats, ScalingEvent

EVALUATE_EVENT = "_autoscaler_evaluate"
MARK_EVENT = "_autoscaler_window_mark"
MAX_INSTANCES = 100_000


def observed_server(backend):
    """The backend, refused with a clear error when it does not record what a metric
    window averages."""
    if not hasattr(backend, "observed") or not hasattr(backend, "_mark"):
        raise TypeError(f"metric_window averages what a backend held over time, which "
                        f"only built-in Servers record; {backend!r} is not one (use "
                        "metric_window=0)")
    return backend


class Observed:
    """A backend as a controller with a metric window sees it: ``utilization``, ``depth``
    and ``active_requests`` are its time-weighted means over the window; anything else is
    the backend's own."""

    __slots__ = ("backend", "utilization", "depth", "active_requests")

    def __init__(self, backend, now_ns: int, since_ns: int, slot: int):
        self.backend = backend
        self.utilization, self.depth, self.active_requests = observed_server(backend).observed(
            now_ns, since_ns, slot)

    def __getattr__(self, name):
        return getattr(self.backend, name)

    def __repr__(self):
        return (f"Observed({self.backend!r}, utilization={self.utilization}, "
                f"depth={self.depth})")


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
        metric_window: Seconds (keyword-only). 0 (default): the policy sees each
            backend's utilization and queue depth at the instant of the evaluation.
            Above 0: their exact time-weighted means over the last metric_window seconds
            (over its life for a backend younger than that), as the ``utilization``,
            ``depth`` and ``active_requests`` of the backends the policy receives.
    """

    def __init__(self, name: str, load_balancer, server_factory: Callable[[str], Entity],
                 policy: ScalingPolicy | None = None, min_instances: int = 1,
                 max_instances: int = 10, evaluation_interval: float = 10.0,
                 scale_out_cooldown: float = 30.0, scale_in_cooldown: float = 60.0, *,
                 metric_window: float = 0.0):
        super().__init__(name)
        self.load_balancer, self.server_factory = check_fleet(load_balancer, server_factory)
        self.policy = TargetUtilization(0.7) if policy is None else policy
        if not isinstance(self.policy, ScalingPolicy):
            raise TypeError(f"policy must have evaluate(backends, current_count, "
                            f"min_instances, max_instances), got {policy!r}")
        self.min_instances, self.max_instances = instance_bounds(
            "min_instances", min_instances, "max_instances", max_instances, low_minimum=0,
            maximum=MAX_INSTANCES)
        self.evaluation_interval = interval("evaluation_interval", evaluation_interval)
        self.scale_out_cooldown = validate.seconds("scale_out_cooldown", scale_out_cooldown)
        self.scale_in_cooldown = validate.seconds("scale_in_cooldown", scale_in_cooldown)
        self.metric_window = validate.seconds("metric_window", metric_window)
        error = rules.window_error(self.metric_window, self.evaluation_interval,
                                   "metric_window", "evaluation_interval")
        if error:
            raise ValueError(error)
        self._running = False
        self._chain = 0
        # The shared state machine's record (rules/autoscaler.py) and the parameters it
        # reads, in its layout (taken from the attributes when a run begins).
        self._state = np.zeros(rules.FIELDS, np.int64)
        rules.reset(self._state)
        self._params = self._param_row()
        self._history: list[ScalingEvent] = []
        self._managed: list = []
        # A NumbaPolicy's memory: zero at the start of every run (the graph is restored).
        self._policy_memory = np.zeros(getattr(self.policy, "memory", 0), np.float64)

    def _param_row(self) -> np.ndarray:
        return np.array([float(getattr(self, n)) for n in rules.PARAM_NAMES], np.float64)

    def _begin_run(self, now_ns: int) -> None:
        self._params = self._param_row()
        self._clock.run.watch_scaler(self, now_ns)
        if isinstance(self.policy, NumbaPolicy):
            self._policy_memory = np.zeros(self.policy.memory, np.float64)

    @property
    def stats(self) -> AutoScalerStats:
        """A frozen snapshot of the counters."""
        first = rules.STATS_FIRST
        return AutoScalerStats(*(int(v) for v in self._state[first:first + len(rules.STATS)]))

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
            return event_at(self, at, EVALUATE_EVENT, {"chain": -1}, daemon=True)
        self._running = True
        self._chain += 1
        return event_at(self, at, EVALUATE_EVENT, {"chain": self._chain}, daemon=True)

    def evaluates(self, event: Event) -> bool:
        """Whether ``event`` is an evaluation this scaler will act on (one of its current
        chain while it runs, or one scheduled by hand while it is stopped); others do
        nothing."""
        if event.event_type != EVALUATE_EVENT:
            return False
        if "chain" not in event.context:
            return not self._running
        return self._running and event.context["chain"] == self._chain

    def stop(self) -> None:
        """Stop evaluating; pending evaluations do nothing."""
        self._running = False

    def handle_event(self, event: Event):
        if event.event_type == MARK_EVENT:
            if self._running and event.context["chain"] == self._chain:
                self._mark_backends(event.context["slot"], event.time.nanoseconds)
            return None
        if event.event_type != EVALUATE_EVENT:
            raise ValueError(f"AutoScaler {self.name!r} got an unexpected event {event!r}")
        if not self.evaluates(event):
            return None
        if "chain" not in event.context:
            # Scheduled by hand, as happysim users do: the same as start() now.
            self._running = True
            self._chain += 1
        self._evaluate()
        return Event(Instant(event.time.nanoseconds + rules.interval_ns(self._params)),
                     EVALUATE_EVENT, self, context={"chain": self._chain}, daemon=True)

    def _window(self, now_ns: int) -> tuple[int, int]:
        """An evaluation begins: (since, slot) of its metric window (rules/autoscaler.py),
        its backends marked first when it starts a chain."""
        rules.evaluation_begins(self._state, self._chain, now_ns)
        slot = int(rules.start_marked(self._state, self._params))
        if slot >= 0:
            self._mark_backends(slot, now_ns)
        since, slot = rules.window_since(self._state, self._params, now_ns)
        return int(since), int(slot)

    def _mark_backends(self, slot: int, now_ns: int) -> None:
        for b in self.load_balancer.all_backends:
            observed_server(b)._mark(slot, now_ns)

    def _schedule_mark(self) -> None:
        """After an evaluation: the mark of the window of the evaluation K ahead."""
        t, slot = rules.next_mark(self._state, self._params)
        if t >= 0:
            self._clock.run.schedule(Event(Instant(int(t)), MARK_EVENT, self, daemon=True,
                                           context={"chain": self._chain,
                                                    "slot": int(slot)}))

    def _evaluate(self):
        backends = self.load_balancer.all_backends
        current = len(backends)
        now_ns = self._clock.now_ns
        since, slot = self._window(now_ns)
        if rules.window_ns(self._params) > 0:
            backends = [Observed(b, now_ns, since, slot) for b in backends]
        if isinstance(self.policy, NumbaPolicy):
            desired = self._numba_desired(backends, current, now_ns)
        else:
            desired = self.policy.evaluate(list(backends), current, self.min_instances,
                                           self.max_instances)
        if isinstance(desired, bool) or not isinstance(desired, numbers.Integral):
            raise TypeError(f"{self.name}: policy {self.policy!r} returned {desired!r}, "
                            "not an int")
        action, n = rules.plan(self._state, self._params, current, int(desired), now_ns)
        if action == rules.SCALE_OUT:
            self._scale_out(current, int(n), now_ns)
        elif action == rules.SCALE_IN:
            self._scale_in(current, int(n), now_ns)
        self._schedule_mark()

    def _numba_desired(self, backends, current, now_ns) -> int:
        """A NumbaPolicy's answer from the observation record (rules.observe)."""
        stats = getattr(self.load_balancer, "stats", None)
        obs = observation(self._params, now_ns, current, backends,
                          int(getattr(stats, "requests_received", 0)))
        return self.policy.decide(obs, self.policy.param_row(), self._policy_memory)

    def _scale_out(self, current, n, now_ns):
        for _ in range(n):
            k = rules.next_instance(self._state)
            server = make_instance(self, self.server_factory, f"{self.name}_server_{k}", k)
            self.load_balancer.add_backend(server)
            self._managed.append(server)
        self._record("scale_out", current, current + n, f"Added {n} instances")
        rules.scaled(self._state, rules.SCALE_OUT, n, now_ns)

    def _scale_in(self, current, n, now_ns):
        lb = self.load_balancer
        backends = lb.all_backends
        position = {id(b): p for p, b in enumerate(backends)}
        managed_pos = np.array([position.get(id(s), -1) for s in self._managed], np.int64)
        out = np.zeros(max(n, 1), np.int64)
        k = int(rules.choose_victims(managed_pos, len(managed_pos), len(backends), n, out))
        victims = [backends[p] for p in out[:k]]
        for v in victims:
            lb.remove_backend(v)
        self._managed = [s for s in self._managed if all(s is not v for v in victims)]
        if k == 0:
            return
        self._record("scale_in", current, current - k, f"Removed {k} instances")
        rules.scaled(self._state, rules.SCALE_IN, k, now_ns)

    def _record(self, action, frm, to, reason):
        self._history.append(ScalingEvent(self.now, action, frm, to, reason))

    def _metric_fields(self) -> dict:
        return dict(vars(self.stats))
