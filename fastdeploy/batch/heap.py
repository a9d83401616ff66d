"""A binary min-heap of events ordered by (time, seq), as rows of one int64 array.

Row i is one event: time (ns), seq, kind, target, payload; an event's fields are
contiguous, so a sift moves 40 contiguous bytes. The size and the next seq live in the
replica's counters G.
"""

from ..rules.jit import kernel_inline as njit_inline
from .schema import G_HN, G_OVERFLOW, G_SEQ, OVERFLOW_HEAP


@njit_inline
def push(H, G, t, kind, target, payload):
    n = G[G_HN]
    if n >= H.shape[0]:
        G[G_OVERFLOW] = OVERFLOW_HEAP
        return
    seq = G[G_SEQ]
    G[G_SEQ] = seq + 1
    G[G_HN] = n + 1
    i = n
    while i > 0:
        p = (i - 1) >> 1
        tp = H[p, 0]
        if tp < t or (tp == t and H[p, 1] < seq):
            break
        for f in range(5):
            H[i, f] = H[p, f]
        i = p
    H[i, 0] = t
    H[i, 1] = seq
    H[i, 2] = kind
    H[i, 3] = target
    H[i, 4] = payload


@njit_inline
def pop(H, G):
    """Remove the first event; returns (time, kind, target, payload)."""
    t = H[0, 0]
    kind = H[0, 2]
    target = H[0, 3]
    payload = H[0, 4]
    n = G[G_HN] - 1
    G[G_HN] = n
    if n > 0:
        lt = H[n, 0]
        ls = H[n, 1]
        i = 0
        while True:
            c = 2 * i + 1
            if c >= n:
                break
            r = c + 1
            if r < n and (H[r, 0] < H[c, 0] or (H[r, 0] == H[c, 0] and H[r, 1] < H[c, 1])):
                c = r
            if lt < H[c, 0] or (lt == H[c, 0] and ls < H[c, 1]):
                break
            for f in range(5):
                H[i, f] = H[c, f]
            i = c
        for f in range(5):
            H[i, f] = H[n, f]
    return t, kind, target, payload
