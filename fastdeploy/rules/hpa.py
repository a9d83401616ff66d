"""The Kubernetes HorizontalPodAutoscaler's decisions (autoscaling/v2), shared by both
engines and by the dry run ``fastdeploy.kubernetes.hpa_recommendation``.

Semantics from the Kubernetes sources (pkg/controller/podautoscaler: horizontal.go,
replica_calculator.go; defaults in pkg/apis/autoscaling/v2/defaults.go), summarized in
docs/kubernetes.md; the code is ours.

Two parts:

* Normalization (``normalize``): what the controller does with the replica count the
  metrics propose: stabilization over the earlier proposals, then the scaling policies'
  rate limits over the earlier scale events, then min/max.
* The replica calculator (``resource_replicas``, ``plain_replicas``,
  ``external_replicas``, ``external_average_replicas``): the count one metric proposes,
  with the tolerance (per direction), the integer-percent truncation of utilization and
  the rules for unready pods and pods without a metric.

Times are int64 nanoseconds. The behavior travels as one float64 row (``BEHAVIOR_FIELDS``
long, the layout below): the dry run builds it from the dataclasses, the controller's
parameter row holds it, the kernels read it from the parameter table (so every number in
it is a sweepable parameter).

Recommendations are an int64 table of (time, replicas) rows. Scale events are an int64
table of (time, signed change, outdated) rows: a positive change is a scale-up, a
negative one a scale-down (Kubernetes keeps the two directions in two lists; the sums
below read only the rows of one sign, so one table holds both).
"""

import math
import sys

import numpy as np

from . import autoscaler as scaler
from .jit import in_kernels, njit
from .timeconv import seconds_to_ns

# -- behavior row ---------------------------------------------------------------------------
# Codes passed as arguments are numpy integers (numba would compile a callee once per
# Python int literal; docs/batch-engine.md "Compilation").
UP, DOWN = np.int64(0), np.int64(1)
ADDED, REMOVED = np.int64(1), np.int64(-1)
SELECT_MAX, SELECT_MIN, SELECT_DISABLED = 0, 1, 2
PODS, PERCENT = 0, 1
# Per direction: stabilization window (s), select policy, tolerance (-1: the HPA's),
# policy count, then (type, value, period s) per policy.
B_WINDOW, B_SELECT, B_TOLERANCE, B_NPOLICIES, B_POLICIES = range(5)
POLICY_FIELDS = 3
MAX_POLICIES = 10
DIR_FIELDS = B_POLICIES + POLICY_FIELDS * MAX_POLICIES
BEHAVIOR_FIELDS = 2 * DIR_FIELDS

# -- history tables -------------------------------------------------------------------------
R_TIME, R_REPLICAS = 0, 1
REC_COLUMNS = 2
E_TIME, E_CHANGE, E_OUTDATED = 0, 1, 2
EVENT_COLUMNS = 3

# Go's int32 bounds: the starting values of the policy selection.
MAX_INT32 = 2147483647
MIN_INT32 = -2147483648

# -- pods as the replica calculator groups them ---------------------------------------------
# COUNTED: ready, with a metric; UNREADY: pending, or (CPU) not ready or still warming up;
# MISSING: no metric; IGNORED: being deleted or failed.
COUNTED, UNREADY, MISSING, IGNORED = 0, 1, 2, 3


@njit
def direction_window_ns(beh, d):
    return seconds_to_ns(beh[d * DIR_FIELDS + B_WINDOW])


@njit
def tolerances(beh, tolerance):
    """(scale-down, scale-up) tolerance: each direction's own, else the HPA's."""
    down = beh[DOWN * DIR_FIELDS + B_TOLERANCE]
    up = beh[UP * DIR_FIELDS + B_TOLERANCE]
    return (tolerance if down < 0 else down), (tolerance if up < 0 else up)


@njit
def stabilize(recs, n_recs, now, desired, current, up_window_ns, down_window_ns):
    """stabilizeRecommendationWithBehaviors: the lowest proposal within the scale-up
    window (this one included) is a floor, the highest within the scale-down window a
    ceiling, and the current count is brought within them. A proposal is within a window
    when it is strictly younger than the window."""
    up = desired
    down = desired
    up_cutoff = now - up_window_ns
    down_cutoff = now - down_window_ns
    for i in range(n_recs):
        t = recs[i, R_TIME]
        r = recs[i, R_REPLICAS]
        if t > up_cutoff and r < up:
            up = r
        if t > down_cutoff and r > down:
            down = r
    result = current
    if result < up:
        result = up
    if result > down:
        result = down
    return result


@njit
def changed_in_period(events, n_events, now, period_ns, sign):
    """getReplicasChangePerPeriod: the replicas added (sign 1) or removed (sign -1) by
    the events strictly younger than the period, as a positive count."""
    total = 0
    cutoff = now - period_ns
    for i in range(n_events):
        c = events[i, E_CHANGE]
        if events[i, E_TIME] > cutoff and c * sign > 0:
            total += c * sign
    return total


@njit
def _proposal(beh, p, start, d):
    value = beh[p + 1]
    if d == UP:
        if int(beh[p]) == PODS:
            return start + int(value)
        return int(math.ceil(start * (1.0 + value / 100.0)))
    if int(beh[p]) == PODS:
        return start - int(value)
    return int(start * (1.0 - value / 100.0))


@njit
def limit(beh, d, current, events, n_events, now):
    """calculateScaleUpLimitWithScalingRules (d = UP) and
    calculateScaleDownLimitWithBehaviors (d = DOWN): the most (least) replicas the
    direction's policies allow now. Each policy starts from the count at the start of its
    period (current minus what was added plus what was removed within it); selectPolicy
    Max takes the largest change, Min the smallest, Disabled allows none."""
    b = d * DIR_FIELDS
    select = int(beh[b + B_SELECT])
    if select == SELECT_DISABLED:
        return current
    largest_change = select == SELECT_MAX
    # Scale up: the largest change is the highest count; scale down: the lowest.
    take_max = largest_change if d == UP else not largest_change
    result = MIN_INT32 if take_max else MAX_INT32
    for k in range(int(beh[b + B_NPOLICIES])):
        p = b + B_POLICIES + POLICY_FIELDS * k
        period = seconds_to_ns(beh[p + 2])
        start = (current - changed_in_period(events, n_events, now, period, ADDED)
                 + changed_in_period(events, n_events, now, period, REMOVED))
        proposed = _proposal(beh, p, start, d)
        if take_max:
            if proposed > result:
                result = proposed
        elif proposed < result:
            result = proposed
    return result


@njit
def rate_limited(beh, current, desired, lo, hi, events, n_events, now):
    """convertDesiredReplicasWithBehaviorRate: a scale-up is capped at the policies' limit
    (never below current) and maxReplicas, a scale-down floored at the policies' limit
    (never above current) and minReplicas."""
    if desired > current:
        up_limit = limit(beh, UP, current, events, n_events, now)
        if up_limit < current:
            up_limit = current
        allowed = hi if hi < up_limit else up_limit
        if desired > allowed:
            return allowed
    elif desired < current:
        down_limit = limit(beh, DOWN, current, events, n_events, now)
        if down_limit > current:
            down_limit = current
        allowed = lo if lo > down_limit else down_limit
        if desired < allowed:
            return allowed
    return desired


@njit
def normalize(beh, current, desired, lo, hi, recs, n_recs, events, n_events, now):
    """normalizeDesiredReplicasWithBehaviors: stabilization, then the rate limits and
    min/max. (It does not store anything: see ``recommended`` and ``scaled``.)"""
    stabilized = stabilize(recs, n_recs, now, desired, current, direction_window_ns(beh, UP),
                           direction_window_ns(beh, DOWN))
    return rate_limited(beh, current, stabilized, lo, hi, events, n_events, now)


@njit
def recommended(beh, recs, n_recs, desired, now):
    """Store an unstabilized proposal as Kubernetes does: in place of the last one older
    than both windows, else appended. Returns the new row count (-1: the table is full;
    lowering sizes it so that this cannot happen)."""
    up_cutoff = now - direction_window_ns(beh, UP)
    down_cutoff = now - direction_window_ns(beh, DOWN)
    slot = -1
    for i in range(n_recs):
        t = recs[i, R_TIME]
        if t < up_cutoff and t < down_cutoff:
            slot = i
    n = n_recs
    if slot < 0:
        if n_recs >= recs.shape[0]:
            return -1
        slot = n_recs
        n = n_recs + 1
    recs[slot, R_TIME] = now
    recs[slot, R_REPLICAS] = desired
    return n


@njit
def longest_period_ns(beh, d):
    b = d * DIR_FIELDS
    longest = 0
    for k in range(int(beh[b + B_NPOLICIES])):
        period = seconds_to_ns(beh[b + B_POLICIES + POLICY_FIELDS * k + 2])
        if period > longest:
            longest = period
    return longest


@njit
def scaled(beh, events, n_events, previous, new, now):
    """storeScaleEvent: the events of the change's direction older than its longest
    policy period are marked outdated; the new event takes the place of the last
    outdated one of its direction, else it is appended. Returns the new row count (-1:
    the table is full)."""
    sign = 1 if new > previous else -1
    d = UP if sign > 0 else DOWN
    cutoff = now - longest_period_ns(beh, d)
    slot = -1
    for i in range(n_events):
        if events[i, E_CHANGE] * sign > 0:
            if events[i, E_TIME] < cutoff:
                events[i, E_OUTDATED] = 1
            if events[i, E_OUTDATED] == 1:
                slot = i
    n = n_events
    if slot < 0:
        if n_events >= events.shape[0]:
            return -1
        slot = n_events
        n = n_events + 1
    events[slot, E_TIME] = now
    events[slot, E_CHANGE] = new - previous
    events[slot, E_OUTDATED] = 0
    return n


# -- the replica calculator -----------------------------------------------------------------

@njit
def within(ratio, tol_down, tol_up):
    """The usage ratio is within the tolerance: no change."""
    return 1.0 - tol_down <= ratio <= 1.0 + tol_up


@njit
def _changes_direction(ratio, new_ratio):
    return (ratio < 1.0 and new_ratio > 1.0) or (ratio > 1.0 and new_ratio < 1.0)


@njit
def resource_replicas(current, usage, request, state, n, target_pct, tol_down, tol_up):
    """GetResourceReplicas for a utilization target (percent): (replicas, utilization
    percent). Utilization is the integer percent of the counted pods' usage over their
    requests (milli-units), truncated. Unready pods count as 0 when it scales up; pods
    without a metric count as 0 on a scale-up and as max(100%, target) of their request
    on a scale-down; with either, the ratio is recomputed and the action dropped when it
    falls within the tolerance or changes direction. Replicas -1: no pod has a metric."""
    m_total = 0
    r_total = 0
    counted = 0
    unready = 0
    missing = 0
    for i in range(n):
        s = state[i]
        if s == COUNTED:
            m_total += usage[i]
            r_total += request[i]
            counted += 1
        elif s == UNREADY:
            unready += 1
        elif s == MISSING:
            missing += 1
    if counted == 0 or r_total <= 0:
        return -1, 0
    utilization = (m_total * 100) // r_total
    ratio = utilization / target_pct
    up_with_unready = unready > 0 and ratio > 1.0
    if not up_with_unready and missing == 0:
        if within(ratio, tol_down, tol_up):
            return current, utilization
        return int(math.ceil(ratio * counted)), utilization
    entries = counted
    fallback = target_pct if target_pct > 100 else 100
    for i in range(n):
        s = state[i]
        if s == MISSING and ratio != 1.0:
            if ratio < 1.0:
                m_total += request[i] * fallback // 100
            r_total += request[i]
            entries += 1
        elif s == UNREADY and up_with_unready:
            r_total += request[i]
            entries += 1
    new_ratio = ((m_total * 100) // r_total) / target_pct
    if within(new_ratio, tol_down, tol_up) or _changes_direction(ratio, new_ratio):
        return current, utilization
    replicas = int(math.ceil(new_ratio * entries))
    if (new_ratio < 1.0 and replicas > current) or (new_ratio > 1.0 and replicas < current):
        return current, utilization
    return replicas, utilization


@njit
def plain_replicas(current, value, state, n, target, tol_down, tol_up):
    """GetMetricReplicas for a Pods metric with an average-value target (milli-units):
    (replicas, average). The average is the counted pods' total over their number,
    truncated. Unready pods and pods without a metric as in resource_replicas, a missing
    one counting as the target on a scale-down. Replicas -1: no pod has a metric."""
    total = 0
    counted = 0
    unready = 0
    missing = 0
    for i in range(n):
        s = state[i]
        if s == COUNTED:
            total += value[i]
            counted += 1
        elif s == UNREADY:
            unready += 1
        elif s == MISSING:
            missing += 1
    if counted == 0:
        return -1, 0
    average = total // counted
    ratio = average / target
    up_with_unready = unready > 0 and ratio > 1.0
    if not up_with_unready and missing == 0:
        if within(ratio, tol_down, tol_up):
            return current, average
        return int(math.ceil(ratio * counted)), average
    entries = counted
    for i in range(n):
        s = state[i]
        if s == MISSING:
            if ratio < 1.0:
                total += target
            entries += 1
        elif s == UNREADY and up_with_unready:
            entries += 1
    new_ratio = (total // entries) / target
    if within(new_ratio, tol_down, tol_up) or _changes_direction(ratio, new_ratio):
        return current, average
    replicas = int(math.ceil(new_ratio * entries))
    if (new_ratio < 1.0 and replicas > current) or (new_ratio > 1.0 and replicas < current):
        return current, average
    return replicas, average


@njit
def external_replicas(current, total, target, ready, tol_down, tol_up):
    """GetExternalMetricReplicas for a Value target: the ratio of the metric to the
    target, times the ready pods, outside the tolerance (milli-units)."""
    ratio = total / target
    if current == 0:
        return int(math.ceil(ratio))
    if within(ratio, tol_down, tol_up):
        return current
    return int(math.ceil(ratio * ready))


@njit
def external_average_replicas(current, total, target, tol_down, tol_up):
    """GetExternalPerPodMetricReplicas for an AverageValue target: ceil(total / target)
    when total / (target x current pods) is outside the tolerance (milli-units)."""
    ratio = total / (target * current)
    if within(ratio, tol_down, tol_up):
        return current
    return int(math.ceil(total / target))


@njit
def cpu_unready(now, started_ns, ready, ready_since_ns, window_ns, init_ns, delay_ns):
    """groupPods' rule for a running pod with a CPU metric sampled at now over window_ns:
    within the CPU initialization period from its start, it is unready when not ready or
    when its readiness is younger than one metric window; after, when not ready and it
    never was (its readiness condition changed within the initial readiness delay of its
    start). started_ns < 0: started long before (never within the period)."""
    if started_ns >= 0 and started_ns + init_ns > now:
        return ready == 0 or now < ready_since_ns + window_ns
    return ready == 0 and started_ns + delay_ns > ready_since_ns


# == the controller ============================================================================
# It is a scaler of the run: the AutoScaler's record (rules/autoscaler.py) counts its syncs
# (EVALUATIONS), scaling actions, instances and the syncs at which its behavior held the
# proposal back (COOLDOWN_BLOCKS), numbers its instances and tracks max_replicas for the
# fleet; its parameters follow rules/autoscaler.py's PARAM_NAMES (min and max replicas,
# sync period, two zero cooldowns, metric window), then, from autoscaler.P_POLICY, the ones
# below. What only the HPA keeps is its own record (below) and its two tables.

# The HPA's record: rows used in its recommendation and event tables, the load balancer's
# received count and time at the previous sync (for requests_per_second), syncs whose
# metrics gave no usable proposal.
N_RECS, N_EVENTS, PREV_RECEIVED, PREV_NS, METRIC_FAILURES = range(5)
FIELDS = 5

# Parameters from autoscaler.P_POLICY.
Q_TOLERANCE, Q_CPU_INIT, Q_READINESS_DELAY, Q_NMETRICS, Q_METRICS = range(5)
METRIC_FIELDS = 2  # kind, target
MAX_METRICS = 4
Q_BEHAVIOR = Q_METRICS + METRIC_FIELDS * MAX_METRICS
PARAM_FIELDS = Q_BEHAVIOR + BEHAVIOR_FIELDS

# Metric kinds (targets: CPU a utilization fraction; the others a value, in requests or
# requests per second).
CPU, IN_FLIGHT, RPS, QUEUE_VALUE, QUEUE_AVERAGE = range(5)

# The sync period is at least MIN_SYNC_PERIOD seconds, so the tables' sizes are bounded:
# proposals live one stabilization window, events one policy period, plus one obsolete row.
MIN_SYNC_PERIOD = 1.0
REC_CAPACITY = 3600 + 3
EVENT_CAPACITY = 2 * (1800 + 3)

# One row per backend, as a sync samples it: readiness, its state for Pods metrics
# (booting: pending, unready) and for CPU (rules of cpu_unready), in-service and
# in-flight (in service + queued) means and the queue mean over the metric window
# (milli-units, rounded to the nearest), its request (concurrency, milli), requests per
# second (filled by ``propose``), and the time that ranks it for removal.
(S_READY, S_STATE, S_CPU_STATE, S_BUSY, S_IN_FLIGHT, S_QUEUE, S_REQUEST, S_RPS,
 S_RANK_NS) = range(9)
S_COLUMNS = 9


@njit
def begin_run(hs, received, now):
    hs[:] = 0
    hs[PREV_RECEIVED] = received
    hs[PREV_NS] = now


@njit
def milli(x):
    return int(math.floor(x * 1000.0 + 0.5))


@njit
def sample(row, busy, queue, concurrency, ready, born_ns, boot_ns, start_ns, now, window_ns,
           prm):
    """One backend's row. ``busy`` and ``queue``: its in-service and queued means over
    the metric window (rules/server.py observe). A backend that joined when the run
    started and never booted counts as started long before (the deployment existed)."""
    row[S_READY] = ready
    row[S_BUSY] = milli(busy)
    row[S_QUEUE] = milli(queue)
    row[S_IN_FLIGHT] = milli(busy + queue)
    row[S_REQUEST] = concurrency * 1000
    row[S_RPS] = 0
    if ready == 0:
        row[S_STATE] = UNREADY
        row[S_CPU_STATE] = UNREADY
        row[S_RANK_NS] = born_ns
        return
    since = born_ns + boot_ns
    row[S_RANK_NS] = since
    row[S_STATE] = COUNTED
    started = born_ns if (born_ns > start_ns or boot_ns > 0) else -1
    unready = cpu_unready(now, started, ready, since, window_ns, seconds_to_ns(prm[Q_CPU_INIT]),
                          seconds_to_ns(prm[Q_READINESS_DELAY]))
    row[S_CPU_STATE] = UNREADY if unready else COUNTED


@njit
def propose(hs, q, samples, n, current, received, now):
    """The metrics' proposal (the largest), and how many metrics gave none (no pod with
    a metric; requests_per_second at the first sync of a run). ``q``: the parameters from
    autoscaler.P_POLICY. Remembers the received count for the next sync."""
    tol_down, tol_up = tolerances(q[Q_BEHAVIOR:], q[Q_TOLERANCE])
    ready = 0
    queue = 0
    for i in range(n):
        ready += samples[i, S_READY]
        queue += samples[i, S_QUEUE]
    elapsed = now - hs[PREV_NS]
    rps_valid = elapsed > 0
    if rps_valid and ready > 0:
        rate = milli((received - hs[PREV_RECEIVED]) * 1e9 / elapsed)
        for i in range(n):
            samples[i, S_RPS] = rate // ready
    hs[PREV_RECEIVED] = received
    hs[PREV_NS] = now
    if current == 0:
        return 0, int(q[Q_NMETRICS])  # no pods: no metric (decide does nothing)
    best = 0
    valid = 0
    invalid = 0
    for m in range(int(q[Q_NMETRICS])):
        kind = int(q[Q_METRICS + METRIC_FIELDS * m])
        target = q[Q_METRICS + METRIC_FIELDS * m + 1]
        r = -1
        if kind == CPU:
            r, _ = resource_replicas(current, samples[:, S_BUSY], samples[:, S_REQUEST],
                                     samples[:, S_CPU_STATE], n,
                                     math.floor(target * 100.0 + 0.5), tol_down, tol_up)
        elif kind == IN_FLIGHT:
            r, _ = plain_replicas(current, samples[:, S_IN_FLIGHT], samples[:, S_STATE], n,
                                  milli(target), tol_down, tol_up)
        elif kind == RPS:
            if rps_valid:
                r, _ = plain_replicas(current, samples[:, S_RPS], samples[:, S_STATE], n,
                                      milli(target), tol_down, tol_up)
        elif kind == QUEUE_VALUE:
            r = external_replicas(current, queue, milli(target), ready, tol_down, tol_up)
        else:
            r = external_average_replicas(current, queue, milli(target), tol_down, tol_up)
        if r < 0:
            invalid += 1
        elif valid == 0 or r > best:
            best = r
            valid += 1
    return best, invalid


@njit
def decide(st, hs, prm, recs, events, current, proposal, invalid, now):
    """One sync after the metrics (reconcileAutoscaler): out of [min, max] the count goes
    to the bound; else no action when every metric failed, or some failed and the rest
    propose a scale-down; else the proposal is normalized (and stored). A change is
    stored as a scale event. Returns (autoscaler.SCALE_OUT | SCALE_IN | NO_ACTION, n).
    ``st``: the scaler's rules/autoscaler.py record; ``prm``: its parameter row."""
    st[scaler.EVALUATIONS] += 1
    lo = int(prm[scaler.P_MIN])
    hi = int(prm[scaler.P_MAX])
    q = prm[scaler.P_POLICY:]
    beh = q[Q_BEHAVIOR:]
    if current == 0:
        return scaler.NO_ACTION, 0  # scaling is disabled while the target has no replicas
    if current > hi:
        desired = hi
    elif current < lo:
        desired = lo
    else:
        if invalid >= int(q[Q_NMETRICS]) or (invalid > 0 and proposal < current):
            hs[METRIC_FAILURES] += 1
            return scaler.NO_ACTION, 0
        desired = normalize(beh, current, proposal, lo, hi, recs, hs[N_RECS], events,
                            hs[N_EVENTS], now)
        n = recommended(beh, recs, hs[N_RECS], proposal, now)
        if n >= 0:
            hs[N_RECS] = n
        bounded = lo if proposal < lo else (hi if proposal > hi else proposal)
        if desired != bounded:
            st[scaler.COOLDOWN_BLOCKS] += 1  # the behavior held the proposal back
    if desired == current:
        return scaler.NO_ACTION, 0
    n = scaled(beh, events, hs[N_EVENTS], current, desired, now)
    if n >= 0:
        hs[N_EVENTS] = n
    if desired > current:
        return scaler.SCALE_OUT, desired - current
    return scaler.SCALE_IN, current - desired


@njit
def choose_victims(samples, n, k, out):
    """The k backends a scale-down removes (positions in the backend list), in
    Kubernetes' ReplicaSet order: not ready before ready, then the most recently ready
    (for a not-ready one, created) first; ties: the later in the list first."""
    taken = 0
    while taken < k:
        best = -1
        for i in range(n - 1, -1, -1):
            dup = False
            for j in range(taken):
                if out[j] == i:
                    dup = True
                    break
            if dup:
                continue
            if best < 0:
                best = i
                continue
            if samples[i, S_READY] != samples[best, S_READY]:
                if samples[i, S_READY] < samples[best, S_READY]:
                    best = i
            elif samples[i, S_RANK_NS] > samples[best, S_RANK_NS]:
                best = i
        if best < 0:
            break
        out[taken] = best
        taken += 1
    return taken


@njit
def sync(st, hs, prm, samples, recs, events, current, received, now):
    """One sync after the sample: the metrics' proposal, then the decision. Returns the
    change: n > 0 adds n pods, n < 0 removes -n, 0 does nothing. The kernels call it
    through a function pointer (``sync_function``), so its code is compiled once, not
    again inside every kernel that calls it."""
    proposal, invalid = propose(hs, prm[scaler.P_POLICY:], samples, current, current,
                                received, now)
    action, n = decide(st, hs, prm, recs, events, current, proposal, invalid, now)
    if action == scaler.SCALE_OUT:
        return n
    if action == scaler.SCALE_IN:
        return -n
    return 0


SYNC_SIGNATURE = ("int64(int64[:], int64[:], float64[:], int64[:, :], int64[:, :], "
                  "int64[:, :], int64, int64, int64)")
_SYNC_FUNCTIONS = {}


def _no_sync(st, hs, prm, samples, recs, events, current, received, now):
    return 0


def sync_function(used=True):
    """``sync`` as the kernels call it: a C callback (the Python function when numba's JIT
    is disabled and the kernels run as Python). ``used=False``: a placeholder of the same
    type for a scenario without an HPA, so that its cold start does not compile the HPA
    (the kernels are the same either way)."""
    import numba

    # The kernels' copy of sync: what it calls compiles without Python wrappers (jit.py).
    fn = in_kernels(sys.modules[__name__]).sync if used else _no_sync
    if numba.config.DISABLE_JIT:
        return getattr(fn, "py_func", fn)
    if used not in _SYNC_FUNCTIONS:
        _SYNC_FUNCTIONS[used] = numba.cfunc(SYNC_SIGNATURE, cache=True, nogil=True)(
            getattr(fn, "py_func", fn))
    return _SYNC_FUNCTIONS[used]
