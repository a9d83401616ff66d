"""Per-replica log-bucket latency histogram (at most 1% relative error).

Bucket 0 holds zero latencies; bucket b >= 1 holds latencies in [G^(b-1), G^b) ns with
G = 1.02, and reports the geometric middle, clamped to the exact min and max.
"""

import math

from .jit import njit, njit_inline

GROWTH = 1.02
N_BUCKETS = 2048
_LOG_G = math.log(GROWTH)
# Largest latency the histogram can hold, in ns (about 12 years).
MAX_LATENCY_NS = int(GROWTH ** (N_BUCKETS - 2))


@njit_inline
def bucket_of(lat_ns):
    if lat_ns <= 0:
        return 0
    b = 1 + int(math.floor(math.log(lat_ns) / _LOG_G))
    if b > N_BUCKETS - 1:
        b = N_BUCKETS - 1
    return b


@njit
def quantile_ns(hist, count, q, lo_ns, hi_ns):
    """The q-quantile (nearest rank) of ``count`` latencies in ``hist``, in ns (float)."""
    if count <= 0:
        return 0.0
    rank = int(math.ceil(q * count))
    if rank < 1:
        rank = 1
    seen = 0
    for b in range(hist.shape[0]):
        seen += hist[b]
        if seen >= rank:
            if b == 0:
                v = 0.0
            else:
                v = math.exp((b - 0.5) * _LOG_G)
            if v < lo_ns:
                v = float(lo_ns)
            if v > hi_ns:
                v = float(hi_ns)
            return v
    return float(hi_ns)
