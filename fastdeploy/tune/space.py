"""The search space of a tune: a range or a list of choices per parameter path.

>>> space = {"scaler.policy.target": Float(0.3, 0.9),
...          "scaler.min_instances": Int(1, 5),
...          "scaler.scale_in_cooldown": Float(10, 600, log=True),
...          "scaler.evaluation_interval": Choice([5, 10, 15])}

Paths are those ``Simulation.batch_parameters()`` (``fastdeploy params``) lists, so a
new controller's parameters can be tuned as soon as they lower. A candidate's value is
drawn by Optuna (``suggest_float``, ``suggest_int``, ``suggest_categorical``).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np


def _finite(value, what: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer,
                                                                     np.floating)):
        raise ValueError(f"{what} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{what} must be finite, got {value!r}")
    return value.item() if isinstance(value, np.generic) else value


@dataclass(frozen=True)
class Float:
    """A number in [low, high]; ``log=True`` draws on a log scale (needs low > 0);
    ``step`` draws only low, low + step, ... (a target in percent, a time in whole
    seconds; the ends of the range can then be drawn exactly). Not both."""

    low: float
    high: float
    log: bool = False
    step: float | None = None

    def __post_init__(self):
        lo = _finite(self.low, "Float low")
        hi = _finite(self.high, "Float high")
        if hi < lo:
            raise ValueError(f"Float: high ({hi!r}) must be >= low ({lo!r})")
        if self.log and lo <= 0:
            raise ValueError(f"Float(log=True) needs low > 0, got {lo!r}")
        if self.step is not None:
            st = _finite(self.step, "Float step")
            if st <= 0:
                raise ValueError(f"Float step must be > 0, got {st!r}")
            if self.log:
                raise ValueError("Float takes log=True or a step, not both")
            k = (hi - lo) / st
            # Optuna would move high down to the last step quietly; say so instead.
            if abs(k - round(k)) > 1e-9 * max(1.0, k):
                raise ValueError(f"Float: high - low ({hi - lo!r}) must be a whole number of "
                                 f"steps ({st!r})")

    def ends(self):
        return (self.low, self.high)

    def suggest(self, trial, path: str):
        return self.value(trial.suggest_float(
            path, float(self.low), float(self.high), log=bool(self.log),
            step=None if self.step is None else float(self.step)))

    def value(self, raw):
        """Optuna's value as the parameter takes it: on a step grid, ``low + k * step``
        to 12 significant digits (0.88, not 0.8799999999999999)."""
        if self.step is None:
            return float(raw)
        k = round((raw - self.low) / self.step)
        return float(f"{self.low + k * self.step:.12g}")


@dataclass(frozen=True)
class Int:
    """An integer in [low, high]; ``log=True`` draws on a log scale (needs low >= 1)."""

    low: int
    high: int
    log: bool = False

    def __post_init__(self):
        for what, v in (("low", self.low), ("high", self.high)):
            _finite(v, f"Int {what}")
            if v != math.floor(v):
                raise ValueError(f"Int {what} must be an integer, got {v!r}")
        if self.high < self.low:
            raise ValueError(f"Int: high ({self.high!r}) must be >= low ({self.low!r})")
        if self.log and self.low < 1:
            raise ValueError(f"Int(log=True) needs low >= 1, got {self.low!r}")

    def ends(self):
        return (self.low, self.high)

    def suggest(self, trial, path: str):
        return trial.suggest_int(path, int(self.low), int(self.high), log=bool(self.log))

    def value(self, raw):
        return int(raw)


@dataclass(frozen=True)
class Choice:
    """One of the listed numbers (no order assumed between them)."""

    values: tuple

    def __init__(self, values: Sequence):
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
            raise ValueError(f"Choice needs a non-empty list of numbers, got {values!r}")
        vals = tuple(_finite(v, f"Choice value {i}") for i, v in enumerate(values))
        if len(set(vals)) != len(vals):
            raise ValueError(f"Choice values must differ, got {list(vals)}")
        object.__setattr__(self, "values", vals)

    def ends(self):
        return self.values

    def suggest(self, trial, path: str):
        return trial.suggest_categorical(path, list(self.values))

    def value(self, raw):
        return raw


DIMENSIONS = (Float, Int, Choice)


def check_space(space, model) -> dict:
    """Check a space against a lowered scenario: every path exists, a float range is not
    given to an integer parameter, and every end (every choice) is a value the parameter
    accepts.

    Returns:
        The space as a dict in its order.

    Raises:
        ValueError: naming the path (with the closest known paths) and the value.
    """
    if not isinstance(space, Mapping) or not space:
        raise ValueError("space must be a non-empty dict {parameter path: Float | Int | "
                         f"Choice}}, got {space!r}")
    known = model.params.by_path
    out = {}
    for path, dim in space.items():
        if path not in known:
            close = difflib.get_close_matches(str(path), list(known), n=3, cutoff=0.5)
            hint = f"; did you mean {close}?" if close else ""
            raise ValueError(f"space: unknown parameter path {path!r}{hint} "
                             "(sim.batch_parameters() lists them)")
        if not isinstance(dim, DIMENSIONS):
            raise ValueError(f"space[{path!r}] must be Float(low, high), Int(low, high) or "
                             f"Choice([...]), got {dim!r}")
        slot = known[path]
        if slot.integer and isinstance(dim, Float):
            raise ValueError(f"space[{path!r}]: an integer parameter takes Int(low, high) or "
                             f"Choice([...]), not {dim!r}")
        for v in dim.ends():
            try:
                slot.check(np.array([v], dtype=np.float64))
            except ValueError:
                raise ValueError(f"space[{path!r}]: {v!r} is not allowed: expected "
                                 f"{slot.expected()}") from None
        out[path] = dim
    return out


def describe(dim) -> dict:
    """A JSON-able description of a dimension (for the run's definition and reports)."""
    if isinstance(dim, Choice):
        return {"kind": "choice", "values": list(dim.values)}
    out = {"kind": "int" if isinstance(dim, Int) else "float", "low": dim.low,
           "high": dim.high, "log": bool(dim.log)}
    if isinstance(dim, Float) and dim.step is not None:
        out["step"] = dim.step
    return out
