"""Kayenta's canary judge (NetflixACAJudge), written once for both engines.

Per metric: the series of the canary's and the baseline's interval measurements are
cleaned (NaN removal or replacement, optional IQR outlier removal), compared by a
Mann-Whitney U test with the Hodges-Lehmann shift and Kayenta's confidence interval,
and classified Pass / High / Low / NodataFailMetric / Nodata; the weighted-sum scorer
turns the classifications into a score and the thresholds into a verdict.

Everything here takes and returns numbers and float64 arrays; codes are named below.
``fastdeploy docs canary-analysis`` ("Kayenta judge") has what is modelled and why.
"""

import math

import numpy as np

from . import measure
from .distributions import normal_quantile
from .jit import njit

# == Codes ===============================================================================
# A metric's classification (Kayenta's MetricClassificationLabel).
PASS, HIGH, LOW, NODATA_FAIL, NODATA = range(5)
CLASS_NAMES = ("Pass", "High", "Low", "NodataFailMetric", "Nodata")

# Which way of change fails a metric (Kayenta's MetricDirection).
INCREASE, DECREASE, EITHER = range(3)
DIRECTION_NAMES = ("increase", "decrease", "either")

# What becomes of a NaN measurement (Kayenta's NaNStrategy): dropped, or replaced by 0.
NAN_REMOVE, NAN_REPLACE = range(2)
NAN_STRATEGY_NAMES = ("remove", "replace")

# The verdict on the score (Kayenta's ThresholdScoreClassifier).
VERDICT_PASS, VERDICT_MARGINAL, VERDICT_FAIL = range(3)
VERDICT_NAMES = ("Pass", "Marginal", "Fail")

# Kayenta's fixed settings (NetflixACAJudge.scala, WeightedSumScorer.scala).
TOLERANCE = 0.25          # bounds of the classifier: +-TOLERANCE * |Hodges-Lehmann|
NODATA_THRESHOLD = 50.0   # score 0 when this percent of the metrics or more are Nodata

# == A metric's parameter row (float64) ==================================================
# P_OUTLIER_FACTOR 0 keeps outliers; > 0 removes them with that IQR factor. P_SCALE
# multiplies the measurements (the units a metric query would return): Kayenta's root
# search has an absolute tolerance, so its decisions depend on the units.
(P_DIRECTION, P_CRITICAL, P_MUST_HAVE_DATA, P_NAN_STRATEGY, P_OUTLIER_FACTOR,
 P_ALLOWED_INCREASE, P_ALLOWED_DECREASE, P_CRITICAL_INCREASE, P_CRITICAL_DECREASE,
 P_CONFIDENCE, P_TOLERANCE, P_SCALE) = range(12)
METRIC_PARAMS = 12
PARAM_NAMES = ("direction", "critical", "must_have_data", "nan_strategy", "outlier_factor",
               "allowed_increase", "allowed_decrease", "critical_increase",
               "critical_decrease", "confidence", "tolerance", "scale")

# == A metric's result row (float64) =====================================================
# R_CRITICAL: 1 if this result fails the whole judgement (Kayenta's result.critical).
# R_U is the canary's U statistic; the shift is canary minus baseline.
(R_CLASS, R_CRITICAL, R_U, R_P_VALUE, R_LOWER, R_UPPER, R_ESTIMATE, R_EFFECT_SIZE,
 R_N_CANARY, R_N_BASELINE) = range(10)
RESULT_FIELDS = 10


# == Ranks and the Mann-Whitney U test ===================================================
# The samples are sorted ascending (classify sorts them once, in place): ranks then come
# from one merge of the two, and x - shift stays sorted, so Kayenta's statistic at any
# shift costs one pass and no allocation (the kernels allocate nothing).
@njit
def rank_sum(x, y, shift):
    """(sum of the ranks of x - shift among x - shift and y, sum(t**3 - t) over the
    groups of t tied values), for x and y sorted ascending; ties get their average rank.
    Kayenta ranks the shifted sample so (MannWhitney.wilcoxonDiff)."""
    m = x.shape[0]
    n = y.shape[0]
    i = 0
    j = 0
    done = 0          # values ranked so far
    r1 = 0.0
    tie_term = 0.0
    while i < m or j < n:
        if j >= n or (i < m and x[i] - shift <= y[j]):
            v = x[i] - shift
        else:
            v = y[j]
        cx = 0
        while i < m and x[i] - shift == v:
            i += 1
            cx += 1
        cy = 0
        while j < n and y[j] == v:
            j += 1
            cy += 1
        t = float(cx + cy)
        # ranks done + 1 .. done + t, average done + (t + 1) / 2
        r1 += cx * (done + 0.5 * (t + 1.0))
        tie_term += t * t * t - t
        done += cx + cy
    return r1, tie_term


@njit
def _sigma(m, n, tie_term):
    """Standard deviation of U under the null hypothesis, corrected for ties."""
    total = m + n
    return math.sqrt(m * n / 12.0 * ((total + 1) - tie_term / (total * (total - 1.0))))


@njit
def normal_sf(z):
    """P(Z > z) for a standard normal Z."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


@njit
def mann_whitney_u(x, y):
    """The Mann-Whitney U test of samples x and y (non-empty, sorted ascending): (U of x,
    two-sided p-value), the p-value from the normal approximation with the tie correction
    and the continuity correction (scipy.stats.mannwhitneyu's method="asymptotic",
    use_continuity=True). All values tied: p = 1."""
    m = x.shape[0]
    n = y.shape[0]
    r1, tie_term = rank_sum(x, y, 0.0)
    u1 = r1 - m * (m + 1) / 2.0
    u = max(u1, m * n - u1)
    s = _sigma(m, n, tie_term)
    numerator = u - m * n / 2.0 - 0.5
    if s == 0.0:
        return u1, 1.0
    p = 2.0 * normal_sf(numerator / s)
    return u1, min(max(p, 0.0), 1.0)


# == The location shift: Hodges-Lehmann and Kayenta's interval ===========================
@njit
def pairwise_differences(x, y):
    """Every x[i] - y[j], sorted."""
    m = x.shape[0]
    n = y.shape[0]
    d = np.empty(m * n, np.float64)
    for i in range(m):
        for j in range(n):
            d[i * n + j] = x[i] - y[j]
    d.sort()
    return d


@njit
def _median_sorted(d):
    k = d.shape[0]
    if k % 2 == 1:
        return d[k // 2]
    return 0.5 * (d[k // 2 - 1] + d[k // 2])


@njit
def hodges_lehmann(x, y):
    """The Hodges-Lehmann estimate of the shift of x over y: the median of x[i] - y[j].
    (A reference: it allocates the m x n differences, and Kayenta's classifier uses the
    estimate of shift_interval instead.)"""
    return _median_sorted(pairwise_differences(x, y))


@njit
def shift_statistic(x, y, shift):
    """Kayenta's statistic at a shift (MannWhitney.wilcoxonDiff without the quantile):
    (U - mn/2 - sign * 0.5) / sigma, U and the tie correction taken on x - shift and y
    (sorted ascending). NaN when every value is tied (Kayenta refuses that case)."""
    m = x.shape[0]
    n = y.shape[0]
    r1, tie_term = rank_sum(x, y, shift)
    dz = r1 - m * (m + 1) / 2.0 - m * n / 2.0
    s = _sigma(m, n, tie_term)
    if s == 0.0:
        return np.nan
    return (dz - 0.5 * np.sign(dz)) / s


# Kayenta's root search (kayenta-mannwhitney BrentSolver.java, R's zeroin): an absolute
# tolerance of 1e-4 and at most 1000 iterations. Its answers are part of the judge's
# behaviour: where the statistic jumps across the quantile at a difference shared by many
# pairs (0, in series of mostly-zero error rates), the root it returns lies up to 1e-4 on
# either side of that difference, and the classification can depend on which.
BRENT_TOLERANCE = 1e-4
BRENT_ITERATIONS = 1000
_EPSILON = 2.220446049250313e-16


@njit
def _root(x, y, zq, a, b, fa, fb):
    """Brent's method on Kayenta's statistic minus zq over [a, b], step for step as
    Kayenta's BrentSolver (so the same root to the last bit)."""
    c = a
    fc = fa
    if fa == 0.0:
        return a
    if fb == 0.0:
        return b
    for _ in range(BRENT_ITERATIONS + 1):
        prev_step = b - a
        if abs(fc) < abs(fb):
            a = b
            b = c
            c = a
            fa = fb
            fb = fc
            fc = fa
        tol_act = 2.0 * _EPSILON * abs(b) + BRENT_TOLERANCE / 2.0
        new_step = (c - b) / 2.0
        if abs(new_step) <= tol_act or fb == 0.0:
            return b
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            cb = c - b
            if a == c:
                # secant
                t1 = fb / fa
                p = cb * t1
                q = 1.0 - t1
            else:
                # inverse quadratic interpolation
                q = fa / fc
                t1 = fb / fc
                t2 = fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0.0:
                q = -q
            else:
                p = -p
            if p < (0.75 * cb * q - abs(tol_act * q) / 2.0) and p < abs(prev_step * q / 2.0):
                new_step = p / q
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0.0 else -tol_act
        a = b
        fa = fb
        b += new_step
        fb = shift_statistic(x, y, b) - zq
        if (fb > 0.0 and fc > 0.0) or (fb < 0.0 and fc < 0.0):
            c = a
            fc = fa
    return b


@njit
def _interval_end(x, y, zq, lo, hi):
    """Kayenta's findRoot: the smallest difference if the statistic there is already at
    or below zq, the largest if it is still at or above zq there, else Brent's root."""
    f_lo = shift_statistic(x, y, lo) - zq
    f_hi = shift_statistic(x, y, hi) - zq
    if f_lo <= 0.0:
        return lo
    if f_hi >= 0.0:
        return hi
    return _root(x, y, zq, lo, hi, f_lo, f_hi)


@njit
def shift_interval(x, y, confidence):
    """Kayenta's estimate of the shift of x over y (non-empty, sorted ascending) and its
    confidence interval at ``confidence`` in (0, 1): (lower, upper, estimate).

    Each is where the continuity-corrected normal approximation of the rank statistic of
    x - shift against y crosses a quantile (+z, -z, and 0 for the estimate), as R's
    wilcox.test(conf.int=TRUE, exact=FALSE, correct=TRUE) defines them and Kayenta's
    MannWhitney finds them: by Brent's method over [min - max, max - min] of the
    differences, the interval ends clamped to those. The statistic is a step function
    jumping at the differences x[i] - y[j], so each end is a difference to within the
    search's tolerance (1e-4), and the estimate lies in or next to the middle of them
    (hodges_lehmann has the median itself). When x and y each hold one value (Kayenta
    adds a little Gaussian noise there, which would only blur their difference), all
    three are that difference."""
    lo = x[0] - y[y.shape[0] - 1]
    hi = x[x.shape[0] - 1] - y[0]
    if x[0] == x[x.shape[0] - 1] and y[0] == y[y.shape[0] - 1]:
        return lo, lo, lo
    z = normal_quantile((1.0 - confidence) / 2.0)     # negative
    lower = _interval_end(x, y, -z, lo, hi)
    upper = _interval_end(x, y, z, lo, hi)
    # The estimate is searched without the clamping (as Kayenta).
    estimate = _root(x, y, 0.0, lo, hi, shift_statistic(x, y, lo), shift_statistic(x, y, hi))
    return lower, upper, estimate


# == Preprocessing (Transforms.scala, IQRDetector.scala) =================================
@njit
def percentile_r7(sorted_values, p):
    """The p-th percentile (p in [0, 100]) of sorted, non-empty values by linear
    interpolation between order statistics (R-7, numpy's default), computed as Kayenta's
    Percentile with EstimationType.R_7 does (1-based position q (n - 1) + 1)."""
    n = sorted_values.shape[0]
    pos = (p / 100.0) * (n - 1) + 1.0
    if pos < 1.0:
        return sorted_values[0]
    if pos >= n:
        return sorted_values[n - 1]
    f = math.floor(pos)
    i = int(f)
    return sorted_values[i - 1] + (pos - f) * (sorted_values[i] - sorted_values[i - 1])


@njit
def outlier_fences(sorted_values, factor, reduced):
    """(lower, upper) fences of Kayenta's IQR detector on sorted, non-empty values:
    Q1 - factor * IQR and Q3 + factor * IQR, widened with ``reduced`` (as the judge uses
    it) to at least the 1st and 99th percentiles. Values outside are outliers."""
    q1 = percentile_r7(sorted_values, 25.0)
    q3 = percentile_r7(sorted_values, 75.0)
    lower = q1 - factor * (q3 - q1)
    upper = q3 + factor * (q3 - q1)
    if reduced:
        lower = min(percentile_r7(sorted_values, 1.0), lower)
        upper = max(percentile_r7(sorted_values, 99.0), upper)
    return lower, upper


@njit
def _sift_down(a, start, end):
    root = start
    while True:
        child = 2 * root + 1
        if child >= end:
            return
        if child + 1 < end and a[child] < a[child + 1]:
            child += 1
        if a[root] >= a[child]:
            return
        a[root], a[child] = a[child], a[root]
        root = child


@njit
def sort_in_place(a, k):
    """Sort a[:k] ascending in place (heapsort: numba's sort allocates its stack)."""
    for start in range(k // 2 - 1, -1, -1):
        _sift_down(a, start, k)
    for end in range(k - 1, 0, -1):
        a[0], a[end] = a[end], a[0]
        _sift_down(a, 0, end)


@njit
def clean_sorted(values, nan_strategy, outlier_factor, scale, dest):
    """A series as Kayenta's judge transforms it, written sorted ascending into
    ``dest[:k]``; returns k. NaN is dropped (NAN_REMOVE) or replaced by 0 (NAN_REPLACE);
    then, when outlier_factor > 0, the outliers by the IQR detector with reduced
    sensitivity (outlier_fences) are removed; then the values are multiplied by
    ``scale`` (> 0). (Kayenta keeps the order; nothing it computes depends on it.)"""
    k = 0
    for i in range(values.shape[0]):
        v = values[i]
        if math.isnan(v):
            if nan_strategy == NAN_REMOVE:
                continue
            v = 0.0
        dest[k] = v
        k += 1
    sort_in_place(dest, k)
    kept = dest[:k]
    if outlier_factor > 0.0 and k > 0:
        lower, upper = outlier_fences(kept, outlier_factor, True)
        j = 0
        for i in range(k):
            if lower <= kept[i] <= upper:
                dest[j] = kept[i]
                j += 1
        k = j
    for i in range(k):
        dest[i] *= scale
    return k


@njit
def mean_ratio(baseline, canary):
    """Kayenta's effect size: mean(canary) / mean(baseline); NaN if either mean is 0."""
    mb = np.mean(baseline)
    mc = np.mean(canary)
    if mb == 0.0 or mc == 0.0:
        return np.nan
    return mc / mb


@njit
def _equal(a, b):
    if a.shape[0] != b.shape[0]:
        return False
    for i in range(a.shape[0]):
        if a[i] != b[i]:
            return False
    return True


# == The classifier (MannWhitneyClassifier.scala) ========================================
@njit
def classify(canary, baseline, prm, out, work):
    """Classify one metric from the raw series of the canary and the baseline, with the
    parameter row ``prm`` (P_...); fill the result row ``out`` (R_...). ``work`` is a
    (2, at least the longer series' length) float64 scratch array."""
    nan_strategy = int(prm[P_NAN_STRATEGY])
    critical = prm[P_CRITICAL] != 0.0
    e = work[0, :clean_sorted(canary, nan_strategy, prm[P_OUTLIER_FACTOR], prm[P_SCALE],
                              work[0])]
    c = work[1, :clean_sorted(baseline, nan_strategy, prm[P_OUTLIER_FACTOR], prm[P_SCALE],
                              work[1])]
    for f in range(RESULT_FIELDS):
        out[f] = np.nan
    out[R_CRITICAL] = 0.0
    out[R_N_CANARY] = e.shape[0]
    out[R_N_BASELINE] = c.shape[0]
    if e.shape[0] == 0 or c.shape[0] == 0:
        if nan_strategy == NAN_REMOVE:
            if prm[P_MUST_HAVE_DATA] != 0.0 and not critical:
                out[R_CLASS] = NODATA_FAIL
            else:
                out[R_CLASS] = NODATA
                out[R_CRITICAL] = 1.0 if critical else 0.0
        else:
            out[R_CLASS] = PASS
        return
    u, p = mann_whitney_u(e, c)
    out[R_U] = u
    out[R_P_VALUE] = p
    effect = mean_ratio(c, e)
    out[R_EFFECT_SIZE] = effect
    # Identical series, or one value throughout: Pass before any test (as Kayenta).
    if _equal(e, c) or (e[0] == e[e.shape[0] - 1] and c[0] == c[c.shape[0] - 1]
                        and e[0] == c[0]):
        out[R_CLASS] = PASS
        out[R_EFFECT_SIZE] = 1.0  # what Kayenta reports for these (a 0/0 ratio included)
        return
    lower, upper, estimate = shift_interval(e, c, prm[P_CONFIDENCE])
    out[R_LOWER] = lower
    out[R_UPPER] = upper
    out[R_ESTIMATE] = estimate
    bound = prm[P_TOLERANCE] * abs(estimate)
    direction = int(prm[P_DIRECTION])
    no_effect = math.isnan(effect)  # an effect size that cannot be computed is ignored
    high = ((direction == INCREASE or direction == EITHER) and lower > bound
            and (no_effect or effect >= prm[P_ALLOWED_INCREASE]))
    low = ((direction == DECREASE or direction == EITHER) and upper < -bound
           and (no_effect or effect <= prm[P_ALLOWED_DECREASE]))
    if high:
        out[R_CLASS] = HIGH
        if critical and (no_effect or effect >= prm[P_CRITICAL_INCREASE]):
            out[R_CRITICAL] = 1.0
    elif low:
        out[R_CLASS] = LOW
        if critical and (no_effect or effect <= prm[P_CRITICAL_DECREASE]):
            out[R_CRITICAL] = 1.0
    else:
        out[R_CLASS] = PASS


# == The scorer (WeightedSumScorer.scala) and the verdict ================================
@njit
def round_half_up(x, decimals):
    """x rounded to ``decimals`` places, halves up, taking a product within 1e-9 of a
    half as the half (Kayenta rounds the decimal form of the score)."""
    scale = 10.0 ** decimals
    r = x * scale
    f = math.floor(r)
    if r - f >= 0.5 - 1e-9:
        f += 1.0
    return f / scale


@njit
def _group_present(groups, g):
    for i in range(groups.shape[0]):
        if groups[i] == g:
            return True
    return False


@njit
def score(results, groups, group_weights):
    """The weighted-sum score (0..100, two decimals) of the result rows ``results``
    (one per metric); ``groups[i]`` is metric i's group, ``group_weights[g]`` group g's
    weight in percent or NaN (no weight given: the groups without one share what the
    given weights leave of 100 equally).

    0 if a critical metric did not pass, or if NODATA_THRESHOLD percent of the metrics
    or more are Nodata. Otherwise each group's score is 100 * Pass / (Pass + High + Low
    + NodataFailMetric) (100 if that sum is 0), weighted."""
    n = results.shape[0]
    nodata = 0
    for i in range(n):
        cls = int(results[i, R_CLASS])
        if results[i, R_CRITICAL] != 0.0 and cls != PASS:
            return 0.0
        if cls == NODATA:
            nodata += 1
    if n > 0 and nodata * 100.0 / n >= NODATA_THRESHOLD:
        return 0.0
    n_groups = group_weights.shape[0]
    given = 0.0
    unweighted = 0
    for g in range(n_groups):
        w = group_weights[g]
        if not math.isnan(w):
            given += w
        elif _group_present(groups, g):
            unweighted += 1
    share = (100.0 - given) / unweighted if unweighted > 0 else 0.0
    total = 0.0
    for g in range(n_groups):
        if not _group_present(groups, g):
            continue
        passed = 0.0
        counted = 0.0
        for i in range(n):
            if groups[i] == g:
                cls = int(results[i, R_CLASS])
                if cls != NODATA:
                    counted += 1.0
                    if cls == PASS:
                        passed += 1.0
        s = 100.0 if counted == 0.0 else passed / counted * 100.0
        w = group_weights[g]
        total += s * ((share if math.isnan(w) else w) / 100.0)
    return round_half_up(total, 2)


@njit
def verdict(value, pass_score, marginal_score):
    """VERDICT_PASS at pass_score or above, VERDICT_MARGINAL at marginal_score or above,
    else VERDICT_FAIL."""
    if value >= pass_score:
        return VERDICT_PASS
    if value >= marginal_score:
        return VERDICT_MARGINAL
    return VERDICT_FAIL


@njit
def judge(canary, canary_start, baseline, baseline_start, params, groups, group_weights,
          thresholds, results, work):
    """Judge every metric and score them.

    Metric i's series are ``canary[canary_start[i]:canary_start[i + 1]]`` and
    ``baseline[baseline_start[i]:baseline_start[i + 1]]``; its parameter row is
    ``params[i]`` and its result row ``results[i]`` is filled. ``thresholds`` is
    (pass_score, marginal_score); ``work`` a (2, longest series) float64 scratch array.
    Returns (score, verdict code)."""
    for i in range(params.shape[0]):
        classify(canary[canary_start[i]:canary_start[i + 1]],
                 baseline[baseline_start[i]:baseline_start[i + 1]], params[i], results[i],
                 work)
    value = score(results, groups, group_weights)
    return value, verdict(value, thresholds[0], thresholds[1])


# == Judging windowed measurements: the analysis loops' judge (both engines) =============
# A deployer that runs the judge at every analysis interval closes a window for the
# canary and one for the baseline (rules/measure.py measurement rows) and judges all the
# windows of the deployment so far. The judge's configuration is one float64 row:
(J_PASS, J_MARGINAL, J_CONFIDENCE, J_MIN_SAMPLES, J_N_METRICS, J_N_GROUPS) = range(6)
J_HEAD = 6
# then per metric MJ_SIZE values: the measurement's field in a measurement row
# (rules/measure.py M_...), its group's index, its METRIC_PARAMS parameters (P_...; its
# P_CONFIDENCE is replaced by the judge's J_CONFIDENCE); then each group's weight in
# percent (NaN: none given).
MJ_FIELD, MJ_GROUP, MJ_PARAMS = range(3)
MJ_SIZE = MJ_PARAMS + METRIC_PARAMS
# A measure's field in a measurement row ("requests" is the window's request count).
MEASURE_FIELDS = {"error_rate": measure.M_ERROR_RATE,
                  "success_rate": measure.M_SUCCESS_RATE,
                  "latency_mean": measure.M_LATENCY_MEAN, "latency_p50": measure.M_P50,
                  "latency_p90": measure.M_P90, "latency_p95": measure.M_P95,
                  "latency_p99": measure.M_P99, "requests": measure.M_COUNT}
# Rows of judge_windows' scratch array (its width: at least the window count and
# METRIC_PARAMS): classify's two, the canary's and the baseline's series, a metric's
# parameters.
W_CANARY, W_BASELINE, W_PARAMS = 2, 3, 4
WORK_ROWS = 5


@njit
def window_value(row, field, min_samples):
    """The value a metric on measurement field ``field`` reads from a window's row: the
    request count as it is; any other value NaN (no data) below ``min_samples``
    requests (or when the window has none: no completed request for a latency)."""
    count = row[measure.M_COUNT]
    if field == measure.M_COUNT:
        return count
    if count < min_samples:
        return np.nan
    return row[field]


@njit
def needs_histograms(jprm):
    """Whether a metric of the judge row ``jprm`` reads a latency percentile (so both
    groups' windows must keep histograms)."""
    for k in range(int(jprm[J_N_METRICS])):
        f = int(jprm[J_HEAD + MJ_SIZE * k + MJ_FIELD])
        if measure.M_P50 <= f <= measure.M_P99:
            return True
    return False


@njit
def judge_windows(jprm, canary, baseline, n, results, work):
    """Judge the first ``n`` windows of the canary (measurement rows ``canary[:n]``)
    against the baseline's (``baseline[:n]``) with the judge row ``jprm`` (J_...):
    per metric, the series of its measurement over the windows, classified (classify);
    then scored and given a verdict. ``results`` holds a result row per metric;
    ``work`` is a (WORK_ROWS, >= max(n, METRIC_PARAMS)) scratch array. Returns (score,
    verdict code)."""
    nm = int(jprm[J_N_METRICS])
    ng = int(jprm[J_N_GROUPS])
    min_samples = jprm[J_MIN_SAMPLES]
    mp = work[W_PARAMS, :METRIC_PARAMS]
    for k in range(nm):
        p = J_HEAD + MJ_SIZE * k
        field = int(jprm[p + MJ_FIELD])
        for j in range(n):
            work[W_CANARY, j] = window_value(canary[j], field, min_samples)
            work[W_BASELINE, j] = window_value(baseline[j], field, min_samples)
        for q in range(METRIC_PARAMS):
            mp[q] = jprm[p + MJ_PARAMS + q]
        mp[P_CONFIDENCE] = jprm[J_CONFIDENCE]
        classify(work[W_CANARY, :n], work[W_BASELINE, :n], mp, results[k], work)
    groups = jprm[J_HEAD + MJ_GROUP:J_HEAD + MJ_SIZE * nm:MJ_SIZE]
    first = J_HEAD + MJ_SIZE * nm
    value = score(results[:nm], groups, jprm[first:first + ng])
    return value, verdict(value, jprm[J_PASS], jprm[J_MARGINAL])
