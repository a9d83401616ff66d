"""A scaling policy of your own, run by both engines: predictive capacity planning.

The policy measures the arrival rate between evaluations (from the load balancer's
request counter), extrapolates the last two rates ``horizon`` seconds ahead, and asks for
the instances that serve the predicted rate at ``target`` utilization, each instance
serving ``capacity`` requests per second at full load. It is plain Python that numba
compiles (no Python objects inside), given to the AutoScaler as a NumbaPolicy;
docs/extending.md explains the signature.

    python examples/predictive_policy.py
"""

import math

from fastdeploy import ExponentialLatency, LoadBalancer, Server, Simulation, Source, SpikeProfile
from fastdeploy.deployment import AutoScaler, NumbaPolicy
from fastdeploy.deployment.numba_policy import OBS_CURRENT, OBS_RECEIVED, OBS_TIME

# memory slots: the previous evaluation's time, request count and rate; evaluations seen
LAST_TIME, LAST_RECEIVED, LAST_RATE, SEEN = 0, 1, 2, 3


def predictive(obs, params, memory):
    target, horizon, capacity = params[0], params[1], params[2]
    now, received = obs[OBS_TIME], obs[OBS_RECEIVED]
    desired = obs[OBS_CURRENT]  # until two rates are known
    if memory[SEEN] >= 1.0 and now > memory[LAST_TIME]:
        rate = (received - memory[LAST_RECEIVED]) / (now - memory[LAST_TIME])
        predicted = rate
        if memory[SEEN] >= 2.0:
            slope = (rate - memory[LAST_RATE]) / (now - memory[LAST_TIME])
            predicted = max(0.0, rate + slope * horizon)
        memory[LAST_RATE] = rate
        desired = math.ceil(predicted / (capacity * target))
    memory[LAST_TIME] = now
    memory[LAST_RECEIVED] = received
    memory[SEEN] += 1.0
    return int(desired)


def scenario(target=0.6, horizon=10.0):
    """autoscale-spike with the predictive policy (40 requests/s per instance: 4 slots,
    0.1 s mean service)."""
    def make(name):
        return Server(name, concurrency=4, service_time=ExponentialLatency(0.1))

    lb = LoadBalancer("lb", backends=[make("server_0")])
    src = Source.with_profile(SpikeProfile(20, 100, 200, 200), lb, name="traffic")
    policy = NumbaPolicy(predictive, params={"target": target, "horizon": horizon,
                                             "capacity": 40.0}, memory=4)
    scaler = AutoScaler("scaler", lb, make, policy=policy, max_instances=20,
                        evaluation_interval=5, scale_out_cooldown=15, scale_in_cooldown=60)
    sim = Simulation(end_time=600, sources=[src], entities=[lb, scaler], seed=0)
    sim.schedule(scaler.start())
    return sim


if __name__ == "__main__":
    sim = scenario()
    one = sim.run(replica=3).metrics  # the object engine
    print(f"replica 3: p99 {one['latency_p99']:.3f} s, {one['instance_seconds']:.0f} instance-s")
    for horizon in (0.0, 10.0, 30.0):  # the batch engine, a parameter swept
        t = sim.run_batch(1000, params={"scaler.policy.params.horizon": horizon}).table
        print(f"horizon {horizon:>4}: mean p99 {t.column('latency_p99').to_numpy().mean():.3f} s, "
              f"{t.column('instance_seconds').to_numpy().mean():.0f} instance-s")
