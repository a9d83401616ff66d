"""Canary decisions: the exact traffic split and the built-in evaluators' math."""

import math

from .exact import ceil_exact
from .jit import njit, njit_inline


@njit_inline
def split_to_canary(i, fraction):
    """The i-th request routed since the split was set goes to the canary group?"""
    return math.floor((i + 1) * fraction) > math.floor(i * fraction)


@njit
def canary_group_size(fraction, n_baseline):
    """max(1, ceil(fraction * n)); a product within rounding error of an integer is it
    (0.55 * 20 is 11.000000000000002 in floating point, and gives 11)."""
    return max(1, ceil_exact(fraction * n_baseline))


@njit
def error_rate(failures, rejected, completed):
    denom = completed + rejected
    if denom <= 0:
        return 0.0
    return (failures + rejected) / denom


@njit
def mean_latency_seconds(total_latency_ns, completed):
    if completed <= 0:
        return 0.0
    return total_latency_ns / completed / 1e9


@njit
def judge(canary_value, baseline_value, limit, multiplier):
    """Healthy unless the canary is over the limit or over baseline x multiplier."""
    if canary_value > limit:
        return False
    if baseline_value > 0.0 and canary_value > baseline_value * multiplier:
        return False
    return True
