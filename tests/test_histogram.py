"""The latency histogram: bucket edges from one table, quantiles within 1%."""

import math

import numpy as np
import pytest

from fastdeploy.rules import histogram as h


def exact_bucket(lat_ns: int) -> int:
    if lat_ns <= 0:
        return 0
    return min(int(np.searchsorted(h.EDGES[1:], float(lat_ns), side="right")), h.N_BUCKETS - 1)


def test_edges_are_powers_of_the_growth():
    b = np.arange(1, h.N_BUCKETS)
    assert np.allclose(h.EDGES[1:], h.GROWTH ** (b - 1.0), rtol=1e-12)
    assert h.EDGES[1] == 1.0


@pytest.mark.parametrize("seed", [1, 2])
def test_bucket_matches_the_edge_table_on_random_latencies(seed):
    rng = np.random.default_rng(seed)
    lats = np.concatenate([rng.integers(1, 1000, 300), rng.integers(1, 10**13, 1500)])
    for lat in lats:
        assert h.bucket_of(int(lat)) == exact_bucket(int(lat)), lat


def test_bucket_on_and_beside_every_edge():
    # Integer latencies on both sides of each edge the histogram can hold below 1e12 ns.
    for edge in h.EDGES[1:1400]:
        for lat in {math.floor(edge) - 1, math.floor(edge), math.ceil(edge), math.ceil(edge) + 1}:
            if lat >= 1:
                assert h.bucket_of(lat) == exact_bucket(lat), lat


def test_bucket_extremes():
    assert h.bucket_of(0) == 0
    assert h.bucket_of(-5) == 0
    assert h.bucket_of(1) == 1
    assert h.bucket_of(2**63 - 1) == h.N_BUCKETS - 1
    assert h.bucket_of(h.MAX_LATENCY_NS) == exact_bucket(h.MAX_LATENCY_NS)


def test_quantiles_within_one_percent():
    rng = np.random.default_rng(3)
    lats = (rng.exponential(0.1, 5000) * 1e9).astype(np.int64) + 1
    hist = np.zeros(h.N_BUCKETS, np.int64)
    for lat in lats:
        hist[h.bucket_of(int(lat))] += 1
    ordered = np.sort(lats)
    for q in (0.5, 0.9, 0.99):
        exact = ordered[math.ceil(q * len(lats)) - 1]
        got = h.quantile_ns(hist, len(lats), q, int(ordered[0]), int(ordered[-1]))
        assert abs(got - exact) <= 0.01 * exact
