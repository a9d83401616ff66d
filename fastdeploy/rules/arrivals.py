"""Arrival times of sources whose rate is piecewise linear in time.

A profile is lowered to segments (t0, a, slope): on [t0[i], t0[i+1]) the rate is
a[i] + slope[i] * (t - t0[i]); the last segment is constant and lasts forever. Arrival
k+1 is where the integrated rate from arrival k reaches an area (1 for a deterministic
source, Exp(1) for a Poisson one), solved in closed form segment by segment.
"""

import math

from .jit import njit_inline
from .logarithm import ln_one_minus
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
    """Exp(1) area from a uniform in [0, 1) (rules/logarithm.py's ln)."""
    return -ln_one_minus(u)


# Bounds of a guessed gap and time in arrivals_ahead (about 146 years: beyond them the
# exact rule returns -1 or a time the guess cannot match).
GUESS_CAP = 2.0**62
GUESS_CAP_NS = 2**62


@njit_inline
def _rate_at(t0, a, slope, i, t):
    r = a[i] + slope[i] * (t - t0[i])
    return r if r > 0.0 else 0.0


@njit_inline
def arrivals_ahead(t0, a, slope, n, hint, prev_ns, areas, m, out, check):
    """The next m arrivals after prev_ns for the areas areas[:m], into out[:m]: exactly
    the chain of m next_arrival_ns calls, each from the one before. Returns (how many
    there are: fewer than m when one is -1, which is not written; the segment hint).
    ``check`` is scratch of m values.

    The chain waits at every step for the previous rounding (about 16 ns per arrival on
    the reference machine). Here the times are guessed first, each gap in integer ns
    from the current segment's rate (a running sum: one add per arrival), then every
    guess is checked with the exact rule from the guess before it. These checks are
    independent of one another, so the processor overlaps them. The checks up to the
    first wrong guess are exact by induction from prev_ns, the exact value there is the
    check's own result, and guessing resumes after it. A guess is wrong only when a gap's
    fraction of a ns is within rounding error of one half, or where the rate changes
    (a segment's end, a ramp: there, one exact step at a time)."""
    k = 0
    p = prev_ns
    while k < m:
        t = p / 1e9
        while hint + 1 < n and t >= t0[hint + 1]:
            hint += 1
        while hint > 0 and t < t0[hint]:
            hint -= 1
        r = _rate_at(t0, a, slope, hint, t) if t >= t0[0] else 0.0
        if r <= 0.0 or slope[hint] != 0.0:
            # No constant rate to guess from: one exact step.
            v, hint = next_arrival_ns(t0, a, slope, n, hint, p, areas[k])
            if v < 0:
                return k, hint
            out[k] = v
            p = v
            k += 1
            continue
        scale = 1e9 / r
        g = p
        for j in range(k, m):
            # (A guess only: kept finite and in int64's range, which the check rejects
            # if it is wrong.)
            x = min(areas[j] * scale + 0.5, GUESS_CAP)
            gap = math.floor(x) if x >= 1.0 else 1
            g = min(g + gap, GUESS_CAP_NS)
            out[j] = g
        # The checks, each from the guess before it, all of them: no branch between
        # them, so nothing makes one wait for another's result.
        check[k], _ = next_arrival_ns(t0, a, slope, n, hint, p, areas[k])
        for j in range(k + 1, m):
            check[j], _ = next_arrival_ns(t0, a, slope, n, hint, out[j - 1], areas[j])
        bad = k
        while bad < m and check[bad] == out[bad]:
            bad += 1
        if bad == m:
            return m, hint
        out[bad] = check[bad]
        if out[bad] < 0:
            return bad, hint
        p = out[bad]
        k = bad + 1
    return m, hint
