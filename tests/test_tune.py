"""fastdeploy.tune: SLO constraints, racing, the holdout, resume, the [tune] section and
the command (docs/tuning.md)."""

from __future__ import annotations

import math
import os

import numpy as np
import pyarrow as pa
import pytest

pytest.importorskip("optuna", reason="tuning needs the tune extra: pip install 'fastdeploy[tune]'")

from fastdeploy import ExponentialLatency, LoadBalancer, Server, Simulation, Source  # noqa: E402
from fastdeploy.scenario import ScenarioError, loads  # noqa: E402
from fastdeploy.tune import Choice, Constraint, Float, Int, Objective, Tuner  # noqa: E402
from fastdeploy.tune import racing  # noqa: E402
from test_cli import run_cli  # noqa: E402

# An M/M/c queue: one server, c slots, one FIFO queue, Poisson arrivals at LAMBDA/s,
# exponential service of mean 1/MU s. Cost grows with c; the mean latency limit picks the
# smallest c that meets it (Erlang C).
# Small, so that the kernels as plain Python (NUMBA_DISABLE_JIT=1) run it in seconds.
LAMBDA, MU, HORIZON, LIMIT = 80.0, 10.0, 5.0, 0.14
NO_JIT = os.environ.get("NUMBA_DISABLE_JIT") == "1"
C = "server_0.concurrency"


def mmc(seed: int = 0) -> Simulation:
    s = Server("server_0", concurrency=9, service_time=ExponentialLatency(1 / MU))
    return Simulation(end_time=HORIZON, sources=[Source.poisson(LAMBDA, s)], entities=[s],
                      seed=seed)


def erlang_c(c: int, a: float) -> float:
    """P(wait) in M/M/c with offered load a (Erlang B recursion, then C)."""
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    rho = a / c
    return b / (1 - rho + rho * b)


def mean_response(c: int) -> float:
    a = LAMBDA / MU
    if c <= a:
        return math.inf
    return 1 / MU + erlang_c(c, a) / (c * MU - LAMBDA)


TUNE = dict(replicas=4, budget=120, max_replicas=32, finalists=2, holdout_replicas=20,
            parallel=3, startup_trials=6)


def erlang_tuner(**kw) -> Tuner:
    return Tuner(mmc, {C: Int(4, 20)}, C, [f"mean(latency_mean) <= {LIMIT}"], **{**TUNE, **kw})


@pytest.fixture(scope="module")
def plain():
    """The Erlang tune run once, in memory (several tests compare with it)."""
    return erlang_tuner().run()


# -- the synthetic check ------------------------------------------------------------------------
def test_erlang_c_finds_the_smallest_fleet_meeting_the_latency_limit(plain):
    best_c = min(c for c in range(1, 40) if mean_response(c) <= LIMIT)
    assert best_c == 10 and mean_response(best_c - 1) > LIMIT * 1.15  # a clear answer
    result = plain
    assert result.best is not None
    assert result.best["params"] == {C: best_c}
    figures = result.best["constraints"][f"mean(latency_mean) <= {LIMIT}"]
    assert figures["status"] == "feasible" and figures["high"] <= LIMIT
    # The holdout's estimate agrees with Erlang C (a short run starts empty: a little low).
    assert figures["estimate"] == pytest.approx(mean_response(best_c), rel=0.1)
    assert result.replicas <= 120
    # Smaller fleets were tried and shown infeasible.
    rows = result.trials.to_pylist()
    assert any(r[C] < best_c and r["status"] == "infeasible" for r in rows)
    assert all(r["status"] != "feasible" for r in rows if r[C] < best_c)
    # The holdout ran on other replicas than the search (fresh seed).
    assert set(result.holdout_table.column("seed").to_pylist()) == {result.holdout_seed}
    assert result.holdout_seed not in set(result.table.column("seed").to_pylist())


def test_common_random_numbers_and_repeated_points(plain):
    result = plain
    table = result.table
    created = {}
    for r in table.select(["point", "replica", "requests_created"]).to_pylist():
        created.setdefault(r["replica"], set()).add(r["requests_created"])
    # Every candidate saw the same arrivals, replica by replica.
    assert all(len(v) == 1 for v in created.values())
    rows = result.trials.to_pylist()
    repeats = [r for r in rows if r["stop"].startswith("same point as trial")]
    for r in repeats:   # a repeated point runs nothing and takes the first one's figures
        first = rows[int(r["stop"].rsplit(" ", 1)[1])]
        assert r["replicas"] == 0 and r[C] == first[C] and r["status"] == first["status"]
    assert result.search_replicas == sum(r["replicas"] for r in rows)
    assert table.num_rows == result.search_replicas


def test_same_seed_same_trials_and_another_seed_differs(plain):
    assert erlang_tuner(seed=0).run().trials.equals(plain.trials)   # mmc's seed is 0
    other = erlang_tuner(seed=4, trials=6).run().trials
    assert other.column(C).to_pylist() != plain.trials.column(C).to_pylist()[:6]


# -- resume -------------------------------------------------------------------------------------
class Stop(Exception):
    pass


def _interrupt_after(monkeypatch, method: str, calls: int):
    real = getattr(Tuner, method)
    count = {"n": 0}

    def wrapped(self, *a, **kw):
        count["n"] += 1
        if count["n"] > calls:
            raise Stop
        return real(self, *a, **kw)

    monkeypatch.setattr(Tuner, method, wrapped)


@pytest.mark.parametrize("method,calls", [("_tell", 4), ("_ask", 5), ("_run_tasks", 6)][
    :1 if NO_JIT else 3])
def test_interrupt_and_resume_give_the_trials_of_an_uninterrupted_run(tmp_path, monkeypatch,
                                                                     method, calls, plain):
    whole = plain
    with monkeypatch.context() as m:
        _interrupt_after(m, method, calls)
        with pytest.raises(Stop):
            erlang_tuner().run(out=tmp_path / "cut")
    resumed = erlang_tuner().run(out=tmp_path / "cut", resume=True)
    assert resumed.trials.equals(whole.trials)
    assert resumed.finalists.equals(whole.finalists)
    assert resumed.table.equals(whole.table)
    assert resumed.best == whole.best
    import pyarrow.parquet as pq

    # The directory reads as one dataset of the search's rows; the files are in place.
    assert pq.read_table(tmp_path / "cut").num_rows == whole.table.num_rows
    assert (tmp_path / "cut" / "_trials.parquet").is_file()
    assert pq.read_table(tmp_path / "cut" / "_trials.parquet").equals(whole.trials)


def test_interrupted_between_a_trial_and_its_point(tmp_path, monkeypatch, plain):
    """Stopped after Optuna created a trial but before its point was drawn: resuming
    draws it with the sampler it had, and the trials equal an uninterrupted run's."""
    real = Int.suggest
    count = {"n": 0}

    def suggest(self, trial, path):
        count["n"] += 1
        if count["n"] == 5:
            raise Stop
        return real(self, trial, path)

    with monkeypatch.context() as m:
        m.setattr(Int, "suggest", suggest)
        with pytest.raises(Stop):
            erlang_tuner().run(out=tmp_path / "cut")
    resumed = erlang_tuner().run(out=tmp_path / "cut", resume=True)
    assert resumed.trials.equals(plain.trials)


def test_resume_after_a_kill_mid_write_of_the_journal(tmp_path, plain):
    """A killed run may leave a half-written last journal line and Optuna's lock."""
    with pytest.MonkeyPatch.context() as m:
        _interrupt_after(m, "_tell", 5)
        with pytest.raises(Stop):
            erlang_tuner().run(out=tmp_path / "cut")
    journal = tmp_path / "cut" / "_optuna.journal"
    with open(journal, "ab") as f:
        f.write(b'{"op_code": 5, "worker_id": "x", "trial_id": 3, "us')
    (tmp_path / "cut" / "_optuna.journal.lock").symlink_to(tmp_path / "nowhere")
    resumed = erlang_tuner().run(out=tmp_path / "cut", resume=True)
    assert resumed.trials.equals(plain.trials)


def test_out_must_be_empty_and_resume_must_match(tmp_path):
    erlang_tuner().run(out=tmp_path / "t")
    with pytest.raises(FileExistsError, match="resume"):
        erlang_tuner().run(out=tmp_path / "t")
    with pytest.raises(ValueError, match="holds a different tune .*differs in: budget"):
        erlang_tuner(budget=121).run(out=tmp_path / "t", resume=True)
    with pytest.raises(ValueError, match="resume=True needs out"):
        erlang_tuner().run(resume=True)


# -- constraints --------------------------------------------------------------------------------
def _rows(**cols):
    return pa.table(cols)


def test_constraint_forms_parse():
    c = Constraint.parse("P(latency_p99 <= 0.5) >= 0.95")
    assert (c.kind, c.metric, c.op, c.value, c.bound_op, c.limit) == (
        "probability", "latency_p99", "<=", 0.5, ">=", 0.95)
    c = Constraint.parse('P(canary.status == "completed") >= 0.99')
    assert (c.metric, c.op, c.value) == ("canary.status", "==", "completed")
    c = Constraint.parse("mean(requests_dropped) <= 1")
    assert (c.kind, c.metric, c.bound_op, c.limit) == ("mean", "requests_dropped", "<=", 1.0)
    assert Constraint.parse("P(latency_p99<=0.5)>=0.95").slo.name == "latency_p99<=0.5"
    for bad, match in [("latency_p99 <= 0.5", "expected P\\(METRIC<=VALUE\\)"),
                       ("P(latency_p99 <= 0.5) >= 1.5", "must be in \\[0, 1\\]"),
                       ('P(canary.status < "completed") >= 0.5', "inside P.*METRIC<=VALUE"),
                       ("P(latency_p99 < 0.5) >= 0.5", "inside P.*METRIC<=VALUE"),
                       ("mean(latency_p99) = 3", "expected")]:
        with pytest.raises(ValueError, match=match):
            Constraint.parse(bad)


def test_one_sided_wilson_bounds_decide():
    from scipy.stats import binomtest

    c = Constraint.parse("P(latency_p99 <= 0.5) >= 0.9")
    x = np.array([0.1] * 97 + [0.9] * 3 + [math.nan])   # 97 of 100 (a null is left out)
    f = c.figures(_rows(latency_p99=x), 0.95)
    ci = binomtest(97, 100).proportion_ci(0.90, method="wilson")
    assert f["n"] == 100 and f["estimate"] == pytest.approx(97 / 100)
    assert (f["low"], f["high"]) == pytest.approx((ci.low, ci.high))
    assert f["status"] == "feasible" and f["violation"] == pytest.approx(0.9 - ci.low)
    assert c.figures(_rows(latency_p99=np.array([0.1] * 9 + [0.9])))["status"] == "undecided"
    assert c.figures(_rows(latency_p99=np.array([0.9] * 20)))["status"] == "infeasible"
    s = Constraint.parse('P(canary.status == "rolled_back") <= 0.2')
    col = pa.array(["completed"] * 40, pa.string())
    assert s.figures(_rows(**{"canary.status": col}))["status"] == "feasible"


def test_one_sided_t_bounds_decide():
    from scipy import stats

    c = Constraint.parse("mean(requests_rejected) <= 10")
    x = np.array([8.0, 9.0, 10.0, 9.5, 8.5, 9.0])
    f = c.figures(_rows(requests_rejected=x), 0.95)
    h = stats.t.ppf(0.95, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size)
    assert f["high"] == pytest.approx(x.mean() + h) and f["low"] == pytest.approx(x.mean() - h)
    assert f["status"] == "feasible"
    assert c.figures(_rows(requests_rejected=np.array([9.0, 12.0])))["status"] == "undecided"
    assert c.figures(_rows(requests_rejected=np.array([30.0, 31.0, 32.0])))["status"] == \
        "infeasible"


def test_racing_rule():
    assert [racing.stage_size(25, d, 400) for d in (0, 25, 50, 100, 200, 400)] == \
        [25, 25, 50, 100, 200, 0]
    assert racing.decide("infeasible", 25, 400, None, None) == (False, "infeasible")
    assert racing.decide("undecided", 25, 400, None, None) == (True, "")
    assert racing.decide("undecided", 400, 400, None, None) == (False, "max_replicas")
    assert racing.decide("undecided", 25, 400, (5.0, 1.0, 9.0), 100) == \
        (False, "worse than the incumbent")
    assert racing.decide("feasible", 25, 400, (-1.0, -3.0, 1.0), 100) == (True, "")
    assert racing.decide("feasible", 100, 400, (-1.0, -3.0, 1.0), 100) == (False, "decided")
    assert racing.decide("feasible", 25, 400, (-2.0, -3.0, -1.0), 100) == \
        (False, "better than the incumbent")


def test_a_space_of_invalid_points_ends_and_says_why():
    from fastdeploy.presets import autoscale_spike

    tuner = Tuner(autoscale_spike, {"scaler.min_instances": Int(11, 15),
                                    "scaler.max_instances": Int(2, 10)},
                  "instance_seconds", ["P(latency_p99 <= 0.5) >= 0.95"], **TUNE)
    result = tuner.run()
    rows = result.trials.to_pylist()
    assert 25 <= len(rows) < 25 + TUNE["parallel"]   # checked between batches
    assert result.replicas == 0 and result.best is None
    assert all(r["status"] == "invalid" and "min_instances" in r["error"] for r in rows)
    assert "no finalist meets every constraint" in result.format()


# -- arguments ----------------------------------------------------------------------------------
@pytest.mark.parametrize("kw,match", [
    (dict(space={"server_0.concurrenc": Int(1, 3)}), "unknown parameter path"),
    (dict(space={C: Float(1, 3)}), "integer parameter takes Int"),
    (dict(space={C: Int(0, 3)}), "0 is not allowed"),
    (dict(objective="latency_p999"), "unknown metric 'latency_p999'"),
    (dict(constraints=["mean(latency_p999) <= 1"]), "unknown metric 'latency_p999'"),
    (dict(constraints=['P(server_0.status == "completed") >= 0.5']), "not an outcome column"),
    (dict(budget=40), "budget = 40 replicas cannot pay"),
    (dict(sampler="cmaes"), "sampler must be one of"),
    (dict(confidence=0.3), "confidence must be"),
])
def test_bad_arguments_are_named(kw, match):
    args = dict(space={C: Int(4, 20)}, objective=C, constraints=["mean(latency_mean) <= 1"])
    args.update(kw)
    with pytest.raises(ValueError, match=match):
        Tuner(mmc, args.pop("space"), args.pop("objective"), args.pop("constraints"),
              **{**TUNE, **args})


def test_any_metric_of_the_replica_table_can_be_constrained():
    """Metrics join by name: requests_dropped (instance lifecycle) came after the tuner."""
    tuner = Tuner(mmc, {C: Int(4, 20)}, C, ["mean(requests_dropped) <= 1",
                                            "P(latency_p90 <= 0.3) >= 0.9"], **TUNE)
    assert [c.metric for c in tuner.constraints] == ["requests_dropped", "latency_p90"]


def test_dimensions_refuse_bad_ranges():
    with pytest.raises(ValueError, match="high"):
        Float(2, 1)
    with pytest.raises(ValueError, match="log=True"):
        Float(0, 1, log=True)
    with pytest.raises(ValueError, match="integer"):
        Int(1.5, 3)
    with pytest.raises(ValueError, match="differ"):
        Choice([1, 1])
    with pytest.raises(ValueError, match="whole number of steps"):
        Float(0.3, 0.9, step=0.25)
    assert Float(0.3, 0.9, step=0.01).value(0.8799999999999999) == 0.88
    with pytest.raises(ValueError, match="prices instance_seconds"):
        Objective("latency_mean", price_per_instance_hour=1.0)
    with pytest.raises(ValueError, match="direction"):
        Objective("latency_mean", "smallest")


def test_money_and_several_objectives_give_a_pareto_set():
    tuner = Tuner(mmc, {C: Int(9, 16)},
                  [Objective(C), Objective("latency_mean")],
                  [f"mean(latency_mean) <= {LIMIT}"], **{**TUNE, "finalists": 4})
    assert tuner.sampler == "nsga2"
    result = tuner.run()
    front = result.pareto
    assert front and result.best is None
    cs = [f["params"][C] for f in front]
    lat = [f["objectives"]["latency_mean"]["mean"] for f in front]
    assert cs == sorted(cs) and all(a > b for a, b in zip(lat, lat[1:]))  # a real trade-off
    assert min(cs) >= 10   # below 10 the latency limit fails (Erlang C)
    assert all(f["constraints"][f"mean(latency_mean) <= {LIMIT}"]["status"] == "feasible"
               for f in front)
    money = Objective("instance_seconds", price_per_instance_hour=0.36)
    assert money.name == "cost" and money.scale == pytest.approx(1e-4)

    def behind_a_load_balancer():   # a load balancer's backends cost instance time
        s = Server("server_0", concurrency=9, service_time=ExponentialLatency(1 / MU))
        lb = LoadBalancer("lb", backends=[s])
        return Simulation(end_time=HORIZON, sources=[Source.poisson(LAMBDA, lb)],
                          entities=[lb], seed=0)

    priced = Tuner(behind_a_load_balancer, {C: Int(9, 16)}, money,
                   [f"mean(latency_mean) <= {LIMIT}"], **{**TUNE, "trials": 3}).run()
    for r in priced.trials.to_pylist():   # one server for HORIZON seconds
        assert r["cost.mean"] == pytest.approx(HORIZON * 0.36 / 3600)


def test_paired_difference_follows_the_direction():
    a, b = np.array([1.0, 2.0, 3.0, np.nan]), np.array([2.0, 3.0, 4.5, 1.0, 9.0])
    m, lo, hi = racing.paired_difference(a, b, 1.0, 0.95)    # minimise: a is better
    assert m == pytest.approx(-7 / 6) and hi < 0
    m, lo, hi = racing.paired_difference(a, b, -1.0, 0.95)   # maximise: a is worse
    assert m == pytest.approx(7 / 6) and lo > 0


# -- the [tune] section and the command -----------------------------------------------------------
TOML = f"""
[simulation]
end_time = {HORIZON}

[[servers]]
name = "server_0"
concurrency = 9
service_time = {{ kind = "exponential", mean_latency = {1 / MU} }}

[[sources]]
target = "server_0"
rate = {LAMBDA}

[tune]
objective = "{C}"
constraints = ["mean(latency_mean) <= {LIMIT}"]
replicas = 4
max_replicas = 32
budget = 120
finalists = 2
holdout_replicas = 20
parallel = 3
startup_trials = 6

[tune.space]
"{C}" = {{ low = 4, high = 20 }}
"""


def test_tune_section_gives_the_tuner_arguments(plain):
    sc = loads(TOML)
    t = sc.tune
    assert t["space"] == {C: Int(4, 20)} and t["objective"] == [Objective(C)]
    assert [c.text for c in t["constraints"]] == [f"mean(latency_mean) <= {LIMIT}"]
    assert (t["replicas"], t["budget"], t["max_replicas"], t["parallel"]) == (4, 120, 32, 3)
    result = Tuner(sc, **{**t, "seed": 0}).run()
    assert result.trials.equals(plain.trials)


@pytest.mark.parametrize("edit,match", [
    (('"server_0.concurrency" = { low = 4', '"server_0.concurrenc" = { low = 4'),
     'tune.space."server_0.concurrenc": unknown parameter path'),
    (("low = 4, high = 20", "low = 4.5, high = 20"), "expected an integer"),
    (("low = 4, high = 20", "low = 4, high = 20, typ = 1"), "unknown key"),
    (("mean(latency_mean)", "mean(latency_means)"), r"tune.constraints\[0\]: .*unknown metric"),
    (("mean(latency_mean) <=", "avg(latency_mean) <="), r"tune.constraints\[0\]: .*expected"),
    (('objective = "server_0.concurrency"', 'objective = { metric = "cost" }'),
     "tune.objective: unknown metric 'cost'"),
    (("budget = 120", "budget = 0"), "tune.budget: expected an integer >= 1"),
    (("max_replicas = 32", "max_replicas = 3"), "tune.max_replicas: expected an integer >="),
    (("parallel = 3", "sampler = \"cma\""), "tune.sampler: expected one of"),
    (("low = 4, high = 20", "low = 4, high = 20, step = 2"), "tune.space.*step: a step"),
])
def test_tune_section_mistakes_name_the_key(edit, match):
    with pytest.raises(ScenarioError, match=match):
        loads(TOML.replace(*edit))


def test_tune_command(tmp_path):
    path = tmp_path / "mmc.toml"
    path.write_text(TOML)
    out = tmp_path / "out"
    status, stdout, err = run_cli("tune", str(path), "--out", str(out), "--quiet")
    assert status == 0, err
    assert "best: trial" in stdout and f"{C} = 10" in stdout and "feasible" in stdout
    assert (out / "_result.json").is_file()
    status, _, err = run_cli("tune", str(path), "--out", str(out), "--quiet")
    assert status == 2 and "--resume" in err and "Traceback" not in err
    status, stdout2, err = run_cli("tune", str(path), "--out", str(out), "--resume", "--quiet")
    assert status == 0 and stdout2.split("\n", 1)[1] == stdout.split("\n", 1)[1]
    status, stdout, _ = run_cli("tune", str(path), "--trials", "2", "--quiet")
    assert status == 0 and stdout.splitlines()[1].startswith("2 trials")


def test_tune_command_mistakes(tmp_path):
    path = tmp_path / "plain.toml"
    path.write_text(TOML.split("[tune]")[0])
    status, _, err = run_cli("tune", str(path))
    assert status == 2 and "has no [tune] section" in err
    status, _, err = run_cli("tune", str(path), "--resume")
    assert status == 2 and "--resume needs --out DIR" in err
    bad = tmp_path / "bad.toml"
    bad.write_text(TOML.replace("budget = 120", "budget = 120\nbudgt = 3"))
    status, _, err = run_cli("tune", str(bad))
    assert status == 2 and "tune.budgt: unknown key" in err
    good = tmp_path / "good.toml"
    good.write_text(TOML)
    status, _, err = run_cli("tune", str(good), "--budget", "20")
    assert status == 2 and "--budget 20: budget = 20 replicas cannot pay" in err
    status, _, err = run_cli("tune", str(good), "--scheduler", "not an address")
    assert status == 2 and "fastdeploy tune: --scheduler" in err


# -- plots --------------------------------------------------------------------------------------
def test_tune_plots(tmp_path, plain):
    pytest.importorskip("matplotlib")
    from fastdeploy.plot import plot_tune_history, plot_tune_pareto

    fig = plot_tune_history(plain, out=tmp_path / "h.png")
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(s.startswith("feasible (") for s in labels)
    assert any(s.startswith("infeasible (") for s in labels)
    assert "reported best (holdout)" in labels and (tmp_path / "h.png").stat().st_size > 0
    with pytest.raises(ValueError, match="two or more objectives"):
        plot_tune_pareto(plain)


def test_tune_plot_command_reads_the_output_directory(tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "mmc.toml"
    path.write_text(TOML.replace(f'objective = "{C}"',
                                 f'objective = ["{C}", "latency_mean"]'))
    out = tmp_path / "out"
    assert run_cli("tune", str(path), "--out", str(out), "--quiet")[0] == 0
    status, stdout, err = run_cli("plot", str(out), "-o", str(tmp_path / "h.png"))
    assert status == 0 and stdout.startswith("tune-history plot written"), err
    status, stdout, err = run_cli("plot", str(out), "--kind", "tune-pareto",
                                  "-o", str(tmp_path / "p.svg"))
    assert status == 0 and stdout.startswith("tune-pareto plot written"), err
    status, _, err = run_cli("plot", str(out), "--kind", "tune-pareto", "--x", "cost",
                             "-o", str(tmp_path / "p.svg"))
    assert status == 2 and "'cost' is not an objective" in err
    status, _, err = run_cli("plot", str(tmp_path), "--kind", "tune-history",
                             "-o", str(tmp_path / "x.png"))
    assert status == 2 and "not the output of a finished tune" in err


@pytest.mark.parametrize("name", ["tune-autoscale-spike.toml", "tune-hpa-spike.toml"])
def test_the_example_tune_files_load_with_their_space(name):
    from pathlib import Path

    from fastdeploy.scenario import load

    scenario = load(Path(__file__).resolve().parent.parent / "examples" / name)
    params = scenario.build(0).batch_parameters()
    assert scenario.tune is not None
    assert set(scenario.tune["space"]) <= set(params)
