"""The command line around results: --slo on run, sweep and compare; what run prints
about the scenario and the latency columns; run files that carry their scenario
(Parquet metadata) for plot and compare; compare of results on disk; `fastdeploy docs`."""

from __future__ import annotations

import re
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_cli import TINY, run_cli

from fastdeploy import __version__
from fastdeploy.presets import preset_path
from fastdeploy.scenario import load
from fastdeploy.runfile import RunInfo, read_info, write_run
from fastdeploy.summary import format_estimate, format_summary, summarize
from fastdeploy.sweep import Sweep, grid

ROOT = Path(__file__).resolve().parents[1]
# Small scenarios: these tests run without the JIT too.
ROLL = """name = "tiny-rolling"
description = "a small rolling deployment for the tests"

[simulation]
end_time = 40
seed = 0

[templates.app]
concurrency = 2
service_time = { kind = "exponential", mean_latency = 0.05 }
queue_capacity = 20

[[load_balancers]]
name = "lb"
backends = [{ template = "app", count = 4, prefix = "server_" }]

[[sources]]
name = "traffic"
target = "lb"
rate = 20

[[rolling]]
name = "rolling"
load_balancer = "lb"
template = "app"
batch_size = 2
health_check_interval = 2
healthy_threshold = 2
max_failures = 1
deploy_at = 5
"""


@pytest.fixture
def roll(tmp_path) -> str:
    f = tmp_path / "roll.toml"
    f.write_text(ROLL)
    return str(f)


@pytest.fixture
def tiny(tmp_path) -> str:
    f = tmp_path / "tiny.toml"
    f.write_text(TINY)
    return str(f)


def lines_of(out: str, start: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith(start)]


# -- run: the echo, the latency note, --slo --------------------------------------------------
def test_run_echoes_the_scenario_and_explains_latency_and_slos(tiny):
    status, out, err = run_cli("run", tiny, "--replicas", "12", "--quiet",
                               "--set", "scaler.policy.target=0.5",
                               "--slo", "latency_p99<=0.4", "--slo", "instance_seconds>=20")
    assert status == 0, err
    head = out.splitlines()[0]
    assert head.startswith(f"{tiny}: 12 replicas, seed 3, scaler.policy.target=0.5, ")
    assert (" s | 2 servers; traffic (Source): profile.rate=30; scaler (AutoScaler, "
            "TargetUtilization policy): min_instances=1 max_instances=4 "
            "evaluation_interval=2 scale_out_cooldown=30 scale_in_cooldown=60 ") in head
    assert " policy.target=0.5 policy.tolerance=0.1 server.concurrency=2 " in head
    assert "mean of the replicas' p99" in out
    from fastdeploy.batch.assign import with_parameters

    table = with_parameters(load(tiny).build(), {"scaler.policy.target": 0.5}).run_batch(
        12).table
    from fastdeploy.pooled import pooled_quantile

    (pooled,) = lines_of(out, "pooled over every replica's requests: ")
    shown = dict(re.findall(r"(p\d+) ([0-9.]+) s", pooled))
    assert list(shown) == ["p50", "p90", "p95", "p99"]
    for q, text in shown.items():
        assert float(text) == pytest.approx(pooled_quantile(table, int(q[1:]) / 100), rel=2e-3)
    # The SLO rows are the summary's rows for those objectives, as printed.
    expected = format_summary(summarize(table, ["latency_p99<=0.4", "instance_seconds>=20"]))
    assert expected in out
    (row,) = lines_of(out, "latency_p99<=0.4 ")
    k = int((table.column("latency_p99").to_numpy() <= 0.4).sum())
    assert row.split()[1:3] == ["probability", "12"] and 0 < k < 12
    assert lines_of(out, "latency_p99<=0.4: the share of replicas whose latency_p99 is <= 0.4 s")


@pytest.mark.parametrize("argv, status, message", [
    (["run", "rolling", "--slo", "latency_p99<1"], 2,
     "argument --slo: 'latency_p99<1': expected METRIC<=VALUE or METRIC>=VALUE"),
    (["run", "rolling", "--slo", "latency_q99<=1"], 2,
     "fastdeploy run: --slo latency_q99<=1: 'latency_q99' is not a numeric metric of this "
     "scenario (did you mean latency_p99?)"),
    (["run", "rolling", "--slo", "latency_p99<=1", "--slo", "latency_p99<=1.0"], 2,
     "fastdeploy run: --slo latency_p99<=1 is given twice"),
    (["sweep", "rolling", "--param", "rolling.batch_size=2,4", "--slo", "nope>=1"], 2,
     "fastdeploy sweep: --slo nope>=1: 'nope' is not a numeric metric"),
    (["compare", "rolling", "--param", "rolling.batch_size=2,4", "--slo", "x<=1"], 2,
     "fastdeploy compare: --slo x<=1: 'x' is not a numeric metric"),
])
def test_bad_slo_is_refused_before_running(argv, status, message):
    got, out, err = run_cli(*argv)
    assert got == status and message in err and out == ""
    assert "Traceback" not in err


def test_sweep_and_compare_show_attainment(roll):
    status, out, err = run_cli("sweep", roll, "--param", "rolling.batch_size=2,4",
                               "--replicas", "10", "--quiet", "--slo", "rolling.end_time<=13.1")
    assert status == 0, err
    assert "rolling.end_time<=13.1 (probability) [95% CI]" in out
    result = Sweep(load(roll).build(), grid({"rolling.batch_size": [2, 4]}),
                   10).run(slos=["rolling.end_time<=13.1"])
    s = result.summary.to_pylist()
    assert 0 < s[0]["rolling.end_time<=13.1.mean"] < 1
    for point, line in zip(s, out.splitlines()[3:]):
        assert line.rstrip().endswith(format_estimate(
            point["rolling.end_time<=13.1.mean"], point["rolling.end_time<=13.1.ci_low"],
            point["rolling.end_time<=13.1.ci_high"]))
    status, out, err = run_cli("compare", roll, "--param", "rolling.batch_size=2,4",
                               "--replicas", "10", "--quiet", "--slo", "rolling.end_time<=13.1")
    assert status == 0, err
    row = result.compare(0, slos=["rolling.end_time<=13.1"]).to_pylist()[0]
    (line,) = [x for x in out.splitlines() if x.strip().startswith("rolling.end_time<=13.1 ")]
    assert line.split()[1] == "probability"
    assert line.endswith(format_estimate(row["rolling.end_time<=13.1.diff"],
                                         row["rolling.end_time<=13.1.ci_low"],
                                         row["rolling.end_time<=13.1.ci_high"]))


# -- run files: metadata, plot and compare without the scenario ---------------------------------
def test_run_out_carries_the_scenario_in_the_parquet_metadata(tmp_path):
    out = tmp_path / "r.parquet"
    status, _, err = run_cli("run", "rolling", "--replicas", "4", "--seed", "7", "--quiet",
                             "--out", str(out), "--set", "rolling.batch_size=4")
    assert status == 0, err
    meta = pq.read_schema(out).metadata
    assert meta[b"fastdeploy.seed"] == b"7" and meta[b"fastdeploy.replicas"] == b"4"
    assert meta[b"fastdeploy.version"] == __version__.encode()
    info = read_info(out)
    assert info.scenario == preset_path("rolling").read_text()
    assert (info.scenario_name, info.seed, info.replicas) == ("rolling", 7, 4)
    assert info.parameters == {"rolling.batch_size": 4}
    # The stored scenario and settings rebuild the run exactly.
    again = info.simulation().run_batch(4).table
    assert pq.read_table(out).equals(again.replace_schema_metadata(
        pq.read_table(out).schema.metadata))


def test_run_info_refuses_broken_metadata(tmp_path):
    t = pa.table({"replica": [0], "seed": [0], "requests_created": [1]})
    info = RunInfo("name = 'x'", "x", 1, 1, {})
    meta = info.to_metadata()
    del meta[b"fastdeploy.seed"]
    with pytest.raises(ValueError, match="metadata fastdeploy.seed is missing"):
        RunInfo.from_metadata(meta, "f")
    meta = info.to_metadata() | {b"fastdeploy.replicas": b"many"}
    with pytest.raises(ValueError, match="fastdeploy.replicas = 'many' is not an integer"):
        RunInfo.from_metadata(meta, "f")
    meta = info.to_metadata() | {b"fastdeploy.parameters": b"[1]"}
    with pytest.raises(ValueError, match="fastdeploy.parameters = '\\[1\\]' is not a JSON"):
        RunInfo.from_metadata(meta, "f")
    assert RunInfo.from_metadata(None) is None
    write_run(tmp_path / "t.parquet", t, info)
    assert read_info(tmp_path / "t.parquet") == info
    pq.write_table(t, tmp_path / "plain.parquet")
    assert read_info(tmp_path / "plain.parquet") is None


def test_plot_reads_the_scenario_of_a_run_file(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "c.parquet"
    assert run_cli("run", "canary-good", "--replicas", "3", "--quiet", "--out", str(out))[0] == 0
    # durations needs the deploy time: from the file's metadata, not --scenario.
    status, stdout, err = run_cli("plot", str(out), "--kind", "durations", "-o",
                                  str(tmp_path / "d.png"), "--quiet")
    assert status == 0, err
    from fastdeploy.plot.inputs import read

    runs = read(out)
    assert runs.simulation is not None
    assert [type(e).__name__ for e in runs.simulation.entities][-1] == "CanaryDeployer"
    pq.write_table(pq.read_table(out).replace_schema_metadata(None), tmp_path / "bare.parquet")
    assert read(tmp_path / "bare.parquet").simulation is None


def test_compare_run_files(tmp_path, roll):
    a, b, c = (tmp_path / f"{n}.parquet" for n in "abc")
    base = ["run", roll, "--replicas", "8", "--quiet"]
    assert run_cli(*base, "--out", str(a))[0] == 0
    assert run_cli(*base, "--out", str(b), "--set", "rolling.batch_size=4")[0] == 0
    assert run_cli(*base, "--out", str(c), "--seed", "9")[0] == 0
    status, out, err = run_cli("compare", str(a), str(b), "--slo", "rolling.end_time<=13.1")
    assert status == 0, err
    assert f"baseline: point 0 ({a}, rolling.batch_size=2)" in out
    assert "paired by replica" in out and f"point 1 ({b}, rolling.batch_size=4), 8 pairs" in out
    # The same numbers as a sweep over the setting (same seed: the same replicas).
    result = Sweep(load(roll).build(), grid({"rolling.batch_size": [2, 4]}), 8).run()
    row = result.compare(0, slos=["rolling.end_time<=13.1"]).to_pylist()[0]
    assert row["rolling.end_time<=13.1.diff"] > 0
    for m in ("rolling.end_time", "rolling.end_time<=13.1"):
        (line,) = [x for x in out.splitlines() if x.strip().startswith(m + " ")]
        assert line.endswith(format_estimate(row[f"{m}.diff"], row[f"{m}.ci_low"],
                                             row[f"{m}.ci_high"]))
    # Another seed: unpaired (Welch).
    status, out, err = run_cli("compare", str(a), str(c))
    assert status == 0, err
    assert "unpaired (different random streams), 95% Welch interval" in out
    assert "8 replicas" in out


def test_compare_a_sweep_directory(tmp_path, roll):
    d = tmp_path / "sw"
    assert run_cli("sweep", roll, "--param", "rolling.batch_size=2,4", "--replicas", "6",
                   "--quiet", "--out", str(d))[0] == 0
    status, out, err = run_cli("compare", str(d), "--slo", "rolling.end_time<=60")
    assert status == 0, err
    assert out.splitlines()[0] == (f"sweep {d}: 2 points; baseline: point 0 "
                                   "(rolling.batch_size=2)")
    result = Sweep(load(roll).build(), grid({"rolling.batch_size": [2, 4]}), 6).run()
    row = result.compare(0).to_pylist()[0]
    (line,) = [x for x in out.splitlines() if x.strip().startswith("rolling.end_time ")]
    assert line.endswith(format_estimate(row["rolling.end_time.diff"],
                                         row["rolling.end_time.ci_low"],
                                         row["rolling.end_time.ci_high"]))


@pytest.mark.parametrize("args, message", [
    (["compare", "{a}"], "give two or more run files"),
    (["compare", "{a}", "{missing}"], "no such file"),
    (["compare", "{a}", "{a}", "--replicas", "3"], "--replicas applies to a scenario"),
    (["compare", "{a}", "{sweep}"], "not a per-replica run table"),
])
def test_compare_results_refuses_in_one_line(tmp_path, args, message):
    a = tmp_path / "a.parquet"
    pq.write_table(pa.table({"replica": [0, 1], "seed": [0, 0], "requests_created": [3, 4]}), a)
    sweep = tmp_path / "s.parquet"
    pq.write_table(pa.table({"point": [0], "replica": [0], "seed": [0],
                             "requests_created": [3]}), sweep)
    argv = [x.format(a=a, missing=tmp_path / "nope.parquet", sweep=sweep) for x in args]
    status, out, err = run_cli(*argv)
    assert status == 2 and message in err and len(err.strip().splitlines()) == 1


# -- docs shipped in the package ------------------------------------------------------------------
def test_docs_lists_and_prints_topics():
    status, out, err = run_cli("docs")
    assert status == 0, err
    topics = {line.split()[0] for line in out.splitlines()[:-2] if line.strip()}
    pages = {p.stem for p in (ROOT / "fastdeploy" / "docs").glob("*.md")}
    assert topics == pages and "summaries" in pages
    status, out, _ = run_cli("docs", "summaries")
    assert status == 0
    assert out == (ROOT / "fastdeploy" / "docs" / "summaries.md").read_text()
    assert run_cli("docs", "docs/summaries.md")[1] == out
    status, out, err = run_cli("docs", "summary")
    assert status == 2 and out == ""
    assert err.startswith("fastdeploy docs: no topic 'summary' (did you mean summaries?)")


def test_help_and_shipped_files_point_to_fastdeploy_docs():
    texts = [run_cli(*argv, "--help")[1] for argv in
             ([], ["run"], ["sweep"], ["compare"], ["plot"], ["params"], ["docs"])]
    texts += [p.read_text() for p in (ROOT / "fastdeploy" / "presets").glob("*.toml")]
    texts += [p.read_text() for p in (ROOT / "fastdeploy" / "docs").glob("*.md")]
    for text in texts:
        assert not re.search(r"\bdocs/[a-z-]+\.md", text), text[:300]
    topics = set(run_cli("docs")[1].split())
    for text in texts:
        for topic in re.findall(r"fastdeploy docs ([a-z-]+)", text):
            assert topic in topics, topic


def test_the_package_data_ships_every_docs_page():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    globs = config["tool"]["setuptools"]["package-data"]["fastdeploy"]
    pages = list((ROOT / "fastdeploy" / "docs").glob("*.md"))
    assert pages
    for page in pages:
        rel = page.relative_to(ROOT / "fastdeploy").as_posix()
        assert any(fnmatch(rel, g) for g in globs), rel
    assert not (ROOT / "docs").exists()       # one copy, inside the package
