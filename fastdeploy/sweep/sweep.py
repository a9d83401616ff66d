"""``Sweep``: many points x many replicas of one scenario in the batch engine."""

from __future__ import annotations

import hashlib
import json
import sys
import time

import numpy as np
import pyarrow as pa
from tqdm import tqdm

from ..batch.lower import lower
from ..core import validate
from ..core.simulation import Simulation
from .execute import empty_table, make_task, model_fingerprint
from .plan import chunk_points, first_round, next_round
from .points import bind
from ..slo import check_metrics, parse_slos
from .result import SweepResult
from .runners import DaskRunner, LocalRunner
from .stats import half_widths, parse_until, split_columns
from .store import SweepStore

FORMAT_VERSION = 1
DEFAULT_CHUNK_REPLICAS = 100


def _sort(tables: list[pa.Table], schema: pa.Schema) -> pa.Table:
    if not tables:
        return schema.empty_table()
    table = pa.concat_tables(tables)
    return table.sort_by([("point", "ascending"), ("replica", "ascending")]).combine_chunks()


def _json_safe(value):
    if isinstance(value, np.generic):
        return value.item()
    return value


def as_simulation(simulation_or_builder, what: str = "simulation_or_builder") -> Simulation:
    """A Simulation, or what a callable with no arguments (a preset function) returns.

    Raises:
        TypeError: neither, naming ``what``.
    """
    if isinstance(simulation_or_builder, Simulation):
        return simulation_or_builder
    if callable(simulation_or_builder):
        sim = simulation_or_builder()
        if not isinstance(sim, Simulation):
            raise TypeError(f"{what}() returned {sim!r}, not a Simulation")
        return sim
    raise TypeError(f"{what} must be a Simulation or a callable returning one, got "
                    f"{simulation_or_builder!r}")


class Sweep:
    """Every point of a parameter space, each run for many replicas in the batch engine.

    The scenario is lowered once; a kernel call then runs many points at once (each row
    gets its point's parameter values). By default the sweep uses common random numbers:
    replica ``k`` of every point uses replica index ``k``, hence the same arrival and
    service streams, so differences between points are paired (see
    ``SweepResult.compare``).

    Args:
        simulation_or_builder: A Simulation made of built-in parts, or a callable with no
            arguments that returns one (e.g. ``fastdeploy.presets.autoscale_spike``).
        space: A ``Space`` (``grid``, ``random``, ``latin_hypercube``, combinations) or a
            sequence of point dicts over ``sim.batch_parameters()`` paths.
        replicas: Replicas per point (with ``until``: the first round's count).
        seed: Seed of the random streams (default: the simulation's seed).
        crn: Common random numbers across points (default). False gives every point its
            own seed (``fastdeploy.sweep.execute.point_seed``), i.e. independent runs.

    Raises:
        LoweringError: the scenario has a part the batch engine cannot run.
        ValueError: an unknown parameter path, a value a parameter does not accept (named
            with its point), an empty space, replicas < 1, a bad seed.
        TypeError: ``simulation_or_builder`` is neither a Simulation nor returns one.

    Examples:
        >>> from fastdeploy.presets import autoscale_spike
        >>> from fastdeploy.sweep import Sweep, grid
        >>> sweep = Sweep(autoscale_spike, grid({"scaler.policy.target": [0.5, 0.6, 0.7]}), 200)
        >>> result = sweep.run()                                    # doctest: +SKIP
        >>> result.summary.select(["scaler.policy.target", "latency_p99.mean"])  # doctest: +SKIP
    """

    def __init__(self, simulation_or_builder, space, replicas: int, seed: int | None = None, *,
                 crn: bool = True):
        sim = as_simulation(simulation_or_builder)
        self.simulation = sim
        self.model = lower(sim)
        self._bound = bind(space, self.model)
        self.replicas = validate.integer("replicas", replicas, minimum=1)
        self.seed = sim.seed if seed is None else validate.integer("seed", seed, minimum=0,
                                                                   maximum=2**63 - 1)
        self.crn = bool(crn)
        self.fingerprint = model_fingerprint(self.model)
        integer = {k for k in self._bound.keys if self.model.params.by_path[k].integer}
        self.schema = empty_table(self.model, self._bound.keys, integer).schema

    @property
    def keys(self) -> tuple[str, ...]:
        """The swept parameter paths."""
        return self._bound.keys

    @property
    def points(self) -> list[dict]:
        """The points as the scenario takes them (integer parameters as ints; a path a
        point does not set holds the scenario's value)."""
        return [dict(p) for p in self._bound.points]

    def __len__(self) -> int:
        return len(self._bound)

    def __repr__(self) -> str:
        return (f"Sweep({len(self)} points over {list(self.keys)}, replicas={self.replicas}, "
                f"seed={self.seed}, crn={self.crn})")

    def definition(self, *, chunk_replicas: int = DEFAULT_CHUNK_REPLICAS, until=None,
                   max_replicas=None) -> dict:
        """Everything that determines the rows of a run, as a JSON-able dict: the
        scenario's fingerprint, the points, replicas, seed, CRN, the chunk layout and the
        stopping rule. Thread count, Dask and progress do not change rows and are left
        out."""
        keys = list(self.keys)
        return {
            "format": FORMAT_VERSION,
            "scenario": self.fingerprint,
            "keys": keys,
            "points": [[_json_safe(p[k]) for k in keys] for p in self._bound.points],
            "seed": self.seed,
            "crn": self.crn,
            "replicas": self.replicas,
            "chunk_replicas": chunk_replicas,
            "chunk_points": chunk_points(chunk_replicas),
            "until": None if until is None else {k: float(v) for k, v in sorted(until.items())},
            "max_replicas": max_replicas,
        }

    @staticmethod
    def definition_hash(definition: dict) -> str:
        """SHA-256 of the definition's canonical JSON."""
        text = json.dumps(definition, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def run(self, threads: int | None = None, until: dict | None = None,
            max_replicas: int | None = None, chunk_replicas: int = DEFAULT_CHUNK_REPLICAS,
            out=None, resume: bool = False, client=None, progress: bool = False,
            slos=()) -> SweepResult:
        """Run the sweep.

        Args:
            threads: Kernel threads per chunk (default: every core locally; 1 per task
                on Dask, whose workers give the parallelism).
            until: Sequential stopping: ``{metric: half_width}`` absolute bounds on the
                95% CI half-width of each point's mean (or, for ``"<name>.status=<value>"``,
                of the Wilson interval of that outcome's probability). After the first
                ``replicas``, every point whose intervals are not all within bounds gets
                ``chunk_replicas`` more (indices continue), round after round, until
                every point is within bounds or has ``max_replicas``.
            max_replicas: Cap on replicas per point; required with ``until``.
            chunk_replicas: Replicas per point in one chunk, and the increment per round
                of sequential stopping. Chunks hold ``chunk_points(chunk_replicas)``
                consecutive points (about 4096 rows).
            out: A directory: each chunk is written there as a Parquet file when it
                finishes (atomically), with a ``_manifest.json``; it reads back as one
                dataset. At the end the summary (``SweepResult.summary``) is written to
                ``_summary.parquet`` there.
            resume: Continue the sweep in ``out``: chunks whose files are complete and
                readable are read back, not run; the others (missing, corrupt) are run.
            client: A ``distributed.Client``: chunks run on its workers. The table equals
                a local run's.
            progress: Print progress to stderr.
            slos: Service-level objectives (``"latency_p99<=0.5"`` or
                ``fastdeploy.slo.SLO``): the summary (and ``_summary.parquet``) gets each
                one's attainment per point (``SweepResult.summary``).

        Returns:
            SweepResult; its table is sorted by (point, replica) and is the same whether
            run at once, resumed, or on Dask.

        Raises:
            ValueError: bad options (``until`` without ``max_replicas``, an unknown
                ``until`` metric, ``resume`` without ``out``...), or resuming a
                different sweep (definition hash mismatch).
            FileExistsError: ``out`` is not empty and ``resume`` is False.
        """
        t0 = time.perf_counter()
        chunk_replicas = validate.integer("chunk_replicas", chunk_replicas, minimum=1)
        if threads is not None:
            threads = validate.integer("threads", threads, minimum=1, maximum=1024)
        bounds = None
        if until is None:
            if max_replicas is not None:
                raise ValueError("max_replicas only applies with until (sequential stopping)")
        else:
            if max_replicas is None:
                raise ValueError("until needs max_replicas: the most replicas per point to run "
                                 "if the bounds are not reached")
            max_replicas = validate.integer("max_replicas", max_replicas, minimum=1)
            if max_replicas < self.replicas:
                raise ValueError(f"max_replicas ({max_replicas}) must be >= replicas "
                                 f"({self.replicas})")
            empty = self.schema.empty_table()
            bounds = parse_until(dict(until), *split_columns(empty, self.keys))
        if resume and out is None:
            raise ValueError("resume=True needs out=DIR (the directory of the sweep to resume)")
        slos = parse_slos(slos)
        check_metrics(slos, split_columns(self.schema.empty_table(), self.keys)[0])

        definition = self.definition(chunk_replicas=chunk_replicas, until=until,
                                     max_replicas=max_replicas)
        digest = self.definition_hash(definition)
        store = SweepStore(out, definition, digest, resume) if out is not None else None
        if client is not None:
            runner = DaskRunner(client, self.simulation, self.fingerprint)
            task_threads = 1 if threads is None else threads
        else:
            runner = LocalRunner(self.model)
            task_threads = threads

        n_points = len(self._bound)
        counts = np.zeros(n_points, dtype=np.int64)
        tables: list[pa.Table] = []
        stats = {"run": 0, "reused": 0, "rows": 0}
        # Rows done of rows planned so far (sequential stopping adds rounds as it goes).
        bar = tqdm(desc="sweep", total=0, unit=" rows", file=sys.stderr, leave=False,
                   dynamic_ncols=True) if progress else None

        def execute(chunks, round_):
            tasks = []
            if bar is not None:
                bar.total += sum(len(c.point_ids) * (c.hi - c.lo) for c in chunks)
                bar.set_postfix_str(f"round {round_}")
            for chunk in chunks:
                table = store.read(chunk, self.schema) if store is not None else None
                if table is None:
                    tasks.append(make_task(chunk, self._bound, self.seed, self.crn,
                                           task_threads))
                else:
                    tables.append(table)
                    stats["reused"] += 1
                    stats["rows"] += table.num_rows
                    if bar is not None:
                        bar.update(table.num_rows)
            for task, table in runner.run(tasks):
                if store is not None:
                    store.write(task.chunk, table)
                tables.append(table)
                stats["run"] += 1
                stats["rows"] += table.num_rows
                if bar is not None:
                    bar.update(table.num_rows)
            for chunk in chunks:
                counts[list(chunk.point_ids)] = chunk.hi

        execute(first_round(n_points, self.replicas, chunk_replicas), 0)
        if bounds is not None:
            active = np.arange(n_points)
            done, round_ = self.replicas, 0
            while True:
                widths = half_widths(_sort(tables, self.schema), bounds, active)
                active = np.array([p for p in active
                                   if any(widths[int(p)][k] > b for k, (_, _, b) in bounds.items())],
                                  dtype=np.int64)
                if active.size == 0 or done >= max_replicas:
                    break
                round_ += 1
                execute(next_round(active, n_points, done, round_, chunk_replicas, max_replicas),
                        round_)
                done = min(max_replicas, done + chunk_replicas)
        if bar is not None:
            bar.close()
        table = _sort(tables, self.schema)
        result = SweepResult(table, self.points, self.keys, counts, digest,
                             time.perf_counter() - t0, stats["run"], stats["reused"],
                             simulation=self.simulation, seed=self.seed, crn=self.crn,
                             slos=slos)
        if store is not None:
            store.write_summary(result.summary)
            store.finish(table.num_rows)
        return result
