"""Service-time distributions evaluated by inverse CDF at one uniform.

A distribution is (kind, a, b); the same request carries the same uniform to whatever
server handles it, so its work depends only on the server's distribution.
"""

import math

from .jit import njit, njit_inline
from .logarithm import ln_one_minus

CONSTANT = 0  # a = latency
EXPONENTIAL = 1  # a = mean
UNIFORM = 2  # a = low, b = high
LOGNORMAL = 3  # a = mean, b = sigma (of the underlying normal)


@njit
def normal_quantile(p):
    """Inverse of the standard normal CDF for 0 < p < 1 (Wichura's AS 241, ~1e-16).

    Returns -inf at p = 0.
    """
    if p <= 0.0:
        return -math.inf
    q = p - 0.5
    if abs(q) <= 0.425:
        r = 0.180625 - q * q
        num = (((((((2509.0809287301226727 * r + 33430.575583588128105) * r
                    + 67265.770927008700853) * r + 45921.953931549871457) * r
                  + 13731.693765509461125) * r + 1971.5909503065514427) * r
                + 133.14166789178437745) * r + 3.387132872796366608)
        den = (((((((5226.495278852545925 * r + 28729.085735721942674) * r
                    + 39307.89580009271061) * r + 21213.794301586595867) * r
                  + 5394.1960214247511077) * r + 687.1870074920579083) * r
                + 42.313330701600911252) * r + 1.0)
        return q * num / den
    r = p if q < 0.0 else 1.0 - p
    r = math.sqrt(-math.log(r))
    if r <= 5.0:
        r -= 1.6
        num = (((((((7.7454501427834140764e-4 * r + 0.0227238449892691845833) * r
                    + 0.24178072517745061177) * r + 1.27045825245236838258) * r
                  + 3.64784832476320460504) * r + 5.7694972214606914055) * r
                + 4.6303378461565452959) * r + 1.42343711074968357734)
        den = (((((((1.05075007164441684324e-9 * r + 5.475938084995344946e-4) * r
                    + 0.0151986665636164571966) * r + 0.14810397642748007459) * r
                  + 0.68976733498510000455) * r + 1.6763848301838038494) * r
                + 2.05319162663775882187) * r + 1.0)
    else:
        r -= 5.0
        num = (((((((2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r
                    + 0.0012426609473880784386) * r + 0.026532189526576123093) * r
                  + 0.29656057182850489123) * r + 1.7848265399172913358) * r
                + 5.4637849111641143699) * r + 6.6579046435011037772)
        den = (((((((2.04426310338993978564e-15 * r + 1.4215117583164458887e-7) * r
                    + 1.8463183175100546818e-5) * r + 7.868691311456132591e-4) * r
                  + 0.0148753612908506148525) * r + 0.13692988092273580531) * r
                + 0.59983220655588793769) * r + 1.0)
    x = num / den
    return -x if q < 0.0 else x


@njit_inline
def exponential_core(u):
    """ln(1 - u): what an exponential draw at uniform u scales (sample_seconds_at); by
    rules/logarithm.py, so that a block of them vectorizes (kernels/servers.py
    fill_work)."""
    return ln_one_minus(u)


@njit_inline
def sample_seconds(kind, a, b, u):
    """Service time in seconds of distribution (kind, a, b) at uniform u in [0, 1)."""
    return sample_seconds_at(kind, a, b, u,
                             exponential_core(u) if kind == EXPONENTIAL else 0.0)


@njit_inline
def sample_seconds_at(kind, a, b, u, core):
    """sample_seconds with u's exponential_core given (read for an exponential only):
    the batch engine computes it for many requests at once (kernels/servers.py)."""
    if kind == CONSTANT:
        return a
    if kind == EXPONENTIAL:
        return -a * core
    if kind == UNIFORM:
        return a + u * (b - a)
    # LOGNORMAL: parameterised by its mean, so mu = ln(mean) - sigma^2 / 2. Without
    # spread it is the mean (sigma * normal_quantile(0) would be 0 * -inf).
    if b == 0.0:
        return a
    mu = math.log(a) - 0.5 * b * b
    return math.exp(mu + b * normal_quantile(u))
