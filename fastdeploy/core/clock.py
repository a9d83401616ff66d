"""The simulation clock shared by every entity of one simulation."""

from __future__ import annotations

from .temporal import Instant


class Clock:
    """Current simulation time. ``run`` is the record of the run in progress."""

    def __init__(self, start: Instant = Instant.Epoch):
        self._now_ns = start.nanoseconds
        self.run = None

    @property
    def now(self) -> Instant:
        return Instant(self._now_ns)

    @property
    def now_ns(self) -> int:
        return self._now_ns

    def advance_to(self, ns: int) -> None:
        self._now_ns = ns
