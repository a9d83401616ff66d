"""Tuning: the best settings that meet SLOs with stated confidence, found by search.

>>> from fastdeploy.presets import autoscale_spike
>>> from fastdeploy.tune import Float, Int, Tuner
>>> tuner = Tuner(autoscale_spike,
...               {"scaler.policy.target": Float(0.3, 0.9), "scaler.min_instances": Int(1, 5)},
...               "instance_seconds", ["P(latency_p99 <= 0.5) >= 0.95"], budget=3000)
>>> result = tuner.run()           # doctest: +SKIP
>>> result.best                    # holdout figures with intervals   # doctest: +SKIP

Optuna (the ``tune`` extra: ``pip install 'fastdeploy[tune]'``) proposes candidates; each
races on common random numbers until its constraints are decided; the finalists are
re-run on fresh replicas. See `fastdeploy docs tuning`.
"""

__all__ = ["Choice", "Constraint", "Float", "Int", "Objective", "TuneResult", "Tuner"]

_HOMES = {"Choice": "space", "Float": "space", "Int": "space", "Constraint": "goals",
          "Objective": "goals", "TuneResult": "result", "Tuner": "tuner"}


def __getattr__(name):
    # Loaded on first use, so that the command line (which imports
    # fastdeploy.tune.command to register `fastdeploy tune`) starts without scipy, the
    # batch engine's lowering or Optuna.
    if name in _HOMES:
        import importlib

        return getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
