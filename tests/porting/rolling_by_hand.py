"""Porting scenario: a rolling deployment started by a hand-scheduled event, traffic from
Source.constant with a SimpleEventProvider-style target (happysim's examples/deployment
form). Written with happysim's imports; prints its results as JSON."""

import json
import logging

from happysimulator import ConstantLatency, Event, Instant, Simulation, Source
from happysimulator.components.deployment import RollingDeployer
from happysimulator.components.load_balancer import LoadBalancer, RoundRobin
from happysimulator.components.server import Server

logging.disable(logging.CRITICAL)


def make(name):
    return Server(name=name, concurrency=3, service_time=ConstantLatency(0.04))


def run():
    old = [Server(f"v1_{i}", concurrency=3, service_time=ConstantLatency(0.05))
           for i in range(3)]
    lb = LoadBalancer(name="lb", backends=old, strategy=RoundRobin())
    deployer = RollingDeployer(name="roll", load_balancer=lb, server_factory=make,
                               batch_size=1, health_check_interval=2.0, healthy_threshold=1,
                               max_failures=3)
    source = Source.constant(rate=20.0, target=lb, name="traffic", stop_after=35.0)
    sim = Simulation(start_time=Instant.Epoch, duration=40.0, sources=[source],
                     entities=[lb, deployer, *old])
    sim.schedule(Event(time=Instant.from_seconds(5.0), event_type="_rolling_deploy_start",
                       target=deployer, context={}))
    sim.run()
    st = deployer.stats
    return {
        "status": deployer.state.status,
        "state": [deployer.state.total_instances, deployer.state.replaced,
                  deployer.state.failed],
        "stats": [st.deployments_started, st.deployments_completed, st.deployments_rolled_back,
                  st.instances_replaced, st.health_checks_failed],
        "health_checks_performed": st.health_checks_performed,
        "backends": [b.name for b in lb.all_backends],
    }


if __name__ == "__main__":
    print(json.dumps(run()))
