"""The tables of `fastdeploy docs canary-analysis` ("Detection power and false aborts of
the analyses"): how often each canary analysis aborts a release (outcome rolled_back, 95%
Wilson interval) against the size of the new version's regression, how long it takes to
decide, how many failed requests the new version served before the decision (exposure),
and what 10 requests/s instead of 100 changes. Batch engine, seed 0, one thread.

Every analysis runs on canary-bad's fleet and traffic (4 servers failing 1%, exponential
service times of mean 50 ms, 2 at a time, behind weighted round robin; Poisson 100
requests/s), deployed at 10 s. A cell sets the new version's failure rate
(``<name>.server.failure_rate``, baseline 1%), its mean service time
(``<name>.server.service_time.mean_latency``, baseline 50 ms) and the traffic
(``traffic.profile.rate``) per replica.

    python benchmarks/power.py [--replicas 400] [--tables error,latency,timing,traffic]
"""

import argparse
import sys
import time

import numpy as np

from fastdeploy import (
    ExponentialLatency,
    LoadBalancer,
    Server,
    Simulation,
    Source,
    WeightedRoundRobin,
)
from fastdeploy.argo import (
    AnalysisMetric,
    AnalysisTemplate,
    ArgoCanary,
    BackgroundAnalysis,
    Pause,
    SetWeight,
)
from fastdeploy.deployment import CanaryDeployer, LatencyEvaluator
from fastdeploy.flagger import FlaggerCanary, FlaggerMetric
from fastdeploy.intervals import mean_interval, wilson_interval
from fastdeploy.kayenta import KayentaJudge, KayentaMetric
from fastdeploy.presets import canary_bad, flagger_bad

BASE_FAILURE = 0.01  # the baseline's failure rate (canary-bad's v1)
BASE_LATENCY = 0.05  # the baseline's mean service time, s
BASE_TRAFFIC = 100.0  # requests/s
ERROR_X = (1, 1.5, 2, 3, 5, 10)  # the new version's failure rate / the baseline's
LATENCY_X = (1, 1.1, 1.25, 1.5, 2, 3)  # its mean service time / the baseline's
TIMING_X = (1, 2, 5)  # error regressions of the time-to-decision and exposure table
LOW_TRAFFIC = 10.0  # requests/s of the traffic table
TRAFFIC_X = (1, 2, 5)  # error regressions of the traffic table
TRAFFIC_LATENCY_X = (1, 2)  # latency regressions of the traffic table


# Each analysis: a maker returning (simulation, deployer name). The deployer's name is
# the data the sweep needs: the cells set `<name>.server.failure_rate`,
# `<name>.server.service_time.mean_latency` and `traffic.profile.rate`.

def happysim():
    return canary_bad(0), "canary"


def _canary_judged_by(evaluator):
    sim = canary_bad(0)
    d = next(e for e in sim.entities if isinstance(e, CanaryDeployer))
    d.metric_evaluator = evaluator
    return sim, "canary"


def kayenta():
    return _canary_judged_by(KayentaJudge([KayentaMetric("error_rate")]))


def flagger():
    return flagger_bad(0), "flagger"


def _flagger_checking(metrics, judge=None):
    sim = flagger_bad(0)
    d = next(e for e in sim.entities if isinstance(e, FlaggerCanary))
    d.metrics = metrics
    d.judge = judge
    return sim, "flagger"


def _flagger_judged_by(judge):
    return _flagger_checking([], judge)


def flagger_kayenta():
    return _flagger_judged_by(KayentaJudge([KayentaMetric("error_rate")]))


def argo_rollout(metric: AnalysisMetric):
    """canary-bad's fleet and traffic with an Argo Rollout named ``argo`` deployed at 10 s:
    setWeight 20, 40, 60, 80 with a 2-minute pause after each, and ``metric`` as the
    background analysis from the first pause (the rollout is promoted 480 s after the
    deploy unless the analysis aborts it). Runs of 600 s."""
    def server(name, failure_rate=BASE_FAILURE):
        return Server(name, concurrency=2, service_time=ExponentialLatency(BASE_LATENCY),
                      failure_rate=failure_rate)

    lb = LoadBalancer("lb", backends=[server(f"server_{k}") for k in range(4)],
                      strategy=WeightedRoundRobin())
    steps = [SetWeight(20), Pause(120), SetWeight(40), Pause(120), SetWeight(60), Pause(120),
             SetWeight(80), Pause(120)]
    argo = ArgoCanary("argo", lb, lambda name: server(name, 0.05), steps=steps,
                      analysis=BackgroundAnalysis(AnalysisTemplate([metric]), starting_step=1))
    sim = Simulation(end_time=600, sources=[Source("traffic", BASE_TRAFFIC, lb)],
                     entities=[lb, argo], seed=0)
    sim.schedule(argo.deploy(at=10))
    return sim, "argo"


def argo():
    # failureLimit 3: Argo's documentation's background-analysis example.
    return argo_rollout(AnalysisMetric("errors", "error_rate", success="<= 0.01",
                                       interval=60, failure_limit=3))


def argo_kayenta():
    # Argo's kayenta provider as the background analysis: each minute a judgement of that
    # minute's six 10 s sub-windows, failure_limit 3 as the error-rate row.
    return argo_rollout(AnalysisMetric("kayenta", KayentaJudge([KayentaMetric("error_rate")]),
                                       interval=60, step=10, failure_limit=3))


ANALYSES = {
    "happysim CanaryDeployer (ErrorRateEvaluator)": happysim,
    "CanaryDeployer + KayentaJudge(error_rate)": kayenta,
    "FlaggerCanary defaults": flagger,
    "FlaggerCanary, KayentaJudge(error_rate) as its only check": flagger_kayenta,
    "ArgoCanary, background error_rate <= 0.01 (failure_limit 3)": argo,
    "ArgoCanary, KayentaJudge(error_rate) as its analysis": argo_kayenta,
}


def happysim_latency():
    return _canary_judged_by(LatencyEvaluator())


def kayenta_latency():
    return _canary_judged_by(KayentaJudge([KayentaMetric("latency_p99")]))


def flagger_duration():
    return _flagger_checking([FlaggerMetric("request-duration", max=0.5)])


def flagger_kayenta_latency():
    return _flagger_judged_by(KayentaJudge([KayentaMetric("latency_p99")]))


def argo_p99():
    return argo_rollout(AnalysisMetric("p99", "latency_p99", success="<= 0.5", interval=60,
                                       failure_limit=3))


def argo_p99_ratio():
    return argo_rollout(AnalysisMetric("p99", "latency_p99_ratio", success="<= 1.5",
                                       interval=60, failure_limit=3))


LATENCY_ANALYSES = {
    "happysim CanaryDeployer (LatencyEvaluator, mean latency)": happysim_latency,
    "CanaryDeployer + KayentaJudge(latency_p99)": kayenta_latency,
    "FlaggerCanary defaults (success rate >= 99%, p99 <= 0.5 s)": flagger,
    "FlaggerCanary, request-duration p99 <= 0.5 s as its only check": flagger_duration,
    "FlaggerCanary, KayentaJudge(latency_p99) as its only check": flagger_kayenta_latency,
    "ArgoCanary, background latency_p99 <= 0.5 (failure_limit 3)": argo_p99,
    "ArgoCanary, background latency_p99_ratio <= 1.5 (failure_limit 3)": argo_p99_ratio,
}


class Cells:
    """One batch run of an analysis over cells (failure x, latency x, traffic), replicas
    per cell; the rows of each cell, by its key."""

    def __init__(self, make, cells, replicas):
        sim, self.name = make()
        params = {f"{self.name}.server.failure_rate": [],
                  f"{self.name}.server.service_time.mean_latency": [],
                  "traffic.profile.rate": []}
        for fx, lx, rate in cells:
            params[f"{self.name}.server.failure_rate"] += [BASE_FAILURE * fx] * replicas
            params[f"{self.name}.server.service_time.mean_latency"] += \
                [BASE_LATENCY * lx] * replicas
            params["traffic.profile.rate"] += [rate] * replicas
        table = sim.run_batch(len(cells) * replicas, seed=0, threads=1, params=params).table
        cols = {c: table.column(f"{self.name}.{c}").to_numpy(zero_copy_only=False)
                for c in ("outcome", "time_to_decision", "exposure")}
        # "No data" where the analysis counts it: Flagger's "no values" checks, Argo's
        # inconclusive measurements (the CanaryDeployer's Kayenta judge fails on it).
        self.no_data = next((c for c in (f"{self.name}.checks_no_data",
                                         f"{self.name}.measurements_inconclusive")
                             if c in table.column_names), None)
        if self.no_data is not None:
            cols["no_data"] = table.column(self.no_data).to_numpy()
        self.rows = {}
        for k, cell in enumerate(cells):
            part = slice(k * replicas, (k + 1) * replicas)
            self.rows[cell] = {c: v[part] for c, v in cols.items()}

    def share(self, cell, outcome="rolled_back"):
        o = self.rows[cell]["outcome"]
        return wilson_interval(int(np.sum(o == outcome)), len(o))

    def abort(self, cell):
        p, lo, hi = self.share(cell)
        return f"{p:.2f} [{lo:.2f}, {hi:.2f}]"

    def decision_times(self, cell):
        t = self.rows[cell]["time_to_decision"]
        t = np.asarray([x for x in t if x is not None and not np.isnan(x)], dtype=float)
        return t

    def timing(self, cell):
        """median and P90 of the time to decision (of the decided replicas), and the
        decided share when not all."""
        t = self.decision_times(cell)
        n = len(self.rows[cell]["outcome"])
        if not len(t):
            return "none decided"
        text = f"{np.median(t):.0f} s, {np.percentile(t, 90):.0f} s"
        if len(t) < n:
            text += f" ({len(t)}/{n} decided)"
        return text

    def exposure(self, cell):
        m, lo, hi = mean_interval(np.asarray(self.rows[cell]["exposure"], dtype=float))
        return f"{m:.1f} [{lo:.1f}, {hi:.1f}]"

    def other(self, cell):
        o = self.rows[cell]["outcome"]
        values, counts = np.unique(o[(o != "rolled_back") & (o != "promoted")],
                                   return_counts=True)
        return ", ".join(f"{v} {c}" for v, c in zip(values, counts)) or "-"


def header(first, columns):
    print(f"| {first} | " + " | ".join(columns) + " |")
    print("|---|" + "---|" * len(columns))


def run(make, label, cells, replicas):
    t = time.time()
    c = Cells(make, cells, replicas)
    print(f"{label}: {len(cells)} cells x {replicas} replicas, {time.time() - t:.0f} s",
          file=sys.stderr)
    return c


def traffic_table(runs, regressions, cell_of, what):
    header(f"analysis, {what} regression",
           [f"{r:g} req/s: {w}" for r in (BASE_TRAFFIC, LOW_TRAFFIC)
            for w in ("P(abort)", "time to decision")])
    for label, c in runs.items():
        for x in regressions:
            cells = []
            for r in (BASE_TRAFFIC, LOW_TRAFFIC):
                cell = cell_of(x, r)
                cells += [c.abort(cell), c.timing(cell)]
            print(f"| {label}, {x:g}x | " + " | ".join(cells) + " |")


def main(replicas: int, tables: set[str]):
    t0 = time.time()
    low = "traffic" in tables
    error = {}
    if tables & {"error", "timing", "traffic"}:
        cells = [(x, 1, BASE_TRAFFIC) for x in ERROR_X]
        cells += [(x, 1, LOW_TRAFFIC) for x in TRAFFIC_X] if low else []
        error = {label: run(make, label, cells, replicas) for label, make in ANALYSES.items()}
    latency = {}
    if tables & {"latency", "traffic"}:
        cells = [(1, x, BASE_TRAFFIC) for x in LATENCY_X]
        cells += [(1, x, LOW_TRAFFIC) for x in TRAFFIC_LATENCY_X] if low else []
        latency = {label: run(make, label, cells, replicas)
                   for label, make in LATENCY_ANALYSES.items()}
    if "error" in tables:
        print(f"\nP(abort) against the new version's error rate (x the baseline's 1%), "
              f"{BASE_TRAFFIC:g} requests/s, {replicas} replicas per cell:\n")
        header("analysis", [f"{x:g}x ({x * BASE_FAILURE:.1%})" for x in ERROR_X])
        for label, c in error.items():
            print(f"| {label} | " + " | ".join(c.abort((x, 1, BASE_TRAFFIC))
                                              for x in ERROR_X) + " |")
    if "latency" in tables:
        print(f"\nP(abort) against the new version's mean service time (x the baseline's "
              f"{BASE_LATENCY * 1000:g} ms; failure rate 1% as the baseline), "
              f"{BASE_TRAFFIC:g} requests/s, {replicas} replicas per cell:\n")
        header("analysis", [f"{x:g}x ({x * BASE_LATENCY * 1000:g} ms)" for x in LATENCY_X])
        for label, c in latency.items():
            print(f"| {label} | " + " | ".join(c.abort((1, x, BASE_TRAFFIC))
                                              for x in LATENCY_X) + " |")
        print("\nTime to decision (median, P90) of the latency analyses:\n")
        header("analysis", [f"{x:g}x" for x in LATENCY_X])
        for label, c in latency.items():
            print(f"| {label} | " + " | ".join(c.timing((1, x, BASE_TRAFFIC))
                                              for x in LATENCY_X) + " |")
    if "timing" in tables:
        print(f"\nTime to decision (median, P90) and exposure (mean failed + rejected "
              f"requests at the new version before the decision, 95% t interval), "
              f"{BASE_TRAFFIC:g} requests/s, {replicas} replicas per cell:\n")
        cols = []
        for x in TIMING_X:
            cols += [f"{x:g}x: time to decision", f"{x:g}x: exposure"]
        header("analysis", cols)
        for label, c in error.items():
            cells = []
            for x in TIMING_X:
                cell = (x, 1, BASE_TRAFFIC)
                cells += [c.timing(cell), c.exposure(cell)]
            print(f"| {label} | " + " | ".join(cells) + " |")
    if low:
        print(f"\n{LOW_TRAFFIC:g} against {BASE_TRAFFIC:g} requests/s: P(abort), time to "
              f"decision (median, P90); {replicas} replicas per cell:\n")
        traffic_table(error, TRAFFIC_X, lambda x, r: (x, 1, r), "error")
        print()
        traffic_table(latency, TRAFFIC_LATENCY_X, lambda x, r: (1, x, r), "latency")
    other = [f"{label}, cell {cell}: {c.other(cell)}"
             for runs in (error, latency) for label, c in runs.items() for cell in c.rows
             if c.other(cell) != "-"]
    print("\nReplicas neither promoted nor rolled back (paused, in progress): "
          + ("; ".join(other) if other else "none, in every cell"))
    print("\nNo data (Flagger's checks_no_data, Argo's measurements_inconclusive), summed "
          "over each analysis's replicas at 100 and at 10 requests/s:\n")
    for runs in (error, latency):
        for label, c in runs.items():
            if c.no_data is not None:
                sums = [sum(int(v["no_data"].sum()) for cell, v in c.rows.items()
                            if cell[2] == r) for r in (BASE_TRAFFIC, LOW_TRAFFIC)]
                print(f"- {label}: `{c.no_data}` {sums[0]} at {BASE_TRAFFIC:g}/s, "
                      f"{sums[1]} at {LOW_TRAFFIC:g}/s")
    print(f"\ntotal {time.time() - t0:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--replicas", type=int, default=400, help="replicas per cell")
    ap.add_argument("--tables", default="error,timing,traffic,latency",
                    help="comma-separated: error, timing, traffic, latency")
    a = ap.parse_args()
    main(a.replicas, set(a.tables.split(",")))
