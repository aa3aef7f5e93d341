"""3-D (volumetric) convolution and its adjoint in plain NumPy / CuPy array code -- no kernels
of their own: im2col as one strided view of the zero-padded input, ``(N, C, oD, oH, oW, kD,
kH, kW)``, contracted with the weight in one ``tensordot`` per group; the input gradient is the
adjoint, col2im, the columns summed back into the padded input one kernel tap (a shifted,
strided slice) at a time.  A transposed convolution *is* that input gradient (and its own input
gradient the convolution), as the 2-D kernels' are built from each other.

``geometry`` is ``(stride, padding, dilation, groups)``: three 3-tuples of ints and an int.
"""
from __future__ import annotations

import itertools

from .tensor import Function


def _padded(xp, x, padding: tuple):
    """``x`` with ``padding[i]`` zeros before and after spatial dim i (no copy without padding)."""
    if not any(padding):
        return x
    shape = x.shape[:2] + tuple(n + 2 * p for n, p in zip(x.shape[2:], padding))
    out = xp.zeros(shape, dtype=x.dtype)
    out[(Ellipsis,) + tuple(slice(p, p + n) for n, p in zip(x.shape[2:], padding))] = x
    return out


def _columns(xp, xpad, out: tuple, k: tuple, stride: tuple, dilation: tuple):
    """The windows of the padded input as a strided view (no copy), ``(N, C, *out, *k)``:
    element ``[n, c, o, t]`` per dim is ``xpad[n, c, o * stride + t * dilation]``."""
    st = xpad.strides
    strides = st[:2] + tuple(st[2 + i] * stride[i] for i in range(3)) + \
        tuple(st[2 + i] * dilation[i] for i in range(3))
    return xp.lib.stride_tricks.as_strided(xpad, xpad.shape[:2] + tuple(out) + tuple(k), strides)


def _group(a, axis: int, g: int, groups: int):
    """The g-th of ``groups`` equal slices of ``a`` along ``axis``."""
    size = a.shape[axis] // groups
    return a[(slice(None),) * axis + (slice(g * size, (g + 1) * size),)]


def conv3d_forward(xp, x, w, geometry: tuple, out: tuple):
    """``y[n, o, *p] = sum over c, t of xpad[n, c, p * stride + t * dilation] w[o, c, t]``
    (per group), for the ``out`` output positions per dim (no bias)."""
    stride, padding, dilation, groups = geometry
    cols = _columns(xp, _padded(xp, x, padding), out, w.shape[2:], stride, dilation)
    parts = [xp.tensordot(_group(cols, 1, g, groups), _group(w, 0, g, groups),
                          axes=((1, 5, 6, 7), (1, 2, 3, 4))) for g in range(groups)]
    y = parts[0] if groups == 1 else xp.concatenate(parts, axis=-1)     # (N, *out, C_out)
    return xp.ascontiguousarray(xp.moveaxis(y, -1, 1))


def conv3d_weight_grad(xp, x, gy, geometry: tuple, w_shape: tuple):
    """The weight gradient: ``gw[o, c, t] = sum over n, p of gy[n, o, p] xpad[n, c, p * s + t * d]``."""
    stride, padding, dilation, groups = geometry
    cols = _columns(xp, _padded(xp, x, padding), gy.shape[2:], w_shape[2:], stride, dilation)
    parts = [xp.tensordot(_group(gy, 1, g, groups), _group(cols, 1, g, groups),
                          axes=((0, 2, 3, 4), (0, 2, 3, 4))) for g in range(groups)]
    gw = parts[0] if groups == 1 else xp.concatenate(parts, axis=0)
    return xp.ascontiguousarray(gw.astype(gy.dtype, copy=False))


def conv3d_input_grad(xp, gy, w, geometry: tuple, spatial: tuple):
    """The adjoint of :func:`conv3d_forward` for an input of ``spatial`` sizes (col2im): each
    kernel tap's column block added to the strided slice of the padded input it was read from."""
    stride, padding, dilation, groups = geometry
    parts = [xp.tensordot(_group(w, 0, g, groups), _group(gy, 1, g, groups), axes=((0,), (1,)))
             for g in range(groups)]                                    # (C_in/g, *k, N, *out)
    cols = parts[0] if groups == 1 else xp.concatenate(parts, axis=0)
    n, out, k = gy.shape[0], gy.shape[2:], w.shape[2:]
    padded = tuple(size + 2 * p for size, p in zip(spatial, padding))
    gx = xp.zeros((n, cols.shape[0]) + padded, dtype=gy.dtype)
    for tap in itertools.product(*map(range, k)):
        where = tuple(slice(t * d, t * d + s * (o - 1) + 1, s)
                      for t, d, s, o in zip(tap, dilation, stride, out))
        gx[(slice(None), slice(None)) + where] += xp.moveaxis(cols[(slice(None),) + tap], 1, 0)
    crop = tuple(slice(p, p + size) for size, p in zip(spatial, padding))
    return xp.ascontiguousarray(gx[(Ellipsis,) + crop])


def _bias_grad(gy):
    return gy.sum(axis=(0, 2, 3, 4))


class Conv3d(Function):
    """``conv3d(x, w) + b`` (arguments checked by ``F.conv3d``)."""

    def forward(self, x, w, b, geometry, out):
        self.x, self.w, self.geometry = x, w, geometry
        y = conv3d_forward(self.xp, x, w, geometry, out)
        return y if b is None else y + b.reshape(1, -1, 1, 1, 1)

    def backward(self, gy):
        need, xp = self.needs_input_grad, self.xp
        gx = conv3d_input_grad(xp, gy, self.w, self.geometry, self.x.shape[2:]) if need[0] else None
        gw = conv3d_weight_grad(xp, self.x, gy, self.geometry, self.w.shape) if need[1] else None
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
        y = conv3d_input_grad(self.xp, x, w, geometry, tuple(spatial))
        return y if b is None else y + b.reshape(1, -1, 1, 1, 1)

    def backward(self, gy):
        need, xp = self.needs_input_grad, self.xp
        gx = conv3d_forward(xp, gy, self.w, self.geometry, self.x.shape[2:]) if need[0] else None
        gw = conv3d_weight_grad(xp, gy, self.x, self.geometry, self.w.shape) if need[1] else None
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
        return conv3d_weight_grad(self.xp, x, gy, geometry, w_shape)

    def backward(self, ggw):
        need, xp = self.needs_input_grad, self.xp
        gx = conv3d_input_grad(xp, self.gy, ggw, self.geometry, self.x.shape[2:]) if need[0] else None
        ggy = conv3d_forward(xp, self.x, ggw, self.geometry, self.gy.shape[2:]) if need[1] else None
        return gx, ggy, None, None

    def grad_graph(self, ggw):
        x, gy = self.inputs[:2]
        need = self.needs_input_grad
        gx = ConvTranspose3d.apply(gy, ggw, None, self.geometry, x.shape[2:]) if need[0] else None
        ggy = Conv3d.apply(x, ggw, None, self.geometry, gy.shape[2:]) if need[1] else None
        return gx, ggy, None, None
