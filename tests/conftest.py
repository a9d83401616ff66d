"""Shared by the batch-engine tests: one row/metrics comparison, one events comparison."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import pytest


def row_differences(row: dict, metrics: dict, ignore=()) -> list[str]:
    """How a batch row differs from ``summary.metrics``: ints exactly, floats to 1e-9
    relative, None <-> null; the keys must match (besides replica and seed)."""
    out = []
    extra = set(row) - set(metrics) - {"replica", "seed"}
    missing = set(metrics) - set(row)
    if extra or missing:
        out.append(f"keys: only in batch {sorted(extra)}, only in object {sorted(missing)}")
    for k, a in metrics.items():
        if k in ignore or k not in row:
            continue
        b = row[k]
        if a is None or b is None:
            ok = a is None and b is None
        elif isinstance(a, bool) or isinstance(a, str):
            ok = type(b) is type(a) and a == b
        elif isinstance(a, int):
            ok = isinstance(b, int) and not isinstance(b, bool) and a == b
        elif isinstance(a, float):
            ok = isinstance(b, float) and (a == b or math.isclose(a, b, rel_tol=1e-9))
        else:
            ok = a == b
        if not ok:
            out.append(f"{k}: object {a!r} batch {b!r}")
    return out


def object_scaling_events(scaler) -> list[tuple]:
    return [(e.time.to_seconds(), e.action, e.from_count, e.to_count)
            for e in scaler.scaling_history]


def batch_scaling_events(events_table, replica: int, scaler_name: str) -> list[tuple]:
    return [(r["time"], r["action"], r["from_count"], r["to_count"])
            for r in events_table.to_pylist()
            if r["replica"] == replica and r["scaler"] == scaler_name]


def assert_agree(sim, result, replicas, scalers=(), ignore=()):
    """Every row of ``result`` for ``replicas`` equals ``sim.run(replica=r)`` (metrics and
    each scaler's history); the failure message names the replica and fields. Returns
    {replica: object-engine metrics}."""
    rows = {r["replica"]: r for r in result.table.to_pylist()}
    names = {r["scaler"] for r in result.scaling_events.to_pylist()}
    assert names <= {a.name for a in scalers}, names
    problems, runs = [], {}
    for rep in replicas:
        metrics = runs[int(rep)] = sim.run(replica=int(rep)).metrics
        diff = row_differences(rows[int(rep)], metrics, ignore)
        for a in scalers:
            ob = object_scaling_events(a)
            ba = batch_scaling_events(result.scaling_events, int(rep), a.name)
            if ob != ba:
                diff.append(f"{a.name} scaling events: object {ob} batch {ba}")
        problems += [f"replica {rep}: {d}" for d in diff]
    assert not problems, "engines disagree:\n" + "\n".join(problems)
    return runs


@pytest.fixture(scope="session")
def agree():
    """``agree(sim, result, replicas, scalers=(), ignore=())``: see assert_agree."""
    return assert_agree


@pytest.fixture(scope="session")
def row_diff():
    """``row_diff(row, metrics)``: the list of differences (empty when they agree)."""
    return row_differences


def run_python(code: str, cache_dir, timeout=None) -> str:
    """Run ``code`` in a new Python process whose numba cache is ``cache_dir``; its
    standard output (the test fails with its standard error if it fails)."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir))
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.fixture(scope="session")
def new_process():
    """``new_process(code, cache_dir, timeout=None)``: see run_python."""
    return run_python
