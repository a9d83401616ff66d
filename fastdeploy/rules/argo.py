"""Argo Rollouts' canary strategy (spec.strategy.canary: steps, background analysis) and
its AnalysisRuns (analysis/analysis.go, utils/evaluate), shared by both engines.

State: one int64 record per ArgoCanary (the deployer lifecycle's head, rules/deployer.py,
then its own), and one int64 row per metric slot (``MS_FIELDS``): an analysis's metric
as used by one step or by the background analysis, with its counters and the snapshots
where its window over the canary and the baseline groups starts (rules/measure.py
``snapshot``; a copy of each group's histogram beside it). Parameters: one float64 row:
the header (``P_...``), the steps (``STEP_PARAMS`` each), the metric slots (``M_PARAMS``
each).

A deployment starts at step 0 and weight 0. ``proceed`` carries it from its current step
and returns what the engine must do: SET_WEIGHT (the canary's new weight), START_RUN (an
Analysis step's run: the step waits for it), START_BACKGROUND (the background run, when
the current step reaches its starting step), WAIT_PAUSE (a timed pause), PAUSE (an
indefinite pause: status paused), PROMOTE (after the last step). A metric measures at
``initial_delay + k * interval`` after its run starts (k = 1, 2, ...), each measurement
covering the interval before it; ``measured`` judges it and assesses the metric and its
run as Argo does: a Failed run aborts the rollout, an Inconclusive one pauses it, a
Successful step run completes the step.

A metric whose provider is a KayentaJudge (Argo's ``provider.kayenta``) closes a
sub-window every ``step`` seconds (its scope's step) and keeps it in its series (rows
of the deployer's judge windows, ``series_first``); at each measurement ``measured``
returns JUDGE, the engine calls ``judge_slot`` (the judge compares the canary's
sub-windows of the interval with the baseline's: rules/kayenta.py ``judge_windows``) and
then ``recorded`` with the phase Argo's kayenta provider gives the score: Successful at
pass_score or above, Inconclusive at marginal_score or above, else Failed.
"""

import math

import numpy as np

from . import deployer, kayenta, measure
from .deployer import (COMPLETED, IN_PROGRESS, PAUSED, ROLLED_BACK, STATUS_NAMES,  # noqa: F401
                       accepts_deploy, finished, next_instance, paused, reset, started,
                       weight_reached)
from .exact import ceil_exact
from .jit import njit
from .timeconv import seconds_to_ns

(STATUS, END_NS, DEPLOYMENTS_STARTED, DEPLOYMENTS_COMPLETED, DEPLOYMENTS_ABORTED,
 STEPS_COMPLETED, MEASUREMENTS_SUCCESSFUL, MEASUREMENTS_FAILED,
 MEASUREMENTS_INCONCLUSIVE) = range(deployer.STATS_FIRST + deployer.N_STATS)
# Own fields: the deployment's number, its current step, the canary's weight (percent),
# whether the current step's run is on, the background run (0 not started, 1 running, 2
# ended), the stable's instances when the deployment began (Argo's spec.replicas), the
# stable instances made again after a scale-down (they are named by it).
DEPLOYMENT, STEP, WEIGHT, STEP_RUN, BG_RUN, REPLICAS, STABLE_MADE = range(
    deployer.OWN_FIRST, deployer.OWN_FIRST + 7)
FIELDS = deployer.OWN_FIRST + 7
STATS_FIRST = deployer.STATS_FIRST
STATS = ("deployments_started", "deployments_completed", "deployments_aborted",
         "steps_completed", "measurements_successful", "measurements_failed",
         "measurements_inconclusive")
TOTAL_WEIGHT = 100

# Parameters: steps, metric slots, the background run (its starting step, -1 without
# one; its first slot and number of slots), whether weights are set by traffic routing,
# whether the baseline keeps a latency histogram (a percentile ratio reads it).
(P_N_STEPS, P_N_SLOTS, P_BG_STEP, P_BG_FIRST, P_BG_SLOTS, P_TRAFFIC_ROUTING,
 P_BASE_HIST, P_SCALE_DOWN, P_N_JUDGED) = range(9)
P_STEPS = 9
# P_N_JUDGED: the metric slots whose provider is a KayentaJudge.
# P_SCALE_DOWN: -1 for a canary; for a blue/green rollout (ArgoBlueGreen) the seconds the
# old version stays after the promotion (scaleDownDelaySeconds). A blue/green rollout is
# this same program: SetWeight (the preview, as many instances as the active, gets that
# share), its pre-promotion Analysis, a Pause (autoPromotionSeconds), then promotion.
# Per step: kind, value (weight percent, pause seconds or -1 for indefinite), its run's
# first slot and number of slots.
SP_KIND, SP_VALUE, SP_FIRST, SP_SLOTS = range(4)
STEP_PARAMS = 4
K_SET_WEIGHT, K_PAUSE, K_ANALYSIS = range(3)
# Per metric slot: the measurement's field (rules/measure.py M_...), ratio to the baseline
# (0/1), success and failure conditions (operator code, threshold), interval (s), count
# (-1: not given, see effective_count), initial delay (s), failure limit (-1: off), inconclusive
# limit, consecutive success limit (0: off), min samples; for a KayentaJudge's metric the
# scope's step (s; 0 for other metrics) and where its judge row (rules/kayenta.py J_...)
# starts in the parameter row (-1 for other metrics): the judge rows follow the slots.
(MP_FIELD, MP_RATIO, MP_SUCCESS_OP, MP_SUCCESS, MP_FAILURE_OP, MP_FAILURE, MP_INTERVAL,
 MP_COUNT, MP_DELAY, MP_FAILURE_LIMIT, MP_INCONCLUSIVE_LIMIT, MP_CONSECUTIVE,
 MP_MIN_SAMPLES, MP_STEP, MP_JUDGE) = range(15)
M_PARAMS = 15

# Condition operators.
OP_NONE, OP_LT, OP_LE, OP_GT, OP_GE, OP_EQ = range(6)
OPERATORS = {"<": OP_LT, "<=": OP_LE, ">": OP_GT, ">=": OP_GE, "==": OP_EQ}

# A metric slot's state: phase, measurements taken and their results, consecutive
# successes, when the next measurement (or the end of the initial delay) is due (ns),
# whether it is in its initial delay, for a KayentaJudge's metric the sub-windows closed
# since its last measurement and its last score (x 100: Kayenta rounds it to two
# decimals), then per group (measure.NEW, measure.BASE) the snapshot where its window
# starts (measure.S_FIELDS each).
(MS_PHASE, MS_COUNT, MS_SUCCESSFUL, MS_FAILED, MS_INCONCLUSIVE, MS_CONSECUTIVE,
 MS_NEXT_NS, MS_DELAYED, MS_SUB, MS_SCORE) = range(10)
MS_SNAP = 10
MS_FIELDS = MS_SNAP + measure.S_FIELDS * measure.GROUPS

# Phases of a measurement, a metric and a run (Argo's AnalysisPhase; IDLE: not started).
IDLE, RUNNING, SUCCESSFUL, FAILED, INCONCLUSIVE = range(5)
PHASE_NAMES = ("idle", "running", "successful", "failed", "inconclusive")

# What proceed and measured ask of the engine.
(SET_WEIGHT, START_BACKGROUND, START_RUN, WAIT_PAUSE, PAUSE, PROMOTE, ABORT, WAIT,
 MEASURE_AGAIN, STEP_DONE, JUDGE) = range(11)

# Events carry (deployment, what) in one payload: a metric slot, PAUSE_END + step, or
# SCALE_DOWN (a blue/green rollout's old version leaves).
PAUSE_END = 1 << 19
SCALE_DOWN = 1 << 18
PAYLOAD_SHIFT = 20


@njit
def begin(st, now, replicas):
    """A deployment of a stable of ``replicas`` instances starts at now: step 0, weight
    0, no analysis run."""
    started(st, now)
    st[REPLICAS] = replicas
    st[DEPLOYMENT] += 1
    st[STEP] = 0
    st[WEIGHT] = 0
    st[STEP_RUN] = 0
    st[BG_RUN] = 0


@njit
def begin_groups(recs, hists, prm, now):
    """The measured groups' deployment starts: the canary's windows keep percentiles,
    the baseline's only when a metric reads a percentile ratio."""
    measure.begin(recs[measure.NEW], hists[measure.NEW], now, True)
    measure.begin(recs[measure.BASE], hists[measure.BASE], now, prm[P_BASE_HIST] != 0.0)


@njit
def payload(deployment, what):
    return (deployment << PAYLOAD_SHIFT) | what


@njit
def step_offset(k):
    return P_STEPS + STEP_PARAMS * k


@njit
def slot_offset(prm, j):
    return P_STEPS + STEP_PARAMS * int(prm[P_N_STEPS]) + M_PARAMS * j


@njit
def step_done(st):
    st[STEP] += 1
    st[STEPS_COMPLETED] += 1


@njit
def proceed(st, prm, now):
    """The next thing the rollout does from its current step (see the module doc)."""
    k = st[STEP]
    if st[BG_RUN] == 0 and prm[P_BG_STEP] >= 0 and k >= prm[P_BG_STEP]:
        st[BG_RUN] = 1
        return START_BACKGROUND
    if k >= int(prm[P_N_STEPS]):
        st[WEIGHT] = TOTAL_WEIGHT
        weight_reached(st, 1.0)
        finished(st, COMPLETED, now)
        return PROMOTE
    o = step_offset(k)
    kind = int(prm[o + SP_KIND])
    if kind == K_SET_WEIGHT:
        st[WEIGHT] = int(prm[o + SP_VALUE])
        step_done(st)
        return SET_WEIGHT
    if kind == K_PAUSE:
        if prm[o + SP_VALUE] < 0:
            paused(st, now)
            return PAUSE
        return WAIT_PAUSE
    st[STEP_RUN] = 1
    return START_RUN


@njit
def pause_ns(prm, k):
    """A timed pause step's duration (ns)."""
    return seconds_to_ns(prm[step_offset(k) + SP_VALUE])


@njit
def pause_due(st, deployment, k):
    """The end of step k's pause counts while that deployment runs at that step (a
    rollout paused meanwhile stays paused)."""
    return st[STATUS] == IN_PROGRESS and st[DEPLOYMENT] == deployment and st[STEP] == k


@njit
def pause_ended(st):
    step_done(st)


@njit
def run_slots(st, prm, background):
    """(first slot, number of slots) of the background run or of the current step's."""
    if background:
        return int(prm[P_BG_FIRST]), int(prm[P_BG_SLOTS])
    o = step_offset(st[STEP])
    return int(prm[o + SP_FIRST]), int(prm[o + SP_SLOTS])


@njit
def open_windows(m, recs, hists, snap_hists, now):
    """The metric's windows over both groups start at now."""
    for g in range(measure.GROUPS):
        a = MS_SNAP + measure.S_FIELDS * g
        measure.snapshot(recs[g], hists[g], m[a:a + measure.S_FIELDS], snap_hists[g], now)


@njit
def start_metric(m, prm, j, recs, hists, snap_hists, now):
    """Slot j's metric starts with its run at now; returns when its event is due: the
    end of its initial delay (where its first window starts), or its first measurement."""
    o = slot_offset(prm, j)
    m[:MS_SNAP] = 0
    m[MS_PHASE] = RUNNING
    delay = seconds_to_ns(prm[o + MP_DELAY])
    if delay > 0:
        m[MS_DELAYED] = 1
        m[MS_NEXT_NS] = now + delay
    else:
        m[MS_NEXT_NS] = now + tick_ns(prm, o)
    open_windows(m, recs, hists, snap_hists, now)
    return m[MS_NEXT_NS]


@njit
def judged_metric(prm, o):
    """Whether the metric at parameter offset o has a KayentaJudge as its provider."""
    return prm[o + MP_JUDGE] >= 0.0


@njit
def tick_ns(prm, o):
    """Between the metric's events: its interval, or a Kayenta metric's step (it closes
    a sub-window at each and measures every interval / step of them)."""
    if judged_metric(prm, o):
        return seconds_to_ns(prm[o + MP_STEP])
    return seconds_to_ns(prm[o + MP_INTERVAL])


@njit
def sub_windows(prm, o):
    """A Kayenta metric's sub-windows per measurement: interval / step (a whole number,
    checked where the metric is made)."""
    return seconds_to_ns(prm[o + MP_INTERVAL]) // seconds_to_ns(prm[o + MP_STEP])


@njit
def series_capacity(prm):
    """The rows of judge windows an ArgoCanary needs: a block of the most sub-windows
    of any of its Kayenta metrics per Kayenta metric (0 without one)."""
    most = 0
    for j in range(int(prm[P_N_SLOTS])):
        o = slot_offset(prm, j)
        if judged_metric(prm, o):
            most = max(most, sub_windows(prm, o))
    return most * int(prm[P_N_JUDGED])


@njit
def series_first(prm, j, capacity):
    """The first row of slot j's series among ``capacity`` rows of judge windows: the
    Kayenta metrics share them in equal blocks, in slot order."""
    k = 0
    for i in range(j):
        if judged_metric(prm, slot_offset(prm, i)):
            k += 1
    return k * (capacity // int(prm[P_N_JUDGED]))



@njit
def measurement_due(st, m, deployment, now):
    """A measurement of the metric counts while its deployment runs (or is paused: the
    analysis runs on) and its metric runs, at the time it was scheduled for."""
    return ((st[STATUS] == IN_PROGRESS or st[STATUS] == PAUSED)
            and st[DEPLOYMENT] == deployment and m[MS_PHASE] == RUNNING
            and m[MS_NEXT_NS] == now)


@njit
def compare(op, v, threshold):
    if op == OP_LT:
        return v < threshold
    if op == OP_LE:
        return v <= threshold
    if op == OP_GT:
        return v > threshold
    if op == OP_GE:
        return v >= threshold
    return v == threshold


@njit
def value_of(prm, o, canary, baseline):
    """The metric's value from the canary's and the baseline's measurements (NaN: no
    data). A ratio to a baseline of 0 is 1 for a canary of 0, else infinite."""
    if canary[measure.M_COUNT] < prm[o + MP_MIN_SAMPLES] or canary[measure.M_HAS_DATA] == 0.0:
        return np.nan
    f = int(prm[o + MP_FIELD])
    v = canary[f]
    if prm[o + MP_RATIO] == 0.0:
        return v
    if (baseline[measure.M_COUNT] < prm[o + MP_MIN_SAMPLES]
            or baseline[measure.M_HAS_DATA] == 0.0):
        return np.nan
    b = baseline[f]
    if v != v or b != b:
        return np.nan
    if b == 0.0:
        return 1.0 if v == 0.0 else math.inf
    return v / b


@njit
def evaluate(prm, o, v):
    """A measurement's phase (Argo's EvaluateResult): no data is Inconclusive; a met
    failure condition Failed; without a failure condition an unmet success condition is
    Failed, without a success condition an unmet failure condition Successful; neither
    met Inconclusive."""
    if v != v:
        return INCONCLUSIVE
    sop = int(prm[o + MP_SUCCESS_OP])
    fop = int(prm[o + MP_FAILURE_OP])
    if sop == OP_NONE and fop == OP_NONE:
        return SUCCESSFUL
    ok = sop != OP_NONE and compare(sop, v, prm[o + MP_SUCCESS])
    bad = fop != OP_NONE and compare(fop, v, prm[o + MP_FAILURE])
    if fop == OP_NONE:
        bad = not ok
    elif sop == OP_NONE:
        ok = not bad
    if bad:
        return FAILED
    if not ok:
        return INCONCLUSIVE
    return SUCCESSFUL


@njit
def effective_count(prm, o, background):
    """Measurements the metric takes (0: until its run ends). Without a count: until the
    run ends in the background, or with a consecutive success limit; else one."""
    count = int(prm[o + MP_COUNT])
    if count >= 0:
        return count
    if background or prm[o + MP_CONSECUTIVE] > 0:
        return 0
    return 1


@njit
def is_background(prm, j):
    """Whether slot j belongs to the background analysis."""
    return (prm[P_BG_SLOTS] > 0 and prm[P_BG_FIRST] <= j
            and j < prm[P_BG_FIRST] + prm[P_BG_SLOTS])


@njit
def assess(m, prm, o, background):
    """The metric's phase after a measurement (Argo's assessMetricStatus)."""
    fl = int(prm[o + MP_FAILURE_LIMIT])
    cs = int(prm[o + MP_CONSECUTIVE])
    phase = RUNNING
    if fl >= 0 and m[MS_FAILED] > fl:
        phase = FAILED
    if m[MS_INCONCLUSIVE] > int(prm[o + MP_INCONCLUSIVE_LIMIT]):
        phase = INCONCLUSIVE
    if phase != RUNNING:
        return phase
    if cs > 0 and m[MS_CONSECUTIVE] >= cs:
        return SUCCESSFUL
    count = effective_count(prm, o, background)
    if count > 0 and m[MS_COUNT] >= count:
        if cs > 0:
            # Count reached without the consecutive successes asked for.
            return INCONCLUSIVE if fl >= 0 else FAILED
        return SUCCESSFUL
    return RUNNING


@njit
def run_phase(ms, first, n):
    """A run's phase from its metrics': Failed if one failed, else Inconclusive if one
    was, else Running while one runs, else Successful (Argo's assessRunStatus: a
    Failed or Inconclusive metric terminates the run)."""
    worst = SUCCESSFUL
    running = False
    for j in range(first, first + n):
        p = ms[j, MS_PHASE]
        if p == FAILED:
            worst = FAILED
        elif p == INCONCLUSIVE and worst != FAILED:
            worst = INCONCLUSIVE
        elif p == RUNNING:
            running = True
    if worst == SUCCESSFUL and running:
        return RUNNING
    return worst


@njit
def measured(st, ms, prm, j, recs, hists, snap_hists, out, series, now):
    """Slot j's event at now (after measurement_due): its windows' measurements go to
    ``out`` (canary, baseline rows) and the next windows start; the measurement is
    judged and counted (``recorded``). Returns MEASURE_AGAIN (at ms[j, MS_NEXT_NS]),
    WAIT, STEP_DONE (the engine proceeds), ABORT (the deployment has ended), PAUSE, or
    JUDGE for a Kayenta metric's measurement (the engine then calls judge_slot and
    recorded). At the end of the initial delay it only starts the windows; a Kayenta
    metric's sub-window between measurements goes to its rows of ``series`` (the
    deployer's judge windows, (group, row, M_FIELDS)); both return MEASURE_AGAIN."""
    m = ms[j]
    o = slot_offset(prm, j)
    if m[MS_DELAYED] != 0:
        m[MS_DELAYED] = 0
        open_windows(m, recs, hists, snap_hists, now)
        m[MS_NEXT_NS] = now + tick_ns(prm, o)
        return MEASURE_AGAIN
    for g in range(measure.GROUPS):
        a = MS_SNAP + measure.S_FIELDS * g
        measure.measure_since(recs[g], hists[g], m[a:a + measure.S_FIELDS], snap_hists[g],
                              1, now, out[g])
    open_windows(m, recs, hists, snap_hists, now)
    if judged_metric(prm, o):
        row = series_first(prm, j, series.shape[1]) + m[MS_SUB]
        for g in range(measure.GROUPS):
            for f in range(measure.M_FIELDS):
                series[g, row, f] = out[g, f]
        m[MS_SUB] += 1
        if m[MS_SUB] < sub_windows(prm, o):
            m[MS_NEXT_NS] = now + tick_ns(prm, o)
            return MEASURE_AGAIN
        m[MS_SUB] = 0
        return JUDGE
    r = evaluate(prm, o, value_of(prm, o, out[measure.NEW], out[measure.BASE]))
    return recorded(st, ms, prm, j, r, now)


@njit
def score_phase(code):
    """The measurement's phase from a Kayenta verdict (Argo's kayenta provider's
    evaluateResult on the score: >= pass Successful, >= marginal Inconclusive, else
    Failed; the thresholds are whole numbers, so Argo's truncation of the score to an
    integer gives the judge's own verdict)."""
    if code == kayenta.VERDICT_PASS:
        return SUCCESSFUL
    if code == kayenta.VERDICT_MARGINAL:
        return INCONCLUSIVE
    return FAILED


@njit
def judge_slot(m, prm, j, series, results, work):
    """A Kayenta metric's measurement (after measured returned JUDGE): its judge
    compares the canary's sub-windows of the interval with the baseline's; the score
    (x 100) goes to m[MS_SCORE]. Returns (score, verdict code, the measurement's phase)."""
    o = slot_offset(prm, j)
    lo = series_first(prm, j, series.shape[1])
    n = sub_windows(prm, o)
    value, code = kayenta.judge_windows(prm[int(prm[o + MP_JUDGE]):],
                                        series[measure.NEW, lo:lo + n],
                                        series[measure.BASE, lo:lo + n], n, results, work)
    m[MS_SCORE] = math.floor(value * 100.0 + 0.5)
    return value, code, score_phase(code)


@njit
def recorded(st, ms, prm, j, r, now):
    """Slot j's measurement of phase r counted, the metric and its run assessed as Argo
    does; returns what measured returns."""
    m = ms[j]
    o = slot_offset(prm, j)
    m[MS_COUNT] += 1
    if r == SUCCESSFUL:
        m[MS_SUCCESSFUL] += 1
        m[MS_CONSECUTIVE] += 1
        st[MEASUREMENTS_SUCCESSFUL] += 1
    elif r == FAILED:
        m[MS_FAILED] += 1
        m[MS_CONSECUTIVE] = 0
        st[MEASUREMENTS_FAILED] += 1
    else:
        m[MS_INCONCLUSIVE] += 1
        m[MS_CONSECUTIVE] = 0
        st[MEASUREMENTS_INCONCLUSIVE] += 1
    background = is_background(prm, j)
    phase = assess(m, prm, o, background)
    if phase == RUNNING:
        m[MS_NEXT_NS] = now + tick_ns(prm, o)
        return MEASURE_AGAIN
    m[MS_PHASE] = phase
    first, n = run_slots(st, prm, background)
    run = run_phase(ms, first, n)
    if run == RUNNING:
        return WAIT
    # The run has ended: its other metrics stop (a terminated run's metrics are
    # Successful in Argo; they only need to stop measuring here).
    for i in range(first, first + n):
        if ms[i, MS_PHASE] == RUNNING:
            ms[i, MS_PHASE] = SUCCESSFUL
    if background:
        st[BG_RUN] = 2
    else:
        st[STEP_RUN] = 0
    if run == FAILED:
        st[WEIGHT] = 0
        finished(st, ROLLED_BACK, now)
        return ABORT
    if run == INCONCLUSIVE:
        paused(st, now)
        return PAUSE
    if background:
        return WAIT
    step_done(st)
    # A paused rollout does not move on when its step's analysis succeeds.
    return STEP_DONE if st[STATUS] == IN_PROGRESS else WAIT


@njit
def weight_set(st, prm):
    """The (canary, stable) instances the weight just set asks for, and the share of
    traffic it gives the canary (recorded for max_weight): with traffic routing,
    canary_replicas and the whole stable, the weight itself; without, basic_counts with
    maxSurge 25%, the canary's share of the instances."""
    n = st[REPLICAS]
    w = st[WEIGHT]
    if blue_green(prm):
        weight_reached(st, w / TOTAL_WEIGHT)
        return n, n
    if prm[P_TRAFFIC_ROUTING] != 0.0:
        weight_reached(st, w / TOTAL_WEIGHT)
        return canary_replicas(w, n), n
    c, s = basic_counts(n, w, max_surge(n))
    if c + s > 0:
        weight_reached(st, c / (c + s))
    return c, s


@njit
def blue_green(prm):
    """Whether this is a blue/green rollout (the preview has all the replicas; the old
    version leaves scale_down_ns after the promotion)."""
    return prm[P_SCALE_DOWN] >= 0.0


@njit
def scale_down_ns(prm):
    return seconds_to_ns(prm[P_SCALE_DOWN])


@njit
def scale_down_due(st, deployment):
    """The old version of a promoted blue/green deployment leaves (unless another
    deployment started meanwhile)."""
    return st[STATUS] == COMPLETED and st[DEPLOYMENT] == deployment


@njit
def routed(prm):
    """Whether weights are a traffic split (else instance counts)."""
    return prm[P_TRAFFIC_ROUTING] != 0.0


@njit
def stable_made(st):
    """The number of the next stable instance made again (1 for the first)."""
    st[STABLE_MADE] += 1
    return st[STABLE_MADE]


@njit
def fraction(st):
    """The canary's share of the traffic now (traffic routing)."""
    return st[WEIGHT] / TOTAL_WEIGHT


@njit
def canary_replicas(weight, replicas):
    """Canary instances for a weight with traffic routing (Argo's
    trafficWeightToReplicas: ceil(weight x replicas / 100); the stable keeps all)."""
    if weight <= 0:
        return 0
    return ceil_exact(weight * replicas / TOTAL_WEIGHT)


@njit
def max_surge(replicas):
    """maxSurge 25% of the replicas, rounded up (Argo's and Kubernetes' default)."""
    return ceil_exact(0.25 * replicas)


@njit
def _tied(weight, total):
    x = total * (weight / TOTAL_WEIGHT)
    return x - math.floor(x) == 0.5


@njit
def _delta(weight, canary, total):
    return abs(canary * TOTAL_WEIGHT / total - weight)


@njit
def basic_counts(replicas, weight, surge):
    """(canary, stable) instances realising ``weight`` percent without a traffic router
    (Argo's approximateWeightedCanaryStableReplicaCounts): of the options ceil or floor
    of weight x replicas out of replicas, or out of replicas + 1 when ``surge`` > 0, the
    closest to the weight (the first on a tie); a weight of 1..99 never rounds the canary
    to 0 unless one replica without surge."""
    if replicas == 0:
        return 0, 0
    ceil_c = int(math.ceil(replicas * weight / TOTAL_WEIGHT))
    floor_c = int(math.floor(replicas * weight / TOTAL_WEIGHT))
    zero_ok = weight == TOTAL_WEIGHT or weight == 0 or (replicas == 1 and surge == 0)
    best_c, best_t, best_d = -1, 0, math.inf
    for option in range(4):
        c = ceil_c if option % 2 == 0 else floor_c
        t = replicas if option < 2 else replicas + 1
        if option == 0 and not (ceil_c < replicas or zero_ok):
            continue
        if option == 1 and (_tied(weight, replicas) or not (floor_c != 0 or zero_ok)):
            continue
        if option >= 2 and surge <= 0:
            continue
        if option == 3 and (_tied(weight, replicas + 1) or not (floor_c != 0 or zero_ok)):
            continue
        d = _delta(weight, c, t)
        if best_c < 0 or d < best_d:
            best_c, best_t, best_d = c, t, d
    if best_c < 0:
        return 0, replicas
    return best_c, best_t - best_c
