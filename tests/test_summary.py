"""Intervals (checked against scipy and table values), the summary schema shared by runs
and sweeps, clipping to a metric's support, and the summary display (docs/summaries.md)."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats

from fastdeploy.intervals import (clip, mean_interval, t_half_width, t_quantile,
                                  welch_interval, wilson_interval)
from fastdeploy.metrics import metric_support, metric_unit
from fastdeploy.presets import PRESETS, preset_scenario
from fastdeploy.summary import (FIELDS, describe, format_estimate, format_number,
                                format_summary, summarize)
from fastdeploy.sweep.stats import compare_points, summarize_points
from sweep_scenarios import scale

RNG = np.random.default_rng(7)


# -- t quantiles and intervals ---------------------------------------------------------------
@pytest.mark.parametrize("p, df, table", [
    (0.975, 1, 12.7062), (0.975, 4, 2.7764), (0.975, 9, 2.2622), (0.975, 29, 2.0452),
    (0.995, 4, 4.6041), (0.95, 120, 1.6577), (0.025, 9, -2.2622),
])
def test_t_quantile_matches_printed_tables(p, df, table):
    assert round(t_quantile(p, df), 4) == table


def test_t_quantile_matches_scipy_for_fractional_df():
    for df in (1.5, 2.37, 7.9, 55.5, 1e4):
        assert t_quantile(0.975, df) == pytest.approx(stats.t.ppf(0.975, df), rel=1e-12)


@pytest.mark.parametrize("p, df, match", [(0.0, 5, "p must be in"), (1.0, 5, "p must be in"),
                                          (0.975, 0, "df must be > 0")])
def test_t_quantile_refuses_bad_arguments(p, df, match):
    with pytest.raises(ValueError, match=match):
        t_quantile(p, df)


def test_mean_interval_matches_scipy_and_a_hand_value():
    x = np.arange(1.0, 11.0)
    m, lo, hi = mean_interval(x)
    half = 2.262157 * math.sqrt(55 / 6) / math.sqrt(10)  # t(0.975, 9) s / sqrt(n), by hand
    assert m == 5.5 and (hi - lo) / 2 == pytest.approx(half, rel=1e-6)
    for n in (2, 3, 17, 250):
        x = RNG.gamma(2.0, 3.0, n)
        want = stats.t.interval(0.95, n - 1, loc=x.mean(), scale=stats.sem(x))
        assert mean_interval(x)[1:] == pytest.approx(want, rel=1e-12)
        want90 = stats.t.interval(0.9, n - 1, loc=x.mean(), scale=stats.sem(x))
        assert mean_interval(x, 0.9)[1:] == pytest.approx(want90, rel=1e-12)
        assert t_half_width(x) == pytest.approx((want[1] - want[0]) / 2, rel=1e-12)


def test_mean_interval_edge_cases():
    assert all(math.isnan(v) for v in mean_interval([]))
    assert mean_interval([3.0]) == (3.0, -math.inf, math.inf)
    assert mean_interval([2.0, 2.0, 2.0]) == (2.0, 2.0, 2.0)
    with pytest.raises(ValueError, match="confidence must be in"):
        mean_interval([1.0, 2.0], confidence=95)


def test_paired_and_welch_intervals_match_scipy_tests():
    a, b = RNG.normal(10, 2, 40), RNG.normal(9, 5, 25)
    d, lo, hi = welch_interval(a, b)
    ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert d == pytest.approx(a.mean() - b.mean())
    assert (lo, hi) == pytest.approx((ci.low, ci.high), rel=1e-10)
    c = a[:25] + RNG.normal(0, 0.1, 25)
    ci = stats.ttest_rel(c, a[:25]).confidence_interval(0.95)
    assert mean_interval(c - a[:25])[1:] == pytest.approx((ci.low, ci.high), rel=1e-10)
    assert welch_interval([1.0], [2.0, 3.0]) == (-1.5, -math.inf, math.inf)
    assert welch_interval([1.0, 1.0], [2.0, 2.0]) == (-1.0, -1.0, -1.0)


# -- Wilson -----------------------------------------------------------------------------------
def test_wilson_matches_scipy_binomtest():
    for n in (1, 2, 3, 7, 10, 30, 99, 1000):
        for k in sorted({0, 1, n // 3, n // 2, n - 1, n}):
            for conf in (0.95, 0.8):
                ci = stats.binomtest(k, n).proportion_ci(conf, method="wilson")
                p, lo, hi = wilson_interval(k, n, conf)
                assert p == k / n
                assert (lo, hi) == pytest.approx((ci.low, ci.high), rel=1e-12, abs=1e-15)
    # Table value (Wilson 1927; Newcombe 1998): 5 of 10.
    assert [round(v, 4) for v in wilson_interval(5, 10)[1:]] == [0.2366, 0.7634]


def test_wilson_ends_are_exact_at_zero_and_all():
    # The closed form leaves residue like 5.6e-17 (3 trials) at the ends; a summary
    # showed it as 4.337e-19 where the bound is 0.
    for n in range(1, 400):
        assert wilson_interval(0, n)[1] == 0.0
        assert wilson_interval(n, n)[2] == 1.0


def test_wilson_refuses_bad_counts():
    with pytest.raises(ValueError, match="n must be > 0"):
        wilson_interval(0, 0)
    with pytest.raises(ValueError, match=r"successes must be in \[0, n\]"):
        wilson_interval(4, 3)


# -- supports and clipping -------------------------------------------------------------------
def test_supports_and_units():
    assert metric_support("requests_rejected") == (0.0, math.inf)
    assert metric_support("latency_p99") == (0.0, math.inf)
    assert metric_support("canary.end_time") == (0.0, math.inf)
    assert metric_support("canary.status=rolled_back") == (0.0, 1.0)
    assert metric_support("my_column") == (-math.inf, math.inf)
    assert [metric_unit(m) for m in ("latency_mean", "requests_rejected", "instance_seconds",
                                     "lb.backends_added", "canary.status=completed")] == \
        ["s", "requests", "instance-seconds", "instances", "probability"]
    assert clip(-0.5, 2.2, (0.0, math.inf)) == (0.0, 2.2)
    assert clip(-math.inf, math.inf, (0.0, 1.0)) == (0.0, 1.0)
    assert all(math.isnan(v) for v in clip(math.nan, math.nan, (0.0, 1.0)))


def test_count_interval_is_clipped_at_zero():
    # The reported case: requests_rejected 0.8533 [-0.5265, 2.2332].
    x = [0.0] * 13 + [4.0, 7.0]
    m, lo, hi = mean_interval(x)
    assert lo < 0
    s = describe(x, "requests_rejected")
    assert (s["mean"], s["ci_low"], s["ci_high"]) == (m, 0.0, hi)
    assert describe([2.0], "latency_mean")["ci_low"] == 0.0  # one value: [0, inf)
    assert describe(x, "my_column")["ci_low"] == lo  # unknown support: not clipped


def every_metric_table(n: int = 6) -> pa.Table:
    """A replica table with a count, a duration with nulls, a status and a plain column."""
    return pa.table({
        "replica": pa.array(np.arange(n)),
        "seed": pa.array(np.zeros(n, np.int64)),
        "requests_rejected": pa.array(np.array([0, 0, 0, 0, 1, 4][:n], np.int64)),
        "latency_mean": pa.array([0.2, None, 0.4, 0.1, 0.3, 0.25][:n], pa.float64()),
        "canary.status": pa.array(["completed", "rolled_back", "rolled_back", None,
                                   "completed", "completed"][:n], pa.string()),
        "other": pa.array(np.array([-3.0, 1, 2, -1, 0, 5][:n])),
    })


def test_summarize_schema_and_values():
    s = summarize(every_metric_table())
    assert s.column_names == ["metric", "unit", *FIELDS]
    rows = {r["metric"]: r for r in s.to_pylist()}
    assert list(rows) == ["requests_rejected", "latency_mean", "canary.status=completed",
                          "canary.status=rolled_back", "other"]
    assert rows["latency_mean"]["n"] == 5  # the null is left out
    assert rows["latency_mean"]["mean"] == pytest.approx(0.25)
    assert rows["requests_rejected"]["ci_low"] == 0.0
    assert rows["other"]["ci_low"] < -1  # no known support: not clipped
    done = rows["canary.status=completed"]
    # The null status is left out of the denominator, as in sweeps.
    assert (done["n"], done["mean"]) == (5, 0.6)
    assert (done["ci_low"], done["ci_high"]) == pytest.approx(wilson_interval(3, 5)[1:])
    assert math.isnan(done["p50"]) and done["unit"] == "probability"


def test_run_and_sweep_summaries_share_one_schema():
    table = every_metric_table()
    n = table.num_rows
    both = pa.concat_tables([table, table.slice(0, 4)])
    sweep = both.add_column(0, "point", pa.array([0] * n + [1] * 4, pa.int64()))
    per_point = summarize_points(sweep, [], [{}, {}]).to_pylist()
    for point, rows in ((0, table), (1, table.slice(0, 4))):
        for r in summarize(rows).to_pylist():
            for f in FIELDS:
                key = f"{r['metric']}.{f}"
                if "=" in r["metric"] and f.startswith("p"):
                    assert key not in per_point[point]  # an indicator has no percentiles
                    continue
                got = per_point[point][key]
                assert got == r[f] or (math.isnan(got) and math.isnan(r[f])), key


def test_compare_always_reports_n():
    table = every_metric_table()
    sweep = pa.concat_tables([table, table]).add_column(
        0, "point", pa.array([0] * 6 + [1] * 6, pa.int64()))
    row = compare_points(sweep, [], [{}, {}], baseline=0).to_pylist()[0]
    assert row["requests_rejected.n"] == 6 and row["latency_mean.n"] == 5
    assert row["requests_rejected.diff"] == 0


@pytest.mark.parametrize("name", PRESETS)
def test_every_metric_of_a_preset_has_a_unit_and_a_support(name):
    table = preset_scenario(name).build(0).run_batch(scale(3, 1)).table
    for r in summarize(table).to_pylist():
        assert r["unit"] is not None, r["metric"]
        assert metric_support(r["metric"])[0] == 0.0, r["metric"]


# -- display ----------------------------------------------------------------------------------
def test_numbers_are_never_scientific():
    assert format_number(4.337e-19) == "0"
    assert format_number(-4e-19) == "0"
    assert format_number(140000.5) in ("140000", "140001")
    assert format_number(1.4e5) == "140000"
    assert format_number(123456789.25) == "123456789"
    assert format_number(0.0123456) == "0.01235"
    assert format_number(0.6) == "0.6"
    assert format_number(math.nan) == "-" and format_number(None) == "-"
    assert format_number(math.inf) == "inf"


def test_whole_numbers_have_no_decimals_and_a_row_one_precision():
    assert format_number(121.0, 4) == "121"
    assert format_estimate(27986.04, 27933.9005, 28038.1795) == "27986 [27934, 28038]"
    assert format_estimate(0.4825, 0.29684, 0.66821) == "0.4825 [0.2968, 0.6682]"
    assert format_estimate(1.76, 1.592, 2.0) == "1.760 [1.592, 2]"


def test_format_summary_shows_units_clipped_bounds_and_plain_numbers():
    table = pa.table({
        "replica": pa.array(np.arange(15)),
        "requests_rejected": pa.array(np.array([0] * 13 + [4, 7], np.int64)),
        "requests_created": pa.array(27900 + np.arange(15) ** 2),
        "instance_seconds": pa.array(np.full(15, 140000.25) + np.arange(15)),
        "canary.status": pa.array(["completed"] * 15, pa.string()),
    })
    text = format_summary(summarize(table))
    lines = {line.split()[0]: line for line in text.splitlines()[2:]}
    assert text.splitlines()[0].split() == ["metric", "unit", "n", "mean", "95%", "CI",
                                            "p50", "p90", "p95", "p99"]
    rejected = lines["requests_rejected"].split()
    # One precision per row, set by its largest value (p99 = 6.72): 4 digits there.
    assert rejected[:4] == ["requests_rejected", "requests", "15", "0.733"]
    assert rejected[4] == "[0,"  # clipped: a count is never negative
    # Counts in the tens of thousands: whole numbers, not 27933.9005.
    created = lines["requests_created"].split()
    assert created[3] == "27968" and not any("." in c for c in created[3:])
    cost = lines["instance_seconds"].split()
    assert cost[1] == "instance-seconds" and cost[3] == "140007" and "e+" not in text
    done = lines["canary.status=completed"].split()
    low = stats.binomtest(15, 15).proportion_ci(method="wilson").low
    assert done[1:6] == ["probability", "15", "1", f"[{low:.3f},", "1]"]
