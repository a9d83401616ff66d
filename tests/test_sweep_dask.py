"""Sweeps on a Dask cluster return exactly the table of a local run (docs/sweeps.md)."""

from __future__ import annotations

import json
import os

import pytest

distributed = pytest.importorskip(
    "distributed", reason="Dask sweeps need the dask extra: pip install 'fastdeploy[dask]'")

from fastdeploy.sweep import Sweep, grid, latin_hypercube  # noqa: E402
from sweep_scenarios import canary_sim, scale, scaler_sim  # noqa: E402

TARGET = "scaler.policy.target"


@pytest.fixture(scope="module", autouse=True)
def scratch(tmp_path_factory):
    """Where the scheduler and workers keep their files: pytest's temporary directory,
    not dask-scratch-space in the system's, which Dask would leave behind."""
    import dask

    path = tmp_path_factory.mktemp("dask")
    with dask.config.set({"temporary-directory": str(path)}):
        yield path


@pytest.fixture(scope="module")
def client(scratch):
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=":0")
    c = distributed.Client(cluster)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


def test_the_cluster_keeps_its_files_in_the_tests_directory(client, scratch):
    dirs = client.run(lambda dask_worker: dask_worker.local_directory)
    assert len(dirs) == 2
    dirs["scheduler"] = client.run_on_scheduler(lambda dask_scheduler:
                                                dask_scheduler.local_directory)
    for d in dirs.values():
        assert os.path.commonpath([os.path.realpath(d), os.path.realpath(scratch)]) == \
            os.path.realpath(scratch), d


def test_dask_table_equals_the_local_table(client):
    space = grid({TARGET: [0.5, 0.6, 0.8]}) * grid({"scaler.scale_in_cooldown": [4, 12]})
    sweep = Sweep(scaler_sim, space, scale(30, 12))
    local = sweep.run(chunk_replicas=4)
    remote = sweep.run(chunk_replicas=4, client=client)
    assert remote.chunks_run == local.chunks_run > 2
    assert remote.table.equals(local.table)
    # Both workers took part (each lowered the scenario it received by cloudpickle).
    lowered = client.run(_models_lowered)
    assert len(lowered) == 2 and all(n >= 1 for n in lowered.values()), lowered


def _models_lowered() -> int:
    from fastdeploy.sweep import execute

    return len(execute._MODELS)


def test_dask_without_crn_and_with_integer_parameters(client):
    space = latin_hypercube(4, {"scaler.max_instances": (2, 6), TARGET: (0.4, 0.8)}, seed=5)
    sweep = Sweep(scaler_sim, space, scale(10, 6), crn=False)
    assert sweep.run(chunk_replicas=3, client=client).table.equals(
        sweep.run(chunk_replicas=3).table)


def test_dask_sequential_stopping_and_output(client, tmp_path):
    space = grid({"canary.server.failure_rate": [0.0, 0.05]})
    kw = dict(until={"canary.status=rolled_back": 0.15}, max_replicas=scale(30, 20),
              chunk_replicas=4)
    local = Sweep(canary_sim, space, 6).run(**kw)
    remote = Sweep(canary_sim, space, 6).run(client=client, out=tmp_path / "out", **kw)
    assert list(remote.replicas) == list(local.replicas)
    assert remote.table.equals(local.table)
    manifest = json.loads((tmp_path / "out" / "_manifest.json").read_text())
    assert manifest["complete"] and manifest["rows"] == local.table.num_rows
    files = [f for f in os.listdir(tmp_path / "out") if f.startswith("chunk-")]
    assert len(files) == remote.chunks_run
    # Resuming on Dask reads everything back.
    again = Sweep(canary_sim, space, 6).run(client=client, out=tmp_path / "out", resume=True,
                                            **kw)
    assert again.chunks_run == 0 and again.table.equals(local.table)


def test_a_worker_killed_mid_sweep_loses_nothing():
    """A worker process dies while chunks run: Dask recomputes its chunks elsewhere and the
    table equals a local run's (no lost or duplicated rows)."""
    import signal
    import threading
    import time

    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=":0")
    c = distributed.Client(cluster)
    try:
        space = grid({TARGET: [0.4, 0.5, 0.6, 0.7, 0.8, 0.9]})
        sweep = Sweep(scaler_sim, space, scale(60, 12))
        local = sweep.run(chunk_replicas=2)
        result = {}
        runner = threading.Thread(target=lambda: result.setdefault(
            "table", sweep.run(chunk_replicas=2, client=c).table))
        runner.start()
        victim = None
        deadline = time.time() + 120
        while victim is None and time.time() < deadline and runner.is_alive():
            busy = [w for w, tasks in c.processing().items() if tasks]
            victim = busy[0] if busy else None
            time.sleep(0.01)
        assert victim is not None, "no chunk ever ran on a worker"
        pid = c.run(os.getpid, workers=[victim])[victim]
        os.kill(pid, signal.SIGKILL)
        runner.join(timeout=600)
        assert not runner.is_alive()
        assert victim not in c.scheduler_info()["workers"], "the worker was not killed"
        assert result["table"].equals(local.table)
    finally:
        c.close()
        cluster.close()
