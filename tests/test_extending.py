"""The extension point: a scaling policy written as a numba function (NumbaPolicy) runs in
both engines, with the same answers, its own parameters and a memory per run."""

import importlib.util
import math
import os

import numpy as np
import pytest

from fastdeploy import ConstantLatency, LoadBalancer, Server, Simulation, Source
from fastdeploy.batch.lower import LoweringError
from fastdeploy.deployment import AutoScaler, NumbaPolicy
from fastdeploy.deployment.numba_policy import OBS_MAX, OBS_TIME

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "examples", "predictive_policy.py")


def _example():
    spec = importlib.util.spec_from_file_location("predictive_policy", EXAMPLE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def fixed(obs, params, memory):
    return int(params[0])


def counting(obs, params, memory):
    """One more instance per evaluation: the memory counts evaluations of this run."""
    memory[0] += 1.0
    return int(memory[0]) + 1


def clock_reader(obs, params, memory):
    """Wants max when the evaluation time is past params[0] seconds, else 1."""
    return int(obs[OBS_MAX]) if obs[OBS_TIME] > params[0] else 1


def small(policy, end=60.0, interval=5.0):
    make = lambda name: Server(name, concurrency=1, service_time=ConstantLatency(0.05))
    lb = LoadBalancer("lb", backends=[make("server_0")])
    src = Source("traffic", 10.0, lb, poisson=True)
    scaler = AutoScaler("scaler", lb, make, policy=policy, max_instances=8,
                        evaluation_interval=interval, scale_out_cooldown=0, scale_in_cooldown=0)
    sim = Simulation(end_time=end, sources=[src], entities=[lb, scaler], seed=5)
    sim.schedule(scaler.start())
    return sim


def _events(table, replica):
    rows = [r for r in table.to_pylist() if r["replica"] == replica]
    return [(r["time"], r["action"], r["from_count"], r["to_count"]) for r in rows]


def test_the_example_agrees_in_both_engines():
    sim = _example().scenario()
    batch = sim.run_batch(3)
    for row in batch.table.to_pylist():
        metrics = sim.run(replica=row["replica"]).metrics
        for name, value in metrics.items():
            assert row[name] == value, (row["replica"], name)


def test_a_fixed_answer_scales_to_it_at_the_first_evaluation():
    sim = small(NumbaPolicy(fixed, params={"n": 5}))
    batch = sim.run_batch(1)
    assert _events(batch.scaling_events, 0)[0] == (0.0, "scale_out", 1, 5)
    sim.run(replica=0)
    history = sim.entities[1].scaling_history
    assert (history[0].time.to_seconds(), history[0].to_count) == (0.0, 5)
    assert batch.table.column("final_instances").to_pylist() == [5]


def test_memory_starts_at_zero_in_every_run():
    sim = small(NumbaPolicy(counting, memory=1), end=20.0)
    batch = sim.run_batch(3)
    # Evaluations at 0, 5, 10, 15, 20 want 2, 3, 4, 5, 6 instances, in every replica.
    expected = [(5.0 * k, "scale_out", k + 1, k + 2) for k in range(5)]
    for replica in range(3):
        assert _events(batch.scaling_events, replica) == expected
        sim.run(replica=replica)
        got = [(e.time.to_seconds(), e.action, e.from_count, e.to_count)
               for e in sim.entities[1].scaling_history]
        assert got == expected


def test_the_function_reads_the_clock_and_the_limits():
    sim = small(NumbaPolicy(clock_reader, params={"after": 12.0}))
    batch = sim.run_batch(1)
    assert _events(batch.scaling_events, 0) == [(15.0, "scale_out", 1, 8)]


def test_params_are_sweepable_and_replay_uses_them():
    sim = small(NumbaPolicy(fixed, params={"n": 3}))
    assert "scaler.policy.params.n" in sim.batch_parameters()
    batch = sim.run_batch(4, params={"scaler.policy.params.n": np.array([2, 3, 4, 6])})
    assert batch.table.column("final_instances").to_pylist() == [2, 3, 4, 6]
    replayed = batch.replay(3)
    assert replayed.summary.metrics["final_instances"] == 6


def test_the_protocol_alone_works_without_a_scaler():
    policy = NumbaPolicy(fixed, params={"n": 4})
    assert policy.evaluate([], 0, 1, 10) == 4


@pytest.mark.parametrize("args, error", [
    (("not a function",), TypeError),
    ((fixed, {"1bad": 1.0}), ValueError),
    ((fixed, {"n": math.nan}), ValueError),
    ((fixed, None, -1), ValueError),
])
def test_bad_arguments_are_refused(args, error):
    with pytest.raises(error):
        NumbaPolicy(*args)


def test_more_distinct_functions_than_the_kernels_hold_are_refused():
    make = lambda name: Server(name, concurrency=1, service_time=ConstantLatency(0.05))
    functions = [fixed, counting, clock_reader, _example().predictive, lambda o, p, m: 1]
    entities = []
    for k, fn in enumerate(functions):
        lb = LoadBalancer(f"lb{k}", backends=[make(f"s{k}")])
        entities += [lb, AutoScaler(f"scaler{k}", lb, make, policy=NumbaPolicy(fn, {"n": 1.0}))]
    sim = Simulation(end_time=1.0, entities=entities)
    with pytest.raises(LoweringError, match="at most 4 different NumbaPolicy functions"):
        sim.run_batch(1)
