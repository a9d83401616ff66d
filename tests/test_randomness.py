"""Randomness (SPEC section 3): replicas are reproducible, distinct, independent of what
ran before on the same Simulation object, and runs that differ only in policy see the
same arrivals and the same work per request (common random numbers)."""

from __future__ import annotations

import math

import pytest

from fastdeploy import (Entity, Event, ExponentialLatency, LoadBalancer, Random, Server,
                        Simulation, Source)
from fastdeploy.deployment import AutoScaler, TargetUtilization


class Tap(Entity):
    """Records each request's (id, created_ns, u_work, u_fail) and forwards it."""

    def __init__(self, name, target, log):
        super().__init__(name)
        self.target = target
        self.log = log

    def handle_event(self, event):
        ctx = event.context
        self.log.append((ctx["id"], ctx["created_ns"], ctx["u_work"], ctx["u_fail"]))
        return Event(event.time, event.event_type, self.target, context=ctx)


def build(seed=7, target=0.6, log=None, trace=False, end=120):
    def make(name):
        return Server(name, concurrency=2, service_time=ExponentialLatency(0.1),
                      failure_rate=0.05)
    s0 = make("s0")
    lb = LoadBalancer("lb", backends=[s0], strategy=Random())
    entities = [lb]
    target_entity = lb
    if log is not None:
        target_entity = Tap("tap", lb, log)
        entities.insert(0, target_entity)
    src = Source.poisson(40, target_entity, name="src")
    scaler = AutoScaler("scaler", lb, make, policy=TargetUtilization(target), max_instances=10,
                        evaluation_interval=5, scale_out_cooldown=10, scale_in_cooldown=20)
    sim = Simulation(end_time=end, sources=[src], entities=entities + [scaler], seed=seed,
                     trace=trace)
    sim.schedule(scaler.start())
    return sim, lb, scaler, s0


def test_same_seed_and_replica_give_identical_metrics():
    a = build()[0].run(replica=2).metrics
    b = build()[0].run(replica=2).metrics
    assert a == b
    assert a["requests_created"] > 4000  # ~40/s for 120 s
    assert a["requests_failed"] > 0
    assert a["scaler.scale_out_count"] > 0


def test_different_replicas_and_seeds_differ():
    r0 = build()[0].run(replica=0).metrics
    r1 = build()[0].run(replica=1).metrics
    other_seed = build(seed=8)[0].run(replica=0).metrics
    for m in (r1, other_seed):
        assert m != r0
        assert m["requests_created"] != r0["requests_created"]
        assert m["latency_mean"] != r0["latency_mean"]


def test_rerunning_one_simulation_object():
    sim, lb, scaler, s0 = build()
    m3 = sim.run(replica=3).metrics
    stats3 = (scaler.stats, lb.stats, s0.stats, list(scaler.scaling_history))
    m0 = sim.run(replica=0).metrics
    # the user's references show the latest run (replica 0) ...
    assert scaler.stats.evaluations == m0["scaler.evaluations"]
    assert scaler.stats.instances_added == m0["scaler.instances_added"]
    assert lb.stats.requests_received == m0["lb.requests_received"]
    fresh, flb, fscaler, fs0 = build()
    assert fresh.run(replica=0).metrics == m0
    assert scaler.stats == fscaler.stats
    assert s0.stats == fs0.stats
    assert [(e.time, e.action, e.from_count, e.to_count) for e in scaler.scaling_history] == \
        [(e.time, e.action, e.from_count, e.to_count) for e in fscaler.scaling_history]
    assert m0 != m3
    # ... and replica 3 again is exactly as the first time
    again = sim.run(replica=3).metrics
    assert again == m3
    assert (scaler.stats, lb.stats, s0.stats, list(scaler.scaling_history)) == stats3
    assert sim.summary.replica == 3


def test_changing_only_the_policy_keeps_arrivals_and_work():
    n = 1000
    log_a, log_b = [], []
    sim_a = build(target=0.5, log=log_a, trace=True)[0]
    sim_b = build(target=0.8, log=log_b, trace=True)[0]
    ma = sim_a.run(replica=1).metrics
    mb = sim_b.run(replica=1).metrics
    # the policies do behave differently ...
    assert (ma["scaler.instances_added"], ma["instance_seconds"]) != \
        (mb["scaler.instances_added"], mb["instance_seconds"])
    # ... but the requests are the same: ids, creation times and both uniforms
    assert len(log_a) > n and len(log_b) > n
    assert log_a[:n] == log_b[:n]
    assert [r[0] for r in log_a[:n]] == list(range(n))
    # arrival events of the source in the trace: same times
    arr_a = [e.time.nanoseconds for e in sim_a.trace_log if e.target == "src"][:n]
    arr_b = [e.time.nanoseconds for e in sim_b.trace_log if e.target == "src"][:n]
    assert arr_a == arr_b == [r[1] for r in log_a[:n]] and len(arr_a) == n
    assert ma["requests_created"] == mb["requests_created"]


def test_service_time_is_the_inverse_cdf_at_u_work():
    # No queueing (many slots): latency = service time = -mean * ln(1 - u_work).
    srv = Server("srv", concurrency=10_000, service_time=ExponentialLatency(0.2))
    got = {}

    class HookTap(Entity):
        def handle_event(self, event):
            ctx = event.context
            fwd = Event(event.time, event.event_type, srv, context=ctx)
            fwd.add_completion_hook(
                lambda t: got.__setitem__(ctx["id"], (t.nanoseconds - ctx["created_ns"],
                                                      ctx["u_work"])))
            return fwd
    tap = HookTap("tap")
    src = Source.poisson(20, tap, name="src", stop_after=10)
    Simulation(end_time=100, sources=[src], entities=[tap, srv], seed=3).run(replica=5)
    assert len(got) > 100
    for lat_ns, u in got.values():
        assert lat_ns == math.floor(-0.2 * math.log(1.0 - u) * 1e9 + 0.5)


@pytest.mark.parametrize("replica", [0, 1, 17])
def test_poisson_arrivals_are_after_start_and_increasing(replica):
    log = []
    sim = build(log=log, end=20)[0]
    sim.run(replica=replica)
    times = [r[1] for r in log]
    assert times[0] > 0
    assert all(b > a for a, b in zip(times, times[1:]))
    assert abs(len(times) - 800) < 200  # 40/s for 20 s
