"""What a Source creates at each arrival: happysim's EventProvider protocol.

A Source asks its event provider for the events of each arrival. Every event a
provider returns is a request the source created (SPEC section 4): it takes the next
request index, so its work and fate, and counts in ``requests_created``. Its
``context["created_at"]`` (an Instant; the arrival time when absent) is its creation
time for end-to-end latency.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Callable

from ..core import validate
from ..core.event import Event
from ..core.temporal import Instant


class EventProvider(ABC):
    """Creates the events of one arrival. Subclass it and define ``get_events``."""

    @abstractmethod
    def get_events(self, time: Instant) -> list[Event]:
        """The events (requests) of the arrival at ``time``; [] for none."""


class SimpleEventProvider(EventProvider):
    """One request per arrival to ``target``: the built-in provider (it lowers to the
    batch engine when it has no ``context_fn``).

    Args:
        target: Entity receiving the requests.
        event_type: event_type of the requests.
        stop_after: No requests after this time (an Instant or seconds); a Source with
            this provider then stops.
        context_fn: ``fn(time, count) -> dict``, the context of request number ``count``
            (from 1); default ``{"created_at": time, "request_id": count}``.
    """

    def __init__(self, target, event_type: str = "Request", stop_after=None,
                 context_fn: Callable[[Instant, int], dict] | None = None):
        if target is None or not hasattr(target, "handle_event"):
            raise TypeError(f"target must be an entity, got {target!r}")
        if not isinstance(event_type, str):
            raise TypeError(f"event_type must be a string, got {event_type!r}")
        if context_fn is not None and not callable(context_fn):
            raise TypeError(f"context_fn must be callable, got {context_fn!r}")
        self.target = target
        self.event_type = event_type
        self.stop_after = stop_after
        self.context_fn = context_fn
        self._generated = 0

    @property
    def stop_after(self) -> Instant | None:
        return self._stop_after

    @stop_after.setter
    def stop_after(self, value) -> None:
        if value is None or isinstance(value, Instant):
            self._stop_after = value
        else:
            self._stop_after = Instant.from_seconds(validate.seconds("stop_after", value))

    @property
    def _target(self):
        # happysim's providers keep their target here; code written for happysim reads it.
        return self.target

    def get_events(self, time: Instant) -> list[Event]:
        request = self._request(time)
        return [] if request is None else [request]

    def _request(self, time: Instant) -> Event | None:
        # The one request of the arrival at ``time`` (None after stop_after).
        if self._stop_after is not None and time > self._stop_after:
            return None
        self._generated += 1
        if self.context_fn is None:
            context = {"created_at": time, "request_id": self._generated}
        else:
            context = self.context_fn(time, self._generated)
            if not isinstance(context, dict):
                raise TypeError(f"context_fn must return a dict, got {context!r}")
        return Event(time, self.event_type, self.target, context=context)

    def __repr__(self):
        return f"SimpleEventProvider({getattr(self.target, 'name', self.target)!r})"
