"""A binary min-heap of events ordered by (time, seq), as rows of one int64 array.

H[0] time (ns), H[1] seq, H[2] kind, H[3] target, H[4] payload; the size and the next
seq live in the replica's counters G.
"""

from ..rules.jit import njit, njit_inline
from .schema import G_HN, G_OVERFLOW, G_SEQ, OVERFLOW_HEAP


@njit_inline
def push(H, G, t, kind, target, payload):
    n = G[G_HN]
    if n >= H.shape[1]:
        G[G_OVERFLOW] = OVERFLOW_HEAP
        return
    seq = G[G_SEQ]
    G[G_SEQ] = seq + 1
    G[G_HN] = n + 1
    i = n
    while i > 0:
        p = (i - 1) >> 1
        tp = H[0, p]
        if tp < t or (tp == t and H[1, p] < seq):
            break
        for f in range(5):
            H[f, i] = H[f, p]
        i = p
    H[0, i] = t
    H[1, i] = seq
    H[2, i] = kind
    H[3, i] = target
    H[4, i] = payload


@njit_inline
def pop(H, G):
    """Remove the first event; returns (time, kind, target, payload)."""
    t = H[0, 0]
    kind = H[2, 0]
    target = H[3, 0]
    payload = H[4, 0]
    n = G[G_HN] - 1
    G[G_HN] = n
    if n > 0:
        lt = H[0, n]
        ls = H[1, n]
        i = 0
        while True:
            c = 2 * i + 1
            if c >= n:
                break
            r = c + 1
            if r < n and (H[0, r] < H[0, c] or (H[0, r] == H[0, c] and H[1, r] < H[1, c])):
                c = r
            if lt < H[0, c] or (lt == H[0, c] and ls < H[1, c]):
                break
            for f in range(5):
                H[f, i] = H[f, c]
            i = c
        for f in range(5):
            H[f, i] = H[f, n]
    return t, kind, target, payload
