"""What the deployers' kernels share: their new version's group of servers (created from
the deployer's template, joining its load balancer), removing a list of servers from a
load balancer, and their measured groups (rules/measure.py)."""

import numpy as np

from .shared import deployer
from .shared import measure
from ..compile import kernel
from ..schema import (CA_ROWS, CAS_LB, CAS_TPL, CR_GROUP, MEASURE_GROUPS, RB_CA, SV_LB,
                      SV_MEASURE)
from .balancer import UNIT_WEIGHT, lb_add, lb_remove
from .servers import boot, new_server

# Whose windows keep percentiles: nobody's, the new version's, both groups' (numpy
# integers: see batch/schema.py on literals).
COUNTS_ONLY, WITH_PERCENTILES, BOTH_PERCENTILES = (measure.HIST_NONE, measure.HIST_NEW,
                                                   measure.HIST_BOTH)
# A server no group measures (its SV_MEASURE).
NOT_MEASURED = np.int64(-1)
# Windows are measured with min_samples 1 (a window with one request has data); an
# analysis applies its own minimum to the count.
ONE_SAMPLE = np.int64(1)


# Three small kernels rather than one with an action code: closing windows (the
# quantiles) is compiled only into the FlaggerCanary's tick, not into every deploy and
# decision path (cold start).
@kernel
def begin_groups(w, first, now, percentiles):
    """A deployment begins for the measured groups in rows first, first + 1; whose
    windows keep percentiles: ``percentiles`` (rules/measure.py HIST_...)."""
    for g in range(MEASURE_GROUPS):
        measure.begin(w.measures[first + g], w.measure_hist[first + g], now,
                      measure.histogram_kept(percentiles, g))


@kernel
def measure_baseline(w, ca, row, now, which, part):
    """A KayentaJudge's deployment begins (compiled only for scenarios with a judge:
    bundles.Parts): the baseline (list row ``row``, the load balancer's backends) is
    measured too, and the groups of canary ``ca`` begin with histograms ``which``."""
    if part is not None:
        for i in range(w.list_len[row]):
            w.servers[w.lists[row, i], SV_MEASURE] = MEASURE_GROUPS * ca + measure.BASE
        begin_groups(w, MEASURE_GROUPS * ca, now, which)


@kernel
def close_windows(w, first, now):
    """Their windows end now: the measurements into Workspace.window, rows by group."""
    for g in range(MEASURE_GROUPS):
        measure.close_window(w.measures[first + g], w.measure_hist[first + g], ONE_SAMPLE,
                             now, w.window[g])


@kernel
def decided_groups(w, first):
    """The deployment was decided: exposure stops counting."""
    for g in range(MEASURE_GROUPS):
        measure.decided(w.measures[first + g])


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
