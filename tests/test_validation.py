"""Bad arguments raise ValueError (TypeError for a wrong type) naming the argument."""

from __future__ import annotations

import math

import pytest

from fastdeploy import (ConstantLatency, ConstantRateProfile, Duration, Event,
                        ExponentialLatency, Instant, LinearRampProfile, LoadBalancer,
                        LogNormalLatency, PiecewiseRateProfile, Server, Simulation, Source,
                        SpikeProfile, UniformLatency)
from fastdeploy.deployment import (AutoScaler, CanaryDeployer, CanaryStage,
                                   ErrorRateEvaluator, LatencyEvaluator, QueueDepthScaling,
                                   RollingDeployer, StepScaling, TargetUtilization)

NAN = math.nan
INF = math.inf


def lb():
    return LoadBalancer("lb", backends=[Server("s0")])


def make(name):
    return Server(name)


# -- AutoScaler ------------------------------------------------------------------------
@pytest.mark.parametrize("kw, arg", [
    ({"evaluation_interval": -1}, "evaluation_interval"),
    ({"evaluation_interval": 0}, "evaluation_interval"),
    ({"evaluation_interval": NAN}, "evaluation_interval"),
    ({"evaluation_interval": INF}, "evaluation_interval"),
    ({"scale_out_cooldown": -1}, "scale_out_cooldown"),
    ({"scale_out_cooldown": NAN}, "scale_out_cooldown"),
    ({"scale_in_cooldown": -0.5}, "scale_in_cooldown"),
    ({"scale_in_cooldown": INF}, "scale_in_cooldown"),
    ({"min_instances": 5, "max_instances": 2}, "min_instances"),
    ({"min_instances": -1}, "min_instances"),
    ({"max_instances": 0}, "max_instances"),
])
def test_autoscaler_value_errors(kw, arg):
    with pytest.raises(ValueError, match=arg):
        AutoScaler("as", lb(), make, **kw)


@pytest.mark.parametrize("kw, arg", [
    ({"evaluation_interval": "10"}, "evaluation_interval"),
    ({"min_instances": 1.5}, "min_instances"),
    ({"max_instances": None}, "max_instances"),
    ({"policy": object()}, "policy"),
    ({"server_factory": 42}, "server_factory"),
    ({"load_balancer": object()}, "load_balancer"),
])
def test_autoscaler_type_errors(kw, arg):
    args = {"name": "as", "load_balancer": lb(), "server_factory": make}
    args.update(kw)
    with pytest.raises(TypeError, match=arg):
        AutoScaler(**args)


# -- policies --------------------------------------------------------------------------
@pytest.mark.parametrize("value", [0, -0.5, 1.5, NAN, INF])
def test_target_utilization_target(value):
    with pytest.raises(ValueError, match="target"):
        TargetUtilization(value)


def test_target_utilization_bounds_ok():
    assert TargetUtilization(1.0).target == 1.0
    assert TargetUtilization(1e-6).target == 1e-6


@pytest.mark.parametrize("value", [-0.1, NAN, INF])
def test_target_utilization_tolerance(value):
    with pytest.raises(ValueError, match="tolerance"):
        TargetUtilization(0.7, tolerance=value)


@pytest.mark.parametrize("out, inn", [(10, 10), (5, 10)])
def test_queue_depth_in_must_be_below_out(out, inn):
    with pytest.raises(ValueError, match="scale_in_threshold"):
        QueueDepthScaling(scale_out_threshold=out, scale_in_threshold=inn)


@pytest.mark.parametrize("kw, arg", [
    ({"scale_out_threshold": -1}, "scale_out_threshold"),
    ({"scale_in_threshold": -1}, "scale_in_threshold"),
])
def test_queue_depth_negative(kw, arg):
    with pytest.raises(ValueError, match=arg):
        QueueDepthScaling(**kw)


def test_queue_depth_type():
    with pytest.raises(TypeError, match="scale_out_threshold"):
        QueueDepthScaling(scale_out_threshold=10.5)


def test_step_scaling_empty():
    with pytest.raises(ValueError, match="steps"):
        StepScaling([])


@pytest.mark.parametrize("steps", [[(NAN, 1)], [(INF, 1)], [(-0.1, 1)]])
def test_step_scaling_bad_threshold(steps):
    with pytest.raises(ValueError, match="steps"):
        StepScaling(steps)


def test_step_scaling_bad_adjustment():
    with pytest.raises(TypeError, match="steps"):
        StepScaling([(0.5, 1.5)])


# -- canary ----------------------------------------------------------------------------
@pytest.mark.parametrize("value", [0, 0.0, -0.1, 1.5, NAN, INF])
def test_canary_stage_fraction(value):
    with pytest.raises(ValueError, match="traffic_percentage"):
        CanaryStage(value)


@pytest.mark.parametrize("value", [-1, NAN, INF])
def test_canary_stage_period(value):
    with pytest.raises(ValueError, match="evaluation_period"):
        CanaryStage(0.5, value)


def test_canary_stage_fraction_type():
    with pytest.raises(TypeError, match="traffic_percentage"):
        CanaryStage("5%")


def test_canary_empty_stages():
    with pytest.raises(ValueError, match="stages"):
        CanaryDeployer("d", lb(), make, stages=[])


def test_canary_stage_type():
    with pytest.raises(TypeError, match="stages"):
        CanaryDeployer("d", lb(), make, stages=[0.5])


@pytest.mark.parametrize("value", [0, -1, NAN, INF])
def test_canary_evaluation_interval(value):
    with pytest.raises(ValueError, match="evaluation_interval"):
        CanaryDeployer("d", lb(), make, evaluation_interval=value)


def test_canary_evaluator_type():
    with pytest.raises(TypeError, match="metric_evaluator"):
        CanaryDeployer("d", lb(), make, metric_evaluator=object())


@pytest.mark.parametrize("value", [1.5, -0.1, NAN])
def test_error_rate_evaluator_max(value):
    with pytest.raises(ValueError, match="max_error_rate"):
        ErrorRateEvaluator(max_error_rate=value)


@pytest.mark.parametrize("cls", [ErrorRateEvaluator, LatencyEvaluator])
@pytest.mark.parametrize("value", [0, -1, NAN, INF])
def test_evaluator_multiplier(cls, value):
    with pytest.raises(ValueError, match="threshold_multiplier"):
        cls(threshold_multiplier=value)


@pytest.mark.parametrize("value", [0, -1, NAN, INF])
def test_latency_evaluator_max(value):
    with pytest.raises(ValueError, match="max_latency"):
        LatencyEvaluator(max_latency=value)


# -- rolling ---------------------------------------------------------------------------
@pytest.mark.parametrize("kw, arg", [
    ({"batch_size": 0}, "batch_size"),
    ({"batch_size": -2}, "batch_size"),
    ({"health_check_interval": 0}, "health_check_interval"),
    ({"health_check_interval": -1}, "health_check_interval"),
    ({"health_check_interval": NAN}, "health_check_interval"),
    ({"health_check_interval": INF}, "health_check_interval"),
    ({"healthy_threshold": 0}, "healthy_threshold"),
    ({"max_failures": -1}, "max_failures"),
])
def test_rolling_value_errors(kw, arg):
    with pytest.raises(ValueError, match=arg):
        RollingDeployer("d", lb(), make, **kw)


@pytest.mark.parametrize("kw, arg", [
    ({"batch_size": 1.5}, "batch_size"),
    ({"healthy_threshold": "2"}, "healthy_threshold"),
    ({"max_failures": None}, "max_failures"),
])
def test_rolling_type_errors(kw, arg):
    with pytest.raises(TypeError, match=arg):
        RollingDeployer("d", lb(), make, **kw)


# -- sources and profiles ----------------------------------------------------------------
@pytest.mark.parametrize("factory", [
    lambda r: Source("src", r, Server("s")),
    lambda r: Source.constant(r, Server("s")),
    lambda r: Source.poisson(r, Server("s")),
    lambda r: ConstantRateProfile(r),
])
@pytest.mark.parametrize("rate", [-1, NAN, INF])
def test_negative_or_non_finite_rates(factory, rate):
    with pytest.raises(ValueError, match="rate"):
        factory(rate)


def test_source_rate_type():
    with pytest.raises(TypeError, match="rate"):
        Source("src", "fast", Server("s"))


def test_source_stop_after():
    with pytest.raises(ValueError, match="stop_after"):
        Source.constant(1, Server("s"), stop_after=-1)


@pytest.mark.parametrize("kw, arg", [
    ({"duration_s": 0, "start_rate": 1, "end_rate": 2}, "duration_s"),
    ({"duration_s": -5, "start_rate": 1, "end_rate": 2}, "duration_s"),
    ({"duration_s": 10, "start_rate": -1, "end_rate": 2}, "start_rate"),
    ({"duration_s": 10, "start_rate": 1, "end_rate": -2}, "end_rate"),
    ({"duration_s": 10, "start_rate": 1, "end_rate": NAN}, "end_rate"),
])
def test_linear_ramp(kw, arg):
    with pytest.raises(ValueError, match=arg):
        LinearRampProfile(**kw)


@pytest.mark.parametrize("arg", ["baseline_rate", "spike_rate", "warmup_s", "spike_duration_s"])
@pytest.mark.parametrize("value", [-1, NAN])
def test_spike_profile(arg, value):
    with pytest.raises(ValueError, match=arg):
        SpikeProfile(**{arg: value})


@pytest.mark.parametrize("points, msg", [
    ([(0, -1)], "rate"),
    ([(0, NAN)], "rate"),
    ([(-1, 1)], "time"),
    ([(0, 1), (0, 2)], "increasing"),
    ([], "points"),
    ([(0, 1, 2)], "points"),
])
def test_piecewise_profile(points, msg):
    with pytest.raises(ValueError, match=msg):
        PiecewiseRateProfile(points)


# -- servers and distributions -------------------------------------------------------------
@pytest.mark.parametrize("kw, arg", [
    ({"failure_rate": 1.5}, "failure_rate"),
    ({"failure_rate": -0.1}, "failure_rate"),
    ({"failure_rate": NAN}, "failure_rate"),
    ({"concurrency": 0}, "concurrency"),
    ({"queue_capacity": -1}, "queue_capacity"),
])
def test_server_value_errors(kw, arg):
    with pytest.raises(ValueError, match=arg):
        Server("s", **kw)


@pytest.mark.parametrize("kw, arg", [
    ({"concurrency": 2.5}, "concurrency"),
    ({"service_time": 0.1}, "service_time"),
    ({"failure_rate": "0.1"}, "failure_rate"),
])
def test_server_type_errors(kw, arg):
    with pytest.raises(TypeError, match=arg):
        Server("s", **kw)


@pytest.mark.parametrize("build, arg", [
    (lambda: ConstantLatency(-1), "latency"),
    (lambda: ConstantLatency(NAN), "latency"),
    (lambda: ExponentialLatency(0), "mean_latency"),
    (lambda: ExponentialLatency(-1), "mean_latency"),
    (lambda: ExponentialLatency(INF), "mean_latency"),
    (lambda: UniformLatency(2, 1), "high"),
    (lambda: UniformLatency(-1, 1), "low"),
    (lambda: LogNormalLatency(-1), "mean"),
    (lambda: LogNormalLatency(1, sigma=-1), "sigma"),
])
def test_distribution_value_errors(build, arg):
    with pytest.raises(ValueError, match=arg):
        build()


def test_load_balancer_errors():
    with pytest.raises(ValueError, match="on_no_backend"):
        LoadBalancer("lb", on_no_backend="queue")
    with pytest.raises(TypeError, match="strategy"):
        LoadBalancer("lb", strategy="round_robin")
    with pytest.raises(ValueError, match="weight"):
        LoadBalancer("lb").add_backend(Server("s"), weight=0)
    with pytest.raises(ValueError, match="already"):
        LoadBalancer("lb", backends=[Server("s"), Server("s")])


# -- simulation and time ---------------------------------------------------------------------
@pytest.mark.parametrize("kw, arg", [
    ({"end_time": NAN}, "end_time"),
    ({"end_time": -1}, "end_time"),
    ({"duration": -1}, "duration"),
    ({"duration": NAN}, "duration"),
    ({"start_time": NAN}, "start_time"),
    ({"seed": -1}, "seed"),
    ({"end_time": 5, "duration": 5}, "duration"),
])
def test_simulation_value_errors(kw, arg):
    with pytest.raises(ValueError, match=arg):
        Simulation(**kw)


def test_simulation_type_errors():
    with pytest.raises(TypeError, match="seed"):
        Simulation(seed=1.5)
    with pytest.raises(TypeError, match="end_time"):
        Simulation(end_time="10")
    with pytest.raises(ValueError, match="replica"):
        Simulation(end_time=1).run(replica=-1)


def test_duplicate_entity_names():
    with pytest.raises(ValueError, match="s0"):
        Simulation(entities=[LoadBalancer("lb", backends=[Server("s0")]), Server("s0")])


@pytest.mark.parametrize("value", [NAN, -INF])
def test_instant_from_seconds_non_finite(value):
    with pytest.raises(ValueError, match="seconds"):
        Instant.from_seconds(value)


@pytest.mark.parametrize("value", [NAN, INF])
def test_duration_from_seconds_non_finite(value):
    with pytest.raises(ValueError, match="seconds"):
        Duration.from_seconds(value)


def test_event_time_and_target():
    with pytest.raises(ValueError, match="target"):
        Event(1.0, "x", None)
    with pytest.raises(ValueError, match="Event time"):
        Event(NAN, "x", Server("s"))


def test_deploy_and_start_at():
    d = RollingDeployer("d", lb(), make)
    with pytest.raises(ValueError, match=r"\bat\b"):
        d.deploy(at=NAN)
    scaler = AutoScaler("as", lb(), make)
    with pytest.raises(ValueError, match=r"\bat\b"):
        scaler.start(at=INF)
