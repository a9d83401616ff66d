"""The second process of a cold compile (fastdeploy/batch/precompile.py) compiles the
handlers for exactly the types the entry kernel calls them with; a wrong guess would
only waste the second core, so this checks the guesses against what numba compiled."""

import os
import subprocess
import sys

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
    P_ROWS, _ = model.params.rows(2, None)
    out = make_outputs(model.scenario, 2, 4, 3)
    w = make_workspace(model.scenario, model.server_cap, model.pool_cap,
                       model.mark_slots(P_ROWS), model.max_concurrency(P_ROWS),
                       model.judge_size(P_ROWS))
    parts = make_parts(model.scenario)
    entries = precompile.signatures(precompile.HANDLERS, model.scenario, P_ROWS, out, w, parts)
    assert any(is_call for *_, is_call in entries)
    for entry in entries:
        assert precompile._entry_cached(entry), entry[:2]


def test_the_second_process_compiles_its_share(tmp_path):
    """A cold run (an empty cache, a new process): the second handler, the second
    process's first, comes from the cache it wrote (numba counts a cache hit, no compile
    here), the first (a C callback) is compiled here, and the table is the one a warm run
    gives."""
    code = ("from fastdeploy.presets import PRESETS\n"
            "from fastdeploy.batch import calls\n"
            "from fastdeploy.batch.kernels import sources\n"
            "rows = PRESETS['rolling'](0).run_batch(3, seed=2).table.to_pylist()\n"
            "hits = lambda d: (sum(d._cache_hits.values()), sum(d._cache_misses.values()))\n"
            "first = [f for k, f in calls._COMPILED.items() if k[1] == 'handle_scaler_eval']\n"
            "print(hits(sources.handle_arrival), [f._cache_hits for f in first])\n"
            "print(rows)\n")
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    lines = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                           text=True, check=True).stdout.strip().splitlines()
    assert lines[0] == "(1, 0) [0]"
    assert lines[1] == str(PRESETS["rolling"](0).run_batch(3, seed=2).table.to_pylist())
