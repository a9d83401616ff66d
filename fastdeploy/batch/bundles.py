"""The named bundles the kernels take: the lowered scenario, a thread's workspace and
the outputs of a chunk of replicas (numba types a NamedTuple of arrays as one argument,
so kernels pass one name instead of dozens of positional arrays).

The kernels allocate nothing; a thread keeps one workspace for all its replicas and
grows it (doubling the servers or the request pool) when a replica outgrows it.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..rules import (argo, autoscaler, canary, flagger, fleet, histogram, hpa, kayenta, measure,
                     rolling, server)
from . import schema as sc


class Scenario(NamedTuple):
    """The lowered scenario's structure (read-only; parameters are rows of P)."""

    templates: np.ndarray  # (n_templates, TPL_FIELDS)
    sources: np.ndarray  # (n_sources, SRC_FIELDS)
    # uint64: requests, each source, load balancer, rolling deployer, then per template
    # the start-up stream of what creates its servers
    stream_ids: np.ndarray
    lb_init: np.ndarray  # (n_lb, LBS_PAIRS + 2 * max backends)
    scaler_init: np.ndarray  # (n_scalers, SCS_FIELDS)
    canary_init: np.ndarray  # (n_canaries, CAS_FIELDS)
    rolling_init: np.ndarray  # (n_rolling, ROS_FIELDS)
    init_events: np.ndarray  # (n_events, IE_FIELDS)
    # NumbaPolicy functions (C callbacks), MAX_POLICY_FUNCTIONS of them, unused ones
    # placeholders: numba types them as one function-pointer type, so the kernels are
    # compiled (and cached) once for any policies.
    policy_functions: tuple
    hpa_sync: object  # rules/hpa.py sync, as a function pointer (hpa.sync_function())


class Parts(NamedTuple):
    """Which optional parts of the kernels a scenario uses: PRESENT when it does, None
    when not. The kernels call a part's kernels behind ``part is not None``, and numba
    drops that branch before typing it when the part's type is None: a scenario without
    canary or rolling deployers never compiles their kernels (a third of the engine),
    one without an HPA the HPA's. Each combination is compiled, and cached, on first
    use."""

    scaler: object  # an AutoScaler (a built-in policy or a NumbaPolicy)
    hpa: object  # a HorizontalPodAutoscaler
    canary: object  # a CanaryDeployer (happysim's)
    flagger: object  # a FlaggerCanary
    rolling: object
    measured: object  # some deployer measures its versions' requests (rules/measure.py)
    argo: object  # an ArgoCanary (its kernels are compiled only with one)
    judge: object  # a canary deployer judges its windows with a KayentaJudge
    # The event loop's cold handlers as function pointers (calls.py Calls), for the run's
    # types: set by the caller once its arrays exist.
    calls: object = None


PRESENT = np.zeros(1, np.int8)


def make_parts(scenario: Scenario) -> Parts:
    def part(n):
        return PRESENT if n > 0 else None

    hpa = int(np.sum(scenario.scaler_init[:, sc.SCS_POLICY] == autoscaler.HPA))
    evaluator = scenario.canary_init[:, sc.CAS_EVALUATOR]  # which kind of canary deployer
    return Parts(scaler=part(scenario.scaler_init.shape[0] - hpa), hpa=part(hpa),
                 canary=part(int(np.sum((evaluator != sc.CA_FLAGGER)
                                        & (evaluator != sc.CA_ARGO)))),
                 flagger=part(int(np.sum(evaluator == sc.CA_FLAGGER))),
                 measured=part(scenario.canary_init.shape[0] + scenario.rolling_init.shape[0]),
                 rolling=part(scenario.rolling_init.shape[0]),
                 argo=part(int(np.sum(evaluator == sc.CA_ARGO))),
                 judge=part(n_judges(scenario)))


def n_judges(scenario: Scenario) -> int:
    """The canary deployers (CanaryDeployer, FlaggerCanary) with a KayentaJudge."""
    return int(np.sum(scenario.canary_init[:, sc.CAS_JUDGE] != 0))


class Workspace(NamedTuple):
    """Every array one replica's simulation writes (schema.py names their columns)."""

    counters: np.ndarray  # G
    fleet: np.ndarray  # rules/fleet.py record
    # (servers, slots, M_COLUMNS): the marks a controller with a metric window took of
    # each server's integrals (rules/server.py, rules/autoscaler.py); one slot when none
    # averages
    marks: np.ndarray
    servers: np.ndarray  # SV: (servers, SV_FIELDS)
    server_dist: np.ndarray  # SF: (servers, SF_FIELDS) float64
    nodes: np.ndarray  # ND: (pool, ND_FIELDS), the queued requests and probes
    # (servers, most concurrency or the pool's size, SL_FIELDS): each server's requests
    # and probes in service (kernels/servers.py)
    slots: np.ndarray
    heap: np.ndarray  # H: 3 words per entry (batch/heap.py)
    hist: np.ndarray  # latency histogram
    scratch: np.ndarray  # (3, servers)
    group_counts: np.ndarray  # (2, 4): a canary's and its baseline's counters
    bases: np.ndarray  # RB: list-row bases, key bases, counts
    lists: np.ndarray  # LS: (rows, servers)
    list_len: np.ndarray  # LN: (rows,)
    keys: np.ndarray  # K: uint64 stream keys, in stream_ids order
    segments: np.ndarray  # SEG: (sources, 3, max segments) float64
    n_segments: np.ndarray  # NSEG: (sources,)
    source_state: np.ndarray  # SRCD: (sources, SD_FIELDS)
    # (2, AHEAD) float64: the work uniforms of the next requests and their exponential
    # cores, computed AHEAD at a time (kernels/servers.py fill_work)
    work_ahead: np.ndarray
    # (sources, AHEAD) float64: each Poisson source's areas for its next draws
    # (kernels/sources.py fill_areas)
    areas_ahead: np.ndarray
    lbs: np.ndarray  # LBI: (lbs, LB_FIELDS)
    lb_split: np.ndarray  # LBF: (lbs,) float64 traffic split fraction
    scalers: np.ndarray  # SC: (scalers, autoscaler.FIELDS), rules/autoscaler.py records
    step_thresholds: np.ndarray  # (scalers, max steps) float64, sorted highest first
    step_adjustments: np.ndarray  # (scalers, max steps)
    observation: np.ndarray  # (OBS_FIELDS,) float64: what a NumbaPolicy's function reads
    policy_memory: np.ndarray  # (scalers, max memory) float64: each NumbaPolicy's memory
    # CA: rules/canary.py records, or rules/flagger.py's for FlaggerCanaries, or
    # rules/argo.py's for ArgoCanaries
    canaries: np.ndarray  # (canaries, max(canary.FIELDS, flagger.FIELDS, argo.FIELDS))
    # ArgoCanaries' metric slots (rules/argo.py MS_ rows) and the histograms their
    # windows start from (one slot, one bucket when the scenario has none)
    argo_slots: np.ndarray  # (canaries, max slots, argo.MS_FIELDS)
    argo_hist: np.ndarray  # (canaries, max slots, measure.GROUPS, histogram.N_BUCKETS)
    rollings: np.ndarray  # RO: (rollings, rolling.FIELDS), rules/rolling.py records
    # HorizontalPodAutoscalers (scalers with policy autoscaler.HPA; one row per scaler, a
    # single row of each table when the scenario has none): rules/hpa.py records, their
    # recommendation and scale-event tables, and a sync's sample of the backends
    hpas: np.ndarray  # (scalers, hpa.FIELDS)
    hpa_recs: np.ndarray  # (scalers, hpa.REC_CAPACITY, hpa.REC_COLUMNS)
    hpa_events: np.ndarray  # (scalers, hpa.EVENT_CAPACITY, hpa.EVENT_COLUMNS)
    hpa_samples: np.ndarray  # (servers, hpa.S_COLUMNS)
    # measured groups (schema MEASURE_GROUPS per deployer; one row when none):
    # rules/measure.py records, their windows' histograms, and a window's measurements
    measures: np.ndarray  # (groups, measure.FIELDS)
    measure_hist: np.ndarray  # (groups, histogram.N_BUCKETS)
    window: np.ndarray  # (MEASURE_GROUPS, measure.M_FIELDS) float64
    # a KayentaJudge's windows per canary (rules/canary.py kayenta_judged; one small row
    # when no canary has a judge), its result rows and its scratch (rules/kayenta.py)
    judge_windows: np.ndarray  # (canaries, MEASURE_GROUPS, windows, measure.M_FIELDS)
    judge_results: np.ndarray  # (most metrics, kayenta.RESULT_FIELDS) float64
    judge_work: np.ndarray  # (kayenta.WORK_ROWS, max(windows, kayenta.METRIC_PARAMS))


class Outputs(NamedTuple):
    """What the kernels report for a chunk of m replicas."""

    totals: np.ndarray  # (m, OG_FIELDS)
    quantiles: np.ndarray  # (m, Q_FIELDS) float64, ns
    lifecycle: np.ndarray  # (m, LC_FIELDS) float64
    lb_stats: np.ndarray  # (m, n_lb, len(LB_STATS))
    scaler_stats: np.ndarray  # (m, n_scalers, len(SC_STATS))
    canary_out: np.ndarray  # (m, n_canaries, DEPLOYER_OUT)
    rolling_out: np.ndarray  # (m, n_rolling, DEPLOYER_OUT)
    scaling_events: np.ndarray  # (m, capacity, EV_FIELDS)
    timeseries: np.ndarray  # (m, samples, TS_FIELDS) float64
    status: np.ndarray  # (m, RS_FIELDS)


def workspace_bytes(ws: Workspace) -> int:
    return int(sum(a.nbytes for a in ws))


def make_workspace(scenario: Scenario, servers: int, pool: int, mark_slots: int,
                   max_concurrency: int, judge: tuple[int, int] = (0, 0)) -> Workspace:
    """A workspace for replicas of ``scenario`` with room for ``servers`` servers,
    ``pool`` requests or probes at a server at once, ``mark_slots`` marks of each
    server's integrals, and ``judge`` = (windows per deployment, metrics) for the
    KayentaJudges of its canaries."""
    n_src = scenario.sources.shape[0]
    n_lb = scenario.lb_init.shape[0]
    n_sc = scenario.scaler_init.shape[0]
    n_ca = scenario.canary_init.shape[0]
    n_ro = scenario.rolling_init.shape[0]
    n_rows = sc.LB_ROWS * n_lb + sc.SC_ROWS * n_sc + sc.CA_ROWS * n_ca + sc.RO_ROWS * n_ro
    max_seg = max([3] + [int(n) for n in scenario.sources[:, sc.SRC_POINTS]])
    max_steps = max([1] + [int(n) for n in scenario.scaler_init[:, sc.SCS_NSTEPS]])
    max_memory = max([1] + [int(n) for n in scenario.scaler_init[:, sc.SCS_MEMORY]])
    n_groups = sc.MEASURE_GROUPS * (n_ca + n_ro)
    has_hpa = bool(np.any(scenario.scaler_init[:, sc.SCS_POLICY] == autoscaler.HPA))
    argos = scenario.canary_init[:, sc.CAS_EVALUATOR] == sc.CA_ARGO
    argo_slots = max([1] + [int(n) for n in scenario.canary_init[argos, sc.CAS_NSTAGES]])
    # Pending events (arrivals and most request completions are not heap events,
    # kernels/sources.py and kernels/servers.py): a completion per probe in service (only
    # rolling deployers probe; at most every server's concurrency); per server, the
    # completion that starts its queue (twice: one may be left void by a termination
    # grace's end), its readiness and the end of its termination grace; the events
    # scheduled before the run; and a chain or two per component (a scaler's evaluations
    # and its window's marks). So the heap cannot overflow.
    probes = min(pool, servers * max_concurrency) if n_ro else 0
    heap = (probes + 2 * servers + scenario.init_events.shape[0]
            + 2 * n_sc + n_ca + 2 * n_ro + 4 + 2 * servers
            # an ArgoCanary: a measurement per metric slot, a pause's end and a blue/green
            # scale-down, and as many left over from a run or deployment that ended
            + 2 * int(np.sum(scenario.canary_init[argos, sc.CAS_NSTAGES] + 2)))
    return Workspace(
        counters=np.zeros(sc.G_FIELDS, np.int64),
        fleet=np.zeros(fleet.FIELDS, np.int64),
        marks=np.full((servers, max(mark_slots, 1), server.M_COLUMNS), -1, np.int64),
        servers=np.zeros((servers, sc.SV_FIELDS), np.int64),
        server_dist=np.zeros((servers, sc.SF_FIELDS), np.float64),
        nodes=np.zeros((pool, sc.ND_FIELDS), np.int64),
        # (a server holds no more in service than the pool has nodes: a concurrency above
        # the pool's size grows both)
        slots=np.zeros((servers, max(1, min(max_concurrency, pool)), sc.SL_FIELDS), np.int64),
        heap=np.zeros(3 * heap, np.int64),
        hist=np.zeros(histogram.N_BUCKETS, np.int64),
        scratch=np.zeros((3, servers), np.int64),
        group_counts=np.zeros((2, 4), np.int64),
        bases=np.zeros(sc.RB_FIELDS, np.int64),
        lists=np.zeros((max(n_rows, 1), servers), np.int64),
        list_len=np.zeros(max(n_rows, 1), np.int64),
        keys=np.zeros(scenario.stream_ids.shape[0], np.uint64),
        segments=np.zeros((n_src, 3, max_seg), np.float64),
        n_segments=np.zeros(n_src, np.int64),
        source_state=np.zeros((n_src, sc.SD_FIELDS), np.int64),
        work_ahead=np.zeros((2, sc.AHEAD), np.float64),
        areas_ahead=np.zeros((n_src, sc.AHEAD), np.float64),
        lbs=np.zeros((n_lb, sc.LB_FIELDS), np.int64),
        lb_split=np.zeros(n_lb, np.float64),
        scalers=np.zeros((n_sc, autoscaler.FIELDS), np.int64),
        step_thresholds=np.zeros((n_sc, max_steps), np.float64),
        step_adjustments=np.zeros((n_sc, max_steps), np.int64),
        observation=np.zeros(autoscaler.OBS_FIELDS, np.float64),
        policy_memory=np.zeros((n_sc, max_memory), np.float64),
        canaries=np.zeros((n_ca, max(canary.FIELDS, flagger.FIELDS, argo.FIELDS)), np.int64),
        argo_slots=np.zeros((max(n_ca, 1), argo_slots, argo.MS_FIELDS), np.int64),
        argo_hist=np.zeros((max(n_ca, 1), argo_slots, measure.GROUPS,
                            histogram.N_BUCKETS if argos.any() else 1), np.int64),
        rollings=np.zeros((n_ro, rolling.FIELDS), np.int64),
        hpas=np.zeros((n_sc, hpa.FIELDS), np.int64),
        hpa_recs=np.zeros((n_sc, hpa.REC_CAPACITY if has_hpa else 1, hpa.REC_COLUMNS),
                          np.int64),
        hpa_events=np.zeros((n_sc, hpa.EVENT_CAPACITY if has_hpa else 1,
                             hpa.EVENT_COLUMNS), np.int64),
        hpa_samples=np.zeros((servers if has_hpa else 1, hpa.S_COLUMNS), np.int64),
        measures=np.zeros((max(1, n_groups), measure.FIELDS), np.int64),
        measure_hist=np.zeros((max(1, n_groups), histogram.N_BUCKETS), np.int64),
        window=np.zeros((sc.MEASURE_GROUPS, measure.M_FIELDS), np.float64),
        judge_windows=np.zeros((n_ca if n_judges(scenario) else 1, sc.MEASURE_GROUPS,
                                max(1, judge[0]), measure.M_FIELDS), np.float64),
        judge_results=np.zeros((max(1, judge[1]), kayenta.RESULT_FIELDS), np.float64),
        judge_work=np.zeros((kayenta.WORK_ROWS, max(judge[0], kayenta.METRIC_PARAMS)),
                            np.float64),
    )


def make_outputs(scenario: Scenario, m: int, ev_cap: int, n_ts: int) -> Outputs:
    """Output arrays for m replicas."""
    n_lb = scenario.lb_init.shape[0]
    n_sc = scenario.scaler_init.shape[0]
    n_ca = scenario.canary_init.shape[0]
    n_ro = scenario.rolling_init.shape[0]
    return Outputs(
        totals=np.zeros((m, sc.OG_FIELDS), np.int64),
        quantiles=np.zeros((m, sc.Q_FIELDS), np.float64),
        lifecycle=np.zeros((m, sc.LC_FIELDS), np.float64),
        lb_stats=np.zeros((m, n_lb, len(sc.LB_STATS)), np.int64),
        scaler_stats=np.zeros((m, n_sc, len(sc.SC_STATS)), np.int64),
        canary_out=np.zeros((m, n_ca, sc.DEPLOYER_OUT), np.int64),
        rolling_out=np.zeros((m, n_ro, sc.DEPLOYER_OUT), np.int64),
        scaling_events=np.zeros((m, ev_cap, sc.EV_FIELDS), np.int64),
        timeseries=np.zeros((m, n_ts, sc.TS_FIELDS), np.float64),
        status=np.zeros((m, sc.RS_FIELDS), np.int64),
    )
