"""Keep numba's on-disk cache of fastdeploy's compiled functions true to the source.

numba keys a cached function by the content of the file that defines it, and nothing
else. A compiled function holds the code of everything it calls, from other files too
(the kernels inline the shared rules; the rules call one another): after a change in
one of those files it would load stale machine code. So a fingerprint of every file of
the packages whose functions numba compiles is kept beside the cache; when it changes,
those packages' cache entries are deleted, and numba compiles afresh.

Runs once, when fastdeploy is imported, before any compiled function is loaded.
"""

from __future__ import annotations

import glob
import hashlib
import os

_ROOT = os.path.dirname(os.path.abspath(__file__))
# The folders whose modules define numba-compiled functions.
COMPILED = ("rules", "batch", os.path.join("batch", "kernels"), "deployment")
STAMP = "fastdeploy-sources.sha256"


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for folder in COMPILED:
        for path in sorted(glob.glob(os.path.join(_ROOT, folder, "*.py"))):
            digest.update(os.path.relpath(path, _ROOT).encode())
            with open(path, "rb") as f:
                digest.update(f.read())
    return digest.hexdigest()


def _cache_dir(folder: str) -> str:
    """Where numba keeps the cache of the modules in ``folder``: under a user-given
    NUMBA_CACHE_DIR, else in the __pycache__ beside the source, else (a read-only
    install) in the user-wide cache (numba's locators, in its order)."""
    path = os.path.join(_ROOT, folder)
    in_tree = os.path.join(path, "__pycache__")
    try:
        from numba.core import config
        from numba.core.caching import _CacheLocator
        from numba.misc.appdirs import AppDirs

        # Any file in the folder gives the folder's subpath.
        sub = _CacheLocator.get_suitable_cache_subpath(os.path.join(path, "x.py"))
        if config.CACHE_DIR:
            return os.path.join(config.CACHE_DIR, sub)
        if os.access(path, os.W_OK):
            return in_tree
        return os.path.join(AppDirs(appname="numba", appauthor=False).user_cache_dir, sub)
    except Exception:  # numba's internals moved: the in-tree cache is the usual one
        return in_tree


def refresh() -> None:
    """Delete fastdeploy's cached machine code if any compiled source has changed."""
    try:
        fingerprint = _fingerprint()
    except OSError:
        return
    stamp_dir = _cache_dir(COMPILED[0])
    stamp = os.path.join(stamp_dir, STAMP)
    try:
        with open(stamp) as f:
            if f.read() == fingerprint:
                return
    except OSError:
        pass
    modules = {folder: [os.path.splitext(os.path.basename(p))[0]
                        for p in glob.glob(os.path.join(_ROOT, folder, "*.py"))]
               for folder in COMPILED}
    try:
        for folder, names in modules.items():
            d = _cache_dir(folder)
            for name in names:
                for pattern in (f"{name}.*.nbi", f"{name}.*.nbc"):
                    for path in glob.glob(os.path.join(d, pattern)):
                        os.remove(path)
        os.makedirs(stamp_dir, exist_ok=True)
        with open(stamp, "w") as f:
            f.write(fingerprint)
    except OSError:  # a read-only install: its files do not change either
        pass
