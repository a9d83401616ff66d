"""The second process of a cold compile (fastdeploy/batch/precompile.py) compiles the
handlers for exactly the types the entry kernel calls them with; a wrong guess would
only waste the second core, so this checks the guesses against what numba compiled."""

import os

import numpy as np
import pytest

from fastdeploy.batch import precompile
from fastdeploy.batch.bundles import make_outputs, make_parts, make_workspace
from fastdeploy.batch.lower import lower
from fastdeploy.presets import PRESETS

pytestmark = pytest.mark.skipif(os.environ.get("NUMBA_DISABLE_JIT") == "1",
                                reason="numba compiles nothing without the JIT")


@pytest.mark.parametrize("name", ["autoscale-spike", "hpa-spike", "canary-bad", "rolling",
                                  "flagger-bad", "argo-canary-bad"])
def test_the_handlers_signatures_are_the_ones_numba_compiles(name):
    sim = PRESETS[name](0)
    sim.run_batch(2, seed=1, timeseries=1.0)  # compiled here, or loaded from the cache
    model = lower(sim)
    P_ROWS, p_index = model.params.rows(2, None)
    out = make_outputs(model.scenario, 2, 4, 3)
    w = make_workspace(model.scenario, model.server_cap, model.pool_cap,
                       model.mark_slots(P_ROWS), model.max_concurrency(P_ROWS),
                       model.judge_size(P_ROWS))
    parts = make_parts(model.scenario)
    # The entry kernel's arguments as batch/run.py passes them (their types are what
    # counts).
    entry_args = (model.scenario, P_ROWS, p_index, np.arange(2, dtype=np.int64),
                  np.uint64(1), np.array([model.start_ns, model.end_ns], np.int64), 10**9, 0,
                  2, out, w, parts)
    types = precompile.entry_types(entry_args, model.scenario, P_ROWS, out, w, parts)
    entries = precompile.signatures(precompile.HANDLERS, model.scenario, P_ROWS, out, w, parts,
                                    types)
    assert any(is_call for *_, is_call in entries)
    assert sum(name == "run_replicas" for _, name, *_ in entries) == 1
    for entry in entries:
        assert precompile._entry_cached(entry), entry[:2]


def test_the_second_process_compiles_its_share(tmp_path, new_process):
    """A cold run (an empty cache, a new process): the first handler (the arrival's) is
    compiled here, the second, the second process's first (a C callback), comes from the
    cache it wrote (numba counts a cache hit, no compile here), the entry kernel is
    compiled by one of the two (here, or loaded from the cache), and the table is the one
    a warm run gives."""
    code = ("from fastdeploy.presets import PRESETS\n"
            "from fastdeploy.batch import calls\n"
            "from fastdeploy.batch.kernels import loop, sources\n"
            "rows = PRESETS['rolling'](0).run_batch(3, seed=2).table.to_pylist()\n"
            "hits = lambda d: (sum(d._cache_hits.values()), sum(d._cache_misses.values()))\n"
            "second = [f for k, f in calls._COMPILED.items() if k[1] == 'handle_scaler_eval']\n"
            "print(hits(sources.handle_arrival), [f._cache_hits for f in second])\n"
            "print(sum(hits(loop.run_replicas)), len(loop.run_replicas.overloads))\n"
            "print(rows)\n")
    lines = new_process(code, tmp_path).strip().splitlines()
    assert lines[0] == "(0, 1) [1]"
    assert lines[1] == "1 1"
    assert lines[2] == str(PRESETS["rolling"](0).run_batch(3, seed=2).table.to_pylist())


def test_the_entry_kernel_waits_for_what_comes_before_it(tmp_path, monkeypatch):
    """compile_claimed claims the entry kernel only once every handler before it is
    done: while the other process still compiles one of them, this one goes on down the
    list, and at its end waits for it."""
    import threading

    order = []
    monkeypatch.setattr(precompile, "_compile", lambda entry: order.append(entry[1]))
    entries = [("m", "a", (), False), ("m", "b", (), False),
               ("m", precompile.ENTRY[1], (), False), ("m", "c", (), False)]
    claims = str(tmp_path)
    os.mkdir(os.path.join(claims, "1"))  # the other process compiles b ...
    finish_b = threading.Timer(0.3, os.mkdir, [os.path.join(claims, "done-1")])
    finish_b.start()  # ... and is done with it in a while
    precompile.compile_claimed(entries, claims)
    finish_b.join()
    assert order == ["a", "c", "run_replicas"]
    # With nothing pending before it, the entry comes in its place in the list.
    order.clear()
    again = tmp_path / "again"
    again.mkdir()
    precompile.compile_claimed(entries, str(again))
    assert order == ["a", "b", "run_replicas", "c"]


def test_the_entry_kernel_does_not_wait_for_a_process_that_is_gone(tmp_path, monkeypatch):
    """The other process claimed a handler before the entry and exited without it: this
    one compiles the entry at once (and with it what it links), not after a timeout."""
    import time

    order = []
    monkeypatch.setattr(precompile, "_compile", lambda entry: order.append(entry[1]))
    entries = [("m", "a", (), False), ("m", precompile.ENTRY[1], (), False)]
    os.mkdir(os.path.join(str(tmp_path), "0"))  # claimed, never done
    t = time.monotonic()
    precompile.compile_claimed(entries, str(tmp_path), lambda: False)
    assert order == ["run_replicas"]
    assert time.monotonic() - t < 5.0
