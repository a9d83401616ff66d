"""The event loop's cold handlers, reached through function pointers.

numba links the code of everything a function calls into that function's module, and
optimises and generates machine code for it there once more. The handlers that run
rarely (once per replica, at a control event or a time-series sample) were therefore
compiled twice: in their own module and again inside ``run_replicas``, where they were
12k of its 27.5k lines of optimised LLVM IR. They are now called through a pointer
(numba's first-class function type, as the HPA's sync): each is compiled once, as a C
callback for exactly the run's types, and ``run_replicas`` holds only the call. A call
through a pointer is not inlined, which costs nothing at the rates these run.

``Parts.calls`` carries them into the kernels. With numba's JIT disabled, the kernels
are Python and the pointers are the Python functions.
"""

from __future__ import annotations

import sys
from typing import NamedTuple

import numba
from numba.core import types
from numba.core.types.function_type import WrapperAddressProtocol

from .kernels import autoscaler, loop, replica, servers

_OPTIONS = dict(cache=True, nogil=True, _nrt=False)


class Calls(NamedTuple):
    """The cold handlers of kernels/loop.py, each a function pointer."""

    reset: object  # kernels/replica.py reset_replica
    results: object  # kernels/replica.py write_results
    scaler_eval: object  # kernels/autoscaler.py handle_scaler_eval
    ready: object  # kernels/servers.py handle_ready
    grace_end: object  # kernels/servers.py handle_grace_end
    marks: object  # kernels/autoscaler.py mark_backends
    sample: object  # kernels/loop.py sample (a time-series row)
    canary: object  # kernels/loop.py canary_event
    rolling: object  # kernels/loop.py rolling_event
    probe: object  # kernels/loop.py probe_result


# Each field's (module, function name, argument roles); a role names a type of the run
# (``role_types``). All return nothing.
CALLS = {
    "reset": (replica, "reset_replica", ("w", "sn", "P", "u64", "i64", "i64")),
    "results": (replica, "write_results", ("w", "out", "i64", "i64")),
    "scaler_eval": (autoscaler, "handle_scaler_eval",
                    ("w", "sn", "P", "events", "i64", "i64", "i64", "parts.scaler",
                     "parts.hpa")),
    "ready": (servers, "handle_ready", ("w", "i64", "i64")),
    "grace_end": (servers, "handle_grace_end", ("w", "i64", "i64", "i64")),
    "marks": (autoscaler, "mark_backends", ("w", "sn", "i64", "i64", "i64")),
    "sample": (loop, "sample", ("w", "sn", "row", "i64", "parts.measured")),
    # The deployers' handlers, for the parts the scenario has: with None for a part,
    # numba drops its branch before typing, so a scenario compiles only its own.
    "canary": (loop, "canary_event", ("w", "sn", "P", "i64", "i64", "i64", "i64",
                                      "parts.canary", "parts.flagger", "parts.argo",
                                      "parts.judge")),
    "rolling": (loop, "rolling_event", ("w", "sn", "P", "i64", "i64", "i64", "i64",
                                        "parts.rolling")),
    "probe": (loop, "probe_result", ("w", "sn", "P", "i64", "i64", "i64", "parts.rolling")),
}

# The C callbacks compiled (or loaded from numba's cache) in this process, by function
# and signature.
_COMPILED = {}


def role_types(sn, P_ROWS, out, w, parts) -> dict:
    """The numba type of each role, from the arrays the entry kernel is called with."""
    def sliced(array, drop):  # a C-contiguous array indexed on its first `drop` axes
        t = numba.typeof(array)
        return t.copy(ndim=t.ndim - drop)

    roles = {"w": numba.typeof(w), "sn": numba.typeof(sn), "out": numba.typeof(out),
             "P": sliced(P_ROWS, 1), "events": sliced(out.scaling_events, 1),
             "row": sliced(out.timeseries, 2), "i64": types.int64, "u64": types.uint64}
    for name in parts._fields:
        if name != "calls":
            roles[f"parts.{name}"] = numba.typeof(getattr(parts, name))
    return roles


def signature(field: str, roles: dict):
    """The C signature of handler ``field`` for a run of these roles' types."""
    return types.void(*(roles[r] for r in CALLS[field][2]))


def compiled(module_name: str, name: str, sig):
    """Handler ``name`` of ``module_name`` as a C callback of ``sig``: compiled, or loaded
    from numba's on-disk cache, once per process."""
    key = (module_name, name, sig)
    if key not in _COMPILED:
        py_func = getattr(sys.modules[module_name], name).py_func
        _COMPILED[key] = numba.cfunc(sig, **_OPTIONS)(py_func)
    return _COMPILED[key]


def is_compiled(module_name: str, name: str, sig) -> bool:
    """Whether this process has the C callback already."""
    return (module_name, name, sig) in _COMPILED


class _Typed(WrapperAddressProtocol):
    """Stands for a C callback of ``sig`` where only its numba type is wanted."""

    def __init__(self, sig):
        self._sig = sig

    def signature(self):
        return self._sig

    def __wrapper_address__(self):
        return 0


def parts_type(sn, P_ROWS, out, w, parts):
    """The numba type of ``parts`` with its calls for this run, without compiling them:
    the type the entry kernel will be compiled (or found in the cache) for."""
    roles = role_types(sn, P_ROWS, out, w, parts)
    typed = Calls(**{f: _Typed(signature(f, roles)) for f in CALLS})
    return numba.typeof(parts._replace(calls=typed))


def make_calls(sn, P_ROWS, out, w, parts) -> Calls:
    """The handlers for a run of these arrays' types."""
    if numba.config.DISABLE_JIT:
        return Calls(**{f: getattr(m, n) for f, (m, n, _) in CALLS.items()})
    roles = role_types(sn, P_ROWS, out, w, parts)
    return Calls(**{f: compiled(m.__name__, n, signature(f, roles))
                    for f, (m, n, _) in CALLS.items()})
