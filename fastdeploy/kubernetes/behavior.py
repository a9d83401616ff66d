"""The HorizontalPodAutoscaler's scaling behavior (autoscaling/v2 ``spec.behavior``) and the
dry run of one decision, ``hpa_recommendation``."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..core import validate
from ..rules import hpa as rules

POLICY_TYPES = {"Pods": rules.PODS, "Percent": rules.PERCENT}
SELECT_POLICIES = {"Max": rules.SELECT_MAX, "Min": rules.SELECT_MIN,
                   "Disabled": rules.SELECT_DISABLED}
# Kubernetes' validation bounds (pkg/apis/autoscaling/validation).
MAX_PERIOD_SECONDS = 1800.0
MAX_STABILIZATION_SECONDS = 3600.0
# Kubernetes' defaults (pkg/apis/autoscaling/v2/defaults.go and the controller's
# --horizontal-pod-autoscaler-downscale-stabilization).
DEFAULT_SCALE_DOWN_STABILIZATION = 300.0


@dataclass(frozen=True)
class HPAScalingPolicy:
    """One rate limit: at most ``value`` pods ("Pods") or percent of the count at the start
    of the period ("Percent") per ``period`` seconds."""

    type: str
    value: int
    period: float

    def __post_init__(self):
        _check_policy(self, "policy")


def _check_policy(p, where):
    if p.type not in POLICY_TYPES:
        raise ValueError(f"{where}.type must be 'Pods' or 'Percent', got {p.type!r}")
    validate.integer(f"{where}.value", p.value, minimum=1, maximum=2**31 - 1)
    validate.number(f"{where}.period", p.period, minimum=0.0, min_open=True,
                    maximum=MAX_PERIOD_SECONDS)


@dataclass(frozen=True)
class HPAScalingRules:
    """The rules of one direction. None takes Kubernetes' default for the direction
    (stabilization_window: 0 s up, 300 s down; policies: up max(100 %, 4 pods) per 15 s,
    down 100 % per 15 s; tolerance: the HPA's). select_policy: "Max" (the policy allowing
    the largest change), "Min" (the smallest) or "Disabled" (no scaling this way)."""

    stabilization_window: float | None = None
    select_policy: str = "Max"
    policies: tuple | None = None
    tolerance: float | None = None

    def __post_init__(self):
        if self.policies is not None:
            object.__setattr__(self, "policies", tuple(self.policies))
        self.check("rules")

    def check(self, where):
        if self.stabilization_window is not None:
            validate.number(f"{where}.stabilization_window", self.stabilization_window,
                            minimum=0.0, maximum=MAX_STABILIZATION_SECONDS)
        if self.select_policy not in SELECT_POLICIES:
            raise ValueError(f"{where}.select_policy must be 'Max', 'Min' or 'Disabled', got "
                             f"{self.select_policy!r}")
        if self.policies is not None:
            if not 1 <= len(self.policies) <= rules.MAX_POLICIES:
                raise ValueError(f"{where}.policies must hold 1 to {rules.MAX_POLICIES} "
                                 f"policies, got {len(self.policies)}")
            for i, p in enumerate(self.policies):
                if not isinstance(p, HPAScalingPolicy):
                    raise TypeError(f"{where}.policies[{i}] must be an HPAScalingPolicy, got "
                                    f"{p!r}")
                _check_policy(p, f"{where}.policies[{i}]")
        if self.tolerance is not None:
            validate.number(f"{where}.tolerance", self.tolerance, minimum=0.0)


def default_scale_up() -> HPAScalingRules:
    return HPAScalingRules(0.0, "Max", (HPAScalingPolicy("Pods", 4, 15.0),
                                        HPAScalingPolicy("Percent", 100, 15.0)))


def default_scale_down() -> HPAScalingRules:
    return HPAScalingRules(DEFAULT_SCALE_DOWN_STABILIZATION, "Max",
                           (HPAScalingPolicy("Percent", 100, 15.0),))


def _filled(given: HPAScalingRules | None, default: HPAScalingRules) -> HPAScalingRules:
    """Kubernetes' defaulting: every field left None takes the direction's default."""
    if given is None:
        return default
    return HPAScalingRules(
        default.stabilization_window if given.stabilization_window is None
        else float(given.stabilization_window),
        given.select_policy,
        default.policies if given.policies is None else given.policies,
        given.tolerance)


@dataclass(frozen=True)
class HPABehavior:
    """``spec.behavior``: the scale-up and scale-down rules (None: Kubernetes' defaults)."""

    scale_up: HPAScalingRules | None = None
    scale_down: HPAScalingRules | None = None

    def __post_init__(self):
        for name in ("scale_up", "scale_down"):
            r = getattr(self, name)
            if r is not None and not isinstance(r, HPAScalingRules):
                raise TypeError(f"behavior.{name} must be HPAScalingRules or None, got {r!r}")

    def filled(self) -> HPABehavior:
        """The behavior with every default filled in."""
        return HPABehavior(_filled(self.scale_up, default_scale_up()),
                           _filled(self.scale_down, default_scale_down()))

    def row(self) -> np.ndarray:
        """The behavior as the rules read it (rules/hpa.py's layout), defaults filled."""
        full = self.filled()
        row = np.zeros(rules.BEHAVIOR_FIELDS, np.float64)
        for d, r in ((rules.UP, full.scale_up), (rules.DOWN, full.scale_down)):
            b = d * rules.DIR_FIELDS
            row[b + rules.B_WINDOW] = r.stabilization_window
            row[b + rules.B_SELECT] = SELECT_POLICIES[r.select_policy]
            row[b + rules.B_TOLERANCE] = -1.0 if r.tolerance is None else r.tolerance
            row[b + rules.B_NPOLICIES] = len(r.policies)
            for k, p in enumerate(r.policies):
                q = b + rules.B_POLICIES + rules.POLICY_FIELDS * k
                row[q] = POLICY_TYPES[p.type]
                row[q + 1] = p.value
                row[q + 2] = p.period
        return row


def _pairs(name, rows, check_second):
    out = []
    try:
        items = list(rows)
    except TypeError:
        raise TypeError(f"{name} must be a sequence of (time_s, value) pairs, got "
                        f"{rows!r}") from None
    for i, item in enumerate(items):
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            raise TypeError(f"{name}[{i}] must be a (time_s, value) pair, got {item!r}")
        t = validate.number(f"{name}[{i}][0]", item[0])
        out.append((t, check_second(f"{name}[{i}][1]", item[1])))
    return out


def _nonzero(name, v):
    v = validate.integer(name, v)
    if v == 0:
        raise ValueError(f"{name} must be a non-zero replica change, got 0")
    return v


def hpa_recommendation(current_replicas, desired_replicas, min_replicas, max_replicas,
                       behavior, now, recommendations=(), scale_events=()) -> int:
    """The replica count the HPA sets, as Kubernetes' normalizeDesiredReplicasWithBehaviors
    decides it: stabilization over ``recommendations`` (earlier (time_s, replicas)
    proposals; ``desired_replicas`` is this one), then the rate limits of the policies
    over ``scale_events`` (earlier (time_s, signed replica change) actions: positive for a
    scale-up), then min/max.

    Times are seconds, on any origin (``now`` on the same). ``behavior``: an HPABehavior
    (None: Kubernetes' defaults); every field left None takes its default.

    >>> hpa_recommendation(10, 50, 1, 1000, None, 0.0)   # default: max(100 %, 4 pods)
    20
    """
    current = validate.integer("current_replicas", current_replicas, minimum=0)
    desired = validate.integer("desired_replicas", desired_replicas, minimum=0)
    lo = validate.integer("min_replicas", min_replicas, minimum=0)
    hi = validate.integer("max_replicas", max_replicas, minimum=1)
    if lo > hi:
        raise ValueError(f"min_replicas must be <= max_replicas, got min_replicas={lo} > "
                         f"max_replicas={hi}")
    if behavior is None:
        behavior = HPABehavior()
    if not isinstance(behavior, HPABehavior):
        raise TypeError(f"behavior must be an HPABehavior or None, got {behavior!r}")
    t_now = validate.number("now", now)
    recs = _pairs("recommendations", recommendations,
                  lambda n, v: validate.integer(n, v, minimum=0))
    events = _pairs("scale_events", scale_events, _nonzero)
    rec_table = np.zeros((max(len(recs), 1), rules.REC_COLUMNS), np.int64)
    for i, (t, r) in enumerate(recs):
        rec_table[i] = (_ns(t), r)
    ev_table = np.zeros((max(len(events), 1), rules.EVENT_COLUMNS), np.int64)
    for i, (t, c) in enumerate(events):
        ev_table[i] = (_ns(t), c, 0)
    return int(rules.normalize(behavior.row(), current, desired, lo, hi, rec_table,
                               len(recs), ev_table, len(events), _ns(t_now)))


def _ns(seconds: float) -> int:
    return int(math.floor(seconds * 1e9 + 0.5))


__all__ = ["HPABehavior", "HPAScalingRules", "HPAScalingPolicy", "hpa_recommendation"]
