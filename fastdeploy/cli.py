"""fastdeploy: simulate auto-scaling and deployment strategies under random traffic."""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

from . import __version__

RUN_HELP = """\
Run replicas of a scenario in the batch engine (numba kernels on every core) and print
one line of what ran (servers, traffic, each controller's settings, replicas, seed), then
each metric's unit, mean with a 95% confidence interval (clipped to what the metric can
take: counts and times >= 0, probabilities in [0, 1]) and its spread across replicas
(p50, p90, p95, p99), then what the latency rows mean and the pooled latency quantiles of
all replicas' requests together (`fastdeploy docs summaries`).

--slo METRIC<=VALUE (or >=; repeatable) adds the share of replicas meeting the objective
with its 95% Wilson interval, e.g. --slo 'latency_p99<=0.5'. --out FILE.parquet writes
the per-replica table with the scenario file's text, seed, replica count, --set values
and fastdeploy version in its Parquet metadata: `fastdeploy plot FILE` and `fastdeploy
compare A B` read them back.

SCENARIO is a preset name (see `fastdeploy presets`) or the path of a scenario file
(TOML, described in `fastdeploy docs scenarios`). A preset name wins over a file of the
same name in the current directory: write ./NAME to run the file.

Progress goes to stderr: a progress bar (tqdm's: replicas done, rate, time left) on a
terminal, else a line every few seconds; a run estimated to take more than half a minute says so
when its first replicas finish. --quiet turns both off. A run refused by the memory
budget (--memory-budget) is refused before anything runs. The first run compiles the
kernels (about 20 s on 2 cores, said when it happens; cached on disk after that).

Exit status: 0 on success, 2 for a mistake in the command line or the scenario file (the
message names the key), 1 when the run fails.
"""

PRESETS_HELP = """\
List the preset scenarios with their description and the path of their scenario file.
Copy a file, edit it and run the copy with `fastdeploy run FILE.toml`.

With NAME, print only the path of that preset's file, e.g.
    cp "$(fastdeploy presets rolling)" my-rolling.toml
"""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"expected 0 <= seed < 2**63, got {text!r}")
    return value


_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def _size(text: str) -> int:
    """Bytes from ``8G``, ``512M``, ``1.5GiB``, ``4096`` (units are powers of 1024)."""
    import re

    m = re.fullmatch(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([KMGT]?)(?:I?B)?\s*", text, re.IGNORECASE)
    value = float(m.group(1)) * _UNITS[m.group(2).upper()] if m else 0
    if not m or value < 1:
        raise argparse.ArgumentTypeError(f"expected a size such as 8G, 512M or a number of "
                                         f"bytes, got {text!r}")
    return int(value)


# The library's messages name Python arguments; the command line names its flags.
_CLI_WORDS = (
    (re.compile(r"\bout=('[^']*'|\S+)"), r"--out \1"),
    (re.compile(r"\bpass resume=True\b"), "pass --resume"),
    (re.compile(r"\bresume=True needs out=DIR\b"), "--resume needs --out DIR"),
    (re.compile(r"\braise memory_budget\b"), "raise --memory-budget"),
    (re.compile(r"\ba coarser timeseries step\b"), "a coarser --step"),
    (re.compile(r"\(a sweep with out= writes them to disk chunk by chunk\)"),
     "(`fastdeploy sweep FILE --out DIR` writes them to disk chunk by chunk)"),
)


def _cli_words(message: str) -> str:
    """``message`` with Python argument names (``resume=True``, ``out=DIR``,
    ``memory_budget``) replaced by the flags that set them."""
    for pattern, flag in _CLI_WORDS[::-1]:
        message = pattern.sub(flag, message)
    return message


def _error(command: str, message: str, status: int = 2) -> int:
    print(f"fastdeploy {command}: {_cli_words(message)}", file=sys.stderr)
    return status


# -- parameters on the command line -----------------------------------------------------------
def parameter_options(flag: str, texts, scenario_arg: str, sim, *, single: bool) -> dict:
    """``{path: [values]}`` of ``--set PATH=VALUE`` (single) or ``--param PATH=V1,V2,...``
    options, each path and value checked against ``sim``'s batch parameters.

    Raises:
        ValueError: a malformed option, a path given twice, an unknown path (with the
            closest one and how to list them), or a value the parameter does not take; the
            message names the option as typed.
    """
    import difflib

    from .batch.lower import lower
    from .batch.params import number_text

    slots = lower(sim).params.by_path
    shape = "PATH=VALUE" if single else "PATH=V1,V2,..."
    values: dict = {}
    for text in texts or ():
        path, sep, raw = text.partition("=")
        path = path.strip()
        items = [v.strip() for v in raw.split(",")]
        if not sep or not path or not raw.strip() or (single and len(items) > 1):
            raise ValueError(f"{flag} {text!r}: expected {shape} (e.g. scaler.policy.target="
                             f"{'0.5' if single else '0.5,0.6,0.7'})")
        if path in values:
            raise ValueError(f"{flag} {path} is given twice"
                             + ("" if single else ": give its values once, comma-separated"))
        slot = slots.get(path)
        if slot is None:
            close = difflib.get_close_matches(path, list(slots), n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise ValueError(f"{flag} {text}: {scenario_arg} has no parameter {path}{hint}; "
                             f"`fastdeploy params {scenario_arg}` lists them")
        out = []
        for item in items:
            try:
                v = float(item)
            except ValueError:
                raise ValueError(f"{flag} {text}: {item!r} is not a number") from None
            try:
                slot.check([v])
            except ValueError:
                raise ValueError(f"{flag} {text}: {number_text(v)} is not allowed for {path}: "
                                 f"expected {slot.expected()}") from None
            out.append(int(v) if slot.integer else v)
        values[path] = out
    return values


def _with_settings(command: str, sim, args):
    """``sim`` with the --set options applied, or the exit status after saying why not."""
    if not getattr(args, "set", None):
        return sim
    from .batch.assign import with_parameters
    from .batch.lower import lower

    try:
        values = parameter_options("--set", args.set, args.scenario, sim, single=True)
        new = with_parameters(sim, {k: v[0] for k, v in values.items()})
        lower(new).params.rows(1, None)  # rules between parameters (min <= max, ...)
    except ValueError as e:
        message = str(e).replace(" (replica position 0)", "")
        return _error(command, message if message.startswith("--set") else
                      f"--set {' --set '.join(args.set)}: {message}")
    return new


# -- service-level objectives ---------------------------------------------------------------
SLO_HELP = ("a service-level objective METRIC<=VALUE or METRIC>=VALUE (repeatable), e.g. "
            "latency_p99<=0.5: adds P(a replica meets it) with its 95%% Wilson interval")


def _slo_arg(text: str):
    """An ``--slo`` value: a ``fastdeploy.slo.SLO``."""
    from .slo import parse_slo

    try:
        return parse_slo(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e).removeprefix("slo ")) from None


def _check_slos(command: str, sim, slos):
    """None when every --slo names a metric of ``sim`` (once), else the exit status
    after saying which does not."""
    from .slo import check_metrics, parse_slos, scenario_metrics

    try:
        check_metrics(parse_slos(slos), scenario_metrics(sim))
    except ValueError as e:
        return _error(command, f"--{e}")
    return None


# -- commands -------------------------------------------------------------------------------
def _resolve(arg: str):
    """(label, Scenario) for a preset name or a scenario file; ScenarioError on mistakes."""
    from .presets import PRESETS, preset_scenario
    from .scenario import load

    if arg in PRESETS:
        return arg, preset_scenario(arg)
    if os.path.isfile(arg) or arg.endswith(".toml"):
        return arg, load(Path(arg))
    raise LookupError(f"{arg!r} is neither a preset ({', '.join(PRESETS)}) nor a scenario "
                      "file")


def _load_scenario(command: str, arg: str):
    """(label, Scenario), or the exit status after saying why it cannot be loaded."""
    from .scenario import ScenarioError

    try:
        return _resolve(arg)
    except ScenarioError as e:
        print(e, file=sys.stderr)
        return 2
    except LookupError as e:
        return _error(command, str(e))


def cmd_presets(args) -> int:
    from .presets import PRESETS, preset_path, preset_scenario

    if args.name is not None:
        if args.name not in PRESETS:
            return _error("presets", f"unknown preset {args.name!r}; presets: "
                                     f"{', '.join(PRESETS)}")
        print(preset_path(args.name))
        return 0
    width = max(len(n) for n in PRESETS) + 2
    for name in PRESETS:
        sc = preset_scenario(name)
        print(f"{name:{width}s}{sc.description}")
        print(f"{'':{width}s}{preset_path(name)}")
    print("\nCopy a file, edit it and run it: fastdeploy run my-scenario.toml "
          "(its keys: `fastdeploy docs scenarios`)")
    return 0


def _warm_up(command: str, sim, quiet: bool) -> None:
    """Load the kernels (compile them when numba's cache lacks them, saying so) on one
    replica, so that progress and the estimate measure the run alone."""
    import numpy as np

    from .batch.compiled import COMPILE_SECONDS, will_compile

    if will_compile() and not quiet:
        print(f"fastdeploy {command}: compiling the batch kernels first (once; about "
              f"{COMPILE_SECONDS} s on 2 cores, then cached on disk)", file=sys.stderr,
              flush=True)
    sim.run_batch(np.array([0]), threads=1)


def cmd_run(args) -> int:
    from .batch.run import default_threads
    from .progress import Progress
    from .summary import format_summary, summarize

    loaded = _load_scenario("run", args.scenario)
    if isinstance(loaded, int):
        return loaded
    label, scenario = loaded
    if args.out and not Path(args.out).resolve().parent.is_dir():
        return _error("run", f"--out {args.out}: the directory does not exist")
    seed = scenario.seed if args.seed is None else args.seed
    sim = _with_settings("run", scenario.build(seed), args)
    if isinstance(sim, int):
        return sim
    status = _check_slos("run", sim, args.slo)
    if status is not None:
        return status
    if scenario.sweep is not None and not args.quiet:
        print(f"note: {label} has a [sweep] section; `run` runs the scenario as written "
              "and ignores it", file=sys.stderr)
    threads = args.threads or default_threads()
    progress = None if args.quiet else Progress(label, args.replicas, threads)
    t0 = time.perf_counter()
    try:
        # The memory check first: a run that cannot fit is refused before compiling.
        from .batch.lower import lower
        from .batch.run import CHUNK_REPLICAS, _check_memory

        _check_memory(lower(sim), args.replicas, 0, 1, CHUNK_REPLICAS, args.memory_budget)
        _warm_up("run", sim, args.quiet)
        if progress is not None:
            progress.start()
        table = sim.run_batch(args.replicas, threads=args.threads,
                              progress=progress.update if progress is not None else False,
                              memory_budget=args.memory_budget).table
    except MemoryError as e:
        return _error("run", str(e), 1)
    finally:
        if progress is not None:
            progress.close()
    wall = time.perf_counter() - t0
    if args.out:
        from .runfile import RunInfo, write_run

        settings = parameter_options("--set", args.set, args.scenario, sim, single=True)
        info = RunInfo(scenario.path.read_text(encoding="utf-8"), label, seed, args.replicas,
                       {k: v[0] for k, v in settings.items()})
        try:
            write_run(args.out, table, info)
        except OSError as e:
            return _error("run", f"cannot write {args.out}: {e}", 1)
    print(_run_header(label, sim, args.replicas, seed, args.set, wall))
    print(format_summary(summarize(table, args.slo)))
    print(_latency_note(table, args.slo))
    if args.out:
        print(f"per-replica table written to {args.out} (with the scenario and settings in "
              "its metadata: `fastdeploy plot` and `fastdeploy compare` read them)")
    return 0


def _run_header(label: str, sim, replicas: int, seed: int, settings, wall: float) -> str:
    """One line: what ran (label, replicas, seed, --set) and the scenario's servers,
    traffic and controllers with their settings."""
    from .describe import scenario_line

    plural = "replica" if replicas == 1 else "replicas"
    changed = f", {', '.join(settings)}" if settings else ""
    return (f"{label}: {replicas} {plural}, seed {seed}{changed}, {wall:.1f} s | "
            f"{scenario_line(sim)}")


def _latency_note(table, slos) -> str:
    """What the latency rows mean, the pooled quantiles, and what an SLO row is."""
    from .metrics import metric_unit
    from .pooled import pooled_quantile
    from .summary import decimals_for, format_number

    lines = ["latency_p50..p99 are per replica (the quantile of that replica's requests); "
             "the columns are across replicas:", "latency_p99's mean is the mean of the "
             "replicas' p99, its p95 the 95th percentile of the replicas' p99."]
    try:
        pooled = [pooled_quantile(table, q) for q in (0.5, 0.9, 0.95, 0.99)]
    except ValueError:
        lines.append("pooled latency: none (no replica completed a request)")
    else:
        # Each with 4 significant digits: the pooled p50 and p99 may differ a hundredfold.
        cells = ", ".join(f"p{round(q * 100)} {format_number(v, decimals_for([v]))} s"
                          for q, v in zip((0.5, 0.9, 0.95, 0.99), pooled))
        lines.append(f"pooled over every replica's requests: {cells} (estimated from each "
                     "replica's quantiles: `fastdeploy docs summaries`)")
    for slo in slos or ():
        unit = metric_unit(slo.metric)
        lines.append(f"{slo.name}: the share of replicas whose {slo.metric} is {slo.op} "
                     f"{format_number(slo.threshold)}{f' {unit}' if unit else ''}, with its "
                     "95% Wilson interval")
    return "\n".join(lines)


SWEEP_HELP = """Run the [sweep] section of a scenario file: every point's replicas in the batch
engine (many points per kernel call), with common random numbers, then print each point's
mean and 95% confidence interval of the headline metrics (the whole summary is in
DIR/_summary.parquet with --out: the leading underscore keeps it out of the dataset
that pyarrow reads from DIR).

With --out DIR the per-replica rows are written chunk by chunk to a Parquet dataset in
DIR as chunks finish; after an interruption, the same command with --resume skips the
finished chunks and ends with the same table. --scheduler ADDRESS spreads the chunks over
a Dask cluster (pip install 'fastdeploy[dask]').

--slo METRIC<=VALUE (or >=; repeatable) adds each point's share of replicas meeting the
objective with its 95% Wilson interval (also in DIR/_summary.parquet), e.g. --slo
'latency_p99<=0.5'. `fastdeploy compare DIR` compares the points of DIR afterwards.

Exit status: 0 done, 1 the run failed, 2 a mistake in the file or the arguments."""


DEFAULT_SWEEP_REPLICAS = 200


def _sweep_space(spec: dict):
    from . import sweep as sw

    if spec["method"] == "grid":
        return sw.grid(spec["parameters"])
    make = sw.random if spec["method"] == "random" else sw.latin_hypercube
    return make(spec["points"], spec["parameters"], seed=spec["seed"])


HEADLINE = ("latency_mean", "latency_p99", "instance_seconds", "requests_rejected")


def _format_points(summary, params: list[str], slos=()) -> str:
    from .metrics import metric_unit
    from .summary import format_estimate, format_number

    cols = set(summary.column_names)
    metrics = [m for m in HEADLINE if f"{m}.mean" in cols]
    outcomes = sorted(c[:-len(".mean")] for c in cols if "status=" in c and c.endswith(".mean"))
    outcomes += [s.name for s in slos]
    head = (["point"] + params + ["n"]
            + [f"{m} ({metric_unit(m)}) [95% CI]" for m in metrics + outcomes])
    rows = []
    for r in summary.to_pylist():
        row = [str(r["point"])] + [format_number(r[p]) for p in params] + [str(r["n"])]
        row += [format_estimate(r[f"{m}.mean"], r[f"{m}.ci_low"], r[f"{m}.ci_high"])
                for m in metrics + outcomes]
        rows.append(row)
    widths = [max(len(h), *(len(x[i]) for x in rows)) for i, h in enumerate(head)]
    line = lambda cells: "  ".join(c.rjust(w) for c, w in zip(cells, widths))  # noqa: E731
    return "\n".join([line(head), "-" * len(line(head))] + [line(r) for r in rows])


# Seconds `sweep --scheduler` waits for the scheduler to answer.
CONNECT_TIMEOUT = 5


def _connect(address: str, command: str = "sweep"):
    """A distributed.Client of the scheduler at ``address``, or the exit status after a
    one-line message (from ``command``): 2 for an address that is not one, 1 for a
    scheduler that does not answer within CONNECT_TIMEOUT seconds."""
    try:
        from distributed import Client
        from distributed.comm.addressing import get_address_host_port, parse_address
    except ImportError:
        return _error(command, "--scheduler needs Dask: pip install 'fastdeploy[dask]'")
    full = address if "://" in address else f"tcp://{address}"
    try:
        parse_address(full, strict=True)
        host, port = get_address_host_port(full)
        if not host or not 0 < int(port) < 65536:
            raise ValueError
    except (ValueError, TypeError):
        return _error(command, f"--scheduler {address!r} is not a Dask scheduler address: "
                               "expected tcp://HOST:PORT (e.g. tcp://127.0.0.1:8786)")
    try:
        return Client(full, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError):
        return _error(command, f"--scheduler {address!r}: no Dask scheduler answered within "
                               f"{CONNECT_TIMEOUT} s (is it running and reachable?)", 1)


def _prepare_sweep(command: str, args):
    """(label, spec, sweep, swept parameter paths) from the scenario and --param/--set/
    --replicas, or the exit status after a one-line message."""
    from .sweep import Sweep, grid

    loaded = _load_scenario(command, args.scenario)
    if isinstance(loaded, int):
        return loaded
    label, scenario = loaded
    spec = scenario.sweep or {}
    if not spec and not args.param:
        return _error(command, f"{label} has no [sweep] section (`fastdeploy docs "
                               "scenarios`); give the values to sweep with --param "
                               "PATH=V1,V2,...")
    sim = _with_settings(command, scenario.build(scenario.seed), args)
    if isinstance(sim, int):
        return sim
    status = _check_slos(command, sim, args.slo)
    if status is not None:
        return status
    replicas = args.replicas or spec.get("replicas") or DEFAULT_SWEEP_REPLICAS
    max_replicas = spec.get("max_replicas")
    if max_replicas is not None and max_replicas < replicas:
        return _error(command, f"--replicas {replicas} is above the [sweep] section's "
                               f"max_replicas ({max_replicas})")
    try:
        if args.param:
            values = parameter_options("--param", args.param, args.scenario, sim, single=False)
            space, params = grid(values), list(values)
        else:
            space, params = _sweep_space(spec), list(spec["parameters"])
        sweep = Sweep(sim, space, replicas, crn=spec.get("crn", True))
    except ValueError as e:
        return _error(command, str(e))
    return label, spec, sweep, params


def cmd_sweep(args) -> int:
    if args.resume and args.out is None:
        return _error("sweep", "--resume needs --out DIR (the directory of the sweep to resume)")
    prepared = _prepare_sweep("sweep", args)
    if isinstance(prepared, int):
        return prepared
    label, spec, sweep, params = prepared
    max_replicas = spec.get("max_replicas")
    client = None
    if args.scheduler is not None:
        client = _connect(args.scheduler)
        if isinstance(client, int):
            return client
    t0 = time.perf_counter()
    try:
        chunking = ({} if spec.get("chunk_replicas") is None
                    else {"chunk_replicas": spec["chunk_replicas"]})
        result = sweep.run(threads=args.threads, until=spec.get("until"),
                           max_replicas=max_replicas, out=args.out,
                           resume=args.resume, client=client, slos=args.slo,
                           progress=not args.quiet and sys.stderr.isatty(), **chunking)
    except (ValueError, FileExistsError, NotADirectoryError) as e:
        return _error("sweep", str(e))
    except KeyboardInterrupt:
        saved = f"; finished chunks are in {args.out} (rerun with --resume)" if args.out else ""
        print(f"\ninterrupted{saved}", file=sys.stderr)
        return 130
    finally:
        if client is not None:
            client.close()
    wall = time.perf_counter() - t0
    print(f"{label}: {len(sweep.points)} points, {result.table.num_rows} replicas, "
          f"{wall:.1f} s")
    print(_format_points(result.summary, params, args.slo or ()))
    if args.out:
        print(f"per-replica rows in {args.out}, the summary in "
              f"{os.path.join(args.out, '_summary.parquet')}")
    return 0


COMPARE_HELP = """\
How much better or worse is each setting than the first? Runs every point with common
random numbers (the same replicas see the same traffic and work), then prints, for each
point after the first, the paired difference of every metric from the first point with
its 95% t interval (the same numbers as SweepResult.compare(0) in Python). A difference
whose interval excludes 0 is one the replicas can tell apart.

    fastdeploy compare autoscale-spike --param scaler.scale_in_cooldown=60,120
    fastdeploy compare canary-good --param canary.metric_evaluator.max_error_rate=0.05,0.2

Results already on disk compare without running anything:
    fastdeploy compare results/                  a sweep output directory: its points
    fastdeploy compare base.parquet new.parquet  run files (`fastdeploy run --out`): each
                                                 file a point, its --set values (from the
                                                 file's metadata) its parameters
Run files of the same seed share their random streams and pair by replica; of different
seeds they compare unpaired (Welch's interval).

--slo METRIC<=VALUE (repeatable, also >=) adds the difference of attainment: the share of
replicas meeting the objective, compared as 0/1 per replica.
"""


def cmd_compare(args) -> int:
    from .compare_results import is_results
    from .summary import format_number

    if len(args.scenario) > 1 or is_results(args.scenario[0]):
        return _compare_results(args)
    args.scenario = args.scenario[0]
    prepared = _prepare_sweep("compare", args)
    if isinstance(prepared, int):
        return prepared
    label, spec, sweep, params = prepared
    if len(sweep.points) < 2:
        return _error("compare", "give at least two values to compare, e.g. "
                                 "--param PATH=V1,V2")
    t0 = time.perf_counter()
    try:
        result = sweep.run(threads=args.threads,
                           progress=not args.quiet and sys.stderr.isatty())
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    table = result.compare(0, slos=args.slo)
    base = sweep.points[0]
    print(f"{label}: {len(sweep.points)} points x {sweep.replicas} replicas, "
          f"{time.perf_counter() - t0:.1f} s; baseline: point 0 ("
          + ", ".join(f"{p}={format_number(base[p])}" for p in params) + ")")
    _print_differences(table, params, paired=True)
    return 0


def _compare_results(args) -> int:
    """``fastdeploy compare`` of run files or a sweep directory: nothing runs."""
    from .compare_results import from_run_files, from_sweep_dir
    from .slo import check_metrics
    from .summary import format_number
    from .sweep.stats import split_columns

    for flag in ("param", "set", "replicas", "threads"):
        if getattr(args, flag):
            return _error("compare", f"--{flag} applies to a scenario; {args.scenario[0]} "
                                     "holds results (compare them as they are)")
    paths = args.scenario
    try:
        if len(paths) == 1 and os.path.isdir(paths[0]):
            points = from_sweep_dir(paths[0])
        elif len(paths) == 1:
            return _error("compare", f"{paths[0]}: give two or more run files (`fastdeploy "
                                     "run --out`) to compare, the first the baseline")
        else:
            dirs = [p for p in paths if os.path.isdir(p)]
            if dirs:
                return _error("compare", f"{dirs[0]}: compare one sweep directory, or two or "
                                         "more run files")
            points = from_run_files(paths)
        check_metrics(args.slo or (), split_columns(points.table, points.keys)[0])
    except ValueError as e:
        message = str(e)
        return _error("compare", f"--{message}" if message.startswith("slo ") else message)
    base = [f"{k}={format_number(points.points[0][k])}" for k in points.keys]
    if points.labels is not None:
        base.insert(0, points.labels[0])
    what = f"{len(paths)} run files" if len(paths) > 1 else f"sweep {paths[0]}"
    print(f"{what}: {len(points.points)} points; baseline: point 0 ({', '.join(base)})")
    for line in points.notes:
        print(line)
    _print_differences(points.compare(args.slo), list(points.keys), points.paired,
                       points.labels)
    return 0


def _print_differences(table, params, paired: bool, labels=None) -> None:
    """Each point's differences from the baseline, one metric a line."""
    from .metrics import metric_unit
    from .summary import format_estimate, format_number

    how = ("paired by replica (common random numbers), 95% t interval" if paired else
           "unpaired (different random streams), 95% Welch interval")
    print(f"difference = point - baseline, {how}")
    names = [c[:-len(".diff")] for c in table.column_names if c.endswith(".diff")]
    for row in table.to_pylist():
        print()
        what = [f"{p}={format_number(row[p])}" for p in params]
        if labels is not None:
            what.insert(0, labels[row["point"]])
        print(f"point {row['point']} ({', '.join(what)}), {row['n']} "
              + ("pairs" if paired else "replicas"))
        cells = [(m, metric_unit(m), format_estimate(row[f"{m}.diff"], row[f"{m}.ci_low"],
                                                     row[f"{m}.ci_high"]))
                 for m in names if row[f"{m}.diff"] is not None]
        w0 = max(len(c[0]) for c in cells)
        w1 = max(len(c[1]) for c in cells)
        for m, unit, est in cells:
            print(f"  {m.ljust(w0)}  {unit.ljust(w1)}  {est}")


PARAMS_HELP = """\
List the parameters of a preset or scenario file that --set, --param and sweeps take: each
dotted path with its value in the scenario and the values it accepts.

    fastdeploy params autoscale-spike
    fastdeploy run autoscale-spike --set scaler.policy.target=0.5
    fastdeploy sweep autoscale-spike --param scaler.policy.target=0.5,0.6,0.7
"""


def cmd_params(args) -> int:
    from .batch.lower import LoweringError, lower
    from .batch.params import number_text

    loaded = _load_scenario("params", args.scenario)
    if isinstance(loaded, int):
        return loaded
    label, scenario = loaded
    try:
        table = lower(scenario.build(scenario.seed)).params
    except LoweringError as e:
        return _error("params", str(e))
    rows = [(s.path, number_text(v), s.expected())
            for s, v in zip(table.slots, table.values) if s.path]
    head = ("path", "value", "accepts")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    for r in [head, tuple("-" * w for w in widths), *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    return 0


DOCS_HELP = """\
The documentation that comes with the package. Without TOPIC, list the topics with their
titles; with one, print its page (markdown).

    fastdeploy docs
    fastdeploy docs scenarios | less
"""


def cmd_docs(args) -> int:
    from .topics import read, topics

    if args.topic is None:
        known = topics()
        width = max(len(t) for t in known) + 2
        for topic, title in known.items():
            print(f"{topic:{width}s}{title}")
        print("\nRead one: fastdeploy docs TOPIC")
        return 0
    try:
        text = read(args.topic)
    except LookupError as e:
        return _error("docs", str(e).strip("'\""))
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


def cmd_bench(args) -> int:
    from .presets import PRESETS

    if args.scenario not in PRESETS:
        return _error("bench", f"unknown preset {args.scenario!r}; presets: "
                               f"{', '.join(PRESETS)}")
    from .batch.run import default_threads

    sim = PRESETS[args.scenario](0)
    t0 = time.perf_counter()
    sim.run_batch(1, threads=1)
    print(f"{args.scenario}: first result in {time.perf_counter() - t0:.2f} s "
          "(compiles the kernels on a first run, else loads them)")
    for threads in sorted({1, default_threads()}):
        t0 = time.perf_counter()
        table = sim.run_batch(args.replicas, threads=threads).table
        wall = time.perf_counter() - t0
        requests = sum(table.column("requests_created").to_pylist())
        print(f"{threads} thread(s): {args.replicas} replicas in {wall:.2f} s, "
              f"{requests / wall / 1e6:.2f} M requests/s, {args.replicas / wall:.0f} "
              "replicas/s")
    return 0


PLOT_HELP = """\
Draw a plot of runs or sweeps to a PNG, SVG or PDF file (needs matplotlib:
pip install 'fastdeploy[plot]').

RESULTS is one of (several for --kind rollback, power and durations):
  a preset name or scenario file (.toml)  run here: a batch of --replicas replicas (with a
                                          time series for instances), or for the sweep kinds
                                          a grid of the --param values (else the file's
                                          [sweep] section), --replicas per point
  a sweep output directory                written by `fastdeploy sweep FILE --out DIR`
  a Parquet file                          a per-replica table (`fastdeploy run --out`), a
                                          sweep's _summary.parquet, or a time series written
                                          from Python (BatchResult.timeseries)

Kinds (default: instances for a scenario with an autoscaler, durations for one with a
deployer, else latency; tradeoff for a sweep):
  instances  instances over time, median and 10-90 / 1-99 percentile bands across
             replicas, traffic rate on a second axis (for a file: --scenario gives the rate)
  latency    per-replica p99 latency and the pooled latency CDF (--slo SECONDS)
  tradeoff   cost vs p99 latency per sweep point with 95% bars, Pareto front labelled
             (--x/--y METRIC to change the axes)
  heatmap    --metric (default latency_p99) over a 2-parameter grid (--x/--y PATH)
  rollback   P(rollback) with 95% Wilson intervals against the swept --parameter, one
             curve per RESULTS (e.g. canary-bad and canary-good)
  power      P(abort) (outcome rolled_back, or --status) of each canary analysis against
             the regression swept (--parameter, default each one's only parameter),
             with 95% Wilson intervals, one curve per RESULTS (e.g. canary-bad and
             flagger-bad swept over their new version's failure rate)
  durations  deployment durations by outcome, one panel per RESULTS
  slo_attainment
             the share of replicas meeting each --slo objective (e.g. latency_p99<=0.5)
             with 95% Wilson intervals against the swept --parameter
  tune-history  a tune's objective by trial (feasible, undecided, infeasible), the best so
             far and the finalists' holdout figures (RESULTS: `fastdeploy tune --out DIR`;
             the default for such a directory; --y picks the objective)
  tune-pareto   two objectives of a tune's trials and its Pareto set (--x/--y pick them)

Examples:
  fastdeploy plot autoscale-spike --kind instances -o instances.png
  fastdeploy plot autoscale-spike --kind tradeoff --replicas 100 \\
      --param scaler.policy.target=0.4,0.5,0.6,0.7,0.8 \\
      --param scaler.scale_in_cooldown=30,60,120,240 -o tradeoff.svg
  fastdeploy plot canary-bad canary-good --kind rollback \\
      --param canary.metric_evaluator.threshold_multiplier=1.5,2,3,4,6,8 -o rollback.png
  fastdeploy sweep my-sweep.toml --out results/ && fastdeploy plot results/ --kind heatmap
  fastdeploy plot autoscale-spike --kind slo_attainment --slo 'latency_p99<=0.5' \\
      --slo 'latency_p99<=1' --param scaler.policy.target=0.4,0.5,0.6,0.7,0.8
  fastdeploy run canary-good --out run.parquet && fastdeploy plot run.parquet --kind durations

Exit status: 0 written, 2 a mistake in RESULTS or the options (or matplotlib missing),
1 the file could not be written. `fastdeploy docs plots` describes each plot.
"""


def cmd_plot(args) -> int:
    from .plot import MatplotlibMissing, save
    from .plot.command import PlotInputError, make_figure

    try:
        kind, fig = make_figure(args)
    except (MatplotlibMissing, PlotInputError) as e:
        return _error("plot", str(e))
    except MemoryError as e:
        return _error("plot", str(e), 1)
    out = args.out or f"{kind}.png"
    try:
        save(fig, out)
    except OSError as e:
        return _error("plot", f"cannot write {out}: {e}", 1)
    w, h = (round(v * fig.dpi) for v in fig.get_size_inches())
    print(f"{kind} plot written to {out} ({w} x {h} px at {fig.dpi:g} dpi)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fastdeploy", description=__doc__,
        epilog="`fastdeploy COMMAND --help` describes a command. Scenario files: "
               "`fastdeploy docs scenarios`.")
    parser.add_argument("--version", action="version", version=f"fastdeploy {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("presets", help="list the preset scenarios and where their files are",
                       description=PRESETS_HELP,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("name", nargs="?", metavar="NAME",
                   help="print only the path of this preset's scenario file")
    p.set_defaults(func=cmd_presets)
    p = sub.add_parser("params", help="list the parameters --set, --param and sweeps take",
                       description=PARAMS_HELP,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scenario", metavar="SCENARIO",
                   help="a preset name or the path of a scenario file (.toml)")
    p.set_defaults(func=cmd_params)
    p = sub.add_parser("run", help="run replicas of a preset or scenario file and print a "
                                   "summary", description=RUN_HELP,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scenario", metavar="SCENARIO",
                   help="a preset name or the path of a scenario file (.toml)")
    p.add_argument("--replicas", type=_positive_int, default=2000, metavar="N",
                   help="replicas to run (default 2000)")
    p.add_argument("--seed", type=_seed, default=None, metavar="S",
                   help="seed of the random streams (default: the scenario's "
                        "simulation.seed, 0 for the presets)")
    p.add_argument("--threads", type=_positive_int, default=None, metavar="T",
                   help="threads (default: every core this process may use)")
    p.add_argument("--out", metavar="FILE.parquet",
                   help="also write the per-replica table (one row per replica) to this "
                        "Parquet file")
    p.add_argument("--set", action="append", metavar="PATH=VALUE",
                   help="change one parameter for this run (repeatable), e.g. --set "
                        "scaler.policy.target=0.5; `fastdeploy params SCENARIO` lists them")
    p.add_argument("--memory-budget", type=_size, default=None, metavar="SIZE",
                   help="memory the run may hold, e.g. 8G or 512M (default: half of the "
                        "machine's); a larger run is refused before it starts")
    p.add_argument("--slo", action="append", type=_slo_arg, metavar="METRIC<=VALUE",
                   help=SLO_HELP)
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("sweep", help="run a scenario file's [sweep] and print each point's "
                                     "intervals", description=SWEEP_HELP,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scenario", metavar="FILE",
                   help="a scenario file with a [sweep] section, or any scenario (a preset "
                        "name too) with --param")
    p.add_argument("--param", action="append", metavar="PATH=V1,V2,...",
                   help="sweep this parameter over these values (repeat for a grid); "
                        "replaces the [sweep] section's parameters")
    p.add_argument("--set", action="append", metavar="PATH=VALUE",
                   help="change one parameter of the scenario first (repeatable)")
    p.add_argument("--replicas", type=_positive_int, default=None, metavar="N",
                   help="replicas per point (default: the [sweep] section's, else "
                        f"{DEFAULT_SWEEP_REPLICAS})")
    p.add_argument("--out", metavar="DIR", help="write the per-replica rows chunk by chunk to "
                                                "a Parquet dataset in DIR")
    p.add_argument("--resume", action="store_true",
                   help="with --out: skip the chunks already in DIR")
    p.add_argument("--slo", action="append", type=_slo_arg, metavar="METRIC<=VALUE",
                   help=SLO_HELP + " per point")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="a Dask scheduler address (tcp://host:port) to spread chunks over "
                        f"(refused if it does not answer within {CONNECT_TIMEOUT} s)")
    p.add_argument("--threads", type=_positive_int, default=None, metavar="T",
                   help="threads per kernel call (default: every core locally)")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=cmd_sweep)
    p = sub.add_parser("compare", help="the paired difference of every metric between "
                                       "settings, with 95%% intervals",
                       description=COMPARE_HELP,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scenario", nargs="+", metavar="RESULTS",
                   help="a preset name or a scenario file (run here with --param); or a "
                        "sweep output directory; or two or more run files (`fastdeploy run "
                        "--out`), the first the baseline")
    p.add_argument("--param", action="append", metavar="PATH=V1,V2,...",
                   help="the values to compare (repeat for a grid); the first point is the "
                        "baseline; without it, the file's [sweep] section")
    p.add_argument("--set", action="append", metavar="PATH=VALUE",
                   help="change one parameter of the scenario first (repeatable)")
    p.add_argument("--replicas", type=_positive_int, default=None, metavar="N",
                   help=f"replicas per point (default: {DEFAULT_SWEEP_REPLICAS})")
    p.add_argument("--slo", action="append", type=_slo_arg, metavar="METRIC<=VALUE",
                   help="a service-level objective METRIC<=VALUE or METRIC>=VALUE "
                        "(repeatable): adds the paired difference of attainment (the share "
                        "of replicas meeting it) with its 95%% interval")
    p.add_argument("--threads", type=_positive_int, default=None, metavar="T",
                   help="threads per kernel call (default: every core)")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=cmd_compare)
    p = sub.add_parser("plot", help="plot runs or sweeps to a PNG/SVG file",
                       description=PLOT_HELP,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results", nargs="+", metavar="RESULTS",
                   help="a preset, scenario file, sweep output directory or Parquet file")
    p.add_argument("--kind", choices=("instances", "latency", "tradeoff", "heatmap",
                                      "rollback", "power", "durations", "slo_attainment",
                                      "tune-history", "tune-pareto"),
                   help="what to plot (default: chosen from RESULTS, see above)")
    p.add_argument("-o", "--out", metavar="FILE",
                   help="the picture: .png, .svg or .pdf (default KIND.png)")
    p.add_argument("--replicas", type=_positive_int, default=None, metavar="N",
                   help="replicas to run for a scenario (per point for a sweep; default "
                        "200, or the [sweep] section's)")
    p.add_argument("--param", action="append", metavar="PATH=V1,V2,...",
                   help="sweep this parameter over these values (repeat for a grid)")
    p.add_argument("--seed", type=_seed, default=None, metavar="S",
                   help="seed of a scenario's runs (default: the scenario's)")
    p.add_argument("--threads", type=_positive_int, default=None, metavar="T",
                   help="threads for running a scenario (default: every core)")
    p.add_argument("--step", type=float, default=None, metavar="SECONDS",
                   help="instances: time-series step (default: the horizon / 300)")
    p.add_argument("--scenario", metavar="SCENARIO",
                   help="for a results file: the preset or scenario file that made it (the "
                        "traffic rate for instances, the deploy time for durations); a "
                        "`fastdeploy run --out` file carries its own")
    p.add_argument("--slo", action="append", metavar="OBJECTIVE",
                   help="latency: draw this latency objective (SECONDS, or "
                        "latency_p99<=SECONDS); slo_attainment: an objective METRIC<=VALUE "
                        "or METRIC>=VALUE (repeatable)")
    p.add_argument("--metric", default="latency_p99", metavar="METRIC",
                   help="heatmap: the metric (default latency_p99; also instance_seconds, "
                        "requests_rejected, canary.status=rolled_back, ...)")
    p.add_argument("--stat", default="mean", choices=("mean", "p50", "p90", "p95", "p99"),
                   help="heatmap: the statistic per point (default mean: for an outcome, "
                        "its probability)")
    p.add_argument("--x", metavar="NAME", help="tradeoff: the metric on x (default "
                   "instance_seconds); heatmap: the parameter on x")
    p.add_argument("--y", metavar="NAME", help="tradeoff: the metric on y (default "
                   "latency_p99); heatmap: the parameter on y")
    p.add_argument("--parameter", metavar="PATH",
                   help="rollback, slo_attainment: the swept parameter on x (default: the "
                        "only one)")
    p.add_argument("--deployer", metavar="NAME",
                   help="rollback, durations: the deployer (default: the only one)")
    p.add_argument("--status", default="rolled_back",
                   help="rollback: the outcome whose probability is plotted (default "
                        "rolled_back)")
    p.add_argument("--baseline", type=float, default=None, metavar="VALUE",
                   help="power: x divided by VALUE, the regression as a multiple of the "
                        "baseline's value of the parameter")
    p.add_argument("--log", action="store_true",
                   help="power: log scale on x, a tick at each regression size")
    p.add_argument("--point", type=int, default=None, metavar="I",
                   help="latency, durations of a sweep: the point to plot")
    p.add_argument("--label", action="append", metavar="TEXT",
                   help="legend label of each RESULTS, in order (repeat)")
    p.add_argument("--title", metavar="TEXT", help="the plot's title")
    p.add_argument("--quiet", action="store_true", help="no progress messages")
    p.set_defaults(func=cmd_plot)
    p = sub.add_parser("docs", help="list the documentation topics, or print one",
                       description=DOCS_HELP,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("topic", nargs="?", metavar="TOPIC",
                   help="the topic to print (default: list them)")
    p.set_defaults(func=cmd_docs)
    p = sub.add_parser("bench", help="measure the batch engine's speed on a preset",
                       description="Run a preset with 1 thread and with every core and print "
                                   "requests simulated per second and replicas per second. "
                                   "The first line times the first result: it includes "
                                   "compiling the kernels when numba's cache lacks them.")
    p.add_argument("scenario", nargs="?", default="autoscale-spike", metavar="PRESET",
                   help="a preset name (default autoscale-spike)")
    p.add_argument("--replicas", type=_positive_int, default=1000, metavar="N",
                   help="replicas per measurement (default 1000)")
    p.set_defaults(func=cmd_bench)
    from .tune.command import register as register_tune

    register_tune(sub, _positive_int, _seed)
    parser.commands = dict(sub.choices)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        # An option the command does not take: the command's usage, not the top level's.
        command = parser.commands.get(getattr(args, "command", None) or "", parser)
        hint = ""
        if args.command == "run" and any(a.split("=")[0] == "--param" for a in extra):
            hint = (" (run runs one setting: --set PATH=VALUE changes it; sweep values with "
                    "`fastdeploy sweep FILE --param PATH=V1,V2,...` or `fastdeploy plot`)")
        command.error(f"unrecognized arguments: {' '.join(extra)}{hint}")
    if not getattr(args, "command", None):
        parser.print_help()
        return 0
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("\ninterrupted; nothing was written", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`fastdeploy run ... | head`): no traceback, and no second
        # error when Python flushes stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
