"""The replica parameter vector: every lowered number, addressable by a dotted path."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Slot:
    """One lowered number: where it lives in P, its path, and what values it accepts."""

    index: int
    path: str
    integer: bool
    minimum: float | None
    maximum: float | None
    min_open: bool
    max_open: bool

    def check(self, values: np.ndarray) -> np.ndarray:
        """The values as float64, or ValueError naming the path and the first bad value."""
        arr = np.asarray(values)
        if arr.dtype == object or arr.dtype.kind not in "biuf":
            raise TypeError(f"params[{self.path!r}] must be numbers, got dtype {arr.dtype}")
        arr = arr.astype(np.float64)
        bad = ~np.isfinite(arr)
        if self.integer:
            bad |= arr != np.floor(arr)
        if self.minimum is not None:
            bad |= (arr <= self.minimum) if self.min_open else (arr < self.minimum)
        if self.maximum is not None:
            bad |= (arr >= self.maximum) if self.max_open else (arr > self.maximum)
        if bad.any():
            i = int(np.argmax(bad))
            at = f"[{i}]" if arr.size > 1 else ""
            raise ValueError(f"params[{self.path!r}]{at} = {number_text(arr[i])} is not "
                             f"allowed: expected {self.expected()}")
        return arr

    def expected(self) -> str:
        """``an integer >= 1``, ``a finite number in (0, 1]``, ..."""
        what = "an integer" if self.integer else "a finite number"
        lo, hi = self.minimum, self.maximum
        if lo is not None and hi is not None:
            return (f"{what} in {'(' if self.min_open else '['}{number_text(lo)}, "
                    f"{number_text(hi)}{')' if self.max_open else ']'}")
        if lo is not None:
            return f"{what} {'>' if self.min_open else '>='} {number_text(lo)}"
        if hi is not None:
            return f"{what} {'<' if self.max_open else '<='} {number_text(hi)}"
        return what


def number_text(value) -> str:
    """A number as a person writes it: ``1.5``, ``3``, ``nan`` (no numpy repr)."""
    v = float(value)
    if math.isfinite(v) and v == int(v) and abs(v) < 2**53:
        return str(int(v))
    return repr(v)


class ParamTable:
    """Collects slots while lowering; then builds per-replica rows with overrides."""

    def __init__(self):
        self.slots: list[Slot] = []
        self.values: list[float] = []
        self.by_path: dict[str, Slot] = {}
        self.row_checks: list[tuple[str, object]] = []

    def add(self, path: str, value, *, integer=False, minimum=None, maximum=None,
            min_open=False, max_open=False) -> int:
        slot = Slot(len(self.slots), path, integer, minimum, maximum, min_open, max_open)
        self.slots.append(slot)
        self.values.append(float(value))
        if path in self.by_path:
            raise ValueError(f"two lowered parameters share the path {path!r}: give the "
                             "components distinct names")
        self.by_path[path] = slot
        return slot.index

    def hidden(self, value) -> int:
        """A slot with no path (a fixed internal number)."""
        self.slots.append(Slot(len(self.slots), "", False, None, None, False, False))
        self.values.append(float(value))
        return len(self.slots) - 1

    def require(self, message: str, fn) -> None:
        """A cross-parameter rule: fn(P_rows) -> bool array of rows that satisfy it."""
        self.row_checks.append((message, fn))

    def defaults(self) -> dict[str, float]:
        return {s.path: (int(v) if s.integer else v)
                for s, v in zip(self.slots, self.values) if s.path}

    def rows(self, n: int, params: dict | None) -> tuple[np.ndarray, np.ndarray]:
        """(P_ROWS, p_index): one row shared by all replicas, or one row each."""
        base = np.asarray(self.values, dtype=np.float64)
        if not params:
            rows = base[None, :].copy()
            index = np.zeros(n, dtype=np.int64)
        else:
            rows = np.repeat(base[None, :], n, axis=0)
            for path, values in params.items():
                slot = self.by_path.get(path)
                if slot is None:
                    near = [p for p in self.by_path if p.split(".")[0] == path.split(".")[0]]
                    hint = f"; paths of that component: {near}" if near else ""
                    raise KeyError(f"params: unknown parameter path {path!r}{hint} "
                                   "(sim.batch_parameters() lists them)")
                arr = np.asarray(values)
                if arr.ndim == 0:
                    arr = np.full(n, arr)
                if arr.shape != (n,):
                    raise ValueError(f"params[{path!r}] must hold one value per replica "
                                     f"({n}), got shape {arr.shape}")
                rows[:, slot.index] = slot.check(arr)
            index = np.arange(n, dtype=np.int64)
        for message, fn in self.row_checks:
            ok = np.asarray(fn(rows), dtype=bool)
            if not ok.all():
                i = int(np.argmin(ok))
                raise ValueError(f"{message} (replica position {i})")
        return rows, index


def finite_or(value, default):
    return default if value is None or not math.isfinite(value) else value
