"""The batch kernels: one module per component, the event loop in ``loop``.

Each component module applies its rules module's decisions (fastdeploy/rules/) to the
workspace arrays; the loop dispatches events to them. Only ``run_replicas`` is called
from Python.
"""

from .loop import run_replicas

__all__ = ["run_replicas"]
