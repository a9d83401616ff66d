"""The Kubernetes HorizontalPodAutoscaler's decision logic (docs/kubernetes.md).

``hpa_recommendation`` is a dry run of one decision: what the controller sets given a
proposal, the earlier proposals and the earlier scaling actions. The behavior dataclasses
carry Kubernetes' defaults. The logic itself lives in ``fastdeploy.rules.hpa``.
"""

from .behavior import HPABehavior, HPAScalingPolicy, HPAScalingRules, hpa_recommendation

__all__ = ["HPABehavior", "HPAScalingRules", "HPAScalingPolicy", "hpa_recommendation"]
