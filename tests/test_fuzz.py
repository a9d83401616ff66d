"""Fuzzing the boundary: no constructor argument or scenario-file value crashes, hangs or
gets through unchecked. Each input either builds or raises ValueError/TypeError (for
files, ScenarioError) with a message."""

import math
import os
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fastdeploy as fd
from fastdeploy import deployment as dp
from fastdeploy.presets import preset_path
from fastdeploy.scenario import ScenarioError, loads

NO_JIT = os.environ.get("NUMBA_DISABLE_JIT") == "1"
FUZZ = settings(max_examples=30 if NO_JIT else 150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

junk = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20),
                 st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=3),
                 st.lists(st.integers(-3, 3), max_size=2), st.just(np.float64("nan")),
                 st.just(np.int64(3)))


def lb():
    return fd.LoadBalancer("lb", backends=[fd.Server("s0")])


def factory(name):
    return fd.Server(name)


BUILDERS = {
    "Server": lambda a, b, c, d: fd.Server("s", a, fd.ExponentialLatency(0.1), b, c),
    "ConstantLatency": lambda a, b, c, d: fd.ConstantLatency(a),
    "ExponentialLatency": lambda a, b, c, d: fd.ExponentialLatency(a),
    "UniformLatency": lambda a, b, c, d: fd.UniformLatency(a, b),
    "LogNormalLatency": lambda a, b, c, d: fd.LogNormalLatency(a, b),
    "ConstantRateProfile": lambda a, b, c, d: fd.ConstantRateProfile(a),
    "LinearRampProfile": lambda a, b, c, d: fd.LinearRampProfile(a, b, c),
    "SpikeProfile": lambda a, b, c, d: fd.SpikeProfile(a, b, c, d),
    "PiecewiseRateProfile": lambda a, b, c, d: fd.PiecewiseRateProfile([(a, b), (c, d)]),
    "Source": lambda a, b, c, d: fd.Source("src", a, lb(), poisson=bool(b), stop_after=c),
    "AutoScaler": lambda a, b, c, d: dp.AutoScaler("sc", lb(), factory, None, a, b, c, d, 1.0),
    "TargetUtilization": lambda a, b, c, d: dp.TargetUtilization(a, tolerance=b),
    "StepScaling": lambda a, b, c, d: dp.StepScaling([(a, b), (c, d)]),
    "QueueDepthScaling": lambda a, b, c, d: dp.QueueDepthScaling(a, b),
    "CanaryStage": lambda a, b, c, d: dp.CanaryStage(a, b),
    "CanaryDeployer": lambda a, b, c, d: dp.CanaryDeployer("ca", lb(), factory,
                                                           [dp.CanaryStage(0.5)], None, a),
    "ErrorRateEvaluator": lambda a, b, c, d: dp.ErrorRateEvaluator(a, b),
    "LatencyEvaluator": lambda a, b, c, d: dp.LatencyEvaluator(a, b),
    "RollingDeployer": lambda a, b, c, d: dp.RollingDeployer("ro", lb(), factory, a, b, c, d),
    "Simulation": lambda a, b, c, d: fd.Simulation(a, b, None, seed=c),
}


@pytest.mark.parametrize("name", sorted(BUILDERS))
@FUZZ
@given(a=junk, b=junk, c=junk, d=junk)
def test_constructors_accept_or_refuse_clearly(name, a, b, c, d):
    try:
        obj = BUILDERS[name](a, b, c, d)
    except (ValueError, TypeError) as e:
        assert str(e), "an error must say what is wrong"
        return
    # Whatever was accepted holds finite numbers only.
    for v in vars(obj).values() if hasattr(obj, "__dict__") else ():
        if isinstance(v, float):
            assert math.isfinite(v), (name, v)


JUNK_LITERALS = ["-1", "0", "1.5", "-0.5", "nan", "inf", "-inf", "1e300", '"x"', "[]", "{}",
                 "true", "999999999999", "[1, 2]", '{ kind = "nope" }']
PRESET_TEXTS = {n: preset_path(n).read_text() for n in ("autoscale-spike", "rolling")}
ASSIGNMENT = re.compile(r"^(\s*[\w\".]+\s*=\s*)(.+)$")


@FUZZ
@given(preset=st.sampled_from(sorted(PRESET_TEXTS)), data=st.data())
def test_scenario_files_refuse_bad_values_with_the_key(preset, data):
    lines = PRESET_TEXTS[preset].splitlines()
    candidates = [i for i, line in enumerate(lines) if ASSIGNMENT.match(line)
                  and not line.lstrip().startswith("#")]
    i = data.draw(st.sampled_from(candidates))
    value = data.draw(st.sampled_from(JUNK_LITERALS))
    lines[i] = ASSIGNMENT.sub(lambda m: m.group(1) + value, lines[i])
    try:
        scenario = loads("\n".join(lines), name="fuzzed.toml")
        sim = scenario.build()
        params = sim.batch_parameters()
    except ScenarioError as e:
        assert "fuzzed.toml" in str(e)
        return
    assert all(math.isfinite(v) for v in params.values())
    if not NO_JIT:
        try:
            row = sim.run_batch(1, threads=1).table.to_pylist()[0]
        except (ValueError, MemoryError) as e:  # refused before running: too much work
            assert "replica" in str(e)
            return
        for key, v in row.items():
            assert not (isinstance(v, float) and math.isnan(v)), key
