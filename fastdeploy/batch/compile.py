"""How the batch kernels are compiled (the shared rules' decorators are in rules/jit.py).

Only ``entry`` (the one kernel Python calls) gets numba's Python and C wrappers: for
functions of many arrays they are large, and compiling them for every kernel cost
seconds of the cold start. The kernels allocate nothing (the caller owns every array),
so they run without numba's reference counting, which otherwise costs atomic operations
on every array passed to a function. See docs/batch-engine.md.
"""

import hashlib
import os

import numba

_KERNEL = dict(cache=True, nogil=True, _nrt=False)
_INTERNAL = dict(no_cpython_wrapper=True, no_cfunc_wrapper=True)
entry = numba.njit(**_KERNEL, forceinline=False)
kernel = numba.njit(**_KERNEL, **_INTERNAL, forceinline=False)
# For small functions on the hot path: LLVM inlines them (see rules/jit.py on why
# forceinline and not numba's IR inliner).
kernel_inline = numba.njit(**_KERNEL, **_INTERNAL, forceinline=True)


def out_of_line(inlined):
    """A kernel compiled from an inlined kernel's Python function, called, not inlined."""
    return kernel(getattr(inlined, "py_func", inlined))


def refresh_kernel_cache(kernel_files: list[str], dependencies: list[str]) -> None:
    """Make numba recompile the kernels when any module they compile in has changed.

    numba's cache checks only the stamp of the file that defines a function, not of the
    functions compiled into it; a stale cache would run old code. So a fingerprint of
    every dependency is kept beside the cache, and when it changes every kernel file is
    touched, which invalidates their cache entries.
    """
    digest = hashlib.sha256()
    for path in sorted(set(dependencies) | set(kernel_files)):
        with open(path, "rb") as f:
            digest.update(f.read())
    stamp_dir = os.path.join(os.path.dirname(kernel_files[0]), "__pycache__")
    stamp = os.path.join(stamp_dir, "kernel-dependencies.sha256")
    try:
        with open(stamp) as f:
            if f.read() == digest.hexdigest():
                return
    except OSError:
        pass
    try:
        os.makedirs(stamp_dir, exist_ok=True)
        for path in kernel_files:
            os.utime(path)
        with open(stamp, "w") as f:
            f.write(digest.hexdigest())
    except OSError:  # a read-only install: its files do not change either
        pass
