"""The one place that decides how shared rules are compiled."""

import numba

# cache=True: compiled machine code is kept on disk, so a new process starts fast.
njit = numba.njit(cache=True, nogil=True)

# For small functions on the kernels' hot path: inlined into the caller at numba IR level,
# which saves the call and the reference counting of every array argument.
njit_inline = numba.njit(cache=True, nogil=True, inline="always")

# The batch kernels: they allocate nothing (the caller owns every array), so they run
# without numba's reference counting, which otherwise costs atomic operations on every
# array passed to an inlined helper.
kernel = numba.njit(cache=True, nogil=True, _nrt=False)
kernel_inline = numba.njit(cache=True, nogil=True, _nrt=False, inline="always")
