"""Per-replica log-bucket latency histogram (at most 1% relative error).

Bucket 0 holds zero latencies; bucket b >= 1 holds latencies in [G^(b-1), G^b) ns with
G = 1.02, and reports the geometric middle, clamped to the exact min and max.
"""

import math

import numpy as np

from .bits import EXPONENT_BIAS, MANTISSA_BITS, float_bits
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
# when it is >= ceil(EDGES[b]). bucket_of compares integers only, so a latency above
# 2**53 ns, which a float cannot hold exactly, still lands in its own bucket.
FIRST_NS = np.ceil(EDGES).astype(np.int64)
# Where to start looking for a latency's bucket: an octave [2^e, 2^(e+1)) cut into
# SUB = 64 equal parts is narrower per part (at most 1/64 of its start) than a bucket
# (2%), so a part holds at most one edge, and the bucket of its smallest integer, from
# this table, is at most one off for any latency in it. A table look-up and one
# comparison instead of a polynomial and two searches: the histogram was a sixth of the
# batch kernel's time per request.
_SUB_BITS = 6
_SUB = 1 << _SUB_BITS


def _part_starts() -> np.ndarray:
    """The smallest integer of each part, in (e, m) order: its highest bit is e and its
    next _SUB_BITS bits are m (ceil: a part of a low octave may hold no integer)."""
    e = np.repeat(np.arange(63, dtype=np.int64), _SUB)
    m = np.tile(np.arange(_SUB, dtype=np.int64), 63)
    high = e >= _SUB_BITS
    return np.where(high, (_SUB + m) << np.where(high, e - _SUB_BITS, 0),
                    -(-(_SUB + m) >> np.where(high, 0, _SUB_BITS - e)))


# The largest b with FIRST_NS[b] <= the part's smallest integer (bisection).
PART_BUCKET = np.minimum(np.searchsorted(FIRST_NS[1:], _part_starts(), side="right"),
                         N_BUCKETS - 1).astype(np.int16)


@njit_inline
def bucket_of(lat_ns):
    """0 for lat_ns <= 0, else the largest b <= N_BUCKETS - 1 with EDGES[b] <= lat_ns
    (for an integer, FIRST_NS[b] <= lat_ns)."""
    if lat_ns <= 0:
        return 0
    # e: the highest set bit, from the float's exponent (a float may round up to the
    # next power of two)
    e = (float_bits(float(lat_ns)) >> MANTISSA_BITS) - EXPONENT_BIAS
    if e > 62 or (e > 0 and (lat_ns >> e) == 0):
        e -= 1
    if e >= _SUB_BITS:
        m = (lat_ns >> (e - _SUB_BITS)) & (_SUB - 1)
    else:
        m = (lat_ns << (_SUB_BITS - e)) & (_SUB - 1)
    b = np.int64(PART_BUCKET[e * _SUB + m])
    if b < N_BUCKETS - 1 and FIRST_NS[b + 1] <= lat_ns:
        b += 1
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
