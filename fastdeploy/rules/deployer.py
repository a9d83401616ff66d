"""What both deployers' state machines share (canary.py, rolling.py): the status codes
and the lifecycle at the head of their records, a deployment starting, being refused
while one runs, and ending.

Both records begin with the same fields: status, end time, then the seven stats of the
deployer's documented dataclass, the first three of which are the same for both, then
what the outcome columns report (the last deployment's start, the largest share of
traffic the new version reached) and the count of new instances made; each deployer's
own fields follow from OWN_FIRST.
"""

from .jit import njit

STATUS_NAMES = ("idle", "in_progress", "completed", "rolled_back")
IDLE, IN_PROGRESS, COMPLETED, ROLLED_BACK = range(4)

STATUS, END_NS, DEPLOYMENTS_STARTED, DEPLOYMENTS_COMPLETED, DEPLOYMENTS_ROLLED_BACK = range(5)
STATS_FIRST = DEPLOYMENTS_STARTED
N_STATS = 7
# Outcome fields: when the last deployment started (ns, -1: none yet), and the largest
# traffic weight of the new version over the run, in parts per million. Then the number
# of new-version instances made so far (the engines name the k-th by it).
START_NS = STATS_FIRST + N_STATS
MAX_WEIGHT_PPM = START_NS + 1
MADE = MAX_WEIGHT_PPM + 1
OWN_FIRST = MADE + 1
PPM = 1_000_000

# The outcome column: a deployer's final state as canary analyses name it.
OUTCOME_NAMES = ("none", "in_progress", "promoted", "rolled_back")


@njit
def reset(st):
    """A deployer before its first deployment."""
    st[:] = 0
    st[END_NS] = -1
    st[START_NS] = -1


@njit
def accepts_deploy(st):
    """A deploy request while a deployment is in progress is ignored."""
    return st[STATUS] != IN_PROGRESS


@njit
def started(st, now):
    """A deployment starts at now (after accepts_deploy said yes)."""
    st[DEPLOYMENTS_STARTED] += 1
    st[END_NS] = -1
    st[START_NS] = now
    st[STATUS] = IN_PROGRESS


@njit
def next_instance(st):
    """The number of the next new-version instance (1 for the first)."""
    st[MADE] += 1
    return st[MADE]


@njit
def weight_reached(st, fraction):
    """The new version takes ``fraction`` (0..1) of the traffic now."""
    ppm = int(fraction * PPM + 0.5)
    if ppm > st[MAX_WEIGHT_PPM]:
        st[MAX_WEIGHT_PPM] = ppm


@njit
def finished(st, status, now):
    """The deployment ended (COMPLETED or ROLLED_BACK) at now."""
    st[STATUS] = status
    if status == COMPLETED:
        st[DEPLOYMENTS_COMPLETED] += 1
    else:
        st[DEPLOYMENTS_ROLLED_BACK] += 1
    st[END_NS] = now
