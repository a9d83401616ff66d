"""Every layout of the batch engine, by name: event kinds, the columns of the lowered
scenario's arrays, of each bank of a replica's workspace and of the outputs.

The components' own records (server, autoscaler, canary, rolling) are laid out by their
rules modules, which both engines share; a bank here is those fields first, then what
only the kernels keep (queue links, load-balancer membership).
"""

import numpy as np

from ..rules import argo as _ar
from ..rules import autoscaler as _as
from ..rules import balancer as _bl
from ..rules import canary as _ca
from ..rules import deployer as _dp
from ..rules import flagger as _fl
from ..rules import measure as _me
from ..rules import rolling as _ro
from ..rules import profiles as _pf
from ..rules import requests as _rq
from ..rules import routing as _rt
from ..rules import server as _sv

# -- event kinds of the batch heap, with what target and payload hold --------------------
# (Arrivals are not heap events: each source keeps its next one, kernels/sources.py.)
# COMPLETE (target: server, payload: pool node), SCALER_EVAL
# (target: scaler, payload: LIVE_CHAIN or 0 for a no-op), CANARY_DEPLOY, CANARY_EVAL
# (payload: deployment number), ROLL_DEPLOY, ROLL_ROUND (payload: batch number),
# SERVER_READY (target: server), GRACE_END (target: server, payload: removal number),
# WINDOW_MARK (target: scaler, payload: the mark slot its backends' integrals go to).
#
# Codes that kernels pass as arguments are numpy integers, not Python ints: numba types a
# Python int constant as a literal and compiles a called function once more for every
# literal value it is given (a cold-start cost), but a numpy integer as a plain int64.
(COMPLETE, SCALER_EVAL, CANARY_DEPLOY, CANARY_EVAL, ROLL_DEPLOY, ROLL_ROUND,
 SERVER_READY, GRACE_END, WINDOW_MARK) = (np.int64(k) for k in range(9))
NO_PAYLOAD = np.int64(0)
LIVE_CHAIN = np.int64(1)  # payload of a scaler evaluation that continues its chain

# Deployment status codes (the deployers' records use them).
STATUS_NAMES = _dp.STATUS_NAMES
OUTCOME_NAMES = _dp.OUTCOME_NAMES
IDLE, IN_PROGRESS, COMPLETED, ROLLED_BACK, PAUSED = (_dp.IDLE, _dp.IN_PROGRESS, _dp.COMPLETED,
                                                   _dp.ROLLED_BACK, _dp.PAUSED)

# Overflow codes (which capacity ran out).
OVERFLOW_NONE, OVERFLOW_SERVERS, OVERFLOW_POOL, OVERFLOW_HEAP = range(4)
OVERFLOW_NAMES = ("none", "servers", "request pool", "event heap")

# == the lowered scenario (read-only, one per run) ==========================================
# templates: one row per server template (initial servers first, then one per component
# that creates servers): service-time distribution kind, the offset of its parameters in
# P, and the start-up delay's distribution kind.
TPL_KIND, TPL_POFF, TPL_STARTUP_KIND = range(3)
TPL_FIELDS = 3
# server parameters in P, from TPL_POFF (TP_GRACE: seconds, -1 to drain to completion)
(TP_CONCURRENCY, TP_QUEUE_CAPACITY, TP_DIST_A, TP_DIST_B, TP_FAILURE_RATE, TP_STARTUP_A,
 TP_STARTUP_B, TP_GRACE) = range(8)

# sources
(SRC_TARGET_KIND, SRC_TARGET, SRC_POISSON, SRC_PROFILE, SRC_POFF, SRC_POINTS,
 SRC_STOP_SLOT) = range(7)
SRC_FIELDS = 7
TO_LB, TO_SERVER = 0, 1  # SRC_TARGET_KIND
# profile kinds (their parameters in P from SRC_POFF, in the order given)
# (rules/profiles.py)
PROF_CONSTANT, PROF_LINEAR, PROF_SPIKE, PROF_PIECEWISE = (
    _pf.CONSTANT, _pf.LINEAR, _pf.SPIKE, _pf.PIECEWISE)

# load balancers: strategy, backend count, backends added and removed before the run,
# then (server, weight) pairs from LBS_PAIRS.
LBS_STRATEGY, LBS_BACKENDS, LBS_ADDED, LBS_REMOVED, LBS_PAIRS = range(5)
ST_ROUND_ROBIN, ST_WEIGHTED, ST_LEAST_CONN, ST_RANDOM, ST_POWER_OF_TWO = (
    _rt.ROUND_ROBIN, _rt.WEIGHTED, _rt.LEAST_CONNECTIONS, _rt.RANDOM, _rt.POWER_OF_TWO)

# scalers
# (SCS_FUNCTION: slot of a NumbaPolicy's function in Scenario.policy_functions, -1 for a
# built-in policy; SCS_MEMORY: its memory slots.)
SCS_LB, SCS_TPL, SCS_POLICY, SCS_POFF, SCS_NSTEPS, SCS_FUNCTION, SCS_MEMORY = range(7)
SCS_FIELDS = 7
# Distinct NumbaPolicy functions a scenario may use: the function tuple has a fixed
# length, so the kernels compile once whatever the scenario.
MAX_POLICY_FUNCTIONS = 4
# canaries (and FlaggerCanaries and ArgoCanaries, which share their rows: CAS_EVALUATOR
# CA_FLAGGER or CA_ARGO, their records rules/flagger.py's or rules/argo.py's; CAS_NSTAGES
# unused for a FlaggerCanary, an ArgoCanary's metric slots)
# CAS_JUDGE: 1 when a KayentaJudge judges its windows (a CanaryDeployer's evaluator or a
# FlaggerCanary's judge)
CAS_LB, CAS_TPL, CAS_EVALUATOR, CAS_NSTAGES, CAS_POFF, CAS_JUDGE = range(6)
CAS_FIELDS = 6
# Evaluator codes after rules/canary.py's ERROR_RATE (0), LATENCY (1) and KAYENTA (3).
CA_FLAGGER = np.int64(2)
CA_ARGO = np.int64(4)
# A CanaryDeployer whose evaluator is a KayentaJudge (rules/canary.py KAYENTA): its
# windows are Workspace.judge_windows[canary], its judge row after its stages in P (a
# FlaggerCanary's after its metrics: rules/flagger.py judge_offset).
CA_KAYENTA = np.int64(_ca.KAYENTA)
# rolling deployers
ROS_LB, ROS_TPL, ROS_POFF = range(3)
ROS_FIELDS = 3
# events scheduled before the run
IE_TIME, IE_KIND, IE_TARGET, IE_PAYLOAD = range(4)
IE_FIELDS = 4

# == a replica's workspace ==================================================================
# server bank (int64), one row per server: the shared record, then the kernels' own.
SV_KIND = _sv.FIELDS  # distribution kind
SV_QHEAD = _sv.FIELDS + 1  # queue: first and last pool node, -1 when empty
SV_QTAIL = _sv.FIELDS + 2
SV_LB = _sv.FIELDS + 3  # the load balancer it is a backend of, -1 if none
SV_MEASURE = _sv.FIELDS + 4  # the measured group's row in Workspace.measures, -1 if none
# the row of its slots whose completion starts its queue, while that is a request's
# (kernels/servers.py arm), -1 if none
SV_ARMED = _sv.FIELDS + 5
# no completion in its slots is earlier than this (ns; a bound, made exact by catch_up)
SV_FLOOR = _sv.FIELDS + 6
SV_FIELDS = _sv.FIELDS + 7
# server float bank: distribution a, b, failure rate
SF_A, SF_B, SF_FAIL = range(3)
SF_FIELDS = 3

# pool of nodes (int64): the requests and probes waiting in servers' queues. A request
# reaches its server the instant it is created (routing is synchronous) and a probe the
# instant it is sent, so ND_CREATED is also the arrival at the server. ND_STATE: 1 when it
# fails.
ND_ITEM, ND_CREATED, ND_SERVICE, ND_STATE, ND_NEXT = range(5)
ND_FIELDS = 5

# a server's slots (Workspace.slots[s], int64): what is in service, unordered, in rows 0
# to BUSY - 1, each with the (time, seq) its completion event would have (SL_DONE,
# SL_SEQ). SL_STATE packs, from bit 0: whether it fails, and whether its completion is a
# heap event (a probe's, or the one that starts the server's queue; the others are
# completed when something next looks at the server, kernels/servers.py).
SL_DONE, SL_SEQ, SL_ITEM, SL_CREATED, SL_SERVICE, SL_STATE = range(6)
SL_FIELDS = 6
SL_FAILED_BIT, SL_EVENTED_BIT = 1, 2

# replica counters (int64): first the shared record of its requests (rules/requests.py),
# then the kernels' own
G_CREATED = _rq.CREATED
G_COMPLETED = _rq.COMPLETED
G_FAILED = _rq.FAILED
G_REJECTED = _rq.REJECTED
G_LAT_SUM = _rq.LATENCY_SUM_NS
G_LAT_MIN = _rq.LATENCY_MIN_NS
G_LAT_MAX = _rq.LATENCY_MAX_NS
(G_INSTANCES, G_PEAK, G_COST_NS, G_SEQ, G_NSERVERS, G_FREE, G_OVERFLOW, G_HN, G_NSCALE,
 G_EVENTS, G_TOP_FREE) = range(_rq.FIELDS, _rq.FIELDS + 11)
G_FIELDS = _rq.FIELDS + 11

# source state (int64): draws of its arrival stream, stop time (ns, -1: none), segment
# hint, and its next arrival: when (-1: none) and the seq it took when it was scheduled
SD_DRAWS, SD_STOP_NS, SD_HINT, SD_NEXT_NS, SD_NEXT_SEQ = range(5)
SD_FIELDS = 5
# How many draws are computed at a time: requests' work (kernels/servers.py fill_work) and
# Poisson sources' areas (kernels/sources.py fill_areas).
AHEAD = 256
# profile segments, per source: SEG[src, SEG_T0 | SEG_RATE | SEG_SLOPE, i]
SEG_T0, SEG_RATE, SEG_SLOPE = range(3)

# load balancers (int64): the shared record (rules/balancer.py), then the kernels' own:
# strategy code, round-robin counter, and whether the pick rows must be rebuilt.
LB_RECEIVED = _bl.REQUESTS_RECEIVED
LB_ADDED = _bl.BACKENDS_ADDED
LB_REMOVED = _bl.BACKENDS_REMOVED
LB_STRATEGY, LB_RR, LB_PICK_STALE = range(_bl.FIELDS, _bl.FIELDS + 3)
LB_FIELDS = _bl.FIELDS + 3
LB_STAT_FIRST = _bl.STATS_FIRST
LB_STATS = _bl.STATS

# Variable-length lists of server indices are rows of one array (LS, lengths in LN). Row
# bases in RB:
RB_LB, RB_SC, RB_CA, RB_RO, RB_KSRC, RB_KLB, RB_KRO, RB_NRO, RB_KSTART = range(9)
RB_FIELDS = 9
# Per load balancer, from RB_LB + LB_ROWS * lb: its backends and their weights, the
# canary group while a split is set, and the pick rows: the backends a request is routed
# among (outside the group during a split), their weights and their smooth weighted round
# robin current weights, rebuilt only after the backends or the group change
# (LB_PICK_STALE), not per request.
LR_BACKENDS, LR_WEIGHTS, LR_GROUP, LR_PICK, LR_PICK_W, LR_PICK_CUR = range(6)
LB_ROWS = 6
# Per scaler, from RB_SC + sc: the instances it created and still manages.
SC_ROWS = 1
# Per canary, from RB_CA + CA_ROWS * ca: its group, the baseline.
CR_GROUP, CR_BASELINE = range(2)
CA_ROWS = 2
# Per rolling deployer, from RB_RO + RO_ROWS * ro: the original backends, their weights,
# whether each was removed, every new instance, the batch's new instances, and per new
# instance of the batch its passes, awaited probe and when that probe was sent.
R_OLD, R_OLD_W, R_REMOVED, R_NEW_ALL, R_BATCH_NEW, R_PASSES, R_PENDING, R_SENT = range(8)
RO_ROWS = 8

# Scratch rows (int64, 3 x servers) and the canary's two group counters (2 x 4).
GC_CANARY, GC_BASELINE = range(2)
# Measured groups (rules/measure.py), rows of Workspace.measures and measure_hist: per
# deployer (canaries, then rolling deployers) MEASURE_GROUPS rows, its new version
# (measure.NEW) and its baseline (measure.BASE).
MEASURE_GROUPS = _me.GROUPS

# == outputs, per replica ===================================================================
# totals: G_CREATED .. G_COST_NS, then the scaling events recorded and events handled
OUT_G_FIELDS = 10
OG_NSCALE = OUT_G_FIELDS
OG_EVENTS = OUT_G_FIELDS + 1
OG_FIELDS = OUT_G_FIELDS + 2
# the instance lifecycle (float): requests dropped, instance-ns before ready, mean ready
# instances, ns underprovisioned
LC_DROPPED, LC_BOOTING_NS, LC_READY_MEAN, LC_UNDER_NS = range(4)
LC_FIELDS = 4
# latency quantiles (ns, float)
QUANTILES = (0.5, 0.9, 0.95, 0.99)
Q_FIELDS = len(QUANTILES)
# component stats: each component's STATS fields; the deployers' then status and end (ns)
SC_STATS = _as.STATS
CA_STATS = _ca.STATS
FL_STATS = _fl.STATS
AR_STATS = _ar.STATS
RO_STATS = _ro.STATS
DO_STATUS = 7
DO_END = 8
# the outcome columns' sources: the last deployment's start (ns), the largest weight of
# the new version (ppm), requests it answered, its exposure
DO_START, DO_MAX_WEIGHT, DO_REQUESTS_NEW, DO_EXPOSURE = range(9, 13)
DEPLOYER_OUT = 13
# scaling events
EV_TIME, EV_SCALER, EV_ACTION, EV_FROM, EV_TO = range(5)
EV_FIELDS = 5
EV_SCALE_OUT, EV_SCALE_IN = 0, 1
# time series
TS_INSTANCES, TS_QUEUE, TS_UTIL, TS_IN_FLIGHT, TS_READY, TS_BOOTING = range(6)
TS_FIELDS = 6
# run status: overflow code, then the capacities (servers, pool) that ran out
RS_OVERFLOW, RS_SERVER_CAP, RS_POOL_CAP = range(3)
RS_FIELDS = 3
