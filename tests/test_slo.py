"""Service-level objectives: parsing, attainment with Wilson intervals in run and sweep
summaries, differences of attainment, and the p95 beside p50/p90/p99
(`fastdeploy docs summaries`)."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scipy import stats

from fastdeploy.scenario import loads
from fastdeploy.slo import SLO, check_metrics, counts, indicator, parse_slo, parse_slos
from fastdeploy.summary import FIELDS, summarize
from fastdeploy.sweep import Sweep, grid
from test_cli import TINY  # a small autoscaling scenario: quick without the JIT too


def wilson(k, n):
    ci = stats.binomtest(k, n).proportion_ci(0.95, method="wilson")
    return ci.low, ci.high


@pytest.mark.parametrize("text, metric, op, value, name", [
    ("latency_p99<=0.5", "latency_p99", "<=", 0.5, "latency_p99<=0.5"),
    (" instance_seconds >= 1e3 ", "instance_seconds", ">=", 1000.0, "instance_seconds>=1000"),
    ("canary.end_time<=120.25", "canary.end_time", "<=", 120.25, "canary.end_time<=120.25"),
])
def test_parse(text, metric, op, value, name):
    slo = parse_slo(text)
    assert (slo.metric, slo.op, slo.threshold, slo.name) == (metric, op, value, name)
    assert parse_slo(slo) is slo


@pytest.mark.parametrize("text, message", [
    ("latency_p99<0.5", "expected METRIC<=VALUE or METRIC>=VALUE"),
    ("latency_p99", "expected METRIC<=VALUE"),
    ("<=0.5", "expected METRIC<=VALUE"),
    ("latency_p99<=fast", "'fast' is not a finite number"),
    ("latency_p99<=inf", "'inf' is not a finite number"),
])
def test_parse_refuses_with_the_text(text, message):
    with pytest.raises(ValueError, match=message) as e:
        parse_slo(text)
    assert repr(text) in str(e.value)


def test_slo_checks_its_fields_and_duplicates():
    with pytest.raises(ValueError, match="op must be one of"):
        SLO("latency_p99", "<", 1.0)
    with pytest.raises(ValueError, match="finite number"):
        SLO("latency_p99", "<=", math.nan)
    with pytest.raises(ValueError, match="latency_p99<=0.5 is given twice"):
        parse_slos(["latency_p99<=0.5", "latency_p99 <= 0.50"])
    assert parse_slos(None) == () and len(parse_slos("latency_p99<=1")) == 1
    with pytest.raises(ValueError, match="did you mean latency_p99"):
        check_metrics(parse_slos("latency_q99<=1"), ["latency_p90", "latency_p99"])


def test_indicator_leaves_nulls_out_and_bounds_are_inclusive():
    t = pa.table({"latency_p99": pa.array([0.2, 0.5, 0.7, None]),
                  "status": pa.array(["a", "b", "c", "d"])})
    met = indicator(t, parse_slo("latency_p99<=0.5"))
    assert np.array_equal(met[:3], [1.0, 1.0, 0.0]) and math.isnan(met[3])
    assert counts(met) == (2, 3)
    assert counts(indicator(t, parse_slo("latency_p99>=0.5"))) == (2, 3)
    with pytest.raises(ValueError, match="not a numeric column"):
        indicator(t, parse_slo("status<=1"))
    with pytest.raises(ValueError, match="has no column 'nope'"):
        indicator(t, parse_slo("nope<=1"))


@pytest.fixture(scope="module")
def spike():
    return loads(TINY).build().run_batch(30, threads=1).table


def test_run_summary_adds_attainment_rows(spike):
    s = summarize(spike, ["latency_p99<=0.4", "instance_seconds>=20"])
    rows = {r["metric"]: r for r in s.to_pylist()}
    p99 = spike.column("latency_p99").to_numpy()
    k = int((p99 <= 0.4).sum())
    assert 0 < k < 30
    row = rows["latency_p99<=0.4"]
    assert row["unit"] == "probability" and row["n"] == 30 and row["mean"] == k / 30
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(wilson(k, 30), abs=1e-12)
    assert all(math.isnan(row[f]) for f in FIELDS[4:])
    cost = spike.column("instance_seconds").to_numpy()
    assert rows["instance_seconds>=20"]["mean"] == (cost >= 20).mean()
    assert s.column("metric").to_pylist()[-2:] == ["latency_p99<=0.4", "instance_seconds>=20"]


def test_p95_per_replica_and_across_replicas(spike):
    for q in ("p50", "p90", "p95", "p99"):
        assert f"latency_{q}" in spike.column_names
    a, b, c = (spike.column(f"latency_{q}").to_numpy() for q in ("p90", "p95", "p99"))
    assert np.all(a <= b) and np.all(b <= c) and np.any(b < c)
    row = next(r for r in summarize(spike).to_pylist() if r["metric"] == "latency_p99")
    assert row["p95"] == pytest.approx(np.percentile(c, 95))


def test_sweep_summary_and_compare_with_slos(tmp_path):
    sweep = Sweep(loads(TINY).build(), grid({"traffic.profile.rate": [30, 45]}), 20)
    result = sweep.run(threads=1, slos=["latency_p99<=0.4"], out=tmp_path / "s")
    s = result.summary
    hits = []
    for point in (0, 1):
        p99 = result.rows_of(point).column("latency_p99").to_numpy()
        k = int((p99 <= 0.4).sum())
        hits.append(k)
        assert s.column("latency_p99<=0.4.mean")[point].as_py() == k / 20
        assert s.column("latency_p99<=0.4.ci_low")[point].as_py() == pytest.approx(
            wilson(k, 20)[0], abs=1e-12)
    assert hits[0] > hits[1]         # more traffic, fewer replicas meet it
    written = pq.read_table(tmp_path / "s" / "_summary.parquet")
    assert written.column("latency_p99<=0.4.mean").equals(s.column("latency_p99<=0.4.mean"))
    # Another objective after the fact; the paired difference of attainment.
    other = result.summarize(["latency_p99<=2"])
    assert "latency_p99<=2.mean" in other.column_names
    d = result.compare(0, slos=["latency_p99<=0.4"])
    met = [(result.rows_of(p).column("latency_p99").to_numpy() <= 0.4).astype(float)
           for p in (0, 1)]
    diff = met[1] - met[0]
    assert diff.std() > 0
    assert d.column("latency_p99<=0.4.diff")[0].as_py() == pytest.approx(diff.mean())
    half = stats.t.ppf(0.975, 19) * diff.std(ddof=1) / math.sqrt(20)
    assert d.column("latency_p99<=0.4.ci_high")[0].as_py() == pytest.approx(diff.mean() + half)
    with pytest.raises(ValueError, match="'latency_p98' is not a numeric metric"):
        sweep.run(threads=1, slos=["latency_p98<=1"])
