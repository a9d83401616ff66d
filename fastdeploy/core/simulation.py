"""The object engine: an event loop over the documented classes (SPEC section 2)."""

from __future__ import annotations

import heapq
import time as _time
from types import GeneratorType
from typing import NamedTuple

from ..rules import fleet, histogram
from . import validate
from .clock import Clock
from .event import Event, as_event_list
from .process import Resume, start_process
from .run_record import RunRecord
from .run_summary import EntitySummary, SimulationSummary
from .snapshot import GraphSnapshot
from .temporal import Instant, as_instant


class TraceEntry(NamedTuple):
    """One processed event."""

    time: Instant
    seq: int
    event_type: str
    target: str


def discover(sources, entities) -> list:
    """Every entity of the scenario, in a fixed order: entities, sources, targets, backends."""
    seen: dict[int, object] = {}
    order: list = []

    def visit(x):
        if x is None or id(x) in seen or not hasattr(x, "handle_event"):
            return
        seen[id(x)] = x
        order.append(x)
        target = getattr(x, "target", None)
        if target is not None and not isinstance(x, Event):
            visit(target)
        for b in getattr(x, "all_backends", None) or []:
            visit(b)
        lb = getattr(x, "load_balancer", None)
        if lb is not None:
            visit(lb)

    for e in entities:
        visit(e)
    for s in sources:
        visit(s)
    return order


class Simulation:
    """An event-driven simulation of one scenario.

    Args:
        start_time: When the run begins (Instant or seconds; default Instant.Epoch).
        end_time: Events after it do not run (Instant or seconds; None: until only
            daemon events remain).
        duration: Alternative to end_time: seconds after start_time.
        sources: Traffic sources.
        entities: Other entities (load balancers, servers, scalers, deployers).
        seed: Seed of every random stream; replica r of seed s is reproducible.
        trace: Record every processed event in ``trace_log``.
    """

    def __init__(self, start_time=Instant.Epoch, end_time=None, duration=None, sources=(),
                 entities=(), *, seed: int = 0, trace: bool = False):
        self.start_time = as_instant(start_time, "start_time")
        if duration is not None and end_time is not None:
            raise ValueError("give end_time or duration, not both "
                             f"(end_time={end_time!r}, duration={duration!r})")
        if duration is not None:
            end_time = self.start_time + validate.seconds("duration", duration)
        self.end_time = None if end_time is None else as_instant(end_time, "end_time")
        if self.end_time is not None and self.end_time < self.start_time:
            raise ValueError(f"end_time must not be before start_time, got {self.end_time!r}")
        if self.end_time is not None and self.end_time.is_infinite():
            self.end_time = None
        self.seed = validate.integer("seed", seed, minimum=0, maximum=2**63 - 1)
        self.trace = bool(trace)
        self.sources = list(sources)
        self.entities = list(entities)
        self._pending: list[Event] = []
        self._live_push = None  # while a run is under way: schedule into its heap
        self._snapshot: GraphSnapshot | None = None
        self.trace_log: list[TraceEntry] = []
        self.summary: SimulationSummary | None = None
        self._check_names()
        # Entities can build events (start(), deploy()) before the run: give them a clock.
        setup_clock = Clock(self.start_time)
        for e in discover(self.sources, self.entities):
            if getattr(e, "_clock", None) is None and hasattr(e, "set_clock"):
                e.set_clock(setup_clock)

    def _check_names(self):
        names: dict[str, object] = {}
        for e in discover(self.sources, self.entities):
            name = getattr(e, "name", None)
            if name is None:
                continue
            if name in names and names[name] is not e:
                raise ValueError(f"two entities are named {name!r}; names must be unique")
            names[name] = e

    def initial_graph(self) -> tuple[list, list, list]:
        """(sources, entities, scheduled events) as every replica starts from them: as
        built, before the first run changed them."""
        if self._snapshot is not None:
            sources, entities, pending = self._snapshot._copy
        else:
            sources, entities, pending = self.sources, self.entities, self._pending
        return list(sources), list(entities), list(pending)

    @property
    def components(self) -> list:
        return discover(self.sources, self.entities)

    def schedule(self, events) -> None:
        """Schedule an Event (or a list of them): before the run (every replica gets
        it), or during the run (from a handler: this run only, at or after now)."""
        if self._live_push is not None:
            self._live_push(as_event_list(events))
            return
        for e in as_event_list(events):
            self._pending.append(e)

    # -- running -------------------------------------------------------------------------
    def run(self, replica: int = 0) -> SimulationSummary:
        """Run one replica of this simulation's seed and return its summary."""
        replica = validate.integer("replica", replica, minimum=0, maximum=2**63 - 1)
        roots = (self.sources, self.entities, self._pending)
        if self._snapshot is None:
            self._snapshot = GraphSnapshot(roots)
            pending = list(self._pending)
        else:
            _, _, pending = self._snapshot.restore()
        wall0 = _time.perf_counter()
        start_ns = self.start_time.nanoseconds
        end_ns = self.end_time.nanoseconds if self.end_time is not None else None
        clock = Clock(self.start_time)
        record = RunRecord(self.seed, replica, start_ns,
                           schedule=lambda ev: push(ev, clock.now_ns))
        record.clock = clock
        clock.run = record
        everything = discover(self.sources, self.entities)
        for e in everything:
            if hasattr(e, "set_clock"):
                e.set_clock(clock)
        for e in everything:
            if hasattr(e, "_begin_run"):
                e._begin_run(start_ns)

        heap: list = []
        seq = 0
        live = 0  # pending non-daemon events
        self.trace_log = []

        def push(ev: Event, now_ns: int):
            nonlocal seq, live
            if ev.time.nanoseconds < now_ns:
                raise ValueError(f"{ev!r} is scheduled before the current time {now_ns / 1e9}s")
            ev.seq = seq
            heapq.heappush(heap, (ev.time.nanoseconds, seq, ev))
            seq += 1
            if not ev.daemon:
                live += 1

        for ev in pending:
            push(ev, start_ns)
        for s in self.sources:
            ev = s._first_event(record, start_ns)
            if ev is not None:
                push(ev, start_ns)

        processed = 0
        handled: dict[int, list] = {}  # id(target) -> [target, events handled]
        now_ns = start_ns
        self._live_push = lambda events: [push(e, clock.now_ns) for e in events]
        try:
            while heap:
                t = heap[0][0]
                if end_ns is not None and t > end_ns:
                    break
                if end_ns is None and live == 0:
                    break
                _, _, ev = heapq.heappop(heap)
                if not ev.daemon:
                    live -= 1
                now_ns = t
                clock.advance_to(t)
                if self.trace:
                    self.trace_log.append(TraceEntry(
                        ev.time, ev.seq, ev.event_type,
                        getattr(ev.target, "name", repr(ev.target))))
                counted = handled.get(id(ev.target))
                if counted is None:
                    handled[id(ev.target)] = [ev.target, 1]
                else:
                    counted[1] += 1
                if type(ev) is Resume:
                    out = ev.step()
                else:  # deliver(ev, ev.target), inlined: the loop's hot path
                    result = ev.target.handle_event(ev)
                    out = (start_process(ev, result) if type(result) is GeneratorType
                           else as_event_list(result))
                if not ev._held:
                    out.extend(ev._finish(ev.time))
                for e in out:
                    push(e, now_ns)
                processed += 1
        finally:
            self._live_push = None

        final_ns = end_ns if end_ns is not None else now_ns
        clock.advance_to(final_ns)
        final = discover(self.sources, self.entities)
        metrics = collect_metrics(record, final, final_ns)
        self.summary = SimulationSummary(processed, Instant(final_ns),
                                         _time.perf_counter() - wall0, self.seed, replica,
                                         metrics, self.start_time,
                                         entity_summaries(final, handled))
        return self.summary


    def run_batch(self, replicas, *, seed=None, threads=None, params=None, timeseries=None,
                  progress=False, memory_budget=None):
        """Run many replicas in the batch engine (numba kernels, in parallel).

        Args:
            replicas: A count (replicas 0..n-1) or an array of replica indices.
            seed: Seed of the streams (default: this simulation's seed).
            threads: Numba threads (default: all).
            params: {dotted path: one value per replica} overrides; see
                ``batch_parameters()``.
            timeseries: Sampling step in seconds for ``BatchResult.timeseries``.
            progress: True prints progress to stderr; a callable gets
                ``(replicas_done, replicas_total)`` as slices finish.
            memory_budget: Bytes the run may hold (default: half the machine's memory);
                a run planned above it is refused before it starts, with the estimate.

        Returns:
            BatchResult with ``table`` (one row per replica, the same names as
            ``summary.metrics`` plus replica and seed), ``scaling_events`` and
            ``timeseries``.

        Raises:
            LoweringError: a part of the scenario is not built-in (use ``run``).
        """
        run_batch, _ = _batch_engine()
        return run_batch(self, replicas, seed=seed, threads=threads, params=params,
                         timeseries=timeseries, progress=progress, memory_budget=memory_budget)

    def batch_parameters(self) -> dict:
        """Every number the batch engine lowers, by dotted path, with its current value."""
        _, lower = _batch_engine()
        return lower(self).params.defaults()


# The batch engine's entry points (run_batch, lower), given by the package above both
# engines (fastdeploy/__init__.py), so that core/ never imports batch/.
_BATCH_ENGINE = None


def set_batch_engine(loader) -> None:
    """Give the facade the batch engine: ``loader()`` returns (run_batch, lower)."""
    global _BATCH_ENGINE
    _BATCH_ENGINE = loader


def _batch_engine():
    if _BATCH_ENGINE is None:
        raise RuntimeError("the batch engine is not available (import fastdeploy)")
    return _BATCH_ENGINE()


def entity_summaries(entities, handled: dict) -> dict[str, EntitySummary]:
    """Per entity by name: the entities of the scenario at the end, then any other that
    handled events (a removed server, say)."""
    out: dict[str, EntitySummary] = {}
    seen = set()
    for e in list(entities) + [t for t, _ in handled.values()]:
        name = getattr(e, "name", None)
        if id(e) in seen or not isinstance(name, str) or name in out:
            continue
        seen.add(id(e))
        n = handled.get(id(e), (None, 0))[1]
        out[name] = EntitySummary(name, type(e).__name__, n)
    return out


LATENCY_QUANTILES = (("latency_p50", 0.5), ("latency_p90", 0.9), ("latency_p95", 0.95),
                     ("latency_p99", 0.99))


def fleet_metrics(record: RunRecord, final_ns: int) -> dict:
    """The instance-lifecycle metrics (docs/instance-lifecycle.md)."""
    fl = record.fleet
    booting_ns = 0
    for s in record.costed_servers:
        booting_ns += s.booting_ns_at(final_ns)
    ready_mean = float(fleet.ready_mean(fl, final_ns))
    return {
        "requests_dropped": int(fl[fleet.DROPPED]),
        "instance_seconds_booting": float(booting_ns) / 1e9,
        "ready_instances_mean": ready_mean,
        "time_underprovisioned": (float(fl[fleet.UNDER_NS]) / 1e9 if record.scalers
                                  else None),
    }


def collect_metrics(record: RunRecord, components: list, final_ns: int) -> dict:
    """The per-replica result row of SPEC section 8 from an object-engine run."""
    m: dict = {
        "requests_created": record.requests_created,
        "requests_completed": record.requests_completed,
        "requests_failed": record.requests_failed,
        "requests_rejected": record.requests_rejected,
    }
    n = record.requests_completed
    if n:
        m["latency_mean"] = float(record.latency_sum_ns) / n / 1e9
        for name, q in LATENCY_QUANTILES:
            m[name] = histogram.quantile_ns(record.latency_hist, n, q, record.latency_min_ns,
                                            record.latency_max_ns) / 1e9
        m["latency_max"] = record.latency_max_ns / 1e9
    else:
        for name in ("latency_mean", *(q[0] for q in LATENCY_QUANTILES), "latency_max"):
            m[name] = None
    cost_ns = 0
    for s in record.costed_servers:
        cost_ns += s.instance_ns_at(final_ns)
    m["instance_seconds"] = float(cost_ns) / 1e9
    m["final_instances"] = record.instances
    m["peak_instances"] = record.peak_instances
    m.update(fleet_metrics(record, final_ns))
    for c in components:
        fields = getattr(c, "_metric_fields", None)
        if fields is not None:
            for k, v in fields().items():
                m[f"{c.name}.{k}"] = v
    return m
