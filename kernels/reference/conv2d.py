"""2-D convolution (cross-correlation, as in PyTorch), NCHW, written to be read.

Definition, for x ``(N, C_in, H, W)`` zero-padded by ``(ph, pw)`` into ``xp`` and weight
``(C_out, C_in, kH, kW)``::

    y[n, o, h, w] = b[o] + sum_{c, i, j} w[o, c, i, j] * xp[n, c, h*sh + i, w*sw + j]

    H_out = floor((H + 2ph - kH) / sh) + 1          (kernels/shapes.py)

Algorithm: im2col + one GEMM.  ``sliding_window_view`` exposes every kH x kW window of the padded
input as a view of shape ``(N, C_in, H_out, W_out, kH, kW)`` (no copy); ``tensordot`` contracts the
``(C_in, kH, kW)`` axes against the weight, which materialises the im2col matrix
``(N*H_out*W_out, C_in*kH*kW)`` once and hands it to BLAS.

The backward passes are the same three index spaces read in a different order:

* ``conv2d_grad_input``  -- GEMM ``gy^T w`` gives, for every output pixel, the gradient of the
  kH x kW window it read ("columns"); col2im then scatter-adds the columns back: one strided-slice
  ``+=`` per kernel tap (i, j), never a per-pixel Python loop.  Input pixels that no window
  touches (stride > kernel, or rows past the last window) correctly receive zero.
* ``conv2d_grad_weight`` -- ``gw[o, c, i, j] = sum_{n, h, w} gy[n, o, h, w] * xp[n, c, h*sh+i, w*sw+j]``:
  the same windows, contracted over ``(N, H_out, W_out)`` instead.
* ``conv2d_grad_bias``   -- ``gy`` summed over ``(N, H_out, W_out)``.

Cost, with P = N*H_out*W_out output positions, K = C_in*kH*kW and itemsize s bytes:

* FLOPs: forward, grad_input and grad_weight are each one P x K x C_out GEMM, ``2*P*K*C_out``
  (plus ``P*C_out`` adds for the bias; ``N*C_out*H_out*W_out`` for grad_bias).
* Bytes, minimum (each tensor read or written once):
  ``s * (N*C_in*H*W + C_out*K + N*C_out*H_out*W_out)``.
  This implementation also writes and re-reads the im2col matrix, ``2*s*P*K`` bytes (kH*kW/(sh*sw)
  times the input: 4x for the DCGAN k4 s2 layers), and the padded copy of x.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..shapes import conv2d_output_size

IntPair = tuple[int, int]


def _pad_spatial(x: np.ndarray, padding: IntPair) -> np.ndarray:
    """Zero-pad the two trailing (spatial) axes; returns x itself when there is no padding."""
    ph, pw = padding
    if ph == 0 and pw == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))


def _windows(x: np.ndarray, kernel_hw: IntPair, stride: IntPair, padding: IntPair,
             out_hw: IntPair) -> np.ndarray:
    """View ``(N, C, H_out, W_out, kH, kW)`` of the padded input: window (h, w) is what y[.., h, w] reads."""
    kh, kw = kernel_hw
    sh, sw = stride
    ho, wo = out_hw
    padded = _pad_spatial(x, padding)
    every_window = sliding_window_view(padded, (kh, kw), axis=(2, 3))
    # Keep every stride-th window; slicing to out_hw makes the count explicit (it equals the formula).
    return every_window[:, :, : (ho - 1) * sh + 1 : sh, : (wo - 1) * sw + 1 : sw]


def conv2d(x: np.ndarray, w: np.ndarray, b: np.ndarray | None,
           stride: IntPair, padding: IntPair) -> np.ndarray:
    """y = conv2d(x, w) + b.  x ``(N, C_in, H, W)``, w ``(C_out, C_in, kH, kW)`` -> ``(N, C_out, H_out, W_out)``."""
    kh, kw = w.shape[2], w.shape[3]
    ho = conv2d_output_size(x.shape[2], kh, stride[0], padding[0])
    wo = conv2d_output_size(x.shape[3], kw, stride[1], padding[1])
    windows = _windows(x, (kh, kw), stride, padding, (ho, wo))           # (N, C_in, Ho, Wo, kH, kW)
    # Contract (C_in, kH, kW): one GEMM of shape (N*Ho*Wo, K) x (K, C_out).
    y_nhwc = np.tensordot(windows, w, axes=([1, 4, 5], [1, 2, 3]))       # (N, Ho, Wo, C_out)
    y = np.ascontiguousarray(y_nhwc.transpose(0, 3, 1, 2))
    if b is not None:
        y += b.reshape(1, -1, 1, 1)
    return y


def conv2d_grad_input(gy: np.ndarray, w: np.ndarray, input_hw: IntPair,
                      stride: IntPair, padding: IntPair) -> np.ndarray:
    """dL/dx given gy = dL/dy.  gy ``(N, C_out, H_out, W_out)`` -> ``(N, C_in, H, W)`` with (H, W) = input_hw.

    This is also the forward pass of the transposed convolution (see conv_transpose2d.py).
    """
    n, _, ho, wo = gy.shape
    _, c_in, kh, kw = w.shape
    sh, sw = stride
    ph, pw = padding
    h, w_in = input_hw
    # Columns: for every output pixel, the gradient w.r.t. each element of the window it read.
    # One GEMM (N*Ho*Wo, C_out) x (C_out, C_in*kH*kW), laid out tap-major so each tap is contiguous.
    columns = np.tensordot(w, gy, axes=([0], [1]))                       # (C_in, kH, kW, N, Ho, Wo)
    columns = np.ascontiguousarray(columns.transpose(1, 2, 3, 0, 4, 5))  # (kH, kW, N, C_in, Ho, Wo)
    # col2im: window (h, w) read padded rows h*sh + i for tap i, so tap (i, j) scatters into the
    # strided slice starting at (i, j).  Windows overlap when kernel > stride, hence "+=".
    grad_padded = np.zeros((n, c_in, h + 2 * ph, w_in + 2 * pw), dtype=gy.dtype)
    for i in range(kh):
        for j in range(kw):
            grad_padded[:, :, i : i + (ho - 1) * sh + 1 : sh, j : j + (wo - 1) * sw + 1 : sw] += columns[i, j]
    # Gradient that lands in the zero padding belongs to no input pixel: crop it away.
    return np.ascontiguousarray(grad_padded[:, :, ph : ph + h, pw : pw + w_in])


def conv2d_grad_weight(x: np.ndarray, gy: np.ndarray, kernel_hw: IntPair,
                       stride: IntPair, padding: IntPair) -> np.ndarray:
    """dL/dw.  x ``(N, C_in, H, W)``, gy ``(N, C_out, H_out, W_out)`` -> ``(C_out, C_in, kH, kW)``."""
    ho, wo = gy.shape[2], gy.shape[3]
    windows = _windows(x, kernel_hw, stride, padding, (ho, wo))          # (N, C_in, Ho, Wo, kH, kW)
    # Contract (N, Ho, Wo): one GEMM (C_out, N*Ho*Wo) x (N*Ho*Wo, C_in*kH*kW).
    return np.ascontiguousarray(np.tensordot(gy, windows, axes=([0, 2, 3], [0, 2, 3])))


def conv2d_grad_bias(gy: np.ndarray) -> np.ndarray:
    """dL/db: gy ``(N, C_out, H_out, W_out)`` summed over N, H_out, W_out -> ``(C_out,)``."""
    return gy.sum(axis=(0, 2, 3))


def conv2d_backward(x: np.ndarray, gy: np.ndarray, w: np.ndarray, stride: IntPair, padding: IntPair,
                    needs: tuple[bool, bool, bool]) -> tuple:
    """The gradients that ``needs`` = (input, weight, bias) asks for, None for the others -- here
    simply the three functions above (a fast kernel set may share work between them)."""
    need_input, need_weight, need_bias = needs
    return (conv2d_grad_input(gy, w, x.shape[2:], stride, padding) if need_input else None,
            conv2d_grad_weight(x, gy, w.shape[2:], stride, padding) if need_weight else None,
            conv2d_grad_bias(gy) if need_bias else None)
