"""What a request costs in a lean numba loop, with and without per-completion work.

    python benchmarks/bench_request_path.py [--requests 20000000] [--servers 5]
        [--repeats 3]

A stripped-down request path, not the engine: one Poisson source at 100/s (its arrivals
computed ahead by rules/arrivals.py arrivals_ahead), round robin over ``--servers``
FIFO servers of 4 slots, exponential work of mean 0.1 s drawn ahead (uniforms and
logarithms of 256 requests at a time), every latency into the engine's histogram with
its sum, minimum and maximum. Queued requests are only counted. Five ways to keep the
slots, in ns per request (best of ``--repeats``):

- completions: each server's slots sorted by the (time, seq) of their completion; an
  arrival first completes, one by one, what finished before it (the engine's
  ``catch_up``), then takes a slot (the engine's kernels do this, with a heap of pool
  nodes and the accounting of each completion on top);
- counted: the same, without a branch on the times (how many finished, and where the new
  end goes, counted over all four slots);
- no slots: the loop without them, the floor of everything else;
- slot network: Kiefer-Wolfowitz, the four free times kept sorted by a min/max network,
  a request starting at max(arrival, earliest free time) and counted when it starts:
  nothing is completed one by one, and no seq breaks ties;
- network + seq: the same network over (time, seq) pairs, as exact ties need.

The loop runs without numba's reference counting, as the engine's kernels do. What
completing one by one costs against a network is the question the issue 12 notes in
benchmarks/RESULTS.md read from it.
"""

from __future__ import annotations

import argparse
import math
import time

import numba
import numpy as np

from fastdeploy.rules import arrivals, distributions, histogram, rng
from fastdeploy.rules import server as srv

T0 = np.array([0.0])
RATE = np.array([100.0])
SLOPE = np.array([0.0])
MEAN_S = 0.1
SLOTS = 4
BLOCK = 256
COMPLETIONS, NO_SLOTS, NETWORK, COUNTED, NETWORK_SEQ = 0, 1, 2, 3, 4


def arrays(n_servers):
    """The loop's arrays, made here: the loop runs without reference counting, as the
    engine's kernels do (an array view would otherwise cost two atomic operations)."""
    return (np.full((n_servers, SLOTS), -1, np.int64),  # done: -1 is free
            np.zeros((n_servers, SLOTS), np.int64),  # seqs
            np.zeros(n_servers, np.int64),  # busy
            np.zeros(histogram.N_BUCKETS, np.int64),  # hist
            np.zeros(BLOCK), np.zeros(BLOCK), np.zeros(BLOCK),  # work_u, work_core, areas
            np.zeros(BLOCK, np.int64), np.zeros(BLOCK, np.int64))  # times, check


@numba.njit(_nrt=False)
def run(n, key, mode, arrs):
    done, seqs, busy, hist, work_u, work_core, areas, times, check = arrs
    n_servers = busy.shape[0]
    prev = np.int64(0)
    hint = 0
    seq = np.int64(0)
    lat_sum = lat_max = completed = queued = 0
    lat_min = -1
    for k in range(n):
        j = k & (BLOCK - 1)
        if j == 0:
            for i in range(BLOCK):
                work_u[i] = rng.uniform(key, 2 * (k + i))
                work_core[i] = distributions.exponential_core(work_u[i])
                areas[i] = arrivals.poisson_area(rng.uniform(key + np.uint64(1), k + i))
            _, hint = arrivals.arrivals_ahead(T0, RATE, SLOPE, 1, hint, prev, areas, BLOCK,
                                              times, check)
            prev = times[BLOCK - 1]
        t = times[j]
        arrival_seq = seq
        seq += 1
        s = k % n_servers
        service = srv.service_ns_at(distributions.EXPONENTIAL, MEAN_S, 0.0, work_u[j],
                                    work_core[j])
        row = done[s]
        srow = seqs[s]
        if mode == COMPLETIONS:
            while busy[s] > 0 and (row[0] < t or (row[0] == t and srow[0] < arrival_seq)):
                completed += 1
                busy[s] -= 1
                for i in range(busy[s]):
                    row[i] = row[i + 1]
                    srow[i] = srow[i + 1]
            if busy[s] == SLOTS:
                queued += 1
                continue
            end = t + service
            i = busy[s]
            while i > 0 and (row[i - 1] > end or (row[i - 1] == end and srow[i - 1] > seq)):
                row[i] = row[i - 1]
                srow[i] = srow[i - 1]
                i -= 1
            row[i] = end
            srow[i] = seq
            busy[s] += 1
            lat = service
        elif mode == COUNTED:
            # The same slots, without a branch on the times: how many finished before
            # (t, seq), then where the new end goes, each counted over all SLOTS.
            b = busy[s]
            m = 0
            for i in range(SLOTS):
                m += (i < b) & ((row[i] < t) | ((row[i] == t) & (srow[i] < arrival_seq)))
            completed += m
            for i in range(SLOTS - 1):
                src = min(i + m, SLOTS - 1)
                row[i] = row[src]
                srow[i] = srow[src]
            b -= m
            if b == SLOTS:
                busy[s] = b
                queued += 1
                continue
            end = t + service
            p = 0
            for i in range(SLOTS):
                p += (i < b) & ((row[i] < end) | ((row[i] == end) & (srow[i] < seq)))
            for i in range(SLOTS - 1, 0, -1):
                shift = i > p
                row[i] = row[i - 1] if shift else row[i]
                srow[i] = srow[i - 1] if shift else srow[i]
            row[p] = end
            srow[p] = seq
            busy[s] = b + 1
            lat = service
        elif mode == NETWORK_SEQ:
            start = max(t, row[0])
            queued += start > t
            x = start + service
            xs = seq
            lat = x - t
            for i in range(1, SLOTS):
                a = row[i]
                aq = srow[i]
                lt = (a < x) | ((a == x) & (aq < xs))
                row[i - 1] = a if lt else x
                srow[i - 1] = aq if lt else xs
                x = x if lt else a
                xs = xs if lt else aq
            row[SLOTS - 1] = x
            srow[SLOTS - 1] = xs
        elif mode == NO_SLOTS:
            lat = service
        else:
            start = max(t, row[0])
            queued += start > t
            x = start + service
            lat = x - t
            for i in range(1, SLOTS):
                a = row[i]
                row[i - 1] = min(a, x)
                x = max(a, x)
            row[SLOTS - 1] = x
        seq += 1
        hist[histogram.bucket_of(lat)] += 1
        lat_sum += lat
        lat_min = lat if lat_min < 0 or lat < lat_min else lat_min
        lat_max = max(lat, lat_max)
    return completed + queued + lat_sum + lat_min + lat_max


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=20_000_000)
    ap.add_argument("--servers", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    key = np.uint64(99)
    for label, mode in (("completions", COMPLETIONS), ("counted", COUNTED),
                        ("no slots", NO_SLOTS), ("slot network", NETWORK),
                        ("network + seq", NETWORK_SEQ)):
        run(BLOCK, key, mode, arrays(args.servers))  # compile
        best = math.inf
        for _ in range(args.repeats):
            arrs = arrays(args.servers)
            t = time.perf_counter()
            run(args.requests, key, mode, arrs)
            best = min(best, time.perf_counter() - t)
        ns = best / args.requests * 1e9
        print(f"{label:14s} {ns:6.2f} ns per request  ({1e3 / ns:6.1f} M requests/s)")


if __name__ == "__main__":
    main()
