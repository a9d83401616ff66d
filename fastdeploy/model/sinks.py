"""Entities that collect what reaches them (happysim's Sink, LatencyTracker, Counter).

Sink and LatencyTracker read an event's latency as its time minus ``context["created_at"]`` (0 when the
event has none). A fastdeploy Server has no downstream: send events here from your own
entities or completion hooks; end-to-end latency of every request is in
``summary.metrics`` anyway.
"""

from __future__ import annotations

from ..core.entity import Entity
from ..core.event import Event
from .data import Data, _quantile


def _latency_s(event: Event) -> float:
    created = event.context.get("created_at", event.time)
    return (event.time - created).to_seconds()


class Sink(Entity):
    """Counts the events it receives and records each one's latency.

    Attributes:
        events_received: Events handled.
        latencies_s: Latency of each, in seconds, in arrival order.
        completion_times: When each arrived (Instants).
    """

    def __init__(self, name: str = "Sink"):
        super().__init__(name)
        self.events_received = 0
        self.completion_times: list = []
        self.latencies_s: list[float] = []

    def handle_event(self, event: Event):
        self.events_received += 1
        self.completion_times.append(event.time)
        self.latencies_s.append(_latency_s(event))
        return None

    def average_latency(self) -> float:
        """Mean latency in seconds (0.0 with no events)."""
        return sum(self.latencies_s) / len(self.latencies_s) if self.latencies_s else 0.0

    def latency_time_series_seconds(self) -> tuple[list[float], list[float]]:
        """(arrival times in seconds, latencies in seconds)."""
        return [t.to_seconds() for t in self.completion_times], list(self.latencies_s)

    def latency_stats(self) -> dict:
        """{count, avg, min, max, p50, p99} of the latencies (zeros with no events)."""
        v = self.latencies_s
        if not v:
            return {"count": 0, "avg": 0.0, "min": 0.0, "max": 0.0, "p50": 0.0, "p99": 0.0}
        return {"count": len(v), "avg": sum(v) / len(v), "min": min(v), "max": max(v),
                "p50": _quantile(v, 0.5), "p99": _quantile(v, 0.99)}


class LatencyTracker(Entity):
    """Records (arrival time, latency) of each event it receives in ``data``.

    Attributes:
        data: A Data of latencies in seconds, stamped with their arrival time.
        count: Events handled.
    """

    def __init__(self, name: str = "LatencyTracker") -> None:
        super().__init__(name)
        self.data = Data()
        self.count = 0

    def handle_event(self, event: Event):
        self.data.add_stat(_latency_s(event), event.time)
        self.count += 1
        return None

    def p50(self) -> float:
        return self.data.percentile(0.50)

    def p99(self) -> float:
        return self.data.percentile(0.99)

    def mean_latency(self) -> float:
        return self.data.mean()

    def summary(self, window_s: float = 1.0):
        """Latencies aggregated per time window (a BucketedData)."""
        return self.data.bucket(window_s)


class Counter(Entity):
    """Counts the events it receives, in total and by event_type.

    Attributes:
        total: Events handled.
        by_type: Events handled per event_type.
    """

    def __init__(self, name: str = "Counter"):
        super().__init__(name)
        self.total = 0
        self.by_type: dict[str, int] = {}

    def handle_event(self, event: Event):
        self.total += 1
        self.by_type[event.event_type] = self.by_type.get(event.event_type, 0) + 1
        return None


class ThroughputTracker(Entity):
    """Records one sample (1.0) per event it receives; ``throughput(window_s)`` gives
    events per window.

    Attributes:
        data: A Data of 1.0 per event, stamped with its arrival time.
        count: Events handled.
    """

    def __init__(self, name: str = "ThroughputTracker") -> None:
        super().__init__(name)
        self.data = Data()
        self.count = 0

    def handle_event(self, event: Event):
        self.data.add_stat(1.0, event.time)
        self.count += 1
        return None

    def throughput(self, window_s: float = 1.0):
        """Events per window (a BucketedData whose ``sums()`` are the counts)."""
        return self.data.bucket(window_s)
