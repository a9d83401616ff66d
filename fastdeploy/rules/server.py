"""A server's state machine (SPEC section 5), shared by both engines: admission to its
slots or its FIFO queue, the work and outcome of a request, completion accounting, and
instance time (from joining a load balancer until drained after removal).

State: one int64 record per server (the fields below). The object engine's Server holds
it as a numpy array beside its queue of Python items; the kernels hold it as the first
FIELDS columns of their server bank, beside their queue of pool nodes. The queue itself
is each engine's storage; its length and every counter are here.
"""

from .distributions import sample_seconds
from .jit import njit_inline
from .timeconv import seconds_to_ns

(CONCURRENCY, CAPACITY, BUSY, QUEUED, COMPLETED, REJECTED, FAILURES, SERVICE_NS,
 LATENCY_NS, REMOVED, COST_SINCE, COST_NS) = range(12)
FIELDS = 12

# What happens to an arriving request or probe.
START, QUEUE, REJECT = 0, 1, 2


@njit_inline
def reset(st, concurrency, capacity):
    """A new server: ``capacity`` -1 means an unbounded queue."""
    st[:FIELDS] = 0
    st[CONCURRENCY] = concurrency
    st[CAPACITY] = capacity
    st[COST_SINCE] = -1


@njit_inline
def arrive(st, is_request):
    """A request (or a probe) arrives: START it in a free slot, QUEUE it, or REJECT it
    when the queue is full (counted for requests only: a probe is not a request)."""
    if st[BUSY] < st[CONCURRENCY]:
        st[BUSY] += 1
        return START
    if st[CAPACITY] >= 0 and st[QUEUED] >= st[CAPACITY]:
        if is_request:
            st[REJECTED] += 1
        return REJECT
    st[QUEUED] += 1
    return QUEUE


@njit_inline
def service_ns(kind, a, b, u_work):
    """The work of a request whose work uniform is u_work, in ns (never negative)."""
    ns = seconds_to_ns(sample_seconds(kind, a, b, u_work))
    return ns if ns > 0 else 0


@njit_inline
def fails(failure_rate, u_fail):
    """Does a served request with failure uniform u_fail fail? (Never with rate 0, so a
    caller may skip the draw then.)"""
    return u_fail < failure_rate


@njit_inline
def finished(st, is_request, service, latency, failed):
    """A request or probe leaves its slot; a request's service time, latency at the
    server (wait + service) and failure are counted."""
    st[BUSY] -= 1
    if is_request:
        st[COMPLETED] += 1
        st[SERVICE_NS] += service
        st[LATENCY_NS] += latency
        st[FAILURES] += failed


@njit_inline
def start_next(st):
    """After a completion: does the head of the queue start now? (Free slots are used at
    once, so this is called until it says no.)"""
    if st[QUEUED] > 0 and st[BUSY] < st[CONCURRENCY]:
        st[QUEUED] -= 1
        st[BUSY] += 1
        return True
    return False


@njit_inline
def added(st, now):
    """The server joins a load balancer; True when its instance time starts (it was not
    already running)."""
    st[REMOVED] = 0
    if st[COST_SINCE] < 0:
        st[COST_SINCE] = now
        return True
    return False


@njit_inline
def removed(st, now):
    """The server leaves its load balancer; True when its instance time ends now (it
    holds nothing), else it drains first."""
    st[REMOVED] = 1
    return retire_if_drained(st, now)


@njit_inline
def retire_if_drained(st, now):
    """True when a removed server holds nothing: its instance time ends now."""
    if st[REMOVED] == 1 and st[COST_SINCE] >= 0 and st[BUSY] == 0 and st[QUEUED] == 0:
        st[COST_NS] += now - st[COST_SINCE]
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
