"""Monte Carlo sweeps: parameter spaces run through the batch engine, with intervals.

>>> from fastdeploy.presets import autoscale_spike
>>> from fastdeploy.sweep import Sweep, grid
>>> space = grid({"scaler.policy.target": [0.5, 0.6, 0.7], "scaler.scale_in_cooldown": [30, 60]})
>>> result = Sweep(autoscale_spike, space, replicas=200).run()      # doctest: +SKIP
>>> result.summary      # one row per point: means with 95% t intervals, percentiles   # doctest: +SKIP
>>> result.compare(0)   # paired differences from point 0                               # doctest: +SKIP

See docs/sweeps.md.
"""

from .result import SweepResult
from .space import Space, grid, latin_hypercube, random
from .sweep import Sweep

__all__ = ["Space", "Sweep", "SweepResult", "grid", "latin_hypercube", "random"]
