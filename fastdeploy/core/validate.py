"""Argument checks shared by the public constructors: each error names the argument."""

from __future__ import annotations

import math
import numbers

# Integers travel through the batch engine's float64 parameter vector: keep them exact.
MAX_INTEGER = 2**53


def number(name: str, value, *, minimum=None, maximum=None, min_open=False, max_open=False):
    """A finite real number within bounds, else ValueError/TypeError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if minimum is not None and (value < minimum or (min_open and value == minimum)):
        op = ">" if min_open else ">="
        raise ValueError(f"{name} must be {op} {minimum}, got {value!r}")
    if maximum is not None and (value > maximum or (max_open and value == maximum)):
        op = "<" if max_open else "<="
        raise ValueError(f"{name} must be {op} {maximum}, got {value!r}")
    return value


def integer(name: str, value, *, minimum=None, maximum=None):
    """An int within bounds, else ValueError/TypeError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if (maximum is None and value > MAX_INTEGER) or (minimum is None and value < -MAX_INTEGER):
        raise ValueError(f"{name} must be at most 2**53 in magnitude, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value!r}")
    return value


def seconds(name: str, value, *, allow_zero=True):
    """A non-negative (or positive) finite number of seconds, below the end of
    simulation time (MAX_SECONDS, about 292 years)."""
    from ..rules.timeconv import MAX_SECONDS

    return number(name, value, minimum=0.0, min_open=not allow_zero, maximum=MAX_SECONDS,
                  max_open=True)
