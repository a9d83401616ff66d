"""What ``Simulation.run`` returns: fastdeploy's figures and happysim's summary fields."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .temporal import Instant


@dataclass
class QueueStats:
    """happysim's per-entity queue figures (fastdeploy leaves ``queue_stats`` None: a
    Server's figures are in its ``stats``)."""

    peak_depth: int
    total_accepted: int
    total_dropped: int


@dataclass
class EntitySummary:
    """One entity of a run: its name, class and the events it handled (requests reach
    a server within their arrival event, so a server's count is its completions)."""

    name: str
    entity_type: str
    events_handled: int
    queue_stats: QueueStats | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.entity_type,
                               "events_handled": self.events_handled}
        if self.queue_stats is not None:
            out["queue"] = vars(self.queue_stats)
        return out


@dataclass
class SimulationSummary:
    """What ``Simulation.run`` returns.

    Attributes:
        events_processed: Events handled.
        end_time: Simulation time at the end.
        wall_time: Wall-clock seconds the run took.
        seed: The simulation's seed.
        replica: The replica that ran.
        metrics: Per-replica results (SPEC section 8), the same names as a batch row.
        start_time: Simulation time at the start.
        entities: Per entity (by name), an EntitySummary.
        events_cancelled: Always 0: fastdeploy events cannot be cancelled (happysim's
            field).

    happysim's names are properties: ``duration_s`` (end_time - start_time in
    seconds), ``total_events_processed``, ``events_per_second`` (events per simulated
    second, 0 for a zero duration) and ``wall_clock_seconds``.
    """

    events_processed: int
    end_time: Instant
    wall_time: float
    seed: int
    replica: int
    metrics: dict = field(default_factory=dict)
    start_time: Instant = Instant.Epoch
    entities: dict[str, EntitySummary] = field(default_factory=dict)
    events_cancelled: int = 0

    @property
    def duration_s(self) -> float:
        return (self.end_time - self.start_time).to_seconds()

    @property
    def total_events_processed(self) -> int:
        return self.events_processed

    @property
    def events_per_second(self) -> float:
        d = self.duration_s
        return self.events_processed / d if d > 0 else 0.0

    @property
    def wall_clock_seconds(self) -> float:
        return self.wall_time

    def to_dict(self) -> dict[str, Any]:
        """happysim's dictionary, with fastdeploy's seed, replica and metrics."""
        return {"duration_s": self.duration_s,
                "total_events_processed": self.total_events_processed,
                "events_cancelled": self.events_cancelled,
                "events_per_second": self.events_per_second,
                "wall_clock_seconds": self.wall_clock_seconds,
                "entities": {n: e.to_dict() for n, e in self.entities.items()},
                "seed": self.seed, "replica": self.replica, "metrics": dict(self.metrics)}

    def __str__(self) -> str:
        lines = [
            "Simulation Summary",
            f"  Duration: {self.duration_s:.2f}s (sim) / {self.wall_clock_seconds:.3f}s (wall)",
            f"  Seed {self.seed}, replica {self.replica}",
            f"  Events processed: {self.total_events_processed}",
            f"  Events/sec (sim): {self.events_per_second:.1f}",
        ]
        if self.entities:
            lines.append("  Entities:")
            for name, es in self.entities.items():
                lines.append(f"    {name} ({es.entity_type}): {es.events_handled} events")
        if self.metrics:
            lines.append("  Metrics:")
            width = max(len(k) for k in self.metrics)
            for k, v in self.metrics.items():
                shown = f"{v:.6g}" if isinstance(v, float) else str(v)
                lines.append(f"    {k:<{width}}  {shown}")
        return "\n".join(lines)
