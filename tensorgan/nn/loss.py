"""Loss modules (``torch.nn`` names): thin wrappers over the functional losses."""
from __future__ import annotations

from typing import Any

from .. import functional as F
from ..errors import ConfigError
from ..tensor import Tensor
from .module import Module


class _Loss(Module):
    def __init__(self, reduction: str = "mean"):
        super().__init__()
        if reduction not in F._REDUCTIONS:
            raise ConfigError(f"{type(self).__name__}: reduction must be one of {F._REDUCTIONS}, "
                              f"got {reduction!r}")
        self.reduction = reduction

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy on logits -- the stable form; what the DCGAN's losses use."""

    def forward(self, logits: Tensor, target: Any) -> Tensor:
        return F.binary_cross_entropy_with_logits(logits, target, self.reduction)


class BCELoss(_Loss):
    """Binary cross-entropy on probabilities (after a Sigmoid), logs clamped at -100."""

    def forward(self, probs: Tensor, target: Any) -> Tensor:
        return F.binary_cross_entropy(probs, target, self.reduction)


class MSELoss(_Loss):
    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.mse_loss(input, target, self.reduction)
