"""Deployment components: auto-scaling, canary releases and rolling deploys."""

from .autoscaler import AutoScaler
from .canary import CanaryDeployer, CanaryStage
from .evaluators import ErrorRateEvaluator, LatencyEvaluator, MetricEvaluator
from .numba_policy import NumbaPolicy
from .policies import QueueDepthScaling, ScalingPolicy, StepScaling, TargetUtilization
from .rolling import RollingDeployer
from .stats import (AutoScalerStats, CanaryDeployerStats, CanaryState, DeploymentState,
                    RollingDeployerStats, ScalingEvent)

__all__ = [
    "AutoScaler", "AutoScalerStats", "ScalingEvent", "ScalingPolicy", "TargetUtilization",
    "StepScaling", "QueueDepthScaling", "NumbaPolicy", "CanaryDeployer", "CanaryDeployerStats", "CanaryStage",
    "CanaryState", "MetricEvaluator", "ErrorRateEvaluator", "LatencyEvaluator",
    "RollingDeployer", "RollingDeployerStats", "DeploymentState",
]
