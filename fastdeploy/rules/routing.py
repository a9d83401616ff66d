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


@njit_inline
def round_robin_pick(counter, n):
    """Round robin: the counter counts selections."""
    return counter % n


@njit
def least_loaded(loads, n):
    """Index of the smallest of loads[:n] (outstanding requests), the first on ties."""
    best = 0
    for i in range(1, n):
        if loads[i] < loads[best]:
            best = i
    return best


@njit_inline
def two_choices(u1, u2, n):
    """Two distinct indices in [0, n) from two uniforms (n >= 2)."""
    i = index_from_uniform(u1, n)
    j = index_from_uniform(u2, n - 1)
    if j >= i:
        j += 1
    return i, j


@njit_inline
def less_loaded(i, load_i, j, load_j):
    """Of two choices, the one with fewer outstanding requests; the first on ties."""
    return j if load_j < load_i else i


# Strategy codes.
ROUND_ROBIN, WEIGHTED, LEAST_CONNECTIONS, RANDOM, POWER_OF_TWO = range(5)
