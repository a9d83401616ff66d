"""A cold compile on two cores: a second process compiles part of the kernels meanwhile.

numba compiles on one core, under a process-wide lock, and a cold start (an empty cache)
is spent almost entirely there (benchmarks/RESULTS.md). The entry kernel's event loop
calls a handful of independent handlers (the per-replica reset, the arrival, completion,
scaler and deployer handlers, the results' writer), each a large tree of functions. So
when the entry kernel is about to be compiled for a scenario's types, this module starts
one more Python process, and the two compile the handlers for exactly those types, this
one from the front of ``HANDLERS`` and the other from the back, each claiming a handler
before compiling it, until they meet. Both write numba's on-disk cache; the entry
kernel's compile then loads the other process's handlers from it instead of compiling
them. The code is the same either way: this changes only who compiles what, first.

Everything here is an optimisation: if the second process fails, is slow, or the cache
is not writable, this process compiles what is missing itself, as it would have.
"""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
import tempfile

import numba
from numba.core import types

from .compiled import cached_signatures
from .kernels import argo, canary, flagger, loop, replica, rolling, servers, sources
from .kernels import autoscaler as scaler_kernels

# How long to wait for the second process before compiling its share here.
WAIT_SECONDS = 300.0

# Each handler under the event loop, as (module, function name, argument roles, the
# part it needs). A role names a type derived from the run's own arrays
# (``_role_types``); ``parts.x`` is the type of that member of bundles.Parts; a handler
# that needs a part is compiled only when the scenario has it. These are the calls in
# kernels/loop.py, with the deployers' own handlers in place of the thin dispatchers over
# them (canary_event, rolling_event, argo_event: compiled last, with the entry kernel,
# from what the two processes left in the cache), so that the two can share a deployer's
# work; tests/test_precompile.py checks that they are the signatures numba compiles. The
# order is the two processes' meeting order: this one takes from the front, the other
# from the back (large handlers at both ends, callees before their callers).
HANDLERS = (
    (replica, "reset_replica", ("w", "sn", "P", "u64", "i64", "i64"), None),
    (servers, "handle_complete", ("w", "i64", "i64", "i64", "i64", "parts.measured"), None),
    (servers, "catch_up_all", ("w", "i64", "i64", "parts.measured"), None),
    (replica, "write_results", ("w", "out", "i64", "i64"), None),
    (replica, "sample_timeseries", ("w", "sn", "row"), None),
    (loop, "sample", ("w", "sn", "row", "i64", "parts.measured"), None),
    (servers, "catch_up_call", ("w", "i64", "i64", "i64", "parts.measured"), None),
    (loop, "probe_result", ("w", "sn", "P", "i64", "i64", "i64", "parts.rolling"), None),
    (servers, "measured_completion", ("w", "i64", "i64", "i64", "i64", "parts.measured"),
     None),
    (servers, "handle_ready", ("w", "i64", "i64"), None),
    (servers, "handle_grace_end", ("w", "i64", "i64", "i64"), None),
    (scaler_kernels, "mark_backends", ("w", "sn", "i64", "i64", "i64"), None),
    (rolling, "handle_roll_deploy", ("w", "sn", "P", "i64", "i64"), "rolling"),
    (rolling, "handle_roll_round", ("w", "sn", "P", "i64", "i64", "i64"), "rolling"),
    (flagger, "handle_flagger_deploy", ("w", "sn", "P", "i64", "i64", "parts.judge"),
     "flagger"),
    (flagger, "handle_flagger_tick", ("w", "sn", "P", "i64", "i64", "i64", "parts.judge"),
     "flagger"),
    (canary, "handle_canary_deploy", ("w", "sn", "P", "i64", "i64", "parts.judge"), "canary"),
    (canary, "handle_canary_eval", ("w", "sn", "P", "i64", "i64", "i64", "parts.judge"),
     "canary"),
    (argo, "handle_argo_deploy", ("w", "sn", "P", "i64", "i64"), "argo"),
    (argo, "handle_argo_event", ("w", "sn", "P", "i64", "i64", "i64", "parts.judge"), "argo"),
    (argo, "argo_drive", ("w", "sn", "P", "i64", "i64"), "argo"),  # under both above
    (scaler_kernels, "handle_scaler_eval",
     ("w", "sn", "P", "events", "i64", "i64", "i64", "parts.scaler", "parts.hpa"), None),
    (sources, "handle_arrival", ("w", "sn", "i64", "i64", "i64", "parts.measured"), None),
)


def _role_types(sn, P_ROWS, out, w, parts) -> dict:
    """The numba type of each role, from the arrays the entry kernel is called with."""
    def sliced(array, drop):  # a C-contiguous array indexed on its first `drop` axes
        t = numba.typeof(array)
        return t.copy(ndim=t.ndim - drop)

    roles = {"w": numba.typeof(w), "sn": numba.typeof(sn), "out": numba.typeof(out),
             "P": sliced(P_ROWS, 1), "events": sliced(out.scaling_events, 1),
             "row": sliced(out.timeseries, 2), "i64": types.int64, "u64": types.uint64}
    for name in parts._fields:
        roles[f"parts.{name}"] = numba.typeof(getattr(parts, name))
    return roles


def signatures(handlers, sn, P_ROWS, out, w, parts) -> list:
    """[(module name, function name, argument types)] of ``handlers`` for this run."""
    roles = _role_types(sn, P_ROWS, out, w, parts)
    return [(module.__name__, name, tuple(roles[r] for r in args))
            for module, name, args, needs in handlers
            if needs is None or getattr(parts, needs) is not None]


def _cached(dispatcher, argtypes) -> bool:
    """Whether ``dispatcher`` is compiled for ``argtypes`` in this process or has an
    entry for them in numba's on-disk cache (for this machine)."""
    if tuple(argtypes) in dispatcher.overloads:
        return True
    try:
        return tuple(argtypes) in cached_signatures(dispatcher)
    except Exception:  # numba's internals moved: assume cached, compile as before
        return True


def compile_claimed(entries, claims: str, backwards: bool) -> None:
    """Compile ``entries`` in order (or from the back), each after claiming it in the
    folder ``claims`` (an atomic mkdir), until one is claimed by the other process."""
    order = range(len(entries) - 1, -1, -1) if backwards else range(len(entries))
    for i in order:
        try:
            os.mkdir(os.path.join(claims, str(i)))
        except FileExistsError:
            return
        module_name, name, argtypes = entries[i]
        getattr(sys.modules[module_name], name).compile(argtypes)


def compile_on_two_cores(entry_args, sn, P_ROWS, out, w, parts) -> None:
    """Before the entry kernel first runs with ``entry_args``: when it would compile
    (JIT on, not compiled here, not in the on-disk cache) and the machine has a second
    core, compile the handlers in two processes (module docstring)."""
    if numba.config.DISABLE_JIT or (os.cpu_count() or 1) < 2:
        return
    entry_types = tuple(numba.typeof(a) for a in entry_args)
    if _cached(loop.run_replicas, entry_types):
        return
    entries = [e for e in signatures(HANDLERS, sn, P_ROWS, out, w, parts)
               if not _cached(getattr(sys.modules[e[0]], e[1]), e[2])]
    claims = tempfile.mkdtemp(prefix="fastdeploy-compile-")
    child = None
    try:
        if len(entries) > 1:
            child = _start_child(entries, claims)
        compile_claimed(entries, claims, backwards=False)
        if child is not None:
            child.wait(timeout=WAIT_SECONDS)
    except subprocess.TimeoutExpired:
        pass
    finally:
        if child is not None and child.poll() is None:
            child.kill()
            child.wait()
        shutil.rmtree(claims, ignore_errors=True)


def _start_child(entries, claims: str):
    """The second process, given its work on stdin; None if it could not start. It runs
    in the folder that holds this fastdeploy package, with that folder first on its path,
    so it imports this fastdeploy (``python -c`` puts its working folder first)."""
    home = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (home, os.environ.get("PYTHONPATH", "")) if p))
    child = None
    try:
        child = subprocess.Popen([sys.executable, "-c", _CHILD_MAIN], stdin=subprocess.PIPE,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                 cwd=home, env=env)
        child.stdin.write(pickle.dumps((entries, claims)))
        child.stdin.close()
        return child
    except (OSError, pickle.PicklingError):
        if child is not None:
            child.kill()
            child.wait()
        return None


# The second process: read the pickled signatures, compile from the back (cache=True
# saves what it compiles).
_CHILD_MAIN = """
import pickle, sys
import fastdeploy.batch.precompile as p
entries, claims = pickle.load(sys.stdin.buffer)
p.compile_claimed(entries, claims, backwards=True)
"""
