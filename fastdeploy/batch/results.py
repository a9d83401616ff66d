"""Kernel output arrays -> pyarrow tables, and replay of one replica in the object engine."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from . import schema as sc

G_COLUMNS = ("requests_created", "requests_completed", "requests_failed", "requests_rejected")
STAT_NAMES = {"lb": sc.LB_STATS, "scaler": sc.SC_STATS, "canary": sc.CA_STATS,
              "rolling": sc.RO_STATS, "flagger": sc.FL_STATS}
DEPLOYER_KINDS = ("canary", "rolling", "flagger")


def metrics_table(model, replicas, seed, out, extra_columns=None) -> pa.Table:
    """One row per replica (of the Outputs bundle ``out``) with the object engine's metric
    names plus replica and seed."""
    OUT_G = out.totals
    cols: dict[str, pa.Array] = {
        "replica": pa.array(np.asarray(replicas, dtype=np.int64)),
        "seed": pa.array(np.full(len(replicas), seed, dtype=np.int64)),
    }
    for name, arr in (extra_columns or {}).items():
        cols[name] = pa.array(arr)
    for i, name in enumerate(G_COLUMNS):
        cols[name] = pa.array(OUT_G[:, i].copy())
    n = OUT_G[:, sc.G_COMPLETED]
    none = n == 0
    safe_n = np.where(none, 1, n)
    lat = {
        # The same float operations as the object engine: float(sum) / n / 1e9.
        "latency_mean": OUT_G[:, sc.G_LAT_SUM].astype(np.float64) / safe_n / 1e9,
        "latency_p50": out.quantiles[:, 0] / 1e9,
        "latency_p90": out.quantiles[:, 1] / 1e9,
        "latency_p95": out.quantiles[:, 2] / 1e9,
        "latency_p99": out.quantiles[:, 3] / 1e9,
        "latency_max": OUT_G[:, sc.G_LAT_MAX] / 1e9,
    }
    for name, values in lat.items():
        cols[name] = pa.array(values, mask=none)
    cols["instance_seconds"] = pa.array(OUT_G[:, sc.G_COST_NS].astype(np.float64) / 1e9)
    cols["final_instances"] = pa.array(OUT_G[:, sc.G_INSTANCES].copy())
    cols["peak_instances"] = pa.array(OUT_G[:, sc.G_PEAK].copy())
    LC = out.lifecycle
    cols["requests_dropped"] = pa.array(LC[:, sc.LC_DROPPED].astype(np.int64))
    cols["instance_seconds_booting"] = pa.array(LC[:, sc.LC_BOOTING_NS] / 1e9)
    cols["ready_instances_mean"] = pa.array(LC[:, sc.LC_READY_MEAN].copy())
    # Without an AutoScaler there is no "below max_instances": null, as the object engine.
    cols["time_underprovisioned"] = pa.array(LC[:, sc.LC_UNDER_NS] / 1e9,
                                             mask=np.full(len(LC), not model.scaler_names))
    outs = {"lb": out.lb_stats, "scaler": out.scaler_stats, "canary": out.canary_out,
            "rolling": out.rolling_out, "flagger": out.canary_out}
    for col in model.columns:
        rows = outs[col.kind][:, col.index, :]
        for f, field in enumerate(STAT_NAMES[col.kind]):
            cols[f"{col.name}.{field}"] = pa.array(rows[:, f].copy())
        if col.kind in DEPLOYER_KINDS:
            status = np.asarray(sc.STATUS_NAMES, dtype=object)[rows[:, sc.DO_STATUS]]
            cols[f"{col.name}.status"] = pa.array(status.tolist(), type=pa.string())
            end = rows[:, sc.DO_END]
            cols[f"{col.name}.end_time"] = pa.array(end / 1e9, mask=end < 0)
            outcome = np.asarray(sc.OUTCOME_NAMES, dtype=object)[rows[:, sc.DO_STATUS]]
            cols[f"{col.name}.outcome"] = pa.array(outcome.tolist(), type=pa.string())
            cols[f"{col.name}.time_to_decision"] = pa.array(
                (end - rows[:, sc.DO_START]) / 1e9, mask=end < 0)
            cols[f"{col.name}.max_weight"] = pa.array(rows[:, sc.DO_MAX_WEIGHT] / 1e4)
            cols[f"{col.name}.requests_new"] = pa.array(rows[:, sc.DO_REQUESTS_NEW].copy())
            cols[f"{col.name}.exposure"] = pa.array(rows[:, sc.DO_EXPOSURE].copy())
    return pa.table(cols)


def scaling_events_table(model, replicas, EV, counts) -> pa.Table:
    """(replica, scaler, time, action, from_count, to_count) for every scaling action."""
    rows = [EV[j, :counts[j]] for j in range(len(replicas))]
    reps = np.repeat(np.asarray(replicas, dtype=np.int64), counts)
    flat = np.concatenate(rows) if rows else np.zeros((0, sc.EV_FIELDS), np.int64)
    names = np.asarray(model.scaler_names + [""], dtype=object)
    return pa.table({
        "replica": pa.array(reps),
        "scaler": pa.array(names[flat[:, sc.EV_SCALER]].tolist() if len(flat) else [],
                           type=pa.string()),
        "time": pa.array(flat[:, sc.EV_TIME] / 1e9),
        "action": pa.array(np.where(flat[:, sc.EV_ACTION] == sc.EV_SCALE_OUT, "scale_out",
                                    "scale_in").tolist() if len(flat) else [],
                           type=pa.string()),
        "from_count": pa.array(flat[:, sc.EV_FROM].copy()),
        "to_count": pa.array(flat[:, sc.EV_TO].copy()),
    })


def timeseries_table(model, replicas, TS, step_ns) -> pa.Table:
    """(replica, time, instances, queue_depth, utilization, in_flight, ready_instances,
    booting_instances) every step."""
    n_rep, n_t, _ = TS.shape
    times = (model.start_ns + np.arange(n_t, dtype=np.int64) * step_ns) / 1e9
    return pa.table({
        "replica": pa.array(np.repeat(np.asarray(replicas, dtype=np.int64), n_t)),
        "time": pa.array(np.tile(times, n_rep)),
        "instances": pa.array(TS[:, :, sc.TS_INSTANCES].reshape(-1).astype(np.int64)),
        "queue_depth": pa.array(TS[:, :, sc.TS_QUEUE].reshape(-1).astype(np.int64)),
        "utilization": pa.array(TS[:, :, sc.TS_UTIL].reshape(-1)),
        "in_flight": pa.array(TS[:, :, sc.TS_IN_FLIGHT].reshape(-1).astype(np.int64)),
        "ready_instances": pa.array(TS[:, :, sc.TS_READY].reshape(-1).astype(np.int64)),
        "booting_instances": pa.array(TS[:, :, sc.TS_BOOTING].reshape(-1).astype(np.int64)),
    })
