"""Counter-based random streams keyed by (seed, replica, stream).

Draw n of a stream is a pure function of the stream key and n: mix(key + (n+1)*gamma),
the output function of SplitMix64. This needs no generator state beyond a counter, so a
replica's numbers are the same whatever the batch size, thread or engine, and a request's
two uniforms can be recomputed from its index instead of stored.
"""

import numpy as np

from .jit import njit, njit_inline

GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_ONE = np.uint64(1)
_INV53 = 1.0 / 9007199254740992.0  # 2**-53


@njit_inline
def mix64(z):
    """SplitMix64's finaliser: a bijective scramble of a uint64."""
    z = np.uint64(z)
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit
def stream_key(seed, replica, stream_id):
    """The key of one stream of one replica (all arguments uint64)."""
    k = mix64(np.uint64(seed) + GAMMA)
    k = mix64(k + np.uint64(replica) * GAMMA + _ONE)
    return mix64(k ^ np.uint64(stream_id))


@njit_inline
def uniform(key, n):
    """Draw n (n >= 0) of the stream with this key: a float in [0, 1)."""
    x = mix64(np.uint64(key) + (np.uint64(n) + _ONE) * GAMMA)
    return float(x >> _S11) * _INV53


# An item's two uniforms (a request's, of the requests' stream; a probe's, of its
# deployer's): its work and its outcome.
WORK_DRAW, FAIL_DRAW = 0, 1


@njit_inline
def item_uniform(key, n, draw):
    """Uniform ``draw`` (WORK_DRAW or FAIL_DRAW) of item n of the stream with this key:
    draw 2n + draw, so that each item has its own two whatever the order they are drawn
    in."""
    return uniform(key, 2 * n + draw)


def stream_id(name: str) -> int:
    """A stable 63-bit id of a stream name (FNV-1a), the same in every process."""
    h = 0xCBF29CE484222325
    for byte in name.encode("utf-8"):
        h ^= byte
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h & 0x7FFFFFFFFFFFFFFF


def key_for(seed: int, replica: int, name: str) -> np.uint64:
    """Convenience for the object engine: the key of stream ``name``."""
    # Always a numpy uint64, so numba types it the same way whatever its value.
    return np.uint64(stream_key(np.uint64(seed), np.uint64(replica), np.uint64(stream_id(name))))


REQUESTS_STREAM = "requests"


def source_stream(name: str) -> str:
    return f"source:{name}"


def routing_stream(lb_name: str) -> str:
    return f"routing:{lb_name}"


def probe_stream(deployer_name: str) -> str:
    return f"probes:{deployer_name}"


def startup_stream(creator_name: str) -> str:
    """The start-up delays of the instances a component creates: draw k for its k-th
    (from 0), whatever its policy, so that runs compare with common random numbers."""
    return f"startup:{creator_name}"
