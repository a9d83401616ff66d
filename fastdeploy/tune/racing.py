"""Racing: how many replicas a candidate gets.

Every candidate starts with ``replicas`` replicas (indices ``0 .. replicas-1``, the same
for every candidate: common random numbers). After each stage it gets as many again
(the counts double: r, 2r, 4r, ... up to ``max_replicas``) only while more replicas can
change a decision:

- it stops as soon as one constraint is decided infeasible;
- it stops as soon as it is provably worse than the incumbent (the best candidate of
  earlier batches whose constraints are all decided feasible): the one-sided bound of
  the paired difference of its objective from the incumbent's, over the replicas both
  ran, excludes an improvement;
- otherwise it continues while a constraint is undecided, or (one objective) while the
  comparison with the incumbent is undecided and the incumbent has more replicas to pair
  with;
- and never beyond ``max_replicas`` or the budget.

This is successive halving's doubling schedule with a statistical rule instead of a
fixed kill fraction: a candidate is dropped when the data rule it out, not because it
ranked in a bottom half. With several objectives there is no single incumbent: a
candidate continues only while a constraint is undecided.
"""

from __future__ import annotations

import numpy as np

from ..intervals import mean_interval
from .goals import FEASIBLE, INFEASIBLE, UNDECIDED, one_sided


def stage_size(replicas: int, done: int, max_replicas: int) -> int:
    """Replicas the next stage adds to a candidate that has run ``done``: ``replicas``
    first, then as many as it has (doubling), never beyond ``max_replicas``."""
    target = replicas if done == 0 else 2 * done
    return max(0, min(target, max_replicas) - done)


def paired_difference(a: np.ndarray, b: np.ndarray, sign: float, confidence: float):
    """(mean, low, high) of ``sign * (a - b)`` over the replicas both ran (arrays indexed
    by replica from 0; pairs with a null left out), one-sided bounds at ``confidence``."""
    m = min(a.size, b.size)
    d = sign * (a[:m] - b[:m])
    d = d[~np.isnan(d)]
    return mean_interval(d, one_sided(confidence))


def decide(status: str, done: int, max_replicas: int, diff, incumbent_replicas: int | None):
    """(continue?, reason) after a stage.

    Args:
        status: The constraints' verdict (``feasible``, ``infeasible``, ``undecided``).
        done: Replicas the candidate has run.
        max_replicas: The cap.
        diff: (mean, low, high) of the paired objective difference from the incumbent
            (negative: better), or None without an incumbent.
        incumbent_replicas: The incumbent's replica count (None without one).
    """
    if status == INFEASIBLE:
        return False, "infeasible"
    if diff is not None and diff[1] > 0:
        return False, "worse than the incumbent"
    if done >= max_replicas:
        return False, "max_replicas"
    if status == UNDECIDED:
        return True, ""
    if diff is not None and diff[2] >= 0 and incumbent_replicas is not None \
            and done < incumbent_replicas:
        return True, ""
    if diff is not None and diff[2] < 0:
        return False, "better than the incumbent"
    assert status == FEASIBLE
    return False, "decided"
