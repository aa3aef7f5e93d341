"""torch's top-level forms of its functional ops (``torch.conv2d``, ``torch.dropout``,
``torch.batch_norm``, ``torch.kl_div``, ...), with torch's top-level signatures where they differ
from ``torch.nn.functional``'s: ``dropout(input, p, train)`` with no defaults, ``batch_norm``'s
and ``instance_norm``'s (input, weight, bias, running_mean, running_var, ...) order, the losses'
integer ``reduction`` (0 'none', 1 'mean', 2 'sum'; torch 2.13's Python bindings default it to 0,
'none', although the ATen schemas say 1), ``embedding(weight, indices, padding_idx=-1)``,
``adaptive_max_pool1d`` returning ``(values, indices)``. Each calls the F.* op: one
implementation. (``cudnn_enabled`` and similar flags are accepted and ignored.)
"""
from __future__ import annotations

from typing import Any

from . import functional as F
from .errors import ConfigError
from .tensor import Tensor, _is_int

# the same signature at the top level as in F.*
conv1d, conv2d, conv3d = F.conv1d, F.conv2d, F.conv3d
conv_transpose1d, conv_transpose2d, conv_transpose3d = F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d
pixel_shuffle, pixel_unshuffle, channel_shuffle = F.pixel_shuffle, F.pixel_unshuffle, F.channel_shuffle
prelu, hardshrink, bilinear, pdist, rms_norm = F.prelu, F.hardshrink, F.bilinear, F.pdist, F.rms_norm
avg_pool1d, adaptive_avg_pool1d = F.avg_pool1d, F.adaptive_avg_pool1d


def _reduction(op: str, reduction: Any) -> str:
    """torch's top-level losses take the reduction as an int: 0 'none', 1 'mean', 2 'sum'."""
    names = {0: "none", 1: "mean", 2: "sum"}
    if not _is_int(reduction) or int(reduction) not in names:
        raise ConfigError(f"torch.{op}: reduction is an int here, 0 ('none'), 1 ('mean') or 2 "
                          f"('sum'), got {reduction!r} (F.{op} takes the names)")
    return names[int(reduction)]


def dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """torch.dropout(input, p, train): F.dropout without defaults."""
    return F.dropout(input, p, train)


def alpha_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """torch.alpha_dropout(input, p, train): F.alpha_dropout without defaults."""
    return F.alpha_dropout(input, p, train)


def batch_norm(input: Tensor, weight: Tensor | None, bias: Tensor | None, running_mean: Tensor | None,
               running_var: Tensor | None, training: bool, momentum: float, eps: float,
               cudnn_enabled: bool) -> Tensor:
    """torch.batch_norm (weight and bias before the running statistics; all arguments needed)."""
    return F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(input: Tensor, weight: Tensor | None, bias: Tensor | None, running_mean: Tensor | None,
                  running_var: Tensor | None, use_input_stats: bool, momentum: float, eps: float,
                  cudnn_enabled: bool) -> Tensor:
    """torch.instance_norm (torch.batch_norm's argument order)."""
    return F.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps)


def layer_norm(input: Tensor, normalized_shape: Any, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5, cudnn_enable: bool = True) -> Tensor:
    return F.layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5, cudnn_enabled: bool = True) -> Tensor:
    return F.group_norm(input, num_groups, weight, bias, eps)


def embedding(weight: Tensor, indices: Any, padding_idx: int = -1, scale_grad_by_freq: bool = False,
              sparse: bool = False) -> Tensor:
    """torch.embedding(weight, indices): the weight first; ``padding_idx`` -1 (any negative) means
    none, as at torch's top level (F.embedding counts a negative one from the end)."""
    return F.embedding(indices, weight, None if padding_idx < 0 else padding_idx,
                       scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


def celu(input: Tensor, alpha: float = 1.0) -> Tensor:
    return F.celu(input, alpha)


def selu(input: Tensor) -> Tensor:
    return F.selu(input)


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          generator: Any = None) -> Tensor:
    return F.rrelu(input, lower, upper, training, generator=generator)


def threshold(input: Tensor, threshold: float, value: float) -> Tensor:
    return F.threshold(input, threshold, value)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Any, margin: float = 0.0,
                          reduction: int = 0) -> Tensor:
    return F.cosine_embedding_loss(input1, input2, target, margin,
                                   reduction=_reduction("cosine_embedding_loss", reduction))


def hinge_embedding_loss(input: Tensor, target: Any, margin: float = 1.0, reduction: int = 0) -> Tensor:
    return F.hinge_embedding_loss(input, target, margin, reduction=_reduction("hinge_embedding_loss", reduction))


def kl_div(input: Tensor, target: Any, reduction: int = 0, *, log_target: bool = False) -> Tensor:
    reduction = _reduction("kl_div", reduction)
    if reduction != "mean":
        return F.kl_div(input, target, reduction=reduction, log_target=log_target)
    import warnings
    with warnings.catch_warnings():          # torch.kl_div (ATen) does not repeat F.kl_div's 'mean' warning
        warnings.filterwarnings("ignore", message="reduction: 'mean' divides", category=UserWarning)
        return F.kl_div(input, target, reduction=reduction, log_target=log_target)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Any, margin: float = 0.0,
                        reduction: int = 0) -> Tensor:
    return F.margin_ranking_loss(input1, input2, target, margin,
                                 reduction=_reduction("margin_ranking_loss", reduction))


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0,
                        p: float = 2.0, eps: float = 1e-6, swap: bool = False, reduction: int = 0) -> Tensor:
    return F.triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap,
                                 reduction=_reduction("triplet_margin_loss", reduction))


def poisson_nll_loss(input: Tensor, target: Any, log_input: bool, full: bool, eps: float,
                     reduction: int) -> Tensor:
    return F.poisson_nll_loss(input, target, log_input, full, eps=eps,
                              reduction=_reduction("poisson_nll_loss", reduction))


def binary_cross_entropy_with_logits(input: Tensor, target: Any, weight: Tensor | None = None,
                                     pos_weight: Tensor | None = None, reduction: int = 0) -> Tensor:
    """torch.binary_cross_entropy_with_logits: ``-w [p t log s(x) + (1 - t) log(1 - s(x))]`` with
    ``p`` = ``pos_weight`` (broadcast along the last dim) and ``w`` = ``weight``."""
    how = _reduction("binary_cross_entropy_with_logits", reduction)
    return F.binary_cross_entropy_with_logits(input, target, weight, reduction=how, pos_weight=pos_weight)


def ctc_loss(log_probs: Tensor, targets: Any, input_lengths: Any, target_lengths: Any, blank: int = 0,
             reduction: int = 0, zero_infinity: bool = False) -> Tensor:
    """torch.ctc_loss: F.ctc_loss with the reduction as an int (0 'none' by default)."""
    return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank,
                      _reduction("ctc_loss", reduction), zero_infinity)


def _stride(stride: Any) -> Any:
    """torch's top-level pools take ``stride=[]`` for 'the kernel size'."""
    return None if isinstance(stride, (list, tuple)) and len(stride) == 0 else stride


def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = (), padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False) -> Tensor:
    return F.max_pool1d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = (), padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False) -> Tensor:
    return F.max_pool2d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool3d(input: Tensor, kernel_size: Any, stride: Any = (), padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False) -> Tensor:
    return F.max_pool3d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def adaptive_max_pool1d(input: Tensor, output_size: Any) -> tuple:
    """torch.adaptive_max_pool1d: always ``(values, indices)``."""
    return F.adaptive_max_pool1d(input, output_size, True)


__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
           "max_pool3d", "dropout", "alpha_dropout",
           "batch_norm", "layer_norm", "group_norm", "instance_norm", "embedding", "pixel_shuffle",
           "pixel_unshuffle", "celu", "selu", "rrelu", "threshold", "prelu", "hardshrink",
           "bilinear", "cosine_embedding_loss", "hinge_embedding_loss", "kl_div",
           "margin_ranking_loss", "triplet_margin_loss", "poisson_nll_loss",
           "binary_cross_entropy_with_logits", "ctc_loss", "max_pool1d", "max_pool2d", "avg_pool1d",
           "adaptive_avg_pool1d", "adaptive_max_pool1d", "pdist", "channel_shuffle", "rms_norm"]

Tensor.prelu = F.prelu              # x.prelu(weight), x.hardshrink(lambd): torch's methods too
Tensor.hardshrink = F.hardshrink
