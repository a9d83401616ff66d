"""Kayenta's canary judge (``fastdeploy docs canary-analysis``, "Kayenta judge").

``KayentaJudge`` judges a canary's series of interval measurements against the
baseline's, metric by metric (``KayentaMetric``), as Kayenta's NetflixACAJudge does: a
Mann-Whitney U test with its confidence interval of the shift, a classification, a
weighted-sum score and a verdict. It is also a happysim ``MetricEvaluator``. The decisions
live in ``fastdeploy.rules.kayenta``, shared with the batch engine.
"""

from .judge import (EVALUATOR_MEASURES, MEASURES, KayentaJudge, KayentaMetric,
                    KayentaMetricResult, KayentaResult)

__all__ = ["EVALUATOR_MEASURES", "MEASURES", "KayentaJudge", "KayentaMetric",
           "KayentaMetricResult", "KayentaResult"]
