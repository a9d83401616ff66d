"""numba keys a cached function by its own file's content only; fastdeploy deletes its
cache entries when any compiled source changes (fastdeploy/numba_cache.py)."""

import os

from fastdeploy import numba_cache


def _tree(root):
    for folder in numba_cache.COMPILED:
        os.makedirs(os.path.join(root, folder, "__pycache__"), exist_ok=True)
    with open(os.path.join(root, "rules", "shared.py"), "w") as f:
        f.write("X = 1\n")
    with open(os.path.join(root, "batch", "kernels", "loop.py"), "w") as f:
        f.write("Y = 2\n")


def _entries(root):
    paths = []
    for name, folder in (("shared.f-3.py311", "rules"), ("loop.run-9.py311", "batch/kernels")):
        for ext in ("nbi", "1.nbc"):
            p = os.path.join(root, folder, "__pycache__", f"{name}.{ext}")
            open(p, "w").close()
            paths.append(p)
    other = os.path.join(root, "rules", "__pycache__", "unrelated.txt")
    open(other, "w").close()
    return paths, other


def test_a_change_in_any_compiled_source_deletes_the_cached_code(tmp_path, monkeypatch):
    root = str(tmp_path)
    _tree(root)
    monkeypatch.setattr(numba_cache, "_ROOT", root)
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setattr("numba.core.config.CACHE_DIR", "")
    numba_cache.refresh()  # first time: no fingerprint yet
    paths, other = _entries(root)
    numba_cache.refresh()  # nothing changed: the cache stays
    assert all(os.path.exists(p) for p in paths)
    # The kernels' file is unchanged, but a file they compile in is not: everything
    # compiled from the folders goes, other files stay.
    with open(os.path.join(root, "rules", "shared.py"), "w") as f:
        f.write("X = 3\n")
    numba_cache.refresh()
    assert not any(os.path.exists(p) for p in paths)
    assert os.path.exists(other)
    paths, _ = _entries(root)
    numba_cache.refresh()
    assert all(os.path.exists(p) for p in paths)


def test_another_cache_directory_leaves_this_one_alone(tmp_path, monkeypatch):
    """A process with NUMBA_CACHE_DIR set keeps its own fingerprint there and deletes
    only there."""
    root = str(tmp_path / "pkg")
    _tree(root)
    monkeypatch.setattr(numba_cache, "_ROOT", root)
    monkeypatch.setattr("numba.core.config.CACHE_DIR", "")
    numba_cache.refresh()
    paths, _ = _entries(root)
    monkeypatch.setattr("numba.core.config.CACHE_DIR", str(tmp_path / "elsewhere"))
    numba_cache.refresh()
    assert all(os.path.exists(p) for p in paths)
    assert os.path.exists(os.path.join(numba_cache._cache_dir("rules"), numba_cache.STAMP))
