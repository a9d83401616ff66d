"""What one object-engine run counts: requests, latencies and instance time."""

from __future__ import annotations

import numpy as np

from ..rules import autoscaler as scaler_rules
from ..rules import fleet, histogram, requests, rng


class RunRecord:
    """Counters of one replica, shared through the clock by the built-in components.

    ``schedule(event)`` puts an event on the simulation's heap at once (components call
    it where the kernels push an event, so that both engines order ties alike).
    """

    def __init__(self, seed: int, replica: int, start_ns: int, schedule=None):
        self.seed = seed
        self.replica = replica
        self.start_ns = start_ns
        self.request_key = rng.key_for(seed, replica, rng.REQUESTS_STREAM)
        # The shared record of the replica's requests (rules/requests.py) and its
        # latency histogram.
        self.requests = np.zeros(requests.FIELDS, np.int64)
        self.latency_hist = np.zeros(histogram.N_BUCKETS, dtype=np.int64)
        requests.reset(self.requests, self.latency_hist)
        self.instances = 0
        self.peak_instances = 0
        self.costed_servers: list = []
        self.schedule = schedule
        self.clock = None  # set by the simulation running this record
        # What the replica integrates over time (rules/fleet.py), and the AutoScalers
        # whose load balancers it watches for it.
        self.fleet = np.zeros(fleet.FIELDS, np.int64)
        fleet.reset(self.fleet, start_ns)
        self.scalers: list = []

    def watch_scaler(self, scaler, now_ns: int) -> None:
        """An AutoScaler of this run: whether its load balancer is below its max."""
        self.scalers.append(scaler)
        scaler_rules.begin_run(scaler._state, self.fleet, scaler._params,
                               len(scaler.load_balancer.all_backends), now_ns)

    def backends_changed(self, lb) -> None:
        """lb gained or lost a backend."""
        for s in self.scalers:
            if s.load_balancer is lb:
                scaler_rules.fleet_size(s._state, self.fleet, len(lb.all_backends),
                                        self.clock.now_ns)

    def key(self, stream_name: str):
        return rng.key_for(self.seed, self.replica, stream_name)

    # The record's fields, read as the object engine's results name them.
    @property
    def requests_created(self) -> int:
        return int(self.requests[requests.CREATED])

    @property
    def requests_completed(self) -> int:
        return int(self.requests[requests.COMPLETED])

    @property
    def requests_failed(self) -> int:
        return int(self.requests[requests.FAILED])

    @property
    def requests_rejected(self) -> int:
        return int(self.requests[requests.REJECTED])

    @property
    def latency_sum_ns(self) -> int:
        return int(self.requests[requests.LATENCY_SUM_NS])

    @property
    def latency_min_ns(self) -> int:
        """The least latency of a completed request (-1: none yet)."""
        return int(self.requests[requests.LATENCY_MIN_NS])

    @property
    def latency_max_ns(self) -> int:
        return int(self.requests[requests.LATENCY_MAX_NS])

    def new_request(self) -> tuple[int, float, float]:
        """Index and (u_work, u_fail) of the next request created."""
        idx = int(requests.created(self.requests))
        return (idx, rng.item_uniform(self.request_key, idx, rng.WORK_DRAW),
                rng.item_uniform(self.request_key, idx, rng.FAIL_DRAW))

    def request_done(self, latency_ns: int, failed: bool) -> None:
        requests.completed(self.requests, self.latency_hist, latency_ns, int(failed))

    def request_rejected(self) -> None:
        requests.rejected(self.requests)

    def instance_up(self, server) -> None:
        if not server._ever_costed:
            server._ever_costed = True
            self.costed_servers.append(server)
        self.instances += 1
        if self.instances > self.peak_instances:
            self.peak_instances = self.instances

    def instance_down(self) -> None:
        self.instances -= 1
