"""The same command gives byte-identical Parquet output across runs and thread counts."""

import os
import subprocess
import sys

import pyarrow.parquet as pq

from fastdeploy.sweep import Sweep, grid
from fastdeploy.presets import rolling

NO_JIT = os.environ.get("NUMBA_DISABLE_JIT") == "1"


def _cli(*argv):
    env = dict(os.environ, PYTHONWARNINGS="ignore:overflow encountered in scalar:RuntimeWarning")
    subprocess.run([sys.executable, "-m", "fastdeploy", *argv], check=True, env=env,
                   capture_output=True, timeout=600)


def test_run_output_is_byte_identical_across_runs_and_threads(tmp_path):
    n = "2" if NO_JIT else "40"
    files = []
    for i, threads in enumerate(("1", "2", "1")):
        out = tmp_path / f"run{i}.parquet"
        _cli("run", "rolling", "--replicas", n, "--threads", threads, "--quiet",
             "--out", str(out))
        files.append(out.read_bytes())
    assert files[0] == files[1] == files[2]
    # No timestamps or host details in the data file's metadata.
    meta = pq.ParquetFile(tmp_path / "run0.parquet").metadata
    assert meta.metadata is None or all(b"time" not in k for k in meta.metadata)


def test_sweep_chunks_are_byte_identical_across_thread_counts(tmp_path):
    sim = rolling()
    space = grid({"rolling.batch_size": [1, 2]})
    reps = 1 if NO_JIT else 6
    outs = []
    for threads in (1, 2):
        d = tmp_path / f"sweep{threads}"
        Sweep(sim, space, reps).run(threads=threads, out=str(d))
        outs.append({p.name: p.read_bytes() for p in sorted(d.glob("*.parquet"))})
    assert outs[0] and outs[0] == outs[1]
