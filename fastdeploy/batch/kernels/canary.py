"""CanaryDeployer in the kernels: the actions of rules/canary.py's state machine. A
FlaggerCanary shares its rows and events: its handlers are called from here."""

from .shared import canary as rules
from .shared import kayenta
from .shared import server as srv
from .. import heap
from ..compile import kernel
from ..schema import (CA_KAYENTA, CA_ROWS, CANARY_EVAL, CAS_EVALUATOR, CAS_LB,
                      CAS_NSTAGES, CAS_POFF, CR_BASELINE, CR_GROUP, GC_BASELINE, GC_CANARY,
                      LR_BACKENDS, MEASURE_GROUPS, RB_CA, SV_MEASURE)
from .balancer import clear_split, lb_row, set_split
from .groups import (BOTH_PERCENTILES, COUNTS_ONLY, NOT_MEASURED, begin_groups,
                     close_windows, decided_groups, grow_group, measure_baseline,
                     remove_all)



@kernel
def group_counts(w, row, out):
    """Request counters summed over the servers of list row ``row``."""
    out[:] = 0
    SV = w.servers
    for i in range(w.list_len[row]):
        s = w.lists[row, i]
        out[rules.G_COMPLETED] += SV[s, srv.COMPLETED]
        out[rules.G_REJECTED] += SV[s, srv.REJECTED]
        out[rules.G_FAILURES] += SV[s, srv.FAILURES]
        out[rules.G_LATENCY_NS] += SV[s, srv.LATENCY_NS]


@kernel
def judged(w, sn, P, ca, now, part):
    """A KayentaJudge's evaluation: both windows close and rules/canary.py
    kayenta_judged judges the deployment's windows; True unless its verdict is Fail."""
    if part is not None:
        close_windows(w, MEASURE_GROUPS * ca, now)
        init = sn.canary_init[ca]
        _, code = rules.kayenta_judged(w.canaries[ca], P[init[CAS_POFF]:], init[CAS_NSTAGES],
                                       w.judge_windows[ca], w.window, w.judge_results,
                                       w.judge_work)
        return code != kayenta.VERDICT_FAIL
    return True


@kernel
def start_stage(w, sn, P, ca, k, now):
    prm = P[sn.canary_init[ca, CAS_POFF]:]
    base = w.bases[RB_CA] + CA_ROWS * ca
    fraction = rules.stage_fraction(prm, k)
    grow_group(w, sn, P, ca, rules.canary_group_size(fraction, w.list_len[base + CR_BASELINE]),
               now)
    set_split(w, sn.canary_init[ca, CAS_LB], base + CR_GROUP, fraction)
    st = w.canaries[ca]
    rules.stage_started(st, prm, k, now)
    heap.push_call(w.heap, w.counters, now + rules.interval_ns(prm), CANARY_EVAL, ca,
                   st[rules.DEPLOYMENT])


@kernel
def handle_canary_deploy(w, sn, P, ca, now, judge):
    """A CanaryDeployer's deploy() (a FlaggerCanary's and an ArgoCanary's have their
    own kernels: loop.canary_event)."""
    LS = w.lists
    LN = w.list_len
    base = w.bases[RB_CA] + CA_ROWS * ca
    row = lb_row(w, sn.canary_init[ca, CAS_LB]) + LR_BACKENDS
    baseline = w.group_counts[GC_BASELINE]
    if not rules.accepts_deploy(w.canaries[ca]):
        return
    # The baseline: the load balancer's backends now.
    n = LN[row]
    for i in range(n):
        LS[base + CR_BASELINE, i] = LS[row, i]
        # Untagged, where the object engine measures it as the baseline: no batch output
        # reads the baseline (see begin_groups below), and its requests are most of the
        # traffic. A server the run measured before (a canary of an earlier deployment)
        # stops counting for that group in both engines.
        w.servers[LS[row, i], SV_MEASURE] = NOT_MEASURED
    LN[base + CR_BASELINE] = n
    group_counts(w, base + CR_BASELINE, baseline)
    rules.begin(w.canaries[ca], baseline, now)
    if sn.canary_init[ca, CAS_EVALUATOR] == CA_KAYENTA:
        # Both groups keep histograms when the judge reads percentiles.
        jprm = P[sn.canary_init[ca, CAS_POFF] + rules.judge_offset(
            sn.canary_init[ca, CAS_NSTAGES]):]
        measure_baseline(w, ca, base + CR_BASELINE, now,
                         BOTH_PERCENTILES if kayenta.needs_histograms(jprm) else COUNTS_ONLY,
                         judge)
    else:
        # The batch outputs read only the new version's requests and exposure: the
        # kernels keep no windows for a built-in evaluator's CanaryDeployer, whose windows
        # are informational (last_window, object engine) and judge nothing.
        begin_groups(w, MEASURE_GROUPS * ca, now, COUNTS_ONLY)
    LN[base + CR_GROUP] = 0
    start_stage(w, sn, P, ca, rules.FIRST_STAGE, now)


@kernel
def handle_canary_eval(w, sn, P, ca, deployment, now, judge):
    """A CanaryDeployer's evaluation."""
    st = w.canaries[ca]
    if not rules.evaluation_due(st, deployment):
        return
    init = sn.canary_init[ca]
    prm = P[init[CAS_POFF]:]
    lb = init[CAS_LB]
    base = w.bases[RB_CA] + CA_ROWS * ca
    canary = w.group_counts[GC_CANARY]
    baseline = w.group_counts[GC_BASELINE]
    group_counts(w, base + CR_GROUP, canary)
    group_counts(w, base + CR_BASELINE, baseline)
    if init[CAS_EVALUATOR] == CA_KAYENTA:
        healthy = judged(w, sn, P, ca, now, judge)
    else:
        healthy = rules.builtin_healthy(init[CAS_EVALUATOR], prm, st, canary, baseline)
    action = rules.evaluated(st, prm, init[CAS_NSTAGES], healthy, now)
    if action == rules.ROLL_BACK:
        clear_split(w, lb)
        remove_all(w, sn, lb, base + CR_GROUP, now)
        rules.finished(st, rules.ROLLED_BACK, now)
        decided_groups(w, MEASURE_GROUPS * ca)
    elif action == rules.EVALUATE_AGAIN:
        heap.push_call(w.heap, w.counters, now + rules.interval_ns(prm), CANARY_EVAL, ca,
                       deployment)
    elif action == rules.NEXT_STAGE:
        start_stage(w, sn, P, ca, st[rules.STAGE] + 1, now)
    else:
        grow_group(w, sn, P, ca, w.list_len[base + CR_BASELINE], now)
        clear_split(w, lb)
        remove_all(w, sn, lb, base + CR_BASELINE, now)
        rules.finished(st, rules.COMPLETED, now)
        decided_groups(w, MEASURE_GROUPS * ca)
