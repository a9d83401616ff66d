"""Sweeps: parameter spaces, many points per kernel call, common random numbers, intervals,
sequential stopping, Parquet output and resume (docs/sweeps.md)."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fastdeploy.intervals import mean_interval, t_quantile, wilson_interval
from fastdeploy.presets import autoscale_spike
from fastdeploy.sweep import Space, Sweep, grid, latin_hypercube, random
from fastdeploy.sweep.execute import point_seed
from fastdeploy.sweep.plan import CHUNK_ROWS, chunk_points
from fastdeploy.sweep.space import Draw
from sweep_scenarios import NO_JIT, canary_sim, scale, scaler_sim

TESTS = os.path.dirname(os.path.abspath(__file__))
TARGET = "scaler.policy.target"
COOLDOWN = "scaler.scale_in_cooldown"
METRICS_SKIP = {"point", "replica", "seed"}


@pytest.fixture(scope="module")
def policy_sweep():
    """3 policies x replicas, common random numbers, run once for several tests."""
    n = scale(40, 12)
    sweep = Sweep(scaler_sim, grid({TARGET: [0.5, 0.6, 0.8]}), n)
    return sweep, sweep.run()


# -- spaces -------------------------------------------------------------------------------

def test_grid_is_the_cartesian_product_last_key_fastest():
    space = grid({TARGET: [0.5, 0.6, 0.7], COOLDOWN: [30, 60]})
    assert len(space) == 6 and space.keys == (TARGET, COOLDOWN)
    assert list(space) == [{TARGET: t, COOLDOWN: c} for t in (0.5, 0.6, 0.7) for c in (30, 60)]
    assert list(grid({TARGET: 0.5})) == [{TARGET: 0.5}]  # a scalar is a one-value list


@pytest.mark.parametrize("values, match", [
    ({TARGET: []}, "scaler.policy.target"),
    ({}, "values"),
    ({TARGET: [0.5, "x"]}, r"values\['scaler.policy.target'\]\[1\]"),
    ({TARGET: [math.nan]}, "finite"),
    ({TARGET: [True]}, "number"),
])
def test_grid_validation(values, match):
    with pytest.raises(ValueError, match=match):
        grid(values)


@pytest.mark.parametrize("make", [random, latin_hypercube])
def test_random_and_lhs_shapes_bounds_and_seeding(make):
    bounds = {TARGET: (0.4, 0.8), COOLDOWN: (10, 90)}
    a = make(50, bounds, seed=3)
    assert len(a) == 50 and a.keys == (TARGET, COOLDOWN)
    for p in a:
        assert 0.4 <= p[TARGET] < 0.8 and 10 <= p[COOLDOWN] < 90
    assert list(make(50, bounds, seed=3)) == list(a)  # reproducible
    assert list(make(50, bounds, seed=4)) != list(a)
    with pytest.raises(ValueError, match=r"bounds\['scaler.policy.target'\]: low 0.9 > high 0.5"):
        make(5, {TARGET: (0.9, 0.5)})
    with pytest.raises(ValueError, match="n must be"):
        make(0, bounds)
    with pytest.raises(ValueError, match="pair"):
        make(5, {TARGET: (0.5,)})
    with pytest.raises(ValueError, match="seed"):
        make(5, bounds, seed=-1)


def test_lhs_hits_every_stratum_of_every_dimension_once():
    n = 37
    bounds = {TARGET: (0.2, 0.9), COOLDOWN: (0, 120), "scaler.evaluation_interval": (1, 2)}
    space = latin_hypercube(n, bounds, seed=11)
    for key, (low, high) in bounds.items():
        strata = sorted(int((p[key] - low) / (high - low) * n) for p in space)
        assert strata == list(range(n)), key


def test_integer_parameters_get_integers_evenly():
    # Draw -> integer: a + floor(u * count) over ceil(low)..floor(high).
    assert [Draw(u, 1, 4).value(True) for u in (0.0, 0.24, 0.25, 0.5, 0.99)] == [1, 1, 2, 3, 4]
    assert [Draw(u, 1.5, 3.2).value(True) for u in (0.49, 0.5)] == [2, 3]
    with pytest.raises(ValueError, match="hold no integer"):
        Draw(0.5, 1.2, 1.8).value(True, "x")
    # Latin hypercube over 4 integers with 8 strata: each integer exactly twice.
    sweep = Sweep(scaler_sim, latin_hypercube(8, {"scaler.max_instances": (3, 6)}, seed=2), 1)
    values = [p["scaler.max_instances"] for p in sweep.points]
    assert all(type(v) is int for v in values)
    assert sorted(values) == [3, 3, 4, 4, 5, 5, 6, 6]
    # Random draws stay integers in range; grid values of integer parameters must be whole.
    sweep = Sweep(scaler_sim, random(20, {"scaler.max_instances": (2, 7)}, seed=0), 1)
    assert all(type(p["scaler.max_instances"]) is int and 2 <= p["scaler.max_instances"] <= 7
               for p in sweep.points)
    assert Sweep(scaler_sim, grid({"scaler.max_instances": [4.0]}), 1).points == [
        {"scaler.max_instances": 4}]
    with pytest.raises(ValueError, match="integer parameter"):
        Sweep(scaler_sim, grid({"scaler.max_instances": [4.5]}), 1)


def test_combining_spaces():
    a = grid({TARGET: [0.5, 0.6]})
    b = grid({COOLDOWN: [30, 60, 90]})
    prod = a * b
    assert len(prod) == 6 and prod.keys == (TARGET, COOLDOWN)
    assert list(prod) == [{TARGET: t, COOLDOWN: c} for t in (0.5, 0.6) for c in (30, 60, 90)]
    both = a + grid({TARGET: [0.7]})
    assert list(both) == [{TARGET: 0.5}, {TARGET: 0.6}, {TARGET: 0.7}]
    mixed = a + b  # points may set different paths
    assert len(mixed) == 5 and mixed.keys == (TARGET, COOLDOWN)
    rnd = random(4, {COOLDOWN: (10, 20)}, seed=1)
    assert len(a * rnd) == 8 and (a * rnd)[1] == {TARGET: 0.5, **rnd[1]}
    assert isinstance(prod[1:3], Space) and list(prod[1:3]) == list(prod)[1:3]
    with pytest.raises(ValueError, match="scaler.policy.target"):
        a * grid({TARGET: [0.7]})
    with pytest.raises(TypeError):
        a * 2
    # A path a point does not set runs with the scenario's value.
    sweep = Sweep(scaler_sim, mixed, 1)
    assert sweep.points[0] == {TARGET: 0.5, COOLDOWN: 8.0}
    assert sweep.points[2] == {TARGET: 0.6, COOLDOWN: 30.0}


@pytest.mark.parametrize("space, match", [
    (grid({"scaler.policy.targte": [0.5]}), r"unknown parameter path 'scaler.policy.targte'.*"
                                            r"scaler.policy.target"),
    (grid({TARGET: [0.5, 1.5]}), r"space point 1 .*scaler.policy.target"),
    (grid({"scaler.min_instances": [1, 9]}), r"space point 1 .*min_instances must be <= max"),
    (Space([]), "no points"),
])
def test_sweep_validates_the_space_against_the_scenario(space, match):
    with pytest.raises(ValueError, match=match):
        Sweep(scaler_sim, space, 2)


def test_sweep_argument_validation():
    with pytest.raises(ValueError, match="replicas"):
        Sweep(scaler_sim, grid({TARGET: [0.5]}), 0)
    with pytest.raises(TypeError, match="Simulation"):
        Sweep(lambda: 3, grid({TARGET: [0.5]}), 2)
    sweep = Sweep(scaler_sim(), grid({TARGET: [0.5]}), 2)  # a Simulation works too
    with pytest.raises(ValueError, match="until needs max_replicas"):
        sweep.run(until={"latency_mean": 0.1})
    with pytest.raises(ValueError, match="max_replicas only applies"):
        sweep.run(max_replicas=10)
    with pytest.raises(ValueError, match=r"max_replicas \(1\) must be >= replicas"):
        sweep.run(until={"latency_mean": 0.1}, max_replicas=1)
    with pytest.raises(ValueError, match="unknown metric 'latency_avg'"):
        sweep.run(until={"latency_avg": 0.1}, max_replicas=10)
    with pytest.raises(ValueError, match="positive"):
        sweep.run(until={"latency_mean": 0}, max_replicas=10)
    with pytest.raises(ValueError, match="resume=True needs out"):
        sweep.run(resume=True)


# -- the table -------------------------------------------------------------------------------

def test_table_layout_and_rows_equal_run_batch(policy_sweep):
    sweep, res = policy_sweep
    n = sweep.replicas
    t = res.table
    assert t.column_names[:4] == ["point", "replica", "seed", TARGET]
    assert t.num_rows == 3 * n
    assert t.column("point").to_pylist() == [p for p in range(3) for _ in range(n)]
    assert t.column("replica").to_pylist() == list(range(n)) * 3
    assert t.column(TARGET).to_pylist() == [v for v in (0.5, 0.6, 0.8) for _ in range(n)]
    assert list(res.replicas) == [n] * 3
    sim = scaler_sim()
    for p, value in enumerate((0.5, 0.6, 0.8)):
        ref = sim.run_batch(n, params={TARGET: value}).table
        mine = res.rows_of(p)
        for name in ref.column_names:
            assert mine.column(name).equals(ref.column(name)), (p, name)


@pytest.mark.parametrize("crn", [True, False])
def test_replay_runs_a_points_parameters(crn):
    sweep = Sweep(scaler_sim, grid({TARGET: [0.5, 0.8], COOLDOWN: [10, 40]}), 3, crn=crn)
    result = sweep.run()
    for point, replica in ((3, 2), ({TARGET: 0.5, COOLDOWN: 40}, 1)):
        i = result.point_index(point)
        replayed = result.replay(point, replica)
        assert replayed.batch_parameters()[COOLDOWN] == result.points[i][COOLDOWN]
        row = [r for r in result.rows_of(i).to_pylist() if r["replica"] == replica][0]
        assert replayed.summary.seed == row["seed"]
        for k, v in replayed.summary.metrics.items():
            assert row[k] == v or (isinstance(v, float) and math.isclose(row[k], v,
                                                                        rel_tol=1e-9)), k
    with pytest.raises(ValueError, match="no replica 3"):
        result.replay(0, 3)


def test_integer_parameter_columns_are_integers():
    sweep = Sweep(scaler_sim, grid({"scaler.max_instances": [3, 5], COOLDOWN: [8, 16]}), 2)
    t = sweep.run().table
    assert t.schema.field("scaler.max_instances").type == pa.int64()
    assert t.schema.field(COOLDOWN).type == pa.float64()
    assert t.column("scaler.max_instances").to_pylist() == [3, 3, 3, 3, 5, 5, 5, 5]


def test_many_points_per_kernel_call(monkeypatch):
    from fastdeploy.sweep import execute

    calls = []
    real = execute.run_model

    def spy(model, replica_ids, seed, **kw):
        calls.append((len(replica_ids), sorted(set(kw["params"][TARGET]))))
        return real(model, replica_ids, seed, **kw)

    sweep = Sweep(scaler_sim, grid({TARGET: [0.5, 0.6, 0.7, 0.8]}), 3)
    monkeypatch.setattr(execute, "run_model", spy)
    sweep.run(threads=1)
    assert calls == [(12, [0.5, 0.6, 0.7, 0.8])]


def test_common_random_numbers_pair_replicas(policy_sweep):
    sweep, res = policy_sweep
    n = sweep.replicas
    created = res.table.column("requests_created").to_numpy().reshape(3, n)
    assert (created == created[0]).all()  # same arrivals for replica k at every point
    cost = res.table.column("instance_seconds").to_numpy().reshape(3, n)
    assert not (cost == cost[0]).all()  # ... but the policies act differently
    assert set(res.table.column("seed").to_pylist()) == {0}
    # Without CRN every point has its own seed, hence its own arrivals.
    ind = Sweep(scaler_sim, grid({TARGET: [0.5, 0.6]}), scale(20, 8), crn=False).run()
    created = ind.table.column("requests_created").to_numpy().reshape(2, -1)
    assert (created[0] != created[1]).any()
    seeds = ind.table.column("seed").to_numpy().reshape(2, -1)
    assert seeds[0, 0] == point_seed(0, 0) and seeds[1, 0] == point_seed(0, 1)
    ref = scaler_sim().run_batch(3, seed=point_seed(0, 1), params={TARGET: 0.6}).table
    assert ind.rows_of(1).slice(0, 3).column("instance_seconds").equals(
        ref.column("instance_seconds"))


# -- intervals and summaries --------------------------------------------------------------------

def test_interval_known_values():
    p, lo, hi = wilson_interval(5, 10)
    assert (round(lo, 4), round(hi, 4)) == (0.2366, 0.7634)
    assert round(t_quantile(0.975, 9), 4) == 2.2622
    assert round(t_quantile(0.975, 29), 4) == 2.0452
    m, lo, hi = mean_interval([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0])
    half = 2.2622 * math.sqrt(55 / 6) / math.sqrt(10)
    assert m == 5.5 and abs((hi - lo) / 2 - half) < 1e-3


def test_summary_statistics_match_the_interval_functions(policy_sweep):
    sweep, res = policy_sweep
    s = res.summary
    assert s.num_rows == 3
    assert s.column_names[:3] == ["point", TARGET, "n"]
    assert s.column("n").to_pylist() == [sweep.replicas] * 3
    for p in range(3):
        row = s.to_pylist()[p]
        for name in ("latency_mean", "instance_seconds", "peak_instances"):
            x = res.rows_of(p).column(name).to_numpy().astype(float)
            m, lo, hi = mean_interval(x)
            lo = max(lo, 0.0)  # clipped to the support of a count or a duration
            assert row[f"{name}.n"] == x.size
            assert math.isclose(row[f"{name}.mean"], m, rel_tol=1e-12)
            assert math.isclose(row[f"{name}.ci_low"], lo, rel_tol=1e-9, abs_tol=1e-12)
            assert math.isclose(row[f"{name}.ci_high"], hi, rel_tol=1e-9, abs_tol=1e-12)
            for q in (50, 90, 99):
                assert row[f"{name}.p{q}"] == pytest.approx(np.percentile(x, q))


def test_null_latencies_are_left_out_and_counted():
    # At 0.05 requests/s some replicas complete nothing: their latencies are null.
    n = scale(30, 20)
    res = Sweep(scaler_sim, grid({"traffic.profile.rate": [0.05, 0.1]}), n).run()
    row = res.summary.to_pylist()[0]
    x = res.rows_of(0).column("latency_mean").to_numpy(zero_copy_only=False)
    present = x[~np.isnan(x)]
    assert 0 < present.size < n
    assert row["latency_mean.n"] == present.size and row["n"] == n
    assert math.isclose(row["latency_mean.mean"], present.mean(), rel_tol=1e-12)
    assert row["instance_seconds.n"] == n  # never null: every replica counts
    cmp = res.compare(0).to_pylist()[0]
    y = res.rows_of(1).column("latency_mean").to_numpy(zero_copy_only=False)
    assert cmp["latency_mean.n"] == int((~np.isnan(x) & ~np.isnan(y)).sum())


def test_outcome_probabilities_have_wilson_intervals():
    n = scale(30, 10)
    res = Sweep(canary_sim, grid({"canary.server.failure_rate": [0.0, 0.05, 0.3]}), n).run()
    s = res.summary.to_pylist()
    for p in range(3):
        status = res.rows_of(p).column("canary.status").to_pylist()
        for value in ("completed", "rolled_back"):
            k = sum(v == value for v in status)
            expect = wilson_interval(k, n)
            got = (s[p][f"canary.status={value}.mean"], s[p][f"canary.status={value}.ci_low"],
                   s[p][f"canary.status={value}.ci_high"])
            assert got == pytest.approx(expect)
    # A healthy canary completes, a bad one is rolled back.
    assert s[0]["canary.status=completed.mean"] > s[2]["canary.status=completed.mean"]


def test_compare_is_paired_by_replica(policy_sweep):
    sweep, res = policy_sweep
    cmp = res.compare({TARGET: 0.6})
    assert cmp.column("point").to_pylist() == [0, 2]
    assert cmp.column(TARGET).to_pylist() == [0.5, 0.8]
    base = res.rows_of(1).column("instance_seconds").to_numpy()
    other = res.rows_of(2).column("instance_seconds").to_numpy()
    m, lo, hi = mean_interval(other - base)
    row = cmp.to_pylist()[1]
    assert row["n"] == sweep.replicas
    assert math.isclose(row["instance_seconds.diff"], m, rel_tol=1e-12)
    assert math.isclose(row["instance_seconds.ci_low"], lo, rel_tol=1e-9)
    assert math.isclose(row["instance_seconds.ci_high"], hi, rel_tol=1e-9)
    assert row["requests_created.diff"] == 0 and row["requests_created.ci_low"] == 0
    assert res.compare(1).equals(cmp)
    unpaired = res.compare(1, paired=False).to_pylist()[1]
    assert math.isclose(unpaired["instance_seconds.diff"], m, rel_tol=1e-9)
    with pytest.raises(ValueError, match="3 points"):
        res.compare({})
    with pytest.raises(ValueError, match="no point"):
        res.compare({TARGET: 0.55})
    with pytest.raises(ValueError, match="out of range"):
        res.compare(7)


@pytest.mark.skipif(NO_JIT, reason="600 s of autoscale-spike per replica takes about 1 s as "
                    "plain Python; the pairing itself is covered by the small-scenario tests")
def test_paired_interval_is_much_narrower_on_autoscale_spike():
    n = 120
    space = grid({TARGET: [0.60, 0.62]})
    paired = Sweep(autoscale_spike, space, n).run().compare(0).to_pylist()[0]
    unpaired = Sweep(autoscale_spike, space, n, crn=False).run().compare(0, paired=False)
    unpaired = unpaired.to_pylist()[0]
    for name in ("latency_mean", "instance_seconds"):
        wp = paired[f"{name}.ci_high"] - paired[f"{name}.ci_low"]
        wu = unpaired[f"{name}.ci_high"] - unpaired[f"{name}.ci_low"]
        print(f"{name}: paired width {wp:.5g}, unpaired width {wu:.5g}, ratio {wu / wp:.1f}")
    wp = paired["latency_mean.ci_high"] - paired["latency_mean.ci_low"]
    wu = unpaired["latency_mean.ci_high"] - unpaired["latency_mean.ci_low"]
    assert wu > 3 * wp


# -- sequential stopping -------------------------------------------------------------------------

def _half(x):
    _, lo, hi = mean_interval(x)
    return (hi - lo) / 2


def test_sequential_stopping_stops_at_the_right_count():
    first, chunk, cap = scale(10, 6), scale(10, 4), scale(60, 22)
    space = grid({TARGET: [0.5, 0.8]})
    full = Sweep(scaler_sim, space, cap).run()
    schedule = list(range(first, cap, chunk)) + [cap]
    x0 = full.rows_of(0).column("instance_seconds").to_numpy()
    bound = _half(x0[:schedule[2]]) * 1.001  # point 0 stops by the third look
    expect = []
    for p in range(2):
        x = full.rows_of(p).column("instance_seconds").to_numpy()
        expect.append(next((k for k in schedule if _half(x[:k]) <= bound), cap))
    assert expect[0] <= schedule[2]
    res = Sweep(scaler_sim, space, first).run(until={"instance_seconds": bound},
                                             max_replicas=cap, chunk_replicas=chunk)
    assert list(res.replicas) == expect
    # The rows equal a single run with the final counts (replica indices continue).
    keep = np.concatenate([np.arange(cap) < expect[p] for p in range(2)])
    assert res.table.equals(full.table.filter(pa.array(keep)))


def test_sequential_stopping_never_exceeds_max_replicas():
    first, chunk, cap = 4, 3, scale(17, 11)  # cap is not on the chunk grid
    res = Sweep(scaler_sim, grid({TARGET: [0.5, 0.7]}), first).run(
        until={"instance_seconds": 1e-9}, max_replicas=cap, chunk_replicas=chunk)
    assert list(res.replicas) == [cap, cap]
    assert res.table.column("replica").to_pylist() == list(range(cap)) * 2


def test_sequential_stopping_on_an_outcome_probability():
    first, cap = scale(10, 6), scale(40, 26)
    res = Sweep(canary_sim, grid({"canary.server.failure_rate": [0.0, 0.05]}), first).run(
        until={"canary.status=rolled_back": 0.12}, max_replicas=cap, chunk_replicas=4)
    n0, n1 = res.replicas
    assert n0 < n1 <= cap  # a sure outcome is settled quickly, an uncertain one is not
    s = res.summary.to_pylist()
    half = (s[0]["canary.status=rolled_back.ci_high"] - s[0]["canary.status=rolled_back.ci_low"]) / 2
    assert half <= 0.12


# -- output and resume ----------------------------------------------------------------------------

def test_parquet_output_is_a_dataset_of_chunks(tmp_path):
    out = tmp_path / "out"
    n = scale(12, 6)
    sweep = Sweep(scaler_sim, grid({TARGET: [0.5, 0.6, 0.8]}), n)
    res = sweep.run(out=out, chunk_replicas=4)
    files = sorted(f for f in os.listdir(out) if f.startswith("chunk-"))
    assert len(files) == -(-n // 4) and res.chunks_run == len(files)
    assert sorted(set(os.listdir(out)) - set(files)) == ["_manifest.json", "_summary.parquet"]
    assert files[0] == "chunk-p000000-000003-r000000000-000000004.parquet"
    manifest = json.loads((out / "_manifest.json").read_text())
    assert manifest["definition_hash"] == res.definition_hash and manifest["complete"]
    assert manifest["definition"]["points"] == [[0.5], [0.6], [0.8]]
    back = pq.read_table(out).sort_by([("point", "ascending"), ("replica", "ascending")])
    assert back.select(res.table.column_names).equals(res.table)
    assert not [f for f in os.listdir(out) if f.startswith(".")]  # no temporaries left
    # Resuming a finished sweep runs nothing and gives the same table.
    again = sweep.run(out=out, chunk_replicas=4, resume=True)
    assert again.chunks_run == 0 and again.chunks_reused == len(files)
    assert again.table.equals(res.table)
    with pytest.raises(FileExistsError, match="resume=True"):
        sweep.run(out=out, chunk_replicas=4)


def test_resume_refuses_a_different_sweep(tmp_path):
    out = tmp_path / "out"
    space = grid({TARGET: [0.5, 0.6]})
    Sweep(scaler_sim, space, 3).run(out=out)
    for other, kw, what in [(Sweep(scaler_sim, space, 3, seed=1), {}, "seed"),
                            (Sweep(scaler_sim, grid({TARGET: [0.5, 0.7]}), 3), {}, "points"),
                            (Sweep(scaler_sim, space, 3), {"chunk_replicas": 2}, "chunk_replicas"),
                            (Sweep(canary_sim, grid({"canary.server.failure_rate": [0.1]}), 3), {},
                             "scenario")]:
        with pytest.raises(ValueError, match=f"different sweep.*{what}"):
            other.run(out=out, resume=True, **kw)


def test_a_corrupt_chunk_is_redone(tmp_path):
    out = tmp_path / "out"
    n = scale(9, 6)
    sweep = Sweep(scaler_sim, grid({TARGET: [0.5, 0.8]}), n)
    ref = sweep.run(out=out, chunk_replicas=3)
    files = sorted(out.glob("chunk-*.parquet"))
    data = files[1].read_bytes()
    files[1].write_bytes(data[: len(data) // 2])  # truncated
    files[0].write_bytes(b"not parquet")
    (out / ".tmp-chunk-x.parquet.123.abc").write_bytes(b"partial")  # a killed write
    res = sweep.run(out=out, chunk_replicas=3, resume=True)
    assert res.chunks_run == 2 and res.chunks_reused == len(files) - 2
    assert res.table.equals(ref.table)
    assert pq.read_table(files[1]).num_rows == 2 * 3
    assert not list(out.glob(".tmp-*"))


def test_resume_after_a_killed_run_gives_the_uninterrupted_table(tmp_path):
    out = tmp_path / "out"
    n, chunk = scale(24, 12), 3
    n_chunks = n // chunk
    script = tmp_path / "run.py"
    script.write_text(textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {TESTS!r})
        from fastdeploy.sweep import Sweep, grid, runners
        from sweep_scenarios import scaler_sim
        real = runners.run_chunk
        def slow(model, task):  # slow chunks, so the kill lands mid-way
            table = real(model, task)
            time.sleep(0.4)
            return table
        runners.run_chunk = slow
        Sweep(scaler_sim, grid({{{TARGET!r}: [0.5, 0.6, 0.8]}}), {n}).run(
            out={str(out)!r}, chunk_replicas={chunk}, threads=1)
    """))
    proc = subprocess.Popen([sys.executable, str(script)], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 300
        while not list(out.glob("chunk-*.parquet")):
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "no chunk file after 300 s"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    written = len(list(out.glob("chunk-*.parquet")))
    assert 1 <= written < n_chunks
    sweep = Sweep(scaler_sim, grid({TARGET: [0.5, 0.6, 0.8]}), n)
    resumed = sweep.run(out=out, chunk_replicas=chunk, resume=True)
    assert resumed.chunks_reused == written and resumed.chunks_run == n_chunks - written
    whole = sweep.run(chunk_replicas=chunk)
    assert resumed.table.equals(whole.table)
    assert resumed.table.num_rows == 3 * n
    assert json.loads((out / "_manifest.json").read_text())["complete"]


def test_resume_of_a_sequential_sweep_is_exact(tmp_path):
    out = tmp_path / "out"
    space = grid({TARGET: [0.5, 0.8]})
    kw = dict(until={"instance_seconds": 1.0}, max_replicas=scale(20, 12), chunk_replicas=4)
    ref = Sweep(scaler_sim, space, 4).run(**kw)
    Sweep(scaler_sim, space, 4).run(out=out, **kw)
    later = sorted(out.glob("chunk-*.parquet"))[-1]
    later.unlink()  # as if killed before the last round finished
    res = Sweep(scaler_sim, space, 4).run(out=out, resume=True, **kw)
    assert res.chunks_run == 1
    assert res.table.equals(ref.table) and list(res.replicas) == list(ref.replicas)


def test_chunk_layout():
    assert chunk_points(100) == CHUNK_ROWS // 100 and chunk_points(10**6) == 1
    from fastdeploy.sweep.plan import first_round, next_round

    chunks = first_round(5, 7, 3)
    assert [(c.point_ids, c.lo, c.hi) for c in chunks] == [
        ((0, 1, 2, 3, 4), 0, 3), ((0, 1, 2, 3, 4), 3, 6), ((0, 1, 2, 3, 4), 6, 7)]
    nxt = next_round(np.array([1, 4]), 5, 7, 1, 3, 8)
    assert [(c.point_ids, c.lo, c.hi, c.block) for c in nxt] == [((1, 4), 7, 8, (0, 5))]


def test_a_python_sweep_with_out_writes_the_summary_as_the_cli_does(tmp_path):
    from fastdeploy.sweep.store import SUMMARY

    result = Sweep(scaler_sim, grid({TARGET: [0.5, 0.8]}), 2).run(out=tmp_path / "o")
    assert SUMMARY == "_summary.parquet"
    assert pq.read_table(tmp_path / "o" / SUMMARY).equals(result.summary)
    # Not part of the dataset of rows.
    assert pq.read_table(tmp_path / "o").num_rows == result.table.num_rows
