"""Parameter spaces: sequences of points over the batch engine's dotted parameter paths.

A point is a dict ``{path: value}`` whose paths are those ``sim.batch_parameters()``
lists. Spaces are built with :func:`grid`, :func:`random` and :func:`latin_hypercube`, or
from explicit points with :class:`Space`, and combine with ``a * b`` (every point of
``a`` with every point of ``b``) and ``a + b`` (the points of ``a``, then those of ``b``).

A space does not know the scenario. Whether a path exists, and whether it holds an
integer, is decided when the space is bound to a scenario (``Sweep`` does it): random and
Latin hypercube draws of integer parameters are then mapped to integers (see
:meth:`Space.resolve`), and grid values of integer parameters must be whole numbers.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Draw:
    """One random coordinate: a uniform ``u`` in [0, 1) and the bounds it maps to."""

    u: float
    low: float
    high: float

    def value(self, integer: bool = False, path: str = "?"):
        """The coordinate as a number.

        A float parameter takes ``low + u * (high - low)``. An integer parameter takes
        one of the integers ``a = ceil(low) .. b = floor(high)``, each over an equal
        share of ``u``: ``a + floor(u * (b - a + 1))``. So random draws are uniform over
        those integers and Latin hypercube strata spread evenly over them.

        Raises:
            ValueError: an integer parameter whose bounds hold no integer.
        """
        if not integer:
            return self.low + self.u * (self.high - self.low)
        a, b = math.ceil(self.low), math.floor(self.high)
        if a > b:
            raise ValueError(f"bounds[{path!r}] = ({self.low!r}, {self.high!r}) hold no integer, "
                             f"but {path!r} is an integer parameter")
        return a + min(int(self.u * (b - a + 1)), b - a)


def _number(value, what: str):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer,
                                                                     np.floating)):
        raise ValueError(f"{what} must be a number, got {value!r}")
    if isinstance(value, (np.integer, np.floating)):
        value = value.item()
    if not math.isfinite(value):
        raise ValueError(f"{what} must be finite, got {value!r}")
    return value


def _path(key, what: str) -> str:
    if not isinstance(key, str) or not key:
        raise ValueError(f"{what}: parameter paths must be non-empty strings, got {key!r}")
    return key


class Space(Sequence):
    """A sequence of points, each a dict ``{dotted path: value}``.

    Args:
        points: Explicit points, e.g. ``[{"scaler.policy.target": 0.5}, ...]``. Points
            may set different paths; a path a point does not set runs with the scenario's
            own value.

    Raises:
        ValueError: a path that is not a non-empty string, or a value that is not a
            finite number.

    Examples:
        >>> space = grid({"scaler.policy.target": [0.5, 0.6]}) * grid({"scaler.scale_in_cooldown": [30, 60]})
        >>> len(space), space[1]
        (4, {'scaler.policy.target': 0.5, 'scaler.scale_in_cooldown': 60})
    """

    def __init__(self, points: Iterable[Mapping] = ()):
        items = []
        for i, point in enumerate(points):
            if not isinstance(point, Mapping):
                raise ValueError(f"points[{i}] must be a mapping of parameter paths to values, "
                                 f"got {point!r}")
            clean = {}
            for key, value in point.items():
                _path(key, f"points[{i}]")
                clean[key] = value if isinstance(value, Draw) else _number(
                    value, f"points[{i}][{key!r}]")
            items.append(clean)
        self._points: tuple[dict, ...] = tuple(items)

    @classmethod
    def _raw(cls, points: Iterable[dict]) -> "Space":
        space = cls.__new__(cls)
        space._points = tuple(points)
        return space

    @property
    def keys(self) -> tuple[str, ...]:
        """Every path some point sets, in order of first appearance."""
        seen: dict[str, None] = {}
        for point in self._points:
            for key in point:
                seen.setdefault(key, None)
        return tuple(seen)

    def __len__(self) -> int:
        return len(self._points)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Space._raw(self._points[index])
        point = self._points[index]
        return {k: (v.value() if isinstance(v, Draw) else v) for k, v in point.items()}

    def __iter__(self):
        for i in range(len(self._points)):
            yield self[i]

    def __mul__(self, other):
        """Every point of ``self`` merged with every point of ``other`` (``self`` outer).

        Raises:
            ValueError: the two spaces set a common path.
        """
        if not isinstance(other, Space):
            return NotImplemented
        common = set(self.keys) & set(other.keys)
        if common:
            raise ValueError(f"cannot multiply spaces that both set {sorted(common)}: a point "
                             "would get two values for the same parameter")
        return Space._raw({**a, **b} for a, b in itertools.product(self._points, other._points))

    def __add__(self, other):
        """The points of ``self`` followed by those of ``other``."""
        if not isinstance(other, Space):
            return NotImplemented
        return Space._raw(self._points + other._points)

    def __eq__(self, other):
        if not isinstance(other, Space):
            return NotImplemented
        return self._points == other._points

    __hash__ = None

    def __repr__(self) -> str:
        return f"Space({len(self)} points over {list(self.keys)})"

    def resolve(self, integer: Collection[str] = ()) -> list[dict]:
        """The points with every value as the scenario will take it.

        Args:
            integer: The paths that hold integers (the batch engine's integer slots).
                Their random and Latin hypercube draws are mapped to integers as
                :meth:`Draw.value` describes; their grid or explicit values must be
                whole numbers and become ints.

        Returns:
            One dict per point, in order.

        Raises:
            ValueError: a non-integral value or integer-free bounds for an integer path.
        """
        integer = set(integer)
        out = []
        for i, point in enumerate(self._points):
            resolved = {}
            for key, value in point.items():
                is_int = key in integer
                if isinstance(value, Draw):
                    value = value.value(is_int, key)
                elif is_int:
                    if value != math.floor(value):
                        raise ValueError(f"point {i}: {key!r} is an integer parameter, got "
                                         f"{value!r}")
                    value = int(value)
                resolved[key] = value
            out.append(resolved)
        return out


def grid(values: Mapping[str, Sequence | float]) -> Space:
    """The cartesian product of per-parameter value lists.

    Args:
        values: ``{path: [v1, v2, ...]}``; a single number stands for a one-value list.
            Points run through the last path fastest (as ``itertools.product``).

    Returns:
        A Space of ``prod(len(list))`` points.

    Raises:
        ValueError: no parameter, an empty list, or a value that is not a finite number.

    Examples:
        >>> len(grid({"scaler.policy.target": [0.5, 0.6, 0.7], "scaler.scale_in_cooldown": [30, 60]}))
        6
    """
    if not isinstance(values, Mapping) or not values:
        raise ValueError(f"values must be a non-empty mapping of parameter paths to value "
                         f"lists, got {values!r}")
    axes = []
    for key, seq in values.items():
        _path(key, "values")
        if isinstance(seq, (str, bytes)) or not isinstance(seq, (Sequence, np.ndarray)):
            seq = [seq]
        seq = list(seq)
        if not seq:
            raise ValueError(f"values[{key!r}] is empty: give at least one value")
        axes.append([_number(v, f"values[{key!r}][{i}]") for i, v in enumerate(seq)])
    keys = list(values)
    return Space._raw(dict(zip(keys, combo)) for combo in itertools.product(*axes))


def _bounds(n, bounds) -> tuple[int, list[tuple[str, float, float]]]:
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n!r}")
    if not isinstance(bounds, Mapping) or not bounds:
        raise ValueError(f"bounds must be a non-empty mapping of parameter paths to "
                         f"(low, high), got {bounds!r}")
    out = []
    for key, pair in bounds.items():
        _path(key, "bounds")
        if isinstance(pair, (str, bytes)) or not isinstance(pair, (Sequence, np.ndarray)) \
                or len(pair) != 2:
            raise ValueError(f"bounds[{key!r}] must be a (low, high) pair, got {pair!r}")
        low = _number(pair[0], f"bounds[{key!r}] low")
        high = _number(pair[1], f"bounds[{key!r}] high")
        if low > high:
            raise ValueError(f"bounds[{key!r}]: low {low!r} > high {high!r}")
        out.append((key, low, high))
    return int(n), out


def _seed(seed) -> int:
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    return int(seed)


def _space_from_unit(u: np.ndarray, dims) -> Space:
    """Points from unit-cube coordinates u[i, j] mapped to each dimension's bounds."""
    return Space._raw({key: Draw(float(u[i, j]), low, high)
                       for j, (key, low, high) in enumerate(dims)} for i in range(u.shape[0]))


def random(n: int, bounds: Mapping[str, tuple[float, float]], *, seed: int = 0) -> Space:
    """``n`` points drawn independently and uniformly from a box.

    Args:
        n: Number of points.
        bounds: ``{path: (low, high)}``. Float parameters are uniform on [low, high);
            integer parameters on the integers ceil(low)..floor(high) (see
            :meth:`Draw.value`).
        seed: Seed of numpy's PCG64 generator: the same seed gives the same points.

    Returns:
        A Space of ``n`` points.

    Raises:
        ValueError: ``n`` < 1, no bounds, a bound that is not a finite number, or
            low > high (the message names the path).
    """
    n, dims = _bounds(n, bounds)
    rng = np.random.Generator(np.random.PCG64(_seed(seed)))
    u = rng.random((n, len(dims)))
    return _space_from_unit(u, dims)


def latin_hypercube(n: int, bounds: Mapping[str, tuple[float, float]], *,
                    seed: int = 0) -> Space:
    """``n`` points of a Latin hypercube sample of a box.

    Each dimension is cut into ``n`` equal strata and every stratum holds exactly one
    point: point ``i`` takes ``(perm[i] + jitter[i]) / n`` in unit coordinates, with an
    independent random permutation and uniform jitter per dimension, then maps to the
    bounds as :func:`random` does (integer parameters: strata spread evenly over the
    integers).

    Args:
        n: Number of points (and of strata per dimension).
        bounds: ``{path: (low, high)}``.
        seed: Seed of numpy's PCG64 generator: the same seed gives the same points.

    Returns:
        A Space of ``n`` points.

    Raises:
        ValueError: ``n`` < 1, no bounds, a bound that is not a finite number, or
            low > high (the message names the path).
    """
    n, dims = _bounds(n, bounds)
    rng = np.random.Generator(np.random.PCG64(_seed(seed)))
    u = np.empty((n, len(dims)))
    for j in range(len(dims)):
        u[:, j] = (rng.permutation(n) + rng.random(n)) / n
    # Guard the top stratum against rounding up to exactly 1.0.
    np.minimum(u, np.nextafter(1.0, 0.0), out=u)
    return _space_from_unit(u, dims)
