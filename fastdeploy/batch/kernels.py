"""The step kernels: one replica's event loop over struct-of-arrays state.

Every handler mirrors the object engine (fastdeploy/model, fastdeploy/deployment) step
for step, in the same order, so that both schedule the same events with the same
sequence numbers; the decisions themselves come from ``fastdeploy.rules``.

All handlers take the same state arrays, named as in ``run_replicas``:
H heap, G counters, SV/SF server banks, ND request-node pool, LS/LN list rows and their
lengths, LBI/LBF load balancers, SC scalers, CA canaries, RO rolling deployers, P the
replica's parameters, TPL server templates, RB row/key bases, K stream keys, CW scratch,
EV scaling events out, HIST the latency histogram.
"""

import numpy as np

import glob
import os

from ..rules import arrivals, canary, histogram, rng, routing, scaling
from ..rules.distributions import sample_seconds
from ..rules.jit import entry
from ..rules.jit import kernel as njit
from ..rules.jit import kernel_inline as njit_inline
from ..rules.jit import out_of_line, refresh_kernel_cache
from ..rules.timeconv import seconds_to_ns
from . import heap
from .schema import *  # noqa: F401,F403  (field indices are the kernel's vocabulary)

_HERE = os.path.dirname(os.path.abspath(__file__))
refresh_kernel_cache(__file__, glob.glob(os.path.join(_HERE, "..", "rules", "*.py"))
                     + [os.path.join(_HERE, "heap.py"), os.path.join(_HERE, "schema.py")])

# RB layout: list-row bases, key bases, counts.
RB_LB, RB_SC, RB_CA, RB_RO, RB_KSRC, RB_KLB, RB_KRO, RB_NRO = range(8)
REJECTED = -2
# Arguments given as numpy integers so that numba compiles the callee once (schema.py).
FIRST_STAGE = np.int64(0)
UNIT_WEIGHT = np.int64(1)
ZERO = np.int64(0)  # a counter's start: numba would type a plain 0 as a literal first
PROBE_FAILED = np.int64(1)
WORK_DRAW, FAIL_DRAW = np.int64(0), np.int64(1)


# -- servers -----------------------------------------------------------------------------
@njit
def new_server(SV, SF, G, P, TPL, tpl):
    s = G[G_NSERVERS]
    if s >= SV.shape[0]:
        G[G_OVERFLOW] = OVERFLOW_SERVERS
        return -1
    G[G_NSERVERS] = s + 1
    off = TPL[tpl, 1]
    SV[s, :] = 0
    SV[s, SV_CONC] = int(P[off])
    SV[s, SV_QCAP] = int(P[off + 1])
    SV[s, SV_KIND] = TPL[tpl, 0]
    SV[s, SV_QHEAD] = -1
    SV[s, SV_QTAIL] = -1
    SV[s, SV_COST_SINCE] = -1
    SV[s, SV_LB] = -1
    SF[s, SF_A] = P[off + 2]
    SF[s, SF_B] = P[off + 3]
    SF[s, SF_FAIL] = P[off + 4]
    return s


@njit_inline
def retire_if_drained(SV, G, s, now):
    if (SV[s, SV_REMOVED] == 1 and SV[s, SV_COST_SINCE] >= 0 and SV[s, SV_BUSY] == 0
            and SV[s, SV_QLEN] == 0):
        SV[s, SV_COST_NS] += now - SV[s, SV_COST_SINCE]
        SV[s, SV_COST_SINCE] = -1
        G[G_INSTANCES] -= 1


@njit_inline
def item_uniform(K, RB, item, draw):
    """Uniform number ``draw`` (WORK_DRAW or FAIL_DRAW) of a request (item >= 0) or a probe
    (item < 0): draws 2i and 2i + 1 of the requests' or the deployer's stream."""
    if item >= 0:
        return rng.uniform(K[0], 2 * item + draw)
    code = -item - 1
    nro = RB[RB_NRO]
    return rng.uniform(K[RB[RB_KRO] + code % nro], 2 * (code // nro) + draw)


@njit_inline
def start_service(H, G, SV, SF, ND, K, RB, s, node, now):
    SV[s, SV_BUSY] += 1
    item = ND[node, ND_ITEM]
    u_work = item_uniform(K, RB, item, WORK_DRAW)
    service = seconds_to_ns(sample_seconds(SV[s, SV_KIND], SF[s, SF_A], SF[s, SF_B], u_work))
    if service < 0:
        service = 0
    ND[node, ND_SERVICE] = service
    # A failure needs u_fail < rate: with a zero rate the draw is skipped, not changed.
    fail = SF[s, SF_FAIL]
    ND[node, ND_FAILED] = 1 if fail > 0.0 and item_uniform(K, RB, item, FAIL_DRAW) < fail else 0
    heap.push(H, G, now + service, COMPLETE, s, node)


@njit_inline
def alloc_node(ND, G, item, created, now):
    node = G[G_FREE]
    if node < 0:
        G[G_OVERFLOW] = OVERFLOW_POOL
        return -1
    G[G_FREE] = ND[node, ND_NEXT]
    ND[node, ND_ITEM] = item
    ND[node, ND_CREATED] = created
    ND[node, ND_NEXT] = -1
    return node


@njit_inline
def accept(H, G, SV, SF, ND, K, RB, s, item, created, now):
    """A request or probe arrives at server s; returns REJECTED if the queue is full."""
    if SV[s, SV_BUSY] < SV[s, SV_CONC]:
        node = alloc_node(ND, G, item, created, now)
        if node >= 0:
            start_service(H, G, SV, SF, ND, K, RB, s, node, now)
        return 0
    if SV[s, SV_QCAP] >= 0 and SV[s, SV_QLEN] >= SV[s, SV_QCAP]:
        if item >= 0:
            SV[s, SV_REJECTED] += 1
            G[G_REJECTED] += 1
        return REJECTED
    node = alloc_node(ND, G, item, created, now)
    if node < 0:
        return 0
    if SV[s, SV_QTAIL] >= 0:
        ND[SV[s, SV_QTAIL], ND_NEXT] = node
    else:
        SV[s, SV_QHEAD] = node
    SV[s, SV_QTAIL] = node
    SV[s, SV_QLEN] += 1
    return 0


accept_call = out_of_line(accept)


# -- load balancers ------------------------------------------------------------------------
@njit
def on_added(SV, G, s, now):
    SV[s, SV_REMOVED] = 0
    if SV[s, SV_COST_SINCE] < 0:
        SV[s, SV_COST_SINCE] = now
        G[G_INSTANCES] += 1
        if G[G_INSTANCES] > G[G_PEAK]:
            G[G_PEAK] = G[G_INSTANCES]


@njit
def lb_add(SV, G, LS, LN, LBI, RB, lb, s, w, now):
    row = RB[RB_LB] + LB_ROWS * lb
    n = LN[row]
    LS[row, n] = s
    LS[row + LR_WEIGHTS, n] = w
    LN[row] = n + 1
    LN[row + LR_WEIGHTS] = n + 1
    LBI[lb, LB_ADDED] += 1
    LBI[lb, LB_PICK_STALE] = 1
    SV[s, SV_LB] = lb
    on_added(SV, G, s, now)


@njit
def list_remove(LS, LN, row, value):
    """Remove the first occurrence of value from list row; returns its position or -1."""
    n = LN[row]
    for i in range(n):
        if LS[row, i] == value:
            for j in range(i, n - 1):
                LS[row, j] = LS[row, j + 1]
            LN[row] = n - 1
            return i
    return -1


@njit
def lb_remove(SV, G, LS, LN, LBI, RB, lb, s, now):
    row = RB[RB_LB] + LB_ROWS * lb
    i = list_remove(LS, LN, row, s)
    n = LN[row + LR_WEIGHTS]
    for j in range(i, n - 1):
        LS[row + LR_WEIGHTS, j] = LS[row + LR_WEIGHTS, j + 1]
    LN[row + LR_WEIGHTS] = n - 1
    list_remove(LS, LN, row + LR_GROUP, s)
    LBI[lb, LB_REMOVED] += 1
    LBI[lb, LB_PICK_STALE] = 1
    SV[s, SV_LB] = -1
    SV[s, SV_REMOVED] = 1
    retire_if_drained(SV, G, s, now)


@njit
def lb_draw(LBI, K, RB, lb):
    u = rng.uniform(K[RB[RB_KLB] + lb], LBI[lb, LB_DRAWS])
    LBI[lb, LB_DRAWS] += 1
    return u


@njit_inline
def strategy_select(SV, LBI, K, RB, lb, cand, weights, cur, n):
    """Index into cand[:n] chosen by the load balancer's strategy."""
    st = LBI[lb, LB_STRATEGY]
    if st == ST_ROUND_ROBIN:
        i = LBI[lb, LB_RR] % n
        LBI[lb, LB_RR] += 1
        return i
    if st == ST_WEIGHTED:
        return routing.smooth_weighted_pick(weights, cur, n)
    if st == ST_LEAST_CONN:
        best = 0
        best_n = SV[cand[0], SV_BUSY] + SV[cand[0], SV_QLEN]
        for i in range(1, n):
            o = SV[cand[i], SV_BUSY] + SV[cand[i], SV_QLEN]
            if o < best_n:
                best = i
                best_n = o
        return best
    if st == ST_RANDOM:
        return routing.index_from_uniform(lb_draw(LBI, K, RB, lb), n)
    # power of two choices
    if n == 1:
        return 0
    i = routing.index_from_uniform(lb_draw(LBI, K, RB, lb), n)
    j = routing.index_from_uniform(lb_draw(LBI, K, RB, lb), n - 1)
    if j >= i:
        j += 1
    oi = SV[cand[i], SV_BUSY] + SV[cand[i], SV_QLEN]
    oj = SV[cand[j], SV_BUSY] + SV[cand[j], SV_QLEN]
    return j if oj < oi else i


@njit_inline
def lb_choose(SV, LS, LN, LBI, LBF, K, RB, CW, lb):
    """The server a request goes to, or -1 when there is none."""
    row = RB[RB_LB] + LB_ROWS * lb
    ng = LN[row + LR_GROUP]
    if ng > 0:
        i = LBI[lb, LB_SPLIT_COUNT]
        LBI[lb, LB_SPLIT_COUNT] = i + 1
        if canary.split_to_canary(i, LBF[lb]):
            g = LS[row + LR_GROUP, LBI[lb, LB_SPLIT_TURN] % ng]
            LBI[lb, LB_SPLIT_TURN] += 1
            return g
    if LBI[lb, LB_PICK_STALE] == 1:
        rebuild_pick_rows(LS, LN, LBI, CW, row, lb)
    n = LN[row + LR_PICK]
    if n == 0:
        return -1
    i = strategy_select(SV, LBI, K, RB, lb, LS[row + LR_PICK], LS[row + LR_PICK_W],
                        LS[row + LR_PICK_CUR], n)
    return LS[row + LR_PICK, i]


@njit
def rebuild_pick_rows(LS, LN, LBI, CW, row, lb):
    """The backends a request is routed among: all, or those outside the canary group
    while a split is set, with their weights. Each keeps the smooth weighted round robin
    current weight it had among the previous pick's backends, 0 if it was not one of them
    (the object engine's map from backend to current weight)."""
    ng = LN[row + LR_GROUP]
    n_old = LN[row + LR_PICK]
    n = 0
    for k in range(LN[row + LR_BACKENDS]):
        s = LS[row + LR_BACKENDS, k]
        member = False
        for q in range(ng):
            if LS[row + LR_GROUP, q] == s:
                member = True
                break
        if member:
            continue
        cur = 0
        for j in range(n_old):
            if LS[row + LR_PICK, j] == s:
                cur = LS[row + LR_PICK_CUR, j]
                break
        CW[0, n] = s
        CW[1, n] = LS[row + LR_WEIGHTS, k]
        CW[2, n] = cur
        n += 1
    for i in range(n):
        LS[row + LR_PICK, i] = CW[0, i]
        LS[row + LR_PICK_W, i] = CW[1, i]
        LS[row + LR_PICK_CUR, i] = CW[2, i]
    LN[row + LR_PICK] = n
    LBI[lb, LB_PICK_STALE] = 0


@njit
def set_split(LS, LN, LBI, LBF, RB, lb, group_row, fraction):
    row = RB[RB_LB] + LB_ROWS * lb + LR_GROUP
    n = LN[group_row]
    for i in range(n):
        LS[row, i] = LS[group_row, i]
    LN[row] = n
    LBF[lb] = fraction
    LBI[lb, LB_SPLIT_COUNT] = 0
    LBI[lb, LB_SPLIT_TURN] = 0
    LBI[lb, LB_PICK_STALE] = 1


@njit
def clear_split(LN, LBI, LBF, RB, lb):
    LN[RB[RB_LB] + LB_ROWS * lb + LR_GROUP] = 0
    LBF[lb] = 0.0
    LBI[lb, LB_SPLIT_COUNT] = 0
    LBI[lb, LB_SPLIT_TURN] = 0
    LBI[lb, LB_PICK_STALE] = 1


# -- requests --------------------------------------------------------------------------------
@njit_inline
def handle_arrival(H, G, SV, SF, ND, LS, LN, LBI, LBF, K, RB, CW, SRC, SRCD, SEG, NSEG, src,
                   now):
    k = G[G_CREATED]
    G[G_CREATED] = k + 1
    target = SRC[src, 1]
    s = target
    if SRC[src, 0] == TO_LB:
        LBI[target, LB_RECEIVED] += 1
        s = lb_choose(SV, LS, LN, LBI, LBF, K, RB, CW, target)
        if s < 0:
            LBI[target, LB_NOBACKEND] += 1
            G[G_REJECTED] += 1
        else:
            LBI[target, LB_FORWARDED] += 1
    # One call site: accept (and what it inlines) is compiled once here.
    if s >= 0:
        accept(H, G, SV, SF, ND, K, RB, s, k, now, now)
    schedule_arrival(H, G, K, RB, SRC, SRCD, SEG, NSEG, src, now)


@njit_inline
def schedule_arrival(H, G, K, RB, SRC, SRCD, SEG, NSEG, src, prev):
    if SRC[src, 2] == 1:
        area = arrivals.poisson_area(rng.uniform(K[RB[RB_KSRC] + src], SRCD[src, 0]))
        SRCD[src, 0] += 1
    else:
        area = 1.0
    t, hint = arrivals.next_arrival_ns(SEG[src, 0], SEG[src, 1], SEG[src, 2], NSEG[src],
                                       SRCD[src, 2], prev, area)
    SRCD[src, 2] = hint
    if t < 0 or (SRCD[src, 1] >= 0 and t > SRCD[src, 1]):
        return
    heap.push(H, G, t, ARRIVAL, src, NO_PAYLOAD)


@njit_inline
def handle_complete(H, G, SV, SF, ND, K, RB, HIST, s, node, now):
    """A request or probe finishes at server s; returns its (item, failed)."""
    SV[s, SV_BUSY] -= 1
    item = ND[node, ND_ITEM]
    failed = ND[node, ND_FAILED]
    if item >= 0:
        SV[s, SV_COMPLETED] += 1
        SV[s, SV_SERVICE_NS] += ND[node, ND_SERVICE]
        SV[s, SV_LATENCY_NS] += now - ND[node, ND_CREATED]
        SV[s, SV_FAILURES] += failed
        lat = now - ND[node, ND_CREATED]
        G[G_COMPLETED] += 1
        G[G_FAILED] += failed
        HIST[histogram.bucket_of(lat)] += 1
        G[G_LAT_SUM] += lat
        if G[G_LAT_MIN] < 0 or lat < G[G_LAT_MIN]:
            G[G_LAT_MIN] = lat
        if lat > G[G_LAT_MAX]:
            G[G_LAT_MAX] = lat
    ND[node, ND_NEXT] = G[G_FREE]
    G[G_FREE] = node
    while SV[s, SV_QLEN] > 0 and SV[s, SV_BUSY] < SV[s, SV_CONC]:
        head = SV[s, SV_QHEAD]
        SV[s, SV_QHEAD] = ND[head, ND_NEXT]
        SV[s, SV_QLEN] -= 1
        if SV[s, SV_QLEN] == 0:
            SV[s, SV_QTAIL] = -1
        start_service(H, G, SV, SF, ND, K, RB, s, head, now)
    retire_if_drained(SV, G, s, now)
    # A finished probe is the rolling deployer's business: the event loop calls probe_done,
    # so that its code is not compiled into this hot handler (numba compiles a callee into
    # every caller's module).
    return item, failed


# -- autoscaler ---------------------------------------------------------------------------------
@njit
def record_scaling(G, EV, sc, action, frm, to, now):
    n = G[G_NSCALE]
    if n < EV.shape[0]:
        EV[n, 0] = now
        EV[n, 1] = sc
        EV[n, 2] = action
        EV[n, 3] = frm
        EV[n, 4] = to
    G[G_NSCALE] = n + 1


@njit
def handle_scaler_eval(H, G, SV, SF, ND, LS, LN, LBI, SC, P, TPL, RB, CW, EV, STEPT, STEPA,
                       sc, live, now):
    if live == 0 or SC[sc, SC_RUNNING] == 0:
        return
    SC[sc, SC_EVALS] += 1
    lb = SC[sc, SC_LB]
    off = SC[sc, SC_POFF]
    lo = int(P[off + SP_MIN])
    hi = int(P[off + SP_MAX])
    row = RB[RB_LB] + LB_ROWS * lb
    current = LN[row]
    pol = SC[sc, SC_POLICY]
    if pol == POL_QUEUE:
        depth = ZERO
        for i in range(current):
            depth += SV[LS[row, i], SV_QLEN]
        desired = scaling.queue_depth_desired(depth, current, int(P[off + SP_POLICY]),
                                              int(P[off + SP_POLICY + 1]), lo, hi)
    else:
        util = 0.0
        if current > 0:
            for i in range(current):
                b = LS[row, i]
                util += SV[b, SV_BUSY] / SV[b, SV_CONC]
            util = util / current
        if pol == POL_TARGET:
            desired = scaling.target_utilization_desired(current, util, current,
                                                         P[off + SP_POLICY],
                                                         P[off + SP_POLICY + 1], lo, hi)
        else:
            ns = SC[sc, SC_NSTEPS]
            desired = scaling.step_scaling_desired(STEPT[sc, :ns], STEPA[sc, :ns], util,
                                                   current, lo, hi)
    if desired > current:
        n = min(desired, hi) - current
        if n > 0 and not blocked(G, SC, sc, seconds_to_ns(P[off + SP_OUT_CD]), now):
            for _ in range(n):
                s = new_server(SV, SF, G, P, TPL, SC[sc, SC_TPL])
                if s < 0:
                    return
                lb_add(SV, G, LS, LN, LBI, RB, lb, s, UNIT_WEIGHT, now)
                mrow = RB[RB_SC] + sc
                LS[mrow, LN[mrow]] = s
                LN[mrow] += 1
            record_scaling(G, EV, sc, SCALE_OUT, current, current + n, now)
            SC[sc, SC_LAST_NS] = now
            SC[sc, SC_OUT] += 1
            SC[sc, SC_ADDED] += n
    elif desired < current:
        n = current - max(desired, lo)
        if n > 0 and not blocked(G, SC, sc, seconds_to_ns(P[off + SP_IN_CD]), now):
            scale_in(G, SV, LS, LN, LBI, SC, RB, CW, EV, sc, lb, current, n, now)
    heap.push_call(H, G, now + seconds_to_ns(P[off + SP_INTERVAL]), SCALER_EVAL, sc, LIVE_CHAIN)


@njit
def blocked(G, SC, sc, cooldown, now):
    if scaling.in_cooldown(now, SC[sc, SC_LAST_NS], cooldown):
        SC[sc, SC_BLOCKS] += 1
        return True
    return False


@njit
def scale_in(G, SV, LS, LN, LBI, SC, RB, CW, EV, sc, lb, current, n, now):
    mrow = RB[RB_SC] + sc
    row = RB[RB_LB] + LB_ROWS * lb
    nv = 0
    for i in range(LN[mrow] - 1, -1, -1):
        if nv >= n:
            break
        s = LS[mrow, i]
        if SV[s, SV_LB] == lb:
            CW[2, nv] = s
            nv += 1
    if nv < n:
        for i in range(LN[row] - 1, -1, -1):
            if nv >= n:
                break
            s = LS[row, i]
            taken = False
            for q in range(nv):
                if CW[2, q] == s:
                    taken = True
                    break
            if not taken:
                CW[2, nv] = s
                nv += 1
    for q in range(nv):
        lb_remove(SV, G, LS, LN, LBI, RB, lb, CW[2, q], now)
        list_remove(LS, LN, mrow, CW[2, q])
    if nv == 0:
        return
    record_scaling(G, EV, sc, SCALE_IN, current, current - nv, now)
    SC[sc, SC_LAST_NS] = now
    SC[sc, SC_IN] += 1
    SC[sc, SC_REMOVED] += nv


# -- canary ----------------------------------------------------------------------------------------
@njit
def group_sums(SV, LS, LN, row):
    c = 0
    r = 0
    f = 0
    lat = 0
    for i in range(LN[row]):
        s = LS[row, i]
        c += SV[s, SV_COMPLETED]
        r += SV[s, SV_REJECTED]
        f += SV[s, SV_FAILURES]
        lat += SV[s, SV_LATENCY_NS]
    return c, r, f, lat


@njit
def canary_grow(SV, SF, G, LS, LN, LBI, CA, P, TPL, RB, ca, size, now):
    grow = RB[RB_CA] + 2 * ca
    while LN[grow] < size:
        s = new_server(SV, SF, G, P, TPL, CA[ca, CA_TPL])
        if s < 0:
            return
        CA[ca, CA_MADE] += 1
        lb_add(SV, G, LS, LN, LBI, RB, CA[ca, CA_LB], s, UNIT_WEIGHT, now)
        LS[grow, LN[grow]] = s
        LN[grow] += 1


@njit
def canary_start_stage(H, G, SV, SF, LS, LN, LBI, LBF, CA, P, TPL, RB, ca, k, now):
    off = CA[ca, CA_POFF]
    fraction = P[off + CP_STAGES + 2 * k]
    grow = RB[RB_CA] + 2 * ca
    canary_grow(SV, SF, G, LS, LN, LBI, CA, P, TPL, RB, ca,
                canary.canary_group_size(fraction, LN[grow + 1]), now)
    set_split(LS, LN, LBI, LBF, RB, CA[ca, CA_LB], grow, fraction)
    CA[ca, CA_STAGE] = k
    CA[ca, CA_STAGE_START] = now
    heap.push_call(H, G, now + seconds_to_ns(P[off + CP_INTERVAL]), CANARY_EVAL, ca,
              CA[ca, CA_DEPLOYMENT])


@njit
def handle_canary_deploy(H, G, SV, SF, LS, LN, LBI, LBF, CA, P, TPL, RB, ca, now):
    if CA[ca, CA_STATUS] == IN_PROGRESS:
        return
    CA[ca, CA_DEPLOYMENT] += 1
    CA[ca, CA_STARTED] += 1
    lb = CA[ca, CA_LB]
    row = RB[RB_LB] + LB_ROWS * lb
    grow = RB[RB_CA] + 2 * ca
    n = LN[row]
    for i in range(n):
        LS[grow + 1, i] = LS[row, i]
    LN[grow + 1] = n
    c, r, f, lat = group_sums(SV, LS, LN, grow + 1)
    CA[ca, CA_BASE_COMPLETED] = c
    CA[ca, CA_BASE_REJECTED] = r
    CA[ca, CA_BASE_FAILURES] = f
    CA[ca, CA_BASE_LATENCY] = lat
    LN[grow] = 0
    CA[ca, CA_END] = -1
    CA[ca, CA_STATUS] = IN_PROGRESS
    CA[ca, CA_STAGE] = 0
    canary_start_stage(H, G, SV, SF, LS, LN, LBI, LBF, CA, P, TPL, RB, ca, FIRST_STAGE, now)


@njit
def canary_healthy(SV, LS, LN, CA, P, RB, ca):
    off = CA[ca, CA_POFF]
    grow = RB[RB_CA] + 2 * ca
    c, r, f, lat = group_sums(SV, LS, LN, grow)
    bc, br, bf, blat = group_sums(SV, LS, LN, grow + 1)
    bc -= CA[ca, CA_BASE_COMPLETED]
    br -= CA[ca, CA_BASE_REJECTED]
    bf -= CA[ca, CA_BASE_FAILURES]
    blat -= CA[ca, CA_BASE_LATENCY]
    if CA[ca, CA_EVAL] == EVAL_ERROR_RATE:
        return canary.judge(canary.error_rate(f, r, c), canary.error_rate(bf, br, bc),
                            P[off + CP_LIMIT], P[off + CP_MULT])
    return canary.judge(canary.mean_latency_seconds(lat, c),
                        canary.mean_latency_seconds(blat, bc), P[off + CP_LIMIT],
                        P[off + CP_MULT])


@njit
def handle_canary_eval(H, G, SV, SF, LS, LN, LBI, LBF, CA, P, TPL, RB, ca, deployment, now):
    if CA[ca, CA_STATUS] != IN_PROGRESS or deployment != CA[ca, CA_DEPLOYMENT]:
        return
    CA[ca, CA_EVALS] += 1
    lb = CA[ca, CA_LB]
    grow = RB[RB_CA] + 2 * ca
    if not canary_healthy(SV, LS, LN, CA, P, RB, ca):
        CA[ca, CA_FAILED] += 1
        clear_split(LN, LBI, LBF, RB, lb)
        for i in range(LN[grow]):
            s = LS[grow, i]
            if SV[s, SV_LB] == lb:
                lb_remove(SV, G, LS, LN, LBI, RB, lb, s, now)
        CA[ca, CA_STATUS] = ROLLED_BACK
        CA[ca, CA_ROLLED_BACK] += 1
        CA[ca, CA_END] = now
        return
    CA[ca, CA_PASSED] += 1
    off = CA[ca, CA_POFF]
    k = CA[ca, CA_STAGE]
    period = seconds_to_ns(P[off + CP_STAGES + 2 * k + 1])
    if now - CA[ca, CA_STAGE_START] < period:
        heap.push_call(H, G, now + seconds_to_ns(P[off + CP_INTERVAL]), CANARY_EVAL, ca, deployment)
        return
    CA[ca, CA_STAGES_DONE] += 1
    if k + 1 < CA[ca, CA_NSTAGES]:
        canary_start_stage(H, G, SV, SF, LS, LN, LBI, LBF, CA, P, TPL, RB, ca, k + 1, now)
        return
    canary_grow(SV, SF, G, LS, LN, LBI, CA, P, TPL, RB, ca, LN[grow + 1], now)
    clear_split(LN, LBI, LBF, RB, lb)
    for i in range(LN[grow + 1]):
        s = LS[grow + 1, i]
        if SV[s, SV_LB] == lb:
            lb_remove(SV, G, LS, LN, LBI, RB, lb, s, now)
    CA[ca, CA_STATUS] = COMPLETED
    CA[ca, CA_COMPLETED] += 1
    CA[ca, CA_END] = now


# -- rolling --------------------------------------------------------------------------------------
# List rows of a rolling deployer, from RB[RB_RO] + 8 * ro.
R_OLD, R_OLD_W, R_REMOVED, R_NEW_ALL, R_BATCH_NEW, R_PASSES, R_PENDING, R_SENT = range(8)


@njit
def handle_roll_deploy(H, G, SV, SF, LS, LN, LBI, RO, P, TPL, RB, ro, now):
    if RO[ro, RO_STATUS] == IN_PROGRESS:
        return
    RO[ro, RO_STARTED] += 1
    lb = RO[ro, RO_LB]
    row = RB[RB_LB] + LB_ROWS * lb
    base = RB[RB_RO] + 8 * ro
    n = LN[row]
    for i in range(n):
        LS[base + R_OLD, i] = LS[row, i]
        LS[base + R_OLD_W, i] = LS[row + LR_WEIGHTS, i]
        LS[base + R_REMOVED, i] = 0
    LN[base + R_OLD] = n
    LN[base + R_NEW_ALL] = 0
    RO[ro, RO_NEXT_OLD] = 0
    RO[ro, RO_FAILURES] = 0
    RO[ro, RO_END] = -1
    RO[ro, RO_STATUS] = IN_PROGRESS
    RO[ro, RO_STATE_TOTAL] = n
    RO[ro, RO_STATE_REPLACED] = 0
    RO[ro, RO_STATE_FAILED] = 0
    RO[ro, RO_STATE_BATCH] = 0
    roll_start_batch(H, G, SV, SF, LS, LN, LBI, RO, P, TPL, RB, ro, now)


@njit
def roll_start_batch(H, G, SV, SF, LS, LN, LBI, RO, P, TPL, RB, ro, now):
    base = RB[RB_RO] + 8 * ro
    n_old = LN[base + R_OLD]
    nxt = RO[ro, RO_NEXT_OLD]
    if nxt >= n_old:
        RO[ro, RO_STATUS] = COMPLETED
        RO[ro, RO_COMPLETED] += 1
        RO[ro, RO_END] = now
        return
    off = RO[ro, RO_POFF]
    k = min(int(P[off + RP_BATCH]), n_old - nxt)
    RO[ro, RO_BATCH_OLD0] = nxt
    RO[ro, RO_BATCH_K] = k
    RO[ro, RO_NEXT_OLD] = nxt + k
    RO[ro, RO_BATCH_ID] += 1
    RO[ro, RO_STATE_BATCH] += 1
    LN[base + R_BATCH_NEW] = 0
    lb = RO[ro, RO_LB]
    for i in range(k):
        s = new_server(SV, SF, G, P, TPL, RO[ro, RO_TPL])
        if s < 0:
            return
        RO[ro, RO_MADE] += 1
        lb_add(SV, G, LS, LN, LBI, RB, lb, s, UNIT_WEIGHT, now)
        LS[base + R_BATCH_NEW, i] = s
        LN[base + R_BATCH_NEW] = i + 1
        LS[base + R_NEW_ALL, LN[base + R_NEW_ALL]] = s
        LN[base + R_NEW_ALL] += 1
        LS[base + R_PASSES, i] = 0
        LS[base + R_PENDING, i] = -1
    heap.push_call(H, G, now + seconds_to_ns(P[off + RP_INTERVAL]), ROLL_ROUND, ro,
              RO[ro, RO_BATCH_ID])


@njit
def roll_rollback(SV, G, LS, LN, LBI, RO, RB, ro, now):
    base = RB[RB_RO] + 8 * ro
    lb = RO[ro, RO_LB]
    for i in range(LN[base + R_NEW_ALL]):
        s = LS[base + R_NEW_ALL, i]
        if SV[s, SV_LB] == lb:
            lb_remove(SV, G, LS, LN, LBI, RB, lb, s, now)
    for i in range(LN[base + R_OLD]):
        s = LS[base + R_OLD, i]
        if LS[base + R_REMOVED, i] == 1 and SV[s, SV_LB] != lb:
            lb_add(SV, G, LS, LN, LBI, RB, lb, s, LS[base + R_OLD_W, i], now)
    RO[ro, RO_STATUS] = ROLLED_BACK
    RO[ro, RO_ROLLED_BACK] += 1
    RO[ro, RO_END] = now


@njit
def roll_probe_failed(SV, G, LS, LN, LBI, RO, P, RB, ro, i, now):
    base = RB[RB_RO] + 8 * ro
    LS[base + R_PASSES, i] = 0
    RO[ro, RO_HC_FAILED] += 1
    RO[ro, RO_STATE_FAILED] += 1
    RO[ro, RO_FAILURES] += 1
    if RO[ro, RO_FAILURES] > int(P[RO[ro, RO_POFF] + RP_MAX_FAILURES]):
        roll_rollback(SV, G, LS, LN, LBI, RO, RB, ro, now)


@njit
def roll_probe_passed(H, G, SV, SF, LS, LN, LBI, RO, P, TPL, RB, ro, i, now):
    base = RB[RB_RO] + 8 * ro
    LS[base + R_PASSES, i] += 1
    RO[ro, RO_HC_PASSED] += 1
    threshold = int(P[RO[ro, RO_POFF] + RP_THRESHOLD])
    k = LN[base + R_BATCH_NEW]
    for j in range(k):
        if LS[base + R_PASSES, j] < threshold:
            return
    lb = RO[ro, RO_LB]
    first = RO[ro, RO_BATCH_OLD0]
    nb = RO[ro, RO_BATCH_K]
    for j in range(first, first + nb):
        s = LS[base + R_OLD, j]
        if SV[s, SV_LB] == lb:
            lb_remove(SV, G, LS, LN, LBI, RB, lb, s, now)
        LS[base + R_REMOVED, j] = 1
    RO[ro, RO_STATE_REPLACED] += nb
    RO[ro, RO_REPLACED] += nb
    roll_start_batch(H, G, SV, SF, LS, LN, LBI, RO, P, TPL, RB, ro, now)


@njit
def probe_done(H, G, SV, SF, ND, LS, LN, LBI, LBF, SC, CA, RO, P, TPL, RB, K, CW, ro, m, now,
               failed):
    if RO[ro, RO_STATUS] != IN_PROGRESS:
        return
    base = RB[RB_RO] + 8 * ro
    for i in range(LN[base + R_BATCH_NEW]):
        if LS[base + R_PENDING, i] == m:
            LS[base + R_PENDING, i] = -1
            interval = seconds_to_ns(P[RO[ro, RO_POFF] + RP_INTERVAL])
            if failed == 1 or now - LS[base + R_SENT, i] >= interval:
                roll_probe_failed(SV, G, LS, LN, LBI, RO, P, RB, ro, i, now)
            else:
                roll_probe_passed(H, G, SV, SF, LS, LN, LBI, RO, P, TPL, RB, ro, i, now)
            return


@njit
def handle_roll_round(H, G, SV, SF, ND, LS, LN, LBI, LBF, SC, CA, RO, P, TPL, RB, K, CW, ro,
                      batch, now):
    if RO[ro, RO_STATUS] != IN_PROGRESS or batch != RO[ro, RO_BATCH_ID]:
        return
    base = RB[RB_RO] + 8 * ro
    k = LN[base + R_BATCH_NEW]
    for i in range(k):
        if LS[base + R_PENDING, i] >= 0:
            LS[base + R_PENDING, i] = -1
            roll_probe_failed(SV, G, LS, LN, LBI, RO, P, RB, ro, i, now)
            if RO[ro, RO_STATUS] != IN_PROGRESS:
                return
    threshold = int(P[RO[ro, RO_POFF] + RP_THRESHOLD])
    nro = RB[RB_NRO]
    for i in range(k):
        if LS[base + R_PASSES, i] >= threshold:
            continue
        RO[ro, RO_HC_PERFORMED] += 1
        m = RO[ro, RO_PROBES]
        RO[ro, RO_PROBES] = m + 1
        LS[base + R_PENDING, i] = m
        LS[base + R_SENT, i] = now
        item = -(1 + m * nro + ro)
        if accept_call(H, G, SV, SF, ND, K, RB, LS[base + R_BATCH_NEW, i], item, now, now) == REJECTED:
            probe_done(H, G, SV, SF, ND, LS, LN, LBI, LBF, SC, CA, RO, P, TPL, RB, K, CW, ro, m,
                       now, PROBE_FAILED)
        if RO[ro, RO_STATUS] != IN_PROGRESS:
            return
    heap.push_call(H, G, now + seconds_to_ns(P[RO[ro, RO_POFF] + RP_INTERVAL]), ROLL_ROUND, ro, batch)


# -- one replica --------------------------------------------------------------------------------
@njit
def profile_segments(SRC, P, SEG, NSEG, src):
    """Segments (t0, rate, slope) of source src's profile, as the Profile classes build them."""
    kind = SRC[src, 3]
    off = SRC[src, 4]
    if kind == PROF_CONSTANT:
        SEG[src, 0, 0] = 0.0
        SEG[src, 1, 0] = P[off]
        SEG[src, 2, 0] = 0.0
        NSEG[src] = 1
    elif kind == PROF_LINEAR:
        duration = P[off]
        start = P[off + 1]
        end = P[off + 2]
        SEG[src, 0, 0] = 0.0
        SEG[src, 1, 0] = start
        SEG[src, 2, 0] = (end - start) / duration
        SEG[src, 0, 1] = duration
        SEG[src, 1, 1] = end
        SEG[src, 2, 1] = 0.0
        NSEG[src] = 2
    elif kind == PROF_SPIKE:
        base = P[off]
        spike = P[off + 1]
        warm = P[off + 2]
        dur = P[off + 3]
        n = 0
        SEG[src, 0, 0] = 0.0
        SEG[src, 1, 0] = base
        SEG[src, 2, 0] = 0.0
        n = 1
        if dur > 0:
            if warm > 0:
                SEG[src, 0, 1] = warm
                SEG[src, 1, 1] = spike
                SEG[src, 2, 1] = 0.0
                n = 2
            else:
                SEG[src, 1, 0] = spike
            SEG[src, 0, n] = warm + dur
            SEG[src, 1, n] = base
            SEG[src, 2, n] = 0.0
            n += 1
        NSEG[src] = n
    else:
        npts = SRC[src, 5]
        for i in range(npts):
            SEG[src, 0, i] = P[off + 2 * i]
            SEG[src, 1, i] = P[off + 2 * i + 1]
            SEG[src, 2, i] = 0.0
        NSEG[src] = npts


@njit
def sort_steps(SC, P, STEPT, STEPA, sc):
    """Steps by threshold, highest first, ties in given order (as Python's stable sort)."""
    off = SC[sc, SC_POFF] + SP_POLICY
    n = SC[sc, SC_NSTEPS]
    for i in range(n):
        t = P[off + 2 * i]
        a = int(P[off + 2 * i + 1])
        j = i
        while j > 0 and STEPT[sc, j - 1] < t:
            STEPT[sc, j] = STEPT[sc, j - 1]
            STEPA[sc, j] = STEPA[sc, j - 1]
            j -= 1
        STEPT[sc, j] = t
        STEPA[sc, j] = a


@njit
def sample_timeseries(G, SV, LS, LN, RB, n_lb, TS, k):
    nserv = G[G_NSERVERS]
    depth = 0
    for s in range(nserv):
        if SV[s, SV_COST_SINCE] >= 0:
            depth += SV[s, SV_QLEN]
    util = 0.0
    nb = 0
    for lb in range(n_lb):
        row = RB[RB_LB] + LB_ROWS * lb
        for i in range(LN[row]):
            b = LS[row, i]
            util += SV[b, SV_BUSY] / SV[b, SV_CONC]
            nb += 1
    TS[k, TS_INSTANCES] = G[G_INSTANCES]
    TS[k, TS_QUEUE] = depth
    TS[k, TS_UTIL] = util / nb if nb > 0 else 0.0
    TS[k, TS_IN_FLIGHT] = G[G_CREATED] - G[G_COMPLETED] - G[G_REJECTED]


@njit
def reset_replica(seed, replica, P, TPL, SRC, SID, LB_INIT, SCS, CAS, ROS, INIT_EV, start_ns,
                  G, SV, SF, ND, H, HIST, CW, RB, LS, LN, K, SEG, NSEG, SRCD, LBI, LBF, SC,
                  STEPT, STEPA, CA, RO):
    """Put one replica's workspace in its initial state and schedule its first events.

    Out of line: it runs once per replica, so inlining it into the event loop would only
    lengthen compilation.
    """
    n_src = SRC.shape[0]
    n_lb = LB_INIT.shape[0]
    n_sc = SCS.shape[0]
    n_ca = CAS.shape[0]
    n_ro = ROS.shape[0]
    Q = ND.shape[0]

    G[:] = 0
    G[G_LAT_MIN] = -1
    SV[:, :] = 0
    SF[:, :] = 0.0
    for i in range(Q - 1):
        ND[i, ND_NEXT] = i + 1
    ND[Q - 1, ND_NEXT] = -1
    HIST[:] = 0
    LS[:, :] = 0
    LN[:] = 0
    RB[RB_LB] = 0
    RB[RB_SC] = LB_ROWS * n_lb
    RB[RB_CA] = RB[RB_SC] + n_sc
    RB[RB_RO] = RB[RB_CA] + 2 * n_ca
    RB[RB_KSRC] = 1
    RB[RB_KLB] = 1 + n_src
    RB[RB_KRO] = 1 + n_src + n_lb
    RB[RB_NRO] = max(n_ro, 1)

    seed_u = np.uint64(seed)
    rep_u = np.uint64(replica)
    # Stream keys: requests, then each source, load balancer and rolling deployer.
    for i in range(SID.shape[0]):
        K[i] = rng.stream_key(seed_u, rep_u, SID[i])

    # Sources: segments, draw counters and stop times.
    SRCD[:, :] = 0
    for i in range(n_src):
        profile_segments(SRC, P, SEG, NSEG, i)
        stop = P[SRC[i, 6]] if SRC[i, 6] >= 0 else -1.0
        SRCD[i, 1] = seconds_to_ns(stop) if stop >= 0 else -1

    # Load balancers and their initial servers (server s < n_init is initial server s).
    LBI[:, :] = 0
    LBF[:] = 0.0
    n_init = TPL.shape[0] - n_sc - n_ca - n_ro
    for s in range(n_init):
        new_server(SV, SF, G, P, TPL, s)
    for lb in range(n_lb):
        LBI[lb, LB_STRATEGY] = LB_INIT[lb, 0]
        LBI[lb, LB_PICK_STALE] = 1
        nb = LB_INIT[lb, 1]
        LBI[lb, LB_ADDED] = LB_INIT[lb, 2]
        LBI[lb, LB_REMOVED] = LB_INIT[lb, 3]
        row = LB_ROWS * lb
        for i in range(nb):
            s = LB_INIT[lb, 4 + 2 * i]
            LS[row, i] = s
            LS[row + LR_WEIGHTS, i] = LB_INIT[lb, 5 + 2 * i]
            SV[s, SV_LB] = lb
        LN[row] = nb
        LN[row + LR_WEIGHTS] = nb
    for lb in range(n_lb):
        row = LB_ROWS * lb
        for i in range(LN[row]):
            on_added(SV, G, LS[row, i], start_ns)

    SC[:, :] = 0
    for i in range(n_sc):
        SC[i, SC_LB] = SCS[i, 0]
        SC[i, SC_TPL] = SCS[i, 1]
        SC[i, SC_POLICY] = SCS[i, 2]
        SC[i, SC_POFF] = SCS[i, 3]
        SC[i, SC_NSTEPS] = SCS[i, 4]
        SC[i, SC_RUNNING] = SCS[i, 5]
        SC[i, SC_LAST_NS] = -1
        if SCS[i, 2] == POL_STEP:
            sort_steps(SC, P, STEPT, STEPA, i)
    CA[:, :] = 0
    for i in range(n_ca):
        CA[i, CA_LB] = CAS[i, 0]
        CA[i, CA_TPL] = CAS[i, 1]
        CA[i, CA_EVAL] = CAS[i, 2]
        CA[i, CA_NSTAGES] = CAS[i, 3]
        CA[i, CA_POFF] = CAS[i, 4]
        CA[i, CA_END] = -1
    RO[:, :] = 0
    for i in range(n_ro):
        RO[i, RO_LB] = ROS[i, 0]
        RO[i, RO_TPL] = ROS[i, 1]
        RO[i, RO_POFF] = ROS[i, 2]
        RO[i, RO_END] = -1

    # Events scheduled before the run, then each source's first arrival.
    for e in range(INIT_EV.shape[0]):
        heap.push(H, G, INIT_EV[e, 0], INIT_EV[e, 1], INIT_EV[e, 2], INIT_EV[e, 3])
    for i in range(n_src):
        schedule_arrival(H, G, K, RB, SRC, SRCD, SEG, NSEG, i, start_ns)



@njit
def write_results(end_ns, OUT_G, OUT_Q, OUT_LB, OUT_SC, OUT_CA, OUT_RO, G, SV, HIST, LBI, SC,
                  CA, RO):
    """Copy one replica's counters into its output rows (once per replica, out of line)."""
    n_lb = LBI.shape[0]
    n_sc = SC.shape[0]
    n_ca = CA.shape[0]
    n_ro = RO.shape[0]
    cost = 0
    for s in range(G[G_NSERVERS]):
        cost += SV[s, SV_COST_NS]
        if SV[s, SV_COST_SINCE] >= 0:
            cost += end_ns - SV[s, SV_COST_SINCE]
    G[G_COST_NS] = cost
    for f in range(OUT_G_FIELDS):
        OUT_G[f] = G[f]
    OUT_G[OUT_G_FIELDS] = G[G_NSCALE]
    OUT_G[OUT_G_FIELDS + 1] = G[G_EVENTS]
    n = G[G_COMPLETED]
    OUT_Q[0] = histogram.quantile_ns(HIST, n, 0.5, G[G_LAT_MIN], G[G_LAT_MAX])
    OUT_Q[1] = histogram.quantile_ns(HIST, n, 0.9, G[G_LAT_MIN], G[G_LAT_MAX])
    OUT_Q[2] = histogram.quantile_ns(HIST, n, 0.99, G[G_LAT_MIN], G[G_LAT_MAX])
    for lb in range(n_lb):
        for f in range(5):
            OUT_LB[lb, f] = LBI[lb, LB_STAT_FIRST + f]
    for i in range(n_sc):
        for f in range(6):
            OUT_SC[i, f] = SC[i, SC_STAT_FIRST + f]
    for i in range(n_ca):
        for f in range(7):
            OUT_CA[i, f] = CA[i, CA_STAT_FIRST + f]
        OUT_CA[i, 7] = CA[i, CA_STATUS]
        OUT_CA[i, 8] = CA[i, CA_END]
    for i in range(n_ro):
        for f in range(7):
            OUT_RO[i, f] = RO[i, RO_STAT_FIRST + f]
        OUT_RO[i, 7] = RO[i, RO_STATUS]
        OUT_RO[i, 8] = RO[i, RO_END]


@entry
def run_replicas(seed, replicas, p_index, P_ROWS, TPL, SRC, SID, LB_INIT, SCS, CAS, ROS,
                 INIT_EV, start_ns, end_ns, ts_step, j0, j1,
                 OUT_G, OUT_Q, OUT_LB, OUT_SC, OUT_CA, OUT_RO, EV, TS, STATUS,
                 G, SV, SF, ND, H, HIST, CW, RB, LS, LN, K, SEG, NSEG, SRCD, LBI, LBF, SC,
                 STEPT, STEPA, CA, RO):
    """Run replicas[j] for j in [j0, j1) on one thread (nogil: threads run these in
    parallel). Stops at the first replica that outgrows the workspace: its overflow code
    goes to STATUS[j, 0] and j is returned (the caller grows the workspace and resumes
    there; results do not depend on capacity). Returns j1 when all are done.

    The workspace (G ... RO, see ``batch.workspace``) is owned by the calling thread and
    reset for each replica, so the kernels allocate nothing and need no reference counting.
    """
    n_lb = LB_INIT.shape[0]
    n_ts = TS.shape[1]
    for j in range(j0, j1):
        P = P_ROWS[p_index[j]]
        reset_replica(seed, replicas[j], P, TPL, SRC, SID, LB_INIT, SCS, CAS, ROS, INIT_EV,
                      start_ns, G, SV, SF, ND, H, HIST, CW, RB, LS, LN, K, SEG, NSEG, SRCD, LBI,
                      LBF, SC, STEPT, STEPA, CA, RO)
        # The event loop of replica j. It is written here, not in a function of its own:
        # every numba function compiles (and optimises) all it calls into its own module,
        # so one more level would compile the whole engine once more.
        TS_j = TS[j]
        k_ts = ZERO
        while G[G_HN] > 0:
            t = H[0]
            if t > end_ns:
                break
            while k_ts < n_ts and start_ns + k_ts * ts_step < t:
                sample_timeseries(G, SV, LS, LN, RB, n_lb, TS_j, k_ts)
                k_ts += 1
            t, kind, target, payload = heap.peek(H, G)
            G[G_EVENTS] += 1
            if kind == ARRIVAL:
                handle_arrival(H, G, SV, SF, ND, LS, LN, LBI, LBF, K, RB, CW, SRC, SRCD, SEG,
                               NSEG, target, t)
            elif kind == COMPLETE:
                item, failed = handle_complete(H, G, SV, SF, ND, K, RB, HIST, target, payload, t)
                if item < 0:
                    code = -item - 1
                    nro = RB[RB_NRO]
                    probe_done(H, G, SV, SF, ND, LS, LN, LBI, LBF, SC, CA, RO, P, TPL, RB, K,
                               CW, code % nro, code // nro, t, failed)
            elif kind == SCALER_EVAL:
                handle_scaler_eval(H, G, SV, SF, ND, LS, LN, LBI, SC, P, TPL, RB, CW, EV[j],
                                   STEPT, STEPA, target, payload, t)
            elif kind == CANARY_DEPLOY:
                handle_canary_deploy(H, G, SV, SF, LS, LN, LBI, LBF, CA, P, TPL, RB, target, t)
            elif kind == CANARY_EVAL:
                handle_canary_eval(H, G, SV, SF, LS, LN, LBI, LBF, CA, P, TPL, RB, target,
                                   payload, t)
            elif kind == ROLL_DEPLOY:
                handle_roll_deploy(H, G, SV, SF, LS, LN, LBI, RO, P, TPL, RB, target, t)
            else:
                handle_roll_round(H, G, SV, SF, ND, LS, LN, LBI, LBF, SC, CA, RO, P, TPL, RB, K,
                                  CW, target, payload, t)
            heap.finish(H, G)
            if G[G_OVERFLOW] != 0:
                break
        STATUS[j, 0] = G[G_OVERFLOW]
        if G[G_OVERFLOW] != OVERFLOW_NONE:
            return j
        while k_ts < n_ts:
            sample_timeseries(G, SV, LS, LN, RB, n_lb, TS_j, k_ts)
            k_ts += 1
        write_results(end_ns, OUT_G[j], OUT_Q[j], OUT_LB[j], OUT_SC[j], OUT_CA[j], OUT_RO[j], G,
                      SV, HIST, LBI, SC, CA, RO)
    return j1
