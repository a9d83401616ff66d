"""Kubernetes' own table tests for the HPA's decision logic, case by case, case names kept.

Sources (kubernetes/kubernetes, pkg/controller/podautoscaler): horizontal_test.go
(TestScalingWithRules, TestNormalizeDesiredReplicasWithBehavior, TestStoreScaleEvents,
TestCalculateScaleUpLimitWithScalingRules, TestCalculateScaleDownLimitWithBehaviors) and
replica_calculator_test.go (the CPU cases with unready pods and missing metrics, the
Pods and External metric cases). Inputs and expected values are theirs.
"""

import numpy as np
import pytest

from fastdeploy.kubernetes import (HPABehavior, HPAScalingPolicy, HPAScalingRules,
                                   hpa_recommendation)
from fastdeploy.rules import hpa as rules

NOW = 10_000.0  # seconds: the dry run takes any origin


def scaling_rules(pods, pods_period, percent, percent_period, window):
    """generateScalingRules: select Max, a Pods policy and/or a Percent policy."""
    policies = []
    if pods:
        policies.append(HPAScalingPolicy("Pods", pods, pods_period))
    if percent:
        policies.append(HPAScalingPolicy("Percent", percent, percent_period))
    return HPAScalingRules(window, "Max", policies)


def uniform_events(raw, period, sign):
    """generateEventsUniformDistribution: events spread over the last ``period`` seconds,
    each in the middle of its segment (Go truncates the offset to whole seconds)."""
    seg = period / len(raw)
    return [(NOW - int(period - seg * (i + 1) + seg / 2), sign * v) for i, v in enumerate(raw)]


# (name, up events, down events, min, max, up rules, down rules, current, desired, expected)
SCALING_WITH_RULES = [
    ("prenormalized desired replicas within range", None, None, 3, 8, None, None, 5, 7, 7),
    ("prenormalized desired replicas < minReplicas", None, None, 2, 8, None, None, 3, 1, 2),
    ("prenormalized desired replicas within range when minReplicas is 0", None, None, 0, 10,
     None, None, 1, 0, 0),
    ("maxReplicas is the limit because maxReplicas < scaleUpLimit", None, None, 1, 10, None,
     None, 20, 1000, 10),
    ("desired replica count is more than the maximum replica count", None, None, 100, 150,
     None, None, 100, 1000, 150),
    ("scaleUpLimit is the limit because scaleUpLimit < maxReplicas with user policies", None,
     None, 1, 2000, (0, 0, 1, 60, 0), None, 3, 1000, 4),
    # (skipped by its testThis flag in Kubernetes; it holds all the same)
    ("scaleDownLimit is the limit because scaleDownLimit > minReplicas with user defined "
     "policies", None, None, 3, 2000, None, (20, 60, 0, 0, 0), 1000, 3, 980),
    ("scaleUp with default behavior", None, None, 1, 1000, None, None, 10, 50, 20),
    ("scaleUp with pods policy larger than percent policy", None, None, 1, 1000,
     (100, 60, 100, 60, 0), None, 10, 500, 110),
    ("scaleUp with percent policy larger than pods policy", None, None, 1, 1000,
     (2, 60, 100, 60, 0), None, 10, 500, 20),
    ("scaleUp with spec MaxReplicas limitation with large pod policy", None, None, 1, 1000,
     (100, 60, 0, 0, 0), None, 10, 50, 50),
    ("scaleUp with spec MaxReplicas limitation with large percent policy", None, None, 1,
     1000, (10000, 60, 0, 0, 0), None, 10, 50, 50),
    ("scaleUp with pod policy limitation", None, None, 1, 1000, (30, 60, 0, 0, 0), None, 10,
     50, 40),
    ("scaleUp with percent policy limitation", None, None, 1, 1000, (0, 0, 200, 60, 0), None,
     10, 50, 30),
    ("scaleDown with percent policy larger than pod policy", None, None, 1, 1000, None,
     (20, 60, 1, 60, 300), 100, 2, 80),
    ("scaleDown with pod policy larger than percent policy", None, None, 1, 1000, None,
     (2, 60, 1, 60, 300), 100, 2, 98),
    ("scaleDown with spec MinReplicas=nil limitation with large pod policy", None, None, 1,
     1000, None, (100, 60, 0, 0, 300), 10, 0, 1),
    ("scaleDown with spec MinReplicas limitation with large pod policy", None, None, 1, 1000,
     None, (100, 60, 0, 0, 300), 10, 0, 1),
    ("scaleDown with spec MinReplicas limitation with large percent policy", None, None, 5,
     1000, None, (0, 0, 100, 60, 300), 10, 2, 5),
    ("scaleDown with pod policy limitation", None, None, 1, 1000, None, (5, 60, 0, 0, 300), 10,
     2, 5),
    ("scaleDown with percent policy limitation", None, None, 1, 1000, None,
     (0, 0, 50, 60, 300), 10, 5, 5),
    ("scaleUp with spec MaxReplicas limitation with large pod policy and events",
     ([1, 5, 9], 120), None, 1, 200, (300, 60, 0, 0, 0), None, 100, 500, 200),
    ("scaleUp with spec MaxReplicas limitation with large percent policy and events",
     ([1, 5, 9], 120), None, 1, 200, (0, 0, 10000, 60, 0), None, 100, 500, 200),
    ("scaleUp with currentReplicas limitation with rate.PeriodSeconds with a lot of recent "
     "scale up events", ([1, 5, 9], 120), None, 1, 1000, (5, 120, 0, 0, 0), None, 100, 500,
     100),
    ("scaleUp with pod policy and previous scale up events", ([1, 5, 9], 120), None, 1, 1000,
     (150, 120, 0, 0, 0), None, 100, 500, 235),
    ("scaleUp with percent policy and previous scale up events", ([1, 5, 9], 120), None, 1,
     1000, (0, 0, 200, 120, 0), None, 100, 500, 255),
    ("scaleUp with percent policy and previous scale up and down events", ([4], 120),
     ([2], 120), 1, 1000, (0, 0, 300, 300, 0), None, 6, 24, 16),
    ("scaleDown with default policy and previous events", None, ([1, 5, 9], 120), 1, 1000,
     None, None, 10, 5, 5),
    ("scaleDown with spec MinReplicas=nil limitation with large pod policy and previous "
     "events", None, ([1, 5, 9], 120), 1, 1000, None, (115, 120, 0, 0, 300), 100, 0, 1),
    ("scaleDown with spec MinReplicas limitation with large pod policy and previous events",
     None, ([1, 5, 9], 120), 5, 1000, None, (130, 120, 0, 0, 300), 100, 0, 5),
    ("scaleDown with spec MinReplicas limitation with large percent policy and previous "
     "events", None, ([1, 5, 9], 120), 5, 1000, None, (0, 0, 100, 120, 300), 100, 2, 5),
    ("scaleDown with pod policy limitation and previous events", None, ([1, 5, 9], 120), 1,
     1000, None, (5, 120, 0, 0, 300), 100, 2, 100),
    ("scaleDown with percent policy limitation and previous events", None, ([2, 4, 6], 120),
     1, 1000, None, (0, 0, 50, 120, 300), 100, 0, 56),
    ("scaleDown with percent policy and previous scale up and down events", ([2], 120),
     ([4], 120), 1, 1000, None, (0, 0, 50, 180, 0), 10, 1, 6),
    ("scaleDown with previous events preventing further scale down", None,
     ([10, 10, 10], 120), 1, 1000, None, (0, 0, 10, 120, 300), 100, 0, 100),
    ("scaleDown with with previous events still allowing more scale down", None,
     ([10, 10, 10], 120), 1, 1000, None, (0, 0, 1000, 120, 300), 10, 5, 5),
    ("check 'outdated' flag for events for one behavior for up", ([8, 12, 9, 11], 120), None,
     1, 1000, (1000, 60, 0, 0, 0), None, 100, 200, 200),
    ("check that events were not marked 'outdated' for two different policies in the "
     "behavior for up", ([8, 12, 9, 11], 120), None, 1, 1000, (1000, 120, 100, 60, 0), None,
     100, 200, 200),
    ("check that events were marked 'outdated' for two different policies in the behavior "
     "for up", ([8, 12, 9, 11], 120), None, 1, 1000, (1000, 30, 100, 60, 0), None, 100, 200,
     200),
    ("check 'outdated' flag for events for one behavior for down", None,
     ([8, 12, 9, 11], 120), 1, 1000, None, (1000, 60, 0, 0, 300), 100, 5, 5),
    ("check that events were not marked 'outdated' for two different policies in the "
     "behavior for down", None, ([8, 12, 9, 11], 120), 1, 1000, None,
     (1000, 120, 100, 60, 300), 100, 5, 5),
    ("check that events were marked 'outdated' for two different policies in the behavior "
     "for down", None, ([8, 12, 9, 11], 120), 1, 1000, None, (1000, 30, 100, 60, 300), 100, 5,
     5),
]


@pytest.mark.parametrize("case", SCALING_WITH_RULES, ids=[c[0] for c in SCALING_WITH_RULES])
def test_scaling_with_rules(case):
    """TestScalingWithRules (no recommendations: stabilization keeps the proposal)."""
    _, up_ev, down_ev, lo, hi, up, down, current, desired, expected = case
    events = []
    if up_ev:
        events += uniform_events(*up_ev, 1)
    if down_ev:
        events += uniform_events(*down_ev, -1)
    behavior = HPABehavior(None if up is None else scaling_rules(*up),
                           None if down is None else scaling_rules(*down))
    got = hpa_recommendation(current, desired, lo, hi, behavior, NOW, (), events)
    assert got == expected


# (name, recommendations as (seconds ago, replicas), current, desired, expected, stored
# afterwards (None: not checked), up window, down window)
NORMALIZE_WITH_BEHAVIOR = [
    ("empty recommendations for scaling down", [], 100, 5, 5, [5], 0, 0),
    ("simple scale down stabilization", [(120, 4), (60, 5)], 100, 3, 5, [4, 5, 3], 0, 180),
    ("simple scale up stabilization", [(120, 4), (60, 5)], 1, 7, 4, [4, 5, 7], 300, 0),
    ("no scale down stabilization", [(120, 1), (60, 2)], 100, 3, 3, [1, 2, 3], 300, 0),
    ("no scale up stabilization", [(120, 4), (60, 5)], 1, 3, 3, [4, 5, 3], 0, 300),
    ("no scale down stabilization, reuse recommendation element", [(600, 10), (540, 9)], 100,
     3, 3, [10, 3], 0, 0),
    ("no scale up stabilization, reuse recommendation element", [(600, 10), (540, 9)], 1, 100,
     100, [10, 100], 0, 0),
    ("scale down stabilization, reuse one of obsolete recommendation element",
     [(600, 10), (60, 4), (120, 5), (540, 9)], 100, 3, 5, [10, 4, 5, 3], 0, 180),
    ("scale up stabilization, reuse one of obsolete recommendation element",
     [(6000, 10), (60, 6), (120, 5), (180, 9)], 1, 100, 5, [100, 6, 5, 9], 300, 0),
    ("scale up and down stabilization, do not scale up when prenormalized rec goes down",
     [(6000, 2), (180, 3)], 2, 1, 2, None, 300, 300),
    ("scale up and down stabilization, do not scale down when prenormalized rec goes up",
     [(6000, 2), (180, 1)], 2, 3, 2, None, 300, 300),
]


def _unlimited(up_window, down_window):
    """Stabilization windows as given and policies that do not limit (the Kubernetes test
    calls the stabilizer alone)."""
    return HPABehavior(HPAScalingRules(up_window, "Max", [HPAScalingPolicy("Pods", 10**6, 15)]),
                       HPAScalingRules(down_window, "Max",
                                       [HPAScalingPolicy("Percent", 100, 15)]))


@pytest.mark.parametrize("case", NORMALIZE_WITH_BEHAVIOR,
                         ids=[c[0] for c in NORMALIZE_WITH_BEHAVIOR])
def test_normalize_desired_replicas_with_behavior(case):
    """TestNormalizeDesiredReplicasWithBehavior: the stabilized count, and the stored
    recommendations after (obsolete rows reused in place)."""
    _, recs, current, desired, expected, stored, up_w, down_w = case
    behavior = _unlimited(up_w, down_w)
    recommendations = [(NOW - ago, r) for ago, r in recs]
    assert hpa_recommendation(current, desired, 0, 10**7, behavior, NOW,
                              recommendations) == expected
    if stored is not None:
        table = np.zeros((len(recs) + 1, rules.REC_COLUMNS), np.int64)
        for i, (ago, r) in enumerate(recs):
            table[i] = (int((NOW - ago) * 1e9), r)
        n = rules.recommended(behavior.row(), table, len(recs), desired, int(NOW * 1e9))
        assert list(table[:n, rules.R_REPLICAS]) == stored


def test_calculate_scale_up_limit_with_scaling_rules():
    """TestCalculateScaleUpLimitWithScalingRules: selectPolicy Min takes the smaller."""
    up = HPAScalingRules(300, "Min", [HPAScalingPolicy("Pods", 2, 60),
                                      HPAScalingPolicy("Percent", 50, 60)])
    assert hpa_recommendation(1, 1000, 1, 1000, HPABehavior(scale_up=up), NOW) == 2


def test_calculate_scale_down_limit_with_behaviors():
    """TestCalculateScaleDownLimitWithBehaviors: selectPolicy Min removes the fewer."""
    down = HPAScalingRules(300, "Min", [HPAScalingPolicy("Pods", 2, 60),
                                        HPAScalingPolicy("Percent", 50, 60)])
    assert hpa_recommendation(5, 0, 0, 1000, HPABehavior(scale_down=down), NOW) == 3


# (name, previous events as (seconds ago, change), rules, change in the last 60 s,
# changes stored afterwards, their outdated flags)
STORE_SCALE_EVENTS = [
    ("empty entries with two-policy-behavior", [], (10, 60, 100, 60, 0), 0, [5], [0]),
    ("one outdated entry to be replaced with behavior", [(61, 7)], (10, 60, 100, 60, 0), 0,
     [5], [0]),
    ("one actual entry to be not touched with behavior", [(58, 7)], (10, 60, 100, 60, 0), 7,
     [7, 5], [0, 0]),
    ("two entries, one of them to be replaced", [(61, 7), (59, 6)], (10, 60, 0, 0, 0), 6,
     [5, 6], [0, 0]),
    ("replace one entry, use policies with different periods",
     [(29, 8), (59, 6), (61, 7), (61, 9)], (10, 60, 100, 30, 0), 14, [8, 6, 7, 5],
     [0, 0, 1, 0]),
    ("two entries, both actual", [(58, 7), (59, 6)], (10, 120, 100, 30, 0), 13, [7, 6, 5],
     [0, 0, 0]),
]


@pytest.mark.parametrize("case", STORE_SCALE_EVENTS, ids=[c[0] for c in STORE_SCALE_EVENTS])
@pytest.mark.parametrize("sign", [1, -1], ids=["up", "down"])
def test_store_scale_events(case, sign):
    """TestStoreScaleEvents, for each direction (a scale-down's change is negative here)."""
    _, prev, rule, change, stored, outdated = case
    r = scaling_rules(*rule)
    behavior = HPABehavior(scale_up=r) if sign > 0 else HPABehavior(scale_down=r)
    now = int(NOW * 1e9)
    table = np.zeros((len(prev) + 1, rules.EVENT_COLUMNS), np.int64)
    for i, (ago, c) in enumerate(prev):
        table[i] = (now - ago * 10**9, sign * c, 0)
    assert rules.changed_in_period(table, len(prev), now, 60 * 10**9, sign) == change
    n = rules.scaled(behavior.row(), table, len(prev), 10, 10 + sign * 5, now)
    assert list(table[:n, rules.E_CHANGE]) == [sign * c for c in stored]
    assert list(table[:n, rules.E_OUTDATED]) == outdated


# -- the replica calculator: CPU (resource utilization) -------------------------------------

HOT, COOL = "hot", "cool"
INIT_NS = 120 * 10**9  # the Kubernetes tests' CPU initialization period (2 min)
DELAY_NS = 10 * 10**9  # and initial readiness delay (10 s)
WINDOW_NS = 60 * 10**9  # the metric window of their samples (1 min)
T_NS = 3600 * 10**9


def pod_states(n, n_levels, readiness=None, phase=None, deleted=None, start=None, cpu=True):
    """groupPods over the Kubernetes test's pods: deleted or failed -> ignored, pending ->
    unready, no sample -> missing, and for CPU the readiness rule (rules.cpu_unready) with a
    hot pod started inside the initialization period and its readiness younger than a
    metric window, a cool one started long before (ready since its start when ready,
    never ready otherwise)."""
    out = np.zeros(n, np.int64)
    for i in range(n):
        ready = readiness[i] if readiness and i < len(readiness) else True
        ph = phase[i] if phase else "Running"
        if (deleted and deleted[i]) or ph == "Failed":
            out[i] = rules.IGNORED
        elif ph == "Pending":
            out[i] = rules.UNREADY
        elif i >= n_levels:
            out[i] = rules.MISSING
        elif cpu:
            hot = start is not None and start[i] == HOT
            started = T_NS - 60 * 10**9 if hot else 0
            since = T_NS - 30 * 10**9 if hot else 0
            unready = rules.cpu_unready(T_NS, started, 1 if ready else 0, since, WINDOW_NS,
                                        INIT_NS, DELAY_NS)
            out[i] = rules.UNREADY if unready else rules.COUNTED
    return out


# (name, current, expected replicas, expected utilization, levels (milli per container),
#  requests (CPUs per container; None: 1.0 each), target %, readiness, phase, deleted, start)
CPU_CASES = [
    ("TestReplicaCalcScaleUp", 3, 5, 50, [300, 500, 700], None, 30, None, None, None, None),
    ("TestReplicaCalcScaleUpUnreadyLessScale", 3, 4, 60, [300, 500, 700], None, 30,
     [False, True, True], None, None, None),
    ("TestReplicaCalcScaleUpHotCpuLessScale", 3, 4, 60, [300, 500, 700], None, 30, None, None,
     None, [HOT, COOL, COOL]),
    ("TestReplicaCalcScaleUpUnreadyNoScale", 3, 3, 40, [400, 500, 700], None, 30,
     [True, False, False], None, None, None),
    ("TestReplicaCalcScaleHotCpuNoScale", 3, 3, 40, [400, 500, 700], None, 30,
     [True, False, False], None, None, [COOL, HOT, HOT]),
    ("TestReplicaCalcScaleUpIgnoresFailedPods", 2, 4, 60, [500, 700], [1.0] * 4, 30,
     [True, True, False, False], ["Running", "Running", "Failed", "Failed"], None, None),
    ("TestReplicaCalcScaleUpIgnoresDeletionPods", 2, 4, 60, [500, 700], [1.0] * 4, 30,
     [True, True, False, False], None, [False, False, True, True], None),
    ("TestReplicaCalcScaleDown", 5, 3, 28, [100, 300, 500, 250, 250], None, 50, None, None,
     None, None),
    ("TestReplicaCalcScaleDownIncludeUnreadyPods", 5, 2, 30, [100, 300, 500, 250, 250], None,
     50, [True, True, True, False, False], None, None, None),
    ("TestReplicaCalcScaleDownExcludeUnscheduledPods", 5, 1, 10, [100], None, 50,
     [True, False, False, False, False],
     ["Running", "Pending", "Pending", "Pending", "Pending"], None, None),
    ("TestReplicaCalcScaleDownIgnoreHotCpuPods", 5, 2, 30, [100, 300, 500, 250, 250], None, 50,
     None, None, None, [COOL, COOL, COOL, HOT, HOT]),
    ("TestReplicaCalcScaleDownIgnoresFailedPods", 5, 3, 28, [100, 300, 500, 250, 250],
     [1.0] * 7, 50, [True] * 5 + [False] * 2, ["Running"] * 5 + ["Failed"] * 2, None, None),
    ("TestReplicaCalcScaleDownIgnoresDeletionPods", 5, 3, 28, [100, 300, 500, 250, 250],
     [1.0] * 7, 50, [True] * 5 + [False] * 2, None, [False] * 5 + [True] * 2, None),
    ("TestReplicaCalcTolerance", 3, 3, 102, [1010, 1030, 1020], [0.9, 1.0, 1.1], 100, None,
     None, None, None),
    ("TestReplicaCalcSuperfluousMetrics", 4, 24, 587, [4000, 9500, 3000, 7000], None, 100,
     None, None, None, None),
    ("TestReplicaCalcMissingMetrics", 4, 3, 24, [400, 95], None, 100, None, None, None, None),
    ("TestReplicaCalcMissingMetricsNoChangeEq", 2, 2, 100, [1000], None, 100, None, None,
     None, None),
    ("TestReplicaCalcMissingMetricsNoChangeGt", 2, 2, 190, [1900], None, 100, None, None,
     None, None),
    ("TestReplicaCalcMissingMetricsNoChangeLt", 2, 2, 60, [600], None, 100, None, None, None,
     None),
    ("TestReplicaCalcMissingMetricsUnreadyChange", 3, 3, 45, [100, 450], None, 50,
     [False, True, True], None, None, None),
    ("TestReplicaCalcMissingMetricsHotCpuNoChange", 3, 3, 45, [100, 450], None, 50, None,
     None, None, [HOT, COOL, COOL]),
    ("TestReplicaCalcMissingMetricsUnreadyScaleUp", 3, 4, 200, [100, 2000], None, 50,
     [False, True, True], None, None, None),
    ("TestReplicaCalcMissingMetricsHotCpuScaleUp", 3, 4, 200, [100, 2000], None, 50,
     [False, True, True], None, None, [HOT, COOL, COOL]),
    ("TestReplicaCalcMissingMetricsUnreadyScaleDown", 4, 3, 10, [100, 100, 100], None, 50,
     [False, True, True, True], None, None, None),
    ("TestReplicaCalcDuringRollingUpdateWithMaxSurge", 2, 2, 10, [100, 100], [1.0] * 3, 50,
     None, ["Running"] * 3, None, None),
]


def cpu_case(current, levels, requests, target, readiness, phase, deleted, start):
    n = len(requests) if requests else max(current, len(phase or ()))
    req = [int(round((requests[i] if requests else 1.0) * 1000)) * 2 for i in range(n)]
    usage = [2 * levels[i] if i < len(levels) else 0 for i in range(n)]
    state = pod_states(n, len(levels), readiness, phase, deleted, start)
    return rules.resource_replicas(current, np.array(usage, np.int64), np.array(req, np.int64),
                                   state, n, target, 0.1, 0.1)


@pytest.mark.parametrize("case", CPU_CASES, ids=[c[0] for c in CPU_CASES])
def test_replica_calc_cpu(case):
    """replica_calculator_test.go's CPU cases (two containers per pod, as there)."""
    _, current, expected, utilization, levels, requests, target = case[:7]
    got = cpu_case(current, levels, requests, target, *case[7:])
    assert got == (expected, utilization)


def test_replica_calc_computed_tolerance_alg_implementation():
    """TestReplicaCalcComputedToleranceAlgImplementation: just past the tolerance it
    scales (to 9), just inside it does not."""
    per_pod = 300
    requests = [(per_pod + d) / 1000 for d in (100, -100, 10, -10, 2, -2, 1, -1, 0, 0)]
    for target, expected in ((int((1 / (2.0 * 0.9) + .01) * 100), 9),
                             (int((1 / (2.0 * 0.9) + .004) * 100), 10)):
        got = cpu_case(10, [150] * 10, requests, target, None, None, None, None)
        assert got == (expected, 50)


def test_no_metrics_is_an_error():
    """No pod with a metric (all unready): no proposal (-1), as Kubernetes' error."""
    state = np.full(3, rules.UNREADY, np.int64)
    ones = np.ones(3, np.int64)
    assert rules.resource_replicas(3, ones, ones, state, 3, 50, 0.1, 0.1)[0] == -1
    assert rules.plain_replicas(3, ones, state, 3, 50, 0.1, 0.1)[0] == -1


def test_missing_pods_count_as_the_target_above_100_percent():
    """On a scale-down a pod without a metric counts as max(100 %, target) of its request
    (current Kubernetes; older releases used 100 %)."""
    state = np.array([rules.COUNTED, rules.COUNTED, rules.MISSING], np.int64)
    req = np.full(3, 1000, np.int64)
    usage = np.array([500, 500, 0], np.int64)
    # 50 % of a 200 % target: ratio 0.25; the missing pod at 200 %: (1000 + 2000) / 3000
    # = 100 % -> ratio 0.5 -> ceil(0.5 * 3) = 2 (at 100 % it would be 67 % -> 0.33 -> 1)
    assert rules.resource_replicas(3, usage, req, state, 3, 200, 0.1, 0.1) == (2, 50)


# -- Pods and External metrics ----------------------------------------------------------------

PODS_CASES = [
    # (name, current, expected, expected average, levels (milli), target, readiness)
    ("TestReplicaCalcScaleUpCM", 3, 4, 20000, [20000, 10000, 30000], 15000, None),
    ("TestReplicaCalcScaleUpCMUnreadyHotCpuNoLessScale", 3, 6, 30000, [50000, 10000, 30000],
     15000, [True, True, False]),
    ("TestReplicaCalcScaleUpCMUnreadyHotCpuScaleWouldScaleDown", 3, 7, 31666,
     [50000, 15000, 30000], 15000, [False, True, False]),
    ("TestReplicaCalcScaleDownCM", 5, 3, 12000, [12000] * 5, 20000, None),
    ("TestReplicaCalcToleranceCM", 3, 3, 20666, [20000, 21000, 21000], 20000, None),
]


@pytest.mark.parametrize("case", PODS_CASES, ids=[c[0] for c in PODS_CASES])
def test_replica_calc_pods_metric(case):
    """Pods metrics: readiness does not matter (only CPU applies it), pending does."""
    _, current, expected, average, levels, target, readiness = case
    state = pod_states(current, len(levels), readiness, cpu=False)
    got = rules.plain_replicas(current, np.array(levels, np.int64), state, current, target,
                               0.1, 0.1)
    assert got == (expected, average)


def test_pods_metric_pending_and_missing():
    """A pending pod counts as 0 on a scale-up; a missing one as the target on a
    scale-down, recomputed (hand-computed from the rule)."""
    state = np.array([rules.COUNTED, rules.COUNTED, rules.UNREADY], np.int64)
    values = np.array([3000, 1000, 0], np.int64)
    # average 2000 / target 1000 = 2 -> with the pending pod at 0: 4000 // 3 = 1333 ->
    # 1.333 -> ceil(1.333 * 3) = 4
    assert rules.plain_replicas(3, values, state, 3, 1000, 0.1, 0.1) == (4, 2000)
    state = np.array([rules.COUNTED, rules.COUNTED, rules.MISSING], np.int64)
    values = np.array([100, 300, 0], np.int64)
    # average 200 / 1000 = 0.2 -> the missing pod at 1000: 1400 // 3 = 466 -> ceil(1.4) = 2
    assert rules.plain_replicas(3, values, state, 3, 1000, 0.1, 0.1) == (2, 200)


@pytest.mark.parametrize("name,current,ready,total,target,expected", [
    ("TestReplicaCalcScaleUpCMExternalIgnoresUnreadyPods", 3, 1, 8600, 4400, 2),
    ("TestReplicaCalcScaleDownCMExternal", 5, 5, 8600, 14334, 3),
    ("TestReplicaCalcToleranceCMExternal", 3, 3, 8600, 8888, 3),
])
def test_replica_calc_external_value(name, current, ready, total, target, expected):
    assert rules.external_replicas(current, total, target, ready, 0.1, 0.1) == expected


@pytest.mark.parametrize("name,current,total,target,expected", [
    ("TestReplicaCalcScaleUpPerPodCMExternal", 3, 8600, 2150, 4),
    ("TestReplicaCalcScaleDownPerPodCMExternal", 5, 8600, 2867, 3),
    ("TestReplicaCalcTolerancePerPodCMExternal", 3, 8600, 2900, 3),
])
def test_replica_calc_external_average_value(name, current, total, target, expected):
    assert rules.external_average_replicas(current, total, target, 0.1, 0.1) == expected


def test_per_direction_tolerance():
    """KEP-4951: behavior.scaleUp.tolerance and scaleDown.tolerance replace the HPA's in
    their direction; the band is [1 - down, 1 + up], both ends inside."""
    b = HPABehavior(HPAScalingRules(tolerance=0.0), HPAScalingRules(tolerance=0.5)).row()
    down, up = rules.tolerances(b, 0.1)
    assert (down, up) == (0.5, 0.0)
    assert rules.tolerances(HPABehavior().row(), 0.1) == (0.1, 0.1)
    state = np.zeros(4, np.int64)
    req = np.full(4, 1000, np.int64)
    # 51 % of a 50 % target: ratio 1.02 > 1 + 0 -> ceil(1.02 * 4) = 5
    assert rules.resource_replicas(4, np.full(4, 510, np.int64), req, state, 4, 50, down,
                                   up) == (5, 51)
    # 26 % of 50 %: ratio 0.52 >= 1 - 0.5 -> no change; 24 %: 0.48 -> ceil(1.92) = 2
    assert rules.resource_replicas(4, np.full(4, 260, np.int64), req, state, 4, 50, down,
                                   up) == (4, 26)
    assert rules.resource_replicas(4, np.full(4, 240, np.int64), req, state, 4, 50, down,
                                   up) == (2, 24)


def test_cpu_unready_rule():
    """groupPods' CPU readiness (TestGroupPods' situations, times in seconds)."""
    s = 10**9
    now = 1000 * s
    # within the 300 s initialization period: ready for 30 s with a 30 s window -> counted;
    # ready for 20 s -> its sample predates a full window -> unready; not ready -> unready
    assert not rules.cpu_unready(now, now - 60 * s, 1, now - 30 * s, 30 * s, 300 * s, 30 * s)
    assert rules.cpu_unready(now, now - 60 * s, 1, now - 20 * s, 30 * s, 300 * s, 30 * s)
    assert rules.cpu_unready(now, now - 60 * s, 0, now - 60 * s, 30 * s, 300 * s, 30 * s)
    # after it: ready -> counted; unready but was ready after the 30 s delay -> counted;
    # unready and never ready (condition changed within 30 s of the start) -> unready
    assert not rules.cpu_unready(now, now - 600 * s, 1, now - 590 * s, 30 * s, 300 * s, 30 * s)
    assert not rules.cpu_unready(now, now - 600 * s, 0, now - 540 * s, 30 * s, 300 * s, 30 * s)
    assert rules.cpu_unready(now, now - 600 * s, 0, now - 590 * s, 30 * s, 300 * s, 30 * s)


# -- the dry run's own checks ---------------------------------------------------------------

def test_defaults_filled():
    full = HPABehavior().filled()
    assert full.scale_up.stabilization_window == 0.0
    assert full.scale_down.stabilization_window == 300.0
    assert [(p.type, p.value, p.period) for p in full.scale_up.policies] == [
        ("Pods", 4, 15.0), ("Percent", 100, 15.0)]
    assert [(p.type, p.value, p.period) for p in full.scale_down.policies] == [
        ("Percent", 100, 15.0)]
    partial = HPABehavior(scale_down=HPAScalingRules(select_policy="Min")).filled()
    assert partial.scale_down.stabilization_window == 300.0
    assert partial.scale_down.select_policy == "Min"


def test_default_scale_down_stabilization_holds_for_300_s():
    """A proposal of 10 at t=0 holds a proposal of 2 until it is 300 s old (strictly
    younger counts), then the default 100 % policy lets it drop at once."""
    recs = [(0.0, 10)]
    assert hpa_recommendation(10, 2, 1, 20, None, 299.999, recs) == 10
    assert hpa_recommendation(10, 2, 1, 20, None, 300.0, recs) == 2


def test_disabled_direction():
    b = HPABehavior(scale_down=HPAScalingRules(select_policy="Disabled"))
    assert hpa_recommendation(10, 2, 1, 20, b, 0.0) == 10
    assert hpa_recommendation(10, 15, 1, 20, b, 0.0) == 15


@pytest.mark.parametrize("call,message", [
    (lambda: HPAScalingPolicy("Pod", 4, 15), "policy.type must be 'Pods' or 'Percent'"),
    (lambda: HPAScalingPolicy("Pods", 0, 15), "policy.value must be >= 1"),
    (lambda: HPAScalingPolicy("Pods", 4, 0), "policy.period must be > 0"),
    (lambda: HPAScalingPolicy("Pods", 4, 1801), "policy.period must be <= 1800"),
    (lambda: HPAScalingRules(stabilization_window=3601), "stabilization_window must be <="),
    (lambda: HPAScalingRules(select_policy="max"), "select_policy must be 'Max'"),
    (lambda: HPAScalingRules(policies=[]), "policies must hold 1 to 10"),
    (lambda: HPAScalingRules(policies=[("Pods", 4, 15)]), "policies[0] must be an"),
    (lambda: HPAScalingRules(tolerance=-0.1), "tolerance must be >= 0"),
    (lambda: HPABehavior(scale_up=3), "behavior.scale_up must be HPAScalingRules"),
    (lambda: hpa_recommendation(3, 5, 4, 2, None, 0), "min_replicas must be <= max_replicas"),
    (lambda: hpa_recommendation(3, 5, 1, 10, None, 0, [(0, 1, 2)]), "recommendations[0] must"),
    (lambda: hpa_recommendation(3, 5, 1, 10, None, 0, (), [(0, 0)]), "scale_events[0][1] must"),
    (lambda: hpa_recommendation(3, 5, 1, 10, "x", 0), "behavior must be an HPABehavior"),
    (lambda: hpa_recommendation(-1, 5, 1, 10, None, 0), "current_replicas must be >= 0"),
])
def test_bad_input(call, message):
    with pytest.raises((TypeError, ValueError)) as e:
        call()
    assert message in str(e.value)
    assert "\n" not in str(e.value)


def test_events_count_while_strictly_younger_than_the_period():
    """An event counts against a policy while younger than its period (Go's After): +4 at
    t=0 from 0 blocks a default scale-up until t=15 exactly."""
    events = [(0.0, 4)]
    assert hpa_recommendation(4, 20, 1, 100, None, 14.999, (), events) == 4
    assert hpa_recommendation(4, 20, 1, 100, None, 15.0, (), events) == 8
