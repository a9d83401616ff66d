"""Traffic sources: requests arriving by a rate profile (SPEC section 4)."""

from __future__ import annotations

from ..core import validate
from ..core.entity import Entity
from ..core.event import Event, deliver
from ..core.temporal import Instant
from ..rules import arrivals, rng
from .profiles import ConstantRateProfile, Profile

REQUEST_EVENT = "Request"
_ARRIVAL = "_source_arrival"


class Source(Entity):
    """Creates requests for ``target`` at the times a rate profile gives.

    Args:
        name: Source identifier (it also names the source's random stream).
        rate: Requests per second, or a Profile.
        target: Entity receiving the requests (usually a LoadBalancer).
        poisson: Poisson arrivals (True) or evenly spaced ones (False).
        stop_after: No arrivals after this time (an Instant or seconds).
        event_type: event_type of the request events.
    """

    def __init__(self, name: str, rate, target, poisson: bool = True, stop_after=None,
                 event_type: str = REQUEST_EVENT):
        super().__init__(name)
        if isinstance(rate, Profile):
            self.profile = rate
        else:
            self.profile = ConstantRateProfile(validate.number("rate", rate, minimum=0.0))
        if target is None:
            raise ValueError(f"Source {name!r}: target must be an entity, got None")
        self.target = target
        self.poisson = bool(poisson)
        if stop_after is None:
            self.stop_after = None
        elif isinstance(stop_after, Instant):
            self.stop_after = stop_after
        else:
            self.stop_after = Instant.from_seconds(validate.seconds("stop_after", stop_after))
        self.event_type = event_type
        self.generated = 0
        self._segments = self.profile.segments()
        self._key = None
        self._draws = 0
        self._segment = 0

    @classmethod
    def constant(cls, rate: float, target=None, *, name: str = "Source", stop_after=None):
        """Evenly spaced arrivals at ``rate`` per second."""
        return cls(name, rate, target, poisson=False, stop_after=stop_after)

    @classmethod
    def poisson(cls, rate: float, target=None, *, name: str = "Source", stop_after=None):
        """Poisson arrivals at ``rate`` per second."""
        return cls(name, rate, target, poisson=True, stop_after=stop_after)

    @classmethod
    def with_profile(cls, profile: Profile, target=None, poisson: bool = True, *,
                     name: str = "Source", stop_after=None):
        """Arrivals following ``profile``."""
        return cls(name, profile, target, poisson=poisson, stop_after=stop_after)

    # -- engine side -------------------------------------------------------------
    def _first_event(self, record, start_ns: int):
        self._key = record.key(rng.source_stream(self.name))
        self._draws = 0
        self._segment = 0
        self.generated = 0
        return self._next_event(start_ns)

    def _next_event(self, prev_ns: int):
        if self.poisson:
            area = arrivals.poisson_area(rng.uniform(self._key, self._draws))
            self._draws += 1
        else:
            area = 1.0
        t0, a, slope = self._segments
        ns, self._segment = arrivals.next_arrival_ns(t0, a, slope, len(t0), self._segment,
                                                     prev_ns, area)
        if ns < 0 or (self.stop_after is not None and ns > self.stop_after.nanoseconds):
            return None
        return Event(Instant(ns), _ARRIVAL, self)

    def handle_event(self, event):
        if event.event_type != _ARRIVAL:
            raise ValueError(f"Source {self.name!r} got an unexpected event {event!r}")
        record = self._clock.run
        now_ns = event.time.nanoseconds
        idx, u_work, u_fail = record.new_request()
        self.generated += 1
        request = Event(event.time, self.event_type, self.target, context={
            "id": idx, "created_at": event.time, "created_ns": now_ns,
            "u_work": u_work, "u_fail": u_fail, "source": self.name,
        })
        out = deliver(request, self.target)
        if not request._held:
            out.extend(request._finish(event.time))
        nxt = self._next_event(now_ns)
        if nxt is not None:
            out.append(nxt)
        return out

