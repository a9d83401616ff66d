"""RollingDeployer: batch-by-batch replacement with health probes (SPEC section 7)."""

from __future__ import annotations

from typing import Callable

from ..core import validate
from ..core.entity import Entity
from ..core.event import Event
from ..core.temporal import Instant, as_duration_ns
from ..model.server import Probe
from ..rules import rng
from ._common import (check_fleet, deployer_metrics, event_at, finish_deployment, has_backend,
                      interval, make_instance, weight_of)
from .stats import DeploymentState, RollingDeployerStats

_DEPLOY = "_rolling_deploy"
_ROUND = "_rolling_health_round"


class RollingDeployer(Entity):
    """Rolls out new backend versions one batch at a time.

    For each batch: new instances join the load balancer; a health round every
    ``health_check_interval`` probes each new instance not yet healthy; when all reach
    ``healthy_threshold`` consecutive passes the batch's old backends are removed (they
    drain) and the next batch starts. More than ``max_failures`` failed probes roll the
    deployment back, restoring the whole original fleet.

    Args:
        name: Deployer identifier.
        load_balancer: LoadBalancer whose backends to replace.
        server_factory: Creates new-version servers given a name.
        batch_size: Instances replaced per batch (>= 1).
        health_check_interval: Seconds between health rounds; also the probe timeout.
        healthy_threshold: Consecutive passes for an instance to be healthy (>= 1).
        max_failures: Failed probes tolerated; one more rolls back.
    """

    def __init__(self, name: str, load_balancer, server_factory: Callable[[str], Entity],
                 batch_size: int = 1, health_check_interval: float = 2.0,
                 healthy_threshold: int = 2, max_failures: int = 1):
        super().__init__(name)
        self.load_balancer, self.server_factory = check_fleet(load_balancer, server_factory)
        self.batch_size = validate.integer("batch_size", batch_size, minimum=1)
        self.health_check_interval = interval("health_check_interval", health_check_interval)
        self.healthy_threshold = validate.integer("healthy_threshold", healthy_threshold, minimum=1)
        self.max_failures = validate.integer("max_failures", max_failures, minimum=0)
        self._interval_ns = as_duration_ns(self.health_check_interval, "health_check_interval")
        self._counts = dict.fromkeys(RollingDeployerStats.__dataclass_fields__, 0)
        self._state = DeploymentState()
        self._batch_id = 0
        self._old: list = []
        self._old_weights: list[int] = []
        self._next_old = 0
        self._removed_old: list = []
        self._new_all: list = []
        self._batch_old: list = []
        self._batch_new: list = []
        self._passes: list[int] = []
        self._pending: list = []  # the probe awaited from each new instance of the batch
        self._failures = 0
        self._made = 0
        self._probes_sent = 0
        self._probe_key = None
        self._end_ns = -1

    @property
    def stats(self) -> RollingDeployerStats:
        return RollingDeployerStats(**self._counts)

    @property
    def state(self) -> DeploymentState:
        return self._state

    @property
    def end_time(self) -> Instant | None:
        return None if self._end_ns < 0 else Instant(self._end_ns)

    def deploy(self, *, at=None) -> Event:
        """Start a rolling deployment (at now, or ``at``); returns the start event.

        A deploy event that arrives while a deployment is in progress does nothing.
        """
        return event_at(self, at, _DEPLOY, {})

    def _begin_run(self, now_ns: int) -> None:
        self._probe_key = None

    def handle_event(self, event: Event):
        if event.event_type == _DEPLOY:
            return self._deploy()
        if event.event_type == _ROUND:
            if self._state.status != "in_progress" or event.context.get("batch") != self._batch_id:
                return None
            return self._round()
        raise ValueError(f"RollingDeployer {self.name!r} got an unexpected event {event!r}")

    # -- the deployment ------------------------------------------------------------------
    def _deploy(self):
        if self._state.status == "in_progress":
            return None
        lb = self.load_balancer
        self._counts["deployments_started"] += 1
        self._old = list(lb.all_backends)
        self._old_weights = [weight_of(lb, b) for b in self._old]
        self._next_old = 0
        self._removed_old = []
        self._new_all = []
        self._failures = 0
        self._end_ns = -1
        self._state = DeploymentState("in_progress", len(self._old), 0, 0, 0)
        return self._start_batch()

    def _start_batch(self):
        if self._next_old >= len(self._old):
            self._finish("completed", "deployments_completed")
            return []
        k = min(self.batch_size, len(self._old) - self._next_old)
        self._batch_old = self._old[self._next_old:self._next_old + k]
        self._next_old += k
        self._batch_id += 1
        self._state.current_batch += 1
        self._batch_new = []
        for _ in range(k):
            self._made += 1
            server = make_instance(self, self.server_factory, f"{self.name}_v2_{self._made}")
            self.load_balancer.add_backend(server)
            self._batch_new.append(server)
            self._new_all.append(server)
        self._passes = [0] * k
        self._pending = [None] * k
        return [self._next_round()]

    def _next_round(self) -> Event:
        return Event(Instant(self._clock.now_ns + self._interval_ns), _ROUND, self,
                     context={"batch": self._batch_id})

    def _round(self):
        now_ns = self._clock.now_ns
        for i, probe in enumerate(self._pending):
            if probe is not None:
                self._pending[i] = None
                self._probe_failed(i)
                if self._state.status != "in_progress":
                    return None
        out: list[Event] = []
        if self._probe_key is None:
            self._probe_key = self._clock.run.key(rng.probe_stream(self.name))
        for i, server in enumerate(self._batch_new):
            if self._passes[i] >= self.healthy_threshold:
                continue
            self._counts["health_checks_performed"] += 1
            m = self._probes_sent
            self._probes_sent += 1
            probe = Probe(now_ns, rng.uniform(self._probe_key, 2 * m),
                          rng.uniform(self._probe_key, 2 * m + 1), None)
            probe.on_done = self._make_on_done(self._batch_id, i, probe)
            self._pending[i] = probe
            out.extend(server.accept_probe(probe, now_ns))
            if self._state.status != "in_progress":
                return out
        out.append(self._next_round())
        return out

    def _make_on_done(self, batch_id, i, probe):
        def on_done(finish_ns, failed):
            if (self._state.status != "in_progress" or batch_id != self._batch_id
                    or self._pending[i] is not probe):
                return []
            self._pending[i] = None
            if failed or finish_ns - probe.sent_ns >= self._interval_ns:
                self._probe_failed(i)
                return []
            return self._probe_passed(i)
        return on_done

    def _probe_failed(self, i):
        self._passes[i] = 0
        self._counts["health_checks_failed"] += 1
        self._state.failed += 1
        self._failures += 1
        if self._failures > self.max_failures:
            self._rollback()

    def _probe_passed(self, i):
        self._passes[i] += 1
        self._counts["health_checks_passed"] += 1
        if any(p < self.healthy_threshold for p in self._passes):
            return []
        lb = self.load_balancer
        for b in self._batch_old:
            if has_backend(lb, b):
                lb.remove_backend(b)
            self._removed_old.append(b)
        n = len(self._batch_old)
        self._state.replaced += n
        self._counts["instances_replaced"] += n
        return self._start_batch()

    def _rollback(self):
        lb = self.load_balancer
        for s in self._new_all:
            if has_backend(lb, s):
                lb.remove_backend(s)
        for b, w in zip(self._old, self._old_weights):
            if any(b is r for r in self._removed_old) and not has_backend(lb, b):
                lb.add_backend(b, w)
        self._finish("rolled_back", "deployments_rolled_back")

    def _finish(self, status: str, counter: str):
        self._end_ns = finish_deployment(self._state, self._counts, status, counter,
                                         self._clock.now_ns)

    def _metric_fields(self) -> dict:
        return deployer_metrics(self._counts, self._state, self._end_ns)
