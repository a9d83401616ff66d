"""Seconds <-> integer nanoseconds, the one rounding rule of SPEC section 1."""

import math

from .jit import njit_inline


@njit_inline
def seconds_to_ns(x):
    """Round seconds to the nearest nanosecond: floor(x * 1e9 + 0.5)."""
    return math.floor(x * 1e9 + 0.5)
