"""Load-balancing strategies (SPEC section 6).

``select(backends, weights, draw)`` returns an index into ``backends``; ``draw()`` gives
the next uniform of the load balancer's routing stream.
"""

from __future__ import annotations

import numpy as np

from ..rules import routing


def _outstanding(backend) -> int:
    return getattr(backend, "outstanding", 0)


class LoadBalancingStrategy:
    """Base class; strategies hold their own rotation state."""

    def select(self, backends, weights, draw) -> int:
        raise NotImplementedError

    def reset(self) -> None:
        """Forget rotation state (a new run)."""


class RoundRobin(LoadBalancingStrategy):
    """backends[counter % len(backends)], the counter counting selections."""

    def __init__(self):
        self.counter = 0

    def select(self, backends, weights, draw):
        i = routing.round_robin_pick(self.counter, len(backends))
        self.counter += 1
        return int(i)

    def reset(self):
        self.counter = 0


class WeightedRoundRobin(LoadBalancingStrategy):
    """Smooth weighted round robin (nginx): weights from ``add_backend(b, weight)``."""

    def __init__(self):
        self._current: dict[int, int] = {}

    def select(self, backends, weights, draw):
        n = len(backends)
        w = np.asarray(weights, dtype=np.int64)
        cur = np.array([self._current.get(id(b), 0) for b in backends], dtype=np.int64)
        i = routing.smooth_weighted_pick(w, cur, n)
        self._current = {id(b): int(c) for b, c in zip(backends, cur)}
        return i

    def reset(self):
        self._current = {}


class LeastConnections(LoadBalancingStrategy):
    """Fewest requests in service plus queued; the first on ties."""

    def select(self, backends, weights, draw):
        loads = np.array([_outstanding(b) for b in backends], np.int64)
        return int(routing.least_loaded(loads, len(backends)))


class Random(LoadBalancingStrategy):
    """Uniformly random, from the routing stream."""

    def select(self, backends, weights, draw):
        return routing.index_from_uniform(draw(), len(backends))


class PowerOfTwoChoices(LoadBalancingStrategy):
    """Two distinct backends at random; the one with fewer outstanding wins (first on ties)."""

    def select(self, backends, weights, draw):
        n = len(backends)
        if n == 1:
            return 0
        u1 = draw()
        i, j = routing.two_choices(u1, draw(), n)
        return int(routing.less_loaded(i, _outstanding(backends[i]), j,
                                       _outstanding(backends[j])))
