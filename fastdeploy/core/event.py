"""Events: something a target entity handles at a time."""

from __future__ import annotations

from types import GeneratorType
from typing import Any, Callable

from .temporal import Instant, as_instant

CompletionHook = Callable[[Instant], Any]


class Event:
    """A unit of work for ``target`` at ``time``.

    Args:
        time: When it happens (an Instant or seconds).
        event_type: A label; handlers dispatch on it.
        target: The entity whose ``handle_event`` runs.
        context: Free-form data carried with the event.
        daemon: A daemon event does not keep an unbounded simulation running.
        on_complete: Completion hooks to start with (see ``add_completion_hook``).
    """

    __slots__ = ("time", "event_type", "target", "context", "daemon", "seq", "_hooks", "_held")

    def __init__(self, time, event_type: str, target, context: dict | None = None,
                 daemon: bool = False, *, on_complete: list[CompletionHook] | None = None):
        if target is None:
            raise ValueError(f"Event {event_type!r}: target must be an entity, got None")
        self.time = as_instant(time, "Event time")
        self.event_type = event_type
        self.target = target
        self.context = context if context is not None else {}
        self.daemon = bool(daemon)
        self.seq = -1
        self._hooks: list[CompletionHook] = [] if on_complete is None else list(on_complete)
        # Set by a target that finishes the event later (a Server queues a request).
        self._held = False

    @staticmethod
    def once(time, event_type: str, fn: Callable[[Event], Any], *, daemon: bool = False,
             context: dict | None = None) -> Event:
        """An event that calls ``fn(event)`` at ``time`` (its target a CallbackEntity
        named ``once:<event_type>``); what ``fn`` returns is scheduled."""
        from .entity import CallbackEntity

        return Event(time, event_type, CallbackEntity(f"once:{event_type}", fn),
                     context=context, daemon=daemon)

    def add_completion_hook(self, fn: CompletionHook) -> None:
        """Run ``fn(finish_time)`` when the target has finished with this event.

        For a request at a Server that is its service completion. ``fn`` may return
        events (one, a list, or None); they are scheduled.
        """
        self._hooks.append(fn)

    @property
    def has_completion_hooks(self) -> bool:
        """Whether add_completion_hook was called on this event."""
        return bool(self._hooks)

    def _finish(self, finish_time: Instant) -> list[Event]:
        out: list[Event] = []
        hooks, self._hooks = self._hooks, []
        for fn in hooks:
            out.extend(as_event_list(fn(finish_time)))
        return out

    def __repr__(self):
        name = getattr(self.target, "name", type(self.target).__name__)
        return f"Event({self.time!r}, {self.event_type!r}, {name}, seq={self.seq})"


def as_event_list(result) -> list[Event]:
    """Normalise a handler's return value (None, an Event, or an iterable of them)."""
    if result is None:
        return []
    if isinstance(result, Event):
        return [result]
    events = list(result)
    for e in events:
        if not isinstance(e, Event):
            raise TypeError(f"a handler returned {e!r}, which is not an Event")
    return events


def deliver(event: Event, target) -> list[Event]:
    """Let ``target`` handle ``event`` now (the event loop and a request's inline path
    through source, load balancer and server all come here); returns the events to
    schedule. A generator handler runs as a process up to its first yield, and its
    event is then held: its completion hooks wait for the generator's end."""
    event.target = target
    result = target.handle_event(event)
    if type(result) is GeneratorType:
        return start_process(event, result)
    return as_event_list(result)


# Last: process.py builds on the names above (a generator handler runs as a process).
from .process import start_process  # noqa: E402
