"""A check, not part of fastdeploy: whether a request path without a global seq can keep
SPEC's (time, seq) order exactly where it decides an outcome, for issue 12's event-free
design.

    python benchmarks/proto_ties.py [--horizon 2] [--configs 0] [--no-memo | --ranks]

The scenarios make ties the rule, not the exception: evenly spaced arrivals (a source
with poisson = false), constant service times, round robin over a fixed fleet of FIFO
servers with c slots and a bounded queue. An arrival that falls on the instant a slot
frees is started, queued or rejected depending on which of the two events SPEC orders
first, and a request that queues starts when an earlier completion frees a slot, so its
own completion's seq is only known then.

The prototype serves each server by the Kiefer-Wolfowitz recursion (a queued request's
start is the earliest completion among the server's slots, known when it arrives) and
keeps no seq at all. It orders two events at the same instant by where each was
scheduled: an event's seq is taken while its origin is processed, so seq(E1) < seq(E2)
exactly when E1's origin is processed before E2's (or they share it and E1 was scheduled
first there), and processing follows (time, seq): a comparison that recurses only while
the instants are equal. Origins in these scenarios: an arrival's is the source's previous
arrival (after that arrival's own start: accept runs before the next arrival is
scheduled); a completion's is the arrival that started it at once, or the completion that
freed its slot when it started from the queue. Two chains of events in lockstep make the
comparison recurse back to the replica's start, so by default each comparison is
remembered; ``--ranks`` instead gives every event a rank within its instant once all of
that instant's events are known (RankedReplica), the form the kernels could keep: no
recursion and no history.

Prints, for every configuration of the grid (one source's spacing, a second source's or
none, service time, servers, slots, queue capacity), whether the prototype's created,
completed and rejected counts and latency mean and maximum equal the batch engine's, how
many admissions fell on an instant a slot freed, and how deep the comparisons went.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile

import numpy as np

from fastdeploy.rules import arrivals
from fastdeploy.scenario import load

SCENARIO = """
name = "ties"
[simulation]
end_time = {horizon}
seed = 0
[templates.web]
concurrency = {slots}
queue_capacity = {capacity}
service_time = {{ kind = "constant", latency = {service} }}
[[load_balancers]]
name = "lb"
strategy = "round_robin"
backends = [{{ template = "web", count = {servers}, prefix = "server_" }}]
[[sources]]
name = "traffic"
target = "lb"
poisson = false
profile = {{ kind = "constant", rate = {rate} }}
{second}"""

SECOND = """[[sources]]
name = "other"
target = "lb"
poisson = false
profile = {{ kind = "constant", rate = {rate} }}
"""


class Replica:
    """One replica of a configuration, served without seq."""

    def __init__(self, rates, service_ns, servers, slots, capacity, end_ns, memo=True):
        self.service_ns, self.servers, self.slots = service_ns, servers, slots
        # Two chains of events at equal instants (a source's arrivals and a slot's queued
        # completions in lockstep) make the comparison recurse back to the replica's
        # start; remembering each comparison made cuts that to the one before.
        self.memo = {} if memo else None
        self.deepest = 0  # the most comparisons one comparison made anew
        self.capacity, self.end_ns = capacity, end_ns
        self.times = []  # per source: its arrivals' instants (ns)
        for rate in rates:
            t0, a, slope = np.zeros(1), np.full(1, rate), np.zeros(1)
            prev, hint, times = 0, 0, []
            while True:
                t, hint = arrivals.next_arrival_ns(t0, a, slope, 1, hint, prev, 1.0)
                if t < 0 or t > end_ns:
                    break
                prev = t
                times.append(t)
            self.times.append(times)
        self.made_by = []  # by request index: its arrival event
        self.server_of = []  # by request index: the server it was routed to
        self.done = []  # ns, by request index (-1: rejected)
        self.origin = []  # -1: started at its arrival; else the request whose slot it took
        self.ties = 0

    # -- SPEC's order without seq ------------------------------------------------------
    # Events: ("A", source, i), a source's i-th arrival; ("C", k), request k's completion.

    def time(self, event):
        return self.times[event[1]][event[2]] if event[0] == "A" else self.done[event[1]]

    def origin_of(self, event):
        """(origin event, the event's position among those scheduled there), or
        (None, source) for a source's first arrival (scheduled at the replica's start,
        before everything else, in source order)."""
        if event[0] == "A":
            _, src, i = event
            return (("A", src, i - 1), 1) if i > 0 else (None, src)
        k = event[1]
        if self.origin[k] < 0:
            return self.made_by[k], 0
        return ("C", self.origin[k]), 0

    def seq_before(self, e1, e2, depth=1):
        """seq(e1) < seq(e2). ``depth``: how many comparisons down this one is."""
        if self.memo is not None and (e1, e2) in self.memo:
            return self.memo[e1, e2]
        self.deepest = max(self.deepest, depth)
        (o1, i1), (o2, i2) = self.origin_of(e1), self.origin_of(e2)
        if o1 is None or o2 is None:
            before = o2 is not None or (o1 is None and i1 < i2)
        elif o1 == o2:
            before = i1 < i2
        else:
            before = self.processed_before(o1, o2, depth)
        if self.memo is not None:
            self.memo[e1, e2] = before
        return before

    def processed_before(self, e1, e2, depth=0):
        """e1 precedes e2 in (time, seq) order."""
        t1, t2 = self.time(e1), self.time(e2)
        if t1 != t2:
            return t1 < t2
        return self.seq_before(e1, e2, depth + 1)

    def started_before(self, x, event):
        """Request x, admitted, started before ``event`` was processed."""
        return self.origin[x] < 0 or self.processed_before(("C", self.origin[x]), event)

    def set_done(self, k, done):
        self.done[k] = done

    def queue(self, k, s, last):
        """Request k waits at server s (``last``: each slot's last request): Kiefer-Wolfowitz,
        the slot whose last completion is processed first."""
        m = 0
        for i in range(1, self.slots):
            if self.processed_before(("C", last[i]), ("C", last[m])):
                m = i
        w = last[m]
        self.origin[k] = w
        self.set_done(k, self.done[w] + self.service_ns)
        last[m] = k

    # -- the servers -----------------------------------------------------------------------

    def run(self):
        pending = [[] for _ in range(self.servers)]  # admitted, not yet completed
        last = [[] for _ in range(self.servers)]  # each slot's last request
        rejected = 0
        heads = [0] * len(self.times)
        k = -1
        while True:
            # The next arrival in (time, seq) order across the sources.
            now = None
            for src, i in enumerate(heads):
                if i < len(self.times[src]):
                    e = ("A", src, i)
                    if now is None or self.processed_before(e, now):
                        now = e
            if now is None:
                break
            heads[now[1]] += 1
            k += 1
            a = self.time(now)
            s = k % self.servers
            self.made_by.append(now)
            self.server_of.append(s)
            self.done.append(-1)
            self.origin.append(-1)
            if any(self.time(("C", x)) == a for x in pending[s]):
                self.ties += 1
            pending[s] = [x for x in pending[s]
                          if not self.processed_before(("C", x), now)]
            busy = sum(1 for x in pending[s] if self.started_before(x, now))
            queued = len(pending[s]) - busy
            free = [m for m, x in enumerate(last[s])
                    if self.processed_before(("C", x), now)]
            if busy < self.slots:
                # A free slot: an unused one, or one whose last request completed before.
                m = len(last[s]) if len(last[s]) < self.slots else free[0]
                self.set_done(k, a + self.service_ns)
                if m == len(last[s]):
                    last[s].append(k)
                else:
                    last[s][m] = k
            elif 0 <= self.capacity <= queued:
                rejected += 1
                continue
            else:
                self.queue(k, s, last[s])
            pending[s].append(k)
        served = [k for k in range(len(self.made_by)) if 0 <= self.done[k] <= self.end_ns]
        latencies = [self.done[k] - self.time(self.made_by[k]) for k in served]
        return {"created": len(self.made_by), "completed": len(served),
                "rejected": rejected, "latency_sum_ns": sum(latencies),
                "latency_max_ns": max(latencies, default=0)}


class RankedReplica(Replica):
    """The same order from a rank per event, given when its instant's order is settled,
    instead of comparisons that recurse: an event's key is (its origin's instant, its
    origin's rank there, its position among the events its origin scheduled), and the
    events of one instant, once all are known, are ranked by key. An instant is settled
    when the requests reach it (every completion at it is known by then: service times
    are above 0 here) or when a later instant's keys need it.

    A request that queues is never compared with a future completion: it takes the
    earliest free time among its server's slots (which slot does not matter, only the
    multiset of free times), and which completion at S starts it is matched once S is
    settled (``match``)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.at = {}  # instant -> its events
        for src, times in enumerate(self.times):
            for i, t in enumerate(times):
                self.at.setdefault(t, []).append(("A", src, i))
        self.rank = {}  # event -> its place in its instant's order
        self.waits = {}  # request -> (S, s) when it starts from the queue at S
        self.starting = {}  # (s, S) -> requests that start from the queue at S, in order
        self.started_by = {}  # request -> the completion that started it (once matched)

    def set_done(self, k, done):
        # An instant is settled only once all its events are known.
        assert ("settled", done) not in self.rank, "an event joined a settled instant"
        self.done[k] = done
        self.at.setdefault(done, []).append(("C", k))

    def settle(self, t):
        if ("settled", t) in self.rank:
            return
        events = sorted(self.at.get(t, ()), key=self.key)
        for r, e in enumerate(events):
            self.rank[e] = r
        self.rank["settled", t] = True

    def key(self, event):
        origin, index = self.origin_of(event)
        if origin is None:
            return (-1, index, 0)
        t = self.time(origin)
        self.settle(t)
        return (t, self.rank[origin], index)

    def origin_of(self, event):
        if event[0] == "C" and event[1] in self.waits:
            start, s = self.waits[event[1]]
            if event[1] not in self.started_by:
                self.match(s, start)
            return self.started_by[event[1]], 0
        return super().origin_of(event)

    def match(self, s, start):
        """Which completion of server s at instant ``start`` starts each request that
        starts there from the queue: in the instant's order, a completion starts the
        queue's head if it was queued before (free slots are used at once)."""
        self.settle(start)
        freed = sorted((e for e in self.at[start] if e[0] == "C"
                        and self.server_of[e[1]] == s), key=self.rank.get)
        waiting = iter(self.starting[s, start])
        k = next(waiting, None)
        for c in freed:
            if k is None:
                break
            arrival = self.made_by[k]
            if self.time(arrival) < start or self.rank[arrival] < self.rank[c]:
                self.started_by[k] = c
                k = next(waiting, None)

    def processed_before(self, e1, e2, depth=0):
        t1, t2 = self.time(e1), self.time(e2)
        if t1 != t2:
            return t1 < t2
        self.settle(t1)
        return self.rank[e1] < self.rank[e2]

    def started_before(self, x, event):
        if x not in self.waits:
            return True
        start = self.waits[x][0]
        t = self.time(event)
        if start != t:
            return start < t
        return self.processed_before(self.origin_of(("C", x))[0], event)

    def queue(self, k, s, last):
        m = min(range(self.slots), key=lambda i: self.done[last[i]])
        start = self.done[last[m]]
        self.starting.setdefault((s, start), []).append(k)
        self.waits[k] = (start, s)
        self.origin[k] = last[m]
        self.set_done(k, start + self.service_ns)
        last[m] = k


def engine(config, horizon):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "scenario.toml")
        with open(path, "w") as f:
            second = SECOND.format(rate=config["second"]) if config["second"] else ""
            f.write(SCENARIO.format(**dict(config, horizon=horizon, second=second)))
        table = load(path).build(0).run_batch(1, threads=1).table
    row = {name: table.column(name)[0].as_py() for name in table.column_names}
    return row


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--horizon", type=float, default=2.0)
    p.add_argument("--configs", type=int, default=0, help="only the first N (0: all)")
    p.add_argument("--no-memo", action="store_true",
                   help="compare without remembering earlier comparisons")
    p.add_argument("--ranks", action="store_true",
                   help="order by ranks given per instant (RankedReplica) instead")
    args = p.parse_args(argv)
    grid = [dict(rate=rate, second=second, service=service, servers=servers, slots=slots,
                 capacity=cap)
            for rate, second, service, servers, slots, cap in itertools.product(
                (100, 200, 400), (0, 20, 50), (0.01, 0.02, 0.025, 0.03), (1, 2, 3), (1, 2),
                (0, 1, 3))]
    if args.configs:
        grid = grid[:args.configs]
    end_ns = int(round(args.horizon * 1e9))
    same_all, ties_all, deepest = 0, 0, 0
    for config in grid:
        rates = [config["rate"]] + ([config["second"]] if config["second"] else [])
        replica = (RankedReplica if args.ranks else Replica)(
                          rates, int(round(config["service"] * 1e9)),
                          config["servers"], config["slots"], config["capacity"], end_ns,
                          memo=not args.no_memo)
        mine = replica.run()
        row = engine(config, args.horizon)
        n = row["requests_completed"]
        theirs = {"created": row["requests_created"], "completed": n,
                  "rejected": row["requests_rejected"],
                  "latency_mean": row["latency_mean"], "latency_max": row["latency_max"]}
        ours = {"created": mine["created"], "completed": mine["completed"],
                "rejected": mine["rejected"],
                "latency_mean": mine["latency_sum_ns"] / n / 1e9 if n else theirs[
                    "latency_mean"],
                "latency_max": mine["latency_max_ns"] / 1e9 if n else theirs["latency_max"]}
        same = ours == theirs
        same_all += same
        ties_all += replica.ties
        deepest = max(deepest, replica.deepest)
        depth = "" if args.ranks else f", comparisons {replica.deepest} deep"
        print(f"{config}: {replica.ties} ties{depth}; {'identical' if same else 'DIFFERENT'}"
              + ("" if same else f"\n  engine {theirs}\n  proto  {ours}"), flush=True)
    depth = " (ranks per instant)" if args.ranks else f"; comparisons at most {deepest} deep"
    print(f"{same_all} of {len(grid)} configurations identical; {ties_all} admissions at "
          f"an instant a slot freed{depth}")
    return 0 if same_all == len(grid) else 1


if __name__ == "__main__":
    sys.exit(main())
