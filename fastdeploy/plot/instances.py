"""Instances over time: the median and percentile bands across replicas, with the
traffic rate on a second axis."""

from __future__ import annotations

import numpy as np

from . import _mpl
from .inputs import as_runs
from .labels import titled
from .traffic import rate_times, source_rates


def instance_bands(timeseries, column: str = "instances") -> dict[str, np.ndarray]:
    """Per sample time: ``time`` and the 1st, 10th, 50th, 90th and 99th percentiles of
    ``column`` across replicas (keys ``p1`` ... ``p99``), plus ``replicas``."""
    t = timeseries.column("time").to_numpy()
    v = timeseries.column(column).to_numpy(zero_copy_only=False).astype(np.float64)
    times, inverse = np.unique(t, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    counts = np.bincount(inverse, minlength=times.size)
    if np.all(counts == counts[0]):
        grid = v[order].reshape(times.size, counts[0])
    else:  # replicas sampled at different times: pad with NaN
        grid = np.full((times.size, counts.max()), np.nan)
        for i, (s, c) in enumerate(zip(np.cumsum(counts) - counts, counts)):
            grid[i, :c] = v[order][s:s + c]
    # "nearest": counts stay whole numbers, so the bands step like the counts do.
    q = np.nanpercentile(grid, [1, 10, 50, 90, 99], axis=1, method="nearest")
    out = {"time": times, "replicas": int(counts.max())}
    out.update({f"p{p}": q[i] for i, p in enumerate((1, 10, 50, 90, 99))})
    return out


def _has_booting(timeseries) -> bool:
    if "booting_instances" not in timeseries.column_names:
        return False  # a file written before instances could boot
    return bool(np.any(timeseries.column("booting_instances").to_numpy() > 0))


def plot_instances(result, *, simulation=None, rate=None, title=None, out=None):
    """Instances over time across replicas, with the traffic rate.

    Args:
        result: A BatchResult run with ``timeseries=step`` (its Simulation gives the
            traffic rate), or a time-series table / Parquet file.
        simulation: The Simulation whose sources give the traffic rate, when ``result``
            does not carry it (a table or file).
        rate: Instead of ``simulation``: ``(times, rates)`` in seconds and requests per
            second, or False for no rate axis.
        title: The title (default: ``<label>: instances over time``, the label being
            the scenario or file name when known).
        out: Save to this path (.png, .svg or .pdf).

    Returns:
        The matplotlib Figure: the median instance count, the 10-90 and 1-99 percentile
        bands across replicas (instances that cost, draining ones included, sampled every
        time-series step), the medians of ready and booting instances when some
        instance boots (a start-up delay), and the rate of each source on the right axis.
    """
    runs = as_runs(result, simulation=simulation)
    if runs.timeseries is None:
        raise ValueError("no time series: run the batch with timeseries=STEP_SECONDS "
                         "(e.g. sim.run_batch(200, timeseries=2.0))")
    b = instance_bands(runs.timeseries)
    with _mpl.style():
        fig, ax = _mpl.figure(8.0, 4.5)
        t = b["time"]
        step = {"step": "post"}
        # Opaque blues (light to dark), so each band reads the same wherever it lies.
        ax.fill_between(t, b["p1"], b["p99"], color="#c6dbef", lw=0,
                        label="1-99 percentile", **step)
        ax.fill_between(t, b["p10"], b["p90"], color="#6baed6", lw=0,
                        label="10-90 percentile", **step)
        ax.step(t, b["p50"], where="post", color="#08306b", lw=1.8,
                label=f"median of {b['replicas']} replicas")
        if _has_booting(runs.timeseries):
            # Instances that take time to start: how many of them serve, how many boot.
            ready = instance_bands(runs.timeseries, "ready_instances")
            booting = instance_bands(runs.timeseries, "booting_instances")
            ax.step(t, ready["p50"], where="post", color="#238b45", lw=1.4,
                    label="median ready")
            ax.step(t, booting["p50"], where="post", color="#d94801", lw=1.4,
                    label="median booting")
        ax.set_xlabel("time (s)")
        ax.set_ylabel("instances")
        ax.set_xlim(t[0], t[-1])
        ax.set_ylim(0, max(1.0, float(np.max(b["p99"]))) * 1.1)
        ax.yaxis.get_major_locator().set_params(integer=True)
        handles, labels = ax.get_legend_handles_labels()
        lines = _rate_lines(runs.simulation, rate)
        if lines:
            ax2 = ax.twinx()
            ax2.grid(False)
            styles = ("--", ":", "-.")
            for i, (name, (rt, rv)) in enumerate(lines.items()):
                label = "traffic rate" if len(lines) == 1 else f"rate of {name}"
                (h,) = ax2.plot(rt, rv, color=_mpl.ORANGE, lw=1.4, ls=styles[i % 3],
                                label=label)
                handles.append(h)
                labels.append(label + " (right axis)")
            ax2.set_ylabel("traffic rate (requests/s)", color=_mpl.ORANGE)
            ax2.tick_params(axis="y", colors=_mpl.ORANGE)
            ax2.set_ylim(bottom=0, top=max(float(np.max(v)) for _, v in lines.values()) * 1.15
                         or 1.0)
            ax2.spines["right"].set_visible(True)
        # Below the axes: a legend inside would hide bands or the rate on the twin axis.
        fig.legend(handles, labels, loc="outside lower center", ncol=min(len(handles), 4),
                   frameon=False)
        ax.set_title(_mpl.wrap(title or titled(runs.label, "instances over time"), fig))
    return _mpl.finish(fig, out)


def _rate_lines(simulation, rate) -> dict:
    """{name: (times, rates)} for the right axis."""
    if rate is False:
        return {}
    if rate is not None:
        times, rates = rate
        return {"traffic": (np.asarray(times, float), np.asarray(rates, float))}
    if simulation is None or not getattr(simulation, "sources", None):
        return {}
    times = rate_times(simulation)
    return {name: (times, r) for name, r in source_rates(simulation, times).items()}
