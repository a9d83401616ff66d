"""Load-balancing choices that need more than one line."""

from .jit import njit, njit_inline


@njit
def smooth_weighted_pick(weights, current, n):
    """nginx smooth weighted round robin over the first n entries; returns the index."""
    total = 0
    best = -1
    for i in range(n):
        current[i] += weights[i]
        total += weights[i]
        if best < 0 or current[i] > current[best]:
            best = i
    current[best] -= total
    return best


@njit_inline
def index_from_uniform(u, n):
    """Uniform index in [0, n) from u in [0, 1)."""
    i = int(u * n)
    return n - 1 if i >= n else i
