"""Running one chunk through the batch engine, locally or on a Dask worker."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ..batch.lower import BatchModel, lower
from ..batch.run import run_model
from .plan import Chunk

_MASK64 = 0xFFFFFFFFFFFFFFFF


def point_seed(seed: int, point: int) -> int:
    """The stream seed of ``point`` when common random numbers are off.

    SplitMix64 of (seed, point), so different points (and different sweep seeds) get
    unrelated streams; 63 bits, as ``Simulation(seed=...)`` accepts.
    """
    z = (seed * 0x9E3779B97F4A7C15 + (point + 1) * 0xD1B54A32D192ED03) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return (z ^ (z >> 31)) & 0x7FFFFFFFFFFFFFFF


@dataclass(frozen=True)
class ChunkTask:
    """Everything a worker needs besides the scenario: the chunk and its points' values.

    Attributes:
        chunk: The chunk.
        keys: Swept paths, in column order.
        values: ``{path: array}`` over ``chunk.point_ids`` (aligned with them).
        seed: The sweep's seed.
        crn: Common random numbers: every point uses ``seed``; else each its own.
        threads: Kernel threads (None: all cores of the process).
    """

    chunk: Chunk
    keys: tuple[str, ...]
    values: dict
    seed: int
    crn: bool
    threads: int | None


def make_task(chunk: Chunk, points, seed: int, crn: bool, threads) -> ChunkTask:
    """The ChunkTask of ``chunk`` for BoundPoints ``points``."""
    ids = np.asarray(chunk.point_ids, dtype=np.int64)
    return ChunkTask(chunk, points.keys, {k: v[ids] for k, v in points.values.items()},
                     seed, crn, threads)


def order_columns(table: pa.Table, keys) -> pa.Table:
    """``point, replica, seed``, the swept paths, then the metrics in engine order."""
    head = ["point", "replica", "seed", *keys]
    rest = [c for c in table.column_names if c not in head]
    return table.select(head + rest)


def run_chunk(model: BatchModel, task: ChunkTask) -> pa.Table:
    """Run every (point, replica) of ``task.chunk`` and return its rows.

    With common random numbers all points go into one ``run_model`` call: rows are
    point-major, replica ``k`` of every point uses replica index ``k`` (the same streams),
    and each row gets its point's parameter values. Without, each point runs in its own
    call with its own seed (:func:`point_seed`).

    Returns:
        ``point, replica, seed, <swept paths>, <metrics>``, sorted by (point, replica).
    """
    c = task.chunk
    ids = np.asarray(c.point_ids, dtype=np.int64)
    reps = np.arange(c.lo, c.hi, dtype=np.int64)
    m = reps.size

    def call(sel: np.ndarray, seed: int) -> pa.Table:
        params = {k: np.repeat(v[sel], m) for k, v in task.values.items()}
        table, _, _, _ = run_model(model, np.tile(reps, sel.size), seed, threads=task.threads,
                                   params=params or None,
                                   extra_columns={"point": np.repeat(ids[sel], m)})
        return table

    if task.crn:
        table = call(np.arange(ids.size), task.seed)
    else:
        table = pa.concat_tables([call(np.array([j]), point_seed(task.seed, int(p)))
                                  for j, p in enumerate(ids)])
    return order_columns(table, task.keys)


def empty_table(model: BatchModel, keys, integer) -> pa.Table:
    """The schema of a sweep's rows, with no rows."""
    table, _, _, _ = run_model(model, np.zeros(0, np.int64), 0, threads=1,
                               extra_columns={"point": np.zeros(0, np.int64)})
    for k in keys:
        table = table.append_column(k, pa.array(np.zeros(0, np.int64 if k in integer
                                                           else np.float64)))
    return order_columns(table, keys)


def model_fingerprint(model: BatchModel) -> str:
    """A hash of everything the kernels read from a lowered scenario."""
    h = hashlib.sha256()
    for name, value in model.scenario._asdict().items():
        if name in ("policy_functions", "hpa_sync"):
            # NumbaPolicy functions (and the HPA's sync, or its placeholder) by name;
            # their parameters are in the table below.
            funcs = value if name == "policy_functions" else (value,)
            names = [f"{getattr(f, '__module__', '')}.{getattr(f, '__qualname__', repr(f))}"
                     for f in funcs]
            h.update(repr(names).encode())
            continue
        arr = np.ascontiguousarray(value)
        h.update(f"{name}:{arr.dtype.str}:{arr.shape};".encode())
        h.update(arr.tobytes())
    slots = [(s.path, s.integer) for s in model.params.slots]
    h.update(repr((model.start_ns, model.end_ns, slots,
                   [float(v).hex() for v in model.params.values],
                   [(c.name, c.kind, c.index) for c in model.columns],
                   model.scaler_names)).encode())
    return h.hexdigest()


# Worker side: the scenario arrives as cloudpickle bytes; lowering it once per process
# (keyed by the bytes' hash) spares re-unpickling and re-lowering for every chunk.
_MODELS: dict[str, BatchModel] = {}
_MODELS_LOCK = threading.Lock()


def run_chunk_remote(scenario: bytes, fingerprint: str, task: ChunkTask) -> pa.Table:
    """What a Dask worker runs: unpickle and lower the scenario, run one chunk.

    Raises:
        RuntimeError: the scenario lowered on the worker differs from the one lowered
            by the client (its rows would not be the sweep's).
    """
    import cloudpickle

    key = hashlib.sha256(scenario).hexdigest()
    with _MODELS_LOCK:
        model = _MODELS.get(key)
    if model is None:
        model = lower(cloudpickle.loads(scenario))
        got = model_fingerprint(model)
        if got != fingerprint:
            raise RuntimeError("the scenario lowered on this worker differs from the client's "
                               f"(fingerprint {got[:12]} vs {fingerprint[:12]}); check that "
                               "both run the same fastdeploy version")
        with _MODELS_LOCK:
            if len(_MODELS) >= 8:
                _MODELS.clear()
            _MODELS[key] = model
    return run_chunk(model, task)
