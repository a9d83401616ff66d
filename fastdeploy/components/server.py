"""``happysimulator.components.server``: re-exports of fastdeploy's Server."""

from ..model.server import Server, ServerStats

__all__ = ["Server", "ServerStats"]
