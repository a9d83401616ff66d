"""Small helpers the deployment components share."""

from __future__ import annotations

import numpy as np

from ..core import validate
from ..core.event import Event
from ..core.temporal import Instant, as_instant
from ..rules import deployer as deployer_rules
from ..rules import histogram, measure


def event_at(component, at, event_type: str, context: dict, daemon: bool = False) -> Event:
    """An event for ``component`` at ``at`` (Instant or seconds), or now when None."""
    when = component.now if at is None else as_instant(at, "at")
    return Event(when, event_type, component, context=context, daemon=daemon)


def has_backend(lb, backend) -> bool:
    return any(b is backend for b in lb.all_backends)


def make_instance(component, factory, name: str, k: int):
    """Build the k-th server a component creates with the user's factory (k counts from
    1) and attach it to the simulation clock. Its start-up delay is draw k of the
    component's start-up stream."""
    server = factory(name)
    if server is None or not hasattr(server, "handle_event"):
        raise TypeError(f"{component.name}: server_factory({name!r}) returned {server!r}, "
                        "not an entity")
    if hasattr(server, "set_clock"):
        server.set_clock(component._clock)
    if hasattr(server, "_startup_draw"):
        server._startup_draw = (component.name, int(k))
    return server


def grow_canary_group(deployer, size: int) -> None:
    """New-version instances join a canary deployer's group (``deployer._group``) and
    its load balancer until the group has ``size``: the k-th is ``<name>_canary`` (k = 1)
    or ``<name>_canary_k``, numbered by the deployer record's head
    (rules/deployer.py next_instance), and measured as the new version."""
    while len(deployer._group) < size:
        made = deployer_rules.next_instance(deployer._record)
        name = f"{deployer.name}_canary" if made == 1 else f"{deployer.name}_canary_{made}"
        server = make_instance(deployer, deployer.server_factory, name, made)
        deployer._measures.tag(server, measure.NEW)
        deployer.load_balancer.add_backend(server)
        deployer._group.append(server)


def weight_of(lb, backend) -> int:
    getter = getattr(lb, "weight_of", None)
    return getter(backend) if getter is not None else 1


def interval(name: str, value) -> float:
    return validate.seconds(name, value, allow_zero=False)


def instance_bounds(low_name: str, low, high_name: str, high, *, low_minimum: int,
                    maximum: int) -> tuple[int, int]:
    """A controller's (fewest, most) instances, checked: integers, the most at least 1
    and at most ``maximum`` (a bound that keeps a typo, or a fuzzer, from building a
    billion servers), the fewest at least ``low_minimum`` and not above the most."""
    lo = validate.integer(low_name, low, minimum=low_minimum)
    hi = validate.integer(high_name, high, minimum=1, maximum=maximum)
    if lo > hi:
        raise ValueError(f"{low_name} must be <= {high_name}, got {low_name}={low!r} > "
                         f"{high_name}={high!r}")
    return lo, hi


def end_time_seconds(ns: int):
    return None if ns < 0 else Instant(ns).to_seconds()


def check_fleet(load_balancer, server_factory):
    """The (load_balancer, server_factory) a deployment component acts on, checked."""
    for attr in ("all_backends", "add_backend", "remove_backend"):
        if not hasattr(load_balancer, attr):
            raise TypeError(f"load_balancer must have {attr}, got {load_balancer!r}")
    if not callable(server_factory):
        raise TypeError(f"server_factory must be callable, got {server_factory!r}")
    return load_balancer, server_factory


def deployer_metrics(counts: dict, state, record, measures: GroupMeasures) -> dict:
    """A deployer's stats fields, final status and end time (seconds, None if running),
    then its outcome columns (fastdeploy docs canary-analysis): outcome, time from the
    last deployment's start to its decision, largest weight of the new version (%),
    requests the new version answered, and its exposure."""
    d = deployer_rules
    out = dict(counts)
    out["status"] = state.status
    end_ns = int(record[d.END_NS])
    out["end_time"] = end_time_seconds(end_ns)
    out["outcome"] = d.OUTCOME_NAMES[int(record[d.STATUS])]
    out["time_to_decision"] = (None if end_ns < 0
                               else (end_ns - int(record[d.START_NS])) / 1e9)
    out["max_weight"] = int(record[d.MAX_WEIGHT_PPM]) / 1e4
    out.update(measures.outcome_fields())
    return out


class GroupMeasures:
    """A deployer's two measured groups (rules/measure.py): its new version
    (``measure.NEW``) and its baseline (``measure.BASE``), each a record and the
    histogram of its current window. A built-in Server tagged with ``tag`` reports each
    request it answers here (``completed``, ``rejected``); another backend is not
    measured."""

    def __init__(self):
        self.records = np.zeros((measure.GROUPS, measure.FIELDS), np.int64)
        self.hists = np.zeros((measure.GROUPS, histogram.N_BUCKETS), np.int64)
        self.reset()

    def reset(self) -> None:
        for g in range(measure.GROUPS):
            measure.reset(self.records[g], self.hists[g])

    def tag(self, server, group) -> None:
        if hasattr(server, "_measure"):
            server._measure = (self, int(group))

    def begin(self, now_ns: int, percentiles) -> None:
        """A deployment starts; ``percentiles`` (rules/measure.py HIST_NONE, HIST_NEW,
        HIST_BOTH; True is HIST_NEW, False HIST_NONE) says whose windows keep a latency
        histogram."""
        which = (measure.HIST_NEW if percentiles is True
                 else measure.HIST_NONE if percentiles is False else percentiles)
        for g in range(measure.GROUPS):
            measure.begin(self.records[g], self.hists[g], now_ns,
                          measure.histogram_kept(which, g))

    def decided(self) -> None:
        for g in range(measure.GROUPS):
            measure.decided(self.records[g])

    def completed(self, group: int, latency_ns: int, failed) -> None:
        measure.completed(self.records[group], self.hists[group], latency_ns, int(failed))

    def rejected(self, group: int) -> None:
        measure.rejected(self.records[group])

    def close_windows(self, min_samples: int, now_ns: int) -> np.ndarray:
        """Both groups' windows end now: their measurements, (GROUPS, M_FIELDS)."""
        out = np.zeros((measure.GROUPS, measure.M_FIELDS), np.float64)
        for g in range(measure.GROUPS):
            measure.close_window(self.records[g], self.hists[g], min_samples, now_ns, out[g])
        return out

    def outcome_fields(self) -> dict:
        new = self.records[measure.NEW]
        return {"requests_new": int(measure.answered(new)),
                "exposure": int(measure.exposure(new))}


def measurement_dict(row) -> dict:
    """A measurement row (rules/measure.py) as {name: value}; "no data" values None."""
    out = {}
    for name, v in zip(measure.M_NAMES, row):
        v = float(v)
        out[name] = None if v != v else v
    out["count"] = int(row[measure.M_COUNT])
    out["has_data"] = bool(row[measure.M_HAS_DATA])
    return out
