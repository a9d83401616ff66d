"""A sweep's output directory: one Parquet file per chunk and a manifest.

Layout of ``out``::

    _manifest.json                           format, definition hash, the definition
    chunk-p000000-000040-r000000000-000000100.parquet    points [0, 40) x replicas [0, 100)
    ...

Names starting with ``_`` or ``.`` are skipped by ``pyarrow.dataset``, so the directory
reads as one dataset: ``pyarrow.parquet.read_table(out)``. Every file is written to a
hidden temporary name, flushed to disk and renamed into place (``os.replace``), so a
chunk file either is complete or does not exist.
"""

from __future__ import annotations

import json
import os
import uuid

import pyarrow as pa
import pyarrow.parquet as pq

from .plan import Chunk

MANIFEST = "_manifest.json"
SUMMARY = "_summary.parquet"
FORMAT = "fastdeploy-sweep"
TEMP_PREFIX = ".tmp-"


def _atomic_write(path: str, write) -> None:
    folder, name = os.path.split(path)
    tmp = os.path.join(folder, f"{TEMP_PREFIX}{name}.{os.getpid()}.{uuid.uuid4().hex[:8]}")
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


class SweepStore:
    """The output directory of one sweep definition.

    Args:
        path: The directory (created if missing).
        definition: The sweep's definition (JSON-able dict).
        digest: Its hash.
        resume: Continue a sweep already in ``path``; else ``path`` must hold no sweep.
        what: What the directory holds, for the messages (``"tune"`` for a tune's).

    Raises:
        FileExistsError: ``path`` is a non-empty directory and ``resume`` is False.
        ValueError: resuming, but ``path`` holds a different sweep (hash mismatch) or
            files without a manifest.
    """

    def __init__(self, path, definition: dict, digest: str, resume: bool, what: str = "sweep"):
        self.path = os.fspath(path)
        if os.path.exists(self.path) and not os.path.isdir(self.path):
            raise NotADirectoryError(f"out={self.path!r} exists and is not a directory")
        os.makedirs(self.path, exist_ok=True)
        manifest = os.path.join(self.path, MANIFEST)
        entries = [e for e in os.listdir(self.path) if not e.startswith(TEMP_PREFIX)]
        if entries and not resume:
            raise FileExistsError(f"out={self.path!r} is not empty; pass resume=True to continue "
                                  f"the {what} it holds, or choose an empty directory")
        if entries:
            if not os.path.exists(manifest):
                raise ValueError(f"cannot resume in {self.path!r}: it holds files but no "
                                 f"{MANIFEST}, so it is not a {what}'s output")
            try:
                with open(manifest) as f:
                    old = json.load(f)
            except (OSError, ValueError) as err:
                raise ValueError(f"cannot resume in {self.path!r}: {MANIFEST} is unreadable "
                                 f"({err})") from None
            if old.get("definition_hash") != digest:
                raise ValueError(
                    f"cannot resume in {self.path!r}: it holds a different {what} (definition "
                    f"hash {str(old.get('definition_hash'))[:12]}..., this {what} "
                    f"{digest[:12]}...; differs in: {_differences(old.get('definition'), definition)}). "
                    "Resume with the same scenario, space, replicas, seed and run options, or "
                    "use another directory")
        self._clean_temporaries()
        if not os.path.exists(manifest):
            self._write_manifest(definition, digest, complete=False)
        self.definition, self.digest = definition, digest

    def _clean_temporaries(self) -> None:
        # Left by a killed run: never renamed, so never part of the result.
        for e in os.listdir(self.path):
            if e.startswith(TEMP_PREFIX):
                try:
                    os.unlink(os.path.join(self.path, e))
                except FileNotFoundError:
                    pass

    def _write_manifest(self, definition, digest, complete: bool, rows: int | None = None):
        body = {"format": FORMAT, "definition_hash": digest, "complete": complete,
                "definition": definition}
        if rows is not None:
            body["rows"] = rows
        text = json.dumps(body, indent=1, sort_keys=True).encode()
        _atomic_write(os.path.join(self.path, MANIFEST), lambda f: f.write(text))

    def file_of(self, chunk: Chunk) -> str:
        return os.path.join(self.path, chunk.name + ".parquet")

    def read(self, chunk: Chunk, schema: pa.Schema) -> pa.Table | None:
        """The chunk's rows if its file exists, is readable and holds exactly the chunk's
        (point, replica) pairs with the sweep's columns; else None (to be redone)."""
        path = self.file_of(chunk)
        if not os.path.exists(path):
            return None
        try:
            table = pq.read_table(path)
        except Exception:  # noqa: BLE001 - any unreadable file is redone
            return None
        if table.schema.remove_metadata() != schema.remove_metadata():
            return None
        m = chunk.hi - chunk.lo
        if table.num_rows != chunk.rows:
            return None
        points = table.column("point").to_pylist()
        reps = table.column("replica").to_pylist()
        expect_p = [p for p in chunk.point_ids for _ in range(m)]
        expect_r = list(range(chunk.lo, chunk.hi)) * len(chunk.point_ids)
        if points != expect_p or reps != expect_r:
            return None
        return table.replace_schema_metadata(None)

    def write(self, chunk: Chunk, table: pa.Table) -> None:
        """Write the chunk's file atomically."""
        _atomic_write(self.file_of(chunk), lambda f: pq.write_table(table, f))

    def write_summary(self, summary: pa.Table) -> None:
        """Write the per-point summary to ``_summary.parquet`` (atomically; the leading
        underscore keeps it out of the dataset pyarrow reads from the directory)."""
        _atomic_write(os.path.join(self.path, SUMMARY), lambda f: pq.write_table(summary, f))

    def finish(self, rows: int) -> None:
        """Mark the sweep complete in the manifest."""
        self._write_manifest(self.definition, self.digest, complete=True, rows=rows)


def _differences(old, new) -> str:
    if not isinstance(old, dict):
        return "unknown (no definition in the manifest)"
    keys = sorted(set(old) | set(new))
    diff = [k for k in keys if old.get(k) != json.loads(json.dumps(new.get(k)))]
    return ", ".join(diff) if diff else "nothing visible (a different format version?)"
