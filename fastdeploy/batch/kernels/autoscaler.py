"""AutoScaler in the kernels: the observation and the actions of rules/autoscaler.py."""

import numpy as np

from .shared import autoscaler as rules
from .shared import server as srv
from .. import heap
from ..compile import kernel
from ..schema import (EV_ACTION, EV_FROM, EV_SCALE_IN, EV_SCALE_OUT, EV_SCALER, EV_TIME,
                      EV_TO, G_NSCALE, LB_RECEIVED, LIVE_CHAIN, RB_SC, SCALER_EVAL,
                      SCS_FUNCTION, SCS_LB, SCS_NSTEPS, SCS_POFF, SCS_POLICY, SCS_TPL, SV_LB,
                      WINDOW_MARK)
from .balancer import UNIT_WEIGHT, lb_add, lb_remove, lb_row, list_remove
from .hpa import hpa_decide, hpa_scale_in
from .servers import boot, new_server


ZERO = np.int64(0)


@kernel
def record_scaling(w, events, sc, action, frm, to, now):
    """One row of the scaling-events output (the count goes on past the capacity, so
    the caller can tell it was too small)."""
    G = w.counters
    n = G[G_NSCALE]
    if n < events.shape[0]:
        events[n, EV_TIME] = now
        events[n, EV_SCALER] = sc
        events[n, EV_ACTION] = EV_SCALE_OUT if action == rules.SCALE_OUT else EV_SCALE_IN
        events[n, EV_FROM] = frm
        events[n, EV_TO] = to
    G[G_NSCALE] = n + 1


@kernel
def observed_desired(w, sn, P, sc, since, slot, now):
    """The policy's desired count from the backends' state now (means from since, with
    a metric window)."""
    SV = w.servers
    LS = w.lists
    init = sn.scaler_init[sc]
    lb = init[SCS_LB]
    row = lb_row(w, lb)
    current = w.list_len[row]
    prm = P[init[SCS_POFF]:]
    depth = 0.0
    busy = 0.0
    util = 0.0
    for i in range(current):
        b = LS[row, i]
        u, d, n = srv.observe(SV[b], w.marks, b, now, since, slot)
        util += u
        depth += d
        busy += n
    if current > 0:
        util = util / current
    if init[SCS_POLICY] == rules.FUNCTION:
        rules.observe(w.observation, prm, now, current, util, depth, busy,
                      w.lbs[lb, LB_RECEIVED])
        return sn.policy_functions[init[SCS_FUNCTION]](w.observation, prm[rules.P_POLICY:],
                                                       w.policy_memory[sc])
    ns = init[SCS_NSTEPS]
    return rules.builtin_desired(init[SCS_POLICY], prm, w.step_thresholds[sc, :ns],
                                 w.step_adjustments[sc, :ns], current, util, depth)


@kernel
def policy_decision(w, sn, P, sc, current, since, slot, now, part):
    """(action, n) of an AutoScaler's policy with its cooldowns (compiled only for
    scenarios with an AutoScaler: bundles.Parts)."""
    if part is not None:
        desired = observed_desired(w, sn, P, sc, since, slot, now)
        return rules.plan(w.scalers[sc], P[sn.scaler_init[sc, SCS_POFF]:], current, desired,
                          now)
    return rules.NO_ACTION, ZERO


@kernel
def policy_scale_in(w, sn, events, sc, lb, current, n, now, part):
    if part is not None:
        scale_in(w, sn, events, sc, lb, current, n, now)


@kernel
def hpa_change(w, sn, P, sc, current, since, slot, now, part):
    """A HorizontalPodAutoscaler's sync (compiled only for scenarios with one)."""
    if part is not None:
        return hpa_decide(w, sn, P, sc, current, since, slot, now)
    return ZERO


@kernel
def hpa_removed(w, sn, sc, lb, current, n, now, part):
    if part is not None:
        return hpa_scale_in(w, sn, sc, lb, current, n, now)
    return ZERO


@kernel
def handle_scaler_eval(w, sn, P, events, sc, live, now, policies, hpa):
    """An evaluation: observe, decide (rules.plan), act, and schedule the next one.
    ``policies`` and ``hpa``: those parts (bundles.Parts) only, so that this kernel is
    compiled once per combination of them, not of every part."""
    if live == 0:
        return
    st = w.scalers[sc]
    prm = P[sn.scaler_init[sc, SCS_POFF]:]
    lb = sn.scaler_init[sc, SCS_LB]
    row = lb_row(w, lb)
    current = w.list_len[row]
    rules.evaluation_begins(st, live, now)
    first = rules.start_marked(st, prm)
    if first >= 0:
        mark_backends(w, sn, sc, first, now)
    since, slot = rules.window_since(st, prm, now)
    is_hpa = sn.scaler_init[sc, SCS_POLICY] == rules.HPA
    if is_hpa:
        change = hpa_change(w, sn, P, sc, current, since, slot, now, hpa)
        action = rules.NO_ACTION
        n = change
        if change > 0:
            action = rules.SCALE_OUT
        elif change < 0:
            action = rules.SCALE_IN
            n = -change
    else:
        action, n = policy_decision(w, sn, P, sc, current, since, slot, now, policies)
    if action == rules.SCALE_OUT:
        mrow = w.bases[RB_SC] + sc
        for _ in range(n):
            tpl = sn.scaler_init[sc, SCS_TPL]
            s = new_server(w, sn, P, tpl)
            if s < 0:
                return
            boot(w, sn, P, s, tpl, rules.next_instance(st), now)
            lb_add(w, sn, lb, s, UNIT_WEIGHT, now)
            w.lists[mrow, w.list_len[mrow]] = s
            w.list_len[mrow] += 1
        record_scaling(w, events, sc, action, current, current + n, now)
        rules.scaled(st, action, n, now)
    elif action == rules.SCALE_IN:
        if is_hpa:
            k = hpa_removed(w, sn, sc, lb, current, n, now, hpa)
            if k > 0:
                record_scaling(w, events, sc, action, current, current - k, now)
                rules.scaled(st, action, k, now)
        else:
            policy_scale_in(w, sn, events, sc, lb, current, n, now, policies)
    t, mark_slot = rules.next_mark(st, prm)
    if t >= 0:
        heap.push_call(w.heap, w.counters, t, WINDOW_MARK, sc, mark_slot)
    heap.push_call(w.heap, w.counters, now + rules.interval_ns(prm), SCALER_EVAL, sc,
                   LIVE_CHAIN)


@kernel
def scale_in(w, sn, events, sc, lb, current, n, now):
    """Remove the victims rules.choose_victims picks (they drain)."""
    LS = w.lists
    LN = w.list_len
    mrow = w.bases[RB_SC] + sc
    row = lb_row(w, lb)
    pos = w.scratch[0]
    out = w.scratch[2]
    n_managed = LN[mrow]
    for i in range(n_managed):
        s = LS[mrow, i]
        pos[i] = -1
        if w.servers[s, SV_LB] == lb:
            for p in range(LN[row]):
                if LS[row, p] == s:
                    pos[i] = p
                    break
    k = rules.choose_victims(pos, n_managed, LN[row], n, out)
    # Positions shift as backends leave: turn them into servers first.
    for q in range(k):
        out[q] = LS[row, out[q]]
    for q in range(k):
        lb_remove(w, sn, lb, out[q], now)
        list_remove(LS, LN, mrow, out[q])
    if k == 0:
        return
    record_scaling(w, events, sc, rules.SCALE_IN, current, current - k, now)
    rules.scaled(w.scalers[sc], rules.SCALE_IN, k, now)


@kernel
def mark_backends(w, sn, sc, slot, now):
    """A metric window of scaler sc starts now: its backends keep their integrals."""
    row = lb_row(w, sn.scaler_init[sc, SCS_LB])
    for i in range(w.list_len[row]):
        b = w.lists[row, i]
        srv.mark(w.servers[b], w.marks, b, slot, now)
