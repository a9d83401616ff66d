"""A copy of a Simulation with parameter values set by their dotted paths.

The batch engine takes parameters as a row of numbers (``params=`` of ``run_batch``, the
points of a sweep). ``with_parameters`` puts the same numbers into the objects, so the
object engine runs exactly what a batch row ran: ``BatchResult.replay`` and
``SweepResult.replay`` use it. The copy is checked by lowering it: every given path must
lower to the given value.
"""

from __future__ import annotations

import copy
import dataclasses
import math

from ..core.entity import Entity
from ..core.simulation import Simulation, discover
from ..core.temporal import Instant
from ..model.distributions import LatencyDistribution

# Tuples inside lists, addressed by field name: policy.steps.K.threshold, profile.points.I.rate.
_TUPLE_FIELDS = {"steps": ("threshold", "adjustment"), "points": ("time", "rate")}


class _TemplateOverrides:
    """A server_factory whose servers get ``{server path: value}`` set (``X.server.*``)."""

    def __init__(self, factory, values: dict):
        self.factory = factory
        self.values = dict(values)

    def __call__(self, name: str):
        server = self.factory(name)
        for rest, value in self.values.items():
            _assign(server, rest.split("."), value, rest)
        return server

    def __repr__(self):
        return f"{self.factory!r} with {self.values}"


def _with(obj, parts: list[str], value, path: str, field_names=None):
    """``obj`` with the value at ``parts`` replaced: entities are changed in place, other
    objects (policies, distributions, stages, profiles...) are copied first, since
    several components may share one."""
    if not parts:
        return value
    head, rest = parts[0], parts[1:]
    if isinstance(obj, dict):  # a NumbaPolicy's params
        if head not in obj:
            raise KeyError(path)
        new = dict(obj)
        new[head] = _with(obj[head], rest, value, path)
        return new
    if isinstance(obj, list):
        new = list(obj)
        new[int(head)] = _with(obj[int(head)], rest, value, path, field_names)
        return new
    if isinstance(obj, tuple) and field_names is None and head.isdigit():
        # a tuple of objects by position (a KayentaJudge's metrics)
        i = int(head)
        return obj[:i] + (_with(obj[i], rest, value, path),) + obj[i + 1:]
    if isinstance(obj, tuple) and field_names is not None:
        i = field_names.index(head)
        return obj[:i] + (_with(obj[i], rest, value, path),) + obj[i + 1:]
    if isinstance(obj, LatencyDistribution) and not rest:
        a, b = obj.param_names
        attr = "a" if head == a else "b" if head == b else None
        if attr is None:
            raise KeyError(path)
        new = copy.copy(obj)
        setattr(new, attr, float(value))
        return new
    if not hasattr(obj, head):
        raise KeyError(path)
    child = _with(getattr(obj, head), rest, value, path, _TUPLE_FIELDS.get(head))
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.replace(obj, **{head: child})
    new = obj if isinstance(obj, Entity) else copy.copy(obj)
    if head == "stop_after":
        child = Instant.from_seconds(float(value))
    setattr(new, head, child)
    return new


def _assign(entity, parts: list[str], value, path: str) -> None:
    _with(entity, parts, value, path)
    _refresh(entity)


def _refresh(entity) -> None:
    """Recompute what an entity's constructor derives from the values just set (the
    deployment components take their parameter rows from their attributes when a run
    begins)."""
    if hasattr(entity, "_segments") and hasattr(entity, "profile"):
        entity._segments = entity.profile.segments()
    policy = getattr(entity, "policy", None)
    if policy is not None and hasattr(policy, "_thresholds"):
        import numpy as np

        policy._thresholds = np.array([s[0] for s in policy.steps], dtype=np.float64)
        policy._adjustments = np.array([s[1] for s in policy.steps], dtype=np.int64)


def with_parameters(sim: Simulation, values: dict) -> Simulation:
    """A new Simulation like ``sim`` (as it was before any run) with ``values`` set.

    Args:
        sim: A Simulation the batch engine can run.
        values: ``{dotted path: number}`` over ``sim.batch_parameters()`` paths; integer
            parameters take whole numbers.

    Returns:
        A fresh Simulation (same seed, times and scheduled events) whose objects hold the
        values; ``sim`` is left as it is. Lowering it gives ``values`` for those paths.

    Raises:
        KeyError: a path ``sim`` does not have.
        ValueError: a value the parameter does not accept.
    """
    from .lower import lower

    known = lower(sim).params
    for path, v in values.items():
        slot = known.by_path.get(path)
        if slot is None:
            raise KeyError(f"unknown parameter path {path!r} (sim.batch_parameters() lists them)")
        slot.check([v])
    sources, entities, pending = copy.deepcopy(sim.initial_graph())
    names = {e.name: e for e in discover(sources, entities) if getattr(e, "name", None)}
    templates: dict[int, dict] = {}
    owners = {}
    for path, v in values.items():
        slot = known.by_path[path]
        v = int(round(v)) if slot.integer else float(v)
        name = max((n for n in names if path.startswith(n + ".")), key=len)
        entity = names[name]
        rest = path[len(name) + 1:]
        if rest.startswith("server.") and hasattr(entity, "server_factory"):
            templates.setdefault(id(entity), {})[rest[len("server."):]] = v
            owners[id(entity)] = entity
        else:
            _assign(entity, rest.split("."), v, path)
    for key, overrides in templates.items():
        owners[key].server_factory = _TemplateOverrides(owners[key].server_factory, overrides)
    new = Simulation(sim.start_time, sim.end_time, sources=sources, entities=entities,
                     seed=sim.seed, trace=sim.trace)
    new.schedule(pending)
    got = lower(new).params.defaults()
    for path, v in values.items():
        if not math.isclose(got[path], float(v), rel_tol=1e-12, abs_tol=0.0):
            raise RuntimeError(f"internal: setting {path} = {v} on the objects lowers to "
                               f"{got[path]}")
    return new
