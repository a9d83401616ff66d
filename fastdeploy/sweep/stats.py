"""Per-point statistics of a sweep table: summaries, paired comparisons, CI half-widths.

The statistics are those of a run summary (``fastdeploy.summary``: the same fields and
meanings, intervals from ``fastdeploy.intervals``), one row per point with
``<metric>.<field>`` columns. Null values (a latency with no completed request) are
left out of a metric's statistics; ``<metric>.n`` counts the values used.
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa

from ..batch import schema as sc
from ..intervals import mean_interval, t_half_width, welch_interval, wilson_interval
from ..metrics import outcome_metric, reported_values
from ..slo import counts, indicator, parse_slos
from ..summary import FIELDS, describe, describe_outcome

ID_COLUMNS = ("point", "replica", "seed")
OUTCOME_FIELDS = FIELDS[:4]  # n, mean, ci_low, ci_high: an indicator has no percentiles


def split_columns(table: pa.Table, keys) -> tuple[list[str], list[str]]:
    """(numeric metric columns, outcome (string) columns) of a sweep table."""
    skip = set(ID_COLUMNS) | set(keys)
    numeric, outcomes = [], []
    for name in table.column_names:
        if name in skip:
            continue
        t = table.schema.field(name).type
        if pa.types.is_string(t) or pa.types.is_large_string(t):
            outcomes.append(name)
        elif pa.types.is_integer(t) or pa.types.is_floating(t):
            numeric.append(name)
    return numeric, outcomes


def _floats(table: pa.Table, name: str) -> np.ndarray:
    return table.column(name).to_numpy(zero_copy_only=False).astype(np.float64)


def _strings(table: pa.Table, name: str) -> np.ndarray:
    return np.asarray(table.column(name).to_pylist(), dtype=object)


def _groups(points: np.ndarray) -> tuple[np.ndarray, list[slice]]:
    """Point ids present and the slice of each in a table sorted by point."""
    ids, starts = np.unique(points, return_index=True)
    stops = list(starts[1:]) + [points.size]
    return ids, [slice(int(a), int(b)) for a, b in zip(starts, stops)]


def outcome_values(table: pa.Table, outcomes) -> dict[str, list[str]]:
    """The values each outcome column takes anywhere in the table, sorted."""
    return {name: reported_values(name, table.column(name).to_pylist())
            for name in outcomes}


def summarize_points(table: pa.Table, keys, points, slos=()) -> pa.Table:
    """One row per point: its parameters, n, and statistics of every metric.

    Args:
        table: Sweep rows sorted by (point, replica).
        keys: Swept paths.
        points: The bound points (dicts over ``keys``), indexed by point id.

    Returns:
        ``point``, the parameters, ``n`` (replicas); per numeric metric ``<m>.n``,
        ``<m>.mean``, ``<m>.ci_low``, ``<m>.ci_high`` (95% t interval of the mean, clipped
        to the metric's support), ``<m>.p50``, ``<m>.p90``, ``<m>.p95``, ``<m>.p99``; per outcome
        column and value, ``<col>=<value>.n``, ``.mean`` (the probability), ``.ci_low``,
        ``.ci_high`` (95% Wilson interval); per objective of ``slos``
        (``fastdeploy.slo``) ``<slo>.n``, ``.mean`` (its attainment), ``.ci_low``,
        ``.ci_high`` (95% Wilson). The fields are those of
        ``fastdeploy.summary.summarize``.
    """
    objectives = parse_slos(slos)
    numeric, outcomes = split_columns(table, keys)
    pts = table.column("point").to_numpy()
    ids, slices = _groups(pts)
    cols: dict[str, list] = {"point": [int(i) for i in ids]}
    for k in keys:
        cols[k] = [points[int(i)][k] for i in ids]
    cols["n"] = [s.stop - s.start for s in slices]
    for name in numeric:
        x = _floats(table, name)
        _add_stats(cols, name, FIELDS, [describe(x[s], name) for s in slices])
    for name, values in outcome_values(table, outcomes).items():
        col = _strings(table, name)
        present = [int(sum(v is not None for v in col[s])) for s in slices]
        for value in values:
            hit = col == value
            stats = [describe_outcome(int(hit[s].sum()), k) for s, k in zip(slices, present)]
            _add_stats(cols, outcome_metric(name, value), OUTCOME_FIELDS, stats)
    for slo in objectives:
        met = indicator(table, slo)
        _add_stats(cols, slo.name, OUTCOME_FIELDS,
                   [describe_outcome(*counts(met[s])) for s in slices])
    return pa.table(cols)


def _add_stats(cols: dict, metric: str, fields, stats: list[dict]) -> None:
    """``<metric>.<field>`` columns from one ``describe`` dict per point."""
    for f in fields:
        cols[f"{metric}.{f}"] = [st[f] for st in stats]


def compare_points(table: pa.Table, keys, points, baseline: int, paired: bool = True,
                   slos=()) -> pa.Table:
    """Every other point minus ``baseline``, per metric, with a 95% t interval.

    Paired: rows are matched by replica index (common random numbers make them
    correlated) and the interval is the t interval of the mean paired difference.
    Unpaired: Welch's interval of the difference of means. Outcomes compare as 0/1
    indicators ``<col>=<value>``, and each objective of ``slos`` (``fastdeploy.slo``) as
    the 0/1 indicator of meeting it: its ``diff`` is the difference of attainment.

    Returns:
        ``point``, the parameters, ``n`` (pairs, or the point's replicas unpaired), and
        per metric ``<m>.n`` (the pairs, or the point's values, without nulls),
        ``<m>.diff``, ``<m>.ci_low``, ``<m>.ci_high`` (not clipped: a difference may
        have either sign).
    """
    numeric, outcomes = split_columns(table, keys)
    pts = table.column("point").to_numpy()
    reps = table.column("replica").to_numpy()
    ids, slices = _groups(pts)
    where = {int(i): s for i, s in zip(ids, slices)}
    if baseline not in where:
        raise ValueError(f"baseline point {baseline} has no rows")
    base = where[baseline]
    others = [int(i) for i in ids if int(i) != baseline]
    # For each other point: its row positions and the baseline's, matched by replica.
    match = {}
    for p in others:
        s = where[p]
        if paired:
            _, ia, ib = np.intersect1d(reps[s], reps[base], assume_unique=True,
                                       return_indices=True)
            match[p] = (ia + s.start, ib + base.start)
        else:
            match[p] = (np.arange(s.start, s.stop), np.arange(base.start, base.stop))
    cols: dict[str, list] = {"point": others}
    for k in keys:
        cols[k] = [points[p][k] for p in others]
    cols["n"] = [len(match[p][0]) for p in others]

    series = [(name, _floats(table, name)) for name in numeric]
    for name, values in outcome_values(table, outcomes).items():
        col = _strings(table, name)
        for value in values:
            ind = np.where(col == None, np.nan, (col == value).astype(np.float64))  # noqa: E711
            series.append((outcome_metric(name, value), ind.astype(np.float64)))
    series += [(slo.name, indicator(table, slo)) for slo in parse_slos(slos)]
    for name, x in series:
        n_, d_, lo_, hi_ = [], [], [], []
        for p in others:
            ia, ib = match[p]
            a, b = x[ia], x[ib]
            if paired:
                d = a - b
                d = d[~np.isnan(d)]
                m, lo, hi = mean_interval(d)
                n_.append(int(d.size))
            else:
                a, b = a[~np.isnan(a)], b[~np.isnan(b)]
                m, lo, hi = welch_interval(a, b)
                n_.append(int(a.size))
            d_.append(m), lo_.append(lo), hi_.append(hi)
        cols[f"{name}.n"] = n_
        cols[f"{name}.diff"] = d_
        cols[f"{name}.ci_low"] = lo_
        cols[f"{name}.ci_high"] = hi_
    return pa.table(cols)


def parse_until(until, numeric, outcomes) -> dict[str, tuple[str, str | None, float]]:
    """Check ``until`` bounds; returns {key: (column, outcome value or None, bound)}.

    Raises:
        ValueError: an empty mapping, an unknown metric, or a bound that is not a
            positive finite number.
    """
    if not isinstance(until, dict) or not until:
        raise ValueError(f"until must be a non-empty dict {{metric: half-width}}, got {until!r}")
    out = {}
    for key, bound in until.items():
        if isinstance(bound, bool) or not isinstance(bound, (int, float)) \
                or not math.isfinite(bound) or bound <= 0:
            raise ValueError(f"until[{key!r}] must be a positive finite half-width, got {bound!r}")
        if not isinstance(key, str):
            raise ValueError(f"until: metric names must be strings, got {key!r}")
        col, _, value = key.partition("=")
        if value:
            if col not in outcomes:
                raise ValueError(f"until: {col!r} is not an outcome column (outcomes: {outcomes})")
            if value not in sc.STATUS_NAMES:
                raise ValueError(f"until: {value!r} is not a status (one of {sc.STATUS_NAMES})")
            out[key] = (col, value, float(bound))
        elif key in numeric:
            out[key] = (key, None, float(bound))
        else:
            raise ValueError(f"until: unknown metric {key!r}; metrics: {numeric}, outcomes "
                             f"as '<column>=<status>' with columns {outcomes}")
    return out


def half_widths(table: pa.Table, bounds: dict, point_ids) -> dict[int, dict[str, float]]:
    """Current CI half-width of every ``until`` metric at each of ``point_ids``."""
    pts = table.column("point").to_numpy()
    ids, slices = _groups(pts)
    where = {int(i): s for i, s in zip(ids, slices)}
    cache = {}
    out: dict[int, dict[str, float]] = {}
    for p in point_ids:
        s = where.get(int(p))
        res = {}
        for key, (col, value, _) in bounds.items():
            if s is None:
                res[key] = math.inf
                continue
            if value is None:
                if col not in cache:
                    cache[col] = _floats(table, col)
                x = cache[col][s]
                res[key] = t_half_width(x[~np.isnan(x)])
            else:
                if col not in cache:
                    cache[col] = _strings(table, col)
                c = cache[col][s]
                present = [v for v in c if v is not None]
                if not present:
                    res[key] = math.inf
                else:
                    _, lo, hi = wilson_interval(sum(v == value for v in present), len(present))
                    res[key] = (hi - lo) / 2
        out[int(p)] = res
    return out
