"""The one place that decides how shared rules are compiled."""

import numba

# cache=True: compiled machine code is kept on disk, so a new process starts fast.
njit = numba.njit(cache=True, nogil=True)
