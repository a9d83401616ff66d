"""The ``[sweep]`` section: parsed and checked against the scenario's batch parameters,
returned as a plain dict for a sweep runner (this module runs nothing)."""

from __future__ import annotations

import difflib
import itertools
import math

import numpy as np

from . import _reader as r
from ._reader import Context, Table, describe

SWEEP_KEYS = ("method", "parameters", "replicas", "points", "seed", "until", "max_replicas")
METHODS = ("grid", "random", "latin_hypercube")
RANGE_KEYS = ("low", "high", "num", "log")
UNTIL_KEYS = ("metric", "half_width", "relative", "confidence")
DEFAULT_REPLICAS = 100
MAX_GRID_CHECK = 100_000  # grid points whose cross-parameter rules are checked up front


def metric_names(model) -> list[str]:
    """The numeric columns of the scenario's result table (what ``until`` can watch)."""
    from ..batch.results import G_COLUMNS, STAT_NAMES

    names = list(G_COLUMNS) + ["latency_mean", "latency_p50", "latency_p90", "latency_p99",
                               "latency_max", "instance_seconds", "final_instances",
                               "peak_instances"]
    for col in model.columns:
        names += [f"{col.name}.{f}" for f in STAT_NAMES[col.kind]]
        if col.kind in ("canary", "rolling"):
            names.append(f"{col.name}.end_time")
    return names


def _flatten(ctx: Context, path: str, data: dict, prefix: str = "") -> dict:
    """``{"a.b" = ...}`` and ``a.b = ...`` (nested tables) alike -> {"a.b": (key, spec)}.
    A leaf is an array or a table with no tables inside (a range)."""
    out = {}
    for k, v in data.items():
        key = r.join(path, k)
        name = f"{prefix}{k}"
        if isinstance(v, dict) and any(isinstance(x, dict) for x in v.values()):
            out.update(_flatten(ctx, key, v, name + "."))
        elif isinstance(v, dict) and not v:
            raise ctx.error(key, "expected an array of values or a range table, got an "
                                 "empty table")
        elif isinstance(v, dict) and not set(v) & set(RANGE_KEYS):
            out.update(_flatten(ctx, key, v, name + "."))
        else:
            out[name] = (key, v)
    return out


def _expected(slot) -> str:
    """``an integer >= 1``, ``a number in (0.0, 1.0]``, ..."""
    what = "an integer" if slot.integer else "a number"
    lo, hi = slot.minimum, slot.maximum
    if lo is not None and hi is not None:
        return (f"{what} in {'(' if slot.min_open else '['}{lo}, {hi}"
                f"{')' if slot.max_open else ']'}")
    if lo is not None:
        return f"{what} {'>' if slot.min_open else '>='} {lo}"
    if hi is not None:
        return f"{what} {'<' if slot.max_open else '<='} {hi}"
    return what


def _value(ctx, key, v, slot):
    """One value of a parameter, checked by the same rule as the batch engine's params."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ctx.error(key, f"expected {_expected(slot)}, got {describe(v)}")
    try:
        slot.check(np.array([v], dtype=np.float64))
    except ValueError:
        raise ctx.error(key, f"expected {_expected(slot)}, got {v!r}") from None
    return int(v) if slot.integer else float(v)


def _parameter(ctx: Context, key: str, spec, slot, method: str) -> dict:
    if isinstance(spec, list):
        if not spec:
            raise ctx.error(key, "expected at least one value, got []")
        values = [_value(ctx, r.join(key, i), v, slot) for i, v in enumerate(spec)]
        return {"values": values, "integer": slot.integer}
    allowed = RANGE_KEYS if method == "grid" else ("low", "high", "log")
    t = Table(ctx, key, spec, allowed)
    low = _value(ctx, t.key("low"), t.take("low"), slot)
    high = _value(ctx, t.key("high"), t.take("high"), slot)
    if high < low:
        raise ctx.error(t.key("high"), f"expected high >= low ({low}), got {high}")
    log = t.take("log", r.boolean, False)
    if log and low <= 0:
        raise ctx.error(t.key("low"), f"a log range needs low > 0, got {low}")
    if method != "grid":
        return {"low": low, "high": high, "log": log, "integer": slot.integer}
    num = t.take("num", r.integer)
    if num < 1 or (num == 1 and high != low):
        raise ctx.error(t.key("num"), f"expected an integer >= {1 if high == low else 2}, "
                                      f"got {num}")
    pts = np.geomspace(low, high, num) if log else np.linspace(low, high, num)
    if slot.integer:  # evenly spaced, rounded to integers, repeats dropped
        values = list(dict.fromkeys(int(round(x)) for x in pts))
    else:
        values = [float(x) for x in pts]
    return {"values": values, "integer": slot.integer}


def parse_sweep(ctx: Context, data, params, model) -> dict:
    """Check a ``[sweep]`` table against ``params`` (the scenario's ParamTable) -> dict."""
    t = Table(ctx, "sweep", data, SWEEP_KEYS)
    method = t.take("method", r.choice(METHODS), "grid")
    replicas = t.take("replicas", r.integer, DEFAULT_REPLICAS)
    if replicas < 1:
        raise ctx.error(t.key("replicas"), f"expected an integer >= 1, got {replicas}")
    seed = t.take("seed", r.integer, 0)
    if not 0 <= seed < 2**63:
        raise ctx.error(t.key("seed"), f"expected an integer in [0, 2**63), got {seed}")

    raw = t.take("parameters", r.table)
    flat = _flatten(ctx, t.key("parameters"), raw)
    if not flat:
        raise ctx.error(t.key("parameters"), "expected at least one parameter path")
    parameters = {}
    for path, (key, spec) in flat.items():
        slot = params.by_path.get(path)
        if slot is None:
            known = list(params.by_path)
            close = difflib.get_close_matches(path, known, n=1, cutoff=0.6)
            same = [p for p in known if p.split(".")[0] == path.split(".")[0]]
            extra = (f" (did you mean {close[0]!r}?)" if close else
                     f"; paths of {path.split('.')[0]!r}: {', '.join(same)}" if same else "")
            raise ctx.error(key, f"unknown parameter path {path!r}{extra}; "
                                 "Simulation.batch_parameters() lists them")
        if not isinstance(spec, (list, dict)):
            raise ctx.error(key, f"expected an array of values or a range table "
                                 f"{{low, high{', num' if method == 'grid' else ''}}}, got "
                                 f"{describe(spec)}")
        parameters[path] = _parameter(ctx, key, spec, slot, method)

    if method == "grid":
        if t.has("points"):
            raise ctx.error(t.key("points"), "a grid has the points its values give; points "
                                             "is for random and latin_hypercube")
        points = math.prod(len(p["values"]) for p in parameters.values())
        if points <= MAX_GRID_CHECK:
            _check_grid(ctx, params, parameters, points)
    else:
        points = t.take("points", r.integer)
        if points < 1:
            raise ctx.error(t.key("points"), f"expected an integer >= 1, got {points}")

    until = None
    if t.has("until"):
        u = t.sub("until", UNTIL_KEYS)
        metric = u.take("metric", r.string)
        names = metric_names(model)
        if metric not in names:
            close = difflib.get_close_matches(metric, names, n=1)
            raise ctx.error(u.key("metric"), f"unknown metric {metric!r}"
                                             f"{f' (did you mean {close[0]!r}?)' if close else ''}"
                                             f"; metrics: {', '.join(names)}")
        if u.has("half_width") == u.has("relative"):
            raise ctx.error(u.path, "give half_width (of the confidence interval, in the "
                                    "metric's unit) or relative (half-width / |mean|), one "
                                    "of them")
        which = "half_width" if u.has("half_width") else "relative"
        width = u.take(which, r.number)
        if not (math.isfinite(width) and width > 0):
            raise ctx.error(u.key(which), f"expected a number > 0, got {width!r}")
        confidence = u.take("confidence", r.number, 0.95)
        if not 0 < confidence < 1:
            raise ctx.error(u.key("confidence"), f"expected a number in (0, 1), got "
                                                 f"{confidence!r}")
        until = {"metric": metric, "half_width": width if which == "half_width" else None,
                 "relative": width if which == "relative" else None,
                 "confidence": float(confidence)}
    if t.has("max_replicas"):
        if until is None:
            raise ctx.error(t.key("max_replicas"), "max_replicas caps the replicas run to "
                                                   "meet until; give until too")
        max_replicas = t.take("max_replicas", r.integer)
        if max_replicas < replicas:
            raise ctx.error(t.key("max_replicas"), f"expected an integer >= replicas "
                                                   f"({replicas}), got {max_replicas}")
    elif until is not None:
        raise ctx.error(t.key("max_replicas"), "missing required key: until needs a cap on "
                                               "the replicas per point")
    else:
        max_replicas = None
    return {"method": method, "parameters": parameters, "replicas": replicas,
            "points": points, "seed": seed, "until": until, "max_replicas": max_replicas}


def _check_grid(ctx: Context, params, parameters: dict, points: int) -> None:
    """Cross-parameter rules (min_instances <= max_instances, ...) at every grid point."""
    paths = list(parameters)
    combos = list(itertools.product(*(parameters[p]["values"] for p in paths)))
    columns = {p: np.array([c[i] for c in combos], dtype=np.float64)
               for i, p in enumerate(paths)}
    try:
        params.rows(points, columns)
    except ValueError as e:
        msg = str(e)
        at = ""
        if "(replica position " in msg:
            i = int(msg.rsplit("(replica position ", 1)[1].rstrip(")"))
            msg = msg.rsplit(" (replica position ", 1)[0]
            at = " at the grid point " + ", ".join(f"{p} = {combos[i][k]}"
                                                   for k, p in enumerate(paths))
        raise ctx.error("sweep.parameters", f"{msg}{at}") from None
