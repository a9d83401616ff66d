"""The table of `fastdeploy docs canary-analysis` ("Kayenta judge"): a KayentaJudge on the
error rate as the CanaryDeployer's evaluator on the canary-good and canary-bad presets.
The deployer judges the windows of its evaluation intervals (both engines agree; this
runs the batch engine). Prints, per preset, how often the canary was rolled back (95%
Wilson interval) and the median time from the deploy to the decision of the rolled-back
replicas.

    python benchmarks/kayenta_evaluator.py [replicas]
"""

import statistics
import sys
import time

from fastdeploy.deployment import CanaryDeployer
from fastdeploy.intervals import wilson_interval
from fastdeploy.kayenta import KayentaJudge, KayentaMetric
from fastdeploy.presets import preset_scenario


def main(replicas: int):
    print("| preset | canary failure rate | baseline failure rate | rolled back "
          "| median time from the deploy to the rollback |")
    print("|---|---|---|---|---|")
    for preset, canary_rate in (("canary-good", "1%"), ("canary-bad", "5%")):
        t = time.time()
        sim = preset_scenario(preset).build(0)
        d = next(e for e in sim.entities if isinstance(e, CanaryDeployer))
        d.metric_evaluator = KayentaJudge([KayentaMetric("error_rate")])
        rows = sim.run_batch(replicas, seed=0).table.to_pylist()
        back = [r for r in rows if r["canary.outcome"] == "rolled_back"]
        p, lo, hi = wilson_interval(len(back), replicas)
        times = [r["canary.time_to_decision"] for r in back]
        median = f"{statistics.median(times):.0f} s" if times else "-"
        print(f"| {preset} | {canary_rate} | 1% | **{p:.1%}** of {replicas} replicas "
              f"(95% Wilson interval {lo:.1%} to {hi:.1%}) | {median} |")
        print(f"{preset}: {time.time() - t:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
