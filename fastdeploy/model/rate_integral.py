"""Arrivals of a rate known only as ``get_rate(time)``: numerical integration.

A user Profile that defines only ``get_rate(time: Instant)`` has no closed form, so the
next arrival after t is found as the x where the integral of the rate from t to x
reaches the area (1, or Exp(1) for Poisson arrivals), with scipy: ``quad`` over growing
windows until one holds the area, then ``brentq`` inside it.

Accuracy: each window's integral to an absolute error of 1e-10 (``quad``'s estimate;
a window whose estimate is worse than ``MAX_ERROR`` is an error, not a silent guess),
and the root to 1e-12 s. The arrival time then rounds to the nanosecond, so for a rate
of r per second it is exact up to about 1e-10 / r seconds, well under 1 ns for rates
above 0.1 per second. One exception: ``get_rate`` sees time as an Instant, to the
nanosecond, so a jump of the rate is placed only to the nanosecond, and an arrival just
after a jump from r1 to r2 can be off by up to about |r1 - r2| / r2 ns (4 ns measured
for a 100 -> 20 per second step in tests/test_porting.py). The windows double from 2 x area / rate(t) (or 0.1 s when the
rate at t is 0): a rate that is 0 at t and rises only within a window shorter than
what ``quad`` samples can be missed; give such a profile as a PiecewiseRateProfile.
"""

from __future__ import annotations

import math
import warnings

# scipy.integrate and scipy.optimize are imported where used: they take a third of a
# second to import, which only scenarios with a get_rate-only profile should pay.

from ..core.temporal import Instant
from ..rules.timeconv import MAX_SECONDS

ABS_TOL = 1e-10
MAX_ERROR = 1e-6
ROOT_TOL_S = 1e-12
FIRST_PROBE_S = 0.1


def rate_function(profile):
    """``rate(t_seconds)`` of ``profile.get_rate(Instant)``, checked: finite and >= 0."""

    def rate(t: float) -> float:
        r = profile.get_rate(Instant.from_seconds(min(t, MAX_SECONDS * (1 - 1e-12))))
        try:
            r = float(r)
        except (TypeError, ValueError):
            raise TypeError(f"{profile!r}.get_rate({t}s) returned {r!r}, not a number") from None
        if not math.isfinite(r) or r < 0.0:
            raise ValueError(f"{profile!r}.get_rate({t}s) returned {r!r}; a rate must be "
                             "finite and >= 0")
        return r

    return rate


def _integral(rate, a: float, b: float, profile) -> float:
    with warnings.catch_warnings():
        from scipy.integrate import IntegrationWarning, quad

        warnings.simplefilter("ignore", IntegrationWarning)
        value, err = quad(rate, a, b, epsabs=ABS_TOL, epsrel=0.0, limit=200)
    if err > MAX_ERROR:
        raise ValueError(f"the rate of {profile!r} cannot be integrated to {MAX_ERROR} on "
                         f"[{a}s, {b}s] (error estimate {err:.3g}); give it as a "
                         "PiecewiseRateProfile")
    return value


def next_time_seconds(profile, rate, t: float, area: float) -> float:
    """The time after ``t`` (seconds) where the integral of ``rate`` reaches ``area``;
    inf when it never does before the end of simulation time."""
    if area <= 0.0:
        return t
    r0 = rate(t)
    step = 2.0 * area / r0 if r0 > 0.0 else FIRST_PROBE_S
    left = area
    while t < MAX_SECONDS:
        end = min(t + step, MAX_SECONDS)
        mass = _integral(rate, t, end, profile)
        if mass >= left:
            start, need = t, left
            from scipy.optimize import brentq

            return brentq(lambda x: _integral(rate, start, x, profile) - need, start, end,
                          xtol=ROOT_TOL_S)
        left -= mass
        t = end
        step *= 2.0
    return math.inf
