"""How fast one source's arrivals can be computed, alone, by SPEC section 4's rule.

    python benchmarks/bench_arrival_chain.py [--arrivals 20000000] [--repeats 3]

Arrival k+1 is computed from arrival k's nanosecond instant (rules/arrivals.py
next_arrival_ns: ns to seconds, plus the gap, rounded back to ns), so each arrival of a
source waits for the previous one's rounding. This times that chain with nothing else in
the loop (constant rate 1000/s), and, for comparison, the Poisson draw alone (a uniform
and its logarithm, independent from one arrival to the next) and a chain that keeps the
time in unrounded seconds (not SPEC's rule), the same chain computed a block at a time
by rules/arrivals.py arrivals_ahead (each time guessed, then checked exactly: the checks
do not wait for one another), and W independent chains (W sources, or
the same source of W replicas) advanced together in one loop, so that the processor
overlaps them. Prints the best of ``--repeats`` runs of each, in ns per arrival: the
floor one source sets on requests per second per thread, and how far running several
chains at once lowers it.
"""

from __future__ import annotations

import argparse
import math
import time

import numba
import numpy as np

from fastdeploy.rules import arrivals, rng

T0 = np.array([0.0])
RATE = np.array([1000.0])
SLOPE = np.array([0.0])


@numba.njit
def exact_poisson(n, key):
    prev = np.int64(0)
    hint = 0
    for k in range(n):
        area = arrivals.poisson_area(rng.uniform(key, k))
        prev, hint = arrivals.next_arrival_ns(T0, RATE, SLOPE, 1, hint, prev, area)
    return prev


@numba.njit
def exact_deterministic(n, key):
    prev = np.int64(0)
    hint = 0
    for _ in range(n):
        prev, hint = arrivals.next_arrival_ns(T0, RATE, SLOPE, 1, hint, prev, 1.0)
    return prev


@numba.njit
def draws_alone(n, key):
    total = 0.0
    for k in range(n):
        total += arrivals.poisson_area(rng.uniform(key, k))
    return total


@numba.njit
def unrounded_chain(n, key):
    t = 0.0
    last = 0
    for k in range(n):
        t += arrivals.poisson_area(rng.uniform(key, k)) / 1000.0
        last = math.floor(t * 1e9 + 0.5)
    return last


@numba.njit
def ahead(n, key, block):
    """The same arrivals as exact_poisson, ``block`` at a time by rules/arrivals.py
    arrivals_ahead (guessed, then checked)."""
    prev = np.int64(0)
    hint = 0
    areas = np.empty(block)
    out = np.empty(block, np.int64)
    check = np.empty(block, np.int64)
    for k0 in range(0, n, block):
        m = min(block, n - k0)
        for j in range(m):
            areas[j] = arrivals.poisson_area(rng.uniform(key, k0 + j))
        got, hint = arrivals.arrivals_ahead(T0, RATE, SLOPE, 1, hint, prev, areas, m, out,
                                             check)
        prev = out[got - 1]
    return prev


@numba.njit
def interleaved(n, keys):
    """n arrivals of each of len(keys) chains, advanced together."""
    W = keys.shape[0]
    prev = np.zeros(W, np.int64)
    hint = np.zeros(W, np.int64)
    for k in range(n):
        for r in range(W):
            area = arrivals.poisson_area(rng.uniform(keys[r], k))
            prev[r], hint[r] = arrivals.next_arrival_ns(T0, RATE, SLOPE, 1, hint[r], prev[r],
                                                        area)
    return prev[0]


def best_ns(fn, args, arrivals_done, repeats):
    best = math.inf
    for _ in range(repeats):
        t = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - t)
    return best / arrivals_done * 1e9


def report(label, ns):
    print(f"{label:28s} {ns:6.2f} ns per arrival  ({1e3 / ns:6.1f} M arrivals/s)")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arrivals", type=int, default=20_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    key = np.uint64(12345)
    for label, fn in (("SPEC chain, Poisson", exact_poisson),
                      ("SPEC chain, deterministic", exact_deterministic),
                      ("Poisson draw alone", draws_alone),
                      ("unrounded chain (not SPEC)", unrounded_chain)):
        fn(10, key)  # compile
        report(label, best_ns(fn, (args.arrivals, key), args.arrivals, args.repeats))
    n = args.arrivals
    assert ahead(n // 100, key, 256) == exact_poisson(n // 100, key)
    for block in (64, 256, 1024):
        report(f"SPEC chain, ahead by {block}",
               best_ns(ahead, (n, key, block), n, args.repeats))
    for width in (2, 4, 8):
        keys = np.arange(1, width + 1, dtype=np.uint64)
        interleaved(10, keys)
        n = args.arrivals // width
        report(f"{width} SPEC chains interleaved",
               best_ns(interleaved, (n, keys), n * width, args.repeats))


if __name__ == "__main__":
    main()
