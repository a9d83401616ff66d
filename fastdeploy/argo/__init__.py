"""Argo Rollouts (argoproj/argo-rollouts): the canary strategy with its steps and
AnalysisRuns. ``fastdeploy docs canary-analysis`` ("Argo Rollouts") has what is modelled;
the decisions live in ``fastdeploy.rules.argo``, shared with the batch engine."""

from .analysis import MEASURES, AnalysisMetric, AnalysisTemplate, Condition
from .canary import (Analysis, ArgoBlueGreen, ArgoCanary, ArgoCanaryStats, ArgoState,
                     BackgroundAnalysis, Pause, SetWeight)

__all__ = ["MEASURES", "Analysis", "AnalysisMetric", "AnalysisTemplate", "ArgoBlueGreen",
           "ArgoCanary",
           "ArgoCanaryStats", "ArgoState", "BackgroundAnalysis", "Condition", "Pause",
           "SetWeight"]
