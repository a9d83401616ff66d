"""Instances that take time (docs/instance-lifecycle.md): start-up delay and readiness,
termination grace, and the lifecycle metrics, on hand-computed timelines in both engines.

Deterministic throughout: ConstantLatency service and start-up times, evenly spaced
arrivals (``Source.constant``: the k-th at k / rate).
"""

from __future__ import annotations

import pytest

from fastdeploy import (ConstantLatency, Entity, Event, ExponentialLatency, LoadBalancer,
                        LogNormalLatency, RoundRobin, Server, Simulation, Source,
                        UniformLatency)
from fastdeploy.deployment import AutoScaler, RollingDeployer, ScalingPolicy, TargetUtilization
from fastdeploy.rules import rng

LIFECYCLE = ("requests_created", "requests_completed", "requests_rejected",
             "requests_dropped", "instance_seconds", "instance_seconds_booting",
             "ready_instances_mean", "time_underprovisioned")


def both_engines(sim, replicas=(0, 1)):
    """The object engine's rows, checked equal to the batch engine's."""
    rows = [sim.run(replica=r).metrics for r in replicas]
    batch = sim.run_batch(list(replicas)).table.to_pylist()
    for obj, bat in zip(rows, batch):
        for k, v in obj.items():
            assert bat[k] == pytest.approx(v, rel=0, abs=1e-12) if isinstance(v, float) \
                else bat[k] == v, k
    return rows[0]


class Actor(Entity):
    def handle_event(self, event):
        return event.context["fn"]()


def scaled_fleet(startup=2.0):
    """One server (1 s per request) at 2.5 requests/s; a scaler adds one instance that
    boots for ``startup`` seconds."""
    lb = LoadBalancer("lb", backends=[Server("a", service_time=ConstantLatency(1.0))])
    src = Source.constant(2.5, lb, name="src")
    sc = AutoScaler("sc", lb, lambda n: Server(n, service_time=ConstantLatency(1.0),
                                               startup_delay=startup),
                    policy=TargetUtilization(0.5), min_instances=1, max_instances=2,
                    evaluation_interval=1.0, scale_out_cooldown=0.0, scale_in_cooldown=0.0)
    sim = Simulation(duration=5.0, sources=[src], entities=[lb, sc], seed=1)
    sim.schedule(sc.start())
    return sim, lb, sc


def test_lifecycle_metrics_by_hand():
    # Arrivals at 0.4, 0.8, ...: a serves 0.4-1.4, 1.4-2.4, ...; from 0.8 a request
    # waits. At the evaluation at 1.0 (a busy: utilization 1 = 2 x target) the scaler
    # adds sc_server_1, ready at 3.0 (2 s booting). Below max_instances with a request
    # waiting: 0.8 to 1.0 only. Ready instances: 1 over [0, 3), 2 over [3, 5]:
    # (3 + 2 * 2) / 5 = 1.4. Instance time: 5 + 4.
    sim, _, _ = scaled_fleet()
    m = both_engines(sim)
    assert m["sc.scale_out_count"] == 1
    assert m["instance_seconds"] == pytest.approx(9.0)
    assert m["instance_seconds_booting"] == pytest.approx(2.0)
    assert m["ready_instances_mean"] == pytest.approx(1.4)
    assert m["time_underprovisioned"] == pytest.approx(0.2)
    assert m["requests_dropped"] == 0


def test_zero_startup_is_ready_at_once():
    # Without a start-up delay the new instance serves from 1.0 (the previous behaviour):
    # nothing booting, ready instances (1 + 2 * 4) / 5 = 1.8.
    sim, _, _ = scaled_fleet(startup=0.0)
    m = both_engines(sim)
    assert m["instance_seconds_booting"] == 0.0
    assert m["ready_instances_mean"] == pytest.approx(1.8)


def test_booting_instance_gets_no_request_until_ready():
    sim, lb, sc = scaled_fleet()
    seen = []

    class Probe(Entity):
        def handle_event(self, event):
            for b in lb.all_backends:
                seen.append((event.time.to_seconds(), b.name, b.ready, b.stats.requests_completed,
                             b.active_requests + b.depth))

    p = Probe("p")
    for t in (2.9, 3.0, 3.5, 5.0):
        sim.schedule(Event(t, "look", p))
    sim.run()
    new = [s for s in seen if s[1] == "sc_server_1"]
    # Booting at 2.9: not ready, nothing held; ready at 3.0 (its ready event comes before
    # the look scheduled earlier? no: the look was scheduled before the run, so it runs
    # first at 3.0). Round robin then sends it every other request from 3.2.
    assert new[0] == (2.9, "sc_server_1", False, 0, 0)
    assert new[1][2] is False
    assert new[2][2] is True and new[2][4] == 1  # the request of 3.2, in service
    assert new[3][3] >= 1
    assert sc.stats.instances_added == 1


def test_server_ready_flag_and_initial_servers_are_ready():
    s = Server("s", startup_delay=ExponentialLatency(60.0))
    assert s.ready
    lb = LoadBalancer("lb", backends=[s])
    sim = Simulation(duration=1.5, sources=[Source.constant(1.0, lb, name="src")],
                     entities=[lb])
    m = sim.run().metrics
    assert m["requests_completed"] == 1 and m["instance_seconds_booting"] == 0.0
    assert m["time_underprovisioned"] is None  # no AutoScaler


def test_no_ready_backend_rejects():
    # The only backend is added during the run and boots for 1 s: requests meanwhile
    # find no ready backend and are rejected (on_no_backend="reject").
    lb = LoadBalancer("lb")
    b = Server("b", startup_delay=1.0)
    actor = Actor("actor")
    sim = Simulation(duration=2.0, sources=[Source.constant(4.0, lb, name="src")],
                     entities=[lb, actor])
    sim.schedule(Event(0.0, "add", actor, context={"fn": lambda: lb.add_backend(b)}))
    m = sim.run().metrics
    # Arrivals at 0.25 .. 2.0; 0.25 to 0.75 rejected, 1.0 on served (ready event first:
    # it was scheduled at 0.0, before the arrival at 1.0 was); the one at 2.0 is still
    # in service at the end.
    assert m["requests_rejected"] == 3
    assert m["lb.no_backend_available"] == 3
    assert m["requests_completed"] == 4
    assert m["instance_seconds_booting"] == pytest.approx(1.0)


def rolling(startup, interval=1.0, max_failures=5):
    lb = LoadBalancer("lb", backends=[Server("a")])
    ro = RollingDeployer("ro", lb, lambda n: Server(n, service_time=ConstantLatency(0.1),
                                                    startup_delay=startup),
                         batch_size=1, health_check_interval=interval, healthy_threshold=1,
                         max_failures=max_failures)
    src = Source.constant(0.0, lb, name="src")
    sim = Simulation(duration=10.0, sources=[src], entities=[lb, ro], seed=2)
    sim.schedule(ro.deploy())
    return sim


def test_probes_to_a_booting_instance_time_out():
    # ro_v2_1 is created at 0 and ready at 3. Rounds at 1, 2, 3 send probes m0, m1, m2;
    # m0 and m1 wait in its queue and time out at the next round (2 failures). At 3.0
    # the ready event (scheduled at 0) comes before the round (scheduled at 2): m0 and m1
    # start, one after the other (concurrency 1), then m2 sent at 3.0 finishes at 3.3:
    # a pass, the batch is healthy, a is removed and the deployment completes at 3.3.
    m = both_engines(rolling(3.0))
    assert m["ro.health_checks_performed"] == 3
    assert m["ro.health_checks_failed"] == 2
    assert m["ro.health_checks_passed"] == 1
    assert m["ro.status"] == "completed"
    assert m["ro.end_time"] == pytest.approx(3.3)


def test_probe_failures_from_start_up_roll_back():
    # As above; m1's timeout at the round of 3.0 is the second failure, one more than
    # max_failures.
    m = both_engines(rolling(3.0, max_failures=1))
    assert m["ro.status"] == "rolled_back"
    assert m["ro.end_time"] == pytest.approx(3.0)


def grace_fleet(grace):
    """a (1 s per request) holds r0 in service and r1, r2 queued when it is removed at
    1.0 (arrivals at 0.25, 0.5, 0.75)."""
    a = Server("a", service_time=ConstantLatency(1.0), termination_grace=grace)
    lb = LoadBalancer("lb", backends=[a])
    actor = Actor("actor")
    src = Source.constant(4.0, lb, name="src", stop_after=0.8)
    sim = Simulation(duration=5.0, sources=[src], entities=[lb, actor])
    sim.schedule(Event(1.0, "remove", actor, context={"fn": lambda: lb.remove_backend(a)}))
    return sim, a


def test_termination_grace_drops_what_is_left():
    # r0 finishes at 1.25, r1 starts then; the grace ends at 1.5: r1 (in service) and r2
    # (queued) are dropped, and the instance stops costing at 1.5.
    sim, a = grace_fleet(0.5)
    m = sim.run().metrics
    assert m["requests_completed"] == 1
    assert m["requests_dropped"] == 2
    assert a.stats.requests_dropped == 2
    assert m["instance_seconds"] == pytest.approx(1.5)
    assert m["final_instances"] == 0
    assert m["latency_max"] == pytest.approx(1.0)  # dropped requests have no latency


def test_no_grace_drains_to_completion():
    sim, a = grace_fleet(None)
    m = sim.run().metrics
    assert m["requests_completed"] == 3 and m["requests_dropped"] == 0
    assert m["instance_seconds"] == pytest.approx(3.25)


def test_grace_longer_than_the_drain_drops_nothing():
    sim, a = grace_fleet(10.0)
    m = sim.run().metrics
    assert m["requests_completed"] == 3 and m["requests_dropped"] == 0
    assert m["instance_seconds"] == pytest.approx(3.25)


def test_startup_draw_is_the_kth_of_the_creators_stream():
    # Common random numbers: the k-th instance a component creates boots for the k-th
    # draw of its start-up stream, whatever else happens.
    sim, lb, sc = scaled_fleet(startup=ExponentialLatency(1.5))
    sim.run(replica=4)
    new = [b for b in lb.all_backends if b.name == "sc_server_1"][0]
    key = rng.key_for(1, 4, rng.startup_stream("sc"))
    expected = ExponentialLatency(1.5).sample(rng.uniform(key, 1))
    assert new.booting_ns_at(10**12) == pytest.approx(expected * 1e9, abs=1)


@pytest.mark.parametrize("startup", [ConstantLatency(0.7), ExponentialLatency(1.0),
                                     UniformLatency(0.5, 2.0), LogNormalLatency(1.0, 0.5)])
def test_every_distribution_agrees(startup):
    sim, _, _ = scaled_fleet(startup=startup)
    both_engines(sim, replicas=(0, 1, 2))


@pytest.mark.parametrize("kwargs, message", [
    (dict(startup_delay=-1.0), "startup_delay must be >= 0.0, got -1.0"),
    (dict(startup_delay="slow"), "startup_delay must be seconds or a built-in latency"),
    (dict(termination_grace=-2), "termination_grace must be >= 0.0, got -2"),
    (dict(termination_grace=float("inf")), "termination_grace must be finite"),
])
def test_bad_lifecycle_arguments_name_themselves(kwargs, message):
    with pytest.raises((TypeError, ValueError), match=message.replace("(", r"\(")):
        Server("s", **kwargs)


def test_lifecycle_parameters_are_sweepable():
    sim, _, _ = scaled_fleet(startup=ExponentialLatency(2.0))
    params = sim.batch_parameters()
    assert params["sc.server.startup_delay.mean_latency"] == 2.0
    assert "a.startup_delay.latency" not in params  # initial servers are ready at once
    fast = sim.run_batch(4, params={"sc.server.startup_delay.mean_latency": 0.001}).table
    slow = sim.run_batch(4, params={"sc.server.startup_delay.mean_latency": 100.0}).table
    assert sum(fast.column("ready_instances_mean").to_pylist()) > \
        sum(slow.column("ready_instances_mean").to_pylist())
    with pytest.raises(ValueError, match="sc.server.startup_delay.mean_latency"):
        sim.run_batch(2, params={"sc.server.startup_delay.mean_latency": -1.0})


def test_round_robin_skips_booting_backends():
    # Backends a (ready) and b (added at 0, booting until 1.0): RoundRobin's counter
    # counts selections over the ready backends only.
    a = Server("a", service_time=ConstantLatency(0.01))
    b = Server("b", service_time=ConstantLatency(0.01), startup_delay=1.0)
    lb = LoadBalancer("lb", backends=[a], strategy=RoundRobin())
    actor = Actor("actor")
    sim = Simulation(duration=2.0, sources=[Source.constant(4.0, lb, name="src")],
                     entities=[lb, actor])
    sim.schedule(Event(0.0, "add", actor, context={"fn": lambda: lb.add_backend(b)}))
    sim.run()
    # 0.25, 0.5, 0.75 to a (3 selections: counter 3); from 1.0: counter 3, 4, 5, 6, 7
    # over [a, b] -> b, a, b, a, b (b's request of 2.0 is still in service at the end).
    assert a.stats.requests_completed == 5 and b.stats.requests_completed == 2


# -- averaged observation --------------------------------------------------------------------
class Recorder(ScalingPolicy):
    """Keeps what the scaler's policy sees of the first backend, evaluation by
    evaluation, and never acts."""

    def __init__(self):
        self.seen = []

    def evaluate(self, backends, current, min_instances, max_instances):
        b = backends[0]
        self.seen.append((b.utilization, b.depth, b.active_requests))
        return current


def windowed_fleet(window, concurrency=2, service=1.5, interval=0.25, start=0.0):
    """Server a takes a request every second from 1.0, each for ``service`` s; a scaler
    evaluating every ``interval`` s from ``start`` with the metric window records what
    it sees at each evaluation (time -> (utilization, depth, in service))."""
    a = Server("a", concurrency=concurrency, service_time=ConstantLatency(service))
    lb = LoadBalancer("lb", backends=[a])
    policy = Recorder()
    sc = AutoScaler("sc", lb, lambda n: Server(n), policy=policy, min_instances=1,
                    max_instances=1, evaluation_interval=interval, metric_window=window)
    sim = Simulation(duration=10.0, sources=[Source.constant(1.0, lb, name="src")],
                     entities=[lb, sc])
    sim.schedule(sc.start(at=start) if start else sc.start())
    sim.run()
    return {round(start + j * interval, 9): v for j, v in enumerate(policy.seen)}


def in_service_integral(t0, t1, service=1.5):
    """Request-seconds in service over [t0, t1] when request k = 1, 2, ... holds a slot
    over [k, k + service) (concurrency never binds): the sum of the overlaps."""
    return sum(max(0.0, min(t1, k + service) - max(t0, float(k))) for k in range(1, 12))


def test_windowed_utilization_is_the_hand_integral():
    # In service: 1 on [1, 2), 2 on [2, 2.5), 1 on [2.5, 3), 2 on [3, 3.5), ... (a request
    # every second, 1.5 s each). Over [1.75, 4.75]: 0.25 + 1 + 0.5 + 1 + 0.5 + 1 + 0.25
    # = 4.5 request-seconds: 1.5 in service on average, utilization 0.75.
    seen = windowed_fleet(3.0)
    assert seen[4.75] == pytest.approx((0.75, 0.0, 1.5), abs=1e-15)
    # Younger than the window: over its life (joined at 0): 0.5 request-s over 1.5 s.
    assert seen[1.5] == pytest.approx((0.5 / 1.5 / 2, 0.0, 0.5 / 1.5), abs=1e-15)
    assert seen[0.5] == (0.0, 0.0, 0.0)


@pytest.mark.parametrize("window, interval, start", [
    (3.0, 0.25, 0.0), (1.1, 0.25, 0.0), (0.3, 1.0, 0.0), (2.0, 0.7, 0.0), (2.0, 0.5, 2.3),
    (1.0, 1.0, 0.0)])
def test_windowed_means_at_every_evaluation(window, interval, start):
    # Every evaluation's window, a multiple of the interval or not, against the overlaps
    # summed by hand; a window never reaches back before the chain's start (the first
    # evaluation sees the values at its instant).
    seen = windowed_fleet(window, interval=interval, start=start)
    assert len(seen) > 8
    for t, (util, depth, busy) in seen.items():
        since = max(t - window, start)
        if since == t:
            expect = sum(1 for k in range(1, 12) if k <= t < k + 1.5)
        else:
            expect = in_service_integral(since, t) / (t - since)
        assert busy == pytest.approx(expect, abs=1e-9), (t, since)
        assert util == pytest.approx(expect / 2, abs=1e-9) and depth == 0.0


def test_windowed_queue_depth_is_the_hand_integral():
    # One slot, 1.5 s each: starts at 1, 2.5, 4, 5.5; arrivals at 1, 2, 3, 4, 5.
    # Queued: 1 on [2, 2.5), 1 on [3, 4), 1 on [4, 5.5) ... and 2 on [5, 5.5).
    # Over [2.5, 5.5]: [3, 4) 1 + [4, 5) 1 + [5, 5.5) 2 x 0.5 = 3 request-s -> depth 1.
    util, depth, busy = windowed_fleet(3.0, concurrency=1)[5.5]
    assert depth == pytest.approx(1.0, abs=1e-15) and util == pytest.approx(1.0, abs=1e-15)


def test_window_longer_than_its_marks_is_refused():
    lb = LoadBalancer("lb", backends=[Server("a")])
    with pytest.raises(ValueError, match="metric_window 5000.0 s is more than 4096 times "
                                         "evaluation_interval"):
        AutoScaler("sc", lb, lambda n: Server(n), evaluation_interval=1.0,
                   metric_window=5000.0)


def test_metric_window_changes_the_decision_and_agrees():
    # The scaler of scaled_fleet with a window: at 4.0 the booting instance and the
    # averages make it add one instance at a time (3, then 4), where the instant view
    # jumped from 2 to 4.
    def build(window):
        lb = LoadBalancer("lb", backends=[Server("a", service_time=ConstantLatency(1.0))])
        sc = AutoScaler("sc", lb, lambda n: Server(n, service_time=ConstantLatency(1.0),
                                                   startup_delay=2.0),
                        policy=TargetUtilization(0.5), min_instances=1, max_instances=4,
                        evaluation_interval=1.0, scale_out_cooldown=0.0,
                        scale_in_cooldown=0.0, metric_window=window)
        sim = Simulation(duration=20.0, sources=[Source.constant(2.5, lb, name="src")],
                         entities=[lb, sc], seed=1)
        sim.schedule(sc.start())
        return sim, sc

    steps = {}
    for window in (0.0, 3.0):
        sim, sc = build(window)
        both_engines(sim)
        sim.run()
        steps[window] = [(e.time.to_seconds(), e.to_count) for e in sc.scaling_history]
    assert steps[0.0][:2] == [(1.0, 2), (4.0, 4)]
    assert steps[3.0][:3] == [(1.0, 2), (4.0, 3), (6.0, 4)]


def test_metric_window_needs_backends_with_history():
    class Plain(Entity):
        utilization = 0.5

        def handle_event(self, event):
            return None

    lb = LoadBalancer("lb", backends=[Plain("p")])
    sc = AutoScaler("sc", lb, lambda n: Server(n), metric_window=5.0)
    sim = Simulation(duration=1.0, entities=[lb, sc])
    sim.schedule(sc.start())
    with pytest.raises(TypeError, match="only built-in Servers record"):
        sim.run()


def test_busy_windowed_scaler_agrees():
    # 200 requests/s on 2 servers with a 30 s window: thousands of changes per window;
    # the averages equal the object engine's.
    lb = LoadBalancer("lb", backends=[Server(f"s{i}", concurrency=4,
                                             service_time=ExponentialLatency(0.03))
                                      for i in range(2)])
    sc = AutoScaler("sc", lb, lambda n: Server(n, concurrency=4,
                                               service_time=ExponentialLatency(0.03)),
                    policy=TargetUtilization(0.3), min_instances=1, max_instances=6,
                    evaluation_interval=2.0, scale_out_cooldown=0.0, scale_in_cooldown=0.0,
                    metric_window=30.0)
    sim = Simulation(duration=40.0, sources=[Source.poisson(200.0, lb, name="src")],
                     entities=[lb, sc], seed=3)
    sim.schedule(sc.start())
    m = both_engines(sim, replicas=(0,))
    assert m["sc.evaluations"] == 21


def test_presets_unchanged_without_lifecycle_features():
    # With no start-up delay, no grace and no window every result of the presets equals,
    # value for value, what the build before instance lifecycle gave (tests/golden).
    import json
    from pathlib import Path

    from fastdeploy.presets import PRESETS

    golden = json.loads((Path(__file__).parent / "golden" /
                         "presets_before_lifecycle.json").read_text())["presets"]
    import os

    # Replicas are independent: without the kernels compiled, check the first two.
    n = 2 if os.environ.get("NUMBA_DISABLE_JIT") == "1" else 12
    for name, before in golden.items():
        res = PRESETS[name](seed=7).run_batch(n, timeseries=10.0)
        for part in ("table", "scaling_events", "timeseries"):
            now = getattr(res, part).to_pydict()
            keep = [i for i, r in enumerate(before[part]["replica"]) if r < n]
            for column, values in before[part].items():
                assert now[column] == [values[i] for i in keep], (name, part, column)


@pytest.mark.parametrize("old, new, message", [
    ('startup_delay = { kind = "exponential", mean_latency = 60 }', "startup_delay = -5",
     "templates.web_booting.startup_delay: must be >= 0.0, got -5.0"),
    ('startup_delay = { kind = "exponential", mean_latency = 60 }', 'startup_delay = "x"',
     "templates.web_booting.startup_delay: expected a number, got 'x'"),
    ('startup_delay = { kind = "exponential", mean_latency = 60 }', "termination_grace = -1",
     "templates.web_booting.termination_grace: must be >= 0.0, got -1.0"),
    ("scale_in_cooldown = 60", "scale_in_cooldown = 60\nmetric_window = -3",
     "autoscalers[0].metric_window: must be >= 0.0, got -3.0"),
])
def test_scenario_file_lifecycle_keys_are_checked(old, new, message):
    from fastdeploy.presets import preset_path
    from fastdeploy.scenario import ScenarioError, loads

    text = preset_path("autoscale-boot").read_text().replace(old, new)
    with pytest.raises(ScenarioError, match=message.replace("[", r"\[").replace("]", r"\]")):
        loads(text).build(0)


def test_scenario_file_lifecycle_keys_reach_the_servers():
    from fastdeploy.presets import preset_path
    from fastdeploy.scenario import loads

    text = preset_path("autoscale-boot").read_text().replace(
        "scale_in_cooldown = 60", "scale_in_cooldown = 60\nmetric_window = 30").replace(
        'startup_delay = { kind = "exponential", mean_latency = 60 }',
        "startup_delay = 45\ntermination_grace = 5")
    params = loads(text).build(0).batch_parameters()
    assert params["scaler.metric_window"] == 30.0
    assert params["scaler.server.startup_delay.latency"] == 45.0
    assert params["scaler.server.termination_grace"] == 5.0


def test_backends_changed_between_building_and_running():
    # After the Simulation is built and before it runs, adding and removing backends
    # edits the initial fleet (this raised AttributeError before).
    a, b, c = Server("a"), Server("b"), Server("c")
    lb = LoadBalancer("lb", backends=[a, c])
    sim = Simulation(duration=2.0, sources=[Source.constant(2.0, lb, name="src")],
                     entities=[lb])
    lb.add_backend(b)
    lb.remove_backend(c)
    m = both_engines(sim)
    assert m["requests_completed"] == 3 and m["instance_seconds"] == pytest.approx(4.0)
    assert b.ready
