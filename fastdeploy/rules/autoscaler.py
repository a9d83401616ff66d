"""The AutoScaler's state machine (SPEC section 7), shared by both engines.

State: one int64 record per scaler (the fields below); the object engine's AutoScaler
holds it as a numpy array, the kernels as a row of their scaler bank. Parameters: one
float64 row, PARAM_NAMES in order, then the policy's (the lowering's parameter table
uses the same layout). The engines gather the observation (backend count, utilization,
queue depth) and carry out the returned action on their own servers; every decision and
every counter change is here.
"""

from . import fleet
from .jit import njit
from .scaling import (in_cooldown, queue_depth_desired, step_scaling_desired,
                      target_utilization_desired)
from .timeconv import seconds_to_ns

# -- the record ---------------------------------------------------------------------------
# (MAX: max_instances of the run; BELOW_MAX: 1 while its load balancer has fewer
# backends, which the fleet record integrates; CHAIN, CHAIN_START_NS, CHAIN_EVALS: the
# evaluation chain running (start() begins one), when it began and how many evaluations
# it made, which fix when its metric windows start.)
(LAST_ACTION_NS, NEXT_INSTANCE, EVALUATIONS, SCALE_OUT_COUNT, SCALE_IN_COUNT,
 INSTANCES_ADDED, INSTANCES_REMOVED, COOLDOWN_BLOCKS, MAX, BELOW_MAX, CHAIN, CHAIN_START_NS,
 CHAIN_EVALS) = range(13)
FIELDS = 13
# The AutoScalerStats fields, in record order from STATS_FIRST.
STATS_FIRST = EVALUATIONS
STATS = ("evaluations", "scale_out_count", "scale_in_count", "instances_added",
         "instances_removed", "cooldown_blocks")

# -- parameters ---------------------------------------------------------------------------
P_MIN, P_MAX, P_INTERVAL, P_OUT_COOLDOWN, P_IN_COOLDOWN, P_WINDOW, P_POLICY = range(7)
PARAM_NAMES = ("min_instances", "max_instances", "evaluation_interval",
               "scale_out_cooldown", "scale_in_cooldown", "metric_window")

# -- built-in policies (their parameters follow P_POLICY) ---------------------------------
TARGET = 0  # target, tolerance
STEP = 1  # steps as (threshold, adjustment) pairs, given to the rule sorted
QUEUE_DEPTH = 2  # scale_out_threshold, scale_in_threshold
FUNCTION = 3  # a NumbaPolicy: its function's own parameters
HPA = 4  # a HorizontalPodAutoscaler: its own rules (rules/hpa.py) and parameters

# -- what a NumbaPolicy's function observes (float64 record) -------------------------------
# Time (s), backend count, min and max instances, the backends' mean utilization, their
# total queue depth, requests in service at them, requests the load balancer received so
# far (a counter: its change between evaluations is the arrival count).
(OBS_TIME, OBS_CURRENT, OBS_MIN, OBS_MAX, OBS_UTILIZATION, OBS_QUEUE_DEPTH, OBS_IN_SERVICE,
 OBS_RECEIVED) = range(8)
OBS_FIELDS = 8

# -- actions ------------------------------------------------------------------------------
NO_ACTION, SCALE_OUT, SCALE_IN = 0, 1, 2


@njit
def reset(st):
    """A scaler's record before its first evaluation."""
    st[:] = 0
    st[LAST_ACTION_NS] = -1
    st[NEXT_INSTANCE] = 1
    st[CHAIN_START_NS] = -1


@njit
def begin_run(st, fl, prm, n_backends, now):
    """A run starts with n_backends on the scaler's load balancer."""
    st[MAX] = int(prm[P_MAX])
    st[BELOW_MAX] = 0
    fleet_size(st, fl, n_backends, now)


@njit
def window_ns(prm):
    """The metric window: the backends' utilization and queue depth it observes are
    their time-weighted means over it (0: their values at the evaluation)."""
    return seconds_to_ns(prm[P_WINDOW])


@njit
def fleet_size(st, fl, n_backends, now):
    """The scaler's load balancer has n_backends now (after any change of its backends):
    whether it is below max_instances, for the fleet's time underprovisioned."""
    below = 1 if n_backends < st[MAX] else 0
    if below != st[BELOW_MAX]:
        fleet.below_max_changed(fl, below - st[BELOW_MAX], now)
        st[BELOW_MAX] = below


@njit
def interval_ns(prm):
    return seconds_to_ns(prm[P_INTERVAL])


# -- metric windows -----------------------------------------------------------------------
# Evaluation j of a chain that began at s runs at s + j x interval, so the window it
# averages over, [s + j x interval - window, now], starts at a time known in advance:
# evaluation j takes a mark of its backends' integrals (rules/server.py) for evaluation
# j + K, K = ceil(window / interval) (the first evaluation whose window starts after
# now), and the backends keep K + 1 such marks in a ring, plus the chain's start in one
# more slot: a window never reaches back before the chain began (before it, the
# controller was not watching). So a window costs a mark per evaluation, not a record
# per request.

# A window spans at most this many evaluation intervals (each backend keeps that many
# marks; a longer window with such frequent evaluations is almost surely a mistake).
MAX_WINDOW_INTERVALS = 4096


def window_error(window_s, interval_s, window_name, interval_name):
    """The one-line error for a window longer than MAX_WINDOW_INTERVALS intervals, or
    None (both engines and the lowering's sweep check use it)."""
    if window_s > MAX_WINDOW_INTERVALS * interval_s:
        return (f"{window_name} {window_s} s is more than {MAX_WINDOW_INTERVALS} times "
                f"{interval_name} ({interval_s} s)")
    return None


@njit
def window_marks(prm):
    """K: how many evaluations ahead a window's mark is taken (0 without a window)."""
    w = window_ns(prm)
    if w <= 0:
        return 0
    p = interval_ns(prm)
    return (w + p - 1) // p


@njit
def mark_slots(prm):
    """How many marks each backend keeps for this controller (0 without a window)."""
    k = window_marks(prm)
    return k + 2 if k > 0 else 0


@njit
def evaluation_begins(st, chain, now):
    """An evaluation of chain ``chain`` (a number that changes when start() begins a new
    one) runs now: its number j in the chain (0 for the first)."""
    if st[CHAIN] != chain:
        st[CHAIN] = chain
        st[CHAIN_START_NS] = now
        st[CHAIN_EVALS] = 0
    j = st[CHAIN_EVALS]
    st[CHAIN_EVALS] = j + 1
    return j


@njit
def window_since(st, prm, now):
    """(since, slot): where the window of the evaluation running now starts and the mark
    slot that holds the backends' integrals then (since == now: no window)."""
    w = window_ns(prm)
    if w <= 0:
        return now, 0
    k = window_marks(prm)
    since = now - w
    if since <= st[CHAIN_START_NS]:
        return st[CHAIN_START_NS], k + 1
    return since, (st[CHAIN_EVALS] - 1) % (k + 1)


@njit
def start_marked(st, prm):
    """Whether the evaluation running now (just begun) marks its backends as the chain's
    start, and in which slot (-1: it does not)."""
    k = window_marks(prm)
    if k == 0 or st[CHAIN_EVALS] != 1:
        return -1
    return k + 1


@njit
def next_mark(st, prm):
    """After an evaluation: (time, slot) of the mark to take for the evaluation K ahead
    (time -1: none, as it starts at the chain's start, whose slot is marked)."""
    k = window_marks(prm)
    if k == 0:
        return -1, 0
    m = st[CHAIN_EVALS] - 1 + k
    t = st[CHAIN_START_NS] + m * interval_ns(prm) - window_ns(prm)
    if t <= st[CHAIN_START_NS]:
        return -1, 0
    return t, m % (k + 1)


@njit
def builtin_desired(policy, prm, steps_t, steps_a, current, mean_util, depth):
    """The desired count of a built-in policy from the observation (current backend
    count, their mean utilization, their total queue depth)."""
    lo = int(prm[P_MIN])
    hi = int(prm[P_MAX])
    if policy == QUEUE_DEPTH:
        return queue_depth_desired(depth, current, int(prm[P_POLICY]),
                                   int(prm[P_POLICY + 1]), lo, hi)
    if policy == TARGET:
        return target_utilization_desired(current, mean_util, current, prm[P_POLICY],
                                          prm[P_POLICY + 1], lo, hi)
    return step_scaling_desired(steps_t, steps_a, mean_util, current, lo, hi)


@njit
def observe(obs, prm, now, current, mean_util, depth, in_service, received):
    """Fill the observation record a NumbaPolicy's function reads."""
    obs[OBS_TIME] = now / 1e9
    obs[OBS_CURRENT] = current
    obs[OBS_MIN] = prm[P_MIN]
    obs[OBS_MAX] = prm[P_MAX]
    obs[OBS_UTILIZATION] = mean_util
    obs[OBS_QUEUE_DEPTH] = depth
    obs[OBS_IN_SERVICE] = in_service
    obs[OBS_RECEIVED] = received


@njit
def _blocked(st, cooldown_s, now):
    if in_cooldown(now, st[LAST_ACTION_NS], seconds_to_ns(cooldown_s)):
        st[COOLDOWN_BLOCKS] += 1
        return True
    return False


@njit
def plan(st, prm, current, desired, now):
    """One evaluation: (action, n) for a policy's desired count, with the cooldowns.

    Counts the evaluation and any cooldown block. A scale-out is capped at max_instances
    and a scale-in at min_instances; either is blocked while less than its cooldown has
    passed since the last scaling action.
    """
    st[EVALUATIONS] += 1
    if desired > current:
        n = min(desired, int(prm[P_MAX])) - current
        if n > 0 and not _blocked(st, prm[P_OUT_COOLDOWN], now):
            return SCALE_OUT, n
    elif desired < current:
        n = current - max(desired, int(prm[P_MIN]))
        if n > 0 and not _blocked(st, prm[P_IN_COOLDOWN], now):
            return SCALE_IN, n
    return NO_ACTION, 0


@njit
def next_instance(st):
    """The number k of the next instance this scaler creates (named ``<name>_server_k``)."""
    k = st[NEXT_INSTANCE]
    st[NEXT_INSTANCE] = k + 1
    return k


@njit
def scaled(st, action, n, now):
    """Record a scaling action that moved n instances (n > 0)."""
    st[LAST_ACTION_NS] = now
    if action == SCALE_OUT:
        st[SCALE_OUT_COUNT] += 1
        st[INSTANCES_ADDED] += n
    else:
        st[SCALE_IN_COUNT] += 1
        st[INSTANCES_REMOVED] += n


@njit
def choose_victims(managed_pos, n_managed, n_backends, n, out):
    """Which backends a scale-in of n removes, as positions in the load balancer's
    backend list, in removal order; returns how many (fewer when there are fewer).

    ``managed_pos[i]`` is the position of the scaler's i-th created instance still
    managed (creation order), -1 if it is no longer a backend. The scaler's own
    instances go first, newest first; then other backends from the end of the list.
    """
    k = 0
    for i in range(n_managed - 1, -1, -1):
        if k >= n:
            return k
        if managed_pos[i] >= 0:
            out[k] = managed_pos[i]
            k += 1
    p = n_backends - 1
    while k < n and p >= 0:
        taken = False
        for q in range(k):
            if out[q] == p:
                taken = True
                break
        if not taken:
            out[k] = p
            k += 1
        p -= 1
    return k
