"""One replica's start and end: its workspace reset and first events, its time series
samples and its output rows."""

import numpy as np

from .shared import (autoscaler, canary, deployer, fleet, histogram, hpa, measure, requests,
                     rng, rolling)
from .shared import server as srv
from .shared import timeconv
from .. import heap
from ..compile import kernel
from ..schema import (DO_EXPOSURE, DO_MAX_WEIGHT, DO_REQUESTS_NEW, DO_START, MEASURE_GROUPS,
                      CA_ROWS, DO_END, DO_STATUS, G_COMPLETED, G_COST_NS, G_CREATED, G_EVENTS,
                      G_INSTANCES, G_LAT_MAX, G_LAT_MIN, G_NSCALE, G_NSERVERS, G_REJECTED,
                      IE_KIND, IE_PAYLOAD, IE_TARGET, IE_TIME, LBS_ADDED, LBS_BACKENDS, LBS_PAIRS,
                      LBS_REMOVED, LBS_STRATEGY, LB_ADDED, LB_RECEIVED, LB_PICK_STALE,
                      LB_REMOVED, LB_ROWS,
                      LC_BOOTING_NS, LC_DROPPED, LC_READY_MEAN, LC_UNDER_NS, RB_KSTART,
                      SCS_LB, TS_BOOTING, TS_READY,
                      LB_STATS, LB_STAT_FIRST, LB_STRATEGY, LR_WEIGHTS, ND_NEXT, OG_EVENTS,
                      OG_NSCALE, OUT_G_FIELDS, Q_FIELDS, QUANTILES, RB_CA, RB_KLB, RB_KRO,
                      RB_KSRC, RB_LB, RB_NRO, RB_RO, RB_SC, SCS_NSTEPS, SCS_POFF, SCS_POLICY,
                      SC_ROWS, SD_STOP_NS,
                      SRC_STOP_SLOT, SV_LB, TS_INSTANCES, TS_IN_FLIGHT, TS_QUEUE, TS_UTIL)
from .balancer import lb_row, on_added
from .servers import new_server
from .sources import load_segments, schedule_arrival

# Field counts as plain integers for the loops below.
N_LB_STATS = len(LB_STATS)
N_SC_STATS = len(autoscaler.STATS)
N_CA_STATS = len(canary.STATS)
N_RO_STATS = len(rolling.STATS)


@kernel
def sort_steps(w, sn, P, sc):
    """Steps by threshold, highest first, ties in given order (as Python's stable sort)."""
    off = sn.scaler_init[sc, SCS_POFF] + autoscaler.P_POLICY
    T = w.step_thresholds[sc]
    A = w.step_adjustments[sc]
    for i in range(sn.scaler_init[sc, SCS_NSTEPS]):
        t = P[off + 2 * i]
        a = int(P[off + 2 * i + 1])
        j = i
        while j > 0 and T[j - 1] < t:
            T[j] = T[j - 1]
            A[j] = A[j - 1]
            j -= 1
        T[j] = t
        A[j] = a


@kernel
def reset_bases(w, sn):
    """List-row and stream-key bases of each kind of component."""
    RB = w.bases
    n_src = sn.sources.shape[0]
    n_lb = sn.lb_init.shape[0]
    n_sc = sn.scaler_init.shape[0]
    n_ca = sn.canary_init.shape[0]
    RB[RB_LB] = 0
    RB[RB_SC] = LB_ROWS * n_lb
    RB[RB_CA] = RB[RB_SC] + SC_ROWS * n_sc
    RB[RB_RO] = RB[RB_CA] + CA_ROWS * n_ca
    # Stream keys: requests, then each source, load balancer and rolling deployer, then
    # each template's start-up stream.
    n_ro = sn.rolling_init.shape[0]
    RB[RB_KSRC] = 1
    RB[RB_KLB] = 1 + n_src
    RB[RB_KRO] = 1 + n_src + n_lb
    RB[RB_KSTART] = 1 + n_src + n_lb + n_ro
    RB[RB_NRO] = max(n_ro, 1)


@kernel
def reset_load_balancers(w, sn, start_ns):
    """Load balancers with their initial backends (server s < n_init is initial server s)."""
    LS = w.lists
    LN = w.list_len
    LBI = w.lbs
    LBI[:, :] = 0
    w.lb_split[:] = 0.0
    n_lb = sn.lb_init.shape[0]
    for lb in range(n_lb):
        init = sn.lb_init[lb]
        LBI[lb, LB_STRATEGY] = init[LBS_STRATEGY]
        LBI[lb, LB_PICK_STALE] = 1
        LBI[lb, LB_ADDED] = init[LBS_ADDED]
        LBI[lb, LB_REMOVED] = init[LBS_REMOVED]
        row = lb_row(w, lb)
        nb = init[LBS_BACKENDS]
        for i in range(nb):
            s = init[LBS_PAIRS + 2 * i]
            LS[row, i] = s
            LS[row + LR_WEIGHTS, i] = init[LBS_PAIRS + 2 * i + 1]
            w.servers[s, SV_LB] = lb
        LN[row] = nb
        LN[row + LR_WEIGHTS] = nb
    for lb in range(n_lb):
        row = lb_row(w, lb)
        for i in range(LN[row]):
            on_added(w, LS[row, i], start_ns)


@kernel
def reset_replica(w, sn, P, seed, replica, start_ns):
    """Put one replica's workspace in its initial state and schedule its first events.

    Out of line: it runs once per replica, so inlining it into the event loop would only
    lengthen compilation.
    """
    G = w.counters
    ND = w.nodes
    G[:] = 0
    requests.reset(G, w.hist)
    fleet.reset(w.fleet, start_ns)
    w.servers[:, :] = 0
    w.server_dist[:, :] = 0.0
    Q = ND.shape[0]
    for i in range(Q - 1):
        ND[i, ND_NEXT] = i + 1
    ND[Q - 1, ND_NEXT] = -1
    # No server was marked yet (a mark from the previous replica must not match a time).
    w.marks[:, :, srv.M_TIME] = -1
    w.lists[:, :] = 0
    w.list_len[:] = 0
    reset_bases(w, sn)
    seed_u = np.uint64(seed)
    rep_u = np.uint64(replica)
    for i in range(sn.stream_ids.shape[0]):
        w.keys[i] = rng.stream_key(seed_u, rep_u, sn.stream_ids[i])

    # Sources: segments, draw counters and stop times.
    w.source_state[:, :] = 0
    n_src = sn.sources.shape[0]
    for i in range(n_src):
        load_segments(w, sn, P, i)
        slot = sn.sources[i, SRC_STOP_SLOT]
        w.source_state[i, SD_STOP_NS] = timeconv.seconds_to_ns(P[slot]) if slot >= 0 else -1

    n_sc = sn.scaler_init.shape[0]
    n_ca = sn.canary_init.shape[0]
    n_ro = sn.rolling_init.shape[0]
    n_init = sn.templates.shape[0] - n_sc - n_ca - n_ro
    for s in range(n_init):
        new_server(w, sn, P, s)
    reset_load_balancers(w, sn, start_ns)
    w.policy_memory[:, :] = 0.0
    for i in range(n_sc):
        autoscaler.reset(w.scalers[i])
        autoscaler.begin_run(w.scalers[i], w.fleet, P[sn.scaler_init[i, SCS_POFF]:],
                             w.list_len[lb_row(w, sn.scaler_init[i, SCS_LB])], start_ns)
        if sn.scaler_init[i, SCS_POLICY] == autoscaler.STEP:
            sort_steps(w, sn, P, i)
        elif sn.scaler_init[i, SCS_POLICY] == autoscaler.HPA:
            hpa.begin_run(w.hpas[i], w.lbs[sn.scaler_init[i, SCS_LB], LB_RECEIVED], start_ns)
    for i in range(n_ca):
        canary.reset(w.canaries[i])
    w.argo_slots[:, :, :] = 0
    for i in range(n_ro):
        rolling.reset(w.rollings[i])
    for m in range(MEASURE_GROUPS * (n_ca + n_ro)):
        measure.reset(w.measures[m], w.measure_hist[m])

    # Events scheduled before the run, then each source's first arrival.
    ev = sn.init_events
    for e in range(ev.shape[0]):
        heap.push(w.heap, G, ev[e, IE_TIME], ev[e, IE_KIND], ev[e, IE_TARGET],
                  ev[e, IE_PAYLOAD])
    for i in range(n_src):
        schedule_arrival(w, sn, i, start_ns)


@kernel
def sample_timeseries(w, sn, out):
    """One time-series row: instances, queue depth of running servers, mean utilization
    of the load balancers' backends, requests in flight."""
    G = w.counters
    SV = w.servers
    depth = 0
    for s in range(G[G_NSERVERS]):
        if SV[s, srv.COST_SINCE] >= 0:
            depth += SV[s, srv.QUEUED]
    util = 0.0
    nb = 0
    for lb in range(sn.lb_init.shape[0]):
        row = lb_row(w, lb)
        for i in range(w.list_len[row]):
            b = w.lists[row, i]
            util += SV[b, srv.BUSY] / SV[b, srv.CONCURRENCY]
            nb += 1
    out[TS_INSTANCES] = G[G_INSTANCES]
    out[TS_QUEUE] = depth
    out[TS_UTIL] = util / nb if nb > 0 else 0.0
    out[TS_IN_FLIGHT] = G[G_CREATED] - G[G_COMPLETED] - G[G_REJECTED] - w.fleet[fleet.DROPPED]
    out[TS_READY] = w.fleet[fleet.READY]
    out[TS_BOOTING] = w.fleet[fleet.BOOTING]


@kernel
def write_results(w, out, j, end_ns):
    """Copy one replica's counters into its output rows (once per replica, out of line)."""
    G = w.counters
    SV = w.servers
    cost = 0
    booting = 0
    for s in range(G[G_NSERVERS]):
        cost += srv.instance_ns(SV[s], end_ns)
        booting += srv.booting_ns(SV[s], end_ns)
    G[G_COST_NS] = cost
    FL = w.fleet
    lc = out.lifecycle[j]
    lc[LC_READY_MEAN] = fleet.ready_mean(FL, end_ns)
    lc[LC_DROPPED] = FL[fleet.DROPPED]
    lc[LC_BOOTING_NS] = booting
    lc[LC_UNDER_NS] = FL[fleet.UNDER_NS]
    totals = out.totals[j]
    for f in range(OUT_G_FIELDS):
        totals[f] = G[f]
    totals[OG_NSCALE] = G[G_NSCALE]
    totals[OG_EVENTS] = G[G_EVENTS]
    n = G[G_COMPLETED]
    lo = G[G_LAT_MIN]
    hi = G[G_LAT_MAX]
    for q in range(Q_FIELDS):
        out.quantiles[j, q] = histogram.quantile_ns(w.hist, n, QUANTILES[q], lo, hi)
    for lb in range(w.lbs.shape[0]):
        for f in range(N_LB_STATS):
            out.lb_stats[j, lb, f] = w.lbs[lb, LB_STAT_FIRST + f]
    for i in range(w.scalers.shape[0]):
        for f in range(N_SC_STATS):
            out.scaler_stats[j, i, f] = w.scalers[i, autoscaler.STATS_FIRST + f]
    n_ca = w.canaries.shape[0]
    for i in range(n_ca):
        for f in range(N_CA_STATS):
            out.canary_out[j, i, f] = w.canaries[i, canary.STATS_FIRST + f]
        deployer_out(w.canaries[i], w.measures[MEASURE_GROUPS * i + measure.NEW],
                     out.canary_out[j, i])
    for i in range(w.rollings.shape[0]):
        for f in range(N_RO_STATS):
            out.rolling_out[j, i, f] = w.rollings[i, rolling.STATS_FIRST + f]
        deployer_out(w.rollings[i], w.measures[MEASURE_GROUPS * (n_ca + i) + measure.NEW],
                     out.rolling_out[j, i])


@kernel
def deployer_out(st, new, row):
    """A deployer's status, end and outcome columns (its record, its new version's
    measured group) into its output row."""
    row[DO_STATUS] = st[deployer.STATUS]
    row[DO_END] = st[deployer.END_NS]
    row[DO_START] = st[deployer.START_NS]
    row[DO_MAX_WEIGHT] = st[deployer.MAX_WEIGHT_PPM]
    row[DO_REQUESTS_NEW] = measure.answered(new)
    row[DO_EXPOSURE] = measure.exposure(new)
