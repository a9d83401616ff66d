"""Service-time distributions, each evaluated at a request's own uniform (SPEC 3)."""

from __future__ import annotations

from ..core import validate
from ..core.temporal import Duration
from ..rules import distributions as rd


def _seconds_of(name, value):
    if isinstance(value, Duration):
        value = value.to_seconds()
    return validate.number(name, value, minimum=0.0)


class LatencyDistribution:
    """Base of the built-in distributions: (kind, a, b) for the shared inverse CDF."""

    kind: int
    a: float
    b: float = 0.0
    # Names of (a, b) as constructor arguments; b is None when unused.
    param_names: tuple = ("a", None)

    def sample(self, u: float) -> float:
        """Seconds of service at uniform ``u`` in [0, 1)."""
        return rd.sample_seconds(self.kind, self.a, self.b, u)

    @property
    def mean(self) -> float:
        raise NotImplementedError

    def __eq__(self, other):
        return type(other) is type(self) and (other.a, other.b) == (self.a, self.b)

    def __hash__(self):
        return hash((type(self).__name__, self.a, self.b))


class ConstantLatency(LatencyDistribution):
    """Every request takes ``latency`` seconds."""

    kind = rd.CONSTANT
    param_names = ("latency", None)

    def __init__(self, latency: float | Duration):
        self.a = _seconds_of("latency", latency)

    @property
    def mean(self):
        return self.a

    def __repr__(self):
        return f"ConstantLatency({self.a})"


class ExponentialLatency(LatencyDistribution):
    """Exponential service times with mean ``mean_latency`` seconds."""

    kind = rd.EXPONENTIAL
    param_names = ("mean_latency", None)

    def __init__(self, mean_latency: float | Duration):
        self.a = _seconds_of("mean_latency", mean_latency)
        if self.a == 0.0:
            raise ValueError(f"mean_latency must be > 0, got {mean_latency!r}")

    @property
    def mean(self):
        return self.a

    def __repr__(self):
        return f"ExponentialLatency({self.a})"


class UniformLatency(LatencyDistribution):
    """Service times uniform on [low, high] seconds."""

    kind = rd.UNIFORM
    param_names = ("low", "high")

    def __init__(self, low: float, high: float):
        self.a = _seconds_of("low", low)
        self.b = _seconds_of("high", high)
        if self.b < self.a:
            raise ValueError(f"high must be >= low, got low={low!r}, high={high!r}")

    @property
    def mean(self):
        return 0.5 * (self.a + self.b)

    def __repr__(self):
        return f"UniformLatency({self.a}, {self.b})"


class LogNormalLatency(LatencyDistribution):
    """Log-normal service times with mean ``mean`` seconds and log-space sigma ``sigma``."""

    kind = rd.LOGNORMAL
    param_names = ("mean", "sigma")

    def __init__(self, mean: float, sigma: float = 0.5):
        self.a = _seconds_of("mean", mean)
        if self.a == 0.0:
            raise ValueError(f"mean must be > 0, got {mean!r}")
        self.b = validate.number("sigma", sigma, minimum=0.0)

    @property
    def mean(self):
        return self.a

    def __repr__(self):
        return f"LogNormalLatency({self.a}, sigma={self.b})"
