"""The ``[tune]`` section: parsed and checked against the scenario, returned as the
keyword arguments of ``fastdeploy.tune.Tuner`` (besides the scenario). Runs nothing and
needs no Optuna."""

from __future__ import annotations

import math

from . import _reader as r
from ._reader import Context, Table, describe
from ._sweep import _value, metric_names

TUNE_KEYS = ("space", "objective", "constraints", "replicas", "budget", "max_replicas",
             "trials", "parallel", "sampler", "finalists", "holdout_replicas", "confidence",
             "seed", "startup_trials")
RANGE_KEYS = ("low", "high", "log", "step", "type", "choices")
OBJECTIVE_KEYS = ("metric", "direction", "price_per_instance_hour")
SAMPLERS = ("tpe", "nsga2", "random")
DEFAULTS = {"replicas": 25, "budget": 4000, "parallel": 4, "finalists": 3,
            "startup_trials": 10}


def _positive(ctx, t: Table, name: str, default=None):
    v = t.take(name, r.integer, default)
    if v is not None and v < 1:
        raise ctx.error(t.key(name), f"expected an integer >= 1, got {v}")
    return v


def _dimension(ctx: Context, key: str, spec, slot):
    from ..tune.space import Choice, Float, Int

    if not isinstance(spec, dict):
        raise ctx.error(key, f"expected a range table {{low, high}} or {{choices = [...]}}, "
                             f"got {describe(spec)}")
    t = Table(ctx, key, spec, RANGE_KEYS)
    if t.has("choices"):
        for k in ("low", "high", "log", "step", "type"):
            if t.has(k):
                raise ctx.error(t.key(k), "choices lists the values; low, high, log, step "
                                          "and type are for a range")
        values = t.take("choices", r.array)
        if not values:
            raise ctx.error(t.key("choices"), "expected at least one value, got []")
        vals = [_value(ctx, r.join(t.key("choices"), i), v, slot) for i, v in enumerate(values)]
        if len(set(vals)) != len(vals):
            raise ctx.error(t.key("choices"), f"values must differ, got {vals}")
        return Choice(vals)
    kind = t.take("type", r.choice(("float", "int")), "int" if slot.integer else "float")
    if slot.integer and kind == "float":
        raise ctx.error(t.key("type"), "an integer parameter takes type = \"int\"")
    low = _value(ctx, t.key("low"), t.take("low"), slot)
    high = _value(ctx, t.key("high"), t.take("high"), slot)
    if high < low:
        raise ctx.error(t.key("high"), f"expected high >= low ({low}), got {high}")
    log = t.take("log", r.boolean, False)
    step = t.take("step", r.number, None)
    if step is not None and (kind == "int" or log or not step > 0 or not math.isfinite(step)):
        raise ctx.error(t.key("step"), "a step applies to a float range without log, and "
                                       f"must be > 0; got {describe(step)}")
    if kind == "int":
        for name, v in (("low", low), ("high", high)):
            if v != math.floor(v):
                raise ctx.error(t.key(name), f"type = \"int\" needs an integer, got {v!r}")
        if log and low < 1:
            raise ctx.error(t.key("low"), f"an integer log range needs low >= 1, got {low}")
        return Int(int(low), int(high), log)
    if log and low <= 0:
        raise ctx.error(t.key("low"), f"a log range needs low > 0, got {low}")
    try:
        return Float(float(low), float(high), log, None if step is None else float(step))
    except ValueError as e:
        raise ctx.error(t.key("step"), str(e).replace("Float: ", "")) from None


def _objective(ctx: Context, key: str, spec):
    from ..tune.goals import Objective, parse_objectives

    if isinstance(spec, str):
        try:
            return parse_objectives(spec)[0]
        except ValueError as e:
            raise ctx.error(key, str(e).replace("objective[0]: ", "")) from None
    t = Table(ctx, key, spec, OBJECTIVE_KEYS)
    metric = t.take("metric", r.string)
    direction = t.take("direction", r.choice(("minimize", "maximize")), "minimize")
    price = t.take("price_per_instance_hour", r.number, None)
    try:
        return Objective(metric, direction, price)
    except ValueError as e:
        raise ctx.error(t.key("price_per_instance_hour") if price is not None else key,
                        str(e)) from None


def parse_tune(ctx: Context, data, params, model) -> dict:
    """Check a ``[tune]`` table against the scenario's parameters and metrics -> the
    keyword arguments of ``Tuner``."""
    from ..tune.goals import check_goals, parse_constraints

    t = Table(ctx, "tune", data, TUNE_KEYS)
    ranges = _flatten_ranges(t.key("space"), t.take("space", r.table))
    if not ranges:
        raise ctx.error(t.key("space"), "expected at least one parameter path")
    space = {}
    for path, (key, spec) in ranges.items():
        slot = params.by_path.get(path)
        if slot is None:
            import difflib

            close = difflib.get_close_matches(path, list(params.by_path), n=1, cutoff=0.6)
            extra = f" (did you mean {close[0]!r}?)" if close else ""
            raise ctx.error(key, f"unknown parameter path {path!r}{extra}; "
                                 "`fastdeploy params FILE` lists them")
        space[path] = _dimension(ctx, key, spec, slot)

    spec = t.take("objective", None, "instance_seconds")
    okey = t.key("objective")
    if isinstance(spec, list):
        if not spec:
            raise ctx.error(okey, "expected at least one objective")
        objectives = [_objective(ctx, r.join(okey, i), s) for i, s in enumerate(spec)]
        names = [o.name for o in objectives]
        if len(set(names)) != len(names):
            raise ctx.error(okey, f"the same objective twice ({names})")
    elif isinstance(spec, (str, dict)):
        objectives = [_objective(ctx, okey, spec)]
    else:
        raise ctx.error(okey, f"expected a metric name, a table {{metric, direction, "
                              f"price_per_instance_hour}} or an array of them, got "
                              f"{describe(spec)}")
    texts = t.take("constraints", r.array, [])
    constraints = []
    for i, text in enumerate(texts):
        ckey = r.join(t.key("constraints"), i)
        if not isinstance(text, str):
            raise ctx.error(ckey, f"expected a constraint such as \"P(latency_p99 <= 0.5) >= "
                                  f"0.95\", got {describe(text)}")
        try:
            constraints.append(parse_constraints([text])[0])
        except ValueError as e:
            raise ctx.error(ckey, str(e).replace("constraints[0]: ", "")) from None
    numeric, outcomes = metric_names(model)
    for i, o in enumerate(objectives):
        try:
            check_goals([o], [], numeric, outcomes, list(space))
        except ValueError as e:
            raise ctx.error(r.join(okey, i) if isinstance(spec, list) else okey,
                            str(e).replace("objective: ", "")) from None
    for i, c in enumerate(constraints):
        try:
            check_goals([], [c], numeric, outcomes, list(space))
        except ValueError as e:
            raise ctx.error(r.join(t.key("constraints"), i), str(e)) from None

    out = {"space": space, "objective": objectives, "constraints": constraints}
    for name in ("replicas", "budget", "parallel", "finalists", "startup_trials"):
        out[name] = _positive(ctx, t, name, DEFAULTS[name])
    for name in ("max_replicas", "trials", "holdout_replicas"):
        out[name] = _positive(ctx, t, name, None)
    if out["max_replicas"] is not None and out["max_replicas"] < out["replicas"]:
        raise ctx.error(t.key("max_replicas"), f"expected an integer >= replicas "
                                               f"({out['replicas']}), got {out['max_replicas']}")
    if out["holdout_replicas"] is not None and out["holdout_replicas"] < 2:
        raise ctx.error(t.key("holdout_replicas"), f"expected an integer >= 2, got "
                                                   f"{out['holdout_replicas']}")
    out["sampler"] = t.take("sampler", r.choice(SAMPLERS), None)
    confidence = t.take("confidence", r.number, 0.95)
    if not 0.5 < confidence < 1:
        raise ctx.error(t.key("confidence"), f"expected a number in (0.5, 1), got {confidence!r}")
    out["confidence"] = float(confidence)
    seed = t.take("seed", r.integer, None)
    if seed is not None and not 0 <= seed < 2**63:
        raise ctx.error(t.key("seed"), f"expected an integer in [0, 2**63), got {seed}")
    out["seed"] = seed
    return out


def _flatten_ranges(path: str, data: dict, prefix: str = "") -> dict:
    """``{"a.b" = {...}}`` and nested tables alike -> {"a.b": (key, spec)}; a leaf is a
    table holding range or choice keys."""
    out = {}
    for k, v in data.items():
        key = r.join(path, k)
        if isinstance(v, dict) and v and not set(v) & set(RANGE_KEYS):
            out.update(_flatten_ranges(key, v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = (key, v)
    return out
