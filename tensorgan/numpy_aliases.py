"""NumPy's keyword names that torch's argument parser takes for its own: ``axis=`` for ``dim=``
and ``keepdims=`` for ``keepdim=`` (``x.var(axis=0)``, ``x.amax(1, keepdims=True)``,
``torch.std_mean(x, axis=1)``), on the ops that take a ``dim``.

``sum`` / ``mean`` take them in their own signatures; the ops listed here get a thin wrapper that
renames the two keywords when given (nothing else is done, and the wrapper is not put on the
elementwise arithmetic / autograd paths)."""
from __future__ import annotations

import functools
from typing import Any, Callable

from .errors import InputTypeError

# ops whose dim torch accepts as axis= (and keepdim as keepdims=, where they take keepdim)
NAMES = ("var", "std", "var_mean", "std_mean", "logsumexp", "amax", "amin", "aminmax", "max", "min",
         "argmax", "argmin", "prod", "all", "any", "median", "nanmedian", "mode", "nansum", "nanmean",
         "count_nonzero", "quantile", "nanquantile", "kthvalue", "topk", "cumsum", "cumprod",
         "cummax", "cummin", "logcumsumexp", "softmax", "log_softmax", "squeeze", "unsqueeze", "sort",
         "argsort", "unbind", "diff", "index_select", "gather", "chunk", "tensor_split", "scatter",
         "scatter_", "scatter_add", "scatter_add_", "scatter_reduce", "scatter_reduce_", "index_add",
         "index_add_", "index_fill", "index_fill_", "index_copy", "index_copy_", "index_reduce",
         "index_reduce_", "repeat_interleave", "take_along_dim", "trapezoid", "cumulative_trapezoid",
         "select_scatter", "narrow_copy")
# the same in torch.linalg and torch.nn.functional (ops torch's argument parser reads there too)
LINALG_NAMES = ("norm", "vector_norm")
FUNCTIONAL_NAMES = ("cosine_similarity",)


def _renamed(op: str, kwargs: dict) -> dict:
    kwargs = dict(kwargs)
    for numpy_name, torch_name in (("axis", "dim"), ("keepdims", "keepdim")):
        if numpy_name in kwargs:
            if torch_name in kwargs:
                raise InputTypeError(f"{op}(): got both {numpy_name}= and {torch_name}= ({numpy_name} "
                                     f"is NumPy's name for {torch_name}): give one")
            kwargs[torch_name] = kwargs.pop(numpy_name)
    return kwargs


def _aliased(fn: Callable, op: str) -> Callable:
    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        if "axis" in kwargs or "keepdims" in kwargs:
            kwargs = _renamed(op, kwargs)
        return fn(*args, **kwargs)
    call._numpy_aliases = True
    return call


def install(namespace: Any, tensor_cls: type) -> None:
    """Wrap the method and the function form of each op in :data:`NAMES` (once), and those of
    :data:`LINALG_NAMES` / :data:`FUNCTIONAL_NAMES` in ``linalg`` / ``nn.functional``."""
    import importlib
    owners = [((tensor_cls, namespace), NAMES)]
    for module, names in (("linalg", LINALG_NAMES), ("nn.functional", FUNCTIONAL_NAMES)):
        owners.append(((importlib.import_module(f"{namespace.__name__}.{module}"),), names))
    for targets, names in owners:
        for name in names:
            for owner in targets:
                fn = owner.__dict__.get(name) if isinstance(owner, type) else getattr(owner, name, None)
                if callable(fn) and not getattr(fn, "_numpy_aliases", False):
                    setattr(owner, name, _aliased(fn, name))
