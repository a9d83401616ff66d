"""Seconds <-> integer nanoseconds, the one rounding rule of SPEC section 1."""

import math

from .jit import njit_inline

# Simulation time ends here (int64 nanoseconds reach 9.22e9 s, about 292 years): every
# time or duration in seconds is below it, and an arrival computed past it never comes.
MAX_SECONDS = 9.2e9


@njit_inline
def seconds_to_ns(x):
    """Round seconds to the nearest nanosecond: floor(x * 1e9 + 0.5)."""
    return math.floor(x * 1e9 + 0.5)
