"""Per-replica tables on disk that remember how they were made.

``fastdeploy run --out FILE.parquet`` writes the run's table with, in the Parquet schema
metadata, what made it: the scenario file's text, its name, the seed, the replica count,
the ``--set`` parameters and the fastdeploy version. ``fastdeploy plot`` and ``fastdeploy
compare`` read them back, so a results file needs neither its scenario nor its settings
repeated on the command line. The keys (``fastdeploy.<field>``, UTF-8 values) are readable
by any Parquet tool::

    pyarrow.parquet.read_schema("run.parquet").metadata[b"fastdeploy.seed"]  # b"0"
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.parquet as pq

PREFIX = "fastdeploy."
FIELDS = ("version", "scenario_name", "scenario", "seed", "replicas", "parameters")


@dataclass
class RunInfo:
    """How a per-replica table was made.

    Attributes:
        scenario: The scenario file's TOML text.
        scenario_name: The preset name or file path it was run as.
        seed: The seed of the random streams.
        replicas: Replicas run.
        parameters: The parameters changed from the scenario's values (``--set``),
            ``{path: value}``.
        version: The fastdeploy version that wrote the file.
    """

    scenario: str
    scenario_name: str
    seed: int
    replicas: int
    parameters: dict = field(default_factory=dict)
    version: str = ""

    def __post_init__(self):
        if not self.version:
            from . import __version__

            self.version = __version__

    def to_metadata(self) -> dict[bytes, bytes]:
        """The Parquet schema metadata entries."""
        values = {"version": self.version, "scenario_name": self.scenario_name,
                  "scenario": self.scenario, "seed": str(self.seed),
                  "replicas": str(self.replicas),
                  "parameters": json.dumps(self.parameters, sort_keys=True)}
        return {f"{PREFIX}{k}".encode(): v.encode() for k, v in values.items()}

    @classmethod
    def from_metadata(cls, metadata, where: str = "the file") -> RunInfo | None:
        """The RunInfo in Parquet schema metadata, or None when it has none.

        Raises:
            ValueError: some fields present but not all, or a field that does not read
                back (named as ``<where>: metadata fastdeploy.<field>``).
        """
        meta = {k.decode(errors="replace"): v for k, v in (metadata or {}).items()}
        present = [f for f in FIELDS if f"{PREFIX}{f}" in meta]
        if not present:
            return None
        missing = [f for f in FIELDS if f not in present]
        if missing:
            raise ValueError(f"{where}: metadata {PREFIX}{missing[0]} is missing (a run "
                             "file's metadata holds " + ", ".join(PREFIX + f for f in FIELDS)
                             + ")")
        text = {f: meta[f"{PREFIX}{f}"].decode("utf-8", errors="replace") for f in FIELDS}
        values = {}
        for f in ("seed", "replicas"):
            try:
                values[f] = int(text[f])
            except ValueError:
                raise ValueError(f"{where}: metadata {PREFIX}{f} = {text[f]!r} is not an "
                                 "integer") from None
        try:
            params = json.loads(text["parameters"])
        except ValueError:
            params = None
        if not isinstance(params, dict) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in params.values()):
            raise ValueError(f"{where}: metadata {PREFIX}parameters = {text['parameters']!r} "
                             "is not a JSON object of numbers")
        return cls(text["scenario"], text["scenario_name"], values["seed"], values["replicas"],
                   params, text["version"])

    def load_scenario(self):
        """The Scenario of the stored text (``ScenarioError`` if it does not read)."""
        from .scenario import loads

        return loads(self.scenario, name=self.scenario_name)

    def simulation(self):
        """The Simulation that made the rows: the scenario with ``seed`` and
        ``parameters`` applied."""
        from .batch.assign import with_parameters

        sim = self.load_scenario().build(self.seed)
        return with_parameters(sim, self.parameters) if self.parameters else sim


def write_run(path, table: pa.Table, info: RunInfo) -> None:
    """Write ``table`` to the Parquet file ``path`` with ``info`` in its schema metadata
    (other metadata of the table is kept)."""
    meta = dict(table.schema.metadata or {})
    meta.update(info.to_metadata())
    pq.write_table(table.replace_schema_metadata(meta), path)


def read_info(path) -> RunInfo | None:
    """The RunInfo of a Parquet file, or None when it was not written by ``write_run``."""
    return RunInfo.from_metadata(pq.read_schema(path).metadata, str(path))
