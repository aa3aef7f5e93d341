"""Which differentiable ops (Function subclasses) are never gradient-checked against finite differences.

    python scripts/gradcheck_coverage.py                 # the test files that call gradcheck
    python scripts/gradcheck_coverage.py tests/test_x.py  # or any pytest arguments

Runs pytest with a small plugin: every Function subclass's ``backward`` (and ``grad_graph``, the
create_graph form) records its class while ``tensorgan.gradcheck``'s checks are running, and the
report lists the classes that never ran there -- ops whose gradient no test compares with central
differences (abstract bases such as ``Pointwise`` appear too: their subclasses are what counts).
Session 27 ran it over the 84 test files that call gradcheck (7-25 minutes on 2 busy cores):
179 of 228 classes were checked; the rest (the complex ops -- gradcheck then refused complex128
--, as_strided, eig, checkpoint, ...) got gradchecks of their own, and the second run counted 222
of 232.  Left: the abstract bases (Function, Composed, Pointwise, Decomposition, _Holomorphic,
_MaskWhere), the implicit Gamma / Dirichlet rsample gradients (checked against their CDF relation
in tests/test_gradcheck_gaps27.py) and _StandardGammaGrad (it refuses a second derivative).  A
custom autograd.Function's static backward counts for its class.
"""
from __future__ import annotations

import functools
import importlib
import pkgutil
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


class GradcheckCoverage:
    """A pytest plugin object: ``checked`` holds the classes whose backward ran inside a gradcheck."""

    def __init__(self) -> None:
        self.classes: set = set()
        self.checked: set = set()
        self._inside = threading.local()

    def pytest_configure(self, config) -> None:
        import tensorgan
        for info in pkgutil.walk_packages(tensorgan.__path__, "tensorgan."):
            if not info.name.endswith("__main__"):
                try:
                    importlib.import_module(info.name)
                except Exception:           # an optional dependency missing: its ops are not counted
                    pass
        checks = sys.modules["tensorgan.gradcheck"]      # (tensorgan.gradcheck is the function)
        for name in ("_gradcheck", "_gradgradcheck", "_forward_check"):
            if hasattr(checks, name):
                setattr(checks, name, self._flagging(getattr(checks, name)))
        from tensorgan.tensor import Function
        stack = [Function]
        while stack:
            for sub in stack.pop().__subclasses__():
                if sub not in self.classes:
                    self.classes.add(sub)
                    stack.append(sub)
        for cls in self.classes:
            for method in ("backward", "grad_graph"):
                found = cls.__dict__.get(method)
                if isinstance(found, staticmethod):     # a custom autograd.Function's (ctx, *grads)
                    setattr(cls, method, staticmethod(self._recording(found.__func__, cls)))
                elif callable(found) and not isinstance(found, classmethod):
                    setattr(cls, method, self._recording(found))

    def _flagging(self, check):
        @functools.wraps(check)
        def run(*args, **kwargs):
            depth = getattr(self._inside, "depth", 0)
            self._inside.depth = depth + 1
            try:
                return check(*args, **kwargs)
            finally:
                self._inside.depth = depth
        return run

    def _recording(self, method, owner=None):
        """``method`` recording the node's class (``owner``, for a static backward: its class)."""
        @functools.wraps(method)
        def run(node, *args, **kwargs):
            if getattr(self._inside, "depth", 0):
                self.checked.add(owner or type(node))
            return method(node, *args, **kwargs)
        return run

    def unchecked(self) -> list:
        return sorted(f"{c.__module__}.{c.__qualname__}" for c in self.classes - self.checked)


def _default_args() -> list:
    files = subprocess.run(["git", "grep", "-l", "gradcheck", "--", "tests"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split()
    return ["-q", "-p", "no:cacheprovider"] + [f for f in files if not f.startswith("tests/kernels")]


def main(argv: list) -> int:
    import pytest
    import os
    os.chdir(ROOT)                          # (the default test paths are the repository's)
    plugin = GradcheckCoverage()
    code = pytest.main(argv or _default_args(), plugins=[plugin])
    missing = plugin.unchecked()
    print(f"\n{len(plugin.classes) - len(missing)} of {len(plugin.classes)} Function classes ran "
          f"backward inside a gradcheck; never checked ({len(missing)}):")
    print("\n".join(f"  {name}" for name in missing))
    return int(code)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
