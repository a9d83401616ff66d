"""Canary decisions: the exact traffic split and the built-in evaluators' math."""

import math

import numpy as np

from . import deployer, kayenta, measure
from .deployer import (COMPLETED, IN_PROGRESS, ROLLED_BACK, STATUS_NAMES,  # noqa: F401
                       accepts_deploy, finished, next_instance, reset, started,
                       weight_reached)
from .exact import ceil_exact
from .jit import njit, njit_inline
from .timeconv import seconds_to_ns


@njit_inline
def split_to_canary(i, fraction):
    """The i-th request routed since the split was set goes to the canary group?"""
    return math.floor((i + 1) * fraction) > math.floor(i * fraction)


@njit
def canary_group_size(fraction, n_baseline):
    """max(1, ceil(fraction * n)); a product within rounding error of an integer is it
    (0.55 * 20 is 11.000000000000002 in floating point, and gives 11)."""
    return max(1, ceil_exact(fraction * n_baseline))


@njit
def error_rate(failures, rejected, completed):
    denom = completed + rejected
    if denom <= 0:
        return 0.0
    return (failures + rejected) / denom


@njit
def mean_latency_seconds(total_latency_ns, completed):
    if completed <= 0:
        return 0.0
    return total_latency_ns / completed / 1e9


@njit
def judge(canary_value, baseline_value, limit, multiplier):
    """Healthy unless the canary is over the limit or over baseline x multiplier."""
    if canary_value > limit:
        return False
    if baseline_value > 0.0 and canary_value > baseline_value * multiplier:
        return False
    return True


# == The CanaryDeployer's state machine (SPEC section 7), shared by both engines ==========
# State: one int64 record per deployer. Parameters: one float64 row: evaluation_interval,
# the evaluator's limit and multiplier, then (traffic_percentage, evaluation_period) per
# stage. The engines create and remove servers and set the split; what to do, and every
# counter, is decided here.

# The record: the deployer lifecycle's head (rules/deployer.py), then the canary's own.
(STATUS, END_NS, DEPLOYMENTS_STARTED, DEPLOYMENTS_COMPLETED, DEPLOYMENTS_ROLLED_BACK,
 STAGES_COMPLETED, EVALUATIONS_PERFORMED, EVALUATIONS_PASSED, EVALUATIONS_FAILED) = range(
    deployer.STATS_FIRST + deployer.N_STATS)
# WINDOWS: the windows a Kayenta judge has judged in this deployment (kayenta_judged).
(DEPLOYMENT, STAGE, STAGE_START_NS, BASE_COMPLETED, BASE_REJECTED, BASE_FAILURES,
 BASE_LATENCY_NS, WINDOWS) = range(deployer.OWN_FIRST, deployer.OWN_FIRST + 8)
FIELDS = deployer.OWN_FIRST + 8
STATS_FIRST = deployer.STATS_FIRST
STATS = ("deployments_started", "deployments_completed", "deployments_rolled_back",
         "stages_completed", "evaluations_performed", "evaluations_passed",
         "evaluations_failed")

P_INTERVAL, P_LIMIT, P_MULTIPLIER, P_STAGES = range(4)

# Built-in evaluators (2 is the FlaggerCanary's code in the kernels' shared rows).
# KAYENTA: a KayentaJudge on the windows of each evaluation interval (kayenta_judged);
# its judge row (rules/kayenta.py J_...) follows the stages in the parameter row.
ERROR_RATE, LATENCY, KAYENTA = 0, 1, 3

# What an evaluation leads to.
ROLL_BACK, EVALUATE_AGAIN, NEXT_STAGE, PROMOTE = range(4)

# Group counters, as a 4-element int64 array: completed, rejected, failures, latency_ns.
G_COMPLETED, G_REJECTED, G_FAILURES, G_LATENCY_NS = range(4)


@njit
def begin(st, baseline, now):
    """A new deployment starts at now, remembering the baseline group's counters."""
    started(st, now)
    st[DEPLOYMENT] += 1
    st[BASE_COMPLETED] = baseline[G_COMPLETED]
    st[BASE_REJECTED] = baseline[G_REJECTED]
    st[BASE_FAILURES] = baseline[G_FAILURES]
    st[BASE_LATENCY_NS] = baseline[G_LATENCY_NS]
    st[STAGE] = 0
    st[WINDOWS] = 0


@njit
def stage_fraction(prm, k):
    return prm[P_STAGES + 2 * k]


@njit
def stage_started(st, prm, k, now):
    st[STAGE] = k
    st[STAGE_START_NS] = now
    weight_reached(st, stage_fraction(prm, k))


@njit
def interval_ns(prm):
    return seconds_to_ns(prm[P_INTERVAL])


@njit
def evaluation_due(st, deployment):
    """An evaluation event of ``deployment`` runs only while that deployment is on."""
    return st[STATUS] == IN_PROGRESS and deployment == st[DEPLOYMENT]


@njit
def builtin_healthy(evaluator, prm, st, canary, baseline):
    """A built-in evaluator's verdict on the canary group's counters against the
    baseline's since the deployment began (both as group-counter arrays)."""
    bc = baseline[G_COMPLETED] - st[BASE_COMPLETED]
    br = baseline[G_REJECTED] - st[BASE_REJECTED]
    bf = baseline[G_FAILURES] - st[BASE_FAILURES]
    blat = baseline[G_LATENCY_NS] - st[BASE_LATENCY_NS]
    c = canary[G_COMPLETED]
    if evaluator == ERROR_RATE:
        return judge(error_rate(canary[G_FAILURES], canary[G_REJECTED], c),
                     error_rate(bf, br, bc), prm[P_LIMIT], prm[P_MULTIPLIER])
    return judge(mean_latency_seconds(canary[G_LATENCY_NS], c),
                 mean_latency_seconds(blat, bc), prm[P_LIMIT], prm[P_MULTIPLIER])


@njit
def evaluated(st, prm, n_stages, healthy, now):
    """What an evaluation with this verdict leads to; counts it.

    Unhealthy: roll back. Healthy: evaluate again until the stage's period has passed,
    then the next stage, or promotion after the last (a promoted deployment reports
    current_stage == total_stages, as happysim does).
    """
    st[EVALUATIONS_PERFORMED] += 1
    if not healthy:
        st[EVALUATIONS_FAILED] += 1
        return ROLL_BACK
    st[EVALUATIONS_PASSED] += 1
    k = st[STAGE]
    if now - st[STAGE_START_NS] < seconds_to_ns(prm[P_STAGES + 2 * k + 1]):
        return EVALUATE_AGAIN
    st[STAGES_COMPLETED] += 1
    if k + 1 < n_stages:
        return NEXT_STAGE
    st[STAGE] = n_stages
    # Promotion: the new version takes all the traffic.
    weight_reached(st, 1.0)
    return PROMOTE


FIRST_STAGE = np.int64(0)


# == A KayentaJudge as the evaluator =====================================================
@njit
def judge_offset(n_stages):
    """Where the judge row starts in the parameter row (after the stages)."""
    return P_STAGES + 2 * n_stages


@njit
def max_evaluations(prm, n_stages):
    """The most evaluations one deployment can make: per stage, evaluations every
    interval until its period has passed (at least one)."""
    step = interval_ns(prm)
    total = 0
    for k in range(n_stages):
        period = seconds_to_ns(prm[P_STAGES + 2 * k + 1])
        total += max(1, (period + step - 1) // step)
    return total


@njit
def kayenta_judged(st, prm, n_stages, windows, measured, results, work):
    """A KayentaJudge's evaluation: the windows just closed (``measured``: a
    measurement row per group, rules/measure.py NEW and BASE) are appended to the
    deployment's (``windows[group, k]``, room for max_evaluations), and every window of
    the deployment so far is judged (rules/kayenta.py judge_windows; ``results`` and
    ``work`` its arrays). Returns (score, verdict code): healthy unless VERDICT_FAIL."""
    k = st[WINDOWS]
    for f in range(measure.M_FIELDS):
        windows[measure.NEW, k, f] = measured[measure.NEW, f]
        windows[measure.BASE, k, f] = measured[measure.BASE, f]
    st[WINDOWS] = k + 1
    return kayenta.judge_windows(prm[judge_offset(n_stages):], windows[measure.NEW],
                                 windows[measure.BASE], k + 1, results, work)
