"""Ctrl-C (SIGINT) in `fastdeploy sweep --out DIR`: the process stops quickly, says what
was saved, and `--resume` then ends with the same table as an uninterrupted run."""

import os
import signal
import subprocess
import sys
import time

import pyarrow.parquet as pq
import pytest

pytestmark = pytest.mark.skipif(
    os.environ.get("NUMBA_DISABLE_JIT") == "1",
    reason="needs chunks that take seconds and slices that take milliseconds; as pure "
           "Python (NUMBA_DISABLE_JIT=1) one slice of this scenario takes many seconds")

SCENARIO = """
[simulation]
end_time = 200
seed = 5

[templates.web]
concurrency = 2
service_time = { kind = "exponential", mean_latency = 0.05 }

[[load_balancers]]
name = "lb"
backends = [{ template = "web", count = 2, prefix = "server_" }]

[[sources]]
name = "traffic"
target = "lb"
rate = 40

[[autoscalers]]
name = "scaler"
load_balancer = "lb"
template = "web"
max_instances = 6
evaluation_interval = 5

[sweep]
replicas = 1000
[sweep.parameters]
"scaler.policy.target" = [0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
"""


def _env():
    return dict(os.environ, PYTHONWARNINGS="ignore:overflow encountered in scalar:RuntimeWarning")


def _chunks(d):
    return sorted(p for p in os.listdir(d) if p.startswith("chunk-") and p.endswith(".parquet"))


def test_sigint_stops_quickly_and_resume_completes(tmp_path):
    f = tmp_path / "s.toml"
    f.write_text(SCENARIO)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "fastdeploy", "sweep", str(f), "--out", str(out), "--quiet",
           "--threads", "1"]
    # SIGINT as a terminal delivers it: a test run started in the background of a shell
    # without job control (``cmd &``, nohup) would otherwise pass its "ignore SIGINT" on.
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=_env(),
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if out.is_dir() and _chunks(out):
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the sweep ended before it could be interrupted"
    t0 = time.time()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    stopped_in = time.time() - t0
    assert proc.returncode == 130, err
    assert "--resume" in err and str(out) in err
    assert stopped_in < 5.0, stopped_in
    done_before = len(_chunks(out))
    assert done_before >= 1

    resumed = subprocess.run(cmd + ["--resume"], capture_output=True, text=True, env=_env(),
                             timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    whole = tmp_path / "whole"
    fresh = subprocess.run(cmd[:6] + [str(whole), "--quiet", "--threads", "2"],
                           capture_output=True, text=True, env=_env(), timeout=600)
    assert fresh.returncode == 0, fresh.stderr
    a = pq.read_table(out).sort_by([("point", "ascending"), ("replica", "ascending")])
    b = pq.read_table(whole).sort_by([("point", "ascending"), ("replica", "ascending")])
    assert a.num_rows == b.num_rows == 6 * 1000
    assert a.equals(b)
