"""Summaries of a replica table: means with t intervals, spreads, outcome probabilities."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa

from .intervals import mean_interval, wilson_interval

SKIP = {"replica", "seed"}


def summarize(table: pa.Table) -> pa.Table:
    """One row per metric: mean, 95% CI, p50/p90/p99 across replicas; one row per
    outcome (``<deployer>.status == value``) with its probability and Wilson interval."""
    rows = {"metric": [], "n": [], "mean": [], "ci_low": [], "ci_high": [], "p50": [],
            "p90": [], "p99": []}

    def add(name, n, mean, lo, hi, q=(math.nan,) * 3):
        for key, v in zip(rows, (name, n, mean, lo, hi, *q)):
            rows[key].append(v)

    for name in table.column_names:
        if name in SKIP:
            continue
        col = table.column(name)
        if pa.types.is_string(col.type):
            values = col.to_pylist()
            for outcome in sorted({v for v in values if v is not None}):
                k = sum(v == outcome for v in values)
                p, lo, hi = wilson_interval(k, len(values))
                add(f"P({name} = {outcome})", len(values), p, lo, hi)
            continue
        x = col.to_numpy(zero_copy_only=False).astype(np.float64)
        x = x[~np.isnan(x)]
        if x.size == 0:
            add(name, 0, math.nan, math.nan, math.nan)
            continue
        m, lo, hi = mean_interval(x)
        add(name, int(x.size), m, lo, hi, tuple(np.percentile(x, [50, 90, 99])))
    return pa.table(rows)


def format_summary(summary: pa.Table) -> str:
    """A plain-text table of ``summarize`` output."""
    head = f"{'metric':44s} {'n':>7s} {'mean':>12s} {'95% CI':>27s} {'p50':>11s} {'p90':>11s} {'p99':>11s}"
    lines = [head, "-" * len(head)]
    for r in summary.to_pylist():
        ci = f"[{_num(r['ci_low'])}, {_num(r['ci_high'])}]"
        lines.append(f"{r['metric'][:44]:44s} {r['n']:7d} {_num(r['mean']):>12s} {ci:>27s} "
                     f"{_num(r['p50']):>11s} {_num(r['p90']):>11s} {_num(r['p99']):>11s}")
    return "\n".join(lines)


def _num(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if isinstance(v, float) and math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if abs(v) >= 1e5 or (v != 0 and abs(v) < 1e-3):
        return f"{v:.4g}"
    return f"{v:.4f}".rstrip("0").rstrip(".") if v != int(v) else f"{int(v)}"
