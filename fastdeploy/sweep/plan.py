"""Chunks: the deterministic units of work of a sweep (a block of points x a replica range).

Points are cut into fixed blocks of ``chunk_points`` consecutive indices; replicas into
ranges: round 0 covers replicas ``0 .. replicas-1`` in ranges of ``chunk_replicas``, and
each later round (sequential stopping) adds the next ``chunk_replicas`` replicas (fewer
when ``max_replicas`` cuts it). A chunk of a later round holds only the points of its
block still running. Chunk names are therefore fixed by the sweep's definition and the
results of earlier rounds, which are themselves deterministic: that makes resume exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Rows (points x replicas) a chunk aims at: large enough that a kernel call keeps every
# core busy, small enough that a killed run loses little.
CHUNK_ROWS = 4096


@dataclass(frozen=True)
class Chunk:
    """One unit of work: ``point_ids`` (inside block ``block``) x replicas ``lo .. hi-1``.

    Attributes:
        block: (first, stop) point indices of the point block.
        point_ids: The points of the block this chunk runs, ascending.
        lo: First replica index.
        hi: One past the last replica index.
        round: 0 for the initial replicas, r for the r-th added range.
    """

    block: tuple[int, int]
    point_ids: tuple[int, ...]
    lo: int
    hi: int
    round: int

    @property
    def rows(self) -> int:
        return len(self.point_ids) * (self.hi - self.lo)

    @property
    def name(self) -> str:
        """The file stem: point block and replica range (stops exclusive)."""
        return (f"chunk-p{self.block[0]:06d}-{self.block[1]:06d}"
                f"-r{self.lo:09d}-{self.hi:09d}")


def chunk_points(chunk_replicas: int) -> int:
    """Points per block for a replica range of ``chunk_replicas``."""
    return max(1, CHUNK_ROWS // chunk_replicas)


def _chunks(active: np.ndarray, n_points: int, block: int, lo: int, hi: int,
            round_: int) -> list[Chunk]:
    out = []
    for first in range(0, n_points, block):
        stop = min(n_points, first + block)
        ids = active[(active >= first) & (active < stop)]
        if ids.size:
            out.append(Chunk((first, stop), tuple(int(i) for i in ids), lo, hi, round_))
    return out


def first_round(n_points: int, replicas: int, chunk_replicas: int) -> list[Chunk]:
    """Every point x replicas ``0 .. replicas-1``: replica ranges outer, point blocks inner."""
    block = chunk_points(chunk_replicas)
    active = np.arange(n_points)
    out = []
    for lo in range(0, replicas, chunk_replicas):
        out += _chunks(active, n_points, block, lo, min(replicas, lo + chunk_replicas), 0)
    return out


def next_round(active: np.ndarray, n_points: int, done: int, round_: int, chunk_replicas: int,
               max_replicas: int) -> list[Chunk]:
    """The ``active`` points x the next replicas ``done .. min(done + chunk, max) - 1``."""
    hi = min(max_replicas, done + chunk_replicas)
    if hi <= done or active.size == 0:
        return []
    return _chunks(np.asarray(active), n_points, chunk_points(chunk_replicas), done, hi, round_)
