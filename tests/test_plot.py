"""Plots (fastdeploy.plot and `fastdeploy plot`): every kind rendered to PNG and SVG from
small runs, the files checked (size, dimensions, titles and labels in the SVG text), the
data behind the plots checked numerically, and the command line's inputs and errors.

Small scenarios (60 s, a few replicas) keep this fast under NUMBA_DISABLE_JIT=1 too.
Tests that draw need matplotlib (the `plot` extra) and are skipped without it.
"""

from __future__ import annotations

import math
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fastdeploy import scenario
from fastdeploy.cli import main
from fastdeploy.plot import (
    MatplotlibMissing,
    plot_durations,
    plot_heatmap,
    plot_instances,
    plot_latency,
    plot_rollback,
    plot_tradeoff,
)
from fastdeploy.plot.heatmap import grid_values
from fastdeploy.plot.inputs import as_runs, as_sweep, read
from fastdeploy.plot.instances import instance_bands
from fastdeploy.plot.labels import fmt, metric_label, param_label, short_names
from fastdeploy.plot.pareto import pareto_front
from fastdeploy.pooled import knot_levels, pooled_cdf, pooled_quantile, replica_knots
from fastdeploy.plot.rollback import outcome_curve
from fastdeploy.plot.traffic import source_rates
from fastdeploy.sweep import Sweep, grid

try:
    import matplotlib  # noqa: F401

    HAVE_MPL = True
except ImportError:
    HAVE_MPL = False

needs_mpl = pytest.mark.skipif(
    not HAVE_MPL, reason="matplotlib is not installed: the plot tests need the `plot` extra "
                         "(pip install -e '.[plot]')")

SPIKE = """
name = "tiny-spike"
description = "a small autoscaling scenario for the plot tests"

[simulation]
end_time = 60

[templates.web]
concurrency = 2
service_time = { kind = "exponential", mean_latency = 0.1 }

[[load_balancers]]
name = "lb"
backends = [{ template = "web", count = 1 }]

[[sources]]
name = "traffic"
target = "lb"
profile = { kind = "spike", baseline_rate = 5, spike_rate = 30, warmup_s = 20, spike_duration_s = 20 }

[[autoscalers]]
name = "scaler"
load_balancer = "lb"
template = "web"
max_instances = 8
evaluation_interval = 2
scale_out_cooldown = 4
scale_in_cooldown = 10

[sweep]
replicas = 3
[sweep.parameters]
"scaler.policy.target" = [0.5, 0.8]
"scaler.scale_in_cooldown" = [5, 20]
"""

CANARY = """
name = "tiny-canary-{kind}"

[simulation]
end_time = 60

[templates.v1]
concurrency = 2
service_time = {{ kind = "exponential", mean_latency = 0.02 }}
failure_rate = 0.01

[templates.v2]
extends = "v1"
failure_rate = {failure_rate}

[[load_balancers]]
name = "lb"
strategy = "weighted_round_robin"
backends = [{{ template = "v1", count = 2 }}]

[[sources]]
name = "traffic"
target = "lb"
rate = 20

[[canaries]]
name = "canary"
load_balancer = "lb"
template = "v2"
evaluation_interval = 5
deploy_at = 5
stages = [{{ traffic_percentage = 0.2, evaluation_period = 10 }}, {{ traffic_percentage = 1.0, evaluation_period = 10 }}]
"""
MULTIPLIER = "canary.metric_evaluator.threshold_multiplier"


# -- fixtures: small runs, computed once ---------------------------------------------------
@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("scenarios")
    out = {"spike": d / "tiny-spike.toml", "bad": d / "bad.toml", "good": d / "good.toml"}
    out["spike"].write_text(SPIKE)
    out["bad"].write_text(CANARY.format(kind="bad", failure_rate=0.3))
    out["good"].write_text(CANARY.format(kind="good", failure_rate=0.01))
    return out


@pytest.fixture(scope="module")
def spike_run(files):
    sim = scenario.load(files["spike"]).build()
    return sim.run_batch(6, timeseries=1.0)


@pytest.fixture(scope="module")
def canary_runs(files):
    return {k: scenario.load(files[k]).build().run_batch(12) for k in ("bad", "good")}


@pytest.fixture(scope="module")
def spike_sweep(files):
    space = grid({"scaler.policy.target": [0.5, 0.8], "scaler.scale_in_cooldown": [5, 20]})
    return Sweep(scenario.load(files["spike"]).build(), space, 3).run()


@pytest.fixture(scope="module")
def canary_sweeps(files):
    space = grid({MULTIPLIER: [1.5, 3.0, 6.0]})
    return {k: Sweep(scenario.load(files[k]).build(), space, 6).run() for k in ("bad", "good")}


# -- checking files without comparing pixels -----------------------------------------------
def png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def svg_texts(path) -> tuple[ET.Element, str]:
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg"), root.tag
    texts = " ".join(t for el in root.iter() if el.tag.endswith("text")
                     for t in el.itertext())
    return root, texts


def check_png(path, fig):
    assert path.stat().st_size > 15_000, f"{path}: only {path.stat().st_size} bytes"
    w, h = png_size(path)
    fw, fh = fig.get_size_inches() * fig.dpi
    assert (w, h) == (round(fw), round(fh))
    assert 800 <= w <= 2000 and 500 <= h <= 1600


def check_svg(path, fig, must_contain):
    assert path.stat().st_size > 15_000
    root, texts = svg_texts(path)
    w = float(root.get("width").removesuffix("pt"))
    h = float(root.get("height").removesuffix("pt"))
    fw, fh = fig.get_size_inches() * 72
    assert math.isclose(w, fw, rel_tol=1e-3) and math.isclose(h, fh, rel_tol=1e-3)
    for text in must_contain:
        assert text in texts, f"{text!r} is not in the SVG's text: {texts[:600]}"


# -- the data behind the plots -------------------------------------------------------------
def test_pareto_front():
    x = [1, 2, 3, 2, 4, np.nan]
    y = [5, 3, 1, 4, 1, 0]
    # (2, 4) is dominated by (2, 3); (4, 1) by (3, 1); NaN never on the front.
    assert pareto_front(x, y).tolist() == [0, 1, 2]
    assert pareto_front([], []).tolist() == []
    assert pareto_front([1, 1], [2, 2]).tolist() == [0, 1]  # duplicates both kept


def test_pooled_cdf_exact_at_the_quantiles_of_an_exponential():
    # One replica whose quantiles are those of Exp(1), max far out: the model's CDF equals
    # the exponential's at and between p50, p90 and p99 (exponential pieces there).
    table = pa.table({"requests_completed": [1000], "latency_mean": [1.0],
                      "latency_p50": [math.log(2)], "latency_p90": [math.log(10)],
                      "latency_p99": [math.log(100)], "latency_max": [math.log(1e4)]})
    x = np.array([math.log(2), 1.0, math.log(10), 3.0, math.log(100)])
    assert np.allclose(pooled_cdf(table, x), 1 - np.exp(-x), atol=1e-12)
    grid = np.linspace(0, 10, 500)
    cdf = pooled_cdf(table, grid)
    assert np.all(np.diff(cdf) >= -1e-15) and cdf[0] >= 0 and cdf[-1] == pytest.approx(1.0)


def test_pooled_quantile_with_and_without_the_p95_knot():
    # Exp(1) quantiles: the pooled quantiles are the exponential's, p95 knot or not.
    cols = {"requests_completed": [1000], "latency_mean": [1.0],
            "latency_p50": [math.log(2)], "latency_p90": [math.log(10)],
            "latency_p99": [math.log(100)], "latency_max": [math.log(1e4)]}
    old = pa.table(cols)
    new = pa.table(dict(cols, latency_p95=[math.log(20)]))
    assert knot_levels(old).tolist() == [0, 0.5, 0.9, 0.99, 1]
    assert knot_levels(new).tolist() == [0, 0.5, 0.9, 0.95, 0.99, 1]
    for table in (old, new):
        for q in (0.5, 0.75, 0.95, 0.99):
            assert pooled_quantile(table, q) == pytest.approx(-math.log(1 - q), rel=1e-8)
    # The p95 knot is honoured: a replica whose p95 sits near its p90.
    near = pa.table(dict(cols, latency_p95=[math.log(10) * 1.01]))
    assert pooled_quantile(near, 0.95) == pytest.approx(math.log(10) * 1.01, rel=1e-8)
    with pytest.raises(ValueError, match="q must be in"):
        pooled_quantile(new, 1.0)


def test_pooled_quantile_of_two_point_masses():
    # Replicas at 0.1 s (300 requests) and 1 s (100): the pooled p50 is 0.1, p90 is 1.
    a = {"latency_mean": 0.1, "latency_p50": 0.1, "latency_p90": 0.1, "latency_p95": 0.1,
         "latency_p99": 0.1, "latency_max": 0.1}
    b = {k: 1.0 for k in a}
    table = pa.Table.from_pylist([dict(a, requests_completed=300),
                                  dict(b, requests_completed=100)])
    assert pooled_quantile(table, 0.5) == pytest.approx(0.1)
    assert pooled_quantile(table, 0.9) == pytest.approx(1.0)


def test_pooled_cdf_is_the_request_weighted_mixture():
    a = {"latency_mean": 0.1, "latency_p50": 0.1, "latency_p90": 0.1, "latency_p99": 0.1,
         "latency_max": 0.1}
    b = {k: 1.0 for k in a}
    rows = [dict(a, requests_completed=300), dict(b, requests_completed=100),
            dict(a, requests_completed=0, latency_mean=None, latency_p50=None,
                 latency_p90=None, latency_p99=None, latency_max=None)]
    table = pa.Table.from_pylist(rows)
    x, w = replica_knots(table)
    assert w.tolist() == [300, 100]           # the replica with no request is left out
    assert np.allclose(x[0], 0.1) and np.allclose(x[1], 1.0)   # mean = p50: L = p50
    assert pooled_cdf(table, [0.05, 0.5, 2.0]).tolist() == [0.0, 0.75, 1.0]


def test_pooled_cdf_matches_the_mean_of_each_replica(spike_run):
    # Integrate the model distribution of each replica: its mean is latency_mean.
    t = spike_run.table
    x, _ = replica_knots(t)
    checked = 0
    for i in range(t.num_rows):
        one = t.slice(i, 1)
        g = np.linspace(0, x[i, -1], 200_001)
        trapezoid = getattr(np, "trapezoid", None) or np.trapz   # numpy 1.26 has trapz
        mean = trapezoid(1 - pooled_cdf(one, g), g)
        low = x[i, 0]
        if 0 < low < x[i, 1]:   # not clamped
            assert mean == pytest.approx(t.column("latency_mean")[i].as_py(), rel=1e-3)
            checked += 1
    assert checked >= 2


def test_instance_bands(spike_run):
    b = instance_bands(spike_run.timeseries)
    assert b["replicas"] == 6
    assert b["time"].tolist() == [float(s) for s in range(61)]
    assert np.all(b["p1"] <= b["p10"]) and np.all(b["p10"] <= b["p50"])
    assert np.all(b["p50"] <= b["p90"]) and np.all(b["p90"] <= b["p99"])
    ts = spike_run.timeseries.to_pydict()
    at30 = [v for t, v in zip(ts["time"], ts["instances"]) if t == 30.0]
    assert b["p99"][30] == max(at30) and b["p1"][30] == min(at30)


def test_source_rates_follow_the_profile(files):
    sim = scenario.load(files["spike"]).build()
    rates = source_rates(sim, [0.0, 19.9, 20.0, 39.9, 40.0, 59.0])
    assert rates["traffic"].tolist() == [5, 5, 30, 30, 5, 5]


def test_labels():
    assert metric_label("latency_p99") == "p99 latency (s)"
    assert metric_label("instance_seconds", "mean") == "cost, mean over replicas (instance-seconds)"
    assert param_label("scaler.scale_in_cooldown") == "scaler.scale_in_cooldown (s)"
    assert param_label("scaler.policy.target") == "scaler.policy.target"
    assert param_label("traffic.profile.spike_rate") == "traffic.profile.spike_rate (req/s)"
    assert param_label("server_0.failure_rate") == "server_0.failure_rate"
    assert short_names(["scaler.policy.target", "a.server.concurrency",
                        "b.server.concurrency"]) == {
        "scaler.policy.target": "target", "a.server.concurrency": "a.server.concurrency",
        "b.server.concurrency": "b.server.concurrency"}
    assert [fmt(v) for v in (0.5, 30.0, 1316.4, 0.01234, None)] == [
        "0.5", "30", "1,316", "0.0123", "n/a"]


def test_heatmap_grid_and_its_errors(spike_sweep):
    data = as_sweep(spike_sweep)
    x, y, xv, yv, values = grid_values(data, "instance_seconds")
    assert (x, y) == ("scaler.scale_in_cooldown", "scaler.policy.target")
    assert xv == [5.0, 20.0] and yv == [0.5, 0.8]
    s = spike_sweep.summary.to_pylist()
    for r in s:
        i, j = yv.index(r[y]), xv.index(r[x])
        assert values[i, j] == r["instance_seconds.mean"]
    with pytest.raises(ValueError, match="no 'nope.mean'"):
        grid_values(data, "nope")
    with pytest.raises(ValueError, match="not a swept parameter"):
        grid_values(data, "latency_p99", x="scaler.max_instances", y="scaler.policy.target")


def test_outcome_curve_with_a_status_never_seen(canary_sweeps):
    data = as_sweep(canary_sweeps["bad"])
    x, p, lo, hi = outcome_curve(data, MULTIPLIER, "canary", "rolled_back")
    assert x.tolist() == [1.5, 3.0, 6.0]
    assert np.all((lo <= p) & (p <= hi))
    # "idle" never happens: p = 0 with Wilson's interval for 0 of 6.
    _, p0, lo0, hi0 = outcome_curve(data, MULTIPLIER, "canary", "idle")
    assert p0.tolist() == [0, 0, 0] and np.allclose(lo0, 0, atol=1e-12)
    assert hi0[0] == pytest.approx(0.3903, abs=1e-3)


def test_inputs_from_files(tmp_path, spike_run, spike_sweep):
    pq.write_table(spike_run.table, tmp_path / "runs.parquet")
    pq.write_table(spike_run.timeseries, tmp_path / "series.parquet")
    pq.write_table(spike_sweep.summary, tmp_path / "_summary.parquet")
    runs = read(tmp_path / "runs.parquet")
    assert runs.table.num_rows == 6 and runs.timeseries is None
    series = read(tmp_path / "series.parquet")
    assert series.table is None and series.timeseries.num_rows == 6 * 61
    summ = read(tmp_path / "_summary.parquet")
    assert summ.keys == ("scaler.policy.target", "scaler.scale_in_cooldown")
    one = as_runs(spike_sweep, point={"scaler.policy.target": 0.8,
                                      "scaler.scale_in_cooldown": 20})
    assert one.table.num_rows == 3 and "target=0.8" in one.label
    with pytest.raises(ValueError, match="4 points: choose one"):
        as_runs(spike_sweep)
    with pytest.raises(ValueError, match="not a fastdeploy result table"):
        as_runs(pa.table({"a": [1]}))


def test_a_sweep_directory_with_summary_parquet_reads_only_the_chunks(tmp_path, files):
    space = grid({"scaler.policy.target": [0.5, 0.8]})
    result = Sweep(scenario.load(files["spike"]).build(), space, 2).run(out=tmp_path / "d")
    pq.write_table(result.summary, tmp_path / "d" / "_summary.parquet")
    data = read(tmp_path / "d")
    assert data.table.num_rows == 4 and data.keys == ("scaler.policy.target",)
    assert data.summary.num_rows == 2


# -- matplotlib missing ----------------------------------------------------------------------
def test_importing_the_package_does_not_import_matplotlib():
    code = "import sys, fastdeploy.plot; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"


def test_a_clear_message_without_matplotlib(monkeypatch, capsys, spike_run, tmp_path):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)   # import matplotlib fails
    with pytest.raises(MatplotlibMissing, match=r"pip install 'fastdeploy\[plot\]'"):
        plot_instances(spike_run)
    assert issubclass(MatplotlibMissing, ImportError)
    assert main(["plot", "autoscale-spike", "-o", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err
    assert "fastdeploy plot: plots need matplotlib: pip install 'fastdeploy[plot]'" in err
    assert not (tmp_path / "x.png").exists()


# -- every kind, PNG and SVG ---------------------------------------------------------------
KIND_CASES = {
    "instances": (lambda r: plot_instances(r["spike_run"]),
                  ["Instances over time", "time (s)", "instances", "median",
                   "10-90 percentile", "1-99 percentile", "traffic rate (requests/s)"]),
    "latency": (lambda r: plot_latency(r["spike_run"], slo=0.5),
                ["Per-replica p99 latency", "Pooled latency CDF", "latency (s",
                 "p99 latency of a replica (s", "SLO 0.5 s", "replicas"]),
    "tradeoff": (lambda r: plot_tradeoff(r["spike_sweep"]),
                 ["Cost vs p99 latency", "instance-seconds", "p99 latency, mean over replicas",
                  "Pareto front (mean, 95% CI), labelled", "target, scale_in_cooldown (s)"]),
    "heatmap": (lambda r: plot_heatmap(r["spike_sweep"], metric="instance_seconds"),
                ["Mean cost by scale_in_cooldown and target", "scaler.scale_in_cooldown (s)",
                 "scaler.policy.target", "cost, mean over replicas (instance-seconds)"]),
    "rollback": (lambda r: plot_rollback({"bad canary": r["canary_sweeps"]["bad"],
                                          "good canary": r["canary_sweeps"]["good"]}),
                 ["Probability of rollback vs threshold_multiplier", "bad canary",
                  "good canary", "95% Wilson intervals", MULTIPLIER, "P(canary rolled back)"]),
    "durations": (lambda r: plot_durations({"bad": r["canary_runs"]["bad"],
                                            "good": r["canary_runs"]["good"]}),
                  ["canary: deployment duration by outcome", "deployment duration (s)",
                   "rolled back", "replicas"]),
}


@needs_mpl
@pytest.mark.parametrize("kind", list(KIND_CASES))
def test_each_kind_renders_to_png_and_svg(kind, tmp_path, request):
    make, texts = KIND_CASES[kind]
    results = {name: request.getfixturevalue(name) for name in
               ("spike_run", "spike_sweep", "canary_runs", "canary_sweeps")}
    fig = make(results)
    # Every axes has a y label (twin and colour-bar axes too), shared x axes one x label.
    assert fig.axes and all(ax.get_ylabel() for ax in fig.axes)
    assert any(ax.get_xlabel() for ax in fig.axes)
    assert getattr(fig, "_suptitle", None) is not None or fig.axes[0].get_title()
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend()] + fig.legends
    assert legends or kind == "heatmap"   # a heat map has its colour bar
    from fastdeploy.plot import save

    save(fig, tmp_path / f"{kind}.png")
    save(fig, tmp_path / f"{kind}.svg")
    check_png(tmp_path / f"{kind}.png", fig)
    check_svg(tmp_path / f"{kind}.svg", fig, texts)


@needs_mpl
def test_durations_use_the_deploy_time(canary_runs):
    fig = plot_durations(canary_runs["good"])
    ax = fig.axes[0]
    assert ax.get_xlabel() == "deployment duration (s)"
    # deploy_at = 5; end times are 10 (rolled back after one evaluation) or 25 (completed).
    lo, hi = ax.get_xlim()
    assert lo < 5 and 20 < hi < 30
    table = pa.table({"canary.status": ["completed"], "canary.end_time": [25.0],
                      "replica": [0], "requests_created": [1]})
    fig = plot_durations(table)
    assert "end time" in fig.axes[0].get_xlabel() and "start" in fig.axes[0].get_xlabel()


@needs_mpl
def test_plot_functions_save_with_out(tmp_path, spike_run):
    fig = plot_instances(spike_run, out=tmp_path / "i.svg", title="My title")
    assert (tmp_path / "i.svg").exists() and fig.axes[0].get_title() == "My title"
    with pytest.raises(ValueError, match="must end in .png, .svg, .pdf"):
        plot_instances(spike_run, out=tmp_path / "i.jpg")
    with pytest.raises(ValueError, match="no time series"):
        plot_instances(spike_run.table)
    with pytest.raises(ValueError, match="slo must be"):
        plot_latency(spike_run, slo=-1)


# -- the command line ------------------------------------------------------------------------
def run_cli(args, capsys):
    code = main(["plot", *map(str, args), "--quiet"])
    out, err = capsys.readouterr()
    return code, out, err


@needs_mpl
def test_cli_instances_from_a_scenario_file(tmp_path, files, capsys):
    out = tmp_path / "instances.png"
    code, stdout, err = run_cli([files["spike"], "--replicas", 4, "--step", 2, "-o", out],
                                capsys)
    assert code == 0, err
    assert "instances plot written to" in stdout and "1200 x 675 px" in stdout
    assert png_size(out) == (1200, 675)


@needs_mpl
def test_cli_sweep_kinds_from_the_sweep_section_and_from_a_sweep_directory(tmp_path, files,
                                                                           capsys):
    code, _, err = run_cli([files["spike"], "--kind", "tradeoff", "-o", tmp_path / "t.svg"],
                           capsys)
    assert code == 0, err
    _, texts = svg_texts(tmp_path / "t.svg")
    assert "tiny-spike: cost vs p99 latency (4 points)" in texts
    # `fastdeploy sweep --out DIR` (with _summary.parquet in DIR), then plot DIR.
    assert main(["sweep", str(files["spike"]), "--out", str(tmp_path / "d"), "--quiet"]) == 0
    capsys.readouterr()
    code, _, err = run_cli([tmp_path / "d", "--kind", "heatmap", "--metric",
                            "requests_completed", "-o", tmp_path / "h.png"], capsys)
    assert code == 0, err
    code, _, err = run_cli([tmp_path / "d" / "_summary.parquet", "-o", tmp_path / "t2.png"],
                           capsys)
    assert code == 0, err   # default kind for a sweep: tradeoff
    code, _, err = run_cli([tmp_path / "d", "--kind", "latency", "--point", 1,
                            "-o", tmp_path / "l.png"], capsys)
    assert code == 0, err


@needs_mpl
def test_cli_rollback_of_two_scenarios_with_param(tmp_path, files, capsys):
    out = tmp_path / "r.svg"
    code, _, err = run_cli([files["bad"], files["good"], "--kind", "rollback", "--param",
                            f"{MULTIPLIER}=1.5,4", "--replicas", 4, "--label", "bad canary",
                            "--label", "good canary", "-o", out], capsys)
    assert code == 0, err
    _, texts = svg_texts(out)
    assert "bad canary (n = 4 per point)" in texts and "good canary" in texts


@needs_mpl
def test_cli_reads_run_and_timeseries_files(tmp_path, files, spike_run, capsys):
    assert main(["run", str(files["bad"]), "--replicas", "5", "--out",
                 str(tmp_path / "bad.parquet"), "--quiet"]) == 0
    capsys.readouterr()
    code, _, err = run_cli([tmp_path / "bad.parquet", "--kind", "durations", "--scenario",
                            files["bad"], "-o", tmp_path / "d.png"], capsys)
    assert code == 0, err
    code, _, err = run_cli([tmp_path / "bad.parquet", "--slo", 0.1, "-o",
                            tmp_path / "l.png"], capsys)
    assert code == 0, err   # default kind for a per-replica table: latency
    pq.write_table(spike_run.timeseries, tmp_path / "series.parquet")
    code, _, err = run_cli([tmp_path / "series.parquet", "--scenario", files["spike"],
                            "-o", tmp_path / "i.svg"], capsys)
    assert code == 0, err
    _, texts = svg_texts(tmp_path / "i.svg")
    assert "traffic rate (requests/s)" in texts


@needs_mpl
@pytest.mark.parametrize("args, message", [
    (["nosuch"], "nosuch: no such file or directory (nor a preset"),
    (["autoscale-spike", "--kind", "tradeoff"], "needs --param PATH=V1,V2,..."),
    (["autoscale-spike", "-o", "x.jpg"], "must end in .png, .svg, .pdf"),
    (["autoscale-spike", "canary-bad"], "--kind instances plots one result; got 2"),
    (["canary-bad", "--kind", "rollback", "--param", "nope=1,2"],
     "--param nope=1,2: canary-bad has no parameter nope; `fastdeploy params canary-bad`"),
    (["canary-bad", "--kind", "rollback", "--param", "x"], "expected PATH=V1,V2,..."),
    (["autoscale-spike", "--step", "0"], "--step must be a number of seconds > 0"),
    (["autoscale-spike", "--label", "a", "--label", "b"], "2 --label for 1 RESULTS"),
    (["autoscale-spike", "-o", "no/such/dir/x.png"], "the directory does not exist"),
])
def test_cli_mistakes_exit_2_with_a_message(args, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(args, capsys)
    assert code == 2
    assert err.startswith("fastdeploy plot: ") and message in err, err
    assert not list(tmp_path.iterdir())


@needs_mpl
def test_cli_mistakes_about_the_data(tmp_path, files, spike_run, capsys):
    pq.write_table(spike_run.table, tmp_path / "runs.parquet")
    (tmp_path / "bad.parquet").write_bytes(b"not parquet")
    cases = [
        ([tmp_path / "runs.parquet", "--kind", "heatmap"], "needs a sweep"),
        ([tmp_path / "runs.parquet", "--kind", "instances"], "needs a time series"),
        ([tmp_path / "runs.parquet", "--param", "x=1"], "--param sweeps a scenario"),
        ([files["bad"], tmp_path / "runs.parquet", "--kind", "rollback", "--param",
          f"{MULTIPLIER}=2"], "--param sweeps a scenario"),
        ([tmp_path / "runs.parquet", "--kind", "durations"], "no canary or rolling deployer"),
        ([tmp_path / "bad.parquet"], "not a Parquet file"),
        ([files["spike"], "--kind", "latency", "--slo", "-1"], "--slo must be"),
    ]
    for args, message in cases:
        code, _, err = run_cli([*args, "-o", tmp_path / "x.png"], capsys)
        assert code == 2 and message in err, (args, err)


def test_cli_help_documents_plot(capsys):
    with pytest.raises(SystemExit) as e:
        main(["plot", "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    for text in ("RESULTS", "--kind", "instances", "tradeoff", "rollback", "--param",
                 "--slo", "--scenario", "pip install 'fastdeploy[plot]'", "Exit status"):
        assert text in out
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "plot" in capsys.readouterr().out


# -- first use ---------------------------------------------------------------------------------
@needs_mpl
@pytest.mark.parametrize("compiles", [False, True])
def test_cli_says_the_kernels_compile_only_when_they_will(tmp_path, files, capsys, monkeypatch,
                                                          compiles):
    import fastdeploy.batch.compiled as compiled

    monkeypatch.setattr(compiled, "will_compile", lambda: compiles)
    for extra in (["--kind", "latency"], ["--kind", "tradeoff", "--param",
                                          "scaler.policy.target=0.5,0.7"]):
        code = main(["plot", str(files["spike"]), "--replicas", "2", *extra, "-o",
                     str(tmp_path / "x.png")])
        out, err = capsys.readouterr()
        assert code == 0, err
        said = (f"compiling the batch kernels first: once, about {compiled.COMPILE_SECONDS} s "
                "on 2 cores") in err
        assert said == compiles, err
        assert "minute" not in err


@needs_mpl
@pytest.mark.parametrize("args, message", [
    (["--kind", "tradeoff", "--param", "scaler.policy.target=0.5,1.5"],
     "--param scaler.policy.target=0.5,1.5: 1.5 is not allowed for scaler.policy.target: "
     "expected a finite number in (0, 1]"),
    (["--kind", "tradeoff", "--param", "scaler.max_instances=3,4.5"],
     "4.5 is not allowed for scaler.max_instances: expected an integer in [1, 100000]"),
    (["--kind", "tradeoff", "--param", "scaler.policy.target=0.5", "--param",
      "scaler.policy.target=0.6"], "--param scaler.policy.target is given twice"),
    (["--kind", "heatmap", "--param", "scaler.policy.target=0.5,0.7"],
     "--kind heatmap needs a sweep of 2 parameters"),
    (["--kind", "durations"], "--kind durations needs a canary or rolling deployer"),
    (["--kind", "rollback", "--param", "scaler.policy.target=0.5,0.7"],
     "--kind rollback needs a canary or rolling deployer"),
    (["--kind", "latency", "--param", "scaler.policy.target=0.5"],
     "--param sweeps a scenario for --kind tradeoff, heatmap, rollback or power, not --kind latency"),
    (["--kind", "rollback", "--baseline", "0.01"], "--baseline and --log are options of --kind power"),
    (["--kind", "tradeoff", "--log"], "--baseline and --log are options of --kind power"),
    (["--kind", "power", "--baseline", "0"], "--baseline must be a number > 0, got 0"),
])
def test_cli_refuses_before_simulating_in_the_command_lines_words(args, message, capsys,
                                                                 tmp_path, monkeypatch):
    from fastdeploy.core.simulation import Simulation

    def no_runs(*a, **k):
        raise AssertionError("a simulation ran before the plot was refused")

    monkeypatch.setattr(Simulation, "run_batch", no_runs)
    monkeypatch.setattr("fastdeploy.sweep.sweep.Sweep.run", no_runs)
    code = main(["plot", "autoscale-spike", *args, "-o", str(tmp_path / "x.png")])
    err = capsys.readouterr().err
    assert code == 2 and message in err, err
    assert len(err.strip().splitlines()) == 1
    assert "np." not in err and "params[" not in err and "[0]" not in err


def test_library_messages_show_plain_numbers():
    from fastdeploy.presets import autoscale_spike

    with pytest.raises(ValueError) as e:
        Sweep(autoscale_spike(), grid({"scaler.policy.target": [0.5, 1.5]}), 2)
    assert str(e.value) == ("space point 1 {'scaler.policy.target': 1.5}: "
                            "params['scaler.policy.target'] = 1.5 is not allowed: expected a "
                            "finite number in (0, 1]")


def test_coincident_points_are_grouped():
    from fastdeploy.plot.tradeoff import coincident

    x = [1.0, 2.0, 1.0, 3.0, 1.0 + 1e-13, float("nan"), 2.0]
    y = [5.0, 4.0, 5.0, 1.0, 5.0, 5.0, 4.5]
    assert coincident(x, y) == [[0, 2, 4]]
    assert coincident([1.0, 2.0], [1.0, 1.0]) == []


@needs_mpl
def test_tradeoff_marks_points_drawn_on_top_of_each_other(tmp_path, spike_sweep):
    s = spike_sweep.summary
    twin = s.set_column(s.column_names.index("point"), "point",
                        pa.array([p + s.num_rows for p in s.column("point").to_pylist()]))
    col = "scaler.scale_in_cooldown"
    twin = twin.set_column(twin.column_names.index(col), col,
                           pa.array([v + 1000 for v in twin.column(col).to_pylist()]))
    doubled = pa.concat_tables([s, twin])
    out = tmp_path / "t.svg"
    fig = plot_tradeoff(doubled, out=out)
    _, texts = svg_texts(out)
    assert texts.count("×2") == s.num_rows, texts
    assert "+1 same" in texts and "k points with equal means, drawn once" in texts
    check_svg(out, fig, [])
    plot_tradeoff(s, out=tmp_path / "plain.svg")
    assert "×" not in svg_texts(tmp_path / "plain.svg")[1]


# == power ===============================================================================
def _analysis_sim(kind):
    """A small canary analysis (20 s, 20 requests/s) of kind "flagger" or "kayenta"."""
    from fastdeploy import ConstantLatency, LoadBalancer, Server, Simulation, Source
    from fastdeploy.deployment import CanaryDeployer, CanaryStage
    from fastdeploy.flagger import FlaggerCanary
    from fastdeploy.kayenta import KayentaJudge, KayentaMetric

    lb = LoadBalancer("lb", backends=[Server(f"s{i}", concurrency=4,
                                             service_time=ConstantLatency(0.01),
                                             failure_rate=0.01) for i in range(2)])

    def factory(name):
        return Server(name, concurrency=4, service_time=ConstantLatency(0.01),
                      failure_rate=0.01)

    if kind == "flagger":
        d = FlaggerCanary("fl", lb, factory, interval=2.0, threshold=2, step_weight=25)
    else:
        d = CanaryDeployer("ca", lb, factory, stages=[CanaryStage(0.5, 8.0)],
                           metric_evaluator=KayentaJudge([KayentaMetric("error_rate")]),
                           evaluation_interval=2.0)
    sim = Simulation(end_time=20.0, sources=[Source("src", 20.0, lb)], entities=[lb, d],
                     seed=0)
    sim.schedule(d.deploy(at=1.0))
    return sim


@needs_mpl
def test_power_plot_renders_from_sweeps(tmp_path):
    from fastdeploy.plot import plot_power
    from fastdeploy.plot.power import power_curve

    sweeps = {}
    for kind, name in (("flagger", "fl"), ("kayenta", "ca")):
        path = f"{name}.server.failure_rate"
        sweeps[kind] = Sweep(_analysis_sim(kind), grid({path: [0.01, 0.2, 0.6]}), 6).run()
        x, p, lo, hi = power_curve(as_sweep(sweeps[kind]), path, name)
        assert list(x) == [0.01, 0.2, 0.6]
        assert np.all((lo <= p) & (p <= hi)) and p[-1] >= p[0]
    out = tmp_path / "power.svg"
    plot_power(sweeps, baseline=0.01, out=str(out))
    _, texts = svg_texts(out)
    assert "flagger (n = 6 per point)" in texts and "kayenta (n = 6 per point)" in texts
    # Two deployers' failure rates: the path they share, as a multiple of the baseline.
    assert "server.failure_rate (x baseline 0.01)" in texts
    with pytest.raises(ValueError, match="did not sweep"):
        plot_power(sweeps, parameter="fl.server.failure_rate")


@needs_mpl
def test_cli_power_plot_with_a_baseline(tmp_path, capsys):
    out = tmp_path / "power.svg"
    code = main(["plot", "canary-good", "--kind", "power", "--param",
                 "canary.server.failure_rate=0.01,0.015,0.03", "--replicas", "4", "--baseline",
                 "0.01", "--log", "--quiet", "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    _, texts = svg_texts(out)
    assert "canary.server.failure_rate (x baseline 0.01)" in texts and "1.5" in texts


def test_power_x_label_names_the_regression():
    from fastdeploy.plot.power import regression_label

    assert regression_label(["canary.server.failure_rate"]) == "canary.server.failure_rate"
    assert regression_label(["canary.server.failure_rate", "flagger.server.failure_rate"],
                            0.01) == "server.failure_rate (x baseline 0.01)"
    # A latency regression: its unit, never "failure rate".
    assert regression_label(["canary.server.service_time.mean_latency",
                             "argo.server.service_time.mean_latency"]) == \
        "server.service_time.mean_latency (s)"
    assert regression_label(["argo.server.service_time.mean_latency"], 0.05) == \
        "argo.server.service_time.mean_latency (x baseline 0.05 s)"
    assert regression_label(["fl.server.failure_rate", "traffic.profile.rate"]) == "regression"


@needs_mpl
def test_power_plot_of_a_latency_regression(tmp_path):
    from fastdeploy.plot import plot_power

    path = "fl.server.service_time.latency"
    sweep = Sweep(_analysis_sim("flagger"), grid({path: [0.01, 0.015, 0.03]}), 4).run()
    out = tmp_path / "latency.svg"
    fig = plot_power({"flagger": sweep}, baseline=0.01, log=True, out=str(out))
    _, texts = svg_texts(out)
    assert f"{path} (x baseline 0.01 s)" in texts and "failure" not in texts
    # A narrow log axis: a tick at each regression size (1, 1.5 and 3), not only at 1 and 2.
    ax = fig.axes[0]
    lo, hi = ax.get_xlim()
    ticks = [t.get_text() for t in ax.get_xticklabels() if lo <= t.get_position()[0] <= hi]
    assert ticks == ["1", "1.5", "3"]
