"""RollingDeployer in the kernels: the actions of rules/rolling.py's state machine."""

import numpy as np

from .shared import measure
from .shared import rolling as rules
from .. import heap
from ..compile import kernel
from ..schema import (LR_BACKENDS, LR_WEIGHTS, R_BATCH_NEW, R_NEW_ALL, R_OLD, R_OLD_W,
                      R_PASSES, R_PENDING, R_REMOVED, R_SENT, RB_NRO, RB_RO, RO_ROWS,
                      ROLL_ROUND, ROS_LB, ROS_POFF, ROS_TPL, SV_LB, SV_MEASURE,
                      MEASURE_GROUPS)
from .balancer import UNIT_WEIGHT, lb_add, lb_remove, lb_row
from .groups import COUNTS_ONLY, begin_groups, decided_groups
from .servers import REJECTED, accept_call, boot, new_server

PROBE_FAILED = np.int64(1)


@kernel
def rows_of(w, ro):
    return w.bases[RB_RO] + RO_ROWS * ro


@kernel
def measured(sn, ro):
    """The first row of the deployer's measured groups (after the canaries')."""
    return MEASURE_GROUPS * (sn.canary_init.shape[0] + ro)


@kernel
def handle_roll_deploy(w, sn, P, ro, now):
    st = w.rollings[ro]
    if not rules.accepts_deploy(st):
        return
    LS = w.lists
    LN = w.list_len
    row = lb_row(w, sn.rolling_init[ro, ROS_LB])
    base = rows_of(w, ro)
    n = LN[row + LR_BACKENDS]
    for i in range(n):
        LS[base + R_OLD, i] = LS[row + LR_BACKENDS, i]
        LS[base + R_OLD_W, i] = LS[row + LR_WEIGHTS, i]
        LS[base + R_REMOVED, i] = 0
    LN[base + R_OLD] = n
    LN[base + R_NEW_ALL] = 0
    rules.begin(st, n, now)
    # Only the new version is measured (nothing judges the old one's requests).
    begin_groups(w, measured(sn, ro), now, COUNTS_ONLY)
    start_batch(w, sn, P, ro, now)


@kernel
def start_batch(w, sn, P, ro, now):
    """The next batch's new instances join, and its first health round is scheduled."""
    st = w.rollings[ro]
    prm = P[sn.rolling_init[ro, ROS_POFF]:]
    LS = w.lists
    LN = w.list_len
    base = rows_of(w, ro)
    k = rules.next_batch(st, prm, LN[base + R_OLD], now)
    if k == 0:
        decided_groups(w, measured(sn, ro))
        return
    LN[base + R_BATCH_NEW] = 0
    lb = sn.rolling_init[ro, ROS_LB]
    for i in range(k):
        tpl = sn.rolling_init[ro, ROS_TPL]
        s = new_server(w, sn, P, tpl)
        if s < 0:
            return
        made = rules.new_instance_added(st, LS[base + R_PASSES], LS[base + R_PENDING], i)
        w.servers[s, SV_MEASURE] = measured(sn, ro) + measure.NEW
        boot(w, sn, P, s, tpl, made, now)
        lb_add(w, sn, lb, s, UNIT_WEIGHT, now)
        LS[base + R_BATCH_NEW, i] = s
        LN[base + R_BATCH_NEW] = i + 1
        LS[base + R_NEW_ALL, LN[base + R_NEW_ALL]] = s
        LN[base + R_NEW_ALL] += 1
    heap.push_call(w.heap, w.counters, now + rules.interval_ns(prm), ROLL_ROUND, ro,
                   st[rules.BATCH_ID])


@kernel
def roll_back(w, sn, ro, now):
    """Every new instance leaves; every original backend removed so far comes back with
    its weight."""
    decided_groups(w, measured(sn, ro))
    LS = w.lists
    base = rows_of(w, ro)
    lb = sn.rolling_init[ro, ROS_LB]
    for i in range(w.list_len[base + R_NEW_ALL]):
        s = LS[base + R_NEW_ALL, i]
        if w.servers[s, SV_LB] == lb:
            lb_remove(w, sn, lb, s, now)
    for i in range(w.list_len[base + R_OLD]):
        s = LS[base + R_OLD, i]
        if LS[base + R_REMOVED, i] == 1 and w.servers[s, SV_LB] != lb:
            lb_add(w, sn, lb, s, LS[base + R_OLD_W, i], now)


@kernel
def batch_healthy(w, sn, P, ro, now):
    """The batch's old backends leave (they drain); the next batch starts."""
    st = w.rollings[ro]
    LS = w.lists
    base = rows_of(w, ro)
    lb = sn.rolling_init[ro, ROS_LB]
    first = st[rules.BATCH_FIRST_OLD]
    for j in range(first, first + rules.batch_replaced(st)):
        s = LS[base + R_OLD, j]
        if w.servers[s, SV_LB] == lb:
            lb_remove(w, sn, lb, s, now)
        LS[base + R_REMOVED, j] = 1
    start_batch(w, sn, P, ro, now)


@kernel
def probe_done(w, sn, P, ro, m, failed, now):
    """Probe m of deployer ro finished (or was refused) at now."""
    st = w.rollings[ro]
    base = rows_of(w, ro)
    LS = w.lists
    n = w.list_len[base + R_BATCH_NEW]
    i = rules.awaited_by(st, LS[base + R_PENDING], n, m)
    if i < 0:
        return
    prm = P[sn.rolling_init[ro, ROS_POFF]:]
    outcome = rules.probe_done(st, prm, LS[base + R_PASSES], LS[base + R_PENDING],
                               LS[base + R_SENT], n, i, failed, now)
    if outcome == rules.ROLL_BACK:
        roll_back(w, sn, ro, now)
    elif outcome == rules.BATCH_HEALTHY:
        batch_healthy(w, sn, P, ro, now)


@kernel
def handle_roll_round(w, sn, P, ro, batch, now):
    """A health round: probes still awaited have timed out; every new instance not yet
    healthy gets a probe; the next round is scheduled."""
    st = w.rollings[ro]
    if not rules.round_due(st, batch):
        return
    prm = P[sn.rolling_init[ro, ROS_POFF]:]
    LS = w.lists
    base = rows_of(w, ro)
    passes = LS[base + R_PASSES]
    pending = LS[base + R_PENDING]
    k = w.list_len[base + R_BATCH_NEW]
    for i in range(k):
        if pending[i] >= 0:
            if rules.probe_failed(st, prm, passes, pending, i, now) == rules.ROLL_BACK:
                roll_back(w, sn, ro, now)
                return
    nro = w.bases[RB_NRO]
    for i in range(k):
        if not rules.needs_probe(prm, passes, i):
            continue
        m = rules.probe_sent(st, pending, LS[base + R_SENT], i, now)
        item = -(1 + m * nro + ro)
        if accept_call(w, LS[base + R_BATCH_NEW, i], item, now) == REJECTED:
            probe_done(w, sn, P, ro, m, PROBE_FAILED, now)
        if st[rules.STATUS] != rules.IN_PROGRESS:
            return
    heap.push_call(w.heap, w.counters, now + rules.interval_ns(prm), ROLL_ROUND, ro, batch)
