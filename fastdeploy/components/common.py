"""``happysimulator.components.common``: re-exports of fastdeploy's collecting entities."""

from ..model.sinks import Counter, Sink

__all__ = ["Counter", "Sink"]
