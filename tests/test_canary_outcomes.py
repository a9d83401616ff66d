"""Windowed canary measurements (rules/measure.py) and the deployers' outcome columns
(issue 16 steps 1 and 5): the rules against a slow reference, hand-computed timelines in
both engines, and the summaries' P(promoted) with Wilson intervals.

The timelines are deterministic: ConstantLatency service times, an evenly spaced source
(a request every 0.1 s, the first at 0.1 s), failure rates of 0 or 1.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastdeploy import ConstantLatency, LoadBalancer, Server, Simulation, Source
from fastdeploy.deployment import CanaryDeployer, CanaryStage, RollingDeployer
from fastdeploy.rules import histogram, measure


def both_engines(sim, replicas=(0,)):
    """The object engine's rows, checked equal to the batch engine's."""
    rows = [sim.run(replica=r).metrics for r in replicas]
    batch = sim.run_batch(list(replicas)).table.to_pylist()
    for obj, bat in zip(rows, batch):
        for k, v in obj.items():
            assert bat[k] == pytest.approx(v, rel=0, abs=1e-12) if isinstance(v, float) \
                else bat[k] == v, k
    return rows[0]


# -- the rules against a reference --------------------------------------------------------
def reference(window, min_samples):
    """count, error rate, mean latency and exact nearest-rank quantiles (s) of a window:
    a list of ('ok' | 'fail', latency ns) and ('reject', None)."""
    done = [lat for kind, lat in window if kind != "reject"]
    failed = sum(kind == "fail" for kind, _ in window)
    rejected = sum(kind == "reject" for kind, _ in window)
    n = len(done) + rejected
    if n == 0 or n < min_samples:
        return n, None
    lat = sorted(done)
    qs = [lat[max(1, math.ceil(q * len(lat))) - 1] / 1e9 for q in measure.QUANTILES] \
        if lat else None
    mean = sum(lat) / len(lat) / 1e9 if lat else None
    return n, ((failed + rejected) / n, mean, qs)


events = st.lists(st.one_of(
    st.tuples(st.sampled_from(["ok", "fail"]), st.integers(0, 10**10)),
    st.tuples(st.just("reject"), st.none()),
    st.tuples(st.just("close"), st.none())), max_size=60)


@settings(max_examples=60, deadline=None)
@given(events, st.integers(1, 5), st.booleans())
def test_windows_match_the_reference(evs, min_samples, percentiles):
    rec = np.zeros(measure.FIELDS, np.int64)
    hist = np.zeros(histogram.N_BUCKETS, np.int64)
    measure.reset(rec, hist)
    measure.begin(rec, hist, 0, percentiles)
    out = np.zeros(measure.M_FIELDS)
    window, t, exposed = [], 0, 0
    for kind, lat in evs + [("close", None)]:
        t += 1
        if kind == "close":
            measure.close_window(rec, hist, min_samples, t, out)
            n, ref = reference(window, min_samples)
            assert out[measure.M_COUNT] == n
            assert out[measure.M_HAS_DATA] == (ref is not None)
            if ref is None:
                assert np.isnan(out[measure.M_ERROR_RATE])
            else:
                err, mean, qs = ref
                assert out[measure.M_ERROR_RATE] == pytest.approx(err, abs=1e-15)
                assert out[measure.M_SUCCESS_RATE] == pytest.approx(1 - err, abs=1e-15)
                if mean is None:
                    assert np.isnan(out[measure.M_LATENCY_MEAN])
                else:
                    assert out[measure.M_LATENCY_MEAN] == pytest.approx(mean, rel=1e-12)
                    for q, exact in zip(range(measure.M_P50, measure.M_P99 + 1), qs):
                        if not percentiles:  # a group without a histogram
                            assert np.isnan(out[q])
                            continue
                        # A bucket's middle: within 1% of the exact order statistic.
                        assert abs(out[q] - exact) <= 0.0101 * exact + 1e-9
            window = []
        elif kind == "reject":
            measure.rejected(rec)
            window.append((kind, lat))
            exposed += 1
        else:
            measure.completed(rec, hist, lat, kind == "fail")
            window.append((kind, lat))
            exposed += kind == "fail"
    assert measure.exposure(rec) == exposed
    assert measure.answered(rec) == sum(k != "close" for k, _ in evs)
    # After the decision exposure stops counting; requests answered do not.
    measure.decided(rec)
    measure.completed(rec, hist, 5, 1)
    measure.rejected(rec)
    assert measure.exposure(rec) == exposed
    assert measure.answered(rec) == sum(k != "close" for k, _ in evs) + 2


def test_a_window_below_min_samples_is_no_data_not_a_pass():
    rec = np.zeros(measure.FIELDS, np.int64)
    hist = np.zeros(histogram.N_BUCKETS, np.int64)
    measure.reset(rec, hist)
    measure.begin(rec, hist, 0, True)
    for _ in range(4):
        measure.completed(rec, hist, 10**8, 1)
    out = np.zeros(measure.M_FIELDS)
    measure.close_window(rec, hist, 5, 10**9, out)
    assert out[measure.M_COUNT] == 4 and out[measure.M_HAS_DATA] == 0.0
    assert all(np.isnan(out[f]) for f in (measure.M_ERROR_RATE, measure.M_SUCCESS_RATE,
                                          measure.M_LATENCY_MEAN, measure.M_P99))
    assert (out[measure.M_START], out[measure.M_END]) == (0.0, 1.0)
    # The next window starts empty.
    measure.close_window(rec, hist, 1, 2 * 10**9, out)
    assert out[measure.M_COUNT] == 0 and out[measure.M_START] == 1.0


# -- hand-computed timelines ----------------------------------------------------------------
def canary_sim(failure_rate):
    """Two baseline servers (0.1 s per request) behind round robin, a request every 0.1 s;
    deploy at 1.05 s; stages 50% then 100%, 1 s each, evaluated every 1 s; the canary
    takes 0.2 s per request and fails ``failure_rate`` of them; the run ends at 4 s."""
    def base(name):
        return Server(name, concurrency=10, service_time=ConstantLatency(0.1))

    lb = LoadBalancer("lb", backends=[base("a"), base("b")])
    ca = CanaryDeployer("ca", lb, lambda n: Server(n, concurrency=10,
                                                   service_time=ConstantLatency(0.2),
                                                   failure_rate=failure_rate),
                        stages=[CanaryStage(0.5, 1.0), CanaryStage(1.0, 1.0)],
                        evaluation_interval=1.0)
    sim = Simulation(end_time=4.0, sources=[Source.constant(10.0, lb, name="src")],
                     entities=[lb, ca], seed=1)
    sim.schedule(ca.deploy(at=1.05))
    return sim, ca


def test_canary_promoted_timeline():
    # Stage 0 (1.05 s): one canary, every second request after the split goes to it
    # (floor((i + 1) / 2) > floor(i / 2) for i = 1, 3, ...): those arriving at 1.2, 1.4,
    # 1.6, 1.8, 2.0, done 0.2 s later. 2.05: healthy, next stage (100%: a second canary;
    # the weight reaches 100%). 3.05: promoted, 2 s after the deployment began.
    sim, ca = canary_sim(0.0)
    m = both_engines(sim)
    assert m["ca.outcome"] == "promoted" and m["ca.status"] == "completed"
    assert m["ca.time_to_decision"] == pytest.approx(2.0, abs=1e-12)
    assert m["ca.max_weight"] == 100.0
    # The new version answers the 5 requests of stage 0 and every request from 2.1 s on
    # that is done by 4.0 s (arrivals 2.1 .. 3.8: 18); none failed.
    assert (m["ca.requests_new"], m["ca.exposure"]) == (23, 0)
    # The last window, (2.05, 3.05]: the canaries complete the request of 2.0 (at 2.2)
    # and those of 2.1 .. 2.8; the baseline completes none (its last, of 1.9, at 2.0).
    win = ca.last_window
    c, b = win["canary"], win["baseline"]
    assert (c["count"], c["error_rate"], c["success_rate"], c["has_data"]) == (9, 0.0, 1.0,
                                                                              True)
    assert c["latency_mean"] == pytest.approx(0.2, rel=1e-12)
    assert c["latency_p50"] == c["latency_p99"] == pytest.approx(0.2, rel=1e-12)
    assert (c["start"], c["end"]) == pytest.approx((2.05, 3.05), abs=1e-12)
    assert (b["count"], b["has_data"], b["error_rate"], b["latency_p99"]) == (0, False, None,
                                                                               None)


def test_canary_first_window_and_rollback_timeline():
    # Every canary request fails. 2.05: the window (1.05, 2.05] of the canary holds the
    # 4 requests done by then (arrived 1.2 .. 1.8), all failed: error rate 1 > 0.05, so
    # the deployment rolls back at 2.05, 1 s in, at a weight of 50%. The canary drains
    # its fifth request (done at 2.2, failed): answered by the new version, but after the
    # decision, so not exposure.
    sim, ca = canary_sim(1.0)
    m = both_engines(sim)
    assert m["ca.outcome"] == "rolled_back"
    assert m["ca.time_to_decision"] == pytest.approx(1.0, abs=1e-12)
    assert m["ca.max_weight"] == 50.0
    assert (m["ca.requests_new"], m["ca.exposure"]) == (5, 4)
    c, b = ca.last_window["canary"], ca.last_window["baseline"]
    assert (c["count"], c["error_rate"], c["success_rate"]) == (4, 1.0, 0.0)
    assert c["latency_p99"] == pytest.approx(0.2, rel=1e-12)
    # The baseline completes the request of 1.0 (at 1.1) and those of 1.1, 1.3 .. 1.9.
    # (Its windows keep no histogram: no percentiles.)
    assert (b["count"], b["error_rate"]) == (6, 0.0)
    assert b["latency_mean"] == pytest.approx(0.1, rel=1e-12)
    assert b["latency_p99"] is None


def rolling_sim(failure_rate):
    """Two old servers; batches of one new server (0.1 s per request, failing
    ``failure_rate`` of requests and probes), one passing probe makes it healthy; probes
    every 1 s; deploy at 1.05 s; the run ends at 4 s."""
    def old(name):
        return Server(name, concurrency=10, service_time=ConstantLatency(0.1))

    lb = LoadBalancer("lb", backends=[old("a"), old("b")])
    ro = RollingDeployer("ro", lb, lambda n: Server(n, concurrency=10,
                                                    service_time=ConstantLatency(0.1),
                                                    failure_rate=failure_rate),
                         batch_size=1, health_check_interval=1.0, healthy_threshold=1,
                         max_failures=0)
    sim = Simulation(end_time=4.0, sources=[Source.constant(10.0, lb, name="src")],
                     entities=[lb, ro], seed=1)
    sim.schedule(ro.deploy(at=1.05))
    return sim


def test_rolling_completed_timeline():
    # 1.05: v2_1 joins (1 new of 3: 33.3%). 2.05: its probe; passed at 2.15: a's
    # replacement, v2_2 joins (2 new of 3: 66.7%). 3.15: probe, passed at 3.25: b goes,
    # no old backend is left: completed (100%), 2.2 s after the deployment began.
    m = both_engines(rolling_sim(0.0))
    assert m["ro.outcome"] == "promoted" and m["ro.status"] == "completed"
    assert m["ro.time_to_decision"] == pytest.approx(2.2, abs=1e-12)
    assert m["ro.max_weight"] == 100.0
    assert m["ro.exposure"] == 0 and m["ro.requests_new"] > 0


def test_rolling_rolled_back_timeline():
    # Every request and probe at the new version fails: its probe fails at 2.15 (sent at
    # 2.05), one more than max_failures=0: rolled back 1.1 s in, at 33.3%. Round robin
    # (its counter at 10 after the requests of 0.1 .. 1.0) over a, b, v2_1 gives v2_1
    # the requests of 1.2, 1.5, 1.8 and 2.1: all answered by the new version, all
    # failed, but the last one fails at 2.2, after the decision: exposure 3.
    m = both_engines(rolling_sim(1.0))
    assert m["ro.outcome"] == "rolled_back"
    assert m["ro.time_to_decision"] == pytest.approx(1.1, abs=1e-12)
    assert m["ro.max_weight"] == pytest.approx(100 / 3, abs=1e-4)
    assert (m["ro.requests_new"], m["ro.exposure"]) == (4, 3)


def test_idle_deployer_outcome_columns():
    lb = LoadBalancer("lb", backends=[Server("a")])
    ca = CanaryDeployer("ca", lb, lambda n: Server(n))
    sim = Simulation(end_time=2.0, sources=[Source.constant(5.0, lb, name="src")],
                     entities=[lb, ca], seed=1)
    m = both_engines(sim)
    assert (m["ca.outcome"], m["ca.time_to_decision"], m["ca.max_weight"],
            m["ca.requests_new"], m["ca.exposure"]) == ("none", None, 0.0, 0, 0)
    assert ca.last_window is None


def test_summaries_give_p_promoted_with_wilson_intervals():
    from fastdeploy.intervals import wilson_interval
    from fastdeploy.summary import summarize

    sim, _ = canary_sim(1.0)
    table = sim.run_batch(3).table
    rows = {r["metric"]: r for r in summarize(table).to_pylist()}
    # Never promoted: P(promoted) is still reported, 0 with its Wilson interval.
    p, lo, hi = wilson_interval(0, 3)
    row = rows["ca.outcome=promoted"]
    assert (row["n"], row["mean"], row["ci_low"]) == (3, 0.0, 0.0)
    assert row["ci_high"] == pytest.approx(hi)
    assert rows["ca.outcome=rolled_back"]["mean"] == 1.0
    assert rows["ca.exposure"]["unit"] == "requests"
    assert rows["ca.max_weight"]["unit"] == "%"
