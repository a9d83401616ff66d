"""A cold compile on two cores: a second process compiles part of the kernels meanwhile.

numba compiles on one core, under a process-wide lock, and a cold start (an empty cache)
is spent almost entirely there (benchmarks/RESULTS.md). The entry kernel's event loop
calls a handful of independent handlers (the per-replica reset, the arrival, completion,
scaler and deployer handlers, the results' writer), each a large tree of functions. So
when the entry kernel is about to be compiled for a scenario's types, this module starts
one more Python process, and the two compile the handlers, and the entry kernel itself,
for exactly those types, both going down ``HANDLERS``, each claiming the next one the
other has not claimed before compiling it. Both write numba's on-disk cache, and each
loads from it what the other compiled instead of compiling it (the entry kernel's first
call too). The code is the same either way: this changes only who compiles what, first.

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
import time

import numba

from . import calls
from .compiled import cached_signatures
from .kernels import argo, canary, flagger, loop, replica, rolling, servers, sources

# How long to wait for the second process before compiling its share here.
WAIT_SECONDS = 300.0


def _call(field):
    """A handler the event loop calls through a pointer (calls.py field ``field``),
    compiled as a C callback."""
    module, name, roles = calls.CALLS[field]
    return (module, name, roles, None, field)


# The entry kernel itself (its argument types are the run's: entry_types). A process
# claims it only once every handler before it in HANDLERS is compiled (compile_claimed):
# those it links in (the arrival's and the completion's handlers, the catch-up), and two
# large C callbacks put between them, so that the two processes do not compile the parts
# the arrival and completion handlers share at the same time (the second one then loads
# them from the cache). The entry then compiles while the other process compiles the C
# callbacks after it, which it calls through pointers and does not need: about a tenth
# off a cold start (benchmarks/RESULTS.md, session 9).
ENTRY = (loop, "run_replicas", None, None, None)

# Each handler under the event loop, as (module, function name, argument roles, the
# part it needs, its field in calls.py's Calls when it is one of those C callbacks). A
# role names a type derived from the run's own arrays (calls.role_types); ``parts.x`` is
# the type of that member of bundles.Parts; a handler that needs a part is compiled only
# when the scenario has it.
# These are the calls in kernels/loop.py and, before the thin dispatchers over them
# (canary_event, rolling_event, argo_event), the deployers' own handlers, so that the two
# can share a deployer's work; tests/test_precompile.py checks that they are the
# signatures numba compiles. Both processes take them in this order, each the next one
# the other has not claimed: the entry and what it links first (see ENTRY), then the
# largest first, so that the two finish together.
HANDLERS = (
    (sources, "handle_arrival", ("w", "sn", "i64", "i64", "i64", "parts.measured"), None,
     None),
    _call("scaler_eval"),
    _call("reset"),
    (servers, "handle_complete", ("w", "i64", "i64", "i64", "i64", "parts.measured"), None,
     None),
    (servers, "catch_up_all", ("w", "i64", "i64", "parts.measured"), None, None),
    (servers, "measured_completion", ("w", "i64", "i64", "i64", "i64", "parts.measured"),
     None, None),
    ENTRY,
    (argo, "argo_drive", ("w", "sn", "P", "i64", "i64"), "argo", None),
    (flagger, "handle_flagger_tick", ("w", "sn", "P", "i64", "i64", "i64", "parts.judge"),
     "flagger", None),
    (canary, "handle_canary_eval", ("w", "sn", "P", "i64", "i64", "i64", "parts.judge"),
     "canary", None),
    (rolling, "handle_roll_round", ("w", "sn", "P", "i64", "i64", "i64"), "rolling", None),
    _call("results"),
    (argo, "handle_argo_event", ("w", "sn", "P", "i64", "i64", "i64", "parts.judge"), "argo",
     None),
    (argo, "handle_argo_deploy", ("w", "sn", "P", "i64", "i64"), "argo", None),
    (flagger, "handle_flagger_deploy", ("w", "sn", "P", "i64", "i64", "parts.judge"),
     "flagger", None),
    (canary, "handle_canary_deploy", ("w", "sn", "P", "i64", "i64", "parts.judge"), "canary",
     None),
    (rolling, "handle_roll_deploy", ("w", "sn", "P", "i64", "i64"), "rolling", None),
    _call("canary"),
    _call("rolling"),
    _call("probe"),
    _call("grace_end"),
    _call("ready"),
    (replica, "sample_timeseries", ("w", "sn", "row"), None, None),
    _call("sample"),
    (servers, "catch_up_call", ("w", "i64", "i64", "i64", "parts.measured"), None, None),
    _call("marks"),
)


def entry_types(entry_args, sn, P_ROWS, out, w, parts) -> tuple:
    """The entry kernel's argument types for a call with ``entry_args`` (its Parts with
    the C callbacks' types, compiled or not)."""
    return tuple(numba.typeof(a) for a in entry_args[:-1]) + (
        calls.parts_type(sn, P_ROWS, out, w, parts),)


def signatures(handlers, sn, P_ROWS, out, w, parts, entry=None) -> list:
    """[(module name, function name, argument types or a C callback's signature, whether
    it is a C callback)] of ``handlers`` for this run; ENTRY's with the types ``entry``
    (left out without them)."""
    roles = calls.role_types(sn, P_ROWS, out, w, parts)
    found = []
    for module, name, args, needs, field in handlers:
        if needs is not None and getattr(parts, needs) is None:
            continue
        if args is None:
            if entry is not None:
                found.append((module.__name__, name, entry, False))
        elif field is None:
            found.append((module.__name__, name, tuple(roles[r] for r in args), False))
        else:
            found.append((module.__name__, name, calls.signature(field, roles), True))
    return found


def _cached(dispatcher, argtypes) -> bool:
    """Whether ``dispatcher`` is compiled for ``argtypes`` in this process or has an
    entry for them in numba's on-disk cache (for this machine)."""
    return tuple(argtypes) in dispatcher.overloads or _on_disk(dispatcher, tuple(argtypes))


def _on_disk(dispatcher, key) -> bool:
    """Whether numba's on-disk cache of ``dispatcher``'s function holds ``key``: its
    argument types, or a C callback's signature (kept in the same file, keyed so)."""
    try:
        return key in cached_signatures(dispatcher)
    except Exception:  # numba's internals moved: assume cached, compile as before
        return True


def _entry_cached(entry) -> bool:
    module_name, name, argtypes, is_call = entry
    dispatcher = getattr(sys.modules[module_name], name)
    if is_call:
        return calls.is_compiled(module_name, name, argtypes) or _on_disk(dispatcher, argtypes)
    return _cached(dispatcher, argtypes)


def _mark(claims: str, name: str) -> bool:
    """An atomic mark in the folder ``claims``: False when it was there already."""
    try:
        os.mkdir(os.path.join(claims, name))
        return True
    except FileExistsError:
        return False


def _compile(entry) -> None:
    module_name, name, argtypes, is_call = entry
    if is_call:
        calls.compiled(module_name, name, argtypes)
    else:
        getattr(sys.modules[module_name], name).compile(argtypes)


def compile_claimed(entries, claims: str, other_alive=lambda: True) -> None:
    """Compile ``entries`` in order, each after claiming it in the folder ``claims``,
    skipping those the other process claimed; each compiled one is marked done there.
    The entry kernel (ENTRY's) is claimed only once every entry before it is done: until
    then this process goes on down the list, and at its end waits for them while
    ``other_alive()`` (compiling it sooner would compile them a second time, inside
    it; if the other process is gone, this one compiles them itself)."""
    entry_at = next((i for i, e in enumerate(entries) if e[1] == ENTRY[1]), None)

    def entry_ready():
        return all(os.path.isdir(os.path.join(claims, f"done-{j}")) for j in range(entry_at))

    def compile_entry():
        if _mark(claims, str(entry_at)):
            _compile(entries[entry_at])
            _mark(claims, f"done-{entry_at}")

    pending = entry_at is not None  # not yet tried to claim the entry
    for i, entry in enumerate(entries):
        if i != entry_at and _mark(claims, str(i)):
            _compile(entry)
            _mark(claims, f"done-{i}")
        if pending and i >= entry_at and entry_ready():
            compile_entry()
            pending = False
    if pending:
        deadline = time.monotonic() + WAIT_SECONDS
        while not entry_ready() and time.monotonic() < deadline and other_alive():
            time.sleep(0.02)
        compile_entry()


def compile_on_two_cores(entry_args, sn, P_ROWS, out, w, parts) -> None:
    """Before the entry kernel first runs with ``entry_args``: when it would compile
    (JIT on, not compiled here, not in the on-disk cache) and the machine has a second
    core, compile the handlers in two processes (module docstring)."""
    if numba.config.DISABLE_JIT or (os.cpu_count() or 1) < 2:
        return
    types = entry_types(entry_args, sn, P_ROWS, out, w, parts)
    if _cached(loop.run_replicas, types):
        return
    entries = [e for e in signatures(HANDLERS, sn, P_ROWS, out, w, parts, types)
               if not _entry_cached(e)]
    claims = tempfile.mkdtemp(prefix="fastdeploy-compile-")
    child = None
    try:
        if len(entries) > 1:
            child = _start_child(entries, claims)
        compile_claimed(entries, claims,
                        lambda: child is not None and child.poll() is None)
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


# The second process: read the pickled signatures, compile what this one has not
# claimed (cache=True saves what it compiles), waiting for the first only while it runs.
_CHILD_MAIN = """
import os, pickle, sys
import fastdeploy.batch.precompile as p
entries, claims = pickle.load(sys.stdin.buffer)
parent = os.getppid()
p.compile_claimed(entries, claims, lambda: os.getppid() == parent)
"""
