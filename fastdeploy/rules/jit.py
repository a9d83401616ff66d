"""The one place that decides how shared rules are compiled."""

import types

import numba
from numba.core.registry import CPUDispatcher

# cache=True: compiled machine code is kept on disk, so a new process starts fast.
#
# Inlining: numba compiles every function once, on its own, into an LLVM module, and links
# (and re-optimises) the modules of all it calls into the caller's. `forceinline=True`
# marks a function "alwaysinline" for LLVM, so callers get its code without a call. This
# is much cheaper to compile than numba's `inline="always"`, which copies the callee's
# numba IR into every call site (the copy grows with the square of the callee's size).
# forceinline is inherited by callees that do not set it, so every decorator here sets it.
#
# Wrappers: numba compiles a Python wrapper and a C wrapper for every signature of a
# function unless told not to. The rules get neither where the kernels compile them: the
# kernels call them from compiled code only, and the wrappers of the hundred-odd rule
# signatures a batch run compiles were about a tenth of its cold start
# (benchmarks/RESULTS.md, session 11). The object engine calls rules from Python: such a
# call goes to a twin compiled with the Python wrapper (_Rule). Nothing calls a rule as a
# C callback (the HPA's sync is compiled as one apart, in rules/hpa.py).


class _Rule(CPUDispatcher):
    """A shared rule as the kernels compile it: without numba's wrappers. A call from
    Python goes to a twin compiled with the Python wrapper, made on the first such call.
    numba's on-disk cache does not key its entries by the wrapper option, so the two
    must not share a name there: the kernels' copy is compiled under the function's name
    plus IN_KERNELS, and the twin under its own (as every build before this one
    compiled it, with the wrapper)."""

    _twin = None

    def __call__(self, *args, **kwargs):
        twin = self._twin
        if twin is None:
            options = {k: v for k, v in self.targetoptions.items()
                       if k != "no_cpython_wrapper"}
            f = self.py_func
            twin = self._twin = _dispatcher(
                CPUDispatcher, _renamed(f, f.__qualname__.removesuffix(IN_KERNELS)), options)
        return twin(*args, **kwargs)


IN_KERNELS = "__in_kernels"


def _dispatcher(cls, func, options):
    disp = cls(py_func=func, locals={}, targetoptions=dict(options))
    disp.enable_caching()
    return disp


def _renamed(func, qualname):
    """The function under another qualified name (what numba's cache names files by)."""
    copy = types.FunctionType(func.__code__, func.__globals__, func.__name__,
                              func.__defaults__, func.__closure__)
    copy.__qualname__ = qualname
    copy.__module__ = func.__module__
    copy.__doc__ = func.__doc__
    return copy


def _rule(options):
    """numba.njit(cache=True, **options) for a shared rule (see _Rule)."""
    def decorate(func):
        if numba.config.DISABLE_JIT:
            return func
        return _dispatcher(_Rule, _renamed(func, func.__qualname__ + IN_KERNELS), options)
    return decorate


_COMMON = dict(nopython=True, nogil=True, no_cfunc_wrapper=True, no_cpython_wrapper=True)
njit = _rule(dict(_COMMON, forceinline=False))

# For small functions on the kernels' hot path.
njit_inline = _rule(dict(_COMMON, forceinline=True))

# For arithmetic that LLVM should vectorize when a kernel runs it over a block: numba's
# default error model checks every float division for a zero divisor (to raise Python's
# ZeroDivisionError), and that branch alone stops the loop vectorizer. Only for functions
# whose divisors cannot be zero.
njit_inline_vectorizable = _rule(dict(_COMMON, forceinline=True, error_model="numpy"))
