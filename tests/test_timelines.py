"""Hand-computed timelines of every component of the object engine.

Everything here is deterministic: ConstantLatency service times and evenly spaced
sources (``Source.constant`` or ``poisson=False``), so each expected value is worked out
by hand in the comments. Times are compared in integer nanoseconds where they come from
the engine (``ns(x)`` is x seconds in ns).
"""

from __future__ import annotations

import math

import pytest

from fastdeploy import (ConstantLatency, Entity, Event, Instant, LoadBalancer,
                        PiecewiseRateProfile, Server, Simulation, Source)
from fastdeploy.deployment import (AutoScaler, CanaryDeployer, CanaryStage,
                                   ErrorRateEvaluator, LatencyEvaluator, MetricEvaluator,
                                   QueueDepthScaling, RollingDeployer, ScalingEvent,
                                   StepScaling, TargetUtilization)


def ns(seconds: float) -> int:
    return round(seconds * 1e9)


# -- small helper entities -------------------------------------------------------------
class Actor(Entity):
    """Runs ``event.context["fn"]()`` when its event comes; returns what fn returns."""

    def handle_event(self, event):
        return event.context["fn"]()


def at(sim, actor, t, fn):
    sim.schedule(Event(t, "act", actor, context={"fn": fn}))


class Tap(Entity):
    """Forwards each request to ``target`` (same instant) with a completion hook that logs
    (request id, finish ns, server name, u_fail)."""

    def __init__(self, name, target, log):
        super().__init__(name)
        self.target = target
        self.log = log

    def handle_event(self, event):
        ctx = event.context
        fwd = Event(event.time, event.event_type, self.target, context=ctx)
        fwd.add_completion_hook(
            lambda t: self.log.append((ctx["id"], t.nanoseconds, fwd.target.name, ctx["u_fail"])))
        return fwd


def server_factory(latency, concurrency=1, failure_rate=0.0):
    def make(name):
        return Server(name, concurrency=concurrency, service_time=ConstantLatency(latency),
                      failure_rate=failure_rate)
    return make


def names(backends):
    return [b.name for b in backends]


def history(scaler):
    return [(e.time.nanoseconds, e.action, e.from_count, e.to_count, e.reason)
            for e in scaler.scaling_history]


# ======================================================================================
# Server
# ======================================================================================
def test_server_concurrency_fifo_queue_and_averages():
    srv = Server("srv", concurrency=2, service_time=ConstantLatency(1.0))
    log = []
    tap = Tap("tap", srv, log)
    # arrivals at 0.25, 0.5, 0.75, 1.0 (stop_after is inclusive)
    src = Source.constant(4, tap, name="src", stop_after=1.0)
    samples = []
    sampler = Actor("sampler")
    sim = Simulation(end_time=10, sources=[src], entities=[tap, srv, sampler])
    for t in (0.8, 1.1, 1.3, 2.3, 3.0):
        at(sim, sampler, t, lambda t=t: samples.append((t, srv.utilization, srv.depth)))
    s = sim.run()
    # r0 0.25 -> [0.25, 1.25]; r1 0.5 -> [0.5, 1.5]; r2 0.75 waits -> [1.25, 2.25];
    # r3 1.0 waits -> [1.5, 2.5]. FIFO: completion order r0, r1, r2, r3.
    assert [(i, t) for i, t, _, _ in log] == [(0, ns(1.25)), (1, ns(1.5)), (2, ns(2.25)),
                                              (3, ns(2.5))]
    # 0.8: r0, r1 in service, r2 queued; 1.1: r3 queued too; 1.3: r0 done, r2 started;
    # 2.3: only r3 in service; 3.0: idle.
    assert samples == [(0.8, 1.0, 1), (1.1, 1.0, 2), (1.3, 1.0, 1), (2.3, 0.5, 0),
                       (3.0, 0.0, 0)]
    assert srv.stats.requests_completed == 4
    assert srv.stats.total_service_time == pytest.approx(4.0)
    assert srv.average_service_time == pytest.approx(1.0)
    # latencies at the server: 1, 1, 1.5, 1.5
    assert srv.average_latency == pytest.approx(1.25)
    m = s.metrics
    assert (m["requests_created"], m["requests_completed"], m["requests_rejected"]) == (4, 4, 0)
    assert m["latency_mean"] == pytest.approx(1.25)
    assert m["latency_max"] == pytest.approx(1.5)


def test_server_idle_averages_are_zero():
    srv = Server("srv")
    assert (srv.utilization, srv.depth, srv.average_service_time, srv.average_latency) == \
        (0.0, 0, 0.0, 0.0)


def test_server_queue_capacity_rejects():
    srv = Server("srv", concurrency=1, service_time=ConstantLatency(1.0), queue_capacity=1)
    src = Source.constant(4, srv, name="src", stop_after=1.0)
    s = Simulation(end_time=10, sources=[src], entities=[srv]).run()
    # 0.25 starts (done 1.25); 0.5 queues (done 2.25); 0.75 and 1.0 find the queue full.
    assert srv.stats.requests_rejected == 2
    assert srv.stats.requests_completed == 2
    m = s.metrics
    assert (m["requests_created"], m["requests_completed"], m["requests_rejected"]) == (4, 2, 2)
    # latencies 1.0 and 2.25 - 0.5 = 1.75
    assert m["latency_mean"] == pytest.approx(1.375)
    assert m["latency_max"] == pytest.approx(1.75)


@pytest.mark.parametrize("rate", [0.0, 0.3, 1.0])
def test_server_failures_follow_u_fail(rate):
    srv = Server("srv", concurrency=1, service_time=ConstantLatency(0.01), failure_rate=rate)
    log = []
    tap = Tap("tap", srv, log)
    src = Source.constant(10, tap, name="src", stop_after=10)  # 100 requests
    s = Simulation(end_time=11, sources=[src], entities=[tap, srv]).run()
    assert len(log) == 100
    expected = sum(1 for *_, u in log if u < rate)
    if rate == 0.3:
        assert 10 < expected < 50  # the draw is sane, so the test means something
    assert expected == {0.0: 0, 1.0: 100}.get(rate, expected)
    assert srv.stats.total_failures == expected
    assert s.metrics["requests_failed"] == expected
    # failed requests complete (and count in latency)
    assert s.metrics["requests_completed"] == 100
    assert srv.stats.requests_completed == 100


def test_server_simultaneous_arrivals_use_free_slots_at_once():
    srv = Server("srv", concurrency=2, service_time=ConstantLatency(1.0))
    log = []
    tap = Tap("tap", srv, log)
    # three sources, one arrival each, all at t=1.0
    srcs = [Source.constant(1, tap, name=n, stop_after=1) for n in ("a", "b", "c")]
    samples = []
    sampler = Actor("sampler")
    sim = Simulation(end_time=10, sources=srcs, entities=[tap, srv, sampler])
    at(sim, sampler, 1.5, lambda: samples.append((srv.utilization, srv.depth)))
    sim.run()
    # two start at 1.0 (done 2.0); the third waits for a slot (done 3.0).
    assert sorted((t, i) for i, t, _, _ in log) == [(ns(2), 0), (ns(2), 1), (ns(3), 2)]
    assert samples == [(1.0, 1)]


def test_completion_hooks_fire_at_completion_not_enqueue():
    srv = Server("srv", concurrency=1, service_time=ConstantLatency(2.0))
    log = []
    tap = Tap("tap", srv, log)
    src = Source.constant(1, tap, name="src", stop_after=2)  # arrivals at 1, 2
    Simulation(end_time=10, sources=[src], entities=[tap, srv]).run()
    # r0 [1, 3]; r1 enqueued at 2, served [3, 5]: its hook at 5, not at 2.
    assert [(i, t) for i, t, _, _ in log] == [(0, ns(3)), (1, ns(5))]


def test_end_time_inclusive_and_nothing_after():
    srv = Server("srv", service_time=ConstantLatency(0.5))
    src = Source.constant(1, srv, name="src")  # 1, 2, 3, 4, ...
    marks = []
    marker = Actor("marker")
    sim = Simulation(end_time=3, sources=[src], entities=[srv, marker])
    sim.schedule(Event(Instant(ns(3)), "act", marker, context={"fn": lambda: marks.append(3)}))
    sim.schedule(Event(Instant(ns(3) + 1), "act", marker,
                       context={"fn": lambda: marks.append("after")}))
    s = sim.run()
    assert marks == [3]
    assert s.end_time == Instant.from_seconds(3)
    # arrivals at 1, 2, 3 run; the completion at 3.5 and the arrival at 4 do not.
    assert s.metrics["requests_created"] == 3
    assert s.metrics["requests_completed"] == 2


# ======================================================================================
# AutoScaler
# ======================================================================================
def test_autoscaler_target_utilization_out_and_in_with_cooldowns():
    # s0 serves 25 s per request. Arrivals at t=1 and t=40 only (piecewise profile:
    # rate 1 on [0,1) and [39,40), else 0), both to s0.
    s0 = Server("s0", service_time=ConstantLatency(25))
    lb = LoadBalancer("lb", backends=[s0])
    src = Source("src", PiecewiseRateProfile([(0, 1), (1, 0), (39, 1), (40, 0)]), lb,
                 poisson=False)
    scaler = AutoScaler("as", lb, server_factory(25), policy=TargetUtilization(0.5),
                        min_instances=1, max_instances=5, evaluation_interval=5,
                        scale_out_cooldown=15, scale_in_cooldown=30)
    sim = Simulation(end_time=80, sources=[src], entities=[lb, scaler], trace=True)
    sim.schedule(scaler.start(at=2))
    s = sim.run()
    # Evaluations at 2, 7, ..., 77 (16; 82 is past the end).
    assert [e.time.nanoseconds for e in sim.trace_log if e.target == "as"] == \
        [ns(2 + 5 * k) for k in range(16)]
    #  2: util [1] -> r=2 -> ceil(1*2)=2: scale out to 2 (as_server_1). last action 2.
    #  7..22: util [1, 0] -> mean 0.5 = target -> no action.
    # 27: s0 done at 26 -> util 0 -> desired ceil(0)=0 -> min 1: scale in, but 27-2=25 < 30
    #     -> blocked (1).
    # 32: 30 >= 30 -> scale in 2 -> 1 (removes as_server_1). last action 32.
    # 37: current 1 = desired 1: nothing.
    # 40: arrival -> s0 busy until 65.
    # 42: desired 2, but 42-32=10 < 15 -> blocked (2).   47: 15 -> scale out (as_server_2).
    # 52..62: [1, 0] in band.  67: idle -> scale in, 67-47=20 < 30 blocked (3);
    # 72: 25 blocked (4); 77: 30 -> scale in 2 -> 1.
    assert history(scaler) == [
        (ns(2), "scale_out", 1, 2, "Added 1 instances"),
        (ns(32), "scale_in", 2, 1, "Removed 1 instances"),
        (ns(47), "scale_out", 1, 2, "Added 1 instances"),
        (ns(77), "scale_in", 2, 1, "Removed 1 instances"),
    ]
    assert all(isinstance(e, ScalingEvent) and isinstance(e.time, Instant)
               for e in scaler.scaling_history)
    st = scaler.stats
    assert (st.evaluations, st.scale_out_count, st.scale_in_count, st.instances_added,
            st.instances_removed, st.cooldown_blocks) == (16, 2, 2, 2, 2, 4)
    assert names(lb.all_backends) == ["s0"]
    m = s.metrics
    # s0 costs 0..80; as_server_1 2..32; as_server_2 47..77 (both idle when removed)
    assert m["instance_seconds"] == pytest.approx(80 + 30 + 30)
    assert (m["final_instances"], m["peak_instances"]) == (1, 2)
    assert m["latency_mean"] == pytest.approx(25.0)
    assert m["as.evaluations"] == 16 and m["as.cooldown_blocks"] == 4
    assert m["lb.backends_added"] == 2 and m["lb.backends_removed"] == 2


def test_autoscaler_target_utilization_ceil_rule_and_max_clamp():
    # s0 and every new server: concurrency 2, effectively endless service. One arrival per
    # second (1, 2, 3, ...), round robin.
    make = server_factory(1000, concurrency=2)
    lb = LoadBalancer("lb", backends=[make("s0")])
    src = Source.constant(1, lb, name="src")
    scaler = AutoScaler("as", lb, make, policy=TargetUtilization(0.5), max_instances=4,
                        evaluation_interval=10, scale_out_cooldown=0, scale_in_cooldown=0)
    sim = Simulation(end_time=35, sources=[src], entities=[lb, scaler])
    sim.schedule(scaler.start(at=0.5))
    sim.run()
    # 0.5: no arrival yet, util 0 -> ceil(0) -> min 1 = current: nothing.
    # 10.5: s0 full (util 1) -> r=2 -> ceil(1*2)=2: +1.
    # arrivals 11..20 alternate s0 / as_server_1 (RR counter 10, 11, ...): as_server_1
    # gets 12 and 14 and is full. 20.5: mean 1 -> ceil(2*2)=4: +2.
    # 30.5: mean 1 (arrivals 21..28 fill as_server_2, as_server_3) -> ceil(8) clamped to 4.
    assert history(scaler) == [
        (ns(10.5), "scale_out", 1, 2, "Added 1 instances"),
        (ns(20.5), "scale_out", 2, 4, "Added 2 instances"),
    ]
    assert names(lb.all_backends) == ["s0", "as_server_1", "as_server_2", "as_server_3"]
    assert scaler.stats.evaluations == 4
    assert scaler.stats.instances_added == 3
    assert scaler.stats.cooldown_blocks == 0


@pytest.mark.parametrize("policy, scaled", [
    (TargetUtilization(0.7), False),                  # r = 0.75/0.7 = 1.071: in the band
    (TargetUtilization(0.6), True),                   # r = 1.25 -> ceil(1.25) = 2
    (TargetUtilization(0.6, tolerance=0.3), False),   # a wider band holds it
    (TargetUtilization(0.75 / 1.1), False),           # r = 1.1 exactly: the band is closed
])
def test_autoscaler_target_utilization_tolerance_band(policy, scaled):
    # s0: concurrency 4, three requests in service (0.75 utilization) from t=3 on.
    make = server_factory(1000, concurrency=4)
    lb = LoadBalancer("lb", backends=[make("s0")])
    src = Source.constant(1, lb, name="src", stop_after=3)
    scaler = AutoScaler("as", lb, make, policy=policy, evaluation_interval=10,
                        scale_out_cooldown=0)
    sim = Simulation(end_time=6, sources=[src], entities=[lb, scaler])
    sim.schedule(scaler.start(at=5))
    sim.run()
    assert scaler.stats.evaluations == 1
    if scaled:
        assert history(scaler) == [(ns(5), "scale_out", 1, 2, "Added 1 instances")]
    else:
        assert history(scaler) == []


class FakeBackend:
    def __init__(self, utilization=0.0, depth=0):
        self.utilization = utilization
        self.depth = depth


@pytest.mark.parametrize("utils, target, current, lo, hi, expected", [
    ([1.0, 1.0, 1.0], 0.5, 3, 1, 10, 6),       # r = 2 -> 6
    ([0.56] * 3, 0.5, 3, 1, 10, 4),            # r = 1.12 -> ceil(3.36) = 4
    ([0.54] * 3, 0.5, 3, 1, 10, 3),            # r = 1.08: in band
    ([0.55] * 2, 0.5, 2, 1, 10, 2),            # r = 1.1 exactly: in band (closed)
    ([1.0, 1.0, 0.7], 0.3, 3, 1, 20, 9),       # 3 * 0.9 / 0.3 = 9 exactly, not 10
    ([0.4] * 3, 0.6, 3, 1, 10, 2),             # 3 * 0.4 / 0.6 = 2 exactly, not 3
    ([0.2] * 3, 0.6, 3, 1, 10, 1),             # ceil(1.0) = 1
    ([1.0, 0.0, 0.0, 0.0], 0.5, 4, 1, 10, 2),  # ceil(4 * 0.25 / 0.5) = 2
    ([0.0] * 4, 0.5, 4, 2, 10, 2),             # ceil(0) -> min
    ([1.0] * 4, 0.5, 4, 1, 6, 6),              # 8 -> max
    ([], 0.5, 0, 2, 10, 2),                    # no backends -> min
])
def test_target_utilization_policy_rule(utils, target, current, lo, hi, expected):
    backends = [FakeBackend(u) for u in utils]
    assert TargetUtilization(target).evaluate(backends, current, lo, hi) == expected


@pytest.mark.parametrize("utils, expected", [
    ([1.0, 1.0], 4),          # >= 0.75: +2
    ([1.0, 0.0], 3),          # 0.5 >= 0.4: +1
    ([0.6, 0.0, 0.0], 2),     # mean 0.2 (0.19999999999999998 in floats) >= 0.2: -1
    ([0.1, 0.1], 2),          # none reached -> current
])
def test_step_scaling_policy_rule(utils, expected):
    # given unsorted; sorted highest threshold first internally
    policy = StepScaling([(0.2, -1), (0.75, 2), (0.4, 1)])
    assert [s[0] for s in policy.steps] == [0.75, 0.4, 0.2]
    current = 2 if len(utils) != 3 else 3
    assert policy.evaluate([FakeBackend(u) for u in utils], current, 1, 10) == expected


def test_autoscaler_step_scaling_timeline():
    s0 = Server("s0", service_time=ConstantLatency(25))
    lb = LoadBalancer("lb", backends=[s0])
    src = Source.constant(1, lb, name="src", stop_after=1)  # one request at 1 -> s0 [1, 26]
    # (0.0, -1) acts as "otherwise remove one".
    policy = StepScaling([(0.0, -1), (0.75, 2), (0.4, 1)])
    scaler = AutoScaler("as", lb, server_factory(25), policy=policy, min_instances=1,
                        max_instances=5, evaluation_interval=5, scale_out_cooldown=0,
                        scale_in_cooldown=10)
    actor = Actor("actor")
    sim = Simulation(end_time=45, sources=[src], entities=[lb, scaler, actor])
    sim.schedule(scaler.start(at=2))
    seen = []
    for t in (3, 13, 18, 28):
        at(sim, actor, t, lambda: seen.append(names(lb.all_backends)))
    sim.run()
    #  2: [1] mean 1 >= 0.75 -> +2 -> 3.
    #  7: [1,0,0] 0.33 -> -1, 7-2=5 < 10: blocked (1).
    # 12: -1 -> remove as_server_2 (newest). 3 -> 2.
    # 17: [1, 0] 0.5 >= 0.4 -> +1 (no out cooldown) -> as_server_3.
    # 22: 0.33 -> -1, 5 < 10 blocked (2).   27: s0 done at 26 -> 0 -> -1 -> remove
    # as_server_3.   32: -1 blocked (3).  37: remove as_server_1.  42: at min: nothing.
    assert history(scaler) == [
        (ns(2), "scale_out", 1, 3, "Added 2 instances"),
        (ns(12), "scale_in", 3, 2, "Removed 1 instances"),
        (ns(17), "scale_out", 2, 3, "Added 1 instances"),
        (ns(27), "scale_in", 3, 2, "Removed 1 instances"),
        (ns(37), "scale_in", 2, 1, "Removed 1 instances"),
    ]
    # newest first: as_server_2 goes at 12, as_server_3 at 27, as_server_1 last
    assert seen == [["s0", "as_server_1", "as_server_2"], ["s0", "as_server_1"],
                    ["s0", "as_server_1", "as_server_3"], ["s0", "as_server_1"]]
    st = scaler.stats
    assert (st.evaluations, st.scale_out_count, st.scale_in_count, st.instances_added,
            st.instances_removed, st.cooldown_blocks) == (9, 2, 3, 3, 3, 3)
    assert names(lb.all_backends) == ["s0"]


def test_autoscaler_queue_depth_timeline():
    s0 = Server("s0", service_time=ConstantLatency(10))
    lb = LoadBalancer("lb", backends=[s0])
    src = Source.constant(1, lb, name="src", stop_after=4)  # 1, 2, 3, 4 -> all to s0
    scaler = AutoScaler("as", lb, server_factory(10),
                        policy=QueueDepthScaling(scale_out_threshold=3, scale_in_threshold=1),
                        evaluation_interval=5, scale_out_cooldown=6, scale_in_cooldown=0)
    sim = Simulation(end_time=35, sources=[src], entities=[lb, scaler])
    sim.schedule(scaler.start(at=4.5))
    sim.run()
    # s0: r1 [1,11], r2 [11,21], r3 [21,31], r4 [31,41]; queue 3 until 11, 2 until 21,
    # 1 until 31, then 0.
    #  4.5: depth 3 >= 3 -> +1.   9.5: depth 3, but 9.5-4.5=5 < 6 -> blocked.
    # 14.5, 19.5: depth 2 -> nothing.   24.5: depth 1 <= 1 and 2 > min -> -1.
    # 29.5: depth 1 but at min.   34.5: depth 0, at min.
    assert history(scaler) == [
        (ns(4.5), "scale_out", 1, 2, "Added 1 instances"),
        (ns(24.5), "scale_in", 2, 1, "Removed 1 instances"),
    ]
    st = scaler.stats
    assert (st.evaluations, st.scale_out_count, st.scale_in_count, st.cooldown_blocks) == \
        (7, 1, 1, 1)


class ScriptPolicy:
    """Returns scripted desired counts, one per evaluation (then current)."""

    def __init__(self, script):
        self.script = list(script)

    def evaluate(self, backends, current_count, min_instances, max_instances):
        return self.script.pop(0) if self.script else current_count


def test_autoscaler_scale_in_newest_first_including_foreign_backends():
    lb = LoadBalancer("lb", backends=[Server("s0"), Server("s1")])
    scaler = AutoScaler("as", lb, lambda n: Server(n), policy=ScriptPolicy([4, 5, 2, 0]),
                        min_instances=1, evaluation_interval=10, scale_out_cooldown=0,
                        scale_in_cooldown=0)
    actor = Actor("actor")
    sim = Simulation(end_time=35, entities=[lb, scaler, actor])
    sim.schedule(scaler.start())
    seen = []
    at(sim, actor, 5, lambda: lb.add_backend(Server("x")))
    at(sim, actor, 15, lambda: seen.append(names(lb.all_backends)))
    sim.run()
    # 0: 2 -> 4 (as_server_1, as_server_2).  5: user adds x.  10: desired 5 from 5: nothing.
    # 20: desired 2 from 5: remove 3 = the scaler's own newest first (as_server_2,
    # as_server_1), then the LB's others from the end (x).
    # 30: desired 0 -> min 1: remove s1 (from the end of the LB's list).
    assert seen == [["s0", "s1", "as_server_1", "as_server_2", "x"]]
    assert history(scaler) == [
        (0, "scale_out", 2, 4, "Added 2 instances"),
        (ns(20), "scale_in", 5, 2, "Removed 3 instances"),
        (ns(30), "scale_in", 2, 1, "Removed 1 instances"),
    ]
    assert names(lb.all_backends) == ["s0"]
    assert scaler.stats.instances_removed == 4


def test_autoscaler_clamps_what_a_user_policy_asks():
    lb = LoadBalancer("lb", backends=[Server("s0")])
    scaler = AutoScaler("as", lb, lambda n: Server(n), policy=ScriptPolicy([10, 0]),
                        min_instances=2, max_instances=4, evaluation_interval=10,
                        scale_out_cooldown=0, scale_in_cooldown=0)
    sim = Simulation(end_time=15, entities=[lb, scaler])
    sim.schedule(scaler.start())
    sim.run()
    # 0: desired 10 -> only up to max 4; 10: desired 0 -> only down to min 2
    assert history(scaler) == [(0, "scale_out", 1, 4, "Added 3 instances"),
                               (ns(10), "scale_in", 4, 2, "Removed 2 instances")]
    assert names(lb.all_backends) == ["s0", "as_server_1"]


def test_autoscaler_start_twice_is_one_chain_and_stop_ends_it():
    lb = LoadBalancer("lb", backends=[Server("s0")])
    scaler = AutoScaler("as", lb, lambda n: Server(n), evaluation_interval=10)
    actor = Actor("actor")
    sim = Simulation(end_time=60, entities=[lb, scaler, actor])
    sim.schedule(scaler.start())
    sim.schedule(scaler.start())
    at(sim, actor, 25, scaler.stop)
    at(sim, actor, 37, scaler.start)          # restart: a new chain 37, 47, 57
    at(sim, actor, 38, scaler.start)          # running: no second chain
    sim.run()
    # 0, 10, 20, then stopped at 25 (the pending 30 does nothing); 37, 47, 57.
    assert scaler.stats.evaluations == 6


def tripwire():
    raise AssertionError("an unbounded simulation did not end")


def test_autoscaler_evaluations_are_daemon_events():
    srv = Server("s0", service_time=ConstantLatency(0.5))
    lb = LoadBalancer("lb", backends=[srv])
    src = Source.constant(1, lb, name="src", stop_after=3)  # 1, 2, 3; last completion 3.5
    scaler = AutoScaler("as", lb, lambda n: Server(n), evaluation_interval=1)
    sim = Simulation(sources=[src], entities=[lb, scaler])  # no end time
    sim.schedule(scaler.start())
    # a daemon tripwire: if evaluations kept the run alive, it would fail instead of hang
    trip = Actor("trip")
    sim.schedule(Event(100, "act", trip, context={"fn": tripwire}, daemon=True))
    s = sim.run()
    # evaluations at 0, 1, 2, 3 run; at 3.5 only the daemon evaluation at 4 is pending.
    assert s.end_time == Instant.from_seconds(3.5)
    assert scaler.stats.evaluations == 4
    assert s.metrics["requests_completed"] == 3


# ======================================================================================
# CanaryDeployer
# ======================================================================================
def canary_scenario(n_baseline=3, canary_factory=None, stages=None, evaluator=None,
                    interval=4.0, deploy_at=0.05, end=11.0, stop_after=10.0):
    base = [Server(f"b{i}", concurrency=10, service_time=ConstantLatency(0.01))
            for i in range(n_baseline)]
    lb = LoadBalancer("lb", backends=base)
    log = []
    tap = Tap("tap", lb, log)
    src = Source.constant(10, tap, name="src", stop_after=stop_after)  # 0.1, 0.2, ...
    made = []

    def factory(name):
        s = (canary_factory or server_factory(0.01, concurrency=10))(name)
        made.append(s)
        return s
    d = CanaryDeployer("d", lb, factory, stages=stages, metric_evaluator=evaluator,
                       evaluation_interval=interval)
    sim = Simulation(end_time=end, sources=[src], entities=[tap, lb, d])
    sim.schedule(d.deploy(at=deploy_at))
    return sim, lb, d, base, made, log


def test_canary_stage_timing_group_sizes_and_promotion():
    sim, lb, d, base, made, _ = canary_scenario(
        n_baseline=4, stages=[CanaryStage(0.1, 10), CanaryStage(0.3, 10), CanaryStage(0.6, 5)],
        deploy_at=1.05, end=40, stop_after=39)
    seen = []
    actor = Actor("actor")
    sim.entities.append(actor)

    def look():
        c = d.canary
        seen.append((names(lb.all_backends), d.state.status, d.state.current_stage,
                     d.state.canary_traffic_pct, c.name if c else None))
    for t in (0.5, 2, 14, 26, 34):
        at(sim, actor, t, look)
    s = sim.run()
    # stage 0 at 1.05: max(1, ceil(0.1*4)) = 1 canary; evaluations 5.05, 9.05, 13.05
    # (12 >= 10 s) -> stage 1 at 13.05: ceil(1.2) = 2; evaluations 17.05, 21.05, 25.05
    # -> stage 2 at 25.05: ceil(2.4) = 3; 29.05 (4 < 5), 33.05 -> promote: 4 canaries,
    # baseline removed.
    b = ["b0", "b1", "b2", "b3"]
    assert seen == [
        (b, "idle", 0, 0.0, None),
        (b + ["d_canary"], "in_progress", 0, 0.1, "d_canary"),
        (b + ["d_canary", "d_canary_2"], "in_progress", 1, 0.3, "d_canary"),
        (b + ["d_canary", "d_canary_2", "d_canary_3"], "in_progress", 2, 0.6, "d_canary"),
        # README: after promotion current_stage == total_stages (as in happysim)
        (["d_canary", "d_canary_2", "d_canary_3", "d_canary_4"], "completed", 3, 0.6, None),
    ]
    st = d.stats
    assert (st.deployments_started, st.deployments_completed, st.deployments_rolled_back,
            st.stages_completed, st.evaluations_performed, st.evaluations_passed,
            st.evaluations_failed) == (1, 1, 0, 3, 8, 8, 0)
    assert d.state.total_stages == 3
    assert d.end_time == Instant(ns(33.05))
    assert s.metrics["d.status"] == "completed"
    assert s.metrics["d.end_time"] == pytest.approx(33.05)
    # promotion keeps the fleet size: 4 instances, all new
    assert s.metrics["final_instances"] == 4
    assert s.metrics["peak_instances"] == 8


def test_canary_exact_traffic_split_per_server():
    sim, lb, d, base, made, log = canary_scenario(
        stages=[CanaryStage(0.25, 4), CanaryStage(0.5, 4)], interval=4, deploy_at=0.05)
    s = sim.run()
    # Stage 0 [0.05, 4.05): arrivals 0.1..4.0 = 40, i = 0..39; canary iff
    # floor((i+1)/4) > floor(i/4): i = 3, 7, ..., 39 -> 10. The other 30 round-robin over
    # b0, b1, b2 (RR counter 0..29): 10 each.
    # Stage 1 [4.05, 8.05): 2 canaries; i odd -> canary group (20, in turns: 10 + 10);
    # the other 20 at RR counter 30..49 over 3: b0 7, b1 7, b2 6.
    # 8.05 promote: backends [d_canary, d_canary_2, d_canary_3]; arrivals 8.1..10.0 = 20 at
    # RR counter 50..69: index 50 % 3 = 2 first -> d_canary 7, d_canary_2 6, d_canary_3 7.
    counts = {srv.name: srv.stats.requests_completed for srv in base + made}
    assert counts == {"b0": 17, "b1": 17, "b2": 16,
                      "d_canary": 27, "d_canary_2": 16, "d_canary_3": 7}
    # the same from the request log: which server served each request id
    by_id = {i: name for i, _, name, _ in log}
    stage0 = [i for i in range(40) if by_id[i].startswith("d_")]
    assert stage0 == [i for i in range(40) if math.floor((i + 1) * 0.25) > math.floor(i * 0.25)]
    stage1 = [by_id[40 + i] for i in range(40) if by_id[40 + i].startswith("d_")]
    assert stage1 == ["d_canary", "d_canary_2"] * 10
    assert names(lb.all_backends) == ["d_canary", "d_canary_2", "d_canary_3"]
    assert s.metrics["requests_completed"] == 100
    assert d.state.status == "completed"


def test_canary_with_failing_servers_is_rolled_back_by_error_rate():
    sim, lb, d, base, made, log = canary_scenario(
        canary_factory=server_factory(0.01, concurrency=10, failure_rate=0.1),
        stages=[CanaryStage(0.5, 100)], interval=2, end=30, stop_after=29)
    s = sim.run()
    # Expected: the first evaluation at 0.05 + 2k where the canary's failures / completed
    # (failed iff u_fail < 0.1, the request's own draw) exceeds 0.05 (baseline: no errors).
    expected_k = None
    for k in range(1, 15):
        t = ns(0.05 + 2 * k)
        mine = [u for _, ft, name, u in log if name == "d_canary" and ft < t]
        if mine and sum(u < 0.1 for u in mine) / len(mine) > 0.05:
            expected_k = k
            break
    assert expected_k is not None
    assert d.state.status == "rolled_back"
    assert d.end_time == Instant(ns(0.05 + 2 * expected_k))
    st = d.stats
    assert (st.evaluations_performed, st.evaluations_passed, st.evaluations_failed,
            st.deployments_rolled_back, st.stages_completed) == \
        (expected_k, expected_k - 1, 1, 1, 0)
    assert names(lb.all_backends) == ["b0", "b1", "b2"]
    assert d.canary is None
    assert made[0].stats.total_failures >= 1
    assert s.metrics["d.status"] == "rolled_back"


def test_healthy_canary_is_promoted_by_error_rate():
    sim, lb, d, base, made, _ = canary_scenario(
        stages=[CanaryStage(0.5, 4)], interval=2, evaluator=ErrorRateEvaluator())
    sim.run()
    # evaluations 2.05 (2 < 4), 4.05 -> promote
    assert d.state.status == "completed"
    assert d.end_time == Instant(ns(4.05))
    assert (d.stats.evaluations_performed, d.stats.evaluations_passed) == (2, 2)
    assert names(lb.all_backends) == ["d_canary", "d_canary_2", "d_canary_3"]


@pytest.mark.parametrize("latency, status, end, performed", [
    (0.05, "rolled_back", 2.05, 1),   # 0.05 > 1.5 x 0.01 at the first evaluation
    (0.012, "completed", 4.05, 2),    # 0.012 <= 0.015: promoted
])
def test_latency_evaluator(latency, status, end, performed):
    sim, lb, d, base, made, _ = canary_scenario(
        canary_factory=server_factory(latency, concurrency=10),
        stages=[CanaryStage(0.5, 4)], interval=2, evaluator=LatencyEvaluator())
    sim.run()
    assert d.state.status == status
    assert d.end_time == Instant(ns(end))
    assert d.stats.evaluations_performed == performed
    if status == "rolled_back":
        assert names(lb.all_backends) == ["b0", "b1", "b2"]
        assert d.stats.evaluations_failed == 1
    else:
        assert names(lb.all_backends) == ["d_canary", "d_canary_2", "d_canary_3"]


def test_builtin_evaluators_count_the_baseline_since_deploy():
    # b0: one slot, 1 s service. Before the deploy a burst (0.6, 0.7, 0.8, 0.9) queues:
    # latencies 1.0, 1.9, 2.8, 3.7. Then one request every 2 s from 11 (rate 0.5 from 10).
    b0 = Server("b0", service_time=ConstantLatency(1.0))
    lb = LoadBalancer("lb", backends=[b0])
    src = Source("src", PiecewiseRateProfile([(0.5, 10), (0.95, 0), (10, 0.5)]), lb,
                 poisson=False)
    d = CanaryDeployer("d", lb, server_factory(1.6), stages=[CanaryStage(0.5, 100)],
                       metric_evaluator=LatencyEvaluator(max_latency=100,
                                                         threshold_multiplier=1.5),
                       evaluation_interval=4)
    sim = Simulation(end_time=40, sources=[src], entities=[lb, d])
    sim.schedule(d.deploy(at=10))
    sim.run()
    # split 0.5: 11 -> b0, 13 -> canary [13, 14.6], 15 -> b0, 17 -> canary [17, 18.6].
    # 14: the canary has no completion yet -> healthy. 18: canary 1.6 vs the baseline since
    # deploy 1.0 (11 and 15): 1.6 > 1.5 -> rollback. (Counting the baseline's whole life,
    # mean 1.9, it would pass.)
    assert d.state.status == "rolled_back"
    assert d.end_time == Instant(ns(18))
    assert (d.stats.evaluations_passed, d.stats.evaluations_failed) == (1, 1)


def test_user_metric_evaluator():
    class Judge:
        def __init__(self):
            self.calls = []

        def is_healthy(self, canary, baseline_backends):
            self.calls.append((canary.name, names(baseline_backends)))
            return len(self.calls) < 3

    judge = Judge()
    assert isinstance(judge, MetricEvaluator)
    sim, lb, d, base, made, _ = canary_scenario(stages=[CanaryStage(0.5, 100)], interval=2,
                                                evaluator=judge)
    sim.run()
    # 2.05 healthy, 4.05 healthy, 6.05 unhealthy -> rollback
    assert judge.calls == [("d_canary", ["b0", "b1", "b2"])] * 3
    assert d.state.status == "rolled_back"
    assert d.end_time == Instant(ns(6.05))
    assert (d.stats.evaluations_passed, d.stats.evaluations_failed) == (2, 1)


def test_evaluator_rules_on_server_counters():
    # c: one slot, no queue, 1 s service, arrivals every 0.25 s on (0, 2]: accepted 0.25 and
    # 1.25 (the completion at 1.25 runs before the arrival), 6 rejected -> (0+6)/(2+6) = 0.75.
    # b_half: 0.5 s service: accepted 0.25, 0.75, 1.25, 1.75, 4 rejected -> 0.5.
    # b_ok: plenty of slots -> 0.
    c = Server("c", service_time=ConstantLatency(1.0), queue_capacity=0)
    b_half = Server("b_half", service_time=ConstantLatency(0.5), queue_capacity=0)
    b_ok = Server("b_ok", concurrency=100, service_time=ConstantLatency(0.5))
    srcs = [Source.constant(4, x, name=f"src_{x.name}", stop_after=2) for x in (c, b_half, b_ok)]
    Simulation(end_time=10, sources=srcs, entities=[c, b_half, b_ok]).run()
    assert (c.stats.requests_completed, c.stats.requests_rejected) == (2, 6)
    assert (b_half.stats.requests_completed, b_half.stats.requests_rejected) == (4, 4)
    assert ErrorRateEvaluator().is_healthy(c, [b_ok]) is False            # 0.75 > 0.05
    assert ErrorRateEvaluator(0.8).is_healthy(c, [b_ok]) is True          # baseline 0
    assert ErrorRateEvaluator(0.8, 2.0).is_healthy(c, [b_half]) is True   # 0.75 <= 1.0
    assert ErrorRateEvaluator(0.8, 1.4).is_healthy(c, [b_half]) is False  # 0.75 > 0.7
    # baseline as a group: (0 + 4) / (4 + 8 + 4) = 0.25 -> limit 0.5 with x2
    assert ErrorRateEvaluator(0.8, 2.0).is_healthy(c, [b_half, b_ok]) is False
    # mean latency at the server: c 1.0 (its two requests never wait), b_ok 0.5
    assert LatencyEvaluator().is_healthy(c, [b_ok]) is False             # 1.0 > 0.75
    assert LatencyEvaluator(2.0, 2.0).is_healthy(c, [b_ok]) is True      # 1.0 <= 1.0
    assert LatencyEvaluator(0.9, 3.0).is_healthy(c, [b_ok]) is False     # 1.0 > max 0.9
    assert LatencyEvaluator(1.0, 1.5).is_healthy(c, []) is True          # no baseline data


def test_canary_deploy_via_schedule_at_start():
    base = [Server("b0")]
    lb = LoadBalancer("lb", backends=base)
    d = CanaryDeployer("d", lb, lambda n: Server(n), stages=[CanaryStage(1.0, 0)],
                       evaluation_interval=3)
    sim = Simulation(end_time=10, entities=[lb, d])
    sim.schedule(d.deploy())
    sim.run()
    # deploy at 0; one evaluation at 3 (0 s period) -> promote
    assert d.end_time == Instant(ns(3))
    assert names(lb.all_backends) == ["d_canary"]


# ======================================================================================
# RollingDeployer
# ======================================================================================
def rolling_scenario(n_old=3, new_factory=None, at_time=1.0, end=30, **kw):
    old = [Server(f"s{i}", service_time=ConstantLatency(0.1)) for i in range(n_old)]
    lb = LoadBalancer("lb", backends=old)
    made = []

    def factory(name):
        s = (new_factory or server_factory(0.1))(name)
        made.append(s)
        return s
    d = RollingDeployer("d", lb, factory, **kw)
    sim = Simulation(end_time=end, entities=[lb, d])
    sim.schedule(d.deploy(at=at_time))
    return sim, lb, d, old, made


def rolling_stats(d):
    st = d.stats
    return (st.deployments_started, st.deployments_completed, st.deployments_rolled_back,
            st.instances_replaced, st.health_checks_performed, st.health_checks_passed,
            st.health_checks_failed)


def test_rolling_batch_size_1_completes():
    sim, lb, d, old, made = rolling_scenario(end=20)
    s = sim.run()
    # batch 1 at 1.0 (d_v2_1): rounds 3.0, 5.0 -> passes at 3.1, 5.1 -> s0 out;
    # batch 2 at 5.1: rounds 7.1, 9.1 -> 9.2; batch 3 at 9.2: rounds 11.2, 13.2 -> done 13.3.
    assert d.state.status == "completed"
    assert d.end_time == Instant(ns(13.3))
    assert rolling_stats(d) == (1, 1, 0, 3, 6, 6, 0)
    assert (d.state.total_instances, d.state.replaced, d.state.failed,
            d.state.current_batch) == (3, 3, 0, 3)
    assert names(lb.all_backends) == ["d_v2_1", "d_v2_2", "d_v2_3"]
    # probes are no requests
    assert all(m.stats.requests_completed == 0 for m in made)
    # instance time: s0 0..5.1, s1 0..9.2, s2 0..13.3, d_v2_1 1..20, d_v2_2 5.1..20,
    # d_v2_3 9.2..20; never more than 4 at once (old ones go before the next batch).
    assert s.metrics["instance_seconds"] == pytest.approx(5.1 + 9.2 + 13.3 + 19 + 14.9 + 10.8)
    assert (s.metrics["final_instances"], s.metrics["peak_instances"]) == (3, 4)
    assert s.metrics["d.end_time"] == pytest.approx(13.3)
    assert s.metrics["d.health_checks_performed"] == 6


def test_rolling_batch_size_3_completes():
    sim, lb, d, old, made = rolling_scenario(n_old=5, batch_size=3)
    sim.run()
    # batch 1 at 1.0: d_v2_1..3, rounds 3.0 and 5.0, three probes each -> done 5.1
    # (s0, s1, s2 out); batch 2 at 5.1: d_v2_4, d_v2_5, rounds 7.1, 9.1 -> done 9.2.
    assert d.state.status == "completed"
    assert d.end_time == Instant(ns(9.2))
    assert rolling_stats(d) == (1, 1, 0, 5, 10, 10, 0)
    assert (d.state.replaced, d.state.current_batch) == (5, 2)
    assert names(lb.all_backends) == [f"d_v2_{k}" for k in range(1, 6)]
    assert len(made) == 5


def test_rolling_rolls_back_when_new_version_fails():
    sim, lb, d, old, made = rolling_scenario(new_factory=server_factory(0.1, failure_rate=1.0))
    s = sim.run()
    # round 3.0: probe fails at 3.1 (1 failure, not > 1); round 5.0: fails at 5.1 -> rollback.
    assert d.state.status == "rolled_back"
    assert d.end_time == Instant(ns(5.1))
    assert rolling_stats(d) == (1, 0, 1, 0, 2, 0, 2)
    assert d.state.failed == 2
    assert names(lb.all_backends) == ["s0", "s1", "s2"]
    assert s.metrics["d.status"] == "rolled_back"


def test_rolling_rolls_back_when_new_version_too_slow_for_probes():
    sim, lb, d, old, made = rolling_scenario(new_factory=server_factory(3.0))
    sim.run()
    # round 3.0: probe A runs [3, 6]. round 5.0: A pending -> fail (1); probe B queued
    # behind A, [6, 9]. round 7.0: B pending -> fail (2) -> rollback at 7.0.
    assert d.state.status == "rolled_back"
    assert d.end_time == Instant(ns(7.0))
    assert rolling_stats(d) == (1, 0, 1, 0, 2, 0, 2)
    assert names(lb.all_backends) == ["s0", "s1", "s2"]


def test_rolling_probe_taking_exactly_one_interval_fails():
    # A pass needs completion strictly less than one interval after sending.
    sim, lb, d, old, made = rolling_scenario(new_factory=server_factory(2.0))
    sim.run()
    # round 3.0: probe [3, 5]: done exactly 2 s later -> fail (1), at 5.0 (its completion
    # was scheduled before the round of 5.0, so it runs first); round 5.0: probe [5, 7]
    # -> fail (2) at 7.0 -> rollback.
    assert rolling_stats(d) == (1, 0, 1, 0, 2, 0, 2)
    assert d.end_time == Instant(ns(7.0))


def test_rolling_rollback_restores_the_whole_original_fleet():
    def factory(name):
        return Server(name, service_time=ConstantLatency(0.1),
                      failure_rate=1.0 if name == "d_v2_3" else 0.0)
    sim, lb, d, old, made = rolling_scenario(n_old=4, new_factory=factory)
    sim.run()
    # batches 1 and 2 succeed (done 5.1, 9.2); batch 3 at 9.2: d_v2_3 fails at 11.3 and
    # 13.3 -> rollback at 13.3: every new instance out, s0 and s1 back.
    assert d.state.status == "rolled_back"
    assert d.end_time == Instant(ns(13.3))
    assert sorted(names(lb.all_backends)) == ["s0", "s1", "s2", "s3"]
    assert rolling_stats(d) == (1, 0, 1, 2, 6, 4, 2)
    assert d.state.replaced == 2


def test_rolling_probes_only_instances_not_yet_healthy():
    def factory(name):
        return Server(name, service_time=ConstantLatency(0.1),
                      failure_rate=1.0 if name == "d_v2_2" else 0.0)
    sim, lb, d, old, made = rolling_scenario(n_old=2, new_factory=factory, batch_size=2,
                                             max_failures=3)
    sim.run()
    # batch [d_v2_1 (sound), d_v2_2 (dead)] at 1.0. round 3: both probed, pass + fail (1);
    # round 5: pass (d_v2_1 healthy) + fail (2); rounds 7 and 9: only d_v2_2, fails 3 and 4
    # -> 4 > 3: rollback at 9.1.
    assert rolling_stats(d) == (1, 0, 1, 0, 6, 2, 4)
    assert d.end_time == Instant(ns(9.1))
    assert names(lb.all_backends) == ["s0", "s1"]


def test_rolling_passes_reset_after_a_failure():
    # One old server; the new one (concurrency 1, 1 s service) also takes traffic. Two
    # requests reach it at 5.2 and 5.4 and delay the probe of round 6 past the timeout.
    s0 = Server("s0", service_time=ConstantLatency(0.1))
    lb = LoadBalancer("lb", backends=[s0])
    # arrivals 5.1, 5.2, 5.3, 5.4; round robin over [s0, d_v2_1]: 5.2 and 5.4 to d_v2_1
    src = Source("src", PiecewiseRateProfile([(0, 0), (5.0, 10), (5.45, 0)]), lb, poisson=False)
    made = []

    def factory(name):
        made.append(Server(name, service_time=ConstantLatency(1.0)))
        return made[-1]
    d = RollingDeployer("d", lb, factory, health_check_interval=2, healthy_threshold=3,
                        max_failures=1)
    sim = Simulation(end_time=30, sources=[src], entities=[lb, d])
    sim.schedule(d.deploy(at=0))
    s = sim.run()
    # rounds at 2, 4: probes [2,3], [4,5] pass (2 consecutive).
    # requests on d_v2_1: [5.2, 6.2], [6.2, 7.2]; probe of round 6 runs [7.2, 8.2].
    # round 8: it is still pending -> fail, passes reset to 0 (1 failure <= max 1).
    # probe of round 8 waits for [7.2, 8.2], runs [8.2, 9.2]: 1.2 s -> pass (1).
    # round 10 -> pass at 11 (2); round 12 -> pass at 13 (3) -> s0 out -> completed at 13.
    # (Without the reset it would complete at 9.2.)
    assert d.state.status == "completed"
    assert d.end_time == Instant(ns(13))
    assert rolling_stats(d) == (1, 1, 0, 1, 6, 5, 1)
    assert d.state.failed == 1
    assert made[0].stats.requests_completed == 2
    assert s.metrics["requests_completed"] == 4


# ======================================================================================
# Instance time
# ======================================================================================
def test_instance_seconds_final_and_peak():
    s0 = Server("s0", service_time=ConstantLatency(10))
    s1 = Server("s1", service_time=ConstantLatency(10))
    s2 = Server("s2", service_time=ConstantLatency(10))
    lb = LoadBalancer("lb", backends=[s0, s1])
    src = Source.constant(1, lb, name="src", stop_after=2)  # 1 -> s0 [1, 11], 2 -> s1 [2, 12]
    actor = Actor("actor")
    sim = Simulation(end_time=20, sources=[src], entities=[lb, actor])
    seen = []
    at(sim, actor, 5, lambda: lb.remove_backend(s1))    # drains until 12
    at(sim, actor, 8, lambda: lb.add_backend(s2))
    at(sim, actor, 10, lambda: seen.append((names(lb.all_backends), s1.utilization)))
    at(sim, actor, 15, lambda: lb.remove_backend(s2))   # idle: stops costing at once
    s = sim.run()
    assert seen == [(["s0", "s2"], 1.0)]
    m = s.metrics
    # s0 0..20 = 20; s1 0..12 = 12 (removed at 5, drained at 12); s2 8..15 = 7
    assert m["instance_seconds"] == pytest.approx(39.0)
    # at 8..12: s0, s1 (draining), s2
    assert (m["final_instances"], m["peak_instances"]) == (1, 3)
    assert m["requests_completed"] == 2
    assert m["latency_mean"] == pytest.approx(10.0)


def test_rolling_rollback_instance_time():
    def factory(name):
        return Server(name, service_time=ConstantLatency(0.1),
                      failure_rate=1.0 if name == "d_v2_3" else 0.0)
    sim, lb, d, old, made = rolling_scenario(n_old=4, new_factory=factory, end=30)
    s = sim.run()
    # s0 0..5.1 and again 13.3..30; s1 0..9.2 and 13.3..30; s2, s3 0..30;
    # d_v2_1 1..13.3, d_v2_2 5.1..13.3, d_v2_3 9.2..13.3 (all idle when removed).
    expected = (5.1 + 16.7) + (9.2 + 16.7) + 30 + 30 + 12.3 + 8.2 + 4.1
    assert s.metrics["instance_seconds"] == pytest.approx(expected)
    assert (s.metrics["final_instances"], s.metrics["peak_instances"]) == (4, 5)


def test_deploy_while_in_progress_does_nothing():
    sim, lb, d, old, made = rolling_scenario()
    sim.schedule(d.deploy(at=2.0))
    sim.run()
    assert d.stats.deployments_started == 1
    assert d.end_time == Instant(ns(13.3))
    sim, lb, d, base, made, _ = canary_scenario(stages=[CanaryStage(0.5, 4)], interval=2)
    sim.schedule(d.deploy(at=1.0))
    sim.run()
    assert d.stats.deployments_started == 1
    assert d.end_time == Instant(ns(4.05))
    assert len(made) == 3


def test_second_canary_deployment_after_the_first():
    base = [Server("b0"), Server("b1")]
    lb = LoadBalancer("lb", backends=base)
    d = CanaryDeployer("d", lb, lambda n: Server(n), stages=[CanaryStage(0.5, 0)],
                       evaluation_interval=1)
    sim = Simulation(end_time=10, entities=[lb, d])
    sim.schedule([d.deploy(at=0), d.deploy(at=5)])
    sim.run()
    # first: d_canary at 0, promoted at 1 with d_canary_2; second: baseline is those two,
    # d_canary_3 at 5, promoted at 6 with d_canary_4. Names are never reused.
    assert names(lb.all_backends) == ["d_canary_3", "d_canary_4"]
    assert (d.stats.deployments_started, d.stats.deployments_completed) == (2, 2)
    assert d.end_time == Instant(ns(6))


# ======================================================================================
# Load balancer strategies and sources
# ======================================================================================
def routed(lb, n, strategy_setup=None, seed=0, replica=0):
    log = []
    tap = Tap("tap", lb, log)
    src = Source.constant(1, tap, name="src", stop_after=n)
    Simulation(end_time=n + 100, sources=[src], entities=[tap, lb], seed=seed).run(replica)
    return [name for _, _, name, _ in sorted(log)]


def test_round_robin_and_weighted_round_robin():
    from fastdeploy import RoundRobin, WeightedRoundRobin
    lb = LoadBalancer("lb", backends=[Server(n) for n in "abc"], strategy=RoundRobin())
    assert routed(lb, 7) == list("abcabca")
    lb = LoadBalancer("lb", strategy=WeightedRoundRobin())
    for n, w in (("a", 5), ("b", 1), ("c", 1)):
        lb.add_backend(Server(n), weight=w)
    # nginx smooth WRR, 5:1:1: a a b a c a a, twice
    assert routed(lb, 14) == list("aabacaa") * 2


def test_least_connections_first_on_ties():
    from fastdeploy import LeastConnections
    lb = LoadBalancer("lb", backends=[Server(n, service_time=ConstantLatency(10)) for n in "abc"],
                      strategy=LeastConnections())
    # 1 -> a (all 0); 2 -> b; 3 -> c; 4 -> a (all 1, first); 5 -> b; 6 -> c; 7 -> a
    assert routed(lb, 7) == list("abcabca")
    # a slow and a fast server: 1 -> a (tie, first); 2 -> b (a holds 1); b is done at 2.5,
    # so 3 and 4 -> b as well
    assert routed(LoadBalancer("lb", backends=[Server("a", service_time=ConstantLatency(100)),
                                               Server("b", service_time=ConstantLatency(0.5))],
                               strategy=LeastConnections()), 4) == list("abbb")


def test_random_strategy_uses_the_routing_stream():
    from fastdeploy import Random
    from fastdeploy.rules import rng

    def lb():
        return LoadBalancer("lb", backends=[Server(n) for n in "abcd"], strategy=Random())
    got = routed(lb(), 200, seed=5, replica=2)
    key = rng.key_for(5, 2, rng.routing_stream("lb"))
    assert got == ["abcd"[int(rng.uniform(key, k) * 4)] for k in range(200)]
    assert got == routed(lb(), 200, seed=5, replica=2)
    assert got != routed(lb(), 200, seed=5, replica=3)
    assert all(20 < got.count(c) < 80 for c in "abcd")


def arrival_times(src_factory, end):
    srv = Server("srv", concurrency=10_000)
    log = []
    tap = Tap("tap", srv, log)
    src = src_factory(tap)
    Simulation(end_time=end, sources=[src], entities=[tap, srv]).run()
    return sorted(t - ns(0.01) for _, t, _, _ in log)  # completion - 10 ms service


def test_arrivals_are_after_the_start_even_when_faster_than_a_nanosecond():
    srv = Server("srv", concurrency=100)
    log = []
    tap = Tap("tap", srv, log)
    # 4e9/s: a gap of 0.25 ns. Arrivals are still strictly increasing: 1, 2, 3, 4, 5 ns.
    src = Source.constant(4e9, tap, name="s", stop_after=Instant(5))
    Simulation(start_time=0, end_time=1, sources=[src], entities=[tap, srv]).run()
    assert sorted(t for _, t, _, _ in log) == [ns(0.01) + k for k in range(1, 6)]


def test_deterministic_source_arrivals():
    from fastdeploy import LinearRampProfile, SpikeProfile
    # constant 4/s: 0.25, 0.5, ... never at the start
    assert arrival_times(lambda t: Source.constant(4, t, name="s", stop_after=2), 5) == \
        [ns(0.25 * k) for k in range(1, 9)]
    # spike: 1/s, 4/s on [2, 3), then 1/s: 1, 2, 2.25, 2.5, 2.75, 3, 4, 5
    got = arrival_times(lambda t: Source.with_profile(SpikeProfile(1, 4, 2, 1), t, poisson=False,
                                                      name="s"), 5.5)
    assert got == [ns(x) for x in (1, 2, 2.25, 2.5, 2.75, 3, 4, 5)]
    # ramp 0 -> 2/s over 10 s: integral 0.1 t^2 reaches k at sqrt(10 k); then 2/s
    got = arrival_times(lambda t: Source.with_profile(LinearRampProfile(10, 0, 2), t,
                                                      poisson=False, name="s"), 11.2)
    expected = [math.sqrt(10 * k) for k in range(1, 11)] + [10.5, 11.0]
    assert len(got) == len(expected)
    assert all(abs(g - ns(e)) <= 10 for g, e in zip(got, expected))
    # piecewise trace: 2/s on [1, 2), 0 on [2, 5), 1/s from 5: 1.5, 2.0, 6, 7
    got = arrival_times(lambda t: Source("s", PiecewiseRateProfile([(1, 2), (2, 0), (5, 1)]), t,
                                         poisson=False), 7.5)
    assert got == [ns(x) for x in (1.5, 2.0, 6, 7)]
