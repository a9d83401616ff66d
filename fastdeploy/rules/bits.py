"""The bit pattern of a float64, for arithmetic on its exponent and mantissa (and back)."""

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

MANTISSA_BITS = 52
MANTISSA_MASK = (1 << MANTISSA_BITS) - 1
EXPONENT_BIAS = 1023


@intrinsic
def _float_bits(typingctx, x):
    if x != types.float64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


@intrinsic
def _bits_float(typingctx, i):
    if i != types.int64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


if numba.config.DISABLE_JIT:
    def float_bits(x):
        """The IEEE 754 bits of float64 x as an int64 (one instruction when compiled)."""
        return int(np.float64(x).view(np.int64))

    def bits_float(i):
        """The float64 whose IEEE 754 bits are int64 i (float_bits' inverse)."""
        return float(np.int64(i).view(np.float64))
else:
    float_bits = _float_bits
    bits_float = _bits_float
