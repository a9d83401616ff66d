"""RollingDeployer: batch-by-batch replacement with health probes (SPEC section 7)."""

from __future__ import annotations

from typing import Callable

from ..core import validate
from ..core.entity import Entity
from ..core.event import Event
import numpy as np

from ..core.temporal import Instant
from ..model.server import Probe
from ..rules import measure, rng
from ..rules import rolling as rules
from ._common import (GroupMeasures, check_fleet, deployer_metrics, event_at, has_backend,
                      interval, make_instance, weight_of)
from .stats import DeploymentState, RollingDeployerStats

# happysim's event type: an Event of this type scheduled by hand is a deploy().
DEPLOY_EVENT = "_rolling_deploy_start"
ROUND_EVENT = "_rolling_health_round"


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
        # The shared state machine's record (rules/rolling.py), its parameter row, and
        # per new instance of the batch: passes, awaited probe number, probe sent time.
        self._record = np.zeros(rules.FIELDS, np.int64)
        rules.reset(self._record)
        self._params = self._param_row()
        self._passes = np.zeros(0, np.int64)
        self._pending = np.zeros(0, np.int64)
        self._sent = np.zeros(0, np.int64)
        self._state = DeploymentState()
        self._old: list = []
        self._old_weights: list[int] = []
        self._removed_old: list = []
        self._new_all: list = []
        self._batch_new: list = []
        self._probe_key = None
        # What the new version answers (rules/measure.py): the outcome columns'
        # requests and exposure.
        self._measures = GroupMeasures()

    def _param_row(self) -> np.ndarray:
        return np.array([float(getattr(self, n)) for n in rules.PARAM_NAMES], np.float64)

    @property
    def stats(self) -> RollingDeployerStats:
        first = rules.STATS_FIRST
        return RollingDeployerStats(*(int(v) for v in
                                      self._record[first:first + len(rules.STATS)]))

    @property
    def state(self) -> DeploymentState:
        return self._state

    @property
    def end_time(self) -> Instant | None:
        end = int(self._record[rules.END_NS])
        return None if end < 0 else Instant(end)

    def deploy(self, *, at=None) -> Event:
        """Start a rolling deployment (at now, or ``at``); returns the start event.

        A deploy event that arrives while a deployment is in progress does nothing.
        """
        return event_at(self, at, DEPLOY_EVENT, {})

    def _begin_run(self, now_ns: int) -> None:
        self._probe_key = None
        self._params = self._param_row()
        self._measures.reset()

    def handle_event(self, event: Event):
        if event.event_type == DEPLOY_EVENT:
            return self._deploy()
        if event.event_type == ROUND_EVENT:
            if not rules.round_due(self._record, event.context.get("batch", -1)):
                return None
            return self._round()
        raise ValueError(f"RollingDeployer {self.name!r} got an unexpected event {event!r}")

    # -- the deployment ------------------------------------------------------------------
    def _sync_state(self):
        """The documented DeploymentState, from the shared record."""
        r = self._record
        st = self._state
        st.status = rules.STATUS_NAMES[int(r[rules.STATUS])]
        st.total_instances = int(r[rules.TOTAL_INSTANCES])
        st.replaced = int(r[rules.REPLACED])
        st.failed = int(r[rules.FAILED])
        st.current_batch = int(r[rules.CURRENT_BATCH])

    def _deploy(self):
        if not rules.accepts_deploy(self._record):
            return None
        lb = self.load_balancer
        self._old = list(lb.all_backends)
        self._old_weights = [weight_of(lb, b) for b in self._old]
        self._removed_old = []
        self._new_all = []
        now_ns = self._clock.now_ns
        rules.begin(self._record, len(self._old), now_ns)
        # Only the new version is measured (nothing judges the old one's requests).
        self._measures.begin(now_ns, False)
        self._state = DeploymentState()
        return self._start_batch()

    def _start_batch(self):
        now_ns = self._clock.now_ns
        k = int(rules.next_batch(self._record, self._params, len(self._old), now_ns))
        self._sync_state()
        if k == 0:
            self._measures.decided()
            return []
        self._batch_new = []
        self._passes = np.zeros(k, np.int64)
        self._pending = np.zeros(k, np.int64)
        self._sent = np.zeros(k, np.int64)
        for i in range(k):
            made = rules.new_instance_added(self._record, self._passes, self._pending, i)
            server = make_instance(self, self.server_factory, f"{self.name}_v2_{made}", made)
            self._measures.tag(server, measure.NEW)
            self.load_balancer.add_backend(server)
            self._batch_new.append(server)
            self._new_all.append(server)
        return [self._next_round()]

    def _next_round(self) -> Event:
        return Event(Instant(self._clock.now_ns + rules.interval_ns(self._params)), ROUND_EVENT,
                     self, context={"batch": int(self._record[rules.BATCH_ID])})

    def _round(self):
        now_ns = self._clock.now_ns
        for i in range(len(self._batch_new)):
            if self._pending[i] >= 0:
                outcome = rules.probe_failed(self._record, self._params, self._passes,
                                             self._pending, i, now_ns)
                if self._apply(outcome):
                    return None
        out: list[Event] = []
        if self._probe_key is None:
            self._probe_key = self._clock.run.key(rng.probe_stream(self.name))
        for i, server in enumerate(self._batch_new):
            if not rules.needs_probe(self._params, self._passes, i):
                continue
            m = int(rules.probe_sent(self._record, self._pending, self._sent, i, now_ns))
            probe = Probe(now_ns, rng.item_uniform(self._probe_key, m, rng.WORK_DRAW),
                          rng.item_uniform(self._probe_key, m, rng.FAIL_DRAW),
                          self._make_on_done(m))
            out.extend(server.accept_probe(probe, now_ns))
            if self._record[rules.STATUS] != rules.IN_PROGRESS:
                return out
        out.append(self._next_round())
        return out

    def _make_on_done(self, m):
        def on_done(finish_ns, failed):
            n = len(self._batch_new)
            i = int(rules.awaited_by(self._record, self._pending, n, m))
            if i < 0:
                return []
            outcome = rules.probe_done(self._record, self._params, self._passes,
                                       self._pending, self._sent, n, i, bool(failed),
                                       finish_ns)
            events = self._apply(outcome)
            return events if isinstance(events, list) else []
        return on_done

    def _apply(self, outcome):
        """Carry out a probe outcome: roll back (returns True), or replace the batch's old
        backends and start the next batch (returns its events); else None."""
        self._sync_state()
        if outcome == rules.ROLL_BACK:
            self._rollback()
            return True
        if outcome == rules.BATCH_HEALTHY:
            lb = self.load_balancer
            first = int(self._record[rules.BATCH_FIRST_OLD])
            n = int(rules.batch_replaced(self._record))
            for b in self._old[first:first + n]:
                if has_backend(lb, b):
                    lb.remove_backend(b)
                self._removed_old.append(b)
            return self._start_batch()
        return None

    def _rollback(self):
        self._measures.decided()
        lb = self.load_balancer
        for s in self._new_all:
            if has_backend(lb, s):
                lb.remove_backend(s)
        for b, w in zip(self._old, self._old_weights):
            if any(b is r for r in self._removed_old) and not has_backend(lb, b):
                lb.add_backend(b, w)

    def _metric_fields(self) -> dict:
        return deployer_metrics(vars(self.stats), self._state, self._record,
                                self._measures)
