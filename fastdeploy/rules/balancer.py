"""A load balancer's state machine (SPEC section 6), shared by both engines: its counters,
the canary traffic split and its routing stream's draws. Which backend a strategy picks
is in rules/routing.py.

State: one int64 record per load balancer (the fields below): the object engine's
LoadBalancer holds it as a numpy array, the kernels as the first FIELDS columns of their
load-balancer bank.
"""

from .canary import split_to_canary
from .jit import njit_inline

(REQUESTS_RECEIVED, REQUESTS_FORWARDED, NO_BACKEND_AVAILABLE, BACKENDS_ADDED,
 BACKENDS_REMOVED, SPLIT_COUNT, SPLIT_TURN, DRAWS) = range(8)
FIELDS = 8
# The LoadBalancerStats fields, in record order from STATS_FIRST.
STATS_FIRST = REQUESTS_RECEIVED
STATS = ("requests_received", "requests_forwarded", "no_backend_available",
         "backends_added", "backends_removed")


@njit_inline
def split_member(st, fraction, n_group):
    """A request arrives while a split sends ``fraction`` of requests to a group whose
    ready members are n_group: the index among them of the backend it goes to, in
    turns, or -1 when it goes to the others (also when no member is ready yet). Counts
    the request in the split."""
    i = st[SPLIT_COUNT]
    st[SPLIT_COUNT] = i + 1
    if split_to_canary(i, fraction) and n_group > 0:
        turn = st[SPLIT_TURN]
        st[SPLIT_TURN] = turn + 1
        return turn % n_group
    return -1


@njit_inline
def split_restarted(st):
    """A split was set or cleared: its count and turns start again."""
    st[SPLIT_COUNT] = 0
    st[SPLIT_TURN] = 0


@njit_inline
def routed(st, found):
    """A request was received and forwarded (found) or had no backend."""
    st[REQUESTS_RECEIVED] += 1
    if found:
        st[REQUESTS_FORWARDED] += 1
    else:
        st[NO_BACKEND_AVAILABLE] += 1


@njit_inline
def next_draw(st):
    """The number of the next uniform of the routing stream."""
    n = st[DRAWS]
    st[DRAWS] = n + 1
    return n


@njit_inline
def backend_added(st):
    st[BACKENDS_ADDED] += 1


@njit_inline
def backend_removed(st):
    st[BACKENDS_REMOVED] += 1
