"""The one place that decides how shared rules are compiled: for the object engine, which
calls them from Python, and for the kernels (``in_kernels``), which call them from
compiled code only."""

import sys
import types

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
# Wrappers: numba compiles a Python wrapper and a C wrapper for every signature of a
# function unless told not to. Nothing calls a rule as a C callback (the HPA's sync is
# compiled as one apart, in rules/hpa.py), so no rule gets a C wrapper. The object engine,
# the tests and users call rules from Python, so a rule as its module holds it keeps the
# Python wrapper; the kernels compile their own copy of each rule without it
# (``in_kernels``): the wrappers of the hundred-odd rule signatures a batch run compiles
# were about a tenth of its cold start (benchmarks/RESULTS.md, sessions 11 and 12).
_COMMON = dict(cache=True, nogil=True, no_cfunc_wrapper=True)

# Each rule's dispatcher by id, with the options it was compiled with.
_RULES = {}


def _rule(**options):
    compile_rule = numba.njit(**_COMMON, **options)

    def decorate(func):
        dispatcher = compile_rule(func)
        if dispatcher is not func:  # func itself when numba's JIT is disabled
            _RULES[id(dispatcher)] = (dispatcher, options)
        return dispatcher
    return decorate


njit = _rule(forceinline=False)

# For small functions on the kernels' hot path.
njit_inline = _rule(forceinline=True)

# For arithmetic that LLVM should vectorize when a kernel runs it over a block: numba's
# default error model checks every float division for a zero divisor (to raise Python's
# ZeroDivisionError), and that branch alone stops the loop vectorizer. Only for functions
# whose divisors cannot be zero.
njit_inline_vectorizable = _rule(forceinline=True, error_model="numpy")


# -- the rules as the kernels compile them ------------------------------------------------

# numba's on-disk cache names an entry by the function's qualified name and does not key
# it by the wrapper option, so a kernels' copy is compiled under its rule's name plus this.
IN_KERNELS = "__in_kernels"
_PACKAGE = __name__.rpartition(".")[0] + "."
_VIEWS = {}  # a rules module's name -> its view
_COPIES = {}  # a rule's id -> the kernels' copy


def in_kernels(module):
    """A rules module as the kernels use it: a module object with the same names, in which
    each rule is a copy compiled without numba's Python wrapper, and each rules module it
    names is its view in turn (so a rule's copy calls the copies of the rules it calls).
    Only compiled code can call such a copy: a call from Python would crash the process, so
    nothing outside the kernels may hold one. With numba's JIT disabled, the module itself.
    """
    if numba.config.DISABLE_JIT:
        return module
    view = _VIEWS.get(module.__name__)
    if view is None:
        view = _VIEWS[module.__name__] = types.ModuleType(module.__name__, module.__doc__)
        # Filled after it is registered: rules modules name one another.
        for name, value in vars(module).items():
            if name not in ("__name__", "__doc__"):
                setattr(view, name, _as_in_kernels(value))
    return view


def _as_in_kernels(value):
    if isinstance(value, types.ModuleType):
        return in_kernels(value) if value.__name__.startswith(_PACKAGE) else value
    rule = _RULES.get(id(value))
    if rule is None or rule[0] is not value:
        return value
    copy = _COPIES.get(id(value))
    if copy is None:
        dispatcher, options = rule
        func = dispatcher.py_func
        # Its globals are its module's view: names resolve to the kernels' copies.
        globals_ = vars(in_kernels(sys.modules[func.__module__]))
        renamed = types.FunctionType(func.__code__, globals_, func.__name__,
                                     func.__defaults__, func.__closure__)
        renamed.__qualname__ = func.__qualname__ + IN_KERNELS
        renamed.__module__ = func.__module__
        renamed.__doc__ = func.__doc__
        copy = _COPIES[id(value)] = numba.njit(**_COMMON, **options,
                                               no_cpython_wrapper=True)(renamed)
    return copy
