"""``torch.distributed``'s names for torch programs that import it unconditionally (pytorch/
examples' imagenet does, and only uses it when ``--world-size`` > 1).

tensorgan has no communication backend, so ``is_available()`` is False, as torch's is when it is
built without distributed support.  A group of ONE process still works, which is what such a
program runs when asked for it on one machine: ``init_process_group(backend, world_size=1,
rank=0)`` makes ``is_initialized()`` True, ``get_rank()`` 0 and ``get_world_size()`` 1, and the
collectives (``all_reduce``, ``broadcast``, ``all_gather``, ``reduce``, ``barrier``, ...) are what
they are on one process: identities.  A larger ``world_size`` is refused with a ``DeviceError``.
Asking for the rank / world size before ``init_process_group`` raises torch's ``ValueError``.
"""
from __future__ import annotations

import enum
from typing import Any

from .errors import ConfigError, DeviceError

__all__ = ["is_available", "is_initialized", "init_process_group", "destroy_process_group",
           "get_rank", "get_world_size", "get_backend", "barrier", "all_reduce", "reduce",
           "broadcast", "all_gather", "all_gather_object", "broadcast_object_list", "gather",
           "scatter", "ReduceOp", "group", "GroupMember"]


class ReduceOp(enum.Enum):
    SUM = "sum"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"
    BAND = "band"
    BOR = "bor"
    BXOR = "bxor"
    AVG = "avg"
    PREMUL_SUM = "premul_sum"


class _Group:
    def __repr__(self) -> str:
        return "<tensorgan.distributed group: one process>"


class GroupMember:
    WORLD = _Group()


group = GroupMember
_state: dict = {"backend": None}


def is_available() -> bool:
    """False: tensorgan has no communication backend (a one-process group still works)."""
    return False


def is_initialized() -> bool:
    return _state["backend"] is not None


def init_process_group(backend: str | None = None, init_method: str | None = None,
                       timeout: Any = None, world_size: int = -1, rank: int = -1,
                       store: Any = None, group_name: str = "", pg_options: Any = None,
                       device_id: Any = None) -> None:
    """A process group of this one process (``world_size`` 1 or -1, ``rank`` 0 or -1)."""
    if is_initialized():
        raise ConfigError("trying to initialize the default process group twice!")
    if world_size not in (-1, 1) or rank not in (-1, 0):
        raise DeviceError(
            f"init_process_group(world_size={world_size}, rank={rank}): tensorgan has no "
            "communication backend, so it runs a process group of one process only "
            "(world_size=1, rank=0); train in a single process instead")
    _state["backend"] = backend or "gloo"


def destroy_process_group(group: Any = None) -> None:
    _state["backend"] = None


def _require_init(what: str) -> None:
    if not is_initialized():
        raise ConfigError(f"{what}: Default process group has not been initialized, please make "
                         "sure to call init_process_group.")


def get_rank(group: Any = None) -> int:
    _require_init("get_rank")
    return 0


def get_world_size(group: Any = None) -> int:
    _require_init("get_world_size")
    return 1


def get_backend(group: Any = None) -> str:
    _require_init("get_backend")
    return _state["backend"]


class _DoneWork:
    """What ``async_op=True`` returns: already complete."""

    def wait(self, timeout: Any = None) -> bool:
        return True

    def is_completed(self) -> bool:
        return True


def _done(async_op: bool) -> _DoneWork | None:
    return _DoneWork() if async_op else None


def barrier(group: Any = None, async_op: bool = False, device_ids: Any = None) -> Any:
    _require_init("barrier")
    return _done(async_op)


def all_reduce(tensor: Any, op: Any = ReduceOp.SUM, group: Any = None, async_op: bool = False) -> Any:
    """On one process every reduction of ``tensor`` with itself alone leaves it as it is."""
    _require_init("all_reduce")
    return _done(async_op)


def reduce(tensor: Any, dst: int = 0, op: Any = ReduceOp.SUM, group: Any = None,
           async_op: bool = False) -> Any:
    _require_init("reduce")
    return _done(async_op)


def broadcast(tensor: Any, src: int = 0, group: Any = None, async_op: bool = False) -> Any:
    _require_init("broadcast")
    return _done(async_op)


def _one_slot(what: str, slots: Any) -> None:
    if len(slots) != 1:
        raise ConfigError(f"{what}: expected a list of world_size (1) entries, got {len(slots)}")


def all_gather(tensor_list: list, tensor: Any, group: Any = None, async_op: bool = False) -> Any:
    _require_init("all_gather")
    _one_slot("all_gather", tensor_list)
    tensor_list[0].copy_(tensor)
    return _done(async_op)


def gather(tensor: Any, gather_list: list | None = None, dst: int = 0, group: Any = None,
           async_op: bool = False) -> Any:
    _require_init("gather")
    if gather_list is not None:
        _one_slot("gather", gather_list)
        gather_list[0].copy_(tensor)
    return _done(async_op)


def scatter(tensor: Any, scatter_list: list | None = None, src: int = 0, group: Any = None,
            async_op: bool = False) -> Any:
    _require_init("scatter")
    if scatter_list is not None:
        _one_slot("scatter", scatter_list)
        tensor.copy_(scatter_list[0])
    return _done(async_op)


def all_gather_object(object_list: list, obj: Any, group: Any = None) -> None:
    _require_init("all_gather_object")
    _one_slot("all_gather_object", object_list)
    object_list[0] = obj


def broadcast_object_list(object_list: list, src: int = 0, group: Any = None, device: Any = None) -> None:
    _require_init("broadcast_object_list")
