"""Decisions and state transitions shared by both engines, as plain numba functions.

Nothing here knows about the object engine or the batch engine. Leaf rules take numbers
(and small arrays) and return numbers; each component's state machine (server.py,
balancer.py, autoscaler.py, canary.py, rolling.py) works on that component's own int64
record, whose fields it names, and returns what to do. docs/architecture.md has the map.
"""
