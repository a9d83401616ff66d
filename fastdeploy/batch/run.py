"""Running a lowered scenario: chunks of replicas, threads, capacities, results."""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ..core import validate
from ..progress import Progress
from . import schema as sc
from ..rules import profiles
from .bundles import make_outputs, make_parts, make_workspace
from .calls import make_calls
from .kernels import run_replicas
from .lower import BatchModel, lower
from .precompile import compile_on_two_cores
from .results import metrics_table, scaling_events_table, timeseries_table

# Largest request pool (nodes) or server count one replica may grow to before the run is
# refused: 2**24 nodes are about 800 MB for one replica.
MAX_CAPACITY = 2**24
# Most servers one replica may create (each is a row of several banks).
MAX_SERVERS = 2**17
# Replicas whose outputs are held as arrays at once (then turned into tables).
CHUNK_REPLICAS = 8192
# Most replicas handed to a thread at once.
SLICE_REPLICAS = 64


@dataclass
class BatchResult:
    """What ``Simulation.run_batch`` returns.

    Attributes:
        table: One row per replica: ``replica``, ``seed`` and the object engine's
            ``summary.metrics`` names.
        scaling_events: (replica, scaler, time, action, from_count, to_count).
        timeseries: (replica, time, instances, queue_depth, utilization, in_flight) when
            run with ``timeseries=step_seconds``, else None.
        wall_time: Seconds the kernels ran.
    """

    table: pa.Table
    scaling_events: pa.Table
    timeseries: pa.Table | None
    wall_time: float
    simulation: object = None
    seed: int = 0
    params: tuple = ()

    def replay(self, replica: int):
        """Re-run one replica in the object engine with ``trace=True``.

        The replica runs with the seed and the parameter values of its row (``params=``
        of ``run_batch``), so its ``summary.metrics`` equal the row.

        Returns:
            A new Simulation (the one that ran the batch is left as it is): its
            ``summary``, ``trace_log`` and objects show the run.

        Raises:
            ValueError: the replica is not in this result, or it is in several rows with
                different parameter values.
        """
        from .assign import with_parameters

        reps = self.table.column("replica").to_numpy()
        rows = np.flatnonzero(reps == replica) if isinstance(
            replica, (int, np.integer)) and not isinstance(replica, bool) else []
        if len(rows) == 0:
            raise ValueError(f"replica {replica!r} is not in this result")
        values = [{p: self.table.column(p)[int(r)].as_py() for p in self.params} for r in rows]
        if any(v != values[0] for v in values[1:]):
            raise ValueError(f"replica {replica} is in {len(rows)} rows with different "
                             "parameter values; replay one with "
                             "fastdeploy.batch.assign.with_parameters")
        sim = with_parameters(self.simulation, values[0])
        sim.trace = True
        sim.seed = self.seed
        sim.run(replica=int(replica))
        return sim


def default_threads() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _replica_array(replicas) -> np.ndarray:
    if isinstance(replicas, (int, np.integer)) and not isinstance(replicas, bool):
        n = validate.integer("replicas", int(replicas), minimum=1)
        return np.arange(n, dtype=np.int64)
    arr = np.asarray(replicas)
    if arr.ndim != 1 or arr.size == 0 or arr.dtype.kind not in "iu":
        raise ValueError(f"replicas must be a positive count or a non-empty 1-D array of "
                         f"replica indices, got {replicas!r}")
    if (arr < 0).any():
        raise ValueError(f"replicas must be >= 0, got {int(arr.min())}")
    return arr.astype(np.int64)


def run_model(model: BatchModel, replica_ids: np.ndarray, seed: int, *, threads=None,
              params=None, timeseries=None, progress=False, chunk=CHUNK_REPLICAS,
              extra_columns=None, memory_budget=None):
    """Run ``replica_ids`` of ``model``; returns (table, scaling_events, timeseries, wall).

    Replicas run in chunks of ``chunk``: each chunk's outputs become pyarrow tables before
    the next starts, so memory beyond the tables stays flat in the number of replicas.
    A run whose planned memory exceeds ``memory_budget`` bytes (default: half of the
    machine's memory) is refused before it starts.
    """
    n = len(replica_ids)
    P_ROWS, p_index = model.params.rows(n, params)
    # Swept parameters are columns of the table too (SPEC section 8).
    extra_columns = dict(extra_columns or {})
    for path in params or {}:
        slot = model.params.by_path[path]
        values = P_ROWS[p_index, slot.index]
        extra_columns[path] = values.astype(np.int64) if slot.integer else values
    threads = default_threads() if threads is None else validate.integer(
        "threads", threads, minimum=1, maximum=1024)
    chunk = validate.integer("chunk", chunk, minimum=1)
    if timeseries is not None:
        step = validate.number("timeseries", timeseries, minimum=0.0, min_open=True)
        step_ns = max(1, int(np.floor(step * 1e9 + 0.5)))
        n_ts = (model.end_ns - model.start_ns) // step_ns + 1
    else:
        step_ns, n_ts = 1, 0
    # Each live evaluation chain records at most one scaling event per evaluation.
    ev_cap = 1
    for slot, live in model.scaler_slots:
        min_interval = float(P_ROWS[:, slot].min(initial=np.inf))
        if np.isfinite(min_interval):
            ev_cap += live * (int((model.end_ns - model.start_ns) / 1e9 / min_interval) + 2)
    max_conc = model.max_concurrency(P_ROWS)
    # The marks of the controllers' metric windows each server keeps.
    mark_slots = model.mark_slots(P_ROWS)
    judge = model.judge_size(P_ROWS)
    parts = make_parts(model.scenario)
    _check_memory(model, n, n_ts, ev_cap, chunk, memory_budget, n if params else 1)
    _check_work(model, P_ROWS)
    seed_u = np.uint64(seed)
    span = np.array([model.start_ns, model.end_ns], np.int64)
    local = threading.local()
    tables, event_tables, series_tables = [], [], []
    reporter = None
    if progress and not callable(progress):
        reporter = Progress("run_batch", n, threads)
        reporter.start()
    t0 = time.perf_counter()
    done = 0
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for c0 in range(0, max(n, 1), chunk):
            ids = replica_ids[c0:c0 + chunk]
            index = p_index[c0:c0 + chunk]
            m = len(ids)
            out = make_outputs(model.scenario, m, ev_cap, n_ts)
            STATUS = out.status
            if c0 == 0:  # a cold compile uses a second core (precompile.py)
                ws = make_workspace(model.scenario, model.server_cap, model.pool_cap,
                                    mark_slots, max_conc, judge)
                compile_on_two_cores((model.scenario, P_ROWS, index, ids, seed_u, span,
                                      step_ns, 0, m, out, ws, parts),
                                     model.scenario, P_ROWS, out, ws, parts)
                parts = parts._replace(calls=make_calls(model.scenario, P_ROWS, out, ws, parts))

            def work(sl: slice, ids=ids, index=index, out=out, STATUS=STATUS):
                if not hasattr(local, "caps"):
                    local.caps = [model.server_cap, model.pool_cap]
                    local.ws = make_workspace(model.scenario, *local.caps, mark_slots,
                                              max_conc, judge)
                j = sl.start
                while j < sl.stop:
                    j = run_replicas(model.scenario, P_ROWS, index, ids, seed_u, span, step_ns,
                                     j, sl.stop, out, local.ws, parts)
                    if j == sl.stop:
                        break
                    # Replica j outgrew the workspace: grow what ran out, run j again.
                    which = GROWS[STATUS[j, sc.RS_OVERFLOW]]
                    if local.caps[which] >= LIMITS[which]:
                        STATUS[j, sc.RS_SERVER_CAP:] = local.caps
                        j += 1
                        continue
                    local.caps[which] *= 2
                    local.ws = make_workspace(model.scenario, *local.caps, mark_slots,
                                              max_conc, judge)
                return sl.stop - sl.start

            # Small slices handed out dynamically keep every core busy to the end, and an
            # interrupt waits for no more than one slice per thread; the kernel releases
            # the GIL, so Python threads run it in parallel.
            size = max(1, min(SLICE_REPLICAS, -(-m // (8 * threads))))
            futures = [pool.submit(work, slice(i, min(m, i + size))) for i in range(0, m, size)]
            try:
                for fut in as_completed(futures):
                    done += fut.result()
                    if callable(progress):
                        progress(done, n)
                    elif reporter is not None:
                        reporter.update(done, n)
            except BaseException:
                for fut in futures:
                    fut.cancel()
                if reporter is not None:
                    reporter.close()
                raise
            _check_status(ids, STATUS)
            counts = out.totals[:, sc.OG_NSCALE]
            if (counts > ev_cap).any():
                raise RuntimeError(f"internal: more than the planned {ev_cap} scaling events "
                                   "in a replica")
            extra = {k: v[c0:c0 + chunk] for k, v in extra_columns.items()}
            tables.append(metrics_table(model, ids, seed, out, extra))
            event_tables.append(scaling_events_table(model, ids, out.scaling_events, counts))
            if n_ts:
                series_tables.append(timeseries_table(model, ids, out.timeseries, step_ns))
    if reporter is not None:
        reporter.close()
    wall = time.perf_counter() - t0
    series = pa.concat_tables(series_tables) if n_ts else None
    return pa.concat_tables(tables), pa.concat_tables(event_tables), series, wall


def machine_memory() -> int:
    """Physical memory in bytes (0 when unknown)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return 0


def planned_bytes(model, n: int, n_ts: int, ev_cap: int, chunk: int,
                  param_rows: int = 1) -> int:
    """What a run of n replicas holds at its peak: the replica indices and parameter rows,
    one chunk's output arrays, the result tables (8 bytes a value), and a workspace per
    thread (small, left out)."""
    sn = model.scenario
    n_cols = (16 + len(sc.LB_STATS) * sn.lb_init.shape[0]
              + len(sc.SC_STATS) * sn.scaler_init.shape[0]
              + sc.DEPLOYER_OUT * (sn.canary_init.shape[0] + sn.rolling_init.shape[0]))
    m = min(n, chunk)
    arrays = n * 16 + param_rows * 8 * len(model.params.slots)
    arrays += m * (8 * (n_cols + 5 * ev_cap) + 32 * n_ts)
    tables = n * 8 * n_cols + n * n_ts * 48
    # Scaling events: a table row (48 bytes) per event actually recorded, at most ev_cap.
    tables += n * 48 * min(ev_cap, 64)
    return int(arrays + tables)


def _check_memory(model, n, n_ts, ev_cap, chunk, budget, param_rows=1) -> None:
    if budget is None:
        total = machine_memory()
        if total == 0:
            return
        budget = total // 2
    budget = validate.integer("memory_budget", budget, minimum=1)
    need = planned_bytes(model, n, n_ts, ev_cap, chunk, param_rows)
    if need > budget:
        raise MemoryError(
            f"this run needs about {_size(need)} ({n} replicas"
            + (f", {n_ts} time-series samples each" if n_ts else "")
            + f"), over the memory budget of {_size(budget)}: run fewer replicas "
            "at a time (a sweep with out= writes them to disk chunk by chunk), "
            + ("a coarser timeseries step, " if n_ts else "") + "or raise memory_budget")


# Most arrivals one replica may plan: its counters and histogram are sized for this, and
# a replica beyond it would run for hours.
MAX_ARRIVALS = 2**31


def _check_work(model, P_ROWS) -> None:
    """Refuse, before running, a replica whose sources plan more than MAX_ARRIVALS."""
    if P_ROWS.shape[0] == 0:
        return
    horizon = (model.end_ns - model.start_ns) / 1e9
    total = np.zeros(P_ROWS.shape[0])
    for src in model.scenario.sources:
        off = int(src[sc.SRC_POFF])
        peak = np.array([profiles.peak_rate(int(src[sc.SRC_PROFILE]), row[off:],
                                            int(src[sc.SRC_POINTS])) for row in P_ROWS])
        total += peak * horizon
    worst = float(total.max())
    if worst > MAX_ARRIVALS:
        raise ValueError(f"the sources plan up to {worst:.3g} arrivals in one replica (peak rate "
                         f"x {horizon:g} s horizon), more than the {MAX_ARRIVALS} a replica may "
                         "hold: lower the rates or shorten the horizon")


def _size(nbytes: int) -> str:
    if nbytes < 2**20:
        return f"{nbytes} bytes" if nbytes < 2**10 else f"{nbytes / 2**10:.1f} KiB"
    return f"{nbytes / 2**30:.2f} GiB" if nbytes >= 2**30 else f"{nbytes / 2**20:.1f} MiB"


# Which capacity an overflow code grows (an index of the caps: servers, pool),
# and the most each may grow to.
GROWS = {sc.OVERFLOW_SERVERS: 0, sc.OVERFLOW_POOL: 1, sc.OVERFLOW_HEAP: 1}
LIMITS = (MAX_SERVERS, MAX_CAPACITY)


def _check_status(ids, STATUS) -> None:
    bad = np.nonzero(STATUS[:, sc.RS_OVERFLOW])[0]
    if bad.size:
        j = int(bad[0])
        code = STATUS[j, sc.RS_OVERFLOW]
        what = sc.OVERFLOW_NAMES[code]
        limit = LIMITS[GROWS[code]]
        raise MemoryError(
            f"replica {int(ids[j])} needs more than {limit} entries of its {what} "
            f"(servers: {STATUS[j, sc.RS_SERVER_CAP]}, request pool: "
            f"{STATUS[j, sc.RS_POOL_CAP]}): "
            "the scenario queues "
            "without bound; shorten the horizon, add capacity or a queue_capacity")


def run_batch(sim, replicas, *, seed=None, threads=None, params=None, timeseries=None,
              progress=False, memory_budget=None) -> BatchResult:
    """Run replicas of ``sim`` in the batch engine (see Simulation.run_batch)."""
    seed = sim.seed if seed is None else validate.integer("seed", seed, minimum=0,
                                                          maximum=2**63 - 1)
    model = lower(sim)
    if isinstance(replicas, (int, np.integer)) and not isinstance(replicas, bool):
        # Before any per-replica array exists: a lower bound of what run_model checks.
        n = validate.integer("replicas", int(replicas), minimum=1)
        _check_memory(model, n, 0, 1, CHUNK_REPLICAS, memory_budget, n if params else 1)
    replica_ids = _replica_array(replicas)
    table, events, series, wall = run_model(model, replica_ids, seed, threads=threads,
                                            params=params, timeseries=timeseries,
                                            progress=progress, memory_budget=memory_budget)
    return BatchResult(table, events, series, wall, sim, seed, tuple(params or ()))
