"""A tune on a Dask cluster gives the trials of a local run (docs/tuning.md)."""

from __future__ import annotations

import pytest

distributed = pytest.importorskip(
    "distributed", reason="Dask tunes need the dask extra: pip install 'fastdeploy[dask]'")
pytest.importorskip("optuna", reason="tuning needs the tune extra")

from test_tune import erlang_tuner  # noqa: E402


def test_tune_on_dask_equals_local(tmp_path):
    import dask

    with dask.config.set({"temporary-directory": str(tmp_path)}):
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           host="127.0.0.1", dashboard_address=":0")
        client = distributed.Client(cluster)
        try:
            remote = erlang_tuner(trials=9).run(client=client, out=tmp_path / "out")
        finally:
            client.close()
            cluster.close()
    local = erlang_tuner(trials=9).run()
    assert remote.trials.equals(local.trials)
    assert remote.table.equals(local.table)
    assert remote.best == local.best
