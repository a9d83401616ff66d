"""The two engines agree where events tie: equal times everywhere.

The batch engine completes a request without a heap event (kernels/servers.py: a server's
slots are caught up when something next looks at it) and keeps arrivals out of the heap
(kernels/sources.py); both still take the seq the object engine's events take, so events
at equal times run in SPEC's (time, seq) order. Deterministic sources at round rates,
constant service times that are multiples of the gaps, controllers evaluating on whole
seconds, probes, queues of capacity 0 or 1 (where the order decides a rejection) and the
strategies that compare loads make such ties the rule here, not the exception.
"""

from __future__ import annotations

import os
from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from test_batch_agreement import HEADER, Scenario, check

NO_JIT = os.environ.get("NUMBA_DISABLE_JIT") == "1"
EXAMPLES = 4 if NO_JIT else 16
TIES = settings(max_examples=EXAMPLES, deadline=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def pick(draw, *values):
    return draw(st.sampled_from(values))


@st.composite
def tie_heavy_scenarios(draw) -> Scenario:
    """One load balancer of constant-time servers fed by deterministic sources, with an
    AutoScaler and optionally a rolling or canary deployer, all on a 0.05 s grid."""
    L = [HEADER]

    def server(name):
        return (f"Server({name!r}, concurrency={pick(draw, 1, 1, 2)}, "
                f"service_time=ConstantLatency({pick(draw, 0.05, 0.1, 0.1, 0.2, 0.3)}), "
                f"queue_capacity={pick(draw, None, 0, 1, 1, 2)}, "
                f"failure_rate={pick(draw, 0.0, 0.0, 0.5)}, "
                f"termination_grace={pick(draw, None, 0.1, 0.2)})")

    strategy = pick(draw, "RoundRobin", "LeastConnections", "PowerOfTwoChoices",
                    "WeightedRoundRobin", "Random")
    n = draw(st.integers(1, 3))
    L.append(f"lb = LoadBalancer('lb', backends=[{', '.join(server(f's{i}') for i in range(n))}], "
             f"strategy={strategy}())")
    sources = []
    for k in range(draw(st.integers(1, 2))):
        rate = pick(draw, 5, 10, 10, 20)
        L.append(f"src{k} = Source('src{k}', {rate}, lb, poisson=False)")
        sources.append(f"src{k}")
    L.append(f"factory = lambda name: {server('name').replace(repr('name'), 'name')}")
    policy = pick(draw, "TargetUtilization(0.5)", "QueueDepthScaling(1, 0)")
    window = pick(draw, 0.0, 0.0, 1.0)
    L.append(f"sc = AutoScaler('sc', lb, factory, policy={policy}, min_instances=1, "
             f"max_instances=5, evaluation_interval=1.0, scale_out_cooldown="
             f"{pick(draw, 0.0, 1.0)}, scale_in_cooldown={pick(draw, 0.0, 2.0)}, "
             f"metric_window={window})")
    entities = ["lb", "sc"]
    starts = ["sim.schedule(sc.start())"]
    deployer = pick(draw, None, "rolling", "canary")
    if deployer == "rolling":
        L.append("ro = RollingDeployer('ro', lb, factory, batch_size=1, "
                 "health_check_interval=1.0, healthy_threshold=1, max_failures=3)")
        entities.append("ro")
        starts.append(f"sim.schedule(ro.deploy(at={pick(draw, 1.0, 2.0)}))")
    elif deployer == "canary":
        L.append("ca = CanaryDeployer('ca', lb, factory, stages=[CanaryStage(0.5, 2), "
                 "CanaryStage(1.0, 2)], metric_evaluator=ErrorRateEvaluator(0.6), "
                 "evaluation_interval=1.0)")
        entities.append("ca")
        starts.append(f"sim.schedule(ca.deploy(at={pick(draw, 1.0, 2.0)}))")
    L.append(f"sim = Simulation(end_time={pick(draw, 6, 10)}, sources=[{', '.join(sources)}], "
             f"entities=[{', '.join(entities)}], seed={draw(st.integers(0, 2**30))})")
    L.extend(starts)
    return Scenario("\n".join(L) + "\n", ("sc",), ())


@TIES
@given(scenario=tie_heavy_scenarios())
def test_tie_heavy_scenarios_agree(scenario, agree):
    note(f"reproducer:\n{scenario.code}")
    check(scenario, agree)


# A server whose completions land exactly on the next arrivals, with no room to queue:
# whether an arrival is rejected depends on the order of the completion and the arrival
# at the same nanosecond.
EDGE = Scenario(HEADER + """\
lb = LoadBalancer('lb', backends=[Server('s0', concurrency=1, service_time=ConstantLatency(0.1),
                                         queue_capacity=0),
                                  Server('s1', concurrency=1, service_time=ConstantLatency(0.2),
                                         queue_capacity=1)],
                  strategy=LeastConnections())
a = Source('a', 10, lb, poisson=False)
b = Source('b', 10, lb, poisson=False)
sc = AutoScaler('sc', lb, lambda n: Server(n, concurrency=1, service_time=ConstantLatency(0.1),
                                           queue_capacity=0),
                policy=QueueDepthScaling(1, 0), min_instances=1, max_instances=4,
                evaluation_interval=0.5, scale_out_cooldown=0.0, scale_in_cooldown=1.0)
sim = Simulation(end_time=8, sources=[a, b], entities=[lb, sc], seed=3)
sim.schedule(sc.start())
""", ("sc",), ())


def test_edge_scenario_agrees_and_is_full_of_ties(agree):
    check(EDGE, agree)
    sim, _ = EDGE.build()
    sim.trace = True
    sim.run(replica=0)
    by_time = Counter(e.time.nanoseconds for e in sim.trace_log)
    tied = [e for e in sim.trace_log if by_time[e.time.nanoseconds] > 1]
    # Most events share their instant with another, completions included.
    assert len(tied) > 0.5 * len(sim.trace_log)
    assert sum(1 for e in tied if "complete" in str(e.event_type).lower()) > 50
    row = sim.run_batch(np.array([0])).table.to_pylist()[0]
    assert row["requests_rejected"] > 0


@pytest.mark.parametrize("strategy", ["LeastConnections", "PowerOfTwoChoices"])
def test_load_comparisons_at_tied_instants_agree(strategy, agree):
    """Loads compared at an arrival that ties with completions at every backend."""
    code = EDGE.code.replace("LeastConnections()", f"{strategy}()")
    check(Scenario(code, ("sc",), ()), agree)
