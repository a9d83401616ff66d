"""Porting scenario: a canary started by a hand-scheduled event, traffic from an
EventProvider subclass and a ConstantArrivalTimeProvider, a LatencyTracker listed but
unconnected (the form of happysim's examples/deployment). Written with happysim's
imports; the porting suite runs it as is under happysim and with the imports changed
under fastdeploy. Prints its results as JSON."""

import json
import logging

from happysimulator import (ConstantArrivalTimeProvider, ConstantLatency, ConstantRateProfile,
                            Event, EventProvider, Instant, LatencyTracker, Simulation, Source)
from happysimulator.components.deployment import CanaryDeployer, CanaryStage
from happysimulator.components.load_balancer import LoadBalancer, WeightedRoundRobin
from happysimulator.components.server import Server

logging.disable(logging.CRITICAL)


class Requests(EventProvider):
    def __init__(self, lb, until):
        self.lb = lb
        self.until = Instant.from_seconds(until)
        self.made = 0

    def get_events(self, time):
        if time > self.until:
            return []
        self.made += 1
        return [Event(time=time, event_type="Request", target=self.lb,
                      context={"created_at": time})]


class Healthy:
    def is_healthy(self, canary, baseline_backends):
        return True


def run():
    base = [Server(f"base{i}", concurrency=2, service_time=ConstantLatency(0.05))
            for i in range(3)]
    lb = LoadBalancer(name="lb", backends=base, strategy=WeightedRoundRobin())
    deployer = CanaryDeployer(
        name="cd", load_balancer=lb,
        server_factory=lambda n: Server(n, concurrency=2, service_time=ConstantLatency(0.04)),
        stages=[CanaryStage(traffic_percentage=0.2, evaluation_period=4.0),
                CanaryStage(traffic_percentage=1.0, evaluation_period=4.0)],
        metric_evaluator=Healthy(), evaluation_interval=1.5)
    provider = Requests(lb, until=25.0)
    source = Source(name="traffic", event_provider=provider,
                    arrival_time_provider=ConstantArrivalTimeProvider(
                        ConstantRateProfile(rate=30.0), start_time=Instant.Epoch))
    tracker = LatencyTracker(name="tracker")
    sim = Simulation(start_time=Instant.Epoch, end_time=Instant.from_seconds(30.0),
                     sources=[source], entities=[lb, deployer, tracker, *base])
    sim.schedule(Event(time=Instant.from_seconds(3.0), event_type="_canary_deploy_start",
                       target=deployer, context={}))
    summary = sim.run()
    return {
        "status": deployer.state.status,
        "current_stage": deployer.state.current_stage,
        "total_stages": deployer.state.total_stages,
        "stats": {k: getattr(deployer.stats, k) for k in (
            "deployments_started", "deployments_completed", "deployments_rolled_back",
            "stages_completed", "evaluations_performed", "evaluations_passed",
            "evaluations_failed")},
        "backends": [b.name for b in lb.all_backends],
        "requests_made": provider.made,
        "tracker_count": tracker.count,
        "baseline_completed": [s.stats.requests_completed for s in base],
        "summary_duration_s": summary.duration_s,
        "summary_text": str(summary),
    }


if __name__ == "__main__":
    print(json.dumps(run()))
