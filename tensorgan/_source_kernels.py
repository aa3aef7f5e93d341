"""``tensorgan.kernels`` in a source checkout imported without installing it (``PYTHONPATH=.``).

The kernels live in the top-level folder ``kernels/``; installing maps that folder into the
package (``package-dir`` in pyproject.toml).  A checkout on ``sys.path`` without that mapping --
or one beside a different checkout that *is* installed in editable mode -- would otherwise find
no ``tensorgan.kernels``, or another checkout's.  So when this package has no ``kernels`` folder of
its own and its parent is a tensorgan checkout (``pyproject.toml`` and ``kernels/__init__.py``
there), that ``kernels/`` is registered as ``tensorgan.kernels`` before anything imports it.
"""
import importlib.util
import os
import sys


def register() -> None:
    name = __package__ + ".kernels"
    package_dir = os.path.dirname(os.path.abspath(__file__))
    if name in sys.modules or os.path.isdir(os.path.join(package_dir, "kernels")):
        return                                      # installed: the mapping is in place
    root = os.path.dirname(package_dir)
    folder = os.path.join(root, "kernels")
    init = os.path.join(folder, "__init__.py")
    if not (os.path.isfile(init) and os.path.isfile(os.path.join(root, "pyproject.toml"))):
        return                                      # not a checkout: let the import fail as usual
    spec = importlib.util.spec_from_file_location(name, init, submodule_search_locations=[folder])
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
