"""Reset an object graph to a saved state in place, keeping object identity.

A Simulation can run several replicas; the user's references (``scaler.stats``) must
show the latest run. So the pristine graph is deep-copied once, and before each later
run every original object gets a fresh copy of its saved ``__dict__`` whose references
point back at the originals.
"""

from __future__ import annotations

import copy
import types

_ATOMIC = (type, types.FunctionType, types.BuiltinFunctionType, types.ModuleType,
           types.MethodType)


class GraphSnapshot:
    def __init__(self, roots):
        memo: dict = {}
        self._copy = copy.deepcopy(roots, memo)
        originals = memo.get(id(memo), [])
        self._pairs = [(o, memo[id(o)]) for o in originals
                       if id(o) in memo and hasattr(o, "__dict__") and not isinstance(o, _ATOMIC)
                       and memo[id(o)] is not o]

    def restore(self):
        """Put every original object back in its saved state; return fresh roots."""
        memo = {id(c): o for o, c in self._pairs}
        states = [(o, copy.deepcopy(c.__dict__, memo)) for o, c in self._pairs]
        for o, state in states:
            o.__dict__.clear()
            o.__dict__.update(state)
        return copy.deepcopy(self._copy, memo)
