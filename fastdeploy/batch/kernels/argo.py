"""ArgoCanary in the kernels: the actions of rules/argo.py. It shares the canary's bank
row, init row (CAS_EVALUATOR CA_ARGO, CAS_NSTAGES its metric slots), list rows (group,
baseline) and event kinds (CANARY_DEPLOY; CANARY_EVAL with rules.payload: a metric
slot's measurement or a pause's end); its metric slots are rows of Workspace.argo_slots
and argo_hist; a Kayenta metric's sub-windows are rows of its Workspace.judge_windows.
The event loop calls argo_event for a scenario with an ArgoCanary (bundles.Parts
``argo``); the judge's kernels are compiled only with a KayentaJudge (``judge``)."""

import numpy as np

from .shared import argo as rules
from .shared import server as srv
from .. import heap
from ..compile import kernel
from ..schema import (CA_ROWS, CANARY_DEPLOY, CANARY_EVAL, CAS_LB, CAS_POFF, CR_BASELINE,
                      CR_GROUP, LR_BACKENDS, MEASURE_GROUPS, RB_CA, SF_A, SF_B, SF_FAIL,
                      SV_KIND, SV_LB, SV_MEASURE)
from .shared import measure
from .balancer import UNIT_WEIGHT, clear_split, lb_add, lb_remove, lb_row, set_split
from .groups import decided_groups, grow_group, remove_all
from .servers import place_server

WHAT_MASK = np.int64((1 << rules.PAYLOAD_SHIFT) - 1)


@kernel
def clone_server(w, src):
    """A new server configured as server src, ready at once; its index, or -1 when the
    bank is full."""
    SV = w.servers
    SF = w.server_dist
    return place_server(w, SV[src, srv.CONCURRENCY], SV[src, srv.CAPACITY],
                        SV[src, srv.GRACE_NS], SV[src, SV_KIND], SF[src, SF_A], SF[src, SF_B],
                        SF[src, SF_FAIL])


@kernel
def scale_stable(w, sn, ca, target, now):
    """Without traffic routing: the stable's live instances down to target (the last
    first), or up to it with new ones like the last removed (ArgoCanary._scale_stable)."""
    lb = sn.canary_init[ca, CAS_LB]
    row = w.bases[RB_CA] + CA_ROWS * ca + CR_BASELINE
    LS = w.lists
    SV = w.servers
    live = 0
    for i in range(w.list_len[row]):
        if SV[LS[row, i], SV_LB] == lb:
            live += 1
    extra = live - target
    i = w.list_len[row] - 1
    while extra > 0:
        if SV[LS[row, i], SV_LB] == lb:
            lb_remove(w, sn, lb, LS[row, i], now)
            extra -= 1
        i -= 1
    while extra < 0:
        i = w.list_len[row] - 1
        while i >= 0 and SV[LS[row, i], SV_LB] == lb:
            i -= 1
        if i < 0:
            return
        s = clone_server(w, LS[row, i])
        if s < 0:
            return
        rules.stable_made(w.canaries[ca])
        SV[s, SV_MEASURE] = MEASURE_GROUPS * ca + measure.BASE
        lb_add(w, sn, lb, s, UNIT_WEIGHT, now)
        LS[row, w.list_len[row]] = s
        w.list_len[row] += 1
        extra += 1


@kernel
def argo_start_run(w, sn, P, ca, background, now):
    """A run's metrics start; each one's first measurement is scheduled."""
    st = w.canaries[ca]
    prm = P[sn.canary_init[ca, CAS_POFF]:]
    g = MEASURE_GROUPS * ca
    first, n = rules.run_slots(st, prm, background)
    for j in range(first, first + n):
        when = rules.start_metric(w.argo_slots[ca, j], prm, j, w.measures[g:g + MEASURE_GROUPS],
                                  w.measure_hist[g:g + MEASURE_GROUPS], w.argo_hist[ca, j], now)
        heap.push_call(w.heap, w.counters, when, CANARY_EVAL, ca,
                       rules.payload(st[rules.DEPLOYMENT], j))


@kernel
def argo_drive(w, sn, P, ca, now):
    """Carry the rollout on (rules.proceed) until it waits, as ArgoCanary._drive."""
    st = w.canaries[ca]
    prm = P[sn.canary_init[ca, CAS_POFF]:]
    lb = sn.canary_init[ca, CAS_LB]
    base = w.bases[RB_CA] + CA_ROWS * ca
    while True:
        action = rules.proceed(st, prm, now)
        if action == rules.SET_WEIGHT:
            canary, stable = rules.weight_set(st, prm)
            grow_group(w, sn, P, ca, canary, now)
            if not rules.routed(prm):
                scale_stable(w, sn, ca, stable, now)
            elif w.list_len[base + CR_GROUP] > 0:
                set_split(w, lb, base + CR_GROUP, rules.fraction(st))
            continue
        if action == rules.START_BACKGROUND:
            argo_start_run(w, sn, P, ca, True, now)
            continue
        if action == rules.START_RUN:
            argo_start_run(w, sn, P, ca, False, now)
        elif action == rules.WAIT_PAUSE:
            k = st[rules.STEP]
            heap.push_call(w.heap, w.counters, now + rules.pause_ns(prm, k), CANARY_EVAL, ca,
                           rules.payload(st[rules.DEPLOYMENT], rules.PAUSE_END + k))
        elif action == rules.PROMOTE:
            grow_group(w, sn, P, ca, st[rules.REPLICAS], now)
            if rules.blue_green(prm):
                # The new version takes all the traffic; the old one leaves later.
                if w.list_len[base + CR_GROUP] > 0:
                    set_split(w, lb, base + CR_GROUP, 1.0)
                decided_groups(w, MEASURE_GROUPS * ca)
                heap.push_call(w.heap, w.counters, now + rules.scale_down_ns(prm), CANARY_EVAL,
                               ca, rules.payload(st[rules.DEPLOYMENT], rules.SCALE_DOWN))
            else:
                clear_split(w, lb)
                remove_all(w, sn, lb, base + CR_BASELINE, now)
                decided_groups(w, MEASURE_GROUPS * ca)
        return


@kernel
def handle_argo_deploy(w, sn, P, ca, now):
    """The deployment starts at step 0, weight 0 (no canary instance yet)."""
    st = w.canaries[ca]
    if not rules.accepts_deploy(st):
        return
    LS = w.lists
    LN = w.list_len
    base = w.bases[RB_CA] + CA_ROWS * ca
    row = lb_row(w, sn.canary_init[ca, CAS_LB]) + LR_BACKENDS
    n = LN[row]
    for i in range(n):
        LS[base + CR_BASELINE, i] = LS[row, i]
        w.servers[LS[row, i], SV_MEASURE] = MEASURE_GROUPS * ca + measure.BASE
    LN[base + CR_BASELINE] = n
    rules.begin(st, now, n)
    prm = P[sn.canary_init[ca, CAS_POFF]:]
    g = MEASURE_GROUPS * ca
    rules.begin_groups(w.measures[g:g + MEASURE_GROUPS], w.measure_hist[g:g + MEASURE_GROUPS],
                       prm, now)
    LN[base + CR_GROUP] = 0
    argo_drive(w, sn, P, ca, now)


@kernel
def judge_block(w, ca):
    """The canary's block of judge windows (a scenario without a judge has one small
    block, which no metric then writes)."""
    return min(ca, w.judge_windows.shape[0] - 1)


@kernel
def argo_judged(w, prm, ca, j, part):
    """A Kayenta metric's measurement (compiled only for scenarios with a judge):
    rules.judge_slot's phase."""
    if part is not None:
        _, _, phase = rules.judge_slot(w.argo_slots[ca, j], prm, j,
                                       w.judge_windows[judge_block(w, ca)], w.judge_results,
                                       w.judge_work)
        return phase
    return rules.INCONCLUSIVE


@kernel
def handle_argo_event(w, sn, P, ca, code, now, judge):
    """A pause's end or a metric's measurement (rules.payload ``code``)."""
    st = w.canaries[ca]
    deployment = code >> rules.PAYLOAD_SHIFT
    what = code & WHAT_MASK
    if what >= rules.PAUSE_END:
        if rules.pause_due(st, deployment, what - rules.PAUSE_END):
            rules.pause_ended(st)
            argo_drive(w, sn, P, ca, now)
        return
    if what == rules.SCALE_DOWN:
        if rules.scale_down_due(st, deployment):
            lb = sn.canary_init[ca, CAS_LB]
            clear_split(w, lb)
            remove_all(w, sn, lb, w.bases[RB_CA] + CA_ROWS * ca + CR_BASELINE, now)
        return
    if not rules.measurement_due(st, w.argo_slots[ca, what], deployment, now):
        return
    prm = P[sn.canary_init[ca, CAS_POFF]:]
    g = MEASURE_GROUPS * ca
    action = rules.measured(st, w.argo_slots[ca], prm, what, w.measures[g:g + MEASURE_GROUPS],
                            w.measure_hist[g:g + MEASURE_GROUPS], w.argo_hist[ca, what],
                            w.window, w.judge_windows[judge_block(w, ca)], now)
    if action == rules.JUDGE:
        phase = argo_judged(w, prm, ca, what, judge)
        action = rules.recorded(st, w.argo_slots[ca], prm, what, phase, now)
    if action == rules.MEASURE_AGAIN:
        heap.push_call(w.heap, w.counters, w.argo_slots[ca, what, rules.MS_NEXT_NS],
                       CANARY_EVAL, ca, code)
    elif action == rules.ABORT:
        lb = sn.canary_init[ca, CAS_LB]
        clear_split(w, lb)
        remove_all(w, sn, lb, w.bases[RB_CA] + CA_ROWS * ca + CR_GROUP, now)
        if not rules.routed(prm):
            scale_stable(w, sn, ca, st[rules.REPLICAS], now)
        decided_groups(w, g)
    elif action == rules.STEP_DONE:
        argo_drive(w, sn, P, ca, now)


@kernel
def argo_event(w, sn, P, kind, ca, payload, now, judge):
    if kind == CANARY_DEPLOY:
        handle_argo_deploy(w, sn, P, ca, now)
    else:
        handle_argo_event(w, sn, P, ca, payload, now, judge)
