"""Sources in the kernels: arrivals (rules/arrivals.py) routed to their target.

An arrival is not a heap event: each source keeps its next one, with the seq it took
when it was scheduled (as the object engine's event takes one), and the event loop
handles whichever comes first in (time, seq) order, a source's arrival or the heap's
top.
"""

from .shared import arrivals, balancer, profiles, requests, rng
from .. import heap
from ..compile import kernel, kernel_inline
from ..schema import (AHEAD, RB_KSRC, SD_DRAWS, SD_HINT, SD_NEXT_NS, SD_NEXT_SEQ, SD_STOP_NS,
                      SEG_RATE, SEG_SLOPE, SEG_T0, SRC_POFF, SRC_POINTS, SRC_POISSON,
                      SRC_PROFILE, SRC_TARGET, SRC_TARGET_KIND, TO_LB)
from .balancer import lb_choose
from .servers import accept, fill_work, make_room


@kernel
def load_segments(w, sn, P, src):
    """Source src's profile segments for this replica's parameters."""
    SEG = w.segments
    row = sn.sources[src]
    off = row[SRC_POFF]
    w.n_segments[src] = profiles.segments(row[SRC_PROFILE], P[off:], row[SRC_POINTS],
                                          SEG[src, SEG_T0], SEG[src, SEG_RATE],
                                          SEG[src, SEG_SLOPE])


@kernel
def fill_areas(w, src, d0):
    """Poisson source src's areas for its draws d0 to d0 + AHEAD - 1 into
    w.areas_ahead[src]: computed together, their logarithms vectorize
    (rules/logarithm.py), and the chain of arrivals no longer waits for one."""
    key = w.keys[w.bases[RB_KSRC] + src]
    row = w.areas_ahead[src]
    for j in range(AHEAD):
        row[j] = arrivals.poisson_area(rng.uniform(key, d0 + j))


@kernel_inline
def schedule_arrival(w, sn, src, prev):
    """The next arrival of src after prev (none past its stop time or its profile's end).

    One at a time, from an area drawn ahead (fill_areas): the chain of arrivals
    (rules/arrivals.py) overlaps the rest of the request path here. Computed ahead by
    arrivals_ahead, it cost its whole time on top (measured in benchmarks/RESULTS.md,
    issue 12), a loss while the rest is slower."""
    SD = w.source_state
    if sn.sources[src, SRC_POISSON] == 1:
        d = SD[src, SD_DRAWS]
        if d & (AHEAD - 1) == 0:
            fill_areas(w, src, d)
        area = w.areas_ahead[src, d & (AHEAD - 1)]
        SD[src, SD_DRAWS] = d + 1
    else:
        area = 1.0
    SEG = w.segments
    t, hint = arrivals.next_arrival_ns(SEG[src, SEG_T0], SEG[src, SEG_RATE],
                                       SEG[src, SEG_SLOPE], w.n_segments[src],
                                       SD[src, SD_HINT], prev, area)
    SD[src, SD_HINT] = hint
    if t < 0 or (SD[src, SD_STOP_NS] >= 0 and t > SD[src, SD_STOP_NS]):
        SD[src, SD_NEXT_NS] = -1
        return
    SD[src, SD_NEXT_NS] = t
    SD[src, SD_NEXT_SEQ] = heap.take_seq(w.counters)


@kernel_inline
def first_source(SD):
    """The source whose next arrival comes first in (time, seq) order, or -1 when none
    has one."""
    best = -1
    for src in range(SD.shape[0]):
        t = SD[src, SD_NEXT_NS]
        if t >= 0 and (best < 0 or t < SD[best, SD_NEXT_NS]
                       or (t == SD[best, SD_NEXT_NS]
                           and SD[src, SD_NEXT_SEQ] < SD[best, SD_NEXT_SEQ])):
            best = src
    return best


@kernel_inline
def handle_arrival(w, sn, src, now, seq, part):
    """A request is created, routed and accepted (or rejected) at once, at the instant
    (now, seq) of its arrival event (``part``: bundles.Parts.measured)."""
    G = w.counters
    k = requests.created(G)
    if k & (AHEAD - 1) == 0:
        fill_work(w, sn, k)
    target = sn.sources[src, SRC_TARGET]
    s = target
    if sn.sources[src, SRC_TARGET_KIND] == TO_LB:
        s = lb_choose(w, target, now, seq, part)
        balancer.routed(w.lbs[target], s >= 0)
        if s < 0:
            requests.rejected(G)
    # One call site: accept (and what it inlines) is compiled once here.
    if s >= 0:
        make_room(w, s, now, seq, part)
        accept(w, s, k, now)
    schedule_arrival(w, sn, src, now)
