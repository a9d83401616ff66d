"""Per-replica log-bucket latency histogram (at most 1% relative error).

Bucket 0 holds zero latencies; bucket b >= 1 holds latencies in [G^(b-1), G^b) ns with
G = 1.02, and reports the geometric middle, clamped to the exact min and max.
"""

import math

import numpy as np

from .bits import EXPONENT_BIAS, MANTISSA_BITS, MANTISSA_MASK, float_bits
from .jit import njit, njit_inline

GROWTH = 1.02
N_BUCKETS = 2048
_LOG_G = math.log(GROWTH)
# Largest latency the histogram can hold, in ns (about 12 years).
MAX_LATENCY_NS = int(GROWTH ** (N_BUCKETS - 2))
# EDGES[b] = G^(b-1), the lower edge of bucket b >= 1 (EDGES[0] is unused). Both engines
# read this one table, so a latency on an edge lands in the same bucket in both, and
# finding the bucket takes no logarithm: a third of the batch kernel's log calls were
# here, about 15% of its time.
EDGES = np.exp((np.arange(N_BUCKETS, dtype=np.float64) - 1.0) * _LOG_G)
# The smallest integer latency in each bucket: an integer lat_ns is >= EDGES[b] exactly
# when it is >= ceil(EDGES[b]). Above 2**53 ns a float cannot hold a latency exactly and
# may round it up onto an edge; these integers put it back in its bucket. (Comparing
# integers always, rather than floats, cost the kernels 2-3% per request.)
FIRST_NS = np.ceil(EDGES).astype(np.int64)
EXACT_IN_FLOAT = 2**53
_BUCKETS_PER_OCTAVE = math.log(2.0) / _LOG_G
# log2(1 + f) on [0, 1] as a cubic in f (least squares; error below 0.0014, a twentieth
# of a bucket), so that the estimate below is rarely off the exact bucket.
_C1, _C2, _C3 = 1.42349418, -0.58776924, 0.16558988
_ULP = 2.0 ** -MANTISSA_BITS


@njit_inline
def bucket_of(lat_ns):
    """0 for lat_ns <= 0, else the largest b <= N_BUCKETS - 1 with EDGES[b] <= lat_ns."""
    if lat_ns <= 0:
        return 0
    x = float(lat_ns)
    bits = float_bits(x)
    f = (bits & MANTISSA_MASK) * _ULP  # x = 2^e (1 + f)
    log2_x = ((bits >> MANTISSA_BITS) - EXPONENT_BIAS) + f * (_C1 + f * (_C2 + f * _C3))
    b = 1 + int(log2_x * _BUCKETS_PER_OCTAVE)
    if b > N_BUCKETS - 1:
        b = N_BUCKETS - 1
    # The estimate is at most one bucket off: step to the exact one.
    while b < N_BUCKETS - 1 and EDGES[b + 1] <= x:
        b += 1
    while b > 1 and EDGES[b] > x:
        b -= 1
    if lat_ns > EXACT_IN_FLOAT:
        while b > 1 and FIRST_NS[b] > lat_ns:
            b -= 1
    return b


@njit_inline
def nearest_rank(q, count):
    """The rank (1-based) of the q-quantile of ``count`` values, nearest-rank method."""
    return max(1, int(math.ceil(q * count)))


@njit_inline
def bucket_ns(b):
    """The value (ns) a latency in bucket b reads as: the bucket's geometric middle
    (bucket 0 holds zero latencies)."""
    return 0.0 if b == 0 else math.exp((b - 0.5) * _LOG_G)


@njit
def quantile_ns(hist, count, q, lo_ns, hi_ns):
    """The q-quantile (nearest rank) of ``count`` latencies in ``hist``, in ns (float)."""
    if count <= 0:
        return 0.0
    rank = nearest_rank(q, count)
    seen = 0
    for b in range(hist.shape[0]):
        seen += hist[b]
        if seen >= rank:
            return min(max(bucket_ns(b), float(lo_ns)), float(hi_ns))
    return float(hi_ns)


@njit
def quantile_since_ns(hist, base, count, q, hi_ns):
    """The q-quantile (nearest rank) of the ``count`` latencies binned in ``hist`` since
    it held ``base`` (a copy taken earlier), in ns, clamped to [0, hi_ns]."""
    if count <= 0:
        return 0.0
    rank = nearest_rank(q, count)
    seen = 0
    for b in range(hist.shape[0]):
        seen += hist[b] - base[b]
        if seen >= rank:
            return min(bucket_ns(b), float(hi_ns))
    return float(hi_ns)
