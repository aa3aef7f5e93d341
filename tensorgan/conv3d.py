"""3-D (volumetric) convolution and its adjoint in plain NumPy / CuPy array code -- no kernels
of their own, but the 2-D kernels' GEMM shape: im2col copies the zero-padded input's windows
into one channel-major column matrix ``(C * kD*kH*kW, N * oD*oH*oW)`` (read through a strided
view; rows in the weight's ``(c, kd, kh, kw)`` order, so group g's rows are one block), and each
pass is one matmul per group:

    forward       y    (C_out,   N*P) = W   (C_out, C*K) @ cols (C*K, N*P)
    weight grad   gW   (C_out,   C*K) = gY  (C_out, N*P) @ cols.T   (computed as (cols @ gY.T).T)
    input grad    cols (C*K,     N*P) = W.T              @ gY, then col2im: each kernel tap's
                                        block added into the strided slice it was read from

(P output positions, K kernel taps, per group).  FLOPs: 2 * C_out * C*K/groups * N*P per pass;
bytes: the column matrix, C*K*N*P floats, written once and read once.  Channel-major columns
make the im2col copy and the col2im adds run along the output's W rows (several times faster
than contracting the ``(N, C, *out, *k)`` view with ``tensordot``, which copies it
position-major).  A transposed convolution *is* the input gradient (and its own input gradient
the convolution), as the 2-D kernels' are built from each other.

On the CPU, a convolution with one group and no dilation in H and W takes another route (the
*depth fold*, :func:`_depth_fold`): only the depth taps are copied out -- a ``(N * oD, kD * C,
H, W)`` stack whose row ``(n, od)`` holds the kD input planes that output plane ``od`` reads --
and each pass is then ONE call of the 2-D kernels (``tensorgan.kernels.cpu``: packed im2col,
BLAS, threads over the batch) with the weight as ``(C_out, kD * C, kH, kW)``:

    forward       y2    = conv2d(stack, w2)                    (N * oD, C_out, oH, oW)
    weight grad   gw2   = conv2d_grad_weight(stack, gy2)       (C_out, kD * C, kH, kW)
    input grad    gstack = conv2d_grad_input(gy2, w2), each depth tap's planes added back
                  into the depth slice they were copied from

Same FLOPs; the copy is kD / stride_D times the input instead of prod(k) times the output
positions (64x for a 4x4x4 kernel), and the GEMMs are the 2-D kernels' tuned ones: a 3D-GAN's
layers 1.8-3.2x faster than the column path above (`python -m benchmarks.layers_3d`).

``geometry`` is ``(stride, padding, dilation, groups)``: three 3-tuples of ints and an int.
"""
from __future__ import annotations

import itertools
import math

import numpy as _np

from .tensor import Function


def _padded(xp, x, padding: tuple):
    """``x`` with ``padding[i]`` zeros before and after spatial dim i (no copy without padding)."""
    if not any(padding):
        return x
    shape = x.shape[:2] + tuple(n + 2 * p for n, p in zip(x.shape[2:], padding))
    out = xp.zeros(shape, dtype=x.dtype)
    out[(Ellipsis,) + tuple(slice(p, p + n) for n, p in zip(x.shape[2:], padding))] = x
    return out


def _columns(xp, x, padding: tuple, out: tuple, k: tuple, stride: tuple, dilation: tuple):
    """im2col: ``(C * prod(k), N * prod(out))``, row ``(c, t)`` column ``(n, o)`` holding
    ``xpad[n, c, o * stride + t * dilation]`` (per spatial dim), copied from a strided view."""
    xpad = _padded(xp, x, padding)
    st = xpad.strides
    strides = st[:2] + tuple(st[2 + i] * stride[i] for i in range(3)) + \
        tuple(st[2 + i] * dilation[i] for i in range(3))
    windows = xp.lib.stride_tricks.as_strided(xpad, xpad.shape[:2] + tuple(out) + tuple(k), strides)
    n, c = x.shape[:2]
    rows = xp.ascontiguousarray(windows.transpose(1, 5, 6, 7, 0, 2, 3, 4))   # (C, *k, N, *out)
    return rows.reshape(c * math.prod(k), n * math.prod(out))


def _channels_first(xp, a):
    """``(N, C, *s)`` as ``(C, N * prod(s))`` (one copy; explicit sizes, as N may be 0)."""
    rows = a.shape[0] * math.prod(a.shape[2:])
    return xp.ascontiguousarray(a.transpose(1, 0, 2, 3, 4)).reshape(a.shape[1], rows)


def _batch_first(xp, y, n: int, spatial: tuple):
    """``(C, N * prod(spatial))`` back to ``(N, C, *spatial)`` (one copy)."""
    return xp.ascontiguousarray(y.reshape((y.shape[0], n) + tuple(spatial)).transpose(1, 0, 2, 3, 4))


def _per_group(xp, product, a, b, groups: int):
    """``product(a_g, b_g)`` for each group's row block of ``a`` and ``b``, stacked by rows: a
    plain 2-D matmul per group (NumPy's batched matmul is several times slower with a
    transposed operand)."""
    if groups == 1:
        return product(a, b)
    ra, rb = a.shape[0] // groups, b.shape[0] // groups
    return xp.concatenate([product(a[g * ra:(g + 1) * ra], b[g * rb:(g + 1) * rb]) for g in range(groups)])


def conv3d_forward(xp, x, w, geometry: tuple, out: tuple, kernels=None):
    """``y[n, o, *p] = sum over c, t of xpad[n, c, p * stride + t * dilation] w[o, c, t]``
    (per group), for the ``out`` output positions per dim (no bias).  ``kernels``: the
    device's 2-D kernel set, for the depth fold where it applies."""
    fold = _depth_fold(xp, kernels, x.dtype, geometry, x, w)
    if fold is not None:
        return _folded_forward(xp, fold, x, w, geometry, out)
    stride, padding, dilation, groups = geometry
    cols = _columns(xp, x, padding, out, w.shape[2:], stride, dilation)
    y = _per_group(xp, lambda wg, cg: wg @ cg, w.reshape(w.shape[0], w[0].size), cols, groups)
    return _batch_first(xp, y, x.shape[0], out)


def conv3d_weight_grad(xp, x, gy, geometry: tuple, w_shape: tuple, kernels=None):
    """The weight gradient: ``gw[o, c, t] = sum over n, p of gy[n, o, p] xpad[n, c, p * s + t * d]``."""
    fold = _depth_fold(xp, kernels, x.dtype, geometry, x, gy)
    if fold is not None:
        return _folded_weight_grad(xp, fold, x, gy, geometry, w_shape)
    stride, padding, dilation, groups = geometry
    cols = _columns(xp, x, padding, gy.shape[2:], w_shape[2:], stride, dilation)
    # (cols_g @ gy_g.T).T, not gy_g @ cols_g.T: BLAS is ~3x faster with the long N*P axis
    # contracted as the inner dimension of a tall-by-thin product
    gw = _per_group(xp, lambda gg, cg: (cg @ gg.T).T, _channels_first(xp, gy), cols, groups)
    return xp.ascontiguousarray(gw).reshape(w_shape).astype(gy.dtype, copy=False)


def conv3d_input_grad(xp, gy, w, geometry: tuple, spatial: tuple, kernels=None):
    """The adjoint of :func:`conv3d_forward` for an input of ``spatial`` sizes (col2im): each
    kernel tap's column block added to the strided slice of the padded input it was read from."""
    fold = _depth_fold(xp, kernels, gy.dtype, geometry, gy, w)
    if fold is not None:
        return _folded_input_grad(xp, fold, gy, w, geometry, spatial)
    stride, padding, dilation, groups = geometry
    n, out, k = gy.shape[0], gy.shape[2:], w.shape[2:]
    c_in = w.shape[1] * groups
    w_by_out = w.reshape(w.shape[0], w[0].size)                               # (C_out, C/G * K)
    cols = _per_group(xp, lambda wg, gg: wg.T @ gg, w_by_out, _channels_first(xp, gy), groups)
    cols = cols.reshape((c_in,) + tuple(k) + (n,) + tuple(out))
    padded = tuple(size + 2 * p for size, p in zip(spatial, padding))
    gx = xp.zeros((c_in, n) + padded, dtype=gy.dtype)                       # channel-major, as cols
    for tap in itertools.product(*map(range, k)):
        where = tuple(slice(t * d, t * d + s * (o - 1) + 1, s)
                      for t, d, s, o in zip(tap, dilation, stride, out))
        gx[(slice(None), slice(None)) + where] += cols[(slice(None),) + tap]
    crop = tuple(slice(p, p + size) for size, p in zip(spatial, padding))
    return xp.ascontiguousarray(gx[(slice(None), slice(None)) + crop].transpose(1, 0, 2, 3, 4))


def _depth_fold(xp, kernels, dtype, geometry: tuple, *operands):
    """The 2-D kernels to run a 3-D pass on, where the depth fold applies (see the module's
    docstring), else None: the CPU kernel set, float32 / float64, one group, H / W undilated,
    no empty operand (the 2-D kernels need a batch and channels: a batch of 0 raised)."""
    stride, padding, dilation, groups = geometry
    if kernels is None or xp is not _np or groups != 1 or dilation[1:] != (1, 1) \
            or dtype not in (_np.float32, _np.float64) or not all(a.size for a in operands):
        return None
    return kernels


def _depth_taps(size: int, out: int, k: int, stride: int, padding: int, dilation: int):
    """Per depth tap t: ``(t, first, last, start)``, output planes ``first..last`` (inclusive)
    reading input planes ``start, start + stride, ...`` (those inside the unpadded input)."""
    taps = []
    for t in range(k):
        offset = t * dilation - padding                       # input plane of output plane 0
        first = -(offset // stride) if offset < 0 else 0     # ceil(-offset / stride)
        last = min(out - 1, (size - 1 - offset) // stride)
        if first <= last:
            taps.append((t, first, last, first * stride + offset))
    return taps


def _depth_stack(xp, x, geometry: tuple, k_d: int, out_d: int):
    """``(N, C, D, H, W)`` -> ``(N * oD, kD * C, H, W)``: plane ``(n, od)`` channel ``(t, c)``
    holds ``x[n, c, od * s + t * d - p]`` (zero outside the input)."""
    stride, padding, dilation = (g[0] for g in geometry[:3])
    n, c, depth = x.shape[:3]
    planes = x.transpose(0, 2, 1, 3, 4)                                  # (N, D, C, H, W) view
    taps = _depth_taps(depth, out_d, k_d, stride, padding, dilation)
    full = len(taps) == k_d and all(f == 0 and last == out_d - 1 for _, f, last, _ in taps)
    stack = (xp.empty if full else xp.zeros)((n, out_d, k_d, c) + x.shape[3:], dtype=x.dtype)
    for t, first, last, start in taps:
        stack[:, first:last + 1, t] = planes[:, start:start + stride * (last - first) + 1:stride]
    return stack.reshape((n * out_d, k_d * c) + x.shape[3:])


def _planes(xp, a):
    """``(N, C, D, H, W)`` as ``(N * D, C, H, W)`` (one copy)."""
    n, c, d = a.shape[:3]
    return xp.ascontiguousarray(a.transpose(0, 2, 1, 3, 4)).reshape((n * d, c) + a.shape[3:])


def _unplanes(xp, a, n: int, depth: int):
    """``(N * D, C, H, W)`` back to ``(N, C, D, H, W)`` (one copy; D given: N may be 0)."""
    return xp.ascontiguousarray(a.reshape((n, depth) + a.shape[1:]).transpose(0, 2, 1, 3, 4))


def _folded_weight(xp, w):
    """``(C_out, C, kD, kH, kW)`` as the 2-D weight ``(C_out, kD * C, kH, kW)``, channel (t, c)."""
    co, c, kd = w.shape[:3]
    return xp.ascontiguousarray(w.transpose(0, 2, 1, 3, 4)).reshape((co, kd * c) + w.shape[3:])


def _folded_forward(xp, kernels, x, w, geometry: tuple, out: tuple):
    stack = _depth_stack(xp, x, geometry, w.shape[2], out[0])
    y = kernels.conv2d(stack, _folded_weight(xp, w), None, geometry[0][1:], geometry[1][1:])
    return _unplanes(xp, y, x.shape[0], out[0])


def _folded_weight_grad(xp, kernels, x, gy, geometry: tuple, w_shape: tuple):
    co, c, kd = w_shape[:3]
    stack = _depth_stack(xp, x, geometry, kd, gy.shape[2])
    gw = kernels.conv2d_grad_weight(stack, _planes(xp, gy), w_shape[3:], geometry[0][1:], geometry[1][1:])
    return xp.ascontiguousarray(gw.reshape((co, kd, c) + w_shape[3:]).transpose(0, 2, 1, 3, 4))


def _folded_input_grad(xp, kernels, gy, w, geometry: tuple, spatial: tuple):
    n, out_d = gy.shape[0], gy.shape[2]
    c, k_d = w.shape[1], w.shape[2]
    gstack = kernels.conv2d_grad_input(_planes(xp, gy), _folded_weight(xp, w), spatial[1:],
                                       geometry[0][1:], geometry[1][1:])
    gstack = gstack.reshape((n, out_d, k_d, c) + tuple(spatial[1:]))
    gx = xp.zeros((n, spatial[0], c) + tuple(spatial[1:]), dtype=gy.dtype)   # (N, D, C, H, W)
    stride, padding, dilation = (g[0] for g in geometry[:3])
    for t, first, last, start in _depth_taps(spatial[0], out_d, k_d, stride, padding, dilation):
        gx[:, start:start + stride * (last - first) + 1:stride] += gstack[:, first:last + 1, t]
    return xp.ascontiguousarray(gx.transpose(0, 2, 1, 3, 4))


def _cpu_kernels(op: Function):
    """The op's device kernels where the depth fold may use them: the CPU's (a simulated CUDA
    device also computes with NumPy, but its kernels run under the simulator)."""
    return op.device.kernels if op.device.type == "cpu" else None


def _bias_grad(gy):
    return gy.sum(axis=(0, 2, 3, 4))


class Conv3d(Function):
    """``conv3d(x, w) + b`` (arguments checked by ``F.conv3d``)."""

    def forward(self, x, w, b, geometry, out):
        self.x, self.w, self.geometry = x, w, geometry
        y = conv3d_forward(self.xp, x, w, geometry, out, _cpu_kernels(self))
        return y if b is None else y + b.reshape(1, -1, 1, 1, 1)

    def backward(self, gy):
        need, xp = self.needs_input_grad, self.xp
        gx = conv3d_input_grad(xp, gy, self.w, self.geometry, self.x.shape[2:], _cpu_kernels(self)) if need[0] else None
        gw = conv3d_weight_grad(xp, self.x, gy, self.geometry, self.w.shape, _cpu_kernels(self)) if need[1] else None
        return gx, gw, _bias_grad(gy) if need[2] else None, None, None

    def grad_graph(self, gy):
        x, w = self.inputs[:2]
        need = self.needs_input_grad
        gx = ConvTranspose3d.apply(gy, w, None, self.geometry, x.shape[2:]) if need[0] else None
        gw = Conv3dWeightGrad.apply(x, gy, self.geometry, w.shape) if need[1] else None
        return gx, gw, gy.sum(axis=(0, 2, 3, 4)) if need[2] else None, None, None


class ConvTranspose3d(Function):
    """``conv_transpose3d(x, w) + b`` with an output of ``spatial`` sizes: conv3d's input gradient
    with ``x`` as the output gradient, so its own gradients are conv3d (for x) and conv3d's
    weight gradient with the roles of x and gy swapped."""

    def forward(self, x, w, b, geometry, spatial):
        self.x, self.w, self.geometry = x, w, geometry
        y = conv3d_input_grad(self.xp, x, w, geometry, tuple(spatial), _cpu_kernels(self))
        return y if b is None else y + b.reshape(1, -1, 1, 1, 1)

    def backward(self, gy):
        need, xp = self.needs_input_grad, self.xp
        gx = conv3d_forward(xp, gy, self.w, self.geometry, self.x.shape[2:], _cpu_kernels(self)) if need[0] else None
        gw = conv3d_weight_grad(xp, gy, self.x, self.geometry, self.w.shape, _cpu_kernels(self)) if need[1] else None
        return gx, gw, _bias_grad(gy) if need[2] else None, None, None

    def grad_graph(self, gy):
        x, w = self.inputs[:2]
        need = self.needs_input_grad
        gx = Conv3d.apply(gy, w, None, self.geometry, x.shape[2:]) if need[0] else None
        gw = Conv3dWeightGrad.apply(gy, x, self.geometry, w.shape) if need[1] else None
        return gx, gw, gy.sum(axis=(0, 2, 3, 4)) if need[2] else None, None, None


class Conv3dWeightGrad(Function):
    """conv3d's weight gradient as an op (graph mode, double backward): bilinear in ``x`` and
    ``gy``, so with ``ggw`` as a weight its gradients are a transposed convolution (for x) and
    a convolution (for gy)."""

    def forward(self, x, gy, geometry, w_shape):
        self.x, self.gy, self.geometry = x, gy, geometry
        return conv3d_weight_grad(self.xp, x, gy, geometry, w_shape, _cpu_kernels(self))

    def backward(self, ggw):
        need, xp = self.needs_input_grad, self.xp
        gx = conv3d_input_grad(xp, self.gy, ggw, self.geometry, self.x.shape[2:], _cpu_kernels(self)) if need[0] else None
        ggy = conv3d_forward(xp, self.x, ggw, self.geometry, self.gy.shape[2:], _cpu_kernels(self)) if need[1] else None
        return gx, ggy, None, None

    def grad_graph(self, ggw):
        x, gy = self.inputs[:2]
        need = self.needs_input_grad
        gx = ConvTranspose3d.apply(gy, ggw, None, self.geometry, x.shape[2:]) if need[0] else None
        ggy = Conv3d.apply(x, ggw, None, self.geometry, gy.shape[2:]) if need[1] else None
        return gx, ggy, None, None
