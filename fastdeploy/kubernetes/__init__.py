"""The Kubernetes HorizontalPodAutoscaler (docs/kubernetes.md).

``HorizontalPodAutoscaler`` is the controller, in both engines; ``hpa_recommendation`` is
a dry run of one decision (what the controller sets given a proposal, the earlier
proposals and the earlier scaling actions). The behavior dataclasses carry Kubernetes'
defaults. The decisions themselves live in ``fastdeploy.rules.hpa``.
"""

from .behavior import HPABehavior, HPAScalingPolicy, HPAScalingRules, hpa_recommendation
from .hpa import ExternalMetric, HorizontalPodAutoscaler, PodsMetric, ResourceMetric

__all__ = ["HorizontalPodAutoscaler", "ResourceMetric", "PodsMetric", "ExternalMetric",
           "HPABehavior", "HPAScalingRules", "HPAScalingPolicy", "hpa_recommendation"]
