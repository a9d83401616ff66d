"""happysim's module paths (``happysimulator.components.*``), for scenarios ported by
changing only their imports: each module re-exports fastdeploy's own classes."""
