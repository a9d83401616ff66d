"""The one place that decides how shared rules are compiled."""

import numba

# cache=True: compiled machine code is kept on disk, so a new process starts fast.
njit = numba.njit(cache=True, nogil=True)

# For small functions on the kernels' hot path: inlined into the caller at numba IR level,
# which saves the call and the reference counting of every array argument.
njit_inline = numba.njit(cache=True, nogil=True, inline="always")
