"""What one replica's fleet integrates over time, shared by both engines: ready instances,
instances booting, requests waiting in queues, AutoScalers below their maximum, and the
requests dropped at the end of a termination grace period.

State: one int64 record per replica (the fields below). The object engine's RunRecord
holds it as a numpy array, the kernels as their workspace's ``fleet``. Every change goes
through a function here, which first brings the integrals up to the instant of the change,
so the time averages are exact (the state is piecewise constant between changes).
"""

from .jit import njit_inline

(LAST_NS, READY, READY_NS, BOOTING, WAITING, BELOW_MAX, UNDER_NS, DROPPED,
 START_NS) = range(9)
FIELDS = 9


@njit_inline
def reset(fl, now):
    """A replica starts at now with nothing in it."""
    fl[:FIELDS] = 0
    fl[LAST_NS] = now
    fl[START_NS] = now


@njit_inline
def advance(fl, now):
    """Bring the integrals up to now: ready instance-ns, and the ns during which some
    request waited in a queue while some AutoScaler was below its max_instances."""
    dt = now - fl[LAST_NS]
    if dt > 0:
        fl[READY_NS] += fl[READY] * dt
        if fl[WAITING] > 0 and fl[BELOW_MAX] > 0:
            fl[UNDER_NS] += dt
        fl[LAST_NS] = now


@njit_inline
def ready_changed(fl, delta, now):
    advance(fl, now)
    fl[READY] += delta


@njit_inline
def booting_changed(fl, delta):
    """Instances booting (a count the time series sample, not integrated)."""
    fl[BOOTING] += delta


@njit_inline
def waiting_changed(fl, delta, now):
    advance(fl, now)
    fl[WAITING] += delta


@njit_inline
def below_max_changed(fl, delta, now):
    advance(fl, now)
    fl[BELOW_MAX] += delta


@njit_inline
def dropped(fl, n):
    fl[DROPPED] += n


@njit_inline
def ready_mean(fl, end):
    """Time-average of the ready instances from the start to end (their count at the
    start when the span is empty)."""
    advance(fl, end)
    span = end - fl[START_NS]
    if span <= 0:
        return float(fl[READY])
    return fl[READY_NS] / span
