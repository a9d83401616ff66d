"""A server: concurrency slots, a FIFO queue, failures, and instance time (SPEC 5)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from ..core import validate
from ..core.entity import Entity
from ..core.event import Event
from ..core.temporal import Instant
from ..rules import server as rules
from .distributions import ConstantLatency, LatencyDistribution

_COMPLETE = "_server_complete"


@dataclass(frozen=True)
class ServerStats:
    """Request counters of one server (health probes are not requests)."""

    requests_completed: int = 0
    requests_rejected: int = 0
    total_service_time: float = 0.0
    total_failures: int = 0
    total_latency: float = 0.0


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
    """

    def __init__(self, name: str, concurrency: int = 1,
                 service_time: LatencyDistribution | None = None,
                 queue_capacity: int | None = None, failure_rate: float = 0.0):
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
        self._reset_state()

    def _reset_state(self):
        self._queue: deque = deque()
        # The shared state machine's record (rules/server.py): slots, queue length,
        # counters and instance time. The queue's items are this engine's own.
        self._state = np.zeros(rules.FIELDS, np.int64)
        rules.reset(self._state, self.concurrency,
                    -1 if self.queue_capacity is None else self.queue_capacity)
        self._ever_costed = False

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
                           int(st[rules.LATENCY_NS]) / 1e9)

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

    # -- requests --------------------------------------------------------------------
    def handle_event(self, event: Event):
        if event.event_type == _COMPLETE:
            return self._complete(event)
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
        action = rules.arrive(self._state, is_request)
        if action == rules.START:
            return [self._start(item, now_ns)]
        if action == rules.REJECT:
            if is_request:
                self._clock.run.request_rejected()
                return []
            # A probe that cannot even queue fails at once.
            return item.on_done(now_ns, True)
        if isinstance(item, Event):
            item._held = True
        self._queue.append((item, now_ns))
        return []

    def _start(self, item, now_ns, arrived_ns=None) -> Event:
        """Item takes a slot (already counted busy): its work and outcome."""
        if isinstance(item, Event):
            item._held = True
            u_work, u_fail = item.context["u_work"], item.context["u_fail"]
        else:
            u_work, u_fail = item.u_work, item.u_fail
        d = self.service_time
        service_ns = int(rules.service_ns(d.kind, d.a, d.b, u_work))
        failed = bool(rules.fails(self.failure_rate, u_fail))
        return Event(Instant(now_ns + service_ns), _COMPLETE, self, context={
            "item": item, "arrived_ns": now_ns if arrived_ns is None else arrived_ns,
            "service_ns": service_ns, "failed": failed})

    def _complete(self, event: Event):
        now_ns = event.time.nanoseconds
        ctx = event.context
        item, failed = ctx["item"], ctx["failed"]
        is_request = isinstance(item, Event)
        rules.finished(self._state, is_request, ctx["service_ns"], now_ns - ctx["arrived_ns"],
                       int(failed))
        out: list[Event] = []
        if is_request:
            self._clock.run.request_done(now_ns - item.context["created_ns"], failed)
        # Free slots are used at once: the head of the queue starts now.
        while rules.start_next(self._state):
            nxt, arrived = self._queue.popleft()
            out.append(self._start(nxt, now_ns, arrived))
        self._retire_if_drained(now_ns)
        if is_request:
            out.extend(item._finish(event.time))
        else:
            out.extend(item.on_done(now_ns, failed))
        return out

    # -- instance time -----------------------------------------------------------------
    def _on_added(self, now_ns: int) -> None:
        if rules.added(self._state, now_ns):
            self._clock.run.instance_up(self)

    def _on_removed(self, now_ns: int) -> None:
        if rules.removed(self._state, now_ns):
            self._clock.run.instance_down()

    def _retire_if_drained(self, now_ns: int) -> None:
        if rules.retire_if_drained(self._state, now_ns):
            self._clock.run.instance_down()
