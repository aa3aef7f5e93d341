"""torch's remaining losses and ``embedding_bag``: multi_margin_loss, multilabel_margin_loss,
triplet_margin_with_distance_loss, ctc_loss (connectionist temporal classification: the alpha /
beta recursions in log space, vectorised over the batch) and embedding_bag.  Re-exported by
``tensorgan.functional`` (``F.ctc_loss`` ...); the argument checks reuse functional's helpers.

The margin losses are composed of Tensor ops (double backward comes free); a margin term's
gradient at exactly 0 is 0 (``relu``), as torch's kernels' ``if (z > 0)``.  ``ctc_loss`` is a
Function whose backward is torch's: ``exp(lp) - exp(log(alpha beta) + nll - lp)`` -- the
gradient with respect to the *logits* of ``log_probs = log_softmax(logits)`` (the ``exp(lp)``
term is what log_softmax's backward would add), so it equals the true gradient only for
normalised log-probabilities, as in torch.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from . import ops
from .errors import (ClassIndexError, ConfigError, DTypeError, FunctionalOptionError, InputTypeError,
                     ShapeError)
from .functional import (_REDUCTIONS, _checked_reduction, _legacy_reduction, _check_operand, _check_rank, _integer_targets, cross_entropy,
                         _on_device, _reduced, _scalar, _triplet_loss, pairwise_distance,
                         padding_row, relu)
from .tensor import Function, Tensor, _float_only, _is_int

Target = Any


def _class_weight(op: str, weight: Tensor | None, x: Tensor, classes: int) -> Tensor | None:
    """A per-class weight (C,) of x's dtype and device, without gradient (torch's margin losses
    do not differentiate it)."""
    if weight is None:
        return None
    _check_operand(op, "weight", weight, x, same_dtype=False)
    if weight.shape != (classes,):
        raise ShapeError(f"{op}: weight must have shape ({classes},) (one per class), got {weight.shape}")
    return weight.detach().to(x.dtype)


def _rows(op: str, input: Tensor) -> Tensor:
    """(N, C), (C,) or 0-d (one class, as torch takes it) input as (N, C)."""
    _check_rank(op, "input", input, (0, 1, 2), "(N, C) or (C,)")
    return input.reshape(1, -1) if input.ndim < 2 else input


def _unbatched(loss: Tensor, input: Tensor) -> Tensor:
    """The per-sample ``loss``, 0-d for an unbatched input (reshaped before the loss's last
    step, which takes torch's node name: a reshape is a view step and keeps its own)."""
    return loss.reshape(()) if input.ndim < 2 else loss


def multi_margin_loss(input: Tensor, target: Target, p: int = 1, margin: float = 1.0,
                      weight: Tensor | None = None, size_average: Any = None, reduce: Any = None,
                      reduction: str = "mean") -> Tensor:
    """Multi-class hinge loss: per sample ``sum_{j != y} w[y] max(0, margin - x[y] + x[j])^p / C``
    for (N, C) input and (N,) class targets (or (C,) and a 0-d target); p is 1 or 2."""
    op = "multi_margin_loss"
    reduction = _legacy_reduction(op, size_average, reduce, reduction)
    if reduction not in _REDUCTIONS:
        reduction = _checked_reduction(op, reduction)
    if not _is_int(p) or p not in (1, 2):
        raise ConfigError(f"{op}: only p == 1 and p == 2 are supported, got p={p!r}")
    margin = _scalar(op, "margin", margin)
    _float_only(op, input)      # (torch's multi_margin_loss of Long: not implemented)
    x = _rows(op, input)
    n, classes = x.shape
    xp = x.device.xp
    target = _integer_targets(op, target.reshape(-1) if isinstance(target, Tensor) else
                              np.reshape(target, -1), n, classes, xp)
    rows = xp.arange(n)
    z = relu(margin - x[rows, target].reshape(n, 1) + x)
    z = z * z if p == 2 else z
    others = xp.ones((n, classes), dtype=x.dtype)
    others[rows, target] = 0                         # j == y is not a margin term
    loss = z * Tensor._make(others, x.device)
    w = _class_weight(op, weight, x, classes)
    if w is not None:
        loss = loss * w[target].reshape(n, 1)
    return ops.torch_node(_reduced(_unbatched(loss.sum(dim=1), input) / float(classes), reduction),
                          "MultiMarginLossBackward0")


def _label_lists(op: str, target: Target, shape: tuple, rows: tuple, xp) -> tuple:
    """multilabel_margin_loss's target: per row, the class indices before the first -1.
    Returns (indices with -1 and after replaced by 0, their validity mask, is-target (N, C))."""
    array = _on_device(op, target.array if isinstance(target, Tensor) else target, xp)
    if array.dtype.kind not in "iu":
        raise DTypeError(f"{op}: target must be an integer tensor of class indices, got {array.dtype}")
    if tuple(array.shape) != shape:
        raise ShapeError(f"{op}: target shape {tuple(array.shape)} != input shape {shape}")
    n, classes = rows
    array = array.reshape(n, classes).astype(np.int64)
    valid = xp.cumprod(array != -1, axis=1).astype(bool)    # up to the first -1
    used = array[valid]
    if used.size and (int(used.min()) < 0 or int(used.max()) >= classes):
        raise ClassIndexError(f"{op}: target class indices must be in [0, {classes}) before the "
                          f"terminating -1, got values in [{int(used.min())}, {int(used.max())}]")
    index = xp.where(valid, array, 0)
    is_target = xp.zeros((n, classes), dtype=bool)
    is_target[xp.nonzero(valid)[0], index[valid]] = True
    return index, valid, is_target


def multilabel_margin_loss(input: Tensor, target: Target, size_average: Any = None,
                           reduce: Any = None, reduction: str = "mean") -> Tensor:
    """Multi-class multi-label hinge loss: per sample ``sum_{j in y} sum_{k not in y}
    max(0, 1 - (x[j] - x[k])) / C``, where y is the row of ``target`` before its first -1."""
    op = "multilabel_margin_loss"
    reduction = _legacy_reduction(op, size_average, reduce, reduction)
    if reduction not in _REDUCTIONS:
        reduction = _checked_reduction(op, reduction)
    _float_only(op, input)      # (torch's multilabel_margin_loss of Long: not implemented)
    x = _rows(op, input)
    n, classes = x.shape
    index, valid, is_target = _label_lists(op, target, input.shape, x.shape, x.device.xp)
    chosen = x[x.device.xp.arange(n)[:, None], index]                  # (N, S): x[y_j]
    z = relu(1.0 - chosen.reshape(n, classes, 1) + x.reshape(n, 1, classes))
    mask = valid[:, :, None] & ~is_target[:, None, :]                  # j a target, k not
    loss = _unbatched((z * Tensor._make(mask.astype(x.dtype), x.device)).sum(dim=(1, 2)), input)
    return ops.torch_node(_reduced(loss / float(classes), reduction), "MultilabelMarginLossBackward0")


def triplet_margin_with_distance_loss(anchor: Tensor, positive: Tensor, negative: Tensor, *,
                                      distance_function: Callable[[Tensor, Tensor], Tensor] | None = None,
                                      margin: float = 1.0, swap: bool = False,
                                      reduction: str = "mean") -> Tensor:
    """triplet_margin_loss with any ``distance_function(x1, x2)`` (default
    :func:`pairwise_distance`)."""
    op = "triplet_margin_with_distance_loss"
    if distance_function is not None and not callable(distance_function):
        raise InputTypeError(f"{op}: distance_function must be callable or None, got "
                             f"{type(distance_function).__name__}")
    return _triplet_loss(op, anchor, positive, negative, margin, bool(swap), reduction,
                         distance_function or pairwise_distance)


# ---------------------------------------------------------------------------------------------
# CTC
# ---------------------------------------------------------------------------------------------
def _logsumexp(xp, *arrays):
    """Elementwise log(sum(exp)) of a few arrays; -inf where all are -inf (no NaN)."""
    m = arrays[0]
    for a in arrays[1:]:
        m = xp.maximum(m, a)
    m = xp.where(m == -np.inf, 0, m)
    total = sum(xp.exp(a - m) for a in arrays)
    return xp.log(total) + m


def _shift(xp, a, k: int):
    """a (N, L) moved k places right along L (k > 0) or left (k < 0), filled with -inf."""
    out = xp.full_like(a, -np.inf)
    if k > 0:
        out[:, k:] = a[:, :-k]
    else:
        out[:, :k] = a[:, -k:]
    return out


class CTC(Function):
    """Per-sample CTC negative log-likelihood of log_probs (T, N, C); the extended labels
    (blank, l1, blank, l2, ..., blank) and lengths are constant arrays."""

    def forward(self, lp, ext, skip, input_lengths, target_lengths, zero_infinity):
        xp = self.xp
        t_max, n = lp.shape[:2]
        lp_ext = lp[:, xp.arange(n)[:, None], ext]                         # (T, N, L)
        alpha = xp.full(lp_ext.shape, -np.inf, dtype=lp.dtype)
        alpha[0, :, 0] = lp_ext[0, :, 0]
        if ext.shape[1] > 1:
            alpha[0, :, 1] = xp.where(target_lengths > 0, lp_ext[0, :, 1], -np.inf)
        for t in range(1, t_max):
            prev = alpha[t - 1]
            alpha[t] = _logsumexp(xp, prev, _shift(xp, prev, 1),
                                  xp.where(skip, _shift(xp, prev, 2), -np.inf)) + lp_ext[t]
        rows, last = xp.arange(n), xp.maximum(input_lengths - 1, 0)
        end = alpha[last, rows]                                            # (N, L) at T_n - 1
        s = 2 * target_lengths
        nll = -_logsumexp(xp, end[rows, s], xp.where(s > 0, end[rows, xp.maximum(s - 1, 0)], -np.inf))
        nll = xp.where(input_lengths == 0, xp.where(target_lengths == 0, 0.0, np.inf), nll).astype(lp.dtype)
        self.saved = (lp, lp_ext, ext, skip, alpha, input_lengths, target_lengths, nll)
        self.infinite = xp.isinf(nll) if zero_infinity else None
        return xp.where(self.infinite, 0, nll).astype(lp.dtype) if zero_infinity else nll

    def _beta(self):
        xp = self.xp
        lp, lp_ext, ext, skip, alpha, input_lengths, target_lengths, nll = self.saved
        n, length = ext.shape
        beta = xp.full_like(alpha, -np.inf)
        s = 2 * target_lengths
        init = xp.full((n, length), -np.inf, dtype=lp.dtype)
        skip_next = _shift(xp, xp.where(skip, 0.0, -np.inf), -2) == 0      # may jump s -> s + 2
        rows, before = xp.arange(n), xp.maximum(s - 1, 0)
        for t in range(lp.shape[0] - 1, -1, -1):
            init[:] = -np.inf
            init[rows, before] = xp.where(s > 0, lp_ext[t, rows, before], -np.inf)
            init[rows, s] = lp_ext[t, rows, s]          # after: before == s when s == 0
            if t + 1 < lp.shape[0]:
                nxt = beta[t + 1]
                step = _logsumexp(xp, nxt, _shift(xp, nxt, -1),
                                  xp.where(skip_next, _shift(xp, nxt, -2), -np.inf)) + lp_ext[t]
            else:
                step = init
            here = (input_lengths - 1 == t)[:, None]
            beta[t] = xp.where(here, init, xp.where((t < input_lengths - 1)[:, None], step, -np.inf))
        return beta

    def backward(self, g):
        xp = self.xp
        lp, lp_ext, ext, skip, alpha, input_lengths, target_lengths, nll = self.saved
        ab = alpha + self._beta()                                          # (T, N, L)
        m = ab.max(axis=2, keepdims=True)
        m = xp.where(m == -np.inf, 0, m)
        onehot = (ext[:, :, None] == xp.arange(lp.shape[2])).astype(lp.dtype)   # (N, L, C)
        summed = xp.einsum("tns,nsc->tnc", xp.exp(ab - m), onehot)
        lcab = xp.log(summed) + m                                          # log sum alpha beta per class
        grad = (xp.exp(lp) - xp.exp(lcab + nll[:, None] - lp)) * g[:, None]
        live = xp.arange(lp.shape[0])[:, None] < input_lengths              # (T, N)
        if self.infinite is not None:
            live = live & ~self.infinite
        return (xp.where(live[:, :, None], grad, 0).astype(lp.dtype),) + (None,) * 5


def _lengths(op: str, name: str, value: Any, n: int, xp) -> Any:
    """input_lengths / target_lengths: a Tensor, array, list or int -> int64 array (N,)."""
    array = value.array if isinstance(value, Tensor) else value
    array = np.asarray(array.get() if hasattr(array, "get") else array)
    if array.dtype.kind not in "iu":
        raise DTypeError(f"{op}: {name} must hold integers, got {array.dtype}")
    if array.shape not in ((n,), ()) or (array.ndim == 0 and n != 1):
        raise ShapeError(f"{op}: {name} must have one entry per sample ({n}), got shape {array.shape}")
    array = array.reshape(n).astype(np.int64)
    if array.size and array.min() < 0:
        raise FunctionalOptionError(f"{op}: {name} must be >= 0, got {array.tolist()}")
    return array


def _ctc_targets(op: str, targets: Any, target_lengths, n: int, classes: int, batched: bool,
                 blank: int):
    """Padded (N, S) targets (or concatenated 1-D ones) as an int64 (N, S_max) host array;
    labels in [0, C) other than the blank (torch's documented precondition; its gradient for a
    target holding the blank is inconsistent with its loss)."""
    array = targets.array if isinstance(targets, Tensor) else targets
    array = np.asarray(array.get() if hasattr(array, "get") else array)
    if array.dtype.kind == "f" and (array == np.round(array)).all():
        array = array.astype(np.int64)            # torch takes whole-number float labels too
    if array.dtype.kind not in "iu":
        raise DTypeError(f"{op}: targets must hold integer class indices, got {array.dtype}")
    s_max = int(target_lengths.max()) if n else 0
    padded = np.zeros((n, s_max), dtype=np.int64)
    if array.ndim == 2 or (not batched and array.ndim == 1):
        array = array.reshape(1, -1) if array.ndim == 1 else array
        if array.shape[0] != n or array.shape[1] < s_max:
            raise ShapeError(f"{op}: padded targets must be (N={n}, S) with S >= the longest target "
                             f"length {s_max}, got shape {array.shape}")
        for i, k in enumerate(target_lengths):
            padded[i, :k] = array[i, :k]
    elif array.ndim == 1:
        if array.size < int(target_lengths.sum()):
            raise ShapeError(f"{op}: concatenated targets hold {array.size} labels but the target "
                             f"lengths add up to {int(target_lengths.sum())}")
        starts = np.concatenate([[0], np.cumsum(target_lengths)[:-1]])
        for i, (a, k) in enumerate(zip(starts, target_lengths)):
            padded[i, :k] = array[a:a + k]
    else:
        raise ShapeError(f"{op}: targets must be (N, S) padded or 1-D concatenated, got shape {array.shape}")
    used = padded[np.arange(s_max) < target_lengths[:, None]]
    if used.size and (used.min() < 0 or used.max() >= classes):
        raise ConfigError(f"{op}: target labels must be in [0, {classes}), got values in "
                          f"[{used.min()}, {used.max()}]")
    if (used == blank).any():
        raise ConfigError(f"{op}: target labels must not be the blank ({blank})")
    return padded


def ctc_loss(log_probs: Tensor, targets: Any, input_lengths: Any, target_lengths: Any,
             blank: int = 0, reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """Connectionist Temporal Classification loss (Graves et al. 2006), torch's: the negative log
    of the summed probability of every alignment of each target to its ``log_probs`` (T, N, C)
    (or unbatched (T, C)) frames.  ``reduction="mean"`` divides each loss by its target length
    (at least 1) and then averages over the batch; ``zero_infinity`` makes impossible
    alignments' losses (and gradients) 0."""
    op = "ctc_loss"
    _check_rank(op, "log_probs", log_probs, (2, 3), "(T, N, C) or (T, C)")
    if reduction not in _REDUCTIONS:
        reduction = _checked_reduction(op, reduction)
    if log_probs.dtype.kind != "f":
        raise DTypeError(f"{op}: log_probs must be a float tensor, got {log_probs.dtype}")
    if log_probs.numel() == 0:
        raise ShapeError(f"{op}: log_probs must not be empty, got shape {log_probs.shape}")
    batched = log_probs.ndim == 3
    lp = log_probs if batched else log_probs.reshape(log_probs.shape[0], 1, log_probs.shape[1])
    t_max, n, classes = lp.shape
    if not _is_int(blank) or not 0 <= blank < classes:
        raise FunctionalOptionError(f"{op}: blank must be a class index in [0, {classes}), got {blank!r}")
    xp = lp.device.xp
    input_lengths = _lengths(op, "input_lengths", input_lengths, n, xp)
    target_lengths = _lengths(op, "target_lengths", target_lengths, n, xp)
    if input_lengths.size and input_lengths.max() > t_max:
        raise FunctionalOptionError(f"{op}: input_lengths must be at most T={t_max}, got {input_lengths.tolist()}")
    padded = _ctc_targets(op, targets, target_lengths, n, classes, batched, int(blank))
    ext = np.full((n, 2 * padded.shape[1] + 1), int(blank), dtype=np.int64)
    ext[:, 1::2] = padded
    skip = np.zeros(ext.shape, dtype=bool)                    # may jump from s - 2 to s
    skip[:, 3::2] = padded[:, 1:] != padded[:, :-1]
    nll = CTC.apply(lp, *(xp.asarray(a) for a in (ext, skip, input_lengths, target_lengths)),
                    bool(zero_infinity))
    if reduction == "mean":
        per_label = Tensor._make(xp.asarray(np.maximum(target_lengths, 1).astype(lp.dtype)), lp.device)
        return (nll / per_label).mean()
    return _reduced(nll if batched else nll.reshape(()), reduction)


# ---------------------------------------------------------------------------------------------
# embedding_bag
# ---------------------------------------------------------------------------------------------
def _bags(op: str, input: Any, offsets: Any, include_last_offset: bool, vocab: int) -> tuple:
    """(flat indices, bag of each index, number of bags) from 2-D fixed-size bags or 1-D indices
    with ``offsets`` (each bag's start; with ``include_last_offset`` the last one is the end)."""
    index = np.asarray(input.numpy() if isinstance(input, Tensor) else input)
    if index.dtype.kind not in "iu":
        raise DTypeError(f"{op}: input must hold integer indices, got {index.dtype}")
    if index.size and (index.min() < 0 or index.max() >= vocab):
        raise FunctionalOptionError(f"{op}: indices must be in [0, {vocab}), got values in "
                          f"[{index.min()}, {index.max()}]")
    if index.ndim == 2:
        if offsets is not None:
            raise ConfigError(f"{op}: offsets must be None for 2-D input {index.shape} (each row is a bag)")
        return index.reshape(-1), np.repeat(np.arange(index.shape[0]), index.shape[1]), index.shape[0]
    if index.ndim != 1:
        raise ShapeError(f"{op}: input must be 1-D (with offsets) or 2-D (B, L), got shape {index.shape}")
    if offsets is None:
        raise ConfigError(f"{op}: 1-D input needs offsets (a 1-D tensor of each bag's start)")
    starts = np.asarray(offsets.numpy() if isinstance(offsets, Tensor) else offsets)
    if starts.ndim != 1 or starts.dtype.kind not in "iu":
        raise ShapeError(f"{op}: offsets must be a 1-D integer tensor, got shape {starts.shape} {starts.dtype}")
    if starts.size and (starts[0] != 0 or (np.diff(starts) < 0).any() or starts[-1] > index.size):
        raise FunctionalOptionError(f"{op}: offsets must start at 0 and not decrease up to the input length "
                          f"{index.size}, got {starts.tolist()}")
    ends = np.append(starts[1:], index.size)
    if include_last_offset:
        starts, ends = starts[:-1], starts[1:]
    bag = np.repeat(np.arange(starts.size), ends - starts)
    return index[:bag.size], bag, starts.size


def embedding_bag(input: Any, weight: Tensor, offsets: Any = None, max_norm: float | None = None,
                  norm_type: float = 2, scale_grad_by_freq: bool = False, mode: str = "mean",
                  sparse: bool = False, per_sample_weights: Tensor | None = None,
                  include_last_offset: bool = False, padding_idx: int | None = None) -> Tensor:
    """Sums, means or maxima of bags of ``weight`` rows (torch.nn.functional.embedding_bag)
    without building the (bags, length, D) rows: (B, D).  Indices equal to ``padding_idx`` are
    left out of their bag (and of its mean's count); an empty bag gives zeros.
    ``per_sample_weights`` (input's shape, mode="sum") scale each row."""
    op = "embedding_bag"
    _check_rank(op, "weight", weight, (2,), "(num_embeddings, embedding_dim)")
    if mode not in ("sum", "mean", "max"):
        raise ConfigError(f"{op}: mode must be 'sum', 'mean' or 'max', got {mode!r}")
    if scale_grad_by_freq and mode == "max":
        raise ConfigError(f"{op}: scale_grad_by_freq is not supported with mode='max' (as torch)")
    vocab, dim = weight.shape
    index, bag, count = _bags(op, input, offsets, bool(include_last_offset), vocab)
    if max_norm is not None:
        from .functional import renorm_rows
        renorm_rows(op, weight, index, max_norm, norm_type)
    keep = np.ones(index.shape, dtype=bool)
    pad = padding_row(op, padding_idx, vocab)
    if pad is not None:
        keep = index != pad
    xp, dev = weight.device.xp, weight.device
    rows = weight[xp.asarray(index[keep])]                                 # (K, D)
    if scale_grad_by_freq:          # sparse: accepted, the gradient stays dense (same values)
        from .functional import scale_by_freq
        rows = scale_by_freq(rows, index[keep])
    bag = bag[keep]
    if per_sample_weights is not None:
        if mode != "sum":
            raise ConfigError(f"{op}: per_sample_weights is only supported for mode='sum', got mode={mode!r}")
        _check_operand(op, "per_sample_weights", per_sample_weights, weight, "weight")
        if per_sample_weights.numel() != keep.size:
            raise ShapeError(f"{op}: per_sample_weights must have the input's shape "
                             f"({keep.size} entries), got {per_sample_weights.shape}")
        rows = rows * per_sample_weights.reshape(-1)[xp.asarray(np.nonzero(keep)[0])].reshape(-1, 1)
    if mode == "max":
        return _bag_max(rows, bag, count, dim)
    out = ops.ScatterIntoZeros.apply(rows, (count, dim), (xp.asarray(bag),))    # per-bag sums
    if mode == "mean":
        sizes = np.maximum(np.bincount(bag, minlength=count), 1).astype(weight.dtype)
        out = out / Tensor._make(xp.asarray(sizes.reshape(-1, 1)), dev)
    return out


def _bag_max(rows: Tensor, bag: np.ndarray, count: int, dim: int) -> Tensor:
    """Each bag's elementwise maximum (the first of equal maxima gets the gradient, as torch's);
    zeros for an empty bag."""
    xp, dev = rows.device.xp, rows.device
    sizes = np.bincount(bag, minlength=count)
    width = int(sizes.max()) if sizes.size else 0
    if width == 0:
        return Tensor._make(xp.zeros((count, dim), dtype=rows.dtype), dev) + rows.sum() * 0.0
    slot = np.arange(bag.size) - np.concatenate([[0], np.cumsum(sizes)[:-1]])[bag]
    where = np.full((count, width), -1, dtype=np.int64)
    where[bag, slot] = np.arange(bag.size)                                 # (B, W) row positions
    values = xp.where(xp.asarray(where >= 0)[:, :, None], rows.array[xp.asarray(where)], -np.inf)
    first = xp.asarray(where)[xp.arange(count)[:, None], values.argmax(axis=1)]   # (B, D)
    out = rows[xp.maximum(first, 0), xp.arange(dim)]
    empty = Tensor._make(xp.asarray(sizes == 0).reshape(-1, 1), dev)
    return out.masked_fill(empty, 0.0)          # +0.0 for an empty bag, as torch's (not row * 0)


# ---------------------------------------------------------------------------------------------
# linear_cross_entropy: torch 2.13's reference path, cross_entropy(linear(input, W), target)
# ---------------------------------------------------------------------------------------------
def linear_cross_entropy(input: Tensor, linear_weight: Tensor, target: Any, *,
                         linear_bias: Tensor | None = None, weight: Tensor | None = None,
                         reduction: str = "mean", ignore_index: int | None = None,
                         label_smoothing: float = 0.0, options: Any = None) -> Tensor:
    """torch.nn.functional.linear_cross_entropy: ``cross_entropy(logits, target, ...)`` with
    ``logits = input @ linear_weight^T (+ linear_bias)``; input (in,) or (N, in), linear_weight
    (C, in) or (C, d1, ..., dK, in) -- a K-dimensional loss, logits (N, C, d1, ..., dK).
    ``ignore_index`` None means -100 for class-index targets and is required for probability
    targets (those of the logits' shape).  ``options`` (torch's chunked path, the same values
    computed in pieces to save memory) is refused: tensorgan has only the reference path."""
    op = "linear_cross_entropy"
    if options is not None:
        raise ConfigError(f"{op}: options (LinearCrossEntropyOptions, torch's chunked path) is not "
                          f"supported: tensorgan has only the reference path, pass options=None")
    for name, t in (("input", input), ("linear_weight", linear_weight)):
        if not isinstance(t, Tensor):
            raise InputTypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
    _check_rank(op, "input", input, (1, 2), "(in_features,) or (N, in_features)")
    _check_rank(op, "linear_weight", linear_weight, range(2, 33), "(C, in_features) or (C, d1, ..., dK, in_features)")
    batch, features = input.shape[:-1], input.shape[-1]
    if features != linear_weight.shape[-1]:
        raise ShapeError(f"{op}: expected equal input and linear_weight last dimensions (in_features), "
                         f"got {features} and {linear_weight.shape[-1]}, respectively")
    classes, out = linear_weight.shape[0], linear_weight.shape[1:-1]
    if linear_bias is not None and getattr(linear_bias, "shape", None) != (classes, *out):
        raise ShapeError(f"{op}: expected linear_bias shape {(classes, *out)}, got "
                         f"{getattr(linear_bias, 'shape', linear_bias)!r}")
    if out and not batch:
        raise ShapeError(f"{op}: K-dimensional loss defined by linear_weight shape {linear_weight.shape} "
                         f"requires batched input, (N, {features}), got unbatched input with shape {input.shape}")
    logits = (input @ linear_weight.reshape(-1, features).transpose(0, 1)).reshape(*batch, classes, *out)
    if linear_bias is not None:
        logits = logits + linear_bias
    if getattr(target, "shape", None) == logits.shape and ignore_index is not None:
        raise ConfigError(f"{op}: ignore_index cannot be specified when target contains probabilities")
    return cross_entropy(logits, target, weight, ignore_index=-100 if ignore_index is None else ignore_index,
                         reduction=reduction, label_smoothing=label_smoothing)
