"""The Pareto front of points where smaller is better on both axes."""

from __future__ import annotations

import numpy as np


def pareto_front(x, y) -> np.ndarray:
    """Indices of the points no other point dominates, sorted by x.

    A point dominates another when it is no worse on both x and y and better on one
    (both minimised). Points with a NaN coordinate are never on the front; of exact
    duplicates, each is kept.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    ok = np.flatnonzero(~(np.isnan(x) | np.isnan(y)))
    front = []
    for i in ok:
        dominated = ((x[ok] <= x[i]) & (y[ok] <= y[i]) & ((x[ok] < x[i]) | (y[ok] < y[i])))
        if not dominated.any():
            front.append(i)
    front = np.asarray(front, dtype=np.int64)
    return front[np.lexsort((y[front], x[front]))] if front.size else front
