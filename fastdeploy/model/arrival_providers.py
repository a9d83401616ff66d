"""When a Source's arrivals happen: happysim's arrival-time providers (SPEC section 4).

Arrival k+1 is where the integral of the profile's rate from arrival k reaches an area:
1 for ``ConstantArrivalTimeProvider``, Exp(1) from the source's random stream for
``PoissonArrivalTimeProvider``. Built-in profiles are solved in closed form by the rule
both engines share (rules/arrivals.py); a user profile that defines only
``get_rate(time)`` by numerical integration (model/rate_integral.py).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod

from ..core.temporal import Instant, as_instant
from ..rules import arrivals, rng
from ..rules.timeconv import MAX_SECONDS, seconds_to_ns
from . import rate_integral
from .profiles import has_closed_form


class ArrivalTimeProvider(ABC):
    """Arrival times from a rate profile. Subclasses give the area per arrival.

    Args:
        profile: The rate over time: a built-in profile or any object with
            ``get_rate(time: Instant)``.
        start_time: Time of the previous arrival to count from; a Source sets it to the
            simulation's start when a run begins.

    Attributes:
        current_time: Time of the last arrival (``next_arrival_time`` moves it).
    """

    def __init__(self, profile, start_time=Instant.Epoch):
        if not callable(getattr(profile, "get_rate", None)):
            raise TypeError(f"profile must have get_rate(time), got {profile!r}")
        self.profile = profile
        self.current_time = as_instant(start_time, "start_time")
        self._key = None
        self._draws = 0
        self._segment = 0
        self._segments = None
        self._rate = None

    @abstractmethod
    def _get_target_integral_value(self) -> float:
        """The area under the rate curve up to the next arrival."""

    @property
    def closed_form(self) -> bool:
        """Whether arrivals are solved in closed form (a built-in profile)."""
        return has_closed_form(self.profile)

    def next_arrival_time(self) -> Instant:
        """The next arrival after ``current_time``, which becomes it.

        Raises:
            RuntimeError: the rate stays zero until the end of simulation time.
        """
        ns = self._next_ns(self.current_time.nanoseconds)
        if ns < 0:
            raise RuntimeError(f"{self!r}: no arrival after {self.current_time!r}; the rate "
                               "stays zero until the end of simulation time")
        self.current_time = Instant(ns)
        return self.current_time

    # -- engine side -------------------------------------------------------------
    def _bind(self, key, start_ns: int) -> None:
        """Start a run: the source's stream key, arrivals counted from start_ns."""
        self._key = key
        self._draws = 0
        self._segment = 0
        self.current_time = Instant(start_ns)
        self._prepare()

    def _prepare(self) -> None:
        # Taken when a run begins, so that a changed profile parameter (a sweep point)
        # is seen.
        if self.closed_form:
            self._segments = self.profile.segments()
            self._rate = None
        else:
            self._segments = None
            self._rate = rate_integral.rate_function(self.profile)

    def _area(self) -> float:
        area = self._get_target_integral_value()
        if isinstance(area, bool) or not isinstance(area, (int, float)) or not (
                math.isfinite(area) and area >= 0):
            raise ValueError(f"{type(self).__name__}._get_target_integral_value() returned "
                             f"{area!r}; the area must be a finite number >= 0")
        return float(area)

    def _next_ns(self, prev_ns: int) -> int:
        """The next arrival in ns after prev_ns (at least 1 ns later), or -1 for none."""
        segments = self._segments
        if segments is None and self._rate is None:
            self._prepare()
            segments = self._segments
        # The built-in areas are valid by construction; a subclass's are checked.
        area = (self._get_target_integral_value() if type(self) in _BUILTIN
                else self._area())
        if segments is not None:
            t0, a, slope = segments
            ns, self._segment = arrivals.next_arrival_ns(t0, a, slope, len(t0), self._segment,
                                                         prev_ns, area)
            return int(ns)
        t = rate_integral.next_time_seconds(self.profile, self._rate, prev_ns / 1e9, area)
        if t >= MAX_SECONDS:
            return -1
        return max(seconds_to_ns(t), prev_ns + 1)

    def __repr__(self):
        return f"{type(self).__name__}({self.profile!r})"


class ConstantArrivalTimeProvider(ArrivalTimeProvider):
    """Deterministic arrivals: one each time the integrated rate grows by 1 (evenly
    spaced, 1/rate apart, at a constant rate)."""

    def _get_target_integral_value(self) -> float:
        return 1.0


class PoissonArrivalTimeProvider(ArrivalTimeProvider):
    """A (non-homogeneous) Poisson process: the area per arrival is Exp(1), drawn from
    the random stream of the Source that uses this provider."""

    def _get_target_integral_value(self) -> float:
        if self._key is None:
            raise RuntimeError(f"{self!r} draws from its Source's random stream: use it in a "
                               "Source of a running Simulation")
        u = rng.uniform(self._key, self._draws)
        self._draws += 1
        return float(arrivals.poisson_area(u))


_BUILTIN = (ConstantArrivalTimeProvider, PoissonArrivalTimeProvider)
