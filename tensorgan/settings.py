"""torch's global switches: print options (``set_printoptions``, which Tensor's repr follows),
determinism flags, warn-always, flush-denormal and the inter-op thread count.

tensorgan's CPU kernels are deterministic (no atomics, a fixed reduction order), so
``use_deterministic_algorithms`` only records the flag for ``are_deterministic_algorithms_enabled``
(CuPy's scatter-adds on a GPU may sum in any order: the flag does not change them).
``set_flush_denormal`` cannot set the CPU's FTZ/DAZ bits from NumPy: it returns False, as torch
does on a CPU without the feature. tensorgan runs no inter-op thread pool: the count is recorded.
"""
from __future__ import annotations

import contextlib
import os
import sys

from .errors import ConfigError
from .tensor import PRINT_OPTIONS

_PROFILES = {"default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "max_line_width": 80},
             "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "max_line_width": 80},
             "full": {"precision": 4, "threshold": sys.maxsize, "edgeitems": 3, "max_line_width": 80}}
_flags: dict = {"deterministic": False, "warn_only": False, "warn_always": False,
                "interop_threads": os.cpu_count() or 1}


def set_printoptions(precision: int | None = None, threshold: float | None = None,
                     edgeitems: int | None = None, linewidth: int | None = None,
                     profile: str | None = None, sci_mode: bool | None = None) -> None:
    """How tensors print (torch.set_printoptions): ``precision`` digits, a summary with
    ``edgeitems`` per end past ``threshold`` elements, ``linewidth`` characters a line; ``profile``
    ('default', 'short', 'full') sets all four first; ``sci_mode`` True / False forces or forbids
    scientific notation, None (the default) leaves it to the values."""
    if profile is not None:
        if profile not in _PROFILES:
            raise ConfigError(f"set_printoptions: profile must be one of {sorted(_PROFILES)}, got {profile!r}")
        PRINT_OPTIONS.update(_PROFILES[profile])
    for name, value in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                        ("linewidth", linewidth)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ConfigError(f"set_printoptions: {name} must be a number >= 0, got {value!r}")
        PRINT_OPTIONS["max_line_width" if name == "linewidth" else name] = sys.maxsize if value == float("inf") else int(value)
    PRINT_OPTIONS["sci_mode"] = sci_mode


def get_printoptions() -> dict:
    """The print options, as keyword arguments of set_printoptions (torch's)."""
    return {"precision": PRINT_OPTIONS["precision"], "threshold": PRINT_OPTIONS["threshold"],
            "edgeitems": PRINT_OPTIONS["edgeitems"], "linewidth": PRINT_OPTIONS["max_line_width"],
            "sci_mode": PRINT_OPTIONS["sci_mode"]}


@contextlib.contextmanager
def printoptions(**kwargs):
    """Set print options for a ``with`` block (torch's ``printoptions``); the old ones come back."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Record torch's determinism flag (tensorgan's CPU kernels are deterministic anyway)."""
    if not isinstance(mode, bool):
        raise ConfigError(f"use_deterministic_algorithms: mode must be True or False, got {mode!r}")
    _flags["deterministic"], _flags["warn_only"] = mode, bool(warn_only)


def are_deterministic_algorithms_enabled() -> bool:
    return _flags["deterministic"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    return _flags["warn_only"]


def set_warn_always(b: bool) -> None:
    """torch.set_warn_always: recorded (tensorgan's warnings use Python's own once-per-place rule)."""
    _flags["warn_always"] = bool(b)


def is_warn_always_enabled() -> bool:
    return _flags["warn_always"]


def set_flush_denormal(mode: bool) -> bool:
    """False: flushing denormals to zero is not supported (NumPy cannot set the CPU's FTZ bits)."""
    return False


def get_num_interop_threads() -> int:
    return _flags["interop_threads"]


def set_num_interop_threads(n: int) -> None:
    """Record the inter-op thread count (tensorgan has no inter-op pool; see tg.set_num_threads)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError(f"set_num_interop_threads: n must be an int >= 1, got {n!r}")
    _flags["interop_threads"] = n


def is_inference_mode_enabled() -> bool:
    """False: inference_mode is no_grad here (see tg.is_grad_enabled)."""
    return False


__all__ = ["set_printoptions", "get_printoptions", "printoptions", "use_deterministic_algorithms", "are_deterministic_algorithms_enabled",
           "is_deterministic_algorithms_warn_only_enabled", "set_warn_always", "is_warn_always_enabled",
           "set_flush_denormal", "get_num_interop_threads", "set_num_interop_threads",
           "is_inference_mode_enabled"]
