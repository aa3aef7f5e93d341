"""A module whose boolean flags (``cudnn.benchmark = True``) are checked when they are set, as
torch's ``torch.backends`` modules check theirs (a non-bool is a TypeError there too)."""
from __future__ import annotations

import types

from ..errors import InputTypeError


class FlagModule(types.ModuleType):
    """Install with ``sys.modules[__name__].__class__ = FlagModule`` after setting ``_BOOL_FLAGS``."""

    def __setattr__(self, name: str, value: object) -> None:
        if name in self.__dict__.get("_BOOL_FLAGS", ()) and not isinstance(value, bool):
            raise InputTypeError(f"{self.__name__.replace('tensorgan', 'torch')}.{name} must be True or "
                                 f"False, got {type(value).__name__} {value!r}")
        super().__setattr__(name, value)
