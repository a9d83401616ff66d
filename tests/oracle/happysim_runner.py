#!/usr/bin/env python3
"""Reference ("oracle") runs of deterministic deployment scenarios in happysim 0.2.5.

Run with a Python >= 3.13 interpreter that has ``happysim==0.2.5`` installed
(import name ``happysimulator``)::

    python happysim_runner.py SCENARIO_NAME      # one JSON object on stdout
    python happysim_runner.py --list             # scenario names, one a line
    python happysim_runner.py all                # {name: result, ...}

Every scenario is fully deterministic: ConstantLatency service times,
deterministic constant-rate sources (``Source.constant``, not Poisson), no
random numbers anywhere.  Each printed object has:

* ``scenario`` / ``notes`` (human-readable exact parameters) / ``params``
  (the same parameters, machine-readable) so that a fastdeploy test can build
  the same scenario;
* the happysim results (stats, histories, states, timelines).

This file only *uses* happysim; it does not modify or copy it.  It is not
imported by the fastdeploy test-suite (which runs on other Python versions);
the tests run it as a subprocess, or compare against its recorded output.

Timing conventions used in the output: all times are seconds (float,
``Instant.to_seconds()``).  "Transition" times are exact (recorded by a
subclass that wraps ``handle_event``); "sampled" times come from a daemon probe
entity that looks at the state every 0.5 s, starting at t=0 (a sample at the
same instant as a state change may run before or after it, in happysim's tie
order, so prefer the exact transitions).

Things about happysim 0.2.5 that matter when comparing:

* Arrival k+1 of ``Source.constant(rate)`` is ``int((t_k / 1e9 + 1/rate) * 1e9)``
  ns (truncation, not rounding).  For rate 30 that is exactly k * 33333333 ns,
  the same as round-to-nearest; for rates 20 and 25 happysim's arrivals drift up
  to ~400 ns early (e.g. arrival 40 at 1999999999 ns instead of 2 s).  The
  autoscaler scenarios therefore start the scaler at t=0.01 s so that no
  evaluation shares an instant with an arrival or a completion; their scaling
  decisions do not change when the source rate is perturbed by +-1e-5.
* happysim runs the first event after ``end_time`` (``Simulation._execute_until``
  tests the time of the previous event).  When that event is an evaluation it is
  counted in ``stats``; ``stats_at_horizon`` leaves it out and is the figure to
  compare with an engine that stops at the horizon.
* happysim fires a request's completion hooks when the request is enqueued at a
  Server, so a rolling-deploy probe "passes" at the instant it is sent.
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import asdict

from happysimulator import (
    ConstantLatency,
    Entity,
    Event,
    Instant,
    Server,
    Simulation,
    Source,
)
from happysimulator.components.deployment import (
    AutoScaler,
    AutoScalerStats,
    CanaryDeployer,
    CanaryStage,
    QueueDepthScaling,
    RollingDeployer,
    StepScaling,
)
from happysimulator.components.load_balancer import LoadBalancer, RoundRobin, WeightedRoundRobin

logging.disable(logging.CRITICAL)  # happysim logs warnings on removed backends etc.


# --------------------------------------------------------------------------- helpers


def _t(instant: Instant) -> float:
    return instant.to_seconds()


def _server(name: str, concurrency: int, latency: float) -> Server:
    return Server(name=name, concurrency=concurrency, service_time=ConstantLatency(latency))


class Sampler(Entity):
    """Daemon probe: every ``step`` seconds call ``fn()`` and keep the value.

    The first sample is at t=0.  Samples at an instant shared with other events
    run in happysim's tie order (see ``notes`` of the scenarios that use it).
    """

    def __init__(self, name: str, step: float, fn):
        super().__init__(name)
        self._step = step
        self._fn = fn
        self.samples: list[tuple[float, object]] = []

    def first_event(self) -> Event:
        return Event(time=Instant.Epoch, event_type="_sample", target=self, daemon=True)

    def handle_event(self, event: Event):
        self.samples.append((_t(self.now), self._fn()))
        return [
            Event(
                time=self.now + self._step,
                event_type="_sample",
                target=self,
                daemon=True,
            )
        ]

    def first_times(self) -> dict[str, float]:
        """First sample time at which each distinct value was observed."""
        out: dict[str, float] = {}
        for t, v in self.samples:
            out.setdefault(str(v), t)
        return out

    def changes(self) -> list[list]:
        """[time, value] each time the sampled value differs from the previous sample."""
        out: list[list] = []
        prev = object()
        for t, v in self.samples:
            if v != prev:
                out.append([t, v])
                prev = v
        return out


class StartAt(Entity):
    """Calls ``starter()`` (e.g. ``scaler.start``) at a given time.

    happysim's ``start()`` / ``deploy()`` return an event at ``self.now``; to
    begin later one needs an event at that time that returns it.  fastdeploy's
    equivalent is ``start(at=...)`` / ``deploy(at=...)``.
    """

    def __init__(self, name: str, starter):
        super().__init__(name)
        self._starter = starter

    def handle_event(self, event: Event):
        return [self._starter()]


class RecordingPolicy:
    """Wraps a ScalingPolicy; logs every evaluation (time, inputs, decision)."""

    def __init__(self, inner):
        self.inner = inner
        self.scaler: AutoScaler | None = None
        self.log: list[list] = []

    def evaluate(self, backends, current_count, min_instances, max_instances):
        desired = self.inner.evaluate(backends, current_count, min_instances, max_instances)
        utils = [b.utilization for b in backends]
        mean_util = sum(utils) / len(utils) if utils else 0.0
        depth = sum(b.depth for b in backends)
        self.log.append(
            [_t(self.scaler.now), current_count, round(mean_util, 12), depth, desired]
        )
        return desired


class RecordingAutoScaler(AutoScaler):
    """AutoScaler that snapshots its stats after every evaluation (exact times)."""

    snapshots: list[tuple[float, dict]]

    def _evaluate(self):
        out = super()._evaluate()
        if not hasattr(self, "snapshots"):
            self.snapshots = []
        self.snapshots.append((_t(self.now), asdict(self.stats)))
        return out

    def stats_at(self, horizon: float) -> dict:
        """Stats as they were after the last evaluation at or before ``horizon``."""
        at = [st for t, st in self.snapshots if t <= horizon]
        return at[-1] if at else asdict(AutoScalerStats())


def _server_table(servers: list[Server]) -> dict[str, dict]:
    return {
        s.name: {
            "requests_completed": s.stats.requests_completed,
            "queue_depth": s.depth,
            "in_service": s.active_requests,
            "service_starts": len(s._service_times),  # noqa: SLF001 (happysim has no public counter)
        }
        for s in servers
    }


def _run(sim: Simulation) -> dict:
    summary = sim.run()
    return {
        # Time of the last processed event.  happysim processes one event past
        # end_time (its loop tests the time of the previous event), so this is
        # normally slightly larger than the horizon.
        "last_event_time_s": summary.duration_s,
        "events_processed_happysim": summary.total_events_processed,
    }


# --------------------------------------------------------------------------- autoscaler


def _autoscaler_scenario(
    *,
    name: str,
    notes: str,
    rate: float,
    stop_after: float | None,
    initial_servers: int,
    concurrency: int,
    latency: float,
    policy,
    policy_repr: str,
    min_instances: int,
    max_instances: int,
    evaluation_interval: float,
    scale_out_cooldown: float,
    scale_in_cooldown: float,
    horizon: float,
    start_at: float,
) -> dict:
    servers = [_server(f"server_{i + 1}", concurrency, latency) for i in range(initial_servers)]
    lb = LoadBalancer(name="lb", backends=list(servers), strategy=RoundRobin())
    created: list[Server] = list(servers)

    def factory(server_name: str) -> Server:
        s = _server(server_name, concurrency, latency)
        created.append(s)
        return s

    recording = RecordingPolicy(policy)
    scaler = RecordingAutoScaler(
        name="scaler",
        load_balancer=lb,
        server_factory=factory,
        policy=recording,
        min_instances=min_instances,
        max_instances=max_instances,
        evaluation_interval=evaluation_interval,
        scale_out_cooldown=scale_out_cooldown,
        scale_in_cooldown=scale_in_cooldown,
    )
    recording.scaler = scaler
    scaler.snapshots = []
    source = Source.constant(rate=rate, target=lb, name="source", stop_after=stop_after)
    count_sampler = Sampler("count_probe", 0.5, lambda: len(lb.all_backends))
    starter = StartAt("starter", scaler.start)

    sim = Simulation(
        end_time=Instant.from_seconds(horizon),
        sources=[source],
        entities=[lb, scaler, count_sampler, starter, *servers],
    )
    if start_at == 0:
        sim.schedule(scaler.start())  # event at now == t=0
    else:
        sim.schedule(Event(time=Instant.from_seconds(start_at), event_type="_start", target=starter))
    sim.schedule(count_sampler.first_event())
    run_info = _run(sim)

    params = {
        "rate": rate,
        "poisson": False,
        "stop_after": stop_after,
        "initial_servers": initial_servers,
        "server_concurrency": concurrency,
        "service_time_constant": latency,
        "lb_strategy": "RoundRobin",
        "policy": policy_repr,
        "min_instances": min_instances,
        "max_instances": max_instances,
        "evaluation_interval": evaluation_interval,
        "scale_out_cooldown": scale_out_cooldown,
        "scale_in_cooldown": scale_in_cooldown,
        "scaler_start_at": start_at,
        "horizon": horizon,
    }
    return {
        "scenario": name,
        "notes": notes,
        "params": params,
        "scaling_history": [
            [_t(e.time), e.action, e.from_count, e.to_count]
            for e in scaler.scaling_history
            if _t(e.time) <= horizon
        ],
        "scaling_history_after_horizon": [
            [_t(e.time), e.action, e.from_count, e.to_count]
            for e in scaler.scaling_history
            if _t(e.time) > horizon
        ],
        "scaling_reasons": [e.reason for e in scaler.scaling_history],
        # happysim's stats at the end of the run.  They can include an evaluation
        # just after the horizon (happysim runs the first event past end_time).
        "stats": asdict(scaler.stats),
        # the same after the last evaluation at or before the horizon: compare these.
        "stats_at_horizon": scaler.stats_at(horizon),
        "evaluation_after_horizon_ran": any(t > horizon for t, _ in scaler.snapshots),
        # one row per evaluation: [time, current_count, mean_utilization, total_queue_depth, desired]
        "evaluations": recording.log,
        "instance_count_changes_sampled": count_sampler.changes(),
        "final_backends": [b.name for b in lb.all_backends],
        "lb_stats": asdict(lb.stats),
        "servers": _server_table(created),
        **run_info,
    }


def _step_scaling(name: str, start_at: float, extra_notes: str) -> dict:
    return _autoscaler_scenario(
        name=name,
        notes=(
            "LoadBalancer 'lb' (RoundRobin) with 1 initial Server 'server_1' (concurrency=1, "
            "ConstantLatency(0.05)); Source.constant(rate=30, target=lb) (deterministic, first "
            "arrival at 1/30 s); AutoScaler('scaler', policy=StepScaling([(0.8, 2), (0.3, 0), "
            "(0.0, -1)]), min_instances=1, max_instances=6, evaluation_interval=5, "
            "scale_out_cooldown=10, scale_in_cooldown=20); new servers from the factory are "
            "identical to server_1 and named scaler_server_k; end_time=60 s. Utilization is "
            f"instantaneous (in service / concurrency at the evaluation instant). {extra_notes}"
        ),
        rate=30.0,
        stop_after=None,
        initial_servers=1,
        concurrency=1,
        latency=0.05,
        policy=StepScaling([(0.8, 2), (0.3, 0), (0.0, -1)]),
        policy_repr="StepScaling([(0.8, 2), (0.3, 0), (0.0, -1)])",
        min_instances=1,
        max_instances=6,
        evaluation_interval=5.0,
        scale_out_cooldown=10.0,
        scale_in_cooldown=20.0,
        horizon=60.0,
        start_at=start_at,
    )


def scenario_step_scaling() -> dict:
    return _step_scaling(
        "step_scaling",
        0.01,
        "scaler.start() at t=0.01 s (evaluations at 0.01, 5.01, ..., 55.01): off the 1/30 s "
        "arrival grid, so no result depends on how an arrival and an evaluation at the same "
        "instant are ordered.",
    )


def scenario_step_scaling_t0() -> dict:
    return _step_scaling(
        "step_scaling_t0",
        0.0,
        "scaler.start() at t=0 (evaluations at 0, 5, ..., 60). TIE-SENSITIVE: happysim's "
        "arrival k is at k*33333333 ns, so the arrival 'at' 5n s comes 50n ns before the "
        "evaluation at 5n s and is seen by it (e.g. at t=10 all 3 servers are busy -> "
        "desired 5 -> cooldown block). An engine whose arrival lands exactly on 5n s and "
        "runs it after the evaluation sees 2 of 3 busy instead.",
    )


def scenario_queue_depth_scaling() -> dict:
    return _autoscaler_scenario(
        name="queue_depth_scaling",
        notes=(
            "LoadBalancer 'lb' (RoundRobin) with 1 initial Server 'server_1' (concurrency=1, "
            "ConstantLatency(0.2), i.e. capacity 5 req/s); Source.constant(rate=20, target=lb); "
            "AutoScaler('scaler', policy=QueueDepthScaling(scale_out_threshold=5, "
            "scale_in_threshold=1), min_instances=1, max_instances=5, evaluation_interval=2, "
            "scale_out_cooldown=4, scale_in_cooldown=8); scaler.start() at t=0.01 s (evaluations "
            "at 0.01, 2.01, 4.01, ...: kept off the 0.05 s arrival grid so that no arrival ties "
            "with an evaluation); end_time=40 s. Queue depth = waiting requests (not in service), "
            "summed over backends."
        ),
        rate=20.0,
        stop_after=None,
        initial_servers=1,
        concurrency=1,
        latency=0.2,
        policy=QueueDepthScaling(scale_out_threshold=5, scale_in_threshold=1),
        policy_repr="QueueDepthScaling(scale_out_threshold=5, scale_in_threshold=1)",
        min_instances=1,
        max_instances=5,
        evaluation_interval=2.0,
        scale_out_cooldown=4.0,
        scale_in_cooldown=8.0,
        horizon=40.0,
        start_at=0.01,
    )


def scenario_cooldown_timeline() -> dict:
    return _autoscaler_scenario(
        name="cooldown_timeline",
        notes=(
            "LoadBalancer 'lb' (RoundRobin) with 1 initial Server 'server_1' (concurrency=1, "
            "ConstantLatency(0.1)); Source.constant(rate=25, target=lb, stop_after=40) (arrivals "
            "every 0.04 s up to and including t=40, none after); AutoScaler('scaler', "
            "policy=StepScaling([(0.8, 1), (0.3, 0), (0.0, -1)]), min_instances=1, "
            "max_instances=4, evaluation_interval=2, scale_out_cooldown=10, "
            "scale_in_cooldown=20); scaler.start() at t=0.01 s (evaluations at 0.01, 2.01, ...; "
            "off the 0.02 s grid of arrivals and completions); end_time=100 s. Scale-out attempts "
            "are blocked for 10 s and scale-in attempts for 20 s after the last action of either "
            "direction."
        ),
        rate=25.0,
        stop_after=40.0,
        initial_servers=1,
        concurrency=1,
        latency=0.1,
        policy=StepScaling([(0.8, 1), (0.3, 0), (0.0, -1)]),
        policy_repr="StepScaling([(0.8, 1), (0.3, 0), (0.0, -1)])",
        min_instances=1,
        max_instances=4,
        evaluation_interval=2.0,
        scale_out_cooldown=10.0,
        scale_in_cooldown=20.0,
        horizon=100.0,
        start_at=0.01,
    )


# --------------------------------------------------------------------------- canary


class AlwaysHealthy:
    """MetricEvaluator that always passes."""

    def is_healthy(self, canary, baseline_backends) -> bool:
        return True


class RecordingCanary(CanaryDeployer):
    """CanaryDeployer that records every (status, stage, pct) change, exactly."""

    transitions: list[list]

    def handle_event(self, event):
        if not hasattr(self, "transitions"):
            self.transitions = []
        before = (self.state.status, self.state.current_stage, self.state.canary_traffic_pct)
        out = super().handle_event(event)
        after = (self.state.status, self.state.current_stage, self.state.canary_traffic_pct)
        if after != before:
            self.transitions.append([_t(self.now), event.event_type, *after])
        return out


def _canary_scenario(*, name: str, notes: str, strategy_name: str) -> dict:
    rate, latency, horizon = 30.0, 0.05, 60.0
    baseline = [_server(f"server_{i + 1}", 1, latency) for i in range(3)]
    strategy = WeightedRoundRobin() if strategy_name == "WeightedRoundRobin" else RoundRobin()
    lb = LoadBalancer(name="lb", backends=list(baseline), strategy=strategy)
    created: list[Server] = list(baseline)

    def factory(server_name: str) -> Server:
        s = _server(server_name, 1, latency)
        created.append(s)
        return s

    stages = [CanaryStage(0.1, 10.0), CanaryStage(0.5, 10.0), CanaryStage(1.0, 10.0)]
    deployer = RecordingCanary(
        name="deployer",
        load_balancer=lb,
        server_factory=factory,
        stages=stages,
        metric_evaluator=AlwaysHealthy(),
        evaluation_interval=5.0,
    )
    deployer.transitions = []
    source = Source.constant(rate=rate, target=lb, name="source")
    state_sampler = Sampler(
        "state_probe",
        0.5,
        lambda: f"{deployer.state.status}/stage{deployer.state.current_stage}",
    )
    # requests completed per backend, sampled: shows the traffic split per stage
    split_sampler = Sampler(
        "split_probe",
        0.5,
        lambda: {s.name: s.stats.requests_completed for s in created},
    )
    sim = Simulation(
        end_time=Instant.from_seconds(horizon),
        sources=[source],
        entities=[lb, deployer, state_sampler, split_sampler, *baseline],
    )
    sim.schedule(deployer.deploy())  # event at now == t=0
    sim.schedule(state_sampler.first_event())
    sim.schedule(split_sampler.first_event())
    run_info = _run(sim)

    def completed_between(t0: float, t1: float) -> dict[str, int]:
        at = {t: v for t, v in split_sampler.samples}
        a, b = at[t0], at[t1]
        return {k: b.get(k, 0) - a.get(k, 0) for k in b if b.get(k, 0) - a.get(k, 0)}

    return {
        "scenario": name,
        "notes": notes,
        "params": {
            "rate": rate,
            "poisson": False,
            "baseline_servers": 3,
            "server_concurrency": 1,
            "service_time_constant": latency,
            "lb_strategy": strategy_name,
            "stages": [[s.traffic_percentage, s.evaluation_period] for s in stages],
            "evaluator": "always healthy",
            "evaluation_interval": 5.0,
            "deploy_at": 0.0,
            "horizon": horizon,
        },
        "stats": asdict(deployer.stats),
        "final_state": asdict(deployer.state),
        # exact: [time, event_type that caused it, status, current_stage, canary_traffic_pct]
        "transitions": deployer.transitions,
        # sampled every 0.5 s from t=0: [time, "status/stageN"] at each change
        "state_changes_sampled": state_sampler.changes(),
        "final_backends": [b.name for b in lb.all_backends],
        "canary": deployer.canary.name if deployer.canary is not None else None,
        # requests completed per backend within each stage window (happysim's split)
        "completed_per_backend": {
            "0-10": completed_between(0.0, 10.0),
            "10-20": completed_between(10.0, 20.0),
            "20-30": completed_between(20.0, 30.0),
            "30-60": completed_between(30.0, 60.0),
        },
        "lb_stats": asdict(lb.stats),
        "servers": _server_table(created),
        **run_info,
    }


_CANARY_NOTES = (
    "LoadBalancer 'lb' ({strategy}) with 3 baseline Servers server_1..3 (concurrency=1, "
    "ConstantLatency(0.05)); Source.constant(rate=30, target=lb); CanaryDeployer('deployer', "
    "stages=[CanaryStage(0.1, 10), CanaryStage(0.5, 10), CanaryStage(1.0, 10)], "
    "metric_evaluator=<is_healthy always True>, evaluation_interval=5); canary servers from the "
    "factory identical to the baseline; deployer.deploy() scheduled at t=0; end_time=60 s. "
    "happysim: stage k starts, evaluations every 5 s after the stage start, a stage completes at "
    "the first passing evaluation with elapsed >= evaluation_period."
)


def scenario_canary_always_healthy() -> dict:
    return _canary_scenario(
        name="canary_always_healthy",
        notes=_CANARY_NOTES.format(strategy="RoundRobin (default)"),
        strategy_name="RoundRobin",
    )


def scenario_canary_weighted_split() -> dict:
    return _canary_scenario(
        name="canary_weighted_split",
        notes=_CANARY_NOTES.format(strategy="WeightedRoundRobin")
        + " Same as canary_always_healthy but with WeightedRoundRobin, the only strategy on "
        "which happysim applies its (integer) canary weights.",
        strategy_name="WeightedRoundRobin",
    )


# --------------------------------------------------------------------------- rolling


class RecordingRolling(RollingDeployer):
    """RollingDeployer that records every state change, exactly."""

    transitions: list[list]

    def handle_event(self, event):
        if not hasattr(self, "transitions"):
            self.transitions = []
        before = asdict(self.state)
        out = super().handle_event(event)
        after = asdict(self.state)
        if after != before:
            self.transitions.append(
                [
                    _t(self.now),
                    event.event_type,
                    after["status"],
                    after["current_batch"],
                    after["replaced"],
                    after["failed"],
                ]
            )
        return out


def _rolling_scenario(
    *,
    name: str,
    notes: str,
    batch_size: int,
    healthy_threshold: int,
    max_failures: int,
    old_servers: int,
    horizon: float,
) -> dict:
    rate, latency, interval = 30.0, 0.05, 2.0
    old = [_server(f"server_{i + 1}", 1, latency) for i in range(old_servers)]
    lb = LoadBalancer(name="lb", backends=list(old), strategy=RoundRobin())
    created: list[Server] = list(old)

    def factory(server_name: str) -> Server:
        s = _server(server_name, 1, latency)
        created.append(s)
        return s

    deployer = RecordingRolling(
        name="rolling",
        load_balancer=lb,
        server_factory=factory,
        batch_size=batch_size,
        health_check_interval=interval,
        healthy_threshold=healthy_threshold,
        max_failures=max_failures,
    )
    deployer.transitions = []
    source = Source.constant(rate=rate, target=lb, name="source")
    state_sampler = Sampler(
        "state_probe",
        0.5,
        lambda: f"{deployer.state.status}/batch{deployer.state.current_batch}"
        f"/replaced{deployer.state.replaced}",
    )
    backends_sampler = Sampler("backends_probe", 0.5, lambda: [b.name for b in lb.all_backends])
    sim = Simulation(
        end_time=Instant.from_seconds(horizon),
        sources=[source],
        entities=[lb, deployer, state_sampler, backends_sampler, *old],
    )
    sim.schedule(deployer.deploy())  # event at now == t=0
    sim.schedule(state_sampler.first_event())
    sim.schedule(backends_sampler.first_event())
    run_info = _run(sim)

    completion = [t for t, et, status, *_ in deployer.transitions if status == "completed"]
    rollback = [t for t, et, status, *_ in deployer.transitions if status == "rolled_back"]
    return {
        "scenario": name,
        "notes": notes,
        "params": {
            "rate": rate,
            "poisson": False,
            "old_servers": old_servers,
            "server_concurrency": 1,
            "service_time_constant": latency,
            "lb_strategy": "RoundRobin",
            "batch_size": batch_size,
            "health_check_interval": interval,
            "healthy_threshold": healthy_threshold,
            "max_failures": max_failures,
            "deploy_at": 0.0,
            "horizon": horizon,
        },
        "stats": asdict(deployer.stats),
        "final_state": asdict(deployer.state),
        "completion_time_s": completion[0] if completion else None,
        "rollback_time_s": rollback[0] if rollback else None,
        # exact: [time, event_type, status, current_batch, replaced, failed]
        "transitions": deployer.transitions,
        "state_changes_sampled": state_sampler.changes(),
        "backend_changes_sampled": backends_sampler.changes(),
        "final_backends": [b.name for b in lb.all_backends],
        "lb_stats": asdict(lb.stats),
        "servers": _server_table(created),
        **run_info,
    }


def scenario_rolling_threshold1() -> dict:
    return _rolling_scenario(
        name="rolling_threshold1",
        notes=(
            "LoadBalancer 'lb' (RoundRobin) with 3 old Servers server_1..3 (concurrency=1, "
            "ConstantLatency(0.05)); Source.constant(rate=30, target=lb); "
            "RollingDeployer('rolling', batch_size=1, health_check_interval=2, "
            "healthy_threshold=1, max_failures=1); new servers from the factory identical to the "
            "old ones (healthy, never fail), named rolling_v2_k; deployer.deploy() scheduled at "
            "t=0; end_time=60 s. Note: happysim counts a probe as passed when it is enqueued at "
            "the new server (completion hook fires at enqueue), i.e. at the round instant."
        ),
        batch_size=1,
        healthy_threshold=1,
        max_failures=1,
        old_servers=3,
        horizon=60.0,
    )


def scenario_rolling_defaults() -> dict:
    return _rolling_scenario(
        name="rolling_defaults",
        notes=(
            "As rolling_threshold1 but with RollingDeployer defaults: batch_size=1, "
            "health_check_interval=2, healthy_threshold=2, max_failures=1. Shows happysim "
            "defect 3 of SPEC section 9: the first probe's timeout counts a failure although "
            "it passed, failures are never reset, so the second batch rolls back."
        ),
        batch_size=1,
        healthy_threshold=2,
        max_failures=1,
        old_servers=3,
        horizon=60.0,
    )


# --------------------------------------------------------------------------- main

SCENARIOS = {
    "step_scaling": scenario_step_scaling,
    "step_scaling_t0": scenario_step_scaling_t0,
    "queue_depth_scaling": scenario_queue_depth_scaling,
    "cooldown_timeline": scenario_cooldown_timeline,
    "canary_always_healthy": scenario_canary_always_healthy,
    "canary_weighted_split": scenario_canary_weighted_split,
    "rolling_threshold1": scenario_rolling_threshold1,
    "rolling_defaults": scenario_rolling_defaults,
}


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(f"usage: {sys.argv[0]} SCENARIO | all | --list", file=sys.stderr)
        return 2
    arg = argv[0]
    if arg == "--list":
        print("\n".join(SCENARIOS))
        return 0
    if arg == "all":
        print(json.dumps({name: fn() for name, fn in SCENARIOS.items()}, sort_keys=True))
        return 0
    if arg not in SCENARIOS:
        print(f"unknown scenario {arg!r}; known: {', '.join(SCENARIOS)}", file=sys.stderr)
        return 2
    print(json.dumps(SCENARIOS[arg](), sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
