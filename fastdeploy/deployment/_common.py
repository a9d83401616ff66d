"""Small helpers the deployment components share."""

from __future__ import annotations

from ..core import validate
from ..core.event import Event
from ..core.temporal import Instant, as_instant


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


def deployer_metrics(counts: dict, state, end_ns: int) -> dict:
    """A deployer's stats fields, final status and end time (seconds, None if running)."""
    out = dict(counts)
    out["status"] = state.status
    out["end_time"] = end_time_seconds(end_ns)
    return out
