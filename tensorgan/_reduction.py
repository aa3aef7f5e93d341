"""``torch.nn._reduction`` (reached as ``F._Reduction``): a loss's reduction name as torch's enum
(none 0, mean 1, sum 2) and the deprecated ``size_average`` / ``reduce`` pair as a name. Code
written against torch calls it directly, e.g. OpenMMLab's ``reduce_loss``
(``F._Reduction.get_enum(reduction)``)."""
from __future__ import annotations

import warnings
from typing import Any

from .errors import ConfigError

_ENUM = {"none": 0, "mean": 1, "sum": 2}
# torch's warning for the pre-1.0 name of "mean" (functional's losses give it too)
ELEMENTWISE_MEAN_WARNING = "reduction='elementwise_mean' is deprecated. Please use reduction='mean' instead."


def get_enum(reduction: str) -> int:
    """torch's reduction enum: "none" 0, "mean" 1 ("elementwise_mean" too, with torch's
    UserWarning), "sum" 2; anything else is a ConfigError (ValueError, as torch's)."""
    if isinstance(reduction, str):
        if reduction in _ENUM:
            return _ENUM[reduction]
        if reduction == "elementwise_mean":
            warnings.warn(ELEMENTWISE_MEAN_WARNING, UserWarning, stacklevel=2)
            return 1
    raise ConfigError(f"{reduction} is not a valid value for reduction")


def legacy_get_string(size_average: Any, reduce: Any, emit_warning: bool = True) -> str:
    """The reduction name of torch's deprecated pair (a None is True): ``reduce`` false "none",
    else ``size_average`` false "sum", else "mean"; warns as torch does unless told not to."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    name = "mean" if size_average and reduce else "sum" if reduce else "none"
    if emit_warning:
        warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{name}' "
                      f"instead.", UserWarning, stacklevel=2)
    return name


def legacy_get_enum(size_average: Any, reduce: Any, emit_warning: bool = True) -> int:
    """:func:`legacy_get_string`'s name as :func:`get_enum`'s number."""
    return get_enum(legacy_get_string(size_average, reduce, emit_warning))
