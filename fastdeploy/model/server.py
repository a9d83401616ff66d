"""A server: concurrency slots, a FIFO queue, failures, readiness and instance time
(SPEC 5; start-up and termination grace: docs/instance-lifecycle.md)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from ..core import validate
from ..core.entity import Entity
from ..core.event import Event
from ..core.temporal import Instant
from ..rules import rng
from ..rules import server as rules
from ..rules.timeconv import seconds_to_ns
from .distributions import ConstantLatency, LatencyDistribution

_COMPLETE = "_server_complete"
READY_EVENT = "_server_ready"
GRACE_EVENT = "_server_grace_end"


@dataclass(frozen=True)
class ServerStats:
    """Request counters of one server (health probes are not requests)."""

    requests_completed: int = 0
    requests_rejected: int = 0
    total_service_time: float = 0.0
    total_failures: int = 0
    total_latency: float = 0.0
    requests_dropped: int = 0


class Probe:
    """A health probe: queued and served like a request, counted as none."""

    __slots__ = ("sent_ns", "u_work", "u_fail", "on_done")

    def __init__(self, sent_ns, u_work, u_fail, on_done):
        self.sent_ns = sent_ns
        self.u_work = u_work
        self.u_fail = u_fail
        self.on_done = on_done  # fn(finish_ns, failed) -> list[Event]


class Server(Entity):
    """A server with ``concurrency`` slots and a FIFO queue.

    Args:
        name: Server identifier.
        concurrency: Requests served at once.
        service_time: Service-time distribution (default ConstantLatency(0.01)).
        queue_capacity: Most requests waiting; None for unbounded. A full queue rejects.
        failure_rate: Probability that a served request fails.
        startup_delay: Seconds (or a latency distribution, drawn once per instance) from
            the creation of an instance during a run until it is ready. Until then it
            costs but takes no requests, and health probes wait in its queue. Servers
            present when the run starts are ready at once.
        termination_grace: None drains a removed server to completion. Seconds: what
            it still holds that long after its removal is dropped (counted in
            ``requests_dropped``) and its instance time ends.
    """

    def __init__(self, name: str, concurrency: int = 1,
                 service_time: LatencyDistribution | None = None,
                 queue_capacity: int | None = None, failure_rate: float = 0.0, *,
                 startup_delay: float | LatencyDistribution = 0.0,
                 termination_grace: float | None = None):
        super().__init__(name)
        self.concurrency = concurrency
        if service_time is None:
            service_time = ConstantLatency(0.01)
        if not isinstance(service_time, LatencyDistribution):
            raise TypeError(f"service_time must be a built-in latency distribution, "
                            f"got {service_time!r}")
        self.service_time = service_time
        self.queue_capacity = queue_capacity
        self.failure_rate = validate.number("failure_rate", failure_rate, minimum=0.0, maximum=1.0)
        self.startup_delay = startup_delay
        self.termination_grace = termination_grace
        # (component name, k) of the k-th instance a component created: its start-up
        # draw (rules/rng.py startup_stream); None for a server built by hand.
        self._startup_draw = None
        self._lb = None  # the load balancer it is a backend of
        # (GroupMeasures, group) of the deployer measuring it (deployment/_common.py)
        self._measure = None
        self._reset_state()

    def _reset_state(self):
        self._queue: deque = deque()
        # The shared state machine's record (rules/server.py): slots, queue length,
        # counters and instance time. The queue's items are this engine's own.
        self._state = np.zeros(rules.FIELDS, np.int64)
        rules.reset(self._state, self.concurrency,
                    -1 if self.queue_capacity is None else self.queue_capacity,
                    self._grace_ns())
        self._ever_costed = False
        # The marks its controller took of its integrals (rules/server.py), as the rules
        # take them: index 0 of a 3-D array; grown when a controller needs more slots.
        self._marks = np.full((1, 0, rules.M_COLUMNS), -1, np.int64)

    def _mark(self, slot: int, now_ns: int) -> None:
        """A controller's metric window starts now: keep the integrals in ``slot``."""
        if slot >= self._marks.shape[1]:
            grown = np.full((1, slot + 1, rules.M_COLUMNS), -1, np.int64)
            grown[:, :self._marks.shape[1]] = self._marks
            self._marks = grown
        rules.mark(self._state, self._marks, 0, slot, now_ns)

    def observed(self, now_ns: int, since_ns: int, slot: int) -> tuple[float, float, float]:
        """(utilization, queue depth, in service) as a controller sees them at now_ns:
        their time-weighted means from since_ns, whose mark is in ``slot`` (since_ns ==
        now_ns: the values now)."""
        if slot >= self._marks.shape[1]:  # never marked: seen over its life
            marks = np.full((1, slot + 1, rules.M_COLUMNS), -1, np.int64)
        else:
            marks = self._marks
        u, d, b = rules.observe(self._state, marks, 0, now_ns, since_ns, slot)
        return float(u), float(d), float(b)

    def _grace_ns(self) -> int:
        g = self._termination_grace
        return -1 if g is None else int(seconds_to_ns(g))

    @property
    def startup_delay(self) -> LatencyDistribution:
        """The start-up delay's distribution (a number is a ConstantLatency)."""
        return self._startup_delay

    @startup_delay.setter
    def startup_delay(self, value) -> None:
        if isinstance(value, LatencyDistribution):
            self._startup_delay = value
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"startup_delay must be seconds or a built-in latency "
                            f"distribution, got {value!r}")
        else:
            self._startup_delay = ConstantLatency(validate.seconds("startup_delay", value))

    @property
    def termination_grace(self) -> float | None:
        return self._termination_grace

    @termination_grace.setter
    def termination_grace(self, value) -> None:
        self._termination_grace = (None if value is None else
                                   validate.seconds("termination_grace", value))
        if hasattr(self, "_state"):
            self._state[rules.GRACE_NS] = self._grace_ns()

    # The record keeps its own copy of the slots and the queue bound: setting either (a
    # sweep point, a replay) updates it.
    @property
    def concurrency(self) -> int:
        return self._concurrency

    @concurrency.setter
    def concurrency(self, value) -> None:
        self._concurrency = validate.integer("concurrency", value, minimum=1)
        if hasattr(self, "_state"):
            self._state[rules.CONCURRENCY] = self._concurrency

    @property
    def queue_capacity(self) -> int | None:
        return self._queue_capacity

    @queue_capacity.setter
    def queue_capacity(self, value) -> None:
        self._queue_capacity = (None if value is None else
                                validate.integer("queue_capacity", value, minimum=0))
        if hasattr(self, "_state"):
            self._state[rules.CAPACITY] = -1 if value is None else self._queue_capacity

    # -- observable state ------------------------------------------------------------
    @property
    def ready(self) -> bool:
        """Whether it serves: False while an instance created during the run boots."""
        return bool(self._state[rules.READY])

    @property
    def utilization(self) -> float:
        """In service / concurrency, now."""
        return int(self._state[rules.BUSY]) / self.concurrency

    @property
    def depth(self) -> int:
        """Queue length (waiting, not in service)."""
        return int(self._state[rules.QUEUED])

    @property
    def active_requests(self) -> int:
        return int(self._state[rules.BUSY])

    @property
    def outstanding(self) -> int:
        """In service plus queued: what LeastConnections compares."""
        return int(rules.outstanding(self._state))

    @property
    def stats(self) -> ServerStats:
        st = self._state
        return ServerStats(int(st[rules.COMPLETED]), int(st[rules.REJECTED]),
                           int(st[rules.SERVICE_NS]) / 1e9, int(st[rules.FAILURES]),
                           int(st[rules.LATENCY_NS]) / 1e9, int(st[rules.DROPPED]))

    @property
    def average_service_time(self) -> float:
        n = int(self._state[rules.COMPLETED])
        return int(self._state[rules.SERVICE_NS]) / n / 1e9 if n else 0.0

    @property
    def average_latency(self) -> float:
        n = int(self._state[rules.COMPLETED])
        return int(self._state[rules.LATENCY_NS]) / n / 1e9 if n else 0.0

    def request_counters(self) -> tuple[int, int, int, int]:
        """(completed, rejected, failures, latency in ns) of requests: what the canary
        evaluators compare, exactly."""
        st = self._state
        return (int(st[rules.COMPLETED]), int(st[rules.REJECTED]), int(st[rules.FAILURES]),
                int(st[rules.LATENCY_NS]))

    @property
    def instance_seconds(self) -> float:
        """Instance time so far, counting an open interval up to now."""
        if self._clock is None:
            return int(self._state[rules.COST_NS]) / 1e9
        return int(rules.instance_ns(self._state, self._clock.now_ns)) / 1e9

    def instance_ns_at(self, now_ns: int) -> int:
        """Instance time up to now_ns, in ns."""
        return int(rules.instance_ns(self._state, now_ns))

    def booting_ns_at(self, now_ns: int) -> int:
        """Instance time spent before ready up to now_ns, in ns."""
        return int(rules.booting_ns(self._state, now_ns))

    # -- requests --------------------------------------------------------------------
    def handle_event(self, event: Event):
        if event.event_type == _COMPLETE:
            return self._complete(event)
        if event.event_type == READY_EVENT:
            return self._became_ready(event.time.nanoseconds)
        if event.event_type == GRACE_EVENT:
            return self._grace_ended(event.context["removal"], event.time.nanoseconds)
        ctx = event.context
        if "u_work" not in ctx:
            # A request built by hand (not by a Source): it is created here and now.
            idx, u_work, u_fail = self._clock.run.new_request()
            ctx.setdefault("id", idx)
            # A created_at the sender gave is the creation time for latency.
            created = ctx.setdefault("created_at", event.time)
            if not isinstance(created, Instant):
                raise TypeError(f"Server {self.name!r}: {event!r} has created_at "
                                f"{created!r}; it must be an Instant")
            ctx.update(created_ns=created.nanoseconds, u_work=u_work, u_fail=u_fail)
        return self._accept(ctx, event, event.time.nanoseconds)

    def accept_probe(self, probe: Probe, now_ns: int) -> list[Event]:
        """Take a health probe (deployers call this)."""
        return self._accept(None, probe, now_ns)

    def _accept(self, ctx, item, now_ns):
        is_request = not isinstance(item, Probe)
        action = rules.arrive(self._state, self._clock.run.fleet, is_request,
                              now_ns)
        if action == rules.START:
            self._start(item, now_ns)
            return []
        if action == rules.REJECT:
            if is_request:
                self._clock.run.request_rejected()
                if self._measure is not None:
                    self._measure[0].rejected(self._measure[1])
                return []
            # A probe that cannot even queue fails at once.
            return item.on_done(now_ns, True)
        if isinstance(item, Event):
            item._held = True
        self._queue.append((item, now_ns))
        return []

    def _start(self, item, now_ns, arrived_ns=None) -> None:
        """Item takes a slot (already counted busy): its work and outcome, and its
        completion scheduled at once (where the kernels push it)."""
        if isinstance(item, Event):
            item._held = True
            u_work, u_fail = item.context["u_work"], item.context["u_fail"]
        else:
            u_work, u_fail = item.u_work, item.u_fail
        d = self.service_time
        service_ns = int(rules.service_ns(d.kind, d.a, d.b, u_work))
        failed = bool(rules.fails(self.failure_rate, u_fail))
        self._clock.run.schedule(Event(Instant(now_ns + service_ns), _COMPLETE, self, context={
            "item": item, "arrived_ns": now_ns if arrived_ns is None else arrived_ns,
            "service_ns": service_ns, "failed": failed,
            "drops": int(self._state[rules.DROPS])}))

    def _complete(self, event: Event):
        now_ns = event.time.nanoseconds
        ctx = event.context
        item, failed = ctx["item"], ctx["failed"]
        if ctx["drops"] != self._state[rules.DROPS]:
            return []  # dropped when its server's termination grace ended
        is_request = isinstance(item, Event)
        rules.finished(self._state, is_request, ctx["service_ns"], now_ns - ctx["arrived_ns"],
                       int(failed), now_ns)
        out: list[Event] = []
        if is_request:
            latency = now_ns - item.context["created_ns"]
            self._clock.run.request_done(latency, failed)
            if self._measure is not None:
                self._measure[0].completed(self._measure[1], latency, failed)
        self._start_queued(now_ns)
        self._retire_if_drained(now_ns)
        if is_request:
            out.extend(item._finish(event.time))
        else:
            out.extend(item.on_done(now_ns, failed))
        return out

    def _start_queued(self, now_ns: int) -> None:
        """Free slots are used at once: the head of the queue starts now."""
        q = self._queue
        while q and rules.start_next(self._state, self._clock.run.fleet,
                                     not isinstance(q[0][0], Probe), now_ns):
            nxt, arrived = q.popleft()
            self._start(nxt, now_ns, arrived)

    # -- readiness and instance time -----------------------------------------------------
    def _on_added(self, now_ns: int, lb=None, *, booting: bool = False) -> None:
        """Joined load balancer ``lb``; ``booting``: created during the run, so it starts
        up first (the first time only)."""
        self._lb = lb
        run = self._clock.run
        if booting and self._state[rules.COST_SINCE] < 0 and not self._ever_costed:
            creator, k = self._startup_draw or (self.name, 0)
            u = rng.uniform(run.key(rng.startup_stream(creator)), k)
            d = self._startup_delay
            delay = int(rules.startup_ns(d.kind, d.a, d.b, u))
            if delay > 0:
                rules.boots(self._state)
                run.schedule(Event(Instant(now_ns + delay), READY_EVENT, self))
        if rules.added(self._state, run.fleet, now_ns):
            run.instance_up(self)

    def _on_removed(self, now_ns: int) -> None:
        self._lb = None
        run = self._clock.run
        if rules.removed(self._state, run.fleet, now_ns):
            run.instance_down()
            return
        end = int(rules.grace_end_ns(self._state, now_ns))
        if end >= 0:
            run.schedule(Event(Instant(end), GRACE_EVENT, self,
                               context={"removal": int(self._state[rules.REMOVALS])}))

    def _became_ready(self, now_ns: int):
        rules.became_ready(self._state, self._clock.run.fleet, now_ns)
        if self._lb is not None:
            self._lb._backend_ready(self)
        self._start_queued(now_ns)
        return []

    def _grace_ended(self, removal: int, now_ns: int):
        if rules.grace_ended(self._state, self._clock.run.fleet, removal,
                             now_ns):
            # Queued items are dropped with the instance; those in service were voided
            # (their completions see a new drop count). Probes get no answer.
            self._queue.clear()
            self._clock.run.instance_down()
        return []

    def _retire_if_drained(self, now_ns: int) -> None:
        if rules.retire_if_drained(self._state, self._clock.run.fleet, now_ns):
            self._clock.run.instance_down()
