"""fastdeploy: fast Monte Carlo simulation of auto-scaling and deployment strategies.

The classes follow happysim 0.2.5's documented API; see docs/happysim-differences.md.
"""

# First: numba's cache must not hand out machine code older than its sources.
from .numba_cache import refresh as _refresh_numba_cache

_refresh_numba_cache()

from .core.clock import Clock  # noqa: E402
from .core.entity import CallbackEntity, Entity, NullEntity
from .core.event import Event
from .core import simulation as _simulation_module
from .core.run_summary import EntitySummary, QueueStats, SimulationSummary
from .core.simulation import Simulation
from .core.temporal import Duration, Instant
from .deployment import (AutoScaler, AutoScalerStats, CanaryDeployer, CanaryDeployerStats,
                         CanaryStage, CanaryState, DeploymentState, ErrorRateEvaluator,
                         LatencyEvaluator, MetricEvaluator, QueueDepthScaling,
                         RollingDeployer, RollingDeployerStats, ScalingEvent, ScalingPolicy,
                         StepScaling, TargetUtilization)
from .model.arrival_providers import (ArrivalTimeProvider, ConstantArrivalTimeProvider,
                                      PoissonArrivalTimeProvider)
from .model.data import BucketedData, Data
from .model.event_providers import EventProvider, SimpleEventProvider
from .model.distributions import (ConstantLatency, ExponentialLatency, LogNormalLatency,
                                  UniformLatency)
from .model.load_balancer import LoadBalancer, LoadBalancerStats
from .model.profiles import (ConstantRateProfile, LinearRampProfile, PiecewiseRateProfile,
                             Profile, SpikeProfile)
from .model.server import Server, ServerStats
from .model.sinks import Counter, LatencyTracker, Sink, ThroughputTracker
from .model.source import Source
from .model.strategies import (LeastConnections, PowerOfTwoChoices, Random, RoundRobin,
                               WeightedRoundRobin)

__version__ = "0.1.0"


def _load_batch_engine():
    # Imported on first use: an object-engine-only program never loads pyarrow or the
    # kernels.
    from .batch.lower import lower
    from .batch.run import run_batch

    return run_batch, lower


_simulation_module.set_batch_engine(_load_batch_engine)

__all__ = [
    "Instant", "Duration", "Event", "Entity", "Clock", "Simulation", "SimulationSummary",
    "Server", "ServerStats", "LoadBalancer", "LoadBalancerStats", "RoundRobin",
    "WeightedRoundRobin", "LeastConnections", "Random", "PowerOfTwoChoices", "Source",
    "ConstantRateProfile", "LinearRampProfile", "SpikeProfile", "PiecewiseRateProfile",
    "ConstantLatency", "ExponentialLatency", "UniformLatency", "LogNormalLatency",
    # happysim's top-level names for ported scenarios (docs/happysim-differences.md)
    "CallbackEntity", "NullEntity", "ThroughputTracker", "Profile", "EventProvider", "SimpleEventProvider", "ArrivalTimeProvider",
    "ConstantArrivalTimeProvider", "PoissonArrivalTimeProvider", "Sink", "Counter",
    "LatencyTracker", "Data", "BucketedData", "EntitySummary", "QueueStats",
    "AutoScaler", "AutoScalerStats", "ScalingEvent", "ScalingPolicy", "TargetUtilization",
    "StepScaling", "QueueDepthScaling", "CanaryDeployer", "CanaryDeployerStats",
    "CanaryStage", "CanaryState", "MetricEvaluator", "ErrorRateEvaluator",
    "LatencyEvaluator", "RollingDeployer", "RollingDeployerStats", "DeploymentState",
]
