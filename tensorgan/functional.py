"""Differentiable neural-network ops; names and argument order mirror ``torch.nn.functional``.

The heavy ops (convolutions, batch norm, leaky ReLU, batch norm + leaky ReLU fused) are Functions
whose forward and backward call the device's kernel set (``self.device.kernels``:
``tensorgan.kernels.cpu`` or ``.cuda``, same signatures), so this file holds the calculus and the
argument checks, and the kernels hold the loops.
The gradient of a convolution with respect to its input *is* a transposed convolution, and vice
versa: each backward here is one ``*_backward`` call into the kernel set, and inside the kernels
(``kernels/reference/conv2d.py`` and ``conv_transpose2d.py`` first) the two ops' passes are
built from each other.
"""
from __future__ import annotations

import itertools
import math
import operator
import warnings
from typing import Any, Callable, Sequence, Union

import numpy as np

from . import _reduction, memory_formats
from . import conv3d as conv3d_ops, ops
from .broadcasting import broadcast_shape
from .errors import (AutogradError, ClassIndexError, ConfigError, ConfigTypeError, DeviceError, DTypeError,
                     FunctionalOptionError,
                     DTypeNotImplementedError, DTypeValueError, IndexDTypeError, IndexOutOfRangeError, IndexValueError,
                     InputTypeError, MissingArgumentError, OutOfRangeDataError, PadShapeNotImplementedError, ShapeError,
                     ModeNotImplementedError, ShapeNotImplementedError, WindowArgError,
                     float_index_error)
from .random import Generator, resolve
from .dtypes import promote_types, result_type
from .select_kernels import select
from .shape_index_ops import distance_order
from .tensor import (Function, Tensor, _broadcasts_to, _caller_level, _flag, _float_only, _int_of, _is_int, _one_dtype, _run_backward,
                     is_grad_enabled, no_grad)
from .kernels.shapes import conv_transpose2d_output_size

IntOrPair = Union[int, Sequence[int]]       # stride=2 or stride=(2, 1), as in torch
Target = Any                                # a Tensor, or array-like / number made a constant


def _pair(value, name: str, minimum: int, owner: str | None = None) -> tuple[int, int]:
    """An int or a pair of ints (NumPy ints too), each >= minimum, as a pair of Python ints."""
    return _ntuple(value, name, minimum, owner, 2)


def _triple(value, name: str, minimum: int, owner: str | None = None) -> tuple[int, int, int]:
    """An int or three ints, each >= minimum, as a 3-tuple of Python ints (the 3-D ops')."""
    return _ntuple(value, name, minimum, owner, 3)


def _ntuple(value, name: str, minimum: int, owner: str | None, count: int) -> tuple:
    """An int or ``count`` ints (NumPy ints too), each >= minimum, as Python ints."""
    try:
        values = (value,) * count if _is_int(value) else tuple(value)
    except TypeError:
        values = ()
    prefix = f"{owner}: " if owner else ""
    if len(values) != count or not all(_is_int(v) for v in values):
        parsed = _tensor_ints(value, count)    # one-element integer tensors, as torch takes them
        if parsed is None:
            what = "a pair of ints" if count == 2 else f"{count} ints"
            # a value of the wrong kind (2.5, (2, 'a')) is torch's TypeError; a wrong count its ValueError
            wrong_kind = not values or not all(_is_int(v) for v in values)
            raise (ConfigTypeError if wrong_kind else FunctionalOptionError)(
                f"{prefix}{name} must be an int or {what}, got {value!r}")
        values = parsed
    if min(values) < minimum:
        raise WindowArgError(f"{prefix}{name} must be >= {minimum}, got {value!r}")
    return tuple(int(v) for v in values)


def _tensor_ints(value: Any, count: int) -> tuple | None:
    """Off the fast path of :func:`_ntuple`: a one-element integer tensor (``kernel_size=
    torch.tensor(3)``), or ``count`` of them / an integer tensor of ``count`` elements, as Python
    ints -- torch's layers take them; None for anything else."""
    if isinstance(value, Tensor) and value.array.dtype.kind in "iu" and value.array.size in (1, count):
        values = tuple(int(v) for v in value.array.reshape(-1).tolist())
        return values * count if len(values) == 1 else values
    if isinstance(value, (tuple, list)) and len(value) == count:
        values = tuple(_int_of(v) for v in value)
        return values if all(_is_int(v) for v in values) else None
    return None


def _contiguous(fn: Function, a):
    return a if a is None else fn.xp.ascontiguousarray(a)


def _pool_input(op: str, x: Any) -> None:
    """A max pool reads ``x.array`` before its shape checks: anything but a Tensor is refused first."""
    if not isinstance(x, Tensor):
        raise InputTypeError(f"{op}: input must be a Tensor, got {type(x).__name__}")


def _check_rank(op: str, name: str, t: Tensor, ranks: Sequence[int], layout: str) -> None:
    if not isinstance(t, Tensor):
        raise InputTypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
    if t.ndim not in ranks:
        raise ShapeError(f"{op}: {name} must be {layout}, got shape {t.shape}")


def _scalar(op: str, name: str, value) -> float:
    """A real-number argument (slope, momentum, eps, probability) as a float, or a typed error
    naming it -- not float()'s bare ValueError / a comparison's TypeError further in."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InputTypeError(f"{op}: {name} must be a real number, got {type(value).__name__} {value!r}")
    return float(value)


def _probability(op: str, p) -> float:
    """A dropout probability as a float: a real number, or a bool (torch takes ``p=True`` as
    1.0) or a 0-d real tensor (torch's float argument takes one: ``p=tg.tensor(0.5)``)."""
    if isinstance(p, Tensor) and p.ndim == 0 and p.dtype.kind in "biuf":
        if p.requires_grad:          # (torch's float argument takes no tensor that needs a grad)
            raise InputTypeError(f"{op}(): argument 'p' must be float, not a Tensor that requires "
                                 f"grad (p is not differentiable: pass p.item() or p.detach())")
        p = p.item()
    return float(p) if isinstance(p, (bool, np.bool_)) else _scalar(op, "p", p)


def _in_dtype_of(x: Tensor, *numbers: float) -> tuple:
    """Bounds and fill values as torch casts them to the input's dtype: truncated toward zero
    for an integer tensor (so hardtanh / threshold of integers stay integers), else unchanged."""
    return tuple(int(v) for v in numbers) if x.dtype.kind in "iu" else numbers


def _check_operand(op: str, name: str, t, x: Tensor, x_name: str = "input",
                   same_dtype: bool = True) -> None:
    """An optional operand (bias, running statistics, target): a Tensor on x's device, of x's
    dtype (``x_name`` says what x is in the message: the input, a layer's weights).  With
    ``same_dtype=False`` (an elementwise loss's target, cosine_similarity's x2) any dtype
    passes: the ops promote float32 with float64 and integers, as torch's."""
    if t is None:
        return
    if not isinstance(t, Tensor):
        raise InputTypeError(f"{op}: {name} must be a Tensor or None, got {type(t).__name__}")
    if t.device is not x.device:
        raise DeviceError(f"{op}: {name} is on {t.device} but the {x_name} on {x.device}; move one "
                          f"with .to(device)")
    if same_dtype and t.dtype != x.dtype:
        raise DTypeError(f"{op}: {x.dtype} and {t.dtype} tensors mixed ({x_name} {x.dtype}, {name} "
                         f"{t.dtype}); convert one with .to({x.dtype.name!r})")


# ---------------------------------------------------------------------------------------------
# Convolution and its adjoint
# ---------------------------------------------------------------------------------------------
def _grads_if_empty(fn: Function, gy):
    """A convolution with an empty operand (an empty batch, no input or output channels, an empty
    output) has zero input and weight gradients (sums over nothing) and the bias gradient is
    gy's channel sums: returned here, so that no kernel sees an empty GEMM; None otherwise."""
    x, w, xp = fn.x, fn.w, fn.xp
    if x.size and w.size and gy.size:
        return None
    need = fn.needs_input_grad
    return (xp.zeros_like(x) if need[0] else None, xp.zeros_like(w) if need[1] else None,
            gy.sum(axis=(0, 2, 3)) if need[2] else None)


class Conv2d(Function):
    def forward(self, x, w, b, stride, padding):
        x, w = _contiguous(self, x), _contiguous(self, w)
        self.x, self.w, self.stride, self.padding = x, w, stride, padding
        return self.device.kernels.conv2d(x, w, b, stride, padding)

    def backward(self, gy):
        gy = self.xp.ascontiguousarray(gy)
        # One call for all three (PyTorch's convolution_backward): a kernel set may share work.
        gx, gw, gb = _grads_if_empty(self, gy) or self.device.kernels.conv2d_backward(
            self.x, gy, self.w, self.stride, self.padding, self.needs_input_grad[:3])
        return gx, gw, gb, None, None

    def grad_graph(self, gy):
        # conv2d and conv_transpose2d are each other's input gradient (the adjoint)
        x, w = self.inputs[:2]
        need = self.needs_input_grad
        gx = conv_transpose2d(gy, w, None, self.stride, self.padding,
                              _output_padding(x, gy, w, self.stride, self.padding)) if need[0] else None
        gw = Conv2dWeightGrad.apply(x, gy, self.w, self.stride, self.padding) if need[1] else None
        gb = gy.sum(axis=(0, 2, 3)) if need[2] else None
        return gx, gw, gb, None, None


class ConvTranspose2d(Function):
    def forward(self, x, w, b, stride, padding, output_padding):
        x, w = _contiguous(self, x), _contiguous(self, w)
        self.x, self.w, self.stride, self.padding = x, w, stride, padding
        return self.device.kernels.conv_transpose2d(x, w, b, stride, padding, output_padding)

    def backward(self, gy):
        gy = self.xp.ascontiguousarray(gy)
        # One call: on the CPU the input and weight gradients share gy's im2col.
        gx, gw, gb = _grads_if_empty(self, gy) or \
            self.device.kernels.conv_transpose2d_backward(self.x, gy, self.w, self.stride, self.padding,
                                                          self.needs_input_grad[:3])
        return gx, gw, gb, None, None, None

    def grad_graph(self, gy):
        # y = conv_transpose2d(x, w) is the input gradient of z -> conv2d(z, w): so x's gradient
        # is conv2d(gy, w), and w's is that convolution's weight gradient with gy as its input
        x, w = self.inputs[:2]
        need = self.needs_input_grad
        gx = conv2d(gy, w, None, self.stride, self.padding) if need[0] else None
        gw = Conv2dWeightGrad.apply(gy, x, self.w, self.stride, self.padding) if need[1] else None
        gb = gy.sum(axis=(0, 2, 3)) if need[2] else None
        return gx, gw, gb, None, None, None


class Conv2dWeightGrad(Function):
    """conv2d's weight gradient as an op (graph mode): ``gw[o, i, p, q] = sum over n, oh, ow of
    gy[n, o, oh, ow] * x_padded[n, i, oh*s + p, ow*s + q]``.  It is bilinear in ``x`` and ``gy``,
    so with ``ggw`` as a weight its gradients are a transposed convolution (for x) and a
    convolution (for gy).  ``w``: an array of the weight's shape (only its shape is used)."""

    def forward(self, x, gy, w, stride, padding):
        self.x, self.gy = _contiguous(self, x), _contiguous(self, gy)
        self.stride, self.padding = stride, padding
        return self.device.kernels.conv2d_backward(self.x, self.gy, w, stride, padding,
                                                   (False, True, False))[1]

    def backward(self, ggw):
        ggw = self.xp.ascontiguousarray(ggw)
        kernels, need = self.device.kernels, self.needs_input_grad
        gx = kernels.conv2d_backward(self.x, self.gy, ggw, self.stride, self.padding,
                                     (True, False, False))[0] if need[0] else None
        ggy = kernels.conv2d(self.x, ggw, None, self.stride, self.padding) if need[1] else None
        return gx, ggy, None, None, None

    def grad_graph(self, ggw):
        x, gy = self.inputs[:2]
        need = self.needs_input_grad
        gx = conv_transpose2d(gy, ggw, None, self.stride, self.padding,
                              _output_padding(x, gy, ggw, self.stride, self.padding)) if need[0] else None
        ggy = conv2d(x, ggw, None, self.stride, self.padding) if need[1] else None
        return gx, ggy, None, None, None


def _output_padding(x, y, w, stride: tuple, padding: tuple) -> tuple:
    """The output_padding with which conv_transpose2d maps conv2d's output ``y`` back to the
    shape of its input ``x`` (a stride > 1 convolution drops up to stride - 1 rows)."""
    return tuple(x.shape[2 + a] - ((y.shape[2 + a] - 1) * stride[a] - 2 * padding[a] + w.shape[2 + a])
                 for a in (0, 1))


def _unbatched(x: Any, rank: int) -> bool:
    """Whether ``x`` is torch's unbatched layout (no N axis) of a ``rank``-D convolution input."""
    return isinstance(x, Tensor) and x.ndim == rank - 1


_CONV_LAYOUTS = {4: "(N, C, H, W) or unbatched (C, H, W)", 5: "(N, C, D, H, W) or unbatched (C, D, H, W)"}


def _not_float_conv(x: Any, weight: Any) -> bool:
    """Whether a convolution's input or weight is an integer / bool tensor (two dtype reads)."""
    return (isinstance(x, Tensor) and x.array.dtype.kind not in "fc") or (
        isinstance(weight, Tensor) and weight.array.dtype.kind not in "fc")


def _integer_conv(op: str, conv: Callable[..., Tensor], x: Tensor, weight: Tensor, bias: Any,
                  *args: Any) -> Tensor:
    """torch's CPU convolutions of integer tensors: input, weight and bias of one integer dtype
    give that dtype, computed exactly here in float64 (|partial sums| < 2**53) and cast back
    (wrapping as torch's integers do), no gradient; an integer tensor beside a float one is
    torch's dtype mismatch and bool is not implemented -- DTypeError naming the dtypes."""
    given = [(name, t) for name, t in (("input", x), ("weight", weight), ("bias", bias))
             if isinstance(t, Tensor)]
    dtypes = ", ".join(f"{name} {t.dtype}" for name, t in given)
    if any(t.array.dtype.kind == "b" for _, t in given):
        raise DTypeError(f"{op}: not implemented for bool tensors (got {dtypes}); convert with .float()")
    if len({t.dtype for _, t in given}) > 1:
        raise DTypeError(f"{op}: input, weight and bias must have one dtype, got {dtypes} (torch "
                         f"refuses mixing them); convert with .float() / .to(dtype)")
    out = conv(x.double(), weight.double(), None if bias is None else bias.double(), *args)
    return out.round().long().to(x.dtype)


def _check_conv(op: str, x: Tensor, weight: Tensor, bias, in_channels: int, out_channels: int,
                rank: int = 4) -> None:
    _check_rank(op, "input", x, (rank,), _CONV_LAYOUTS[rank])
    _check_rank(op, "weight", weight, (rank,), f"{rank}-D")
    if weight.shape[0] == 0 or out_channels == 0:   # torch refuses it; an empty map would run
        raise ShapeError(f"{op}: a weight of size {tuple(weight.shape)} makes no channels (as "
                         f"torch, refused: a layer built with 0 channels, e.g. C // 8 of C < 8)")
    if x.shape[1] != in_channels:
        raise ShapeError(f"{op}: input has {x.shape[1]} channels but weight {weight.shape} expects "
                         f"{in_channels} (input shape {x.shape})")
    _check_operand(op, "bias", bias, x)
    if bias is not None and bias.shape != (out_channels,):
        raise ShapeError(f"{op}: bias must have shape ({out_channels},), got {bias.shape}")


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: IntOrPair = 1,
           padding: IntOrPair | str = 0, dilation: IntOrPair = 1, groups: int = 1) -> Tensor:
    """2-D convolution (cross-correlation) of ``x (N, C_in, H, W)`` with ``weight
    (C_out, C_in / groups, kH, kW)``; ``padding`` may be ``"same"`` (stride 1) or ``"valid"``.

    The plain geometry (dilation 1, one group) is one call of the hand-written kernels; the
    other options are composed from that call, see :func:`_conv_options`."""
    x = input   # (torch's name for the argument)
    if _unbatched(x, 4):
        return conv2d(x.unsqueeze(0), weight, bias, stride, padding, dilation, groups).squeeze(0)
    if _not_float_conv(x, weight):
        return _integer_conv("conv2d", conv2d, x, weight, bias, stride, padding, dilation, groups)
    stride, dilation = _pair(stride, "stride", 1, "conv2d"), _pair(dilation, "dilation", 1, "conv2d")
    groups = _groups("conv2d", groups)
    _check_rank("conv2d", "weight", weight, (4,), "(C_out, C_in / groups, kH, kW)")
    _check_conv("conv2d", x, weight, bias, weight.shape[1] * groups, weight.shape[0])
    _check_divides("conv2d", "output channels", weight.shape[0], groups)
    x, padding = _string_padding("conv2d", x, weight, padding, stride, dilation)
    padding = _pair(padding, "padding", 0, "conv2d")
    span = [d * (k - 1) + 1 for k, d in zip(weight.shape[2:], dilation)]
    for axis, name in ((0, "height"), (1, "width")):
        size = x.shape[2 + axis] + 2 * padding[axis]
        if span[axis] > size:
            dilated = f" (dilation {dilation})" if dilation != (1, 1) else ""
            raise ShapeError(f"conv2d: kernel {weight.shape[2:]}{dilated} is larger than the padded "
                             f"input {size} in {name} (input {x.shape}, padding {padding})")
    if dilation == (1, 1) and groups == 1:
        out = Conv2d.apply(x, weight, bias, stride, padding)
    elif _depthwise_fits(x, weight, groups):
        out = DepthwiseConv.apply(x, weight, bias, stride, padding, dilation)
    else:
        out = _conv_options(Conv2d, x, weight, bias, (stride, padding), dilation, groups)
    if not (x.array.flags.c_contiguous and weight.array.flags.c_contiguous):
        out = _keep_channels_last(x, out, weight)     # a channels_last input or weight
    return out


def _keep_channels_last(x: Tensor, out: Tensor, weight: "Tensor | None" = None) -> Tensor:
    """``out`` channels_last when ``x`` or ``weight`` is (torch's convolutions: a channels_last
    model's first layer gives channels_last from a C-order batch)."""
    from . import memory_formats as mf
    if mf.has_format(out.array, mf.channels_last) or (
            mf.suggest(x.array) is not mf.channels_last
            and (weight is None or mf.suggest(weight.array) is not mf.channels_last)):
        return out
    axes = mf.order(mf.channels_last, out.shape, "conv2d")
    return out.contiguous(memory_format=mf.channels_last) if axes is None else \
        _relaid(out, axes, _CONV_RELAYOUT)


def _keeps_format(fn: Callable) -> Callable:
    """``fn`` (an (N, C, ...) op: a norm, pool, pad, resize) whose result takes a channels_last
    input's layout, as torch's ops follow ``suggest_memory_format(input)``; a C-order input
    costs one flag test."""
    import functools

    @functools.wraps(fn)
    def op(*args: Any, **kwargs: Any) -> Any:
        out = fn(*args, **kwargs)
        x = args[0] if args else kwargs.get("input")
        if isinstance(x, Tensor) and not x.array.flags.c_contiguous:
            out = _in_format_of(x, out)
        return out
    return op


def _keeps_weight_format(fn: Callable) -> Callable:
    """``fn`` (a transposed convolution, already :func:`_keeps_format`) whose result is also
    channels_last when its weight is, as torch's convolutions (a channels_last model's first
    layer, fed a C-order latent): a C-order weight costs one flag test."""
    import functools

    @functools.wraps(fn)
    def op(*args: Any, **kwargs: Any) -> Any:
        out = fn(*args, **kwargs)
        weight = args[1] if len(args) > 1 else kwargs.get("weight")
        if isinstance(weight, Tensor) and not weight.array.flags.c_contiguous:
            out = _in_format_of(weight, out)
        return out
    return op


def _in_format_of(x: Tensor, out: Any) -> Any:
    """``out`` (a Tensor or a tuple: values and indices) re-laid in ``x``'s channels_last format;
    the relayout node, if any, takes the op's own grad_fn name."""
    fmt = memory_formats.suggest(x.array)
    if fmt is memory_formats.contiguous_format:
        return out
    if isinstance(out, tuple):
        return tuple(_in_format_of(x, o) for o in out)
    if not isinstance(out, Tensor) or out.ndim != x.ndim:
        return out
    if memory_formats.has_format(out.array, fmt):    # laid out already (avg_pool2d's kernel)
        if out.grad_fn is not None and out.grad_fn.inputs[0] is x and not isinstance(out.grad_fn, ops.Mean):
            _grad_laid_like_input(out.grad_fn)    # (a global average pool is torch's mean: its
        return out                                # gradient an expand of g, C order)
    return _relaid(out, memory_formats.order(fmt, out.shape, "relayout"))


def _relaid(out: Tensor, axes: tuple, relayout_node: "type | None" = None) -> Tensor:
    """``out`` laid out in memory in the order ``axes``: a fresh result re-laid in place, its
    own node kept (no relayout node in ``next_functions``, torch's graph) and re-classed to lay
    its input's gradient out as that input; a view of the op's input gets a relayout node under
    the op's name (``relayout_node``, else the op's own)."""
    node = out.grad_fn
    if node is None:
        return Tensor._make(memory_formats.relayout(out.device.xp, out.array, axes), out.device)
    if out._version_box is getattr(node.inputs[0], "_version_box", None):    # a view of its input
        return (relayout_node or ops.torch_named(ops.Relayout, node.name())).apply(out, axes)
    out.array = memory_formats.relayout(out.device.xp, out.array, axes)
    _grad_laid_like_input(node)
    return out


def _grad_laid_like_input(node: Any) -> None:
    """``node`` (an (N, C, ...) op's, its first input channels_last) re-classed so that its
    first input's gradient is laid out as that input, as torch's backward kernels lay it out --
    a constant padding's or resize's only where the incoming gradient is not C order (torch's
    follows that gradient there).  Its values and name are unchanged."""
    base = type(node)
    kind = _LAID_LIKE_INPUT.get(base)
    if kind is None:
        kind = _LAID_LIKE_INPUT[base] = _laid_like_input_subclass(base)
    node.__class__ = kind


_LAID_LIKE_INPUT: dict = {}


def _laid_like_input_subclass(base: type) -> type:
    follows_gradient = issubclass(base, (ops.PadIntoZeros, NearestBlocks, SeparableResize))

    def backward(self: Any, g: Any) -> Any:
        grads = base.backward(self, g)
        x = self.inputs[0]
        first = grads[0] if isinstance(grads, tuple) else None
        if first is None or not isinstance(x, Tensor) or (follows_gradient and g.flags.c_contiguous):
            return grads
        if isinstance(first, ops.SparseGrad):        # (a pad's or pool's: written out in x's
            total = self.xp.zeros_like(x.array)      # layout, as the engine would in C order)
            first.add_into(self.xp, total)
            return (total,) + grads[1:]
        if first.strides == x.array.strides:
            return grads
        laid = memory_formats.like(first if first.flags.c_contiguous else first.copy(), x.array)
        return (laid,) + grads[1:]
    return type(base.__name__, (base,), {"backward": backward, "__module__": base.__module__,
                                         "__doc__": f"{base.__name__}, its input's gradient laid "
                                                    f"out as that input (channels_last)."})


def _string_padding(op: str, x: Tensor, weight: Tensor, padding: Any, stride: tuple,
                    dilation: tuple) -> tuple[Tensor, Any]:
    """torch's ``padding='same'`` (stride 1) / ``'valid'`` as ``(input, per-dim padding)``: an
    odd total pads the input here, the extra element after; other paddings pass through."""
    if not (isinstance(padding, str) and padding in ("same", "valid")):
        return x, padding
    if padding == "same" and any(s != 1 for s in stride):
        raise WindowArgError(f"{op}: padding='same' needs stride 1 (as torch's), got stride {stride}")
    before_after = [(0, 0) if padding == "valid" else (d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2)
                    for k, d in zip(weight.shape[2:], dilation)]
    if any(b != a for b, a in before_after):            # odd total: the extra row goes after
        x = pad(x, [n for pair in reversed(before_after) for n in pair])
        before_after = [(0, 0)] * len(before_after)
    return x, tuple(b for b, _ in before_after)


@_keeps_weight_format
@_keeps_format
def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: IntOrPair = 1,
                     padding: IntOrPair = 0, output_padding: IntOrPair = 0, groups: int = 1,
                     dilation: IntOrPair = 1) -> Tensor:
    """Transposed convolution (the adjoint of conv2d); ``weight (C_in, C_out / groups, kH, kW)``
    (torch's argument order: ``groups`` before ``dilation``).

    Output size per axis: ``(H - 1) * stride - 2 * padding + dilation * (kH - 1) + 1 + output_padding``."""
    x = input   # (torch's name for the argument)
    if _unbatched(x, 4):
        return conv_transpose2d(x.unsqueeze(0), weight, bias, stride, padding, output_padding, groups,
                                dilation).squeeze(0)
    if _not_float_conv(x, weight):
        return _integer_conv("conv_transpose2d", conv_transpose2d, x, weight, bias, stride, padding,
                             output_padding, groups, dilation)
    op = "conv_transpose2d"
    stride, padding = _pair(stride, "stride", 1, op), _pair(padding, "padding", 0, op)
    output_padding = _pair(output_padding, "output_padding", 0, op)
    dilation, groups = _pair(dilation, "dilation", 1, op), _groups(op, groups)
    _check_rank(op, "weight", weight, (4,), "(C_in, C_out / groups, kH, kW)")
    _check_conv(op, x, weight, bias, weight.shape[0], weight.shape[1] * groups)
    _check_divides(op, "input channels", weight.shape[0], groups)
    for axis in (0, 1):
        if output_padding[axis] >= max(stride[axis], dilation[axis]):   # torch's rule
            raise WindowArgError(f"{op}: output_padding {output_padding} must be smaller than stride "
                              f"{stride} or dilation {dilation}")
        out = conv_transpose2d_output_size(x.shape[2 + axis], dilation[axis] * (weight.shape[2 + axis] - 1) + 1,
                                           stride[axis], padding[axis], output_padding[axis])
        if out < 0:                         # 0: an empty output, as torch
            raise ShapeError(f"{op}: output size {out} < 0 for input {x.shape}, weight "
                             f"{weight.shape}, stride {stride}, padding {padding}, dilation {dilation}")
    if dilation == (1, 1) and groups == 1:
        return ConvTranspose2d.apply(x, weight, bias, stride, padding, output_padding)
    return _conv_options(ConvTranspose2d, x, weight, bias, (stride, padding, output_padding),
                         dilation, groups)


def _groups(op: str, groups: Any) -> int:
    if not _is_int(groups) or groups < 1:
        raise FunctionalOptionError(f"{op}: groups must be a positive int, got {groups!r}")
    return int(groups)


def _check_divides(op: str, what: str, count: int, groups: int) -> None:
    if count % groups:
        raise ShapeError(f"{op}: {what} ({count}) must be divisible by groups ({groups})")


def _dilate_kernel(weight: Tensor, dilation: tuple[int, int]) -> Tensor:
    """``(A, B, kH, kW)`` -> ``(A, B, d0 (kH - 1) + 1, d1 (kW - 1) + 1)`` with ``d - 1`` zeros
    between taps: a dilated convolution is the plain one with this kernel. Built from concat,
    reshape and slicing, so its gradient (every d-th tap of the big kernel's) comes for free."""
    from .factory import concat
    for axis, d in ((2, dilation[0]), (3, dilation[1])):
        if d > 1:
            k = weight.shape[axis]
            gaps = weight.new_zeros(weight.shape[:axis + 1] + (d - 1,) + weight.shape[axis + 1:])
            spread = concat([weight.unsqueeze(axis + 1), gaps], axis + 1)      # (.., k, d, ..)
            merged = spread.reshape(weight.shape[:axis] + (k * d,) + weight.shape[axis + 1:])
            weight = merged[(slice(None),) * axis + (slice(0, d * (k - 1) + 1),)]
    return weight


def _dilated_by_phases(x: Tensor, weight: Tensor, bias: Tensor | None, padding: tuple[int, int],
                       dilation: tuple[int, int], groups: int) -> Tensor:
    """A stride-1 dilated conv2d as the plain kernel on the input's ``dh * dw`` phases (TF's
    space-to-batch): output row ``m dh + r`` reads padded-input rows ``(m + i) dh + r`` -- every
    ``dh``-th row from ``r``, which is phase ``r`` convolved with the undilated kernel.  So the
    padded input is cut into its phases, stacked along the batch (one kernel call, no zero taps:
    ``d`` times fewer FLOPs per dilated axis than :func:`_dilate_kernel`'s kernel), and the
    phases' outputs are interleaved back.  Built from pad / reshape / permute / slicing, so the
    gradients (and double backward) come from those ops'."""
    n, c, h, w = x.shape
    (ph, pw), (dh, dw) = padding, dilation
    kh, kw = weight.shape[2:]
    out_h, out_w = h + 2 * ph - dh * (kh - 1), w + 2 * pw - dw * (kw - 1)
    mh, mw = -(-(h + 2 * ph) // dh), -(-(w + 2 * pw) // dw)      # phase lengths (rounded up)
    padded = pad(x, (pw, mw * dw - w - pw, ph, mh * dh - h - ph))
    phases = padded.reshape(n, c, mh, dh, mw, dw).permute(0, 3, 5, 1, 2, 4).reshape(n * dh * dw, c, mh, mw)
    geometry = ((1, 1), (0, 0))
    z = Conv2d.apply(phases, weight, None, *geometry) if groups == 1 else \
        GroupedConv.apply(phases, weight, None, Conv2d, groups, geometry)
    co, zh, zw = z.shape[1:]
    y = z.reshape(n, dh, dw, co, zh, zw).permute(0, 3, 4, 1, 5, 2).reshape(n, co, zh * dh, zw * dw)
    y = y[:, :, :out_h, :out_w]
    return y if bias is None else y + bias.reshape(1, -1, 1, 1)


def _conv_options(kind: type, x: Tensor, weight: Tensor, bias: Tensor | None, geometry: tuple,
                  dilation: tuple[int, int], groups: int) -> Tensor:
    """Dilation and groups, composed from the plain kernel: the dilated kernel (zeros between the
    taps), then one call per group on its slice of the channels, concatenated. A plain-kernel
    speed path is not worth its code for options a DCGAN does not use: the zeros cost
    ``d^2`` times the FLOPs, the groups ``groups`` kernel calls in one node (GroupedConv). Both weight layouts split along their
    first axis (conv2d: output channels; conv_transpose2d: input channels)."""
    if kind is ConvTranspose2d and any(o >= st for o, st in zip(geometry[2], geometry[0])):
        return _wide_output_padding(x, weight, bias, geometry, dilation, groups)
    if kind is Conv2d and geometry[0] == (1, 1) and dilation != (1, 1):
        return _dilated_by_phases(x, weight, bias, geometry[1], dilation, groups)
    weight = _dilate_kernel(weight, dilation)
    if groups == 1:
        return kind.apply(x, weight, bias, *geometry)
    return GroupedConv.apply(x, weight, bias, kind, groups, geometry)


def _batched_groups_pay(x_shape: tuple, w_shape: tuple, groups: int, stride: tuple,
                        padding: tuple) -> bool:
    """Whether a grouped conv2d takes GroupedConv's batched NumPy path rather than a kernel call
    per group: when the im2col matrix it materializes (N * OH * OW * C_in * kH * kW values) is
    small beside the per-group calls' fixed cost (measured: ~0.1 ms a group forward + backward
    against ~10 us per 1000 im2col values) -- many groups of few channels on short signals
    (MelGAN's discriminator); the kernels keep wide groups and large images."""
    if groups < 8:
        return False
    n, c, h, w = x_shape
    kh, kw = w_shape[2:]
    oh = (h + 2 * padding[0] - kh) // stride[0] + 1
    ow = (w + 2 * padding[1] - kw) // stride[1] + 1
    return n * oh * ow * c * kh * kw <= groups * 10000


def _grouped_composite(kind: type, x: Tensor, weight: Tensor, bias: Tensor | None, groups: int,
                       geometry: tuple) -> Tensor:
    """GroupedConv as Tensor ops: one ``kind`` node per group on slices, concatenated (its
    differentiable form, for ``create_graph=True``)."""
    from .factory import concat
    c_in, rows = x.shape[1] // groups, weight.shape[0] // groups
    c_out = weight.shape[1] if kind is ConvTranspose2d else rows
    parts = [kind.apply(x[:, g * c_in:(g + 1) * c_in], weight[g * rows:(g + 1) * rows],
                        None if bias is None else bias[g * c_out:(g + 1) * c_out], *geometry)
             for g in range(groups)]
    return concat(parts, 1)


class GroupedConv(Function):
    """A grouped conv2d / conv_transpose2d (``kind``) as one node: the plain kernel once per group
    on array slices, in both directions (bit-identical to one ``kind`` node per sliced group, then
    cat -- without the per-group slice nodes, their zero-filled scatter gradients and the cat
    node: StyleGAN2's modulated convolution runs groups = batch size)."""

    def forward(self, x, w, b, kind, groups, geometry):
        xp = self.xp
        c_in, rows = x.shape[1] // groups, w.shape[0] // groups
        c_out = w.shape[1] if kind is ConvTranspose2d else rows
        self.batched = kind is Conv2d and xp is np and _batched_groups_pay(x.shape, w.shape, groups, *geometry)
        if self.batched:
            self.b_none = b is None
            return self._batched_forward(x, w, b, groups, *geometry)
        self.parts, outs = [], []
        for g in range(groups):
            part = kind()
            part.device, part.needs_input_grad = self.device, self.needs_input_grad[:3]
            outs.append(part.forward(x[:, g * c_in:(g + 1) * c_in], w[g * rows:(g + 1) * rows],
                                     None if b is None else b[g * c_out:(g + 1) * c_out], *geometry))
            self.parts.append(part)
        self.b_none = b is None
        return xp.concatenate(outs, axis=1)

    def _batched_forward(self, x, w, b, groups, stride, padding):
        """Many small groups on the CPU: all groups' im2col at once and one batched matmul
        ``(G, N * P, K) @ (G, K, C_out / G)`` instead of a kernel call per group (MelGAN's
        discriminator: 256 groups of 4 channels).  Tap ``k = q s + r`` of output ``o`` reads input
        row ``(o + q) s + r``: with the taps zero-padded to ``Q s`` and the padded input laid out
        ``(G, N, H / s, W / s, C / G, sh, sw)``, each window is ``Qh`` runs of ``Qw * C/G * sh * sw``
        contiguous values (a cheap im2col copy), and the input gradient is ``Qh * Qw`` block adds."""
        n, c, h, wd = x.shape
        co, cg, kh, kw = w.shape
        (sh, sw), (ph, pw) = stride, padding
        qh, qw = -(-kh // sh), -(-kw // sw)
        oh, ow = (h + 2 * ph - kh) // sh + 1, (wd + 2 * pw - kw) // sw + 1
        hq, wq = oh + qh - 1, ow + qw - 1
        xpad = np.zeros((n, c, hq * sh, wq * sw), dtype=x.dtype)
        rows, cols_ = min(h, hq * sh - ph), min(wd, wq * sw - pw)
        xpad[:, :, ph:ph + rows, pw:pw + cols_] = x[:, :, :rows, :cols_]
        blocks = np.ascontiguousarray(       # (G, N, Hq, Wq, C/G, sh, sw)
            xpad.reshape(n, groups, cg, hq, sh, wq, sw).transpose(1, 0, 3, 5, 2, 4, 6))
        inner = cg * sh * sw
        st = blocks.strides
        cols = np.lib.stride_tricks.as_strided(
            blocks, (groups, n, oh, ow, qh, qw * inner), (st[0], st[1], st[2], st[3], st[2], st[6]),
            writeable=False).reshape(groups, n * oh * ow, qh * qw * inner)     # the one big copy
        og = co // groups
        wpad = np.zeros((co, cg, qh * sh, qw * sw), dtype=w.dtype)
        wpad[:, :, :kh, :kw] = w
        wq_ = np.ascontiguousarray(          # (G, K = (Qh, Qw, C/G, sh, sw), C_out / G)
            wpad.reshape(groups, og, cg, qh, sh, qw, sw).transpose(0, 3, 5, 2, 4, 6, 1)
        ).reshape(groups, -1, og)
        z = np.matmul(cols, wq_).reshape(groups, n, oh, ow, og)
        y = np.ascontiguousarray(z.transpose(1, 0, 4, 2, 3)).reshape(n, co, oh, ow)
        if b is not None:
            y += b.reshape(1, co, 1, 1)
        need = self.needs_input_grad
        self.cols = cols if need[1] else None
        self.wq = wq_ if need[0] else None
        self.geom = (x.shape, w.shape, groups, stride, padding, (oh, ow), (qh, qw))
        return y

    def _batched_backward(self, gy):
        (n, c, h, wd), (co, cg, kh, kw), groups, (sh, sw), (ph, pw), (oh, ow), (qh, qw) = self.geom
        need = self.needs_input_grad
        og = co // groups
        gyt = np.ascontiguousarray(gy.reshape(n, groups, og, oh, ow).transpose(1, 0, 3, 4, 2)
                                   ).reshape(groups, n * oh * ow, og)
        gw = gx = gb = None
        if need[1]:
            gwq = np.matmul(gyt.transpose(0, 2, 1), self.cols)        # (G, C_out/G, K)
            gw = np.ascontiguousarray(
                gwq.reshape(groups, og, qh, qw, cg, sh, sw).transpose(0, 1, 4, 2, 5, 3, 6)
                .reshape(co, cg, qh * sh, qw * sw)[:, :, :kh, :kw])
        if need[0]:
            inner = cg * sh * sw
            gcols = np.matmul(gyt, self.wq.transpose(0, 2, 1)).reshape(groups, n, oh, ow, qh, qw, inner)
            hq, wq = oh + qh - 1, ow + qw - 1
            acc = np.zeros((groups, n, hq, wq, inner), dtype=gy.dtype)
            for a in range(qh):
                for t in range(qw):
                    acc[:, :, a:a + oh, t:t + ow] += gcols[:, :, :, :, a, t]
            full = acc.reshape(groups, n, hq, wq, cg, sh, sw).transpose(1, 0, 4, 2, 5, 3, 6
                                                                         ).reshape(n, c, hq * sh, wq * sw)
            rows, cols_ = min(h, hq * sh - ph), min(wd, wq * sw - pw)
            if rows == h and cols_ == wd:
                gx = np.ascontiguousarray(full[:, :, ph:ph + h, pw:pw + wd])
            else:                       # input rows / columns no window reached: zero gradient
                gx = np.zeros((n, c, h, wd), dtype=gy.dtype)
                gx[:, :, :rows, :cols_] = full[:, :, ph:ph + rows, pw:pw + cols_]
        if need[2] and not self.b_none:
            gb = gy.sum(axis=(0, 2, 3), dtype=np.float64).astype(gy.dtype)
        return gx, gw, gb, None, None, None

    def backward(self, gy):
        if self.batched:
            return self._batched_backward(gy)
        xp, groups = self.xp, len(self.parts)
        c_out = gy.shape[1] // groups
        got = [part.backward(gy[:, g * c_out:(g + 1) * c_out]) for g, part in enumerate(self.parts)]
        need = self.needs_input_grad
        gx = xp.concatenate([r[0] for r in got], axis=1) if need[0] else None
        gw = xp.concatenate([r[1] for r in got], axis=0) if need[1] else None
        gb = xp.concatenate([r[2] for r in got], axis=0) if need[2] and not self.b_none else None
        return gx, gw, gb, None, None, None

    def grad_graph(self, gy):
        x, w, b, kind, groups, geometry = self.inputs
        y = _grouped_composite(kind, x, w, b, groups, geometry)
        return _composite_grads(y, gy, (x, w, b)) + (None, None, None)


def _depthwise_fits(x: Tensor, weight: Tensor, groups: int) -> bool:
    """Whether a grouped conv2d takes DepthwiseConv: one input channel a group, float32 /
    float64 on the CPU, nothing empty."""
    a, w = x.array, weight.array
    return (groups == a.shape[1] and groups > 1 and isinstance(a, np.ndarray) and a.size > 0
            and a.dtype in (np.float32, np.float64) and isinstance(w, np.ndarray) and w.dtype == a.dtype)


class DepthwiseConv(Function):
    """conv2d with ``groups == C_in`` on the CPU: direct loops (:mod:`tensorgan.depthwise_kernels`)
    instead of a kernel call per channel; the composite of the plain kernel for double backward."""

    def forward(self, x, w, b, stride, padding, dilation):
        from .depthwise_kernels import conv
        self.x, self.w = np.ascontiguousarray(x), np.ascontiguousarray(w)
        self.geometry, self.b_none = (stride, padding, dilation), b is None
        return conv(self.x, self.w, b, *self.geometry)

    def backward(self, gy):
        from .depthwise_kernels import conv_grads
        need = self.needs_input_grad
        grads = conv_grads(self.x, self.w, np.ascontiguousarray(gy), *self.geometry,
                           (need[0], need[1], need[2] and not self.b_none))
        return grads + (None, None, None)

    def grad_graph(self, gy):
        x, w, b = self.inputs[:3]
        stride, padding, dilation = self.geometry
        y = _conv_options(Conv2d, x, w, b, (stride, padding), dilation, x.shape[1])
        return _composite_grads(y, gy, (x, w, b)) + (None, None, None)


def _wide_output_padding(x: Tensor, weight: Tensor, bias: Tensor | None, geometry: tuple,
                         dilation: tuple[int, int], groups: int) -> Tensor:
    """conv_transpose2d with output_padding >= stride (allowed when < dilation). The kernels'
    backward assumes output_padding < stride, so: the unpadded full output ``(H - 1) s + span``,
    cropped (or extended with zeros) to ``[padding, padding + size)``, plus the bias."""
    stride, padding, output_padding = geometry
    full = _conv_options(ConvTranspose2d, x, weight, None, (stride, (0, 0), (0, 0)), dilation, groups)
    amounts = []
    for axis in (1, 0):             # pad's order: the last dim first
        size = full.shape[2 + axis] - 2 * padding[axis] + output_padding[axis]
        amounts += [-padding[axis], padding[axis] + size - full.shape[2 + axis]]
    extended = pad(full, [max(a, 0) for a in amounts])     # zeros first: the crop never empties it
    y = pad(extended, [min(a, 0) for a in amounts])
    return y if bias is None else y + bias.reshape(1, -1, 1, 1)


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """1-D convolution of ``x (N, C_in, L)`` with ``weight (C_out, C_in / groups, k)``: conv2d on a
    height-1 image."""
    x = input   # (torch's name for the argument)
    if _unbatched(x, 3):
        return conv1d(x.unsqueeze(0), weight, bias, stride, padding, dilation, groups).squeeze(0)
    _check_rank("conv1d", "input", x, (3,), "(N, C, L) or unbatched (C, L)")
    _check_rank("conv1d", "weight", weight, (3,), "(C_out, C_in / groups, k)")
    stride, dilation = _single(stride, "stride", 1, "conv1d"), _single(dilation, "dilation", 1, "conv1d")
    padding = padding if padding in ("same", "valid") else (0, _single(padding, "padding", 0, "conv1d"))
    return _squeeze_conv_out(conv2d(x.unsqueeze(2), weight.unsqueeze(2), bias, (1, stride),
                                    padding, (1, dilation), groups))


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1,
                     dilation: Any = 1) -> Tensor:
    """1-D transposed convolution of ``x (N, C_in, L)``, ``weight (C_in, C_out / groups, k)``."""
    x = input   # (torch's name for the argument)
    if _unbatched(x, 3):
        return conv_transpose1d(x.unsqueeze(0), weight, bias, stride, padding, output_padding, groups,
                                dilation).squeeze(0)
    op = "conv_transpose1d"
    _check_rank(op, "input", x, (3,), "(N, C, L) or unbatched (C, L)")
    _check_rank(op, "weight", weight, (3,), "(C_in, C_out / groups, k)")
    stride, padding, output_padding, dilation = (
        _single(value, name, low, op) for value, name, low in (
            (stride, "stride", 1), (padding, "padding", 0), (output_padding, "output_padding", 0),
            (dilation, "dilation", 1)))
    return _squeeze_conv_out(conv_transpose2d(x.unsqueeze(2), weight.unsqueeze(2), bias, (1, stride),
                                              (0, padding), (0, output_padding), groups, (1, dilation)))


def _squeeze_conv_out(out: Tensor) -> Tensor:
    """A 1-D convolution's output: the height-1 image's ``squeeze(2)`` as torch's node name
    (ConvolutionBackward0, not SqueezeBackward1): the same node, renamed."""
    return _CONV_SQUEEZE.apply(out, out.shape[:2] + out.shape[3:])


def _single(value: Any, name: str, minimum: int, owner: str) -> int:
    """An int or a 1-tuple of ints (torch's ``_single``), >= minimum."""
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]
    if not _is_int(value):
        raise (FunctionalOptionError if isinstance(value, (tuple, list)) else ConfigError)(   # (a count:
            f"{owner}: {name} must be an int or a 1-tuple of ints, got {value!r}")   # torch's RuntimeError)
    return _pair(value, name, minimum, owner)[0]


def conv3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """3-D (volumetric) convolution of ``x (N, C_in, D, H, W)`` (or unbatched ``(C_in, D, H,
    W)``) with ``weight (C_out, C_in / groups, kD, kH, kW)``; ``padding`` ints or ``"same"``
    (stride 1) / ``"valid"``.  ``tensorgan.conv3d``: on the CPU the depth taps stacked as
    channels for the 2-D kernels, else one strided view of the windows and a matmul per group."""
    x = input   # (torch's name for the argument)
    if _unbatched(x, 5):
        return conv3d(x.unsqueeze(0), weight, bias, stride, padding, dilation, groups).squeeze(0)
    if _not_float_conv(x, weight):
        return _integer_conv("conv3d", conv3d, x, weight, bias, stride, padding, dilation, groups)
    op = "conv3d"
    stride, dilation = _triple(stride, "stride", 1, op), _triple(dilation, "dilation", 1, op)
    groups = _groups(op, groups)
    _check_rank(op, "weight", weight, (5,), "(C_out, C_in / groups, kD, kH, kW)")
    _check_conv(op, x, weight, bias, weight.shape[1] * groups, weight.shape[0], rank=5)
    _check_operand(op, "weight", weight, x)
    _check_divides(op, "output channels", weight.shape[0], groups)
    x, padding = _string_padding(op, x, weight, padding, stride, dilation)
    padding = _triple(padding, "padding", 0, op)
    out = []
    for n, k, s, p, d in zip(x.shape[2:], weight.shape[2:], stride, padding, dilation):
        if d * (k - 1) + 1 > n + 2 * p:
            raise ShapeError(f"{op}: kernel {weight.shape[2:]} (dilation {dilation}) is larger than "
                             f"the padded input {tuple(m + 2 * q for m, q in zip(x.shape[2:], padding))} "
                             f"(input {x.shape}, padding {padding})")
        out.append((n + 2 * p - d * (k - 1) - 1) // s + 1)
    return conv3d_ops.Conv3d.apply(x, weight, bias, (stride, padding, dilation, groups), tuple(out))


def conv_transpose3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1,
                     dilation: Any = 1) -> Tensor:
    """Transposed 3-D convolution (conv3d's adjoint, a voxel generator's upsampling layer) of
    ``x (N, C_in, D, H, W)`` (or unbatched) with ``weight (C_in, C_out / groups, kD, kH, kW)``;
    per dim the output is ``(D - 1) * stride - 2 * padding + dilation * (kD - 1) + 1 +
    output_padding``."""
    x = input   # (torch's name for the argument)
    if _unbatched(x, 5):
        return conv_transpose3d(x.unsqueeze(0), weight, bias, stride, padding, output_padding, groups,
                                dilation).squeeze(0)
    op = "conv_transpose3d"
    stride, padding = _triple(stride, "stride", 1, op), _triple(padding, "padding", 0, op)
    output_padding = _triple(output_padding, "output_padding", 0, op)
    dilation, groups = _triple(dilation, "dilation", 1, op), _groups(op, groups)
    _check_rank(op, "weight", weight, (5,), "(C_in, C_out / groups, kD, kH, kW)")
    _check_conv(op, x, weight, bias, weight.shape[0], weight.shape[1] * groups, rank=5)
    _check_operand(op, "weight", weight, x)
    _check_divides(op, "input channels", weight.shape[0], groups)
    out = []
    for n, k, s, p, op_, d in zip(x.shape[2:], weight.shape[2:], stride, padding, output_padding,
                                  dilation):
        if op_ >= max(s, d):                                    # torch's rule
            raise WindowArgError(f"{op}: output_padding {output_padding} must be smaller than stride "
                              f"{stride} or dilation {dilation}")
        out.append((n - 1) * s - 2 * p + d * (k - 1) + 1 + op_)
    if min(out) < 0:                                            # 0: an empty output, as torch
        raise ShapeError(f"{op}: output size {tuple(out)} has a size < 0 for input {x.shape}, weight "
                         f"{weight.shape}, stride {stride}, padding {padding}, dilation {dilation}")
    return conv3d_ops.ConvTranspose3d.apply(x, weight, bias, (stride, padding, dilation, groups),
                                            tuple(out))


# ---------------------------------------------------------------------------------------------
# Batch normalization
# ---------------------------------------------------------------------------------------------
class BatchNorm(Function):
    def forward(self, x, running_mean, running_var, weight, bias, training, momentum, eps):
        x = _contiguous(self, x)
        y, self.mean, self.invstd = self.device.kernels.batch_norm(
            x, running_mean, running_var, weight, bias, training, momentum, eps)
        self.x, self.weight, self.training = x, weight, training
        return y

    def backward(self, gy):
        gy = self.xp.ascontiguousarray(gy)
        gx, gw, gb = self.device.kernels.batch_norm_backward(
            gy, self.x, self.weight, self.mean, self.invstd, self.training)
        need = self.needs_input_grad
        return (gx if need[0] else None, None, None, gw if need[3] else None,
                gb if need[4] else None, None, None, None)

    def grad_graph(self, gy):
        x, rm, rv, weight, bias, training, _, eps = self.inputs
        y = _batch_norm_composite(x, rm, rv, weight, bias, training, eps)
        gx, gw, gb = _composite_grads(y, gy, (x, weight, bias))
        return gx, None, None, gw, gb, None, None, None


def _batch_norm_operands(op: str, x: Tensor, running_mean: Tensor | None,
                         running_var: Tensor | None, weight: Tensor | None, bias: Tensor | None,
                         training: bool, momentum: float, eps: float):
    """Check batch norm's arguments; return the kernel's ``(running_mean, running_var,
    use_batch_stats)``: the arrays to update in place (training) or to normalise with (eval)."""
    _check_rank(op, "input", x, (2, 3, 4, 5), "(N, C), (N, C, L), (N, C, H, W) or (N, C, D, H, W)")
    channels = x.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        _check_operand(op, name, t, x)
        if t is not None and t.shape != (channels,):
            raise ShapeError(f"{op}: {name} must have shape ({channels},) for input {x.shape}, "
                             f"got {t.shape}")
    if (running_mean is None) != (running_var is None):
        raise ConfigError(f"{op}: pass both running_mean and running_var, or neither")
    if not training and running_mean is None:
        raise FunctionalOptionError(f"{op}: training=False normalizes with running_mean and running_var, "
                          f"and none were given (pass them, or training=True for the batch's "
                          f"own statistics)")
    momentum, eps = _scalar(op, "momentum", momentum), _scalar(op, "eps", eps)
    if not 0.0 <= momentum <= 1.0 or eps <= 0:
        raise ConfigError(f"{op}: need 0 <= momentum <= 1 and eps > 0, got {momentum}, {eps}")
    use_batch_stats = bool(training)
    if channels == 0:
        raise IndexOutOfRangeError(f"{op}: the input has no channels (shape {x.shape}; torch: IndexError)")
    if use_batch_stats and x.array.size // channels <= 1:
        raise ShapeError(f"{op}: expected more than 1 value per channel when training, got "
                         f"input shape {x.shape}")
    rm = running_mean.array if running_mean is not None and training else None
    rv = running_var.array if running_var is not None and training else None
    if not use_batch_stats:
        rm, rv = running_mean.array, running_var.array
    return rm, rv, use_batch_stats


def _half_with_float32(x: Any, *params: Any) -> bool:
    """Whether a normalization gets a float16 input with float32 parameters / statistics (all of
    them that are given): torch's CPU "mixed dtype" norms (a CLIP ``convert_weights`` model's
    BatchNorm, a LayerNorm kept in float32) compute it in float32 and return float16."""
    if not isinstance(x, Tensor) or x.dtype != np.float16:
        return False
    given = [t for t in params if t is not None]
    return bool(given) and all(isinstance(t, Tensor) and t.dtype == np.float32 for t in given)


@_keeps_format
def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Batch normalization over ``(N, C)``, ``(N, C, L)`` or ``(N, C, H, W)``, per channel.

    Training: normalize with the batch mean and biased variance, and update ``running_mean`` /
    ``running_var`` in place (unbiased variance, ``momentum``). Eval: use the running statistics,
    which must then be given (as torch).  A weight or bias of another shape with ``C`` elements
    (torch checks the count) is taken as its ``(C,)`` view."""
    x = input   # (torch's name for the argument)
    if _half_with_float32(x, running_mean, running_var, weight, bias):
        return batch_norm(x.float(), running_mean, running_var, weight, bias, training, momentum,
                          eps).half()
    _float_only("batch_norm", x)
    if x.ndim >= 2:
        weight, bias = _per_channel(x, weight), _per_channel(x, bias)
    rm, rv, use_batch_stats = _batch_norm_operands("batch_norm", x, running_mean, running_var,
                                                   weight, bias, training, momentum, eps)
    x4 = _as_4d(x)
    y = _batch_norm_applied(BatchNorm, x4, rm, rv, weight, bias, use_batch_stats, float(momentum), float(eps))
    return y if x4 is x else y.reshape(x.shape)


def _per_channel(x: Tensor, t: Tensor | None) -> Tensor | None:
    """``t`` as ``(C,)`` when it holds x's C channels in another shape (``(C, 1)``): torch's
    batch norm checks only the element count of its weight and bias."""
    if isinstance(t, Tensor) and t.ndim != 1 and t.size == x.shape[1]:
        return t.reshape(x.shape[1])
    return t


def _batch_norm_applied(cls: type, x4: Tensor, rm, rv, *rest: Any) -> Tensor:
    """``cls.apply`` with the running statistics as the kernels take them: float16 ones (a
    ``.half()`` model, whose input is computed in float32 by Function.apply) are used and updated
    in float32 copies, then written back, as torch's CPU half batch norm keeps them in half."""
    if rm is None or rm.dtype != np.float16:
        return cls.apply(x4, rm, rv, *rest)
    rm32, rv32 = rm.astype(np.float32), rv.astype(np.float32)
    y = cls.apply(x4, rm32, rv32, *rest)
    rm[...], rv[...] = rm32, rv32
    return y


def _as_4d(x: Tensor) -> Tensor:
    """The kernels take (N, C) or (N, C, H, W): a sequence (N, C, L) goes as (N, C, L, 1), a
    volume (N, C, D, H, W) as (N, C, D * H, W) (the statistics are per channel either way)."""
    if x.ndim == 5:
        return x.reshape(x.shape[0], x.shape[1], x.shape[2] * x.shape[3], x.shape[4])
    return x.reshape(*x.shape, 1) if x.ndim == 3 else x


class BatchNormLeakyReLU(Function):
    """``leaky_relu(batch_norm(x))`` as one op.  Saves what BatchNorm saves (x, mean, invstd) and
    no pre-activation: the backward kernel recomputes it for the leaky ReLU's mask."""

    def forward(self, x, running_mean, running_var, weight, bias, training, momentum, eps,
                negative_slope):
        x = _contiguous(self, x)
        y, self.mean, self.invstd = self.device.kernels.batch_norm_leaky_relu(
            x, running_mean, running_var, weight, bias, training, momentum, eps, negative_slope)
        self.x, self.weight, self.bias, self.training = x, weight, bias, training
        self.slope = negative_slope
        return y

    def backward(self, gy):
        gy = self.xp.ascontiguousarray(gy)
        gx, gw, gb = self.device.kernels.batch_norm_leaky_relu_backward(
            gy, self.x, self.weight, self.bias, self.mean, self.invstd, self.training, self.slope)
        need = self.needs_input_grad
        return (gx if need[0] else None, None, None, gw if need[3] else None,
                gb if need[4] else None, None, None, None, None)

    def grad_graph(self, gy):
        x, rm, rv, weight, bias, training, _, eps, slope = self.inputs
        y = leaky_relu(_batch_norm_composite(x, rm, rv, weight, bias, training, eps), slope)
        gx, gw, gb = _composite_grads(y, gy, (x, weight, bias))
        return gx, None, None, gw, gb, None, None, None, None


def _batch_norm_composite(x: Tensor, running_mean, running_var, weight, bias, use_batch_stats: bool,
                          eps: float) -> Tensor:
    """Batch norm made of Tensor ops (graph mode only: the kernels are the fast path).  Running
    statistics are constants; the batch's own mean and variance are functions of x."""
    shape = (1, -1) + (1,) * (x.ndim - 2)
    if use_batch_stats:
        axes = (0,) + tuple(range(2, x.ndim))
        centered = x - x.mean(axis=axes, keepdims=True)
        y = centered * ((centered * centered).mean(axis=axes, keepdims=True) + eps) ** -0.5
    else:
        y = (x - running_mean.reshape(shape)) * ((running_var.reshape(shape) + eps) ** -0.5)
    if weight is not None:
        y = y * weight.reshape(shape)
    return y if bias is None else y + bias.reshape(shape)


def _composite_grads(y: Tensor, gy: Tensor, operands: tuple) -> tuple:
    """The gradients (with their own graph) of the recomputed output ``y`` with respect to each
    operand that requires grad; None for the others."""
    wanted = [t for t in operands if isinstance(t, Tensor) and t._requires_grad]
    got = _run_backward([y], [gy], retain_graph=True, create_graph=True, inputs=wanted,
                        run_hooks=False)
    return tuple(got.get(id(t)) if isinstance(t, Tensor) else None for t in operands)


def batch_norm_leaky_relu(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
                          weight: Tensor | None = None, bias: Tensor | None = None,
                          training: bool = False, momentum: float = 0.1, eps: float = 1e-5,
                          negative_slope: float = 0.01) -> Tensor:
    """``leaky_relu(batch_norm(x, ...), negative_slope)`` in one fused kernel per direction (the
    DCGAN's BatchNorm + LeakyReLU pairs; ``nn.Sequential`` uses it for them).  Same arguments,
    checks and running-statistics update as :func:`batch_norm`."""
    x = input   # (torch's name for the argument)
    if _half_with_float32(x, running_mean, running_var, weight, bias):
        return batch_norm_leaky_relu(x.float(), running_mean, running_var, weight, bias, training,
                                     momentum, eps, negative_slope).half()
    rm, rv, use_batch_stats = _batch_norm_operands("batch_norm_leaky_relu", x, running_mean,
                                                   running_var, weight, bias, training, momentum,
                                                   eps)
    x4 = _as_4d(x)
    y = _batch_norm_applied(BatchNormLeakyReLU, x4, rm, rv, weight, bias, use_batch_stats, float(momentum),
                            float(eps), _scalar("batch_norm_leaky_relu", "negative_slope", negative_slope))
    return y if x4 is x else y.reshape(x.shape)


# ---------------------------------------------------------------------------------------------
# Activations
# ---------------------------------------------------------------------------------------------
class LeakyReLU(Function):
    refuses_int = True      # torch: "leaky_relu_cpu" not implemented for 'Long'
    # reshape(shape): ascontiguousarray makes a 0-d array 1-d, the kernels keep what they get
    # A dense x in another order (channels_last) is read in its memory order, the result laid
    # out as x (torch's layout, no copy either way): self.order is that order, else None.
    def forward(self, x, negative_slope):
        self.slope, self.shape, self.order = negative_slope, x.shape, None
        if not x.flags.c_contiguous and x.ndim > 1:
            order = memory_formats.dense_order(x)
            self.order = None if order is None or list(order) == list(range(x.ndim)) else order
        self.x = _contiguous(self, x if self.order is None else x.transpose(self.order))
        return self._logical(self.device.kernels.leaky_relu(self.x, negative_slope))

    def _logical(self, a):
        """``a``, in self.x's order, as an array of x's shape."""
        return a.reshape(self.shape) if self.order is None else a.transpose(np.argsort(self.order))

    def backward(self, gy):
        gy = self.xp.ascontiguousarray(gy if self.order is None else gy.transpose(self.order))
        return self._logical(self.device.kernels.leaky_relu_backward(gy, self.x, self.slope)), None

    def grad_graph(self, gy):
        t = self.x.dtype.type    # (in x's dtype: Python floats would make a float64 temporary)
        slope = self._logical(self.xp.where(self.x > 0, t(1.0), t(self.slope)))  # (0-d x: 1-d self.x)
        return ops.with_zero_edge(ops.constant_times(gy, slope), self.inputs[0]), None


class _LeakyReLUInPlace(LeakyReLU):
    """``leaky_relu(x, slope, inplace=True)`` / ``leaky_relu_``: torch's node LeakyReluBackward1.
    Its backward reads the result, which for a negative slope no longer tells x's sign, so torch
    refuses that backward (the forward runs): refused here too, with torch's message."""

    def name(self) -> str:
        return "LeakyReluBackward1"

    def _check_slope(self) -> None:
        if self.slope < 0:
            raise AutogradError(
                "In-place leakyReLu backward calculation is triggered with a negative slope which "
                "is not supported. This is caused by calling in-place forward function with a "
                f"negative slope ({self.slope}), please call out-of-place version instead (as "
                "torch, refused)")

    def backward(self, gy):
        self._check_slope()
        return super().backward(gy)

    def grad_graph(self, gy):
        self._check_slope()
        return super().grad_graph(gy)


def _node(base: type, torch_name: str) -> type:
    """Op ``base`` under torch's node name for a composite activation: its last step built with
    this subclass (``.apply`` in place of the operator: no extra work), so ``grad_fn.name()``
    is torch's (GeluBackward0, not MulBackward0); values and gradients are ``base``'s."""
    return type(torch_name[:-len("Backward0")], (base,),
                {"name": lambda self: torch_name, "__module__": __name__,
                 "__doc__": f"{base.__name__}, named {torch_name} as torch's grad_fn."})


_SELU, _HARDSIGMOID = _node(ops.Mul, "EluBackward0"), _node(ops.Mul, "HardsigmoidBackward0")
# a convolution's last step when it is a reshape (1-D) or a relayout (channels_last input)
_CONV_SQUEEZE = _node(ops.Squeeze, "ConvolutionBackward0")
_CONV_RELAYOUT = _node(ops.Relayout, "ConvolutionBackward0")
class _SavingWhere(ops.Where):
    """Where as an activation's node (EluBackward0, ...): torch's saves the activation's input, so
    that input written in place after the op is refused (plain where saves the condition only)."""
    reads_inputs = True


class _MaskWhere(_SavingWhere):
    """``where(mask of x, x-ish, ...)`` for an activation whose derivative is piecewise constant
    (hardtanh, threshold, the shrinks, prelu's input): in graph mode the first operand's gradient
    keeps the zero-derivative edge to that operand that torch's double backward has
    (``ops.with_zero_edge``)."""

    def grad_graph(self, g):
        ga, gb, gc = super().grad_graph(g)
        return (None if ga is None else ops.with_zero_edge(ga, self.inputs[0])), gb, gc


_SAVING_WHERE = _node(_SavingWhere, "WhereBackward0")   # (hardswish's: it takes x itself)
_ELU, _CELU, _HARDSWISH = (_node(_SavingWhere, n) for n in (
    "EluBackward0", "CeluBackward0", "HardswishBackward0"))
_HARDTANH, _THRESHOLD = (_node(_MaskWhere, n) for n in ("HardtanhBackward0", "ThresholdBackward0"))
_LOGSIGMOID = _node(ops.Neg, "LogSigmoidBackward0")
_HARDSHRINK, _PRELU = (_node(_MaskWhere, n) for n in ("HardshrinkBackward0", "PreluKernelBackward0"))
_GLU = _node(ops.Mul, "GluBackward0")


class _PreluSlopeTimes(ops.Mul):
    """prelu's ``x * slope`` branch: Mul, whose graph-mode gradients see x == 0 as torch's prelu
    double backward does -- there the first derivatives are Mul's (d/dx the slope, d/dslope
    x = 0), but neither depends on the other input (torch masks x < 0 strictly there, while its
    first derivative takes the slope at 0)."""

    def name(self) -> str:
        return "MulBackward0"

    def grad_graph(self, g):
        x, slope = self.inputs
        nonzero = x.array != 0
        x_eff = ops.Where.apply(x, 0.0, nonzero)            # x, with no edge where x == 0
        slope_eff = ops.Where.apply(slope, slope.detach(), nonzero)
        need = self.needs_input_grad
        gx = ops.unbroadcast(g * slope_eff, x.shape) if need[0] else None
        gs = ops.unbroadcast(g * x_eff, slope.shape) if need[1] else None
        return gx, gs


def _maybe_in_place(op: str, x: Tensor, inplace: bool, compute: Callable[[Tensor], Tensor]) -> Tensor:
    """torch's ``inplace=True`` of an activation: ``compute(x)`` written into ``x``, which is
    returned (on a tensor autograd tracks, a graph op, by the rules of ``Tensor._in_place``, as
    ``x.relu_()``: views and base see the write, a view of a leaf that requires grad is refused,
    a tensor's gradient hooks see the gradient of the value written over, as in torch). A leaf
    that requires grad is refused, as in torch."""
    if not isinstance(inplace, (bool, np.bool_)):
        raise InputTypeError(f"{op}: inplace must be a bool, got {inplace!r}")
    if not inplace:
        return compute(x)
    if not isinstance(x, Tensor):
        raise InputTypeError(f"{op}: input must be a Tensor, got {type(x).__name__}")
    return x._in_place_from(op + "_", compute)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``x`` where x >= 0, ``negative_slope * x`` elsewhere (fused elementwise kernel);
    ``inplace=True`` writes it into x (see :func:`_maybe_in_place`)."""
    x = input   # (torch's name for the argument)
    _check_rank("leaky_relu", "input", x, range(0, 33), "a tensor")
    slope = _scalar("leaky_relu", "negative_slope", negative_slope)
    op = _LeakyReLUInPlace if inplace else LeakyReLU
    return _maybe_in_place("leaky_relu", x, inplace, lambda t: op.apply(t, slope))


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0), NaN kept; ``inplace=True`` writes it into x."""
    x = input   # (torch's name for the argument)
    return _maybe_in_place("relu", x, inplace, ops.Relu.apply)


def sigmoid(input: Tensor) -> Tensor:
    x = input   # (torch's name for the argument)
    return ops.Sigmoid.apply(x)


def tanh(input: Tensor) -> Tensor:
    x = input   # (torch's name for the argument)
    return ops.Tanh.apply(x)


# ---------------------------------------------------------------------------------------------
# More activations, composed of the ops above (their gradients, and gradients of gradients, come
# from those ops) -- except softplus (one op, so its derivative at 0 is exactly sigmoid(0)) and
# GELU's normal CDF (erf has no NumPy ufunc).
# ---------------------------------------------------------------------------------------------
class Softplus(Function):
    """log(1 + exp(beta x)) / beta, computed as relu(z) + log1p(exp(-|z|)) (no overflow); x
    itself where beta x > threshold (torch's linear region).  Derivative: sigmoid(beta x)."""
    refuses_int = True

    def forward(self, x, beta, threshold):
        xp = self.xp
        z = x if beta == 1 else x * x.dtype.type(beta)      # (x * 1 and s / 1 are x and s exactly)
        self.z, self.beta, self.threshold = z, beta, threshold
        soft = xp.maximum(z, 0) + xp.log1p(xp.exp(-xp.abs(z)))
        if beta != 1:
            soft /= x.dtype.type(beta)
        return xp.where(z > threshold, x, soft)

    def backward(self, g):
        xp = self.xp
        slope = 1 / (1 + xp.exp(-self.z))
        return xp.where(self.z > self.threshold, g, g * slope), None, None

    def grad_graph(self, g):
        linear = self.z > self.threshold
        slope = ops.Sigmoid.apply(self.inputs[0] * self.beta)
        edge = self.z == self.threshold
        if not edge.any():
            return ops.constant_times(g * slope, ~linear) + ops.constant_times(g, linear), None, None
        # at beta x == threshold the slope is sigmoid's, but torch's double backward masks
        # beta x < threshold: the slope there is a constant
        return (ops.constant_times(g * slope, ~(linear | edge)) + ops.constant_times(g * slope.detach(), edge)
                + ops.constant_times(g, linear)), None, None


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``torch.nn.functional.softplus``: a smooth relu; ``softplus(-D(x))`` is the
    non-saturating GAN loss on logits (StyleGAN's form)."""
    x = input   # (torch's name for the argument)
    beta, threshold = _scalar("softplus", "beta", beta), _scalar("softplus", "threshold", threshold)
    if beta == 0:
        raise ConfigError("softplus: beta must be nonzero")
    return Softplus.apply(x, beta, threshold)


_SPECIAL_UFUNCS: dict = {}


def _special_ufunc(xp, name: str, scalar):
    """math.``name`` elementwise: NumPy has none, so a Numba ufunc over ``scalar`` on the CPU
    (compiled on first use, cached on disk); cupyx.scipy.special's on the GPU."""
    if xp is not np:
        import cupyx.scipy.special
        return getattr(cupyx.scipy.special, name)
    if name not in _SPECIAL_UFUNCS:
        import numba
        _SPECIAL_UFUNCS[name] = numba.vectorize(["float32(float32)", "float64(float64)"],
                                                cache=True)(scalar)
    return _SPECIAL_UFUNCS[name]


def _erf(xp, x):
    return _special_ufunc(xp, "erf", lambda v: math.erf(v))(x)


def _erfc(xp, x):
    return _special_ufunc(xp, "erfc", lambda v: math.erfc(v))(x)


def _normal_cdf(xp, x):
    """Phi(x) = erfc(-x / sqrt 2) / 2: relatively accurate in the lower tail too, where
    (1 + erf) / 2 rounds to 0 (float64: below x ~ -8.3) or loses digits long before."""
    return _erfc(xp, x * x.dtype.type(-1 / math.sqrt(2))) * x.dtype.type(0.5)


class NormalCdf(Function):
    """Phi(x) = erfc(-x / sqrt 2) / 2, the standard normal CDF; its derivative is the
    density phi(x) = exp(-x^2 / 2) / sqrt(2 pi), itself composed of ops (so differentiable)."""

    def forward(self, x):
        self.x = x
        return _normal_cdf(self.xp, x)

    def backward(self, g):
        x = self.x
        return (g * self.xp.exp(x * x * x.dtype.type(-0.5)) * x.dtype.type(1 / math.sqrt(2 * math.pi)),)

    def grad_graph(self, g):
        x = self.inputs[0]
        return (g * (x * x * -0.5).exp() * (1 / math.sqrt(2 * math.pi)),)


def _times_gradient(r: Any, g: Any) -> Any:
    """``g * r`` -- ``r`` (laid out as the input) in place where g has its layout; else in g's
    layout, as torch's gelu / silu backward (g its TensorIterator's first operand; a broadcast g
    -- a sum's -- takes part in no order: r's kept)."""
    if g.strides != r.strides and 0 not in g.strides:
        return memory_formats.in_iterator_order(np.multiply, g, r, (g, r))
    r *= g
    return r


class Gelu(Function):
    """``x * Phi(x)`` (or torch's tanh form) as one node, torch's GeluBackward0: the CDF (or the
    tanh) is computed once and kept for backward, ``g * (Phi(x) + x phi(x))`` -- where the
    composite form made three nodes (nine for tanh) and their temporaries.  Float32 on the CPU
    takes :mod:`activation_kernels`' vectorized pass, which keeps the derivative itself."""

    def forward(self, x, approximate):
        xp, t = self.xp, x.dtype.type
        self.x, self.approximate = x, approximate
        if approximate == "tanh":
            inner = x * x
            inner *= t(0.044715)
            inner += 1
            inner *= x * t(math.sqrt(2 / math.pi))
            self.tanh = xp.tanh(inner)
            return (self.tanh + 1) * (x * t(0.5))     # (halved first, as torch's: 2x may overflow)
        if xp is np and x.dtype == np.float32 and x.shape:
            from .activation_kernels import gelu_forward
            # (its derivative, Phi(x) + x phi(x), kept for backward; not computed under no_grad)
            y, self.slope = gelu_forward(x, self.needs_input_grad[0])
            return y
        self.slope, self.cdf = None, _normal_cdf(xp, x)
        return x * self.cdf

    def backward(self, g):
        x, t = self.x, self.x.dtype.type
        if self.approximate == "tanh":
            # d/dx 0.5 x (1 + tanh(u)) = 0.5 (1 + tanh) + 0.5 x (1 - tanh^2) u'
            th = self.tanh
            du = x * x
            du *= t(3 * 0.044715)
            du += 1
            du *= x * t(math.sqrt(2 / math.pi))     # x u'
            r = th * th
            r -= 1
            r *= du
            r -= th
            r -= 1
            r *= t(-0.5)
        elif self.slope is not None:
            if g.dtype == np.float32 and g.shape == x.shape:
                from .activation_kernels import gelu_backward
                return gelu_backward(self.slope, g), None
            r = self.slope.copy()
        else:
            r = x * x
            r *= t(-0.5)
            r = self.xp.exp(r)
            r *= x * t(1 / math.sqrt(2 * math.pi))
            r += self.cdf
        return _times_gradient(r, g), None


    def grad_graph(self, g):
        x = self.inputs[0]
        if self.approximate == "tanh":
            k = math.sqrt(2 / math.pi)
            th = ((x + 0.044715 * x * x * x) * k).tanh()
            du = (1.0 + (3 * 0.044715) * x * x) * k
            return g * (0.5 * (1.0 + th) + 0.5 * x * (1.0 - th * th) * du), None
        pdf = (x * x * -0.5).exp() * (1 / math.sqrt(2 * math.pi))
        return g * (NormalCdf.apply(x) + x * pdf), None


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """``torch.nn.functional.gelu``: x * Phi(x) (``approximate="tanh"``: torch's tanh form)."""
    x = input   # (torch's name for the argument)
    _float_only("gelu", x)
    if approximate not in ("none", "tanh"):
        raise FunctionalOptionError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return Gelu.apply(x, approximate)


class Silu(Function):
    """``x * sigmoid(x)`` as one node, torch's SiluBackward0 (the composite form made two, and
    their temporaries): sigmoid kept for backward, ``g * s * (1 + x (1 - s))``; the sigmoid is
    :func:`ops.stable_sigmoid` (0 and x for large |x|, no overflow warnings)."""

    def forward(self, x):
        self.x = x
        self.s = ops.stable_sigmoid(x, self.xp)
        return x * self.s

    def backward(self, g):
        x, s = self.x, self.s
        r = 1 - s                  # one new array, the rest in place
        r *= x
        r += 1
        r *= s
        return (_times_gradient(r, g),)

    def grad_graph(self, g):
        x = self.inputs[0]
        s = ops.Sigmoid.apply(x)
        return (g * s * (1.0 + x * (1.0 - s)),)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x * sigmoid(x) (swish), one node."""
    x = input   # (torch's name for the argument)
    _float_only("silu", x)
    return _maybe_in_place("silu", x, inplace, Silu.apply)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x where x > 0, else alpha * expm1(x) (NaN takes x's branch, as torch's)."""
    x = input   # (torch's name for the argument)
    _float_only("elu", x)
    alpha = _scalar("elu", "alpha", alpha)
    return _maybe_in_place("elu", x, inplace,
                           lambda t: _ELU.apply(_NegativeExpm1.apply(t, alpha, 1.0), t, (t <= 0).array))


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """x clamped to [min_val, max_val]; gradient 0 at and beyond the bounds, 1 elsewhere, NaN
    included (torch's, which differs from clamp's at the bounds)."""
    x = input   # (torch's name for the argument)
    lo, hi = _scalar("hardtanh", "min_val", min_val), _scalar("hardtanh", "max_val", max_val)
    if lo > hi:
        raise ConfigError(f"hardtanh: min_val {lo} is above max_val {hi}")
    lo, hi = _in_dtype_of(x, lo, hi)
    return _maybe_in_place("hardtanh", x, inplace,
                           lambda t: _HARDTANH.apply(t, t.detach().clip(lo, hi), ~((t <= lo) | (t >= hi)).array))


def _clip_inside(t: Tensor, lo: float, hi: float) -> Tensor:
    """t clipped to [lo, hi], gradient 1 strictly inside only (NaN gets none: hardsigmoid's rule,
    where hardtanh's passes NaN's gradient)."""
    return _HARDTANH.apply(t, t.detach().clip(lo, hi), ((t > lo) & (t < hi)).array)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6) (MobileNet's; hardtanh's gradient rule at the bounds)."""
    x = input   # (torch's name for the argument)
    return hardtanh(x, 0.0, 6.0, inplace)


def logsigmoid(input: Tensor) -> Tensor:
    """log(sigmoid(x)) = -softplus(-x), finite for any x."""
    x = input   # (torch's name for the argument)
    _float_only("logsigmoid", x)
    if not x.array.flags.c_contiguous:
        x = x.contiguous()                # torch's result is C order whatever x's layout
    return _LOGSIGMOID.apply(softplus(-x))


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x where x > 0, ``weight * x`` elsewhere: a leaky ReLU whose slope is learned, one per
    channel (dim 1) or one shared (torch.nn.functional.prelu)."""
    x = input   # (torch's name for the argument)
    _check_rank("prelu", "weight", weight, (0, 1), "(1,) or (C,)")
    _one_dtype("prelu", input=x, weight=weight)
    channels = weight.numel()
    if channels != 1 and (x.ndim < 2 or x.shape[1] != channels):
        raise ShapeError(f"prelu: {channels} slopes need an input with {channels} channels in dim 1, "
                         f"got shape {x.shape}")
    slope = weight.reshape((1, channels) + (1,) * (x.ndim - 2)) if channels != 1 else weight.reshape(())
    return _PRELU.apply(x, _PreluSlopeTimes.apply(x, slope), (x > 0).array)


# ---------------------------------------------------------------------------------------------
# torch's other activations, composed of Tensor ops (gradients and gradients of gradients come
# from those ops).  Where a function has a kink, ``where`` picks the branch whose derivative is
# torch's there (checked side by side against torch 2.13's backward formulas).
# ---------------------------------------------------------------------------------------------
SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


class _NegativeExpm1(Function):
    """alpha * expm1(input_scale * min(x, 0)): the negative branch of ELU, SELU and CELU (min:
    no overflow where the branch is unused), with torch's derivatives at the kink -- the first
    alpha * input_scale at 0 (exp's side), the second 0 there (torch's elu double backward masks
    x < 0) -- and no gradient to NaN, which takes x's branch."""

    def forward(self, x, alpha, input_scale):
        self.x, self.alpha, self.input_scale = x, alpha, input_scale
        t = x.dtype.type
        return self.xp.expm1(self.xp.minimum(t(0), x) * t(input_scale)) * t(alpha)   # (-0.0 kept)

    def backward(self, g):
        xp, x, t = self.xp, self.x, self.x.dtype.type
        slope = xp.exp(xp.minimum(x, t(0)) * t(self.input_scale)) * t(self.alpha * self.input_scale)
        return xp.where(x <= 0, g * slope, t(0)), None, None

    def grad_graph(self, g):
        x, x_array = self.inputs[0], self.x
        peak = self.alpha * self.input_scale        # the slope at 0, a constant: second derivative 0
        slope = ops.Where.apply((x.clip(max=0.0) * self.input_scale).exp() * peak, peak, x_array < 0)
        return ops.Where.apply(g * slope, 0.0, x_array <= 0), None, None


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """scale * (x where x > 0, else alpha (exp(x) - 1)), torch's SELU constants."""
    x = input   # (torch's name for the argument)
    _float_only("selu", x)
    from .factory import where
    return _maybe_in_place("selu", x, inplace,
                           lambda t: _SELU.apply(where(t <= 0, _NegativeExpm1.apply(t, SELU_ALPHA, 1.0), t), SELU_SCALE))


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x where x > 0, else alpha (exp(x / alpha) - 1) (alpha != 0)."""
    x = input   # (torch's name for the argument)
    _float_only("celu", x)
    alpha = _scalar("celu", "alpha", alpha)
    if alpha == 0:
        raise FunctionalOptionError("celu: alpha must be nonzero (it divides x)")
    return _maybe_in_place("celu", x, inplace,
                           lambda t: _CELU.apply(_NegativeExpm1.apply(t, alpha, 1.0 / alpha), t, (t <= 0).array))


class Mish(Function):
    """``x * tanh(softplus(x))`` as one node, torch's MishBackward0 (the composite form made
    three): tanh(softplus) kept for backward, ``g * (t + x (1 - t^2) sigmoid(x))``."""

    def forward(self, x):
        xp = self.xp
        sp = xp.exp(-xp.abs(x))     # softplus(x) = max(x, 0) + log1p(exp(-|x|)): never overflows
        sp = xp.log1p(sp)
        sp += xp.maximum(x, x.dtype.type(0))
        self.x, self.t = x, xp.tanh(sp)
        return x * self.t

    def backward(self, g):
        x, th = self.x, self.t
        r = th * th
        r -= 1
        r *= x
        r *= ops.stable_sigmoid(x, self.xp)
        r -= th                   # -(t + x (1 - t^2) sigmoid)
        r *= g
        return (-r,)

    def grad_graph(self, g):
        x = self.inputs[0]
        th = softplus(x).tanh()
        return (g * (th + x * (1.0 - th * th) * ops.Sigmoid.apply(x)),)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * tanh(softplus(x)), one node."""
    x = input   # (torch's name for the argument)
    _float_only("mish", x)
    return _maybe_in_place("mish", x, inplace, Mish.apply)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * relu6(x + 3) / 6; derivative x / 3 + 1/2 on (-3, 3), 0 at -3 and 1 at 3 (torch's);
    -0.0 at and below -3, NaN at -inf (0 * -inf), as torch's."""
    x = input   # (torch's name for the argument)
    _float_only("hardswish", x)
    return _maybe_in_place("hardswish", x, inplace, _hardswish)


def _hardswish(t: Tensor) -> Tensor:
    middle, low = t < 3.0, t <= -3.0
    # the product sees 0 outside (-3, 3) (NaN, +-inf): its unused branch's zero gradient times
    # inf or NaN would make x's gradient NaN there (torch's is 1 at NaN / inf, 0 at -inf)
    u = t.masked_fill(~middle | low, 0.0)
    at_low = t.detach() * 0.0    # x * 0: -0.0, NaN at -inf (torch: x * relu6(x + 3) / 6)
    inside = _SAVING_WHERE.apply(u * (u + 3.0) * (1 / 6), t, middle.array)  # (t written in place: refused)
    return _HARDSWISH.apply(at_low, inside, low.array)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """relu6(x + 3) / 6; derivative 1/6 strictly inside (-3, 3), 0 at and beyond, as torch's."""
    x = input   # (torch's name for the argument)
    _float_only("hardsigmoid", x)
    return _maybe_in_place("hardsigmoid", x, inplace, lambda t: _HARDSIGMOID.apply(_clip_inside(t + 3.0, 0.0, 6.0), 1 / 6))


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|)."""
    x = input   # (torch's name for the argument)
    return x / (x.abs() + 1.0)


def tanhshrink(input: Tensor) -> Tensor:
    """x - tanh(x)."""
    x = input   # (torch's name for the argument)
    return x - x.tanh()


def _shrink(op: str, x: Tensor, lambd: float, shift: bool) -> Tensor:
    """0 on [-lambd, lambd] (derivative 0 there, at the edges too, as torch's); outside, x (hard)
    or x moved toward 0 by lambd (soft). A negative lambd: torch refuses it for soft; hard keeps
    every x (no |x| is below it), as torch's."""
    lambd = _threshold(op, "lambd", lambd, positive=False) if shift else _scalar(op, "lambd", lambd)
    _check_rank(op, "input", x, range(0, 33), "a tensor")
    # NaN is outside [-lambd, lambd] (kept, as torch's); soft's middle is x * 0 (NaN stays NaN)
    if not shift:
        return _HARDSHRINK.apply(x, 0.0, ~((x >= -lambd) & (x <= lambd)).array)
    _check_softshrink_lambd(lambd, x.dtype)
    return _Softshrink.apply(x, lambd)


def _check_softshrink_lambd(lambd: float, dtype) -> None:
    """torch's softshrink refuses a lambd above its input dtype's largest value (inf too)."""
    largest = float(np.finfo(np.dtype(dtype)).max) if np.dtype(dtype).kind == "f" else None
    if largest is not None and lambd > largest:
        raise FunctionalOptionError(f"softshrink: lambd must be in [0, {largest:g}] for a "
                                    f"{np.dtype(dtype)} input, got {lambd}")


class _Softshrink(Function):
    """softshrink as one node, as torch's SoftshrinkBackward0: it holds x, so x written in place
    after the op makes backward refuse (the old composite's last node held x - lambd)."""
    takes_half = True

    def forward(self, x, lambd):
        xp, half = self.xp, x.dtype.itemsize == 2
        wide = x.astype(np.float32) if half else x     # torch computes a 2-byte float in float32
        lambd = wide.dtype.type(lambd)
        # NaN is outside [-lambd, lambd] (kept, gradient 1), as torch's; the middle is x * 0
        self.keep = ~((wide >= -lambd) & (wide <= lambd))
        y = xp.where(wide > lambd, wide - lambd, xp.where(wide < -lambd, wide + lambd, wide * 0))
        return y.astype(x.dtype) if half else y

    def name(self) -> str:
        return "SoftshrinkBackward0"

    def backward(self, g):
        return select(self.xp, g, self.keep), None

    def grad_graph(self, g):      # torch's double backward: softshrink_backward of gg, x's zero
        return ops.with_zero_edge(ops.Where.apply(g, 0.0, self.keep), self.inputs[0]), None


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x - lambd above lambd, x + lambd below -lambd, 0 between."""
    x = input   # (torch's name for the argument)
    _float_only("softshrink", x)
    return _shrink("softshrink", x, lambd, shift=True)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x where |x| > lambd, 0 elsewhere."""
    x = input   # (torch's name for the argument)
    _float_only("hardshrink", x)
    return _shrink("hardshrink", x, lambd, shift=False)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """x where x > threshold, ``value`` where x <= threshold (derivative 0 there, as torch's; NaN
    stays NaN, its gradient passed)."""
    x = input   # (torch's name for the argument)
    _check_rank("threshold", "input", x, range(0, 33), "a tensor")
    bound, fill = _in_dtype_of(x, _scalar("threshold", "threshold", threshold),
                               _scalar("threshold", "value", value))
    # not (x <= threshold), as torch's kernel: NaN stays NaN (gradient 1), not ``value``
    return _maybe_in_place("threshold", x, inplace, lambda t: _THRESHOLD.apply(t, fill, ~(t <= bound).array))


_threshold_op = threshold     # threshold_'s argument named ``threshold`` (torch's) hides the function


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """Gated linear unit: the first half of ``dim`` times the sigmoid of the second half."""
    x = input   # (torch's name for the argument)
    _float_only("glu", x)
    _check_rank("glu", "input", x, range(1, 33), "at least 1-D (glu does not take 0-D tensors)")
    axis = x._dim(dim, "glu")
    if x.shape[axis] % 2:
        raise ShapeError(f"glu: halving dimension must be even, but dim {dim} of input {x.shape} "
                         f"is size {x.shape[axis]}")
    half = x.shape[axis] // 2
    a, b = x.narrow(axis, 0, half), x.narrow(axis, half, half)
    return _GLU.apply(a, b.sigmoid())


def _legacy_softmax_dim(op: str, x: Tensor, dim: int | None) -> int:
    """torch's dim for softmax-like ops given ``dim=None``: 0 for 0-, 1- and 3-D input, else 1
    (torch warns that this implicit choice is deprecated; the warning points at the user's line
    whatever the entry point, so the public ``_stacklevel`` arguments are accepted, unused)."""
    if dim is not None:
        return dim
    import warnings
    warnings.warn(f"{op}: implicit dimension choice is deprecated; pass dim= (as torch warns)",
                  UserWarning, stacklevel=_caller_level())
    return 0 if x.ndim in (0, 1, 3) else 1


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """softmax(-x) along ``dim`` (``dtype``: cast the input first, as torch)."""
    x = input   # (torch's name for the argument)
    _check_rank("softmin", "input", x, range(0, 33), "a tensor")
    x = x if dtype is None else x.to(dtype)
    _float_only("softmin", x)
    if x.ndim == 0:
        return softmin(x.reshape(1), 0).reshape(())
    return softmax(-x, _legacy_softmax_dim("softmin", x, dim))


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False, *, generator: Generator | None = None) -> Tensor:
    """Randomized leaky ReLU: in training each x <= 0 is scaled by its own slope drawn from
    U(lower, upper) (``generator``, a tensorgan extra, or the default one) and that slope is its
    derivative; in evaluation the slope is the mean (lower + upper) / 2 (a leaky ReLU)."""
    x = input   # (torch's name for the argument)
    _float_only("rrelu", x)
    lower, upper = _scalar("rrelu", "lower", lower), _scalar("rrelu", "upper", upper)
    if lower > upper:
        raise FunctionalOptionError(f"rrelu: lower bound {lower} must be <= upper bound {upper}")
    node = "RreluWithNoiseBackward1" if inplace else "RreluWithNoiseBackward0"     # torch's
    if not training:
        out = leaky_relu(x, (lower + upper) / 2, inplace)
    else:
        _check_rank("rrelu", "input", x, range(0, 33), "a tensor")
        xp = x.device.xp
        slopes = xp.asarray(resolve(generator).uniform(x.shape, x.dtype, lower, upper))
        noise = xp.where(x.array > 0, x.dtype.type(1), slopes)
        out = _maybe_in_place("rrelu", x, inplace, lambda t: ops.constant_times(t, noise))
    if not inplace and not out.array.flags.c_contiguous:   # torch's result is C order whatever
        out = _relaid(out, tuple(range(out.ndim)))        # x's layout, x's gradient x's layout
    return ops.torch_node(out, node)


def gumbel_softmax(logits: Tensor, tau: float = 1.0, hard: bool = False, eps: float = 1e-10,
                   dim: int = -1, *, generator: Generator | None = None) -> Tensor:
    """softmax((logits + g) / tau) along ``dim``, g standard Gumbel draws (-log of Exp(1) draws,
    from ``generator`` -- a tensorgan extra -- or the default one).  ``hard``: the one-hot of each
    argmax in the forward pass, the soft sample's gradient (straight-through estimator)."""
    tau = _scalar("gumbel_softmax", "tau", tau)     # as torch: no check (tau = 0 gives NaN)
    if eps != 1e-10:
        import warnings
        warnings.warn("gumbel_softmax: the `eps` parameter is deprecated and has no effect (as "
                      "torch warns)", UserWarning, stacklevel=2)
    if isinstance(logits, Tensor) and logits.dtype.kind not in "fc":
        raise DTypeError(f"gumbel_softmax: logits must be a floating-point tensor, got "
                         f"{logits.dtype} (torch's Gumbel draws are continuous); convert with .float()")
    if isinstance(logits, Tensor) and logits.ndim == 0:     # one class: torch's 1
        return gumbel_softmax(logits.reshape(1), tau, hard, 1e-10, 0, generator=generator).reshape(())
    axis = _check_dim("gumbel_softmax", logits, dim)
    xp = logits.device.xp
    exponential = resolve(generator).rng.standard_exponential(logits.shape)
    gumbels = Tensor._make(xp.asarray(-np.log(exponential), dtype=logits.dtype), logits.device)
    soft = softmax((logits + gumbels) / tau, axis)
    if not hard:
        return soft
    pick = xp.expand_dims(soft.array.argmax(axis=axis), axis)
    positions = xp.arange(logits.shape[axis]).reshape((-1,) + (1,) * (logits.ndim - axis - 1))
    one_hot = Tensor._make((positions == pick).astype(logits.dtype), logits.device)
    return one_hot - soft.detach() + soft


def _in_place_form(op: str, fn: Callable[..., Tensor], x: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """torch's ``F.<fn>_``: x overwritten with fn(x) and returned, under every in-place
    update's rules (Tensor._in_place_from)."""
    _check_rank(op, "input", x, range(0, 33), "a tensor")
    return x._in_place_from(op, lambda t: fn(t, *args, **kwargs))


def relu_(input: Tensor) -> Tensor:
    x = input   # (torch's name for the argument)
    return _in_place_form("relu_", relu, x)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    x = input   # (torch's name for the argument)
    _check_rank("leaky_relu_", "input", x, range(0, 33), "a tensor")
    slope = _scalar("leaky_relu_", "negative_slope", negative_slope)
    return x._in_place_from("leaky_relu_", lambda t: _LeakyReLUInPlace.apply(t, slope))


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    x = input   # (torch's name for the argument)
    return _in_place_form("elu_", elu, x, alpha)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    x = input   # (torch's name for the argument)
    return _in_place_form("celu_", celu, x, alpha)


def selu_(input: Tensor) -> Tensor:
    x = input   # (torch's name for the argument)
    return _in_place_form("selu_", selu, x)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    x = input   # (torch's name for the argument)
    return _in_place_form("hardtanh_", hardtanh, x, min_val, max_val)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    x = input   # (torch's name for the argument)
    return _in_place_form("threshold_", _threshold_op, x, threshold, value)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
           *, generator: Generator | None = None) -> Tensor:
    x = input   # (torch's name for the argument)
    return ops.torch_node(_in_place_form("rrelu_", rrelu, x, lower, upper, training, generator=generator),
                          "RreluWithNoiseBackward1")      # torch's in-place node


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,
              out: Tensor | None = None) -> Tensor:
    """x / max(||x||_p over dim, eps) (torch.nn.functional.normalize); ``out=``: written into
    that tensor, not differentiable (torch's ``div(..., out=)``)."""
    x = input   # (torch's name for the argument)
    _float_only("normalize", x)
    result = x / x.norm(p, dim=dim, keepdim=True).clip(min=eps)
    if out is None:
        return result
    from .function_forms import _write_out
    return _write_out("nn.functional.normalize", result, out)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """torch's ``F.cosine_similarity``: ``sum(x1 / max(||x1||, eps) * x2 / max(||x2||, eps))``
    over ``dim``, after broadcasting x1 and x2 together.  As torch's (which clamps the norms in
    place under no_grad), the gradient flows through each norm as if it were not clamped."""
    op = "cosine_similarity"
    for name, t in (("x1", x1), ("x2", x2)):
        if not isinstance(t, Tensor):
            raise InputTypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
    _check_operand(op, "x2", x2, x1, same_dtype=False)
    common = result_type(x1, x2)
    if common.kind != "f":
        raise DTypeError(f"{op}: expected a floating-point input (torch's common dtype must be "
                         f"float), got {x1.dtype} and {x2.dtype}; convert one with .float()")
    x1, x2 = x1.to(common), x2.to(common)
    eps = _scalar(op, "eps", eps)
    shape = broadcast_shape("{op}: shapes {0} and {1} do not broadcast", x1.shape, x2.shape, op=op)
    x1, x2 = (t if t.shape == shape else t.expand(shape) for t in (x1, x2))
    if not shape:
        raise IndexOutOfRangeError(f"{op}: dim {dim!r} is out of range for 0-d inputs")
    dim = x1._dim(dim, op)
    xp = x1.device.xp

    def unit(v: Tensor) -> Tensor:
        norm = v.norm(2, dim=dim, keepdim=True)
        lift = xp.maximum(norm.array, norm.dtype.type(eps)) - norm.array    # 0 unless below eps
        return v / (norm + Tensor._make(lift, v.device))
    return (unit(x1) * unit(x2)).sum(dim=dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """``||x1 - x2 + eps||_p`` over the last dim, x1 and x2 broadcast together
    (``torch.nn.functional.pairwise_distance``; 0-d inputs give a 0-d distance)."""
    op = "pairwise_distance"
    for name, t in (("x1", x1), ("x2", x2)):
        if not isinstance(t, Tensor):
            raise InputTypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
    _check_operand(op, "x2", x2, x1, same_dtype=False)
    broadcast_shape("{op}: shapes {0} and {1} do not broadcast", x1.shape, x2.shape, op=op)
    diff = x1 - x2 + _scalar(op, "eps", eps)
    if diff.ndim == 0:
        return diff.reshape(1).norm(_scalar(op, "p", p), dim=0)
    return diff.norm(_scalar(op, "p", p), dim=-1, keepdim=keepdim)


def pdist(input: Tensor, p: float = 2.0) -> Tensor:
    """The p-norm distances between the rows of (N, M) input, pairs i < j in row-major order:
    N (N - 1) / 2 of them (``torch.nn.functional.pdist``)."""
    x = input   # (torch's name for the argument)
    _check_rank("pdist", "input", x, (2,), "(N, M) (pdist only supports 2-D tensors)")
    p = distance_order("pdist", p, input=x)
    rows, cols = np.triu_indices(x.shape[0], 1)
    if not rows.size:
        return x.reshape(-1)[:0]
    xp = x.device.xp
    return (x[xp.asarray(rows)] - x[xp.asarray(cols)]).norm(p, dim=1)


def one_hot(input: Any, num_classes: int = -1) -> Tensor:
    """``torch.nn.functional.one_hot``: an int64 tensor of shape ``input.shape + (num_classes,)``
    (``num_classes=-1`` takes max(input) + 1); ``.float()`` it to feed a layer."""
    target = input                                   # (torch's keyword name is input)
    if isinstance(target, Tensor) and target.array.dtype.kind in "fc":
        raise float_index_error("one_hot", target.dtype, "input")
    labels = target.numpy() if isinstance(target, Tensor) else np.asarray(target)
    if labels.size and not (np.isfinite(labels).all() and (labels == np.round(labels)).all()):
        raise DTypeError(f"one_hot: target must hold whole class indices, got {labels.ravel()[:4]}...")
    if labels.size and labels.min() < 0:   # a value out of range, not a dtype (torch: RuntimeError)
        raise IndexOutOfRangeError(f"one_hot: class values must be non-negative, got "
                                   f"{int(labels.min())}")
    labels = labels.astype(np.int64)
    classes = int(labels.max()) + 1 if num_classes == -1 and labels.size else num_classes
    if not labels.size and isinstance(classes, (int, np.integer)) and classes < 1:
        raise ShapeError(f"one_hot: can not infer the total number of classes from an empty "
                         f"tensor (num_classes={num_classes}); pass num_classes >= 1")
    if not isinstance(classes, (int, np.integer)) or classes < 1 or (labels.size and labels.max() >= classes):
        raise ShapeError(f"one_hot: num_classes {num_classes!r} is too small for class "
                         f"{int(labels.max()) if labels.size else None}")
    out = (labels[..., None] == np.arange(classes)).astype(np.int64)
    device = target.device if isinstance(target, Tensor) else None
    return Tensor._from(out, device=device)


def _check_at_least_3d(op: str, x: Tensor) -> None:
    if not isinstance(x, Tensor):
        raise InputTypeError(f"{op}: input must be a Tensor, got {type(x).__name__}")
    if x.ndim < 3:
        raise ShapeError(f"{op}: expects input to have at least 3 dimensions (*, C, H, W), but got "
                         f"input with {x.ndim} dimension(s), shape {tuple(x.shape)}")


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C*r*r, H, W) -> (*, C, H*r, W*r): sub-pixel upsampling (ESPCN / SRGAN); any number of
    leading batch dims (none too), as torch's."""
    x = input   # (torch's name for the argument)
    _check_at_least_3d("pixel_shuffle", x)
    r = _pair(upscale_factor, "upscale_factor", 1, "pixel_shuffle")[0]
    *lead, c, h, w = x.shape
    if c % (r * r):
        raise ShapeError(f"pixel_shuffle: {c} channels do not divide by upscale_factor^2 = {r * r}")
    n = int(np.prod(lead, dtype=np.int64))
    blocks = (n, c // (r * r), r, r, h, w)
    return _shuffled(x, _PIXEL_SHUFFLE, blocks, (0, 1, 4, 2, 5, 3), (*lead, c // (r * r), h * r, w * r))


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H*r, W*r) -> (*, C*r*r, H, W): pixel_shuffle's inverse (any leading batch dims)."""
    x = input   # (torch's name for the argument)
    _check_at_least_3d("pixel_unshuffle", x)
    r = _pair(downscale_factor, "downscale_factor", 1, "pixel_unshuffle")[0]
    *lead, c, h, w = x.shape
    if h % r or w % r:
        raise ShapeError(f"pixel_unshuffle: {h}x{w} does not divide by downscale_factor {r}")
    n = int(np.prod(lead, dtype=np.int64))
    blocks = (n, c, h // r, r, w // r, r)
    return _shuffled(x, _PIXEL_UNSHUFFLE, blocks, (0, 1, 3, 5, 2, 4), (*lead, c * r * r, h // r, w // r))


class PixelShuffleCopy(Function):
    """pixel_shuffle / pixel_unshuffle as one copying node (torch's PixelShuffleBackward0 /
    PixelUnshuffleBackward0, not a view): x seen as ``blocks``, its axes permuted by ``axes``,
    laid out as ``shape``; the gradient is the inverse shuffle."""
    takes_half = takes_int = takes_bool = True     # a copy: exact on any dtype
    saves_nothing = True
    reads_inputs = False

    def forward(self, x, blocks, axes, shape):
        self.undo = (tuple(blocks[a] for a in axes), tuple(np.argsort(axes)), x.shape)
        return self.xp.ascontiguousarray(x.reshape(blocks).transpose(axes)).reshape(shape)

    def backward(self, g):
        moved, inverse, shape = self.undo
        return self.xp.ascontiguousarray(g.reshape(moved).transpose(inverse)).reshape(shape), None, None, None

    def grad_graph(self, g):
        moved, inverse, shape = self.undo
        return PixelShuffleCopy.apply(g, moved, inverse, shape), None, None, None


_PIXEL_SHUFFLE = ops.torch_named(PixelShuffleCopy, "PixelShuffleBackward0")
_PIXEL_UNSHUFFLE = ops.torch_named(PixelShuffleCopy, "PixelUnshuffleBackward0")


def _shuffled(x: Tensor, node: type, blocks: tuple, axes: tuple, shape: tuple) -> Tensor:
    out = node.apply(x, blocks, axes, shape)
    return out if x.array.flags.c_contiguous else _in_format_of(x, out)    # torch keeps channels_last


# ---------------------------------------------------------------------------------------------
# Layer, group and instance normalization: composites of mean / var (the DCGAN's batch norm is a
# kernel; these are for the other architectures -- WGAN-GP critics, pix2pix, CycleGAN)
# ---------------------------------------------------------------------------------------------
def _normalized(x: Tensor, dims: tuple, eps: float) -> Tensor:
    """``(x - mean) / sqrt(var + eps)`` over ``dims`` (biased variance).  Trailing dims -- layer,
    group and instance norm's case -- run as batch norm's fused kernel over ``(1, rows, positions,
    1)``, each row a "channel" (torch's instance_norm is batch_norm this way too): one op with one
    backward instead of mean, var, sub, add, sqrt and div with theirs; its ``grad_graph`` keeps
    double backward (WGAN-GP critics with layer / instance norm).  Sums in float64."""
    k = x.ndim - len(dims)
    if dims == tuple(range(k, x.ndim)) and k >= 1 and x.dtype.kind == "f" and x.size and \
            math.prod(x.shape[k:]) > 1:
        return RowNorm.apply(x, k, float(eps))
    return _normalized_composite(x, dims, eps)


class RowNorm(Function):
    """``_normalized`` over the dims from ``k`` on: batch norm's kernels on the array viewed as
    ``(1, rows, positions, 1)``, reshaped back inside the op -- so the result is not a view of
    another tensor (an in-place ReLU after an InstanceNorm stays the cheap in-place path)."""

    def forward(self, x, k, eps):
        shape = x.shape
        x4 = self.xp.ascontiguousarray(x).reshape(1, -1, math.prod(shape[k:]), 1)
        y, self.mean, self.invstd = self.device.kernels.batch_norm(x4, None, None, None, None,
                                                                   True, 0.0, eps)
        self.x4 = x4
        return y.reshape(shape)

    def backward(self, gy):
        x4 = self.x4
        gy4 = self.xp.ascontiguousarray(gy).reshape(x4.shape)
        gx = self.device.kernels.batch_norm_backward(gy4, x4, None, self.mean, self.invstd, True)[0]
        return gx.reshape(gy.shape), None, None

    def grad_graph(self, gy):
        x, k, eps = self.inputs
        y = _normalized_composite(x, tuple(range(k, x.ndim)), eps)
        return _composite_grads(y, gy, (x,)) + (None, None)


def _normalized_composite(x: Tensor, dims: tuple, eps: float) -> Tensor:
    mean = x.mean(dim=dims, keepdim=True)
    var = x.var(dim=dims, keepdim=True, correction=0)
    return (x - mean) / (var + eps).sqrt()


class _AffineRowNorm(Function):
    """``RowNorm`` and the elementwise ``* weight + bias`` in one node (torch's native layer /
    group norm, whose node names the subclasses carry): the statistics over each of ``rows``
    rows of x (batch norm's kernel on ``(1, rows, positions, 1)``), then weight and bias (either
    may be None) reshaped to ``affine_shape`` -- one new array each way where the composite made
    three nodes (RowNorm, Mul, Add) and their temporaries.  ``grad_graph`` recomputes it from
    Tensor ops (double backward)."""

    def forward(self, x, weight, bias, rows, eps, affine_shape):
        self.x4 = self.xp.ascontiguousarray(x).reshape(1, rows, -1, 1)
        y, self.mean, self.invstd = self.device.kernels.batch_norm(self.x4, None, None, None, None,
                                                                   True, 0.0, eps)
        xhat = y.reshape(x.shape)
        # kept for weight's gradient alone: without a weight the output is xhat, and torch's node
        # saves it not (the output may be written in place before backward)
        self.xhat = None if weight is None else xhat
        self.w = None if weight is None else weight.reshape(affine_shape)
        self.affine_shape = (1,) * (x.ndim - len(affine_shape)) + tuple(affine_shape)
        out = xhat if self.w is None else xhat * self.w
        if bias is not None:
            if out is xhat:
                out = out + bias.reshape(affine_shape)
            else:
                out += bias.reshape(affine_shape)
        return out

    def backward(self, g):
        need_x, need_w, need_b = self.needs_input_grad[:3]
        gx = gw = gb = None
        if need_w:
            gw = ops.unbroadcast(g * self.xhat, self.affine_shape).reshape(self.inputs[1].shape)
        if need_b:
            gb = ops.unbroadcast(g, self.affine_shape).reshape(self.inputs[2].shape)
        if need_x:
            gxhat = g if self.w is None else g * self.w
            gy4 = self.xp.ascontiguousarray(gxhat).reshape(self.x4.shape)
            gx = self.device.kernels.batch_norm_backward(gy4, self.x4, None, self.mean, self.invstd,
                                                         True)[0].reshape(g.shape)
        return gx, gw, gb, None, None, None

    def grad_graph(self, g):
        x, weight, bias, rows, eps, affine_shape = self.inputs
        y = _normalized_composite(x.reshape(rows, -1), (1,), eps).reshape(*x.shape)
        if weight is not None:
            y = y * weight.reshape(affine_shape)
        if bias is not None:
            y = y + bias.reshape(affine_shape)
        return _composite_grads(y, g, (x, weight, bias)) + (None, None, None)


class NativeLayerNorm(_AffineRowNorm):
    pass


class NativeGroupNorm(_AffineRowNorm):
    pass


def _check_affine(y: Tensor, weight: Tensor | None, bias: Tensor | None, shape: tuple,
                  fn: str = "normalization") -> None:
    """Weight and bias (where given) are tensors of y's dtype and torch's parameter shape: the
    ``normalized_shape`` itself for layer / RMS norm (``shape`` without leading 1s), a vector of
    the C channels for group / instance norm (``shape`` is (1, C, 1, ...) there) -- torch refuses
    a (9,) weight for normalized_shape (3, 3), one of equal size but another layout."""
    _one_dtype(fn, input=y, weight=weight, bias=bias)
    per_channel = fn in ("group_norm", "instance_norm")
    want = (shape[1],) if per_channel else shape
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and (not isinstance(p, Tensor) or p.shape != want):
            what = "a vector of one value per channel" if per_channel else "normalized_shape"
            raise ShapeError(f"{fn}: {name} must be a tensor of {math.prod(want)} elements of "
                             f"shape {want} ({what}), got {getattr(p, 'shape', type(p).__name__)}")


def _affine(y: Tensor, weight: Tensor | None, bias: Tensor | None, shape: tuple,
            fn: str = "normalization") -> Tensor:
    if weight is None and bias is None:     # (F.layer_norm(x, shape) without elementwise affine)
        return y
    _check_affine(y, weight, bias, shape, fn)
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


def _fused_norm(node: type, x: Tensor, rows: int, weight: Tensor | None, bias: Tensor | None,
                eps: float, shape: tuple, fn: str) -> Tensor | None:
    """``node`` (layer / group norm in one op) where RowNorm's kernel applies -- a float x with
    more than one position per row; None elsewhere (the composite form runs)."""
    if x.dtype.kind != "f" or not x.size or x.size // rows < 2:
        return None
    if weight is not None or bias is not None:
        _check_affine(x, weight, bias, shape, fn)
    return node.apply(x, weight, bias, rows, float(eps), shape)


def layer_norm(input: Tensor, normalized_shape: Sequence[int] | int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalize over the last ``len(normalized_shape)`` dims (biased variance), then
    ``* weight + bias`` of that shape."""
    x = input   # (torch's name for the argument)
    if _half_with_float32(x, weight, bias):
        return layer_norm(x.float(), normalized_shape, weight, bias, eps).half()
    _float_only("layer_norm", x)
    shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else tuple(normalized_shape)
    if not shape or tuple(x.shape[x.ndim - len(shape):]) != shape:
        raise ShapeError(f"layer_norm: normalized_shape {shape} is not the trailing shape of the "
                         f"input {x.shape}")
    k = x.ndim - len(shape)
    fused = _fused_norm(NativeLayerNorm, x, math.prod(x.shape[:k]), weight, bias, eps, shape,
                        "layer_norm") if k else None
    if fused is not None:
        return fused
    return _affine(_normalized(x, tuple(range(k, x.ndim)), eps), weight, bias, shape, "layer_norm")


def rms_norm(input: Tensor, normalized_shape: Sequence[int] | int, weight: Tensor | None = None,
             eps: float | None = None) -> Tensor:
    """``x / sqrt(mean(x^2) + eps)`` over the last ``len(normalized_shape)`` dims, then
    ``* weight`` of that shape (torch's RMSNorm; ``eps=None``: the machine epsilon of the dtype
    it computes in, float32 for a float16 input)."""
    x = input   # (torch's name for the argument)
    if _half_with_float32(x, weight):
        return rms_norm(x.float(), normalized_shape, weight, eps).half()
    _check_rank("rms_norm", "input", x, range(0, 33), "a tensor")
    _float_only("rms_norm", x)     # (np.finfo below: NumPy's 'data type ... not inexact')
    shape = (normalized_shape,) if _is_int(normalized_shape) else tuple(normalized_shape)
    if not shape or tuple(x.shape[x.ndim - len(shape):]) != shape or len(shape) > x.ndim:
        raise ShapeError(f"rms_norm: normalized_shape {shape} is not the trailing shape of the "
                         f"input {x.shape}")
    # torch's default: the machine epsilon of the type it computes in (float32 for float16)
    eps = float(np.finfo(np.float32 if x.dtype == np.float16 else x.dtype).eps) if eps is None \
        else _scalar("rms_norm", "eps", eps)
    dims = tuple(range(x.ndim - len(shape), x.ndim))
    y = x * ((x * x).mean(dim=dims, keepdim=True) + eps).rsqrt()
    return _affine(y, weight, None, shape, "rms_norm")


@_keeps_format
def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Normalize each sample over groups of ``C / num_groups`` channels (and all positions),
    then a per-channel ``* weight + bias``."""
    x = input   # (torch's name for the argument)
    if _half_with_float32(x, weight, bias):
        return group_norm(x.float(), num_groups, weight, bias, eps).half()
    _float_only("group_norm", x)
    if not _is_int(num_groups) or num_groups < 1:
        raise ConfigError(f"group_norm: num_groups must be a positive int, got {num_groups!r}")
    if x.ndim < 2 or x.shape[1] % num_groups:
        raise ShapeError(f"group_norm: {x.shape[1] if x.ndim > 1 else None} channels of input "
                         f"{x.shape} do not divide into {num_groups} groups")
    n, c = x.shape[:2]
    if n * (c // num_groups) * math.prod(x.shape[2:]) == 1:   # torch's _verify_batch_size rule
        raise ShapeError(f"group_norm: expected more than 1 value per channel when training, got "
                         f"input shape {x.shape} with {num_groups} groups")
    shape = (1, c) + (1,) * (x.ndim - 2)
    fused = _fused_norm(NativeGroupNorm, x, n * num_groups, weight, bias, eps, shape, "group_norm")
    if fused is not None:
        return fused
    y = _normalized(x.reshape(n, num_groups, -1), (2,), eps).reshape(*x.shape)
    return _affine(y, weight, bias, shape, "group_norm")


def instance_norm(input: Tensor, running_mean: Tensor | None = None, running_var: Tensor | None = None,
                  weight: Tensor | None = None, bias: Tensor | None = None,
                  use_input_stats: bool = True, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalize each (sample, channel) over its positions.  With running statistics and
    ``use_input_stats`` the batch's per-channel averages of them (unbiased variance) are blended
    in with ``momentum``, as torch; without ``use_input_stats`` the running ones are used."""
    x = input   # (torch's name for the argument)
    if _half_with_float32(x, running_mean, running_var, weight, bias):
        return instance_norm(x.float(), running_mean, running_var, weight, bias, use_input_stats,
                             momentum, eps).half()
    _float_only("instance_norm", x)
    if x.ndim < 3:
        raise ShapeError(f"instance_norm: input must be (N, C, ...) with positions, got {x.shape}")
    c, dims = x.shape[1], tuple(range(2, x.ndim))
    shape = (1, c) + (1,) * (x.ndim - 2)
    if (running_mean is None) != (running_var is None):
        raise ConfigError("instance_norm: pass both running_mean and running_var, or neither")
    for name, t in (("running_mean", running_mean), ("running_var", running_var)):
        if t is not None and (not isinstance(t, Tensor) or t.size != c):
            got = t.shape if isinstance(t, Tensor) else type(t).__name__
            raise ShapeError(f"instance_norm: {name} must be a tensor of {c} elements (one per "
                             f"channel of input {x.shape}), got {got}")
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise MissingArgumentError("instance_norm: use_input_stats=False needs running_mean and "
                                       "running_var (torch: RuntimeError)")
        y = (x - running_mean.reshape(shape)) / (running_var.reshape(shape) + eps).sqrt()
        return ops.torch_node(_affine(y, weight, bias, shape, "instance_norm"), "ViewBackward0")   # torch's last step
    positions = int(np.prod(x.shape[2:]))
    if positions == 1:
        raise ShapeError(f"instance_norm: each (sample, channel) needs more than one position to "
                         f"normalize over, got input {x.shape}")
    if running_mean is not None and running_var is not None:
        with no_grad():
            data = x.detach()
            mean = data.mean(dim=dims).mean(dim=0)
            var = data.var(dim=dims, correction=1).mean(dim=0)
            running_mean.array[...] = ((1 - momentum) * running_mean.array
                                       + momentum * mean.array.reshape(running_mean.shape))
            running_var.array[...] = ((1 - momentum) * running_var.array
                                      + momentum * var.array.reshape(running_var.shape))
            running_mean._bump_version()
            running_var._bump_version()
    # (torch's last step views its batch norm of (1, N * C, ...) as x's shape: ViewBackward0)
    return ops.torch_node(_affine(_normalized(x, dims, eps), weight, bias, shape, "instance_norm"),
                          "ViewBackward0")


# ---------------------------------------------------------------------------------------------
# Linear, dropout
# ---------------------------------------------------------------------------------------------
class Linear(Function):
    """y = x @ W^T + b as one op (one GEMM forward, two backward)."""
    takes_int = True    # integer x, W, b: exact (int64, as torch's)
    same_dtype = True   # an integer operand beside a float one: torch's dtype error

    def name(self) -> str:
        """torch's node for F.linear: AddmmBackward0 (MmBackward0 without a bias) on a 2-D
        input, ViewBackward0 with a bias on other ranks (AddmmBackward0 once backward freed them)."""
        inputs = self.__dict__.get("inputs")
        if not inputs:
            return "AddmmBackward0"
        rank, bias = inputs[0].ndim, inputs[2] is not None
        if rank == 2:
            return "AddmmBackward0" if bias else "MmBackward0"
        return "ViewBackward0" if bias else "SqueezeBackward4" if rank == 1 else "UnsafeViewBackward0"

    def forward(self, x, w, b):
        self.x, self.w = x, w
        try:
            x2 = x.reshape(-1, x.shape[-1])
        except ValueError:                  # no elements (Linear(0, 3), as torch): -1 is ambiguous
            x2 = x.reshape(_rows(x.shape), x.shape[-1])
        y = self.device.matmul(x2, w.T).reshape(x.shape[:-1] + (w.shape[0],))
        if b is not None:
            y += b
        return y

    def backward(self, g):
        need = self.needs_input_grad
        mm = self.device.matmul
        try:
            g2 = g.reshape(-1, g.shape[-1])
        except ValueError:                  # no elements (Linear(3, 0))
            g2 = g.reshape(_rows(g.shape), g.shape[-1])
        gx = gw = None
        if need[0] and self.w.shape[0] == 1:
            # One output feature (a discriminator's logit): the product is an outer product, and a
            # broadcast multiply gives the same numbers 10x faster than a K=1 GEMM through BLAS.
            gx = g * self.w[0]
        elif need[0]:
            gx = mm(g2, self.w).reshape(self.x.shape)
        if need[1]:
            gw = mm(g2.T, self.x.reshape(g2.shape[0], self.x.shape[-1]))
        gb = ops.unbroadcast(g2, g2.shape[1:]) if need[2] else None   # the rows' sum (float_sums)
        return gx, gw, gb

    def grad_graph(self, g):
        x, w = self.inputs[:2]
        need = self.needs_input_grad
        g2 = g.reshape(_rows(g.shape), g.shape[-1])
        gx = (g2 @ w).reshape(x.shape) if need[0] else None
        gw = g2.transpose(0, 1) @ x.reshape(_rows(x.shape), x.shape[-1]) if need[1] else None
        gb = g2.sum(axis=0) if need[2] else None
        return gx, gw, gb


def _rows(shape: tuple) -> int:
    """The rows of ``(..., k)`` as a matrix (``reshape(-1, k)`` cannot infer them with no elements)."""
    return math.prod(shape[:-1])


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``x @ weight.T + bias`` with ``weight (out_features, in_features)``."""
    x = input   # (torch's name for the argument)
    _check_rank("linear", "input", x, range(1, 33), "at least 1-D")
    try:
        _check_rank("linear", "weight", weight, (2,), "(out_features, in_features)")
    except ShapeError:
        if isinstance(weight, Tensor) and weight.ndim == 1:    # torch's documented (in_features,)
            return _linear_of_vector(x, weight, bias)
        raise
    if x.shape[-1] != weight.shape[1]:
        raise ShapeError(f"linear: input has {x.shape[-1]} features (shape {x.shape}) but weight "
                         f"{weight.shape} expects {weight.shape[1]}")
    _check_operand("linear", "bias", bias, x)
    if bias is not None and bias.shape != (weight.shape[0],):
        out_shape = x.shape[:-1] + weight.shape[:1]
        if not _broadcasts_to(bias.shape, out_shape):
            raise ShapeError(f"linear: bias must have shape ({weight.shape[0]},) (or broadcast to the "
                             f"output's {out_shape}), got {bias.shape}")
        return Linear.apply(x, weight, None) + bias      # torch's addmm broadcasts a () / (1,) bias
    return Linear.apply(x, weight, bias)


def _linear_of_vector(x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
    """torch's linear with a 1-D weight ``(in_features,)``: ``x @ weight`` (one output feature,
    its dim dropped), plus a bias that broadcasts to it (torch documents a () one)."""
    if x.shape[-1] != weight.shape[0]:
        raise ShapeError(f"linear: input has {x.shape[-1]} features (shape {x.shape}) but the 1-D "
                         f"weight {weight.shape} expects {weight.shape[0]}")
    _check_operand("linear", "bias", bias, x)
    y = x @ weight
    if bias is None:
        return y
    if not _broadcasts_to(bias.shape, y.shape):
        raise ShapeError(f"linear: bias {bias.shape} does not broadcast to the output {y.shape} of "
                         f"a 1-D weight (pass a 0-d bias)")
    return y + bias


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False, *,
            generator: Generator | None = None) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)`` (masks
    from ``generator``, a tensorgan extra, or the default one; ``inplace=True`` writes into x)."""
    x = input   # (torch's name for the argument)
    _check_rank("dropout", "input", x, range(0, 33), "a tensor")
    return _dropout("dropout", x, p, training, inplace, generator, x.shape)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False, *,
              generator: Generator | None = None) -> Tensor:
    """Zero whole channels of ``(N, C, H, W)`` with probability ``p``, scale the rest by
    ``1 / (1 - p)`` (torch.nn.functional.dropout2d: neighbouring pixels are correlated, so element
    dropout would barely regularize a conv layer).  Other ranks as torch 2.x takes them, with its
    warnings: a 3-D input is ``(N, C, L)`` (channel-wise 1-D dropout, not an unbatched ``(C, H,
    W)``), a 2-D ``(N, C)`` one loses single elements (torch's mnist_rnn example relies on it),
    and any rank >= 2 drops ``x[n, c]`` slices; a 0-D or 1-D input is refused."""
    x = input   # (torch's name for the argument)
    _check_rank("dropout2d", "input", x, range(2, 33), "(N, C, H, W) (at least (N, C))")
    if x.ndim != 4 and training and p != 0.0:
        import warnings
        if x.ndim == 3:
            warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that "
                          "channel-wise 1D dropout behavior is desired - input is interpreted as "
                          "shape (N, C, L), where C is the channel dim (as torch does)",
                          stacklevel=_caller_level())
        else:
            warnings.warn(f"dropout2d: Received a {x.ndim}-D input to dropout2d, which is "
                          f"deprecated in torch; use dropout (this drops x[n, c] slices)",
                          stacklevel=_caller_level())
    return _dropout("dropout2d", x, p, training, inplace, generator,
                    x.shape[:2] + (1,) * (x.ndim - 2))


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False, *,
              generator: Generator | None = None) -> Tensor:
    """Zero whole channels of ``(N, C, L)`` (or ``(C, L)``)."""
    x = input   # (torch's name for the argument)
    return _channel_dropout("dropout1d", x, p, training, inplace, generator, 1)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False, *,
              generator: Generator | None = None) -> Tensor:
    """Zero whole channels of ``(N, C, D, H, W)`` (or ``(C, D, H, W)``): a voxel feature map's.
    Any other rank >= 1 as torch takes it (with its warning): as if unbatched, so the first
    dimension's slices are the channels."""
    x = input   # (torch's name for the argument)
    _check_rank("dropout3d", "input", x, range(1, 33), "(N, C, D, H, W) or without N")
    if x.ndim == 5:
        return _dropout("dropout3d", x, p, training, inplace, generator, x.shape[:2] + (1, 1, 1))
    if x.ndim != 4 and training and p != 0.0:
        import warnings
        warnings.warn(f"dropout3d: Received a {x.ndim}-D input to dropout3d, which is deprecated "
                      f"in torch; it is taken as unbatched, dim 0 the channels",
                      stacklevel=_caller_level())
    return _dropout("dropout3d", x, p, training, inplace, generator,
                    x.shape[:1] + (1,) * (x.ndim - 1))


def _channel_dropout(op: str, x: Tensor, p: float, training: bool, inplace: bool,
                     generator: Generator | None, spatial: int) -> Tensor:
    _check_rank(op, "input", x, (spatial + 1, spatial + 2),
                f"(N, C, {('L', 'H, W', 'D, H, W')[spatial - 1]}) or without N")
    return _dropout(op, x, p, training, inplace, generator, x.shape[:-spatial] + (1,) * spatial)


def _dropout_without_draws(op: str, x: Tensor, p: float, training: bool, inplace: bool,
                           how: str) -> Tensor | None:
    """What a dropout returns without drawing a mask, or None when it must draw: ``p`` checked,
    ``x`` itself in eval mode or for p = 0, zeros for p = 1 (of the input's dtype for integers,
    as torch's), an integer input with 0 < p < 1 refused as torch's (``how`` says why)."""
    if not 0.0 <= p <= 1.0:
        raise ConfigError(f"{op} probability must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return x
    if x.dtype.kind not in "fc":
        if p == 1.0:
            return _maybe_in_place(op, x, inplace, lambda t: (t * 0).to(t.dtype))
        raise DTypeError(f"{op}: result type Float can't be cast to the desired output type "
                         f"{x.dtype} ({how}); convert the input with .float()")
    if p == 1.0:
        return _maybe_in_place(op, x, inplace, lambda t: t * 0.0)
    return None


def _dropout(op: str, x: Tensor, p: float, training: bool, inplace: bool,
             generator: Generator | None, mask_shape: tuple) -> Tensor:
    """x times a keep-mask of ``mask_shape`` (broadcast: whole channels for dropout2d) / (1 - p).
    A Generator given as ``inplace`` (tensorgan's older positional ``generator``) is taken as one."""
    if isinstance(inplace, Generator) or inplace is None:
        if generator is not None and inplace is not None:
            raise InputTypeError(f"{op}: generator given both positionally and as a keyword")
        inplace, generator = False, generator if inplace is None else inplace
    training = _flag(op, "training", training)
    p = _probability(op, p)
    settled = _dropout_without_draws(op, x, p, training, inplace,
                                     "the kept elements are scaled by 1 / (1 - p)")
    if settled is not None:
        return settled
    keep = resolve(generator).uniform(mask_shape, dtype=x.dtype) >= p
    scale = keep.astype(x.dtype)
    scale /= x.dtype.type(1.0 - p)                      # in place: one mask-sized array, not two
    scale = x.device.xp.asarray(scale)
    return _maybe_in_place(op, x, inplace, lambda t: ops.Mul.apply(t, scale))


_Reduction = _reduction     # torch's F._Reduction (torch.nn._reduction): get_enum, legacy_get_string

# ---------------------------------------------------------------------------------------------
# Losses
# ---------------------------------------------------------------------------------------------
_REDUCTIONS = ("mean", "sum", "none")


def _legacy_reduction(op: str, size_average: Any, reduce: Any, reduction: str) -> str:
    """torch's deprecated ``size_average`` / ``reduce`` pair (either given, not None) as the
    reduction name, with torch's UserWarning (``_Reduction.legacy_get_string``): ``reduce``
    false: "none"; else ``size_average`` false: "sum"; else "mean" (a None is True), ``reduction``
    ignored as in torch. The losses call this only when one is given: the plain-``reduction``
    path costs one ``is not None`` test. A string where ``size_average`` is (``mse_loss(x, y,
    "sum")``, tensorgan's older signature, or "batchmean") is the reduction itself."""
    if size_average is None and reduce is None:
        return reduction
    if isinstance(size_average, str):
        if reduce is not None or reduction != "mean":
            raise InputTypeError(f"{op}: size_average must be a bool or None, got {size_average!r} "
                                 f"(pass reduction={size_average!r} by keyword)")
        return size_average
    for name, value in (("size_average", size_average), ("reduce", reduce)):
        if value is not None and not isinstance(value, (bool, int, np.bool_, np.integer)):
            raise InputTypeError(f"{op}: {name} must be a bool or None, got {value!r}")
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    reduction = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use "
                  f"reduction='{reduction}' instead.", UserWarning, stacklevel=_caller_level())
    return reduction


def _reduce(loss, reduction: str):
    """A loss array reduced as ``reduction`` says; the mean of no elements is NaN, as in torch
    (and as Tensor.mean), without NumPy's "mean of empty slice" warning."""
    if reduction == "mean":
        if not loss.size:
            return loss.sum() * loss.dtype.type(float("nan"))
        if type(loss) is np.ndarray and loss.dtype.char in "fd":
            # NumPy's mean, bit for bit, without its Python wrapper (~2.5 us): the sum, divided
            # in double precision (its float32 sum / intp count is a float64 division too) and
            # rounded back to the sum's dtype
            total = np.add.reduce(loss, axis=None)
            return total.dtype.type(float(total) / loss.size)
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss


class BCEWithLogits(Function):
    """Binary cross-entropy on logits, stable for any x: max(x, 0) - x t + log1p(exp(-|x|))."""
    promotes_floats = True

    def forward(self, x, t, reduction):
        xp = self.xp
        self.x, self.t, self.reduction = x, t, reduction
        loss = xp.maximum(x, 0) - x * t + xp.log1p(xp.exp(-xp.abs(x)))
        return _reduce(loss, reduction)

    def backward(self, g):
        if self.reduction == "mean":
            g = g / self.x.dtype.type(self.x.size)
        sig = ops.stable_sigmoid(self.x, self.xp)       # d loss / dx = sigmoid(x) - t
        grad_t = -self.x * g if self.needs_input_grad[1] else None   # d loss / dt = -x
        return (sig - self.t) * g, grad_t, None

    def grad_graph(self, g):
        x, t = self.inputs[:2]
        if self.reduction == "mean":
            g = g / float(x.size)
        grad_t = -x * g if self.needs_input_grad[1] else None
        return (ops.Sigmoid.apply(x) - t) * g, grad_t, None


def _on_device(op: str, array, xp):
    """A constant operand (list, NumPy or CuPy array) as an array of ``xp``: NumPy data is copied to
    the GPU for a CUDA op; GPU data is not fetched silently for a CPU op (as torch refuses it)."""
    if xp is np and not isinstance(array, np.ndarray) and hasattr(array, "__cuda_array_interface__"):
        raise DeviceError(f"{op}: target is a GPU array but the input is on the CPU; "
                          f"move one of them (target.get() or tensor.to('cuda'))")
    return xp.asarray(array)


_BROADCAST_WARNING = ("Using a target size ({}) that is different to the input size ({}). This will "
                      "likely lead to incorrect results due to broadcasting. Please ensure they have "
                      "the same size.")


def _target(op: str, target, x: Tensor, same_dtype: bool = False, broadcast: str | None = None):
    """A target as the op needs it: a Tensor (its gradient then flows; of any dtype, promoted
    by the ops, unless ``same_dtype``: binary_cross_entropy refuses others, as torch's) or a
    constant array.  A target of another shape is refused unless ``broadcast``: then, as torch's
    mse / l1 / smooth_l1 / huber ("warn": its UserWarning) and kl_div ("silent") losses, input
    and target broadcast together (a ``(N, 1)`` input against an ``(N,)`` target gives ``N * N``
    terms -- torch's result, and the reason for its warning)."""
    if isinstance(target, (int, float)):
        target = x.device.xp.full(x.shape, target, dtype=x.dtype)
    elif isinstance(target, Tensor):
        _check_operand(op, "target", target, x, same_dtype=same_dtype)
    elif isinstance(target, (str, bytes, dict, set)) or target is None:
        raise InputTypeError(f"{op}: target must be a Tensor, an array or a number, got "
                             f"{type(target).__name__}")
    else:
        target = _on_device(op, target, x.device.xp).astype(x.dtype, copy=False)
    if target.shape != x.shape:
        if broadcast is None:
            raise ShapeError(f"{op}: target shape {target.shape} != input shape {x.shape}")
        broadcast_shape("{op}: target shape {0} and input shape {1} do not broadcast",
                        tuple(target.shape), tuple(x.shape), op=op)
        if broadcast == "warn":
            from .tensor import Size
            warnings.warn(_BROADCAST_WARNING.format(repr(Size(target.shape)), repr(Size(x.shape))), UserWarning,
                          stacklevel=_caller_level())
    return target


def _check_loss(op: str, x: Tensor, reduction: str, old_mean: bool = True) -> str:
    """``x``'s rank checked; returns the reduction to use (see :func:`_checked_reduction`)."""
    _check_rank(op, "input", x, range(0, 33), "a tensor")
    if reduction not in _REDUCTIONS:
        return _checked_reduction(op, reduction, old_mean=old_mean)
    return reduction


def _checked_reduction(op: str, reduction: Any, allowed: tuple = _REDUCTIONS, old_mean: bool = True) -> str:
    """The slow path of a loss's reduction check, called only when ``reduction`` is not in
    ``allowed``: torch's pre-1.0 spelling "elementwise_mean" (still torchgan's default) is "mean"
    with torch's UserWarning where torch's loss goes through ``_Reduction.get_enum``
    (``old_mean``; gaussian_nll, poisson_nll, multilabel_soft_margin and
    triplet_margin_with_distance refuse it there); anything else is a ConfigError (ValueError)."""
    if old_mean and isinstance(reduction, str) and reduction == "elementwise_mean":
        from ._reduction import ELEMENTWISE_MEAN_WARNING
        warnings.warn(ELEMENTWISE_MEAN_WARNING, UserWarning, stacklevel=_caller_level())
        return "mean"
    raise ConfigError(f"{op}: reduction must be one of {allowed}, got {reduction!r}")


def binary_cross_entropy_with_logits(input: Tensor, target: Target, weight: Tensor | None = None,
                                     size_average: Any = None, reduce: Any = None,
                                     reduction: str = "mean", pos_weight: Tensor | None = None) -> Tensor:
    """Mean (or sum/none) binary cross-entropy of ``sigmoid(input)`` (logits) against ``target``
    in [0, 1]; ``weight`` scales each element's loss, ``pos_weight`` the positive term (broadcast
    along the last dim), torch's signature (``size_average`` / ``reduce``: its deprecated pair,
    see :func:`_legacy_reduction`).  A string third argument is the reduction (tensorgan's older
    signature)."""
    logits = input
    if isinstance(weight, str):
        weight, reduction = None, weight
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction('binary_cross_entropy_with_logits', size_average, reduce, reduction)
    reduction = _check_loss("binary_cross_entropy_with_logits", logits, reduction)
    _float_only("binary_cross_entropy_with_logits", logits)   # (torch: log_sigmoid of Long)
    target = _target("binary_cross_entropy_with_logits", target, logits)
    _refuse_weight_grads(weight, pos_weight)
    if isinstance(target, Tensor) and target.dtype != logits.dtype:
        if target.dtype.kind != "f":    # torch computes the loss in the target's dtype, in place
            raise DTypeError(f"binary_cross_entropy_with_logits: result type {logits.dtype} can't "
                             f"be cast to the desired output type {target.dtype} (the target's; "
                             f"torch refuses it too): convert the target with .float()")
        wide, low = promote_types(logits.dtype, target.dtype), target.dtype
        return BCEWithLogitsComposite.apply(logits.to(wide), target.to(wide), lambda x, t: (
            _bce_with_logits_in_place_order(x, t, (logits.dtype, low), weight, pos_weight, reduction)))
    if weight is not None or pos_weight is not None:
        return BCEWithLogitsComposite.apply(logits, target, lambda x, t: (
            _weighted_bce_with_logits(x, t, weight, pos_weight, reduction)))
    return BCEWithLogits.apply(logits, target, reduction)


def _refuse_weight_grads(weight: Tensor | None, pos_weight: Tensor | None) -> None:
    """torch's loss is not differentiable in ``weight`` / ``pos_weight``: it refuses them when they
    require grad (rather than leave their gradient silently None)."""
    for name, w in (("weight", weight), ("pos_weight", pos_weight)):
        if isinstance(w, Tensor) and w._requires_grad and is_grad_enabled():
            raise AutogradError(f"binary_cross_entropy_with_logits is not differentiable with respect "
                                f"to argument {name!r}: pass {name}.detach() (as torch refuses it)")


class BCEWithLogitsComposite(Function):
    """A binary cross-entropy with logits that tensorgan computes with several ops (``weight``,
    ``pos_weight``, a target of another float dtype) as torch's one node: ``grad_fn.name()`` is
    BinaryCrossEntropyWithLogitsBackward0 and its edges are the logits' and the target's.  The
    composite ``formula(x, t)`` runs on the arrays as leaves of a private graph, which the node's
    backward walks (so values and gradients are the composite's)."""

    def forward(self, x, t, formula):
        x_leaf = Tensor._make(x, self.device, bool(self.needs_input_grad[0]))
        t_leaf = Tensor._make(t, self.device, bool(self.needs_input_grad[1])) if hasattr(t, "dtype") else t
        self.formula, self.leaves = formula, (x_leaf, t_leaf)
        self.loss = formula(x_leaf, t_leaf)
        return self.loss.array

    def backward(self, g):
        wanted = [leaf for leaf in self.leaves if isinstance(leaf, Tensor) and leaf._requires_grad]
        got = _run_backward([self.loss], [Tensor._make(g, self.device)], retain_graph=True,
                            inputs=wanted, run_hooks=False)
        grads = [got.get(id(leaf)) if isinstance(leaf, Tensor) else None for leaf in self.leaves]
        return tuple(g.array if isinstance(g, Tensor) else g for g in grads) + (None,)

    def grad_graph(self, g):
        x, t = self.inputs[:2]
        return _composite_grads(self.formula(x, t), g, (x, t)) + (None,)

    def name(self) -> str:
        return "BinaryCrossEntropyWithLogitsBackward0"


def _bce_with_logits_in_place_order(x: Tensor, t: Tensor, dtypes: tuple, weight: Tensor | None,
                                    pos_weight: Tensor | None, reduction: str) -> Tensor:
    """A target whose float dtype differs from the logits': torch's loss has the target's dtype,
    its value from the in-place formula ``(1 - t).mul_(x).sub_(log_sigmoid(x)).mul_(w)``, each
    step rounded to the target's dtype, the log-sigmoid in the input's (one wide pass and a final
    cast is an ulp off: StarGAN-VC2's float32 labels in a float64 run); its gradient comes from
    the wide formula (torch's backward is its own, in the promoted dtype).  ``x`` and ``t`` come
    in the promoted dtype; ``dtypes``: the input's and the target's own."""
    loss = binary_cross_entropy_with_logits(x, t, weight, reduction=reduction, pos_weight=pos_weight)
    narrow, low = dtypes
    with no_grad():
        t = t.to(low)
        log_sig = logsigmoid(x.to(narrow))
        if pos_weight is not None:   # log_sigmoid_input.mul_(log_weight) keeps the input's dtype
            log_sig = (log_sig * ((pos_weight - 1.0) * t + 1.0)).to(log_sig.dtype)
        rounded = (((1.0 - t) * x).to(low) - log_sig).to(low)
        if weight is not None:
            rounded = (rounded * weight).to(low)
        rounded = rounded.mean() if reduction == "mean" else rounded.sum() if reduction == "sum" else rounded
        rounded = rounded - loss.to(low)
    return loss.to(low) + rounded     # the rounded value, the wide formula's gradient


def _weighted_bce_with_logits(x: Tensor, target: Target, weight: Tensor | None, pos_weight: Tensor | None,
                              reduction: str) -> Tensor:
    """torch's formula: ``w [(1 - t) x + (1 + (p - 1) t) softplus(-x)]`` (softplus is stable)."""
    op = "binary_cross_entropy_with_logits"
    t = target if isinstance(target, Tensor) else Tensor._make(target, x.device)
    for name, w in (("weight", weight), ("pos_weight", pos_weight)):
        _check_operand(op, name, w, x, same_dtype=False)
        if w is not None:
            _keeps_input_shape(op, name, w, x)
    # torch's result has the input's (= the target's, see above) dtype whatever the weights' float
    # dtype: cast them to it
    weight, pos_weight = (w.to(x.dtype) if w is not None and w.dtype != x.dtype else w
                          for w in (weight, pos_weight))
    softplus_neg = Softplus.apply(-x, 1.0, math.inf)   # one op: relu(-x) + log1p(exp(-|x|)) has slope 0 at x = 0
    log_weight = 1.0 if pos_weight is None else (pos_weight - 1.0) * t + 1.0
    loss = (1.0 - t) * x + log_weight * softplus_neg
    if weight is not None:
        loss = loss * weight
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


_UNIT_RANGE = None


def _outside_unit_range(xp, p, t) -> int:
    """0 when every element of ``p`` and ``t`` lies in [0, 1]; 1 when one of p does not (NaN
    included), 2 when one of t does. On the CPU one compiled pass over both (cheaper than the
    two NumPy reductions the input check alone took); on the GPU one synchronisation."""
    global _UNIT_RANGE
    if xp is not np:
        return int(xp.where(((p >= 0) & (p <= 1)).all(), xp.where(((t >= 0) & (t <= 1)).all(), 0, 2), 1))
    if _UNIT_RANGE is None:
        import numba

        @numba.njit(cache=True, nogil=True)
        def outside(a, b):
            for v in a:
                if not (v >= 0 and v <= 1):
                    return 1
            for v in b:
                if not (v >= 0 and v <= 1):
                    return 2
            return 0
        _UNIT_RANGE = outside
    return _UNIT_RANGE(p.reshape(-1), t.reshape(-1))


# torch's BCE backward clamps p (1 - p) at EPSILON, a C++ *float* 1e-12, for float64 too: in
# float64 that is 9.99999996e-13, which a saturated sigmoid's gradient shows (4e-9 relative).
_BCE_EPS = float(np.float32(1e-12))


class BCE(Function):
    """Binary cross-entropy on probabilities p: -(t log p + (1 - t) log(1 - p)), each log clamped
    at -100 as in PyTorch (p = 0 or 1 gives a large finite loss, not inf). Both must lie in
    [0, 1], as torch checks (NaN fails too)."""

    def forward(self, p, t, reduction):
        xp = self.xp
        if hasattr(t, "shape") and t.shape == p.shape and t.dtype == p.dtype:
            outside = _outside_unit_range(xp, p, t)
        else:                                   # (a Python number as the target)
            outside = _outside_unit_range(xp, p, xp.asarray(t, dtype=p.dtype).reshape(-1))
        if outside == 1:
            raise OutOfRangeDataError("binary_cross_entropy: input values must lie in [0, 1] (probabilities; "
                                      "for logits use binary_cross_entropy_with_logits); got NaN or values outside")
        if outside == 2:
            raise OutOfRangeDataError("binary_cross_entropy: all elements of target should be between 0 and 1 "
                                      "(as torch checks); got NaN or values outside")
        with np.errstate(divide="ignore"):
            self.log_p = xp.maximum(xp.log(p), -100)
            self.log_1mp = xp.maximum(xp.log1p(-p), -100)
        self.p, self.t, self.reduction = p, t, reduction
        loss = -(t * self.log_p + (1 - t) * self.log_1mp)
        return _reduce(loss, reduction)

    def backward(self, g):
        p, t = self.p, self.t
        if self.reduction == "mean":
            g = g / p.dtype.type(p.size)
        # PyTorch's form: (p - t) / max(p (1 - p), eps)
        grad_p = (p - t) / self.xp.maximum(p * (1 - p), p.dtype.type(_BCE_EPS)) * g
        grad_t = None
        if self.needs_input_grad[1]:    # torch's -logit(p), unclamped: +-inf at p = 0 / 1
            with np.errstate(divide="ignore"):
                grad_t = (self.xp.log1p(-p) - self.xp.log(p)) * g
        return grad_p, grad_t, None

    def grad_graph(self, g):
        p, t = self.inputs[:2]
        if self.reduction == "mean":
            g = g / float(p.size)
        grad_p = (p - t) / (p * (1.0 - p)).clip(min=_BCE_EPS) * g
        grad_t = None
        if self.needs_input_grad[1]:
            with np.errstate(divide="ignore"):
                grad_t = ((-p).log1p() - p.log()) * g
        return grad_p, grad_t, None


def binary_cross_entropy(input: Tensor, target: Target, weight: Tensor | None = None,
                         size_average: Any = None, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of probabilities (e.g. a Sigmoid's output) against ``target``;
    prefer ``binary_cross_entropy_with_logits`` on logits (stable for any logit).  ``weight``
    (torch's third argument) rescales each element's loss, broadcast to the input's shape;
    "mean" then divides by the element count, as torch's.  A string third argument is the
    reduction (tensorgan's older signature)."""
    probs = input
    if isinstance(weight, str):
        weight, reduction = None, weight
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction('binary_cross_entropy', size_average, reduce, reduction)
    reduction = _check_loss("binary_cross_entropy", probs, reduction)
    _float_only("binary_cross_entropy", probs)
    target = _target("binary_cross_entropy", target, probs, same_dtype=True)
    if weight is None:
        return BCE.apply(probs, target, reduction)
    _check_operand("binary_cross_entropy", "weight", weight, probs, same_dtype=False)
    if not _broadcasts_to(weight.shape, probs.shape):
        raise ShapeError(f"binary_cross_entropy: weight shape {weight.shape} does not broadcast "
                         f"to the input's {probs.shape}")
    return ops.torch_node(_reduced(BCE.apply(probs, target, "none") * weight, reduction),
                          "BinaryCrossEntropyBackward0")


def mse_loss(input: Tensor, target: Target, size_average: Any = None, reduce: Any = None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean (or sum/none) squared error; ``weight`` as in :func:`_weighted_mean`; ``size_average``
    / ``reduce``: torch's deprecated pair (:func:`_legacy_reduction`)."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction('mse_loss', size_average, reduce, reduction)
    reduction = _check_loss("mse_loss", input, reduction)
    if isinstance(target, Tensor) and target.array.dtype.kind not in "fc":
        _float_only("mse_loss", input)
    target = _target("mse_loss", target, input, broadcast="warn")
    mixed = isinstance(target, Tensor) and target.dtype != input.dtype   # (an array: x's dtype)
    if weight is None and input.array.dtype.kind == "f" and not (mixed and target.array.dtype.kind == "c"):
        if mixed:     # torch's one node for mixed dtypes too, in the wider (it broadcasts
            common = promote_types(input.dtype, target.dtype)   # first: a 0-d float64 target
            input, target = input.to(common), target.to(common)  # widens a float32 input too)
        return MseLoss.apply(input, target, reduction)
    return _weighted_mean("mse_loss", (input - target) ** 2, weight, reduction)


class MseLoss(Function):
    """Squared error ``(x - t)**2`` reduced in one node (torch's MseLossBackward0): the gradient
    ``2 (x - t) g`` (``/ n`` for the mean), summed back over broadcast dims of either side."""

    def forward(self, x, t, reduction):
        self.reduction = reduction         # (unreduced: laid out as torch's, cl - c channels_last)
        self.diff = x - t if reduction != "none" else ops._broadcasting("sub", operator.sub, x, t)
        self.shapes = (x.shape, t.shape)
        return _reduce(self.diff * self.diff, reduction)

    def backward(self, g):
        d = self.diff
        if self.reduction == "mean":
            g = g / d.dtype.type(d.size or 1)
        grad = d * (2 * g)
        gx = ops.unbroadcast(grad, self.shapes[0]) if self.needs_input_grad[0] else None
        gt = ops.unbroadcast(-grad, self.shapes[1]) if self.needs_input_grad[1] else None
        return gx, gt, None

    def grad_graph(self, g):
        x, t = self.inputs[:2]
        if self.reduction == "mean":
            g = g / float(self.diff.size or 1)
        grad = (x - t) * (g * 2.0)
        gx = ops.unbroadcast(grad, self.shapes[0]) if self.needs_input_grad[0] else None
        gt = ops.unbroadcast(-grad, self.shapes[1]) if self.needs_input_grad[1] else None
        return gx, gt, None


def l1_loss(input: Tensor, target: Target, size_average: Any = None, reduce: Any = None,
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean (or sum/none) absolute error; the gradient at a zero difference is 0, as in torch.
    ``weight`` as in :func:`_weighted_mean`."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction('l1_loss', size_average, reduce, reduction)
    reduction = _check_loss("l1_loss", input, reduction)
    if isinstance(target, Tensor) and target.array.dtype.kind not in "fc":
        _float_only("l1_loss", input)
    diff = (input - _target("l1_loss", target, input, broadcast="warn")).abs()
    return _weighted_mean("l1_loss", diff, weight, reduction)


def _weighted_mean(op: str, loss: Tensor, weight: Tensor | None, reduction: str) -> Tensor:
    """torch 2.13's ``weight=`` of mse_loss and l1_loss: one weight per element (the input's
    shape); "mean" is then the weighted mean ``sum(w * loss) / sum(w)`` (huber_loss's, by
    contrast, divides by the element count -- torch's own difference, kept)."""
    if weight is None:
        return _reduced(loss, reduction)
    _check_operand(op, "weight", weight, loss, same_dtype=False)
    if weight.shape != loss.shape:
        raise ShapeError(f"{op}: weight shape {weight.shape} != input shape {loss.shape} "
                         f"(one weight per element)")
    weighted = loss * weight
    return weighted.sum() / weight.sum() if reduction == "mean" else _reduced(weighted, reduction)


def _reduced(loss: Tensor, reduction: str) -> Tensor:
    """A pointwise loss Tensor reduced as ``reduction`` says (the mean of no elements is NaN)."""
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


def _threshold(op: str, name: str, value, positive: bool) -> float:
    value = _scalar(op, name, value)
    if not (value > 0 if positive else value >= 0):      # NaN fails too
        raise FunctionalOptionError(f"{op}: {name} must be {'> 0' if positive else '>= 0'}, got {value}")
    return value


def smooth_l1_loss(input: Tensor, target: Target, size_average: Any = None, reduce: Any = None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """torch's smooth L1: ``0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta``
    (d = input - target); ``beta=0`` is exactly ``l1_loss``."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction('smooth_l1_loss', size_average, reduce, reduction)
    reduction = _check_loss("smooth_l1_loss", input, reduction)
    beta = _threshold("smooth_l1_loss", "beta", beta, positive=False)
    if beta == 0.0:
        return l1_loss(input, target, reduction=reduction)
    from .factory import where
    diff = input - _target("smooth_l1_loss", target, input, broadcast="warn")
    _float_only("smooth_l1_loss", diff)    # integer input and target: torch's smooth_l1 of Long
    z = diff.abs()
    inner = diff.clip(-beta, beta)          # the quadratic branch never overflows where unused
    return ops.torch_node(_reduced(where(z < beta, inner * inner * (0.5 / beta), z - 0.5 * beta),
                                   reduction), "SmoothL1LossBackward0")


def huber_loss(input: Tensor, target: Target, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """torch's Huber loss: ``0.5 d^2`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)``;
    ``delta * smooth_l1_loss(..., beta=delta)``.  ``weight`` (input's shape) scales each element
    before the reduction, as torch's."""
    reduction = _check_loss("huber_loss", input, reduction)
    delta = _threshold("huber_loss", "delta", delta, positive=True)
    _float_only("huber_loss", input)
    from .factory import where
    diff = input - _target("huber_loss", target, input, broadcast="warn")
    z = diff.abs()
    inner = diff.clip(-delta, delta)
    loss = where(z < delta, inner * inner * 0.5, (z - 0.5 * delta) * delta)
    if weight is not None:
        _check_operand("huber_loss", "weight", weight, input, same_dtype=False)
        if weight.shape != input.shape:
            raise ShapeError(f"huber_loss: weight shape {weight.shape} != input shape {input.shape} "
                             f"(one weight per element)")
        loss = loss * weight
    loss = _reduced(_in_dtype_of_input(loss, input), reduction)
    return loss if weight is not None else ops.torch_node(loss, "HuberLossBackward0")   # (torch's
    # weighted huber_loss is a composite: Mul / Mean / Sum)


def _in_dtype_of_input(loss: Tensor, input: Tensor) -> Tensor:
    """The loss in a float input's dtype: torch's huber and soft-margin losses write into an
    output like the input's, so a float64 target beside a float32 input gives a float32 loss."""
    return loss.to(input.dtype) if input.dtype.kind == "f" and loss.dtype != input.dtype else loss


_KL_REDUCTIONS = ("mean", "batchmean", "sum", "none")


def kl_div(input: Tensor, target: Target, size_average: Any = None, reduce: Any = None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """torch's pointwise KL divergence of log-probabilities ``input`` from ``target``:
    ``target * (log(target) - input)`` (``xlogy(t, t) - t * input``: the first term 0 where
    ``target == 0``), or ``exp(target) * (target - input)`` with ``log_target=True``.

    ``reduction``: "mean" divides the sum by the element count (torch's default, not the KL of a
    batch), "batchmean" by ``input.shape[0]`` (the mathematical KL averaged over the batch), "sum",
    "none".  The gradient with respect to a target equal to 0 is ``-input`` (torch's is NaN)."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction('kl_div', size_average, reduce, reduction)
    elif reduction == "mean":                          # torch's warning, word for word
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                      UserWarning, stacklevel=_caller_level())
    _check_rank("kl_div", "input", input, range(0, 33), "a tensor")
    if reduction not in _KL_REDUCTIONS:
        reduction = _checked_reduction("kl_div", reduction, _KL_REDUCTIONS)
    if not isinstance(log_target, (bool, np.bool_)):
        raise InputTypeError(f"kl_div: log_target must be a bool, got {type(log_target).__name__}")
    target = _target("kl_div", target, input, broadcast="silent")
    if not isinstance(target, Tensor):
        target = Tensor._make(target, input.device)
    _float_only("kl_div", input)       # torch: "kl_div: Integral inputs not supported"
    _float_only("kl_div", target)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        from .factory import where
        zero = target == 0
        with np.errstate(invalid="ignore"):          # log of a negative target is NaN, as torch's
            xlogx = where(zero, 0.0, target * where(zero, 1.0, target).log())
        loss = xlogx - target * input
    if reduction != "batchmean":
        return _reduced(loss, reduction)
    total = loss.sum()
    if input.ndim == 0:
        return total
    return total / float(input.shape[0]) if input.shape[0] else total * 0.0 + float("nan")


# ---------------------------------------------------------------------------------------------
# Margin, embedding and likelihood losses (torch's formulas, composed of Tensor ops; clamp_min's
# gradient at 0 is 1, as torch's).  Targets broadcast against the input as in torch.
# ---------------------------------------------------------------------------------------------
def _operand(op: str, name: str, value: Any, x: Tensor) -> Tensor:
    """A loss operand (target, variance, weight) as a Tensor of x's dtype and device: a Tensor
    as it is (checked; its gradient then flows), an array or number as a constant."""
    if isinstance(value, Tensor):
        _check_operand(op, name, value, x, same_dtype=False)
        return value
    if value is None or isinstance(value, (str, bytes, dict, set)):
        raise InputTypeError(f"{op}: {name} must be a Tensor, an array or a number, got "
                             f"{type(value).__name__}")
    return Tensor._make(_on_device(op, value, x.device.xp).astype(x.dtype, copy=False), x.device)


def _broadcast(op: str, **operands: Tensor) -> None:
    """A ShapeError naming every operand's shape unless they broadcast together."""
    try:
        np.broadcast_shapes(*(t.shape for t in operands.values()))
    except ValueError:
        shapes = ", ".join(f"{name} {t.shape}" for name, t in operands.items())
        raise ShapeError(f"{op}: shapes do not broadcast: {shapes}") from None


def _keeps_input_shape(op: str, name: str, operand: Tensor, x: Tensor) -> None:
    """A ShapeError unless ``operand`` broadcasts to x's shape: torch's ATen losses (soft margin,
    BCE-with-logits' weights) write into an output of the input's shape."""
    _broadcast(op, input=x, **{name: operand})
    shape = np.broadcast_shapes(x.shape, operand.shape)
    if shape != tuple(x.shape):
        raise ShapeError(f"{op}: {name} shape {tuple(operand.shape)} broadcasts the input's "
                         f"{tuple(x.shape)} to {shape}; the loss keeps the input's shape")


def _same_ndim(op: str, **operands: Tensor) -> None:
    if len({t.ndim for t in operands.values()}) > 1:
        shapes = ", ".join(f"{name} {t.shape}" for name, t in operands.items())
        raise ShapeError(f"{op}: all inputs must have the same number of dimensions, got {shapes}")


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Target, margin: float = 0.0,
                        size_average: Any = None, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """``max(0, -y (x1 - x2) + margin)``: x1 should rank above x2 where y = 1, below where y = -1."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction('margin_ranking_loss', size_average, reduce, reduction)
    op = "margin_ranking_loss"
    reduction = _check_loss(op, input1, reduction)
    x2, y = _operand(op, "input2", input2, input1), _operand(op, "target", target, input1)
    _same_ndim(op, input1=input1, input2=x2, target=y)
    _broadcast(op, input1=input1, input2=x2, target=y)
    return _reduced(ops.torch_node((-y * (input1 - x2) + _scalar(op, "margin", margin)).clip(min=0.0),
                                   "ClampMinBackward0"), reduction)     # torch's clamp_min


def hinge_embedding_loss(input: Tensor, target: Target, margin: float = 1.0,
                         size_average: Any = None, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """x where y = 1, ``max(0, margin - x)`` where y = -1 (torch's: both terms where y is
    neither, as its where(y != 1) + where(y != -1))."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction('hinge_embedding_loss', size_average, reduce, reduction)
    from .factory import where
    op = "hinge_embedding_loss"
    reduction = _check_loss(op, input, reduction)
    if reduction == "mean":     # torch's mean() of an integer loss: "could not infer output dtype"
        _float_only(op, input)
    y = _operand(op, "target", target, input)
    _broadcast(op, input=input, target=y)
    hinge = (_scalar(op, "margin", margin) - input).clip(min=0.0)
    return _reduced(where(y != 1, hinge, 0.0) + where(y != -1, input, 0.0), reduction)


def soft_margin_loss(input: Tensor, target: Target, size_average: Any = None, reduce: Any = None,
                     reduction: str = "mean") -> Tensor:
    """``log(1 + exp(-y x))`` (two-class logistic loss; computed without overflow)."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction('soft_margin_loss', size_average, reduce, reduction)
    op = "soft_margin_loss"
    reduction = _check_loss(op, input, reduction)
    _float_only(op, input)      # (torch can't write the float loss into an integer input's type)
    y = _operand(op, "target", target, input)
    _keeps_input_shape(op, "target", y, input)
    return ops.torch_node(_reduced(_in_dtype_of_input(softplus(-y * input, 1.0, math.inf), input),
                                   reduction), "SoftMarginLossBackward0")


def multilabel_soft_margin_loss(input: Tensor, target: Target, weight: Tensor | None = None,
                                size_average: Any = None, reduce: Any = None,
                                reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of sigmoid(x) against 0/1 targets per class, times ``weight`` (one
    per class), averaged over the classes (the last dim): one loss per sample, then reduced."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction('multilabel_soft_margin_loss', size_average, reduce, reduction)
    op = "multilabel_soft_margin_loss"
    reduction = _check_loss(op, input, reduction, old_mean=False)
    _check_rank(op, "input", input, range(1, 33), "(N, C) or (C,)")
    y = _operand(op, "target", target, input)
    _broadcast(op, input=input, target=y)
    loss = -(y * logsigmoid(input) + (1.0 - y) * logsigmoid(-input))
    if weight is not None:
        w = _operand(op, "weight", weight, input)
        _broadcast(op, input=input, weight=w)
        loss = loss * w
    # torch sums over the input's last dim (a target of more dims broadcasts the loss: its last
    # dim is then not the input's)
    return _reduced(loss.sum(dim=input.ndim - 1) / float(input.shape[-1]), reduction)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Target, margin: float = 0.0,
                          size_average: Any = None, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """``1 - cos(x1, x2)`` where y = 1, ``max(0, cos(x1, x2) - margin)`` where y = -1, 0 where y
    is neither; (N, D) inputs with an (N,) target or (D,) inputs with a 0-d one.  torch's cosine:
    ``<x1, x2> / sqrt((|x1|^2 + 1e-12)(|x2|^2 + 1e-12))``."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction('cosine_embedding_loss', size_average, reduce, reduction)
    from .factory import where
    op = "cosine_embedding_loss"
    reduction = _check_loss(op, input1, reduction)
    x2, y = _operand(op, "input2", input2, input1), _operand(op, "target", target, input1)
    if y.ndim > 1 or input1.ndim != y.ndim + 1 or x2.ndim != y.ndim + 1:
        raise ShapeError(f"{op}: expects (N, D) inputs with an (N,) target or (D,) inputs with a "
                         f"0-d target, got input1 {input1.shape}, input2 {x2.shape}, target {y.shape}")
    _broadcast(op, input1=input1, input2=x2)
    dim = y.ndim
    cos = (input1 * x2).sum(dim=dim) / (((input1 * input1).sum(dim=dim) + 1e-12)
                                        * ((x2 * x2).sum(dim=dim) + 1e-12)).sqrt()
    _broadcast(op, cosine=cos, target=y)
    loss = where(y == 1, 1.0 - cos, 0.0) + where(y == -1, (cos - _scalar(op, "margin", margin)).clip(min=0.0), 0.0)
    return _reduced(loss, reduction)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0,
                        p: float = 2.0, eps: float = 1e-6, swap: bool = False,
                        size_average: Any = None, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """``max(0, margin + d(a, p) - d(a, n))``, d the :func:`pairwise_distance` (p, eps) over
    the last dim; ``swap``: d(a, n) replaced by d(p, n) where that is smaller (Balntas et al.)."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction('triplet_margin_loss', size_average, reduce, reduction)
    op = "triplet_margin_loss"
    p, eps = _scalar(op, "p", p), _scalar(op, "eps", eps)
    return _triplet_loss(op, anchor, positive, negative, margin, swap, reduction,
                         lambda x1, x2: pairwise_distance(x1, x2, p, eps))


def _triplet_loss(op: str, anchor: Tensor, positive: Any, negative: Any, margin: float, swap: bool,
                  reduction: str, distance: Callable[[Tensor, Tensor], Tensor]) -> Tensor:
    """``max(0, margin + d(a, p) - d(a, n))`` for any distance: triplet_margin_loss's and
    triplet_margin_with_distance_loss's body."""
    reduction = _check_loss(op, anchor, reduction, old_mean=op == "triplet_margin_loss")
    _check_rank(op, "anchor", anchor, range(1, 33), "(N, D) or (D,)")
    pos, neg = _operand(op, "positive", positive, anchor), _operand(op, "negative", negative, anchor)
    _same_ndim(op, anchor=anchor, positive=pos, negative=neg)
    margin = _scalar(op, "margin", margin)
    if not margin > 0:
        raise ConfigError(f"{op}: margin must be greater than 0, got {margin}")
    d_pos, d_neg = distance(anchor, pos), distance(anchor, neg)
    if swap:
        d_neg = d_neg.minimum(distance(pos, neg))
    return _reduced((margin + d_pos - d_neg).clip(min=0.0), reduction)


def gaussian_nll_loss(input: Tensor, target: Target, var: Tensor | float, full: bool = False,
                      eps: float = 1e-6, reduction: str = "mean") -> Tensor:
    """``0.5 (log(v) + (x - t)^2 / v)`` (+ 0.5 log(2 pi) with ``full``), v = max(var, eps) -- the
    clamp, as torch's, outside autograd (var's gradient is taken as if it were not clamped).
    ``var``: the input's shape, or one dim short of it, or a single mismatched dim of size 1
    (homoscedastic), or a number."""
    op = "gaussian_nll_loss"
    reduction = _check_loss(op, input, reduction, old_mean=False)
    input, target, var = (v._arith(0.0) if isinstance(v, Tensor) else v     # integers: float32,
                          for v in (input, target, var))                    # not var cut to 0
    t = _operand(op, "target", target, input)
    v = _operand(op, "var", np.full(input.shape, var) if isinstance(var, (int, float)) else var, input)
    if bool((v.detach() < 0).any()):
        raise ConfigError(f"{op}: var has negative entry/entries")
    if v.shape != input.shape:
        if v.shape == input.shape[:-1]:
            v = v.unsqueeze(-1)
        elif not (v.ndim == input.ndim and sum(b for a, b in zip(input.shape, v.shape) if a != b) == 1):
            raise ShapeError(f"{op}: var is of incorrect size: {v.shape} for input {input.shape} "
                             f"(the input's shape, one dim short, or one dim of size 1)")
    _broadcast(op, input=input, target=t)
    xp = v.device.xp
    v = v + Tensor._make(xp.maximum(v.array, v.dtype.type(_scalar(op, "eps", eps))) - v.array, v.device)
    loss = (v.log() + (input - t) ** 2 / v) * 0.5
    return _reduced(loss + 0.5 * math.log(2 * math.pi) if full else loss, reduction)


def poisson_nll_loss(input: Tensor, target: Target, log_input: bool = True, full: bool = False,
                     size_average: Any = None, eps: float = 1e-8, reduce: Any = None,
                     reduction: str = "mean") -> Tensor:
    """Poisson negative log-likelihood: ``exp(x) - t x`` (``log_input``, x the log-rate) or
    ``x - t log(x + eps)``; ``full`` adds the Stirling term ``t log t - t + 0.5 log(2 pi t)``
    where t > 1."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction('poisson_nll_loss', size_average, reduce, reduction)
    from .factory import where
    op = "poisson_nll_loss"
    reduction = _check_loss(op, input, reduction, old_mean=False)
    t = _operand(op, "target", target, input)
    _broadcast(op, input=input, target=t)
    eps = _scalar(op, "eps", eps)
    loss = input.exp() - t * input if log_input else input - t * (input + eps).log()
    if full:
        big = t > 1
        safe = where(big, t, 2.0)               # log of t <= 1 never taken (its gradient NaN)
        stirling = safe * safe.log() - safe + (safe * (2 * math.pi)).log() * 0.5
        loss = loss + where(big, stirling, 0.0)
    return _reduced(loss, reduction)


# ---------------------------------------------------------------------------------------------
# Softmax family and cross-entropy (classification; the metrics' classifier trains with these)
# ---------------------------------------------------------------------------------------------
def _check_dim(op: str, x: Tensor, dim: int) -> int:
    _check_rank(op, "input", x, range(1, 33), "at least 1-D")
    return x._dim(dim, op)


class LogSoftmax(Function):
    """x - logsumexp(x) along ``dim``, shifted by the max so exp never overflows."""
    refuses_int = True
    reads_inputs = False   # backward reads the saved output only (torch saves the result)

    def forward(self, x, dim):
        xp = self.xp
        if not x.flags.c_contiguous:     # torch's softmax output is C order whatever x's layout
            x = xp.ascontiguousarray(x)
        out = x - x.max(axis=dim, keepdims=True)        # in place from here: one big array
        out -= xp.log(xp.exp(out).sum(axis=dim, keepdims=True))
        self.out, self.dim = out, dim
        return out

    def backward(self, g):
        # d/dx: g - softmax * sum(g), in one new array (the LM decoders' are vocab-wide)
        xp = self.xp
        r = xp.exp(self.out)
        r *= g.sum(axis=self.dim, keepdims=True)
        return xp.subtract(g, r, out=r), None

    def grad_graph(self, g):
        return g - ops.saved_output(self, self.out).exp() * g.sum(axis=self.dim, keepdims=True), None


class Softmax(Function):
    refuses_int = True
    reads_inputs = False   # backward reads the saved output only (torch saves the result)
    def forward(self, x, dim):
        xp = self.xp
        if not x.flags.c_contiguous:     # torch's softmax output is C order whatever x's layout
            x = xp.ascontiguousarray(x)
        out = x - x.max(axis=dim, keepdims=True)        # in place from here: one big array
        xp.exp(out, out=out)
        out /= out.sum(axis=dim, keepdims=True)
        self.out, self.dim = out, dim
        return out

    def backward(self, g):
        xp, s = self.xp, self.out
        r = g * s
        total = r.sum(axis=self.dim, keepdims=True)
        xp.subtract(g, total, out=r)
        r *= s
        return r, None

    def grad_graph(self, g):
        s = ops.saved_output(self, self.out)
        return s * (g - (g * s).sum(axis=self.dim, keepdims=True)), None


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """``log(softmax(x))`` along ``dim``, computed stably (never ``log`` of an underflowed 0);
    ``dim=None`` is torch's deprecated implicit choice (warned), ``dtype`` casts x first."""
    x = input   # (torch's name for the argument)
    x, dim = _softmax_input("log_softmax", x, dim, dtype)
    if x.ndim == 0:                                     # one class: log 1 = 0, as torch
        return log_softmax(x.reshape(1), 0).reshape(())
    return x * 1.0 if x.shape[dim] == 0 else LogSoftmax.apply(x, dim)   # empty stays empty


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``dim`` (max-shifted); ``dim=None`` is torch's deprecated
    implicit choice (warned), ``dtype`` casts x first."""
    x = input   # (torch's name for the argument)
    x, dim = _softmax_input("softmax", x, dim, dtype)
    if x.ndim == 0:                                     # one class: 1, as torch
        return softmax(x.reshape(1), 0).reshape(())
    return x * 1.0 if x.shape[dim] == 0 else Softmax.apply(x, dim)      # empty stays empty


def _softmax_input(op: str, x: Tensor, dim: int | None, dtype: Any) -> tuple[Tensor, int]:
    """(x cast to ``dtype``; the checked dim -- 0 or -1 of a 0-d x, as torch)."""
    _check_rank(op, "input", x, range(0, 33), "a tensor")
    x = x if dtype is None else x.to(dtype)
    dim = _legacy_softmax_dim(op, x, dim)
    if x.ndim == 0:
        if dim not in (0, -1):
            raise IndexOutOfRangeError(f"{op}: dim {dim!r} is out of range for a 0-d tensor")
        return x, 0
    return x, _check_dim(op, x, dim)


class CrossEntropy(Function):
    """Fused log-softmax + negative log-likelihood over ``(N, C)`` logits and integer targets.

    loss_i = logsumexp(x_i) - x_i[t_i]; d loss_i / d x_i = softmax(x_i) - onehot(t_i)."""

    def forward(self, x, target, reduction):
        xp = self.xp
        shifted = x - x.max(axis=1, keepdims=True)
        e = xp.exp(shifted)
        total = e.sum(axis=1, keepdims=True)
        rows = xp.arange(x.shape[0])
        loss = xp.log(total[:, 0]) - shifted[rows, target]
        self.prob, self.target, self.reduction, self.rows = e / total, target, reduction, rows
        return _reduce(loss, reduction)

    def backward(self, g):
        grad = self.prob.copy()
        grad[self.rows, self.target] -= 1
        if self.reduction == "none":
            grad *= g[:, None]
        else:
            scale = g / grad.dtype.type(max(grad.shape[0], 1)) if self.reduction == "mean" else g
            grad *= scale
        return grad, None, None

    def grad_graph(self, g):
        x = self.inputs[0]
        onehot = self.xp.zeros(x.shape, dtype=x.dtype)
        onehot[self.rows, self.target] = 1
        if self.reduction == "none":
            g = g.reshape(-1, 1)
        elif self.reduction == "mean":
            g = g / float(max(x.shape[0], 1))
        return (Softmax.apply(x, 1) - onehot) * g, None, None


def _check_long_or_byte(op: str, target: Tensor) -> None:
    """torch takes a class-index target tensor only as int64 or uint8 ("expected target dtype
    to be Long or Byte, but got Int"); a NumPy array / list target stays any integer type."""
    if target.array.dtype not in (np.int64, np.uint8):
        raise DTypeError(f"{op}: a target tensor of class indices must be int64 (or uint8), as "
                         f"torch's (\"expected target dtype to be Long or Byte\"), got "
                         f"{target.dtype}; convert with .long()")


def _integer_targets(op: str, target, n: int, classes: int, xp, ignore_index: int | None = None):
    """Class indices as an int64 array on the logits' device, checked for shape and range
    (``ignore_index`` may stand outside it)."""
    if isinstance(target, Tensor):
        if target.array.dtype.kind in "fc":      # torch: "expected target dtype to be Long or Byte"
            raise float_index_error(op, target.dtype, "target (class indices)")
        _check_long_or_byte(op, target)
        target = target.array
    target = _on_device(op, target, xp)
    if target.shape != (n,):
        soft = f" (class indices) or ({n}, {classes}) (class probabilities)" if op == "cross_entropy" else ""
        raise ShapeError(f"{op}: target must have shape ({n},){soft} for logits (N={n}, C={classes}), "
                         f"got {tuple(target.shape)}")
    kind = target.dtype.kind
    if kind == "f":
        if not bool(xp.all(target == xp.floor(target))):
            raise DTypeError(f"{op}: target must hold integer class indices, got non-integral "
                             f"{target.dtype} values")
    elif kind not in "iu":
        raise DTypeError(f"{op}: target must be an integer array of class indices, got {target.dtype}")
    target = target.astype(np.int64)
    checked = target if ignore_index is None else target[target != ignore_index]
    if checked.size and (int(checked.min()) < 0 or int(checked.max()) >= classes):
        raise ClassIndexError(f"{op}: target class indices must be in [0, {classes}), got values in "
                          f"[{int(checked.min())}, {int(checked.max())}]")
    return target


def cross_entropy(input: Tensor, target: Target, weight: Tensor | None = None,
                  size_average: Any = None, ignore_index: int = -100, reduce: Any = None,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy of ``softmax(logits)`` against integer class ``target`` (torch's
    ``F.cross_entropy``): mean (or sum/none) of ``-log p[target]``.  Logits are ``(N, C)``, or as
    in torch ``(C,)`` with a 0-d target, or ``(N, C, d1, ..., dk)`` with an ``(N, d1, ..., dk)``
    target (one loss per position; see :func:`_over_rows`).

    torch's options: ``weight`` (C,) scales each sample's loss by its target class's weight
    (the mean then divides by the sum of those weights); samples whose target is
    ``ignore_index`` count for nothing; ``label_smoothing`` = e mixes the target with the
    uniform distribution: ``(1 - e) * nll + e / C * sum_c -w_c log p_c``.  With the defaults the
    fused op runs; otherwise the same loss is composed from ``log_softmax`` and indexing.

    A floating-point ``target`` of the logits' own shape ``(N, C)`` holds class probabilities
    (torch >= 1.10): ``loss_i = -sum_c w_c y_ic log p_ic`` with ``y = (1 - e) target + e / C``;
    "mean" divides by N (not by the weights), ``ignore_index`` must stay negative, and the
    gradient flows to the target (and the weight) when they require one.  ``size_average`` /
    ``reduce``: torch's deprecated pair (:func:`_legacy_reduction`)."""
    logits = input
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction("cross_entropy", size_average, reduce, reduction)
    if isinstance(weight, str):        # cross_entropy(x, t, "sum"): torch's third argument is weight
        raise InputTypeError(f"cross_entropy: the third argument is weight (torch's order); pass "
                             f"reduction={weight!r} by keyword")
    if reduction not in _REDUCTIONS:
        reduction = _checked_reduction("cross_entropy", reduction)
    if not isinstance(logits, Tensor) or logits.ndim != 2:
        return _over_rows(cross_entropy, "cross_entropy", "logits", logits, target, weight=weight,
                          ignore_index=ignore_index, reduction=reduction, label_smoothing=label_smoothing)
    if logits.array.dtype.kind not in "fc":     # (Function.apply would compute them in float32;
        _float_only("cross_entropy", logits)    # inline: no call on the float path)
    n, classes = logits.shape
    if classes == 0:
        raise ShapeError(f"cross_entropy: logits need at least one class, got shape {logits.shape}")
    smoothing = _scalar("cross_entropy", "label_smoothing", label_smoothing)
    if not smoothing <= 1.0:
        raise FunctionalOptionError(f"cross_entropy: label_smoothing must be in [0, 1], got {smoothing} "
                                    f"(a negative one means none, as torch)")
    smoothing = max(smoothing, 0.0)     # torch smooths only when label_smoothing > 0
    if not _is_int(ignore_index):
        raise InputTypeError(f"cross_entropy: ignore_index must be an int, got {ignore_index!r}")
    xp = logits.device.xp
    if tuple(target.shape if hasattr(target, "shape") else np.shape(target)) == logits.shape:
        loss = _probability_cross_entropy(logits, target, weight, int(ignore_index), reduction, smoothing)
        return ops.torch_node(loss, _PROBABILITY_CE_NODES.get(reduction, "NegBackward0"))
    target = _integer_targets("cross_entropy", target, n, classes, xp, int(ignore_index))
    if weight is None and smoothing == 0.0 and bool((target != ignore_index).all()):
        return CrossEntropy.apply(logits, target, reduction)
    logp = log_softmax(logits, dim=1)
    loss = _weighted_nll("cross_entropy", logp, target, weight, int(ignore_index), reduction, smoothing)
    return ops.torch_node(loss, "AddBackward0" if smoothing else "NllLossBackward0")   # torch's nodes


_PROBABILITY_CE_NODES = {"mean": "DivBackward1", "sum": "NegBackward0"}   # torch's composite's


def _over_rows(loss_fn: Callable[..., Tensor], op: str, name: str, input: Tensor, target: Target,
               **options: Any) -> Tensor:
    """torch's other layouts of a class loss, as rows of the (N, C) one: an unbatched ``(C,)``
    input with a 0-d target is one row; ``(N, C, d1, ..., dk)`` (a per-pixel loss) moves the
    classes last and has one row per position, the target ``(N, d1, ..., dk)``.  "mean" then
    averages over every position (weighted), as torch's; "none" comes back in the target's layout."""
    _check_rank(op, name, input, tuple(range(1, 9)), "(C), (N, C) or (N, C, d1, ..., dk)")
    array = target.array if isinstance(target, Tensor) else target
    target_shape = tuple(np.shape(array)) if not hasattr(array, "shape") else tuple(array.shape)
    classes = input.shape[0 if input.ndim == 1 else 1]
    positions = () if input.ndim == 1 else (input.shape[0],) + input.shape[2:]
    classes_last = (0,) + tuple(range(2, input.ndim)) + (1,)
    as_rows = input.reshape(1, classes) if input.ndim == 1 else \
        input.permute(classes_last).reshape(math.prod(positions), classes)
    if target_shape == input.shape and op == "cross_entropy":     # class probabilities
        if not isinstance(target, Tensor):
            target = _on_device(op, target, input.device.xp)
            if target.dtype.kind != "f":
                raise DTypeError(f"{op}: a target of the logits' shape {input.shape} holds class "
                                 f"probabilities and must be floating point, got {target.dtype} (class "
                                 f"indices have shape {positions})")
            target = input.device.xp.transpose(target, classes_last if input.ndim > 1 else None)
        else:
            target = target if input.ndim == 1 else target.permute(classes_last)
        target = target.reshape(as_rows.shape)
    elif target_shape == positions:                                # class indices
        if isinstance(target, Tensor) and array.dtype.kind in "fc":
            raise float_index_error(op, target.dtype, "target (class indices)")
        if isinstance(target, Tensor):
            _check_long_or_byte(op, target)
        if not hasattr(array, "reshape"):
            array = np.asarray(array)
        target = array.reshape(as_rows.shape[0])
    else:
        soft = f" (class indices) or {input.shape} (class probabilities)" if op == "cross_entropy" else ""
        raise ShapeError(f"{op}: for {name} of shape {input.shape} the target must have shape "
                         f"{positions}{soft}, got {target_shape}")
    if input.ndim == 1 and options["reduction"] == "none":    # one row: its "sum" is its loss,
        return loss_fn(as_rows, target, **{**options, "reduction": "sum"})   # 0-d under torch's node
    loss = loss_fn(as_rows, target, **options)
    if options["reduction"] == "none":
        return loss.reshape(positions)
    if input.ndim > 2 and loss.grad_fn is not None and loss.grad_fn.name() == "NllLossBackward0":
        return ops.torch_node(loss, "NllLoss2DBackward0")      # torch's per-pixel node
    return loss


def _probability_cross_entropy(logits: Tensor, target, weight: Tensor | None, ignore_index: int,
                               reduction: str, smoothing: float) -> Tensor:
    """cross_entropy against class probabilities (``target.shape == logits.shape``), as torch's."""
    op, (n, classes) = "cross_entropy", logits.shape
    if ignore_index >= 0:
        raise ConfigError(f"{op}: ignore_index ({ignore_index}) is not supported for class-probability "
                          f"targets (a target of the logits' shape {logits.shape}); leave it negative")
    array = target.array if isinstance(target, Tensor) else _on_device(op, target, logits.device.xp)
    if array.dtype.kind != "f":        # (an int / bool tensor too, as torch refuses)
        raise DTypeError(f"{op}: a target of the logits' shape {logits.shape} holds class "
                         f"probabilities and must be floating point, got {array.dtype} (class "
                         f"indices have shape ({n},))")
    if isinstance(target, Tensor):
        _check_operand(op, "target", target, logits, same_dtype=False)
    else:
        target = Tensor._make(array.astype(logits.dtype), logits.device)
    if smoothing:
        target = target * (1.0 - smoothing) + smoothing / classes
    products = log_softmax(logits, dim=1) * target
    if weight is not None:
        _check_rank(op, "weight", weight, (1,), f"({classes},)")
        if weight.shape != (classes,):
            raise ShapeError(f"{op}: weight must have shape ({classes},), got {weight.shape}")
        if weight.device is not logits.device or weight.dtype != logits.dtype:
            weight = Tensor._make(weight.detach().to(logits.device).array.astype(logits.dtype),
                                  logits.device)
        products = products * weight.reshape(1, classes)
    loss = -products.sum(dim=1)
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return total
    return total / float(n) if n else total * 0.0 + float("nan")


def nll_loss(input: Tensor, target: Target, weight: Tensor | None = None, size_average: Any = None,
             ignore_index: int = -100, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """``torch.nn.functional.nll_loss`` on ``(N, C)`` log-probabilities: the mean (sum, none) of
    ``-weight[t] * input[i, t]``; ``cross_entropy(x, t)`` is ``nll_loss(log_softmax(x), t)``.
    ``(C,)`` and ``(N, C, d1, ..., dk)`` inputs as in cross_entropy."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction("nll_loss", size_average, reduce, reduction)
    if isinstance(weight, str):
        raise InputTypeError(f"nll_loss: the third argument is weight (torch's order); pass "
                             f"reduction={weight!r} by keyword")
    if reduction not in _REDUCTIONS:
        reduction = _checked_reduction("nll_loss", reduction)
    if not isinstance(input, Tensor) or input.ndim != 2:
        return _over_rows(nll_loss, "nll_loss", "input", input, target, weight=weight,
                          ignore_index=ignore_index, reduction=reduction)
    if not _is_int(ignore_index):
        raise InputTypeError(f"nll_loss: ignore_index must be an int, got {ignore_index!r}")
    _float_only("nll_loss", input)     # (log-probabilities: torch's nll_loss of Long is not implemented)
    n, classes = input.shape
    target = _integer_targets("nll_loss", target, n, classes, input.device.xp, int(ignore_index))
    return ops.torch_node(_weighted_nll("nll_loss", input, target, weight, int(ignore_index), reduction,
                                        0.0), "NllLossBackward0")


class _TargetPick(ops.MaxPick):
    """``logp[rows, targets]``, nll_loss's pick: linear in logp, but torch's nll_loss double
    backward keeps an edge to the input (nll_loss_backward takes self), so a penalty on the
    input's gradient gets zeros there, not a "does not require grad" refusal."""


def _weighted_nll(op: str, logp: Tensor, target, weight: Tensor | None, ignore_index: int,
                  reduction: str, smoothing: float) -> Tensor:
    """torch's weighted, ignore-aware negative log-likelihood (with label smoothing) of
    (N, C) log-probabilities: shared by cross_entropy and nll_loss."""
    xp, (n, classes) = logp.device.xp, logp.shape
    kept = target != ignore_index
    if weight is None:
        w = xp.ones(classes, dtype=logp.dtype)
    else:
        _check_rank(op, "weight", weight, (1,), f"({classes},)")
        if weight.shape != (classes,):
            raise ShapeError(f"{op}: weight must have shape ({classes},), got {weight.shape}")
        _one_dtype(op, input=logp, weight=weight)
        w = weight.detach().to(logp.device).array.astype(logp.dtype)
    safe = xp.where(kept, target, 0)
    sample_w = w[safe] * kept                       # each sample's weight, 0 where ignored
    loss = -_TargetPick.apply(logp, (xp.arange(n), safe)) * Tensor._make(sample_w, logp.device)
    if smoothing:
        spread = -(logp * Tensor._make(w, logp.device)).sum(dim=1) * Tensor._make(
            kept.astype(logp.dtype), logp.device)
        loss = (1.0 - smoothing) * loss + (smoothing / classes) * spread
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return total
    denominator = float(sample_w.sum())
    if denominator:
        return total / denominator
    # No weight at all (every sample ignored, or only weight-0 classes): NaN, as torch (its
    # 0/0), whose gradient is 0 on the ignored rows and NaN on the kept ones -- not NaN everywhere.
    if bool(kept.any()):
        scale = xp.where(kept, np.nan, 0.0).astype(logp.dtype)
        return (loss * Tensor._make(scale, logp.device)).sum()
    return total * 0.0 + float("nan")


def padding_row(owner: str, padding_idx: Any, vocab: int) -> int | None:
    """``padding_idx`` checked against ``vocab`` rows and made a row number (-1: the last)."""
    if padding_idx is None:
        return None
    if not _is_int(padding_idx) or not -vocab <= padding_idx < vocab:
        raise ConfigError(f"{owner}: padding_idx must be an int in [-{vocab}, {vocab}), got "
                          f"{padding_idx!r}")
    return int(padding_idx) % vocab


def embedding(input: Any, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """``torch.nn.functional.embedding``: rows of ``weight`` (V, D) at whole-number indices
    (a NumPy integer array, a list, or a tensor holding them); the ``padding_idx`` row gets no
    gradient. ``max_norm``: the rows looked up whose ``norm_type``-norm exceeds it are first
    rescaled to it, in place in ``weight`` (torch's embedding_renorm_); ``scale_grad_by_freq``:
    each row's gradient is divided by how often its index occurs in ``input``; ``sparse`` is
    accepted, the gradient staying a dense Tensor with the same values as torch's sparse one."""
    if max_norm is not None or scale_grad_by_freq:
        return _embedding_options("embedding", input, weight, padding_idx, max_norm, norm_type,
                                  scale_grad_by_freq)
    if not isinstance(weight, Tensor) or weight.ndim != 2:
        raise ShapeError(f"embedding: weight must be a 2-D (num_embeddings, embedding_dim) "
                         f"Tensor, got {getattr(weight, 'shape', type(weight).__name__)}")
    vocab = weight.shape[0]
    if isinstance(input, Tensor) and input.array.dtype.kind in "fcbiu" and input.array.dtype not in (
            np.dtype(np.int32), np.dtype(np.int64)):
        if input.array.dtype.kind in "fc":
            raise float_index_error("embedding", input.dtype, "input")
        raise IndexDTypeError(f"embedding: expected an int64 or int32 tensor for input (the "
                              f"indices), got {input.dtype} (as torch); convert with .long()")
    index = input.numpy() if isinstance(input, Tensor) else np.asarray(input)
    if index.dtype.kind not in "iuf" or (index.size and not (
            (index == np.round(index)).all() and 0 <= index.min() and index.max() < vocab)):
        flat = index.ravel()
        bad = flat if index.dtype.kind not in "iuf" else flat[
            (flat != np.round(flat)) | (flat < 0) | (flat >= vocab)]
        whole = index.dtype.kind in "iuf" and bool((bad == np.round(bad)).all())
        raise (IndexValueError if whole else InputTypeError)(      # out of range: an IndexError too
            f"embedding of {vocab} rows: indices must be whole numbers in "
            f"[0, {vocab}), got {bad[:4]}{'...' if bad.size > 4 else ''}")
    padding_idx = padding_row("embedding", padding_idx, vocab)
    rows = weight[weight.device.xp.asarray(index.astype(np.int64))]
    if rows._ctx is not None:
        # The lookup's backward scatters into zeros and never reads the weight's values, so a
        # later max_norm renorm of the weight (another lookup in the same step) must not make it
        # refuse, as torch's does not; ops that did save the weight still see the renorm's
        # version bump and refuse (a tied output layer computed before the renorm).
        rows._ctx.versions = (None,) * len(rows._ctx.versions)
    if padding_idx is None:
        return ops.torch_node(rows, "EmbeddingBackward0")    # (an advanced index: a copy)
    trained = weight.device.xp.asarray(index != padding_idx)[..., None]
    return ops.torch_node(ops.Where.apply(rows, rows.detach(), trained),    # same values; no
                          "EmbeddingBackward0")                             # gradient to that row


def _embedding_options(op: str, input: Any, weight: Tensor, padding_idx: Any, max_norm: Any,
                       norm_type: Any, scale_grad_by_freq: bool) -> Tensor:
    """F.embedding with max_norm / scale_grad_by_freq (kept off the plain path)."""
    if isinstance(input, Tensor) and input.array.dtype.kind in "fc":
        raise float_index_error(op, input.dtype, "input")
    index = input.numpy() if isinstance(input, Tensor) else np.asarray(input)
    if max_norm is not None:
        renorm_rows(op, weight, index, max_norm, norm_type)
    rows = embedding(input, weight, padding_idx)
    return ops.torch_node(scale_by_freq(rows, index), "EmbeddingBackward0") if scale_grad_by_freq else rows


def renorm_rows(op: str, weight: Tensor, index: np.ndarray, max_norm: Any, norm_type: Any) -> None:
    """torch's embedding_renorm_: the rows of ``weight`` at ``index`` whose ``norm_type``-norm
    exceeds ``max_norm`` scaled by max_norm / (norm + 1e-7), in place and outside the graph."""
    max_norm = _scalar(op, "max_norm", max_norm)
    norm_type = _scalar(op, "norm_type", norm_type)
    vocab = weight.shape[0]
    flat = np.asarray(index).ravel()
    if flat.size == 0:
        return
    if flat.dtype.kind not in "iu" and not (flat == np.round(flat)).all():
        raise InputTypeError(f"{op} of {vocab} rows: indices must be whole numbers in [0, {vocab})")
    if flat.min() < 0 or flat.max() >= vocab:
        raise IndexValueError(f"{op} of {vocab} rows: indices must be whole numbers in [0, {vocab})")
    xp = weight.device.xp
    used = xp.asarray(np.unique(flat.astype(np.int64)))
    sub = weight.array[used]
    norms = xp.linalg.norm(sub, ord=norm_type, axis=1)
    scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(weight.dtype)
    weight.array[used] = sub * scale[:, None]
    weight._bump_version()


def scale_by_freq(rows: Tensor, index: np.ndarray) -> Tensor:
    """``rows`` (index.shape + (D,)) whose gradient is divided by each index's count in
    ``index`` (torch's scale_grad_by_freq); the values are unchanged."""
    flat = np.asarray(index).astype(np.int64).ravel()
    counts = np.bincount(flat)[flat].reshape(np.shape(index)) if flat.size else np.ones(np.shape(index))
    xp = rows.device.xp
    c = Tensor._make(xp.asarray(counts.astype(rows.dtype))[..., None], rows.device)
    fixed = rows.detach()
    return fixed + (rows - fixed) / c


# ---------------------------------------------------------------------------------------------
# Pooling.  Non-overlapping windows with no padding (kernel_size == stride, the common case; rows
# and columns that do not fill a window are dropped, like torch's floor mode) take one-pass
# Functions; every other geometry (stride, padding, dilation, ceil_mode, adaptive windows)
# gathers its windows with indexing, whose gradient is a scatter-add.
# ---------------------------------------------------------------------------------------------
def _pool_windows(xp, x, kh: int, kw: int):
    """(N, C, H, W) -> (N, C, Ho, Wo, kh*kw) non-overlapping windows (a copy)."""
    n, c, h, w = x.shape
    ho, wo = h // kh, w // kw
    v = x[:, :, :ho * kh, :wo * kw].reshape(n, c, ho, kh, wo, kw)
    return xp.ascontiguousarray(v.transpose(0, 1, 2, 4, 3, 5)).reshape(n, c, ho, wo, kh * kw)


def _unpool_windows(xp, g, shape, kh: int, kw: int):
    """Inverse layout of _pool_windows: (N, C, Ho, Wo, kh*kw) -> (N, C, H, W), zeros elsewhere."""
    n, c, h, w = shape
    ho, wo = g.shape[2], g.shape[3]
    body = g.reshape(n, c, ho, wo, kh, kw).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, ho * kh, wo * kw)
    if (ho * kh, wo * kw) == (h, w):
        return xp.ascontiguousarray(body)
    out = xp.zeros(shape, dtype=g.dtype)
    out[:, :, :ho * kh, :wo * kw] = body
    return out


def _unpool_windows_graph(g: Tensor, shape, kh: int, kw: int) -> Tensor:
    """_unpool_windows in Tensor ops (graph mode): (N, C, Ho, Wo, kh*kw) -> (N, C, H, W)."""
    n, c, h, w = shape
    ho, wo = g.shape[2], g.shape[3]
    body = g.reshape(n, c, ho, wo, kh, kw).permute(0, 1, 2, 4, 3, 5).reshape(n, c, ho * kh, wo * kw)
    if (ho * kh, wo * kw) == (h, w):
        return body
    return ops.ScatterIntoZeros.apply(body, tuple(shape), (slice(None), slice(None),
                                                           slice(0, ho * kh), slice(0, wo * kw)))


def _per_window(g: Tensor, k: int) -> Tensor:
    """(N, C, Ho, Wo) -> (N, C, Ho, Wo, k): each window's gradient, once per element."""
    return g.reshape(*g.shape, 1).expand(*g.shape, k)


class MaxPool2d(Function):
    """Non-overlapping windows: a running maximum over the kh*kw strided taps (no window copy,
    no argmax over a length-4 axis); the gradient goes to each window's first maximum (a NaN
    counts as the maximum, as torch's), found again in backward from the saved input and
    output."""
    takes_int = True    # a pick, exact on integers (torch keeps int64)

    def forward(self, x, kh, kw):
        xp = self.xp
        ho, wo = x.shape[2] // kh, x.shape[3] // kw
        taps = [x[:, :, i:ho * kh:kh, j:wo * kw:kw] for i in range(kh) for j in range(kw)]
        out = taps[0].copy()                    # C order: a new array, never a view of x
        for t in taps[1:]:
            xp.maximum(out, t, out=out)         # NaN wins, as torch
        self.x, self.out, self.shape, self.k = x, out, x.shape, (kh, kw)
        return out

    def _hits(self):
        """Per tap (row-major over the window), the bool mask of the windows whose first
        maximum it holds."""
        x, out = self.x, self.out
        kh, kw = self.k
        ho, wo = out.shape[2], out.shape[3]
        nan = x.dtype.kind == "f" and bool(self.xp.isnan(out).any())
        free = None
        for i in range(kh):
            for j in range(kw):
                t = x[:, :, i:ho * kh:kh, j:wo * kw:kw]
                hit = t == out
                if nan:
                    hit |= t != t
                if free is None:
                    free = ~hit
                else:
                    hit &= free
                    free &= ~hit
                yield (i, j), hit

    def backward(self, g):
        xp = self.xp
        kh, kw = self.k
        ho, wo = g.shape[2], g.shape[3]
        tiled = (ho * kh, wo * kw) == tuple(self.shape[2:])
        gx = (xp.empty if tiled else xp.zeros)(self.shape, dtype=g.dtype)
        for (i, j), hit in self._hits():
            select(xp, g, hit, out=gx[:, :, i:ho * kh:kh, j:wo * kw:kw])   # torch's: NaN g -> 0 off the max
        return gx, None, None

    def grad_graph(self, g):
        kh, kw = self.k
        mask = self.xp.stack([hit for _, hit in self._hits()], axis=-1)  # (N, C, Ho, Wo, kh*kw)
        routed = ops.constant_times(_per_window(g, kh * kw), mask)   # the max's position is
        return ops.with_zero_edge(_unpool_windows_graph(routed, self.shape, kh, kw),  # locally
                                  self.inputs[0]), None, None                          # constant


class AvgPool2d(Function):
    def forward(self, x, kh, kw):
        n, c, h, w = x.shape
        ho, wo = h // kh, w // kw
        self.shape, self.k = x.shape, (kh, kw)
        v = x[:, :, :ho * kh, :wo * kw].reshape(n, c, ho, kh, wo, kw)
        return v.mean(axis=(3, 5))

    def backward(self, g):
        xp = self.xp
        kh, kw = self.k
        n, c, h, w = self.shape
        ho, wo = g.shape[2], g.shape[3]
        scaled = g / g.dtype.type(kh * kw)
        body = xp.broadcast_to(scaled[:, :, :, None, :, None], (n, c, ho, kh, wo, kw))
        body = body.reshape(n, c, ho * kh, wo * kw)
        if (ho * kh, wo * kw) == (h, w):
            return xp.ascontiguousarray(body), None, None
        out = xp.zeros(self.shape, dtype=g.dtype)
        out[:, :, :ho * kh, :wo * kw] = body
        return out, None, None

    def grad_graph(self, g):
        kh, kw = self.k
        spread = _per_window(g, kh * kw) * (1.0 / (kh * kw))
        return ops.with_zero_edge(_unpool_windows_graph(spread, self.shape, kh, kw),   # torch's
                                  self.inputs[0]), None, None       # avg_pool2d_backward edge


def pool_geometry(op: str, kernel_size, stride, padding, dilation, dims: int = 2) -> tuple:
    """torch's pooling window arguments as ``dims``-tuples (kernel, stride, padding, dilation),
    checked (the layers check them when built, the functions when called)."""
    k = _ntuple(kernel_size, "kernel_size", 1, op, dims)
    s = k if stride is None or (isinstance(stride, (tuple, list)) and not stride) \
        else _ntuple(stride, "stride", 1, op, dims)
    p, d = _ntuple(padding, "padding", 0, op, dims), _ntuple(dilation, "dilation", 1, op, dims)
    if any(pi > ki // 2 for pi, ki in zip(p, k)):
        raise WindowArgError(f"{op}: padding must be at most half the kernel size, got padding {p} "
                          f"and kernel_size {k}")
    return k, s, p, d


_POOL_LAYOUTS = {2: "(N, C, H, W) or unbatched (C, H, W)", 3: "(N, C, D, H, W)"}


def _check_pool(op: str, x: Tensor, kernel_size, stride, padding, dilation, ceil_mode: bool,
                dims: int = 2):
    """torch's pooling arguments, checked: (kernel, stride, padding, dilation, output size)."""
    _check_rank(op, "input", x, (dims + 2,), _POOL_LAYOUTS[dims])
    k, s, p, d = pool_geometry(op, kernel_size, stride, padding, dilation, dims)
    if not isinstance(ceil_mode, (bool, np.bool_)):
        raise InputTypeError(f"{op}: ceil_mode must be a bool, got {ceil_mode!r}")
    out = tuple(_pool_output_size(n, *a, ceil_mode) for n, a in zip(x.shape[2:], zip(k, s, p, d)))
    if min(out) < 1:
        raise ShapeError(f"{op}: kernel {k} (dilation {d}, padding {p}) is larger than the "
                         f"input {x.shape[2:]} (input {x.shape}): the output would be {out}")
    return k, s, p, d, out


def _pool_output_size(n: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """torch's rule: floor (or ceil) of the span over the stride, plus one; with ceil_mode the
    last window must start inside the input or its left padding."""
    out = (n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def _is_tiling(x: Tensor, k, s, p, d, ceil_mode: bool) -> bool:
    """Non-overlapping windows with no padding: the fast Functions above handle it."""
    whole = all(n % kk == 0 for n, kk in zip(x.shape[2:], k))
    return s == k and p == (0, 0) and d == (1, 1) and (not ceil_mode or whole)


def _window_index(x: Tensor, positions: Sequence[np.ndarray], oks: Sequence[Any] | None = None):
    """General pooling windows over the last ``m = len(positions)`` dims as an index:
    ``positions[i]`` (out_i, k_i) holds each window's input positions along dim i, some outside
    the input (padding) or flagged off by ``oks[i]`` (adaptive pooling's shorter windows).
    Returns ``x[key]``'s key, shape (N, C, *out, *k), with out-of-range positions clipped, and
    the (*out, *k) mask of real elements."""
    m = len(positions)
    keys, valid = [], np.ones((1,) * (2 * m), bool)
    for i, (pos, n) in enumerate(zip(positions, x.shape[-m:])):
        shape = [1] * (2 * m)
        shape[i], shape[m + i] = pos.shape
        ok = (pos >= 0) & (pos < n) & (True if oks is None else oks[i])
        keys.append(np.clip(pos, 0, n - 1).reshape(shape))
        valid = valid & ok.reshape(shape)
    return (Ellipsis, *keys), valid


def _device_key(x: Tensor, key: tuple) -> tuple:
    xp = x.device.xp
    return tuple(k if k is Ellipsis else xp.asarray(k) for k in key)


def _max_over_windows(x: Tensor, key: tuple, valid: np.ndarray, return_indices: bool, node: str) -> Any:
    """Each window's maximum as ``x[n, c, *position]`` at the first maximum's position (torch's
    tie rule): the choice is data, not graph, so the gradient (and its gradient) is indexing's,
    under torch's ``node`` name.  ``return_indices``: also that position flattened over the
    spatial dims (int64), torch's."""
    xp = x.device.xp
    m = valid.ndim // 2
    out, k = valid.shape[:m], valid.shape[m:]
    ok = xp.asarray(valid.reshape(*out, -1))
    vals = x.array[_device_key(x, key)]
    vals = vals.reshape(*vals.shape[:2 + m], -1)
    pick = xp.where(ok, vals, -xp.inf).argmax(axis=-1)                 # (N, C, *out)
    picked_ok = xp.take_along_axis(xp.broadcast_to(ok, vals.shape), pick[..., None], axis=-1)[..., 0]
    pick = xp.where(picked_ok, pick, ok.argmax(axis=-1))  # all -inf: torch takes the first real
    coords = []
    for i in reversed(range(m)):          # the tap along dim i -> that dim's input position
        tap, pick = pick % k[i], pick // k[i]
        along = [1] * m
        along[i] = out[i]
        coords.insert(0, xp.asarray(key[1 + i].reshape(out[i], k[i]))[xp.arange(out[i]).reshape(along), tap])
    n, c = x.shape[:2]
    lead = (xp.arange(n).reshape((n, 1) + (1,) * m), xp.arange(c).reshape((1, c) + (1,) * m))
    result = ops.torch_named(ops.MaxPick, node).apply(x, lead + tuple(coords))   # x[lead + coords]
    empty = ~valid.any(axis=tuple(range(m, 2 * m)))     # dilated windows can fall wholly in
    if empty.any():                                      # the padding: -inf there, as torch,
        from .factory import where                       # and no gradient
        result = ops.torch_node(where(Tensor._make(xp.asarray(empty), x.device), float("-inf"), result), node)
    if not return_indices:
        return result
    flat = coords[0]
    for size, coord in zip(x.shape[3:], coords[1:]):
        flat = flat * size + coord
    return result, Tensor._make(flat.astype(np.int64), x.device)


def _sum_over_windows(x: Tensor, key: tuple, weights: np.ndarray, node: str) -> Tensor:
    """sum(window * weights) per window: average pooling with any divisor, as a gather (whose
    gradient is a scatter-add, with torch's zero-derivative edge to x in graph mode) times
    constants; the sum under torch's ``node`` name."""
    windows = ops.WindowPick.apply(x, _device_key(x, key))
    if not x.array.flags.c_contiguous and windows.grad_fn is not None and \
            memory_formats.suggest(x.array) is memory_formats.channels_last:
        _grad_laid_like_input(windows.grad_fn)   # torch's 2-D pool backward lays it out as x
    w = Tensor._make(x.device.xp.asarray(weights.astype(x.dtype)), x.device)
    return ops.torch_node((windows * w).sum(axis=tuple(range(-(weights.ndim // 2), 0))), node)


def _windows_along(n: int, k: int, s: int, p: int, d: int, out: int) -> np.ndarray:
    """(out, k) input positions of each window along one dim; padding is < 0 or >= n."""
    return np.arange(out)[:, None] * s - p + np.arange(k)[None, :] * d


def _pool_windows_index(x: Tensor, k, s, p, d, out) -> tuple:
    """_window_index of the (k, s, p, d) pooling windows of x's spatial dims, ``out`` per dim."""
    return _window_index(x, [_windows_along(*a) for a in zip(x.shape[2:], k, s, p, d, out)])


def _not_implemented_for(op: str, x: Tensor) -> DTypeNotImplementedError:
    """The error (raised by the caller) for a pooling / resizing op given a dtype torch does not
    implement it for (``"max_pool1d_impl" not implemented for 'Long'``): named, as torch's."""
    return DTypeNotImplementedError(f"{op}: not implemented for dtype {x.dtype}, as torch's is not "
                                    f"(convert with .float())")


@_keeps_format
def max_pool2d(input: Tensor, kernel_size: IntOrPair, stride: IntOrPair | None = None,
               padding: IntOrPair = 0, dilation: IntOrPair = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Tensor:
    """``torch.nn.functional.max_pool2d`` on ``(N, C, H, W)``: the maximum of each window
    (padding never wins; the gradient goes to the first maximum, as torch).  Non-overlapping,
    unpadded windows (``stride`` None or equal to ``kernel_size``) take a one-pass Function;
    any other geometry gathers the windows with indexing."""
    x = input   # (torch's name for the argument)
    _pool_input("max_pool2d", x)
    if x.array.dtype.kind == "b":           # integers pool as torch's, bools are refused
        raise _not_implemented_for("max_pool2d", x)
    if _unbatched(x, 4):        # torch's unbatched (C, H, W): a batch of one
        return _batch_of_one(x, 4, lambda x4: max_pool2d(x4, kernel_size, stride, padding, dilation,
                                                         ceil_mode, return_indices))
    k, s, p, d, out = _check_pool("max_pool2d", x, kernel_size, stride, padding, dilation,
                                  ceil_mode)
    if _is_tiling(x, k, s, p, d, ceil_mode) and not return_indices:
        return MaxPool2d.apply(x, *k)
    return _max_over_windows(x, *_pool_windows_index(x, k, s, p, d, out), bool(return_indices),
                             "MaxPool2DWithIndicesBackward0")


@_keeps_format
def avg_pool2d(input: Tensor, kernel_size: IntOrPair, stride: IntOrPair | None = None,
               padding: IntOrPair = 0, ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """``torch.nn.functional.avg_pool2d`` on ``(N, C, H, W)``.  The divisor is torch's: the
    window's size clipped to the padded input (``count_include_pad``, the default), or the
    count of real elements, or ``divisor_override``."""
    x = input   # (torch's name for the argument)
    if _unbatched(x, 4):        # torch's unbatched (C, H, W): a batch of one
        return _batch_of_one(x, 4, lambda x4: avg_pool2d(x4, kernel_size, stride, padding, ceil_mode,
                                                         count_include_pad, divisor_override))
    return _avg_pool("avg_pool2d", x, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, 2)


def _avg_pool(op: str, x: Tensor, kernel_size: Any, stride: Any, padding: Any, ceil_mode: bool,
              count_include_pad: bool, divisor_override: int | None, dims: int) -> Tensor:
    """avg_pool2d / avg_pool3d: a weighted sum over each window's real elements (int64, as
    torch's: the float64 average truncated toward zero; other integers and bools refused)."""
    if x.array.dtype.kind != "f":
        if x.array.dtype != np.int64:
            raise _not_implemented_for(op, x)
        return _avg_pool(op, x.to(np.float64), kernel_size, stride, padding, ceil_mode,
                         count_include_pad, divisor_override, dims).to(np.int64)
    if divisor_override is not None and (not _is_int(divisor_override) or divisor_override < 1):
        raise FunctionalOptionError(f"{op}: divisor_override must be a positive int, got "
                          f"{divisor_override!r}")
    ones = (1,) * dims
    k, s, p, _, out = _check_pool(op, x, kernel_size, stride, padding, 1, ceil_mode, dims)
    if dims == 2 and _is_tiling(x, k, s, p, ones, ceil_mode) and divisor_override in (None, k[0] * k[1]):
        return AvgPool2d.apply(x, *k)
    positions = [_windows_along(*a) for a in zip(x.shape[2:], k, s, p, ones, out)]
    key, valid = _window_index(x, positions)
    if divisor_override is not None:
        divisor = np.full(out, float(divisor_override))
    elif count_include_pad:    # the window clipped to the padded input, padding counted
        divisor = np.ones(out)
        for i, (pos, n, ki, pi) in enumerate(zip(positions, x.shape[2:], k, p)):
            span = np.minimum(pos[:, 0] + ki, n + pi) - pos[:, 0]
            divisor = divisor * span.reshape([-1 if j == i else 1 for j in range(dims)])
    else:
        divisor = valid.sum(axis=tuple(range(dims, 2 * dims))).astype(float)
    return _sum_over_windows(x, key, valid / divisor.reshape(divisor.shape + ones), f"AvgPool{dims}DBackward0")


def _adaptive_windows(n: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    """torch's adaptive windows along one dim: [floor(i*n/out), ceil((i+1)*n/out)), as (out,
    longest) positions and a mask of those inside each window."""
    start = (np.arange(out) * n) // out
    end = -((-(np.arange(out) + 1) * n) // out)
    longest = int((end - start).max())
    positions = start[:, None] + np.arange(longest)[None, :]
    return positions, positions < end[:, None]


def _adaptive_index(x: Tensor, out: Sequence[int]):
    """_window_index of the ``out`` adaptive windows (one size per spatial dim) of x."""
    windows = [_adaptive_windows(n, o) for n, o in zip(x.shape[2:], out)]
    return _window_index(x, [pos for pos, _ in windows], [ok for _, ok in windows])


def _adaptive_size(op: str, output_size, spatial: Sequence[int]) -> tuple:
    """``output_size`` as one int per spatial dim; None keeps the input's size of that dim."""
    dims = len(spatial)
    sizes = list(output_size) if isinstance(output_size, (tuple, list)) else [output_size] * dims
    if len(sizes) != dims or not all(v is None or (_is_int(v) and v >= 0) for v in sizes):
        what = "two" if dims == 2 else str(dims)
        ints = all(v is None or _is_int(v) for v in sizes)
        # torch: a negative size or a wrong count is a RuntimeError, a float a TypeError
        raise (WindowArgError if ints else ConfigTypeError)(f"{op}: output_size must be an int >= 0 or {what} of them (None keeps "
                          f"that dim; 0 gives an empty output, as torch's), got {output_size!r}")
    return tuple(n if v is None else int(v) for v, n in zip(sizes, spatial))


@_keeps_format
def adaptive_avg_pool2d(input: Tensor, output_size: IntOrPair) -> Tensor:
    """``torch.nn.functional.adaptive_avg_pool2d``: ``output_size`` windows per dim that cover
    the input (``AdaptiveAvgPool2d(1)`` is global average pooling)."""
    x = input   # (torch's name for the argument)
    return _batch_of_one(x, 4, lambda x4: _adaptive_avg_pool("adaptive_avg_pool2d", x4, output_size, 2))


def _adaptive_avg_pool(op: str, x: Tensor, output_size: Any, dims: int) -> Tensor:
    if x.array.dtype.kind != "f":
        raise _not_implemented_for(op, x)
    _check_rank(op, "input", x, (dims + 2,), _POOL_LAYOUTS[dims])
    out = _adaptive_size(op, output_size, x.shape[2:])
    if out == (1,) * dims:
        return _global_average(x, dims)     # (torch's mean: NaN over an empty dim, no error)
    _check_windows_nonempty(op, x)
    if 0 in out:
        return _empty_pool(x, out, f"AdaptiveAvgPool{dims}DBackward0")
    key, valid = _adaptive_index(x, out)
    return _sum_over_windows(x, key, valid / valid.sum(axis=tuple(range(dims, 2 * dims)), keepdims=True),
                             f"AdaptiveAvgPool{dims}DBackward0")


def _global_average(x: Tensor, dims: int) -> Tensor:
    """torch's adaptive average pool to size 1: a mean over the spatial dims, which torch
    restrides to (C, 1, C, C[, C]) for a channels_last(_3d) input (no copy: the strides of size-1 dims)."""
    out = x.mean(axis=tuple(range(2, dims + 2)), keepdims=True)
    if not x.array.flags.c_contiguous and memory_formats.suggest(x.array) is not memory_formats.contiguous_format:
        c, outer = out.array.strides[1], out.array.strides[1] * x.shape[1]
        out.array = x.device.xp.lib.stride_tricks.as_strided(out.array, strides=(outer, c) + (outer,) * dims)
        return ops.torch_node(out, "AsStridedBackward1")     # (torch's restride is its last step)
    return out


def adaptive_max_pool2d(input: Tensor, output_size: IntOrPair, return_indices: bool = False) -> Tensor:
    """``torch.nn.functional.adaptive_max_pool2d``: the maximum over adaptive windows."""
    _check_channels_nonempty("adaptive_max_pool2d", input, 4)
    return _adaptive_max_pool2d(input, output_size, return_indices)


@_keeps_format
def _adaptive_max_pool2d(x: Tensor, output_size: IntOrPair, return_indices: bool = False) -> Tensor:
    """adaptive_max_pool2d after its channel check (adaptive_max_pool1d's (C, L) input, seen as
    a batch of one, may have C = 0, as torch's)."""
    return _batch_of_one(x, 4, lambda x4: _adaptive_max_pool("adaptive_max_pool2d", x4, output_size,
                                                                return_indices, 2))


def _adaptive_max_pool(op: str, x: Tensor, output_size: Any, return_indices: bool, dims: int) -> Any:
    if x.array.dtype.kind != "f":
        raise _not_implemented_for(op, x)
    _check_rank(op, "input", x, (dims + 2,), _POOL_LAYOUTS[dims])
    out = _adaptive_size(op, output_size, x.shape[2:])
    _check_windows_nonempty(op, x)
    if 0 in out or not x.size:      # (no windows, or no (sample, channel) to pool: N or C is 0)
        empty = _empty_pool(x, out, f"AdaptiveMaxPool{dims}DBackward0")
        return (empty, Tensor._make(x.device.xp.zeros(empty.shape, np.int64), x.device)) \
            if return_indices else empty
    return _max_over_windows(x, *_adaptive_index(x, out), bool(return_indices), f"AdaptiveMaxPool{dims}DBackward0")


def _check_windows_nonempty(op: str, x: Tensor) -> None:
    """torch's adaptive pools refuse an empty spatial dim (each window would be empty: a max
    has no value, an average divides by 0)."""
    if 0 in x.shape[2:]:
        dim = x.shape.index(0, 2)
        raise ShapeError(f"{op}: expected input to have non-zero size for non-batch dimensions, but "
                         f"input has sizes {tuple(x.shape)} with dimension {dim} being empty")


def _check_channels_nonempty(op: str, x: Any, rank: int) -> None:
    """torch's adaptive max pools (and 3-D average) check every dim of a batched input but the
    batch: zero channels are refused there (an unbatched input's C is not checked, nor is the
    2-D average's)."""
    if isinstance(x, Tensor) and x.ndim == rank and x.shape[1] == 0:
        raise ShapeError(f"{op}: expected input to have non-zero size for non-batch dimensions, but "
                         f"input has sizes {tuple(x.shape)} with dimension 1 being empty")


def _empty_pool(x: Tensor, out: tuple, node: str) -> Tensor:
    """An adaptive pooling's output with a 0 in ``out``: empty, of x's dtype, in x's graph
    (under torch's ``node`` name)."""
    none_of_x = x.reshape(-1)[:0].sum()                     # 0, depending on x
    return ops.torch_node(Tensor._make(x.device.xp.zeros(x.shape[:2] + tuple(out), x.dtype), x.device) + none_of_x,
                          node)


# ---------------------------------------------------------------------------------------------
# 3-D pooling: the general window gathers above over three dims; unbatched (C, D, H, W) input
# runs as a batch of one.
# ---------------------------------------------------------------------------------------------
def _batch_of_one(x: Any, rank: int, run: Callable[[Tensor], Any]) -> Any:
    """``run`` on x, or on torch's unbatched layout (rank - 1 dims) as a batch of one, each
    result (a pair: values and indices) back without the batch dim."""
    if not _unbatched(x, rank):
        return run(x)
    y = run(x.unsqueeze(0))
    # torch pools the unbatched input itself, in its suggested format: a 3-D (C, H, W) one's
    # result is C order, whatever its strides (a channels_last batch's slice)
    c_order = rank == 4 and not x.array.flags.c_contiguous
    if isinstance(y, tuple):    # (values, indices): the indices have no node
        return (_squeeze_batch(y[0], c_order),) + tuple(t.squeeze(0).contiguous() if c_order else t.squeeze(0) for t in y[1:])
    return _squeeze_batch(y, c_order)


def _squeeze_batch(y: Tensor, c_order: bool = False) -> Tensor:
    """``y.squeeze(0)`` under the name of y's node (torch pools a (C, H, W) input itself: its
    grad_fn is the pool's, MaxPool2DWithIndicesBackward0, not SqueezeBackward1): the same node;
    ``c_order``: made C-contiguous (a copy only where it is not), under that name too."""
    node = getattr(y, "_ctx", None)
    if node is None:
        y = y.squeeze(0)
        return y.contiguous() if c_order else y
    y = ops.torch_named(ops.Squeeze, node.name()).apply(y, y.shape[1:])
    if c_order and not y.array.flags.c_contiguous:
        y = ops.torch_named(ops.Contiguous, node.name()).apply(y)
    return y


def max_pool3d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Tensor:
    """``torch.nn.functional.max_pool3d`` on ``(N, C, D, H, W)`` or ``(C, D, H, W)``: the
    maximum of each window (see :func:`max_pool2d`); indices flattened over D, H, W."""
    x = input   # (torch's name for the argument)
    _pool_input("max_pool3d", x)
    if x.array.dtype.kind == "b":
        raise _not_implemented_for("max_pool3d", x)

    def run(x5: Tensor) -> Any:
        k, s, p, d, out = _check_pool("max_pool3d", x5, kernel_size, stride, padding, dilation,
                                      ceil_mode, 3)
        return _max_over_windows(x5, *_pool_windows_index(x5, k, s, p, d, out), bool(return_indices),
                                 "MaxPool3DWithIndicesBackward0")
    return _batch_of_one(x, 5, run)


def avg_pool3d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """``torch.nn.functional.avg_pool3d`` on ``(N, C, D, H, W)`` or ``(C, D, H, W)`` (torch's
    divisor rules, see :func:`avg_pool2d`)."""
    x = input   # (torch's name for the argument)
    return _batch_of_one(x, 5, lambda x5: _avg_pool("avg_pool3d", x5, kernel_size, stride, padding,
                                                      ceil_mode, count_include_pad, divisor_override, 3))


def adaptive_avg_pool3d(input: Tensor, output_size: Any) -> Tensor:
    """``torch.nn.functional.adaptive_avg_pool3d``: ``output_size`` covering windows per dim."""
    x = input   # (torch's name for the argument)
    _check_channels_nonempty("adaptive_avg_pool3d", x, 5)
    return _batch_of_one(x, 5, lambda x5: _adaptive_avg_pool("adaptive_avg_pool3d", x5, output_size, 3))


def adaptive_max_pool3d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """``torch.nn.functional.adaptive_max_pool3d``: the maximum over adaptive windows."""
    x = input   # (torch's name for the argument)
    _check_channels_nonempty("adaptive_max_pool3d", x, 5)
    return _batch_of_one(x, 5, lambda x5: _adaptive_max_pool("adaptive_max_pool3d", x5, output_size,
                                                                return_indices, 3))


# ---------------------------------------------------------------------------------------------
# 1-D pooling: the 2-D functions on a height-1 image, the arguments checked (and errors worded)
# as 1-D ones first, as conv1d does.
# ---------------------------------------------------------------------------------------------
def _on_height_one(x: Tensor, run: Callable[[Tensor], Tensor]) -> Tensor:
    """``run`` (a 2-D op) on (N, C, L) or unbatched (C, L) input seen as (N, C, 1, L) (a pair
    of results -- values and indices -- each back in x's layout)."""
    batched = x if x.ndim == 3 else x.unsqueeze(0)
    y = run(batched.unsqueeze(2))

    def back(t: Tensor) -> Tensor:
        return t.squeeze(2) if x.ndim == 3 else t.squeeze(2).squeeze(0)
    return tuple(map(back, y)) if isinstance(y, tuple) else back(y)


def pool1d_geometry(op: str, kernel_size: Any, stride: Any, padding: Any, dilation: Any) -> tuple:
    """torch's 1-D pooling window arguments as ints (kernel, stride, padding, dilation), checked
    (the layers check them when built, the functions when called)."""
    k, d = _single(kernel_size, "kernel_size", 1, op), _single(dilation, "dilation", 1, op)
    s = k if stride is None or (isinstance(stride, (tuple, list)) and not stride) \
        else _single(stride, "stride", 1, op)
    p = _single(padding, "padding", 0, op)
    if p > k // 2:
        raise WindowArgError(f"{op}: padding should be at most half of kernel size, but got "
                          f"padding={p} and kernel_size={k}")
    return k, s, p, d


def _pool1d(op: str, x: Tensor, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
            ceil_mode: bool, pool2d: Callable[..., Tensor]) -> Tensor:
    """``pool2d(x4, kernel, stride, padding, dilation)`` (pairs) of a height-1 image, after
    torch's 1-D checks, so that errors name the 1-D arguments."""
    _check_rank(op, "input", x, (2, 3), "(N, C, L) or unbatched (C, L)")
    k, s, p, d = pool1d_geometry(op, kernel_size, stride, padding, dilation)
    if not isinstance(ceil_mode, (bool, np.bool_)):
        raise InputTypeError(f"{op}: ceil_mode must be a bool, got {ceil_mode!r}")
    if _pool_output_size(x.shape[-1], k, s, p, d, ceil_mode) < 1:
        raise ShapeError(f"{op}: kernel {k} (dilation {d}, padding {p}) is larger than the length "
                         f"{x.shape[-1]} of input {x.shape}")
    return _on_height_one(x, lambda x4: pool2d(x4, (1, k), (1, s), (0, p), (1, d)))


def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Tensor:
    """``torch.nn.functional.max_pool1d`` on (N, C, L) or (C, L) (see :func:`max_pool2d`; of
    a floating-point tensor only, as torch's, unless ``return_indices``: torch's pair comes from
    its 2-D kernel, which pools integers)."""
    x = input   # (torch's name for the argument)
    _pool_input("max_pool1d", x)
    if x.array.dtype.kind != "f" and not (return_indices and x.array.dtype.kind in "iu"):
        raise _not_implemented_for("max_pool1d", x)
    return _pool1d("max_pool1d", x, kernel_size, stride, padding, dilation, ceil_mode,
                   lambda x4, k, s, p, d: max_pool2d(x4, k, s, p, d, ceil_mode, return_indices))


def avg_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True) -> Tensor:
    """``torch.nn.functional.avg_pool1d`` on (N, C, L) or (C, L) (see :func:`avg_pool2d`)."""
    x = input   # (torch's name for the argument)
    return _pool1d("avg_pool1d", x, kernel_size, stride, padding, 1, ceil_mode,
                   lambda x4, k, s, p, d: avg_pool2d(x4, k, s, p, ceil_mode, count_include_pad))


def _adaptive_pool1d(op: str, pool2d: Callable[..., Tensor], x: Tensor, output_size: Any,
                     *extra: Any) -> Tensor:
    _check_rank(op, "input", x, (2, 3), "(N, C, L) or unbatched (C, L)")
    size = _single(output_size, "output_size", 0, op)
    return _on_height_one(x, lambda x4: pool2d(x4, (1, size), *extra))


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:
    """``torch.nn.functional.adaptive_avg_pool1d``: ``output_size`` windows covering L."""
    x = input   # (torch's name for the argument)
    return _adaptive_pool1d("adaptive_avg_pool1d", adaptive_avg_pool2d, x, output_size)


def adaptive_max_pool1d(input: Tensor, output_size: Any, return_indices: bool = False) -> Tensor:
    """``torch.nn.functional.adaptive_max_pool1d``: the maximum over adaptive windows."""
    x = input   # (torch's name for the argument)
    _check_channels_nonempty("adaptive_max_pool1d", x, 3)
    return _adaptive_pool1d("adaptive_max_pool1d", _adaptive_max_pool2d, x, output_size, return_indices)


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size: IntOrPair, stride: IntOrPair | None = None,
                 padding: IntOrPair = 0, output_size: Any = None) -> Tensor:
    """``torch.nn.functional.max_unpool2d``: max_pool2d's partial inverse -- each value of ``x``
    (N, C, H, W) or (C, H, W) put back at the place ``indices`` (max_pool2d's
    ``return_indices``) names in its plane, zeros elsewhere.  The output is ``(H - 1) * stride -
    2 * padding + kernel_size`` per dim unless ``output_size`` says (within a stride of that).
    A scatter, so differentiable in ``x``."""
    x = input   # (torch's name for the argument)
    return _max_unpool("max_unpool2d", x, indices, 2, kernel_size, stride, padding, output_size)


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None,
                 padding: Any = 0, output_size: Any = None) -> Tensor:
    """``torch.nn.functional.max_unpool1d`` on (N, C, L) or (C, L) (see :func:`max_unpool2d`)."""
    x = input   # (torch's name for the argument)
    return _max_unpool("max_unpool1d", x, indices, 1, kernel_size, stride, padding, output_size)


def max_unpool3d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None,
                 padding: Any = 0, output_size: Any = None) -> Tensor:
    """``torch.nn.functional.max_unpool3d`` on (N, C, D, H, W) or (C, D, H, W) (see
    :func:`max_unpool2d`; ``indices`` from ``max_pool3d(..., return_indices=True)``)."""
    x = input   # (torch's name for the argument)
    return _max_unpool("max_unpool3d", x, indices, 3, kernel_size, stride, padding, output_size)


def _max_unpool(op: str, x: Tensor, indices: Tensor, dims: int, kernel_size: Any, stride: Any,
                padding: Any, output_size: Any) -> Tensor:
    layout = {1: "(N, C, L) or (C, L)", 2: "(N, C, H, W) or (C, H, W)", 3: "(N, C, D, H, W) or (C, D, H, W)"}
    _check_rank(op, "input", x, (dims + 1, dims + 2), layout[dims])
    if not isinstance(indices, Tensor) or indices.dtype.kind not in "iu" or indices.shape != x.shape:
        raise InputTypeError(f"{op}: indices must be an integer tensor of the input's shape "
                             f"{x.shape} (max_pool's return_indices), got "
                             f"{getattr(indices, 'dtype', type(indices).__name__)} "
                             f"{getattr(indices, 'shape', '')}")
    geometry = (lambda v, name, low, owner: (_single(v, name, low, owner),)) if dims == 1 else \
        (lambda v, name, low, owner: _ntuple(v, name, low, owner, dims))
    k = geometry(kernel_size, "kernel_size", 1, op)
    s = k if stride is None else geometry(stride, "stride", 1, op)
    p = geometry(padding, "padding", 0, op)
    default = tuple((n - 1) * si - 2 * pi + ki for n, ki, si, pi in zip(x.shape[-dims:], k, s, p))
    size = default if output_size is None else tuple(int(n) for n in tuple(output_size)[-dims:])
    if len(size) != dims or any(not d - si < n < d + si for n, d, si in zip(size, default, s)):
        raise ShapeError(f"{op}: output_size {output_size!r} must be {dims} sizes each within a "
                         f"stride of the default {default}")
    plane = math.prod(size)
    lead = x.shape[:-dims]
    flat = indices.reshape(*lead, -1)
    bad = flat.numpy()
    if bad.size and (bad.min() < 0 or bad.max() >= plane):
        raise IndexOutOfRangeError(f"{op}: an index ({bad.min()} .. {bad.max()}) is outside the "
                                   f"output plane of {plane} elements (size {size})")
    out = x.new_zeros(*lead, plane).scatter(-1, flat, x.reshape(*lead, -1))
    return out.reshape(*lead, *size)


# ---------------------------------------------------------------------------------------------
# unfold (im2col) and fold (its adjoint, col2im): one gather of the padded image's sliding
# blocks, and the scatter-add of blocks into an image -- indexing and its gradient.
# ---------------------------------------------------------------------------------------------
def block_arguments(op: str, kernel_size: Any, dilation: Any, padding: Any, stride: Any) -> tuple:
    """unfold's / fold's (kernel, dilation, padding, stride) as pairs, checked (the layers check
    them when built, the functions when called)."""
    return (_pair(kernel_size, "kernel_size", 1, op), _pair(dilation, "dilation", 1, op),
            _pair(padding, "padding", 0, op), _pair(stride, "stride", 1, op))


def _block_geometry(op: str, spatial: Sequence[int], kernel_size: Any, dilation: Any, padding: Any,
                    stride: Any) -> tuple:
    """Pairs kernel and padding, the (rows, cols) index of every block's elements in the padded
    image (shapes (kh, 1, Ho, 1) and (1, kw, 1, Wo)) and the block counts (Ho, Wo)."""
    k, d, p, s = block_arguments(op, kernel_size, dilation, padding, stride)
    blocks = tuple((n + 2 * pp - dd * (kk - 1) - 1) // ss + 1
                   for n, kk, dd, pp, ss in zip(spatial, k, d, p, s))
    if min(blocks) < 1:
        raise ShapeError(f"{op}: given spatial size {tuple(spatial)}, kernel_size={k}, "
                         f"dilation={d}, padding={p}, stride={s}, the array of sliding blocks "
                         f"would be {blocks}, but its components must be at least one")
    rows = np.arange(k[0])[:, None] * d[0] + np.arange(blocks[0])[None, :] * s[0]
    cols = np.arange(k[1])[:, None] * d[1] + np.arange(blocks[1])[None, :] * s[1]
    return k, p, (rows[:, None, :, None], cols[None, :, None, :]), blocks


def unfold(input: Tensor, kernel_size: IntOrPair, dilation: IntOrPair = 1, padding: IntOrPair = 0,
           stride: IntOrPair = 1) -> Tensor:
    """(N, C, H, W) -> (N, C * kh * kw, L): each sliding block of the zero-padded image as a
    column, L blocks in row-major order (``torch.nn.functional.unfold``; (C, H, W) unbatched)."""
    x = input   # (torch's name for the argument)
    _check_rank("unfold", "input", x, (3, 4), "(N, C, H, W) or unbatched (C, H, W)")
    _integer_only_refused("unfold", x)    # (torch's im2col: not for Long, but for bool)
    k, p, (rows, cols), blocks = _block_geometry("unfold", x.shape[-2:], kernel_size, dilation,
                                                 padding, stride)
    padded = pad(x, (p[1], p[1], p[0], p[0])) if any(p) else x
    *lead, c, height, width = padded.shape
    # one gather of the flattened planes straight into (*lead, C * kh * kw, L), so the result is
    # a copy under torch's name (a reshape of (N, C, kh, kw, Ho, Wo) would be a view step)
    taps = (rows * width + cols).reshape(k[0] * k[1], blocks[0] * blocks[1])
    flat = (np.arange(c).reshape(c, 1, 1) * (height * width) + taps).reshape(c * k[0] * k[1], -1)
    planes = padded.reshape(*lead, c * height * width)
    return Im2Col.apply(planes, _device_key(x, (Ellipsis, flat)))


def _integer_only_refused(op: str, x: Tensor) -> None:
    """torch's im2col / col2im: not implemented for integer tensors, but computed for bool (a
    gather / sum of blocks); floats and complex pass."""
    if isinstance(x, Tensor) and x.array.dtype.kind in "iu":
        raise DTypeNotImplementedError(f"{op}: expected a floating-point tensor (or bool), got "
                                       f"{x.dtype} (torch does not implement {op} for integer "
                                       f"tensors); convert with .float()")


class Im2Col(ops.GetItem):
    """unfold's gather ``planes[..., flat]`` as one C-contiguous ``take`` (NumPy's indexing lays
    the indexed dims out first), with indexing's gradients, under torch's node name."""

    def forward(self, x, key):
        self.shape, self.key = x.shape, key
        return self.xp.take(x, key[-1], axis=-1)

    def name(self) -> str:
        return "Im2ColBackward0"


def fold(input: Tensor, output_size: IntOrPair, kernel_size: IntOrPair, dilation: IntOrPair = 1,
         padding: IntOrPair = 0, stride: IntOrPair = 1) -> Tensor:
    """(N, C * kh * kw, L) -> (N, C, H, W): the sum of the blocks (columns) put back where
    :func:`unfold` takes them from -- its adjoint (``torch.nn.functional.fold``; unbatched too)."""
    x = input   # (torch's name for the argument)
    op = "fold"
    _check_rank(op, "input", x, (2, 3), "(N, C * kh * kw, L) or unbatched (C * kh * kw, L)")
    _integer_only_refused(op, x)          # (torch's col2im: not for Long, but for bool)
    size = _pair(output_size, "output_size", 1, op)
    k, p, (rows, cols), blocks = _block_geometry(op, size, kernel_size, dilation, padding, stride)
    *lead, ck, length = x.shape
    if ck % (k[0] * k[1]):
        raise ShapeError(f"{op}: expected size of input's dimension 1 to be divisible by the "
                         f"product of kernel_size {k}, but got input {x.shape}")
    if length != blocks[0] * blocks[1]:
        raise ShapeError(f"{op}: given output_size={size}, kernel_size={k}, padding={p} and "
                         f"the other arguments, expected {blocks[0]} * {blocks[1]} = "
                         f"{blocks[0] * blocks[1]} sliding blocks in dim 2, got input {x.shape}")
    c = ck // (k[0] * k[1])
    columns = x.reshape(*lead, c, k[0], k[1], blocks[0], blocks[1])
    padded = (*lead, c, size[0] + 2 * p[0], size[1] + 2 * p[1])
    image = ops.ScatterIntoZeros.apply(columns, padded, _device_key(x, (Ellipsis, rows, cols)))
    if any(p):        # the crop copied (torch's result is C-contiguous; a slice is a view step)
        image = image[..., p[0]:p[0] + size[0], p[1]:p[1] + size[1]].contiguous()
    return ops.torch_node(image, "Col2ImBackward0")


# ---------------------------------------------------------------------------------------------
# Padding and nearest-neighbour resizing: compositions of indexing ops, so their gradients (and
# gradients of gradients) are indexing's -- no kernels of their own.
# ---------------------------------------------------------------------------------------------
PAD_MODES = ("constant", "reflect", "replicate", "circular")


def _pad_amounts(x: Tensor, pad) -> list[tuple[int, int]]:
    """torch's ``pad`` tuple (last dim first: left, right, top, bottom, ...) as (before, after)
    per padded dim, first padded dim first. A one-element integer tensor counts as its int, as
    in torch (StyleGAN2-ADA pads by the values of ``margin.ceil().to(torch.int32)``)."""
    if not (isinstance(pad, (tuple, list)) and all(type(p) is int for p in pad)):  # (common: ints)
        if isinstance(pad, (tuple, list)) and any(isinstance(p, Tensor) for p in pad):
            pad = [p.__index__() if isinstance(p, Tensor) and p.array.dtype.kind in "iu"
                   and p.array.size == 1 else p for p in pad]
        if not isinstance(pad, (tuple, list)) or not all(
                isinstance(p, (int, np.integer)) and not isinstance(p, bool) for p in pad):
            raise InputTypeError(f"pad: pad must be a sequence of ints, got {pad!r}")
    if len(pad) == 0 or len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ShapeError(f"pad: pad needs an even number of ints, two per padded dim and at most "
                         f"{2 * x.ndim} for an input of shape {x.shape}, got {tuple(pad)}")
    pairs = [(int(pad[i]), int(pad[i + 1])) for i in range(0, len(pad), 2)]
    return pairs[::-1]


def _source_index(n: int, before: int, after: int, mode: str, dim: int, shape) -> np.ndarray:
    """For each output position along one dim, the input position it copies. A negative amount
    crops that side, as torch's pads do: reflect / replicate after padding the other side,
    circular before wrapping (torch's order for each)."""
    if n + before + after < 0:
        raise ShapeError(f"pad: {mode} padding of ({before}, {after}) crops more than all of dim "
                         f"{dim}, input shape {shape} (a negative output size)")
    if n + before + after == 0:     # cropped to nothing: torch returns an empty dim
        if max(before, after) > (n - 1 if mode == "reflect" else n):
            raise ShapeError(f"pad: {mode} padding of ({before}, {after}) needs more elements "
                             f"in dim {dim}, input shape {shape}")
        return np.zeros(0, dtype=np.intp)
    if mode == "circular" and min(before, after) < 0:
        # torch crops first, then pads the cropped part, each side by at most the input's own
        # size: (-2, 4) of 4 elements repeats the 2 kept ones 3 times (torch's copy forwards)
        kept = n + min(before, 0) + min(after, 0)
        if max(before, after) > n or kept <= 0:
            raise ShapeError(f"pad: circular padding of ({before}, {after}) wraps around more "
                             f"than once (as torch, refused) in dim {dim}, input shape {shape}")
        return max(-before, 0) + np.mod(np.arange(-max(before, 0), kept + max(after, 0)), kept)
    j = np.arange(-before, n + after)
    limit = {"reflect": n - 1, "circular": n}.get(mode, np.inf)    # replicate: any amount
    if max(before, after) > limit or n == 0:
        need = "more than" if mode == "reflect" else "at least"
        raise ShapeError(f"pad: {mode} padding of ({before}, {after}) needs {need} "
                         f"{max(before, after)} elements in dim {dim}, input shape {shape}")
    if mode == "replicate":
        return np.clip(j, 0, n - 1)
    if mode == "circular":
        return np.mod(j, n)
    period = 2 * (n - 1)                                   # reflect: ... 2 1 | 0 1 2 3 | 2 1 ...
    j = np.mod(j, period) if period else np.zeros_like(j)
    return np.where(j > n - 1, period - j, j)


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float = 0.0) -> Tensor:
    """``torch.nn.functional.pad``: ``pad`` = (left, right) for the last dim, then (top, bottom)
    for the one before, ...  ``constant`` fills with ``value`` (a negative amount crops);
    ``reflect`` mirrors without repeating the edge, ``replicate`` repeats the edge, ``circular``
    wraps around.  The gradient of a padded element goes back to the element it copies."""
    out = _pad(input, pad, mode, value)
    if mode != "circular" and isinstance(input, Tensor) and not input.array.flags.c_contiguous:
        out = _in_format_of(input, out)     # torch keeps channels_last (circular: a C-order cat)
    return out


_PAD_NODES = {(mode, dims): ops.torch_named(ops.PadPick, f"{kind}Pad{dims}DBackward0")
              for mode, kind in (("reflect", "Reflection"), ("replicate", "Replication")) for dims in (1, 2, 3)}
# torch's circular pad writes the wrapped slices into a fresh tensor: its node is the last write's
_CIRCULAR_PAD = ops.torch_named(ops.CircularPick, "torch::autograd::CopySlices")


def _pad(input: Tensor, pad: Sequence[int], mode: str, value: float) -> Tensor:
    x = input   # (torch's name for the argument)
    if not isinstance(x, Tensor):
        raise InputTypeError(f"pad: input must be a Tensor, got {type(x).__name__}")
    if mode not in PAD_MODES:
        raise ModeNotImplementedError(f"pad: mode must be one of {PAD_MODES}, got {mode!r}")
    pairs = _pad_amounts(x, pad)
    first = x.ndim - len(pairs)
    if mode != "constant":
        if value is not None and value != 0:    # torch's check: a fill value means constant mode
            raise FunctionalOptionError(f"pad: padding mode {mode!r} doesn't take in value argument, "
                                        f"got value={value!r}")
        if not (1 <= len(pairs) <= 3 and first in (1, 2)):     # torch's non-constant kernels
            raise PadShapeNotImplementedError(
                f"pad: padding size {2 * len(pairs)} is not supported for a {x.ndim}-D input in "
                f"{mode!r} mode (torch's combinations: 2-D or 3-D input, padding size 2; 3-D or "
                f"4-D, 4; 4-D or 5-D, 6)")
        index = [_source_index(x.shape[first + i], b, a, mode, first + i, x.shape)
                 for i, (b, a) in enumerate(pairs)]
        if mode != "circular" and not any(len(i) for i in index):   # torch's kernels' check
            raise ShapeError(f"pad: {mode} padding {tuple(pad)} leaves no element in any padded "
                             f"dim of input shape {x.shape} (input too small)")
        key = (Ellipsis, *np.ix_(*index))
        if mode == "circular":
            return _CIRCULAR_PAD.apply(x, _device_key(x, key))
        node = _PAD_NODES[mode, len(pairs)]     # torch's reflection / replication pad
        return node.apply(x, _device_key(x, key))
                                                               # pad double backward edge
    # torch's value is a Scalar: True / False too (F.pad(mask, (1, 0), value=True) pads a bool mask)
    value = float(value) if isinstance(value, (bool, np.bool_)) else _scalar("pad", "value", value)
    crop, cropped = [Ellipsis], False      # (plain loops: this is a GAN generator's hot path)
    for (b, a), n in zip(pairs, x.shape[first:]):
        start, stop = max(-b, 0), n - max(-a, 0)
        if stop < start:    # (cropping to exactly nothing is allowed, as torch's narrow)
            raise ShapeError(f"pad: {tuple(pad)} crops more than all of a dim of input shape "
                             f"{x.shape} (a negative output size)")
        crop.append(slice(start, stop))
        cropped = cropped or b < 0 or a < 0
    if cropped:
        x = x[tuple(crop)]
    shape, inside, grows = list(x.shape[:first]), [Ellipsis], False
    for (b, a), n in zip(pairs, x.shape[first:]):
        b, a = max(b, 0), max(a, 0)
        grows = grows or b > 0 or a > 0
        shape.append(n + b + a)
        inside.append(slice(b, b + n))
    if not grows:       # torch's constant_pad_nd returns a copy here too (a pad of zeros, or a
        return x.clone()  # crop): an in-place op on the result leaves the input alone, as torch's
    shape, inside = tuple(shape), tuple(inside)
    out = ops.PadIntoZeros.apply(x, shape, inside)
    if value == 0.0:
        return out
    fill = x.device.xp.full(shape, value, dtype=x.dtype)
    fill[inside] = 0
    return out + Tensor._make(fill, x.device)


INTERPOLATE_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")
_LINEAR_RANK = {"linear": 3, "bilinear": 4, "bicubic": 4, "trilinear": 5}


@_keeps_format
def interpolate(input: Tensor, size: int | Sequence[int] | None = None,
                scale_factor: float | Sequence[float] | None = None, mode: str = "nearest",
                align_corners: bool | None = None,
                recompute_scale_factor: bool | None = None, antialias: bool = False) -> Tensor:
    """``torch.nn.functional.interpolate`` on (N, C, L), (N, C, H, W) or (N, C, D, H, W).

    Each output position i reads input position ``src(i)`` along each dim, with scale = in/out
    for ``size`` (or with ``recompute_scale_factor``) and 1/scale_factor otherwise, computed as
    torch's 2-D kernels do -- nearest in float32, linear in the input's precision -- so both pick
    the same pixel where ``i * scale`` is within rounding of a whole number:
    - ``nearest``: floor(i * scale), with torch's two shortcuts (an output as long as the input
      copies it, one twice as long takes ``i // 2``); ``nearest-exact``: floor((i + 0.5) * scale).
      Where the index is whole blocks (integer upsampling, a GAN generator's case) the result
      is a broadcast: its gradient a sum over each block, not a scatter-add.
    - ``linear`` / ``bilinear`` / ``trilinear`` (3-D / 4-D / 5-D input): the two neighbours of
      (i + 0.5) * scale - 0.5 (clamped at 0), weighted by distance; ``align_corners=True``
      maps corner to corner, src = i * (in - 1) / (out - 1).  Separable: one dim at a time.
    - ``bicubic`` (4-D input): the four neighbours of the same source position (not clamped at
      0; indices clamped to the edge), weighted by the cubic convolution kernel with A = -0.75,
      as torch's -- so values can overshoot the input's range, as torch's do.
    - ``area``: adaptive average pooling to the output size.
    - ``antialias=True`` (bilinear / bicubic, 4-D input): torch's antialiased kernel (PIL's):
      each output averages the inputs under the triangle / Keys cubic (A = -0.5) filter
      stretched by the downscale factor, one dim at a time, the width first; as two constant
      weight matrices here, so the gradient flows (float); uint8 in torch's fixed point.
    """
    x = input   # (torch's name for the argument)
    _check_interpolate_args(x, mode, align_corners, antialias)
    out, scales = _output_size_and_scales(x, size, scale_factor, recompute_scale_factor, mode)
    if 0 in x.shape[2:]:        # (was a ZeroDivisionError / IndexError, or area's NaNs)
        raise ShapeError(f"interpolate: input shape {x.shape} has an empty spatial dim; input and "
                         f"output sizes must be greater than 0, as torch's")
    if x.shape[1] == 0 and (mode != "area" or x.ndim == 5):   # torch: "Non-empty 4D data tensor
        # expected"; area is adaptive average pooling, whose 1-d / 2-d take no channel, 3-d not
        raise ShapeError(f"interpolate: input shape {x.shape} has an empty channel dim; a "
                         f"non-empty tensor is expected (an empty batch is fine), as torch's")
    if antialias:
        if x.array.dtype == np.uint8:        # torch works out the uint8 weights in double
            scales = _output_size_and_scales(x, size, scale_factor, recompute_scale_factor, mode,
                                             real=np.float64)[1]
            return _antialiased_resize(x, out, scales, mode == "bicubic", bool(align_corners))
        return _separable_resize(x, mode, out, scales, bool(align_corners), antialias=True)
    if mode == "area":
        if min(out) == 0:       # a scale_factor shrinking a dim to nothing: torch's empty result
            empty = x[(slice(None), slice(None)) + (slice(0, 0),) * (x.ndim - 2)]
            return empty.reshape(x.shape[:2] + tuple(out))
        return _area_resize(x, out)
    if mode in _LINEAR_RANK and x.array.dtype == np.uint8:
        return _uint8_linear_resize(x, mode, out, scales, bool(align_corners))
    if mode in _LINEAR_RANK:
        return _separable_resize(x, mode, out, scales, bool(align_corners))
    return _nearest_resize(x, mode, out, scales)


def _check_interpolate_args(x: Tensor, mode: str, align_corners: bool | None,
                            antialias: bool) -> None:
    """torch's checks of interpolate's input and options, in its order (so the same error)."""
    if antialias:
        if mode not in ("bilinear", "bicubic") or x.ndim != 4:
            raise ConfigError(f"interpolate: the antialias option is restricted to the bilinear and "
                              f"bicubic modes and a 4-D input, got mode {mode!r} and shape {x.shape}")
        if x.array.dtype.kind == "f" and x.array.dtype.itemsize < 4:
            raise _not_implemented_for("interpolate (antialias=True)", x)   # torch's CPU kernel too
    if isinstance(x, Tensor) and x.ndim not in (3, 4, 5):     # torch's NotImplementedError
        raise ShapeNotImplementedError(f"interpolate: input must be (N, C, L), (N, C, H, W) or "
                                       f"(N, C, D, H, W), got shape {x.shape}")
    _check_rank("interpolate", "input", x, (3, 4, 5), "(N, C, L), (N, C, H, W) or (N, C, D, H, W)")
    if mode not in INTERPOLATE_MODES:
        raise ModeNotImplementedError(f"interpolate: mode must be one of {INTERPOLATE_MODES}, got {mode!r}")
    if mode in _LINEAR_RANK and x.ndim != _LINEAR_RANK[mode]:
        raise ShapeNotImplementedError(f"interpolate: mode {mode!r} takes a {_LINEAR_RANK[mode]}-D input, "
                         f"got shape {x.shape}")
    if align_corners is not None and mode not in _LINEAR_RANK:
        raise ConfigError(f"interpolate: align_corners only applies to the linear modes and "
                          f"bicubic, not {mode!r}")
    if x.array.dtype.kind != "f" and (x.array.dtype != np.uint8 or mode not in _UINT8_MODES):
        raise _not_implemented_for(f"interpolate (mode {mode!r})", x)   # torch resizes uint8


def _uint8_linear_resize(x: Tensor, mode: str, out: Sequence[int], scales: Sequence[float],
                         align_corners: bool) -> Tensor:
    """torch's uint8 image path of the linear modes and bicubic: one pass a dim, the last first,
    each rounded to uint8."""
    spatial, y = x.shape[2:], x.to(np.float32)
    for dim in reversed(range(2, x.ndim)):
        if out[dim - 2] != spatial[dim - 2]:
            y = _taps_along(y, dim, spatial[dim - 2], out[dim - 2], scales[dim - 2],
                            align_corners, mode == "bicubic").add(0.5).floor().clamp(0, 255)
    return y.to(np.uint8)


def _nearest_resize(x: Tensor, mode: str, out: Sequence[int], scales: Sequence[float]) -> Tensor:
    """nearest / nearest-exact: a broadcast of whole blocks where the index is one (integer
    upsampling), else a gather of the source index along each dim."""
    spatial = x.shape[2:]
    shortcuts = x.ndim == 4      # torch's 2-D nearest kernel only; its 1-D / 3-D ones use the scale
    node_name = f"{_NEAREST_NODE[mode]}{len(spatial)}DBackward0"     # torch's, whatever the path
    blocks = tuple(o // n for n, o in zip(spatial, out))
    if mode == "nearest" and shortcuts and all(o == n or o == 2 * n for n, o in zip(spatial, out)):
        # (_nearest_index's shortcuts: arange(o) or arange(o) >> 1, whole blocks -- no index built)
        return ops.torch_named(NearestBlocks, node_name).apply(x, blocks)
    index = [_nearest_index(n, o, s, exact=mode == "nearest-exact", shortcuts=shortcuts)
             for n, o, s in zip(spatial, out, scales)]
    if all(o % n == 0 and np.array_equal(ix, np.arange(o) // (o // n))
           for n, o, ix in zip(spatial, out, index)):                  # whole blocks
        return ops.torch_named(NearestBlocks, node_name).apply(x, blocks)
    picked = x[(Ellipsis, *np.ix_(*index))]     # (NumPy lays the indexed dims out first)
    return ops.torch_named(ops.Relayout, node_name).apply(picked, tuple(range(picked.ndim)))   # C order

_NEAREST_NODE = {"nearest": "UpsampleNearest", "nearest-exact": "UpsampleNearestExact"}


def _nearest_blocks_composite(x: Tensor, reps: tuple) -> Tensor:
    n, c, spatial = x.shape[0], x.shape[1], x.shape[2:]
    spread = x.reshape(n, c, *[v for m in spatial for v in (m, 1)])
    spread = spread.expand(n, c, *[v for m, r in zip(spatial, reps) for v in (m, r)])
    return spread.reshape(n, c, *[m * r for m, r in zip(spatial, reps)])


class NearestBlocks(Function):
    """Nearest upsampling by whole factors ``reps`` (each input position copied into an
    ``r1 x r2 ...`` block): a broadcast copy forward; backward sums each block with one add
    of slices per copy, the innermost block axis first -- NumPy's ``sum`` over the small
    block axes of the broadcast's gradient walks them element by element (9 ms for a
    16x64x32x32 gradient against 4 here), in the same order for 2-D blocks of two (others:
    another order of the same additions)."""
    takes_half = takes_int = takes_bool = True     # a copy: exact on any dtype (as the composite)

    def forward(self, x, reps):
        n, c, spatial = x.shape[0], x.shape[1], x.shape[2:]
        spread = x.reshape(n, c, *[v for m in spatial for v in (m, 1)])
        out = self.xp.empty((n, c, *[v for m, r in zip(spatial, reps) for v in (m, r)]), dtype=x.dtype)
        out[...] = spread       # the broadcast copy (np.broadcast_to's wrapper costs microseconds)
        self.shape, self.reps = x.shape, reps
        return out.reshape(n, c, *[m * r for m, r in zip(spatial, reps)])

    def backward(self, g):
        n, c, spatial = self.shape[0], self.shape[1], self.shape[2:]
        g = g.reshape(n, c, *[v for m, r in zip(spatial, self.reps) for v in (m, r)])
        for axis in range(g.ndim - 1, 2, -2):            # the block axes, innermost first
            if g.shape[axis] == 1:
                continue
            lead = (slice(None),) * axis
            total = g[lead + (0,)] + g[lead + (1,)]
            for k in range(2, g.shape[axis]):
                total += g[lead + (k,)]
            g = total
        return g.reshape(self.shape), None

    def grad_graph(self, g):
        x, reps = self.inputs
        return _composite_grads(_nearest_blocks_composite(x, reps), g, (x,)) + (None,)


_UINT8_MODES = ("nearest", "nearest-exact", "bilinear", "bicubic")   # torch's, for uint8 input


def _output_size_and_scales(x: Tensor, size, scale_factor, recompute: bool | None, mode: str,
                            real: Any = None):
    """Output sizes and the in-per-out scale of each spatial dim, as torch computes them (in
    the input's float precision: float32 for float32; or in ``real``)."""
    spatial = x.shape[2:]
    if real is None:
        real = np.float64 if x.dtype == np.float64 else np.float32
    if (size is None) == (scale_factor is None):
        raise ConfigError("interpolate: give exactly one of size and scale_factor")
    if size is not None:
        if recompute is not None:
            raise ConfigError("interpolate: recompute_scale_factor goes with scale_factor, not size")
        out = _per_dim("size", size, len(spatial), int)
        if mode == "area" and min(out) == 0:   # torch: an empty adaptive average pool, as
            return out, None                   # for a scale_factor below
        if min(out) < 1:
            raise ShapeError(f"interpolate: size must be >= 1, got {size!r}")
        return out, [real(n) / real(o) for n, o in zip(spatial, out)]
    factors = _per_dim("scale_factor", scale_factor, len(spatial), float)
    sizes = [n * f for n, f in zip(spatial, factors)]
    if not all(math.isfinite(f) and (f > 0 or f == 0 and mode == "area") for f in factors) \
            or max(sizes) >= 2.0 ** 62:           # (area: 0 gives an empty output, as torch)
        raise WindowArgError(f"interpolate: scale_factor must be positive and finite, got "
                          f"{scale_factor!r} (for input shape {x.shape})")
    out = [int(math.floor(v)) for v in sizes]
    if mode == "area" and min(out) == 0:     # torch: an empty adaptive average pool
        return out, None
    if min(out) < 1:
        raise ShapeError(f"interpolate: scale_factor {scale_factor!r} gives an empty output "
                         f"from input shape {x.shape}")
    if recompute or mode == "area":      # torch's area mode always recomputes from the sizes
        return out, [real(n) / real(o) for n, o in zip(spatial, out)]
    return out, [real(1.0 / f) for f in factors]


def aa_weights(n_in: int, n_out: int, scale: Any, cubic: bool) -> np.ndarray:
    """torch's antialiased interpolation weights for one dim (aten's
    ``_compute_indices_min_size_weights_aa``, PIL's ``precompute_coeffs``) as an (n_out, n_in)
    matrix, computed in ``scale``'s float type (float32 for float32 input, as torch): output i
    averages the inputs around ``center = scale * (i + 0.5)`` under the triangle (bilinear) or
    Keys cubic filter with A = -0.5 (bicubic), stretched by the downscale factor."""
    real = type(scale) if isinstance(scale, (np.float32, np.float64)) else np.float64
    scale = real(scale)
    half = real(2.0 if cubic else 1.0)
    support = real(np.float64(half) * np.float64(scale)) if scale >= 1.0 else half
    invscale = real(1.0 / np.float64(scale)) if scale >= 1.0 else real(1.0)
    taps = int(math.ceil(support)) * 2 + 1
    weights = np.zeros((n_out, n_in), dtype=real)
    for i in range(n_out):
        center = real(np.float64(scale) * (i + 0.5))
        lo = max(int(np.float64(center - support) + 0.5), 0)
        size = min(max(min(int(np.float64(center + support) + 0.5), n_in) - lo, 0), taps)
        # (j + xmin - center) in the float type, + 0.5 and * invscale in double, as aten's
        x = np.abs(((np.arange(lo, lo + size).astype(real) - center).astype(np.float64) + 0.5)
                   * np.float64(invscale)).astype(real)
        if cubic:
            a = real(-0.5)
            w = np.where(x < 1, ((a + 2) * x - (a + 3)) * x * x + 1,
                         np.where(x < 2, ((a * x - 5 * a) * x + 8 * a) * x - 4 * a, 0)).astype(real)
        else:
            w = np.where(x < 1, 1 - x, 0).astype(real)
        total = real(0)
        for v in w:                      # summed in order, in the float type (aten's loop)
            total = real(total + v)
        weights[i, lo:lo + size] = w / total if total != 0 else w
    return weights


def _aa_scale(n: int, o: int, scale: Any, align_corners: bool) -> Any:
    """aten's ``area_pixel_compute_scale`` for the antialiased kernel: (n - 1) / (o - 1) with
    align_corners (0 for one output), else the in-per-out scale already worked out."""
    if not align_corners:
        return scale
    real = type(scale)
    return real(real(n - 1) / real(o - 1)) if o > 1 else real(0)


def _antialiased_resize(x: Tensor, out: Sequence[int], scales: Sequence[Any], cubic: bool,
                        align_corners: bool) -> Tensor:
    """interpolate(..., antialias=True) of a uint8 4-D tensor: torch's separable passes in its
    fixed point, the width first, a dim left alone where its size does not change -- the
    weights rounded to int16 at the largest precision that fits, each output an integer dot
    product plus half, shifted down and clamped to [0, 255] after each pass.  (Float input:
    :func:`_separable_resize`.)"""
    (h, w), (oh, ow) = x.shape[2:], out
    xp = x.device.xp
    y = x.array
    for axis, n, o, s in ((3, w, ow, scales[1]), (2, h, oh, scales[0])):
        if n != o:
            y = _aa_uint8_pass(xp, y, axis, aa_weights(n, o, _aa_scale(n, o, s, align_corners), cubic))
    return Tensor._make(y if y is not x.array else y.copy(), x.device)


def _aa_uint8_pass(xp: Any, y: Any, axis: int, weights: np.ndarray) -> Any:
    """One uint8 antialiased pass along ``axis`` (aten's basic_loop_aa_horizontal / vertical
    on uint8 with _compute_index_ranges_int16_weights)."""
    top = float(weights.max())
    precision = 0
    while precision < 22 and int(0.5 + top * (1 << (precision + 1))) < (1 << 15):
        precision += 1
    scaled = weights * float(1 << precision)
    fixed = np.where(scaled < 0, np.trunc(scaled - 0.5), np.trunc(scaled + 0.5)).astype(np.int64)
    moved = xp.moveaxis(y, axis, -1).astype(np.int64)
    acc = moved @ xp.asarray(fixed.T) + (1 << (precision - 1))
    return xp.moveaxis(xp.clip(acc >> precision, 0, 255).astype(np.uint8), -1, axis)


def _taps_along(x: Tensor, dim: int, n: int, o: int, scale, align_corners: bool, cubic: bool) -> Tensor:
    """1-D linear or bicubic interpolation of ``x`` along ``dim`` from n to o positions as Tensor
    ops, the taps summed in order (the uint8 image path, which rounds after each dim): the
    indices and weights of :func:`_linear_taps` / :func:`_cubic_taps`."""
    index, weights = (_cubic_taps if cubic else _linear_taps)(n, o, scale, align_corners)
    at = 1 if cubic else 0                       # the tap at floor(src)
    if n == o and np.array_equal(index[:, at], np.arange(n)) and (weights[:, at] == 1).all():
        return x                                 # every output on its input position
    shape = [1] * x.ndim
    shape[dim] = o
    out = None
    for k in range(index.shape[1]):
        w = Tensor._make(x.device.xp.asarray(weights[:, k].astype(x.dtype).reshape(shape)), x.device)
        term = _take(x, dim, index[:, k]) * w
        out = term if out is None else out + term
    return out


def _take(x: Tensor, dim: int, index: np.ndarray) -> Tensor:
    return x[(slice(None),) * dim + (x.device.xp.asarray(index),)]


# ---- linear / bilinear / bicubic / trilinear (and the antialiased float resize) as one node ----

def _linear_taps(n: int, o: int, scale: Any, align_corners: bool) -> tuple:
    """torch's ``compute_indices_weights_linear`` for one dim, in ``scale``'s float type: output
    i reads inputs i0 and i1 = min(i0 + 1, n - 1) with weights 1 - t and t; as (o, 2) arrays."""
    real = type(scale)
    i = np.arange(o, dtype=real)
    if align_corners:
        src = i * (real(n - 1) / real(o - 1)) if o > 1 else np.zeros(o, real)
    else:
        src = np.maximum(scale * (i + real(0.5)) - real(0.5), real(0))
    i0 = np.minimum(np.floor(src).astype(np.int64), n - 1)
    t = np.clip(src - i0, 0, 1).astype(real)
    return np.stack([i0, np.minimum(i0 + 1, n - 1)], 1), np.stack([1 - t, t], 1).astype(real)


def _cubic_taps(n: int, o: int, scale: Any, align_corners: bool) -> tuple:
    """torch's ``compute_indices_weights_cubic`` for one dim: output i reads i0 - 1 .. i0 + 2
    clamped to [0, n - 1] (the source position not clamped at 0) with the cubic convolution
    weights of t, A = -0.75, in ``scale``'s float type; as (o, 4) arrays."""
    real = type(scale)
    i = np.arange(o, dtype=real)
    if align_corners:
        src = i * (real(n - 1) / real(o - 1)) if o > 1 else np.zeros(o, real)
    else:
        src = scale * (i + real(0.5)) - real(0.5)
    i0 = np.floor(src)
    t = (src - i0).astype(real)
    a = real(-0.75)

    def near(d):                               # |d| <= 1
        return ((a + 2) * d - (a + 3)) * d * d + 1

    def far(d):                                # 1 < |d| < 2
        return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a
    weights = np.stack([far(t + 1), near(t), near(1 - t), far(2 - t)], 1).astype(real)
    index = np.clip(i0.astype(np.int64)[:, None] + np.arange(-1, 3), 0, n - 1)
    return index, weights


_RESIZE_PLANS: dict = {}


def _resize_dim(kind: str, n: int, o: int, scale: Any, align_corners: bool) -> tuple | None:
    """One dim's resize: ``(matrix, index, weights, blocks, blocks_t)`` -- the (o, n) weight
    matrix (the taps summed where clamped indices repeat), the taps themselves (None for the
    antialiased filter), the band blocks of the matrix and of its transpose -- or None where the dim is left as it is (each output on its own input).
    Cached: a training loop resizes the same shapes every step."""
    key = (kind, n, o, type(scale).__name__, float(scale), align_corners)
    plan = _RESIZE_PLANS.get(key, False)
    if plan is not False:
        return plan
    if kind == "antialias-linear" or kind == "antialias-cubic":
        matrix = aa_weights(n, o, _aa_scale(n, o, scale, align_corners), kind == "antialias-cubic")
        plan = (matrix, None, None) if n != o else None    # torch leaves a same-size dim alone
    else:
        index, weights = (_cubic_taps if kind == "cubic" else _linear_taps)(n, o, scale, align_corners)
        if n == o and kind == "linear":
            plan = None                  # torch's linear kernels copy a same-size dim (any scale)
        elif n == o and np.array_equal(index[:, 1], np.arange(n)) and np.all(weights == (0, 1, 0, 0)):
            plan = None                  # bicubic: each output on its own input, an exact copy
        else:
            matrix = np.zeros((o, n), type(scale))
            np.add.at(matrix, (np.arange(o)[:, None], index), weights)
            plan = (matrix, index, weights)
    if plan is not None:
        for a in plan:
            if a is not None:
                a.flags.writeable = False
        plan = plan + (_band_blocks(plan[0]), _band_blocks(plan[0].T))
    if len(_RESIZE_PLANS) > 256:
        _RESIZE_PLANS.clear()
    _RESIZE_PLANS[key] = plan
    return plan


def _band_blocks(matrix: np.ndarray) -> tuple | None:
    """A long dim's weight matrix is a band (each output reads a few neighbouring inputs): as
    row blocks of about 64, each with the columns it touches -- ``((r0, r1, c0, c1), ...)`` --
    where that skips most of the multiply-adds by zero; None (one whole product) otherwise."""
    rows, cols = matrix.shape
    if cols <= 64:
        return None
    nz = matrix != 0
    first = np.where(nz.any(1), nz.argmax(1), 0)
    last = np.where(nz.any(1), cols - nz[:, ::-1].argmax(1), 1)
    blocks = []
    for r0 in range(0, rows, 64):
        r1 = min(r0 + 64, rows)
        blocks.append((r0, r1, int(first[r0:r1].min()), int(last[r0:r1].max())))
    if sum((r1 - r0) * (c1 - c0) for r0, r1, c0, c1 in blocks) > 0.5 * rows * cols:
        return None
    return tuple(blocks)


def _dense_pass(xp: Any, y: Any, axis: int, matrix: Any, blocks: tuple | None = None) -> Any:
    """Contract ``y``'s ``axis`` (n long) with the (o, n) ``matrix``: one matrix product (the
    last axis: rows @ matrix.T; another: matrix @ each (n, trailing) block, broadcast)."""
    shape = y.shape
    o, n = matrix.shape
    trail = math.prod(shape[axis + 1:])
    if blocks is None:
        if trail == 1:
            out = y.reshape(-1, n) @ matrix.T
        else:
            out = matrix @ y.reshape(-1, n, trail)
    elif trail == 1:
        rows = y.reshape(-1, n)
        out = xp.empty((rows.shape[0], o), dtype=y.dtype)
        for r0, r1, c0, c1 in blocks:
            xp.matmul(rows[:, c0:c1], matrix[r0:r1, c0:c1].T, out=out[:, r0:r1])
    else:
        y3 = y.reshape(-1, n, trail)
        out = xp.empty((y3.shape[0], o, trail), dtype=y.dtype)
        for r0, r1, c0, c1 in blocks:
            xp.matmul(matrix[r0:r1, c0:c1], y3[:, c0:c1], out=out[:, r0:r1])
    return out.reshape(shape[:axis] + (o,) + shape[axis + 1:])


def _taps_pass(xp: Any, y: Any, axis: int, index: Any, weights: Any, n: int, transpose: bool) -> Any:
    """The same contraction as torch computes it, tap by tap (``sum_k w_k * y[index_k]``; the
    transpose scatter-adds): where ``y`` holds inf or NaN, only the outputs whose taps read it
    are hit, as torch's (a matrix product would spread 0 * inf = NaN along the whole dim)."""
    moved = xp.moveaxis(y, axis, -1)
    if not transpose:
        out = moved[..., index[:, 0]] * weights[:, 0]
        for k in range(1, index.shape[1]):
            out = out + moved[..., index[:, k]] * weights[:, k]
    else:
        out = xp.zeros(moved.shape[:-1] + (n,), dtype=y.dtype)
        for k in range(index.shape[1]):
            xp.add.at(out, (Ellipsis, index[:, k]), moved * weights[:, k])
    return xp.ascontiguousarray(xp.moveaxis(out, -1, axis))


_UPSAMPLE_NODE = {"linear": "UpsampleLinear1D", "bilinear": "UpsampleBilinear2D",
                  "bicubic": "UpsampleBicubic2D", "trilinear": "UpsampleTrilinear3D",
                  "antialias-bilinear": "UpsampleBilinear2DAa",
                  "antialias-bicubic": "UpsampleBicubic2DAa"}


class SeparableResize(Function):
    """interpolate's linear / bilinear / bicubic / trilinear modes (and the antialiased float
    resize) as one node: each resized dim a constant (out x in) weight matrix applied with one
    matrix product, in the cheapest order of the dims; backward applies the transposed matrices
    (``transpose=True``: this op again, so its own gradient -- the double backward -- is the
    forward's matrices).  Where the operand holds inf or NaN, the taps one by one instead, as
    torch's kernel (a matrix product would give 0 * inf = NaN wherever a zero weight meets it).

    ``plan``: ``(mode, ((axis, (matrix, index, weights)), ...))``."""

    def forward(self, x, plan, transpose):
        self.plan, self.transpose = plan, transpose
        return _separable_apply(self.xp, x, plan[1], transpose)

    def backward(self, g):
        return _separable_apply(self.xp, g, self.plan[1], not self.transpose), None, None

    def grad_graph(self, g):
        return SeparableResize.apply(g, self.plan, not self.transpose), None, None

    reads_inputs = False      # backward reads only the plan: torch's node saves no tensor
    saves_nothing = True

    def name(self) -> str:
        base = _UPSAMPLE_NODE.get(self.__dict__.get("plan", ("",))[0], "UpsampleBilinear2D")
        return f"{base}Backward{'Backward' if self.__dict__.get('transpose') else ''}0"


def _separable_apply(xp: Any, y: Any, dims: tuple, transpose: bool) -> Any:
    sizes = list(y.shape)
    steps = []
    for axis, (matrix, index, weights, blocks, blocks_t) in dims:
        m = matrix.T if transpose else matrix
        steps.append((axis, m, index, weights, blocks_t if transpose else blocks))
    # the order with the fewest multiply-adds: a pass along a dim costs (elements) x (its out size)
    best = None
    for order in itertools.permutations(range(len(steps))):
        total, cost, shape = math.prod(sizes), 0, list(sizes)
        for s in order:
            axis, m = steps[s][0], steps[s][1]
            cost += total * m.shape[0]
            total = total // shape[axis] * m.shape[0]
            shape[axis] = m.shape[0]
        if best is None or cost < best[0]:
            best = (cost, order)
    finite = all(s[2] is None for s in steps) or bool(xp.isfinite(y.sum()))
    for s in best[1]:
        axis, m, index, weights, blocks = steps[s]
        if finite:
            y = _dense_pass(xp, y, axis, xp.asarray(m.astype(y.dtype, copy=False)), blocks)
        else:
            y = _taps_pass(xp, y, axis, xp.asarray(index), xp.asarray(weights.astype(y.dtype, copy=False)),
                           m.shape[0], transpose)
    return y


def _separable_resize(x: Tensor, mode: str, out: Sequence[int], scales: Sequence[Any],
                      align_corners: bool, antialias: bool = False) -> Tensor:
    """interpolate(x, ...) of a float tensor in the linear modes / bicubic (or antialiased) via
    :class:`SeparableResize`; a copy of ``x`` where no dim changes."""
    real = np.float64 if x.array.dtype == np.float64 else np.float32
    if antialias:
        kind = "antialias-cubic" if mode == "bicubic" else "antialias-linear"
    else:
        kind = "cubic" if mode == "bicubic" else "linear"
    dims = []
    for axis, (n, o, s) in enumerate(zip(x.shape[2:], out, scales), start=2):
        plan = _resize_dim(kind, n, o, real(s), align_corners)
        if plan is not None:
            dims.append((axis, plan))
    if not dims:       # torch copies, under its node's name
        return ops.torch_node(x * 1.0, f"{_UPSAMPLE_NODE[('antialias-' if antialias else '') + mode]}Backward0")
    return SeparableResize.apply(x, ("antialias-" + mode if antialias else mode, tuple(dims)), False)


def _area_resize(x: Tensor, out: list) -> Tensor:
    if x.ndim == 5:
        return adaptive_avg_pool3d(x, tuple(out))
    if x.ndim == 3:
        return adaptive_avg_pool2d(x.unsqueeze(2), (1, out[0])).squeeze(2)
    return adaptive_avg_pool2d(x, tuple(out))


def _nearest_index(n: int, o: int, scale, exact: bool = False, shortcuts: bool = True) -> np.ndarray:
    """torch's ``nearest_idx`` (and ``nearest_neighbor_exact_compute_source_index``): input
    position of each of ``o`` outputs from ``n`` inputs.  ``shortcuts``: o == n copies and
    o == 2n halves whatever the scale (torch's 2-D kernel; its 1-D / 3-D ones take
    ``floor(i * scale)`` even there, so a scale_factor of 1.3 over 3 positions reads 0, 0, 1)."""
    if exact:
        product = (np.arange(o) + 0.5).astype(np.float32) * np.float32(scale)
        return np.minimum(np.floor(product).astype(np.int64), n - 1)
    if shortcuts and o == n:
        return np.arange(o)
    if shortcuts and o == 2 * n:
        return np.arange(o) >> 1
    product = np.arange(o).astype(np.float32) * np.float32(scale)  # float32, as torch's floorf
    return np.minimum(np.floor(product).astype(np.int64), n - 1)


def _per_dim(name: str, value, k: int, kind: type) -> list:
    values = list(value) if isinstance(value, (tuple, list)) else [value] * k
    ok = (int, np.integer) if kind is int else (int, float, np.integer, np.floating)
    if len(values) != k or not all(isinstance(v, ok) and not isinstance(v, bool) for v in values):
        right_kinds = all(isinstance(v, ok) and not isinstance(v, bool) for v in values)
        # a wrong count: torch's ValueError (ConfigTypeError: a ValueError, and the InputTypeError raised before)
        raise (ConfigTypeError if right_kinds else InputTypeError)(
            f"interpolate: {name} must be one {kind.__name__} or {k} of them, got {value!r}")
    return [kind(v) for v in values]


# ---------------------------------------------------------------------------------------------
# Spatial transformers: affine_grid and grid_sample (DiffAugment / ADA translation, rotation)
# ---------------------------------------------------------------------------------------------
GRID_SAMPLE_MODES = ("bilinear", "nearest", "bicubic")
GRID_PADDING_MODES = ("zeros", "border", "reflection")


def _warn_align_corners(align_corners: bool | None) -> None:
    """torch's UserWarning when ``align_corners`` is left out of affine_grid / grid_sample (the
    default changed to False in torch 1.3), pointing at the caller's line."""
    if align_corners is None:
        import warnings
        warnings.warn("Default grid_sample and affine_grid behavior has changed to align_corners=False "
                      "since 1.3.0. Please specify align_corners=True if the old behavior is desired. "
                      "See the documentation of grid_sample for details.", UserWarning, stacklevel=3)


def _torch_linspace(n: int, dtype: np.dtype, align_corners: bool) -> np.ndarray:
    """torch's ``linspace_from_neg_one``: n points in [-1, 1] computed as torch's linspace does
    (from both ends towards the middle), pulled in by (n - 1) / n without align_corners."""
    if n <= 1:
        return np.zeros(n, dtype)
    t = dtype.type
    step = (t(1) - t(-1)) / t(n - 1)
    i = np.arange(n)
    values = np.where(i < n // 2, t(-1) + step * i.astype(dtype), t(1) - step * (n - 1 - i).astype(dtype))
    values = values.astype(dtype)
    return values if align_corners else (values * t(n - 1) / t(n)).astype(dtype)


def affine_grid(theta: Tensor, size: Sequence[int], align_corners: bool | None = None) -> Tensor:
    """``torch.nn.functional.affine_grid``: the (N, H, W, 2) sampling grid ``theta @ [x, y, 1]``
    of 2-D transforms (theta (N, 2, 3), size (N, C, H, W)) or the (N, D, H, W, 3) grid
    ``theta @ [x, y, z, 1]`` of 3-D ones (theta (N, 3, 4), size (N, C, D, H, W)), over the
    output's normalized pixel centres (``align_corners=False``, the default) or corners (True) --
    the input of :func:`grid_sample`.  Leaving ``align_corners`` out warns, as torch."""
    _warn_align_corners(align_corners)
    _check_rank("affine_grid", "theta", theta, (3,), "a batch of affine matrices (N, 2, 3) or (N, 3, 4)")
    if theta.dtype.kind != "f":
        raise DTypeValueError(f"affine_grid: expected theta to have a floating point dtype, got "
                              f"{theta.dtype} (as torch, refused)")
    size = tuple(size) if isinstance(size, (tuple, list)) else size
    if not isinstance(size, tuple) or not all(_is_int(s) for s in size):
        raise InputTypeError(f"affine_grid: size must be a sequence of ints (N, C, H, W) or "
                             f"(N, C, D, H, W), got {size!r}")
    if len(size) not in (4, 5):
        raise ShapeNotImplementedError(f"affine_grid: size must be (N, C, H, W) for 2-D or (N, C, D, H, W) for "
                         f"3-D transforms, got {size}")
    n, spatial = int(size[0]), tuple(int(s) for s in size[2:])
    k = len(spatial)                                        # 2 or 3 coordinates
    if theta.shape != (n, k, k + 1):
        raise ShapeError(f"affine_grid: expected a batch of {k}D affine matrices of shape "
                         f"({n}, {k}, {k + 1}) for size {list(size)}, got {theta.shape}")
    if align_corners and min(spatial) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size grids when "
                      "align_corners=True. This is not an intended use case of affine_grid. See the "
                      "documentation of affine_grid for details.", UserWarning, stacklevel=2)
    elif min(size) <= 0:
        raise ShapeError(f"affine_grid: expected a non-zero, positive output size, got {list(size)}")
    base = np.empty(spatial + (k + 1,), theta.dtype)
    for axis in range(k):                                   # x runs along the last dim, then y, z
        extent = spatial[k - 1 - axis]
        shape = [1] * k
        shape[k - 1 - axis] = extent
        base[..., axis] = _torch_linspace(extent, theta.dtype, bool(align_corners)).reshape(shape)
    base[..., k] = 1
    points = int(np.prod(spatial))
    xp = theta.device.xp
    base = Tensor._make(xp.asarray(np.broadcast_to(base.reshape(1, points, k + 1), (n, points, k + 1))),
                        theta.device)
    return (base @ theta.transpose(1, 2)).reshape(n, *spatial, k)


class GridCoordinates(Function):
    """grid_sample's source coordinate along one axis, in pixels: torch's unnormalization and
    padding (border clip, reflection) of normalized ``grid`` values.  Piecewise linear in the
    grid, so the gradient is a constant multiplier per element (torch's ``apply_get_grad``: the
    scale, the reflection's sign, 0 where clipped -- borders count as clipped)."""

    def forward(self, g, size, padding_mode, align_corners):
        coords, self.slope = _grid_coordinates(self.xp, g, size, padding_mode, align_corners)
        return coords

    def backward(self, gy):
        return gy * self.slope, None, None, None

    def grad_graph(self, gy):
        return gy * Tensor._make(self.slope, gy.device), None, None, None


def _grid_coordinates(xp, g, size: int, padding_mode: str, align_corners: bool):
    """(coordinates, d coordinates / d g) as torch's CPU kernel computes them (same operations,
    in the grid's dtype)."""
    t = g.dtype.type
    scale = t(size - 1) / t(2) if align_corners else t(size) / t(2)
    x = (g + t(1)) * scale if align_corners else (g + t(1)) * scale - t(0.5)
    slope = xp.full(g.shape, scale, dtype=g.dtype)
    if padding_mode == "zeros":
        return x, slope
    if padding_mode == "reflection":
        if (size <= 1) if align_corners else (size <= 0):     # no span to reflect in
            return xp.zeros_like(g), xp.zeros_like(g)
        low, twice_span = (t(0), t(size - 1) * t(2)) if align_corners else (t(-0.5), t(size) * t(2))
        shifted = x - low
        flipped_sign = shifted < 0
        extra = xp.abs(shifted)
        extra = extra - xp.trunc(extra / twice_span) * twice_span
        one_more_flip = extra > twice_span - extra
        x = xp.where(one_more_flip, twice_span - extra, extra) + low
        slope = xp.where(one_more_flip ^ flipped_sign, -slope, slope)
    inside = (x > 0) & (x < t(size - 1))
    x = xp.where(xp.isnan(x), t(0), xp.clip(x, t(0), t(size - 1)))      # NaN clips to 0, as torch
    return x, xp.where(inside, slope, t(0))


def _corner_index(xp, corner, size: int):
    """A corner's whole-number coordinate as an index array clipped into [0, size) (the value
    there is masked out if it was outside) and its in-range mask."""
    ok = (corner > -1) & (corner < size)
    index = xp.where(ok, corner, 0).astype(np.int64)
    return index, ok


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear", padding_mode: str = "zeros",
                align_corners: bool | None = None) -> Tensor:
    """``torch.nn.functional.grid_sample``: output[n, :, i, j] is ``input[n]`` read at the
    normalized position ``grid[n, i, j] = (x, y)`` in [-1, 1] (-1: the left / top edge without
    ``align_corners``, the first pixel's centre with it); of 5-D input (N, C, D, H, W), the grid
    is (N, Do, Ho, Wo, 3) of (x, y, z).  ``bilinear`` weighs the four (eight in 3-D: trilinear)
    neighbours (each outside the image reads 0 with ``padding_mode="zeros"``); ``nearest`` reads
    the pixel at the coordinate rounded half to even, as torch; ``bicubic`` (4-D only, as torch)
    weighs the 4x4 neighbours by cubic convolution; ``border`` clips coordinates into the image
    and ``reflection`` mirrors them at its edges.  A gather and arithmetic, so the input's
    gradient is a scatter-add and the grid's comes through the weights (0 for nearest, as
    torch); gradients of gradients come for free (bilinear's agree with torch 2.13's).  Leaving
    ``align_corners`` out warns, as torch."""
    _warn_align_corners(align_corners)
    _check_rank("grid_sample", "input", input, (4, 5), "(N, C, H, W) or (N, C, D, H, W)")
    k = input.ndim - 2
    _check_rank("grid_sample", "grid", grid, (k + 2,),
                "(N, H_out, W_out, 2)" if k == 2 else "(N, D_out, H_out, W_out, 3) for 5-D input")
    if input.dtype.kind != "f":
        raise DTypeNotImplementedError(f"grid_sample: not implemented for an input of dtype "
                                       f"{input.dtype}, as torch's is not (convert with .float())")
    _check_operand("grid_sample", "grid", grid, input)
    if mode not in GRID_SAMPLE_MODES:
        raise ConfigError(f"grid_sample: mode must be one of {GRID_SAMPLE_MODES}, got {mode!r}")
    if mode == "bicubic" and k == 3:
        raise ShapeError("grid_sample: bicubic interpolation only supports 4-D input (as torch), got "
                         f"input of shape {input.shape}")
    if padding_mode not in GRID_PADDING_MODES:
        raise ConfigError(f"grid_sample: padding_mode must be one of {GRID_PADDING_MODES}, got {padding_mode!r}")
    n, c, *sizes = input.shape
    if grid.shape[0] != n or grid.shape[-1] != k:
        raise ShapeError(f"grid_sample: grid must be (N, {'D_out, ' if k == 3 else ''}H_out, W_out, {k}) "
                         f"with the input's N = {n}, got grid {grid.shape} for input {input.shape}")
    if 0 in sizes:
        raise ShapeError(f"grid_sample: the input's spatial dims must be non-empty, got {input.shape}")
    corners = bool(align_corners)
    flat = input.reshape(n, c, int(np.prod(sizes)))
    if mode == "bicubic":
        return _bicubic(flat, grid, sizes[0], sizes[1], padding_mode, corners).permute(0, 3, 1, 2)
    last = (0, k + 1) + tuple(range(1, k + 1))              # (N, ..., C) -> (N, C, ...)
    # coordinates x, y (, z) along the last, second-last (, third-last) input dims
    coords = [GridCoordinates.apply(grid[..., a], sizes[k - 1 - a], padding_mode, corners) for a in range(k)]
    xp = coords[0].device.xp
    if mode == "nearest":
        index, ok, stride = 0, True, 1
        for a in range(k):
            i, inside = _corner_index(xp, xp.rint(coords[a].array), sizes[k - 1 - a])
            index, ok, stride = index + i * stride, ok & inside, stride * sizes[k - 1 - a]
        values = _gather_pixels(flat, index, ok)                              # (N, ..., C)
        return (values * coords[0]._piecewise_constant(xp.ones_like(coords[0].array)).unsqueeze(-1)).permute(*last)
    if k == 2:
        return _bilinear(flat, coords[0], coords[1], sizes[0], sizes[1]).permute(*last)
    return _trilinear(flat, coords, sizes).permute(*last)


def _trilinear(flat: Tensor, coords: list, sizes: list) -> Tensor:
    """The eight neighbours of (x, y, z), each weighed by the product of its distances' complements
    along the three axes (torch's tnw ... bse), read as (N, Do, Ho, Wo, C)."""
    xp = flat.device.xp
    d, h, w = sizes
    lows = [xp.floor(t.array) for t in coords]
    fracs = [t - Tensor._make(lo, t.device) for t, lo in zip(coords, lows)]
    from .factory import stack
    weights, index, ok = [], [], []
    for dz in (0, 1):
        for dy in (0, 1):
            for dx in (0, 1):
                wx = fracs[0] if dx else 1.0 - fracs[0]
                wy = fracs[1] if dy else 1.0 - fracs[1]
                wz = fracs[2] if dz else 1.0 - fracs[2]
                weights.append(wx * wy * wz)
                (ix, okx), (iy, oky), (iz, okz) = (_corner_index(xp, lo + step, size) for lo, step, size in
                                                   ((lows[0], dx, w), (lows[1], dy, h), (lows[2], dz, d)))
                index.append((iz * h + iy) * w + ix)
                ok.append(okx & oky & okz)
    weights = stack(weights, dim=1)                                           # (N, 8, Do, Ho, Wo)
    values = _gather_pixels(flat, xp.stack(index, axis=1), xp.stack(ok, axis=1))
    return (values * weights.unsqueeze(-1)).sum(axis=1)


def _gather_pixels(flat: Tensor, index, ok) -> Tensor:
    """``flat[n, :, index[n, ...]]`` as (N, ..., C), 0 where ``ok`` is False (a masked read, not a
    multiplication, so an infinite pixel outside the image still reads 0, as torch)."""
    xp = flat.device.xp
    batch = xp.arange(flat.shape[0]).reshape((-1,) + (1,) * (index.ndim - 1))
    values = flat[batch, :, index]
    return ops.Where.apply(values, 0.0, ok[..., None])


def _bilinear(flat: Tensor, x: Tensor, y: Tensor, h: int, w: int) -> Tensor:
    """The four neighbours of (x, y) weighted as torch's kernel does: with w = x - floor(x),
    n = y - floor(y), e = 1 - w, s = 1 - n, the corners nw, ne, sw, se weigh s*e, s*w, n*e, n*w."""
    xp = flat.device.xp
    x0, y0 = xp.floor(x.array), xp.floor(y.array)
    west, north = x - Tensor._make(x0, x.device), y - Tensor._make(y0, y.device)
    east, south = 1.0 - west, 1.0 - north
    from .factory import stack
    weights = stack([south * east, south * west, north * east, north * west], dim=1)   # (N, 4, Ho, Wo)
    (ix0, okx0), (ix1, okx1) = (_corner_index(xp, v, w) for v in (x0, x0 + 1))
    (iy0, oky0), (iy1, oky1) = (_corner_index(xp, v, h) for v in (y0, y0 + 1))
    index = xp.stack([iy0 * w + ix0, iy0 * w + ix1, iy1 * w + ix0, iy1 * w + ix1], axis=1)
    ok = xp.stack([oky0 & okx0, oky0 & okx1, oky1 & okx0, oky1 & okx1], axis=1)
    return (_gather_pixels(flat, index, ok) * weights.unsqueeze(-1)).sum(axis=1)


def _cubic_weights(t: Tensor) -> list[Tensor]:
    """torch's cubic-convolution coefficients (A = -0.75) of the four taps at -1, 0, 1, 2 for a
    fraction ``t`` in [0, 1) (``get_cubic_upsample_coefficients``); polynomials in t, so the grid's
    gradient comes through them."""
    a = -0.75
    near = lambda x: ((a + 2) * x - (a + 3)) * x * x + 1          # |x| <= 1
    far = lambda x: ((a * x - 5 * a) * x + 8 * a) * x - 4 * a      # 1 < |x| < 2
    s = 1.0 - t
    return [far(t + 1.0), near(t), near(s), far(s + 1.0)]


def _bicubic_tap(xp, coord, size: int, padding_mode: str, align_corners: bool):
    """A whole-number tap coordinate with the padding applied as torch's bicubic kernel does
    (``compute_coordinates``: border clips, reflection mirrors then clips), as (index, in-range)."""
    if padding_mode == "reflection":
        low2, high2 = (0, 2 * (size - 1)) if align_corners else (-1, 2 * size - 1)
        if low2 == high2:
            coord = xp.zeros_like(coord)
        else:
            least, span = low2 / 2, (high2 - low2) / 2
            dist = xp.abs(coord - least)
            extra, flips = xp.fmod(dist, span), xp.floor(dist / span)
            coord = xp.where(flips % 2 == 0, extra + least, span - extra + least)
    if padding_mode != "zeros":
        coord = xp.clip(coord, 0, size - 1)
    return _corner_index(xp, coord, size)


def _bicubic(flat: Tensor, grid: Tensor, h: int, w: int, padding_mode: str, align_corners: bool) -> Tensor:
    """torch's bicubic grid_sample: the 4x4 taps around the unnormalized (unpadded) coordinate,
    each read with the padding mode applied to its own position, weighed by cubic convolution."""
    xp = flat.device.xp
    x = GridCoordinates.apply(grid[..., 0], w, "zeros", align_corners)      # unnormalized only
    y = GridCoordinates.apply(grid[..., 1], h, "zeros", align_corners)
    x0, y0 = xp.floor(x.array), xp.floor(y.array)
    wx = _cubic_weights(x - Tensor._make(x0, x.device))
    wy = _cubic_weights(y - Tensor._make(y0, y.device))
    taps_x = [_bicubic_tap(xp, x0 + d, w, padding_mode, align_corners) for d in (-1, 0, 1, 2)]
    taps_y = [_bicubic_tap(xp, y0 + d, h, padding_mode, align_corners) for d in (-1, 0, 1, 2)]
    from .factory import stack
    weights = stack([wy[i] * wx[j] for i in range(4) for j in range(4)], dim=1)     # (N, 16, Ho, Wo)
    index = xp.stack([taps_y[i][0] * w + taps_x[j][0] for i in range(4) for j in range(4)], axis=1)
    ok = xp.stack([taps_y[i][1] & taps_x[j][1] for i in range(4) for j in range(4)], axis=1)
    return (_gather_pixels(flat, index, ok) * weights.unsqueeze(-1)).sum(axis=1)


# ---------------------------------------------------------------------------------------------
# Attention (SAGAN / transformer GANs)
# ---------------------------------------------------------------------------------------------
def _attention_mask(op: str, mask: Any, scores: Tensor) -> Tensor:
    """``scores`` with ``mask`` applied: a bool mask keeps True (the rest -> -inf), a float
    mask is added; either broadcasts to the scores' (..., L, S)."""
    if not isinstance(mask, Tensor):
        raise InputTypeError(f"{op}: attn_mask must be a Tensor or None, got {type(mask).__name__}")
    if mask.device is not scores.device:
        raise DeviceError(f"{op}: attn_mask is on {mask.device} but the query is on {scores.device}")
    broadcast_shape("{op}: attn_mask of shape {0} does not broadcast to the attention scores' "
                    "shape {1} (..., L, S)", mask.shape, scores.shape, op=op)
    if mask.dtype == np.bool_:
        return ops.Where.apply(scores, float("-inf"), mask.array)
    if mask.dtype == np.float32 and mask.dtype != scores.dtype and scores.dtype.kind == "f":
        mask = mask.to(scores.dtype)   # torch takes a float32 mask with any query (mask.float())
    _check_operand(op, "attn_mask", mask, scores)
    return scores + mask


def _safe_softmax(scores: Tensor) -> Tensor:
    """Softmax over the last dim, with rows masked out entirely (all -inf) giving zeros (and zero
    gradients), as torch's attention does, not NaN."""
    xp = scores.device.xp
    dead = xp.all(scores.array == -xp.inf, axis=-1, keepdims=True)
    if not dead.any():
        return softmax(scores, dim=-1)
    probs = softmax(ops.Where.apply(0.0, scores, dead), dim=-1)
    return ops.Where.apply(0.0, probs, dead)


def _grouped(op: str, query: Tensor, t: Tensor, name: str) -> Tensor:
    """enable_gqa: ``t``'s heads (dim -3) repeated to the query's head count, each head in turn
    (torch's repeat_interleave)."""
    hq, hk = query.shape[-3], t.shape[-3]
    if hq % hk:
        raise ShapeError(f"{op}: enable_gqa needs the query's heads ({hq}) to be a multiple of "
                         f"the {name}'s ({hk}); shapes {query.shape} and {t.shape}")
    spread = t.unsqueeze(-3).expand(*t.shape[:-2], hq // hk, *t.shape[-2:])
    return spread.reshape(*t.shape[:-3], hq, *t.shape[-2:])


_sdpa_backends: "set | None" = None    # torch.nn.attention.sdpa_kernel's allowed backends (ints)


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None = None,
                                 dropout_p: float = 0.0, is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """``torch.nn.functional.scaled_dot_product_attention``:
    ``softmax(query @ key^T * scale + mask) @ value`` over (..., L, E), (..., S, E), (..., S, Ev)
    -> (..., L, Ev), scale 1 / sqrt(E) by default.  A bool ``attn_mask`` marks the pairs that
    take part (True), a float one is added; ``is_causal`` keeps j <= i (top-left aligned).  A
    row with nothing to attend to gives zeros, as torch.  ``dropout_p`` drops attention weights
    with tensorgan's default generator (always, as torch: pass 0.0 in evaluation)."""
    op = "scaled_dot_product_attention"
    if _sdpa_backends is not None and not _sdpa_backends & {0, 1}:
        raise DeviceError(f"{op}: no viable backend: the sdpa_kernel context allows only "
                          f"{sorted(_sdpa_backends)} (SDPBackend values); tensorgan computes "
                          f"attention with the math implementation, so allow SDPBackend.MATH "
                          f"(or FLASH_ATTENTION, which torch also runs on the CPU)")
    if _sdpa_backends is not None and 0 not in _sdpa_backends and query.dtype == np.float64:
        raise DeviceError(f"{op}: no viable backend for float64: the sdpa_kernel context allows "
                          f"FLASH_ATTENTION but not MATH, and torch's flash attention takes "
                          f"float32 / float16 / bfloat16 only")
    for name, t in (("query", query), ("key", key), ("value", value)):
        _check_rank(op, name, t, range(2, 33), "at least 2-D (..., L or S, E)")
        _check_operand(op, name, t, query)
    if key.shape[-1] != query.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise ShapeError(f"{op}: query (..., L, E), key (..., S, E) and value (..., S, Ev) do not "
                         f"fit: shapes {query.shape}, {key.shape}, {value.shape}")
    if enable_gqa and min(query.ndim, key.ndim, value.ndim) >= 3:
        key, value = _grouped(op, query, key, "key"), _grouped(op, query, value, "value")
    if is_causal and attn_mask is not None:
        raise ConfigError(f"{op}: give attn_mask or is_causal=True, not both (torch refuses both)")
    factor = 1.0 / math.sqrt(query.shape[-1]) if scale is None else _scalar(op, "scale", scale)
    scores = (query @ key.transpose(-2, -1)) * factor
    if is_causal:
        length, source = query.shape[-2], key.shape[-2]
        causal = np.tril(np.ones((length, source), dtype=bool))
        attn_mask = Tensor._make(scores.device.xp.asarray(causal), scores.device)
    if attn_mask is not None:
        scores = _attention_mask(op, attn_mask, scores)
    weights = _dropout(op, _safe_softmax(scores), dropout_p, True, False, None, scores.shape)
    return weights @ value


# ---------------------------------------------------------------------------------------------
# alpha_dropout, bilinear, channel_shuffle
# ---------------------------------------------------------------------------------------------
_ALPHA_PRIME = SELU_ALPHA * SELU_SCALE      # SELU's negative saturation value, negated


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False, *,
                  generator: Generator | None = None) -> Tensor:
    """Dropout for SELU networks (torch.nn.functional.alpha_dropout): dropped elements are set to
    SELU's saturation value ``-alpha'`` and the result is scaled by ``a`` and shifted by ``b``
    so that zero-mean unit-variance inputs keep those moments: ``a = ((1 - p)(1 + p alpha'^2))^-1/2``,
    ``b = a alpha' p`` (masks from ``generator``, a tensorgan extra, or the default one)."""
    x = input   # (torch's name for the argument)
    _check_rank("alpha_dropout", "input", x, range(0, 33), "a tensor")
    return _alpha_dropout("alpha_dropout", x, p, training, inplace, generator, x.shape)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False, *,
                          generator: Generator | None = None) -> Tensor:
    """alpha_dropout of whole channels (torch.nn.functional.feature_alpha_dropout): one keep/drop
    draw per (N, C) entry of an input with at least 2 dims, broadcast over the rest."""
    x = input   # (torch's name for the argument)
    _check_rank("feature_alpha_dropout", "input", x, range(2, 33), "(N, C, *) with at least 2 dims")
    mask = x.shape[:2] + (1,) * (x.ndim - 2)
    return _alpha_dropout("feature_alpha_dropout", x, p, training, inplace, generator, mask)


def _alpha_dropout(op: str, x: Tensor, p: float, training: bool, inplace: bool,
                   generator: Generator | None, mask_shape: tuple) -> Tensor:
    """``x * keep * a + ((keep - 1) alpha' a + alpha' a p)`` with a keep-mask of ``mask_shape``
    (broadcast over x)."""
    p = _probability(op, p)
    settled = _dropout_without_draws(op, x, p, training, inplace, "dropped elements are set to "
                                     "SELU's saturation value and the result rescaled")
    if settled is not None:
        return settled
    keep = (resolve(generator).uniform(mask_shape, dtype=x.dtype) >= p).astype(x.dtype)
    a = 1.0 / math.sqrt((_ALPHA_PRIME ** 2 * p + 1) * (1 - p))
    xp = x.device.xp
    scale = xp.asarray(keep * x.dtype.type(a))
    shift = xp.asarray(((keep - 1) * _ALPHA_PRIME * a + _ALPHA_PRIME * a * p).astype(x.dtype))
    return _maybe_in_place(op, x, inplace, lambda t: ops.Mul.apply(t, scale) + Tensor._make(shift, t.device))


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``y_k = x1^T W_k x2 + b_k`` (torch.nn.functional.bilinear): inputs (*, in1) and (*, in2)
    with the same leading dims, weight (out, in1, in2), bias (out,)."""
    op = "bilinear"
    _check_rank(op, "input1", input1, range(1, 33), "(*, in1_features)")
    _check_rank(op, "input2", input2, range(1, 33), "(*, in2_features)")
    _check_rank(op, "weight", weight, (3,), "(out_features, in1_features, in2_features)")
    for name, t in (("input2", input2), ("weight", weight), ("bias", bias)):
        _check_operand(op, name, t, input1)
    if input1.shape[:-1] != input2.shape[:-1] or weight.shape[1:] != (input1.shape[-1], input2.shape[-1]):
        raise ShapeError(f"{op}: input1 {input1.shape} and input2 {input2.shape} need the same leading "
                         f"dims and weight {weight.shape} must be (out, {input1.shape[-1]}, "
                         f"{input2.shape[-1]})")
    if bias is not None and bias.shape != weight.shape[:1]:
        raise ShapeError(f"{op}: bias must have shape ({weight.shape[0]},), got {bias.shape}")
    left = (input1.reshape(-1, input1.shape[-1]) @ weight.permute(1, 0, 2).reshape(weight.shape[1], -1))
    left = left.reshape(-1, weight.shape[0], weight.shape[2])            # (N, out, in2)
    out = (left @ input2.reshape(-1, input2.shape[-1], 1)).reshape(input1.shape[:-1] + weight.shape[:1])
    return out if bias is None else out + bias


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """(N, C, *) with the channels regrouped: (N, g, C/g, *) -> (N, C/g, g, *) -> (N, C, *)
    (torch.nn.functional.channel_shuffle, ShuffleNet)."""
    x = input   # (torch's name for the argument)
    _check_rank("channel_shuffle", "input", x, range(3, 33), "(N, C, *) with at least 3 dims")
    if not _is_int(groups) or groups <= 0 or x.shape[1] % groups:
        raise FunctionalOptionError(f"channel_shuffle: groups must be an int > 0 dividing the {x.shape[1]} "
                          f"channels, got {groups!r}")
    n, c, rest = x.shape[0], x.shape[1], x.shape[2:]
    return x.reshape((n, groups, c // groups) + rest).transpose(1, 2).reshape((n, c) + rest)


def native_channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """torch's "native kernel" spelling of :func:`channel_shuffle`: the same op."""
    x = input   # (torch's name for the argument)
    return channel_shuffle(x, groups)


# ---------------------------------------------------------------------------------------------
# local_response_norm, lp_pool, fractional_max_pool2d, the *_with_indices and upsample aliases
# ---------------------------------------------------------------------------------------------
def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0) -> Tensor:
    """``x / (k + alpha / size * sum of x^2 over the size neighbouring channels) ** beta``
    (torch.nn.functional.local_response_norm on (N, C, *)): the window runs from channel
    ``c - size // 2`` to ``c + (size - 1) // 2``, zero-padded, and the sum is averaged over
    ``size`` (torch's avg_pool over the padded channels)."""
    x = input   # (torch's name for the argument)
    op = "local_response_norm"
    _check_rank(op, "input", x, range(3, 33), "(N, C, *) with at least 3 dims")
    if not _is_int(size) or size < 1:
        raise FunctionalOptionError(f"{op}: size must be a positive int, got {size!r}")
    alpha, beta, k = (_scalar(op, name, v) for name, v in (("alpha", alpha), ("beta", beta), ("k", k)))
    if x.numel() == 0:
        return x
    n, c = x.shape[:2]
    sq = (x * x).reshape(n, 1, c, -1)
    sq = pad(sq, (0, 0, size // 2, (size - 1) // 2))
    div = avg_pool2d(sq, (size, 1), stride=1).reshape(x.shape)
    return x / (div * alpha + k) ** beta


def _cross_map_lrn2d(x: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75,
                     k: float = 1.0) -> Tensor:
    """nn.CrossMapLRN2d's forward on (N, C, H, W): ``x * (k + alpha / size * S) ** -beta``, S
    per channel the sum of x^2 over torch's legacy running window (see :func:`_cross_map_window`),
    a constant (C, C) 0/1 matrix product, so gradients of every order are the graph's."""
    op = "CrossMapLRN2d"
    _check_rank(op, "input", x, (4,), "(N, C, H, W)")
    alpha, beta, k = (_scalar(op, name, v) for name, v in (("alpha", alpha), ("beta", beta), ("k", k)))
    n, c, h, w = x.shape
    window = Tensor._make(x.device.xp.asarray(_cross_map_window(c, size).astype(x.dtype)), x.device)
    sums = (window @ (x * x).reshape(n, c, h * w)).reshape(x.shape)
    return x * (sums * (alpha / size) + k) ** -beta


def _cross_map_window(channels: int, size: int) -> np.ndarray:
    """(C, C) 0/1: which channels' squares torch's legacy CrossMapLRN2d sums for each channel.
    Its loop starts channel 0 with channels [0, pre_pad), pre_pad = (size - 1) // 2 + 1, then
    for channel c adds c + pre_pad - 1 (while inside) and drops c - pre_pad only once c >
    pre_pad -- so channel 0's square is never dropped (Lua torch's 1-based bound, kept)."""
    pre_pad = int((size - 1) / 2 + 1)
    m = np.zeros((channels, channels))
    m[0, :min(pre_pad, channels)] = 1
    for c in range(1, channels):
        m[c] = m[c - 1]
        if c < channels - pre_pad + 1:
            m[c, c + pre_pad - 1] += 1
        if c > pre_pad:
            m[c, c - pre_pad] -= 1
    return m


def lp_pool1d(input: Tensor, norm_type: float, kernel_size: int, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:
    """``(sum over each window of x^p) ** (1/p)`` (torch.nn.functional.lp_pool1d, p =
    ``norm_type``): torch's avg_pool1d of x^p times the window size, then the root (NaN where
    that sum is negative -- odd p over negative inputs -- as in torch)."""
    x = input   # (torch's name for the argument)
    _scalar("lp_pool1d", "norm_type", norm_type)
    if math.isinf(norm_type):
        return _lp_pool_inf(max_pool1d, x, norm_type, kernel_size, stride, ceil_mode)
    pooled = avg_pool1d(x ** norm_type, kernel_size, stride, 0, ceil_mode)
    return _lp_root(pooled, _single(kernel_size, "kernel_size", 1, "lp_pool1d"), norm_type)


def lp_pool2d(input: Tensor, norm_type: float, kernel_size: IntOrPair, stride: IntOrPair | None = None,
              ceil_mode: bool = False) -> Tensor:
    """``(sum over each window of x^p) ** (1/p)`` (torch.nn.functional.lp_pool2d on (N, C, H, W)
    or (C, H, W); see :func:`lp_pool1d`)."""
    x = input   # (torch's name for the argument)
    return _lp_pool("lp_pool2d", x, norm_type, kernel_size, stride, ceil_mode, 2)


def lp_pool3d(input: Tensor, norm_type: float, kernel_size: Any, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:
    """``(sum over each window of x^p) ** (1/p)`` (torch.nn.functional.lp_pool3d on
    (N, C, D, H, W) or (C, D, H, W); see :func:`lp_pool1d`)."""
    x = input   # (torch's name for the argument)
    return _lp_pool("lp_pool3d", x, norm_type, kernel_size, stride, ceil_mode, 3)


def _lp_pool(op: str, x: Tensor, norm_type: float, kernel_size: Any, stride: Any, ceil_mode: bool,
             dims: int) -> Tensor:
    """lp_pool2d / lp_pool3d: torch's avg_pool of x^p times the window volume, then the root;
    the unbatched layout (one dim fewer) runs as a batch of one."""
    _scalar(op, "norm_type", norm_type)
    if math.isinf(norm_type):
        return _lp_pool_inf(max_pool2d if dims == 2 else max_pool3d, x, norm_type, kernel_size, stride,
                            ceil_mode)
    k = _ntuple(kernel_size, "kernel_size", 1, op, dims)
    avg = avg_pool2d if dims == 2 else avg_pool3d
    return _batch_of_one(x, dims + 2, lambda xb: _lp_root(avg(xb ** norm_type, k, stride, 0, ceil_mode),
                                                           math.prod(k), norm_type))


def _lp_pool_inf(max_pool: Callable, x: Tensor, norm_type: float, kernel_size: Any, stride: Any,
                 ceil_mode: bool) -> Tensor:
    """p = +inf / -inf, as torch: the max of |x| over each window (-inf: minus the max of -|x|,
    i.e. the min of |x|) -- the limit of the p-norm, which x^p cannot reach in floating point."""
    if norm_type > 0:
        return max_pool(x.abs(), kernel_size, stride, 0, 1, ceil_mode)
    return -max_pool(-x.abs(), kernel_size, stride, 0, 1, ceil_mode)


def _lp_root(pooled: Tensor, window: int, norm_type: float) -> Tensor:
    """torch's ``(sign(out) * relu(|out|)) * window) ** (1 / norm_type)``; a window whose sum
    is 0 gets gradient 0, not NaN (torch's relu backward masks the root's infinite slope)."""
    from .factory import where
    root = (pooled.sign() * relu(pooled.abs()) * float(window))
    zero = Tensor._make(pooled.array == 0, pooled.device)
    if not bool(zero.array.any()):
        return root ** (1.0 / float(norm_type))
    return where(zero, 0.0, where(zero, 1.0, root) ** (1.0 / float(norm_type)))


def fractional_max_pool2d(input: Tensor, kernel_size: IntOrPair, output_size: IntOrPair | None = None,
                          output_ratio: Any = None, return_indices: bool = False,
                          _random_samples: Tensor | None = None) -> Any:
    """torch.nn.functional.fractional_max_pool2d on (N, C, H, W) or (C, H, W): max pooling with
    pseudo-random window starts (Graham's fractional max pooling). ``_random_samples``
    (N, C, 2) in [0, 1) -- [..., 0] for the width, [..., 1] for the height -- fixes them (drawn
    from the default generator otherwise); the starts of output ``i`` of ``out`` over ``n`` with
    window ``k`` are ``int((i + u) * a) - int(u * a)``, ``a = (n - k) / (out - 1)``, the last one
    ``n - k`` (torch's kernel, in the input's precision)."""
    x = input   # (torch's name for the argument)
    out, indices = fractional_max_pool2d_with_indices(x, kernel_size, output_size, output_ratio,
                                                      return_indices, _random_samples)
    return (out, indices) if return_indices else out


def fractional_max_pool2d_with_indices(input: Tensor, kernel_size: IntOrPair, output_size: IntOrPair | None = None,
                                       output_ratio: Any = None, return_indices: bool = False,
                                       _random_samples: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """:func:`fractional_max_pool2d`, always returning ``(output, indices)`` (torch's)."""
    x = input   # (torch's name for the argument)
    return _fractional_max_pool("fractional_max_pool2d", x, kernel_size, output_size, output_ratio,
                                _random_samples, 2)


def fractional_max_pool3d(input: Tensor, kernel_size: Any, output_size: Any = None, output_ratio: Any = None,
                          return_indices: bool = False, _random_samples: Tensor | None = None) -> Any:
    """torch.nn.functional.fractional_max_pool3d on (N, C, D, H, W) or (C, D, H, W): as
    :func:`fractional_max_pool2d` over three dims; ``_random_samples`` (N, C, 3) holds the
    samples for depth, height and width in that order (torch's 3-D kernel; the 2-D one has them
    reversed); indices flattened over D, H, W."""
    x = input   # (torch's name for the argument)
    out, indices = fractional_max_pool3d_with_indices(x, kernel_size, output_size, output_ratio,
                                                      return_indices, _random_samples)
    return (out, indices) if return_indices else out


def fractional_max_pool3d_with_indices(input: Tensor, kernel_size: Any, output_size: Any = None,
                                       output_ratio: Any = None, return_indices: bool = False,
                                       _random_samples: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """:func:`fractional_max_pool3d`, always returning ``(output, indices)`` (torch's)."""
    x = input   # (torch's name for the argument)
    return _fractional_max_pool("fractional_max_pool3d", x, kernel_size, output_size, output_ratio,
                                _random_samples, 3)


_FRACTIONAL_LAYOUTS = {2: "(N, C, H, W) or (C, H, W)", 3: "(N, C, D, H, W) or (C, D, H, W)"}
_COUNT_WORDS = {2: "two", 3: "three"}


def _fractional_max_pool(op: str, x: Tensor, kernel_size: Any, output_size: Any, output_ratio: Any,
                         samples: Tensor | None, dims: int) -> tuple[Tensor, Tensor]:
    """Fractional max pooling over the last ``dims`` dims: (output, int64 indices flattened over
    them). Each output's window is the ``kernel`` block at the pseudo-random starts; the first
    maximum wins, a NaN over any number (torch's)."""
    _check_rank(op, "input", x, (dims + 1, dims + 2), _FRACTIONAL_LAYOUTS[dims])
    xb = x.unsqueeze(0) if x.ndim == dims + 1 else x
    k = _ntuple(kernel_size, "kernel_size", 1, op, dims)
    out = _fractional_output_size(op, xb, output_size, output_ratio, dims)
    size = xb.shape[2:]
    if any(o + kk - 1 > n for o, kk, n in zip(out, k, size)):
        raise ShapeError(f"{op}: kernel {k} with output {out} is too large for the input {x.shape}: "
                         f"needs output + kernel - 1 <= input size per dim")
    u = _fractional_samples(op, xb, samples, dims)
    order = (1, 0) if dims == 2 else (0, 1, 2)      # which sample drives which dim (torch's)
    n, c = xb.shape[:2]
    m = 2 * dims                                    # key dims after (N, C): *out, *k
    key = [np.arange(n).reshape((n,) + (1,) * (m + 1)), np.arange(c).reshape((1, c) + (1,) * m)]
    for i in range(dims):
        starts = _fractional_starts(u[..., order[i]], size[i], out[i], k[i])      # (N, C, out_i)
        shape = [n, c] + [1] * m
        shape[2 + i] = out[i]
        tap = [1] * (2 + m)
        tap[2 + dims + i] = k[i]
        key.append(starts.reshape(shape) + np.arange(k[i]).reshape(tap))
    xp = x.device.xp
    vals = xb.array[tuple(xp.asarray(a) for a in key)].reshape(n, c, *out, -1)
    pick = xp.where(xp.isnan(vals), xp.inf, vals).argmax(axis=-1)     # a NaN wins, as in torch
    coords, flat = [], 0
    for i in reversed(range(dims)):       # the flat window tap -> each dim's input position
        tap, pick = pick % k[i], pick // k[i]
        coords.insert(0, xp.asarray(key[2 + i][(Ellipsis,) + (0,) * dims]) + tap)
    for i in range(dims):
        flat = flat * size[i] + coords[i]
    lead = (xp.asarray(key[0][(Ellipsis,) + (0,) * dims]), xp.asarray(key[1][(Ellipsis,) + (0,) * dims]))
    result = ops.MaxPick.apply(xb, lead + tuple(coords))   # xb[lead + coords]
    indices = Tensor._make(flat.astype(np.int64), x.device)
    if x.ndim == dims + 1:
        return result.squeeze(0), indices.squeeze(0)
    return result, indices


def _fractional_output_size(op: str, xb: Tensor, output_size: Any, output_ratio: Any, dims: int) -> tuple:
    """The output size from output_size, or from output_ratio (each in (0, 1)) times the input's."""
    if output_size is None and output_ratio is None:
        raise ConfigError(f"{op} requires specifying either an output_size or an output_ratio")
    if output_size is not None:
        return _ntuple(output_size, "output_size", 1, op, dims)
    ratios = tuple(output_ratio) if isinstance(output_ratio, (tuple, list)) else (output_ratio,) * dims
    if len(ratios) != dims or not all(0 < _scalar(op, "output_ratio", r) < 1 for r in ratios):
        raise ConfigError(f"{op}: output_ratio must be one or {_COUNT_WORDS[dims]} numbers in (0, 1), "
                          f"got {output_ratio!r}")
    return tuple(int(n * r) for n, r in zip(xb.shape[2:], ratios))


def _fractional_samples(op: str, x4: Tensor, samples: Tensor | None, dims: int = 2) -> np.ndarray:
    """The (N, C, dims) uniform samples as a host array in the input's float dtype."""
    n, c = x4.shape[:2]
    if samples is None:
        return resolve(None).uniform((n, c, dims), dtype=x4.dtype)
    if not isinstance(samples, Tensor):
        raise InputTypeError(f"{op}: _random_samples must be a Tensor, got {type(samples).__name__}")
    if samples.shape != (n, c, dims):
        raise ShapeError(f"{op}: _random_samples must have shape ({n}, {c}, {dims}) for input {x4.shape}, "
                         f"got {samples.shape}")
    return samples.numpy().astype(x4.dtype)


def _fractional_starts(u: np.ndarray, size: int, out: int, k: int) -> np.ndarray:
    """Window starts (..., out) from samples ``u`` (...), as torch's generate_intervals."""
    dt = u.dtype.type
    starts = np.empty(u.shape + (out,), dtype=np.int64)
    if out > 1:
        alpha = dt(size - k) / dt(out - 1)
        i = np.arange(out - 1, dtype=u.dtype)
        starts[..., :-1] = ((i + u[..., None]) * alpha).astype(np.int64) - (u * alpha).astype(np.int64)[..., None]
    starts[..., -1] = size - k
    return starts


def max_pool1d_with_indices(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
                            dilation: Any = 1, ceil_mode: bool = False,
                            return_indices: bool = False) -> tuple[Tensor, Tensor]:
    """:func:`max_pool1d` returning ``(output, indices)`` whatever ``return_indices`` (torch's)."""
    x = input   # (torch's name for the argument)
    return max_pool1d(x, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input: Tensor, kernel_size: IntOrPair, stride: IntOrPair | None = None,
                            padding: IntOrPair = 0, dilation: IntOrPair = 1, ceil_mode: bool = False,
                            return_indices: bool = False) -> tuple[Tensor, Tensor]:
    """:func:`max_pool2d` returning ``(output, indices)`` whatever ``return_indices`` (torch's)."""
    x = input   # (torch's name for the argument)
    return max_pool2d(x, kernel_size, stride, padding, dilation, ceil_mode, True)


def adaptive_max_pool1d_with_indices(input: Tensor, output_size: Any,
                                     return_indices: bool = False) -> tuple[Tensor, Tensor]:
    """:func:`adaptive_max_pool1d` returning ``(output, indices)`` (torch's)."""
    x = input   # (torch's name for the argument)
    return adaptive_max_pool1d(x, output_size, True)


def adaptive_max_pool2d_with_indices(input: Tensor, output_size: IntOrPair,
                                     return_indices: bool = False) -> tuple[Tensor, Tensor]:
    """:func:`adaptive_max_pool2d` returning ``(output, indices)`` (torch's)."""
    x = input   # (torch's name for the argument)
    return adaptive_max_pool2d(x, output_size, True)


def max_pool3d_with_indices(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
                            dilation: Any = 1, ceil_mode: bool = False,
                            return_indices: bool = False) -> tuple[Tensor, Tensor]:
    """:func:`max_pool3d` returning ``(output, indices)`` whatever ``return_indices`` (torch's)."""
    x = input   # (torch's name for the argument)
    return max_pool3d(x, kernel_size, stride, padding, dilation, ceil_mode, True)


def adaptive_max_pool3d_with_indices(input: Tensor, output_size: Any,
                                     return_indices: bool = False) -> tuple[Tensor, Tensor]:
    """:func:`adaptive_max_pool3d` returning ``(output, indices)`` (torch's)."""
    x = input   # (torch's name for the argument)
    return adaptive_max_pool3d(x, output_size, True)


def _deprecated_upsample(name: str) -> None:
    import warnings
    warnings.warn(f"`nn.functional.{name}` is deprecated. Use `nn.functional.interpolate` instead.",
                  UserWarning, stacklevel=3)


def upsample(input: Tensor, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
             align_corners: bool | None = None) -> Tensor:
    """Deprecated alias of :func:`interpolate` (torch's, with its warning)."""
    x = input   # (torch's name for the argument)
    _deprecated_upsample("upsample")
    return interpolate(x, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:
    """Deprecated: ``interpolate(x, size, scale_factor, mode="nearest")`` (torch's warning)."""
    x = input   # (torch's name for the argument)
    _deprecated_upsample("upsample_nearest")
    return interpolate(x, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:
    """Deprecated: ``interpolate(x, size, scale_factor, mode="bilinear", align_corners=True)``
    (torch's warning)."""
    x = input   # (torch's name for the argument)
    _deprecated_upsample("upsample_bilinear")
    return interpolate(x, size, scale_factor, mode="bilinear", align_corners=True)


# torch's remaining losses and embedding_bag live in more_losses.py (they use the helpers above)
from . import more_losses as _more_losses  # noqa: E402

ctc_loss, embedding_bag = _more_losses.ctc_loss, _more_losses.embedding_bag
multi_margin_loss, multilabel_margin_loss = _more_losses.multi_margin_loss, _more_losses.multilabel_margin_loss
triplet_margin_with_distance_loss = _more_losses.triplet_margin_with_distance_loss
linear_cross_entropy = _more_losses.linear_cross_entropy

# multi-head attention's functional form (nn.MultiheadAttention's computation) lives in mha.py
from . import mha as _mha  # noqa: E402

multi_head_attention_forward = _mha.multi_head_attention_forward
