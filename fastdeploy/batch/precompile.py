"""A cold compile on two cores: a second process compiles part of the kernels meanwhile.

numba compiles on one core, under a process-wide lock, and a cold start (an empty cache)
is spent almost entirely there (benchmarks/RESULTS.md). The entry kernel's event loop
calls a handful of independent handlers (the per-replica reset, the arrival, completion,
scaler and deployer handlers, the results' writer), each a large tree of functions. So
when the entry kernel is about to be compiled for a scenario's types, this module starts
one more Python process that compiles some of the handlers for exactly those types
(``CHILD``) while this process compiles the others (``HERE``); both write numba's
on-disk cache, and the entry kernel's compile then loads the child's handlers from it
instead of compiling them. The code is the same either way: this changes only who
compiles what, first.

Everything here is an optimisation: if the second process fails, is slow, or the cache
is not writable, this process compiles what is missing itself, as it would have.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys

import numba
from numba.core import types

from .kernels import loop, replica, servers, sources
from .kernels import autoscaler as scaler_kernels

# How long to wait for the second process before compiling its share here.
WAIT_SECONDS = 300.0

# Each handler the event loop calls, as (module, function name, argument roles). A role
# names a type derived from the run's own arrays (``_role_types``); ``parts.x`` is the
# type of that member of bundles.Parts. These are the calls in kernels/loop.py;
# tests/test_precompile.py checks that they are the signatures numba compiles.
HERE = (
    (replica, "reset_replica", ("w", "sn", "P", "u64", "i64", "i64")),
    (replica, "sample_timeseries", ("w", "sn", "row")),
    (servers, "handle_complete", ("w", "i64", "i64", "i64")),
    (loop, "probe_result", ("w", "sn", "P", "i64", "i64", "i64", "parts.rolling")),
    (loop, "measured_completion", ("w", "i64", "i64", "i64", "i64", "parts.measured")),
    (servers, "handle_ready", ("w", "i64", "i64")),
    (servers, "handle_grace_end", ("w", "i64", "i64", "i64")),
    (scaler_kernels, "mark_backends", ("w", "sn", "i64", "i64", "i64")),
    (replica, "write_results", ("w", "out", "i64", "i64")),
)
CHILD = (
    (sources, "handle_arrival", ("w", "sn", "i64", "i64")),
    (scaler_kernels, "handle_scaler_eval",
     ("w", "sn", "P", "events", "i64", "i64", "i64", "parts.scaler", "parts.hpa")),
    (loop, "canary_event", ("w", "sn", "P", "i64", "i64", "i64", "i64", "parts.canary",
                            "parts.argo", "parts.judge")),
    (loop, "rolling_event", ("w", "sn", "P", "i64", "i64", "i64", "i64", "parts.rolling")),
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
            for module, name, args in handlers]


def _cached(dispatcher, argtypes) -> bool:
    """Whether ``dispatcher`` is compiled for ``argtypes`` in this process or has an
    entry for them in numba's on-disk cache (for this machine)."""
    if tuple(argtypes) in dispatcher.overloads:
        return True
    try:
        cache = dispatcher._cache
        index = cache._cache_file._load_index()
        magic = dispatcher.targetctx.codegen().magic_tuple()
        return any(key[0] == tuple(argtypes) and key[1] == magic
                   and os.path.exists(os.path.join(cache._cache_path, name))
                   for key, name in index.items())
    except Exception:  # numba's internals moved: assume cached, compile as before
        return True


def _compile(entries) -> None:
    for module_name, name, argtypes in entries:
        dispatcher = getattr(sys.modules[module_name], name)
        dispatcher.compile(argtypes)


def compile_on_two_cores(entry_args, sn, P_ROWS, out, w, parts) -> None:
    """Before the entry kernel first runs with ``entry_args``: when it would compile
    (JIT on, not compiled here, not in the on-disk cache) and the machine has a second
    core, compile the handlers in two processes (module docstring)."""
    if numba.config.DISABLE_JIT or (os.cpu_count() or 1) < 2:
        return
    entry_types = tuple(numba.typeof(a) for a in entry_args)
    if _cached(loop.run_replicas, entry_types):
        return
    theirs = signatures(CHILD, sn, P_ROWS, out, w, parts)
    child = None
    if not all(_cached(getattr(sys.modules[m], n), a) for m, n, a in theirs):
        try:
            child = subprocess.Popen([sys.executable, "-c", _CHILD_MAIN], stdin=subprocess.PIPE,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            child.stdin.write(pickle.dumps(theirs))
            child.stdin.close()
        except (OSError, pickle.PicklingError):
            child = None
    try:
        _compile(signatures(HERE, sn, P_ROWS, out, w, parts))
        if child is not None:
            child.wait(timeout=WAIT_SECONDS)
    except subprocess.TimeoutExpired:
        pass
    finally:
        if child is not None and child.poll() is None:
            child.kill()
            child.wait()


# The second process: read the pickled signatures, compile them (cache=True saves them).
_CHILD_MAIN = """
import pickle, sys
import fastdeploy.batch.precompile as p
p._compile(pickle.load(sys.stdin.buffer))
"""
