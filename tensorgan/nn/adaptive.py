"""``nn.AdaptiveLogSoftmaxWithLoss`` (Grave et al. 2017, "Efficient softmax approximation for
GPUs"): frequent classes in a head softmax, rare ones in tail clusters reached through one head
entry each and projected down by ``div_value`` per cluster -- torch's layout, so its state-dict
keys (``head.weight``, ``tail.0.0.weight``, ...) and results match."""
from __future__ import annotations

from collections import namedtuple
from typing import Any, Sequence

import numpy as np

from .. import functional as F
from .. import ops
from ..errors import ConfigError, ShapeError
from ..tensor import Tensor, _is_int
from .layers import Linear, ModuleList, Sequential
from .module import Module

_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])


class AdaptiveLogSoftmaxWithLoss(Module):
    """``forward(input, target)`` -> ``(output, loss)``: each sample's log-probability of its
    target and their negated mean; ``log_prob(input)`` gives all ``n_classes``, ``predict`` the
    most likely.  ``cutoffs``: increasing class counts that end the head and each cluster."""

    def __init__(self, in_features: int, n_classes: int, cutoffs: Sequence[int], div_value: float = 4.0,
                 head_bias: bool = False, device: Any = None, dtype: Any = None):
        super().__init__()
        cutoffs = list(cutoffs)
        if (not cutoffs or not all(_is_int(c) for c in cutoffs) or cutoffs != sorted(set(cutoffs))
                or min(cutoffs) <= 0 or max(cutoffs) > n_classes - 1):
            raise ConfigError(f"AdaptiveLogSoftmaxWithLoss: cutoffs should be a sequence of unique, "
                              f"positive integers sorted in an increasing order, where each value is "
                              f"between 1 and n_classes-1 ({n_classes - 1}), got {cutoffs}")
        self.in_features, self.n_classes = int(in_features), int(n_classes)
        self.cutoffs = [int(c) for c in cutoffs] + [self.n_classes]
        self.div_value, self.head_bias = float(div_value), bool(head_bias)
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        options = {"device": device, "dtype": dtype}
        self.head = Linear(self.in_features, self.head_size, bias=self.head_bias, **options)
        self.tail = ModuleList(
            Sequential(Linear(self.in_features, int(self.in_features // self.div_value ** (i + 1)),
                              bias=False, **options),
                       Linear(int(self.in_features // self.div_value ** (i + 1)),
                              self.cutoffs[i + 1] - self.cutoffs[i], bias=False, **options))
            for i in range(self.n_clusters))

    def reset_parameters(self) -> None:
        self.head.reset_parameters()
        for cluster in self.tail:
            for layer in cluster:
                layer.reset_parameters()

    def forward(self, input_: Tensor, target_: Any) -> _ASMoutput:
        labels = np.asarray(target_.numpy() if isinstance(target_, Tensor) else target_)
        if labels.ndim > 1 or labels.dtype.kind not in "iu":
            raise ShapeError(f"AdaptiveLogSoftmaxWithLoss: target must be 0-d or 1-D integer class "
                             f"indices, got shape {labels.shape} {labels.dtype}")
        if input_.ndim != labels.ndim + 1 or (labels.ndim and input_.shape[0] != labels.shape[0]):
            raise ShapeError(f"AdaptiveLogSoftmaxWithLoss: a {labels.ndim}-D target {labels.shape} "
                             f"needs {labels.ndim + 1}-D input with as many rows, got {input_.shape}")
        x, labels = (input_, labels) if labels.ndim else (input_.reshape(1, -1), labels.reshape(1))
        if labels.size and (labels.min() < 0 or labels.max() >= self.n_classes):
            raise ConfigError(f"AdaptiveLogSoftmaxWithLoss: target values should be in "
                              f"[0, {self.n_classes - 1}], got values in [{labels.min()}, {labels.max()}]")
        xp, n = x.device.xp, labels.shape[0]
        cluster = np.searchsorted(self.cutoffs, labels, side="right")      # 0: the head's shortlist
        head_index = np.where(cluster == 0, labels, self.shortlist_size + cluster - 1)
        head = F.log_softmax(self.head(x), 1)
        output = head[xp.arange(n), xp.asarray(head_index)]
        for i in range(1, self.n_clusters + 1):
            rows = np.nonzero(cluster == i)[0]
            if rows.size:
                local = F.log_softmax(self.tail[i - 1](x[xp.asarray(rows)]), 1)
                picked = local[xp.arange(rows.size), xp.asarray(labels[rows] - self.cutoffs[i - 1])]
                output = output + ops.ScatterIntoZeros.apply(picked, (n,), (xp.asarray(rows),))
        loss = (-output).mean()
        return _ASMoutput(output if input_.ndim == 2 else output.reshape(()), loss)

    def log_prob(self, input: Tensor) -> Tensor:
        """Log-probabilities of all ``n_classes`` for (N, in_features) or (in_features,) input."""
        if input.ndim not in (1, 2) or input.shape[-1] != self.in_features:
            raise ShapeError(f"AdaptiveLogSoftmaxWithLoss: input must be (N, {self.in_features}) or "
                             f"({self.in_features},), got {input.shape}")
        x = input if input.ndim == 2 else input.reshape(1, -1)
        head = F.log_softmax(self.head(x), 1)
        parts = [head[:, :self.shortlist_size]]
        for i, cluster in enumerate(self.tail):
            parts.append(F.log_softmax(cluster(x), 1) + head[:, self.shortlist_size + i:self.shortlist_size + i + 1])
        from ..factory import cat
        out = cat(parts, 1)
        return out if input.ndim == 2 else out.reshape(-1)

    def predict(self, input: Tensor) -> Tensor:
        """The most likely class per sample (int64)."""
        return self.log_prob(input).argmax(dim=-1)
