"""A thread's workspace: every array one replica's simulation writes, allocated once.

The kernels allocate nothing; a thread keeps one workspace for all its replicas and
grows it (doubling the servers or the request pool) when a replica outgrows it.
"""

from __future__ import annotations

import numpy as np

from ..rules import histogram
from . import schema as sc


def workspace_bytes(arrays) -> int:
    return int(sum(a.nbytes for a in arrays))


def make_workspace(model, servers: int, pool: int, max_concurrency: int) -> tuple:
    """Arrays in the order kernels.run_replicas takes them (G ... RO)."""
    n_src = model.SRC.shape[0]
    n_lb = model.LB_INIT.shape[0]
    n_sc, n_ca, n_ro = model.SCS.shape[0], model.CAS.shape[0], model.ROS.shape[0]
    n_rows = sc.LB_ROWS * n_lb + n_sc + 2 * n_ca + 8 * n_ro
    max_seg = max([3] + [int(n) for n in model.SRC[:, 5]])
    max_steps = max([1] + [int(n) for n in model.SCS[:, 4]])
    # Pending events: a completion per request or probe in service (at most every
    # server's concurrency), an arrival per source, the events scheduled before the run,
    # and a chain or two per component. So the heap cannot overflow.
    heap = (min(pool, servers * max_concurrency) + n_src + model.INIT_EV.shape[0] + n_sc + n_ca
            + 2 * n_ro + 4)
    return (
        np.zeros(sc.G_FIELDS, np.int64),  # G
        np.zeros((servers, sc.SV_FIELDS), np.int64),  # SV
        np.zeros((servers, 3), np.float64),  # SF
        np.zeros((pool, sc.ND_FIELDS), np.int64),  # ND
        np.zeros(3 * heap, np.int64),  # H: 3 words per entry
        np.zeros(histogram.N_BUCKETS, np.int64),  # HIST
        np.zeros((3, servers), np.int64),  # CW
        np.zeros(8, np.int64),  # RB
        np.zeros((max(n_rows, 1), servers), np.int64),  # LS
        np.zeros(max(n_rows, 1), np.int64),  # LN
        np.zeros(model.SID.shape[0], np.uint64),  # K
        np.zeros((n_src, 3, max_seg), np.float64),  # SEG
        np.zeros(n_src, np.int64),  # NSEG
        np.zeros((n_src, 3), np.int64),  # SRCD: draws, stop time, segment hint
        np.zeros((n_lb, sc.LB_FIELDS), np.int64),  # LBI
        np.zeros(n_lb, np.float64),  # LBF
        np.zeros((n_sc, sc.SC_FIELDS), np.int64),  # SC
        np.zeros((n_sc, max_steps), np.float64),  # STEPT
        np.zeros((n_sc, max_steps), np.int64),  # STEPA
        np.zeros((n_ca, sc.CA_FIELDS), np.int64),  # CA
        np.zeros((n_ro, sc.RO_FIELDS), np.int64),  # RO
    )
