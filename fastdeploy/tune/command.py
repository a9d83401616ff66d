"""``fastdeploy tune FILE.toml``: the command line of ``Tuner`` (registered by cli.py)."""

from __future__ import annotations

import argparse
import os
import sys
import time

TUNE_HELP = """\
Search the [tune] section's space of a scenario file for the best settings that meet
its constraints with confidence (`fastdeploy docs tuning`): Optuna proposes candidates, each races
on common random numbers (more replicas only while a constraint is undecided or it may
beat the best so far), and the finalists are re-run on fresh replicas; the figures
printed come from those.

    fastdeploy tune my-tune.toml --out tune/       # then: fastdeploy plot tune/ --kind tune-history

With --out DIR the trials are stored as they finish (Optuna's journal, each race's rows
in Parquet); after an interruption the same command with --resume continues and ends
with the same trials. --scheduler ADDRESS races the candidates on a Dask cluster
(pip install 'fastdeploy[dask]'). Needs Optuna: pip install 'fastdeploy[tune]'.

Exit status: 0 done, 1 the run failed, 2 a mistake in the file or the arguments."""


def register(sub, positive_int, seed) -> None:
    """Add the ``tune`` subcommand to ``sub`` (argparse subparsers); ``positive_int`` and
    ``seed`` are cli.py's argument types."""
    p = sub.add_parser("tune", help="search a scenario file's [tune] space for the cheapest "
                                    "settings that meet its SLOs", description=TUNE_HELP,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scenario", metavar="FILE", help="a scenario file with a [tune] section")
    p.add_argument("--trials", type=positive_int, default=None, metavar="N",
                   help="most candidates (default: the [tune] section's trials, else as many "
                        "as the budget allows)")
    p.add_argument("--budget", type=positive_int, default=None, metavar="N",
                   help="replicas the tune may simulate, holdout included (default: the "
                        "[tune] section's)")
    p.add_argument("--seed", type=seed, default=None, metavar="S",
                   help="seed of the replicas and the sampler (default: the [tune] "
                        "section's, else simulation.seed)")
    p.add_argument("--out", metavar="DIR", help="store the trials and every race's rows in DIR")
    p.add_argument("--resume", action="store_true",
                   help="with --out: continue the tune in DIR")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="a Dask scheduler address (tcp://host:port) to race the candidates on")
    p.add_argument("--threads", type=positive_int, default=None, metavar="T",
                   help="threads per kernel call (default: every core locally)")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=cmd_tune)


def cmd_tune(args) -> int:
    from ..cli import _connect, _error, _load_scenario

    if args.resume and args.out is None:
        return _error("tune", "--resume needs --out DIR (the directory of the tune to resume)")
    try:
        import optuna  # noqa: F401
    except ImportError:
        return _error("tune", "needs Optuna: pip install 'fastdeploy[tune]' (or pip install "
                              "optuna)")
    loaded = _load_scenario("tune", args.scenario)
    if isinstance(loaded, int):
        return loaded
    label, scenario = loaded
    if scenario.tune is None:
        return _error("tune", f"{label} has no [tune] section (`fastdeploy docs tuning` "
                              "describes it)")
    from .tuner import Tuner

    options = dict(scenario.tune)
    for name in ("trials", "budget", "seed"):
        if getattr(args, name) is not None:
            options[name] = getattr(args, name)
    if options["seed"] is None:
        options["seed"] = scenario.seed
    try:
        tuner = Tuner(scenario.build(options["seed"]), **options)
    except ValueError as e:
        flag = {"budget": "--budget", "trials": "--trials"}
        message = str(e)
        for word, f in flag.items():
            if message.startswith(f"{word} ") and getattr(args, word) is not None:
                message = f"{f} {getattr(args, word)}: " + message
        return _error("tune", message)
    client = None
    if args.scheduler is not None:
        client = _connect(args.scheduler, "tune")
        if isinstance(client, int):
            return client
    t0 = time.perf_counter()
    try:
        result = tuner.run(out=args.out, resume=args.resume, client=client,
                           threads=args.threads, progress=not args.quiet and sys.stderr.isatty())
    except (ValueError, FileExistsError, NotADirectoryError) as e:
        return _error("tune", str(e))
    except KeyboardInterrupt:
        saved = (f"; the finished trials are in {args.out} (rerun with --resume)"
                 if args.out else "")
        print(f"\ninterrupted{saved}", file=sys.stderr)
        return 130
    finally:
        if client is not None:
            client.close()
    print(f"{label}: {tuner!r}, {time.perf_counter() - t0:.1f} s")
    print(result.format())
    if args.out:
        print(f"\ntrials in {os.path.join(args.out, '_trials.parquet')}, the result in "
              f"{os.path.join(args.out, '_result.json')}, every race's rows in {args.out}")
    return 0
