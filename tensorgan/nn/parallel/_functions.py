"""``torch.nn.parallel._functions`` on tensorgan's one device: Broadcast, ReduceAddCoalesced,
Gather and Scatter with torch's ``apply`` signatures, made of differentiable tensor ops.

Multi-GPU code imports them (Synchronized-BatchNorm asserts they exist before it builds a layer)
and only calls them with several devices; here every "device" is the one device, so a broadcast
hands out views of the same data and a reduce adds the copies."""
from __future__ import annotations

from typing import Any

__all__ = ["Broadcast", "ReduceAddCoalesced", "Gather", "Scatter"]


class Broadcast:
    @staticmethod
    def apply(target_gpus: Any, *inputs: Any) -> tuple:
        """``inputs`` once per target, grouped by target (torch's order): a view of each, so
        gradients of the copies add up in the input."""
        return tuple(t.view_as(t) for _ in target_gpus for t in inputs)


class ReduceAddCoalesced:
    @staticmethod
    def apply(destination: Any, num_inputs: int, *grads: Any) -> tuple:
        """``grads`` holds ``num_inputs`` tensors per device, grouped by device: their sums, one
        per input position."""
        groups = [grads[i::num_inputs] for i in range(num_inputs)]
        out = []
        for group in groups:
            total = group[0]
            for t in group[1:]:
                total = total + t
            out.append(total)
        return tuple(out)


class Gather:
    @staticmethod
    def apply(target_device: Any, dim: int, *inputs: Any) -> Any:
        """The inputs joined along ``dim`` (0-d ones stacked into a vector, as torch's)."""
        from ... import cat, stack
        if all(t.ndim == 0 for t in inputs):
            return stack(list(inputs))
        return cat(list(inputs), dim)


class Scatter:
    @staticmethod
    def apply(target_gpus: Any, chunk_sizes: Any, dim: int, input: Any) -> tuple:
        """``input`` split along ``dim`` into ``chunk_sizes`` (or evenly, one chunk per target)."""
        if chunk_sizes is not None:
            return tuple(input.split(list(chunk_sizes), dim))
        return tuple(input.chunk(len(target_gpus), dim))
