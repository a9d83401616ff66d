"""ArgoCanary in the kernels: the actions of rules/argo.py. It shares the canary's bank
row, init row (CAS_EVALUATOR CA_ARGO, CAS_NSTAGES its metric slots), list rows (group,
baseline) and event kinds (CANARY_DEPLOY; CANARY_EVAL with rules.payload: a metric
slot's measurement or a pause's end); its metric slots are rows of Workspace.argo_slots
and argo_hist. The event loop calls argo_event for a scenario with an ArgoCanary
(bundles.Parts ``argo``)."""

import numpy as np

from ...rules import argo as rules
from .. import heap
from ..compile import kernel
from ..schema import (CA_ROWS, CANARY_DEPLOY, CANARY_EVAL, CAS_LB, CAS_POFF, CR_BASELINE,
                      CR_GROUP, LR_BACKENDS, MEASURE_GROUPS, RB_CA, SV_MEASURE)
from ...rules import measure
from .balancer import clear_split, lb_row, set_split
from .groups import DECIDED, grow_group, measure_rows, remove_all

WHAT_MASK = np.int64((1 << rules.PAYLOAD_SHIFT) - 1)


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
            grow_group(w, sn, P, ca, rules.canary_replicas(st[rules.WEIGHT],
                                                           w.list_len[base + CR_BASELINE]), now)
            if w.list_len[base + CR_GROUP] > 0:
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
            grow_group(w, sn, P, ca, w.list_len[base + CR_BASELINE], now)
            clear_split(w, lb)
            remove_all(w, sn, lb, base + CR_BASELINE, now)
            measure_rows(w, MEASURE_GROUPS * ca, now, DECIDED)
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
    rules.begin(st, now)
    prm = P[sn.canary_init[ca, CAS_POFF]:]
    g = MEASURE_GROUPS * ca
    rules.begin_groups(w.measures[g:g + MEASURE_GROUPS], w.measure_hist[g:g + MEASURE_GROUPS],
                       prm, now)
    LN[base + CR_GROUP] = 0
    argo_drive(w, sn, P, ca, now)


@kernel
def handle_argo_event(w, sn, P, ca, code, now):
    """A pause's end or a metric's measurement (rules.payload ``code``)."""
    st = w.canaries[ca]
    deployment = code >> rules.PAYLOAD_SHIFT
    what = code & WHAT_MASK
    if what >= rules.PAUSE_END:
        if rules.pause_due(st, deployment, what - rules.PAUSE_END):
            rules.pause_ended(st)
            argo_drive(w, sn, P, ca, now)
        return
    if not rules.measurement_due(st, w.argo_slots[ca, what], deployment, now):
        return
    prm = P[sn.canary_init[ca, CAS_POFF]:]
    g = MEASURE_GROUPS * ca
    action = rules.measured(st, w.argo_slots[ca], prm, what, w.measures[g:g + MEASURE_GROUPS],
                            w.measure_hist[g:g + MEASURE_GROUPS], w.argo_hist[ca, what],
                            w.window, now)
    if action == rules.MEASURE_AGAIN:
        heap.push_call(w.heap, w.counters, w.argo_slots[ca, what, rules.MS_NEXT_NS],
                       CANARY_EVAL, ca, code)
    elif action == rules.ABORT:
        lb = sn.canary_init[ca, CAS_LB]
        clear_split(w, lb)
        remove_all(w, sn, lb, w.bases[RB_CA] + CA_ROWS * ca + CR_GROUP, now)
        measure_rows(w, g, now, DECIDED)
    elif action == rules.STEP_DONE:
        argo_drive(w, sn, P, ca, now)


@kernel
def argo_event(w, sn, P, kind, ca, payload, now):
    if kind == CANARY_DEPLOY:
        handle_argo_deploy(w, sn, P, ca, now)
    else:
        handle_argo_event(w, sn, P, ca, payload, now)
