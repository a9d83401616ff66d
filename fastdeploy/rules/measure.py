"""Windowed measurements of one group of instances (a deployer's new version, or its
baseline), shared by both engines: the basis of canary analyses (issue 16).

State, per group: one int64 record (``FIELDS``) and one log-bucket latency histogram
(``rules/histogram.py``, ``histogram.N_BUCKETS`` int64 counts) of the current window.
Every request a member instance answers is counted: at its completion
(``completed``: latency, failed or not) or at its rejection by the instance's queue
(``rejected``). A window is closed by ``close_window``, which computes the measurement
of the window into a float64 row (``M_FIELDS``) and starts the next one; so a
measurement covers the last analysis interval only, never the time since creation.

Besides the window, the record keeps the group's totals over the run (requests answered,
failed, rejected) and its *exposure*: failed plus rejected requests while a deployment
of the group's deployer was in progress (``begin`` .. ``decided``), the users a bad
release hurt before it was stopped.

Which instances belong to a group is the engines' business (each tags the instances a
deployer adds to its new version or takes as its baseline); everything counted and
computed is here.
"""

import numpy as np

from . import histogram
from .jit import njit, njit_inline

# The record.
# HISTOGRAM: whether the group keeps its window's latency histogram (and exact min and
# max), set when a deployment begins (``begin``, ``histogram_kept``): only where an
# analysis may read percentiles (a canary group; a baseline only when a judge compares
# the canary's percentiles with the baseline's), since it is most of a measured request's
# cost (15% of the throughput of canary-bad when its baseline kept one).
(W_COMPLETED, W_REJECTED, W_FAILED, W_LATENCY_NS, W_LAT_MIN, W_LAT_MAX, W_START_NS,
 T_COMPLETED, T_REJECTED, T_FAILED, EXPOSED, ACTIVE, HISTOGRAM) = range(13)
FIELDS = 13

# A measurement (float64 row): requests answered in the window (completed + rejected),
# error rate (failed + rejected) / (completed + rejected), success rate (1 - error
# rate), mean latency (s, over completed requests, failed ones included), p50, p90, p95,
# p99 latency (s, nearest rank from the histogram: at most 1% relative error, clamped to
# the window's exact min and max; NaN for a group without a histogram), whether it has
# data (requests >= min_samples: 1.0,
# else 0.0 and every other value but the count is NaN: "no data", never a pass), and
# the window's start and end (s).
(M_COUNT, M_ERROR_RATE, M_SUCCESS_RATE, M_LATENCY_MEAN, M_P50, M_P90, M_P95, M_P99,
 M_HAS_DATA, M_START, M_END) = range(11)
M_FIELDS = 11
M_NAMES = ("count", "error_rate", "success_rate", "latency_mean", "latency_p50",
           "latency_p90", "latency_p95", "latency_p99", "has_data", "start", "end")
QUANTILES = (0.5, 0.9, 0.95, 0.99)

# Group rows of a deployer: its new version, its baseline (old version).
NEW, BASE = np.int64(0), np.int64(1)
GROUPS = 2

# Which groups of a deployment keep histograms (``histogram_kept``): none, the new
# version's only, both (numpy integers: the kernels pass them as arguments).
HIST_NONE, HIST_NEW, HIST_BOTH = np.int64(0), np.int64(1), np.int64(2)


@njit
def histogram_kept(which, group):
    """Whether ``group`` (NEW, BASE) keeps a histogram under ``which`` (HIST_...)."""
    return which == HIST_BOTH or (which == HIST_NEW and group == NEW)


@njit
def reset(rec, hist):
    """A group before the run: nothing counted, no deployment in progress."""
    rec[:] = 0
    rec[W_LAT_MIN] = -1
    hist[:] = 0


@njit
def start_window(rec, hist, now):
    """A new window starts at now (the last one's counts are forgotten)."""
    rec[W_COMPLETED] = 0
    rec[W_REJECTED] = 0
    rec[W_FAILED] = 0
    rec[W_LATENCY_NS] = 0
    rec[W_LAT_MIN] = -1
    rec[W_LAT_MAX] = 0
    rec[W_START_NS] = now
    if rec[HISTOGRAM] != 0:
        hist[:] = 0


@njit
def begin(rec, hist, now, keep_histogram):
    """A deployment starts: exposure is counted from now, the first window starts; with
    ``keep_histogram`` its windows have latency percentiles."""
    rec[ACTIVE] = 1
    rec[HISTOGRAM] = 1 if keep_histogram else 0
    start_window(rec, hist, now)


@njit
def decided(rec):
    """The deployment ended (promoted, rolled back): exposure stops counting."""
    rec[ACTIVE] = 0


@njit
def completed(rec, hist, latency, failed):
    """A member instance completed a request (latency in ns, failed 0 or 1): counted,
    then binned when the group keeps a histogram."""
    counted(rec, latency, failed)
    if rec[HISTOGRAM] != 0:
        binned(rec, hist, latency)


@njit_inline
def counted(rec, latency, failed):
    """completed's counters (the kernels inline this part into their event loop and
    call binned out of line, only for a group with a histogram)."""
    rec[W_COMPLETED] += 1
    rec[T_COMPLETED] += 1
    if failed:
        rec[W_FAILED] += 1
        rec[T_FAILED] += 1
        if rec[ACTIVE] != 0:
            rec[EXPOSED] += 1
    rec[W_LATENCY_NS] += latency


@njit
def binned(rec, hist, latency):
    """completed's histogram and exact min and max of the window."""
    if rec[W_LAT_MIN] < 0 or latency < rec[W_LAT_MIN]:
        rec[W_LAT_MIN] = latency
    if latency > rec[W_LAT_MAX]:
        rec[W_LAT_MAX] = latency
    hist[histogram.bucket_of(latency)] += 1


@njit
def rejected(rec):
    """A member instance's queue refused a request."""
    rec[W_REJECTED] += 1
    rec[T_REJECTED] += 1
    if rec[ACTIVE] != 0:
        rec[EXPOSED] += 1


@njit
def measure(rec, hist, min_samples, now, out):
    """The current window's measurement (from its start to now) into ``out``."""
    c = rec[W_COMPLETED]
    r = rec[W_REJECTED]
    n = c + r
    out[:] = np.nan
    out[M_COUNT] = n
    out[M_START] = rec[W_START_NS] / 1e9
    out[M_END] = now / 1e9
    if n < min_samples or n == 0:
        out[M_HAS_DATA] = 0.0
        return
    out[M_HAS_DATA] = 1.0
    err = (rec[W_FAILED] + r) / n
    out[M_ERROR_RATE] = err
    out[M_SUCCESS_RATE] = 1.0 - err
    if c > 0:
        # The same float operations as the replica's latency_mean: float(sum) / n / 1e9.
        out[M_LATENCY_MEAN] = rec[W_LATENCY_NS] / c / 1e9
        if rec[HISTOGRAM] == 0:
            return
        lo = rec[W_LAT_MIN]
        hi = rec[W_LAT_MAX]
        for q in range(4):
            out[M_P50 + q] = histogram.quantile_ns(hist, c, QUANTILES[q], lo, hi) / 1e9


@njit
def close_window(rec, hist, min_samples, now, out):
    """The window ends at now: its measurement into ``out``, and the next one starts."""
    measure(rec, hist, min_samples, now, out)
    start_window(rec, hist, now)


# == Measurements since a snapshot ==========================================================
# An analysis whose metrics each keep their own window (Argo Rollouts: one per metric, at
# its own interval) leaves the group's window open for the whole deployment and keeps,
# per metric, a snapshot of the window's counters (and histogram) where its own window
# starts; a measurement is the difference.
S_COMPLETED, S_REJECTED, S_FAILED, S_LATENCY_NS, S_START_NS = range(5)
S_FIELDS = 5


@njit
def snapshot(rec, hist, snap, snap_hist, now):
    """A metric's window over this group starts at now."""
    snap[S_COMPLETED] = rec[W_COMPLETED]
    snap[S_REJECTED] = rec[W_REJECTED]
    snap[S_FAILED] = rec[W_FAILED]
    snap[S_LATENCY_NS] = rec[W_LATENCY_NS]
    snap[S_START_NS] = now
    if rec[HISTOGRAM] != 0:
        # A loop, not snap_hist[:] = hist: numba may copy through a temporary array for
        # that, and the kernels run without the runtime that allocates it.
        for b in range(hist.shape[0]):
            snap_hist[b] = hist[b]


@njit
def measure_since(rec, hist, snap, snap_hist, min_samples, now, out):
    """The measurement (``M_FIELDS``) of the requests the group answered since ``snap``
    was taken, as ``measure`` computes a window's; the percentiles are clamped to the
    largest latency of the deployment's window (the snapshot keeps no minimum)."""
    c = rec[W_COMPLETED] - snap[S_COMPLETED]
    r = rec[W_REJECTED] - snap[S_REJECTED]
    n = c + r
    out[:] = np.nan
    out[M_COUNT] = n
    out[M_START] = snap[S_START_NS] / 1e9
    out[M_END] = now / 1e9
    if n < min_samples or n == 0:
        out[M_HAS_DATA] = 0.0
        return
    out[M_HAS_DATA] = 1.0
    err = (rec[W_FAILED] - snap[S_FAILED] + r) / n
    out[M_ERROR_RATE] = err
    out[M_SUCCESS_RATE] = 1.0 - err
    if c > 0:
        out[M_LATENCY_MEAN] = (rec[W_LATENCY_NS] - snap[S_LATENCY_NS]) / c / 1e9
        if rec[HISTOGRAM] == 0:
            return
        for q in range(4):
            out[M_P50 + q] = histogram.quantile_since_ns(hist, snap_hist, c, QUANTILES[q],
                                                         rec[W_LAT_MAX]) / 1e9


@njit
def exposure(rec):
    """Failed and rejected requests while a deployment was in progress."""
    return rec[EXPOSED]


@njit
def answered(rec):
    """Requests the group answered over the run (completed + rejected)."""
    return rec[T_COMPLETED] + rec[T_REJECTED]
