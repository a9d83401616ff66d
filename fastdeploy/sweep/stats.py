"""Per-point statistics of a sweep table: summaries, paired comparisons, CI half-widths.

Means get Student t intervals and outcome probabilities Wilson intervals, both from
``fastdeploy.intervals``. Null values (a latency with no completed request) are left
out of a metric's statistics; such a metric gets a ``<metric>.n`` column with the count
it was computed from.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import pyarrow as pa

from ..batch import schema as sc
from ..intervals import t_quantile, wilson_interval

ID_COLUMNS = ("point", "replica", "seed")
CONFIDENCE = 0.95


@lru_cache(maxsize=4096)
def _tq(df: float) -> float:
    return t_quantile(0.5 + CONFIDENCE / 2, df)


def t_half_width(x: np.ndarray) -> float:
    """Half-width of the 95% t interval of the mean of ``x`` (inf below two values)."""
    n = x.size
    if n < 2:
        return math.inf
    return _tq(n - 1) * float(x.std(ddof=1)) / math.sqrt(n)


def _mean_ci(x: np.ndarray) -> tuple[float, float, float]:
    if x.size == 0:
        return math.nan, math.nan, math.nan
    m = float(x.mean())
    h = t_half_width(x)
    return m, m - h, m + h


def _welch_ci(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """Mean of a minus mean of b with Welch's t interval."""
    if a.size == 0 or b.size == 0:
        return math.nan, math.nan, math.nan
    d = float(a.mean() - b.mean())
    if a.size < 2 or b.size < 2:
        return d, -math.inf, math.inf
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    se2 = va + vb
    if se2 == 0:
        return d, d, d
    df = se2 * se2 / (va * va / (a.size - 1) + vb * vb / (b.size - 1))
    h = _tq(float(df)) * math.sqrt(se2)
    return d, d - h, d + h


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
    return {name: sorted({v for v in table.column(name).to_pylist() if v is not None})
            for name in outcomes}


def summarize_points(table: pa.Table, keys, points) -> pa.Table:
    """One row per point: its parameters, n, and statistics of every metric.

    Args:
        table: Sweep rows sorted by (point, replica).
        keys: Swept paths.
        points: The bound points (dicts over ``keys``), indexed by point id.

    Returns:
        ``point``, the parameters, ``n``; per numeric metric ``<m>.mean``, ``<m>.ci_low``,
        ``<m>.ci_high`` (95% t interval of the mean), ``<m>.p50``, ``<m>.p90``,
        ``<m>.p99`` (and ``<m>.n`` when some values are null); per outcome column and
        value ``<col>=<value>.p``, ``.ci_low``, ``.ci_high`` (95% Wilson interval).
    """
    numeric, outcomes = split_columns(table, keys)
    pts = table.column("point").to_numpy()
    ids, slices = _groups(pts)
    cols: dict[str, list] = {"point": [int(i) for i in ids]}
    for k in keys:
        cols[k] = [points[int(i)][k] for i in ids]
    cols["n"] = [s.stop - s.start for s in slices]
    for name in numeric:
        x = _floats(table, name)
        has_null = bool(np.isnan(x).any())
        stats = {f: [] for f in ("n", "mean", "ci_low", "ci_high", "p50", "p90", "p99")}
        for s in slices:
            v = x[s]
            v = v[~np.isnan(v)]
            m, lo, hi = _mean_ci(v)
            q = np.percentile(v, [50, 90, 99]) if v.size else (math.nan,) * 3
            for f, val in zip(stats, (v.size, m, lo, hi, *q)):
                stats[f].append(float(val) if f != "n" else int(val))
        for f, vals in stats.items():
            if f != "n" or has_null:
                cols[f"{name}.{f}"] = vals
    for name, values in outcome_values(table, outcomes).items():
        col = _strings(table, name)
        for value in values:
            hit = col == value
            ps, los, his = [], [], []
            for s in slices:
                present = sum(v is not None for v in col[s])
                if present == 0:
                    p = lo = hi = math.nan
                else:
                    p, lo, hi = wilson_interval(int(hit[s].sum()), present)
                ps.append(p), los.append(lo), his.append(hi)
            cols[f"{name}={value}.p"] = ps
            cols[f"{name}={value}.ci_low"] = los
            cols[f"{name}={value}.ci_high"] = his
    return pa.table(cols)


def compare_points(table: pa.Table, keys, points, baseline: int, paired: bool = True) -> pa.Table:
    """Every other point minus ``baseline``, per metric, with a 95% t interval.

    Paired: rows are matched by replica index (common random numbers make them
    correlated) and the interval is the t interval of the mean paired difference.
    Unpaired: Welch's interval of the difference of means. Outcomes compare as 0/1
    indicators ``<col>=<value>``.

    Returns:
        ``point``, the parameters, ``n`` (pairs, or the point's replicas unpaired), and
        per metric ``<m>.diff``, ``<m>.ci_low``, ``<m>.ci_high`` (``<m>.n`` when nulls
        left some pairs out).
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
            series.append((f"{name}={value}", ind.astype(np.float64)))
    for name, x in series:
        has_null = bool(np.isnan(x).any())
        n_, d_, lo_, hi_ = [], [], [], []
        for p in others:
            ia, ib = match[p]
            a, b = x[ia], x[ib]
            if paired:
                d = a - b
                d = d[~np.isnan(d)]
                m, lo, hi = _mean_ci(d)
                n_.append(int(d.size))
            else:
                a, b = a[~np.isnan(a)], b[~np.isnan(b)]
                m, lo, hi = _welch_ci(a, b)
                n_.append(int(a.size))
            d_.append(m), lo_.append(lo), hi_.append(hi)
        if has_null:
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
