"""Traffic sources: requests arriving by a rate profile (SPEC section 4).

A Source pairs an arrival-time provider (when) with an event provider (what), as in
happysim. ``Source(name, rate_or_profile, target, ...)`` and the factories build the
built-in pair: a SimpleEventProvider and a Constant or Poisson arrival-time provider.
"""

from __future__ import annotations

from ..core import validate
from ..core.entity import Entity
from ..core.event import Event, as_event_list, deliver
from ..core.temporal import Instant
from ..rules import rng
from .arrival_providers import (ArrivalTimeProvider, ConstantArrivalTimeProvider,
                                PoissonArrivalTimeProvider)
from .event_providers import EventProvider, SimpleEventProvider
from .profiles import ConstantRateProfile

REQUEST_EVENT = "Request"
_ARRIVAL = "_source_arrival"


class Source(Entity):
    """Creates requests at the times an arrival-time provider gives.

    Two forms:

    - ``Source(name, rate, target, poisson=True, stop_after=None, event_type="Request")``:
      one request per arrival to ``target``; ``rate`` is requests per second or a
      Profile.
    - ``Source(name, event_provider, arrival_time_provider)`` (happysim's): at each
      arrival time the provider's ``get_events(time)`` gives the requests. Every event
      it returns is a request of this source (it takes the next request index, so its
      work and fate, and counts in ``requests_created``); its ``context["created_at"]``
      (an Instant, default the arrival time) is its creation time for latency. Events at
      the arrival time go on at once (no intermediate event), later ones are scheduled.

    Args:
        name: Source identifier (it also names the source's random stream).
        rate: Requests per second, or a Profile (first form); or an EventProvider.
        target: Entity receiving the requests (usually a LoadBalancer) (first form); or
            an ArrivalTimeProvider.
        poisson: Poisson arrivals (True) or evenly spaced ones (False).
        stop_after: No arrivals after this time (an Instant or seconds).
        event_type: event_type of the request events.
        event_provider: happysim's form: what each arrival creates.
        arrival_time_provider: happysim's form: when arrivals happen.
    """

    def __init__(self, name: str, rate=None, target=None, poisson: bool = True,
                 stop_after=None, event_type: str = REQUEST_EVENT, *,
                 event_provider: EventProvider | None = None,
                 arrival_time_provider: ArrivalTimeProvider | None = None):
        super().__init__(name)
        # happysim's positional form: Source(name, event_provider, arrival_time_provider).
        if isinstance(rate, EventProvider) or isinstance(target, ArrivalTimeProvider):
            if event_provider is not None or arrival_time_provider is not None:
                raise TypeError(f"Source {name!r}: give the event provider and the arrival "
                                "time provider once each")
            event_provider, arrival_time_provider, rate, target = rate, target, None, None
        general = event_provider is not None or arrival_time_provider is not None
        if general:
            if rate is not None or target is not None or stop_after is not None:
                raise TypeError(f"Source {name!r}: give either rate/target/stop_after or "
                                "event_provider/arrival_time_provider, not both")
            if not callable(getattr(event_provider, "get_events", None)):
                raise TypeError(f"Source {name!r}: event_provider must have "
                                f"get_events(time), got {event_provider!r}")
            if not isinstance(arrival_time_provider, ArrivalTimeProvider):
                raise TypeError(f"Source {name!r}: arrival_time_provider must be an "
                                f"ArrivalTimeProvider, got {arrival_time_provider!r}")
        else:
            if target is None:
                raise ValueError(f"Source {name!r}: target must be an entity, got None")
            if rate is None or not callable(getattr(rate, "get_rate", None)):
                rate = ConstantRateProfile(validate.number("rate", rate, minimum=0.0))
            cls = PoissonArrivalTimeProvider if poisson else ConstantArrivalTimeProvider
            arrival_time_provider = cls(rate)
            event_provider = SimpleEventProvider(target, event_type, stop_after)
        self.event_provider = event_provider
        self.arrival_time_provider = arrival_time_provider
        self.generated = 0
        self._stop_ns = None

    @classmethod
    def constant(cls, rate: float, target=None, event_type: str = REQUEST_EVENT, *,
                 name: str = "Source", stop_after=None,
                 event_provider: EventProvider | None = None):
        """Evenly spaced arrivals at ``rate`` per second (to ``target``, or what
        ``event_provider`` creates)."""
        return cls._factory(name, rate, target, event_type, stop_after, event_provider, False)

    def _poisson_factory(cls, rate: float, target=None, event_type: str = REQUEST_EVENT, *,
                         name: str = "Source", stop_after=None,
                         event_provider: EventProvider | None = None):
        """Poisson arrivals at ``rate`` per second."""
        return cls._factory(name, rate, target, event_type, stop_after, event_provider, True)

    @classmethod
    def with_profile(cls, profile, target=None, event_type: str = REQUEST_EVENT, *,
                     poisson: bool = True, name: str = "Source", stop_after=None,
                     event_provider: EventProvider | None = None):
        """Arrivals following ``profile`` (Poisson unless ``poisson=False``)."""
        return cls._factory(name, profile, target, event_type, stop_after, event_provider,
                            poisson)

    @classmethod
    def _factory(cls, name, rate, target, event_type, stop_after, event_provider, poisson):
        if event_provider is None:
            if target is None:
                raise ValueError(f"Source {name!r}: give a target or an event_provider")
            return cls(name, rate, target, poisson=poisson, stop_after=stop_after,
                       event_type=event_type)
        # happysim ignores target, event_type and stop_after next to an event_provider;
        # here giving them is an error rather than silently dropped.
        if target is not None or stop_after is not None or event_type != REQUEST_EVENT:
            raise TypeError(f"Source {name!r}: target, event_type and stop_after belong to "
                            "the event_provider; give one or the other")
        if not callable(getattr(rate, "get_rate", None)):
            rate = ConstantRateProfile(validate.number("rate", rate, minimum=0.0))
        arrivals = (PoissonArrivalTimeProvider if poisson else ConstantArrivalTimeProvider)(rate)
        return cls(name, event_provider=event_provider, arrival_time_provider=arrivals)

    # -- the built-in pair's settings (lowering, sweeps, plots read them) -----------------
    @property
    def profile(self):
        return self.arrival_time_provider.profile

    @profile.setter
    def profile(self, value) -> None:
        self.arrival_time_provider.profile = value


    @property
    def target(self):
        """The entity the requests go to: the provider's ``target`` (or happysim's
        ``_target``), else None."""
        p = self.event_provider
        target = getattr(p, "target", None)
        if target is None:
            target = getattr(p, "_target", None)
        return target if hasattr(target, "handle_event") else None

    @property
    def stop_after(self) -> Instant | None:
        return getattr(self.event_provider, "stop_after", None) if self._simple else None

    @stop_after.setter
    def stop_after(self, value) -> None:
        if not self._simple:
            raise AttributeError(f"Source {self.name!r}: stop_after belongs to its "
                                 "event_provider")
        self.event_provider.stop_after = value

    @property
    def event_type(self) -> str:
        return getattr(self.event_provider, "event_type", REQUEST_EVENT)

    @property
    def _simple(self) -> bool:
        return isinstance(self.event_provider, SimpleEventProvider)

    @property
    def generated_count(self) -> int:
        """Arrivals so far (happysim's name)."""
        return self.generated

    # -- engine side -------------------------------------------------------------
    def _first_event(self, record, start_ns: int):
        self.arrival_time_provider._bind(record.key(rng.source_stream(self.name)), start_ns)
        self.generated = 0
        # A source whose provider stops creating requests stops arriving.
        stop = self.stop_after
        self._stop_ns = None if stop is None else stop.nanoseconds
        return self._next_event(start_ns)

    def _next_event(self, prev_ns: int):
        ns = self.arrival_time_provider._next_ns(prev_ns)
        if ns < 0 or (self._stop_ns is not None and ns > self._stop_ns):
            return None
        return Event(Instant(ns), _ARRIVAL, self)

    def handle_event(self, event):
        if event.event_type != _ARRIVAL:
            raise ValueError(f"Source {self.name!r} got an unexpected event {event!r}")
        record = self._clock.run
        now_ns = event.time.nanoseconds
        self.arrival_time_provider.current_time = event.time
        self.generated += 1
        out: list[Event] = []
        provider = self.event_provider
        if type(provider) is SimpleEventProvider:
            # The built-in provider's one request, without the list around it.
            request = provider._request(event.time)
            requests = () if request is None else (request,)
        else:
            requests = as_event_list(provider.get_events(event.time))
        for request in requests:
            self._stamp(record, request, event.time)
            if request.time.nanoseconds != now_ns:
                out.append(request)
                continue
            out += deliver(request, request.target)
            if not request._held:
                out += request._finish(event.time)
        nxt = self._next_event(now_ns)
        if nxt is not None:
            out.append(nxt)
        return out

    def _stamp(self, record, request: Event, now: Instant) -> None:
        """Make ``request`` a request of this source: index, uniforms, creation time."""
        ctx = request.context
        created = ctx.get("created_at")
        if created is None:
            created = ctx["created_at"] = now
        elif not isinstance(created, Instant):
            raise TypeError(f"Source {self.name!r}: its event provider set created_at to "
                            f"{created!r}; it must be an Instant")
        ctx["id"], ctx["u_work"], ctx["u_fail"] = record.new_request()
        ctx["created_ns"] = created.nanoseconds
        ctx["source"] = self.name

    def __repr__(self):
        return f"Source({self.name!r})"


class _PoissonFlag:
    """``Source.poisson(rate, target)`` is happysim's factory; ``source.poisson`` is
    whether the arrivals are Poisson (settable: the provider's class is swapped)."""

    def __get__(self, obj, cls):
        if obj is None:
            return Source._poisson_factory.__get__(cls, cls)
        return isinstance(obj.arrival_time_provider, PoissonArrivalTimeProvider)

    def __set__(self, obj, value) -> None:
        old = obj.arrival_time_provider
        if type(old) not in (ConstantArrivalTimeProvider, PoissonArrivalTimeProvider):
            raise AttributeError(f"Source {obj.name!r}: its arrival_time_provider {old!r} "
                                 "is not a built-in one; replace it instead")
        cls = PoissonArrivalTimeProvider if value else ConstantArrivalTimeProvider
        obj.arrival_time_provider = cls(old.profile, old.current_time)


Source.poisson = _PoissonFlag()
