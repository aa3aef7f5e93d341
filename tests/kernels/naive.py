"""Obviously-correct loop implementations of the kernel forwards, straight from the definitions.

For tiny shapes only (pure Python loops).  Independent of every kernel set -- no padding helpers,
no im2col, no adjoint tricks -- so any kernel set (reference, cpu, cuda) can be checked against it:

    from naive import naive_conv2d   # tests/ files sit on sys.path under pytest's default import mode
"""
from __future__ import annotations

import itertools

import numpy as np


def naive_conv2d(x: np.ndarray, w: np.ndarray, b: np.ndarray | None,
                 stride: tuple[int, int], padding: tuple[int, int]) -> np.ndarray:
    """y[n,o,h,w] = b[o] + sum_{c,i,j} w[o,c,i,j] * x[n, c, h*sh - ph + i, w*sw - pw + j] (0 outside x)."""
    n_batch, c_in, height, width = x.shape
    c_out, _, kh, kw = w.shape
    sh, sw = stride
    ph, pw = padding
    h_out = (height + 2 * ph - kh) // sh + 1
    w_out = (width + 2 * pw - kw) // sw + 1
    y = np.zeros((n_batch, c_out, h_out, w_out), dtype=np.float64)
    for n, o, oh, ow in itertools.product(range(n_batch), range(c_out), range(h_out), range(w_out)):
        total = 0.0 if b is None else float(b[o])
        for c, i, j in itertools.product(range(c_in), range(kh), range(kw)):
            ih, iw = oh * sh - ph + i, ow * sw - pw + j
            if 0 <= ih < height and 0 <= iw < width:
                total += float(w[o, c, i, j]) * float(x[n, c, ih, iw])
        y[n, o, oh, ow] = total
    return y


def naive_conv_transpose2d(x: np.ndarray, w: np.ndarray, b: np.ndarray | None,
                           stride: tuple[int, int], padding: tuple[int, int],
                           output_padding: tuple[int, int]) -> np.ndarray:
    """Scatter definition: every x[n,c,h,w] adds x * w[c,o,i,j] to y[n, o, h*sh - ph + i, w*sw - pw + j]."""
    n_batch, c_in, height, width = x.shape
    _, c_out, kh, kw = w.shape
    sh, sw = stride
    ph, pw = padding
    h_out = (height - 1) * sh - 2 * ph + kh + output_padding[0]
    w_out = (width - 1) * sw - 2 * pw + kw + output_padding[1]
    y = np.zeros((n_batch, c_out, h_out, w_out), dtype=np.float64)
    for n, c, ih, iw in itertools.product(range(n_batch), range(c_in), range(height), range(width)):
        for o, i, j in itertools.product(range(c_out), range(kh), range(kw)):
            oh, ow = ih * sh - ph + i, iw * sw - pw + j
            if 0 <= oh < h_out and 0 <= ow < w_out:
                y[n, o, oh, ow] += float(x[n, c, ih, iw]) * float(w[c, o, i, j])
    if b is not None:
        y += np.asarray(b, dtype=np.float64).reshape(1, -1, 1, 1)
    return y


def naive_batch_norm_train(x: np.ndarray, weight: np.ndarray | None, bias: np.ndarray | None,
                           eps: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Training-mode forward, one channel at a time: returns (y, mean, biased var, unbiased var)."""
    channels = x.shape[1]
    y = np.empty(x.shape, dtype=np.float64)
    mean = np.empty(channels)
    biased_var = np.empty(channels)
    unbiased_var = np.empty(channels)
    for c in range(channels):
        values = [float(v) for v in np.take(x, c, axis=1).ravel()]
        count = len(values)
        mean[c] = sum(values) / count
        squares = sum((v - mean[c]) ** 2 for v in values)
        biased_var[c] = squares / count
        unbiased_var[c] = squares / (count - 1) if count > 1 else float("nan")
        scale = 1.0 if weight is None else float(weight[c])
        shift = 0.0 if bias is None else float(bias[c])
        channel_y = (np.take(x, c, axis=1) - mean[c]) / np.sqrt(biased_var[c] + eps) * scale + shift
        index = (slice(None), c)
        y[index] = channel_y
    return y, mean, biased_var, unbiased_var


def naive_leaky_relu(x: np.ndarray, negative_slope: float) -> np.ndarray:
    """Elementwise, one value at a time."""
    flat = [v if v >= 0 else negative_slope * v for v in (float(u) for u in x.ravel())]
    return np.array(flat, dtype=np.float64).reshape(x.shape)
