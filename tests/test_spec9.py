"""One test per item of SPEC section 9: where happysim 0.2.5 is defective and fastdeploy
follows the documentation. Each test would fail on happysim's old behaviour, which its
docstring describes. Everything is deterministic (constant latencies, evenly spaced
arrivals), so the expected values are exact.
"""

from __future__ import annotations


import pytest

from fastdeploy import (ConstantLatency, Entity, Event, Instant, LoadBalancer, RoundRobin,
                        Server, Simulation, Source)
from fastdeploy.deployment import (AutoScaler, CanaryDeployer, CanaryStage,
                                   ErrorRateEvaluator, LatencyEvaluator, RollingDeployer,
                                   TargetUtilization)


def ns(seconds: float) -> int:
    return round(seconds * 1e9)


class Actor(Entity):
    def handle_event(self, event):
        return event.context["fn"]()


class Tap(Entity):
    """Forwards requests to ``target`` with a completion hook logging (id, finish ns)."""

    def __init__(self, name, target, log):
        super().__init__(name)
        self.target = target
        self.log = log

    def handle_event(self, event):
        ctx = event.context
        fwd = Event(event.time, event.event_type, self.target, context=ctx)
        fwd.add_completion_hook(lambda t: self.log.append((ctx["id"], t.nanoseconds)))
        return fwd


def factory(latency, failure_rate=0.0, concurrency=1):
    return lambda name: Server(name, concurrency=concurrency,
                               service_time=ConstantLatency(latency), failure_rate=failure_rate)


def names(backends):
    return [b.name for b in backends]


def rolling(n_old=3, new=None, end=60, **kw):
    old = [Server(f"s{i}", service_time=ConstantLatency(0.1)) for i in range(n_old)]
    lb = LoadBalancer("lb", backends=old)
    d = RollingDeployer("d", lb, new or factory(0.1), **kw)
    sim = Simulation(end_time=end, entities=[lb, d])
    sim.schedule(d.deploy(at=1.0))
    return sim, lb, d


def test_9_1_completion_hooks_fire_at_completion():
    """happysim fired a request's completion hooks when the Server enqueued it (here:
    hooks at t=1 and t=2 instead of 3 and 5)."""
    srv = Server("srv", service_time=ConstantLatency(2.0))
    log = []
    tap = Tap("tap", srv, log)
    src = Source.constant(1, tap, name="src", stop_after=2)  # arrivals 1, 2
    Simulation(end_time=10, sources=[src], entities=[tap, srv]).run()
    assert log == [(0, ns(3)), (1, ns(5))]


def test_9_2_probes_of_a_slow_server_fail():
    """happysim: the probe's hook fired at enqueue, so every probe of a live server passed
    at once, however slow; a 3 s server with a 2 s interval was rolled out. Here its
    probes time out and the deployment rolls back."""
    sim, lb, d = rolling(new=factory(3.0))
    sim.run()
    assert d.state.status == "rolled_back"
    assert d.stats.health_checks_passed == 0
    assert d.stats.health_checks_failed == 2
    assert d.end_time == Instant(ns(7.0))
    assert names(lb.all_backends) == ["s0", "s1", "s2"]


def test_9_3_default_settings_complete_a_multi_batch_deployment():
    """happysim counted a timeout failure even for a probe that had passed (with
    healthy_threshold > 1) and never reset failures: under default settings every
    deployment of two or more batches rolled back. Here, defaults complete."""
    sim, lb, d = rolling(n_old=3)  # batch_size 1, interval 2, threshold 2, max_failures 1
    sim.run()
    assert d.state.status == "completed"
    assert d.stats.health_checks_failed == 0
    assert d.stats.instances_replaced == 3
    assert d.end_time == Instant(ns(13.3))
    assert names(lb.all_backends) == ["d_v2_1", "d_v2_2", "d_v2_3"]


def stalled():
    raise AssertionError("the deployment kept an unbounded simulation running")


def test_9_4_dead_instance_rolls_back_instead_of_stalling():
    """happysim scheduled the next health round only after a pass, so a dead instance
    (every probe fails) stalled the deployment forever: status stayed "in_progress".
    Here rounds continue and it rolls back, and an unbounded simulation ends."""
    old = [Server(f"s{i}") for i in range(3)]
    lb = LoadBalancer("lb", backends=old)
    d = RollingDeployer("d", lb, factory(0.1, failure_rate=1.0))
    sim = Simulation(entities=[lb, d])  # no end time
    sim.schedule(d.deploy(at=1.0))
    # a daemon tripwire at 1000 s: fails instead of hanging if the run does not end
    sim.schedule(Event(1000, "trip", Actor("trip"), context={"fn": stalled}, daemon=True))
    s = sim.run()
    # probes fail at 3.1 and 5.1 -> 2 > max_failures 1 -> rollback at 5.1
    assert d.state.status == "rolled_back"
    assert d.end_time == Instant(ns(5.1))
    assert names(lb.all_backends) == ["s0", "s1", "s2"]
    assert s.end_time.nanoseconds < ns(10)


def test_9_5_batch_size_above_one_replaces_each_batch_once():
    """happysim fanned health checks out per instance with batch_size > 1 and replaced a
    batch several times (more than batch_size new instances, old ones removed twice).
    Here 6 old servers in batches of 3 give exactly 6 new instances and 12 probes."""
    sim, lb, d = rolling(n_old=6, batch_size=3)
    s = sim.run()
    assert d.state.status == "completed"
    assert d.stats.instances_replaced == 6
    assert d.stats.health_checks_performed == 12  # 2 batches x 3 instances x 2 passes
    assert names(lb.all_backends) == [f"d_v2_{k}" for k in range(1, 7)]
    assert (s.metrics["lb.backends_added"], s.metrics["lb.backends_removed"]) == (6, 6)
    assert d.state.current_batch == 2
    assert d.end_time == Instant(ns(9.2))


def test_9_6_rollback_restores_the_whole_fleet():
    """happysim's rollback restored only the current batch's old servers; servers of
    batches already replaced were lost with the new ones (capacity lost). Here all four
    originals are back."""
    def new(name):
        return Server(name, service_time=ConstantLatency(0.1),
                      failure_rate=1.0 if name == "d_v2_3" else 0.0)
    sim, lb, d = rolling(n_old=4, new=new)
    s = sim.run()
    assert d.state.status == "rolled_back"
    assert sorted(names(lb.all_backends)) == ["s0", "s1", "s2", "s3"]
    assert s.metrics["final_instances"] == 4


def test_9_7_canary_split_is_exact_with_round_robin():
    """happysim gave the canary an integer weight (a 5% stage over 3 baselines sent it
    5.1%, the 100% stage only 1/(n+1)), and with RoundRobin it ignored the weights (the
    canary took its round-robin turn, 1/4). Here 5% is exactly 5 of 100 requests and
    100% is all of them."""
    base = [Server(f"b{i}", concurrency=10) for i in range(3)]
    lb = LoadBalancer("lb", backends=base, strategy=RoundRobin())
    made = []

    def new(name):
        made.append(Server(name, concurrency=10))
        return made[-1]
    d = CanaryDeployer("d", lb, new, stages=[CanaryStage(0.05, 10), CanaryStage(1.0, 10)],
                       evaluation_interval=10)
    src = Source.constant(10, lb, name="src", stop_after=20)
    sim = Simulation(end_time=25, sources=[src], entities=[lb, d])
    sim.schedule(d.deploy(at=0.05))
    sim.run()
    # stage 0 [0.05, 10.05): 100 requests, i = 19, 39, 59, 79, 99 to the canary.
    # stage 1 [10.05, 20.05): 3 canaries, all 100 requests, in turns: 34, 33, 33.
    done = {s.name: s.stats.requests_completed for s in base + made}
    assert done == {"b0": 32, "b1": 32, "b2": 31,
                    "d_canary": 5 + 34, "d_canary_2": 33, "d_canary_3": 33}
    assert d.state.status == "completed"


def test_9_8_promotion_keeps_the_fleet_size():
    """happysim's promotion left the fleet as the single canary instance (4 -> 1). Here
    4 baselines become 4 new-version instances and the old ones are removed."""
    base = [Server(f"b{i}") for i in range(4)]
    lb = LoadBalancer("lb", backends=base)
    d = CanaryDeployer("d", lb, factory(0.01), stages=[CanaryStage(0.25, 0)],
                       evaluation_interval=1)
    sim = Simulation(end_time=5, entities=[lb, d])
    sim.schedule(d.deploy())
    s = sim.run()
    assert names(lb.all_backends) == ["d_canary", "d_canary_2", "d_canary_3", "d_canary_4"]
    assert s.metrics["final_instances"] == 4
    assert d.state.status == "completed"


def test_9_9_error_rate_sees_failures_and_latency_sees_waiting():
    """happysim's ErrorRateEvaluator never saw a failure (servers had none, queue drops
    were not in stats) so a broken canary was promoted; its LatencyEvaluator saw service
    time only, recorded at start, so a canary that queues was promoted. Here both roll
    back."""
    def run(canary_factory, evaluator):
        base = [Server(f"b{i}", concurrency=10, service_time=ConstantLatency(0.5))
                for i in range(2)]
        lb = LoadBalancer("lb", backends=base)
        d = CanaryDeployer("d", lb, canary_factory, stages=[CanaryStage(0.5, 4)],
                           metric_evaluator=evaluator, evaluation_interval=2)
        src = Source.constant(10, lb, name="src")
        sim = Simulation(end_time=10, sources=[src], entities=[lb, d])
        sim.schedule(d.deploy(at=0.05))
        sim.run()
        return d
    # every canary request fails -> error rate 1 at the first evaluation
    d = run(factory(0.5, failure_rate=1.0, concurrency=10), ErrorRateEvaluator())
    assert (d.state.status, d.end_time) == ("rolled_back", Instant(ns(2.05)))
    # queue drops count as errors too: a canary with no queue and one slot rejects
    d = run(lambda n: Server(n, concurrency=1, service_time=ConstantLatency(0.5),
                             queue_capacity=0), ErrorRateEvaluator())
    assert (d.state.status, d.end_time) == ("rolled_back", Instant(ns(2.05)))
    # same service time, but one slot for 5 req/s: waits grow -> latency at the server
    # (wait + service) > 1.5 x 0.5 by 2.05
    d = run(factory(0.5, concurrency=1), LatencyEvaluator())
    assert (d.state.status, d.end_time) == ("rolled_back", Instant(ns(2.05)))
    # and the same canary with enough slots is promoted
    d = run(factory(0.5, concurrency=10), LatencyEvaluator())
    assert (d.state.status, d.end_time) == ("completed", Instant(ns(4.05)))


def test_9_10_scale_in_removes_backends_the_scaler_did_not_create():
    """happysim counted a scale-in of initial backends but removed nothing (4 backends
    stayed). Here idle initial backends are removed, newest (last) first."""
    lb = LoadBalancer("lb", backends=[Server(f"s{i}") for i in range(4)])
    scaler = AutoScaler("as", lb, lambda n: Server(n), policy=TargetUtilization(0.5),
                        evaluation_interval=10)
    sim = Simulation(end_time=5, entities=[lb, scaler])
    sim.schedule(scaler.start(at=1))
    s = sim.run()
    assert names(lb.all_backends) == ["s0"]
    assert scaler.stats.instances_removed == 3
    assert [(e.action, e.from_count, e.to_count, e.reason) for e in scaler.scaling_history] \
        == [("scale_in", 4, 1, "Removed 3 instances")]
    assert s.metrics["final_instances"] == 1
    assert s.metrics["instance_seconds"] == pytest.approx(5 + 3 * 1)


def test_9_11_start_twice_gives_one_chain():
    """happysim: start() twice gave two evaluation chains (evaluations doubled)."""
    lb = LoadBalancer("lb", backends=[Server("s0")])
    scaler = AutoScaler("as", lb, lambda n: Server(n), evaluation_interval=10)
    sim = Simulation(end_time=20, entities=[lb, scaler])
    sim.schedule([scaler.start(), scaler.start()])
    sim.run()
    assert scaler.stats.evaluations == 3  # 0, 10, 20


def test_9_12_ties_run_in_scheduling_order():
    """happysim ordered equal-time events by when they were constructed, with colliding
    counters. Here (time, seq): seq is taken when scheduled, and events returned by one
    handler are scheduled in list order."""
    class Rec(Entity):
        def handle_event(self, event):
            if event.event_type == "spawn":
                # constructed y first, returned [x, y]: x runs first
                y = Event(2.0, "y", self)
                x = Event(2.0, "x", self)
                return [x, y]
            return None
    rec = Rec("rec")
    sim = Simulation(end_time=5, entities=[rec], trace=True)
    b = Event(1.0, "b", rec)   # constructed before a ...
    a = Event(1.0, "a", rec)
    sim.schedule(a)            # ... but scheduled after it
    sim.schedule(b)
    sim.schedule(Event(1.5, "spawn", rec))
    sim.run()
    order = [(e.time.nanoseconds, e.event_type) for e in sim.trace_log]
    assert order == [(ns(1), "a"), (ns(1), "b"), (ns(1.5), "spawn"), (ns(2), "x"),
                     (ns(2), "y")]
    seqs = [e.seq for e in sim.trace_log]
    assert seqs == [0, 1, 2, 3, 4]
    assert [e.target for e in sim.trace_log] == ["rec"] * 5


def test_9_13_free_slots_are_used_at_once():
    """happysim could leave a request queued while the server had a free slot (three
    simultaneous arrivals at a 2-slot server: one served, two waiting). Here two start
    at once."""
    srv = Server("srv", concurrency=2, service_time=ConstantLatency(1.0))
    log = []
    tap = Tap("tap", srv, log)
    srcs = [Source.constant(1, tap, name=n, stop_after=1) for n in ("a", "b", "c")]
    seen = []
    actor = Actor("actor")
    sim = Simulation(end_time=10, sources=srcs, entities=[tap, srv, actor])
    sim.schedule(Event(1.5, "look", actor,
                       context={"fn": lambda: seen.append((srv.active_requests, srv.depth))}))
    sim.run()
    assert seen == [(2, 1)]
    assert sorted(log) == [(0, ns(2)), (1, ns(2)), (2, ns(3))]


def test_9_14_event_past_end_time_does_not_run():
    """happysim ran the first event after end_time (it tested the time of the previous
    event): an evaluation at 20.5 with end_time 20 was counted. Here it is not."""
    lb = LoadBalancer("lb", backends=[Server("s0")])
    scaler = AutoScaler("as", lb, lambda n: Server(n), evaluation_interval=10)
    sim = Simulation(end_time=20, entities=[lb, scaler])
    sim.schedule(scaler.start(at=0.5))
    s = sim.run()
    assert scaler.stats.evaluations == 2  # 0.5, 10.5; not 20.5
    assert s.end_time == Instant.from_seconds(20)
    # and an event exactly at end_time does run
    lb2 = LoadBalancer("lb2", backends=[Server("t0")])
    scaler2 = AutoScaler("as2", lb2, lambda n: Server(n), evaluation_interval=10)
    sim2 = Simulation(end_time=20, entities=[lb2, scaler2])
    sim2.schedule(scaler2.start())
    sim2.run()
    assert scaler2.stats.evaluations == 3  # 0, 10, 20


def test_9_15_saturated_server_scales_out_with_target_above_two_thirds():
    """happysim rounded current x utilization / target half up with utilization capped at
    1, so from one saturated server it never scaled out for a target above 2/3 (observed:
    5x capacity, target 0.8, no scaling in 260 s). Here ceil(1 x 1 / 0.8) = 2."""
    make = factory(0.1)  # capacity 10 req/s per server
    lb = LoadBalancer("lb", backends=[make("s0")])
    src = Source.constant(50, lb, name="src")  # 5x capacity
    scaler = AutoScaler("as", lb, make, policy=TargetUtilization(0.8), evaluation_interval=10)
    sim = Simulation(end_time=40, sources=[src], entities=[lb, scaler])
    sim.schedule(scaler.start(at=1.01))
    sim.run()
    # 1.01: util 1 -> ceil(1.25) = 2. 11.01, 21.01: blocked by the 30 s cooldown.
    # 31.01: both saturated (25 req/s each) -> ceil(2 x 1.25) = 3.
    assert [(e.time.nanoseconds, e.action, e.from_count, e.to_count)
            for e in scaler.scaling_history] == [(ns(1.01), "scale_out", 1, 2),
                                                 (ns(31.01), "scale_out", 2, 3)]
    assert scaler.stats.cooldown_blocks == 2
    assert len(lb.all_backends) == 3
