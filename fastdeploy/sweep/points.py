"""Binding a space to a lowered scenario: checked points and per-path value arrays."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..batch.lower import BatchModel
from .space import Space


@dataclass(frozen=True)
class BoundPoints:
    """The points of a sweep as the scenario takes them.

    Attributes:
        keys: The swept paths, in the space's order.
        points: One dict per point over every key (a key a point does not set holds the
            scenario's own value).
        values: ``{path: array}``, the value of each point (int64 for integer
            parameters, float64 otherwise).
    """

    keys: tuple[str, ...]
    points: tuple[dict, ...]
    values: dict

    def __len__(self) -> int:
        return len(self.points)

    def params_for(self, point_ids: np.ndarray, repeat: int) -> dict:
        """``run_model`` params for rows ``point_ids[0]`` x ``repeat``, then the next..."""
        return {k: np.repeat(v[point_ids], repeat) for k, v in self.values.items()}


def _plain(value):
    """numpy scalars as Python numbers, for messages."""
    return value.item() if isinstance(value, np.generic) else value


def bind(space, model: BatchModel) -> BoundPoints:
    """Check ``space`` against ``model`` and resolve its values.

    Args:
        space: A Space, or a sequence of point dicts.
        model: The lowered scenario.

    Returns:
        The BoundPoints.

    Raises:
        ValueError: an empty space, a path the scenario does not have (the message
            names it and the closest paths), or a value the parameter does not accept
            (the message names the point).
    """
    if not isinstance(space, Space):
        if not isinstance(space, Sequence) or isinstance(space, (str, bytes)):
            raise ValueError(f"space must be a Space or a sequence of point dicts, got {space!r}")
        space = Space(space)
    if len(space) == 0:
        raise ValueError("space has no points")
    table = model.params
    known = table.by_path
    for key in space.keys:
        if key not in known:
            close = difflib.get_close_matches(key, list(known), n=3, cutoff=0.5)
            hint = f"; did you mean {close}?" if close else ""
            raise ValueError(f"space: unknown parameter path {key!r}{hint} "
                             "(sim.batch_parameters() lists them)")
    integer = {k for k in space.keys if known[k].integer}
    resolved = space.resolve(integer)
    defaults = table.defaults()
    keys = space.keys
    points = tuple({k: p.get(k, defaults[k]) for k in keys} for p in resolved)
    values = {k: np.array([p[k] for p in points],
                          dtype=np.int64 if k in integer else np.float64) for k in keys}
    n = len(points)
    try:
        table.rows(n, values)
    except (ValueError, TypeError):
        # Find the first offending point to name it.
        for i, p in enumerate(points):
            try:
                table.rows(1, {k: v[i:i + 1] for k, v in values.items()})
            except (ValueError, TypeError) as err:
                shown = {k: _plain(v) for k, v in p.items()}
                raise ValueError(f"space point {i} {shown}: "
                                 f"{str(err).replace(' (replica position 0)', '')}") from None
        raise
    return BoundPoints(keys, points, values)
