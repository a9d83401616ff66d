"""Porting scenario: custom entities whose handle_event is a generator (happysim's idiom:
``yield delay`` then continue, ``yield (delay, events)``), a Counter and a LatencyTracker
fed by them, a Source.constant targeting a custom entity. Written with happysim's
imports; prints its results as JSON."""

import json
import logging

from happysimulator import (ConstantArrivalTimeProvider, Counter, Entity, Event, Instant,
                            LatencyTracker, Profile, Simulation, Source)
from happysimulator.load import EventProvider

logging.disable(logging.CRITICAL)


class Hop(Entity):
    """A network hop: waits, then passes the request on with its context."""

    def __init__(self, name, delay, downstream):
        super().__init__(name)
        self.delay = delay
        self.downstream = downstream

    def handle_event(self, event):
        yield self.delay
        return [Event(time=self.now, event_type="Request", target=self.downstream,
                      context=event.context)]


class Worker(Entity):
    """Two steps of work, telling a counter after the first."""

    def __init__(self, name, counter, tracker):
        super().__init__(name)
        self.counter = counter
        self.tracker = tracker
        self.done = 0

    def handle_event(self, event):
        yield 0.02, [Event(time=self.now, event_type="half", target=self.counter)]
        yield 0.015
        self.done += 1
        return Event(time=self.now, event_type="Done", target=self.tracker,
                     context=event.context)


class Ticks(EventProvider):
    """Two events per arrival: a request to the hop and a tick to the counter."""

    def __init__(self, hop, counter):
        self._target = hop
        self.counter = counter

    def get_events(self, time):
        return [Event(time=time, event_type="Request", target=self._target,
                      context={"created_at": time}),
                Event(time=time, event_type="tick", target=self.counter)]


class Wave(Profile):
    def get_rate(self, time):
        t = time.to_seconds()
        return 5.0 + 3.0 * t if t < 4.0 else 17.0


def run():
    counter = Counter("counter")
    tracker = LatencyTracker("tracker")
    worker = Worker("worker", counter, tracker)
    hop = Hop("hop", 0.01, worker)
    source = Source(name="traffic", event_provider=Ticks(hop, counter),
                    arrival_time_provider=ConstantArrivalTimeProvider(Wave(), Instant.Epoch))
    plain = Source.constant(rate=4.0, target=hop, name="plain", stop_after=5.0)
    sim = Simulation(start_time=Instant.Epoch, end_time=Instant.from_seconds(10.0),
                     sources=[source, plain], entities=[hop, worker, counter, tracker])
    summary = sim.run()
    lat = [v for _, v in tracker.data.values]
    return {
        "worker_done": worker.done,
        "counter_total": counter.total,
        "counter_by_type": counter.by_type,
        "tracker_count": tracker.count,
        "latency_min": min(lat), "latency_max": max(lat),
        "mean": tracker.mean_latency(), "p50": tracker.p50(), "p99": tracker.p99(),
        "buckets": tracker.summary(2.0).to_dict()["count"],
        "first_done": [round(t, 6) for t, _ in tracker.data.values[:5]],
        "summary_fields": [summary.duration_s > 0, summary.total_events_processed > 0,
                           summary.events_per_second > 0, summary.wall_clock_seconds >= 0],
    }


if __name__ == "__main__":
    print(json.dumps(run()))
