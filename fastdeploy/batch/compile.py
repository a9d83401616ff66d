"""How the batch kernels are compiled (the shared rules' decorators are in rules/jit.py).

Only ``entry`` (the one kernel Python calls) gets numba's Python wrapper, and no kernel
a C wrapper: for functions of many arrays they are large, and compiling them for every
kernel cost seconds of the cold start. (The handlers loop.py calls through pointers are
compiled as C callbacks by calls.py: there the C wrapper is the point.) The kernels
allocate nothing (the caller owns every array), so they run without numba's reference
counting, which otherwise costs atomic operations on every array passed to a function.
See docs/batch-engine.md.
"""

import numba

_KERNEL = dict(cache=True, nogil=True, _nrt=False)
_INTERNAL = dict(no_cpython_wrapper=True, no_cfunc_wrapper=True)
entry = numba.njit(**_KERNEL, no_cfunc_wrapper=True, forceinline=False)
kernel = numba.njit(**_KERNEL, **_INTERNAL, forceinline=False)
# For small functions on the hot path: LLVM inlines them (see rules/jit.py on why
# forceinline and not numba's IR inliner).
kernel_inline = numba.njit(**_KERNEL, **_INTERNAL, forceinline=True)


def out_of_line(inlined):
    """A kernel compiled from an inlined kernel's Python function, called, not inlined."""
    return kernel(getattr(inlined, "py_func", inlined))
