"""A replica's requests, shared by both engines: how many were created, completed,
failed and rejected, and the record of completed requests' latencies (sum, exact minimum
and maximum, and the log-bucket histogram of rules/histogram.py) from which a run's
latency mean and percentiles are read (SPEC section 8).

State: one int64 record (the fields below) and one histogram (histogram.N_BUCKETS int64
counts). The kernels keep the record as the first FIELDS columns of their replica
counters (batch/schema.py G_...); the object engine's RunRecord as an array.
"""

from . import histogram
from .jit import njit, njit_inline

(CREATED, COMPLETED, FAILED, REJECTED, LATENCY_SUM_NS, LATENCY_MIN_NS,
 LATENCY_MAX_NS) = range(7)
FIELDS = 7


@njit
def reset(rec, hist):
    """Nothing counted yet (the minimum -1: no latency yet)."""
    rec[:FIELDS] = 0
    rec[LATENCY_MIN_NS] = -1
    hist[:] = 0


@njit_inline
def created(rec):
    """A request is created: its index in the replica (from 0), which keys its draws."""
    k = rec[CREATED]
    rec[CREATED] = k + 1
    return k


@njit_inline
def completed(rec, hist, latency, failed):
    """A request completed, ``latency`` ns after its creation (failed: 0 or 1; a failed
    request completes and counts in latency)."""
    rec[COMPLETED] += 1
    rec[FAILED] += failed
    hist[histogram.bucket_of(latency)] += 1
    rec[LATENCY_SUM_NS] += latency
    if rec[LATENCY_MIN_NS] < 0 or latency < rec[LATENCY_MIN_NS]:
        rec[LATENCY_MIN_NS] = latency
    if latency > rec[LATENCY_MAX_NS]:
        rec[LATENCY_MAX_NS] = latency


@njit_inline
def rejected(rec):
    """A request was refused (a full queue, or no backend to route it to)."""
    rec[REJECTED] += 1
