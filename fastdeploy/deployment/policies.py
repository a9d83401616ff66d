"""Scaling policies: how many instances an AutoScaler wants (SPEC section 7)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from ..core import validate
from ..rules import scaling


@runtime_checkable
class ScalingPolicy(Protocol):
    """Protocol for scaling decision algorithms."""

    def evaluate(self, backends: list, current_count: int, min_instances: int,
                 max_instances: int) -> int:
        """Return the desired instance count."""
        ...


def mean_utilization(backends) -> float:
    """Mean of the backends' ``utilization`` (0 for none; a backend without it counts 0)."""
    if not backends:
        return 0.0
    total = 0.0
    for b in backends:
        total += getattr(b, "utilization", 0.0)
    return total / len(backends)


def total_depth(backends) -> float:
    """Sum of the backends' ``depth`` (a time-weighted mean under a metric window), added
    one by one in order as the kernels do (``sum`` of floats rounds differently)."""
    total = 0.0
    for b in backends:
        total += getattr(b, "depth", 0)
    return total


class TargetUtilization:
    """Scale to keep mean utilization near ``target`` (Kubernetes HPA rule).

    desired = ceil(current * utilization / target) when |utilization / target - 1| is
    above ``tolerance``, else current; clamped to [min, max]. No backends -> min.

    Args:
        target: Target mean utilization, 0 < target <= 1.
        tolerance: Relative band around the target with no action.
    """

    def __init__(self, target: float = 0.7, *, tolerance: float = 0.1):
        self.target = validate.number("target", target, minimum=0.0, maximum=1.0, min_open=True)
        self.tolerance = validate.number("tolerance", tolerance, minimum=0.0)

    def evaluate(self, backends, current_count, min_instances, max_instances) -> int:
        return int(scaling.target_utilization_desired(
            len(backends), mean_utilization(backends), current_count, self.target,
            self.tolerance, min_instances, max_instances))

    def __repr__(self):
        return f"TargetUtilization({self.target}, tolerance={self.tolerance})"


class StepScaling:
    """Step-based scaling: (utilization_threshold, adjustment) steps, highest first.

    The first step whose threshold the mean utilization reaches gives current +
    adjustment (clamped); none -> current.
    """

    def __init__(self, steps):
        rows = list(steps) if steps is not None else []
        if not rows:
            raise ValueError(f"steps must hold at least one (threshold, adjustment), got {steps!r}")
        clean = []
        for k, st in enumerate(rows):
            if len(st) != 2:
                raise ValueError(f"steps[{k}] must be (threshold, adjustment), got {st!r}")
            thr = validate.number(f"steps[{k}] threshold", st[0], minimum=0.0)
            adj = validate.integer(f"steps[{k}] adjustment", st[1])
            clean.append((thr, adj))
        self.steps = sorted(clean, key=lambda s: -s[0])
        self._thresholds = np.array([s[0] for s in self.steps], dtype=np.float64)
        self._adjustments = np.array([s[1] for s in self.steps], dtype=np.int64)

    def evaluate(self, backends, current_count, min_instances, max_instances) -> int:
        return int(scaling.step_scaling_desired(self._thresholds, self._adjustments,
                                                mean_utilization(backends), current_count,
                                                min_instances, max_instances))

    def __repr__(self):
        return f"StepScaling({self.steps})"


class QueueDepthScaling:
    """Scale on total queue depth: >= out adds one, <= in (above min) removes one."""

    def __init__(self, scale_out_threshold: int = 100, scale_in_threshold: int = 10):
        self.scale_out_threshold = validate.integer("scale_out_threshold", scale_out_threshold,
                                                    minimum=0)
        self.scale_in_threshold = validate.integer("scale_in_threshold", scale_in_threshold,
                                                   minimum=0)
        if self.scale_in_threshold >= self.scale_out_threshold:
            raise ValueError(
                f"scale_in_threshold must be below scale_out_threshold, got "
                f"scale_in_threshold={scale_in_threshold!r} >= "
                f"scale_out_threshold={scale_out_threshold!r}")

    def evaluate(self, backends, current_count, min_instances, max_instances) -> int:
        return int(scaling.queue_depth_desired(total_depth(backends), current_count,
                                               self.scale_out_threshold, self.scale_in_threshold,
                                               min_instances, max_instances))

    def __repr__(self):
        return f"QueueDepthScaling({self.scale_out_threshold}, {self.scale_in_threshold})"
