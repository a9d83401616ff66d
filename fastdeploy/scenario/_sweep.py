"""The ``[sweep]`` section: parsed and checked against the scenario's batch parameters,
returned as a plain dict shaped for ``fastdeploy.sweep`` (``grid`` / ``random`` /
``latin_hypercube`` and ``Sweep(...).run(...)``). This module runs nothing."""

from __future__ import annotations

import difflib
import itertools
import math

import numpy as np

from . import _reader as r
from ._reader import Context, Table, describe

SWEEP_KEYS = ("method", "parameters", "replicas", "points", "seed", "crn", "until",
              "max_replicas", "chunk_replicas")
METHODS = ("grid", "random", "latin_hypercube")
GRID_RANGE_KEYS = ("low", "high", "num", "log")
BOX_KEYS = ("low", "high")
RANGE_KEYS = GRID_RANGE_KEYS
STATUS_NAMES = ("idle", "in_progress", "completed", "rolled_back")
OUTCOME_NAMES = ("none", "in_progress", "promoted", "rolled_back")
MAX_GRID_CHECK = 100_000  # grid points whose cross-parameter rules are checked up front


def metric_names(model) -> tuple[list[str], list[str]]:
    """(numeric columns, outcome columns) of the scenario's result table."""
    from ..batch.results import DEPLOYER_KINDS, G_COLUMNS, STAT_NAMES

    numeric = list(G_COLUMNS) + ["latency_mean", "latency_p50", "latency_p90", "latency_p95",
                                 "latency_p99", "latency_max", "instance_seconds",
                                 "final_instances", "peak_instances", "requests_dropped",
                                 "instance_seconds_booting", "ready_instances_mean",
                                 "time_underprovisioned"]
    outcomes = []
    for col in model.columns:
        numeric += [f"{col.name}.{f}" for f in STAT_NAMES[col.kind]]
        if col.kind in DEPLOYER_KINDS:
            numeric += [f"{col.name}.{f}" for f in ("end_time", "time_to_decision",
                                                    "max_weight", "requests_new",
                                                    "exposure")]
            outcomes += [f"{col.name}.status", f"{col.name}.outcome"]
    return numeric, outcomes


def _flatten(ctx: Context, path: str, data: dict, prefix: str = "") -> dict:
    """``{"a.b" = ...}`` and ``a.b = ...`` (nested tables) alike -> {"a.b": (key, spec)}.
    A leaf is anything but a table, or a table holding range keys and no tables."""
    out = {}
    for k, v in data.items():
        key = r.join(path, k)
        name = f"{prefix}{k}"
        if isinstance(v, dict) and not v:
            raise ctx.error(key, "expected values or a range table, got an empty table")
        if isinstance(v, dict) and (any(isinstance(x, dict) for x in v.values())
                                    or not set(v) & set(GRID_RANGE_KEYS)):
            out.update(_flatten(ctx, key, v, name + "."))
        else:
            out[name] = (key, v)
    return out


def _dotted(path: str, data: dict, prefix: str = "") -> dict:
    """Nested tables (unquoted dotted keys) -> {"a.b": (key path, value)}."""
    out = {}
    for k, v in data.items():
        if isinstance(v, dict) and v:
            out.update(_dotted(r.join(path, k), v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = (r.join(path, k), v)
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


def _number(ctx, key, v):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ctx.error(key, f"expected a number, got {describe(v)}")
    if not math.isfinite(v):
        raise ctx.error(key, f"expected a finite number, got {v!r}")
    return v


def _value(ctx, key, v, slot):
    """One value of a parameter, checked by the same rule as the batch engine's params."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ctx.error(key, f"expected {_expected(slot)}, got {describe(v)}")
    try:
        slot.check(np.array([v], dtype=np.float64))
    except ValueError:
        raise ctx.error(key, f"expected {_expected(slot)}, got {v!r}") from None
    return int(v) if slot.integer else float(v)


def _grid_values(ctx: Context, key: str, spec, slot) -> list:
    if isinstance(spec, (int, float)) and not isinstance(spec, bool):
        return [_value(ctx, key, spec, slot)]
    if isinstance(spec, list):
        if not spec:
            raise ctx.error(key, "expected at least one value, got []")
        return [_value(ctx, r.join(key, i), v, slot) for i, v in enumerate(spec)]
    if not isinstance(spec, dict):
        raise ctx.error(key, f"expected an array of values or a range table {{low, high, num}}, "
                             f"got {describe(spec)}")
    t = Table(ctx, key, spec, GRID_RANGE_KEYS)
    low = _value(ctx, t.key("low"), t.take("low"), slot)
    high = _value(ctx, t.key("high"), t.take("high"), slot)
    if high < low:
        raise ctx.error(t.key("high"), f"expected high >= low ({low}), got {high}")
    log = t.take("log", r.boolean, False)
    if log and low <= 0:
        raise ctx.error(t.key("low"), f"a log range needs low > 0, got {low}")
    num = t.take("num", r.integer)
    if num < 1 or (num == 1 and high != low):
        raise ctx.error(t.key("num"), f"expected an integer >= {1 if high == low else 2}, "
                                      f"got {num}")
    pts = np.geomspace(low, high, num) if log else np.linspace(low, high, num)
    if slot.integer:  # evenly spaced, rounded to integers, repeats dropped
        return list(dict.fromkeys(int(round(x)) for x in pts))
    return [float(x) for x in pts]


def _box(ctx: Context, key: str, spec, slot) -> tuple:
    """(low, high) of a random or Latin hypercube dimension."""
    if not isinstance(spec, dict):
        raise ctx.error(key, f"expected a range table {{low, high}} (random and "
                             f"latin_hypercube draw from a range), got {describe(spec)}")
    t = Table(ctx, key, spec, BOX_KEYS)
    low = _number(ctx, t.key("low"), t.take("low"))
    high = _number(ctx, t.key("high"), t.take("high"))
    if high < low:
        raise ctx.error(t.key("high"), f"expected high >= low ({low}), got {high}")
    if slot.integer:
        # The sweep draws the integers ceil(low) .. floor(high).
        a, b = math.ceil(low), math.floor(high)
        if a > b:
            raise ctx.error(key, f"[{low}, {high}] holds no integer, and this is an integer "
                                 "parameter")
        _value(ctx, t.key("low"), a, slot)
        _value(ctx, t.key("high"), b, slot)
    else:
        _value(ctx, t.key("low"), low, slot)
        _value(ctx, t.key("high"), high, slot)
    return (low, high)


def parse_sweep(ctx: Context, data, params, model) -> dict:
    """Check a ``[sweep]`` table against ``params`` (the scenario's ParamTable) -> dict."""
    t = Table(ctx, "sweep", data, SWEEP_KEYS)
    method = t.take("method", r.choice(METHODS), "grid")
    replicas = t.take("replicas", r.integer)
    if replicas < 1:
        raise ctx.error(t.key("replicas"), f"expected an integer >= 1, got {replicas}")
    crn = t.take("crn", r.boolean, True)

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
        parameters[path] = (_grid_values(ctx, key, spec, slot) if method == "grid"
                            else _box(ctx, key, spec, slot))

    if method == "grid":
        for k in ("points", "seed"):
            if t.has(k):
                raise ctx.error(t.key(k), f"{k} is for random and latin_hypercube (a grid has "
                                          "the points its values give; the replicas use "
                                          "simulation.seed)")
        points = math.prod(len(v) for v in parameters.values())
        seed = None
        if points <= MAX_GRID_CHECK:
            _check_grid(ctx, params, parameters, points)
    else:
        points = t.take("points", r.integer)
        if points < 1:
            raise ctx.error(t.key("points"), f"expected an integer >= 1, got {points}")
        seed = t.take("seed", r.integer, 0)
        if not 0 <= seed < 2**63:
            raise ctx.error(t.key("seed"), f"expected an integer in [0, 2**63), got {seed}")

    until = None
    if t.has("until"):
        u = t.sub("until")
        if not u.data:
            raise ctx.error(u.path, "expected at least one metric = half-width")
        numeric, outcomes = metric_names(model)
        until = {}
        for metric, (mkey, bound) in _dotted(u.path, u.data).items():
            col, eq, status = metric.partition("=")
            if eq:
                if col not in outcomes:
                    close = difflib.get_close_matches(col, outcomes, n=1)
                    raise ctx.error(mkey, f"{col!r} is not an outcome column"
                                          f"{f' (did you mean {close[0]!r}?)' if close else ''}"
                                          f"; outcomes: {', '.join(outcomes) or 'none'}")
                names = OUTCOME_NAMES if col.endswith(".outcome") else STATUS_NAMES
                if status not in names:
                    raise ctx.error(mkey, f"{status!r} is not a status; expected one of "
                                          f"{', '.join(names)}")
            elif metric not in numeric:
                close = difflib.get_close_matches(metric, numeric + outcomes, n=1)
                raise ctx.error(mkey, f"unknown metric {metric!r}"
                                      f"{f' (did you mean {close[0]!r}?)' if close else ''}; "
                                      f"metrics: {', '.join(numeric)}; outcomes as "
                                      f"'<column>=<status>' with columns "
                                      f"{', '.join(outcomes) or 'none'}")
            if isinstance(bound, bool) or not isinstance(bound, (int, float)) \
                    or not math.isfinite(bound) or bound <= 0:
                raise ctx.error(mkey, f"expected a half-width > 0, got {describe(bound)}")
            until[metric] = float(bound)
    max_replicas = chunk_replicas = None
    for k in ("max_replicas", "chunk_replicas"):
        if t.has(k) and until is None:
            raise ctx.error(t.key(k), f"{k} applies with until (sequential stopping); give "
                                      "until too")
    if until is not None:
        max_replicas = t.take("max_replicas", r.integer)
        if max_replicas < replicas:
            raise ctx.error(t.key("max_replicas"), f"expected an integer >= replicas "
                                                   f"({replicas}), got {max_replicas}")
        chunk_replicas = t.take("chunk_replicas", r.integer, None)
        if chunk_replicas is not None and chunk_replicas < 1:
            raise ctx.error(t.key("chunk_replicas"), f"expected an integer >= 1, got "
                                                     f"{chunk_replicas}")
    return {"method": method, "parameters": parameters, "replicas": replicas,
            "points": points, "seed": seed, "crn": crn, "until": until,
            "max_replicas": max_replicas, "chunk_replicas": chunk_replicas}


def _check_grid(ctx: Context, params, parameters: dict, points: int) -> None:
    """Cross-parameter rules (min_instances <= max_instances, ...) at every grid point."""
    paths = list(parameters)
    combos = list(itertools.product(*(parameters[p] for p in paths)))
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
