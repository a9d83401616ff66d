"""The natural logarithm the draws use: ln(1 - u) for a uniform u, written out here
rather than taken from the C library.

Why: the C library's log is a call LLVM cannot vectorize, 3.4 ns per value on this
project's machine even when 256 are taken in one loop; this one, in the same loop,
vectorizes (0.5 ns). Both engines call it, so they agree exactly, compiled or not (the
arithmetic is IEEE double either way, with no fused multiply-add: numba does not
contract without fast-math).

How: fdlibm's method (its e_log.c). x = 2^k * m with m in [sqrt(2)/2, sqrt(2)), found
from the bits (adding a constant to the exponent field moves the split point to
sqrt(2)/2); with f = m - 1 and s = f / (2 + f), ln(m) = 2 atanh(s) = f - f^2/2 +
s (f^2/2 + R(s^2)), R a minimax polynomial; ln 2 split in two parts so that k ln 2 adds
no rounding. Error below 1 ulp. The C library's log is correctly rounded in practice, so
the two differ in the last bit for some inputs (7% of uniforms); a service time or an
arrival gap rounded to the nanosecond almost never differs: none did in 20 million
uniforms at three means (tests/test_naive.py checks 2 million at each run).
"""

from .bits import MANTISSA_BITS, bits_float, float_bits
from .jit import njit_inline_vectorizable

LN2_HI = 6.93147180369123816490e-01  # ln 2's leading bits: k * LN2_HI is exact
LN2_LO = 1.90821492927058770002e-10
# R(z) = LG1 z + LG2 z^2 + ... + LG7 z^7, z = s^2, approximates (2 atanh(s) - 2s) / s
# on |s| <= 0.1716 (fdlibm's e_log.c minimax coefficients).
LG1 = 6.666666666666735130e-01
LG2 = 3.999999999940941908e-01
LG3 = 2.857142874366239149e-01
LG4 = 2.222219843214978396e-01
LG5 = 1.818357216161805012e-01
LG6 = 1.531383769920937332e-01
LG7 = 1.479819860511658591e-01
# Added to the exponent field, these split mantissas at sqrt(2)/2 (bits 0x3fe6a09e of
# its high word) instead of at 1.
_SPLIT_SHIFT = (0x3FF00000 - 0x3FE6A09E) << 32
_SPLIT_BASE = 0x3FE6A09E << 32
_MANTISSA_MASK = (1 << MANTISSA_BITS) - 1
_BIAS = 0x3FF


@njit_inline_vectorizable
def ln(x):
    """ln(x) for a positive, normal, finite float64 x (no check: callers pass 1 - u for
    a uniform u in [0, 1), at least 2^-53)."""
    ix = float_bits(x) + _SPLIT_SHIFT
    k = (ix >> MANTISSA_BITS) - _BIAS
    f = bits_float((ix & _MANTISSA_MASK) + _SPLIT_BASE) - 1.0
    hfsq = 0.5 * f * f
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    r = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7))) + w * (LG2 + w * (LG4 + w * LG6))
    dk = float(k)
    return s * (hfsq + r) + dk * LN2_LO - hfsq + f + dk * LN2_HI


@njit_inline_vectorizable
def ln_one_minus(u):
    """ln(1 - u) for a uniform u in [0, 1) (1 - u is exact: both are multiples of
    2^-53)."""
    return ln(1.0 - u)
