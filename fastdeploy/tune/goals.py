"""Objectives and constraints (SLOs) of a tune, and their figures over replica rows.

A constraint is written as text, as a person states an SLO::

    P(latency_p99 <= 0.5) >= 0.95          # the share of replicas meeting an SLO
                                           # (fastdeploy.slo: METRIC<=VALUE or >=)
    P(canary.status == "completed") >= 0.99  # a deployer outcome
    mean(requests_rejected) <= 1           # a mean over replicas

Any numeric column of the per-replica table may be named (new engine metrics join by
themselves), and any outcome column (``<deployer>.status``) with a status value.

A candidate meets a constraint only when the one-sided ``confidence`` bound clears it:
the Wilson bound for a probability, Student's t bound for a mean (``fastdeploy.intervals``;
a one-sided bound at level c is one end of the two-sided interval at level 2c - 1). It
fails it when the opposite bound does not reach it; otherwise it is undecided.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ..batch import schema as sc
from ..intervals import CONFIDENCE, mean_interval, wilson_interval
from ..slo import SLO, counts, indicator, parse_slo

FEASIBLE, INFEASIBLE, UNDECIDED = "feasible", "infeasible", "undecided"
DIRECTIONS = ("minimize", "maximize")
_NAME = r"[A-Za-z_][A-Za-z0-9_.\-]*"
_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_P_RE = re.compile(rf"^\s*P\s*\((.*)\)\s*(<=|>=)\s*({_NUM})\s*$")
_STATUS_RE = re.compile(rf"^\s*({_NAME})\s*(==|!=)\s*(\"[^\"]*\"|'[^']*'|{_NAME})\s*$")
_MEAN_RE = re.compile(rf"^\s*mean\s*\(\s*({_NAME})\s*\)\s*(<=|>=)\s*({_NUM})\s*$")
SYNTAX = ('P(METRIC<=VALUE) >= PROB (an SLO as fastdeploy.slo reads it; also >=), '
          'P(DEPLOYER.status == "STATUS") >= PROB (also !=), or mean(METRIC) <= VALUE '
          '(<= or >= after each)')


def one_sided(confidence: float) -> float:
    """The two-sided level whose ends are one-sided bounds at ``confidence``."""
    if not 0.5 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0.5, 1), got {confidence!r}")
    return 2.0 * confidence - 1.0


def _floats(table: pa.Table, name: str) -> np.ndarray:
    return table.column(name).to_numpy(zero_copy_only=False).astype(np.float64)


@dataclass(frozen=True)
class Objective:
    """What a tune optimises: the mean over replicas of one column.

    Args:
        metric: A numeric column of the per-replica table (``instance_seconds``,
            ``latency_p99``, ``requests_rejected``, ``scaler.scale_out_count``...) or a
            tuned parameter's path (its column holds the candidate's value).
        direction: ``"minimize"`` (default) or ``"maximize"``.
        price_per_instance_hour: With ``metric="instance_seconds"``: report money, the
            mean instance-seconds x price / 3600, named ``cost``.

    Raises:
        ValueError: an unknown direction, a price that is not a positive finite
            number, or a price with another metric.
    """

    metric: str = "instance_seconds"
    direction: str = "minimize"
    price_per_instance_hour: float | None = None

    def __post_init__(self):
        if not isinstance(self.metric, str) or not self.metric:
            raise ValueError(f"objective metric must be a column name, got {self.metric!r}")
        if self.direction not in DIRECTIONS:
            raise ValueError(f"objective direction must be 'minimize' or 'maximize', got "
                             f"{self.direction!r}")
        p = self.price_per_instance_hour
        if p is not None:
            if isinstance(p, bool) or not isinstance(p, (int, float)) or not math.isfinite(p) \
                    or p <= 0:
                raise ValueError(f"price_per_instance_hour must be a number > 0, got {p!r}")
            if self.metric != "instance_seconds":
                raise ValueError("price_per_instance_hour prices instance_seconds; the "
                                 f"objective's metric is {self.metric!r}")

    @property
    def name(self) -> str:
        """The objective's column name in tables: ``cost`` when priced, else the metric."""
        return "cost" if self.price_per_instance_hour is not None else self.metric

    @property
    def scale(self) -> float:
        return 1.0 if self.price_per_instance_hour is None else self.price_per_instance_hour / 3600

    @property
    def sign(self) -> float:
        """+1 to minimise, -1 to maximise: ``sign * value`` is always minimised."""
        return 1.0 if self.direction == "minimize" else -1.0

    def values(self, rows: pa.Table) -> np.ndarray:
        """The objective per replica (nulls left out), in the objective's unit."""
        x = _floats(rows, self.metric)
        return x[~np.isnan(x)] * self.scale

    def figures(self, rows: pa.Table, confidence: float = CONFIDENCE) -> dict:
        """``n``, ``mean``, ``ci_low``, ``ci_high``: the mean and its two-sided t interval."""
        x = self.values(rows)
        m, lo, hi = mean_interval(x, confidence)
        return {"n": int(x.size), "mean": m, "ci_low": lo, "ci_high": hi}

    def describe(self) -> str:
        price = (f" at {self.price_per_instance_hour:g} per instance-hour"
                 if self.price_per_instance_hour is not None else "")
        return f"{self.direction} mean({self.metric}){price}"


@dataclass(frozen=True)
class Constraint:
    """An SLO over replicas, parsed from its text (``Constraint.parse``).

    Attributes:
        text: The constraint as written.
        kind: ``"probability"`` or ``"mean"``.
        metric: The column.
        op: The comparison inside ``P(...)``: ``<=``/``>=`` for a metric (an SLO),
            ``==``/``!=`` for a status (None for a mean).
        value: Its right side: a number, or a status string for an outcome column.
        bound_op: ``">="`` or ``"<="``: how the probability or mean compares to ``limit``.
        limit: The probability (in [0, 1]) or the mean's limit.
    """

    text: str
    kind: str
    metric: str
    op: str | None
    value: object
    bound_op: str
    limit: float

    @property
    def slo(self):
        """The event of a ``P(METRIC<=VALUE)`` constraint as a ``fastdeploy.slo.SLO``."""
        return SLO(self.metric, self.op, self.value)

    @classmethod
    def parse(cls, text: str) -> "Constraint":
        """Parse ``P(METRIC<=X) >= P`` (the event an SLO of ``fastdeploy.slo``),
        ``P(COL == "STATUS") >= P`` or ``mean(METRIC) <= X`` (``>=`` too in each).

        Raises:
            ValueError: text that is none of these (the message shows the forms), or a
                probability outside [0, 1].
        """
        if not isinstance(text, str):
            raise ValueError(f"a constraint is text such as 'P(latency_p99 <= 0.5) >= 0.95', "
                             f"got {text!r}")
        m = _P_RE.match(text)
        if m:
            event, bound_op, limit = m.groups()
            limit = float(limit)
            if not 0.0 <= limit <= 1.0:
                raise ValueError(f"constraint {text!r}: a probability must be in [0, 1], got "
                                 f"{limit:g}")
            status = _STATUS_RE.match(event)
            if status:
                metric, op, value = status.groups()
                value = value[1:-1] if value[0] in "\"'" else value
                return cls(text, "probability", metric, op, value, bound_op, limit)
            try:
                slo = parse_slo(event.strip())
            except ValueError as e:
                raise ValueError(f"constraint {text!r}: inside P(...), {e}; or "
                                 'DEPLOYER.status == "STATUS"') from None
            return cls(text, "probability", slo.metric, slo.op, slo.threshold, bound_op, limit)
        m = _MEAN_RE.match(text)
        if m:
            metric, bound_op, limit = m.groups()
            return cls(text, "mean", metric, None, None, bound_op, float(limit))
        raise ValueError(f"constraint {text!r}: expected {SYNTAX}")

    def check_columns(self, numeric, outcomes) -> None:
        """Refuse a metric the table does not have, or a status the engine never reports.

        Raises:
            ValueError: naming the constraint, the metric and the columns there are.
        """
        import difflib

        string_value = isinstance(self.value, str)
        if self.kind == "probability" and string_value:
            if self.metric not in outcomes:
                close = difflib.get_close_matches(self.metric, outcomes, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ValueError(f"constraint {self.text!r}: {self.metric!r} is not an outcome "
                                 f"column{hint}; outcome columns: {', '.join(outcomes) or 'none'}")
            if self.value not in sc.STATUS_NAMES:
                raise ValueError(f"constraint {self.text!r}: {self.value!r} is not a status; "
                                 f"statuses: {', '.join(sc.STATUS_NAMES)}")
            return
        if self.metric not in numeric:
            close = difflib.get_close_matches(self.metric, list(numeric) + list(outcomes), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            what = (" (an outcome column: compare it with == \"STATUS\" inside P(...))"
                    if self.metric in outcomes else hint)
            raise ValueError(f"constraint {self.text!r}: unknown metric {self.metric!r}{what}; "
                             f"metrics: {', '.join(numeric)}")

    def figures(self, rows: pa.Table, confidence: float = CONFIDENCE) -> dict:
        """The estimate, its one-sided bounds and the verdict over ``rows``.

        Returns:
            ``n``; ``estimate`` (the probability or mean); ``low``, ``high`` (the
            one-sided ``confidence`` bounds: each end alone holds with that confidence);
            ``status`` (``feasible`` when the bound on the safe side clears the limit,
            ``infeasible`` when the other bound cannot reach it, else ``undecided``);
            ``violation`` (how far the safe-side bound is from the limit, <= 0 when
            feasible: what the sampler is told).

        A replica where the metric is null (a latency with no completed request) is left
        out, of a probability as of a mean (as summaries and SLO attainment do).
        """
        level = one_sided(confidence)
        if self.kind == "probability":
            if isinstance(self.value, str):
                col = [v for v in rows.column(self.metric).to_pylist() if v is not None]
                hits, n = sum((v == self.value) == (self.op == "==") for v in col), len(col)
            else:
                hits, n = counts(indicator(rows, self.slo))
            if n == 0:
                est, lo, hi = math.nan, 0.0, 1.0
            else:
                est, lo, hi = wilson_interval(int(hits), n, level)
        else:
            x = _floats(rows, self.metric)
            x = x[~np.isnan(x)]
            n = int(x.size)
            est, lo, hi = mean_interval(x, level) if n else (math.nan, -math.inf, math.inf)
        if self.bound_op == ">=":
            violation = self.limit - lo
            status = FEASIBLE if lo >= self.limit else INFEASIBLE if hi < self.limit else UNDECIDED
        else:
            violation = hi - self.limit
            status = FEASIBLE if hi <= self.limit else INFEASIBLE if lo > self.limit else UNDECIDED
        return {"n": n, "estimate": est, "low": lo, "high": hi, "status": status,
                "violation": float(violation) if math.isfinite(violation) else 1e300}


def parse_constraints(constraints) -> tuple[Constraint, ...]:
    """Constraint objects from texts (or Constraints); ValueError naming a bad one."""
    if isinstance(constraints, (str, Constraint)):
        constraints = [constraints]
    out = []
    for i, c in enumerate(constraints):
        if not isinstance(c, Constraint):
            try:
                c = Constraint.parse(c)
            except ValueError as e:
                raise ValueError(f"constraints[{i}]: {e}") from None
        out.append(c)
    return tuple(out)


def parse_objectives(objective) -> tuple[Objective, ...]:
    """Objectives from an Objective, a metric name, ``"minimize METRIC"`` /
    ``"maximize METRIC"`` text, or a sequence of those (several: a Pareto front)."""
    items = [objective] if isinstance(objective, (str, Objective)) else list(objective)
    if not items:
        raise ValueError("objective: give at least one objective")
    out = []
    for i, o in enumerate(items):
        if isinstance(o, str):
            words = o.split()
            if len(words) == 2 and words[0] in DIRECTIONS:
                o = Objective(words[1], words[0])
            elif len(words) == 1:
                o = Objective(words[0])
            else:
                raise ValueError(f"objective[{i}]: expected METRIC or 'minimize METRIC' / "
                                 f"'maximize METRIC', got {o!r}")
        elif not isinstance(o, Objective):
            raise ValueError(f"objective[{i}]: expected an Objective or a metric name, got {o!r}")
        out.append(o)
    names = [o.name for o in out]
    if len(set(names)) != len(names):
        raise ValueError(f"objective: the same objective twice ({names})")
    return tuple(out)


def check_goals(objectives, constraints, numeric, outcomes, keys) -> None:
    """Refuse an objective or constraint naming a column the per-replica table lacks.

    Args:
        numeric, outcomes: The table's numeric and outcome (status) columns.
        keys: The tuned paths (an objective may name one: its column holds the value).

    Raises:
        ValueError: naming the objective or constraint and the columns there are.
    """
    import difflib

    numeric = list(numeric)
    for o in objectives:
        if o.metric not in numeric and o.metric not in keys:
            close = difflib.get_close_matches(o.metric, numeric + list(keys), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"objective: unknown metric {o.metric!r}{hint}; metrics: "
                             f"{', '.join(numeric)}, or a tuned path")
    for c in constraints:
        c.check_columns(numeric, outcomes)


def worst(statuses) -> str:
    """The verdict of several constraints: infeasible if any is, else undecided if any
    is, else feasible (also with no constraint)."""
    statuses = list(statuses)
    if INFEASIBLE in statuses:
        return INFEASIBLE
    return UNDECIDED if UNDECIDED in statuses else FEASIBLE
