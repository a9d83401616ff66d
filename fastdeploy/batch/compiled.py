"""Whether the batch kernels are compiled already (numba's on-disk cache), without
compiling them: the command line says a compile is coming only when one is."""

from __future__ import annotations

import glob
import os

# Seconds from an empty numba cache to the first result on the project's 2-core machine
# (benchmarks/RESULTS.md, session 8: 16.0 s for autoscale-spike, 18.6 s for canary-bad,
# 19.3 s for rolling, with the two-core compile of batch/precompile.py); the one figure
# the command line, README and docs quote.
COMPILE_SECONDS = 20


def will_compile() -> bool:
    """True when the next batch run in this process compiles the kernels: numba's cache
    has no entry for the entry kernel that matches its source and this machine (or none
    can be read). False when they are compiled in this process already, loaded from the
    cache (well under a second), or when numba's JIT is disabled."""
    from numba.core.config import DISABLE_JIT

    if DISABLE_JIT:
        return False
    from .kernels import run_replicas

    if run_replicas.overloads:
        return False
    try:
        return not cached_signatures(run_replicas)
    except Exception:  # numba's internals moved: any index file for the kernel will do
        here = os.path.dirname(os.path.abspath(__file__))
        dirs = [os.path.join(here, "kernels", "__pycache__"), os.environ.get("NUMBA_CACHE_DIR", "")]
        return not any(glob.glob(os.path.join(d, "**", "loop.run_replicas-*.nbi"),
                                 recursive=True) for d in dirs if d)


def cached_signatures(dispatcher) -> list:
    """The argument types numba's on-disk cache holds machine code of ``dispatcher``
    for, on this machine (none when its source changed since). Reads numba's internals:
    the callers fall back when they move."""
    cache = dispatcher._cache
    index = cache._cache_file._load_index()  # {} when the source changed since
    magic = dispatcher.targetctx.codegen().magic_tuple()
    return [key[0] for key, name in index.items()
            if key[1] == magic and os.path.exists(os.path.join(cache._cache_path, name))]
