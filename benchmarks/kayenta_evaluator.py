"""The table of `fastdeploy docs canary-analysis` ("Kayenta judge"): a KayentaJudge on the
error rate as the CanaryDeployer's evaluator on the canary-good and canary-bad presets,
in the object engine (the batch engine does not run Python evaluators). Prints, per
preset, how often the canary was rolled back (95% Wilson interval) and the median time
from the deploy to the rollback.

    python benchmarks/kayenta_evaluator.py [replicas]
"""

import statistics
import sys
import time
from collections import Counter

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
        status, times = Counter(), []
        scenario = preset_scenario(preset)
        for i in range(replicas):
            sim = scenario.build(0)
            d = next(e for e in sim.entities if isinstance(e, CanaryDeployer))
            d.metric_evaluator = KayentaJudge([KayentaMetric("error_rate")])
            sim.run(replica=i)
            status[d.state.status] += 1
            if d.state.status == "rolled_back":
                times.append(d.end_time.to_seconds() - 10.0)  # the presets deploy at 10 s
        p, lo, hi = wilson_interval(status["rolled_back"], replicas)
        median = f"{statistics.median(times):.0f} s" if times else "-"
        print(f"| {preset} | {canary_rate} | 1% | **{p:.1%}** of {replicas} replicas "
              f"(95% Wilson interval {lo:.1%} to {hi:.1%}) | {median} |")
        print(f"{preset}: {time.time() - t:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 400)
