"""The batch kernels: one module per component, the event loop in ``loop``.

Each component module applies its rules module's decisions (fastdeploy/rules/) to the
workspace arrays; the loop dispatches events to them. Only ``run_replicas`` is called
from Python.
"""

import glob
import os

from ..compile import refresh_kernel_cache

_HERE = os.path.dirname(os.path.abspath(__file__))
_BATCH = os.path.dirname(_HERE)
# Before any kernel module is imported: numba checks its cache at decoration time.
refresh_kernel_cache(
    sorted(glob.glob(os.path.join(_HERE, "*.py"))),
    glob.glob(os.path.join(_BATCH, "..", "rules", "*.py"))
    + [os.path.join(_BATCH, name) for name in ("heap.py", "schema.py", "compile.py")])

from .loop import run_replicas  # noqa: E402

__all__ = ["run_replicas"]
