"""KayentaJudge and KayentaMetric: Kayenta's canary judge over series of interval
measurements, and as a happysim MetricEvaluator. The decisions are the shared rules'
(``fastdeploy.rules.kayenta``); this module validates, lays out arrays and names
results."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..core import validate
from ..deployment.evaluators import GroupCounts
from ..rules import canary as canary_rules
from ..rules import kayenta as rules

# The windowed canary measurements a metric may judge, by name. (The windowed
# measurements themselves are built elsewhere; these names are theirs.)
MEASURES = ("error_rate", "success_rate", "latency_mean", "latency_p50", "latency_p90",
            "latency_p95", "latency_p99", "requests")

# The measures the judge computes itself when it runs as a MetricEvaluator: the ones a
# backend's cumulative counters give for an interval (no latency percentiles).
EVALUATOR_MEASURES = ("error_rate", "success_rate", "latency_mean", "requests")
_NEED_ERRORS = ("error_rate", "success_rate", "requests")

OUTLIER_STRATEGIES = ("keep", "remove")
DEFAULT_GROUP = "default"


def _choice(name: str, value, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, one of {', '.join(choices)}; got {value!r}")
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def _flag(name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


class KayentaMetric:
    """One metric of a Kayenta canary configuration, judged on a windowed measurement.

    Args:
        measure: The measurement compared, one of ``MEASURES``.
        direction: Which change fails the metric: "increase" (High), "decrease" (Low) or
            "either" (Kayenta's own default is "either").
        critical: A critical metric that fails (or has no data) fails the whole
            judgement: score 0.
        allowed_increase: High needs the canary's mean / the baseline's mean (Kayenta's
            meanRatio effect size) at or above this.
        allowed_decrease: Low needs that ratio at or below this.
        critical_increase: A critical High fails the judgement only when the ratio is at
            or above this.
        critical_decrease: A critical Low fails the judgement only when the ratio is at
            or below this.
        must_have_data: No data is NodataFailMetric (counted as a failure in the score)
            instead of Nodata (not counted), unless the metric is critical.
        nan_strategy: "remove" drops the intervals without a value (no data), "replace"
            counts them as 0.
        outliers: "remove" drops outliers by Kayenta's IQR detector (factor
            ``outlier_factor``, reduced sensitivity); "keep" (Kayenta's default) does not.
        outlier_factor: The IQR factor of outlier removal.
        group: The metric's group for the weighted-sum score.
        scale: Multiplies the measurements before they are judged: the units your
            metric query returns (100 for an error rate in percent, 1000 for a latency
            in ms). Kayenta's interval search stops at an absolute tolerance (1e-4), so
            its decisions on values that small depend on the units.

    Raises:
        TypeError, ValueError: an argument of the wrong type or out of range (named).
    """

    def __init__(self, measure: str, direction: str = "increase", critical: bool = False,
                 allowed_increase: float = 1.0, *, allowed_decrease: float = 1.0,
                 critical_increase: float = 1.0, critical_decrease: float = 1.0,
                 must_have_data: bool = False, nan_strategy: str = "remove",
                 outliers: str = "keep", outlier_factor: float = 3.0,
                 group: str = DEFAULT_GROUP, scale: float = 1.0):
        self.measure = _choice("measure", measure, MEASURES)
        self.direction = _choice("direction", direction, rules.DIRECTION_NAMES)
        self.critical = _flag("critical", critical)
        self.allowed_increase = validate.number("allowed_increase", allowed_increase,
                                                minimum=0.0)
        self.allowed_decrease = validate.number("allowed_decrease", allowed_decrease,
                                                minimum=0.0)
        self.critical_increase = validate.number("critical_increase", critical_increase,
                                                 minimum=0.0)
        self.critical_decrease = validate.number("critical_decrease", critical_decrease,
                                                 minimum=0.0)
        self.must_have_data = _flag("must_have_data", must_have_data)
        self.nan_strategy = _choice("nan_strategy", nan_strategy, rules.NAN_STRATEGY_NAMES)
        self.outliers = _choice("outliers", outliers, OUTLIER_STRATEGIES)
        self.outlier_factor = validate.number("outlier_factor", outlier_factor, minimum=0.0,
                                              min_open=True)
        if not isinstance(group, str) or not group:
            raise TypeError(f"group must be a non-empty string, got {group!r}")
        self.group = group
        self.scale = validate.number("scale", scale, minimum=0.0, min_open=True)

    def param_row(self, confidence: float) -> np.ndarray:
        """The rules' parameter row of this metric (``rules.kayenta.P_...``)."""
        row = np.zeros(rules.METRIC_PARAMS, np.float64)
        row[rules.P_DIRECTION] = rules.DIRECTION_NAMES.index(self.direction)
        row[rules.P_CRITICAL] = float(self.critical)
        row[rules.P_MUST_HAVE_DATA] = float(self.must_have_data)
        row[rules.P_NAN_STRATEGY] = rules.NAN_STRATEGY_NAMES.index(self.nan_strategy)
        row[rules.P_OUTLIER_FACTOR] = self.outlier_factor if self.outliers == "remove" else 0.0
        row[rules.P_ALLOWED_INCREASE] = self.allowed_increase
        row[rules.P_ALLOWED_DECREASE] = self.allowed_decrease
        row[rules.P_CRITICAL_INCREASE] = self.critical_increase
        row[rules.P_CRITICAL_DECREASE] = self.critical_decrease
        row[rules.P_CONFIDENCE] = confidence
        row[rules.P_TOLERANCE] = rules.TOLERANCE
        row[rules.P_SCALE] = self.scale
        return row

    def __repr__(self):
        return (f"KayentaMetric({self.measure!r}, direction={self.direction!r}, "
                f"critical={self.critical}, allowed_increase={self.allowed_increase})")


@dataclass(frozen=True)
class KayentaMetricResult:
    """One metric's judgement.

    Attributes:
        measure: The metric's measure.
        classification: "Pass", "High", "Low", "NodataFailMetric" or "Nodata".
        critical: True if this result alone fails the judgement (a critical metric
            classified High or Low past its critical ratio, or without data).
        u: The canary's Mann-Whitney U statistic (NaN without data).
        p_value: The two-sided p-value of the U test (normal approximation with tie and
            continuity corrections); reported, not used by Kayenta's classifier.
        lower: The lower end of the confidence interval of the shift canary - baseline
            (in the metric's scaled units, as the estimate).
        upper: Its upper end.
        estimate: Kayenta's Hodges-Lehmann estimate of the shift.
        effect_size: mean(canary) / mean(baseline) (NaN if either mean is 0 or without
            data; 1.0 when the series are identical, as Kayenta reports).
        canary_samples: Values of the canary's series judged (after NaN and outlier
            removal).
        baseline_samples: The same for the baseline.
    """

    measure: str
    classification: str
    critical: bool
    u: float
    p_value: float
    lower: float
    upper: float
    estimate: float
    effect_size: float
    canary_samples: int
    baseline_samples: int


@dataclass(frozen=True)
class KayentaResult:
    """A judgement: the score (0 to 100), the verdict ("Pass", "Marginal" or "Fail") and
    every metric's result, in the judge's order."""

    score: float
    verdict: str
    metrics: tuple[KayentaMetricResult, ...]

    @property
    def healthy(self) -> bool:
        """Pass or Marginal (what the judge answers as a MetricEvaluator)."""
        return self.verdict != "Fail"

    def metric(self, measure: str) -> KayentaMetricResult:
        """The result of the metric on ``measure``.

        Raises:
            KeyError: no metric judges ``measure``.
        """
        for m in self.metrics:
            if m.measure == measure:
                return m
        raise KeyError(f"no metric on {measure!r}; measures: "
                       f"{', '.join(m.measure for m in self.metrics)}")


def _series(side: str, measure: str, values) -> np.ndarray:
    if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray)):
        raise TypeError(f"{side}[{measure!r}] must be a sequence of numbers, got {values!r}")
    out = np.empty(len(values), np.float64)
    for i, v in enumerate(values):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real):
            raise TypeError(f"{side}[{measure!r}][{i}] must be a number, got {v!r}")
        v = float(v)
        if math.isinf(v):
            raise ValueError(f"{side}[{measure!r}][{i}] must be finite or NaN (no data), "
                             f"got {v!r}")
        out[i] = v
    return out


class KayentaJudge:
    """Kayenta's canary judge (NetflixACAJudge): per metric a Mann-Whitney U test between
    the canary's and the baseline's series of interval measurements, with Kayenta's
    confidence interval of the shift and its effect size; the weighted sum of the passing
    metrics as the score; Pass at ``pass_score`` or above, Marginal at
    ``marginal_score`` or above, else Fail.

    ``judge(canary, baseline)`` judges given series. As the ``metric_evaluator`` of a
    built-in ``CanaryDeployer`` it judges, at every evaluation, the series of the
    windowed measurements of the canary group and of the baseline over the deployment's
    evaluation intervals, in both engines (rules/canary.py ``kayenta_judged``). It is
    also a happysim ``MetricEvaluator`` for code that calls one:
    ``is_healthy(canary, baseline_backends)`` builds the series itself from the
    backends' cumulative counters (see there) and answers True on Pass or Marginal.
    ``fastdeploy docs canary-analysis`` has what is modelled.

    Args:
        metrics: The metrics (KayentaMetric), one per measure.
        pass_score: The lowest score judged Pass, in [0, 100].
        marginal_score: The lowest score judged Marginal, in [0, pass_score].
        confidence: The confidence level of the shift's interval, in (0, 1) (Kayenta's
            judge uses 0.98).
        group_weights: Weight in percent of each metric group in the score; groups
            without a weight share what the given weights leave of 100 equally.
        min_samples: An interval (window) with fewer requests than this has no value
            (NaN) for any measure but ``requests``.

    Raises:
        TypeError, ValueError: an argument of the wrong type or out of range (named).
    """

    def __init__(self, metrics: Sequence[KayentaMetric], pass_score: float = 95.0,
                 marginal_score: float = 75.0, confidence: float = 0.98, *,
                 group_weights: Mapping[str, float] | None = None, min_samples: int = 1):
        if isinstance(metrics, KayentaMetric) or not isinstance(metrics, Sequence):
            raise TypeError(f"metrics must be a sequence of KayentaMetric, got {metrics!r}")
        if not metrics:
            raise ValueError("metrics must hold at least one KayentaMetric, got []")
        seen = set()
        for i, m in enumerate(metrics):
            if not isinstance(m, KayentaMetric):
                raise TypeError(f"metrics[{i}] must be a KayentaMetric, got {m!r}")
            if m.measure in seen:
                raise ValueError(f"metrics[{i}]: measure {m.measure!r} is judged twice")
            seen.add(m.measure)
        self.metrics = tuple(metrics)
        self.pass_score = validate.number("pass_score", pass_score, minimum=0.0, maximum=100.0)
        self.marginal_score = validate.number("marginal_score", marginal_score, minimum=0.0,
                                              maximum=self.pass_score)
        self.confidence = validate.number("confidence", confidence, minimum=0.0,
                                          maximum=1.0, min_open=True, max_open=True)
        self.min_samples = validate.integer("min_samples", min_samples, minimum=1)
        self.groups = tuple(dict.fromkeys(m.group for m in self.metrics))
        weights = {} if group_weights is None else group_weights
        if not isinstance(weights, Mapping):
            raise TypeError(f"group_weights must be a mapping of group to percent, "
                            f"got {group_weights!r}")
        for g, w in weights.items():
            if g not in self.groups:
                raise ValueError(f"group_weights: no metric is in group {g!r}; groups: "
                                 f"{', '.join(self.groups)}")
            validate.number(f"group_weights[{g!r}]", w, minimum=0.0, maximum=100.0)
        if sum(float(w) for w in weights.values()) > 100.0:
            raise ValueError(f"group_weights must sum to at most 100, got {dict(weights)!r}")
        self.group_weights = {g: float(w) for g, w in weights.items()}
        self.last_result: KayentaResult | None = None
        self._reset(None)

    # The rules' arrays, from the attributes now (a sweep's replay sets attributes).
    @property
    def _params(self) -> np.ndarray:
        return np.array([m.param_row(self.confidence) for m in self.metrics])

    @property
    def _group_of(self) -> np.ndarray:
        return np.array([self.groups.index(m.group) for m in self.metrics], np.int64)

    @property
    def _weights(self) -> np.ndarray:
        return np.array([self.group_weights.get(g, np.nan) for g in self.groups])

    # -- the judge row of the analysis loops (rules/kayenta.py J_...) --------------------
    def param_values(self) -> list[tuple[str | None, float, dict]]:
        """The judge row (``rules.kayenta`` J_ layout) as (path, value, bounds): a path
        (relative to the judge) for a number one may sweep, with the bounds it accepts,
        None for structure (codes, counts, fields)."""
        r = rules
        unit = dict(minimum=0.0, maximum=100.0)
        ratio = dict(minimum=0.0)
        out = [("pass_score", self.pass_score, unit), ("marginal_score", self.marginal_score,
                                                       unit),
               ("confidence", self.confidence, dict(minimum=0.0, maximum=1.0, min_open=True,
                                                    max_open=True)),
               ("min_samples", self.min_samples, dict(integer=True, minimum=1)),
               (None, len(self.metrics), {}), (None, len(self.groups), {})]
        for k, m in enumerate(self.metrics):
            pre = f"metrics.{k}."
            row = m.param_row(self.confidence)
            out += [(None, r.MEASURE_FIELDS[m.measure], {}), (None, self.groups.index(m.group),
                                                              {})]
            for q, name in enumerate(r.PARAM_NAMES):
                v = float(row[q])
                if name in ("allowed_increase", "allowed_decrease", "critical_increase",
                            "critical_decrease"):
                    out.append((pre + name, v, ratio))
                elif name == "scale" or (name == "outlier_factor" and v > 0.0):
                    out.append((pre + name, v, dict(minimum=0.0, min_open=True)))
                else:
                    out.append((None, v, {}))
        out += [(None, self.group_weights.get(g, np.nan), {}) for g in self.groups]
        return out

    def param_row(self) -> np.ndarray:
        """The judge row (``rules.kayenta`` J_ layout) from the attributes now."""
        return np.array([float(v) for _, v, _ in self.param_values()], np.float64)

    def needs_histograms(self) -> bool:
        """Whether a metric reads a latency percentile."""
        return any(m.measure.startswith("latency_p") for m in self.metrics)

    # -- judging given series ------------------------------------------------------------
    def judge(self, canary: Mapping[str, Sequence[float]],
              baseline: Mapping[str, Sequence[float]]) -> KayentaResult:
        """Judge the canary's series against the baseline's.

        Args:
            canary: measure -> the canary's interval measurements, oldest first (NaN: an
                interval without data). Every metric's measure must be there.
            baseline: The same for the baseline.

        Returns:
            The KayentaResult.

        Raises:
            TypeError, ValueError: a missing measure or a value that is not a number.
        """
        sides = []
        for side, data in (("canary", canary), ("baseline", baseline)):
            if not isinstance(data, Mapping):
                raise TypeError(f"{side} must be a mapping of measure to series, got {data!r}")
            series = []
            for m in self.metrics:
                if m.measure not in data:
                    raise ValueError(f"{side} has no series for measure {m.measure!r}")
                series.append(_series(side, m.measure, data[m.measure]))
            sides.append(series)
        return self._judge(sides[0], sides[1])

    def _judge(self, canary: list[np.ndarray], baseline: list[np.ndarray]) -> KayentaResult:
        def packed(series):
            start = np.zeros(len(series) + 1, np.int64)
            start[1:] = np.cumsum([len(s) for s in series])
            values = np.concatenate(series) if start[-1] else np.zeros(0, np.float64)
            return values.astype(np.float64), start

        cv, cs = packed(canary)
        bv, bs = packed(baseline)
        out = np.zeros((len(self.metrics), rules.RESULT_FIELDS), np.float64)
        thresholds = np.array([self.pass_score, self.marginal_score])
        longest = max([1] + [len(s) for s in canary] + [len(s) for s in baseline])
        work = np.empty((2, longest), np.float64)
        value, code = rules.judge(cv, cs, bv, bs, self._params, self._group_of, self._weights,
                                  thresholds, out, work)
        return self.result_of(value, code, out)

    def result_of(self, value: float, code: int, out: np.ndarray) -> KayentaResult:
        """The KayentaResult of the rules' score, verdict code and result rows."""
        results = tuple(
            KayentaMetricResult(
                measure=m.measure,
                classification=rules.CLASS_NAMES[int(r[rules.R_CLASS])],
                critical=bool(r[rules.R_CRITICAL]), u=float(r[rules.R_U]),
                p_value=float(r[rules.R_P_VALUE]), lower=float(r[rules.R_LOWER]),
                upper=float(r[rules.R_UPPER]), estimate=float(r[rules.R_ESTIMATE]),
                effect_size=float(r[rules.R_EFFECT_SIZE]),
                canary_samples=int(r[rules.R_N_CANARY]),
                baseline_samples=int(r[rules.R_N_BASELINE]))
            for m, r in zip(self.metrics, out))
        return KayentaResult(float(value), rules.VERDICT_NAMES[int(code)], results)

    # -- as a happysim MetricEvaluator -----------------------------------------------------
    def is_healthy(self, canary, baseline_backends: list) -> bool:
        """Judge the canary server against the baseline backends over the deployment so
        far; True on Pass or Marginal.

        What it sees: at each call, each backend's cumulative request counters
        (completed, rejected, failures, total latency: a fastdeploy Server's
        ``request_counters()``, another backend's public stats as the built-in
        evaluators read them). The difference from the previous call is one interval:
        the canary's counters, and the sum over the baseline backends present now of
        theirs (a backend new since the previous call counts from its creation; one
        removed since is no longer read). Per interval: requests = completed + rejected;
        error_rate = (failures + rejected) / requests; success_rate = 1 - error_rate;
        latency_mean = total latency / completed in seconds; the rates and the mean are
        NaN (no data) when requests < ``min_samples`` (or no request completed, for the
        mean). Each call appends one interval per side and judges all the intervals since
        the deployment began; the result is kept as ``last_result``.

        A call with a canary object other than the previous call's starts a new
        deployment: it only reads the counters and answers True (there is no interval
        yet, and the protocol has no "no data" answer), so the first judgement is at the
        second evaluation of a deployment.

        Raises:
            ValueError: a metric's measure is a latency percentile, which cumulative
                counters cannot give (``EVALUATOR_MEASURES`` are the ones they can).
        """
        bad = [m.measure for m in self.metrics if m.measure not in EVALUATOR_MEASURES]
        if bad:
            raise ValueError(f"KayentaJudge as a MetricEvaluator computes only "
                             f"{', '.join(EVALUATOR_MEASURES)} from the backends' counters; "
                             f"it cannot judge {', '.join(bad)}")
        if canary is not self._canary:
            self._reset(canary)
            self._canary_last = self._counters(canary)
            self._baseline_last = {id(b): (b, self._counters(b)) for b in baseline_backends}
            return True
        now = self._counters(canary)
        canary_interval = tuple(a - b for a, b in zip(now, self._canary_last))
        self._canary_last = now
        base = [0, 0, 0, 0]
        seen = {}
        for b in baseline_backends:
            cur = self._counters(b)
            prev = self._baseline_last.get(id(b))
            start = prev[1] if prev is not None and prev[0] is b else (0, 0, 0, 0)
            for k in range(4):
                base[k] += cur[k] - start[k]
            seen[id(b)] = (b, cur)
        self._baseline_last = seen
        for side, counts in ((self._canary_series, canary_interval),
                             (self._baseline_series, tuple(base))):
            values = self._measurements(counts)
            for m in self.metrics:
                side[m.measure].append(values[m.measure])
        result = self._judge([np.array(self._canary_series[m.measure]) for m in self.metrics],
                             [np.array(self._baseline_series[m.measure])
                              for m in self.metrics])
        self.last_result = result
        return result.healthy

    def _reset(self, canary):
        self._canary = canary
        self._canary_last = (0, 0, 0, 0)
        self._baseline_last = {}
        self._canary_series = {m.measure: [] for m in self.metrics}
        self._baseline_series = {m.measure: [] for m in self.metrics}

    def _counters(self, backend) -> tuple[int, int, int, int]:
        """(completed, rejected, failures, latency ns) of one backend, cumulative."""
        read = getattr(backend, "request_counters", None)
        if read is not None:
            return tuple(int(v) for v in read())
        completed = rejected = failures = latency = 0
        measures = {m.measure for m in self.metrics}
        if measures & set(_NEED_ERRORS):
            g = GroupCounts.of([backend], canary_rules.ERROR_RATE)
            completed, rejected, failures = g.completed, g.rejected, g.failures
        if "latency_mean" in measures:
            g = GroupCounts.of([backend], canary_rules.LATENCY)
            completed, latency = g.completed, g.latency_ns
        return completed, rejected, failures, latency

    def _measurements(self, counts) -> dict[str, float]:
        completed, rejected, failures, latency_ns = counts
        requests = completed + rejected
        enough = requests >= self.min_samples and requests > 0
        error = (failures + rejected) / requests if enough else math.nan
        mean = latency_ns / completed / 1e9 if enough and completed > 0 else math.nan
        return {"requests": float(requests), "error_rate": error,
                "success_rate": 1.0 - error, "latency_mean": mean}

    def __repr__(self):
        return (f"KayentaJudge({list(self.metrics)!r}, pass_score={self.pass_score}, "
                f"marginal_score={self.marginal_score}, confidence={self.confidence})")
