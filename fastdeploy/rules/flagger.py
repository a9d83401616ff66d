"""Flagger's canary analysis (pkg/controller/scheduler.go, progressive traffic
strategy), shared by both engines.

State: one int64 record per FlaggerCanary: the deployer lifecycle's head
(rules/deployer.py), then its own. Parameters: one float64 row: interval, threshold,
step weight, max weight, the number of step weights and of metrics, the step weights,
then per metric (measurement field, scale, min, max, min_samples).

Every ``interval`` after a deployment starts, a tick (Flagger's scheduler run):

1. failed checks >= threshold: roll back;
2. at weight 0 (the first tick) no analysis ("Starting canary analysis"); else the
   analysis of the canary's last window (rules/measure.py): each metric in order, a
   value outside [min, max] fails it, fewer than min_samples requests (or no value) is
   "no values found"; either halts advancement and adds a failed check (Flagger's
   runAnalysis returning false), the checks are cumulative over the deployment;
3. the weight below max weight: it advances by the next step (nextStepWeight), capped
   at 100; at or above it: promotion.
"""

from . import deployer, kayenta, measure
from .deployer import (COMPLETED, IN_PROGRESS, ROLLED_BACK, STATUS_NAMES,  # noqa: F401
                       accepts_deploy, finished, next_instance, reset, started,
                       weight_reached)
from .jit import njit
from .timeconv import seconds_to_ns

(STATUS, END_NS, DEPLOYMENTS_STARTED, DEPLOYMENTS_COMPLETED, DEPLOYMENTS_ROLLED_BACK,
 WEIGHT_STEPS, CHECKS_PASSED, CHECKS_FAILED, CHECKS_NO_DATA) = range(
    deployer.STATS_FIRST + deployer.N_STATS)
# Own fields: the deployment's number, the canary's weight (integer percent, as
# Flagger's), its failed checks, the last analysis's verdict (NONE before one).
# WINDOWS: the analysed windows a KayentaJudge has judged in this deployment.
DEPLOYMENT, WEIGHT, FAILED_CHECKS, LAST_VERDICT, WINDOWS = range(deployer.OWN_FIRST,
                                                                 deployer.OWN_FIRST + 5)
FIELDS = deployer.OWN_FIRST + 5
STATS_FIRST = deployer.STATS_FIRST
STATS = ("deployments_started", "deployments_completed", "deployments_rolled_back",
         "weight_steps", "checks_passed", "checks_failed", "checks_no_data")

P_INTERVAL, P_THRESHOLD, P_STEP_WEIGHT, P_MAX_WEIGHT, P_N_STEPS, P_N_METRICS = range(6)
P_STEPS = 6
# Per metric, from P_STEPS + n_steps + M_PARAMS * k.
MP_FIELD, MP_SCALE, MP_MIN, MP_MAX, MP_MIN_SAMPLES = range(5)
M_PARAMS = 5
# After the metrics: 1 if a KayentaJudge is part of the analysis (judge_offset), then its
# judge row (rules/kayenta.py J_...).
TOTAL_WEIGHT = 100

# Verdicts of an analysis, and what a tick leads to.
NONE, PASS, FAIL, NO_DATA = range(4)
VERDICT_NAMES = ("none", "pass", "fail", "no_data")
HALT, SET_WEIGHT, PROMOTE, ROLL_BACK = range(4)

# Built-in metrics: Flagger's two (request-success-rate in percent, request-duration
# as the p99 in seconds) and the measurements by name (rules/measure.py).
BUILTIN_METRICS = {"request-success-rate": (measure.M_SUCCESS_RATE, 100.0),
                   "request-duration": (measure.M_P99, 1.0)}
for _i, _name in enumerate(measure.M_NAMES):
    if _name not in ("count", "has_data", "start", "end"):
        BUILTIN_METRICS[_name] = (_i, 1.0)
BUILTIN_METRICS["count"] = (measure.M_COUNT, 1.0)


@njit
def begin(st, now):
    """A deployment starts at now: weight 0, no failed checks."""
    started(st, now)
    st[DEPLOYMENT] += 1
    st[WEIGHT] = 0
    st[FAILED_CHECKS] = 0
    st[LAST_VERDICT] = NONE
    st[WINDOWS] = 0


@njit
def interval_ns(prm):
    return seconds_to_ns(prm[P_INTERVAL])


@njit
def tick_due(st, deployment):
    """A tick of ``deployment`` runs only while that deployment is on."""
    return st[STATUS] == IN_PROGRESS and deployment == st[DEPLOYMENT]


@njit
def max_weight(prm):
    """maxWeight: the last step weight (at most 100) with step weights, else max_weight."""
    n = int(prm[P_N_STEPS])
    if n > 0:
        return min(TOTAL_WEIGHT, int(prm[P_STEPS + n - 1]))
    return int(prm[P_MAX_WEIGHT])


@njit
def next_step(prm, weight):
    """Flagger's nextStepWeight: step_weight, or the difference to the next of the step
    weights (at most what is left to 100)."""
    n = int(prm[P_N_STEPS])
    step = int(prm[P_STEP_WEIGHT])
    if step > 0 or n == 0:
        return step
    left = TOTAL_WEIGHT - weight
    if left == 0:
        return 1
    if weight == 0:
        return min(left, int(prm[P_STEPS]))
    for i in range(n - 1):
        if int(prm[P_STEPS + i]) == weight:
            return min(left, int(prm[P_STEPS + i + 1]) - weight)
    return left


@njit
def judge(prm, m):
    """The analysis of a measurement row ``m`` (rules/measure.py, of the canary's last
    window): PASS, FAIL (a value outside its range) or NO_DATA, metric by metric in
    order, the first that does not pass deciding."""
    first = P_STEPS + int(prm[P_N_STEPS])
    for k in range(int(prm[P_N_METRICS])):
        p = first + M_PARAMS * k
        if m[measure.M_COUNT] < prm[p + MP_MIN_SAMPLES] or m[measure.M_HAS_DATA] == 0.0:
            return NO_DATA
        v = m[int(prm[p + MP_FIELD])]
        if v != v:
            return NO_DATA  # e.g. a latency when every request was rejected
        v = v * prm[p + MP_SCALE]
        if v < prm[p + MP_MIN] or v > prm[p + MP_MAX]:
            return FAIL
    return PASS


@njit
def judge_offset(prm):
    """Where the judge flag is in the parameter row (after the metrics)."""
    return P_STEPS + int(prm[P_N_STEPS]) + M_PARAMS * int(prm[P_N_METRICS])


@njit
def has_judge(prm):
    """Whether a KayentaJudge is part of the analysis."""
    return prm[judge_offset(prm)] != 0.0


@njit
def analysed(st, prm):
    """Whether the next tick runs the analysis (not rolled back, weight above 0)."""
    return st[FAILED_CHECKS] < int(prm[P_THRESHOLD]) and st[WEIGHT] > 0


@njit
def max_analyses(prm):
    """The most ticks with an analysis in one deployment: at most ``threshold`` fail
    (the tick after the last rolls back), and each passed one advances the weight
    toward the max weight or promotes."""
    n = int(prm[P_N_STEPS])
    if n > 0:
        passes = n + 1
    else:
        step = int(prm[P_STEP_WEIGHT])
        passes = (int(prm[P_MAX_WEIGHT]) + step - 1) // step + 1
    return int(prm[P_THRESHOLD]) + passes


@njit
def judged(st, prm, measured, windows, results, work):
    """The KayentaJudge's part of an analysis (call it when ``analysed``): the windows
    just closed (``measured``, rows NEW and BASE) join the deployment's analysed windows
    (``windows[group, k]``, room for max_analyses), and the judge judges all of them
    (rules/kayenta.py judge_windows). Returns (score, verdict code); the analysis fails
    on VERDICT_FAIL (tick's ``judge_ok``)."""
    k = st[WINDOWS]
    for f in range(measure.M_FIELDS):
        windows[measure.NEW, k, f] = measured[measure.NEW, f]
        windows[measure.BASE, k, f] = measured[measure.BASE, f]
    st[WINDOWS] = k + 1
    return kayenta.judge_windows(prm[judge_offset(prm) + 1:], windows[measure.NEW],
                                 windows[measure.BASE], k + 1, results, work)


@njit
def tick(st, prm, m, judge_ok, now):
    """One scheduler run on the canary's last window ``m``: HALT, SET_WEIGHT (the new
    weight in st[WEIGHT]), PROMOTE or ROLL_BACK (the deployment has then ended). With a
    KayentaJudge, ``judge_ok`` is whether its verdict (``judged``) was not Fail: after
    the metrics pass, a Fail fails the analysis (verdict FAIL)."""
    if st[FAILED_CHECKS] >= int(prm[P_THRESHOLD]):
        finished(st, ROLLED_BACK, now)
        return ROLL_BACK
    w = st[WEIGHT]
    if w > 0:
        v = judge(prm, m)
        if v == PASS and not judge_ok:
            v = FAIL
        st[LAST_VERDICT] = v
        if v != PASS:
            st[FAILED_CHECKS] += 1
            st[CHECKS_FAILED] += 1
            if v == NO_DATA:
                st[CHECKS_NO_DATA] += 1
            return HALT
        st[CHECKS_PASSED] += 1
    if w < max_weight(prm):
        w = min(TOTAL_WEIGHT, w + next_step(prm, w))
        st[WEIGHT] = w
        st[WEIGHT_STEPS] += 1
        weight_reached(st, w / TOTAL_WEIGHT)
        return SET_WEIGHT
    weight_reached(st, 1.0)
    finished(st, COMPLETED, now)
    return PROMOTE


@njit
def fraction(st):
    """The canary's share of the traffic now."""
    return st[WEIGHT] / TOTAL_WEIGHT


