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
njit = numba.njit(cache=True, nogil=True, forceinline=False)

# For small functions on the kernels' hot path.
njit_inline = numba.njit(cache=True, nogil=True, forceinline=True)

# The batch kernels: they allocate nothing (the caller owns every array), so they run
# without numba's reference counting, which otherwise costs atomic operations on every
# array passed to a function.
#
# Only `entry` (the one kernel Python calls) gets numba's Python and C wrappers: for
# functions of twenty arrays they are large, and compiling them for every kernel cost
# seconds of the cold start.
_KERNEL = dict(cache=True, nogil=True, _nrt=False)
_INTERNAL = dict(no_cpython_wrapper=True, no_cfunc_wrapper=True)
entry = numba.njit(**_KERNEL, forceinline=False)
kernel = numba.njit(**_KERNEL, **_INTERNAL, forceinline=False)
kernel_inline = numba.njit(**_KERNEL, **_INTERNAL, forceinline=True)


def refresh_kernel_cache(kernels_file: str, dependencies: list[str]) -> None:
    """Make numba recompile the kernels when a module they inline has changed.

    numba's cache checks only the stamp of the file that defines a function, not of the
    functions compiled into it; a stale cache would run old code. So a fingerprint of
    the dependencies is kept beside the cache, and when it changes the kernels' file is
    touched, which invalidates their cache entries.
    """
    import hashlib
    import os

    digest = hashlib.sha256()
    for path in sorted(dependencies):
        with open(path, "rb") as f:
            digest.update(f.read())
    stamp_dir = os.path.join(os.path.dirname(kernels_file), "__pycache__")
    stamp = os.path.join(stamp_dir, "kernel-dependencies.sha256")
    try:
        with open(stamp) as f:
            if f.read() == digest.hexdigest():
                return
    except OSError:
        pass
    try:
        os.makedirs(stamp_dir, exist_ok=True)
        os.utime(kernels_file)
        with open(stamp, "w") as f:
            f.write(digest.hexdigest())
    except OSError:  # a read-only install: its files do not change either
        pass


def out_of_line(inlined):
    """A kernel compiled from an inlined kernel's Python function, called, not inlined."""
    return kernel(getattr(inlined, "py_func", inlined))
