"""Load balancers in the kernels: backend lists, the canary traffic split and the
strategies, with the choices themselves from rules/routing.py and rules/canary.py."""

import numpy as np

from .shared import autoscaler
from .shared import balancer as rules
from .shared import rng, routing
from .shared import server as srv
from ..compile import kernel, kernel_inline
from ..schema import (G_INSTANCES, G_PEAK, LB_PICK_STALE, LB_ROWS, LB_RR, LB_STRATEGY,
                      LR_BACKENDS, LR_GROUP, LR_PICK, LR_PICK_CUR, LR_PICK_W, LR_WEIGHTS,
                      RB_KLB, RB_LB, SCS_LB, ST_LEAST_CONN, ST_RANDOM, ST_ROUND_ROBIN,
                      ST_WEIGHTED, SV_LB)
from .servers import catch_up_call, schedule_grace_end

UNIT_WEIGHT = np.int64(1)


@kernel_inline
def lb_row(w, lb):
    """The first list row of load balancer lb (its backends)."""
    return w.bases[RB_LB] + LB_ROWS * lb


@kernel
def on_added(w, s, now):
    """Server s joined a load balancer: its instance time starts unless it runs."""
    if srv.added(w.servers[s], w.fleet, now):
        G = w.counters
        G[G_INSTANCES] += 1
        if G[G_INSTANCES] > G[G_PEAK]:
            G[G_PEAK] = G[G_INSTANCES]


@kernel
def backends_changed(w, sn, lb, now):
    """lb gained or lost a backend: the AutoScalers of lb see whether it is below their
    max_instances (for the fleet's time underprovisioned)."""
    n = w.list_len[lb_row(w, lb)]
    for sc in range(sn.scaler_init.shape[0]):
        if sn.scaler_init[sc, SCS_LB] == lb:
            autoscaler.fleet_size(w.scalers[sc], w.fleet, n, now)


@kernel
def lb_add(w, sn, lb, s, weight, now):
    LS = w.lists
    LN = w.list_len
    row = lb_row(w, lb)
    n = LN[row]
    LS[row, n] = s
    LS[row + LR_WEIGHTS, n] = weight
    LN[row] = n + 1
    LN[row + LR_WEIGHTS] = n + 1
    rules.backend_added(w.lbs[lb])
    w.lbs[lb, LB_PICK_STALE] = 1
    w.servers[s, SV_LB] = lb
    on_added(w, s, now)
    backends_changed(w, sn, lb, now)


@kernel
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


@kernel
def lb_remove(w, sn, lb, s, now):
    """Server s leaves load balancer lb (it drains what it holds)."""
    LS = w.lists
    LN = w.list_len
    row = lb_row(w, lb)
    i = list_remove(LS, LN, row, s)
    n = LN[row + LR_WEIGHTS]
    for j in range(i, n - 1):
        LS[row + LR_WEIGHTS, j] = LS[row + LR_WEIGHTS, j + 1]
    LN[row + LR_WEIGHTS] = n - 1
    list_remove(LS, LN, row + LR_GROUP, s)
    rules.backend_removed(w.lbs[lb])
    w.lbs[lb, LB_PICK_STALE] = 1
    w.servers[s, SV_LB] = -1
    if srv.removed(w.servers[s], w.fleet, now):
        w.counters[G_INSTANCES] -= 1
    else:
        schedule_grace_end(w, s, now)
    backends_changed(w, sn, lb, now)


@kernel
def lb_draw(w, lb):
    """The next uniform of load balancer lb's routing stream."""
    return rng.uniform(w.keys[w.bases[RB_KLB] + lb], rules.next_draw(w.lbs[lb]))


@kernel_inline
def strategy_select(w, lb, row, n, now, seq, part):
    """Index into the pick row of lb (n backends) chosen by its strategy, for a request
    at the instant (now, seq) (the strategies that compare loads see the servers then;
    ``part``: bundles.Parts.measured)."""
    LBI = w.lbs
    LS = w.lists
    st = LBI[lb, LB_STRATEGY]
    if st == ST_ROUND_ROBIN:
        i = routing.round_robin_pick(LBI[lb, LB_RR], n)
        LBI[lb, LB_RR] += 1
        return i
    if st == ST_WEIGHTED:
        return routing.smooth_weighted_pick(LS[row + LR_PICK_W], LS[row + LR_PICK_CUR], n)
    cand = LS[row + LR_PICK]
    if st == ST_LEAST_CONN:
        loads = w.scratch[0]
        for i in range(n):
            catch_up_call(w, cand[i], now, seq, part)
            loads[i] = srv.outstanding(w.servers[cand[i]])
        return routing.least_loaded(loads, n)
    if st == ST_RANDOM:
        return routing.index_from_uniform(lb_draw(w, lb), n)
    # power of two choices
    if n == 1:
        return 0
    u1 = lb_draw(w, lb)
    i, j = routing.two_choices(u1, lb_draw(w, lb), n)
    catch_up_call(w, cand[i], now, seq, part)
    catch_up_call(w, cand[j], now, seq, part)
    return routing.less_loaded(i, srv.outstanding(w.servers[cand[i]]), j,
                               srv.outstanding(w.servers[cand[j]]))


@kernel_inline
def lb_choose(w, lb, now, seq, part):
    """The server a request at the instant (now, seq) goes to, or -1 when there is
    none."""
    LS = w.lists
    LN = w.list_len
    LBI = w.lbs
    row = lb_row(w, lb)
    ng = LN[row + LR_GROUP]
    if ng > 0:
        SV = w.servers
        n_ready = 0
        for q in range(ng):
            n_ready += SV[LS[row + LR_GROUP, q], srv.READY]
        g = rules.split_member(LBI[lb], w.lb_split[lb], n_ready)
        if g >= 0:
            # The g-th ready member of the group.
            for q in range(ng):
                member = LS[row + LR_GROUP, q]
                if SV[member, srv.READY] == 1:
                    if g == 0:
                        return member
                    g -= 1
    if LBI[lb, LB_PICK_STALE] == 1:
        rebuild_pick_rows(w, row, lb)
    n = LN[row + LR_PICK]
    if n == 0:
        return -1
    return LS[row + LR_PICK, strategy_select(w, lb, row, n, now, seq, part)]


@kernel
def rebuild_pick_rows(w, row, lb):
    """The backends a request is routed among: the ready ones, outside the canary group
    while a split is set, with their weights. Each keeps the smooth weighted round robin
    current weight it had among the previous pick's backends, 0 if it was not one of them
    (the object engine's map from backend to current weight)."""
    LS = w.lists
    LN = w.list_len
    CW = w.scratch
    ng = LN[row + LR_GROUP]
    n_old = LN[row + LR_PICK]
    n = 0
    for k in range(LN[row + LR_BACKENDS]):
        s = LS[row + LR_BACKENDS, k]
        if w.servers[s, srv.READY] == 0:
            continue
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
    w.lbs[lb, LB_PICK_STALE] = 0


@kernel
def set_split(w, lb, group_row, fraction):
    """Send exactly ``fraction`` of lb's requests to the servers of list row group_row."""
    LS = w.lists
    LN = w.list_len
    row = lb_row(w, lb) + LR_GROUP
    n = LN[group_row]
    for i in range(n):
        LS[row, i] = LS[group_row, i]
    LN[row] = n
    w.lb_split[lb] = fraction
    restart_split(w, lb)


@kernel
def clear_split(w, lb):
    w.list_len[lb_row(w, lb) + LR_GROUP] = 0
    w.lb_split[lb] = 0.0
    restart_split(w, lb)


@kernel_inline
def restart_split(w, lb):
    rules.split_restarted(w.lbs[lb])
    w.lbs[lb, LB_PICK_STALE] = 1
