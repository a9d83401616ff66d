"""The base class of everything that handles events."""

from __future__ import annotations

from .clock import Clock
from .temporal import Instant


class Entity:
    """A simulation actor. Subclasses implement ``handle_event``.

    Args:
        name: Identifier, unique within a simulation.
    """

    def __init__(self, name: str):
        if not isinstance(name, str) or not name:
            raise ValueError(f"name must be a non-empty string, got {name!r}")
        self.name = name
        self._clock: Clock | None = None

    def set_clock(self, clock: Clock) -> None:
        """Attach the simulation clock (done by Simulation, or by the creating component)."""
        self._clock = clock

    @property
    def now(self) -> Instant:
        if self._clock is None:
            raise RuntimeError(f"Entity {self.name!r} is not attached to a simulation")
        return self._clock.now

    def handle_event(self, event):  # pragma: no cover - abstract
        """Handle one event; return None, an Event, or a list of Events."""
        raise NotImplementedError(f"{type(self).__name__} must implement handle_event")

    def __repr__(self):
        return f"{type(self).__name__}({self.name!r})"


class CallbackEntity(Entity):
    """An entity whose ``handle_event`` is ``fn(event)`` (happysim's; ``Event.once``
    makes one).

    Args:
        name: Identifier.
        fn: Called with each event; returns None, an Event or a list of them.
    """

    def __init__(self, name: str, fn):
        super().__init__(name)
        if not callable(fn):
            raise TypeError(f"CallbackEntity {name!r}: fn must be callable, got {fn!r}")
        self._fn = fn

    def handle_event(self, event):
        return self._fn(event)


class NullEntity(Entity):
    """An entity that discards every event (happysim's; one shared instance)."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
            Entity.__init__(cls._instance, "NullEntity")
        return cls._instance

    def __init__(self) -> None:
        pass

    def handle_event(self, event):
        return None
