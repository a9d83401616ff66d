"""HorizontalPodAutoscaler in the kernels: the sample of the backends and the actions of
rules/hpa.py (the scaler machinery of kernels/autoscaler.py does the rest)."""

from .shared import autoscaler as scaler
from .shared import fleet
from .shared import hpa as rules
from .shared import server as srv
from ..compile import kernel
from ..schema import LB_RECEIVED, RB_SC, SCS_LB, SCS_POFF
from .balancer import lb_remove, lb_row, list_remove


@kernel
def hpa_decide(w, sn, P, sc, current, since, slot, now):
    """A sync: sample the backends, then rules/hpa.py's sync (through its function
    pointer): the change, n > 0 to add, n < 0 to remove."""
    init = sn.scaler_init[sc]
    lb = init[SCS_LB]
    row = lb_row(w, lb)
    prm = P[init[SCS_POFF]:]
    q = prm[scaler.P_POLICY:]
    window = scaler.window_ns(prm)
    start = w.fleet[fleet.START_NS]
    SV = w.servers
    samples = w.hpa_samples
    for i in range(current):
        b = w.lists[row, i]
        _, depth, busy = srv.observe(SV[b], w.marks, b, now, since, slot)
        rules.sample(samples[i], busy, depth, SV[b, srv.CONCURRENCY], SV[b, srv.READY],
                     SV[b, srv.BORN_NS], SV[b, srv.BOOT_NS], start, now, window, q)
    return sn.hpa_sync(w.scalers[sc], w.hpas[sc], prm, samples, w.hpa_recs[sc],
                       w.hpa_events[sc], current, w.lbs[lb, LB_RECEIVED], now)


@kernel
def hpa_scale_in(w, sn, sc, lb, current, n, now):
    """Remove n backends in the ReplicaSet's order (rules/hpa.py choose_victims, over
    this sync's sample); returns how many left (the caller records the action)."""
    LS = w.lists
    LN = w.list_len
    row = lb_row(w, lb)
    mrow = w.bases[RB_SC] + sc
    out = w.scratch[2]
    k = rules.choose_victims(w.hpa_samples, current, n, out)
    # Positions shift as backends leave: turn them into servers first.
    for q in range(k):
        out[q] = LS[row, out[q]]
    for q in range(k):
        lb_remove(w, sn, lb, out[q], now)
        list_remove(LS, LN, mrow, out[q])
    return k
