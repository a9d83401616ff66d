"""Servers in the kernels: creation from a template, the request pool, and the shared
server state machine (rules/server.py) applied to pool nodes.

A request's completion is not a heap event. The nodes in service at a server sit in its
slot heap (Workspace.slots[s], ordered by the (time, seq) their completion event would
have: seq is taken when service starts, as the object engine's event takes it), and
``catch_up`` completes those before an instant when something is about to look at the
server: a request routed to it, a strategy comparing loads, a control event or a sample
(they catch up every server). Such a completion changes only its server, counters that
add up in any order, and the instances count, which only control events read. Two kinds
of completion stay events, because something happens at them in the replica's order:
a probe's (its deployer acts on it), and, while the server's queue is not empty, the
earliest one in its slots (the queue's head starts then and takes the seq of that
instant; ``arm``). Ties at equal times therefore follow (time, seq) exactly, as in the
object engine. See docs/batch-engine.md.
"""

import numpy as np

from .shared import distributions, rng
from .shared import server as srv
from .. import heap
from ..compile import kernel, kernel_inline, out_of_line
from ..schema import (AHEAD, COMPLETE, G_EVENTS, G_FREE, G_INSTANCES, G_NSERVERS, G_OVERFLOW,
                      GRACE_END, LB_PICK_STALE, NO_PAYLOAD, ND_CREATED, ND_DONE, ND_DROPS_SHIFT,
                      ND_EVENTED_BIT, ND_FAILED_BIT, ND_ITEM, ND_NEXT, ND_SEQ, ND_SERVICE, ND_STATE,
                      OVERFLOW_POOL, OVERFLOW_SERVERS, RB_KRO, RB_KSTART, RB_NRO, SERVER_READY,
                      SF_A, SF_B, SF_FAIL, SV_KIND, SV_LB, SV_MEASURE, SV_QHEAD, SV_QTAIL,
                      TP_CONCURRENCY, TP_DIST_A, TP_DIST_B, TP_FAILURE_RATE, TP_GRACE,
                      TP_QUEUE_CAPACITY, TP_STARTUP_A, TP_STARTUP_B, TPL_KIND, TPL_POFF,
                      TPL_STARTUP_KIND)
from .shared import timeconv
from .shared import measure, requests

REJECTED = np.int64(-2)  # what accept returns for a request or probe the queue refused
NOT_FOUND = np.int64(-1)
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
    busy = SV[s, srv.BUSY]
    if not srv.grace_ended(SV[s], w.fleet, removal, now):
        return
    # The queued nodes and those in service go back to the pool, except those whose
    # completion is an event: it sees a new drop count and frees them.
    ND = w.nodes
    for i in range(busy):
        node = w.slots[s, i]
        if not evented(ND, node):
            free_node(w, node)
    node = SV[s, SV_QHEAD]
    while node >= 0:
        nxt = ND[node, ND_NEXT]
        free_node(w, node)
        node = nxt
    SV[s, SV_QHEAD] = -1
    SV[s, SV_QTAIL] = -1
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
def evented(ND, node):
    """Whether node's completion is a heap event."""
    return (ND[node, ND_STATE] & ND_EVENTED_BIT) != 0


@kernel_inline
def set_evented(ND, node):
    ND[node, ND_STATE] |= ND_EVENTED_BIT


@kernel_inline
def node_failed(ND, node):
    """1 when the node's request or probe fails, else 0."""
    return ND[node, ND_STATE] & ND_FAILED_BIT


@kernel_inline
def completes_before(ND, a, b):
    """Node a's completion (time, seq) precedes node b's."""
    return ND[a, ND_DONE] < ND[b, ND_DONE] or (ND[a, ND_DONE] == ND[b, ND_DONE]
                                              and ND[a, ND_SEQ] < ND[b, ND_SEQ])


@kernel_inline
def slot_push(w, s, node):
    """Node joins server s's slot heap (its BUSY count already includes it)."""
    row = w.slots[s]
    ND = w.nodes
    i = w.servers[s, srv.BUSY] - 1
    while i > 0:
        p = (i - 1) >> 1
        if not completes_before(ND, node, row[p]):
            break
        row[i] = row[p]
        i = p
    row[i] = node


@kernel_inline
def slot_pop(w, s):
    """Remove the first completion from server s's slot heap (before its BUSY count
    drops)."""
    row = w.slots[s]
    ND = w.nodes
    n = w.servers[s, srv.BUSY] - 1
    last = row[n]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= n:
            break
        if c + 1 < n and completes_before(ND, row[c + 1], row[c]):
            c += 1
        if not completes_before(ND, row[c], last):
            break
        row[i] = row[c]
        i = c
    row[i] = last


@kernel_inline
def start_service(w, s, node, now):
    """Node starts service at server s (its slot already taken; its work and outcome
    drawn when it arrived): the key its completion is ordered by. A probe's completion
    is an event; a request's waits in the slot heap."""
    ND = w.nodes
    item = ND[node, ND_ITEM]
    service = ND[node, ND_SERVICE]
    ND[node, ND_STATE] = ((w.servers[s, srv.DROPS] << ND_DROPS_SHIFT)
                          | (ND[node, ND_STATE] & ND_FAILED_BIT))
    seq = heap.take_seq(w.counters)
    ND[node, ND_DONE] = now + service
    ND[node, ND_SEQ] = seq
    slot_push(w, s, node)
    if item < 0:
        set_evented(ND, node)
        heap.push_keyed_call(w.heap, w.counters, now + service, seq, COMPLETE, s, node)


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
def draw_work(w, s, node, item):
    """Node's work and outcome at server s, where it arrives, from its item's uniforms:
    a request's from w.work_ahead (fill_work), a probe's drawn here."""
    SF = w.server_dist
    if item >= 0:
        u = w.work_ahead[0, item & (AHEAD - 1)]
        core = w.work_ahead[1, item & (AHEAD - 1)]
    else:
        u = item_uniform(w, item, WORK_DRAW)
        core = distributions.exponential_core(u)
    ND = w.nodes
    ND[node, ND_SERVICE] = srv.service_ns_at(w.servers[s, SV_KIND], SF[s, SF_A], SF[s, SF_B],
                                             u, core)
    # With a zero failure rate the draw is skipped: it cannot change the outcome.
    fail = SF[s, SF_FAIL]
    failed = fail > 0.0 and srv.fails(fail, item_uniform(w, item, FAIL_DRAW))
    ND[node, ND_STATE] = ND_FAILED_BIT if failed else 0


@kernel_inline
def arm(w, s):
    """While server s's queue is not empty, its first completion is an event: the head
    of the queue starts at it, with the seq of that instant in the replica's order."""
    SV = w.servers
    if SV[s, SV_QHEAD] >= 0 and SV[s, srv.BUSY] > 0:
        first = w.slots[s, 0]
        ND = w.nodes
        if not evented(ND, first):
            set_evented(ND, first)
            heap.push_keyed_call(w.heap, w.counters, ND[first, ND_DONE], ND[first, ND_SEQ],
                                 COMPLETE, s, first)


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
def measure_completed(w, m, node, failed, now):
    """Request ``node`` just completed at a server of measured group m (rules/measure.py
    completed, in two parts: the counters here, the histogram out of line). The event
    loop calls this after handle_complete, which freed the node but left its creation
    time, so that it is not compiled into the hot handler: inside it, the check alone
    cost 15% of the throughput of a scenario without deployers."""
    latency = now - w.nodes[node, ND_CREATED]
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
    node = alloc_node(w, item, now)
    if node < 0:
        return 0
    draw_work(w, s, node, item)
    if action == srv.START:
        start_service(w, s, node, now)
        return 0
    ND = w.nodes
    if SV[s, SV_QTAIL] >= 0:
        ND[SV[s, SV_QTAIL], ND_NEXT] = node
    else:
        SV[s, SV_QHEAD] = node
    SV[s, SV_QTAIL] = node
    arm(w, s)
    return 0


accept_call = out_of_line(accept)


@kernel_inline
def start_queued(w, s, now):
    """Free slots are used at once: the head of the queue starts now."""
    SV = w.servers
    ND = w.nodes
    while SV[s, SV_QHEAD] >= 0 and srv.start_next(SV[s], w.fleet,
                                                   ND[SV[s, SV_QHEAD], ND_ITEM] >= 0, now):
        head = SV[s, SV_QHEAD]
        SV[s, SV_QHEAD] = ND[head, ND_NEXT]
        if SV[s, SV_QHEAD] < 0:
            SV[s, SV_QTAIL] = -1
        start_service(w, s, head, now)
    arm(w, s)


@kernel_inline
def complete(w, s, node, now):
    """The first node of server s's slot heap finishes at now: the server's and the
    replica's counts; returns its (item, failed). The node goes back to the pool with
    its creation time left for measure_completed."""
    G = w.counters
    SV = w.servers
    ND = w.nodes
    item = ND[node, ND_ITEM]
    failed = node_failed(ND, node)
    slot_pop(w, s)
    lat = now - ND[node, ND_CREATED]
    srv.finished(SV[s], item >= 0, ND[node, ND_SERVICE], lat, failed, now)
    if item >= 0:
        requests.completed(G, w.hist, lat, failed)
    free_node(w, node)
    return item, failed


@kernel_inline
def catch_up(w, s, t, seq, part):
    """Complete what server s finishes before the instant (t, seq), in that order: the
    requests whose completions are not events (``part``: bundles.Parts.measured). Its
    queue is empty meanwhile (else its first completion is an event), so nothing
    starts."""
    SV = w.servers
    ND = w.nodes
    while SV[s, srv.BUSY] > 0:
        node = w.slots[s, 0]
        done = ND[node, ND_DONE]
        if done > t or (done == t and ND[node, ND_SEQ] >= seq) or evented(ND, node):
            return
        item, failed = complete(w, s, node, done)
        w.counters[G_EVENTS] += 1
        measured_completion(w, s, node, failed, done, part)
        retire_if_drained(w, s, done)


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
def measured_completion(w, s, node, failed, t, part):
    """A request completed at server s: counted in its deployer's measured group when s
    is measured (only scenarios with a deployer measure: otherwise this is empty)."""
    if part is not None:
        m = w.servers[s, SV_MEASURE]
        if m >= 0:
            measure_completed(w, m, node, failed, t)


@kernel_inline
def handle_complete(w, s, node, now, seq, part):
    """A completion event: a probe's, or the first in the slots of a server with a
    queue. Returns its (item, failed), or item VOID when it was dropped at the end of its
    server's termination grace."""
    ND = w.nodes
    if ND[node, ND_STATE] >> ND_DROPS_SHIFT != w.servers[s, srv.DROPS]:
        free_node(w, node)
        return VOID, node_failed(ND, node)
    # (A call: the completions' code is compiled once more only where it is hot, in the
    # arrival's handler.)
    catch_up_call(w, s, now, seq, part)
    item, failed = complete(w, s, node, now)
    start_queued(w, s, now)
    retire_if_drained(w, s, now)
    # A finished probe is the rolling deployer's business, a request's at a measured
    # server its deployer's: the event loop hands them on.
    return item, failed


# For handle_ready: a call, so that the queue's start (and the service-time distributions
# it samples) is compiled into it once, not inlined a third time.
start_queued_call = out_of_line(start_queued)
