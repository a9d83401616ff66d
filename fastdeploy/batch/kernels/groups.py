"""What the deployers' kernels share: their new version's group of servers (created from
the deployer's template, joining its load balancer), removing a list of servers from a
load balancer, and their measured groups (rules/measure.py)."""

import numpy as np

from ...rules import deployer
from ...rules import measure
from ..compile import kernel
from ..schema import (CA_ROWS, CAS_LB, CAS_TPL, CR_GROUP, MEASURE_GROUPS, RB_CA, SV_LB,
                      SV_MEASURE)
from .balancer import UNIT_WEIGHT, lb_add, lb_remove
from .servers import boot, new_server

# What measure_rows does (numpy integers: see batch/schema.py on literals): a deployment
# BEGINs (the new version's windows with percentiles) or BEGIN_COUNTS (without), the
# windows CLOSE, the deployment is DECIDED.
BEGIN, CLOSE, DECIDED, BEGIN_COUNTS = (np.int64(0), np.int64(1), np.int64(2),
                                       np.int64(3))
# Windows are measured with min_samples 1 (a window with one request has data); an
# analysis applies its own minimum to the count.
ONE_SAMPLE = np.int64(1)


@kernel
def measure_rows(w, first, now, action):
    """The deployer's measured groups (rows first, first + 1 of Workspace.measures):
    BEGIN a deployment, CLOSE their windows (into Workspace.window) or DECIDED."""
    for g in range(MEASURE_GROUPS):
        m = first + g
        if action == BEGIN or action == BEGIN_COUNTS:
            measure.begin(w.measures[m], w.measure_hist[m], now,
                          action == BEGIN and g == measure.NEW)
        elif action == CLOSE:
            measure.close_window(w.measures[m], w.measure_hist[m], ONE_SAMPLE, now,
                                 w.window[g])
        else:
            measure.decided(w.measures[m])


@kernel
def grow_group(w, sn, P, ca, size, now):
    """New-version servers join the group (and the load balancer) until it has size."""
    grow = w.bases[RB_CA] + CA_ROWS * ca + CR_GROUP
    LN = w.list_len
    while LN[grow] < size:
        tpl = sn.canary_init[ca, CAS_TPL]
        s = new_server(w, sn, P, tpl)
        if s < 0:
            return
        w.servers[s, SV_MEASURE] = MEASURE_GROUPS * ca + measure.NEW
        boot(w, sn, P, s, tpl, deployer.next_instance(w.canaries[ca]), now)
        lb_add(w, sn, sn.canary_init[ca, CAS_LB], s, UNIT_WEIGHT, now)
        w.lists[grow, LN[grow]] = s
        LN[grow] += 1


@kernel
def remove_all(w, sn, lb, row, now):
    """The servers of list row ``row`` that are still backends of lb leave it."""
    for i in range(w.list_len[row]):
        s = w.lists[row, i]
        if w.servers[s, SV_LB] == lb:
            lb_remove(w, sn, lb, s, now)
