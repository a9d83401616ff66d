"""Rate profiles as piecewise-linear segments, shared by both engines.

A profile is (kind, parameters): the object engine's Profile classes and the lowered
scenario hold the same parameters in the same order, and both turn them into segments
(t0, rate, slope) here. On [t0[i], t0[i+1]) the rate is rate[i] + slope[i] (t - t0[i]);
the last segment lasts forever (rules/arrivals.py).
"""

from .jit import njit

CONSTANT = 0  # rate
LINEAR = 1  # duration_s, start_rate, end_rate
SPIKE = 2  # baseline_rate, spike_rate, warmup_s, spike_duration_s
PIECEWISE = 3  # t0, r0, t1, r1, ... (npts points)

# Most segments a non-piecewise profile has.
MAX_FIXED_SEGMENTS = 3


@njit
def _put(t0, rate, slope, i, t, r, s):
    t0[i] = t
    rate[i] = r
    slope[i] = s


@njit
def segments(kind, prm, npts, t0, rate, slope):
    """Write the profile's segments into t0, rate, slope; returns how many."""
    if kind == CONSTANT:
        _put(t0, rate, slope, 0, 0.0, prm[0], 0.0)
        return 1
    if kind == LINEAR:
        duration, start, end = prm[0], prm[1], prm[2]
        _put(t0, rate, slope, 0, 0.0, start, (end - start) / duration)
        _put(t0, rate, slope, 1, duration, end, 0.0)
        return 2
    if kind == SPIKE:
        base, spike, warm, dur = prm[0], prm[1], prm[2], prm[3]
        _put(t0, rate, slope, 0, 0.0, base, 0.0)
        if dur <= 0:
            return 1
        n = 1
        if warm > 0:
            _put(t0, rate, slope, 1, warm, spike, 0.0)
            n = 2
        else:
            rate[0] = spike
        _put(t0, rate, slope, n, warm + dur, base, 0.0)
        return n + 1
    for i in range(npts):
        _put(t0, rate, slope, i, prm[2 * i], prm[2 * i + 1], 0.0)
    return npts


@njit
def peak_rate(kind, prm, npts):
    """The highest rate the profile reaches."""
    if kind == CONSTANT:
        return prm[0]
    if kind == LINEAR:
        return max(prm[1], prm[2])
    if kind == SPIKE:
        return max(prm[0], prm[1])
    best = 0.0
    for i in range(npts):
        best = max(best, prm[2 * i + 1])
    return best
