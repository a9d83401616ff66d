"""Comparisons whose exact value is a boundary.

A mean utilization of 3 x 0.2 is 0.19999999999999998 in floating point, 3 * 0.9 / 0.3 is
9.000000000000002 and 0.55 * 20 is 11.000000000000002: rounding error must not move a
value across a threshold, a band edge or an integer.
"""

import math

from .jit import njit

# Relative slack of those comparisons.
EPS = 1e-9


@njit
def ceil_exact(x):
    """ceil(x), except that x within rounding error of an integer k gives k."""
    k = math.floor(x + 0.5)
    if abs(x - k) <= EPS * max(1.0, abs(x)):
        return int(k)
    return int(math.ceil(x))
