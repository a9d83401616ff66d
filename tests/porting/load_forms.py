"""Porting scenario: the load-generation forms of happysim's guides (Source.constant with
event_type and an Instant stop_after, the full constructor with a SimpleEventProvider,
Source.with_profile of a user Profile with poisson=False), Event.once, completion hooks
given as on_complete, and sim.schedule called during the run. Written with happysim's
imports; prints its results as JSON."""

import json
import logging

from happysimulator import (ConstantArrivalTimeProvider, ConstantLatency, ConstantRateProfile,
                            Entity, Event, Instant, Profile, Server, SimpleEventProvider,
                            Simulation, Source)

logging.disable(logging.CRITICAL)


class Ramp(Profile):
    def get_rate(self, time):
        t = time.to_seconds()
        return 1.0 + 0.4 * min(t, 20.0)


class Job(Entity):
    def __init__(self, name):
        super().__init__(name)
        self.runs = []

    def handle_event(self, event):
        self.runs.append(("start", round(self.now.to_seconds(), 9)))
        yield 0.75
        self.runs.append(("end", round(self.now.to_seconds(), 9)))


def server(name):
    return Server(name, concurrency=50, service_time=ConstantLatency(0.05))


def run():
    a, b, c = server("a"), server("b"), server("c")
    until = Instant.from_seconds(20.0)
    sources = [
        Source.constant(rate=10, target=a, event_type="Request", stop_after=until),
        Source(name="full",
               event_provider=SimpleEventProvider(target=b, event_type="Request",
                                                  stop_after=until),
               arrival_time_provider=ConstantArrivalTimeProvider(ConstantRateProfile(rate=4.0),
                                                                 start_time=Instant.Epoch)),
        Source.with_profile(profile=Ramp(), target=c, poisson=False, name="ramp",
                            stop_after=20.0),
    ]
    job = Job("job")
    sim = Simulation(start_time=Instant.Epoch, end_time=Instant.from_seconds(30.0),
                     sources=sources, entities=[a, b, c, job])
    seen = {}
    hooks = []

    def look(event):
        seen["at_12"] = [s.stats.requests_completed for s in (a, b, c)]
        sim.schedule(Event(time=Instant.from_seconds(15.5), event_type="later", target=job))
        return Event(time=Instant.from_seconds(13.0), event_type="soon", target=job)

    sim.schedule(Event.once(time=Instant.from_seconds(12.02), event_type="look", fn=look))
    sim.schedule(Event(time=Instant.from_seconds(2.0), event_type="hooked", target=job,
                       on_complete=[lambda t: hooks.append(round(t.to_seconds(), 9))]))
    sim.run()
    return {"completed": [s.stats.requests_completed for s in (a, b, c)],
            "seen": seen, "job": job.runs, "hooks": hooks}


if __name__ == "__main__":
    print(json.dumps(run()))
