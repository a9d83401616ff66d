"""Arrival times of sources whose rate is piecewise linear in time.

A profile is lowered to segments (t0, a, slope): on [t0[i], t0[i+1]) the rate is
a[i] + slope[i] * (t - t0[i]); the last segment is constant and lasts forever. Arrival
k+1 is where the integrated rate from arrival k reaches an area (1 for a deterministic
source, Exp(1) for a Poisson one), solved in closed form segment by segment.
"""

import math

from .jit import njit_inline
from .timeconv import MAX_SECONDS, seconds_to_ns


@njit_inline
def next_time_seconds(t0, a, slope, n, i, t, area):
    """The time after t (seconds) at which the integrated rate reaches ``area``.

    Uses the first n segments; i is a hint of the segment holding t (any index in
    [0, n): the search from it finds what a binary search would). Returns (time,
    segment of that time); time is inf when the rate stays zero forever.
    """
    while i + 1 < n and t >= t0[i + 1]:
        i += 1
    while i > 0 and t < t0[i]:
        i -= 1
    if t < t0[0]:
        t = t0[0]
    while True:
        r = a[i] + slope[i] * (t - t0[i])
        if r < 0.0:
            r = 0.0
        if i + 1 >= n:
            if r <= 0.0:
                return math.inf, i
            return t + area / r, i
        end = t0[i + 1]
        dt = end - t
        mass = r * dt + 0.5 * slope[i] * dt * dt
        if mass >= area:
            if area <= 0.0:
                return t, i
            if slope[i] == 0.0:
                return t + area / r, i
            # Root of slope/2 dt^2 + r dt - area = 0 in the form that does not cancel.
            disc = r * r + 2.0 * slope[i] * area
            if disc < 0.0:
                disc = 0.0
            return t + 2.0 * area / (r + math.sqrt(disc)), i
        area -= mass
        t = end
        i += 1


@njit_inline
def next_arrival_ns(t0, a, slope, n, i, prev_ns, area):
    """Next arrival in ns after prev_ns, at least 1 ns later, or -1 if there is none
    (before the end of simulation time);
    returned with the segment hint for the next call."""
    t, i = next_time_seconds(t0, a, slope, n, i, prev_ns / 1e9, area)
    if t >= MAX_SECONDS:  # never (inf), or past the end of simulation time
        return -1, i
    ns = seconds_to_ns(t)
    if ns <= prev_ns:
        ns = prev_ns + 1
    return ns, i


@njit_inline
def poisson_area(u):
    """Exp(1) area from a uniform in [0, 1)."""
    return -math.log(1.0 - u)
