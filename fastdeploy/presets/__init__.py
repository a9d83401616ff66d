"""Named scenarios: an autoscaler under a traffic spike, good and bad canaries (happysim's
CanaryDeployer, Flagger's analysis and Argo Rollouts' canary), a rolling deployment (``fastdeploy presets`` lists
them with a description).

Each preset is a scenario file next to this module (``autoscale-spike.toml``, ...) that
users can copy and edit; ``fastdeploy presets`` prints where they are.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from ..core.simulation import Simulation

PRESET_DIR = Path(__file__).resolve().parent
NAMES = ("autoscale-spike", "autoscale-boot", "hpa-spike", "canary-bad", "canary-good",
         "rolling", "flagger-bad", "flagger-good", "argo-canary-bad", "argo-canary-good")


def preset_path(name: str) -> Path:
    """The scenario file of preset ``name``."""
    if name not in NAMES:
        raise KeyError(f"unknown preset {name!r}; presets: {', '.join(NAMES)}")
    return PRESET_DIR / f"{name}.toml"


@lru_cache(maxsize=None)
def preset_scenario(name: str):
    """The checked Scenario of preset ``name`` (read once)."""
    from ..scenario import load

    return load(preset_path(name))


def autoscale_spike(seed: int = 0) -> Simulation:
    """Horizon 600 s; Poisson spike 20 -> 100 -> 20 req/s; TargetUtilization(0.6) scaler."""
    return preset_scenario("autoscale-spike").build(seed)


def autoscale_boot(seed: int = 0) -> Simulation:
    """autoscale-spike whose new instances boot for Exponential(60 s) before serving."""
    return preset_scenario("autoscale-boot").build(seed)


def hpa_spike(seed: int = 0) -> Simulation:
    """autoscale-spike under a Kubernetes HPA (defaults, 60 % CPU), booting Exponential(30 s)."""
    return preset_scenario("hpa-spike").build(seed)


def canary_bad(seed: int = 0) -> Simulation:
    """Canary whose new servers fail 5% of requests (baseline 1%): detection power."""
    return preset_scenario("canary-bad").build(seed)


def canary_good(seed: int = 0) -> Simulation:
    """Canary as healthy as the baseline (1% failures): false alarms."""
    return preset_scenario("canary-good").build(seed)


def rolling(seed: int = 0) -> Simulation:
    """Rolling deployment of 8 servers in batches of 2 under 80 req/s."""
    return preset_scenario("rolling").build(seed)


def flagger_bad(seed: int = 0) -> Simulation:
    """FlaggerCanary (defaults) whose new servers fail 5% of requests (baseline 1%): detection power."""  # noqa: E501
    return preset_scenario("flagger-bad").build(seed)


def flagger_good(seed: int = 0) -> Simulation:
    """FlaggerCanary (defaults) whose new servers fail 1% of requests, as the baseline: false aborts."""  # noqa: E501
    return preset_scenario("flagger-good").build(seed)


def argo_canary_bad(seed: int = 0) -> Simulation:
    """ArgoCanary (steps 20-80%, background error-rate analysis) whose new servers fail 5% of requests (baseline 1%): detection power."""  # noqa: E501
    return preset_scenario("argo-canary-bad").build(seed)


def argo_canary_good(seed: int = 0) -> Simulation:
    """ArgoCanary (steps 20-80%, background error-rate analysis) whose new servers fail 1% of requests, as the baseline: false aborts."""  # noqa: E501
    return preset_scenario("argo-canary-good").build(seed)


PRESETS = {
    "autoscale-spike": autoscale_spike,
    "autoscale-boot": autoscale_boot,
    "hpa-spike": hpa_spike,
    "canary-bad": canary_bad,
    "canary-good": canary_good,
    "rolling": rolling,
    "flagger-bad": flagger_bad,
    "flagger-good": flagger_good,
    "argo-canary-bad": argo_canary_bad,
    "argo-canary-good": argo_canary_good,
}
