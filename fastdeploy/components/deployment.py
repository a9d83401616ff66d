"""``happysimulator.components.deployment``: re-exports of fastdeploy.deployment."""

from ..deployment import (AutoScaler, AutoScalerStats, CanaryDeployer, CanaryDeployerStats,
                          CanaryStage, CanaryState, DeploymentState, ErrorRateEvaluator,
                          LatencyEvaluator, MetricEvaluator, QueueDepthScaling,
                          RollingDeployer, RollingDeployerStats, ScalingEvent, ScalingPolicy,
                          StepScaling, TargetUtilization)

__all__ = [
    "AutoScaler", "AutoScalerStats", "CanaryDeployer", "CanaryDeployerStats", "CanaryStage",
    "CanaryState", "DeploymentState", "ErrorRateEvaluator", "LatencyEvaluator",
    "MetricEvaluator", "QueueDepthScaling", "RollingDeployer", "RollingDeployerStats",
    "ScalingEvent", "ScalingPolicy", "StepScaling", "TargetUtilization",
]
