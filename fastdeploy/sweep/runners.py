"""Where chunks run: in this process (one after another, each on every core) or on a
Dask cluster (spread over the workers). Both yield (task, table) as chunks finish."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pyarrow as pa

from ..batch.lower import BatchModel
from .execute import ChunkTask, run_chunk, run_chunk_remote


class LocalRunner:
    """Runs chunks here, in order; each kernel call uses ``task.threads`` threads."""

    def __init__(self, model: BatchModel):
        self.model = model

    def run(self, tasks: list[ChunkTask]) -> Iterator[tuple[ChunkTask, pa.Table]]:
        for task in tasks:
            yield task, run_chunk(self.model, task)


class DaskRunner:
    """Submits one task per chunk to a ``distributed.Client``.

    The scenario travels as cloudpickle bytes in every chunk's task (so nothing is lost
    with a worker that dies); each worker unpickles and lowers it once, checks that it
    lowers to the client's scenario (same fingerprint), then runs its chunks.

    Args:
        client: A ``distributed.Client``.
        scenario: The Simulation (anything cloudpickle can carry that lowers).
        fingerprint: ``model_fingerprint`` of the client's lowered scenario.
    """

    def __init__(self, client, scenario, fingerprint: str):
        import cloudpickle

        self.client = client
        self.fingerprint = fingerprint
        self.tag = uuid.uuid4().hex[:12]
        # The bytes go into every chunk's task (a scenario pickles to tens of kB; each
        # worker lowers it once, keyed by its hash). Not scattered data: that lives only
        # on the workers holding it, so a worker killed before a copy reached another
        # took the scenario with it (its chunks were cancelled as "already forgotten");
        # nor one task's result, which pins every chunk to the worker holding it.
        self.payload = cloudpickle.dumps(scenario)

    def run(self, tasks: list[ChunkTask]) -> Iterator[tuple[ChunkTask, pa.Table]]:
        from distributed import as_completed

        if not tasks:
            return
        futures = {}
        for task in tasks:
            fut = self.client.submit(run_chunk_remote, self.payload, self.fingerprint, task,
                                     pure=False, key=f"fastdeploy-{task.chunk.name}-{self.tag}")
            futures[fut.key] = (fut, task)
        try:
            for fut in as_completed([f for f, _ in futures.values()]):
                yield futures[fut.key][1], fut.result()
        finally:
            # On an error (or the consumer stopping early) leave nothing running.
            for fut, _ in futures.values():
                if not fut.done():
                    fut.cancel()
