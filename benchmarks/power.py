"""The detection-power table of `fastdeploy docs canary-analysis`: P(abort) (outcome
rolled_back, 95% Wilson interval) of four analyses against the new version's error rate
(the baseline fails 1%), on canary-bad's fleet and traffic, batch engine, seed 0.

    python benchmarks/power.py [replicas]
"""

import sys
import time

from fastdeploy.argo import AnalysisMetric, AnalysisTemplate, ArgoCanary, BackgroundAnalysis
from fastdeploy.deployment import CanaryDeployer
from fastdeploy.flagger import FlaggerCanary
from fastdeploy.intervals import wilson_interval
from fastdeploy.kayenta import KayentaJudge, KayentaMetric
from fastdeploy.presets import argo_canary_bad, canary_bad, flagger_bad

RATES = (0.01, 0.015, 0.02, 0.03, 0.05, 0.1)


def happysim():
    return canary_bad(0), "canary"


def kayenta():
    sim = canary_bad(0)
    d = next(e for e in sim.entities if isinstance(e, CanaryDeployer))
    d.metric_evaluator = KayentaJudge([KayentaMetric("error_rate")])
    return sim, "canary"


def flagger():
    return flagger_bad(0), "flagger"


def flagger_kayenta():
    sim = flagger_bad(0)
    d = next(e for e in sim.entities if isinstance(e, FlaggerCanary))
    d.metrics = []
    d.judge = KayentaJudge([KayentaMetric("error_rate")])
    return sim, "flagger"


def argo_kayenta():
    # argo-canary-bad with Argo's kayenta provider in place of the error-rate check: each
    # minute a judgement of that minute's six 10 s sub-windows, failure_limit 2.
    sim = argo_canary_bad(0)
    d = next(e for e in sim.entities if isinstance(e, ArgoCanary))
    judge = KayentaJudge([KayentaMetric("error_rate")])
    d.analysis = BackgroundAnalysis(AnalysisTemplate([AnalysisMetric(
        "kayenta", judge, interval=60, step=10, failure_limit=2)]), starting_step=1)
    return sim, "argo"


ANALYSES = {"happysim CanaryDeployer (ErrorRateEvaluator)": happysim,
            "CanaryDeployer + KayentaJudge(error_rate)": kayenta,
            "FlaggerCanary defaults": flagger,
            "FlaggerCanary, KayentaJudge(error_rate) as its only check": flagger_kayenta,
            "ArgoCanary, KayentaJudge(error_rate) as its analysis": argo_kayenta}


def main(replicas: int):
    print("| analysis | " + " | ".join(f"{r / 0.01:g}x ({r:.1%})" for r in RATES) + " |")
    print("|---|" + "---|" * len(RATES))
    for label, make in ANALYSES.items():
        t = time.time()
        sim, name = make()
        n = replicas * len(RATES)
        rates = [r for r in RATES for _ in range(replicas)]
        rows = sim.run_batch(n, seed=0, params={f"{name}.server.failure_rate": rates}
                             ).table.to_pylist()
        cells = []
        for k in range(len(RATES)):
            part = rows[k * replicas:(k + 1) * replicas]
            back = sum(r[f"{name}.outcome"] == "rolled_back" for r in part)
            p, lo, hi = wilson_interval(back, replicas)
            cells.append(f"{p:.2f} [{lo:.2f}, {hi:.2f}]")
        print(f"| {label} | " + " | ".join(cells) + " |")
        print(f"{label}: {time.time() - t:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 400)
