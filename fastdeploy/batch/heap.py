"""A binary min-heap of events ordered by (time, seq), in one flat int64 array.

Entry i is three words from 3i: time (ns), seq, and payload | target | kind packed in one
word (31, 28 and 4 bits, from the top; the sign bit stays clear), so a sift moves 24
contiguous bytes. The array is flat, not
(n, 3), so that the entry stride is a constant the compiler folds rather than a value
the event loop keeps in a register (about 3% faster). The size, the next seq and the "top
is free" flag live in the replica's counters G.

The event loop reads the first event with ``peek`` and leaves it in place while its
handler runs (it is the minimum, so pushes sift past it correctly). The handler's first
push then takes the top slot with one sift-down instead of a pop and a push; ``finish``
removes the top if no push took it.
"""

from .compile import out_of_line
from .compile import kernel_inline as njit_inline
from .schema import G_HN, G_OVERFLOW, G_SEQ, G_TOP_FREE, OVERFLOW_HEAP


@njit_inline
def _pack(kind, target, payload):
    return (payload << 32) | (target << 4) | kind


@njit_inline
def _set(H, i, t, seq, word):
    """Write entry i."""
    H[3 * i] = t
    H[3 * i + 1] = seq
    H[3 * i + 2] = word


@njit_inline
def _sift_down(H, n, i, t, seq, word):
    """Place (t, seq, word) at hole i of a heap of n entries, moving children up."""
    while True:
        c = 2 * i + 1
        if c >= n:
            break
        r = c + 1
        if r < n and (H[3 * r] < H[3 * c]
                      or (H[3 * r] == H[3 * c] and H[3 * r + 1] < H[3 * c + 1])):
            c = r
        if t < H[3 * c] or (t == H[3 * c] and seq < H[3 * c + 1]):
            break
        _set(H, i, H[3 * c], H[3 * c + 1], H[3 * c + 2])
        i = c
    _set(H, i, t, seq, word)


@njit_inline
def take_seq(G):
    """The next seq: what an event scheduled now is ordered by among equal times (a
    request's completion takes one when it starts, whether or not it becomes an event,
    so that every later seq is the object engine's)."""
    seq = G[G_SEQ]
    G[G_SEQ] = seq + 1
    return seq


@njit_inline
def push(H, G, t, kind, target, payload):
    push_keyed(H, G, t, take_seq(G), kind, target, payload)


@njit_inline
def push_keyed(H, G, t, seq, kind, target, payload):
    """Push with a seq taken earlier (take_seq): (t, seq) must not precede the event
    being handled."""
    if G[G_TOP_FREE] == 1:
        G[G_TOP_FREE] = 0
        _sift_down(H, G[G_HN], 0, t, seq, _pack(kind, target, payload))
        return
    n = G[G_HN]
    if 3 * n >= H.shape[0]:
        G[G_OVERFLOW] = OVERFLOW_HEAP
        return
    G[G_HN] = n + 1
    i = n
    while i > 0:
        p = (i - 1) >> 1
        tp = H[3 * p]
        if tp < t or (tp == t and H[3 * p + 1] < seq):
            break
        _set(H, i, H[3 * p], H[3 * p + 1], H[3 * p + 2])
        i = p
    _set(H, i, t, seq, _pack(kind, target, payload))


@njit_inline
def peek(H, G):
    """The first event, (time, seq, kind, target, payload), left in place; its slot is
    free."""
    G[G_TOP_FREE] = 1
    word = H[2]
    return H[0], H[1], word & 0xF, (word >> 4) & 0xFFFFFFF, word >> 32


@njit_inline
def finish(H, G):
    """After a handler: remove the peeked event unless a push has taken its slot."""
    if G[G_TOP_FREE] == 1:
        G[G_TOP_FREE] = 0
        n = G[G_HN] - 1
        G[G_HN] = n
        if n > 0:
            _sift_down(H, n, 0, H[3 * n], H[3 * n + 1], H[3 * n + 2])


# The same push as a call, for the rare events (scaler, deployers): inlining it there too
# would only lengthen compilation.
push_call = out_of_line(push)
push_keyed_call = out_of_line(push_keyed)
