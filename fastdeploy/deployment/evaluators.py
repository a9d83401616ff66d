"""Canary health evaluators (SPEC section 7)."""

from __future__ import annotations

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
    def of(cls, servers) -> GroupCounts:
        g = cls()
        for s in servers:
            counters = getattr(s, "request_counters", None)
            if counters is not None:
                c, r, f, lat = counters()
            else:
                # Any backend with happysim's public ServerStats.
                st = s.stats
                c, r, f = st.requests_completed, st.requests_rejected, st.total_failures
                lat = int(round(st.total_latency * 1e9))
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
        return self.judge(GroupCounts.of([canary]), GroupCounts.of(baseline_backends))

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
        return self.judge(GroupCounts.of([canary]), GroupCounts.of(baseline_backends))

    def __repr__(self):
        return f"LatencyEvaluator({self.max_latency}, {self.threshold_multiplier})"
