"""The command line: `presets`, `run PRESET|FILE`, help, errors, progress, `python -m`."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from fastdeploy import __version__
from fastdeploy.cli import build_parser, main
from fastdeploy.progress import Progress
from fastdeploy.presets import PRESETS, preset_path
from fastdeploy.scenario import load

TINY = """
name = "tiny"
description = "a small scenario for the CLI tests"

[simulation]
end_time = 20
seed = 3

[templates.web]
concurrency = 2
service_time = { kind = "exponential", mean_latency = 0.05 }

[[load_balancers]]
name = "lb"
backends = [{ template = "web", count = 2 }]

[[sources]]
name = "traffic"
target = "lb"
rate = 30

[[autoscalers]]
name = "scaler"
load_balancer = "lb"
template = "web"
max_instances = 4
evaluation_interval = 2
"""


@pytest.fixture
def tiny(tmp_path) -> Path:
    f = tmp_path / "tiny.toml"
    f.write_text(TINY)
    return f


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def run_cli(*argv):
    """main(argv) with its exit status, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    old = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        status = main(list(argv))
    except SystemExit as e:
        status = e.code
    finally:
        sys.stdout, sys.stderr = old
    return status, out.getvalue(), err.getvalue()


def subprocess_cli(*argv, cwd=None):
    env = os.environ.copy()
    # As in pytest's configuration: under NUMBA_DISABLE_JIT=1 numpy reports the random
    # streams' intended uint64 wrap-around as overflow.
    env["PYTHONWARNINGS"] = "ignore:overflow encountered in scalar:RuntimeWarning"
    return subprocess.run([sys.executable, "-m", "fastdeploy", *argv], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=600)


# -- presets --------------------------------------------------------------------------------
def test_presets_lists_names_descriptions_and_files():
    status, out, err = run_cli("presets")
    assert status == 0 and err == ""
    for name in PRESETS:
        assert name in out
        assert str(preset_path(name)) in out
        assert load(preset_path(name)).description in out
    assert "fastdeploy run" in out


def test_presets_name_prints_the_path_only():
    status, out, _ = run_cli("presets", "rolling")
    assert status == 0 and out == f"{preset_path('rolling')}\n"
    assert Path(out.strip()).read_text().startswith("# rolling")
    status, out, err = run_cli("presets", "rollin")
    assert status == 2 and out == "" and "unknown preset 'rollin'" in err


# -- run --------------------------------------------------------------------------------------
def test_run_preset():
    status, out, err = run_cli("run", "rolling", "--replicas", "3")
    assert status == 0
    assert err == ""                      # stderr is not a terminal: no progress bar
    assert out.startswith("rolling: 3 replicas, seed 0, ")
    for metric in ("requests_created", "latency_p99", "rolling.deployments_completed",
                   "rolling.status=completed"):
        assert metric in out


def test_run_file_writes_parquet(tiny, tmp_path):
    out_file = tmp_path / "x.parquet"
    status, out, err = run_cli("run", str(tiny), "--replicas", "2", "--out", str(out_file))
    assert status == 0 and err == ""
    assert out.startswith(f"{tiny}: 2 replicas, seed 3, ")
    assert f"per-replica table written to {out_file}" in out
    table = pq.read_table(out_file)
    assert table.num_rows == 2
    assert table.column("replica").to_pylist() == [0, 1]
    assert table.column("seed").to_pylist() == [3, 3]
    row = table.to_pylist()[1]
    metrics = load(tiny).build().run(replica=1).metrics
    assert {k: row[k] for k in metrics} == pytest.approx(metrics)


def test_run_seed_overrides_the_file(tiny, tmp_path):
    out_file = tmp_path / "s.parquet"
    status, out, _ = run_cli("run", str(tiny), "--replicas", "1", "--seed", "11", "--out",
                             str(out_file), "--threads", "1")
    assert status == 0 and "1 replica, seed 11" in out
    assert pq.read_table(out_file).column("seed").to_pylist() == [11]


def test_bad_file_exits_2_naming_the_key(tiny):
    tiny.write_text(TINY.replace("max_instances = 4", "max_instances = 4\nmin_instances = 9"))
    status, out, err = run_cli("run", str(tiny), "--replicas", "1")
    assert status == 2 and out == ""
    assert err.strip() == (f"{tiny}: autoscalers[0].min_instances: must be <= max_instances, "
                           "got min_instances=9 > max_instances=4")
    tiny.write_text(TINY.replace("rate = 30", "rat = 30"))
    status, _, err = run_cli("run", str(tiny))
    assert status == 2 and "sources[0].rat: unknown key (did you mean 'rate'?)" in err
    tiny.write_text("[simulation\n")
    status, _, err = run_cli("run", str(tiny))
    assert status == 2 and f"{tiny}:1: TOML syntax error" in err


def test_bad_file_in_a_subprocess_has_no_traceback(tiny):
    tiny.write_text(TINY.replace("mean_latency = 0.05", "mean_latency = -1"))
    proc = subprocess_cli("run", str(tiny), "--replicas", "1")
    assert proc.returncode == 2 and proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert "templates.web.service_time.mean_latency: must be >= 0.0, got -1" in proc.stderr


def test_unknown_scenario_missing_file_and_bad_options(tmp_path):
    status, _, err = run_cli("run", "no-such-preset")
    assert status == 2 and "neither a preset" in err and "autoscale-spike" in err
    status, _, err = run_cli("run", str(tmp_path / "missing.toml"))
    assert status == 2 and "missing.toml: no such file" in err
    status, _, err = run_cli("run", "rolling", "--replicas", "0")
    assert status == 2 and "expected an integer >= 1" in err
    status, _, err = run_cli("run", "rolling", "--out", str(tmp_path / "nope" / "x.parquet"))
    assert status == 2 and "the directory does not exist" in err


def test_sweep_section_is_noted_and_ignored(tiny):
    tiny.write_text(TINY + '\n[sweep]\nreplicas = 9\n[sweep.parameters]\n'
                           '"scaler.policy.target" = [0.5]\n')
    status, out, err = run_cli("run", str(tiny), "--replicas", "1")
    assert status == 0 and "[sweep] section" in err and "ignores it" in err
    status, out, err = run_cli("run", str(tiny), "--replicas", "1", "--quiet")
    assert status == 0 and err == ""


# -- progress ---------------------------------------------------------------------------------
def test_progress_bar_on_a_terminal_and_quiet(tiny, monkeypatch):
    term = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", term)
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert main(["run", str(tiny), "--replicas", "3"]) == 0
    shown = term.getvalue()
    # tqdm's bar (redrawn at most every 0.1 s), erased at the end for the summary.
    assert "/3 replicas [" in shown and "replicas/s]" in shown and "\r" in shown
    assert shown.rstrip(" ").endswith("\r")
    term.seek(0)
    term.truncate()
    assert main(["run", str(tiny), "--replicas", "3", "--quiet"]) == 0
    assert term.getvalue() == ""


def test_progress_bar_rendering(monkeypatch):
    import fastdeploy.progress as progress

    s = FakeTerminal()
    bar = Progress("spike", 200, stream=s)
    assert bar.terminal and s.getvalue() == ""          # nothing before start
    bar.start()
    bar.update(50, 200)
    bar.bar.refresh()                                   # tqdm redraws at most every 0.1 s
    line = s.getvalue().split("\r")[-1]
    assert line.startswith("spike:  25%|") and "| 50/200 replicas [" in line
    assert "replicas/s]" in line
    bar.say("a note")                                   # printed above the bar
    assert "a note\n" in s.getvalue()
    bar.update(200, 200)
    bar.bar.refresh()
    assert "200/200 replicas" in s.getvalue().split("\r")[-1]
    bar.close()
    assert bar.bar is None
    # Off a terminal: lines, no carriage returns, only every PROGRESS_EVERY seconds.
    monkeypatch.setattr(progress, "PROGRESS_EVERY", 0.0)
    s = io.StringIO()
    off = Progress("spike", 200, stream=s)
    off.start()
    off.update(0, 200)
    off.update(50, 200)
    off.update(200, 200)                                # the summary follows: no last line
    off.close()
    assert "\r" not in s.getvalue()
    (line,) = s.getvalue().splitlines()
    assert line.startswith("spike: 50/200 replicas, ") and line.endswith(" left")
    assert " replicas/s, " in line


def test_progress_callback_sees_every_replica_and_table_is_unchanged(tiny):
    sim = load(tiny).build()
    stream = FakeTerminal()
    bar = Progress("tiny", 5, stream=stream)
    bar.start()
    calls = []

    def update(done, total):
        calls.append((done, total))
        bar.update(done, total)

    table = sim.run_batch(5, threads=1, progress=update).table
    assert table.equals(sim.run_batch(5, threads=1).table)
    assert calls[-1] == (5, 5) and all(t == 5 for _, t in calls)
    assert bar.bar.n == 5                               # the bar counted every replica
    bar.close()


# -- help and entry points --------------------------------------------------------------------
@pytest.mark.parametrize("argv, expect", [
    ([], ["presets", "run", "--version", "COMMAND --help"]),
    (["presets"], ["preset scenarios", "path", "NAME", "cp "]),
    (["run"], ["SCENARIO", "preset name", "scenario file", "fastdeploy docs scenarios",
               "--replicas", "--seed", "--threads", "--out", "--quiet", "progress bar", "Exit status"]),
])
def test_help_documents_each_command(argv, expect):
    status, out, _ = run_cli(*argv, "--help")
    assert status == 0
    for text in expect:
        assert text in out, text


def test_no_command_prints_help():
    status, out, _ = run_cli()
    assert status == 0 and "usage: fastdeploy" in out


def test_parser_defaults():
    args = build_parser().parse_args(["run", "rolling"])
    assert (args.replicas, args.seed, args.threads, args.out, args.quiet) == (
        2000, None, None, None, False)


def test_python_m_fastdeploy_version():
    proc = subprocess_cli("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"fastdeploy {__version__}"


def test_python_m_fastdeploy_runs_a_file(tiny, tmp_path):
    out_file = tmp_path / "sub.parquet"
    proc = subprocess_cli("run", str(tiny), "--replicas", "2", "--out", str(out_file))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert "tiny.toml: 2 replicas, seed 3" in proc.stdout
    assert pq.read_table(out_file).num_rows == 2


# -- sweep and bench ------------------------------------------------------------------------
SWEEP = TINY + """
[sweep]
replicas = 2
[sweep.parameters]
"scaler.max_instances" = [2, 4]
"""


def test_sweep_prints_points_and_resumes(tmp_path):
    import pyarrow.parquet as pq

    f = tmp_path / "tiny-sweep.toml"
    f.write_text(SWEEP)
    out_dir = tmp_path / "out"
    status, out, err = run_cli("sweep", str(f), "--out", str(out_dir), "--threads", "1")
    assert status == 0, err
    assert "2 points, 4 replicas" in out
    assert "scaler.max_instances" in out and "latency_p99 (s) [95% CI]" in out
    first = pq.read_table(out_dir / "_summary.parquet")
    assert first.num_rows == 2
    # The finished chunks are kept: --resume gives the same summary; no --resume refuses.
    status, out, err = run_cli("sweep", str(f), "--out", str(out_dir), "--resume")
    assert status == 0, err
    assert pq.read_table(out_dir / "_summary.parquet").equals(first)
    status, out, err = run_cli("sweep", str(f), "--out", str(out_dir))
    assert status == 2 and str(out_dir) in err


def test_sweep_needs_a_sweep_section(tiny):
    status, out, err = run_cli("sweep", str(tiny))
    assert status == 2 and "no [sweep] section" in err


def test_bench_prints_speeds():
    status, out, err = run_cli("bench", "rolling", "--replicas", "2")
    assert status == 0, err
    assert "first result in" in out and "M requests/s" in out


@pytest.mark.parametrize("address, status, message", [
    ("notanaddress", 2, "--scheduler 'notanaddress' is not a Dask scheduler address: "
                        "expected tcp://HOST:PORT"),
    ("tcp://host", 2, "--scheduler 'tcp://host' is not a Dask scheduler address"),
    ("", 2, "--scheduler '' is not a Dask scheduler address"),
    ("tcp://127.0.0.1:1", 1, "--scheduler 'tcp://127.0.0.1:1': no Dask scheduler answered "
                             "within 5 s"),
])
def test_sweep_scheduler_errors_are_one_line(tmp_path, address, status, message):
    pytest.importorskip("distributed")
    import fastdeploy.cli as cli

    assert cli.CONNECT_TIMEOUT == 5
    f = tmp_path / "tiny-sweep.toml"
    f.write_text(SWEEP)
    proc = subprocess_cli("sweep", str(f), "--scheduler", address)
    assert proc.returncode == status and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"fastdeploy sweep: {message}"), lines


# -- first use: memory, progress, the flags' names ----------------------------------------------
def test_memory_budget_is_checked_before_any_allocation():
    status, out, err = run_cli("run", "rolling", "--replicas", "99999999999")
    assert status == 1 and out == ""
    assert "over the memory budget" in err and "99999999999 replicas" in err
    assert "Unable to allocate" not in err and "raise --memory-budget" in err
    assert "memory_budget" not in err and "out=" not in err


def test_memory_budget_flag(tiny):
    status, _, err = run_cli("run", str(tiny), "--replicas", "1000", "--memory-budget", "1K")
    assert status == 1 and "over the memory budget of 1.0 KiB" in err
    status, _, err = run_cli("run", str(tiny), "--replicas", "2", "--memory-budget", "64M",
                             "--quiet")
    assert status == 0 and err == ""
    status, _, err = run_cli("run", str(tiny), "--memory-budget", "lots")
    assert status == 2 and "argument --memory-budget: expected a size such as 8G" in err


def test_progress_off_a_terminal_and_the_estimate_of_a_long_run(tiny, monkeypatch):
    import fastdeploy.progress as cli

    monkeypatch.setattr(cli, "PROGRESS_EVERY", 0.0)
    monkeypatch.setattr(cli, "LONG_RUN", 0.0)
    status, _, err = run_cli("run", str(tiny), "--replicas", "200", "--threads", "1")
    assert status == 0
    lines = err.splitlines()
    assert lines[0].startswith(f"{tiny}: 200 replicas will take about ")
    assert "(estimated from the first " in lines[0] and "Ctrl-C stops the run" in lines[0]
    assert any(line.startswith(f"{tiny}: ") and "/200 replicas, " in line and "left" in line
               for line in lines[1:])
    assert "\r" not in err
    monkeypatch.setattr(cli, "LONG_RUN", 1e9)
    monkeypatch.setattr(cli, "PROGRESS_EVERY", 1e9)
    status, _, err = run_cli("run", str(tiny), "--replicas", "20")
    assert status == 0 and err == ""


def test_sweep_messages_name_flags_not_python_arguments(tmp_path):
    f = tmp_path / "tiny-sweep.toml"
    f.write_text(SWEEP)
    status, _, err = run_cli("sweep", str(f), "--resume")
    assert status == 2 and "--resume needs --out DIR" in err and "=" not in err
    full = tmp_path / "full"
    full.mkdir()
    (full / "x").write_text("")
    status, _, err = run_cli("sweep", str(f), "--out", str(full))
    assert status == 2 and "pass --resume to continue" in err and f"--out '{full}'" in err
    assert "resume=True" not in err and "out=" not in err
    status, _, err = run_cli("sweep", str(f), "--out", str(full / "x"))
    assert status == 2 and "exists and is not a directory" in err and "out=" not in err


@pytest.mark.parametrize("argv, usage, extra", [
    (["run", "autoscale-spike", "--param", "scaler.policy.target=0.5"], "usage: fastdeploy run ",
     "--param scaler.policy.target=0.5"),
    (["sweep", "x.toml", "--bogus"], "usage: fastdeploy sweep ", "--bogus"),
    (["presets", "--bogus"], "usage: fastdeploy presets ", "--bogus"),
])
def test_an_unknown_option_shows_the_commands_usage(argv, usage, extra):
    status, out, err = run_cli(*argv)
    assert status == 2 and out == ""
    assert err.startswith(usage), err
    assert f"fastdeploy {argv[0]}: error: unrecognized arguments: {extra}" in err


def test_what_a_package_user_reads_names_no_repository_files():
    """Presets and help texts ship in the package; the repository's files do not."""
    from fastdeploy.presets import PRESET_DIR

    texts = [p.read_text() for p in PRESET_DIR.glob("*.toml")]
    texts += [run_cli(*argv, "--help")[1] for argv in
              ([], ["presets"], ["run"], ["sweep"], ["plot"], ["bench"])]
    for text in texts:
        for where in ("shared/", "benchmarks/", "tests/"):
            assert where not in text, (where, text[:200])
    docs = Path(__file__).resolve().parent.parent / "fastdeploy" / "docs"
    import re

    pages = sorted(docs.glob("*.md"))
    assert len(pages) >= 10
    for md in [*pages, docs.parent.parent / "README.md"]:
        assert not re.search(r"(?<!_)summary\.parquet", md.read_text()), md


# -- one-off what-ifs: --set, sweep --param, params ----------------------------------------------
def test_run_set_changes_one_parameter(tmp_path):
    from fastdeploy.presets import preset_scenario

    out = tmp_path / "set.parquet"
    status, stdout, err = run_cli("run", "rolling", "--replicas", "3", "--quiet", "--out",
                                  str(out), "--set", "rolling.batch_size=4",
                                  "--set", "server_0.service_time.mean_latency=0.08")
    assert status == 0, err
    assert "rolling: 3 replicas, seed 0, rolling.batch_size=4, " in stdout
    expected = preset_scenario("rolling").build().run_batch(3, params={
        "rolling.batch_size": 4, "server_0.service_time.mean_latency": 0.08}).table
    got = pq.read_table(out)
    assert got.to_pylist() == expected.drop_columns(
        ["rolling.batch_size", "server_0.service_time.mean_latency"]).to_pylist()


@pytest.mark.parametrize("argv, message", [
    (["--set", "rolling.batch_size=0"],
     "--set rolling.batch_size=0: 0 is not allowed for rolling.batch_size: expected an "
     "integer >= 1"),
    (["--set", "rolling.batch_siz=2"], "rolling has no parameter rolling.batch_siz (did you "
                                       "mean rolling.batch_size?); `fastdeploy params rolling`"),
    (["--set", "rolling.batch_size=1,2"], "--set 'rolling.batch_size=1,2': expected PATH=VALUE"),
    (["--set", "rolling.batch_size=1", "--set", "rolling.batch_size=2"],
     "--set rolling.batch_size is given twice"),
    (["--set", "rolling.batch_size=two"], "'two' is not a number"),
])
def test_run_set_mistakes(argv, message):
    status, out, err = run_cli("run", "rolling", "--replicas", "1", *argv)
    assert status == 2 and out == "" and message in err, err
    assert len(err.strip().splitlines()) == 1


def test_run_set_checks_rules_between_parameters():
    status, _, err = run_cli("run", "autoscale-spike", "--set", "scaler.min_instances=30")
    assert status == 2
    assert err.strip() == ("fastdeploy run: --set scaler.min_instances=30: scaler: "
                           "min_instances must be <= max_instances")


def test_sweep_param_and_set_on_a_preset(tmp_path):
    status, out, err = run_cli("sweep", "rolling", "--param", "rolling.batch_size=1,4",
                               "--set", "rolling.max_failures=3", "--replicas", "2",
                               "--out", str(tmp_path / "o"), "--quiet")
    assert status == 0, err
    assert "rolling: 2 points, 4 replicas" in out and "rolling.batch_size" in out
    table = pq.read_table(tmp_path / "o")
    assert sorted(set(table.column("rolling.batch_size").to_pylist())) == [1, 4]
    status, _, err = run_cli("sweep", "rolling", "--param", "rolling.batch_size=1,0")
    assert status == 2 and "0 is not allowed for rolling.batch_size" in err
    status, _, err = run_cli("sweep", "rolling")
    assert status == 2 and "no [sweep] section" in err and "--param PATH=V1,V2" in err


def test_params_lists_paths_values_and_ranges():
    status, out, err = run_cli("params", "autoscale-spike")
    assert status == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["path", "value", "accepts"]
    row = next(line for line in lines if line.startswith("scaler.policy.target "))
    assert row.split(None, 2) == ["scaler.policy.target", "0.6", "a finite number in (0, 1]"]
    from fastdeploy.presets import autoscale_spike

    assert len(lines) - 2 == len(autoscale_spike().batch_parameters())
    status, _, err = run_cli("params", "no-such")
    assert status == 2 and "neither a preset" in err


def test_compare_prints_the_paired_differences_python_gives():
    status, out, err = run_cli("compare", "rolling", "--param", "rolling.batch_size=2,4",
                               "--replicas", "6", "--quiet")
    assert status == 0, err
    assert "baseline: point 0 (rolling.batch_size=2)" in out
    assert "point 1 (rolling.batch_size=4), 6 pairs" in out
    from fastdeploy.presets import PRESETS
    from fastdeploy.summary import format_estimate
    from fastdeploy.sweep import Sweep, grid

    sweep = Sweep(PRESETS["rolling"](0), grid({"rolling.batch_size": [2, 4]}), 6)
    row = sweep.run().compare(0).to_pylist()[0]
    m = "rolling.end_time"
    line = [x for x in out.splitlines() if x.strip().startswith(m + " ")][0]
    assert line.split()[1] == "s"
    assert line.endswith(format_estimate(row[f"{m}.diff"], row[f"{m}.ci_low"],
                                         row[f"{m}.ci_high"]))


@pytest.mark.parametrize("argv, message", [
    (["compare", "rolling", "--param", "rolling.batch_size=2"], "at least two values"),
    (["compare", "rolling"], "no [sweep] section"),
    (["compare", "rolling", "--param", "rolling.nope=1,2"], "rolling.nope"),
])
def test_compare_refuses_in_one_line(argv, message):
    status, out, err = run_cli(*argv)
    assert status == 2 and message in err and len(err.strip().splitlines()) == 1
