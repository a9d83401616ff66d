"""What ``Sweep.run`` returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from .stats import compare_points, summarize_points


@dataclass(repr=False)
class SweepResult:
    """The rows of a sweep and statistics per point.

    Attributes:
        table: One row per (point, replica), sorted by point then replica: ``point``,
            ``replica``, ``seed``, one column per swept path (the point's value), then
            the batch engine's metrics (SPEC section 8).
        points: The points as run, one dict per point over every swept path.
        keys: The swept paths.
        replicas: Replicas run per point (numpy array; they differ between points only
            with sequential stopping).
        definition_hash: Hash of the sweep's definition (as in the output manifest).
        wall_time: Seconds the run took.
        chunks_run: Chunks computed by this run (not read back from ``out``).
        chunks_reused: Chunks read back from ``out`` when resuming.
        simulation: The swept Simulation (for ``replay``), or None.
        seed: The sweep's seed.
        crn: Whether the points shared their random streams (common random numbers).
        slos: The service-level objectives (``fastdeploy.slo.SLO``) whose attainment
            ``summary`` includes.
    """

    table: pa.Table
    points: list[dict]
    keys: tuple[str, ...]
    replicas: np.ndarray
    definition_hash: str
    wall_time: float = 0.0
    chunks_run: int = 0
    chunks_reused: int = 0
    _summary: pa.Table | None = field(default=None, repr=False)
    simulation: object = field(default=None, repr=False)
    seed: int = 0
    crn: bool = True
    slos: tuple = ()

    def __repr__(self) -> str:
        return (f"SweepResult({len(self.points)} points over {list(self.keys)}, "
                f"{self.table.num_rows} rows, {self.wall_time:.2f} s, "
                f"hash {self.definition_hash[:12]})")

    @property
    def summary(self) -> pa.Table:
        """One row per point (see ``fastdeploy.sweep.stats.summarize_points``).

        Columns: ``point``, the parameters, ``n``; per numeric metric ``<m>.n`` (non-null
        values), ``<m>.mean``, ``<m>.ci_low``, ``<m>.ci_high`` (95% t interval of the mean,
        clipped to the metric's support), ``<m>.p50``, ``<m>.p90``, ``<m>.p95``, ``<m>.p99`` across
        replicas; per deployer status value ``<name>.status=<value>.n``, ``.mean`` (the
        probability) and its 95% Wilson interval ``.ci_low``/``.ci_high``. The fields of
        a run summary (``fastdeploy.summary``, docs/summaries.md). Per objective of
        ``slos``: ``<slo>.n``, ``.mean`` (its attainment), ``.ci_low``, ``.ci_high``
        (95% Wilson interval).
        """
        if self._summary is None:
            self._summary = summarize_points(self.table, self.keys, self.points, self.slos)
        return self._summary

    def summarize(self, slos=()) -> pa.Table:
        """``summary`` with, per objective of ``slos`` (``"latency_p99<=0.5"`` or
        ``fastdeploy.slo.SLO``), the columns ``<slo>.n``, ``.mean`` (the share of the
        point's replicas meeting it), ``.ci_low``, ``.ci_high`` (95% Wilson interval)."""
        if not slos:
            return self.summary
        return summarize_points(self.table, self.keys, self.points, slos)

    def point_index(self, point) -> int:
        """The index of ``point``: an index, or a dict of parameter values that matches
        exactly one point (keys it leaves out may take any value).

        Raises:
            ValueError: no point or several points match; an index out of range.
        """
        if isinstance(point, (int, np.integer)) and not isinstance(point, bool):
            if not 0 <= point < len(self.points):
                raise ValueError(f"point {point} is out of range (0..{len(self.points) - 1})")
            return int(point)
        if not isinstance(point, Mapping):
            raise ValueError(f"a point is an index or a dict of parameters, got {point!r}")
        unknown = set(point) - set(self.keys)
        if unknown:
            raise ValueError(f"{sorted(unknown)} are not swept parameters ({list(self.keys)})")
        hits = [i for i, p in enumerate(self.points)
                if all(p[k] == v for k, v in point.items())]
        if len(hits) != 1:
            what = "no point" if not hits else f"{len(hits)} points ({hits[:10]})"
            raise ValueError(f"{what} match {point!r}; give more parameters or an index")
        return hits[0]

    def compare(self, baseline=0, *, paired: bool = True, slos=()) -> pa.Table:
        """Differences of every other point from ``baseline``, per metric.

        Args:
            baseline: The baseline point: an index or a dict of its parameters.
            paired: Match rows by replica index and give the t interval of the mean
                paired difference (the default: with common random numbers the pairs
                share their traffic, so the interval is narrow). False: Welch's interval
                of the difference of the two means, as for independent runs.
            slos: Objectives (``"latency_p99<=0.5"`` or ``fastdeploy.slo.SLO``) compared
                as 0/1 indicators of meeting them: ``<slo>.diff`` is the difference of
                attainment.

        Returns:
            One row per other point: ``point``, the parameters, ``n``, and per metric
            ``<m>.n``, ``<m>.diff`` (point minus baseline), ``<m>.ci_low``, ``<m>.ci_high`` (95%).
            Deployer outcomes compare as 0/1 indicators ``<name>.status=<value>``.
        """
        return compare_points(self.table, self.keys, self.points, self.point_index(baseline),
                              paired=paired, slos=slos)

    def rows_of(self, point) -> pa.Table:
        """The rows of one point (an index or a dict of its parameters)."""
        i = self.point_index(point)
        pts = self.table.column("point").to_numpy()
        return self.table.filter(pa.array(pts == i))

    def replay(self, point, replica: int):
        """Re-run one row in the object engine with ``trace=True``: ``replica`` of
        ``point`` (an index or a dict of its parameters), with that point's parameter
        values and seed, so its ``summary.metrics`` equal the row.

        Returns:
            A new Simulation; its ``summary``, ``trace_log`` and objects show the run.

        Raises:
            ValueError: no such point, or the point has no row for ``replica``; a result
                read back without its Simulation.
        """
        from ..batch.assign import with_parameters
        from .execute import point_seed

        i = self.point_index(point)
        if self.simulation is None:
            raise ValueError("this SweepResult has no Simulation to replay")
        reps = self.rows_of(i).column("replica").to_numpy()
        if isinstance(replica, bool) or not isinstance(replica, (int, np.integer)) \
                or replica not in reps:
            raise ValueError(f"point {i} has no replica {replica!r} (it ran replicas "
                             f"{int(reps.min())}..{int(reps.max())})" if reps.size else
                             f"point {i} has no rows")
        sim = with_parameters(self.simulation, self.points[i])
        sim.trace = True
        sim.seed = self.seed if self.crn else point_seed(self.seed, i)
        sim.run(replica=int(replica))
        return sim
