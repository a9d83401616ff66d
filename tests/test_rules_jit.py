"""How the shared rules are compiled (fastdeploy/rules/jit.py): with numba's Python wrapper
where Python calls them, as copies without it inside the kernels."""

import ast
import os

import numba
import pytest

import fastdeploy
from fastdeploy.batch.kernels import shared
from fastdeploy.rules import histogram, jit, measure, server

COMPILED = pytest.mark.skipif(numba.config.DISABLE_JIT, reason="views are the modules "
                              "themselves when numba's JIT is disabled")
KERNELS = os.path.join(os.path.dirname(fastdeploy.__file__), "batch", "kernels")


@COMPILED
def test_the_kernels_copies_have_no_python_wrapper_and_the_rules_keep_theirs():
    copies = 0
    for module in (server, measure, histogram):
        view = jit.in_kernels(module)
        for name, value in vars(module).items():
            if isinstance(value, numba.core.registry.CPUDispatcher):
                copy = getattr(view, name)
                assert copy is not value
                assert copy.targetoptions.get("no_cpython_wrapper") is True
                assert not value.targetoptions.get("no_cpython_wrapper")
                assert copy.py_func.__qualname__ == value.py_func.__qualname__ + jit.IN_KERNELS
                assert copy.py_func.__code__ is value.py_func.__code__
                copies += 1
    assert copies > 20


@COMPILED
def test_a_copy_calls_the_copies_of_the_rules_it_calls():
    # measure.py names histogram as a module; a copy's globals are its module's view.
    assert jit.in_kernels(measure).histogram is jit.in_kernels(histogram)
    assert shared.measure.counted.py_func.__globals__ is vars(shared.measure)
    assert shared.server is jit.in_kernels(server)


def test_only_the_kernels_shared_module_imports_the_rules():
    """Kernel modules reach the rules through kernels/shared.py, or they would compile
    (and link) the rules with their Python wrappers."""
    for name in sorted(os.listdir(KERNELS)):
        if not name.endswith(".py") or name == "shared.py":
            continue
        with open(os.path.join(KERNELS, name)) as f:
            tree = ast.parse(f.read())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 3:
                assert not (node.module or "").startswith("rules"), (name, node.module)


@COMPILED
def test_a_batch_run_compiles_the_kernels_copies_not_the_rules(tmp_path, new_process):
    """In a new process with an empty cache: a batch run compiles the copy of a rule the
    kernels call, and not the rule itself (which only the object engine calls)."""
    code = (
        "import os\n"
        "os.cpu_count = lambda: 1  # one process compiles all (batch/precompile.py)\n"
        "from fastdeploy.presets import PRESETS\n"
        "from fastdeploy.batch.kernels import shared\n"
        "from fastdeploy.rules import server\n"
        "PRESETS['rolling'](0).run_batch(1, threads=1)\n"
        "print(len(shared.server.arrive.signatures), len(server.arrive.signatures))\n")
    assert new_process(code, tmp_path).split() == ["1", "0"]
