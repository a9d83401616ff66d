"""Scenario files: a TOML description of a simulation (docs/scenarios.md).

```python
from fastdeploy import scenario

sc = scenario.load("my-scenario.toml")     # or the TOML text itself
sim = sc.build(seed=1)                     # a Simulation, start/deploy events scheduled
sim.run_batch(1000)
sc.sweep                                   # the checked [sweep] section, or None
sc.tune                                    # the checked [tune] section, or None
```

Every mistake in a file raises ``ScenarioError`` naming the file, the key path and what
was expected.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

from ..core.simulation import Simulation
from ._build import build as _build
from ._parse import Parser, Plan
from ._reader import Context, ScenarioError

__all__ = ["Scenario", "ScenarioError", "load", "loads"]


class Scenario:
    """A checked scenario file.

    Attributes:
        name: The ``name`` key (default: the file's stem, or ``"scenario"`` for text).
        description: The ``description`` key ("" when absent).
        path: The file it was read from (None for text).
        sweep: The checked ``[sweep]`` section as a plain dict, or None (see
            docs/scenarios.md for its keys).
        tune: The checked ``[tune]`` section as the keyword arguments of
            ``fastdeploy.tune.Tuner``, or None (docs/tuning.md).
    """

    def __init__(self, plan: Plan, ctx: Context, path: Path | None):
        self._plan = plan
        self._ctx = ctx
        self.name = plan.name
        self.description = plan.description
        self.path = path
        # Building once checks every value the constructors check.
        sim = _build(plan, ctx)
        self.sweep = self.tune = None
        if plan.sweep is not None or plan.tune is not None:
            from ..batch.lower import lower

            model = lower(sim)
        if plan.sweep is not None:
            from ._sweep import parse_sweep

            self.sweep = parse_sweep(ctx, plan.sweep, model.params, model)
        if plan.tune is not None:
            from ._tune import parse_tune

            self.tune = parse_tune(ctx, plan.tune, model.params, model)

    @property
    def seed(self) -> int:
        """The ``[simulation]`` seed (default 0)."""
        f = self._plan.simulation.get("seed")
        return 0 if f is None else f.value

    def build(self, seed: int | None = None) -> Simulation:
        """A new Simulation of this scenario, with the autoscalers' start events and the
        deployers' deploy events scheduled.

        Args:
            seed: Overrides the file's ``simulation.seed``.
        """
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)
                                 or not 0 <= seed < 2**63):
            raise ValueError(f"seed must be an integer in [0, 2**63), got {seed!r}")
        return _build(self._plan, self._ctx, seed)

    def __repr__(self):
        where = f" from {str(self.path)!r}" if self.path else ""
        return f"<Scenario {self.name!r}{where}>"


def loads(text: str, *, name: str = "<string>") -> Scenario:
    """Read a scenario from TOML text; ``name`` stands for the file in messages."""
    ctx = Context(name)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        msg, line, col = str(e), None, None
        m = re.search(r" \(at line (\d+), column (\d+)\)$", msg)
        if m:
            line, col = int(m.group(1)), int(m.group(2))
            msg = f"{msg[:m.start()]} (column {col})"
        elif msg.endswith(" (at end of document)"):
            line = max(1, len(text.splitlines()))
            msg = msg.replace(" (at end of document)", " at the end of the file")
        raise ScenarioError(f"TOML syntax error: {msg}", file=name, line=line) from None
    default = Path(name).stem if name != "<string>" else "scenario"
    return Scenario(Parser(doc, ctx, default).parse(), ctx, None)


def load(source) -> Scenario:
    """Read a scenario from a file path (str or Path) or from TOML text.

    A ``Path`` is a file; so is a one-line string that names an existing file, ends in
    ``.toml`` or holds neither ``=`` nor ``[`` (no TOML scenario fits on such a line).
    Any other string is TOML text.
    """
    if isinstance(source, os.PathLike) or (
            isinstance(source, str) and "\n" not in source
            and (source.endswith(".toml") or os.path.isfile(source)
                 or ("=" not in source and "[" not in source))):
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ScenarioError("no such file", file=str(path)) from None
        except (OSError, UnicodeDecodeError) as e:
            raise ScenarioError(f"cannot read the file: {e}", file=str(path)) from None
        sc = loads(text, name=str(path))
        sc.path = path
        return sc
    if not isinstance(source, str):
        raise TypeError(f"load expects a path or TOML text, got {source!r}")
    return loads(source)
