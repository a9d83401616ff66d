"""FlaggerCanary in the kernels: the actions of rules/flagger.py's ticks. It shares the
canary's bank row, init row, list rows (group, baseline) and event kinds
(CANARY_DEPLOY, CANARY_EVAL): kernels/canary.py's handlers call these when its init
row's CAS_EVALUATOR is CA_FLAGGER."""

from .shared import flagger as rules
from .shared import kayenta, measure
from .. import heap
from ..compile import kernel
from ..schema import (CA_ROWS, CANARY_EVAL, CAS_JUDGE, CAS_LB, CAS_POFF, CR_BASELINE, CR_GROUP,
                      LR_BACKENDS, MEASURE_GROUPS, RB_CA, SV_MEASURE)
from .balancer import clear_split, lb_row, set_split
from .groups import (BOTH_PERCENTILES, NOT_MEASURED, WITH_PERCENTILES, begin_groups,
                     close_windows, decided_groups, grow_group, measure_baseline,
                     remove_all)


@kernel
def flagger_judged(w, prm, ca, part):
    """The KayentaJudge's part of an analysis (compiled only for scenarios with a
    judge): rules/flagger.py judged on the windows just closed."""
    if part is not None:
        _, code = rules.judged(w.canaries[ca], prm, w.window, w.judge_windows[ca],
                               w.judge_results, w.judge_work)
        return code != kayenta.VERDICT_FAIL
    return True


@kernel
def handle_flagger_deploy(w, sn, P, ca, now, judge):
    """The canary scales up (as many instances as the baseline, at weight 0) and the
    first tick is scheduled."""
    st = w.canaries[ca]
    if not rules.accepts_deploy(st):
        return
    LS = w.lists
    LN = w.list_len
    lb = sn.canary_init[ca, CAS_LB]
    base = w.bases[RB_CA] + CA_ROWS * ca
    row = lb_row(w, lb) + LR_BACKENDS
    n = LN[row]
    for i in range(n):
        LS[base + CR_BASELINE, i] = LS[row, i]
        # Untagged, as the CanaryDeployer's baseline (kernels/canary.py): the tick judges
        # the canary's window only.
        w.servers[LS[row, i], SV_MEASURE] = NOT_MEASURED
    LN[base + CR_BASELINE] = n
    rules.begin(st, now)
    if sn.canary_init[ca, CAS_JUDGE] != 0:
        # A KayentaJudge compares with the baseline: measured, with histograms when the
        # judge reads percentiles.
        prm = P[sn.canary_init[ca, CAS_POFF]:]
        measure_baseline(w, ca, base + CR_BASELINE, now,
                         BOTH_PERCENTILES if kayenta.needs_histograms(
                             prm[rules.judge_offset(prm) + 1:]) else WITH_PERCENTILES,
                         judge)
    else:
        begin_groups(w, MEASURE_GROUPS * ca, now, WITH_PERCENTILES)
    LN[base + CR_GROUP] = 0
    grow_group(w, sn, P, ca, max(1, n), now)
    set_split(w, lb, base + CR_GROUP, rules.fraction(st))
    prm = P[sn.canary_init[ca, CAS_POFF]:]
    heap.push_call(w.heap, w.counters, now + rules.interval_ns(prm), CANARY_EVAL, ca,
                   st[rules.DEPLOYMENT])


@kernel
def handle_flagger_tick(w, sn, P, ca, deployment, now, judge):
    """A tick: the canary's window closes and rules.tick decides."""
    st = w.canaries[ca]
    if not rules.tick_due(st, deployment):
        return
    prm = P[sn.canary_init[ca, CAS_POFF]:]
    lb = sn.canary_init[ca, CAS_LB]
    base = w.bases[RB_CA] + CA_ROWS * ca
    close_windows(w, MEASURE_GROUPS * ca, now)
    judge_ok = True
    if sn.canary_init[ca, CAS_JUDGE] != 0 and rules.analysed(st, prm):
        judge_ok = flagger_judged(w, prm, ca, judge)
    action = rules.tick(st, prm, w.window[measure.NEW], judge_ok, now)
    if action == rules.ROLL_BACK:
        clear_split(w, lb)
        remove_all(w, sn, lb, base + CR_GROUP, now)
        decided_groups(w, MEASURE_GROUPS * ca)
    elif action == rules.PROMOTE:
        clear_split(w, lb)
        remove_all(w, sn, lb, base + CR_BASELINE, now)
        decided_groups(w, MEASURE_GROUPS * ca)
    else:
        if action == rules.SET_WEIGHT:
            set_split(w, lb, base + CR_GROUP, rules.fraction(st))
        heap.push_call(w.heap, w.counters, now + rules.interval_ns(prm), CANARY_EVAL, ca,
                       deployment)
