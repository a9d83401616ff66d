"""The traffic rate over time, from a Simulation's sources (their rate profiles)."""

from __future__ import annotations

import numpy as np


def source_rates(simulation, times) -> dict[str, np.ndarray]:
    """{source name: requests per second at each of ``times`` (seconds)}.

    The rate is the source's profile (``Source.profile.get_rate``), 0 before the
    simulation starts and after the source's ``stop_after``. This is the rate of the
    scenario as built: a batch run whose ``params`` change a profile per replica (e.g.
    ``traffic.profile.spike_rate``) had other rates.
    """
    times = np.asarray(times, dtype=np.float64)
    start = simulation.start_time.to_seconds()
    out = {}
    for i, src in enumerate(simulation.sources):
        name = getattr(src, "name", None) or f"source {i}"
        rate = np.array([src.profile.get_rate(float(t)) for t in times])
        rate[times < start] = 0.0
        stop = getattr(src, "stop_after", None)
        if stop is not None:
            rate[times > stop.to_seconds()] = 0.0
        out[name] = rate
    return out


def rate_times(simulation, samples: int = 1000) -> np.ndarray:
    """Times to draw the rate at: the run's span, with every profile breakpoint in it, so
    steps (a spike's edges) are drawn as steps."""
    start = simulation.start_time.to_seconds()
    end = simulation.end_time.to_seconds()
    times = [np.linspace(start, end, samples)]
    for src in simulation.sources:
        t0 = np.asarray(src.profile.segments()[0], dtype=np.float64)
        t0 = t0[(t0 > start) & (t0 < end)]
        eps = 1e-9 * max(1.0, end - start)
        times += [t0 - eps, t0]
        stop = getattr(src, "stop_after", None)
        if stop is not None and start < stop.to_seconds() < end:
            times.append(np.array([stop.to_seconds(), stop.to_seconds() + eps]))
    return np.unique(np.concatenate(times))
