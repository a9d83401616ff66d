"""A server: concurrency slots, a FIFO queue, failures, and instance time (SPEC 5)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from ..core import validate
from ..core.entity import Entity
from ..core.event import Event
from ..core.temporal import Instant
from ..rules.timeconv import seconds_to_ns
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
        self.concurrency = validate.integer("concurrency", concurrency, minimum=1)
        if service_time is None:
            service_time = ConstantLatency(0.01)
        if not isinstance(service_time, LatencyDistribution):
            raise TypeError(f"service_time must be a built-in latency distribution, "
                            f"got {service_time!r}")
        self.service_time = service_time
        self.queue_capacity = (None if queue_capacity is None else
                               validate.integer("queue_capacity", queue_capacity, minimum=0))
        self.failure_rate = validate.number("failure_rate", failure_rate, minimum=0.0, maximum=1.0)
        self._reset_state()

    def _reset_state(self):
        self._queue: deque = deque()
        self._in_service = 0
        self._completed = 0
        self._rejected = 0
        self._failures = 0
        self._service_ns = 0
        self._latency_ns = 0
        self._removed = False
        self._cost_since = -1
        self._cost_ns = 0
        self._ever_costed = False

    # -- observable state ------------------------------------------------------------
    @property
    def utilization(self) -> float:
        """In service / concurrency, now."""
        return self._in_service / self.concurrency

    @property
    def depth(self) -> int:
        """Queue length (waiting, not in service)."""
        return len(self._queue)

    @property
    def active_requests(self) -> int:
        return self._in_service

    @property
    def outstanding(self) -> int:
        """In service plus queued: what LeastConnections compares."""
        return self._in_service + len(self._queue)

    @property
    def stats(self) -> ServerStats:
        return ServerStats(self._completed, self._rejected, self._service_ns / 1e9,
                           self._failures, self._latency_ns / 1e9)

    @property
    def average_service_time(self) -> float:
        return self._service_ns / self._completed / 1e9 if self._completed else 0.0

    @property
    def average_latency(self) -> float:
        return self._latency_ns / self._completed / 1e9 if self._completed else 0.0

    @property
    def instance_seconds(self) -> float:
        """Instance time so far, counting an open interval up to now."""
        ns = self._cost_ns
        if self._cost_since >= 0 and self._clock is not None:
            ns += self._clock.now_ns - self._cost_since
        return ns / 1e9

    # -- requests --------------------------------------------------------------------
    def handle_event(self, event: Event):
        if event.event_type == _COMPLETE:
            return self._complete(event)
        ctx = event.context
        if "u_work" not in ctx:
            # A request built by hand (not by a Source): it is created here and now.
            idx, u_work, u_fail = self._clock.run.new_request()
            ctx.setdefault("id", idx)
            ctx.setdefault("created_at", event.time)
            ctx.update(created_ns=event.time.nanoseconds, u_work=u_work, u_fail=u_fail)
        return self._accept(ctx, event, event.time.nanoseconds)

    def accept_probe(self, probe: Probe, now_ns: int) -> list[Event]:
        """Take a health probe (deployers call this)."""
        return self._accept(None, probe, now_ns)

    def _accept(self, ctx, item, now_ns):
        if self._in_service < self.concurrency:
            return [self._start(item, now_ns)]
        if self.queue_capacity is not None and len(self._queue) >= self.queue_capacity:
            if not isinstance(item, Probe):
                self._rejected += 1
                self._clock.run.request_rejected()
                return []
            # A probe that cannot even queue fails at once.
            return item.on_done(now_ns, True)
        if isinstance(item, Event):
            item._held = True
        self._queue.append((item, now_ns))
        return []

    def _start(self, item, now_ns, arrived_ns=None) -> Event:
        if isinstance(item, Event):
            item._held = True
            u_work, u_fail = item.context["u_work"], item.context["u_fail"]
        else:
            u_work, u_fail = item.u_work, item.u_fail
        self._in_service += 1
        service_ns = max(0, seconds_to_ns(self.service_time.sample(u_work)))
        failed = u_fail < self.failure_rate
        return Event(Instant(now_ns + service_ns), _COMPLETE, self, context={
            "item": item, "arrived_ns": now_ns if arrived_ns is None else arrived_ns,
            "service_ns": service_ns, "failed": failed})

    def _complete(self, event: Event):
        now_ns = event.time.nanoseconds
        ctx = event.context
        item, failed = ctx["item"], ctx["failed"]
        self._in_service -= 1
        out: list[Event] = []
        if isinstance(item, Event):
            self._completed += 1
            self._service_ns += ctx["service_ns"]
            self._latency_ns += now_ns - ctx["arrived_ns"]
            if failed:
                self._failures += 1
            self._clock.run.request_done(now_ns - item.context["created_ns"], failed)
        # Free slots are used at once: the head of the queue starts now.
        while self._queue and self._in_service < self.concurrency:
            nxt, arrived = self._queue.popleft()
            out.append(self._start(nxt, now_ns, arrived))
        self._retire_if_drained(now_ns)
        if isinstance(item, Event):
            out.extend(item._finish(event.time))
        else:
            out.extend(item.on_done(now_ns, failed))
        return out

    # -- instance time -----------------------------------------------------------------
    def _on_added(self, now_ns: int) -> None:
        self._removed = False
        if self._cost_since < 0:
            self._cost_since = now_ns
            self._clock.run.instance_up(self)

    def _on_removed(self, now_ns: int) -> None:
        self._removed = True
        self._retire_if_drained(now_ns)

    def _retire_if_drained(self, now_ns: int) -> None:
        if self._removed and self._cost_since >= 0 and self._in_service == 0 and not self._queue:
            self._cost_ns += now_ns - self._cost_since
            self._cost_since = -1
            self._clock.run.instance_down()
