"""``torch.nn.modules.utils``: ``_single`` / ``_pair`` / ``_triple`` / ``_quadruple`` (an int
repeated into a tuple; an iterable kept as a tuple) and ``consume_prefix_in_state_dict_if_present``,
as torch's."""
from __future__ import annotations

import collections.abc
from itertools import repeat
from typing import Any, Callable, MutableMapping

__all__ = ["_single", "_pair", "_triple", "_quadruple", "_ntuple",
           "consume_prefix_in_state_dict_if_present"]


def _ntuple(n: int, name: str = "parse") -> Callable[[Any], tuple]:
    def parse(x: Any) -> tuple:
        if isinstance(x, collections.abc.Iterable) and not isinstance(x, str):
            return tuple(x)
        return tuple(repeat(x, n))

    parse.__name__ = name
    return parse


_single = _ntuple(1, "_single")
_pair = _ntuple(2, "_pair")
_triple = _ntuple(3, "_triple")
_quadruple = _ntuple(4, "_quadruple")


def consume_prefix_in_state_dict_if_present(state_dict: MutableMapping[str, Any], prefix: str) -> None:
    """Strip ``prefix`` (e.g. ``"module."`` of a DataParallel / DDP checkpoint) from every key of
    ``state_dict`` that starts with it, in place, and from its ``_metadata`` keys, as torch's."""
    for key in list(state_dict.keys()):
        if key.startswith(prefix):
            state_dict[key[len(prefix):]] = state_dict.pop(key)
    metadata = getattr(state_dict, "_metadata", None)
    if metadata is not None:
        for key in list(metadata.keys()):
            if len(key) == 0:
                continue
            if key == prefix.replace(".", "") or key.startswith(prefix):
                metadata[key[len(prefix):]] = metadata.pop(key)
