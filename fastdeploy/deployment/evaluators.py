"""Canary health evaluators (SPEC section 7)."""

from __future__ import annotations

import numbers
from typing import Protocol, runtime_checkable

import numpy as np

from ..core import validate
from ..rules import canary as rules


@runtime_checkable
class MetricEvaluator(Protocol):
    """Protocol for evaluating canary health."""

    def is_healthy(self, canary, baseline_backends: list) -> bool:
        """True if the canary is performing acceptably."""
        ...


class GroupCounts:
    """Request counters summed over a group of servers."""

    __slots__ = ("completed", "rejected", "failures", "latency_ns")

    def __init__(self, completed=0, rejected=0, failures=0, latency_ns=0):
        self.completed = completed
        self.rejected = rejected
        self.failures = failures
        self.latency_ns = latency_ns

    @classmethod
    def of(cls, servers, kind: int) -> GroupCounts:
        """The group's counters that evaluator ``kind`` (rules.ERROR_RATE or
        rules.LATENCY) reads. A fastdeploy Server gives exact integer counters; any other
        backend is read through its public figures, as happysim's Server has them:
        ``stats.requests_completed``, ``stats.requests_rejected``,
        ``stats.total_failures`` for the error rate; ``stats.requests_completed`` and
        ``average_latency`` (else ``average_service_time``) for latency. A backend
        without them is an error, never a pass."""
        g = cls()
        for s in servers:
            counters = getattr(s, "request_counters", None)
            if counters is not None:
                c, r, f, lat = counters()
            else:
                c, r, f, lat = _public_counters(s, kind)
            g.completed += c
            g.rejected += r
            g.failures += f
            g.latency_ns += lat
        return g

    def as_array(self):
        """The shared rules' layout: completed, rejected, failures, latency_ns."""
        return np.array([self.completed, self.rejected, self.failures, self.latency_ns],
                        np.int64)

    def minus(self, other: GroupCounts) -> GroupCounts:
        return GroupCounts(self.completed - other.completed, self.rejected - other.rejected,
                           self.failures - other.failures, self.latency_ns - other.latency_ns)


def _count(backend, stats, field: str, why: str) -> int:
    name = getattr(backend, "name", backend)
    if not hasattr(stats, field):
        raise ValueError(f"backend {name!r}: its stats have no {field}, which {why} needs "
                         f"(stats={stats!r})")
    v = getattr(stats, field)
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 0:
        raise ValueError(f"backend {name!r}: stats.{field} must be an int >= 0, got {v!r}")
    return int(v)


def _public_counters(backend, kind: int) -> tuple[int, int, int, int]:
    """(completed, rejected, failures, latency ns) of a backend from its public figures;
    the ones ``kind`` does not read are 0."""
    name = getattr(backend, "name", backend)
    why = "the error-rate evaluator" if kind == rules.ERROR_RATE else "the latency evaluator"
    stats = getattr(backend, "stats", None)
    if stats is None:
        raise ValueError(f"backend {name!r} has no stats: {why} judges a backend by its "
                         "public stats (requests_completed, requests_rejected, "
                         "total_failures) as happysim's Server has them")
    completed = _count(backend, stats, "requests_completed", why)
    if kind == rules.ERROR_RATE:
        return (completed, _count(backend, stats, "requests_rejected", why),
                _count(backend, stats, "total_failures", why), 0)
    for attr in ("average_latency", "average_service_time"):
        mean = getattr(backend, attr, None)
        if mean is not None:
            break
    else:
        raise ValueError(f"backend {name!r} has neither average_latency nor "
                         f"average_service_time, which {why} needs")
    mean = validate.number(f"backend {name!r} {attr}", mean, minimum=0.0)
    return completed, 0, 0, int(round(mean * completed * 1e9))


class ErrorRateEvaluator:
    """Unhealthy if the canary's error rate is above ``max_error_rate``, or above the
    baseline's rate x ``threshold_multiplier`` when the baseline has errors.

    Error rate = (failures + rejected) / (completed + rejected), 0 with no traffic.
    """

    def __init__(self, max_error_rate: float = 0.05, threshold_multiplier: float = 2.0):
        self.max_error_rate = validate.number("max_error_rate", max_error_rate, minimum=0.0,
                                              maximum=1.0)
        self.threshold_multiplier = validate.number("threshold_multiplier", threshold_multiplier,
                                                    minimum=0.0, min_open=True)

    def judge(self, canary: GroupCounts, baseline: GroupCounts) -> bool:
        return rules.judge(rules.error_rate(canary.failures, canary.rejected, canary.completed),
                           rules.error_rate(baseline.failures, baseline.rejected,
                                            baseline.completed),
                           self.max_error_rate, self.threshold_multiplier)

    def is_healthy(self, canary, baseline_backends) -> bool:
        """Judge one canary server against baseline servers by their lifetime counters."""
        return self.judge(GroupCounts.of([canary], rules.ERROR_RATE),
                          GroupCounts.of(baseline_backends, rules.ERROR_RATE))

    def __repr__(self):
        return f"ErrorRateEvaluator({self.max_error_rate}, {self.threshold_multiplier})"


class LatencyEvaluator:
    """Unhealthy if the canary's mean latency at the server (wait + service) is above
    ``max_latency`` seconds, or above the baseline's x ``threshold_multiplier``."""

    def __init__(self, max_latency: float = 1.0, threshold_multiplier: float = 1.5):
        self.max_latency = validate.number("max_latency", max_latency, minimum=0.0, min_open=True)
        self.threshold_multiplier = validate.number("threshold_multiplier", threshold_multiplier,
                                                    minimum=0.0, min_open=True)

    def judge(self, canary: GroupCounts, baseline: GroupCounts) -> bool:
        return rules.judge(rules.mean_latency_seconds(canary.latency_ns, canary.completed),
                           rules.mean_latency_seconds(baseline.latency_ns, baseline.completed),
                           self.max_latency, self.threshold_multiplier)

    def is_healthy(self, canary, baseline_backends) -> bool:
        """Judge one canary server against baseline servers by their lifetime counters."""
        return self.judge(GroupCounts.of([canary], rules.LATENCY),
                          GroupCounts.of(baseline_backends, rules.LATENCY))

    def __repr__(self):
        return f"LatencyEvaluator({self.max_latency}, {self.threshold_multiplier})"
