"""Human names and units of metrics and parameters, and short number formats."""

from __future__ import annotations

import math

from ..metrics import metric_unit

# metric column -> human name; units come from ``fastdeploy.metrics``.
METRICS = {
    "requests_created": "requests created",
    "requests_completed": "requests completed",
    "requests_failed": "requests failed",
    "requests_rejected": "requests rejected",
    "latency_mean": "mean latency",
    "latency_p50": "p50 latency",
    "latency_p90": "p90 latency",
    "latency_p95": "p95 latency",
    "latency_p99": "p99 latency",
    "latency_max": "max latency",
    "instance_seconds": "cost",
    "final_instances": "final instances",
    "peak_instances": "peak instances",
}
STATS = {"mean": "mean over replicas", "p50": "median over replicas",
         "p90": "90th percentile over replicas",
         "p95": "95th percentile over replicas", "p99": "99th percentile over replicas"}
# Parameter path endings -> unit.
PARAM_UNITS = (("cooldown", "s"), ("interval", "s"), ("period", "s"), ("_s", "s"),
               ("latency", "s"), ("mean", "s"), ("low", "s"), ("high", "s"),
               ("deploy_at", "s"), ("start_at", "s"), ("rate", "req/s"))
DIMENSIONLESS = ("failure_rate", "error_rate", "target", "tolerance", "percentage",
                 "multiplier", "sigma")


def metric_name(metric: str) -> str:
    """``latency_p99`` -> ``p99 latency``; ``canary.end_time`` -> ``canary end time``."""
    if metric in METRICS:
        return METRICS[metric]
    return metric.replace(".", " ").replace("_", " ")


def with_unit(text: str, unit: str | None) -> str:
    """``text (unit)``, or ``text`` without a unit."""
    return f"{text} ({unit})" if unit else text


def metric_label(metric: str, stat: str | None = None, log: bool = False) -> str:
    """Axis label: ``p99 latency (s)``; with ``stat``: ``p99 latency, mean over replicas
    (s)``; with ``log``: ``..., log scale (s)``."""
    name = metric_name(metric)
    if stat is not None:
        name = f"{name}, {STATS.get(stat, stat)}"
    if log:
        name += ", log scale"
    return with_unit(name, metric_unit(metric))


def param_unit(path: str) -> str | None:
    """The unit of a parameter path, guessed from its last part (``s``, ``req/s``) or None."""
    last = path.rsplit(".", 1)[-1]
    if any(last.endswith(d) for d in DIMENSIONLESS):
        return None
    for ending, unit in PARAM_UNITS:
        if last.endswith(ending):
            return unit
    return None


def param_label(path: str) -> str:
    """Axis label of a swept parameter: its path, with its unit when it has one."""
    return with_unit(path, param_unit(path))


def short_names(paths) -> dict[str, str]:
    """Shortest unambiguous suffixes of dotted paths: ``scaler.policy.target`` -> ``target``."""
    paths = list(paths)
    parts = {p: p.split(".") for p in paths}
    out = {}
    for p in paths:
        for k in range(1, len(parts[p]) + 1):
            cand = ".".join(parts[p][-k:])
            if sum(1 for q in paths if ".".join(parts[q][-k:]) == cand) == 1:
                out[p] = cand
                break
        else:
            out[p] = p
    return out


def fmt(value) -> str:
    """A short number: 0.6, 30, 1.25e+03, 0.0123."""
    if value is None:
        return "n/a"
    if isinstance(value, (int,)) and not isinstance(value, bool):
        return str(value)
    v = float(value)
    if math.isnan(v):
        return "n/a"
    if abs(v) >= 1e9:
        return f"{v:.3g}"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if v == int(v):
        return str(int(v))
    return f"{v:.3g}"


def settings(point: dict, names: dict[str, str]) -> str:
    """``target=0.6, scale_in_cooldown=30`` for a point, with the short names."""
    return ", ".join(f"{names[k]}={fmt(v)}" for k, v in point.items())


def titled(label: str | None, text: str) -> str:
    """``label: text`` when the data has a name of its own (a scenario, a directory),
    else ``text`` with a capital first letter."""
    if label and label not in ("run", "sweep"):
        return f"{label}: {text}"
    return text[:1].upper() + text[1:]
