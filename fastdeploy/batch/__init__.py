"""The batch engine: many replicas of one scenario in numba kernels."""
