"""Servers in the kernels: creation from a template, the request pool, and the shared
server state machine (rules/server.py) applied to pool nodes and heap events."""

import numpy as np

from ...rules import rng
from ...rules import server as srv
from .. import heap
from ..compile import kernel, kernel_inline, out_of_line
from ..schema import (COMPLETE, G_COMPLETED, G_FAILED, G_FREE, G_INSTANCES, G_LAT_MAX,
                      G_LAT_MIN, G_LAT_SUM, G_NSERVERS, G_OVERFLOW, G_REJECTED, ND_CREATED,
                      ND_FAILED, ND_ITEM, ND_NEXT, ND_SERVICE, OVERFLOW_POOL,
                      OVERFLOW_SERVERS, RB_KRO, RB_NRO, SF_A, SF_B, SF_FAIL, SV_KIND, SV_LB,
                      SV_QHEAD, SV_QTAIL, TP_CONCURRENCY, TP_DIST_A, TP_DIST_B,
                      TP_FAILURE_RATE, TP_QUEUE_CAPACITY, TPL_KIND, TPL_POFF)
from ...rules import histogram

REJECTED = np.int64(-2)  # what accept returns for a request or probe the queue refused
WORK_DRAW, FAIL_DRAW = np.int64(0), np.int64(1)


@kernel
def new_server(w, sn, P, tpl):
    """A new server from template tpl; its index, or -1 when the bank is full."""
    G = w.counters
    SV = w.servers
    s = G[G_NSERVERS]
    if s >= SV.shape[0]:
        G[G_OVERFLOW] = OVERFLOW_SERVERS
        return -1
    G[G_NSERVERS] = s + 1
    off = sn.templates[tpl, TPL_POFF]
    srv.reset(SV[s], int(P[off + TP_CONCURRENCY]), int(P[off + TP_QUEUE_CAPACITY]))
    SV[s, SV_KIND] = sn.templates[tpl, TPL_KIND]
    SV[s, SV_QHEAD] = -1
    SV[s, SV_QTAIL] = -1
    SV[s, SV_LB] = -1
    SF = w.server_dist
    SF[s, SF_A] = P[off + TP_DIST_A]
    SF[s, SF_B] = P[off + TP_DIST_B]
    SF[s, SF_FAIL] = P[off + TP_FAILURE_RATE]
    return s


@kernel_inline
def retire_if_drained(w, s, now):
    if srv.retire_if_drained(w.servers[s], now):
        w.counters[G_INSTANCES] -= 1


@kernel_inline
def item_uniform(w, item, draw):
    """Uniform number ``draw`` (WORK_DRAW or FAIL_DRAW) of a request (item >= 0) or a probe
    (item < 0): draws 2i and 2i + 1 of the requests' or the deployer's stream."""
    K = w.keys
    if item >= 0:
        return rng.uniform(K[0], 2 * item + draw)
    code = -item - 1
    nro = w.bases[RB_NRO]
    return rng.uniform(K[w.bases[RB_KRO] + code % nro], 2 * (code // nro) + draw)


@kernel_inline
def start_service(w, s, node, now):
    """Node starts service at server s (its slot already taken): its work and outcome
    from its own uniforms, and its completion event."""
    ND = w.nodes
    SF = w.server_dist
    item = ND[node, ND_ITEM]
    service = srv.service_ns(w.servers[s, SV_KIND], SF[s, SF_A], SF[s, SF_B],
                             item_uniform(w, item, WORK_DRAW))
    ND[node, ND_SERVICE] = service
    # With a zero failure rate the draw is skipped: it cannot change the outcome.
    fail = SF[s, SF_FAIL]
    failed = fail > 0.0 and srv.fails(fail, item_uniform(w, item, FAIL_DRAW))
    ND[node, ND_FAILED] = 1 if failed else 0
    heap.push(w.heap, w.counters, now + service, COMPLETE, s, node)


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


@kernel_inline
def accept(w, s, item, now):
    """A request (item >= 0) or probe (item < 0) arrives at server s; returns REJECTED
    if the queue is full."""
    SV = w.servers
    action = srv.arrive(SV[s], item >= 0)
    if action == srv.REJECT:
        if item >= 0:
            w.counters[G_REJECTED] += 1
        return REJECTED
    node = alloc_node(w, item, now)
    if node < 0:
        return 0
    if action == srv.START:
        start_service(w, s, node, now)
        return 0
    ND = w.nodes
    if SV[s, SV_QTAIL] >= 0:
        ND[SV[s, SV_QTAIL], ND_NEXT] = node
    else:
        SV[s, SV_QHEAD] = node
    SV[s, SV_QTAIL] = node
    return 0


accept_call = out_of_line(accept)


@kernel_inline
def handle_complete(w, s, node, now):
    """A request or probe finishes at server s; returns its (item, failed)."""
    G = w.counters
    SV = w.servers
    ND = w.nodes
    item = ND[node, ND_ITEM]
    failed = ND[node, ND_FAILED]
    lat = now - ND[node, ND_CREATED]
    srv.finished(SV[s], item >= 0, ND[node, ND_SERVICE], lat, failed)
    if item >= 0:
        G[G_COMPLETED] += 1
        G[G_FAILED] += failed
        w.hist[histogram.bucket_of(lat)] += 1
        G[G_LAT_SUM] += lat
        if G[G_LAT_MIN] < 0 or lat < G[G_LAT_MIN]:
            G[G_LAT_MIN] = lat
        if lat > G[G_LAT_MAX]:
            G[G_LAT_MAX] = lat
    ND[node, ND_NEXT] = G[G_FREE]
    G[G_FREE] = node
    # Free slots are used at once: the head of the queue starts now.
    while srv.start_next(SV[s]):
        head = SV[s, SV_QHEAD]
        SV[s, SV_QHEAD] = ND[head, ND_NEXT]
        if SV[s, SV_QHEAD] < 0:
            SV[s, SV_QTAIL] = -1
        start_service(w, s, head, now)
    retire_if_drained(w, s, now)
    # A finished probe is the rolling deployer's business: the event loop hands it on, so
    # that its code is not compiled into this hot handler.
    return item, failed
