"""Results on disk as points to compare: run files (``fastdeploy run --out``) or a sweep
output directory, for ``fastdeploy compare`` without running anything.

Each run file is a point; its parameters are the ``--set`` values in its metadata
(``fastdeploy.runfile``), a parameter another file set taking the scenario's value.
Runs share their random streams when they share the seed (every stream is keyed by
seed, replica and component), so their rows pair by replica; runs of different seeds
compare unpaired (Welch). A sweep directory's points pair by replica when the sweep ran
with common random numbers (its manifest's ``crn``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .runfile import read_info
from .sweep.stats import compare_points


@dataclass
class Points:
    """Rows of several points, ready for ``compare_points``.

    Attributes:
        table: Rows with a ``point`` column, sorted by point then replica.
        keys: The parameters that tell the points apart.
        points: One dict {key: value} per point id.
        labels: A name per point (its file), or None (a sweep's points are numbered).
        paired: Whether rows pair by replica (shared random streams).
        notes: Lines to print before the differences (how the points differ).
    """

    table: pa.Table
    keys: tuple[str, ...]
    points: list[dict]
    labels: list[str] | None
    paired: bool
    notes: list[str]

    def compare(self, slos=()) -> pa.Table:
        """Every point minus point 0 (``fastdeploy.sweep.stats.compare_points``)."""
        return compare_points(self.table, self.keys, self.points, 0, paired=self.paired,
                              slos=slos)


def is_results(arg: str) -> bool:
    """Whether a command-line argument names results on disk rather than a scenario."""
    p = Path(arg)
    return p.is_dir() or arg.endswith(".parquet")


def _scenario_value(info, path: str):
    from .batch.lower import lower

    table = lower(info.load_scenario().build(info.seed)).params
    slot = table.by_path.get(path)
    if slot is None:
        return None
    value = float(table.values[slot.index])
    return int(value) if slot.integer else value


def from_run_files(paths) -> Points:
    """Points from two or more ``fastdeploy run --out`` files, the first the baseline.

    Raises:
        ValueError: fewer than two files, a file that is not a per-replica table, or
            metadata that does not read back.
    """
    paths = [str(p) for p in paths]
    if len(paths) < 2:
        raise ValueError("give at least two run files to compare (the first is the "
                         "baseline)")
    tables, infos = [], []
    for p in paths:
        if not Path(p).is_file():
            raise ValueError(f"{p}: no such file")
        try:
            t = pq.read_table(p)
        except (pa.ArrowInvalid, OSError) as e:
            raise ValueError(f"{p}: not a Parquet file ({e})") from None
        if not {"replica", "seed", "requests_created"} <= set(t.column_names) \
                or "point" in t.column_names:
            raise ValueError(f"{p}: not a per-replica run table (`fastdeploy run --out` "
                             "writes one)")
        tables.append(t)
        infos.append(read_info(p))
    keys = sorted({k for info in infos if info is not None for k in info.parameters})
    points = []
    for info in infos:
        if info is None:
            points.append({k: None for k in keys})
        else:
            points.append({k: info.parameters[k] if k in info.parameters
                           else _scenario_value(info, k) for k in keys})
    seeds = [sorted(set(t.column("seed").to_pylist())) for t in tables]
    paired = all(s == seeds[0] and len(s) == 1 for s in seeds)
    notes = []
    for p, info, s in zip(paths, infos, seeds):
        what = (f"{info.scenario_name}, {info.replicas} replicas, seed {info.seed}"
                + "".join(f", {k}={v}" for k, v in sorted(info.parameters.items()))
                if info is not None else f"no metadata, seeds {s[0]}..{s[-1]}")
        notes.append(f"  {p}: {what}")
    texts = {info.scenario for info in infos if info is not None}
    if len(texts) > 1:
        notes.append("note: the files ran different scenario files")
    common = [c for c in tables[0].column_names
              if all(c in t.column_names for t in tables[1:])]
    rows = [t.select(common).append_column("point", pa.array(np.full(t.num_rows, i,
                                                                     np.int64)))
            for i, t in enumerate(tables)]
    table = pa.concat_tables(rows).sort_by([("point", "ascending"), ("replica", "ascending")])
    return Points(table, tuple(keys), points, paths, paired, notes)


def from_sweep_dir(path) -> Points:
    """Points of a ``fastdeploy sweep --out DIR`` directory, point 0 the baseline.

    Raises:
        ValueError: no per-replica rows in the directory, or fewer than two points.
    """
    from .plot.inputs import MANIFEST, read_sweep_dir

    data = read_sweep_dir(path)
    if data.table is None:
        raise ValueError(f"{path}: no per-replica rows (chunk-*.parquet) to compare")
    ids = sorted(set(data.table.column("point").to_pylist()))
    if len(ids) < 2:
        raise ValueError(f"{path}: one point; compare needs two or more")
    crn = True
    manifest = Path(path) / MANIFEST
    if manifest.is_file():
        crn = bool(json.loads(manifest.read_text()).get("definition", {}).get("crn", True))
    points: list[dict] = [{} for _ in range(max(ids) + 1)]
    summary_points = data.summary.column("point").to_pylist()
    for pid, p in zip(summary_points, data.points):
        points[pid] = p
    table = data.table
    if ids[0] != 0:
        raise ValueError(f"{path}: point 0 (the baseline) has no rows")
    return Points(table, tuple(data.keys), points, None, crn, [])
