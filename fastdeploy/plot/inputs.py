"""What the plots read: batch results, sweep results, tables, and Parquet on disk.

Two shapes cover every plot:

- ``Runs``: replicas of one setting: the per-replica table (``BatchResult.table``, a
  ``fastdeploy run --out`` file, or the rows of one sweep point) and, for the instances
  plot, the time series (``BatchResult.timeseries``), with the Simulation when known.
- ``SweepData``: points of a sweep: the per-point summary (``SweepResult.summary`` or
  ``_summary.parquet``), the swept paths and, when available, the per-replica rows.

``as_runs`` and ``as_sweep`` accept the Python objects, pyarrow tables and paths;
``read`` turns a path into whichever of the two it holds.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

TIMESERIES_COLUMNS = {"replica", "time", "instances", "queue_depth"}
MANIFEST = "_manifest.json"
SUMMARY_FILE = "_summary.parquet"


@dataclass
class Runs:
    """Replicas of one setting.

    Attributes:
        table: One row per replica (may be None when only a time series was given).
        timeseries: (replica, time, instances, ...) rows, or None.
        simulation: The Simulation the replicas ran (traffic rates, deploy times), or None.
        label: A name for legends and titles.
    """

    table: pa.Table | None
    timeseries: pa.Table | None = None
    simulation: object = None
    label: str = "run"


@dataclass
class SweepData:
    """Points of a sweep.

    Attributes:
        summary: One row per point (``SweepResult.summary`` columns).
        keys: The swept parameter paths.
        table: One row per (point, replica), or None.
        label: A name for legends and titles.
    """

    summary: pa.Table
    keys: tuple[str, ...]
    table: pa.Table | None = None
    label: str = "sweep"

    @property
    def points(self) -> list[dict]:
        """One dict {path: value} per summary row."""
        cols = {k: self.summary.column(k).to_pylist() for k in self.keys}
        return [{k: cols[k][i] for k in self.keys} for i in range(self.summary.num_rows)]


# -- recognising tables ---------------------------------------------------------------------
def table_kind(table: pa.Table) -> str:
    """``timeseries``, ``summary`` (per point), ``sweep`` (per point and replica) or
    ``replicas`` (per replica); ValueError for anything else."""
    names = set(table.column_names)
    if TIMESERIES_COLUMNS <= names:
        return "timeseries"
    if {"point", "n"} <= names and any(c.endswith(".mean") for c in names):
        return "summary"
    if {"point", "replica", "requests_created"} <= names:
        return "sweep"
    if {"replica", "requests_created"} <= names:
        return "replicas"
    raise ValueError("not a fastdeploy result table: expected the columns of a batch run "
                     "(replica, requests_created, ...), a time series (replica, time, "
                     "instances, ...) or a sweep summary (point, n, <metric>.mean, ...)")


def _between(names: list[str], first: str, stop: str) -> tuple[str, ...]:
    """The columns strictly between ``first`` and ``stop``."""
    i, j = names.index(first), names.index(stop)
    return tuple(names[i + 1:j])


def sweep_keys(table: pa.Table) -> tuple[str, ...]:
    """The swept paths of a summary table (between ``point`` and ``n``) or of a sweep's
    rows (between ``seed`` and the first metric)."""
    names = table.column_names
    if "n" in names and "point" in names and names.index("n") > names.index("point"):
        return _between(names, "point", "n")
    return _between(names, "seed", "requests_created")


def _summary_of(table: pa.Table, keys, slos=()) -> pa.Table:
    from ..sweep.stats import summarize_points

    pts = table.column("point").to_pylist()
    cols = {k: table.column(k).to_pylist() for k in keys}
    points: dict[int, dict] = {}
    for i, p in enumerate(pts):
        points.setdefault(p, {k: cols[k][i] for k in keys})
    # summarize_points indexes points by id; ids need not be contiguous.
    by_id = [points.get(i, {}) for i in range(max(points) + 1)] if points else []
    return summarize_points(table, keys, by_id, slos)


def summary_with(data: SweepData, slos) -> pa.Table:
    """The sweep's summary with the attainment columns of every objective of ``slos``:
    the summary as it is when it has them, else computed from the per-replica rows."""
    if all(f"{s.name}.mean" in data.summary.column_names for s in slos):
        return data.summary
    if data.table is None:
        raise ValueError(f"{data.label}: only a summary, without the columns of "
                         f"{', '.join(s.name for s in slos)}; give the sweep's per-replica "
                         "rows (its output directory)")
    return _summary_of(data.table, data.keys, slos)


# -- files ----------------------------------------------------------------------------------
def read_sweep_dir(path) -> SweepData:
    """A ``fastdeploy sweep --out DIR`` directory (or ``sweep.run(out=DIR)``): the chunk
    files, the manifest's swept paths, and ``_summary.parquet`` when present (else the
    summary is computed from the rows)."""
    path = Path(path)
    chunks = sorted(path.glob("chunk-*.parquet"))
    summary_file = path / SUMMARY_FILE
    keys = None
    if (path / MANIFEST).is_file():
        with open(path / MANIFEST) as f:
            keys = tuple(json.load(f).get("definition", {}).get("keys", ())) or None
    table = None
    if chunks:
        table = pa.concat_tables([pq.read_table(c) for c in chunks],
                                 promote_options="default")
        table = table.sort_by([("point", "ascending"), ("replica", "ascending")])
    if summary_file.is_file():
        summary = pq.read_table(summary_file)
    elif table is not None:
        summary = _summary_of(table, keys if keys is not None else sweep_keys(table))
    else:
        raise ValueError(f"{path}: no sweep results here (expected chunk-*.parquet files "
                         f"or {SUMMARY_FILE}, as `fastdeploy sweep FILE --out DIR` writes)")
    if keys is None:
        keys = sweep_keys(summary)
    return SweepData(summary, keys, table, label=path.name or str(path))


def read(path, *, simulation=None):
    """``Runs`` or ``SweepData`` from a Parquet file or a sweep output directory."""
    p = Path(path)
    if p.is_dir():
        return read_sweep_dir(p)
    if not p.is_file():
        raise FileNotFoundError(f"{path}: no such file or directory")
    try:
        table = pq.read_table(p)
    except (pa.ArrowInvalid, OSError) as e:
        raise ValueError(f"{path}: not a Parquet file ({e})") from None
    label = p.stem
    try:
        kind = table_kind(table)
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None
    if kind == "timeseries":
        return Runs(None, table, simulation, label)
    if kind == "replicas":
        from ..runfile import RunInfo

        info = RunInfo.from_metadata(table.schema.metadata, str(path))
        if info is not None:
            # A `fastdeploy run --out` file: its scenario and settings come with it.
            if simulation is None:
                simulation = _simulation_of(info, path)
        return Runs(table, None, simulation, label)
    if kind == "summary":
        if label == "summary" and p.parent.name:
            label = p.parent.name
        return SweepData(table, sweep_keys(table), None, label)
    keys = sweep_keys(table)
    return SweepData(_summary_of(table, keys), keys, table, label)


def _simulation_of(info, path):
    """The Simulation a run file's metadata describes; ValueError naming the file."""
    from ..scenario import ScenarioError

    try:
        return info.simulation()
    except (ScenarioError, ValueError) as e:
        raise ValueError(f"{path}: its metadata fastdeploy.scenario does not build: "
                         f"{e}") from None


# -- coercion -------------------------------------------------------------------------------
def _is_batch_result(obj) -> bool:
    return all(hasattr(obj, a) for a in ("table", "timeseries", "scaling_events"))


def _is_sweep_result(obj) -> bool:
    return all(hasattr(obj, a) for a in ("table", "summary", "keys", "rows_of"))


def _path_like(obj) -> bool:
    return isinstance(obj, (str, os.PathLike))


def as_runs(obj, *, point=None, simulation=None, label=None) -> Runs:
    """Runs from a BatchResult, a SweepResult or SweepData (with ``point``: an index or a
    dict of parameters, needed when it has several points), a pyarrow table (per replica
    or a time series), a Parquet path, or Runs."""
    if isinstance(obj, Runs):
        runs = obj
    elif _is_batch_result(obj) and not _is_sweep_result(obj):
        runs = Runs(obj.table, obj.timeseries, getattr(obj, "simulation", None), "run")
    elif _is_sweep_result(obj) or isinstance(obj, SweepData):
        runs = _point_rows(obj, point)
    elif isinstance(obj, pa.Table):
        kind = table_kind(obj)
        if kind == "timeseries":
            runs = Runs(None, obj, None, "run")
        elif kind == "replicas":
            runs = Runs(obj, None, None, "run")
        elif kind == "sweep":
            keys = sweep_keys(obj)
            runs = _point_rows(SweepData(_summary_of(obj, keys), keys, obj), point)
        else:
            raise ValueError("a sweep summary has no per-replica rows; give the sweep's "
                             "rows (SweepResult, its table or its output directory)")
    elif _path_like(obj):
        got = read(obj, simulation=simulation)
        runs = got if isinstance(got, Runs) else _point_rows(got, point)
    else:
        raise TypeError(f"cannot plot a {type(obj).__name__}: expected a BatchResult, "
                        "SweepResult, pyarrow Table or the path of a Parquet file")
    if simulation is not None:
        runs.simulation = simulation
    if label is not None:
        runs.label = label
    return runs


def _point_rows(sweep, point) -> Runs:
    """The rows of one point of a SweepResult or SweepData."""
    data = sweep if isinstance(sweep, SweepData) else as_sweep(sweep)
    if data.table is None:
        raise ValueError(f"{data.label}: only a summary, no per-replica rows to plot")
    pts = data.table.column("point").to_pylist()
    ids = sorted(set(pts))
    if point is None:
        if len(ids) != 1:
            raise ValueError(f"{data.label} has {len(ids)} points: choose one, an index "
                             f"0..{len(ids) - 1} (point=, --point in the CLI)")
        point = ids[0]
    if isinstance(point, dict):
        hits = [i for i, p in zip(data.summary.column("point").to_pylist(), data.points)
                if all(p.get(k) == v for k, v in point.items())]
        if len(hits) != 1:
            raise ValueError(f"{len(hits)} points of {data.label} match {point!r}; "
                             "give an index or more parameters")
        point = hits[0]
    if point not in ids:
        raise ValueError(f"{data.label} has no point {point!r} (points 0..{max(ids)})")
    rows = data.table.filter(pc.equal(data.table.column("point"), point))
    where = {k: rows.column(k)[0].as_py() for k in data.keys}
    from .labels import settings, short_names

    return Runs(rows, None, None, f"{data.label} ({settings(where, short_names(data.keys))})")


def as_sweep(obj, *, label=None) -> SweepData:
    """SweepData from a SweepResult, a summary or per-replica sweep table, a sweep output
    directory or summary Parquet file, or SweepData."""
    if isinstance(obj, SweepData):
        data = obj
    elif _is_sweep_result(obj):
        data = SweepData(obj.summary, tuple(obj.keys), obj.table, "sweep")
    elif isinstance(obj, pa.Table):
        kind = table_kind(obj)
        if kind == "summary":
            data = SweepData(obj, sweep_keys(obj), None, "sweep")
        elif kind == "sweep":
            keys = sweep_keys(obj)
            data = SweepData(_summary_of(obj, keys), keys, obj, "sweep")
        else:
            raise ValueError("this table is not a sweep: give a SweepResult, its summary "
                             "or its table (with a point column)")
    elif _path_like(obj):
        data = read(obj)
        if not isinstance(data, SweepData):
            raise ValueError(f"{obj}: a single run, not a sweep (give a sweep output "
                             "directory or its _summary.parquet)")
    else:
        raise TypeError(f"cannot plot a {type(obj).__name__} as a sweep: expected a "
                        "SweepResult, a pyarrow Table or a path")
    if label is not None:
        data.label = label
    return data


def shared_deployer(names_per_result, none_message: str) -> str:
    """The one deployer that every result has, when the caller did not name one.

    ValueError with ``none_message`` when they share none, and asking for ``deployer=``
    when they share several.
    """
    found = set(names_per_result[0]).intersection(*names_per_result[1:])
    if not found:
        raise ValueError(none_message)
    if len(found) > 1:
        raise ValueError("choose the deployer (deployer=, --deployer in the CLI): "
                         f"{', '.join(sorted(found))}")
    return found.pop()
