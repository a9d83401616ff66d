"""A measurement, not part of fastdeploy: how fast a request path without heap events runs
in numba on fastdeploy's own random numbers, and whether it gives the batch engine's
results exactly.

    python benchmarks/proto_event_free.py [--replicas 2000] [--servers 8] [--rate 160]
        [--concurrency 4] [--mean 0.1] [--horizon 600] [--rounds 3]

The scenario: one Poisson source at a constant rate, a round-robin load balancer over a
fixed fleet of FIFO servers with c slots and exponential service, no controller. Between
two control events every scenario's request path looks like this one (issue 12), so this
bounds what an event-free path gains on the part the engine spends most of its time in.

The prototype draws the same arrivals (rules/arrivals.py, the source's stream; areas 256
ahead as kernels/sources.py does), the same work (the requests' stream; 256 ahead as
kernels/servers.py fill_work does), routes by the same round robin (rules/routing.py) and
serves each server by the Kiefer-Wolfowitz recursion: a request starts at the later of
its arrival and its server's earliest free slot, and its completion replaces that slot.
It calls the shared rules for everything but that recursion, which it writes out (the
engine keeps a slot heap and events instead). It counts the arrivals that fall exactly on
a slot's free time (ties): with an unbounded queue and no controller their order changes
no result, so here they are only counted.

Prints, per round, requests/s per thread of the batch engine (warm) and of the prototype,
and checks that every replica's completed count, mean, max and p50/p99 latency are
identical.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import numba
import numpy as np

from fastdeploy.rules import arrivals, distributions, histogram, requests, rng, routing
from fastdeploy.rules import server as srv
from fastdeploy.scenario import load

SCENARIO = """
name = "event-free-probe"
[simulation]
end_time = {horizon}
seed = 0
[templates.web]
concurrency = {concurrency}
service_time = {{ kind = "exponential", mean_latency = {mean} }}
[[load_balancers]]
name = "lb"
strategy = "round_robin"
backends = [{{ template = "web", count = {servers}, prefix = "server_" }}]
[[sources]]
name = "traffic"
target = "lb"
poisson = true
profile = {{ kind = "constant", rate = {rate} }}
"""

AHEAD = 256
QUANTILES = np.array([0.5, 0.99])


@numba.njit(cache=False, nogil=True)
def run(req_keys, src_keys, rate, mean, n_servers, c, end_ns, out, hist):
    """out[j]: requests created, completed, latency sum, min, max, ties, p50, p99 (ns)."""
    t0 = np.zeros(1)
    a = np.full(1, rate)
    slope = np.zeros(1)
    free = np.zeros((n_servers, c), np.int64)
    areas = np.empty(AHEAD)
    work_u = np.empty(AHEAD)
    work_core = np.empty(AHEAD)
    for j in range(req_keys.shape[0]):
        free[:, :] = 0
        hist[:] = 0
        rec = np.zeros(requests.FIELDS, np.int64)
        rec[requests.LATENCY_MIN_NS] = -1
        key_req = req_keys[j]
        key_src = src_keys[j]
        prev = np.int64(0)
        hint = 0
        d = 0
        rr = 0
        ties = 0
        while True:
            if d & (AHEAD - 1) == 0:
                for i in range(AHEAD):
                    areas[i] = arrivals.poisson_area(rng.uniform(key_src, d + i))
            area = areas[d & (AHEAD - 1)]
            d += 1
            t, hint = arrivals.next_arrival_ns(t0, a, slope, 1, hint, prev, area)
            if t < 0 or t > end_ns:
                break
            prev = t
            k = requests.created(rec)
            s = routing.round_robin_pick(rr, n_servers)
            rr += 1
            if k & (AHEAD - 1) == 0:
                for i in range(AHEAD):
                    uu = rng.item_uniform(key_req, k + i, rng.WORK_DRAW)
                    work_u[i] = uu
                    work_core[i] = distributions.exponential_core(uu)
            service = srv.service_ns_at(distributions.EXPONENTIAL, mean, 0.0,
                                        work_u[k & (AHEAD - 1)], work_core[k & (AHEAD - 1)])
            row = free[s]
            m = 0
            for i in range(1, c):
                m = i if row[i] < row[m] else m
            f = row[m]
            ties += f == t
            done = max(t, f) + service
            row[m] = done
            if done <= end_ns:
                requests.completed(rec, hist, done - t, 0)
        n = rec[requests.COMPLETED]
        lo, hi = rec[requests.LATENCY_MIN_NS], rec[requests.LATENCY_MAX_NS]
        out[j, 0] = rec[requests.CREATED]
        out[j, 1] = n
        out[j, 2] = rec[requests.LATENCY_SUM_NS]
        out[j, 3] = lo
        out[j, 4] = hi
        out[j, 5] = ties
        out[j, 6] = histogram.quantile_ns(hist, n, 0.5, lo, hi)
        out[j, 7] = histogram.quantile_ns(hist, n, 0.99, lo, hi)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--replicas", type=int, default=2000)
    p.add_argument("--servers", type=int, default=8)
    p.add_argument("--rate", type=float, default=160.0)
    p.add_argument("--concurrency", type=int, default=4)
    p.add_argument("--mean", type=float, default=0.1)
    p.add_argument("--horizon", type=float, default=600.0)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "scenario.toml")
        with open(path, "w") as f:
            f.write(SCENARIO.format(**vars(args)))
        sim = load(path).build(0)
    R = args.replicas
    req_keys = np.array([rng.key_for(0, j, rng.REQUESTS_STREAM) for j in range(R)], np.uint64)
    src_keys = np.array([rng.key_for(0, j, rng.source_stream("traffic")) for j in range(R)],
                        np.uint64)
    out = np.zeros((R, 8), np.float64)
    hist = np.zeros(histogram.N_BUCKETS, np.int64)
    end_ns = int(round(args.horizon * 1e9))
    args_run = (req_keys, src_keys, args.rate, args.mean, args.servers, args.concurrency,
                end_ns, out, hist)
    run(req_keys[:2], src_keys[:2], *args_run[2:7], out[:2], hist)  # compile
    sim.run_batch(2, threads=1)
    for r in range(args.rounds):
        t = time.perf_counter()
        table = sim.run_batch(R, threads=1).table
        engine_s = time.perf_counter() - t
        t = time.perf_counter()
        run(*args_run)
        proto_s = time.perf_counter() - t
        created = int(out[:, 0].sum())
        same = (np.array_equal(table.column("requests_created").to_numpy(), out[:, 0])
                and np.array_equal(table.column("requests_completed").to_numpy(), out[:, 1]))
        n = out[:, 1]
        checks = {"latency_mean": out[:, 2] / n / 1e9, "latency_max": out[:, 4] / 1e9,
                  "latency_p50": out[:, 6] / 1e9, "latency_p99": out[:, 7] / 1e9}
        for name, mine in checks.items():
            same &= np.array_equal(table.column(name).to_numpy(), mine)
        print(f"round {r + 1}: engine {created / engine_s / 1e6:.2f} M/s, prototype "
              f"{created / proto_s / 1e6:.2f} M/s ({engine_s / proto_s:.2f}x); results "
              f"{'identical' if same else 'DIFFERENT'} over {R} replicas, "
              f"{int(out[:, 5].sum())} ties in {created} requests", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
