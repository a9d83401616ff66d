"""Autoscaling decisions: the three built-in policies and the cooldown rule."""


from .exact import EPS, ceil_exact
from .jit import njit


@njit
def clamp(x, lo, hi):
    if x < lo:
        return lo
    if x > hi:
        return hi
    return x


@njit
def target_utilization_desired(n_backends, mean_util, current, target, tolerance, lo, hi):
    """Kubernetes HPA rule: ceil(current * util / target) outside the tolerance band."""
    if n_backends == 0:
        return lo
    ratio = mean_util / target
    if abs(ratio - 1.0) <= tolerance + EPS:
        return clamp(current, lo, hi)
    # An exact product (3 * 0.9 / 0.3 = 9) must not be pushed up by rounding error.
    desired = ceil_exact(current * mean_util / target)
    return clamp(desired, lo, hi)


@njit
def step_scaling_desired(thresholds, adjustments, mean_util, current, lo, hi):
    """Steps sorted by threshold, highest first: the first crossed gives the adjustment."""
    for i in range(thresholds.shape[0]):
        if mean_util >= thresholds[i] - EPS:
            return clamp(current + adjustments[i], lo, hi)
    return clamp(current, lo, hi)


@njit
def queue_depth_desired(total_depth, current, out_threshold, in_threshold, lo, hi):
    if total_depth >= out_threshold:
        return clamp(current + 1, lo, hi)
    if total_depth <= in_threshold and current > lo:
        return clamp(current - 1, lo, hi)
    return clamp(current, lo, hi)


@njit
def in_cooldown(now_ns, last_action_ns, cooldown_ns):
    """True while less than the cooldown has passed since the last action (-1: none)."""
    return last_action_ns >= 0 and now_ns - last_action_ns < cooldown_ns
