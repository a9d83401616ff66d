"""Porting scenario: an AutoScaler under traffic from a user Profile that defines only
get_rate(time: Instant) (a frozen dataclass, as in happysim's
examples/performance/auto_scaler.py), deterministic arrivals from a
ConstantArrivalTimeProvider, an EventProvider subclass that stops after a time. Written
with happysim's imports; prints its results as JSON."""

import json
import logging
from dataclasses import dataclass

from happysimulator import (ConstantArrivalTimeProvider, ConstantLatency, Event, EventProvider,
                            Instant, LatencyTracker, Profile, Simulation, Source)
from happysimulator.components.deployment import AutoScaler, StepScaling
from happysimulator.components.load_balancer import LoadBalancer, RoundRobin
from happysimulator.components.server import Server

logging.disable(logging.CRITICAL)


@dataclass(frozen=True)
class Burst(Profile):
    low: float = 9.73
    high: float = 37.3
    start: float = 20.0
    end: float = 40.0

    def get_rate(self, time: Instant) -> float:
        t = time.to_seconds()
        return self.high if self.start <= t < self.end else self.low


class Requests(EventProvider):
    def __init__(self, target, until):
        self._target = target
        self._until = Instant.from_seconds(until)

    def get_events(self, time):
        if time > self._until:
            return []
        return [Event(time=time, event_type="Request", target=self._target,
                      context={"created_at": time})]


def make(name):
    return Server(name=name, concurrency=2, service_time=ConstantLatency(0.05))


def run():
    servers = [make(f"server_{i}") for i in range(2)]
    lb = LoadBalancer(name="lb", backends=servers, strategy=RoundRobin())
    scaler = AutoScaler(name="scaler", load_balancer=lb, server_factory=make,
                        policy=StepScaling([(0.45, 1), (0.0, 0)]),
                        min_instances=1, max_instances=8, evaluation_interval=5.0,
                        scale_out_cooldown=5.0, scale_in_cooldown=10.0)
    arrivals = ConstantArrivalTimeProvider(Burst(), start_time=Instant.Epoch)
    source = Source(name="traffic", event_provider=Requests(lb, until=60.0),
                    arrival_time_provider=arrivals)
    sim = Simulation(start_time=Instant.Epoch, duration=70.0, sources=[source],
                     entities=[lb, scaler, LatencyTracker(name="sink"), *servers])
    sim.schedule(scaler.start())
    sim.run()
    st = scaler.stats
    return {
        "history": [[round(e.time.to_seconds(), 6), e.action, e.from_count, e.to_count]
                    for e in scaler.scaling_history],
        "evaluations": st.evaluations,
        "counts": [st.scale_out_count, st.scale_in_count, st.instances_added,
                   st.instances_removed, st.cooldown_blocks],
        "backends": [b.name for b in lb.all_backends],
        "completed": sum(s.stats.requests_completed for s in servers),
    }


if __name__ == "__main__":
    print(json.dumps(run()))
