"""``Tuner``: the cheapest settings that meet SLOs, found by Optuna with racing and a holdout.

The loop, batch after batch:

1. Optuna proposes ``parallel`` candidates (``study.ask``), a point of the space each.
2. The candidates race (``racing.py``): stage after stage they run more replicas, all
   with the same replica indices under the tune's seed (common random numbers), until
   their constraints are decided, they lose to the incumbent, or the budget ends. A
   stage's replicas of each candidate are one chunk through the sweep machinery
   (``fastdeploy.sweep.execute``), here or on Dask.
3. Each candidate's objective means go back to Optuna (``study.tell``), with the
   constraint violations (the one-sided bounds' distance to the limits) as
   ``Trial.set_constraint`` values, which Optuna's samplers read.

Then the finalists run again on fresh replicas (the holdout, another seed), and the
reported figures come from there: the best of many noisy estimates overstates itself
(the winner's curse), fresh replicas do not.

Reproducible: the sampler is re-created before every proposal with a seed derived from
the tune's seed and the trial number, so a proposal depends only on the trials stored
before it. With ``out=DIR`` the trials are in Optuna's journal storage and every
chunk's rows in Parquet; ``resume=True`` continues an interrupted tune and ends with the
same trials as an uninterrupted one.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
from tqdm import tqdm

from ..batch.lower import lower
from ..core import validate
from ..intervals import CONFIDENCE
from ..sweep.execute import ChunkTask, empty_table, model_fingerprint, point_seed
from ..sweep.plan import Chunk
from ..sweep.points import bind
from ..sweep.runners import DaskRunner, LocalRunner
from ..sweep.space import Space
from ..sweep.stats import split_columns
from ..sweep.sweep import as_simulation
from . import racing
from .goals import (
    FEASIBLE,
    INFEASIBLE,
    UNDECIDED,
    check_goals,
    parse_constraints,
    parse_objectives,
    worst,
)
from .result import TuneResult
from .space import check_space, describe
from .store import TuneStore

FORMAT_VERSION = 1
SAMPLERS = ("tpe", "nsga2", "random")
# The holdout's replicas use the tune's seed mixed with this "point" (point_seed), so
# they share no random stream with the search.
HOLDOUT_POINT = 2**32
INVALID = "invalid"
# The search ends when this many proposals in a row ran nothing (points already run, or
# invalid ones): the space, or the sampler's view of it, is exhausted, and the budget
# would never be spent.
IDLE_LIMIT = 25
STUDY_NAME = "fastdeploy-tune"


def _mix(seed: int, number: int) -> int:
    """The sampler's seed before proposing trial ``number`` (32 bits, as numpy wants)."""
    return point_seed(seed, number) & 0xFFFFFFFF


@dataclass
class Candidate:
    """One trial: its point, the replica ranges it ran and its figures."""

    trial: int
    batch: int
    params: dict
    ranges: list = field(default_factory=list)
    rows: pa.Table | None = None
    status: str = UNDECIDED
    stop: str = ""
    objectives: list = field(default_factory=list)
    constraints: list = field(default_factory=list)
    error: str | None = None
    same_as: int | None = None

    @property
    def replicas(self) -> int:
        return sum(hi - lo for lo, hi in self.ranges)

    def attrs(self) -> dict:
        """What is stored with the Optuna trial to rebuild this record on resume."""
        return {"batch": self.batch, "ranges": [list(r) for r in self.ranges],
                "status": self.status, "stop": self.stop, "error": self.error,
                "params": self.params, "same_as": self.same_as}

    def copy_of(self, other: "Candidate") -> None:
        """Take ``other``'s figures: the same point runs the same replicas (common random
        numbers), so running it again would only repeat them."""
        self.same_as = other.trial if other.same_as is None else other.same_as
        self.status, self.objectives, self.constraints = (other.status, other.objectives,
                                                          other.constraints)
        self.stop = f"same point as trial {self.same_as}"


def _trailing_idle(done: list[Candidate]) -> int:
    """How many of the latest trials (by number) ran nothing: a point run before, or an
    invalid one."""
    n = 0
    for c in sorted(done, key=lambda c: c.trial, reverse=True):
        if c.same_as is None and c.status != INVALID:
            break
        n += 1
    return n


class Tuner:
    """Search a space for the best settings that meet constraints with confidence.

    Args:
        scenario: A Simulation of built-in parts, a callable returning one (a preset
            function), or a ``fastdeploy.scenario.Scenario`` (a scenario file).
        space: ``{parameter path: Float(low, high) | Int(low, high) | Choice([...])}``
            over ``sim.batch_parameters()`` paths (``fastdeploy.tune.space``).
        objective: What to optimise: a metric name (minimised), ``"maximize METRIC"``,
            an ``Objective`` (with a price: money), or a list of them (several
            objectives: a Pareto front).
        constraints: SLO texts such as ``"P(latency_p99 <= 0.5) >= 0.95"``,
            ``"mean(requests_rejected) <= 1"``, ``'P(canary.status == "completed") >= 0.99'``
            (``fastdeploy.tune.goals``).
        replicas: Replicas of a candidate's first stage (racing doubles them).
        budget: Replicas the whole tune may simulate, holdout included.
        seed: Seed of the replicas (default: the scenario's) and of the sampler.
        max_replicas: Most replicas per candidate during the search (default 16 x
            ``replicas``).
        trials: Most candidates (default: as many as the budget allows).
        parallel: Candidates proposed and raced together (one batch; evaluated in
            parallel on Dask). Part of the result: the same value gives the same trials
            here and on a cluster.
        sampler: ``"tpe"`` (default with one objective), ``"nsga2"`` (default with
            several) or ``"random"``.
        finalists: Candidates re-run on the holdout.
        holdout_replicas: Replicas of each finalist on the holdout (default
            ``max_replicas``).
        confidence: The one-sided confidence of the constraint bounds (default 0.95).
        startup_trials: Random candidates before TPE models the trials (Optuna's
            ``n_startup_trials``, default 10); NSGA-II's population size.

    Raises:
        LoweringError: the scenario has a part the batch engine cannot run.
        ValueError: naming the argument: an unknown path or metric, a range the
            parameter does not accept, a malformed constraint, a budget too small for
            one candidate and the holdout, ...
    """

    def __init__(self, scenario, space, objective, constraints=(), replicas: int = 25,
                 budget: int = 4000, seed: int | None = None, *, max_replicas: int | None = None,
                 trials: int | None = None, parallel: int = 4, sampler: str | None = None,
                 finalists: int = 3, holdout_replicas: int | None = None,
                 confidence: float = CONFIDENCE, startup_trials: int = 10):
        if hasattr(scenario, "build") and not callable(scenario):
            sim = scenario.build()
        else:
            sim = as_simulation(scenario, "scenario")
        self.simulation = sim
        self.model = lower(sim)
        self.space = check_space(space, self.model)
        self.objectives = parse_objectives(objective)
        self.constraints = parse_constraints(constraints)
        self.replicas = validate.integer("replicas", replicas, minimum=1)
        self.max_replicas = (16 * self.replicas if max_replicas is None else
                             validate.integer("max_replicas", max_replicas, minimum=self.replicas))
        self.seed = sim.seed if seed is None else validate.integer("seed", seed, minimum=0,
                                                                   maximum=2**63 - 1)
        self.trials = None if trials is None else validate.integer("trials", trials, minimum=1)
        self.parallel = validate.integer("parallel", parallel, minimum=1, maximum=4096)
        multi = len(self.objectives) > 1
        self.sampler = sampler if sampler is not None else ("nsga2" if multi else "tpe")
        if self.sampler not in SAMPLERS:
            raise ValueError(f"sampler must be one of {', '.join(SAMPLERS)}, got {sampler!r}")
        self.finalists = validate.integer("finalists", finalists, minimum=1)
        self.holdout_replicas = (self.max_replicas if holdout_replicas is None else
                                 validate.integer("holdout_replicas", holdout_replicas,
                                                  minimum=2))
        if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) \
                or not 0.5 < confidence < 1:
            raise ValueError(f"confidence must be a number in (0.5, 1), got {confidence!r}")
        self.confidence = float(confidence)
        self.startup_trials = validate.integer("startup_trials", startup_trials, minimum=1)
        self.budget = validate.integer("budget", budget, minimum=1)
        reserve = self.finalists * self.holdout_replicas
        if self.budget < reserve + self.replicas:
            raise ValueError(f"budget = {budget} replicas cannot pay for one candidate "
                             f"({self.replicas}) and the holdout ({self.finalists} finalists "
                             f"x {self.holdout_replicas}); give at least {reserve + self.replicas}")
        self.search_budget = self.budget - reserve
        self.keys = tuple(self.space)
        integer = {k for k in self.keys if self.model.params.by_path[k].integer}
        self.schema = empty_table(self.model, self.keys, integer).schema
        numeric, outcomes = split_columns(self.schema.empty_table(), self.keys)
        check_goals(self.objectives, self.constraints, numeric, outcomes, self.keys)
        self.fingerprint = model_fingerprint(self.model)

    # -- definition -------------------------------------------------------------------------
    def definition(self) -> dict:
        """Everything that determines the trials, as a JSON-able dict (hashed into the
        output's manifest; resuming a different tune is refused)."""
        return {
            "format": FORMAT_VERSION, "kind": "tune", "scenario": self.fingerprint,
            "keys": list(self.keys),
            "space": {k: describe(d) for k, d in self.space.items()},
            "objectives": [{"metric": o.metric, "direction": o.direction,
                            "price_per_instance_hour": o.price_per_instance_hour}
                           for o in self.objectives],
            "constraints": [c.text for c in self.constraints],
            "replicas": self.replicas, "max_replicas": self.max_replicas,
            "budget": self.budget, "seed": self.seed, "trials": self.trials,
            "parallel": self.parallel, "sampler": self.sampler, "finalists": self.finalists,
            "holdout_replicas": self.holdout_replicas, "confidence": self.confidence,
            "startup_trials": self.startup_trials,
        }

    def __repr__(self) -> str:
        return (f"Tuner({len(self.keys)} parameters {list(self.keys)}, "
                f"{', '.join(o.describe() for o in self.objectives)}, "
                f"{len(self.constraints)} constraints, budget {self.budget} replicas)")

    # -- Optuna -----------------------------------------------------------------------------
    def _sampler(self, number: int):
        import optuna

        seed = _mix(self.seed, number)
        if self.sampler == "random":
            return optuna.samplers.RandomSampler(seed=seed)
        if self.sampler == "nsga2":
            return optuna.samplers.NSGAIISampler(population_size=max(2, self.startup_trials),
                                                 seed=seed)
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=self.startup_trials,
                                          multivariate=True)

    def _study(self, storage):
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        return optuna.create_study(
            study_name=STUDY_NAME, storage=storage, load_if_exists=True,
            directions=[o.direction for o in self.objectives])

    def _ask(self, study, batch: int) -> Candidate:
        import optuna

        number = len(study.get_trials(deepcopy=False))
        study.sampler = self._sampler(number)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            trial = study.ask()
            trial.set_user_attr("batch", batch)
            params = {k: d.suggest(trial, k) for k, d in self.space.items()}
        return Candidate(trial.number, batch, params)

    def _reopen(self, study, frozen, batch: int) -> Candidate:
        """The Candidate of a trial left running by an interrupted run. A trial stopped
        between its creation and its last suggestion gets the rest suggested now, by the
        sampler it had (the same seed and the same stored trials)."""
        params = {k: d.value(frozen.params[k]) for k, d in self.space.items()
                  if k in frozen.params}
        if len(params) < len(self.space):
            import optuna

            study.sampler = self._sampler(frozen.number)
            handle = self._handle(study, frozen.number)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                params = {k: d.suggest(handle, k) for k, d in self.space.items()}
        return Candidate(frozen.number, batch, params)

    # -- running ----------------------------------------------------------------------------
    def _task(self, cand: Candidate, values: dict, lo: int, hi: int, seed: int,
              threads) -> ChunkTask:
        chunk = Chunk((cand.trial, cand.trial + 1), (cand.trial,), lo, hi, 0)
        return ChunkTask(chunk, self.keys, values, seed, True, threads)

    def _run_tasks(self, runner, store, tasks) -> dict:
        """{chunk name: rows} of ``tasks``: chunks read back from ``store`` or run."""
        out, todo = {}, []
        for task in tasks:
            table = store.read(task.chunk, self.schema) if store is not None else None
            if table is None:
                todo.append(task)
            else:
                out[task.chunk.name] = table
        for task, table in runner.run(todo):
            if store is not None:
                store.write(task.chunk, table)
            out[task.chunk.name] = table
        return out

    def _figures(self, cand: Candidate) -> None:
        cand.objectives = [o.figures(cand.rows) for o in self.objectives]
        cand.constraints = [c.figures(cand.rows, self.confidence) for c in self.constraints]
        cand.status = worst(c["status"] for c in cand.constraints)

    def _objective_array(self, cand: Candidate) -> np.ndarray:
        """The first objective per replica index (NaN where null), for paired tests."""
        o = self.objectives[0]
        x = cand.rows.column(o.metric).to_numpy(zero_copy_only=False).astype(np.float64)
        return x * o.scale

    def _point_key(self, params: dict) -> tuple:
        return tuple(params[k] for k in self.keys)

    def _evaluate(self, cands: list[Candidate], incumbent: Candidate | None, remaining: int,
                  runner, store, threads, seen: dict) -> int:
        """Race a batch; returns the replicas it ran. ``seen``: {point: first candidate}
        of the points run so far (a repeated point takes the first one's figures)."""
        spent = 0
        active = []
        values = {}
        repeats = []
        for c in cands:
            try:
                bound = bind(Space([c.params]), self.model)
            except ValueError as e:
                c.status, c.error, c.stop = INVALID, str(e), "invalid point"
                continue
            c.params = dict(bound.points[0])
            key = self._point_key(c.params)
            if key in seen:
                repeats.append(c)
                continue
            seen[key] = c
            values[c.trial] = bound.values
            c.rows = self.schema.empty_table()
            active.append(c)
        inc_x = self._objective_array(incumbent) if incumbent is not None else None
        single = len(self.objectives) == 1
        while active:
            tasks = []
            for c in active:
                size = min(racing.stage_size(self.replicas, c.replicas, self.max_replicas),
                           remaining - spent)
                if size <= 0:
                    continue
                lo = c.replicas
                tasks.append(self._task(c, values[c.trial], lo, lo + size, self.seed, threads))
                spent += size
            ran = self._run_tasks(runner, store, tasks)
            by_trial = {task.chunk.point_ids[0]: task.chunk for task in tasks}
            still = []
            for c in active:
                chunk = by_trial.get(c.trial)
                if chunk is None:
                    c.stop = "budget"
                    continue
                c.ranges.append((chunk.lo, chunk.hi))
                c.rows = pa.concat_tables([c.rows, ran[chunk.name]])
                self._figures(c)
                diff = None
                if single and inc_x is not None and c.status != INFEASIBLE:
                    diff = racing.paired_difference(self._objective_array(c), inc_x,
                                                    self.objectives[0].sign, self.confidence)
                go, why = racing.decide(c.status, c.replicas, self.max_replicas, diff,
                                        incumbent.replicas if incumbent is not None else None)
                if go:
                    still.append(c)
                else:
                    c.stop = why
            active = still
        for c in repeats:
            c.copy_of(seen[self._point_key(c.params)])
        return spent

    @staticmethod
    def _handle(study, number: int):
        """A writable handle on trial ``number`` (also one asked by an earlier process,
        when resuming). Optuna has no public lookup by number, hence its storage."""
        import optuna

        tid = study._storage.get_trial_id_from_study_id_trial_number(study._study_id, number)
        return optuna.trial.Trial(study, tid)

    def _tell(self, study, cand: Candidate) -> None:
        """Store the candidate's record with its trial and report it to Optuna: its
        objective means, or a failed trial (an invalid point, an objective with no value)."""
        import optuna

        from .result import jsonable

        handle = self._handle(study, cand.trial)
        for k, v in jsonable(cand.attrs()).items():
            handle.set_user_attr(k, v)
        # Optuna's samplers treat a trial as feasible when every value is <= 0: the
        # distance of the safe-side bound from the limit, so undecided counts as not yet.
        for i, c in enumerate(cand.constraints):
            handle.set_constraint(f"c{i}", c["violation"])
        means = [o["mean"] for o in cand.objectives]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            if cand.status == INVALID or not means or any(not math.isfinite(m) for m in means):
                study.tell(handle, state=optuna.trial.TrialState.FAIL)
            else:
                study.tell(handle, means)

    @staticmethod
    def _incumbent(done: list[Candidate], sign: float) -> Candidate | None:
        best = None
        for c in done:
            if c.status != FEASIBLE or not c.objectives:
                continue
            m = c.objectives[0]["mean"]
            if not math.isfinite(m):
                continue
            if best is None or sign * m < sign * best.objectives[0]["mean"]:
                best = c
        return best

    def _restore(self, study, store, runner, threads) -> tuple[list[Candidate], list]:
        """Finished candidates rebuilt from the storage (rows read back or re-run), and
        the trials still running when the last run stopped (their batch's)."""
        import optuna

        finished, running = [], []
        for t in study.get_trials(deepcopy=False):
            if t.state == optuna.trial.TrialState.RUNNING:
                running.append(t)
                continue
            a = t.user_attrs
            c = Candidate(t.number, int(a["batch"]), dict(a["params"]),
                          [tuple(r) for r in a["ranges"]], status=a["status"], stop=a["stop"],
                          error=a.get("error"))
            if a.get("same_as") is not None:
                c.copy_of(next(f for f in finished if f.trial == a["same_as"]))
            elif c.status != INVALID:
                bound = bind(Space([c.params]), self.model)
                tasks = [self._task(c, bound.values, lo, hi, self.seed, threads)
                         for lo, hi in c.ranges]
                ran = self._run_tasks(runner, store, tasks)
                c.rows = pa.concat_tables([self.schema.empty_table()]
                                          + [ran[t.chunk.name] for t in tasks])
                self._figures(c)
            finished.append(c)
        return finished, running

    def run(self, out=None, resume: bool = False, client=None, threads: int | None = None,
            progress: bool = False) -> TuneResult:
        """Run the tune.

        Args:
            out: A directory: Optuna's journal (``_optuna.journal``), every chunk's rows as
                Parquet (``chunk-p<trial>-...parquet``, the search; ``_holdout/`` the
                holdout), the trials table (``_trials.parquet``), the finalists
                (``_finalists.parquet``) and the result (``_result.json``).
            resume: Continue the tune in ``out``: finished trials are read back, trials
                interrupted mid-race are raced again (their finished chunks read back).
            client: A ``distributed.Client``: each stage's chunks run on its workers.
            threads: Kernel threads per chunk (default: every core here, 1 on Dask).
            progress: A progress bar on stderr (search replicas of the budget, trials,
                the incumbent).

        Returns:
            TuneResult.

        Raises:
            ValueError: ``resume`` without ``out``, or ``out`` holding a different tune.
            FileExistsError: ``out`` is not empty and ``resume`` is False.
        """
        t0 = time.perf_counter()
        if resume and out is None:
            raise ValueError("resume=True needs out=DIR (the directory of the tune to resume)")
        if threads is not None:
            threads = validate.integer("threads", threads, minimum=1, maximum=1024)
        definition = self.definition()
        digest = hashlib.sha256(json.dumps(definition, sort_keys=True,
                                           separators=(",", ":")).encode()).hexdigest()
        store = TuneStore(out, definition, digest, resume) if out is not None else None
        if client is not None:
            runner = DaskRunner(client, self.simulation, self.fingerprint)
            threads = 1 if threads is None else threads
        else:
            runner = LocalRunner(self.model)
        import optuna

        storage = store.optuna_storage() if store is not None else optuna.storages.InMemoryStorage()
        study = self._study(storage)
        done, running = self._restore(study, store.trials if store else None, runner, threads)
        sign = self.objectives[0].sign
        spent = sum(c.replicas for c in done)
        batch = max([c.batch for c in done], default=-1) + 1
        # Trials interrupted mid-race: their whole batch is raced again from its start
        # (chunks read back), so the race sees what the uninterrupted run saw.
        if running:
            b = max(int(t.user_attrs.get("batch", -1)) for t in running)
            batch = b if b >= 0 else batch
            redo = [c for c in done if c.batch == batch]
            done = [c for c in done if c.batch != batch]
            spent = sum(c.replicas for c in done)
        else:
            redo = []
        pending = sorted([self._reopen(study, t, batch) for t in running] + redo,
                         key=lambda c: c.trial)
        for c in pending:
            c.ranges, c.rows, c.status, c.stop, c.error = [], None, UNDECIDED, "", None
        # Search replicas of the search budget (tqdm, as sweeps show their rows).
        bar = tqdm(desc="tune", total=self.search_budget, initial=spent, unit=" replicas",
                   file=sys.stderr, leave=False, dynamic_ncols=True) if progress else None
        while True:
            left = self.search_budget - spent
            count = len(done)
            k = min(self.parallel, left // self.replicas,
                    (self.trials - count) if self.trials is not None else self.parallel)
            if _trailing_idle(done) >= IDLE_LIMIT:
                k = 0
            if k <= 0 and not pending:
                break
            cands = list(pending)
            while len(cands) < k:
                cands.append(self._ask(study, batch))
            pending = []
            incumbent = self._incumbent(done, sign)
            seen = {}
            for c in sorted(done, key=lambda c: c.trial):
                if c.status != INVALID and c.same_as is None:
                    seen.setdefault(self._point_key(c.params), c)
            spent += self._evaluate(cands, incumbent, left, runner,
                                    store.trials if store else None, threads, seen)
            told = {t.number for t in study.get_trials(deepcopy=False)
                    if t.state != optuna.trial.TrialState.RUNNING}
            for c in cands:
                if c.trial not in told:   # re-raced after a resume: told already
                    self._tell(study, c)
            done += cands
            batch += 1
            if bar is not None:
                inc = self._incumbent(done, sign) if len(self.objectives) == 1 else None
                bar.update(spent - bar.n)
                bar.set_postfix_str(f"{len(done)} trials" + (
                    f", incumbent trial {inc.trial}: {self.objectives[0].name} "
                    f"{inc.objectives[0]['mean']:.6g}" if inc is not None else ""))
        if bar is not None:
            bar.close()
        finals = self._holdout(done, runner, store, threads)
        result = TuneResult.build(self, done, finals, spent, time.perf_counter() - t0)
        if store is not None:
            store.finish(result)
        return result

    # -- holdout ----------------------------------------------------------------------------
    def finalist_candidates(self, done: list[Candidate]) -> list[Candidate]:
        """The candidates re-run on the holdout.

        The eligible: shown feasible, or undecided with every constraint's estimate on
        the right side of its limit (plausibly feasible: a larger sample may show it);
        repeated points once. One objective: the best ``finalists`` eligible by
        objective mean, the best one shown feasible always among them. Several: the
        Pareto set (by means) of the eligible, thinned to ``finalists`` evenly along
        the first objective.
        """
        ok = [c for c in done if c.objectives and c.same_as is None
              and (c.status == FEASIBLE or (c.status == UNDECIDED and self._plausible(c)))
              and all(math.isfinite(o["mean"]) for o in c.objectives)]
        if not ok:
            return []
        signs = [o.sign for o in self.objectives]
        if len(self.objectives) == 1:
            ranked = sorted(ok, key=lambda c: (signs[0] * c.objectives[0]["mean"], c.trial))
            feasible = [c for c in ranked if c.status == FEASIBLE]
            picked = ranked[:self.finalists]
            if feasible and feasible[0] not in picked:
                picked = ranked[:self.finalists - 1] + [feasible[0]]
            return picked
        from .result import pareto_indices

        pts = np.array([[s * o["mean"] for s, o in zip(signs, c.objectives)] for c in ok])
        front = [ok[i] for i in pareto_indices(pts)]
        front.sort(key=lambda c: (signs[0] * c.objectives[0]["mean"], c.trial))
        if len(front) > self.finalists:
            idx = np.unique(np.round(np.linspace(0, len(front) - 1, self.finalists)).astype(int))
            front = [front[i] for i in idx]
        return front

    def _plausible(self, cand: Candidate) -> bool:
        """Every constraint's estimate meets its limit."""
        for con, f in zip(self.constraints, cand.constraints):
            est = f["estimate"]
            if not math.isfinite(est) or (est < con.limit if con.bound_op == ">=" else
                                          est > con.limit):
                return False
        return True

    def _holdout(self, done, runner, store, threads) -> list[Candidate]:
        seed = point_seed(self.seed, HOLDOUT_POINT)
        finals = []
        tasks = []
        for c in self.finalist_candidates(done):
            h = Candidate(c.trial, c.batch, dict(c.params))
            bound = bind(Space([c.params]), self.model)
            tasks.append(self._task(h, bound.values, 0, self.holdout_replicas, seed, threads))
            finals.append(h)
        ran = self._run_tasks(runner, store.holdout if store else None, tasks)
        for h, task in zip(finals, tasks):
            h.rows = ran[task.chunk.name]
            h.ranges = [(0, self.holdout_replicas)]
            self._figures(h)
            h.stop = "holdout"
        return finals

    @property
    def holdout_seed(self) -> int:
        """The seed of the holdout's replicas."""
        return point_seed(self.seed, HOLDOUT_POINT)
