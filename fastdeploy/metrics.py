"""Units and supports of the metric columns of a batch table (docs/summaries.md).

Every metric the engine reports is a count or a duration, so its support is [0, inf);
an outcome probability (``<deployer>.status=<value>``) lives in [0, 1]. Summaries clip
their intervals to these supports, and plots label axes with these units.
"""

from __future__ import annotations

import math

# Top-level metric columns -> unit.
UNITS = {
    "requests_created": "requests",
    "requests_completed": "requests",
    "requests_failed": "requests",
    "requests_rejected": "requests",
    "latency_mean": "s",
    "latency_p50": "s",
    "latency_p90": "s",
    "latency_p95": "s",
    "latency_p99": "s",
    "latency_max": "s",
    "instance_seconds": "instance-seconds",
    "final_instances": "instances",
    "peak_instances": "instances",
    "requests_dropped": "requests",
    "instance_seconds_booting": "instance-seconds",
    "ready_instances_mean": "instances",
    "time_underprovisioned": "s",
}
# Per-component metric columns ``<component>.<field>`` -> unit, by field.
FIELD_UNITS = {
    # load balancers
    "requests_received": "requests",
    "requests_forwarded": "requests",
    "no_backend_available": "requests",
    "backends_added": "instances",
    "backends_removed": "instances",
    # scalers
    "evaluations": "evaluations",
    "scale_out_count": "actions",
    "scale_in_count": "actions",
    "instances_added": "instances",
    "instances_removed": "instances",
    "cooldown_blocks": "evaluations",
    # deployers
    "deployments_started": "deployments",
    "deployments_completed": "deployments",
    "deployments_rolled_back": "deployments",
    "stages_completed": "stages",
    "evaluations_performed": "evaluations",
    "evaluations_passed": "evaluations",
    "evaluations_failed": "evaluations",
    "instances_replaced": "instances",
    "health_checks_performed": "health checks",
    "health_checks_passed": "health checks",
    "health_checks_failed": "health checks",
    "end_time": "s",
    # FlaggerCanary
    "weight_steps": "steps",
    "checks_passed": "checks",
    "checks_failed": "checks",
    "checks_no_data": "checks",
    # deployers' outcome columns (docs/canary-analysis.md)
    "time_to_decision": "s",
    "max_weight": "%",
    "requests_new": "requests",
    "exposure": "requests",
}
PROBABILITY = "probability"
NON_NEGATIVE = (0.0, math.inf)
UNIT_INTERVAL = (0.0, 1.0)
UNBOUNDED = (-math.inf, math.inf)


def outcome_metric(column: str, value: str) -> str:
    """The metric name of the probability that ``column`` equals ``value``:
    ``canary.status=rolled_back`` (also the key ``Sweep.run(until=...)`` takes)."""
    return f"{column}={value}"


# Values of an outcome column that summaries always report, seen or not: a deployer's
# P(promoted) and P(rolled_back) are answers even when they are 0 (with their Wilson
# interval), and a sweep's points then all have the same columns.
ALWAYS_REPORTED = {"outcome": ("promoted", "rolled_back")}


def reported_values(column: str, seen) -> list[str]:
    """The values of outcome column ``column`` a summary reports: those ``seen``, and
    for a deployer's ``<name>.outcome`` promoted and rolled_back always; sorted."""
    values = {v for v in seen if v is not None}
    values.update(ALWAYS_REPORTED.get(column.rsplit(".", 1)[-1], ()))
    return sorted(values)


def is_outcome(metric: str) -> bool:
    """Whether ``metric`` names an outcome probability (``<column>=<value>``)."""
    return "=" in metric


def _known_unit(metric: str) -> str | None:
    if metric in UNITS:
        return UNITS[metric]
    if "." in metric:
        return FIELD_UNITS.get(metric.rsplit(".", 1)[-1])
    return None


def metric_unit(metric: str) -> str | None:
    """The unit of a metric (``s``, ``requests``, ``instance-seconds``, ``probability``
    ...); None for a column that is not an engine metric."""
    if is_outcome(metric):
        return PROBABILITY
    return _known_unit(metric)


def metric_support(metric: str) -> tuple[float, float]:
    """(min, max) of the values a metric can take: [0, 1] for a probability, [0, inf) for
    the engine's counts and durations, unbounded for any other column."""
    if is_outcome(metric):
        return UNIT_INTERVAL
    return NON_NEGATIVE if _known_unit(metric) is not None else UNBOUNDED
