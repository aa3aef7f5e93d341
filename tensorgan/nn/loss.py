"""Loss modules (``torch.nn`` names): thin wrappers over the functional losses."""
from __future__ import annotations

import math
import warnings
from typing import Any

from .. import functional as F
from ..errors import ConfigError, FunctionalOptionError, InputTypeError
from ..functional import _legacy_reduction
from ..tensor import Tensor
from .module import Module


class _Loss(Module):
    """torch's ``_Loss(size_average=None, reduce=None, reduction='mean')``: the deprecated pair,
    when given, becomes the reduction with torch's warning (``F._legacy_reduction``)."""

    def __init__(self, size_average: Any = None, reduce: Any = None, reduction: str = "mean"):
        super().__init__()
        if size_average is not None or reduce is not None:
            reduction = _legacy_reduction(type(self).__name__, size_average, reduce, reduction)
        if reduction not in F._REDUCTIONS and reduction != "elementwise_mean":   # F maps that one, warning
            raise ConfigError(f"{type(self).__name__}: reduction must be one of {F._REDUCTIONS}, "
                              f"got {reduction!r}")
        self.reduction = reduction        # torch's losses show nothing in their repr

    def _weight_buffer(self, name: str, value: Any, what: str = "a Tensor or None") -> None:
        """``value`` (None or a Tensor) as buffer ``name`` -- torch's: in state_dict, moved by
        ``.to()``; anything else is refused, naming the loss and what it takes."""
        if value is not None and not isinstance(value, Tensor):
            raise InputTypeError(f"{type(self).__name__}: {name} must be {what}, got "
                                 f"{type(value).__name__}")
        self.register_buffer(name, value)


class _WeightedLoss(_Loss):
    """torch's ``_WeightedLoss(weight=None, size_average=None, reduce=None, reduction='mean')``:
    a loss with a ``weight`` buffer -- the base of BCELoss, CrossEntropyLoss, NLLLoss,
    LinearCrossEntropyLoss, MultiLabelSoftMarginLoss and MultiMarginLoss (as torch's), and of
    custom losses written on it."""

    def __init__(self, weight: Any = None, size_average: Any = None, reduce: Any = None,
                 reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self._weight_buffer("weight", weight)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy on logits -- the stable form; what the DCGAN's losses use. torch's
    ``weight`` (each element's) and ``pos_weight`` (the positive term's) are buffers."""

    def __init__(self, weight: Any = None, size_average: Any = None, reduce: Any = None,
                 reduction: str = "mean", pos_weight: Any = None):
        if isinstance(weight, str):          # tensorgan's older BCEWithLogitsLoss(reduction)
            weight, reduction = None, weight
        super().__init__(size_average, reduce, reduction)
        self._weight_buffer("weight", weight)
        self._weight_buffer("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        if self.weight is None and self.pos_weight is None:
            return F.binary_cross_entropy_with_logits(input, target, reduction=self.reduction)
        return F.binary_cross_entropy_with_logits(input, target, self.weight, reduction=self.reduction,
                                                  pos_weight=self.pos_weight)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy on probabilities (after a Sigmoid), logs clamped at -100; torch's
    ``weight`` (a buffer, broadcast to the input) rescales each element's loss."""

    def __init__(self, weight: Any = None, size_average: Any = None, reduce: Any = None,
                 reduction: str = "mean"):
        if isinstance(weight, str):          # tensorgan's older BCELoss(reduction) positionally
            weight, reduction = None, weight
        _Loss.__init__(self, size_average, reduce, reduction)   # (its own weight check)
        self._weight_buffer("weight", weight)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


class MSELoss(_Loss):
    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean (or sum/none) absolute error; the gradient at a zero difference is 0, as in torch."""

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.l1_loss(input, target, reduction=self.reduction)


class CrossEntropyLoss(_WeightedLoss):
    """Cross-entropy of ``softmax(logits)`` against integer class targets, or class probabilities
    of the logits' shape, for ``(N, C)``, ``(C,)`` or per-position ``(N, C, d1, ..., dk)`` logits,
    with torch's ``weight``, ``ignore_index`` and ``label_smoothing`` (see ``F.cross_entropy``)."""

    def __init__(self, weight: Any = None, size_average: Any = None, ignore_index: int = -100,
                 reduce: Any = None, reduction: str = "mean", label_smoothing: float = 0.0):
        _Loss.__init__(self, size_average, reduce, reduction)   # (its own weight check)
        if not F._scalar("CrossEntropyLoss", "label_smoothing", label_smoothing) <= 1.0:   # (no lower bound)
            raise FunctionalOptionError(f"CrossEntropyLoss: label_smoothing must be in [0, 1], got "
                                        f"{label_smoothing!r} (a negative one means none, as torch)")
        self._weight_buffer("weight", weight, "a Tensor of one weight per class")
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.cross_entropy(input, target, self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class LinearCrossEntropyLoss(_WeightedLoss):
    """``torch.nn.LinearCrossEntropyLoss(in_features, num_classes, *, out_features=(), bias=False,
    ...)``: F.linear_cross_entropy with a ``linear`` child (a Linear to C * prod(out_features)
    outputs, its weight reshaped to (C, *out_features, in_features) in forward, torch's)."""

    def __init__(self, in_features: int, num_classes: int, *, out_features: tuple[int, ...] = (),
                 bias: bool = False, device: Any = None, dtype: Any = None, reduction: str = "mean",
                 weight: Tensor | None = None, ignore_index: int | None = None,
                 label_smoothing: float = 0.0, options: Any = None):
        from .layers import Linear
        owner = "LinearCrossEntropyLoss"
        super().__init__(reduction=reduction)
        if weight is not None and getattr(weight, "shape", None) != (num_classes,):
            raise ConfigError(f"{owner}: expected weight shape to be {(num_classes,)}, got "
                              f"{getattr(weight, 'shape', weight)!r}")
        if not 0.0 <= F._scalar(owner, "label_smoothing", label_smoothing) <= 1.0:
            raise ConfigError(f"{owner}: expected label_smoothing to be in range [0, 1], got {label_smoothing}")
        self.register_buffer("weight", weight)
        self.num_classes, self.out_features = num_classes, tuple(out_features)
        self.ignore_index, self.label_smoothing, self.options = ignore_index, label_smoothing, options
        self.linear = Linear(in_features, math.prod(self.out_features, start=num_classes), bias=bias,
                             device=device, dtype=dtype)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        shape = (self.num_classes, *self.out_features)
        bias = None if self.linear.bias is None else self.linear.bias.reshape(*shape)
        return F.linear_cross_entropy(input, self.linear.weight.reshape(*shape, self.linear.in_features),
                                      target, linear_bias=bias, weight=self.weight,
                                      reduction=self.reduction, ignore_index=self.ignore_index,
                                      label_smoothing=self.label_smoothing, options=self.options)

    def extra_repr(self) -> str:
        return (f"in_features={self.linear.in_features}, num_classes={self.num_classes}, "
                f"out_features={self.out_features}, bias={self.linear.bias is not None}, "
                f"reduction={self.reduction}, ignore_index={self.ignore_index}, "
                f"label_smoothing={self.label_smoothing}, options={self.options}")


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of ``(N, C)`` (or ``(C,)``, ``(N, C, d1, ..., dk)``) log-probabilities
    against integer class targets, with
    torch's ``weight``, ``ignore_index`` and ``reduction`` (see ``F.nll_loss``)."""

    def __init__(self, weight: Any = None, size_average: Any = None, ignore_index: int = -100,
                 reduce: Any = None, reduction: str = "mean"):
        _Loss.__init__(self, size_average, reduce, reduction)   # (its own weight check)
        self._weight_buffer("weight", weight, "a Tensor of one weight per class")
        if isinstance(ignore_index, bool) or not isinstance(ignore_index, int):
            raise InputTypeError(f"NLLLoss: ignore_index must be an int, got {ignore_index!r}")
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.nll_loss(input, target, self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """``F.smooth_l1_loss``: quadratic below ``beta``, L1 above (``beta=0``: L1)."""

    def __init__(self, size_average: Any = None, reduce: Any = None, reduction: str = "mean", beta: float = 1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = F._threshold("SmoothL1Loss", "beta", beta, positive=False)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """``F.huber_loss``: quadratic below ``delta``, ``delta``-scaled L1 above."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__(reduction=reduction)
        self.delta = F._threshold("HuberLoss", "delta", delta, positive=True)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.huber_loss(input, target, self.reduction, self.delta)


class KLDivLoss(_Loss):
    """``F.kl_div`` of log-probabilities ``input`` from ``target`` (probabilities, or
    log-probabilities with ``log_target=True``); ``reduction="batchmean"`` is the true KL."""

    def __init__(self, size_average: Any = None, reduce: Any = None, reduction: str = "mean", log_target: bool = False):
        if size_average is not None or reduce is not None:
            reduction = _legacy_reduction("KLDivLoss", size_average, reduce, reduction)
        if reduction not in F._KL_REDUCTIONS and reduction != "elementwise_mean":
            raise ConfigError(f"KLDivLoss: reduction must be one of {F._KL_REDUCTIONS}, got "
                              f"{reduction!r}")
        Module.__init__(self)
        if not isinstance(log_target, bool):
            raise InputTypeError(f"KLDivLoss: log_target must be a bool, got {type(log_target).__name__}")
        self.reduction, self.log_target = reduction, log_target

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class MarginRankingLoss(_Loss):
    """``F.margin_ranking_loss``: ``max(0, -y (x1 - x2) + margin)``."""

    def __init__(self, margin: float = 0.0, size_average: Any = None, reduce: Any = None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = F._scalar("MarginRankingLoss", "margin", margin)

    def forward(self, input1: Tensor, input2: Any, target: Any) -> Tensor:
        return F.margin_ranking_loss(input1, input2, target, self.margin, reduction=self.reduction)


class HingeEmbeddingLoss(_Loss):
    """``F.hinge_embedding_loss``: x where y = 1, ``max(0, margin - x)`` where y = -1."""

    def __init__(self, margin: float = 1.0, size_average: Any = None, reduce: Any = None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = F._scalar("HingeEmbeddingLoss", "margin", margin)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.hinge_embedding_loss(input, target, self.margin, reduction=self.reduction)


class SoftMarginLoss(_Loss):
    """``F.soft_margin_loss``: ``log(1 + exp(-y x))``."""

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.soft_margin_loss(input, target, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """``F.multilabel_soft_margin_loss``; ``weight``: one per class, a buffer as torch's."""

    def __init__(self, weight: Any = None, size_average: Any = None, reduce: Any = None, reduction: str = "mean"):
        _Loss.__init__(self, size_average, reduce, reduction)   # (its own weight check)
        self._weight_buffer("weight", weight, "a Tensor of one weight per class")

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.multilabel_soft_margin_loss(input, target, self.weight, reduction=self.reduction)


class CosineEmbeddingLoss(_Loss):
    """``F.cosine_embedding_loss``: ``1 - cos`` where y = 1, ``max(0, cos - margin)`` where -1."""

    def __init__(self, margin: float = 0.0, size_average: Any = None, reduce: Any = None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = F._scalar("CosineEmbeddingLoss", "margin", margin)

    def forward(self, input1: Tensor, input2: Any, target: Any) -> Tensor:
        return F.cosine_embedding_loss(input1, input2, target, self.margin, reduction=self.reduction)


class TripletMarginLoss(_Loss):
    """``F.triplet_margin_loss``: ``max(0, margin + d(a, p) - d(a, n))``."""

    def __init__(self, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6, swap: bool = False,
                 size_average: Any = None, reduce: Any = None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        name = "TripletMarginLoss"
        self.margin, self.p, self.eps = (F._scalar(name, n, v) for n, v in
                                         (("margin", margin), ("p", p), ("eps", eps)))
        if self.margin <= 0:
            raise ConfigError(f"{name}: margin must be greater than 0, got {margin}")
        self.swap = bool(swap)

    def forward(self, anchor: Tensor, positive: Any, negative: Any) -> Tensor:
        return F.triplet_margin_loss(anchor, positive, negative, self.margin, self.p, self.eps,
                                     self.swap, reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    """``F.gaussian_nll_loss`` of ``input`` (the mean) and ``var`` against ``target``."""

    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean"):
        super().__init__(reduction=reduction)
        self.full, self.eps = bool(full), F._scalar("GaussianNLLLoss", "eps", eps)

    def forward(self, input: Tensor, target: Any, var: Any) -> Tensor:
        return F.gaussian_nll_loss(input, target, var, self.full, self.eps, self.reduction)


class PoissonNLLLoss(_Loss):
    """``F.poisson_nll_loss``: Poisson negative log-likelihood of a (log-)rate ``input``."""

    def __init__(self, log_input: bool = True, full: bool = False, size_average: Any = None,
                 eps: float = 1e-8, reduce: Any = None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.log_input, self.full = bool(log_input), bool(full)
        self.eps = F._scalar("PoissonNLLLoss", "eps", eps)

    def forward(self, log_input: Tensor, target: Any) -> Tensor:
        return F.poisson_nll_loss(log_input, target, self.log_input, self.full, eps=self.eps,
                                  reduction=self.reduction)


class MultiMarginLoss(_WeightedLoss):
    """``F.multi_margin_loss``: the multi-class hinge loss (p 1 or 2, ``margin``, per-class
    ``weight``, a buffer as torch's)."""

    def __init__(self, p: int = 1, margin: float = 1.0, weight: Any = None, size_average: Any = None,
                 reduce: Any = None, reduction: str = "mean"):
        _Loss.__init__(self, size_average, reduce, reduction)   # (its own weight check)
        if p not in (1, 2) or isinstance(p, bool):
            raise ConfigError(f"MultiMarginLoss: only p == 1 and p == 2 are supported, got {p!r}")
        self._weight_buffer("weight", weight, "a Tensor of one weight per class")
        self.p, self.margin = int(p), F._scalar("MultiMarginLoss", "margin", margin)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.multi_margin_loss(input, target, p=self.p, margin=self.margin, weight=self.weight,
                                   reduction=self.reduction)


class MultiLabelMarginLoss(_Loss):
    """``F.multilabel_margin_loss``: targets are class indices ended by -1."""

    def __init__(self, size_average: Any = None, reduce: Any = None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.multilabel_margin_loss(input, target, reduction=self.reduction)


class TripletMarginWithDistanceLoss(_Loss):
    """``F.triplet_margin_with_distance_loss`` with a ``distance_function`` (default
    pairwise_distance)."""

    def __init__(self, *, distance_function: Any = None, margin: float = 1.0, swap: bool = False,
                 reduction: str = "mean"):
        super().__init__(reduction=reduction)
        name = "TripletMarginWithDistanceLoss"
        if distance_function is not None and not callable(distance_function):
            raise InputTypeError(f"{name}: distance_function must be callable or None, got "
                                 f"{type(distance_function).__name__}")
        self.margin = F._scalar(name, "margin", margin)
        if self.margin <= 0:
            raise ConfigError(f"{name}: margin must be greater than 0, got {margin}")
        self.distance_function, self.swap = distance_function, bool(swap)

    def forward(self, anchor: Tensor, positive: Any, negative: Any) -> Tensor:
        return F.triplet_margin_with_distance_loss(
            anchor, positive, negative, distance_function=self.distance_function,
            margin=self.margin, swap=self.swap, reduction=self.reduction)


class CTCLoss(_Loss):
    """``F.ctc_loss``: Connectionist Temporal Classification of (T, N, C) log-probabilities."""

    def __init__(self, blank: int = 0, reduction: str = "mean", zero_infinity: bool = False):
        super().__init__(reduction=reduction)
        if isinstance(blank, bool) or not isinstance(blank, int) or blank < 0:
            raise ConfigError(f"CTCLoss: blank must be a class index >= 0, got {blank!r}")
        self.blank, self.zero_infinity = blank, bool(zero_infinity)

    def forward(self, log_probs: Tensor, targets: Any, input_lengths: Any, target_lengths: Any) -> Tensor:
        return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank,
                          self.reduction, self.zero_infinity)


class NLLLoss2d(NLLLoss):
    """torch's deprecated alias of :class:`NLLLoss` (which takes (N, C, H, W) input too)."""

    def __init__(self, weight: Any = None, size_average: Any = None, ignore_index: int = -100,
                 reduce: Any = None, reduction: str = "mean"):
        warnings.warn("NLLLoss2d has been deprecated. Please use NLLLoss instead as a drop-in "
                      "replacement and see the documentation for details.", stacklevel=2)
        super().__init__(weight, size_average, ignore_index, reduce, reduction)
