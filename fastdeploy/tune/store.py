"""A tune's output directory.

Layout of ``out``::

    _manifest.json          the tune's definition and its hash (resume checks it)
    _optuna.journal         Optuna's journal storage: every trial, its point and record
    chunk-p<trial>-...parquet   each racing stage's rows of a trial (the search)
    _holdout/               the finalists' rows on the holdout replicas (same layout)
    _trials.parquet         one row per trial (TuneResult.trials)
    _finalists.parquet      one row per finalist, holdout figures (TuneResult.finalists)
    _result.json            the best settings (or the Pareto set) with their figures

The chunk files are those of a sweep directory (``fastdeploy.sweep.store``: atomic
writes, read back only when whole), so ``pyarrow.parquet.read_table(out)`` reads the
search's rows as one dataset (``point`` is the trial number) and ``fastdeploy plot out``
reads them like a sweep; names starting with ``_`` stay out of that dataset.
"""

from __future__ import annotations

import json
import os

import pyarrow.parquet as pq

from ..sweep.store import SweepStore, _atomic_write

JOURNAL = "_optuna.journal"
HOLDOUT_DIR = "_holdout"
TRIALS = "_trials.parquet"
FINALISTS = "_finalists.parquet"
RESULT = "_result.json"


class TuneStore:
    """The directory of one tune definition (see the module docstring).

    Raises:
        FileExistsError: ``path`` is not empty and ``resume`` is False.
        ValueError: resuming, but ``path`` holds another tune (or another kind of
            output), naming what differs.
    """

    def __init__(self, path, definition: dict, digest: str, resume: bool):
        self.trials = SweepStore(path, definition, digest, resume, what="tune")
        self.path = self.trials.path
        hold = dict(definition, part="holdout")
        self.holdout = SweepStore(os.path.join(self.path, HOLDOUT_DIR), hold, digest, True,
                                  what="tune")

    def optuna_storage(self):
        """Optuna's journal storage in the directory (one JSON line per change).

        A run killed mid-write can leave two things behind, both cleared here (a tune
        directory serves one process at a time): the journal's lock (a symlink Optuna
        would wait 30 s to break) and a last line without its end (which the next
        appended line would turn into a corrupt one).
        """
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        path = os.path.join(self.path, JOURNAL)
        if os.path.lexists(path + ".lock"):
            os.unlink(path + ".lock")
        if os.path.exists(path):
            with open(path, "rb+") as f:
                data = f.read()
                if data and not data.endswith(b"\n"):
                    f.truncate(data.rfind(b"\n") + 1)
        return JournalStorage(JournalFileBackend(path))

    def finish(self, result) -> None:
        """Write the trials table, the finalists and the result; mark the tune complete."""
        _atomic_write(os.path.join(self.path, TRIALS),
                      lambda f: pq.write_table(result.trials, f))
        _atomic_write(os.path.join(self.path, FINALISTS),
                      lambda f: pq.write_table(result.finalists, f))
        text = json.dumps(result.report(), indent=1, sort_keys=True).encode()
        _atomic_write(os.path.join(self.path, RESULT), lambda f: f.write(text))
        self.trials.finish(int(result.table.num_rows))
