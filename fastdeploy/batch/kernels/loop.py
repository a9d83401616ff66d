"""The entry kernel: replicas one after another, each with its event loop."""

import numpy as np

from .. import heap
from ..compile import entry, kernel
from ..schema import (CA_ARGO, CA_FLAGGER, CANARY_DEPLOY, CANARY_EVAL, CAS_EVALUATOR,
                      COMPLETE, G_EVENTS, G_HN, G_OVERFLOW, GRACE_END, OVERFLOW_NONE, RB_NRO,
                      ROLL_DEPLOY, ROLL_ROUND, RS_OVERFLOW, SCALER_EVAL, SD_NEXT_NS,
                      SD_NEXT_SEQ, SERVER_READY)
from .argo import argo_event
from .canary import handle_canary_deploy, handle_canary_eval
from .flagger import handle_flagger_deploy, handle_flagger_tick
from .replica import sample_timeseries
from .rolling import handle_roll_deploy, handle_roll_round, probe_done
from .servers import VOID, catch_up_all, handle_complete, measured_completion
from .sources import first_source, handle_arrival

ZERO = np.int64(0)  # a counter's start: numba would type a plain 0 as a literal first
AFTER_ALL = np.int64(2**63 - 1)  # a seq after every event's: an instant's end


@kernel
def sample(w, sn, row, t, part):
    """The time-series row at t: the replica after every event at or before t."""
    catch_up_all(w, t, AFTER_ALL, part)
    sample_timeseries(w, sn, row)


@kernel
def canary_event(w, sn, P, kind, target, payload, t, canary, flagger, argo, judge):
    """A canary deployer's event. Each kind's kernels are compiled only for scenarios
    with a deployer of that kind (bundles.Parts: a CanaryDeployer, a FlaggerCanary, an
    ArgoCanary), a KayentaJudge's only with ``judge``."""
    evaluator = sn.canary_init[target, CAS_EVALUATOR]
    if argo is not None and evaluator == CA_ARGO:
        argo_event(w, sn, P, kind, target, payload, t, judge)
    elif flagger is not None and evaluator == CA_FLAGGER:
        if kind == CANARY_DEPLOY:
            handle_flagger_deploy(w, sn, P, target, t, judge)
        else:
            handle_flagger_tick(w, sn, P, target, payload, t, judge)
    elif canary is not None:
        if kind == CANARY_DEPLOY:
            handle_canary_deploy(w, sn, P, target, t, judge)
        else:
            handle_canary_eval(w, sn, P, target, payload, t, judge)


@kernel
def rolling_event(w, sn, P, kind, target, payload, t, part):
    """A rolling deployer's event (compiled only for scenarios with one)."""
    if part is not None:
        if kind == ROLL_DEPLOY:
            handle_roll_deploy(w, sn, P, target, t)
        else:
            handle_roll_round(w, sn, P, target, payload, t)


@kernel
def probe_result(w, sn, P, item, failed, t, part):
    """A probe completed: its deployer and number are coded in the item (probes exist
    only in scenarios with a rolling deployer)."""
    if part is not None:
        code = -item - 1
        nro = w.bases[RB_NRO]
        probe_done(w, sn, P, code % nro, code // nro, failed, t)


@entry
def run_replicas(sn, P_ROWS, p_index, replicas, seed, span, ts_step, j0, j1, out, w, parts):
    """Run replicas[j] for j in [j0, j1) on one thread (nogil: threads run these in
    parallel), with parameters P_ROWS[p_index[j]], from span[0] to span[1] (ns), and
    the optional parts of the engine ``parts`` (bundles.Parts) says the scenario uses.
    The handlers that run rarely are reached through the pointers of ``parts.calls``
    (batch/calls.py).

    Stops at the first replica that outgrows the workspace w: its overflow code goes to
    out.status[j] and j is returned (the caller grows the workspace and resumes there;
    results do not depend on capacity). Returns j1 when all are done. The workspace is
    owned by the calling thread and reset for each replica, so the kernels allocate
    nothing and need no reference counting.
    """
    start_ns = span[0]
    end_ns = span[1]
    n_ts = out.timeseries.shape[1]
    G = w.counters
    H = w.heap
    calls = parts.calls
    for j in range(j0, j1):
        P = P_ROWS[p_index[j]]
        calls.reset(w, sn, P, seed, replicas[j], start_ns)
        events = out.scaling_events[j]
        series = out.timeseries[j]
        # The event loop of replica j. It is written here, not in a function of its own:
        # every numba function compiles (and optimises) all it calls into its own module,
        # so one more level would compile the whole engine once more.
        k_ts = ZERO
        SD = w.source_state
        while True:
            # The next event: a source's arrival, or the heap's first, in (time, seq)
            # order.
            src = first_source(SD)
            arrival = src >= 0 and (G[G_HN] == 0 or SD[src, SD_NEXT_NS] < H[0]
                                    or (SD[src, SD_NEXT_NS] == H[0]
                                        and SD[src, SD_NEXT_SEQ] < H[1]))
            if arrival:
                t = SD[src, SD_NEXT_NS]
            elif G[G_HN] > 0:
                t = H[0]
            else:
                break
            if t > end_ns:
                break
            while k_ts < n_ts and start_ns + k_ts * ts_step < t:
                calls.sample(w, sn, series[k_ts], start_ns + k_ts * ts_step, parts.measured)
                k_ts += 1
            G[G_EVENTS] += 1
            if arrival:
                handle_arrival(w, sn, src, t, SD[src, SD_NEXT_SEQ], parts.measured)
                if G[G_OVERFLOW] != 0:
                    break
                continue
            t, seq, kind, target, payload = heap.peek(H, G)
            if kind == COMPLETE:
                item, failed, created = handle_complete(w, target, payload, t, seq,
                                                        parts.measured)
                if item < 0 and item != VOID:
                    # The deployer may act on the whole replica: it sees it at this instant.
                    catch_up_all(w, t, seq, parts.measured)
                    calls.probe(w, sn, P, item, failed, t, parts.rolling)
                elif item >= 0:
                    measured_completion(w, target, created, failed, t, parts.measured)
            else:
                # A control event sees every server as it is at this instant.
                catch_up_all(w, t, seq, parts.measured)
                if kind == SCALER_EVAL:
                    calls.scaler_eval(w, sn, P, events, target, payload, t, parts.scaler,
                                      parts.hpa)
                elif kind == CANARY_DEPLOY or kind == CANARY_EVAL:
                    calls.canary(w, sn, P, kind, target, payload, t, parts.canary,
                                 parts.flagger, parts.argo, parts.judge)
                elif kind == ROLL_DEPLOY or kind == ROLL_ROUND:
                    calls.rolling(w, sn, P, kind, target, payload, t, parts.rolling)
                elif kind == SERVER_READY:
                    calls.ready(w, target, t)
                elif kind == GRACE_END:
                    calls.grace_end(w, target, payload, t)
                else:
                    calls.marks(w, sn, target, payload, t)
            heap.finish(H, G)
            if G[G_OVERFLOW] != 0:
                break
        out.status[j, RS_OVERFLOW] = G[G_OVERFLOW]
        if G[G_OVERFLOW] != OVERFLOW_NONE:
            return j
        while k_ts < n_ts:
            calls.sample(w, sn, series[k_ts], start_ns + k_ts * ts_step, parts.measured)
            k_ts += 1
        catch_up_all(w, end_ns, AFTER_ALL, parts.measured)
        calls.results(w, out, j, end_ns)
    return j1
