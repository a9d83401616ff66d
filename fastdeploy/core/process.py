"""Handlers written as generators (happysim's idiom for multi-step entities).

A ``handle_event`` may be a generator: ``yield 0.05`` waits 50 ms of simulation time
and then continues; ``yield (delay, events)`` also schedules ``events`` now; what the
generator returns at the end is scheduled like an ordinary handler's result. The
event's completion hooks run when the generator ends, at that time.
"""

from __future__ import annotations

import numbers
from types import GeneratorType

from .event import Event, as_event_list
from .temporal import Duration, Instant, as_duration_ns


class Resume(Event):
    """The internal event that continues a paused generator handler."""

    __slots__ = ("origin", "process")

    def __init__(self, time: Instant, origin: Event, process: GeneratorType):
        super().__init__(time, origin.event_type, origin.target, context=origin.context,
                         daemon=origin.daemon)
        self.origin = origin
        self.process = process
        # The origin's hooks run when the generator ends, not when this step ends.
        self._held = True

    def step(self) -> list[Event]:
        """Run the generator to its next yield (or its end)."""
        try:
            value = self.process.send(None)
        except StopIteration as stop:
            out = as_event_list(stop.value)
            out.extend(self.origin._finish(self.time))
            return out
        delay_ns, effects = _parse_yield(value, self.target)
        return effects + [Resume(Instant(self.time.nanoseconds + delay_ns), self.origin,
                                 self.process)]


def _parse_yield(value, target) -> tuple[int, list[Event]]:
    """(delay in ns, events to schedule now) from what a generator handler yielded."""
    events: list[Event] = []
    delay = value
    if isinstance(value, tuple):
        if len(value) != 2:
            raise TypeError(_bad_yield(value, target))
        delay, effects = value
        events = as_event_list(effects)
    if isinstance(delay, Duration):
        return as_duration_ns(delay, _where(target)), events
    if isinstance(delay, bool) or not isinstance(delay, numbers.Real):
        raise TypeError(_bad_yield(value, target))
    return as_duration_ns(float(delay), _where(target)), events


def _where(target) -> str:
    return f"the delay yielded by {getattr(target, 'name', target)!r}.handle_event"


def _bad_yield(value, target) -> str:
    return (f"{getattr(target, 'name', target)!r}.handle_event yielded {value!r}: a generator "
            "handler yields a delay (seconds or a Duration) or (delay, events)")


def start_process(event: Event, process: GeneratorType) -> list[Event]:
    """Run ``event``'s generator handler up to its first yield; the event is held until
    the generator ends."""
    event._held = True
    return Resume(event.time, event, process).step()
