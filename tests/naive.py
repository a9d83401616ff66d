"""Slow, obvious reference implementations of the shared rules (stumpy style).

Each reference is written from the rule's description, in plain Python (ints, floats,
fractions.Fraction, heapq, bisection), not from the code under test: where the shared
code is clever (a flat heap with a replace-top path, closed-form roots, a cubic log2
estimate, a counter-based generator), the reference is the dumb version of the same
definition. tests/test_naive.py compares the two with Hypothesis.

Nothing here imports fastdeploy except documented constants (the bucket edge table,
EPS): a reference must not share code with what it checks.
"""

from __future__ import annotations

import heapq
import itertools
import math
from fractions import Fraction

# ----------------------------------------------------------------------------------------
# Event heap: heapq on (time, seq) keys, seq counting every push.
# ----------------------------------------------------------------------------------------


class NaiveHeap:
    """A min-heap of events (time, kind, target, payload) ordered by (time, push order),
    holding at most ``capacity`` events: a push onto a full heap is dropped and sets
    ``overflowed`` (it still uses up a sequence number)."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self.items: list[tuple] = []
        self.seq = itertools.count()
        self.overflowed = False

    def __len__(self):
        return len(self.items)

    def push(self, t, kind, target, payload):
        seq = next(self.seq)
        if len(self.items) >= self.capacity:
            self.overflowed = True
            return
        heapq.heappush(self.items, (t, seq, kind, target, payload))

    def pop(self):
        t, _seq, kind, target, payload = heapq.heappop(self.items)
        return t, kind, target, payload


# ----------------------------------------------------------------------------------------
# Arrivals: the integrated rate, and its inverse by bisection.
# ----------------------------------------------------------------------------------------


def _segment_integral(a, s, x, y):
    """Integral over [x, y] (offsets into the segment) of max(0, a + s u) du."""
    if y <= x:
        return 0.0
    rx, ry = a + s * x, a + s * y
    if rx >= 0.0 and ry >= 0.0:
        return 0.5 * (rx + ry) * (y - x)  # a trapezoid is exact for a line
    if rx <= 0.0 and ry <= 0.0:
        return 0.0
    z = -a / s  # the line crosses zero inside: only the positive triangle counts
    if rx > 0.0:
        return 0.5 * rx * (z - x)
    return 0.5 * ry * (y - z)


def integrated_rate(t0, a, slope, t):
    """F(t): the integral of the rate from t0[0] to t, summed segment by segment."""
    n = len(t0)
    total = 0.0
    for i in range(n):
        start = t0[i]
        if t <= start:
            break
        end = t0[i + 1] if i + 1 < n else math.inf
        stop = min(t, end)
        total += _segment_integral(a[i], slope[i], 0.0, stop - start)
    return total


def first_time_reaching(t0, a, slope, start, level):
    """The least time u >= start with F(u) >= level, by bisection; inf if F never gets
    there (it then stays below forever: the last segment is constant)."""
    if integrated_rate(t0, a, slope, start) >= level:
        return start
    last = len(t0) - 1
    if a[last] <= 0.0 and integrated_rate(t0, a, slope, max(start, t0[last])) < level:
        return math.inf
    lo = start
    hi = max(start, t0[last]) + 1.0
    while integrated_rate(t0, a, slope, hi) < level:
        hi = 2.0 * hi + 1.0
    # Invariant: F(lo) < level <= F(hi). Halve until the floats run out.
    while True:
        mid = 0.5 * (lo + hi)
        if mid <= lo or mid >= hi:
            return hi
        if integrated_rate(t0, a, slope, mid) >= level:
            hi = mid
        else:
            lo = mid


def next_time_seconds(t0, a, slope, t, area):
    """The time after t at which the rate integrated from t reaches ``area`` (> 0): the
    least u >= max(t, t0[0]) with F(u) - F(t) >= area; inf if there is none."""
    start = max(t, t0[0])
    return first_time_reaching(t0, a, slope, start,
                               integrated_rate(t0, a, slope, start) + area)


def seconds_to_ns(x):
    """SPEC section 1: the nearest nanosecond, halves up."""
    return math.floor(Fraction(x) * 10**9 + Fraction(1, 2))


# ----------------------------------------------------------------------------------------
# Histogram.
# ----------------------------------------------------------------------------------------


def bucket_of(lat_ns, edges, growth, n_buckets):
    """0 for lat_ns <= 0; else the largest b in [1, n_buckets) with edges[b] <= lat_ns,
    compared exactly (a Python float against a Python int). The estimate comes from
    math.log; the edge table decides."""
    if lat_ns <= 0:
        return 0
    b = 1 + int(math.log(lat_ns) / math.log(growth))
    b = max(1, min(b, n_buckets - 1))
    while b + 1 < n_buckets and float(edges[b + 1]) <= lat_ns:
        b += 1
    while b > 1 and float(edges[b]) > lat_ns:
        b -= 1
    return b


def quantile_ns(hist, q, lo_ns, hi_ns, growth):
    """Nearest rank (the ceil(q n)-th smallest, at least the first) of the histogram's
    values, each value its bucket's representative: 0 for bucket 0, the geometric middle
    growth^(b - 1/2) of [growth^(b-1), growth^b) otherwise, clamped to [lo_ns, hi_ns]."""
    values = []
    for b, c in enumerate(hist):
        rep = 0.0 if b == 0 else growth ** (b - 0.5)
        values += [min(max(rep, float(lo_ns)), float(hi_ns))] * int(c)
    if not values:
        return 0.0
    values.sort()
    rank = max(1, math.ceil(q * len(values)))
    return values[rank - 1]


# ----------------------------------------------------------------------------------------
# Random streams: SplitMix64 as a stateful generator on Python ints.
# ----------------------------------------------------------------------------------------

MASK64 = (1 << 64) - 1
GOLDEN_GAMMA = 0x9E3779B97F4A7C15


def splitmix64_finalise(z):
    z &= MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


class SplitMix64:
    """Vigna's splitmix64.c: state += gamma, then output the finalised state."""

    def __init__(self, state):
        self.state = state & MASK64

    def next(self):
        self.state = (self.state + GOLDEN_GAMMA) & MASK64
        return splitmix64_finalise(self.state)


def stream_key(seed, replica, stream_id):
    """mix(seed + gamma) = the first output of SplitMix64 seeded with seed; then the
    replica folded in (replica gammas and one), then the stream id xored in."""
    k = SplitMix64(seed).next()
    k = splitmix64_finalise(k + replica * GOLDEN_GAMMA + 1)
    return splitmix64_finalise(k ^ stream_id)


def uniform(key, n):
    """Draw n of the stream: the (n+1)-th output of SplitMix64 seeded with the key, its
    top 53 bits as a fraction of 2^53."""
    g = SplitMix64(key)
    for _ in range(n + 1):
        x = g.next()
    return (x >> 11) / 2.0**53


def uniform_far(key, n):
    """uniform() for large n without stepping: n+1 steps of the state are one jump."""
    return (splitmix64_finalise(key + (n + 1) * GOLDEN_GAMMA) >> 11) / 2.0**53


def fnv1a_63(name: str) -> int:
    """FNV-1a (64-bit) of the UTF-8 bytes, top bit cleared."""
    h = 14695981039346656037
    for byte in name.encode("utf-8"):
        h = ((h ^ byte) * 1099511628211) % 2**64
    return h % 2**63


# ----------------------------------------------------------------------------------------
# Normal quantile by bisection on the error function.
# ----------------------------------------------------------------------------------------


def _bisect_increasing(f, target, lo, hi):
    """The x in [lo, hi] where increasing f crosses target, to the last float."""
    while True:
        mid = 0.5 * (lo + hi)
        if mid <= lo or mid >= hi:
            return mid
        if f(mid) < target:
            lo = mid
        else:
            hi = mid


def normal_quantile(p):
    """x with Phi(x) = p, solved on whichever of erf / erfc keeps full relative precision:
    Phi(x) - 1/2 = erf(x / sqrt 2) / 2 near the middle (p - 1/2 is exact there),
    Phi(x) = erfc(-x / sqrt 2) / 2 in the lower tail, 1 - Phi(x) = erfc(x / sqrt 2) / 2
    in the upper one (1 - p is exact for p >= 1/2)."""
    if p <= 0.0:
        return -math.inf
    if p >= 1.0:
        return math.inf
    s = math.sqrt(2.0)
    if 0.25 <= p <= 0.75:
        return _bisect_increasing(lambda x: 0.5 * math.erf(x / s), p - 0.5, -1.0, 1.0)
    if p < 0.25:
        return _bisect_increasing(lambda x: 0.5 * math.erfc(-x / s), p, -40.0, 0.0)
    return -_bisect_increasing(lambda x: 0.5 * math.erfc(-x / s), 1.0 - p, -40.0, 0.0)


def sample_seconds(kind, a, b, u):
    """Inverse CDFs at u: 0 constant (a), 1 exponential with mean a, 2 uniform on [a, b),
    3 lognormal with mean a and log-sd b (so its median is a exp(-b^2 / 2))."""
    if kind == 0:
        return a
    if kind == 1:
        return -a * math.log1p(-u)
    if kind == 2:
        return (1.0 - u) * a + u * b
    if b == 0.0:
        return a  # no spread: every draw is the mean
    z = normal_quantile(u)
    return a * math.exp(b * z - 0.5 * b * b) if z != -math.inf else 0.0


# ----------------------------------------------------------------------------------------
# Routing.
# ----------------------------------------------------------------------------------------


class NginxSmoothWRR:
    """nginx's smooth weighted round robin, as its commit message describes it: on each
    pick every peer's current weight grows by its weight; the peer with the largest
    current weight (the first such, in peer order) is chosen, and its current weight
    drops by the total of the weights."""

    def __init__(self, weights, current=None):
        self.weights = list(weights)
        self.current = list(current) if current is not None else [0] * len(self.weights)

    def pick(self):
        for i, w in enumerate(self.weights):
            self.current[i] += w
        best = max(self.current)
        chosen = self.current.index(best)
        self.current[chosen] -= sum(self.weights)
        return chosen


def index_from_uniform(u, n):
    """floor(u n) computed exactly, for u in [0, 1)."""
    return math.floor(Fraction(u) * n)


# ----------------------------------------------------------------------------------------
# Exact boundaries, scaling, canary.
# ----------------------------------------------------------------------------------------


def ceil_exact(x: Fraction, eps: float) -> int:
    """ceil(x), except that x within eps * max(1, |x|) of an integer is that integer."""
    k = math.floor(x + Fraction(1, 2))
    if abs(x - k) <= Fraction(eps) * max(1, abs(x)):
        return k
    return math.ceil(x)


def clamp(x, lo, hi):
    return min(max(x, lo), hi)


def target_utilization_desired(n_backends, mean_util, current, target, tolerance, lo, hi, eps):
    """Kubernetes HPA: no change while util/target is within the tolerance of 1, else
    ceil(current * util / target); all clamped to [lo, hi]; no backends gives lo."""
    if n_backends == 0:
        return lo
    ratio = Fraction(mean_util) / Fraction(target)
    if abs(ratio - 1) <= Fraction(tolerance) + Fraction(eps):
        return clamp(current, lo, hi)
    return clamp(ceil_exact(current * ratio, eps), lo, hi)


def step_scaling_desired(thresholds, adjustments, mean_util, current, lo, hi, eps):
    """The adjustment of the highest threshold the utilization has reached (a threshold
    counts as reached within eps below it); none reached: no change."""
    reached = [(Fraction(thr), -i, adj) for i, (thr, adj) in enumerate(zip(thresholds, adjustments))
               if Fraction(mean_util) >= Fraction(thr) - Fraction(eps)]
    if not reached:
        return clamp(current, lo, hi)
    _thr, _i, adj = max(reached)
    return clamp(current + adj, lo, hi)


def queue_depth_desired(depth, current, out_threshold, in_threshold, lo, hi):
    if depth >= out_threshold:
        wanted = current + 1
    elif depth <= in_threshold and current > lo:
        wanted = current - 1
    else:
        wanted = current
    return clamp(wanted, lo, hi)


def in_cooldown(now_ns, last_action_ns, cooldown_ns):
    if last_action_ns < 0:  # no action yet
        return False
    return now_ns < last_action_ns + cooldown_ns


def canary_group_size(fraction, n_baseline, eps):
    return max(1, ceil_exact(Fraction(fraction) * n_baseline, eps))


def error_rate(failures, rejected, completed):
    """(failures + rejected) / (completed + rejected), correctly rounded; 0 if nothing."""
    if completed + rejected <= 0:
        return 0.0
    return float(Fraction(failures + rejected, completed + rejected))


def mean_latency_seconds(total_latency_ns, completed):
    if completed <= 0:
        return 0.0
    return float(Fraction(total_latency_ns, completed * 10**9))


def judge(canary_value, baseline_value, limit, multiplier):
    over_limit = canary_value > limit
    over_baseline = baseline_value > 0.0 and canary_value > baseline_value * multiplier
    return not (over_limit or over_baseline)
