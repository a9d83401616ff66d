"""fastdeploy: simulate auto-scaling and deployment strategies under random traffic."""

from __future__ import annotations

import argparse
import sys
import time

from . import __version__


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


def cmd_presets(args) -> int:
    from .presets import PRESETS

    for name, build in PRESETS.items():
        print(f"{name:18s} {build.__doc__.strip().splitlines()[0]}")
    return 0


def cmd_run(args) -> int:
    from .presets import PRESETS
    from .summary import format_summary, summarize

    if args.scenario not in PRESETS:
        print(f"fastdeploy run: unknown scenario {args.scenario!r}; presets: "
              f"{', '.join(PRESETS)}", file=sys.stderr)
        return 2
    sim = PRESETS[args.scenario](args.seed)
    progress = not args.quiet and sys.stderr.isatty()
    t0 = time.perf_counter()
    result = sim.run_batch(args.replicas, threads=args.threads, progress=progress)
    wall = time.perf_counter() - t0
    if args.out:
        import pyarrow.parquet as pq

        pq.write_table(result.table, args.out)
    print(f"{args.scenario}: {args.replicas} replicas, seed {args.seed}, {wall:.1f} s")
    print(format_summary(summarize(result.table)))
    if args.out:
        print(f"per-replica table written to {args.out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fastdeploy", description=__doc__)
    parser.add_argument("--version", action="version", version=f"fastdeploy {__version__}")
    sub = parser.add_subparsers(dest="command")
    p = sub.add_parser("presets", help="list the preset scenarios",
                       description="List the preset scenarios.")
    p.set_defaults(func=cmd_presets)
    p = sub.add_parser("run", help="run a preset's replicas and print a summary",
                       description="Run replicas of a preset in the batch engine and print "
                                   "each metric's mean with a 95%% confidence interval and its "
                                   "spread across replicas.")
    p.add_argument("scenario", help="a preset name (see `fastdeploy presets`)")
    p.add_argument("--replicas", type=_positive_int, default=2000,
                   help="replicas to run (default 2000)")
    p.add_argument("--seed", type=_seed, default=0, help="seed of the random streams (default 0)")
    p.add_argument("--threads", type=_positive_int, default=None,
                   help="threads (default: every core)")
    p.add_argument("--out", help="write the per-replica table to this Parquet file")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=cmd_run)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 0
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted; nothing was written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
