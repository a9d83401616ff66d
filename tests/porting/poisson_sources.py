"""Porting scenario: Poisson traffic in happysim's three forms (Source.poisson,
Source.with_profile, and Source(name, event_provider, PoissonArrivalTimeProvider(...)))
into one server each. Random draws differ by design (happysim seeds numpy's global
generator; fastdeploy's Simulation seed), so the suite compares counts statistically.
Written with happysim's imports; prints its results as JSON."""

import json
import logging
import random

import numpy as np

from happysimulator import (ConstantLatency, Event, Instant, LinearRampProfile,
                            PoissonArrivalTimeProvider, Simulation, Source, SpikeProfile)
from happysimulator.components.server import Server
from happysimulator.load import EventProvider

logging.disable(logging.CRITICAL)


class ToServer(EventProvider):
    def __init__(self, target):
        self._target = target

    def get_events(self, time):
        return [Event(time=time, event_type="Request", target=self._target,
                      context={"created_at": time})]


def run():
    random.seed(7)
    np.random.seed(7)
    servers = [Server(f"s{i}", concurrency=100, service_time=ConstantLatency(0.001))
               for i in range(3)]
    sources = [
        Source.poisson(rate=50.0, target=servers[0], name="flat"),
        Source.with_profile(LinearRampProfile(duration_s=200.0, start_rate=10.0,
                                              end_rate=90.0), target=servers[1], name="ramp"),
        Source(name="spike", event_provider=ToServer(servers[2]),
               arrival_time_provider=PoissonArrivalTimeProvider(
                   SpikeProfile(baseline_rate=20.0, spike_rate=120.0, warmup_s=50.0,
                                spike_duration_s=50.0), start_time=Instant.Epoch)),
    ]
    sim = Simulation(start_time=Instant.Epoch, end_time=Instant.from_seconds(200.0),
                     sources=sources, entities=servers)
    sim.run()
    return {"completed": [s.stats.requests_completed for s in servers],
            "expected": [50.0 * 200, (10 + 90) / 2 * 200, 20 * 150 + 120 * 50]}


if __name__ == "__main__":
    print(json.dumps(run()))
