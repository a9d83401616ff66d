"""``happysimulator.instrumentation``: re-exports of fastdeploy's collectors and the run
summary."""

from .core.run_summary import EntitySummary, QueueStats, SimulationSummary
from .model.data import BucketedData, Data
from .model.sinks import LatencyTracker, ThroughputTracker

__all__ = ["BucketedData", "Data", "EntitySummary", "LatencyTracker", "QueueStats",
           "SimulationSummary", "ThroughputTracker"]
