"""The batch engine as a tool: results independent of how replicas are run (SPEC 3),
per-replica parameters, what it refuses to lower, growing capacity, time series and
replay (SPEC 8)."""

from __future__ import annotations

import os

import numba
import numpy as np
import pyarrow as pa
import pytest

from fastdeploy import (ConstantLatency, Entity, ExponentialLatency, Instant, LoadBalancer,
                        PowerOfTwoChoices, Random, Server, Simulation, Source, SpikeProfile,
                        UniformLatency)
from fastdeploy.batch.lower import LoweringError, lower
from fastdeploy.batch.run import run_model
from fastdeploy.deployment import (AutoScaler, CanaryDeployer, CanaryStage, RollingDeployer,
                                   StepScaling, TargetUtilization)
from fastdeploy.deployment.evaluators import ErrorRateEvaluator
from fastdeploy.presets import autoscale_spike, canary_bad, rolling

NO_JIT = os.environ.get("NUMBA_DISABLE_JIT") == "1"
HORIZON = 20 if NO_JIT else 40


def build(seed=1, target=0.6, mean_latency=0.08, canary_pct=0.25, batch_size=1,
          horizon=HORIZON, start=0.0):
    """Every kind of component and stream: a Random load balancer with a scaler, a canary
    and a rolling deployer; a power-of-two load balancer fed by a second source."""
    def server(name, mean=0.05, failure_rate=0.0):
        return Server(name, concurrency=2, service_time=ExponentialLatency(mean),
                      failure_rate=failure_rate)

    lb = LoadBalancer("lb", backends=[server("s0", mean_latency), server("s1"), server("s2")],
                      strategy=Random())
    side = LoadBalancer("side", strategy=PowerOfTwoChoices(), backends=[
        Server("p0", concurrency=1, service_time=UniformLatency(0.01, 0.2)),
        Server("p1", concurrency=1, service_time=ConstantLatency(0.05), queue_capacity=2)])
    traffic = Source("traffic", SpikeProfile(15, 45, 5, 10), lb)
    other = Source("other", 12, side, poisson=True)
    scaler = AutoScaler("scaler", lb, lambda n: server(n, 0.1), policy=TargetUtilization(target),
                        min_instances=1, max_instances=8, evaluation_interval=2,
                        scale_out_cooldown=4, scale_in_cooldown=8)
    canary = CanaryDeployer("canary", lb, lambda n: server(n, 0.05, 0.02),
                            stages=[CanaryStage(0.1, 4), CanaryStage(canary_pct, 4),
                                    CanaryStage(1.0, 4)],
                            metric_evaluator=ErrorRateEvaluator(0.1), evaluation_interval=2)
    roll = RollingDeployer("roll", side, lambda n: server(n, 0.03), batch_size=batch_size,
                           health_check_interval=1, healthy_threshold=2, max_failures=2)
    sim = Simulation(start_time=start, end_time=start + horizon, sources=[traffic, other],
                     entities=[lb, side, scaler, canary, roll], seed=seed)
    sim.schedule(scaler.start(at=start + 1))
    sim.schedule(canary.deploy(at=start + 6))
    sim.schedule(roll.deploy(at=start + 3))
    return sim


def rows_of(table, replicas=None):
    rows = {r["replica"]: r for r in table.to_pylist()}
    return rows if replicas is None else [rows[r] for r in replicas]


def events_of(table, replica):
    return [{k: v for k, v in r.items() if k != "replica"}
            for r in table.to_pylist() if r["replica"] == replica]


def without(row, keys):
    return {k: v for k, v in row.items() if k not in keys}


# -- invariance (SPEC 3) -----------------------------------------------------------------------

N_INV = 8


@pytest.fixture(scope="module")
def sim():
    return build()


@pytest.fixture(scope="module")
def base(sim):
    """run_batch(8) with all threads, and a time series."""
    return sim.run_batch(N_INV, timeseries=2.0)


def test_threads_do_not_change_results(sim, base):
    threads = min(2, numba.config.NUMBA_NUM_THREADS)
    one = sim.run_batch(N_INV, threads=1, timeseries=2.0)
    many = sim.run_batch(N_INV, threads=threads, timeseries=2.0)
    assert one.table.equals(many.table)
    assert one.table.equals(base.table)
    assert one.scaling_events.equals(many.scaling_events)
    assert one.timeseries.equals(many.timeseries)
    assert len(base.scaling_events) > 0  # the check covers scaling


def test_batch_size_does_not_change_results(sim, base):
    three = sim.run_batch(3, timeseries=2.0)
    assert three.table.equals(base.table.slice(0, 3))
    assert three.scaling_events.to_pylist() == [
        r for r in base.scaling_events.to_pylist() if r["replica"] < 3]
    assert three.timeseries.to_pylist() == [
        r for r in base.timeseries.to_pylist() if r["replica"] < 3]


def test_replica_order_and_subset_do_not_change_results(sim, base):
    picked = np.array([5, 2, 7])
    sub = sim.run_batch(picked, timeseries=2.0)
    assert sub.table.column("replica").to_pylist() == [5, 2, 7]
    assert sub.table.equals(base.table.take(pa.array(picked)))
    for r in picked:
        assert events_of(sub.scaling_events, r) == events_of(base.scaling_events, r)
        assert events_of(sub.timeseries, r) == events_of(base.timeseries, r)


def test_repeated_replica_gives_identical_rows(sim, base):
    """Nothing carries over from one replica to the next run in the same workspace."""
    rep = sim.run_batch(np.array([4, 4, 1, 4]), threads=1, timeseries=2.0)
    rows = rep.table.to_pylist()
    assert rows[0] == rows[1] == rows[3] == base.table.to_pylist()[4]
    assert rows[2] == base.table.to_pylist()[1]
    series = rep.timeseries.to_pylist()
    n = len(series) // 4
    first = [{k: v for k, v in r.items() if k != "replica"} for r in series[:n]]
    last = [{k: v for k, v in r.items() if k != "replica"} for r in series[3 * n:]]
    assert first == last == events_of(base.timeseries, 4)


def test_chunking_does_not_change_results(sim, base):
    """Replicas run in chunks (of 2048 normally); a chunk of 3 gives the same rows."""
    model = lower(sim)
    table, events, _, _ = run_model(model, np.arange(N_INV, dtype=np.int64), sim.seed,
                                    chunk=3)
    assert table.equals(base.table)
    assert events.equals(base.scaling_events)


def test_replicas_are_distinct_and_reproducible(sim, base):
    created = base.table.column("requests_created").to_pylist()
    assert len(set(created)) > 1
    again = sim.run_batch(N_INV, timeseries=2.0)
    assert again.table.equals(base.table)


def test_seed_argument_equals_simulation_seed(agree):
    ref = build(seed=9, horizon=15)
    res = build(seed=1, horizon=15).run_batch(3, seed=9)
    assert res.table.column("seed").to_pylist() == [9, 9, 9]
    assert res.table.equals(ref.run_batch(3).table)
    agree(ref, res, [0, 2], [ref.entities[2]])


def test_large_replica_index_agrees(agree):
    sim = build(horizon=15)
    rep = 2**40 + 3
    res = sim.run_batch(np.array([rep]))
    agree(sim, res, [rep], [sim.entities[2]])


def test_bad_replica_arguments():
    sim = build(horizon=5)
    for bad in (0, -1, np.array([], dtype=np.int64), np.array([1, -2]), np.array([0.5])):
        with pytest.raises(ValueError):
            sim.run_batch(bad)


# -- per-replica parameters --------------------------------------------------------------------

SWEEPS = [
    ("scaler.policy.target", "target", [0.5, 0.7, 0.9]),
    ("s0.service_time.mean_latency", "mean_latency", [0.02, 0.08, 0.2]),
    ("canary.stages.1.traffic_percentage", "canary_pct", [0.25, 0.5, 1.0]),
    ("roll.batch_size", "batch_size", [1, 2, 3]),
]


@pytest.mark.parametrize("path,kwarg,values", SWEEPS, ids=[s[0] for s in SWEEPS])
def test_params_equal_building_with_the_values(path, kwarg, values, row_diff):
    horizon = 15 if NO_JIT else 30
    swept = build(horizon=horizon).run_batch(len(values), params={path: values})
    rows = rows_of(swept.table, range(len(values)))
    for r, v in enumerate(values):
        ref = build(horizon=horizon, **{kwarg: v})
        assert ref.batch_parameters()[path] == v
        plain = ref.run_batch(np.array([r]))
        # SPEC 8 lets the table carry the swept parameter as a column; ignore it here.
        assert without(rows[r], {path}) == without(plain.table.to_pylist()[0], {path}), (path, v)
        assert events_of(swept.scaling_events, r) == events_of(plain.scaling_events, r)
        metrics = ref.run(replica=r).metrics
        assert row_diff(without(rows[r], {path}), metrics) == [], (path, v)
        history = [(e.time.to_seconds(), e.action, e.from_count, e.to_count)
                   for e in ref.entities[2].scaling_history]
        assert [(e["time"], e["action"], e["from_count"], e["to_count"])
                for e in events_of(swept.scaling_events, r)] == history


def test_scalar_param_applies_to_every_replica():
    sim = build(horizon=10)
    swept = sim.run_batch(2, params={"scaler.policy.target": 0.9})
    ref = build(horizon=10, target=0.9).run_batch(2)
    keys = set(ref.table.column_names)
    assert [without(r, set(r) - keys) for r in swept.table.to_pylist()] == ref.table.to_pylist()


def test_batch_parameters_lists_paths_with_current_values():
    p = autoscale_spike().batch_parameters()
    assert p["scaler.policy.target"] == 0.6
    assert p["scaler.policy.tolerance"] == 0.1
    assert p["scaler.max_instances"] == 20 and isinstance(p["scaler.max_instances"], int)
    assert p["scaler.evaluation_interval"] == 5.0
    assert p["server_0.concurrency"] == 4 and isinstance(p["server_0.concurrency"], int)
    assert p["server_0.service_time.mean_latency"] == 0.1
    assert p["traffic.profile.spike_rate"] == 100.0
    assert p["scaler.server.service_time.mean_latency"] == 0.1
    r = rolling().batch_parameters()
    assert r["rolling.batch_size"] == 2 and r["rolling.healthy_threshold"] == 2
    assert r["rolling.health_check_interval"] == 2.0
    assert r["server_7.queue_capacity"] == 100
    c = canary_bad().batch_parameters()
    assert c["canary.stages.0.traffic_percentage"] == 0.01
    assert c["canary.stages.3.evaluation_period"] == 30.0
    assert c["canary.server.failure_rate"] == 0.05
    assert c["canary.metric_evaluator.max_error_rate"] == 0.05
    b = build().batch_parameters()
    assert b["s0.service_time.mean_latency"] == 0.08
    assert b["p0.service_time.low"] == 0.01 and b["p0.service_time.high"] == 0.2
    assert b["p1.service_time.latency"] == 0.05
    assert b["canary.stages.1.traffic_percentage"] == 0.25
    # Every listed path is accepted as a parameter with its own value.
    sim = build(horizon=5)
    res = sim.run_batch(1, params={k: [v] for k, v in b.items()})
    assert without(res.table.to_pylist()[0], set(b)) == sim.run_batch(1).table.to_pylist()[0]


def test_unknown_param_path_is_refused():
    with pytest.raises(KeyError, match="scaler.policy.targte"):
        build(horizon=5).run_batch(2, params={"scaler.policy.targte": [0.5, 0.6]})


def test_param_of_wrong_length_is_refused():
    with pytest.raises(ValueError, match="scaler.policy.target"):
        build(horizon=5).run_batch(3, params={"scaler.policy.target": [0.5, 0.6]})


@pytest.mark.parametrize("path,values,named", [
    ("scaler.policy.target", [0.5, 1.5], "scaler.policy.target"),
    ("scaler.policy.target", [0.0, 0.5], "scaler.policy.target"),
    ("roll.batch_size", [1, 0], "roll.batch_size"),
    ("roll.batch_size", [1.5, 2], "roll.batch_size"),
    ("s0.concurrency", [0, 2], "s0.concurrency"),
    ("s0.failure_rate", [0.5, 1.01], "s0.failure_rate"),
    ("scaler.evaluation_interval", [2.0, 0.0], "scaler.evaluation_interval"),
    ("canary.stages.0.traffic_percentage", [0.0, 0.5], "canary.stages.0.traffic_percentage"),
    ("s0.service_time.mean_latency", [float("nan"), 0.1], "s0.service_time.mean_latency"),
])
def test_out_of_range_param_is_refused(path, values, named):
    with pytest.raises(ValueError, match=named.replace(".", r"\.")):
        build(horizon=5).run_batch(2, params={path: values})


def test_min_above_max_row_is_refused():
    with pytest.raises(ValueError, match="scaler.*min_instances"):
        build(horizon=5).run_batch(3, params={"scaler.min_instances": [1, 9, 1]})
    with pytest.raises(ValueError, match="scaler.*min_instances"):
        build(horizon=5).run_batch(2, params={"scaler.min_instances": [2, 3],
                                              "scaler.max_instances": [4, 2]})


def test_uniform_high_below_low_row_is_refused():
    with pytest.raises(ValueError, match="p0.service_time"):
        build(horizon=5).run_batch(2, params={"p0.service_time.high": [0.5, 0.001]})


# -- what the batch engine refuses --------------------------------------------------------------

class Tap(Entity):
    """A user entity: forwards requests."""

    def __init__(self, name, target):
        super().__init__(name)
        self.target = target

    def handle_event(self, event):
        event.target = self.target
        return self.target.handle_event(event)


class HalfPolicy:
    """A user scaling policy."""

    def evaluate(self, backends, current_count, min_instances, max_instances):
        return max(min_instances, min(max_instances, current_count + 1))


class AlwaysHealthy:
    """A user canary evaluator."""

    def is_healthy(self, canary, baseline_backends):
        return True


class FastServer(Server):
    """A user subclass of a built-in part."""


def small(lb, entities=(), source_target=None):
    src = Source("src", 5, source_target or lb, poisson=False)
    return Simulation(end_time=5, sources=[src], entities=[lb, *entities])


def refused_scenarios():
    def lb(*backends):
        return LoadBalancer("lb", backends=list(backends) or [Server("s0")])

    out = {}
    b = lb()
    tap = Tap("tap", b)
    out["user entity"] = ("tap", small(b, [tap], tap))
    b = lb()
    out["user policy"] = ("scaler", small(b, [AutoScaler("scaler", b, Server,
                                                         policy=HalfPolicy())]))
    b = lb()
    out["subclassed policy"] = ("scaler", small(b, [AutoScaler(
        "scaler", b, Server, policy=type("MyTarget", (TargetUtilization,), {})())]))
    b = lb()
    out["user evaluator"] = ("canary", small(b, [CanaryDeployer(
        "canary", b, Server, metric_evaluator=AlwaysHealthy())]))
    out["Server subclass"] = ("fast", small(lb(FastServer("fast"))))
    b = lb()
    out["factory of a subclass"] = ("roll", small(b, [RollingDeployer("roll", b, FastServer)]))
    return out


@pytest.mark.parametrize("case", sorted(refused_scenarios()))
def test_non_builtin_parts_are_refused(case):
    name, sim = refused_scenarios()[case]
    with pytest.raises(LoweringError) as info:
        sim.run_batch(2)
    message = str(info.value)
    assert repr(name) in message or name in message, message
    assert "object engine" in message and "sim.run" in message, message
    assert isinstance(info.value, TypeError)
    sim.run(replica=0)  # the object engine runs it


def test_scenario_without_end_time_is_refused():
    lb = LoadBalancer("lb", backends=[Server("s0")])
    sim = Simulation(sources=[Source("src", 5, lb, stop_after=3)], entities=[lb])
    with pytest.raises(LoweringError, match="end"):
        sim.run_batch(1)
    with pytest.raises(LoweringError, match="end"):
        sim.batch_parameters()
    infinite = Simulation(end_time=Instant.Infinity, sources=[Source("src2", 5, lb,
                                                                     stop_after=3)])
    with pytest.raises(LoweringError):
        infinite.run_batch(1)


# -- capacity ------------------------------------------------------------------------------------

def test_unbounded_queue_grows_the_pool_and_agrees(agree):
    rate, horizon = (100, 15) if NO_JIT else (200, 30)
    server = Server("slow", concurrency=1, service_time=ConstantLatency(0.1))
    lb = LoadBalancer("lb", backends=[server])
    sim = Simulation(end_time=horizon, sources=[Source.poisson(rate, lb, name="flood")],
                     entities=[lb], seed=4)
    res = sim.run_batch(np.array([0, 1]))
    for row in res.table.to_pylist():
        backlog = row["requests_created"] - row["requests_completed"]
        assert row["requests_completed"] <= horizon * 10 + 1
        assert backlog > 4 * lower(sim).pool_cap  # the pool had to grow (re-runs)
    agree(sim, res, [0, 1])


def test_growth_for_one_replica_does_not_change_the_others():
    """One replica in the middle overflows the first capacity guess and is re-run with
    more room; the replicas before and after it come out as when run alone."""
    def make():
        lb = LoadBalancer("lb", backends=[Server("s0", service_time=ExponentialLatency(0.01))])
        return Simulation(end_time=10 if NO_JIT else 20,
                          sources=[Source.poisson(60, lb, name="src")], entities=[lb], seed=8)
    means = [0.01, 0.5, 0.01, 0.02]
    swept = make().run_batch(np.array([0, 1, 2, 3]), threads=1,
                             params={"s0.service_time.mean_latency": means})
    rows = swept.table.to_pylist()
    assert rows[1]["requests_created"] - rows[1]["requests_completed"] > lower(make()).pool_cap
    for r, mean in enumerate(means):
        alone = make().run_batch(np.array([r]),
                                 params={"s0.service_time.mean_latency": [mean]})
        assert alone.table.to_pylist()[0] == rows[r], r


def test_scaler_churn_grows_the_server_bank_and_agrees(agree):
    """More servers than the first guess (instances are never reused): re-run larger."""
    lb = LoadBalancer("lb", backends=[Server("s0", service_time=ConstantLatency(0.05))])
    scaler = AutoScaler("scaler", lb, lambda n: Server(n, service_time=ConstantLatency(0.05)),
                        policy=StepScaling([(0.0, 3), (0.5, -3), (0.6, 3)]), min_instances=1,
                        max_instances=4, evaluation_interval=0.5, scale_out_cooldown=0,
                        scale_in_cooldown=0)
    src = Source("src", SpikeProfile(5, 30, 2, 3), lb, poisson=False)
    sim = Simulation(end_time=20, sources=[src], entities=[lb, scaler], seed=2)
    sim.schedule(scaler.start())
    res = sim.run_batch(2)
    row = res.table.to_pylist()[0]
    assert row["scaler.instances_added"] + 1 > lower(sim).server_cap
    agree(sim, res, [0, 1], [scaler])


# -- time series ----------------------------------------------------------------------------------

TS_COLUMNS = ["replica", "time", "instances", "queue_depth", "utilization", "in_flight",
              "ready_instances", "booting_instances"]


@pytest.mark.parametrize("start,step", [(0.0, 1.0), (2.5, 3.0)])
def test_timeseries_shape_and_endpoints(start, step):
    horizon = 15 if NO_JIT else 30
    sim = build(horizon=horizon, start=start)
    res = sim.run_batch(3, timeseries=step)
    ts = res.timeseries
    assert ts.column_names == TS_COLUMNS
    n_steps = int(horizon // step) + 1
    assert len(ts) == 3 * n_steps
    rows = {r["replica"]: r for r in res.table.to_pylist()}
    initial = sum(len(lb.all_backends) for lb in sim.entities[:2])
    for rep in range(3):
        series = [r for r in ts.to_pylist() if r["replica"] == rep]
        assert [r["time"] for r in series] == pytest.approx(
            [start + k * step for k in range(n_steps)], abs=1e-9)
        assert series[0]["instances"] == initial
        assert series[-1]["instances"] == rows[rep]["final_instances"]
        assert max(r["instances"] for r in series) <= rows[rep]["peak_instances"]
        assert all(0.0 <= r["utilization"] <= 1.0 for r in series)
        assert all(r["queue_depth"] >= 0 and r["in_flight"] >= 0 for r in series)
        if start + (n_steps - 1) * step == start + horizon:
            row = rows[rep]
            assert series[-1]["in_flight"] == (row["requests_created"]
                                               - row["requests_completed"]
                                               - row["requests_rejected"])
    assert ts.schema.field("instances").type == pa.int64()
    assert ts.schema.field("utilization").type == pa.float64()
    assert res.table.equals(sim.run_batch(3).table)  # sampling changes nothing
    assert sim.run_batch(3).timeseries is None


def test_timeseries_step_must_be_positive():
    sim = build(horizon=5)
    for bad in (0.0, -1.0):
        with pytest.raises(ValueError):
            sim.run_batch(1, timeseries=bad)


# -- replay ---------------------------------------------------------------------------------------

def test_replay_reruns_one_replica_in_the_object_engine(row_diff):
    sim = build(horizon=10)
    res = sim.run_batch(np.array([3, 6]))
    for i in (6, 3):
        replayed = res.replay(i)
        assert isinstance(replayed, Simulation)
        assert replayed.summary.replica == i
        row = rows_of(res.table)[i]
        assert row_diff(row, replayed.summary.metrics) == []
        assert len(replayed.trace_log) > 0
        assert replayed.trace_log[0].time.nanoseconds >= 0
    with pytest.raises(ValueError):
        res.replay(4)


def test_replay_uses_the_rows_parameters(row_diff):
    """The README's example: replay(42) is replica 42 of the batch, params included."""
    sim = autoscale_spike()
    res = sim.run_batch(np.array([3, 42]), params={"scaler.policy.target": 0.5})
    replayed = res.replay(42)
    assert replayed.entities[1].policy.target == 0.5
    assert sim.entities[1].policy.target == 0.6  # the batch's simulation is left alone
    row = without(rows_of(res.table)[42], {"scaler.policy.target"})
    assert row_diff(row, replayed.summary.metrics) == []


REPLAY_PARAMS = {
    "scaler.policy.target": [0.5, 0.8], "scaler.scale_in_cooldown": [3, 12],
    "scaler.evaluation_interval": [1.5, 3], "scaler.max_instances": [3, 6],
    "scaler.server.service_time.mean_latency": [0.05, 0.2],
    "s0.service_time.mean_latency": [0.02, 0.3], "s1.concurrency": [1, 3],
    "p0.service_time.high": [0.1, 0.4], "p1.queue_capacity": [0, 5],
    "traffic.profile.spike_rate": [30, 90], "other.profile.rate": [5, 20],
    "canary.stages.1.traffic_percentage": [0.5, 0.9], "canary.evaluation_interval": [1, 3],
    "canary.metric_evaluator.max_error_rate": [0.01, 0.3], "canary.server.failure_rate": [0, 0.2],
    "roll.batch_size": [2, 1], "roll.health_check_interval": [0.5, 2],
    "roll.server.service_time.mean_latency": [0.01, 0.5],
}


def test_replay_applies_every_kind_of_parameter(row_diff):
    sim = build(horizon=10)
    res = sim.run_batch(2, params=REPLAY_PARAMS)
    for i in (0, 1):
        replayed = res.replay(i)
        for path, values in REPLAY_PARAMS.items():
            assert replayed.batch_parameters()[path] == values[i], path
        row = without(rows_of(res.table)[i], set(REPLAY_PARAMS))
        assert row_diff(row, replayed.summary.metrics) == [], i


def test_replay_of_steps_points_stop_after_and_latency_evaluator(row_diff):
    from fastdeploy import PiecewiseRateProfile
    from fastdeploy.deployment.evaluators import LatencyEvaluator

    def server(name):
        return Server(name, concurrency=2, service_time=ExponentialLatency(0.1))

    lb = LoadBalancer("lb", backends=[server("s0")])
    src = Source("src", PiecewiseRateProfile([(0, 10), (4, 40), (8, 5)]), lb, stop_after=10)
    scaler = AutoScaler("scaler", lb, server, policy=StepScaling([(0.8, 2), (0.3, -1)]),
                        max_instances=6, evaluation_interval=1)
    canary = CanaryDeployer("canary", lb, server, evaluation_interval=1,
                            stages=[CanaryStage(0.2, 2), CanaryStage(1.0, 2)],
                            metric_evaluator=LatencyEvaluator(0.5))
    sim = Simulation(end_time=12, sources=[src], entities=[lb, scaler, canary], seed=3)
    sim.schedule(scaler.start())
    sim.schedule(canary.deploy(at=2))
    params = {"scaler.policy.steps.0.threshold": [0.9, 0.6],
              "scaler.policy.steps.1.adjustment": [-2, 0],
              "src.profile.points.2.rate": [20, 1], "src.profile.points.1.time": [2, 6],
              "src.stop_after": [6, 11], "canary.metric_evaluator.max_latency": [0.05, 2],
              "canary.stages.0.evaluation_period": [1, 4]}
    res = sim.run_batch(2, params=params)
    for i in (0, 1):
        replayed = res.replay(i)
        row = without(rows_of(res.table)[i], set(params))
        assert row_diff(row, replayed.summary.metrics) == [], i


def test_replay_uses_the_batch_seed(row_diff):
    sim = build(seed=1, horizon=10)
    res = sim.run_batch(2, seed=12)
    replayed = res.replay(1)
    assert replayed.summary.seed == 12
    assert row_diff(rows_of(res.table)[1], replayed.summary.metrics) == []


def test_a_run_over_the_memory_budget_is_refused_before_it_starts():
    from fastdeploy.presets import rolling

    sim = rolling()
    with pytest.raises(MemoryError, match=r"needs about .* over the memory budget of 1\.0 MiB"):
        sim.run_batch(100_000, memory_budget=2**20)
    with pytest.raises(MemoryError, match="time-series samples"):
        sim.run_batch(10**7, timeseries=0.01)
    with pytest.raises(ValueError, match="memory_budget"):
        sim.run_batch(1, memory_budget=0)
    # Refused by the budget, before numpy is asked for the replica indices (745 GiB).
    with pytest.raises(MemoryError, match=r"99999999999 replicas\), over the memory budget"):
        sim.run_batch(99_999_999_999)
    with pytest.raises(MemoryError, match="over the memory budget"):
        sim.run_batch(10**9, params={"rolling.batch_size": 3})


def test_a_replica_planning_absurd_traffic_is_refused_before_it_runs():
    from fastdeploy.presets import rolling

    sim = rolling()
    with pytest.raises(ValueError, match=r"arrivals in one replica .* lower the rates"):
        sim.run_batch(1, params={"traffic.profile.rate": 1e12})


def test_will_compile_reads_numbas_cache_without_compiling(tmp_path, new_process):
    """True in a new process with an empty cache directory (and answered at once), False
    once the kernels ran; the figure quoted for a compile is the README's."""
    import time

    from fastdeploy.batch.compiled import COMPILE_SECONDS, will_compile

    build(horizon=1).run_batch(1)
    assert will_compile() is False
    t0 = time.perf_counter()
    out = new_process("from fastdeploy.batch.compiled import will_compile; "
                      "print(will_compile())", tmp_path, timeout=120)
    assert out.strip() == ("False" if NO_JIT else "True")
    assert time.perf_counter() - t0 < 10
    readme = open(os.path.join(os.path.dirname(__file__), "..", "README.md")).read()
    assert f"about {COMPILE_SECONDS} s on 2 cores" in readme


@pytest.mark.parametrize("preset, used", [
    ("autoscale-spike", {"scaler"}), ("hpa-spike", {"hpa"}), ("canary-bad", {"canary", "measured"}),
    ("rolling", {"rolling", "measured"}), ("flagger-bad", {"flagger", "measured"}),
    ("argo-canary-bad", {"argo", "measured"})])
def test_kernels_get_only_the_parts_a_scenario_uses(preset, used):
    # The kernels leave out (do not even compile) the parts that are None here.
    from fastdeploy.batch.bundles import PRESENT, make_parts
    from fastdeploy.batch.lower import lower
    from fastdeploy.presets import PRESETS

    parts = make_parts(lower(PRESETS[preset](seed=1)).scenario)
    assert {k for k, v in parts._asdict().items() if v is PRESENT} == used
    assert all(v is None for k, v in parts._asdict().items() if k not in used)
