"""Plots of batch runs and sweeps (matplotlib, the ``plot`` extra:
``pip install 'fastdeploy[plot]'``).

Every function takes results as Python objects (``BatchResult``, ``SweepResult``, pyarrow
tables) or paths (Parquet files, sweep output directories), returns a matplotlib
``Figure`` and, with ``out=PATH`` (.png, .svg or .pdf), saves it:

| function | shows | from |
|---|---|---|
| ``plot_instances`` | instances over time: median, 10-90 and 1-99 percentile bands across replicas; the traffic rate on a second axis | a run with ``timeseries=step`` |
| ``plot_latency`` | the distribution of per-replica p99 latency and the pooled latency CDF, with an SLO line | a run's per-replica table |
| ``plot_tradeoff`` | cost (instance-seconds) against p99 latency per point with 95% bars; the Pareto front labelled with its settings | a sweep |
| ``plot_heatmap`` | any metric over a 2-parameter grid | a grid sweep |
| ``plot_rollback`` | P(rollback) with Wilson intervals against a swept parameter, one curve per sweep (bad and good canary) | sweeps |
| ``plot_power`` | P(abort) of each canary analysis against the regression size, with Wilson intervals (detection power) | sweeps, one per analysis |
| ``plot_durations`` | deployment durations by outcome | runs with a canary or rolling deployer |
| ``plot_slo_attainment`` | the share of replicas meeting each service-level objective, with 95% Wilson intervals, against a swept parameter | a sweep |
| ``plot_tune_history`` | a tune's objective by trial, feasible / undecided / infeasible, the finalists' holdout figures | a TuneResult or tune directory |
| ``plot_tune_pareto`` | two objectives of a tune's trials and its Pareto set (holdout) | a tune of several objectives |

>>> from fastdeploy.presets import autoscale_spike
>>> from fastdeploy.plot import plot_instances
>>> result = autoscale_spike().run_batch(200, timeseries=2.0)     # doctest: +SKIP
>>> plot_instances(result, out="instances.png")                  # doctest: +SKIP

Importing this package does not import matplotlib; a plot without it raises
``MatplotlibMissing`` (an ImportError) with the install command. See docs/plots.md.
"""

from ._mpl import MatplotlibMissing, save
from .durations import plot_durations
from .heatmap import plot_heatmap
from .instances import plot_instances
from .latency import plot_latency
from .power import plot_power
from .rollback import plot_rollback
from .slo import plot_slo_attainment
from .tradeoff import plot_tradeoff
from .tune import plot_tune_history, plot_tune_pareto

KINDS = {
    "instances": plot_instances,
    "latency": plot_latency,
    "tradeoff": plot_tradeoff,
    "heatmap": plot_heatmap,
    "rollback": plot_rollback,
    "power": plot_power,
    "durations": plot_durations,
    "slo_attainment": plot_slo_attainment,
    "tune-history": plot_tune_history,
    "tune-pareto": plot_tune_pareto,
}

__all__ = ["KINDS", "MatplotlibMissing", "plot_durations", "plot_heatmap", "plot_instances",
           "plot_latency", "plot_power", "plot_rollback", "plot_slo_attainment", "plot_tradeoff",
           "plot_tune_history", "plot_tune_pareto", "save"]
