"""Instant and Duration: simulation time as int64 nanoseconds (SPEC section 1)."""

from __future__ import annotations

import math
from functools import total_ordering

_INF_NS = 2**63 - 1
# Times are int64 nanoseconds: the largest span in seconds that fits.
from ..rules.timeconv import MAX_SECONDS  # noqa: E402  (re-exported)


def _seconds_to_ns(x: float, what: str) -> int:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise TypeError(f"{what}: expected seconds as a number, got {x!r}")
    if not math.isfinite(x):
        raise ValueError(f"{what}: expected a finite number of seconds, got {x!r}")
    if abs(x) >= MAX_SECONDS:
        raise ValueError(f"{what}: {x!r} seconds is beyond simulation time, which ends "
                         f"{MAX_SECONDS:.4g} s (about 292 years) after the epoch")
    return math.floor(x * 1e9 + 0.5)


@total_ordering
class Duration:
    """A span of simulation time in integer nanoseconds."""

    __slots__ = ("nanoseconds",)

    def __init__(self, nanoseconds: int):
        self.nanoseconds = int(nanoseconds)

    @classmethod
    def from_seconds(cls, seconds: float) -> Duration:
        """Round seconds to the nearest nanosecond."""
        return cls(_seconds_to_ns(seconds, "Duration.from_seconds"))

    def to_seconds(self) -> float:
        return self.nanoseconds / 1e9

    def __add__(self, other):
        if isinstance(other, Duration):
            return Duration(self.nanoseconds + other.nanoseconds)
        if isinstance(other, (int, float)) and not isinstance(other, bool):
            return Duration(self.nanoseconds + _seconds_to_ns(other, "Duration +"))
        return NotImplemented

    __radd__ = __add__

    def __sub__(self, other):
        if isinstance(other, Duration):
            return Duration(self.nanoseconds - other.nanoseconds)
        if isinstance(other, (int, float)) and not isinstance(other, bool):
            return Duration(self.nanoseconds - _seconds_to_ns(other, "Duration -"))
        return NotImplemented

    def __neg__(self):
        return Duration(-self.nanoseconds)

    def __eq__(self, other):
        return isinstance(other, Duration) and other.nanoseconds == self.nanoseconds

    def __lt__(self, other):
        if not isinstance(other, Duration):
            return NotImplemented
        return self.nanoseconds < other.nanoseconds

    def __hash__(self):
        return hash(("Duration", self.nanoseconds))

    def __repr__(self):
        return f"Duration({self.to_seconds()}s)"


@total_ordering
class Instant:
    """A point in simulation time in integer nanoseconds. ``Instant.Infinity`` is above all."""

    __slots__ = ("nanoseconds",)
    Epoch: Instant
    Infinity: Instant

    def __init__(self, nanoseconds: int):
        self.nanoseconds = int(nanoseconds)

    @classmethod
    def from_seconds(cls, seconds: float) -> Instant:
        """Round seconds to the nearest nanosecond: floor(x * 1e9 + 0.5)."""
        if isinstance(seconds, float) and seconds == math.inf:
            return cls.Infinity
        return cls(_seconds_to_ns(seconds, "Instant.from_seconds"))

    def to_seconds(self) -> float:
        if self.nanoseconds == _INF_NS:
            return math.inf
        return self.nanoseconds / 1e9

    def is_infinite(self) -> bool:
        return self.nanoseconds == _INF_NS

    def __add__(self, other):
        if self.nanoseconds == _INF_NS:
            return self
        if isinstance(other, Duration):
            return Instant(self.nanoseconds + other.nanoseconds)
        if isinstance(other, (int, float)) and not isinstance(other, bool):
            return Instant(self.nanoseconds + _seconds_to_ns(other, "Instant +"))
        return NotImplemented

    def __sub__(self, other):
        if isinstance(other, Instant):
            return Duration(self.nanoseconds - other.nanoseconds)
        if isinstance(other, Duration):
            return Instant(self.nanoseconds - other.nanoseconds)
        if isinstance(other, (int, float)) and not isinstance(other, bool):
            return Instant(self.nanoseconds - _seconds_to_ns(other, "Instant -"))
        return NotImplemented

    def __eq__(self, other):
        return isinstance(other, Instant) and other.nanoseconds == self.nanoseconds

    def __lt__(self, other):
        if not isinstance(other, Instant):
            return NotImplemented
        return self.nanoseconds < other.nanoseconds

    def __hash__(self):
        return hash(("Instant", self.nanoseconds))

    def __repr__(self):
        if self.nanoseconds == _INF_NS:
            return "Instant.Infinity"
        return f"Instant({self.to_seconds()}s)"


Instant.Epoch = Instant(0)
Instant.Infinity = Instant(_INF_NS)


def as_instant(value, what: str) -> Instant:
    """An Instant from an Instant or a number of seconds."""
    if isinstance(value, Instant):
        return value
    return Instant(_seconds_to_ns(value, what))


def as_duration_ns(value, what: str, *, allow_zero: bool = True) -> int:
    """Nanoseconds of a Duration or a number of seconds, refusing negatives (and zero)."""
    if isinstance(value, Duration):
        ns = value.nanoseconds
    else:
        ns = _seconds_to_ns(value, what)
    if ns < 0 or (ns == 0 and not allow_zero):
        expected = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{what} must be {expected} seconds, got {value!r}")
    return ns
