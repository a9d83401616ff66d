"""One line that says what a Simulation runs: its servers, traffic and controllers with
their settings, read from the batch engine's parameter table (so ``--set`` values show)."""

from __future__ import annotations

import re

from .batch.lower import lower
from .batch.params import number_text


def _roots(sim) -> dict:
    """{name: component} of every named component of ``sim``."""
    return {getattr(c, "name", None): c for c in sim.components}


def scenario_line(sim) -> str:
    """``4 servers; traffic: profile.rate=80; canary (CanaryDeployer): evaluation_interval=10
    ...``: the servers counted, then every source and controller with its parameters
    (paths relative to it, a list's items comma-separated as ``stages.evaluation_period=30,30``;
    a controller's server template as ``server.<field>``: the new version of a deployer)."""
    from .model.server import Server

    groups: dict[str, dict[str, list[str]]] = {}
    table = lower(sim).params
    for slot, value in zip(table.slots, table.values):
        if not slot.path:
            continue
        root, _, rest = slot.path.partition(".")
        groups.setdefault(root, {})
        # A list's items (stages.0.x, stages.1.x, ...) as one comma-separated setting.
        m = re.fullmatch(r"(.*)\.\d+\.([^.]+)", rest)
        key = f"{m.group(1)}.{m.group(2)}" if m else rest
        groups[root].setdefault(key, []).append(number_text(value))
    components = _roots(sim)
    servers = sum(isinstance(components.get(r), Server) for r in groups)
    parts = [f"{servers} server{'s' if servers != 1 else ''}"] if servers else []
    for root, items in groups.items():
        c = components.get(root)
        if isinstance(c, Server) or not items:
            continue
        kind = type(c).__name__ if c is not None else ""
        policy = getattr(c, "policy", None)
        if policy is not None:
            kind += f", {type(policy).__name__} policy"
        settings = " ".join(f"{k}={','.join(v)}" for k, v in items.items())
        parts.append(f"{root}{f' ({kind})' if kind else ''}: {settings}")
    return "; ".join(parts)
