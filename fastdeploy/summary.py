"""Summaries of replicas, one schema for runs and sweeps (docs/summaries.md).

A metric's statistics are ``n`` (the non-null values used), ``mean``, ``ci_low`` and
``ci_high`` (the 95% interval of the mean, clipped to the metric's support) and, for
numeric metrics, ``p50``, ``p90``, ``p95``, ``p99`` (percentiles across replicas). An outcome
``<column>=<value>`` is the 0/1 indicator of that value: its ``mean`` is the probability
and its interval Wilson's. ``summarize`` gives one row per metric (run summaries);
``fastdeploy.sweep.stats.summarize_points`` one row per point with ``<metric>.<field>``
columns (sweep summaries).
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa

from .intervals import clip, mean_interval, wilson_interval
from .metrics import metric_support, metric_unit, outcome_metric, reported_values

FIELDS = ("n", "mean", "ci_low", "ci_high", "p50", "p90", "p95", "p99")
QUANTILES = (50, 90, 95, 99)
SKIP = {"replica", "seed"}
NO_QUANTILES = (math.nan,) * len(QUANTILES)
# The run summary's columns.
SUMMARY_SCHEMA = pa.schema([("metric", pa.string()), ("unit", pa.string()), ("n", pa.int64())]
                           + [(f, pa.float64()) for f in FIELDS[1:]])


def describe(values, metric: str) -> dict:
    """The ``FIELDS`` of one numeric metric over replicas; NaN (null) values left out.

    The t interval is clipped to the metric's support (``fastdeploy.metrics``): a count
    whose interval would start below 0 starts at 0.
    """
    x = np.asarray(values, dtype=np.float64)
    x = x[~np.isnan(x)]
    m, lo, hi = mean_interval(x)
    lo, hi = clip(lo, hi, metric_support(metric))
    q = np.percentile(x, QUANTILES) if x.size else NO_QUANTILES
    return dict(zip(FIELDS, (int(x.size), m, lo, hi, *(float(v) for v in q))))


def describe_outcome(hits: int, present: int) -> dict:
    """``n``, ``mean`` (the probability), ``ci_low``, ``ci_high`` (its Wilson interval)
    of an outcome seen ``hits`` times in ``present`` non-null values; quantiles NaN."""
    if present == 0:
        p = lo = hi = math.nan
    else:
        p, lo, hi = wilson_interval(hits, present)
    return dict(zip(FIELDS, (present, p, lo, hi, *NO_QUANTILES)))


def outcome_counts(values, column: str = "") -> dict[str, tuple[int, int]]:
    """{value: (hits, non-null count)} for every value of a string column, sorted (with
    the values ``metrics.reported_values`` always reports for ``column``)."""
    present = [v for v in values if v is not None]
    return {v: (sum(x == v for x in present), len(present))
            for v in reported_values(column, present)}


def summarize(table: pa.Table, slos=()) -> pa.Table:
    """One row per metric of a replica table: ``metric``, ``unit`` and the ``FIELDS``.

    Numeric columns give one row each; a string column (``<deployer>.status``) gives one
    row per value seen, named ``<column>=<value>`` with unit ``probability``. The
    ``replica`` and ``seed`` columns are skipped. Each objective of ``slos``
    (``fastdeploy.slo``: ``"latency_p99<=0.5"`` or an SLO) adds a last row named as the
    objective, unit ``probability``: the share of replicas meeting it with its Wilson
    interval (its attainment).
    """
    from .slo import counts, indicator, parse_slos

    objectives = parse_slos(slos)
    rows: dict[str, list] = {"metric": [], "unit": [], **{f: [] for f in FIELDS}}

    def add(metric: str, stats: dict) -> None:
        rows["metric"].append(metric)
        rows["unit"].append(metric_unit(metric))
        for f in FIELDS:
            rows[f].append(stats[f])

    for name in table.column_names:
        if name in SKIP:
            continue
        col = table.column(name)
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            for value, (hits, present) in outcome_counts(col.to_pylist(), name).items():
                add(outcome_metric(name, value), describe_outcome(hits, present))
        else:
            add(name, describe(col.to_numpy(zero_copy_only=False), name))
    for slo in objectives:
        add(slo.name, describe_outcome(*counts(indicator(table, slo))))
    return pa.table(rows, schema=SUMMARY_SCHEMA)


# -- display -----------------------------------------------------------------------------------
SIGNIFICANT = 4   # digits of a row's largest value
MAX_DECIMALS = 6  # below 1e-6 a value shows as 0 rather than in scientific notation


def decimals_for(values) -> int:
    """Decimals that give the largest finite value of ``values`` ``SIGNIFICANT`` digits
    (at least 0, at most ``MAX_DECIMALS``), so a row's numbers share one precision."""
    finite = [abs(v) for v in values if v is not None and math.isfinite(v) and v != 0]
    if not finite:
        return 0
    digits = math.floor(math.log10(max(finite))) + 1
    return min(max(SIGNIFICANT - digits, 0), MAX_DECIMALS)


def format_number(value, decimals: int | None = None) -> str:
    """A table cell: whole numbers without decimals, others with ``decimals`` (default:
    ``decimals_for([value])`` without trailing zeros), never in scientific notation;
    ``-`` for null or NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    v = float(value)
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v == int(v):
        return str(int(v))
    if decimals is None:
        # A value on its own (a parameter): no trailing zeros to line up with others.
        text = f"{v:.{decimals_for([v])}f}"
        text = text.rstrip("0").rstrip(".") if "." in text else text
    else:
        text = f"{v:.{decimals}f}"
    # A tiny value rounds to 0 (-0 for a negative one): show it as the whole number 0.
    return "0" if float(text) == 0 else text


def format_estimate(mean, low, high) -> str:
    """``mean [low, high]`` with one precision for the three numbers."""
    d = decimals_for((mean, low, high))
    return f"{format_number(mean, d)} [{format_number(low, d)}, {format_number(high, d)}]"


def format_summary(summary: pa.Table) -> str:
    """A plain-text table of ``summarize`` output: metric, unit, n, mean, 95% CI and
    percentiles, each row's numbers with one precision (``decimals_for``)."""
    head = ["metric", "unit", "n", "mean", "95% CI", "p50", "p90", "p95", "p99"]
    rows = []
    for r in summary.to_pylist():
        numbers = [r[f] for f in FIELDS[1:]]
        d = decimals_for(numbers)
        cells = [format_number(v, d) for v in numbers]
        rows.append([r["metric"], r["unit"] or "-", str(r["n"]), cells[0],
                     f"[{cells[1]}, {cells[2]}]", *cells[3:]])
    widths = [max([len(h)] + [len(row[i]) for row in rows]) for i, h in enumerate(head)]

    def line(cells):
        # Names left-aligned, numbers right-aligned.
        return "  ".join(c.ljust(w) if i < 2 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    text = [line(head), "-" * len(line(head))] + [line(row) for row in rows]
    return "\n".join(text)
