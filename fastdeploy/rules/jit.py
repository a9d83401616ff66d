"""The one place that decides how shared rules are compiled."""

import numba

# cache=True: compiled machine code is kept on disk, so a new process starts fast.
#
# Inlining: numba compiles every function once, on its own, into an LLVM module, and links
# (and re-optimises) the modules of all it calls into the caller's. `forceinline=True`
# marks a function "alwaysinline" for LLVM, so callers get its code without a call. This
# is much cheaper to compile than numba's `inline="always"`, which copies the callee's
# numba IR into every call site (the copy grows with the square of the callee's size).
# forceinline is inherited by callees that do not set it, so every decorator here sets it.
#
# Wrappers: the object engine calls the rules from Python, so they keep numba's Python
# wrapper; nothing calls them as C callbacks (the HPA's sync is compiled as one apart, in
# rules/hpa.py), so they get no C wrapper, which numba would otherwise compile for every
# signature.
njit = numba.njit(cache=True, nogil=True, forceinline=False, no_cfunc_wrapper=True)

# For small functions on the kernels' hot path.
njit_inline = numba.njit(cache=True, nogil=True, forceinline=True, no_cfunc_wrapper=True)

# For arithmetic that LLVM should vectorize when a kernel runs it over a block: numba's
# default error model checks every float division for a zero divisor (to raise Python's
# ZeroDivisionError), and that branch alone stops the loop vectorizer. Only for functions
# whose divisors cannot be zero.
njit_inline_vectorizable = numba.njit(cache=True, nogil=True, forceinline=True,
                                      no_cfunc_wrapper=True, error_model="numpy")
