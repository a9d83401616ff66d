"""The shared rules against slow, obvious references (tests/naive.py), with Hypothesis.

Both engines call the same rule functions, so the engine agreement tests cannot catch a
bug inside one of them; these tests (and the hand-computed timelines) must. Each test
compares a function of fastdeploy.rules or the batch heap with an independent reference,
compiled or, under NUMBA_DISABLE_JIT=1, as plain Python.
"""

from __future__ import annotations

import math
import os
import sys
from fractions import Fraction

import numba
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from fastdeploy.batch import heap, schema
from fastdeploy.rules import (arrivals, canary, distributions, exact, fleet, histogram,
                              logarithm, requests, rng, routing)
from fastdeploy.rules import server
from fastdeploy.rules import scaling

sys.path.insert(0, os.path.dirname(__file__))
import naive  # noqa: E402

NO_JIT = os.environ.get("NUMBA_DISABLE_JIT") == "1"

# The first call of each function compiles it: no deadline.
FAST = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ========================================================================================
# Event heap
# ========================================================================================
#
# The adapter: the only code that knows how the heap is called and where its state
# lives. If the counters move (e.g. into a named bundle), change these functions only.
# heap.* are kernel functions without Python wrappers, so they are called from small
# jitted drivers (plain functions under NUMBA_DISABLE_JIT=1).


def new_heap(capacity):
    """An empty heap of ``capacity`` entries: (H, G)."""
    return np.zeros(3 * capacity, np.int64), np.zeros(schema.G_FIELDS, np.int64)


@numba.njit
def _push(H, G, t, kind, target, payload):
    heap.push(H, G, t, kind, target, payload)


@numba.njit
def _peek(H, G):
    return heap.peek(H, G)


@numba.njit
def _finish(H, G):
    heap.finish(H, G)


def heap_push(h, t, kind, target, payload):
    H, G = h
    _push(H, G, np.int64(t), np.int64(kind), np.int64(target), np.int64(payload))


def heap_peek(h):
    """(time, kind, target, payload) of the first event, as Python ints."""
    t, _seq, kind, target, payload = _peek(*h)
    return tuple(int(x) for x in (t, kind, target, payload))


def heap_finish(h):
    _finish(*h)


def heap_size(h):
    return int(h[1][schema.G_HN])


def heap_overflowed(h):
    return int(h[1][schema.G_OVERFLOW]) == schema.OVERFLOW_HEAP


# ----------------------------------------------------------------------------------------

times = st.one_of(st.integers(0, 20), st.integers(0, 2**62))
events = st.tuples(times, st.integers(0, 7), st.integers(0, 2**28 - 1),
                   st.integers(0, 2**31 - 1))
# An operation: ("push", event) outside a handler, or ("step", [events]): peek the first
# event, let its handler push those events (the first takes the top slot), finish.
operations = st.lists(st.one_of(st.tuples(st.just("push"), events),
                                st.tuples(st.just("step"), st.lists(events, max_size=4))),
                      max_size=60)


def run_both(capacity, ops):
    """Apply ops to the heap and to heapq; compare every popped event and the sizes."""
    h, ref = new_heap(capacity), naive.NaiveHeap(capacity)
    for op, arg in ops:
        if op == "push":
            heap_push(h, *arg)
            ref.push(*arg)
        elif len(ref):
            assert heap_peek(h) == ref.pop()
            for ev in arg:
                heap_push(h, *ev)
                ref.push(*ev)
            heap_finish(h)
        assert heap_size(h) == len(ref)
        assert heap_overflowed(h) == ref.overflowed
    while len(ref):  # drain
        assert heap_peek(h) == ref.pop()
        heap_finish(h)
    assert heap_size(h) == 0


@FAST
@given(ops=operations)
def test_heap_pops_in_heapq_order(ops):
    run_both(10_000, ops)


@FAST
@given(capacity=st.integers(1, 8), ops=operations)
def test_heap_overflow_drops_the_push_and_sets_the_flag(capacity, ops):
    run_both(capacity, ops)


@FEW
@given(ev=st.tuples(times, st.integers(0, 7), st.integers(0, 2**28 - 1),
                    st.integers(0, 2**31 - 1)))
@example(ev=(2**63 - 1, 7, 2**28 - 1, 2**31 - 1))
@example(ev=(0, 0, 0, 0))
def test_heap_packing_round_trips(ev):
    h = new_heap(2)
    heap_push(h, *ev)
    assert heap_peek(h) == ev


def test_heap_packing_round_trips_kinds_8_to_15():
    for kind in range(8, 16):
        h = new_heap(2)
        heap_push(h, 5, kind, 3, 4)
        assert heap_peek(h) == (5, kind, 3, 4)


def test_heap_replace_top_example():
    # Hand-checked: the handler of the first event pushes an earlier event than the rest.
    h = new_heap(4)
    for t in (10, 20, 30):
        heap_push(h, t, 1, t, 0)
    assert heap_peek(h) == (10, 1, 10, 0)
    heap_push(h, 25, 2, 0, 0)  # takes the top slot, sifts down below 20
    heap_push(h, 20, 3, 0, 0)  # a tie on time with an earlier push: after it
    heap_finish(h)
    popped = []
    while heap_size(h):
        popped.append(heap_peek(h))
        heap_finish(h)
    assert popped == [(20, 1, 20, 0), (20, 3, 0, 0), (25, 2, 0, 0), (30, 1, 30, 0)]
    assert heap_size(h) == 0


# ========================================================================================
# Arrivals
# ========================================================================================


@st.composite
def rate_profiles(draw):
    """(t0, a, slope) of 1..6 segments, strictly increasing starts, rates >= 0 at both
    ends of every segment, zero-rate and constant segments likely, the last constant."""
    n = draw(st.integers(1, 6))
    t0 = [draw(st.sampled_from([0.0, 0.0, 0.0, 1.5]))]
    for _ in range(n - 1):
        t0.append(t0[-1] + draw(st.floats(0.001, 40.0)))
    rate = st.one_of(st.just(0.0), st.floats(0.01, 1000.0), st.integers(1, 20).map(float))
    a, slope = [], []
    for i in range(n - 1):
        shape = draw(st.sampled_from(["zero", "constant", "ramp"]))
        start = 0.0 if shape == "zero" else draw(rate)
        end = draw(rate) if shape == "ramp" else start
        a.append(start)
        slope.append((end - start) / (t0[i + 1] - t0[i]))
    a.append(draw(rate))
    slope.append(0.0)
    return np.array(t0), np.array(a), np.array(slope)


# Areas are 1 (deterministic) or -log(1 - u) (Poisson). A zero area (u = 0 exactly) is
# left out: it gives t in a zero-rate segment but inf in a zero-rate last segment, an
# edge the description ("inf when the rate stays zero forever") leaves open.
areas = st.one_of(st.just(1.0), st.floats(1e-9, 30.0), st.floats(1e-6, 1e-2))


def bracket(t0, a, slope, start, area):
    """The reference's answer, as [earliest, latest] allowing for rounding of the
    integrated rate (tol) and of the time (eps); None if there is no arrival."""
    F = naive.integrated_rate
    base = F(t0, a, slope, start)
    tol = 1e-9 * (1.0 + base + area)
    level = base + area
    if a[-1] == 0.0:
        total = F(t0, a, slope, max(start, t0[-1]))
        assume(abs(total - level) > tol)  # too close to call: reached just at the end?
        if total < level:
            return None
    lo = naive.first_time_reaching(t0, a, slope, start, level - tol)
    hi = naive.first_time_reaching(t0, a, slope, start, level + tol)
    return lo - 1e-9 * (1.0 + lo), hi + 1e-9 * (1.0 + hi)


@FAST
@given(prof=rate_profiles(), data=st.data(), area=areas)
def test_next_time_seconds_against_bisection(prof, data, area):
    t0, a, slope = prof
    n = len(t0)
    t = data.draw(st.one_of(st.sampled_from(list(t0)), st.floats(0.0, t0[-1] + 20.0)))
    results = {arrivals.next_time_seconds(t0, a, slope, n, hint, t, area)
               for hint in range(n)}
    assert len(results) == 1, f"the segment hint changed the answer: {results}"
    (got, seg), = results
    expected = bracket(t0, a, slope, max(t, t0[0]), area)
    if expected is None:
        assert got == math.inf and seg == n - 1
        return
    lo, hi = expected
    assert lo <= got <= hi, (got, lo, hi)
    assert t0[seg] <= got + 1e-9 * (1 + got)
    assert seg == n - 1 or got <= t0[seg + 1] + 1e-9 * (1 + got)


@FAST
@given(prof=rate_profiles(), data=st.data(), area=areas)
def test_next_arrival_ns_against_bisection(prof, data, area):
    t0, a, slope = prof
    n = len(t0)
    prev = data.draw(st.integers(0, int((t0[-1] + 20.0) * 1e9)))
    hint = data.draw(st.integers(0, n - 1))
    got, seg = arrivals.next_arrival_ns(t0, a, slope, n, hint, prev, area)
    assert 0 <= seg < n
    expected = bracket(t0, a, slope, max(prev / 1e9, t0[0]), area)
    if expected is None:
        assert got == -1
        return
    lo = max(prev + 1, naive.seconds_to_ns(expected[0]))
    hi = max(prev + 1, naive.seconds_to_ns(expected[1]))
    assert lo <= got <= hi, (got, lo, hi)


def test_next_time_seconds_examples():
    # Hand-computed: rate 2/s on [0, 1), ramp 0 -> 4 over [1, 3) (area 4), then 0.
    t0, a, slope = np.array([0.0, 1.0, 3.0]), np.array([2.0, 0.0, 0.0]), \
        np.array([0.0, 2.0, 0.0])
    f = arrivals.next_time_seconds
    assert f(t0, a, slope, 3, 0, 0.0, 1.0) == (0.5, 0)
    # 1.5 left after the first segment: (t - 1)^2 = 1.5 on the ramp.
    t, i = f(t0, a, slope, 3, 0, 0.25, 3.0)
    assert i == 1 and t == pytest.approx(1.0 + math.sqrt(1.5), rel=1e-14)
    assert f(t0, a, slope, 3, 2, 0.0, 6.5)[0] == math.inf  # only 6 in all
    assert f(t0, a, slope, 3, 0, 3.0, 1e-9)[0] == math.inf  # zero forever


# ========================================================================================
# Histogram
# ========================================================================================

EDGE_INT = [int(math.floor(e)) for e in histogram.EDGES]


def ref_bucket(lat):
    return naive.bucket_of(lat, histogram.EDGES, histogram.GROWTH, histogram.N_BUCKETS)


# Latencies on and beside the edges; edges from 2**52 up are integers, met exactly.
near_edges = st.builds(lambda b, d: EDGE_INT[b] + d,
                       st.integers(1, histogram.N_BUCKETS - 1), st.integers(-2, 2))
INTEGER_EDGES = [int(e) for e in histogram.EDGES[1:] if float(e).is_integer()]
on_integer_edges = st.builds(lambda e, d: e + d, st.sampled_from(INTEGER_EDGES),
                             st.integers(-1, 1))
latencies = st.one_of(st.integers(-5, 2**63 - 1), st.integers(-5, 2**53), near_edges,
                      on_integer_edges, st.integers(0, 3000))


@FAST
@given(lat=latencies)
@example(lat=0)
@example(lat=1)
@example(lat=INTEGER_EDGES[1])
@example(lat=INTEGER_EDGES[-1])
@example(lat=2**63 - 1)
def test_bucket_of_against_log_and_edges(lat):
    assert histogram.bucket_of(lat) == ref_bucket(lat)


def test_bucket_of_exact_just_below_large_edges():
    lat = 9160491796315439
    assert float(histogram.EDGES[1857]) == lat + 1
    assert histogram.bucket_of(lat) == ref_bucket(lat) == 1856


histograms = st.dictionaries(st.one_of(st.integers(0, histogram.N_BUCKETS - 2),
                                       st.integers(0, 12), st.integers(600, 620)),
                             st.integers(1, 4), min_size=1, max_size=8)
quantiles = st.one_of(st.sampled_from([0.0, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0]),
                      st.floats(0.0, 1.0))


@FAST
@given(buckets=histograms, q=quantiles, data=st.data())
def test_quantile_ns_nearest_rank(buckets, q, data):
    hist = np.zeros(histogram.N_BUCKETS, np.int64)
    for b, c in buckets.items():
        hist[b] = c
    count = int(hist.sum())
    # The exact min and max, as recorded: in the first and the last nonzero bucket.
    first, last = min(buckets), max(buckets)

    def inside(b):
        if b == 0:
            return 0
        return data.draw(st.integers(math.ceil(histogram.EDGES[b]),
                                     max(math.ceil(histogram.EDGES[b]),
                                         math.ceil(histogram.EDGES[b + 1]) - 1)))
    lo, hi = inside(first), inside(last)
    assume(lo <= hi)
    got = histogram.quantile_ns(hist, count, q, lo, hi)
    want = naive.quantile_ns(hist.tolist(), q, lo, hi, histogram.GROWTH)
    assert got == pytest.approx(want, rel=1e-12, abs=0.0)


@FAST
@given(events=st.lists(st.one_of(
    st.tuples(st.just("completed"), st.integers(0, 10**13), st.integers(0, 1)),
    st.tuples(st.just("created"), st.just(0), st.just(0)),
    st.tuples(st.just("rejected"), st.just(0), st.just(0))), max_size=40))
def test_requests_record_against_plain_counting(events):
    """rules/requests.py (a replica's request counters and latency record) against
    counting by hand, with the naive histogram bucket."""
    rec = np.zeros(requests.FIELDS, np.int64)
    hist = np.zeros(histogram.N_BUCKETS, np.int64)
    requests.reset(rec, hist)
    latencies, failures, created, rejected = [], 0, 0, 0
    for kind, latency, failed in events:
        if kind == "completed":
            requests.completed(rec, hist, latency, failed)
            latencies.append(latency)
            failures += failed
        elif kind == "created":
            assert requests.created(rec) == created
            created += 1
        else:
            requests.rejected(rec)
            rejected += 1
    want = np.zeros(histogram.N_BUCKETS, np.int64)
    for latency in latencies:
        want[ref_bucket(latency)] += 1
    assert rec[requests.CREATED] == created
    assert rec[requests.COMPLETED] == len(latencies)
    assert rec[requests.FAILED] == failures
    assert rec[requests.REJECTED] == rejected
    assert rec[requests.LATENCY_SUM_NS] == sum(latencies)
    assert rec[requests.LATENCY_MIN_NS] == (min(latencies) if latencies else -1)
    assert rec[requests.LATENCY_MAX_NS] == (max(latencies) if latencies else 0)
    assert np.array_equal(hist, want)


@FAST
@given(ops=st.lists(st.tuples(st.sampled_from(["arrive", "arrive", "finish", "start"]),
                              st.integers(0, 10**10)), min_size=4, max_size=40),
       concurrency=st.integers(1, 3), capacity=st.integers(-1, 3), data=st.data())
def test_server_integrals_against_step_functions(ops, concurrency, capacity, data):
    """rules/server.py's in-service and queued integrals (and the window means a
    controller observes from a mark) against integrating the counts' step functions by
    hand, over arrivals, completions and queue starts at random instants."""
    st_ = np.zeros(server.FIELDS, np.int64)
    fl = np.zeros(fleet.FIELDS, np.int64)
    server.reset(st_, concurrency, capacity, -1)
    now, busy, queued = 0, 0, 0
    steps = [(0, 0, 0)]  # (from, busy, queued): the step functions

    def integral(t, column):
        total = 0
        for (a, *counts), nxt in zip(steps, steps[1:] + [(t, 0, 0)]):
            total += counts[column] * max(0, min(nxt[0], t) - a)
        return total

    marks = np.zeros((1, 1, server.M_COLUMNS), np.int64)
    since = None
    for op, dt in ops:
        now += dt
        if since is None and data.draw(st.booleans()):
            since = now
            server.mark(st_, marks, 0, 0, now)
        if op == "arrive":
            action = server.arrive(st_, fl, True, now)
            busy += action == server.START
            queued += action == server.QUEUE
        elif op == "finish" and busy > 0:
            server.finished(st_, True, 5, 7, 0, now)
            busy -= 1
        elif op == "start":
            while server.start_next(st_, fl, True, now):
                busy, queued = busy + 1, queued - 1
        assert (st_[server.BUSY], st_[server.QUEUED]) == (busy, queued)
        steps.append((now, busy, queued))
    end = now + data.draw(st.integers(0, 10**10))
    assert tuple(server.integrals(st_, end)) == (integral(end, 0), integral(end, 1))
    if since is not None and end > since:
        util, depth, in_service = server.observe(st_, marks, 0, end, since, 0)
        span = end - since
        assert in_service == (integral(end, 0) - integral(since, 0)) / span
        assert depth == (integral(end, 1) - integral(since, 1)) / span
        assert util == in_service / concurrency


# ========================================================================================
# Random streams
# ========================================================================================

u64 = st.integers(0, 2**64 - 1)


def test_splitmix64_reference_vectors():
    # splitmix64.c seeded with 1234567 (Rosetta Code); checks the reference, then rng.
    g = naive.SplitMix64(1234567)
    want = [6457827717110365317, 3203168211198807973, 9817491932198370423,
            4593380528125082431, 16408922859458223821]
    assert [g.next() for _ in want] == want
    for n, x in enumerate(want):
        assert rng.uniform(np.uint64(1234567), np.int64(n)) == (x >> 11) / 2.0**53


def test_fnv1a_reference_vectors():
    for name, h in (("", 0xCBF29CE484222325), ("a", 0xAF63DC4C8601EC8C),
                    ("foobar", 0x85944171F73967E8)):
        assert naive.fnv1a_63(name) == h & (2**63 - 1) == rng.stream_id(name)


@FAST
@given(key=u64, n=st.integers(0, 200))
def test_uniform_is_splitmix64_stepped(key, n):
    assert rng.uniform(np.uint64(key), np.int64(n)) == naive.uniform(key, n)


@FAST
@given(key=u64, n=st.integers(0, 100))
def test_an_items_two_uniforms_are_draws_2n_and_2n_plus_1(key, n):
    k = np.uint64(key)
    assert rng.item_uniform(k, np.int64(n), rng.WORK_DRAW) == naive.uniform(key, 2 * n)
    assert rng.item_uniform(k, np.int64(n), rng.FAIL_DRAW) == naive.uniform(key, 2 * n + 1)


@FAST
@given(key=u64, n=st.integers(0, 2**62))
def test_uniform_far_draws(key, n):
    u = rng.uniform(np.uint64(key), np.int64(n))
    assert u == naive.uniform_far(key, n)
    assert 0.0 <= u < 1.0


@FAST
@given(seed=u64, replica=st.integers(0, 2**32), stream=st.integers(0, 2**63 - 1))
def test_stream_key(seed, replica, stream):
    got = rng.stream_key(np.uint64(seed), np.uint64(replica), np.uint64(stream))
    assert int(got) == naive.stream_key(seed, replica, stream)


@FEW
@given(name=st.text(max_size=20), seed=st.integers(0, 2**63 - 1), replica=st.integers(0, 999))
def test_key_for(name, seed, replica):
    assert int(rng.key_for(seed, replica, name)) == naive.stream_key(
        seed, replica, naive.fnv1a_63(name))


# ========================================================================================
# Distributions
# ========================================================================================

grid_uniforms = st.integers(0, 2**53 - 1).map(lambda k: k / 2.0**53)
probabilities = st.one_of(
    grid_uniforms.filter(lambda p: p > 0.0),
    st.floats(1e-300, 1.0, exclude_max=True),
    st.floats(1e-300, 1e-10),
    st.floats(-690.0, -0.01).map(math.exp),  # log-uniform over the lower tail
    st.floats(-36.0, -0.01).map(lambda x: 1.0 - math.exp(x)),  # and the upper one
    st.floats(0.0, 1e-6).map(lambda x: 1.0 - x).filter(lambda p: 0.0 < p < 1.0),
    st.floats(0.0, 1e-12).map(lambda x: 0.5 + x))


@FAST
@given(p=probabilities)
@example(p=0.5)
@example(p=0.075)  # the branch edges |p - 1/2| = 0.425
@example(p=0.925)
def test_normal_quantile_against_erf_bisection(p):
    got = distributions.normal_quantile(p)
    assert got == pytest.approx(naive.normal_quantile(p), rel=1e-12, abs=1e-300)


@FAST
@given(p=probabilities)
def test_normal_quantile_against_scipy(p):
    stats = pytest.importorskip("scipy.stats")
    got = distributions.normal_quantile(p)
    assert got == pytest.approx(float(stats.norm.ppf(p)), rel=1e-12, abs=1e-300)


def test_normal_quantile_at_zero():
    assert distributions.normal_quantile(0.0) == -math.inf
    assert -40.0 < distributions.normal_quantile(5e-324) < -38.0


dists = st.one_of(
    st.tuples(st.just(distributions.CONSTANT), st.floats(0.0, 100.0), st.just(0.0)),
    st.tuples(st.just(distributions.EXPONENTIAL), st.floats(1e-6, 100.0), st.just(0.0)),
    st.tuples(st.just(distributions.UNIFORM), st.floats(0.0, 50.0), st.floats(0.0, 50.0))
    .map(lambda ab: (ab[0], min(ab[1:]), max(ab[1:]))),
    st.tuples(st.just(distributions.LOGNORMAL), st.floats(1e-6, 100.0), st.floats(0.0, 3.0)))


@FAST
@given(dist=dists, u=grid_uniforms)
@example(dist=(distributions.LOGNORMAL, 0.1, 0.5), u=0.0)
@example(dist=(distributions.EXPONENTIAL, 0.1, 0.0), u=1.0 - 2.0**-53)
def test_sample_seconds_against_naive(dist, u):
    kind, a, b = dist
    got = distributions.sample_seconds(kind, a, b, u)
    assert got == pytest.approx(naive.sample_seconds(kind, a, b, u), rel=1e-11, abs=1e-300)


@FAST
@given(dist=dists, u=grid_uniforms)
def test_sample_seconds_against_scipy(dist, u):
    stats = pytest.importorskip("scipy.stats")
    kind, a, b = dist
    # scipy has no degenerate lognormal (s = 0) or uniform (scale = 0): the naive test has.
    assume(b > (a if kind == distributions.UNIFORM else 0.0)
           or kind in (distributions.CONSTANT, distributions.EXPONENTIAL))
    got = distributions.sample_seconds(kind, a, b, u)
    if kind == distributions.CONSTANT:
        want = a
    elif kind == distributions.EXPONENTIAL:
        want = stats.expon.ppf(u, scale=a)
    elif kind == distributions.UNIFORM:
        want = stats.uniform.ppf(u, loc=a, scale=b - a)
    else:
        # The mean parameterisation: the frozen scipy distribution must have mean a.
        frozen = stats.lognorm(s=b, scale=math.exp(math.log(a) - 0.5 * b * b))
        assert frozen.mean() == pytest.approx(a, rel=1e-12)
        want = frozen.ppf(u)
    assert got == pytest.approx(float(want), rel=1e-11, abs=1e-300)


def test_sample_seconds_lognormal_without_spread_at_zero():
    got = distributions.sample_seconds(distributions.LOGNORMAL, 1.0, 0.0, 0.0)
    assert got == naive.sample_seconds(distributions.LOGNORMAL, 1.0, 0.0, 0.0) == 1.0


@FEW
@given(u=grid_uniforms)
def test_poisson_area_is_exp1(u):
    assert arrivals.poisson_area(u) == pytest.approx(-math.log1p(-u), rel=1e-13, abs=0.0)


# ========================================================================================
# The logarithm of the draws
# ========================================================================================


def ulps_apart(a, b):
    """How many representable doubles lie between a and b (same sign)."""
    ia = np.float64(a).view(np.int64)
    ib = np.float64(b).view(np.int64)
    return abs(int(ia) - int(ib))


@FAST
@given(x=st.floats(min_value=2.0**-53, max_value=1.0))
@example(x=1.0)
@example(x=0.5)
@example(x=2.0**-53)
@example(x=math.sqrt(0.5))
@example(x=math.nextafter(math.sqrt(0.5), 0.0))
@example(x=1.0 - 2.0**-53)
def test_ln_is_within_one_ulp_of_the_c_library(x):
    assert ulps_apart(logarithm.ln(x), math.log(x)) <= 1


@FAST
@given(x=st.floats(min_value=2.0**-1022, max_value=2.0**1023))
def test_ln_over_every_normal_double(x):
    assert ulps_apart(logarithm.ln(x), math.log(x)) <= 1


def test_ln_exact_points():
    assert logarithm.ln(1.0) == 0.0
    assert logarithm.ln(0.5) == -math.log(2.0)
    assert logarithm.ln(2.0**-53) == -53 * math.log(2.0)
    assert logarithm.ln_one_minus(0.0) == 0.0


@pytest.mark.skipif(NO_JIT, reason="two million draws: compiled only")
def test_ln_rounds_to_the_same_nanoseconds_as_the_c_library():
    """Service times and arrival gaps are rounded to the ns: over two million uniforms of
    a stream, at three means, the C library's log and ours give the same ns."""
    flips, differ = ns_disagreements(rng.stream_key(np.uint64(7), np.uint64(0), np.uint64(1)),
                                     2_000_000)
    assert flips == 0
    assert differ > 0  # the two logs do differ in the last bit for some of them


@numba.njit
def ns_disagreements(key, n):
    flips = 0
    differ = 0
    for i in range(n):
        u = rng.uniform(key, i)
        a = math.log(1.0 - u)
        b = logarithm.ln_one_minus(u)
        differ += a != b
        for mean in (0.01, 0.1, 1.0):
            flips += math.floor(-mean * a * 1e9 + 0.5) != math.floor(-mean * b * 1e9 + 0.5)
    return flips, differ


# ========================================================================================
# Routing
# ========================================================================================


@FAST
@given(weights=st.lists(st.integers(0, 20), min_size=1, max_size=8), data=st.data())
def test_smooth_weighted_pick_is_nginx(weights, data):
    n = len(weights)
    zero_start = data.draw(st.booleans())
    cur0 = [0] * n if zero_start else data.draw(
        st.lists(st.integers(-50, 50), min_size=n, max_size=n))
    picks = data.draw(st.integers(1, 60))
    # Rows are wider than n: entries past n must be neither read nor written.
    w = np.array(weights + [999, 999], np.int64)
    cur = np.array(cur0 + [7, 7], np.int64)
    ref = naive.NginxSmoothWRR(weights, cur0)
    for _ in range(picks):
        assert routing.smooth_weighted_pick(w, cur, n) == ref.pick()
        assert cur[:n].tolist() == ref.current
    assert cur[n:].tolist() == [7, 7]


@FAST
@given(weights=st.lists(st.integers(0, 12), min_size=1, max_size=8))
def test_smooth_weighted_pick_full_cycle_gives_each_its_weight(weights):
    assume(sum(weights) > 0)
    w, cur = np.array(weights, np.int64), np.zeros(len(weights), np.int64)
    counts = [0] * len(weights)
    for _ in range(sum(weights)):
        counts[routing.smooth_weighted_pick(w, cur, len(weights))] += 1
    assert counts == weights
    assert cur.tolist() == [0] * len(weights)  # a cycle ends where it started


def test_smooth_weighted_pick_nginx_example():
    # nginx's commit message: weights {a: 5, b: 1, c: 1} give a a b a c a a.
    w, cur = np.array([5, 1, 1], np.int64), np.zeros(3, np.int64)
    assert [routing.smooth_weighted_pick(w, cur, 3) for _ in range(7)] == [0, 0, 1, 0, 2, 0, 0]


@FAST
@given(u=st.one_of(grid_uniforms, st.floats(0.0, 1.0, exclude_max=True)),
       n=st.one_of(st.integers(1, 10), st.integers(1, 2**40)))
@example(u=1.0 - 2.0**-53, n=3)
def test_index_from_uniform(u, n):
    got = routing.index_from_uniform(u, n)
    want = naive.index_from_uniform(u, n)
    assert 0 <= got < n
    # floor(u n) exactly, or the next index when u n rounds up onto it.
    assert got == want or (got == want + 1 and want + 1 - Fraction(u) * n <= Fraction(n, 2**53))


# ========================================================================================
# Scaling
# ========================================================================================

EPS = exact.EPS
decimals = st.integers(0, 200).map(lambda k: k / 100)  # 0.0, 0.01, ... 2.0: exact-looking
utils = st.one_of(decimals, st.floats(0.0, 2.0))
bounds = st.tuples(st.integers(0, 50), st.integers(0, 150)).map(
    lambda lh: (min(lh), max(lh)))


@FAST
@given(x=st.one_of(st.floats(-1e6, 1e6),
                   st.builds(lambda k, d: k + d, st.integers(-1000, 1000),
                             st.sampled_from([0.0, 1e-12, -1e-12, 2e-9, -2e-9, 1e-6]))))
@example(x=3 * 0.9 / 0.3)
@example(x=0.55 * 20)
def test_ceil_exact(x):
    assert exact.ceil_exact(x) == naive.ceil_exact(Fraction(x), EPS)


@FAST
@given(n_backends=st.integers(0, 3), util=utils, current=st.integers(0, 100),
       target=st.one_of(decimals.filter(lambda t: t > 0), st.floats(0.05, 1.0)),
       tolerance=st.one_of(st.sampled_from([0.0, 0.1, 0.2]), st.floats(0.0, 0.5)),
       lohi=bounds, edge=st.sampled_from([None, None, 1.0, -1.0]))
@example(n_backends=3, util=0.9, current=3, target=0.3, tolerance=0.1, lohi=(1, 20), edge=None)
@example(n_backends=3, util=0.66, current=10, target=0.6, tolerance=0.1, lohi=(1, 20), edge=None)
@example(n_backends=3, util=0.54, current=10, target=0.6, tolerance=0.1, lohi=(1, 20), edge=None)
@example(n_backends=3, util=0.6, current=10, target=0.5, tolerance=0.2, lohi=(1, 20), edge=None)
@example(n_backends=3, util=0.7, current=10, target=0.5, tolerance=0.4, lohi=(1, 20), edge=None)
def test_target_utilization_desired(n_backends, util, current, target, tolerance, lohi,
                                    edge):
    lo, hi = lohi
    if edge is not None:  # util on the band's edge, as a decimal puts it (0.66 / 0.6)
        util = round(target * (1.0 + edge * tolerance), 6)
    got = scaling.target_utilization_desired(n_backends, util, current, target, tolerance,
                                             lo, hi)
    assert got == naive.target_utilization_desired(n_backends, util, current, target,
                                                   tolerance, lo, hi, EPS)


@FAST
@given(steps=st.lists(st.tuples(st.one_of(decimals, st.floats(0.0, 1.5)),
                                st.integers(-5, 5)), max_size=5),
       util=utils, current=st.integers(0, 100), lohi=bounds)
def test_step_scaling_desired(steps, util, current, lohi):
    steps = sorted(steps, key=lambda s: -s[0])  # highest threshold first, as lowered
    thr = np.array([s[0] for s in steps], np.float64)
    adj = np.array([s[1] for s in steps], np.int64)
    lo, hi = lohi
    got = scaling.step_scaling_desired(thr, adj, util, current, lo, hi)
    assert got == naive.step_scaling_desired(thr.tolist(), adj.tolist(), util, current,
                                             lo, hi, EPS)


@FAST
@given(depth=st.integers(0, 200), current=st.integers(0, 100),
       out_thr=st.integers(0, 200), in_thr=st.integers(0, 200), lohi=bounds)
def test_queue_depth_desired(depth, current, out_thr, in_thr, lohi):
    lo, hi = lohi
    got = scaling.queue_depth_desired(depth, current, out_thr, in_thr, lo, hi)
    assert got == naive.queue_depth_desired(depth, current, out_thr, in_thr, lo, hi)


@FAST
@given(now=st.integers(0, 2**61), last=st.one_of(st.just(-1), st.integers(0, 2**61)),
       cooldown=st.one_of(st.just(0), st.integers(0, 10**12)), data=st.data())
def test_in_cooldown(now, last, cooldown, data):
    if data.draw(st.booleans()) and last >= 0:  # land on the boundary
        now = last + cooldown + data.draw(st.integers(-1, 1))
    got = scaling.in_cooldown(now, last, cooldown)
    assert bool(got) == naive.in_cooldown(now, last, cooldown)


# ========================================================================================
# Canary
# ========================================================================================

fractions_ = st.one_of(decimals.filter(lambda f: f <= 1.0), st.floats(0.0, 1.0),
                       st.sampled_from([1 / 3, 2 / 3, 1 / 7, 0.05, 1.0]))


@FAST
@given(fraction=fractions_, start=st.one_of(st.just(0), st.integers(0, 2**40)),
       n=st.integers(0, 120))
def test_split_to_canary_prefix_counts(fraction, start, n):
    """Of requests start .. start+k-1, floor((start + k) f) - floor(start f) go to the
    canary (as Python computes the products): from 0, exactly floor(k f) of every prefix."""
    to_canary = 0
    for k in range(n + 1):
        assert to_canary == math.floor((start + k) * fraction) - math.floor(start * fraction)
        if k < n:
            to_canary += bool(canary.split_to_canary(start + k, fraction))


@FAST
@given(fraction=fractions_, n=st.integers(0, 1000))
@example(fraction=0.55, n=20)
@example(fraction=0.1, n=30)
def test_canary_group_size(fraction, n):
    assert canary.canary_group_size(fraction, n) == naive.canary_group_size(fraction, n, EPS)


counts = st.one_of(st.integers(0, 20), st.integers(0, 2**40))


@FAST
@given(failures=counts, rejected=counts, completed=counts)
def test_error_rate(failures, rejected, completed):
    assert canary.error_rate(failures, rejected, completed) == naive.error_rate(
        failures, rejected, completed)


@FAST
@given(total=st.integers(0, 2**62), completed=st.integers(-1, 2**40))
def test_mean_latency_seconds(total, completed):
    assert canary.mean_latency_seconds(total, completed) == pytest.approx(
        naive.mean_latency_seconds(total, completed), rel=1e-15, abs=0.0)


values = st.one_of(decimals, st.floats(0.0, 10.0))


@FAST
@given(c=values, b=st.one_of(st.just(0.0), values), limit=values,
       mult=st.one_of(st.sampled_from([1.0, 1.5, 2.0]), st.floats(0.5, 5.0)))
@example(c=0.2, b=0.1, limit=1.0, mult=2.0)
def test_judge(c, b, limit, mult):
    assert bool(canary.judge(c, b, limit, mult)) == naive.judge(c, b, limit, mult)


def chain_of_arrivals(t0, a, slope, prev, areas):
    """The reference for arrivals_ahead: next_arrival_ns from each arrival to the next."""
    out, hint = [], 0
    for area in areas:
        prev, hint = arrivals.next_arrival_ns(t0, a, slope, len(t0), hint, prev, area)
        if prev < 0:
            break
        out.append(prev)
    return out


@FAST
@given(prof=rate_profiles(), data=st.data(),
       areas_list=st.lists(areas, min_size=0, max_size=60),
       poisson=st.booleans())
def test_arrivals_ahead_is_the_chain(prof, data, areas_list, poisson):
    t0, a, slope = prof
    n = len(t0)
    if not poisson:  # a deterministic source: every area 1
        areas_list = [1.0] * len(areas_list)
    prev = data.draw(st.integers(0, int((t0[-1] + 20.0) * 1e9)))
    hint = data.draw(st.integers(0, n - 1))
    m = len(areas_list)
    out = np.full(m + 1, -7, np.int64)
    got, seg = arrivals.arrivals_ahead(t0, a, slope, n, hint, prev,
                                       np.array(areas_list + [0.0]), m, out,
                                       np.empty(m + 1, np.int64))
    expected = chain_of_arrivals(t0, a, slope, prev, areas_list)
    assert got == len(expected)
    assert list(out[:got]) == expected
    assert 0 <= seg < n


@pytest.mark.parametrize("rate", [1000.0, 2e8, 1e9 / 2.5, 1e9 / 7.5, 3.0, 1e9 / 1.5])
def test_arrivals_ahead_where_every_guess_is_a_tie(rate):
    """Deterministic sources whose gap ends in half a ns (or near it): the guesses fail
    often, the answer is still the chain's."""
    t0, a, slope = np.array([0.0, 5.0]), np.array([rate, rate / 3.0]), np.array([0.0, 0.0])
    for prev in (0, 4_999_999_000, 123_456_789_012):
        areas_list = [1.0] * 300
        out = np.zeros(300, np.int64)
        got, _ = arrivals.arrivals_ahead(t0, a, slope, 2, 0, prev, np.array(areas_list),
                                         300, out, np.empty(300, np.int64))
        assert list(out[:got]) == chain_of_arrivals(t0, a, slope, prev, areas_list)
