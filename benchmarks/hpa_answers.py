"""The two worked answers of docs/kubernetes.md on the hpa-spike preset: tolerance and the
scale-down stabilization window. Prints, per point, the means with 95% intervals and the
paired differences from the first point (common random numbers).

    python benchmarks/hpa_answers.py [replicas]
"""

import sys
import time

import numpy as np
from scipy import stats

from fastdeploy.presets import hpa_spike
from fastdeploy.sweep import Sweep, grid

HOURS = 600 / 3600  # the preset's horizon


def ci(x):
    x = np.asarray(x, float)
    m = x.mean()
    h = stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
    return m, m - h, m + h


def answer(path, values, replicas):
    t = time.time()
    res = Sweep(hpa_spike, grid({path: values}), replicas=replicas).run()
    rows = res.table.to_pylist()
    print(f"\n{path}: {len(values)} points x {replicas} replicas, {time.time() - t:.1f} s")
    by = {}
    for r in rows:
        by.setdefault(r["point"], []).append(r)
    metrics = {
        "p99 (s)": lambda r: r["latency_p99"],
        "mean latency (s)": lambda r: r["latency_mean"],
        "cost (instance-hours)": lambda r: r["instance_seconds"] / 3600,
        "scale events / hour": lambda r: (r["hpa.scale_out_count"] + r["hpa.scale_in_count"])
        / HOURS,
    }
    base = sorted(by[0], key=lambda r: r["replica"])
    for p, v in enumerate(values):
        pts = sorted(by[p], key=lambda r: r["replica"])
        print(f"  {path} = {v}")
        for name, f in metrics.items():
            m, lo, hi = ci([f(r) for r in pts])
            line = f"    {name:24s} {m:9.3f} [{lo:.3f}, {hi:.3f}]"
            if p:
                d, dlo, dhi = ci([f(a) - f(b) for a, b in zip(pts, base)])
                line += f"   vs {values[0]}: {d:+.3f} [{dlo:+.3f}, {dhi:+.3f}]"
            print(line)


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    answer("hpa.tolerance", [0.1, 0.05, 0.2], n)
    answer("hpa.behavior.scale_down.stabilization_window", [300, 60, 0], n)
