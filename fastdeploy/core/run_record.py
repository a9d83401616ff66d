"""What one object-engine run counts: requests, latencies and instance time."""

from __future__ import annotations

import numpy as np

from ..rules import histogram, rng


class RunRecord:
    """Counters of one replica, shared through the clock by the built-in components."""

    def __init__(self, seed: int, replica: int, start_ns: int):
        self.seed = seed
        self.replica = replica
        self.start_ns = start_ns
        self.request_key = rng.key_for(seed, replica, rng.REQUESTS_STREAM)
        self.requests_created = 0
        self.requests_completed = 0
        self.requests_failed = 0
        self.requests_rejected = 0
        self.latency_hist = np.zeros(histogram.N_BUCKETS, dtype=np.int64)
        self.latency_sum_ns = 0
        self.latency_min_ns = -1
        self.latency_max_ns = 0
        self.instances = 0
        self.peak_instances = 0
        self.costed_servers: list = []

    def key(self, stream_name: str):
        return rng.key_for(self.seed, self.replica, stream_name)

    def new_request(self) -> tuple[int, float, float]:
        """Index and (u_work, u_fail) of the next request created."""
        idx = self.requests_created
        self.requests_created += 1
        return idx, rng.uniform(self.request_key, 2 * idx), rng.uniform(self.request_key, 2 * idx + 1)

    def request_done(self, latency_ns: int, failed: bool) -> None:
        self.requests_completed += 1
        if failed:
            self.requests_failed += 1
        self.latency_hist[histogram.bucket_of(latency_ns)] += 1
        self.latency_sum_ns += latency_ns
        if self.latency_min_ns < 0 or latency_ns < self.latency_min_ns:
            self.latency_min_ns = latency_ns
        if latency_ns > self.latency_max_ns:
            self.latency_max_ns = latency_ns

    def request_rejected(self) -> None:
        self.requests_rejected += 1

    def instance_up(self, server) -> None:
        if not server._ever_costed:
            server._ever_costed = True
            self.costed_servers.append(server)
        self.instances += 1
        if self.instances > self.peak_instances:
            self.peak_instances = self.instances

    def instance_down(self) -> None:
        self.instances -= 1
