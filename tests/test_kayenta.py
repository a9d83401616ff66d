"""Kayenta's judge: the shared rules (rules/kayenta.py) against scipy and slow obvious
references, against Kayenta's own test cases (tests/kayenta_cases.py), and the
KayentaJudge class (validation, judge(), the MetricEvaluator)."""

from __future__ import annotations

import itertools
import math
import os
import statistics

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from fastdeploy import ConstantLatency, LoadBalancer, Server, Simulation, Source
from fastdeploy.deployment import CanaryDeployer, CanaryStage, MetricEvaluator
from fastdeploy.kayenta import KayentaJudge, KayentaMetric
from fastdeploy.rules import kayenta as K

from kayenta_cases import CASES, DIFF_CASE, SHIFT_CASES  # tests/, on pytest's path

FEW = settings(max_examples=40, deadline=None)


def samples(max_size=40):
    """A non-empty sample: small integers (many ties) or floats."""
    tied = st.lists(st.integers(0, 6).map(float), min_size=1, max_size=max_size)
    spread = st.lists(st.floats(-1e3, 1e3, allow_nan=False, width=32), min_size=1,
                      max_size=max_size)
    return st.one_of(tied, spread)


def arr(v):
    return np.asarray(v, np.float64)


def srt(v):
    """The rules take samples sorted ascending."""
    return np.sort(arr(v))


# == Mann-Whitney U against scipy ========================================================
@FEW
@given(samples(), samples())
def test_mann_whitney_matches_scipy(x, y):
    u, p = K.mann_whitney_u(srt(x), srt(y))
    ref = stats.mannwhitneyu(x, y, alternative="two-sided", method="asymptotic",
                             use_continuity=True)
    assert u == ref.statistic
    ref_p = 1.0 if math.isnan(ref.pvalue) else ref.pvalue  # scipy: nan when all tied
    assert p == pytest.approx(ref_p, rel=1e-9, abs=1e-14)


@settings(max_examples=8, deadline=None)
@given(st.lists(st.integers(0, 50).map(float), min_size=150, max_size=300),
       st.lists(st.floats(0, 60, allow_nan=False), min_size=100, max_size=300))
def test_mann_whitney_matches_scipy_on_large_samples(x, y):
    u, p = K.mann_whitney_u(srt(x), srt(y))
    ref = stats.mannwhitneyu(x, y, alternative="two-sided", method="asymptotic",
                             use_continuity=True)
    assert u == ref.statistic
    assert p == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-14)


@pytest.mark.parametrize("x, y, u", [
    ([1.0], [2.0], 0.0),
    ([3.0, 3.0, 1.0], [3.0], 1.0),                 # ties count one half
    ([5.0, 6.0, 7.0], [1.0, 2.0], 6.0),
])
def test_mann_whitney_u_by_hand(x, y, u):
    assert K.mann_whitney_u(srt(x), srt(y))[0] == u


def test_all_tied_has_p_value_one():
    assert K.mann_whitney_u(srt([2.0, 2.0]), srt([2.0]))[1] == 1.0


@pytest.mark.parametrize("x, y, shift, r1, tie_term", [
    # 1 3 against 1 1 2: the three 1s share ranks 1-3 (2 each), the 2 is 4, the 3 is 5
    ([1.0, 3.0], [1.0, 1.0, 2.0], 0.0, 2.0 + 5.0, 27.0 - 3.0),
    # x - 1 = 0 2 against 0 2: two pairs of ties, ranks 1.5 and 3.5
    ([1.0, 3.0], [0.0, 2.0], 1.0, 1.5 + 3.5, 6.0 + 6.0),
    ([5.0, 6.0], [1.0], 0.0, 2.0 + 3.0, 0.0),
])
def test_rank_sum_by_hand(x, y, shift, r1, tie_term):
    assert K.rank_sum(srt(x), srt(y), shift) == (r1, tie_term)


@FEW
@given(samples(), samples(), st.sampled_from([0.0, 1.0, 2.5]))
def test_rank_sum_matches_scipy_ranks(x, y, shift):
    x, y = srt(x), srt(y)
    both = np.concatenate([x - shift, y])
    t = np.unique(both, return_counts=True)[1].astype(float)
    assert K.rank_sum(x, y, shift) == (stats.rankdata(both)[:len(x)].sum(), (t**3 - t).sum())


@pytest.mark.parametrize("p", [1e-12, 1e-4, 0.005, 0.01, 0.02425, 0.025, 0.2, 0.5, 0.7,
                               0.975, 0.99, 0.995, 1 - 1e-7])
def test_normal_quantile_matches_scipy(p):
    # (rules/distributions.py's, which the judge uses for its interval)
    assert K.normal_quantile(p) == pytest.approx(stats.norm.ppf(p), rel=1e-13, abs=1e-13)


# == The shift: Hodges-Lehmann and Kayenta's interval ====================================
@FEW
@given(samples(25), samples(25))
def test_hodges_lehmann_is_the_median_of_pairwise_differences(x, y):
    assert K.hodges_lehmann(srt(x), srt(y)) == statistics.median(
        [np.float64(a) - np.float64(b) for a in x for b in y])


def naive_statistic(x, y, shift):
    """Kayenta's statistic the obvious way (scipy's ranks, numpy's tie counts)."""
    m, n = len(x), len(y)
    both = np.concatenate([x - shift, y])
    dz = stats.rankdata(both)[:m].sum() - m * (m + 1) / 2 - m * n / 2
    t = np.unique(both, return_counts=True)[1].astype(float)
    sigma = math.sqrt(m * n / 12 * ((m + n + 1) - (t**3 - t).sum() / ((m + n) * (m + n - 1))))
    return (dz - 0.5 * np.sign(dz)) / sigma


def naive_crossing(x, y, zq):
    """Where the statistic crosses zq: it is constant between consecutive distinct
    differences; the ends clamp as Kayenta's findRoot does."""
    d = np.unique(np.subtract.outer(x, y))
    if naive_statistic(x, y, d[0]) - zq <= 0:
        return d[0]
    if naive_statistic(x, y, d[-1]) - zq >= 0:
        return d[-1]
    for lo, hi in itertools.pairwise(d):
        if naive_statistic(x, y, (lo + hi) / 2) - zq <= 0:
            return lo
    return d[-1]


@FEW
@given(st.integers(0, 2**32 - 1), st.integers(1, 20), st.integers(1, 20),
       st.floats(0.0, 3.0), st.sampled_from([1e-3, 1.0, 100.0]),
       st.sampled_from([0.9, 0.95, 0.98]))
def test_interval_ends_are_where_the_statistic_crosses_the_quantile(seed, m, n, shift, unit,
                                                                     confidence):
    # Continuous samples (no ties, no two equal differences): Kayenta's search stops
    # within its tolerance of the crossing.
    rng = np.random.default_rng(seed)
    x, y = (rng.normal(shift, 1.0, m) * unit, rng.normal(0.0, 1.0, n) * unit)
    if m == 1 and n == 1:
        return
    lower, upper, estimate = K.shift_interval(np.sort(x), np.sort(y), confidence)
    z = stats.norm.ppf((1 - confidence) / 2)
    slack = K.BRENT_TOLERANCE + 1e-12 * np.abs(np.subtract.outer(x, y)).max()
    assert abs(lower - naive_crossing(x, y, -z)) <= slack
    assert abs(upper - naive_crossing(x, y, z)) <= slack
    # The estimate is in (or within the tolerance of) the set where the statistic is 0:
    # between the neighbours of the middle differences.
    d = np.sort(np.subtract.outer(x, y).ravel())
    k = len(d)
    lo, hi = (d[k // 2 - 1], d[k // 2]) if k % 2 == 0 else (d[k // 2 - 1], d[k // 2 + 1])
    assert lo - slack <= estimate <= hi + slack


@pytest.mark.parametrize("case", SHIFT_CASES, ids=[c["name"] for c in SHIFT_CASES])
def test_shift_interval_on_kayentas_cases(case):
    lower, upper, estimate = K.shift_interval(srt(case["x"]), srt(case["y"]),
                                              case["confidence"])
    assert lower == pytest.approx(case["lower"], abs=1e-6)
    assert upper == pytest.approx(case["upper"], abs=1e-6)
    assert estimate == pytest.approx(case["estimate"], abs=case["tol"])


@pytest.mark.parametrize("shift", sorted(DIFF_CASE["values"]))
def test_shift_statistic_on_kayentas_case(shift):
    x, y = srt(DIFF_CASE["x"]), srt(DIFF_CASE["y"])
    assert K.shift_statistic(x, y, shift) == pytest.approx(DIFF_CASE["values"][shift],
                                                           abs=1e-6)
    assert K.shift_statistic(x, y, shift) == pytest.approx(naive_statistic(x, y, shift))


def test_one_value_each_gives_their_difference():
    assert K.shift_interval(srt([10.0] * 5), srt([1.0] * 4), 0.98) == (9.0, 9.0, 9.0)


# == Preprocessing =======================================================================
@pytest.mark.parametrize("values, strategy, factor, expect", [
    ([0.0, 1.0, np.nan, 1.0, 0.0], K.NAN_REMOVE, 0.0, [0.0, 1.0, 1.0, 0.0]),
    ([np.nan] * 3, K.NAN_REMOVE, 0.0, []),
    ([np.nan, 10.1, 20.2, 30.3, np.nan, 40.4], K.NAN_REPLACE, 0.0,
     [0.0, 10.1, 20.2, 30.3, 0.0, 40.4]),
    # sorted 21 21 23 23 24 25 29 50: Q1 22.5, Q3 26, fences 12 and max(P99 48.53, 36.5)
    ([21.0, 23.0, 24.0, 25.0, 50.0, 29.0, 23.0, 21.0], K.NAN_REMOVE, 3.0,
     [21.0, 23.0, 24.0, 25.0, 29.0, 23.0, 21.0]),
    # IQR 0, but the 99th percentile (5) keeps the 5s: reduced sensitivity
    ([0.0] * 8 + [5.0, 5.0], K.NAN_REMOVE, 3.0, [0.0] * 8 + [5.0, 5.0]),
    # one 9 among 1s: the 99th percentile is 1 + 0.96 x 8 = 8.68, so the 9 goes
    ([np.nan, 1.0, 1.0, 1.0, 1.0, 9.0], K.NAN_REMOVE, 3.0, [1.0, 1.0, 1.0, 1.0]),
])
def test_clean(values, strategy, factor, expect):
    dest = np.full(len(values) + 1, -1.0)
    k = K.clean_sorted(arr(values), strategy, factor, 1.0, dest)
    assert list(dest[:k]) == sorted(expect)


def test_clean_scales_after_removing_outliers():
    dest = np.empty(5)
    k = K.clean_sorted(arr([2.0, np.nan, 1.0, 1.0, 1.0]), K.NAN_REPLACE, 0.0, 100.0, dest)
    assert list(dest[:k]) == [0.0, 100.0, 100.0, 100.0, 200.0]


@pytest.mark.parametrize("values, outliers", [
    # Kayenta's DetectorSuite (factor 1.5, without reduced sensitivity)
    ([21.0, 23.0, 24.0, 25.0, 50.0, 29.0, 23.0, 21.0], [50.0]),
    ([1.0, 1.0, 1.0, 5.0, -1.0, -1.0, -1.0, -5.0], [5.0, -5.0]),
    ([30, 171, 184, 201, 212, 250, 265, 270, 272, 289, 305, 306, 322, 322, 336, 346, 351,
      370, 390, 404, 409, 411, 436, 437, 439, 441, 444, 448, 451, 453, 470, 480, 482, 487,
      494, 495, 499, 503, 514, 521, 522, 527, 548, 550, 559, 560, 570, 572, 574, 578, 585,
      592, 592, 607, 616, 618, 621, 629, 637, 638, 640, 656, 668, 707, 709, 719, 737, 739,
      752, 758, 766, 792, 792, 794, 802, 818, 830, 832, 843, 858, 860, 869, 918, 925, 953,
      991, 1000, 1005, 1068, 1441], [1441]),
    ([0.0] * 8 + [5.0, 5.0], [5.0, 5.0]),
])
def test_outlier_fences_without_reduced_sensitivity(values, outliers):
    v = arr(values)
    lower, upper = K.outlier_fences(np.sort(v), 1.5, False)
    assert [x for x in v if x < lower or x > upper] == outliers


@pytest.mark.parametrize("values", [[], [1.0], [2.0, 1.0], [3.0, 1.0, 2.0, 1.0, 3.0, 0.5],
                                    list(np.random.default_rng(1).normal(size=33))])
def test_sort_in_place(values):
    a = arr(values + [-7.0])
    K.sort_in_place(a, len(values))
    assert list(a) == sorted(values) + [-7.0]


def test_percentile_is_numpys_linear():
    v = np.sort(arr([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0]))
    for p in (0.0, 1.0, 25.0, 50.0, 75.0, 99.0, 100.0):
        assert K.percentile_r7(v, p) == pytest.approx(np.percentile(v, p), rel=1e-15)


# == The classifier ======================================================================
def param_row(direction="increase", critical=False, must_have_data=False,
              nan_strategy="remove", outlier_factor=0.0, allowed_increase=1.0,
              allowed_decrease=1.0, critical_increase=1.0, critical_decrease=1.0,
              confidence=0.98, tolerance=K.TOLERANCE, scale=1.0):
    row = np.zeros(K.METRIC_PARAMS)
    row[K.P_DIRECTION] = K.DIRECTION_NAMES.index(direction)
    row[K.P_CRITICAL] = critical
    row[K.P_MUST_HAVE_DATA] = must_have_data
    row[K.P_NAN_STRATEGY] = K.NAN_STRATEGY_NAMES.index(nan_strategy)
    row[K.P_OUTLIER_FACTOR] = outlier_factor
    row[K.P_ALLOWED_INCREASE] = allowed_increase
    row[K.P_ALLOWED_DECREASE] = allowed_decrease
    row[K.P_CRITICAL_INCREASE] = critical_increase
    row[K.P_CRITICAL_DECREASE] = critical_decrease
    row[K.P_CONFIDENCE] = confidence
    row[K.P_TOLERANCE] = tolerance
    row[K.P_SCALE] = scale
    return row


def classified(canary, baseline, **params):
    out = np.zeros(K.RESULT_FIELDS)
    work = np.empty((2, max(len(canary), len(baseline), 1)))
    K.classify(arr(canary), arr(baseline), param_row(**params), out, work)
    return K.CLASS_NAMES[int(out[K.R_CLASS])], bool(out[K.R_CRITICAL]), out


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_classifier_on_kayentas_cases(case):
    cls, critical, out = classified(case["canary"], case["baseline"], **case["params"])
    assert cls == case["expect"]
    if case["critical"] is not None:
        assert critical == case["critical"]
    if case["deviation"] == "nan":
        assert math.isnan(out[K.R_EFFECT_SIZE])
    elif case["deviation"] is not None:
        assert out[K.R_EFFECT_SIZE] == case["deviation"]


CANARY = [20.0, 22.0, 21.0, 25.0, 30.0]
BASELINE = [1.0, 2.2, 1.1, 2.5, 3.0]


@pytest.mark.parametrize("canary, baseline, params, expect", [
    # 5 x 5 at 98%: sigma = sqrt(25 x 11 / 12) = 4.79; just above the smallest difference
    # (17) U = 24 and (24 - 12.5 - 0.5) / 4.79 = 2.30 < z = 2.33, so the lower end is 17,
    # above 0.25 x the estimate 20.
    (CANARY, BASELINE, {}, ("High", False)),
    (CANARY, BASELINE, dict(direction="decrease"), ("Pass", False)),
    (BASELINE, CANARY, dict(direction="decrease"), ("Low", False)),
    (BASELINE, CANARY, dict(direction="either"), ("Low", False)),
    (BASELINE, CANARY, {}, ("Pass", False)),
    # mean ratio 23.6 / 1.96 = 12.04: High needs it >= allowed_increase
    (CANARY, BASELINE, dict(allowed_increase=12.0), ("High", False)),
    (CANARY, BASELINE, dict(allowed_increase=12.1), ("Pass", False)),
    (CANARY, BASELINE, dict(critical=True), ("High", True)),
    (CANARY, BASELINE, dict(critical=True, critical_increase=13.0), ("High", False)),
    # no data: Nodata (critical if the metric is), NodataFailMetric if data is required
    ([np.nan, np.nan], BASELINE, {}, ("Nodata", False)),
    ([np.nan, np.nan], BASELINE, dict(critical=True), ("Nodata", True)),
    ([], BASELINE, dict(must_have_data=True), ("NodataFailMetric", False)),
    ([], BASELINE, dict(must_have_data=True, critical=True), ("Nodata", True)),
    ([], BASELINE, dict(nan_strategy="replace"), ("Pass", False)),
    # NaN replaced by 0: the canary 0, 0, 20 against 1..3
    ([np.nan, np.nan, 20.0], BASELINE, dict(nan_strategy="replace"), ("Pass", False)),
    # identical series, and one value throughout
    ([3.0, 1.0, 2.0], [1.0, 2.0, 3.0], {}, ("Pass", False)),
    ([2.0, 2.0], [2.0, 2.0, 2.0], {}, ("Pass", False)),
    # one value each, different: the difference 1 > 0.25 x 1
    ([2.0, 2.0], [1.0, 1.0, 1.0], {}, ("High", False)),
])
def test_classifier_by_hand(canary, baseline, params, expect):
    cls, critical, _ = classified(canary, baseline, **params)
    assert (cls, critical) == expect


def test_classify_allocates_nothing():
    # The kernels allocate nothing per event: a judgement must not either. Calling from
    # Python allocates one wrapper per array argument; a function that does nothing with
    # the same arguments counts those.
    if os.environ.get("NUMBA_DISABLE_JIT") == "1":
        pytest.skip("compiled code only")
    nrt = pytest.importorskip("numba.core.runtime._nrt_python")
    if not hasattr(nrt, "memsys_enable_stats"):
        pytest.skip("this numba has no allocation statistics")
    touch = numba.njit(lambda c, b, prm, out, work: out[0])
    rng = np.random.default_rng(0)
    args = (rng.normal(1, 1, 40), rng.normal(0, 1, 30), param_row(outlier_factor=3.0),
            np.zeros(K.RESULT_FIELDS), np.empty((2, 40)))

    def allocations(f):
        f(*args)
        was = nrt.memsys_stats_enabled()
        nrt.memsys_enable_stats()
        try:
            before = nrt.memsys_get_stats_alloc()
            f(*args)
            return nrt.memsys_get_stats_alloc() - before
        finally:
            if not was:
                nrt.memsys_disable_stats()

    # (At most: the wrappers' count varies with how the functions were loaded.)
    assert allocations(K.classify) <= allocations(touch)


def test_classifier_outlier_removal_changes_the_verdict():
    # A single spike in an otherwise equal canary: kept, the canary's mean ratio is high
    # but its ranks are not; removed, the series are identical.
    base = [1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9]
    canary = base[:-1] + [50.0]
    _, _, kept = classified(canary, base)
    _, _, removed = classified(canary, base, outlier_factor=3.0)
    assert kept[K.R_N_CANARY] == 10 and removed[K.R_N_CANARY] == 9
    assert kept[K.R_EFFECT_SIZE] > 3 and removed[K.R_EFFECT_SIZE] < 1


# == The scorer and the verdict ==========================================================
P, H, L, NF, ND = K.PASS, K.HIGH, K.LOW, K.NODATA_FAIL, K.NODATA


def scored(classes, groups=None, weights=None, critical=()):
    n = len(classes)
    results = np.zeros((n, K.RESULT_FIELDS))
    results[:, K.R_CLASS] = classes
    for i in critical:
        results[i, K.R_CRITICAL] = 1.0
    groups = np.zeros(n, np.int64) if groups is None else np.array(groups, np.int64)
    weights = (np.full(groups.max() + 1 if n else 1, np.nan) if weights is None
               else np.array(weights, np.float64))
    return K.score(results, groups, weights)


@pytest.mark.parametrize("classes, groups, weights, critical, expect", [
    # Kayenta's ScorerSuite
    ([P], None, None, (), 100.0),
    ([H], None, None, (), 0.0),
    ([ND], None, None, (), 0.0),
    ([P, P, ND], [0, 0, 1], None, (), 100.0),        # a group of Nodata counts 100
    ([P, H], None, None, (), 50.0),
    ([P, H, L], None, None, (), 33.33),
    ([P, P, H], [0, 0, 1], [75.0, 25.0], (), 75.0),
    ([P, H, H], [0, 0, 1], [50.0, 50.0], (), 25.0),
    ([P, ND, H], [0, 0, 1], [50.0, 50.0], (), 50.0),
    ([P, H], None, None, (1,), 0.0),                  # a critical failure
    ([L, P], None, None, (1,), 50.0),                 # a critical metric that passed
    ([P, ND], None, None, (1,), 0.0),                 # a critical metric without data
    ([H, L, P, H], [0, 0, 0, 1], [15.0, 85.0], (), 5.0),
    # by hand
    ([P, P, NF], None, None, (), 66.67),              # NodataFailMetric counts as a failure
    ([P, P, P, ND], None, None, (), 100.0),           # 25% Nodata: not counted
    ([P, ND], None, None, (), 0.0),                   # 50% Nodata: score 0
    ([P, H, P], [0, 1, 2], [50.0, np.nan, np.nan], (), 75.0),  # 50 + 0 x 25 + 100 x 25
    ([], None, None, (), 0.0),
])
def test_score(classes, groups, weights, critical, expect):
    assert scored(classes, groups, weights, critical) == expect


@pytest.mark.parametrize("x, expect", [(33.333333, 33.33), (66.666666, 66.67),
                                       (0.125, 0.13), (2.675, 2.68), (100.0, 100.0)])
def test_round_half_up(x, expect):
    assert K.round_half_up(x, 2) == expect


@pytest.mark.parametrize("value, expect", [(100.0, K.VERDICT_PASS), (95.0, K.VERDICT_PASS),
                                           (94.99, K.VERDICT_MARGINAL),
                                           (75.0, K.VERDICT_MARGINAL),
                                           (74.99, K.VERDICT_FAIL), (0.0, K.VERDICT_FAIL)])
def test_verdict(value, expect):
    assert K.verdict(value, 95.0, 75.0) == expect


# == KayentaJudge ========================================================================
def test_judge_scores_and_names_results():
    judge = KayentaJudge([KayentaMetric("latency_p99"), KayentaMetric("error_rate"),
                          KayentaMetric("requests", direction="decrease")])
    r = judge.judge({"latency_p99": CANARY, "error_rate": [0.1] * 4, "requests": [5, 6, 7]},
                    {"latency_p99": BASELINE, "error_rate": [0.1] * 3, "requests": [5, 6, 7]})
    assert [m.classification for m in r.metrics] == ["High", "Pass", "Pass"]
    assert (r.score, r.verdict, r.healthy) == (66.67, "Fail", False)
    m = r.metric("latency_p99")
    # the smallest difference, to the search's tolerance (see test_classifier_by_hand)
    assert m.lower == pytest.approx(17.0, abs=K.BRENT_TOLERANCE) and m.estimate == 20.0
    assert m.effect_size == pytest.approx(23.6 / 1.96)
    assert m.u == 25.0 and m.p_value == pytest.approx(
        stats.mannwhitneyu(CANARY, BASELINE, method="asymptotic").pvalue)
    assert (m.canary_samples, m.baseline_samples) == (5, 5)
    assert r.metric("error_rate").effect_size == 1.0
    with pytest.raises(KeyError, match="latency_p50"):
        r.metric("latency_p50")


def test_judge_thresholds_and_groups():
    metrics = [KayentaMetric("latency_p99", group="latency"),
               KayentaMetric("latency_p50", group="latency"),
               KayentaMetric("error_rate", group="errors")]
    canary = {"latency_p99": CANARY, "latency_p50": BASELINE, "error_rate": BASELINE}
    baseline = {"latency_p99": BASELINE, "latency_p50": BASELINE, "error_rate": BASELINE}
    # equal weights by default: 50 x 50% + 100 x 50%
    assert KayentaJudge(metrics).judge(canary, baseline).score == 75.0
    assert KayentaJudge(metrics).judge(canary, baseline).verdict == "Marginal"
    r = KayentaJudge(metrics, group_weights={"latency": 20}).judge(canary, baseline)
    assert (r.score, r.verdict) == (90.0, "Marginal")
    r = KayentaJudge(metrics, pass_score=90, group_weights={"latency": 20}).judge(canary,
                                                                                 baseline)
    assert r.verdict == "Pass"
    r = KayentaJudge(metrics, marginal_score=76).judge(canary, baseline)
    assert r.verdict == "Fail"


@pytest.mark.parametrize("make, error, match", [
    (lambda: KayentaMetric("latency_p42"), ValueError, "measure must be one of"),
    (lambda: KayentaMetric(3), TypeError, "measure must be a string"),
    (lambda: KayentaMetric("error_rate", direction="up"), ValueError, "direction"),
    (lambda: KayentaMetric("error_rate", critical=1), TypeError, "critical must be True"),
    (lambda: KayentaMetric("error_rate", allowed_increase=-1), ValueError,
     "allowed_increase must be >= 0"),
    (lambda: KayentaMetric("error_rate", allowed_decrease="x"), TypeError,
     "allowed_decrease must be a number"),
    (lambda: KayentaMetric("error_rate", nan_strategy="drop"), ValueError, "nan_strategy"),
    (lambda: KayentaMetric("error_rate", outliers="yes"), ValueError, "outliers"),
    (lambda: KayentaMetric("error_rate", outlier_factor=0), ValueError, "outlier_factor"),
    (lambda: KayentaMetric("error_rate", group=""), TypeError, "group"),
    (lambda: KayentaMetric("error_rate", scale=0), ValueError, "scale must be > 0"),
    (lambda: KayentaJudge(KayentaMetric("error_rate")), TypeError, "metrics must be a"),
    (lambda: KayentaJudge([]), ValueError, "at least one"),
    (lambda: KayentaJudge(["error_rate"]), TypeError, r"metrics\[0\]"),
    (lambda: KayentaJudge([KayentaMetric("error_rate")] * 2), ValueError, "judged twice"),
    (lambda: KayentaJudge([KayentaMetric("error_rate")], pass_score=101), ValueError,
     "pass_score must be <= 100"),
    (lambda: KayentaJudge([KayentaMetric("error_rate")], marginal_score=96), ValueError,
     "marginal_score must be <= 95"),
    (lambda: KayentaJudge([KayentaMetric("error_rate")], confidence=1.0), ValueError,
     "confidence must be < 1"),
    (lambda: KayentaJudge([KayentaMetric("error_rate")], group_weights={"x": 1}),
     ValueError, "no metric is in group 'x'"),
    (lambda: KayentaJudge([KayentaMetric("error_rate")], group_weights={"default": 101}),
     ValueError, r"group_weights\['default'\] must be <= 100"),
    (lambda: KayentaJudge([KayentaMetric("error_rate")], min_samples=0), ValueError,
     "min_samples must be >= 1"),
])
def test_validation(make, error, match):
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize("canary, baseline, error, match", [
    ({}, {"error_rate": [1.0]}, ValueError, "canary has no series for measure 'error_rate'"),
    ({"error_rate": [1.0]}, [], TypeError, "baseline must be a mapping"),
    ({"error_rate": "abc"}, {"error_rate": [1.0]}, TypeError, "must be a sequence"),
    ({"error_rate": [1.0, "a"]}, {"error_rate": [1.0]}, TypeError,
     r"canary\['error_rate'\]\[1\] must be a number"),
    ({"error_rate": [1.0]}, {"error_rate": [math.inf]}, ValueError, "finite or NaN"),
])
def test_judge_input_validation(canary, baseline, error, match):
    with pytest.raises(error, match=match):
        KayentaJudge([KayentaMetric("error_rate")]).judge(canary, baseline)


# == As a happysim MetricEvaluator =======================================================
def canary_run(failure_rate, judge, end=130.0):
    base = [Server(f"b{i}", concurrency=10, service_time=ConstantLatency(0.01))
            for i in range(3)]
    lb = LoadBalancer("lb", backends=base)
    src = Source.constant(40, lb, name="src", stop_after=end - 1)

    def factory(name):
        return Server(name, concurrency=10, service_time=ConstantLatency(0.01),
                      failure_rate=failure_rate)

    d = CanaryDeployer("d", lb, factory, stages=[CanaryStage(0.5, 100)],
                       metric_evaluator=judge, evaluation_interval=10)
    sim = Simulation(end_time=end, sources=[src], entities=[lb, d], seed=3)
    sim.schedule(d.deploy(at=1.0))
    sim.run()
    return d


def test_metric_evaluator_rolls_back_a_bad_canary_and_promotes_a_good_one():
    judge = KayentaJudge([KayentaMetric("error_rate")])
    assert isinstance(judge, MetricEvaluator)
    bad = canary_run(0.3, judge)
    assert bad.state.status == "rolled_back"
    # the built-in CanaryDeployer judges its evaluation windows: the first evaluation
    # judges one window each (the canary's errors about 30%, the baseline none): one
    # value each, different -> High
    assert bad.stats.evaluations_performed == 1
    r = judge.last_result
    assert r.metric("error_rate").classification == "High"
    assert (r.metric("error_rate").canary_samples, r.verdict) == (1, "Fail")
    good = canary_run(0.0, KayentaJudge([KayentaMetric("error_rate"),
                                         KayentaMetric("latency_mean")]))
    assert good.state.status == "completed"


def test_metric_evaluator_series_from_counters():
    class Backend:
        def __init__(self):
            self.counts = [0, 0, 0, 0]

        def request_counters(self):
            return tuple(self.counts)

    judge = KayentaJudge([KayentaMetric("error_rate"), KayentaMetric("latency_mean"),
                          KayentaMetric("requests", direction="either")], min_samples=2)
    canary, b1, b2 = Backend(), Backend(), Backend()
    b1.counts = [100, 0, 5, 10**9]
    assert judge.is_healthy(canary, [b1])            # starts the series
    canary.counts = [9, 1, 1, 9 * 10**8]              # 10 requests, 2 errors, 0.1 s mean
    b1.counts = [110, 0, 6, 11 * 10**8]               # 10 requests, 1 error
    b2.counts = [10, 0, 0, 2 * 10**9]                 # new: counted from its creation
    judge.is_healthy(canary, [b1, b2])
    canary.counts = [10, 1, 1, 10**9]                 # 1 request: below min_samples
    judge.is_healthy(canary, [b2])                    # b1 gone, b2 idle
    s = judge._canary_series, judge._baseline_series
    assert s[0]["requests"] == [10.0, 1.0] and s[1]["requests"] == [20.0, 0.0]
    assert s[0]["error_rate"][0] == 0.2 and math.isnan(s[0]["error_rate"][1])
    assert s[1]["error_rate"][0] == 0.05 and math.isnan(s[1]["error_rate"][1])
    assert s[0]["latency_mean"][0] == pytest.approx(0.1)
    assert s[1]["latency_mean"][0] == pytest.approx(2.1 / 20)
    assert judge.last_result.metric("error_rate").canary_samples == 1
    # another canary object: a new deployment, the series start again
    assert judge.is_healthy(Backend(), [b2])
    assert judge._canary_series["requests"] == []


def test_metric_evaluator_reads_public_stats():
    # A backend without request_counters (happysim's Server) is read by its public stats,
    # as the built-in evaluators read it.
    class Stats:
        def __init__(self, completed, rejected, failures):
            self.requests_completed = completed
            self.requests_rejected = rejected
            self.total_failures = failures

    class Backend:
        def __init__(self, name):
            self.name = name
            self.stats = Stats(0, 0, 0)
            self.average_latency = 0.0

    judge = KayentaJudge([KayentaMetric("error_rate"), KayentaMetric("latency_mean")])
    canary, base = Backend("c"), Backend("b")
    judge.is_healthy(canary, [base])
    canary.stats, canary.average_latency = Stats(8, 2, 1), 0.5
    base.stats, base.average_latency = Stats(20, 0, 0), 0.25
    judge.is_healthy(canary, [base])
    assert judge._canary_series["error_rate"] == [0.3]
    assert judge._baseline_series["error_rate"] == [0.0]
    assert judge._canary_series["latency_mean"] == [pytest.approx(0.5)]
    assert judge._baseline_series["latency_mean"] == [pytest.approx(0.25)]
    del base.stats
    with pytest.raises(ValueError, match="backend 'b' has no stats"):
        judge.is_healthy(canary, [base])


def test_metric_evaluator_refuses_percentiles():
    judge = KayentaJudge([KayentaMetric("latency_p99")])
    with pytest.raises(ValueError, match="cannot judge latency_p99"):
        judge.is_healthy(Server("c"), [Server("b")])
