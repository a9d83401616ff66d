"""``fastdeploy plot``: turn the command line's RESULTS into data, then into a figure.

RESULTS are read (Parquet files, sweep directories) or run (a preset name or scenario
file: a small batch, or a sweep for the sweep kinds). ``fastdeploy.cli.cmd_plot`` calls
``make_figure`` and reports ``PlotInputError`` (a mistake on the command line) with exit
status 2.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from . import inputs
from .inputs import Runs, SweepData

KINDS = ("instances", "latency", "tradeoff", "heatmap", "rollback", "power", "durations",
         "slo_attainment", "tune-history", "tune-pareto")
TUNE_KINDS = ("tune-history", "tune-pareto")         # plot a tune's output directory
RUN_KINDS = ("instances", "latency", "durations")      # plot replicas of one setting
SWEEP_KINDS = ("tradeoff", "heatmap", "rollback", "power",
               "slo_attainment")  # points of a sweep
DEFAULT_REPLICAS = 200
SERIES_SAMPLES = 300   # default time-series step: the horizon / this


class PlotInputError(ValueError):
    """RESULTS or options that cannot make the plot asked for (exit status 2)."""


def parse_param(text: str) -> tuple[str, list[float]]:
    """``PATH=V1,V2,...`` -> (path, [values])."""
    path, sep, values = text.partition("=")
    if not sep or not path.strip() or not values.strip():
        raise PlotInputError(f"--param {text!r}: expected PATH=V1,V2,... "
                             "(e.g. scaler.policy.target=0.5,0.6,0.7)")
    out = []
    for v in values.split(","):
        try:
            out.append(float(v))
        except ValueError:
            raise PlotInputError(f"--param {text!r}: {v.strip()!r} is not a number") from None
    return path.strip(), out


# -- inputs ---------------------------------------------------------------------------------
def _is_scenario(arg: str) -> bool:
    from ..presets import PRESETS

    return arg in PRESETS or arg.endswith(".toml")


def _scenario(arg: str):
    """(label, Scenario) of a preset name or a scenario file."""
    from ..presets import PRESETS, preset_scenario
    from ..scenario import ScenarioError, load

    if arg in PRESETS:
        return arg, preset_scenario(arg)
    if not os.path.isfile(arg):
        raise PlotInputError(f"{arg}: no such scenario file (presets: {', '.join(PRESETS)})")
    try:
        sc = load(Path(arg))
    except ScenarioError as e:
        raise PlotInputError(str(e)) from None
    return sc.name or Path(arg).stem, sc


def _default_kind(data) -> str:
    """The kind for a RESULTS argument when --kind is not given (data: Runs, SweepData or
    a Scenario)."""
    if isinstance(data, SweepData):
        return "tradeoff"
    if isinstance(data, Runs):
        return "instances" if data.table is None else "latency"
    from ..deployment import AutoScaler

    sim = data.build()
    if any(isinstance(e, AutoScaler) for e in sim.entities):
        return "instances"
    deployers = [e for e in sim.entities if type(e).__name__ in ("CanaryDeployer",
                                                                  "RollingDeployer",
                                                                  "FlaggerCanary",
                                                                  "ArgoCanary",
                                                                  "ArgoBlueGreen")]
    return "durations" if deployers else "latency"


def _log(args, message: str) -> None:
    if not args.quiet:
        print(message, file=sys.stderr, flush=True)


def _compile_note() -> str:
    """What to add to the "running" message: a note when the kernels will compile first
    (numba's cache lacks them), else nothing."""
    from ..batch.compiled import COMPILE_SECONDS, will_compile

    return (f" (compiling the batch kernels first: once, about {COMPILE_SECONDS} s on 2 cores)"
            if will_compile() else "")


def _run_batch(args, label, scenario, kind) -> Runs:
    seed = scenario.seed if args.seed is None else args.seed
    sim = scenario.build(seed)
    replicas = args.replicas or DEFAULT_REPLICAS
    step = None
    if kind == "instances":
        horizon = sim.end_time.to_seconds() - sim.start_time.to_seconds()
        step = args.step or horizon / SERIES_SAMPLES
    _log(args, f"{label}: running {replicas} replicas (seed {seed})"
               + (f" with a time series every {step:g} s" if step else "") + " ..."
               + _compile_note())
    t0 = time.perf_counter()
    try:
        res = sim.run_batch(replicas, seed=seed, threads=args.threads, timeseries=step)
    except ValueError as e:
        raise PlotInputError(f"{label}: {e}") from None
    _log(args, f"{label}: done in {time.perf_counter() - t0:.1f} s")
    return Runs(res.table, res.timeseries, sim, label)


def _param_values(args, arg, sim) -> dict:
    """{path: [values]} of the --param options, each path and value checked against the
    scenario's parameters; PlotInputError naming the option and the value."""
    from ..cli import parameter_options

    try:
        return parameter_options("--param", args.param, arg, sim, single=False)
    except ValueError as e:
        raise PlotInputError(str(e)) from None


def check_scenario(args, kind: str, label: str, scenario, arg: str) -> None:
    """Refuse, before anything runs, a plot of ``scenario`` that would be refused after:
    --param values the scenario does not take, a heat map without two swept parameters,
    a rollback or durations plot of a scenario without a deployer."""
    from ..argo import ArgoCanary
    from ..deployment import CanaryDeployer, RollingDeployer
    from ..flagger import FlaggerCanary
    from .heatmap import heatmap_axes

    sim = scenario.build(scenario.seed)
    params = _param_values(args, arg, sim)
    if kind == "slo_attainment":
        from ..slo import check_metrics, scenario_metrics

        try:
            check_metrics(args.slo_objectives, scenario_metrics(sim))
        except ValueError as e:
            raise PlotInputError(f"--{e}") from None
    if kind in ("rollback", "power", "durations"):
        names = [e.name for e in sim.components
                 if isinstance(e, (CanaryDeployer, RollingDeployer, FlaggerCanary,
                                   ArgoCanary))]
        if not names:
            raise PlotInputError(f"{label}: --kind {kind} needs a canary or rolling deployer; "
                                 "this scenario has none")
        if args.deployer is not None and args.deployer not in names:
            raise PlotInputError(f"{label}: --deployer {args.deployer}: no such deployer "
                                 f"(deployers: {', '.join(names)})")
    if kind not in SWEEP_KINDS:
        if params:
            raise PlotInputError(f"--param sweeps a scenario for --kind tradeoff, heatmap, "
                                 f"rollback or power, not --kind {kind}")
        return
    keys = list(params) or (list(scenario.sweep["parameters"]) if scenario.sweep else [])
    if not keys:
        raise PlotInputError(f"{label}: a sweep plot of a scenario needs --param "
                             "PATH=V1,V2,... (repeatable) or a scenario file with a [sweep] "
                             "section")
    if kind == "heatmap":
        if args.x is None and args.y is None and len(keys) != 2:
            raise PlotInputError(f"--kind heatmap needs a sweep of 2 parameters (--param "
                                 f"twice, or choose them with --x and --y); {label} sweeps "
                                 f"{len(keys)} ({', '.join(keys)})")
        try:
            heatmap_axes(keys, args.x, args.y)
        except ValueError as e:
            raise PlotInputError(f"--kind heatmap: {e}") from None
    if kind in ("rollback", "power", "slo_attainment"):
        if args.parameter is not None and args.parameter not in keys:
            raise PlotInputError(f"--parameter {args.parameter}: {label} does not sweep it "
                                 f"(it sweeps {', '.join(keys)})")
        if args.parameter is None and len(keys) > 1:
            raise PlotInputError(f"--kind {kind}: {label} sweeps {', '.join(keys)}; "
                                 "choose the one on x with --parameter")


def _run_sweep(args, label, scenario) -> SweepData:
    from ..sweep import Sweep, grid, latin_hypercube, random

    seed = scenario.seed if args.seed is None else args.seed
    spec = scenario.sweep
    if args.param:
        space = grid(dict(parse_param(p) for p in args.param))
        replicas = args.replicas or DEFAULT_REPLICAS
        run = {}
    elif spec is not None:
        if spec["method"] == "grid":
            space = grid(spec["parameters"])
        else:
            draw = random if spec["method"] == "random" else latin_hypercube
            space = draw(spec["points"], spec["parameters"], seed=spec["seed"])
        replicas = args.replicas or spec["replicas"]
        run = {k: spec[k] for k in ("until", "max_replicas", "chunk_replicas")
               if spec.get(k) is not None}
        if run.get("max_replicas") is not None and run["max_replicas"] < replicas:
            run["max_replicas"] = replicas
    else:
        raise PlotInputError(f"{label}: a sweep plot of a scenario needs --param "
                             "PATH=V1,V2,... (repeatable) or a scenario file with a [sweep] "
                             "section")
    try:
        sweep = Sweep(scenario.build(seed), space, replicas, crn=spec["crn"] if spec else True)
    except ValueError as e:
        raise PlotInputError(f"{label}: {e}") from None
    _log(args, f"{label}: sweeping {len(sweep.points)} points x {replicas} replicas ..."
               + _compile_note())
    t0 = time.perf_counter()
    try:
        result = sweep.run(threads=args.threads, **run)
    except ValueError as e:
        raise PlotInputError(f"{label}: {e}") from None
    _log(args, f"{label}: done in {time.perf_counter() - t0:.1f} s")
    return inputs.as_sweep(result, label=label)


def load_inputs(args) -> tuple[str, list]:
    """(kind, [Runs or SweepData per RESULTS argument])."""
    simulation = None
    if args.scenario is not None:
        _, sc = _scenario(args.scenario)
        simulation = sc.build(sc.seed if args.seed is None else args.seed)
    read = []
    for arg in args.results:
        if _is_scenario(arg) and not os.path.isdir(arg):
            read.append((arg, _scenario(arg)))
        else:
            try:
                read.append((arg, inputs.read(arg, simulation=simulation)))
            except (ValueError, FileNotFoundError) as e:
                from ..presets import PRESETS

                hint = (f" (nor a preset: {', '.join(PRESETS)})"
                        if isinstance(e, FileNotFoundError) else "")
                raise PlotInputError(f"{e}{hint}") from None
    first = read[0][1]
    kind = args.kind or _default_kind(first[1] if isinstance(first, tuple) else first)
    if args.slo and kind not in ("latency", "slo_attainment"):
        raise PlotInputError(f"--slo applies to --kind latency and slo_attainment; the plot "
                             f"of {args.results[0]} is --kind {kind}")
    many = kind in ("rollback", "power", "durations")
    if len(read) > 1 and not many:
        raise PlotInputError(f"--kind {kind} plots one result; got {len(read)} "
                             "(rollback, power and durations take several)")
    # Check what was read before running anything: a run may take a while.
    for arg, got in read:
        if isinstance(got, tuple):
            check_scenario(args, kind, *got, arg)
            continue
        if args.param:
            raise PlotInputError(f"--param sweeps a scenario; {arg} is a results file")
        if kind in SWEEP_KINDS and not isinstance(got, SweepData):
            raise PlotInputError(f"{arg}: --kind {kind} needs a sweep (a sweep output "
                                 "directory, its _summary.parquet, or a scenario with --param)")
        if kind == "instances" and not (isinstance(got, Runs) and got.timeseries is not None):
            raise PlotInputError(f"{arg}: --kind instances needs a time series: give the "
                                 "scenario itself (it is run with one) or a time-series file")
    data = []
    for arg, got in read:
        if isinstance(got, tuple):  # a scenario: run it
            label, sc = got
            got = (_run_batch(args, label, sc, kind) if kind in RUN_KINDS
                   else _run_sweep(args, label, sc))
        if kind in RUN_KINDS and isinstance(got, SweepData):
            try:
                got = inputs.as_runs(got, point=args.point, simulation=simulation)
            except ValueError as e:
                raise PlotInputError(f"{arg}: {e}") from None
        data.append(got)
    return kind, data


def slo_options(kind, texts) -> tuple[float | None, tuple]:
    """(latency objective in seconds, objectives) from the --slo options: the latency plot
    takes one, a number of seconds or a latency objective ``latency_p99<=0.5``;
    slo_attainment one or more objectives; other kinds none."""
    from ..slo import parse_slos

    texts = list(texts or ())
    if kind == "slo_attainment":
        if not texts:
            raise PlotInputError("--kind slo_attainment needs --slo METRIC<=VALUE "
                                 "(repeatable), e.g. --slo latency_p99<=0.5")
        try:
            return None, parse_slos(texts)
        except ValueError as e:
            raise PlotInputError(f"--{e}") from None
    if not texts:
        return None, ()
    if kind not in (None, "latency"):
        raise PlotInputError(f"--slo applies to --kind latency and slo_attainment, not "
                             f"--kind {kind}")
    if len(texts) > 1:
        raise PlotInputError("--kind latency draws one --slo")
    text = texts[0]
    try:
        seconds = float(text)
    except ValueError:
        try:
            (slo,) = parse_slos([text])
        except ValueError as e:
            raise PlotInputError(f"--{e}") from None
        if not (slo.metric.startswith("latency_") and slo.op == "<="):
            raise PlotInputError(f"--slo {text}: the latency plot draws a latency objective "
                                 "(SECONDS or latency_pNN<=SECONDS)")
        seconds = float(slo.threshold)
    if not (0 < seconds < float("inf")):
        raise PlotInputError(f"--slo must be a latency in seconds > 0, got {text}")
    return seconds, ()


# -- the figure -----------------------------------------------------------------------------
def tune_dir(path) -> bool:
    from .tune import is_tune_dir

    return is_tune_dir(path)


def _tune_figure(args):
    """(kind, Figure) of a tune's output directory (``fastdeploy tune FILE --out DIR``)."""
    from .tune import as_tune, plot_tune_history, plot_tune_pareto

    kind = args.kind or "tune-history"
    if len(args.results) != 1:
        raise PlotInputError(f"--kind {kind} plots one tune directory; got "
                             f"{len(args.results)} RESULTS")
    try:
        data = as_tune(args.results[0], label=(args.label or [None])[0])
        if kind == "tune-history":
            return kind, plot_tune_history(data, objective=args.y, title=args.title)
        return kind, plot_tune_pareto(data, x=args.x, y=args.y, title=args.title)
    except (ValueError, OSError) as e:
        raise PlotInputError(str(e)) from None


def make_figure(args):
    """(kind, Figure) for parsed ``fastdeploy plot`` arguments; PlotInputError on a
    mistake, MatplotlibMissing without matplotlib."""
    from . import (
        _mpl,
        plot_durations,
        plot_heatmap,
        plot_instances,
        plot_latency,
        plot_power,
        plot_rollback,
        plot_slo_attainment,
        plot_tradeoff,
    )

    _mpl.matplotlib()  # fail before running anything
    if args.out is not None:
        try:
            _mpl.output_format(args.out)
        except ValueError as e:
            raise PlotInputError(f"-o {e}") from None
        if not Path(args.out).resolve().parent.is_dir():
            raise PlotInputError(f"-o {args.out}: the directory does not exist")
    if args.step is not None and not (args.step > 0 and args.step != float("inf")):
        raise PlotInputError(f"--step must be a number of seconds > 0, got {args.step:g}")
    if (args.baseline is not None or args.log) and args.kind != "power":
        raise PlotInputError("--baseline and --log are options of --kind power")
    if args.baseline is not None and not (0 < args.baseline < float("inf")):
        raise PlotInputError(f"--baseline must be a number > 0, got {args.baseline:g}")
    args.slo_seconds, args.slo_objectives = slo_options(args.kind, args.slo)
    if args.label and len(args.label) != len(args.results):
        raise PlotInputError(f"{len(args.label)} --label for {len(args.results)} RESULTS: "
                             "give one label per result")
    if args.kind in TUNE_KINDS or (args.kind is None and len(args.results) == 1
                                   and tune_dir(args.results[0])):
        return _tune_figure(args)
    kind, data = load_inputs(args)
    labels = args.label or None
    try:
        if kind == "instances":
            fig = plot_instances(data[0], title=args.title)
        elif kind == "latency":
            fig = plot_latency(data[0], slo=args.slo_seconds, title=args.title)
        elif kind == "slo_attainment":
            fig = plot_slo_attainment(data[0], args.slo_objectives, parameter=args.parameter,
                                      title=args.title)
        elif kind == "tradeoff":
            fig = plot_tradeoff(data[0], x=args.x or "instance_seconds",
                                y=args.y or "latency_p99", title=args.title)
        elif kind == "heatmap":
            fig = plot_heatmap(data[0], metric=args.metric, stat=args.stat, x=args.x,
                               y=args.y, title=args.title)
        elif kind == "rollback":
            fig = plot_rollback(data, parameter=args.parameter, deployer=args.deployer,
                                status=args.status, labels=labels, title=args.title)
        elif kind == "power":
            fig = plot_power(data, parameter=args.parameter, labels=labels,
                             outcome=args.status, baseline=args.baseline, log=args.log,
                             title=args.title)
        else:
            fig = plot_durations(data, deployer=args.deployer, labels=labels,
                                 title=args.title)
    except ValueError as e:
        raise PlotInputError(str(e)) from None
    return kind, fig
