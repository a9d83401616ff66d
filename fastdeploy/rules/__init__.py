"""Decisions shared by both engines, as plain numba functions on scalars and arrays.

Nothing here knows about the object engine or the batch engine: each function takes
numbers (and small arrays) and returns numbers, so a rule is written once and both
engines call it.
"""
