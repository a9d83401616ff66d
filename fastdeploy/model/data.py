"""Timestamped samples and their summaries (happysim's Data and BucketedData)."""

from __future__ import annotations

import math
import statistics

import numpy as np

from ..core import validate


def _quantile(values, p: float) -> float:
    # Linear interpolation between the two nearest order statistics (numpy's default
    # method, the one happysim uses); 0.0 with no samples. p is within [0, 1].
    if len(values) == 0:
        return 0.0
    return float(np.quantile(np.asarray(values, dtype=np.float64), p))


class Data:
    """(time in seconds, value) samples in the order they were added."""

    def __init__(self) -> None:
        self._samples: list[tuple[float, float]] = []

    def add_stat(self, value, time) -> None:
        """Record ``value`` at ``time`` (an Instant)."""
        self._samples.append((time.to_seconds(), value))

    def clear(self) -> None:
        self._samples.clear()

    @property
    def values(self) -> list[tuple[float, float]]:
        """The samples as (time_seconds, value)."""
        return self._samples

    def between(self, start_s: float, end_s: float) -> Data:
        """The samples with start_s <= time < end_s."""
        out = Data()
        out._samples = [(t, v) for t, v in self._samples if start_s <= t < end_s]
        return out

    def raw_values(self) -> list:
        return [v for _, v in self._samples]

    def times(self) -> list[float]:
        return [t for t, _ in self._samples]

    def mean(self) -> float:
        """Mean value (0.0 with no samples)."""
        return self.sum() / len(self._samples) if self._samples else 0.0

    def min(self) -> float:
        return float(min(self.raw_values())) if self._samples else 0.0

    def max(self) -> float:
        return float(max(self.raw_values())) if self._samples else 0.0

    def sum(self) -> float:
        return float(sum(self.raw_values())) if self._samples else 0.0

    def std(self) -> float:
        """Population standard deviation (0.0 with fewer than 2 samples)."""
        return statistics.pstdev(self.raw_values()) if len(self._samples) >= 2 else 0.0

    def percentile(self, p: float) -> float:
        """The p-quantile, p in [0, 1] (0.99 for p99), interpolated linearly (0.0 with
        no samples). happysim clamps a p outside [0, 1]; here it is an error."""
        validate.number("p", p, minimum=0.0, maximum=1.0)
        return _quantile(self.raw_values(), p)

    def count(self) -> int:
        return len(self._samples)

    def bucket(self, window_s: float = 1.0) -> BucketedData:
        """Aggregates per window [k w, (k + 1) w) of time, for the windows with samples."""
        window_s = validate.number("window_s", window_s, minimum=0.0, min_open=True)
        groups: dict[int, list[float]] = {}
        for t, v in self._samples:
            groups.setdefault(math.floor(t / window_s), []).append(float(v))
        out = BucketedData()
        for k in sorted(groups):
            vals = groups[k]
            out._rows.append((k * window_s, sum(vals) / len(vals), len(vals), max(vals),
                              sum(vals), _quantile(vals, 0.5), _quantile(vals, 0.99)))
        return out

    def rate(self, window_s: float = 1.0) -> Data:
        """Samples per second in each window that has samples, at the window's start."""
        out = Data()
        b = self.bucket(window_s)
        out._samples = [(t, c / window_s) for t, c in zip(b.times(), b.counts())]
        return out

    def __len__(self) -> int:
        return len(self._samples)

    def __bool__(self) -> bool:
        return bool(self._samples)


class BucketedData:
    """Per-window aggregates from ``Data.bucket``: start time, mean, count, max, sum,
    p50 and p99 of each window."""

    def __init__(self) -> None:
        self._rows: list[tuple] = []

    def _column(self, i: int) -> list:
        return [r[i] for r in self._rows]

    def times(self) -> list[float]:
        """Window start times in seconds."""
        return self._column(0)

    def means(self) -> list[float]:
        return self._column(1)

    def counts(self) -> list[int]:
        return self._column(2)

    def maxes(self) -> list[float]:
        return self._column(3)

    def sums(self) -> list[float]:
        return self._column(4)

    def p50s(self) -> list[float]:
        return self._column(5)

    def p99s(self) -> list[float]:
        return self._column(6)

    def to_dict(self) -> dict[str, list]:
        """{time_s, mean, p50, p99, max, count, sum}: one list each."""
        return {"time_s": self.times(), "mean": self.means(), "p50": self.p50s(),
                "p99": self.p99s(), "max": self.maxes(), "count": self.counts(),
                "sum": self.sums()}

    def __len__(self) -> int:
        return len(self._rows)

    def __bool__(self) -> bool:
        return bool(self._rows)
