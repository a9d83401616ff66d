"""The slo_attainment plot and --slo on `fastdeploy plot` (needs matplotlib)."""

from __future__ import annotations

import numpy as np
import pytest
from test_cli import TINY, run_cli

from fastdeploy.plot.inputs import as_sweep
from fastdeploy.plot.slo import attainment_curves, plot_slo_attainment
from fastdeploy.scenario import loads
from fastdeploy.slo import parse_slos
from fastdeploy.sweep import Sweep, grid

pytest.importorskip("matplotlib")


@pytest.fixture(scope="module")
def swept():
    # A small scenario (quick without the JIT too): more traffic, fewer replicas meet it.
    space = grid({"traffic.profile.rate": [30, 45], "scaler.scale_in_cooldown": [30, 120]})
    return Sweep(loads(TINY).build(), space, 12).run(threads=1)


@pytest.fixture
def tiny(tmp_path):
    f = tmp_path / "tiny.toml"
    f.write_text(TINY)
    return str(f)


def test_curves_are_the_summary_attainment(swept):
    slos = parse_slos(["latency_p99<=0.4", "latency_p99<=1"])
    curves = attainment_curves(as_sweep(swept), slos, "traffic.profile.rate")
    assert len(curves) == 4          # 2 objectives x 2 values of the other parameter
    summary = swept.summarize(slos).to_pylist()
    assert any(0 < c[3][0] < 1 for c in curves)
    for slo, other, x, p, lo, hi in curves:
        assert list(x) == [30, 45]
        for xi, pi, li, hi_ in zip(x, p, lo, hi):
            (row,) = [r for r in summary if r["traffic.profile.rate"] == xi
                      and r["scaler.scale_in_cooldown"] == other["scaler.scale_in_cooldown"]]
            assert (pi, li, hi_) == (row[f"{slo.name}.mean"], row[f"{slo.name}.ci_low"],
                                     row[f"{slo.name}.ci_high"])
            rows = swept.rows_of(row["point"]).column("latency_p99").to_numpy()
            assert pi == np.mean(rows <= slo.threshold)


def test_plot_draws_one_curve_per_objective_and_setting(swept, tmp_path):
    fig = plot_slo_attainment(swept, ["latency_p99<=1"], parameter="traffic.profile.rate",
                              out=tmp_path / "a.svg")
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["latency_p99<=1 (scale_in_cooldown=30)",
                      "latency_p99<=1 (scale_in_cooldown=120)"]
    assert (tmp_path / "a.svg").stat().st_size > 0
    with pytest.raises(ValueError, match="choose the parameter on x"):
        plot_slo_attainment(swept, ["latency_p99<=1"])
    with pytest.raises(ValueError, match="needs an objective"):
        plot_slo_attainment(swept, [], parameter="traffic.profile.rate")
    summary_only = as_sweep(swept.summary)
    with pytest.raises(ValueError, match="only a summary, without the columns of "
                                         "latency_p99<=1"):
        plot_slo_attainment(summary_only, ["latency_p99<=1"], parameter="traffic.profile.rate")


def test_cli_slo_attainment_and_slo_options(tmp_path, tiny):
    out = tmp_path / "slo.png"
    status, stdout, err = run_cli("plot", tiny, "--kind", "slo_attainment",
                                  "--slo", "latency_p99<=0.4", "--param",
                                  "traffic.profile.rate=30,45", "--replicas", "6",
                                  "--quiet", "-o", str(out))
    assert status == 0, err
    assert stdout.startswith("slo_attainment plot written to") and out.stat().st_size > 0
    status, _, err = run_cli("plot", tiny, "--kind", "latency", "--replicas", "5",
                             "--slo", "latency_p99<=0.5", "--quiet", "-o",
                             str(tmp_path / "l.png"))
    assert status == 0, err


@pytest.mark.parametrize("argv, message", [
    (["--kind", "slo_attainment", "--param", "scaler.policy.target=0.5,0.8"],
     "--kind slo_attainment needs --slo METRIC<=VALUE"),
    (["--kind", "slo_attainment", "--slo", "latency_q99<=1", "--param",
      "scaler.policy.target=0.5,0.8"], "--slo latency_q99<=1: 'latency_q99' is not a numeric"),
    (["--kind", "tradeoff", "--slo", "latency_p99<=1", "--param",
      "scaler.policy.target=0.5,0.8"], "--slo applies to --kind latency and slo_attainment"),
    (["--slo", "latency_p99<=1"], "the plot of autoscale-spike is --kind instances"),
    (["--kind", "latency", "--slo", "latency_p99>=1"], "the latency plot draws a latency"),
    (["--kind", "latency", "--slo", "-2"], "--slo must be a latency in seconds > 0, got -2"),
    (["--kind", "slo_attainment", "--slo", "latency_p99<=1", "--param",
      "scaler.policy.target=0.5,0.8", "--param", "scaler.scale_in_cooldown=30,60"],
     "choose the one on x with --parameter"),
])
def test_cli_refuses_before_running(argv, message, tmp_path):
    status, out, err = run_cli("plot", "autoscale-spike", *argv, "-o", str(tmp_path / "x.png"))
    assert status == 2 and message in err and out == ""
    assert "running" not in err and "sweeping" not in err
