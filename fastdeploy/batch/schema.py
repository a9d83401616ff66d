"""The struct-of-arrays layout of one replica's state: field indices and codes.

Every bank is an int64 (or float64) 2-D array, one row per entity, one column per field
named here. Kernels index them with these module constants, which numba freezes.
"""

import numpy as np

# Event kinds of the batch heap, with what their target and payload hold:
# ARRIVAL (target: source), COMPLETE (target: server, payload: pool node), SCALER_EVAL
# (target: scaler, payload: LIVE_CHAIN or 0 for a no-op), CANARY_DEPLOY, CANARY_EVAL
# (payload: deployment number), ROLL_DEPLOY, ROLL_ROUND (payload: batch number).
#
# Codes that kernels pass as arguments are numpy integers, not Python ints: numba types a
# Python int constant as a literal and compiles a called function once more for every
# literal value it is given (a cold-start cost), but a numpy integer as a plain int64.
ARRIVAL, COMPLETE, SCALER_EVAL, CANARY_DEPLOY, CANARY_EVAL, ROLL_DEPLOY, ROLL_ROUND = (
    np.int64(k) for k in range(7))
NO_PAYLOAD = np.int64(0)
LIVE_CHAIN = np.int64(1)  # payload of a scaler evaluation that continues its chain

# Scaling actions as recorded in the scaling-events output.
SCALE_OUT, SCALE_IN = np.int64(0), np.int64(1)

# Target kinds of a source.
TO_LB = 0
TO_SERVER = 1

# Profile kinds (lowered parameters in the order given).
PROF_CONSTANT = 0  # rate
PROF_LINEAR = 1  # duration_s, start_rate, end_rate
PROF_SPIKE = 2  # baseline_rate, spike_rate, warmup_s, spike_duration_s
PROF_PIECEWISE = 3  # t0, r0, t1, r1, ...

# Strategies.
ST_ROUND_ROBIN = 0
ST_WEIGHTED = 1
ST_LEAST_CONN = 2
ST_RANDOM = 3
ST_POWER_OF_TWO = 4

# Policies.
POL_TARGET = 0  # target, tolerance
POL_STEP = 1  # thr_0, adj_0, thr_1, adj_1, ...
POL_QUEUE = 2  # scale_out_threshold, scale_in_threshold

# Evaluators.
EVAL_ERROR_RATE = 0
EVAL_LATENCY = 1

# Deployment status codes.
STATUS_NAMES = ("idle", "in_progress", "completed", "rolled_back")
IDLE, IN_PROGRESS, COMPLETED, ROLLED_BACK = range(4)

# Overflow codes (which capacity ran out).
OVERFLOW_NONE = 0
OVERFLOW_SERVERS = 1
OVERFLOW_POOL = 2
OVERFLOW_HEAP = 3
OVERFLOW_NAMES = ("none", "servers", "request pool", "event heap")

# -- server bank (int64), one row per server ---------------------------------------------
SV_CONC, SV_QCAP, SV_KIND, SV_BUSY, SV_QHEAD, SV_QTAIL, SV_QLEN = range(7)
SV_COMPLETED, SV_REJECTED, SV_FAILURES, SV_SERVICE_NS, SV_LATENCY_NS = range(7, 12)
SV_REMOVED, SV_COST_SINCE, SV_COST_NS, SV_LB = range(12, 16)
SV_FIELDS = 16
# server float bank: distribution a, b, failure_rate
SF_A, SF_B, SF_FAIL = range(3)

# -- pool of request/probe nodes (int64) ---------------------------------------------------
# A request reaches its server the instant it is created (routing is synchronous) and a
# probe the instant it is sent, so ND_CREATED is also the arrival at the server.
ND_ITEM, ND_CREATED, ND_SERVICE, ND_FAILED, ND_NEXT = range(5)
ND_FIELDS = 5

# -- global counters (int64) ---------------------------------------------------------------
(G_CREATED, G_COMPLETED, G_FAILED, G_REJECTED, G_LAT_SUM, G_LAT_MIN, G_LAT_MAX,
 G_INSTANCES, G_PEAK, G_COST_NS, G_SEQ, G_NSERVERS, G_FREE, G_OVERFLOW, G_HN, G_NSCALE,
 G_EVENTS, G_TOP_FREE) = range(18)
G_FIELDS = 18
OUT_G_FIELDS = 10  # G_CREATED .. G_COST_NS are reported

# -- load balancers (int64) ------------------------------------------------------------------
(LB_STRATEGY, LB_RR, LB_DRAWS, LB_RECEIVED, LB_FORWARDED, LB_NOBACKEND, LB_ADDED, LB_REMOVED,
 LB_SPLIT_COUNT, LB_SPLIT_TURN, LB_PICK_STALE) = range(11)
LB_FIELDS = 11
# List rows of a load balancer, from its base row: its backends and their weights, the
# canary group while a split is set, and the pick rows: the backends a request is routed
# among (outside the group during a split), their weights and their smooth weighted round
# robin current weights. The pick rows are rebuilt only after the backends or the group
# change (LB_PICK_STALE), not per request.
LB_ROWS = 6
LR_BACKENDS, LR_WEIGHTS, LR_GROUP, LR_PICK, LR_PICK_W, LR_PICK_CUR = range(LB_ROWS)
LB_STAT_FIRST = LB_RECEIVED
LB_STATS = ("requests_received", "requests_forwarded", "no_backend_available",
            "backends_added", "backends_removed")

# -- scalers (int64) ----------------------------------------------------------------------------
(SC_LB, SC_TPL, SC_POLICY, SC_POFF, SC_RUNNING, SC_NEXT_K, SC_LAST_NS,
 SC_EVALS, SC_OUT, SC_IN, SC_ADDED, SC_REMOVED, SC_BLOCKS, SC_NSTEPS) = range(14)
SC_FIELDS = 14
SC_STAT_FIRST = SC_EVALS
SC_STATS = ("evaluations", "scale_out_count", "scale_in_count", "instances_added",
            "instances_removed", "cooldown_blocks")
# scaler parameters, from SC_POFF: min, max, interval, out cooldown, in cooldown, policy...
SP_MIN, SP_MAX, SP_INTERVAL, SP_OUT_CD, SP_IN_CD, SP_POLICY = range(6)

# -- canary deployers (int64) ----------------------------------------------------------------
(CA_LB, CA_TPL, CA_EVAL, CA_NSTAGES, CA_POFF, CA_STATUS, CA_DEPLOYMENT, CA_STAGE,
 CA_STAGE_START, CA_MADE, CA_END, CA_BASE_COMPLETED, CA_BASE_REJECTED, CA_BASE_FAILURES,
 CA_BASE_LATENCY, CA_STARTED, CA_COMPLETED, CA_ROLLED_BACK, CA_STAGES_DONE, CA_EVALS,
 CA_PASSED, CA_FAILED) = range(22)
CA_FIELDS = 22
CA_STAT_FIRST = CA_STARTED
CA_STATS = ("deployments_started", "deployments_completed", "deployments_rolled_back",
            "stages_completed", "evaluations_performed", "evaluations_passed",
            "evaluations_failed")
# canary parameters, from CA_POFF: interval, evaluator limit, multiplier, (fraction, period)...
CP_INTERVAL, CP_LIMIT, CP_MULT, CP_STAGES = range(4)

# -- rolling deployers (int64) -------------------------------------------------------------------
(RO_LB, RO_TPL, RO_POFF, RO_STATUS, RO_BATCH_ID, RO_NEXT_OLD, RO_BATCH_OLD0, RO_BATCH_K,
 RO_FAILURES, RO_MADE, RO_PROBES, RO_END, RO_STATE_TOTAL, RO_STATE_REPLACED, RO_STATE_FAILED,
 RO_STATE_BATCH, RO_STARTED, RO_COMPLETED, RO_ROLLED_BACK, RO_REPLACED, RO_HC_PERFORMED,
 RO_HC_PASSED, RO_HC_FAILED) = range(23)
RO_FIELDS = 23
RO_STAT_FIRST = RO_STARTED
RO_STATS = ("deployments_started", "deployments_completed", "deployments_rolled_back",
            "instances_replaced", "health_checks_performed", "health_checks_passed",
            "health_checks_failed")
# rolling parameters, from RO_POFF: batch_size, interval, healthy_threshold, max_failures
RP_BATCH, RP_INTERVAL, RP_THRESHOLD, RP_MAX_FAILURES = range(4)

# Deployer outputs: the stats, then status code and end time (ns, -1: not ended).
DEPLOYER_OUT = 9

# -- list rows: every variable-length list of server indices is a row of one array -----------
# Per LB: backends, weights, split group. Per scaler: managed. Per canary: group, baseline.
# Per rolling: old, old weights, removed flags, all new, batch new, passes, pending probe,
# pending sent time.
LISTS_PER_LB = 3
LISTS_PER_SCALER = 1
LISTS_PER_CANARY = 2
LISTS_PER_ROLLING = 8

# Time-series columns.
TS_INSTANCES, TS_QUEUE, TS_UTIL, TS_IN_FLIGHT = range(4)
TS_FIELDS = 4
