"""The RollingDeployer's state machine (SPEC section 7), shared by both engines.

State: one int64 record per deployer, and three int64 arrays over the current batch's
new instances: consecutive passes, the number of the probe each awaits (-1: none) and
when that probe was sent. Parameters: one float64 row in PARAM_NAMES order. The engines
create, add and remove servers and send the probes; which to send, what a result means
and every counter are decided here.
"""

from . import deployer
from .deployer import (COMPLETED, IN_PROGRESS, ROLLED_BACK, STATUS_NAMES,  # noqa: F401
                       accepts_deploy, finished, next_instance, reset, started,
                       weight_reached)
from .jit import njit
from .timeconv import seconds_to_ns

# The record: the deployer lifecycle's head (rules/deployer.py), then the rolling
# deployer's own.
(STATUS, END_NS, DEPLOYMENTS_STARTED, DEPLOYMENTS_COMPLETED, DEPLOYMENTS_ROLLED_BACK,
 INSTANCES_REPLACED, HEALTH_CHECKS_PERFORMED, HEALTH_CHECKS_PASSED,
 HEALTH_CHECKS_FAILED) = range(deployer.STATS_FIRST + deployer.N_STATS)
(BATCH_ID, NEXT_OLD, BATCH_FIRST_OLD, BATCH_SIZE_NOW, FAILURES, PROBES_SENT,
 TOTAL_INSTANCES, REPLACED, FAILED, CURRENT_BATCH) = range(deployer.OWN_FIRST,
                                                          deployer.OWN_FIRST + 10)
FIELDS = deployer.OWN_FIRST + 10
STATS_FIRST = deployer.STATS_FIRST
STATS = ("deployments_started", "deployments_completed", "deployments_rolled_back",
         "instances_replaced", "health_checks_performed", "health_checks_passed",
         "health_checks_failed")

P_BATCH_SIZE, P_INTERVAL, P_HEALTHY_THRESHOLD, P_MAX_FAILURES = range(4)
PARAM_NAMES = ("batch_size", "health_check_interval", "healthy_threshold", "max_failures")

# What a probe result leads to.
NOTHING, ROLL_BACK, BATCH_HEALTHY = range(3)


@njit
def begin(st, n_old, now):
    """A new deployment of n_old backends starts at now (after accepts_deploy said
    yes)."""
    started(st, now)
    st[NEXT_OLD] = 0
    st[FAILURES] = 0
    st[TOTAL_INSTANCES] = n_old
    st[REPLACED] = 0
    st[FAILED] = 0
    st[CURRENT_BATCH] = 0


@njit
def next_batch(st, prm, n_old, now):
    """Start the next batch: returns how many old backends it replaces (from position
    st[BATCH_FIRST_OLD] of the original list), or 0 when all are replaced and the
    deployment completes."""
    nxt = st[NEXT_OLD]
    if nxt >= n_old:
        weight_reached(st, 1.0)
        finished(st, COMPLETED, now)
        return 0
    k = min(int(prm[P_BATCH_SIZE]), n_old - nxt)
    # The new version's weight: its instances among the deployment's own (the batch's
    # old backends are still in, the earlier batches' are gone), each of weight one.
    weight_reached(st, (nxt + k) / (n_old + k))
    st[BATCH_FIRST_OLD] = nxt
    st[BATCH_SIZE_NOW] = k
    st[NEXT_OLD] = nxt + k
    st[BATCH_ID] += 1
    st[CURRENT_BATCH] += 1
    return k


@njit
def new_instance_added(st, passes, pending, i):
    """New instance i of the batch exists: no passes, no probe awaited."""
    passes[i] = 0
    pending[i] = -1
    return next_instance(st)


@njit
def interval_ns(prm):
    return seconds_to_ns(prm[P_INTERVAL])


@njit
def round_due(st, batch):
    """A health round of ``batch`` runs only while that batch is the current one."""
    return st[STATUS] == IN_PROGRESS and batch == st[BATCH_ID]


@njit
def needs_probe(prm, passes, i):
    return passes[i] < int(prm[P_HEALTHY_THRESHOLD])


@njit
def probe_sent(st, pending, sent, i, now):
    """A probe goes to new instance i; returns its number (unique within the run)."""
    st[HEALTH_CHECKS_PERFORMED] += 1
    m = st[PROBES_SENT]
    st[PROBES_SENT] = m + 1
    pending[i] = m
    sent[i] = now
    return m


@njit
def awaited_by(st, pending, n, m):
    """The new instance of the current batch awaiting probe m, or -1 (a stale probe)."""
    if st[STATUS] != IN_PROGRESS:
        return -1
    for i in range(n):
        if pending[i] == m:
            return i
    return -1


@njit
def probe_failed(st, prm, passes, pending, i, now):
    """Probe of instance i failed (or timed out): NOTHING or ROLL_BACK."""
    pending[i] = -1
    passes[i] = 0
    st[HEALTH_CHECKS_FAILED] += 1
    st[FAILED] += 1
    st[FAILURES] += 1
    if st[FAILURES] > int(prm[P_MAX_FAILURES]):
        finished(st, ROLLED_BACK, now)
        return ROLL_BACK
    return NOTHING


@njit
def probe_done(st, prm, passes, pending, sent, n, i, failed, now):
    """Probe of instance i finished at now: a failure, or a pass unless it took a whole
    interval or more (its timeout). Returns NOTHING, ROLL_BACK or BATCH_HEALTHY (every
    new instance of the batch has its threshold of consecutive passes)."""
    if failed or now - sent[i] >= interval_ns(prm):
        return probe_failed(st, prm, passes, pending, i, now)
    pending[i] = -1
    passes[i] += 1
    st[HEALTH_CHECKS_PASSED] += 1
    threshold = int(prm[P_HEALTHY_THRESHOLD])
    for j in range(n):
        if passes[j] < threshold:
            return NOTHING
    return BATCH_HEALTHY


@njit
def batch_replaced(st):
    """The batch's old backends are gone; returns how many."""
    k = st[BATCH_SIZE_NOW]
    st[REPLACED] += k
    st[INSTANCES_REPLACED] += k
    return k
