"""torch's one-module-per-class import paths for packages that keep their classes in a few files
(``from torch.optim.adam import Adam``, ``torch.distributions.uniform.Uniform``)."""
from __future__ import annotations

import sys
import types


def install_alias_modules(package_name: str, torch_name: str, names: dict[str, list[str]]) -> None:
    """For each ``short: [member, ...]`` in ``names``, a module ``<package_name>.<short>`` holding
    those members of the package (importable, and an attribute of the package), unless a real
    submodule of that name exists (``optim/lbfgs.py``): that one is kept."""
    package = sys.modules[package_name]
    for short, members in names.items():
        full = f"{package_name}.{short}"
        if full in sys.modules:
            continue
        module = types.ModuleType(full, f"{torch_name}.{short}: {', '.join(members)}")
        for member in members:
            setattr(module, member, getattr(package, member))
        module.__all__ = list(members)
        sys.modules[full] = module
        parent, _, leaf = full.rpartition(".")   # "_utils.collate": an attribute of ``_utils``
        setattr(sys.modules[parent], leaf, module)
