"""Service-level objectives over replicas: ``latency_p99<=0.5``, ``instance_seconds<=900``.

An objective is a bound on one numeric metric of the per-replica table. A replica meets
it when its value satisfies the bound; its **attainment** is the probability that a
replica meets it, estimated by the share of replicas that do, with a Wilson interval
(``fastdeploy.intervals``). A replica whose metric is null (a latency of a replica that
completed no request) is left out of ``n``, as in every summary (docs/summaries.md).

Summaries name an objective as written, normalised (``latency_p99<=0.5``): a metric
whose unit is ``probability`` and support [0, 1], like a deployer outcome
``<deployer>.status=<value>``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

OPERATORS = ("<=", ">=")
_PATTERN = re.compile(r"\s*([A-Za-z_][\w.\-]*)\s*(<=|>=)\s*(\S+)\s*")


def _number_text(value: float) -> str:
    if value == int(value) and abs(value) < 2**53:
        return str(int(value))
    return repr(value)


@dataclass(frozen=True)
class SLO:
    """``metric op threshold``: a replica meets it when its ``metric`` is ``<=`` (or
    ``>=``) ``threshold``.

    Attributes:
        metric: A numeric column of the per-replica table (``latency_p99``,
            ``requests_rejected``, ``canary.end_time``, ...).
        op: ``"<="`` or ``">="``.
        threshold: A finite number, in the metric's unit.
    """

    metric: str
    op: str
    threshold: float

    def __post_init__(self):
        if not isinstance(self.metric, str) or not self.metric:
            raise ValueError(f"SLO metric must be a column name, got {self.metric!r}")
        if self.op not in OPERATORS:
            raise ValueError(f"SLO op must be one of {', '.join(OPERATORS)}, got {self.op!r}")
        if isinstance(self.threshold, bool) or not isinstance(self.threshold, (int, float)) \
                or not math.isfinite(self.threshold):
            raise ValueError(f"SLO threshold must be a finite number, got {self.threshold!r}")

    @property
    def name(self) -> str:
        """The objective as a metric name: ``latency_p99<=0.5``."""
        return f"{self.metric}{self.op}{_number_text(float(self.threshold))}"

    def __str__(self) -> str:
        return self.name

    def met(self, values) -> np.ndarray:
        """Per value: 1.0 when it meets the objective, 0.0 when not, NaN for a null."""
        x = np.asarray(values, dtype=np.float64)
        hit = x <= self.threshold if self.op == "<=" else x >= self.threshold
        return np.where(np.isnan(x), np.nan, hit.astype(np.float64))


def parse_slo(text) -> SLO:
    """``"latency_p99<=0.5"`` -> SLO; an SLO is returned as it is.

    Raises:
        ValueError: not ``METRIC<=VALUE`` or ``METRIC>=VALUE`` with a finite number; the
            message quotes the text.
    """
    if isinstance(text, SLO):
        return text
    m = _PATTERN.fullmatch(text) if isinstance(text, str) else None
    if m is None:
        raise ValueError(f"slo {text!r}: expected METRIC<=VALUE or METRIC>=VALUE "
                         "(e.g. latency_p99<=0.5)")
    metric, op, raw = m.groups()
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ValueError(f"slo {text!r}: {raw!r} is not a finite number")
    return SLO(metric, op, value)


def parse_slos(slos) -> tuple[SLO, ...]:
    """A tuple of SLOs from None, one objective, or several (texts or SLOs); an
    objective given twice is refused."""
    if slos is None:
        return ()
    items = [slos] if isinstance(slos, (str, SLO)) else list(slos)
    out = tuple(parse_slo(s) for s in items)
    names = [s.name for s in out]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"slo {twice[0]} is given twice")
    return out


def check_metrics(slos, numeric) -> None:
    """Refuse an objective on a metric that is not among ``numeric`` (column names),
    naming the closest one."""
    import difflib

    numeric = list(numeric)
    for s in slos:
        if s.metric not in numeric:
            close = difflib.get_close_matches(s.metric, numeric, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise ValueError(f"slo {s.name}: {s.metric!r} is not a numeric metric of this "
                             f"scenario{hint}; metrics: {', '.join(numeric)}")


def scenario_metrics(sim) -> list[str]:
    """The numeric metric columns of ``sim``'s per-replica rows, from a batch run of no
    replicas (the one list of what a row holds)."""
    from .batch.lower import lower
    from .batch.run import run_model
    from .sweep.stats import split_columns

    empty = run_model(lower(sim), np.zeros(0, np.int64), 0, threads=1)[0]
    return split_columns(empty, ())[0]


def indicator(table: pa.Table, slo: SLO) -> np.ndarray:
    """Per row of ``table``: 1.0 meets ``slo``, 0.0 misses it, NaN for a null value.

    Raises:
        ValueError: the table has no numeric column ``slo.metric``.
    """
    if slo.metric not in table.column_names:
        raise ValueError(f"slo {slo.name}: the table has no column {slo.metric!r}")
    col = table.column(slo.metric)
    if not (pa.types.is_integer(col.type) or pa.types.is_floating(col.type)):
        raise ValueError(f"slo {slo.name}: {slo.metric!r} is not a numeric column")
    return slo.met(col.to_numpy(zero_copy_only=False).astype(np.float64))


def counts(met: np.ndarray) -> tuple[int, int]:
    """(replicas meeting, replicas with a value) of an ``indicator`` array."""
    present = ~np.isnan(met)
    return int(np.sum(met[present])), int(present.sum())
