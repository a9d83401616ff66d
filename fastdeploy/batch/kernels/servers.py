"""Servers in the kernels: creation from a template, the queue's pool of nodes, the
slots, and the shared server state machine (rules/server.py) applied to them.

A request's completion is not a heap event. What is in service at a server sits in its
slots (Workspace.slots[s]: rows 0 to BUSY - 1, unordered, each with the (time, seq) its
completion event would have: seq is taken when service starts, as the object engine's
event takes it). What finished is completed when something is about to look at the
server: a strategy comparing loads, a control event or a sample, and an arrival that
finds every slot taken (``catch_up``: everything that finished before the instant, in
one pass over the rows). Such a completion changes only its server, counters that add up
in any order, and the instances count, which only control events read; so until then a
server's BUSY count may include requests that finished. A bound on its earliest
completion (SV_FLOOR, made exact by each pass) lets most of those looks end at once.
Two kinds of completion stay events, because something happens at them in the replica's
order: a probe's (its deployer acts on it), and, while the server's queue is not empty,
the earliest one in its slots (the queue's head starts then, in the row it leaves, and
takes the seq of that instant; ``arm``). Ties at equal times therefore follow (time,
seq) exactly, as in the object engine. See docs/batch-engine.md.
"""

import numpy as np

from .shared import distributions, rng
from .shared import server as srv
from .. import heap
from ..compile import kernel, kernel_inline, out_of_line
from ..schema import (AHEAD, COMPLETE, G_EVENTS, G_FREE, G_INSTANCES, G_NSERVERS, G_OVERFLOW,
                      GRACE_END, LB_PICK_STALE, NO_PAYLOAD, ND_CREATED, ND_ITEM, ND_NEXT,
                      ND_SERVICE, ND_STATE, OVERFLOW_POOL, OVERFLOW_SERVERS, RB_KRO, RB_KSTART,
                      RB_NRO, SERVER_READY, SF_A, SF_B, SF_FAIL, SL_CREATED, SL_DONE,
                      SL_EVENTED_BIT, SL_FAILED_BIT, SL_FIELDS, SL_ITEM, SL_SEQ, SL_SERVICE, SL_STATE,
                      SV_ARMED, SV_FLOOR, SV_KIND, SV_LB, SV_MEASURE, SV_QHEAD, SV_QTAIL,
                      TP_CONCURRENCY, TP_DIST_A, TP_DIST_B, TP_FAILURE_RATE, TP_GRACE,
                      TP_QUEUE_CAPACITY, TP_STARTUP_A, TP_STARTUP_B, TPL_KIND, TPL_POFF,
                      TPL_STARTUP_KIND)
from .shared import timeconv
from .shared import measure, requests

REJECTED = np.int64(-2)  # what accept returns for a request or probe the queue refused
NOT_FOUND = np.int64(-1)
ZERO = np.int64(0)
NEVER = np.int64(2**63 - 1)
# What handle_complete returns for an item dropped at the end of its server's grace: no
# probe number (item -1 - probe code) comes near it.
VOID = np.int64(-(2**62))
WORK_DRAW, FAIL_DRAW = np.int64(rng.WORK_DRAW), np.int64(rng.FAIL_DRAW)


@kernel_inline
def free_node(w, node):
    """Node goes back to the pool (its other columns are left as they are)."""
    G = w.counters
    w.nodes[node, ND_NEXT] = G[G_FREE]
    G[G_FREE] = node


@kernel_inline
def place_server(w, concurrency, capacity, grace_ns, kind, dist_a, dist_b, failure_rate):
    """A new server in the next free row of the banks, idle and in no load balancer or
    measured group; its index, or -1 (and the overflow code) when the bank is full."""
    G = w.counters
    SV = w.servers
    s = G[G_NSERVERS]
    if s >= SV.shape[0]:
        G[G_OVERFLOW] = OVERFLOW_SERVERS
        return -1
    G[G_NSERVERS] = s + 1
    srv.reset(SV[s], concurrency, capacity, grace_ns)
    SV[s, SV_KIND] = kind
    SV[s, SV_QHEAD] = -1
    SV[s, SV_QTAIL] = -1
    SV[s, SV_LB] = -1
    SV[s, SV_MEASURE] = -1
    SV[s, SV_ARMED] = -1
    SV[s, SV_FLOOR] = NEVER
    SF = w.server_dist
    SF[s, SF_A] = dist_a
    SF[s, SF_B] = dist_b
    SF[s, SF_FAIL] = failure_rate
    return s


@kernel
def new_server(w, sn, P, tpl):
    """A new server from template tpl; its index, or -1 when the bank is full."""
    off = sn.templates[tpl, TPL_POFF]
    grace = P[off + TP_GRACE]
    return place_server(w, int(P[off + TP_CONCURRENCY]), int(P[off + TP_QUEUE_CAPACITY]),
                        timeconv.seconds_to_ns(grace) if grace >= 0.0 else NOT_FOUND,
                        sn.templates[tpl, TPL_KIND], P[off + TP_DIST_A], P[off + TP_DIST_B],
                        P[off + TP_FAILURE_RATE])


@kernel
def boot(w, sn, P, s, tpl, k, now):
    """Server s, the k-th that the owner of template tpl creates during the run, starts
    up: its delay is draw k of that owner's start-up stream (before it joins its load
    balancer)."""
    off = sn.templates[tpl, TPL_POFF]
    u = rng.uniform(w.keys[w.bases[RB_KSTART] + tpl], k)
    delay = srv.startup_ns(sn.templates[tpl, TPL_STARTUP_KIND], P[off + TP_STARTUP_A],
                           P[off + TP_STARTUP_B], u)
    if delay > 0:
        srv.boots(w.servers[s])
        heap.push_call(w.heap, w.counters, now + delay, SERVER_READY, s, NO_PAYLOAD)


@kernel_inline
def retire_if_drained(w, s, now):
    if srv.retire_if_drained(w.servers[s], w.fleet, now):
        w.counters[G_INSTANCES] -= 1


@kernel
def schedule_grace_end(w, s, now):
    """Server s was removed and drains: its termination grace's end, if it has one."""
    end = srv.grace_end_ns(w.servers[s], now)
    if end >= 0:
        heap.push_call(w.heap, w.counters, end, GRACE_END, s, w.servers[s, srv.REMOVALS])


@kernel
def handle_ready(w, s, now):
    """Server s finished starting up: routing includes it, its queue starts."""
    SV = w.servers
    srv.became_ready(SV[s], w.fleet, now)
    if SV[s, SV_LB] >= 0:
        w.lbs[SV[s, SV_LB], LB_PICK_STALE] = 1
    start_queued_call(w, s, now)


@kernel
def handle_grace_end(w, s, removal, now):
    """The termination grace of removal number ``removal`` of server s ends."""
    SV = w.servers
    if not srv.grace_ended(SV[s], w.fleet, removal, now):
        return
    # Its slots are empty now (BUSY is 0): a completion event of what was in service finds
    # its item gone (handle_complete). The queued nodes go back to the pool.
    ND = w.nodes
    node = SV[s, SV_QHEAD]
    while node >= 0:
        nxt = ND[node, ND_NEXT]
        free_node(w, node)
        node = nxt
    SV[s, SV_QHEAD] = -1
    SV[s, SV_QTAIL] = -1
    SV[s, SV_ARMED] = -1
    w.counters[G_INSTANCES] -= 1


@kernel_inline
def item_uniform(w, item, draw):
    """Uniform number ``draw`` (WORK_DRAW or FAIL_DRAW) of a request (item >= 0) or a probe
    (item < 0): draws 2i and 2i + 1 of the requests' or the deployer's stream."""
    K = w.keys
    if item >= 0:
        return rng.item_uniform(K[0], item, draw)
    code = -item - 1
    nro = w.bases[RB_NRO]
    return rng.item_uniform(K[w.bases[RB_KRO] + code % nro], code // nro, draw)


@kernel_inline
def evented(row):
    """Whether the completion of the slot ``row`` is a heap event."""
    return (row[SL_STATE] & SL_EVENTED_BIT) != 0


@kernel_inline
def finished_before(row, t, seq):
    """The slot ``row``'s completion (time, seq) precedes the instant (t, seq)."""
    return row[SL_DONE] < t or (row[SL_DONE] == t and row[SL_SEQ] < seq)


@kernel_inline
def earliest(SL, busy):
    """The row of the first completion, in (time, seq) order, among the busy rows of a
    server's slots SL (busy > 0); without branches on the times."""
    m = 0
    md = SL[0, SL_DONE]
    ms = SL[0, SL_SEQ]
    for i in range(1, busy):
        d = SL[i, SL_DONE]
        q = SL[i, SL_SEQ]
        first = (d < md) | ((d == md) & (q < ms))
        m = i if first else m
        md = d if first else md
        ms = q if first else ms
    return m


@kernel_inline
def start_service(w, s, i, item, created, service, failed, now):
    """A request or probe starts service at server s in row i of its slots (counted in
    BUSY already; its work and outcome drawn when it arrived): the key its completion is
    ordered by. A probe's completion is an event; a request's waits in the slots."""
    SL = w.slots[s]
    if i >= SL.shape[0]:
        # a concurrency above the pool's size: the run grows both
        w.counters[G_OVERFLOW] = OVERFLOW_POOL
        return
    seq = heap.take_seq(w.counters)
    row = SL[i]
    SV = w.servers
    SV[s, SV_FLOOR] = min(SV[s, SV_FLOOR], now + service)
    row[SL_DONE] = now + service
    row[SL_SEQ] = seq
    row[SL_ITEM] = item
    row[SL_CREATED] = created
    row[SL_SERVICE] = service
    row[SL_STATE] = failed
    if item < 0:
        row[SL_STATE] = failed | SL_EVENTED_BIT
        heap.push_keyed_call(w.heap, w.counters, now + service, seq, COMPLETE, s, item)


@kernel
def fill_work(w, sn, k0):
    """The work uniforms of requests k0 to k0 + AHEAD - 1 into w.work_ahead, and their
    exponential_core when some template's service time is exponential: computed
    together, the logarithms do not wait for one another (one at a time, each delayed
    its request's start)."""
    WA = w.work_ahead
    key = w.keys[0]
    for j in range(AHEAD):
        WA[0, j] = rng.item_uniform(key, k0 + j, WORK_DRAW)
    exponential = False
    for tpl in range(sn.templates.shape[0]):
        exponential |= sn.templates[tpl, TPL_KIND] == distributions.EXPONENTIAL
    if exponential:
        for j in range(AHEAD):
            WA[1, j] = distributions.exponential_core(WA[0, j])


@kernel_inline
def draw_work(w, s, item):
    """The (service ns, failed 0 or 1) of a request or probe arriving at server s, from
    its item's uniforms: a request's from w.work_ahead (fill_work), a probe's drawn
    here."""
    SF = w.server_dist
    if item >= 0:
        u = w.work_ahead[0, item & (AHEAD - 1)]
        core = w.work_ahead[1, item & (AHEAD - 1)]
    else:
        u = item_uniform(w, item, WORK_DRAW)
        core = distributions.exponential_core(u)
    service = srv.service_ns_at(w.servers[s, SV_KIND], SF[s, SF_A], SF[s, SF_B], u, core)
    # With a zero failure rate the draw is skipped: it cannot change the outcome.
    fail = SF[s, SF_FAIL]
    failed = fail > 0.0 and srv.fails(fail, item_uniform(w, item, FAIL_DRAW))
    return service, SL_FAILED_BIT if failed else ZERO


@kernel_inline
def arm(w, s):
    """While server s's queue is not empty, its first completion is an event: the head
    of the queue starts at it, with the seq of that instant in the replica's order."""
    SV = w.servers
    busy = SV[s, srv.BUSY]
    if SV[s, SV_QHEAD] >= 0 and busy > 0:
        SL = w.slots[s]
        i = earliest(SL, busy)
        row = SL[i]
        if not evented(row):
            row[SL_STATE] |= SL_EVENTED_BIT
            SV[s, SV_ARMED] = i
            heap.push_keyed_call(w.heap, w.counters, row[SL_DONE], row[SL_SEQ], COMPLETE, s,
                                 row[SL_ITEM])


@kernel_inline
def alloc_node(w, item, now):
    G = w.counters
    ND = w.nodes
    node = G[G_FREE]
    if node < 0:
        G[G_OVERFLOW] = OVERFLOW_POOL
        return -1
    G[G_FREE] = ND[node, ND_NEXT]
    ND[node, ND_ITEM] = item
    ND[node, ND_CREATED] = now
    ND[node, ND_NEXT] = -1
    return node


@kernel
def measure_rejected(SV, measures, s):
    """Server s refused a request: its deployer's measured group counts it. (Out of
    line, and given only the arrays it reads: the rare path of the hot accept.)"""
    m = SV[s, SV_MEASURE]
    if m >= 0:
        measure.rejected(measures[m])


@kernel_inline
def measure_completed(w, m, created, failed, now):
    """A request created at ``created`` just completed at a server of measured group m
    (rules/measure.py completed, in two parts: the counters here, the histogram out of
    line). The event loop calls this after handle_complete, so that it is not compiled
    into the hot handler: inside it, the check alone cost 15% of the throughput of a
    scenario without deployers."""
    latency = now - created
    rec = w.measures[m]
    measure.counted(rec, latency, failed)
    if rec[measure.HISTOGRAM] != 0:
        measure.binned(rec, w.measure_hist[m], latency)


@kernel_inline
def accept(w, s, item, now):
    """A request (item >= 0) or probe (item < 0) arrives at server s; returns REJECTED
    if the queue is full."""
    SV = w.servers
    action = srv.arrive(SV[s], w.fleet, item >= 0, now)
    if action == srv.REJECT:
        if item >= 0:
            requests.rejected(w.counters)
            measure_rejected(SV, w.measures, s)
        return REJECTED
    service, failed = draw_work(w, s, item)
    if action == srv.START:
        start_service(w, s, SV[s, srv.BUSY] - 1, item, now, service, failed, now)
        return 0
    node = alloc_node(w, item, now)
    if node < 0:
        return 0
    ND = w.nodes
    ND[node, ND_SERVICE] = service
    ND[node, ND_STATE] = failed
    if SV[s, SV_QTAIL] >= 0:
        ND[SV[s, SV_QTAIL], ND_NEXT] = node
        SV[s, SV_QTAIL] = node
    else:
        # The queue was empty: its head starts at the first completion, now an event.
        SV[s, SV_QHEAD] = node
        SV[s, SV_QTAIL] = node
        arm(w, s)
    return 0


accept_call = out_of_line(accept)


@kernel_inline
def start_queued(w, s, row, now):
    """Free slots are used at once: the head of the queue starts now, in the slots' row
    ``row`` if it is >= 0 (the row a completion just left: with no head to start, the
    last busy row moves into it), the next ones in the rows after the busy ones."""
    SV = w.servers
    ND = w.nodes
    while SV[s, SV_QHEAD] >= 0 and srv.start_next(SV[s], w.fleet,
                                                   ND[SV[s, SV_QHEAD], ND_ITEM] >= 0, now):
        head = SV[s, SV_QHEAD]
        SV[s, SV_QHEAD] = ND[head, ND_NEXT]
        if SV[s, SV_QHEAD] < 0:
            SV[s, SV_QTAIL] = -1
        start_service(w, s, row if row >= 0 else SV[s, srv.BUSY] - 1, ND[head, ND_ITEM],
                      ND[head, ND_CREATED], ND[head, ND_SERVICE], ND[head, ND_STATE], now)
        free_node(w, head)
        row = NOT_FOUND
    if row >= 0:
        compact(w.slots[s], row, SV[s, srv.BUSY])
    arm(w, s)


@kernel_inline
def complete(w, s, i, now):
    """Row i of server s's slots finishes at now: the server's and the replica's counts;
    returns its (item, failed, creation time). Row i is left to the caller (compact, or a
    start in it)."""
    SV = w.servers
    SL = w.slots[s]
    row = SL[i]
    item = row[SL_ITEM]
    failed = row[SL_STATE] & SL_FAILED_BIT
    created = row[SL_CREATED]
    lat = now - created
    srv.finished(SV[s], item >= 0, row[SL_SERVICE], lat, failed, now)
    if item >= 0:
        requests.completed(w.counters, w.hist, lat, failed)
    return item, failed, created


@kernel_inline
def compact(SL, i, busy):
    """Row i of the slots SL is empty: the last busy row (row ``busy``, BUSY already
    counting one less) moves into it."""
    if i != busy:
        for f in range(SL_FIELDS):
            SL[i, f] = SL[busy, f]


@kernel_inline
def make_room(w, s, t, seq, part):
    """A request arrives at server s at the instant (t, seq): when every slot is taken
    and some may have finished, what finished before is completed (catch_up); otherwise
    what finished waits for a reader (what it changes adds up in any order)."""
    SV = w.servers
    busy = SV[s, srv.BUSY]
    # (With a queue, the first completion is an event after this instant: none finished.)
    if busy == SV[s, srv.CONCURRENCY] and SV[s, SV_QHEAD] < 0 and SV[s, SV_FLOOR] <= t:
        catch_up(w, s, t, seq, part)


@kernel_inline
def catch_up(w, s, t, seq, part):
    """Complete what server s finishes before the instant (t, seq): the requests whose
    completions are not events (``part``: bundles.Parts.measured). Its queue is empty
    meanwhile (else its first completion is an event and the others finish after it), so
    nothing starts."""
    SV = w.servers
    if SV[s, SV_FLOOR] > t:
        return
    SL = w.slots[s]
    last = NOT_FOUND
    floor = NEVER
    i = 0
    while i < SV[s, srv.BUSY]:
        row = SL[i]
        if evented(row) or not finished_before(row, t, seq):
            floor = min(floor, row[SL_DONE])
            i += 1
            continue
        done = row[SL_DONE]
        item, failed, created = complete(w, s, i, done)
        compact(SL, i, SV[s, srv.BUSY])
        w.counters[G_EVENTS] += 1
        measured_completion(w, s, created, failed, done, part)
        last = max(last, done)
    SV[s, SV_FLOOR] = floor
    if last >= 0:
        # Drained, if at all, when the last of them finished.
        retire_if_drained(w, s, last)


# For the strategies that compare servers' loads: a call, so that the completion
# accounting is not inlined once more into the router.
catch_up_call = out_of_line(catch_up)


@kernel
def catch_up_all(w, t, seq, part):
    """Every server caught up to the instant (t, seq): before a control event or a
    sample reads the replica."""
    for s in range(w.counters[G_NSERVERS]):
        catch_up_call(w, s, t, seq, part)


@kernel_inline
def measured_completion(w, s, created, failed, t, part):
    """A request created at ``created`` completed at server s at t: counted in its
    deployer's measured group when s is measured (only scenarios with a deployer
    measure: otherwise this is empty)."""
    if part is not None:
        m = w.servers[s, SV_MEASURE]
        if m >= 0:
            measure_completed(w, m, created, failed, t)


@kernel_inline
def handle_complete(w, s, item, now, seq, part):
    """A completion event: a probe's, or the first in the slots of a server with a
    queue. Returns its (item, failed, creation time), or item VOID when it was dropped at
    the end of its server's termination grace (its slot emptied then)."""
    SV = w.servers
    SL = w.slots[s]
    if item >= 0:
        # The request armed to start the queue (arm): its row stays put meanwhile.
        i = SV[s, SV_ARMED]
        if i < 0 or SL[i, SL_ITEM] != item:
            return VOID, ZERO, ZERO
        SV[s, SV_ARMED] = NOT_FOUND
    else:
        # While the queue is not empty its first completion is an event, at or after
        # this one, and the others finish after it: nothing else finished before (now,
        # seq). (A call: the completions' code is compiled once more only where it is
        # hot, in the arrival's handler.)
        if SV[s, SV_QHEAD] < 0:
            catch_up_call(w, s, now, seq, part)
        busy = SV[s, srv.BUSY]
        i = 0
        while i < busy and SL[i, SL_ITEM] != item:
            i += 1
        if i == busy:
            return VOID, ZERO, ZERO
    item, failed, created = complete(w, s, i, now)
    start_queued(w, s, i, now)
    retire_if_drained(w, s, now)
    # A finished probe is the rolling deployer's business, a request's at a measured
    # server its deployer's: the event loop hands them on.
    return item, failed, created


# For handle_ready: a call, so that the queue's start (and the service-time distributions
# it samples) is compiled into it once, not inlined a third time.
@kernel
def start_queued_call(w, s, now):
    """start_queued for handle_ready, out of line."""
    start_queued(w, s, NOT_FOUND, now)
