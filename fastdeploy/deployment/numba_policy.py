"""Scaling policies written as numba functions: the extension point both engines run.

A NumbaPolicy's function is compiled twice from the same Python source: as an njit
function the object engine's AutoScaler calls, and as a C callback (``numba.cfunc`` with
one fixed signature) the batch kernels call through a function pointer. So the kernels
are compiled once for every such policy (and cached on disk), and the two engines run
the same code on the same numbers. docs/extending.md has a worked example.
"""

from __future__ import annotations

import math
import warnings

import numba
import numpy as np
from numba import types

from ..core import validate
from ..rules import autoscaler as rules
from .policies import mean_utilization, total_depth
from ..rules.autoscaler import (OBS_CURRENT, OBS_FIELDS, OBS_IN_SERVICE, OBS_MAX,  # noqa: F401
                                OBS_MIN, OBS_QUEUE_DEPTH, OBS_RECEIVED, OBS_TIME,
                                OBS_UTILIZATION)

# function(observation, params, memory) -> desired count
SIGNATURE = types.int64(types.float64[:], types.float64[:], types.float64[:])
MAX_MEMORY = 1 << 16

# numba calls function pointers "experimental"; this use (one signature, C callbacks) is
# the documented one.
warnings.filterwarnings("ignore", message="First-class function type feature is experimental")


def observation(prm, now_ns: int, current: int, backends, received: int) -> np.ndarray:
    """The observation record of ``backends`` (anything with the documented
    ``utilization``, ``depth`` and ``active_requests``), through rules.observe."""
    obs = np.zeros(OBS_FIELDS, np.float64)
    in_service = 0.0
    for b in backends:
        in_service += getattr(b, "active_requests", 0)
    rules.observe(obs, prm, now_ns, current, mean_utilization(backends), total_depth(backends),
                  in_service, received)
    return obs


def _cfunc(function):
    try:
        return numba.cfunc(SIGNATURE, cache=True)(function)
    except Exception:  # no source file to cache against (an interactive session)
        return numba.cfunc(SIGNATURE)(function)


class NumbaPolicy:
    """A scaling policy given as a function ``function(observation, params, memory)``
    that returns the desired instance count, run by both engines.

    The function must compile with numba in nopython mode. It reads ``observation``, a
    float64 array indexed by ``OBS_TIME`` (seconds), ``OBS_CURRENT`` (backends now),
    ``OBS_MIN``, ``OBS_MAX``, ``OBS_UTILIZATION`` (mean in service / concurrency),
    ``OBS_QUEUE_DEPTH`` (total), ``OBS_IN_SERVICE`` and ``OBS_RECEIVED`` (requests the
    load balancer received so far); ``params``, its parameters in the order given; and
    ``memory``, float64 slots it may write, kept between evaluations of one run and zero
    at its start. The AutoScaler caps the answer at max_instances and min_instances and
    applies its cooldowns, as for the built-in policies.

    Args:
        function: The policy function (plain Python, compiled here).
        params: {name: number}: sweepable as ``<scaler>.policy.params.<name>``.
        memory: How many memory slots the function uses.

    Raises:
        TypeError: function is not callable, or a parameter is not a number.
        ValueError: a bad parameter name or value, or memory out of range.
    """

    def __init__(self, function, params: dict | None = None, memory: int = 0):
        if not callable(function):
            raise TypeError(f"function must be callable, got {function!r}")
        self.function = getattr(function, "py_func", function)
        self.params = {}
        for name, value in (params or {}).items():
            if not isinstance(name, str) or not name.isidentifier():
                raise ValueError(f"params: names must be identifiers, got {name!r}")
            self.params[name] = validate.number(f"params[{name!r}]", value)
            if not math.isfinite(self.params[name]):
                raise ValueError(f"params[{name!r}] must be finite, got {value!r}")
        self.memory = validate.integer("memory", memory, minimum=0, maximum=MAX_MEMORY)
        self._njit = None
        self._kernel = None

    def __getstate__(self):
        # Compiled functions are rebuilt where needed (a deep copy, a Dask worker).
        state = dict(self.__dict__)
        state["_njit"] = state["_kernel"] = None
        return state

    def param_row(self) -> np.ndarray:
        return np.array(list(self.params.values()), np.float64)

    def decide(self, observation, params, memory) -> int:
        """The function's answer, run as the object engine runs it."""
        if self._njit is None:
            self._njit = numba.njit(cache=False)(self.function)
        desired = self._njit(observation, params, memory)
        return int(desired)

    def kernel_function(self):
        """What the batch kernels call: the C callback (the function itself when numba's
        JIT is disabled and the kernels run as Python)."""
        if numba.config.DISABLE_JIT:
            return self.function
        if self._kernel is None:
            self._kernel = _cfunc(self.function)
        return self._kernel

    def evaluate(self, backends, current_count, min_instances, max_instances) -> int:
        """The ScalingPolicy protocol, for a caller other than an AutoScaler: the
        observation without time or arrivals (0) and a memory of this call only."""
        prm = np.array([min_instances, max_instances], np.float64)
        obs = observation(prm, 0, current_count, backends, 0)
        return self.decide(obs, self.param_row(), np.zeros(self.memory, np.float64))

    def __repr__(self):
        name = getattr(self.function, "__name__", repr(self.function))
        return f"NumbaPolicy({name}, params={self.params}, memory={self.memory})"


def _no_policy(observation, params, memory):
    return -1


_NO_POLICY = None if numba.config.DISABLE_JIT else numba.cfunc(SIGNATURE, cache=True)(_no_policy)


def placeholder_kernel_function():
    """Fills the kernels' unused policy-function slots."""
    return _no_policy if _NO_POLICY is None else _NO_POLICY
