"""A server's state machine (SPEC section 5), shared by both engines: admission to its
slots or its FIFO queue, the work and outcome of a request, completion accounting,
readiness (an instance created during a run boots before it serves), and instance time
(from joining a load balancer until drained, or until its termination grace ends, after
removal).

State: one int64 record per server (the fields below). The object engine's Server holds
it as a numpy array beside its queue of Python items; the kernels hold it as the first
FIELDS columns of their server bank, beside their queue of pool nodes. The queue itself
is each engine's storage; its length and every counter are here. Changes the replica
integrates over time (ready instances, waiting requests) go to its fleet record
(rules/fleet.py) from here.

Averaged observation: a server keeps the integrals over time of its in-service and queued
counts in a form that needs no order and no clock of its own: an accumulator to which an
item adds minus the instant it enters the count and plus the instant it leaves, so that
the integral from the start up to now is count x now + accumulator (``integrals``). A
change costs one addition, kept whether or not a controller of the run averages (no test
on the hot path). A controller reads the time-weighted mean over its window from two
values of those integrals: now, and at the window's start, which it marked beforehand
(its evaluations are periodic, so it knows when each window will start and takes a mark
then: ``mark`` writes the integrals into a slot of the server's mark array, ``marks[k]``
of a 3-D array the engine passes whole with the server's index k). The integrals when it
joined a load balancer are kept too, for an instance younger than the window. So a
controller's work is per evaluation, whatever the window. (For horizons of decades the
products may wrap around in int64; the differences a mean takes are still exact.)
"""

import numpy as np

from . import fleet
from .distributions import EXPONENTIAL, exponential_core, sample_seconds, sample_seconds_at
from .jit import njit, njit_inline
from .timeconv import seconds_to_ns

(CONCURRENCY, CAPACITY, BUSY, QUEUED, COMPLETED, REJECTED, FAILURES, SERVICE_NS,
 LATENCY_NS, REMOVED, COST_SINCE, COST_NS,
 # readiness: 1 when it serves; 1 while a backend of a load balancer; instance time
 # spent before ready
 READY, MEMBER, BOOT_NS,
 # probes among the queued and the in-service (they are not requests)
 PROBES_QUEUED, PROBES_BUSY,
 # termination grace (ns, -1: drain to completion), removals so far (a grace end
 # belongs to one), drops so far (an in-service item started before a drop is void),
 # requests dropped
 GRACE_NS, REMOVALS, DROPS, DROPPED,
 # averaged observation: when it first joined a load balancer (-1: not yet), the
 # accumulators of in-service and queued (ns: the instants items left the count minus
 # those they entered it), and the integrals when it joined
 BORN_NS, BUSY_ACC, QUEUE_ACC, BORN_BUSY, BORN_QUEUE) = range(26)
FIELDS = 26
# The columns of a mark: when it was taken, the in-service and queued integrals then.
M_TIME, M_BUSY, M_QUEUE = range(3)
M_COLUMNS = 3

# What happens to an arriving request or probe.
START, QUEUE, REJECT = 0, 1, 2


@njit_inline
def reset(st, concurrency, capacity, grace_ns):
    """A new server, ready: ``capacity`` -1 means an unbounded queue, ``grace_ns`` -1
    draining to completion after removal."""
    st[:FIELDS] = 0
    st[CONCURRENCY] = concurrency
    st[CAPACITY] = capacity
    st[COST_SINCE] = -1
    st[READY] = 1
    st[GRACE_NS] = grace_ns
    st[BORN_NS] = -1


# One item entering or leaving a count (numpy integers: numba would type a Python int
# argument as a literal and compile the callee once more for each value).
ENTERS, LEAVES = np.int64(1), np.int64(-1)


@njit_inline
def _busy_by(st, delta, now):
    """In service changes by delta at now, with its integral's accumulator."""
    st[BUSY] += delta
    st[BUSY_ACC] -= delta * now


@njit_inline
def _queued_by(st, delta, now):
    """Queued changes by delta at now, with its integral's accumulator."""
    st[QUEUED] += delta
    st[QUEUE_ACC] -= delta * now


@njit_inline
def integrals(st, now):
    """(in-service, queued) integrals (ns x count) from the start up to now."""
    return st[BUSY_ACC] + st[BUSY] * now, st[QUEUE_ACC] + st[QUEUED] * now


@njit
def mark(st, marks, k, slot, now):
    """A controller's window starts now: keep the integrals in the slot."""
    b, q = integrals(st, now)
    marks[k, slot, M_TIME] = now
    marks[k, slot, M_BUSY] = b
    marks[k, slot, M_QUEUE] = q


@njit
def observe(st, marks, k, now, since, slot):
    """What a controller sees of this server at now: (utilization, queue depth, in
    service). since == now: the values now. since < now: their exact time-weighted means
    from since, the start of the controller's window, which it marked in ``slot``; over
    the server's life when it joined a load balancer at or after since (or was not one
    of the controller's backends when the mark was taken)."""
    if since >= now:
        return st[BUSY] / st[CONCURRENCY], float(st[QUEUED]), float(st[BUSY])
    if st[BORN_NS] >= since or marks[k, slot, M_TIME] != since:
        x = st[BORN_NS]
        b0 = st[BORN_BUSY]
        q0 = st[BORN_QUEUE]
    else:
        x = since
        b0 = marks[k, slot, M_BUSY]
        q0 = marks[k, slot, M_QUEUE]
    span = now - x
    if x < 0 or span <= 0:
        return st[BUSY] / st[CONCURRENCY], float(st[QUEUED]), float(st[BUSY])
    b1, q1 = integrals(st, now)
    busy = (b1 - b0) / span
    return busy / st[CONCURRENCY], (q1 - q0) / span, busy


@njit_inline
def startup_ns(kind, a, b, u):
    """The start-up delay of an instance whose start-up uniform is u, in ns."""
    ns = seconds_to_ns(sample_seconds(kind, a, b, u))
    return ns if ns > 0 else 0


@njit_inline
def boots(st):
    """The instance, created during the run, is not ready until its start-up delay has
    passed (called before it joins its load balancer, and only for a delay > 0)."""
    st[READY] = 0


@njit_inline
def arrive(st, fl, is_request, now):
    """A request (or a probe) arrives: START it in a free slot, QUEUE it, or REJECT it
    when the queue is full (counted for requests only: a probe is not a request). An
    instance that is not ready holds what it gets in its queue until it is."""
    if st[READY] == 1 and st[BUSY] < st[CONCURRENCY]:
        _busy_by(st, ENTERS, now)
        if not is_request:
            st[PROBES_BUSY] += 1
        return START
    if st[CAPACITY] >= 0 and st[QUEUED] >= st[CAPACITY]:
        if is_request:
            st[REJECTED] += 1
        return REJECT
    _queued_by(st, ENTERS, now)
    if is_request:
        fleet.waiting_changed(fl, 1, now)
    else:
        st[PROBES_QUEUED] += 1
    return QUEUE


@njit_inline
def service_ns(kind, a, b, u_work):
    """The work of a request whose work uniform is u_work, in ns (never negative)."""
    return service_ns_at(kind, a, b, u_work,
                         exponential_core(u_work) if kind == EXPONENTIAL else 0.0)


@njit_inline
def service_ns_at(kind, a, b, u_work, core):
    """service_ns with u_work's exponential_core given (distributions.sample_seconds_at)."""
    ns = seconds_to_ns(sample_seconds_at(kind, a, b, u_work, core))
    return ns if ns > 0 else 0


@njit_inline
def fails(failure_rate, u_fail):
    """Does a served request with failure uniform u_fail fail? (Never with rate 0, so a
    caller may skip the draw then.)"""
    return u_fail < failure_rate


@njit_inline
def finished(st, is_request, service, latency, failed, now):
    """A request or probe leaves its slot; a request's service time, latency at the
    server (wait + service) and failure are counted."""
    _busy_by(st, LEAVES, now)
    if is_request:
        st[COMPLETED] += 1
        st[SERVICE_NS] += service
        st[LATENCY_NS] += latency
        st[FAILURES] += failed
    else:
        st[PROBES_BUSY] -= 1


@njit_inline
def start_next(st, fl, head_is_request, now):
    """A slot may be free (after a completion, or on becoming ready): does the head of
    the queue start now? (Free slots are used at once, so this is called until it says
    no.)"""
    if st[READY] == 1 and st[QUEUED] > 0 and st[BUSY] < st[CONCURRENCY]:
        _queued_by(st, LEAVES, now)
        _busy_by(st, ENTERS, now)
        if head_is_request:
            fleet.waiting_changed(fl, -1, now)
        else:
            st[PROBES_QUEUED] -= 1
            st[PROBES_BUSY] += 1
        return True
    return False


@njit_inline
def became_ready(st, fl, now):
    """The start-up delay has passed: the instance serves (its queue starts at once:
    call start_next until it says no). The time it ran before counts as booting."""
    if st[READY] == 1:
        return
    st[READY] = 1
    if st[COST_SINCE] >= 0:
        st[BOOT_NS] += now - st[COST_SINCE]
        fleet.booting_changed(fl, -1)
    if st[MEMBER] == 1:
        fleet.ready_changed(fl, 1, now)


@njit_inline
def added(st, fl, now):
    """The server joins a load balancer; True when its instance time starts (it was not
    already running)."""
    st[REMOVED] = 0
    st[MEMBER] = 1
    if st[BORN_NS] < 0:
        st[BORN_NS] = now
        st[BORN_BUSY], st[BORN_QUEUE] = integrals(st, now)
    if st[READY] == 1:
        fleet.ready_changed(fl, 1, now)
    if st[COST_SINCE] < 0:
        st[COST_SINCE] = now
        if st[READY] == 0:
            fleet.booting_changed(fl, 1)
        return True
    return False


@njit_inline
def removed(st, fl, now):
    """The server leaves its load balancer; True when its instance time ends now (it
    holds nothing), else it drains first (see grace_end_ns)."""
    st[REMOVED] = 1
    st[MEMBER] = 0
    st[REMOVALS] += 1
    if st[READY] == 1:
        fleet.ready_changed(fl, -1, now)
    return retire_if_drained(st, fl, now)


@njit_inline
def grace_end_ns(st, now):
    """After a removal that left the server draining: when its termination grace ends
    (the engines schedule a grace end then, for removal number st[REMOVALS]), or -1 for
    none (it drains to completion)."""
    if st[GRACE_NS] < 0 or st[COST_SINCE] < 0:
        return -1
    return now + st[GRACE_NS]


@njit_inline
def grace_ended(st, fl, removal, now):
    """The grace of removal number ``removal`` ends: True when the server, still removed
    since then and running, drops what it holds now (the requests among it are counted
    dropped, not completed) and its instance time ends. The engines then discard their
    queued items and void the in-service ones (started before drop number st[DROPS])."""
    if removal != st[REMOVALS] or st[REMOVED] == 0 or st[COST_SINCE] < 0:
        return False
    queued_requests = st[QUEUED] - st[PROBES_QUEUED]
    n = queued_requests + st[BUSY] - st[PROBES_BUSY]
    st[DROPPED] += n
    fleet.dropped(fl, n)
    if queued_requests > 0:
        fleet.waiting_changed(fl, -queued_requests, now)
    _busy_by(st, -st[BUSY], now)
    _queued_by(st, -st[QUEUED], now)
    st[PROBES_BUSY] = 0
    st[PROBES_QUEUED] = 0
    st[DROPS] += 1
    return retire_if_drained(st, fl, now)


@njit_inline
def retire_if_drained(st, fl, now):
    """True when a removed server holds nothing: its instance time ends now."""
    if st[REMOVED] == 1 and st[COST_SINCE] >= 0 and st[BUSY] == 0 and st[QUEUED] == 0:
        st[COST_NS] += now - st[COST_SINCE]
        if st[READY] == 0:
            st[BOOT_NS] += now - st[COST_SINCE]
            fleet.booting_changed(fl, -1)
        st[COST_SINCE] = -1
        return True
    return False


@njit_inline
def outstanding(st):
    """In service plus queued: what LeastConnections and PowerOfTwoChoices compare."""
    return st[BUSY] + st[QUEUED]


@njit_inline
def instance_ns(st, now):
    """Instance time so far, counting an open interval up to now."""
    ns = st[COST_NS]
    if st[COST_SINCE] >= 0:
        ns += now - st[COST_SINCE]
    return ns


@njit_inline
def booting_ns(st, now):
    """Instance time spent before ready so far, counting an open interval up to now."""
    ns = st[BOOT_NS]
    if st[COST_SINCE] >= 0 and st[READY] == 0:
        ns += now - st[COST_SINCE]
    return ns
