"""Traffic rate profiles, each lowered to piecewise-linear segments.

Profile time is simulation time (as in happysim). The built-in profiles have closed-form
arrivals (rules/arrivals.py). A user subclass that defines only ``get_rate(time:
Instant)`` (happysim's Profile protocol) works too: its arrivals are found by numerical
integration (model/rate_integral.py), in the object engine only.
"""

from __future__ import annotations

import numpy as np

from ..core import validate
from ..core.temporal import Instant
from ..rules import profiles as rules


class Profile:
    """Base of the rate profiles: subclass it and define ``get_rate(time)``.

    The built-in subclasses also give ``segments()``, (t0, a, slope) float64 arrays.
    """

    def get_rate(self, time) -> float:
        """Rate (per second) at ``time``, an Instant or seconds."""
        t = time.to_seconds() if isinstance(time, Instant) else float(time)
        t0, a, slope = self.segments()
        i = int(np.searchsorted(t0, t, side="right")) - 1
        if i < 0:
            return 0.0
        return max(0.0, float(a[i] + slope[i] * (t - t0[i])))

    def segments(self):
        """(t0, rate, slope) float64 arrays, from the shared rule (rules/profiles.py)."""
        kind, prm, npts = self.lowered()
        size = max(rules.MAX_FIXED_SEGMENTS, npts)
        t0, rate, slope = (np.zeros(size, np.float64) for _ in range(3))
        n = int(rules.segments(kind, prm, npts, t0, rate, slope))
        return t0[:n].copy(), rate[:n].copy(), slope[:n].copy()

    def lowered(self):
        """(kind, float64 parameters, points) in the shared rule's layout."""
        raise NotImplementedError(f"{type(self).__name__} is not a built-in profile")

    def peak_rate(self) -> float:
        """The highest rate (built-in profiles only)."""
        t0, a, slope = self.segments()
        ends = a + slope * np.append(np.diff(t0), 0.0)
        return float(max(a.max(), ends.max()))


class ConstantRateProfile(Profile):
    """A constant rate."""

    def __init__(self, rate: float):
        self.rate = validate.number("rate", rate, minimum=0.0)

    def lowered(self):
        return rules.CONSTANT, np.array([self.rate], np.float64), 0

    def __repr__(self):
        return f"ConstantRateProfile({self.rate})"


class LinearRampProfile(Profile):
    """Rate ramps linearly from start_rate at t=0 to end_rate at duration_s, then stays."""

    def __init__(self, duration_s: float, start_rate: float, end_rate: float):
        self.duration_s = validate.number("duration_s", duration_s, minimum=0.0, min_open=True)
        self.start_rate = validate.number("start_rate", start_rate, minimum=0.0)
        self.end_rate = validate.number("end_rate", end_rate, minimum=0.0)

    def lowered(self):
        return (rules.LINEAR, np.array([self.duration_s, self.start_rate, self.end_rate],
                                       np.float64), 0)

    def __repr__(self):
        return f"LinearRampProfile({self.duration_s}, {self.start_rate}, {self.end_rate})"


class SpikeProfile(Profile):
    """baseline_rate, then spike_rate on [warmup_s, warmup_s + spike_duration_s), then baseline."""

    def __init__(self, baseline_rate: float = 10.0, spike_rate: float = 150.0,
                 warmup_s: float = 10.0, spike_duration_s: float = 15.0):
        self.baseline_rate = validate.number("baseline_rate", baseline_rate, minimum=0.0)
        self.spike_rate = validate.number("spike_rate", spike_rate, minimum=0.0)
        self.warmup_s = validate.number("warmup_s", warmup_s, minimum=0.0)
        self.spike_duration_s = validate.number("spike_duration_s", spike_duration_s, minimum=0.0)

    def lowered(self):
        return rules.SPIKE, np.array([self.baseline_rate, self.spike_rate, self.warmup_s,
                                      self.spike_duration_s], np.float64), 0

    def __repr__(self):
        return (f"SpikeProfile({self.baseline_rate}, {self.spike_rate}, {self.warmup_s}, "
                f"{self.spike_duration_s})")


class PiecewiseRateProfile(Profile):
    """Piecewise-constant rate from (time_s, rate) points, e.g. a recorded traffic trace.

    The rate is 0 before the first point; each point's rate holds until the next point,
    and the last one forever (end a trace with a (t, 0) point to stop it).
    """

    def __init__(self, points):
        pts = list(points)
        if not pts:
            raise ValueError("points must hold at least one (time_s, rate) pair, got []")
        rows = []
        prev = -np.inf
        for k, p in enumerate(pts):
            if len(p) != 2:
                raise ValueError(f"points[{k}] must be a (time_s, rate) pair, got {p!r}")
            t = validate.number(f"points[{k}] time", p[0], minimum=0.0)
            r = validate.number(f"points[{k}] rate", p[1], minimum=0.0)
            if t <= prev:
                raise ValueError(f"points must have strictly increasing times; points[{k}] "
                                 f"time {t} follows {prev}")
            prev = t
            rows.append((t, r, 0.0))
        if rows[0][0] > 0.0:
            rows.insert(0, (0.0, 0.0, 0.0))
        self.points = [(r[0], r[1]) for r in rows]

    def lowered(self):
        return (rules.PIECEWISE, np.array([v for p in self.points for v in p], np.float64),
                len(self.points))

    def __repr__(self):
        return f"PiecewiseRateProfile({self.points})"


def has_closed_form(profile) -> bool:
    """Whether ``profile``'s arrivals come in closed form: a built-in profile, or a
    subclass that lowers to segments and keeps the segments' rate."""
    cls = type(profile)
    return (isinstance(profile, Profile) and cls.get_rate is Profile.get_rate
            and cls.lowered is not Profile.lowered)
