"""Argo Rollouts' analysis in fastdeploy's terms: ``AnalysisTemplate``, ``AnalysisMetric``
and their conditions, checked once and laid out as rules/argo.py's metric slots. A
metric's provider is a built-in measurement or a KayentaJudge (Argo's kayenta provider)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..core import validate
from ..kayenta.judge import KayentaJudge
from ..rules import argo as rules
from ..rules import measure
from ..rules.timeconv import seconds_to_ns

__all__ = ["AnalysisMetric", "AnalysisTemplate", "Condition", "MEASURES"]

# Built-in measurements (rules/measure.py) by name, and each as a ratio to the baseline.
_BASE = {"error_rate": measure.M_ERROR_RATE, "success_rate": measure.M_SUCCESS_RATE,
         "latency_mean": measure.M_LATENCY_MEAN, "latency_p50": measure.M_P50,
         "latency_p90": measure.M_P90, "latency_p95": measure.M_P95,
         "latency_p99": measure.M_P99, "requests": measure.M_COUNT}
MEASURES = dict({k: (v, False) for k, v in _BASE.items()},
                **{f"{k}_ratio": (v, True) for k, v in _BASE.items()})
PERCENTILES = (measure.M_P50, measure.M_P90, measure.M_P95, measure.M_P99)
_CONDITION = re.compile(r"^\s*(<=|>=|==|<|>)\s*(\S+)\s*$")


@dataclass(frozen=True)
class Condition:
    """A comparison of the measured value with a threshold (``"<= 0.01"`` parses to
    ``Condition("<=", 0.01)``)."""

    operator: str
    threshold: float

    def __post_init__(self):
        if self.operator not in rules.OPERATORS:
            raise ValueError(f"operator must be one of {', '.join(rules.OPERATORS)}, "
                             f"got {self.operator!r}")
        object.__setattr__(self, "threshold", validate.number("threshold", self.threshold))

    @classmethod
    def parse(cls, name: str, text) -> Condition | None:
        """None, a Condition, or a string such as ``"<= 0.01"`` (ValueError naming
        ``name`` otherwise)."""
        if text is None or isinstance(text, Condition):
            return text
        m = _CONDITION.match(text) if isinstance(text, str) else None
        if m is None:
            raise ValueError(f"{name} must be a comparison such as '<= 0.01' (operators "
                             f"<, <=, >, >=, ==), got {text!r}")
        try:
            value = float(m.group(2))
        except ValueError:
            raise ValueError(f"{name} must compare with a number, got {text!r}") from None
        try:
            return cls(m.group(1), value)
        except ValueError as e:
            raise ValueError(f"{name}: {e}, got {text!r}") from None

    def __str__(self):
        return f"{self.operator} {self.threshold:g}"


@dataclass(frozen=True)
class AnalysisMetric:
    """One metric of an AnalysisTemplate (Argo's ``metrics[]``).

    Attributes:
        name: The metric's name.
        measure: A built-in measurement of the canary's window (``error_rate``,
            ``success_rate``, ``latency_mean``, ``latency_p50``, ``latency_p90``,
            ``latency_p95``, ``latency_p99``, ``requests``) or its ratio to the
            baseline's (the same names with ``_ratio``: ``latency_p99_ratio``, ...); or
            a ``fastdeploy.kayenta.KayentaJudge`` (Argo's kayenta provider): each
            measurement is a Kayenta canary analysis of the interval before it, split
            into sub-windows of ``step`` seconds, the canary's against the baseline's;
            its score gives the phase: Successful at the judge's ``pass_score`` or above
            (Argo's ``thresholds.pass``), Inconclusive at ``marginal_score`` or above,
            else Failed. Its scores must then be whole numbers (Argo's are integers),
            and ``success``, ``failure`` and ``min_samples`` are not given (the score
            decides; the judge has its own ``min_samples``).
        success: successCondition, a comparison such as ``"<= 0.01"`` (or None).
        failure: failureCondition (or None). A met failure condition fails the
            measurement; with both given, neither met is Inconclusive; with only one,
            the other is its negation (Argo's EvaluateResult).
        interval: Seconds between measurements, each covering the interval before it, > 0.
        count: Measurements to take (None: until the run ends for a background
            analysis; one for an Analysis step, or until a limit with
            ``consecutive_success_limit``).
        initial_delay: Seconds from the run's start before the first interval.
        failure_limit: Failed measurements tolerated (-1: no limit).
        inconclusive_limit: Inconclusive measurements tolerated.
        consecutive_success_limit: Consecutive successes that end the metric Successful
            (0: off).
        min_samples: Fewer requests in a window is "no data": Inconclusive.
        step: With a KayentaJudge: the Kayenta scope's ``step``, seconds per
            sub-window (the interval must be a whole number of steps). None: 60 s,
            as Argo's documented example. Not given for other measures.
    """

    name: str
    measure: str | KayentaJudge
    success: Condition | str | None = None
    failure: Condition | str | None = None
    interval: float = 60.0
    count: int | None = None
    initial_delay: float = 0.0
    failure_limit: int = 0
    inconclusive_limit: int = 0
    consecutive_success_limit: int = 0
    min_samples: int = 1
    step: float | None = None

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"name must be a non-empty string, got {self.name!r}")
        if not self.judged and self.measure not in MEASURES:
            raise ValueError(f"measure must be one of {', '.join(MEASURES)} or a "
                             f"KayentaJudge, got {self.measure!r}")
        object.__setattr__(self, "success", Condition.parse("success", self.success))
        object.__setattr__(self, "failure", Condition.parse("failure", self.failure))
        object.__setattr__(self, "interval", validate.seconds("interval", self.interval,
                                                              allow_zero=False))
        if self.count is not None:
            object.__setattr__(self, "count", validate.integer("count", self.count,
                                                               minimum=1))
        object.__setattr__(self, "initial_delay",
                           validate.seconds("initial_delay", self.initial_delay))
        object.__setattr__(self, "failure_limit",
                           validate.integer("failure_limit", self.failure_limit, minimum=-1))
        object.__setattr__(self, "inconclusive_limit",
                           validate.integer("inconclusive_limit", self.inconclusive_limit,
                                            minimum=0))
        object.__setattr__(self, "consecutive_success_limit",
                           validate.integer("consecutive_success_limit",
                                            self.consecutive_success_limit, minimum=0))
        object.__setattr__(self, "min_samples",
                           validate.integer("min_samples", self.min_samples, minimum=1))
        if self.failure_limit < 0 and self.consecutive_success_limit == 0:
            # Argo refuses it: the metric could then never end but by the count.
            raise ValueError("failure_limit -1 (no limit) needs consecutive_success_limit "
                             ">= 1, got consecutive_success_limit="
                             f"{self.consecutive_success_limit}")
        if self.judged:
            self._check_judged()
        elif self.step is not None:
            raise ValueError(f"step is a Kayenta scope's step: give it only with a "
                             f"KayentaJudge measure, got step={self.step!r} with measure "
                             f"{self.measure!r}")

    def _check_judged(self) -> None:
        """A Kayenta metric: the score decides, on whole-number thresholds, over whole
        steps of the interval."""
        for arg in ("success", "failure"):
            if getattr(self, arg) is not None:
                raise ValueError(f"{arg} is not read with a KayentaJudge measure (its score "
                                 f"and thresholds give the phase), got {arg}="
                                 f"{str(getattr(self, arg))!r}")
        if self.min_samples != 1:
            raise ValueError(f"min_samples is not read with a KayentaJudge measure (give "
                             f"the judge's min_samples), got min_samples={self.min_samples}")
        for arg in ("pass_score", "marginal_score"):
            v = getattr(self.measure, arg)
            if v != int(v):
                raise ValueError(f"measure.{arg} must be a whole number as Argo's kayenta "
                                 f"thresholds are integers, got {v!r}")
        step = 60.0 if self.step is None else self.step
        step = validate.seconds("step", step, allow_zero=False)
        object.__setattr__(self, "step", step)
        if seconds_to_ns(self.interval) % seconds_to_ns(step) != 0:
            raise ValueError(f"interval must be a whole number of steps (the Kayenta "
                             f"scope's sub-windows), got interval={self.interval:g} and "
                             f"step={step:g}")

    @property
    def judged(self) -> bool:
        """Whether the provider is a KayentaJudge."""
        return type(self.measure) is KayentaJudge

    @property
    def sub_windows(self) -> int:
        """A Kayenta metric's sub-windows per measurement (0 for other metrics)."""
        if not self.judged:
            return 0
        return seconds_to_ns(self.interval) // seconds_to_ns(self.step)

    @property
    def is_percentile(self) -> bool:
        if self.judged:
            return False
        return MEASURES[self.measure][0] in PERCENTILES

    @property
    def baseline_histograms(self) -> bool:
        """Whether the baseline's windows need a latency histogram for this metric: a
        percentile ratio, or a judge reading a percentile."""
        if self.judged:
            return self.measure.needs_histograms()
        return self.is_percentile and self.measure.endswith("_ratio")

    def params(self, judge_offset: int = -1) -> list[float]:
        """Its slot of the parameter table (rules/argo.py MP_ layout); ``judge_offset``:
        where its judge row starts in the parameter row (a Kayenta metric's)."""
        if self.judged:
            row = [0.0, 0.0, float(rules.OP_NONE), 0.0, float(rules.OP_NONE), 0.0]
            return row + self._limits() + [float(self.step), float(judge_offset)]
        field, ratio = MEASURES[self.measure]
        row = [float(field), 1.0 if ratio else 0.0]
        for cond in (self.success, self.failure):
            row += ([float(rules.OP_NONE), 0.0] if cond is None
                    else [float(rules.OPERATORS[cond.operator]), float(cond.threshold)])
        return row + self._limits() + [0.0, -1.0]

    def _limits(self) -> list[float]:
        return [float(self.interval), -1.0 if self.count is None else float(self.count),
                float(self.initial_delay), float(self.failure_limit),
                float(self.inconclusive_limit), float(self.consecutive_success_limit),
                float(self.min_samples)]


@dataclass(frozen=True)
class AnalysisTemplate:
    """Argo's AnalysisTemplate: the metrics an AnalysisRun measures (at least one, with
    distinct names)."""

    metrics: list

    def __post_init__(self):
        metrics = list(self.metrics) if isinstance(self.metrics, (list, tuple)) else None
        if not metrics:
            raise ValueError(f"metrics must hold at least one AnalysisMetric, got "
                             f"{self.metrics!r}")
        seen = set()
        for k, m in enumerate(metrics):
            if not isinstance(m, AnalysisMetric):
                raise TypeError(f"metrics[{k}] must be an AnalysisMetric, got {m!r}")
            if m.name in seen:
                raise ValueError(f"metrics[{k}]: two metrics are named {m.name!r}")
            seen.add(m.name)
        object.__setattr__(self, "metrics", metrics)
