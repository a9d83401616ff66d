"""What both deployers' state machines share (canary.py, rolling.py): the status codes
and the lifecycle at the head of their records, a deployment starting, being refused
while one runs, and ending.

Both records begin with the same fields: status, end time, then the seven stats of the
deployer's documented dataclass, the first three of which are the same for both; each
deployer's own fields follow from OWN_FIRST.
"""

from .jit import njit

STATUS_NAMES = ("idle", "in_progress", "completed", "rolled_back")
IDLE, IN_PROGRESS, COMPLETED, ROLLED_BACK = range(4)

STATUS, END_NS, DEPLOYMENTS_STARTED, DEPLOYMENTS_COMPLETED, DEPLOYMENTS_ROLLED_BACK = range(5)
STATS_FIRST = DEPLOYMENTS_STARTED
N_STATS = 7
OWN_FIRST = STATS_FIRST + N_STATS


@njit
def reset(st):
    """A deployer before its first deployment."""
    st[:] = 0
    st[END_NS] = -1


@njit
def accepts_deploy(st):
    """A deploy request while a deployment is in progress is ignored."""
    return st[STATUS] != IN_PROGRESS


@njit
def started(st):
    """A deployment starts (after accepts_deploy said yes)."""
    st[DEPLOYMENTS_STARTED] += 1
    st[END_NS] = -1
    st[STATUS] = IN_PROGRESS


@njit
def finished(st, status, now):
    """The deployment ended (COMPLETED or ROLLED_BACK) at now."""
    st[STATUS] = status
    if status == COMPLETED:
        st[DEPLOYMENTS_COMPLETED] += 1
    else:
        st[DEPLOYMENTS_ROLLED_BACK] += 1
    st[END_NS] = now
