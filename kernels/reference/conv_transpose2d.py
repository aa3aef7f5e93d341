"""2-D transposed convolution ("deconvolution", fractionally strided convolution), NCHW.

A transposed convolution is the adjoint of a convolution: if ``C`` is the linear map
``x -> conv2d(x, w, None, stride, padding)`` then ``conv_transpose2d(., w, ...)`` is ``C^T``, so that
for every x and y of matching shapes::

    <conv2d(x, w), y> == <x, conv_transpose2d(y, w)>

Nothing new has to be written -- this file only re-labels the three conv2d kernels:

* forward        == ``conv2d_grad_input``: the gradient of a conv2d w.r.t. its input *is* the
  transpose applied to the output gradient.  The weight ``(C_in, C_out, kH, kW)`` of the transposed
  convolution is read as a conv2d weight ``(C_out', C_in', kH, kW)`` with C_out' = C_in and
  C_in' = C_out, and the output size is ``(H - 1)*sh - 2ph + kH + output_padding``.  Several
  conv2d input sizes map to the same output size (floor division); ``output_padding < stride``
  picks which one, and the extra rows/columns it adds receive no contribution (bias only).
* grad_input     == ``conv2d`` (forward, no bias): the adjoint of the adjoint is the original map.
* grad_weight    == ``conv2d_grad_weight`` with the roles of x and gy swapped: in the underlying
  conv2d, gy (the large tensor) plays the input and x plays the output gradient.
* grad_bias      == ``conv2d_grad_bias`` (sum over N, H, W), which is why the contract has no
  separate ``conv_transpose2d_grad_bias``.

Cost: identical to the conv2d kernel each one re-labels, with the conv2d "input" being this
layer's output: with P = N*H*W input positions (of x) and K = C_out*kH*kW, every pass is one
``2*P*K*C_in`` FLOP GEMM.  Minimum bytes ``s * (N*C_in*H*W + C_in*K + N*C_out*H_out*W_out)``; the
forward additionally writes the P x K column matrix and scatter-adds it (col2im, kH*kW strided
``+=`` passes over the output), which is where its time goes.
"""
from __future__ import annotations

import numpy as np

from ..shapes import conv_transpose2d_output_size
from .conv2d import conv2d, conv2d_grad_bias, conv2d_grad_input, conv2d_grad_weight

IntPair = tuple[int, int]


def conv_transpose2d(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, stride: IntPair,
                     padding: IntPair, output_padding: IntPair) -> np.ndarray:
    """x ``(N, C_in, H, W)``, w ``(C_in, C_out, kH, kW)`` -> ``(N, C_out, H_out, W_out)``.

    Implemented as ``conv2d_grad_input(x, w, (H_out, W_out), stride, padding)`` (+ bias).
    """
    kh, kw = w.shape[2], w.shape[3]
    out_hw = (
        conv_transpose2d_output_size(x.shape[2], kh, stride[0], padding[0], output_padding[0]),
        conv_transpose2d_output_size(x.shape[3], kw, stride[1], padding[1], output_padding[1]),
    )
    y = conv2d_grad_input(x, w, out_hw, stride, padding)
    if b is not None:
        y += b.reshape(1, -1, 1, 1)
    return y


def conv_transpose2d_grad_input(gy: np.ndarray, w: np.ndarray, stride: IntPair,
                                padding: IntPair) -> np.ndarray:
    """dL/dx.  gy ``(N, C_out, H_out, W_out)`` -> ``(N, C_in, H, W)``; it is ``conv2d(gy, w, None, ...)``.

    output_padding is not needed: conv2d's floor division lands on H for any output_padding < stride.
    """
    return conv2d(gy, w, None, stride, padding)


def conv_transpose2d_grad_weight(x: np.ndarray, gy: np.ndarray, kernel_hw: IntPair,
                                 stride: IntPair, padding: IntPair) -> np.ndarray:
    """dL/dw.  x ``(N, C_in, H, W)``, gy ``(N, C_out, H_out, W_out)`` -> ``(C_in, C_out, kH, kW)``.

    It is ``conv2d_grad_weight`` with x and gy swapped: gy is the underlying conv2d's input and x
    its output gradient, which yields exactly the ``(C_in, C_out, kH, kW)`` layout.
    """
    return conv2d_grad_weight(gy, x, kernel_hw, stride, padding)


def conv_transpose2d_backward(x: np.ndarray, gy: np.ndarray, w: np.ndarray, stride: IntPair,
                              padding: IntPair, needs: tuple[bool, bool, bool]) -> tuple:
    """The gradients that ``needs`` = (input, weight, bias) asks for, None for the others -- here
    simply the functions above (a fast kernel set may share work between them)."""
    need_input, need_weight, need_bias = needs
    return (conv_transpose2d_grad_input(gy, w, stride, padding) if need_input else None,
            conv_transpose2d_grad_weight(x, gy, w.shape[2:], stride, padding) if need_weight else None,
            conv2d_grad_bias(gy) if need_bias else None)
