"""The load balancer: routes each request at its arrival instant (SPEC section 6)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core import validate
from ..core.entity import Entity
from ..core.event import Event, deliver
from ..rules import balancer as rules
from ..rules import rng
from .strategies import LoadBalancingStrategy, RoundRobin


@dataclass(frozen=True)
class LoadBalancerStats:
    """Routing counters of one load balancer."""

    requests_received: int = 0
    requests_forwarded: int = 0
    no_backend_available: int = 0
    backends_added: int = 0
    backends_removed: int = 0


class LoadBalancer(Entity):
    """Distributes requests over backends.

    Args:
        name: Load balancer identifier.
        backends: Initial backends (names must be unique).
        strategy: A LoadBalancingStrategy (default RoundRobin()).
        on_no_backend: What to do with a request when there is no ready backend; only
            "reject" (count it as rejected) is supported.
    """

    def __init__(self, name: str, backends=None, strategy: LoadBalancingStrategy | None = None,
                 on_no_backend: str = "reject"):
        super().__init__(name)
        if on_no_backend != "reject":
            raise ValueError(f"on_no_backend must be 'reject', got {on_no_backend!r}")
        self.on_no_backend = on_no_backend
        if strategy is None:
            strategy = RoundRobin()
        if not isinstance(strategy, LoadBalancingStrategy):
            raise TypeError(f"strategy must be a LoadBalancingStrategy, got {strategy!r}")
        self.strategy = strategy
        self._backends: list = []
        self._weights: list[int] = []
        # The shared state machine's record (rules/balancer.py): counters, the split's
        # count and turns, the routing stream's draws.
        self._state = np.zeros(rules.FIELDS, np.int64)
        self._split_group: list = []
        self._split_fraction = 0.0
        self._routing_key = None
        self._unready = 0  # backends booting: routing skips them
        for b in backends or []:
            self._insert(b, 1)

    # -- backends --------------------------------------------------------------------
    @property
    def all_backends(self) -> list:
        """Backends in insertion order."""
        return list(self._backends)

    @property
    def stats(self) -> LoadBalancerStats:
        first = rules.STATS_FIRST
        return LoadBalancerStats(*(int(v) for v in self._state[first:first + len(rules.STATS)]))

    def weight_of(self, backend) -> int:
        """The weight a backend was added with."""
        for b, w in zip(self._backends, self._weights):
            if b is backend:
                return w
        raise ValueError(f"{getattr(backend, 'name', backend)!r} is not a backend of {self.name!r}")

    def _metric_fields(self) -> dict:
        return dict(vars(self.stats))

    def _insert(self, backend, weight):
        name = getattr(backend, "name", None)
        if any(b is backend or getattr(b, "name", None) == name for b in self._backends):
            raise ValueError(f"backend name {name!r} is already on load balancer {self.name!r}")
        self._backends.append(backend)
        self._weights.append(validate.integer("weight", weight, minimum=1))

    def add_backend(self, backend, weight: int = 1) -> None:
        """Add a backend; it takes requests from now on (once ready, when it is a
        Server created during the run with a start-up delay)."""
        self._insert(backend, weight)
        rules.backend_added(self._state)
        # During a run (before one, the backend is part of the initial graph: the run
        # starts it with the others).
        if self._clock is not None and self._clock.run is not None:
            if getattr(backend, "_clock", None) is None and hasattr(backend, "set_clock"):
                backend.set_clock(self._clock)
            if hasattr(backend, "_on_added"):
                backend._on_added(self._clock.now_ns, self, booting=True)
            if not getattr(backend, "ready", True):
                self._unready += 1
            self._clock.run.backends_changed(self)

    def remove_backend(self, backend) -> None:
        """Remove a backend: it takes no new requests and drains what it holds."""
        for i, b in enumerate(self._backends):
            if b is backend:
                del self._backends[i]
                del self._weights[i]
                break
        else:
            raise ValueError(f"{getattr(backend, 'name', backend)!r} is not a backend of "
                             f"load balancer {self.name!r}")
        if backend in self._split_group:
            self._split_group = [b for b in self._split_group if b is not backend]
        rules.backend_removed(self._state)
        if self._clock is not None and self._clock.run is not None:
            if not getattr(backend, "ready", True):
                self._unready -= 1
            if hasattr(backend, "_on_removed"):
                backend._on_removed(self._clock.now_ns)
            self._clock.run.backends_changed(self)

    def _backend_ready(self, backend) -> None:
        """A backend finished starting up: routing includes it from now on."""
        self._unready -= 1

    # -- traffic split (canary) ------------------------------------------------------------
    def set_traffic_split(self, group: list, fraction: float) -> None:
        """Send exactly a fraction of routed requests to ``group`` (in turns).

        The i-th request routed since this call goes to the group iff
        floor((i + 1) * fraction) > floor(i * fraction).
        """
        self._split_group = list(group)
        self._split_fraction = validate.number("fraction", fraction, minimum=0.0, maximum=1.0)
        rules.split_restarted(self._state)

    def clear_traffic_split(self) -> None:
        self._split_group = []
        self._split_fraction = 0.0
        rules.split_restarted(self._state)

    @property
    def traffic_split(self) -> tuple[list, float]:
        return list(self._split_group), self._split_fraction

    # -- routing ------------------------------------------------------------------------
    def _draw(self) -> float:
        if self._routing_key is None:
            self._routing_key = self._clock.run.key(rng.routing_stream(self.name))
        return rng.uniform(self._routing_key, rules.next_draw(self._state))

    def _choose(self):
        if self._split_group:
            # (Every time: a group member may have left the backends while booting.)
            group = [b for b in self._split_group if getattr(b, "ready", True)]
            g = rules.split_member(self._state, self._split_fraction, len(group))
            if g >= 0:
                return group[g]
            others = [(b, w) for b, w in zip(self._backends, self._weights)
                      if all(b is not g for g in self._split_group)
                      and getattr(b, "ready", True)]
            if not others:
                return None
            return others[self.strategy.select([b for b, _ in others], [w for _, w in others],
                                               self._draw)][0]
        backends, weights = self._backends, self._weights
        if self._unready:
            ready = [(b, w) for b, w in zip(backends, weights) if getattr(b, "ready", True)]
            backends = [b for b, _ in ready]
            weights = [w for _, w in ready]
        if not backends:
            return None
        return backends[self.strategy.select(backends, weights, self._draw)]

    def handle_event(self, event: Event):
        backend = self._choose()
        rules.routed(self._state, backend is not None)
        if backend is None:
            self._clock.run.request_rejected()
            return []
        return deliver(event, backend)

    def _begin_run(self, now_ns: int) -> None:
        self._routing_key = None
        self._state[rules.DRAWS] = 0
        self.strategy.reset()
        self._unready = 0
        for b in self._backends:
            if getattr(b, "_clock", None) is None and hasattr(b, "set_clock"):
                b.set_clock(self._clock)
            if hasattr(b, "_on_added"):
                b._on_added(now_ns, self)
