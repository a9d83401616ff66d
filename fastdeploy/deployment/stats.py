"""Statistics (frozen) and state (mutable) records of the deployment components."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.temporal import Instant


@dataclass(frozen=True)
class AutoScalerStats:
    """Statistics tracked by AutoScaler."""

    evaluations: int = 0
    scale_out_count: int = 0
    scale_in_count: int = 0
    instances_added: int = 0
    instances_removed: int = 0
    cooldown_blocks: int = 0


@dataclass(frozen=True)
class ScalingEvent:
    """Record of a scaling action."""

    time: Instant
    action: str
    from_count: int
    to_count: int
    reason: str


@dataclass(frozen=True)
class CanaryDeployerStats:
    """Statistics tracked by CanaryDeployer."""

    deployments_started: int = 0
    deployments_completed: int = 0
    deployments_rolled_back: int = 0
    stages_completed: int = 0
    evaluations_performed: int = 0
    evaluations_passed: int = 0
    evaluations_failed: int = 0


@dataclass
class CanaryState:
    """Current state of a canary deployment."""

    status: str = "idle"
    current_stage: int = 0
    total_stages: int = 0
    canary_traffic_pct: float = 0.0


@dataclass(frozen=True)
class RollingDeployerStats:
    """Statistics tracked by RollingDeployer."""

    deployments_started: int = 0
    deployments_completed: int = 0
    deployments_rolled_back: int = 0
    instances_replaced: int = 0
    health_checks_performed: int = 0
    health_checks_passed: int = 0
    health_checks_failed: int = 0


@dataclass
class DeploymentState:
    """Current state of a rolling deployment."""

    status: str = "idle"
    total_instances: int = 0
    replaced: int = 0
    failed: int = 0
    current_batch: int = 0
