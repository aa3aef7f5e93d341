"""Batch normalization over ``(N, C)`` or ``(N, C, H, W)``, statistics per channel (axis 1).

Forward, with the reduction over every axis but the channel axis (M = N*H*W values per channel)::

    training:  mean = (1/M) sum x          var = (1/M) sum (x - mean)^2     (biased: normalises)
    eval:      mean = running_mean         var = running_var
    invstd = 1 / sqrt(var + eps)
    x_hat  = (x - mean) * invstd
    y      = weight * x_hat + bias                          (weight / bias None: 1 / 0)

Running statistics (training only, PyTorch semantics, updated in place)::

    running_mean = (1 - momentum) * running_mean + momentum * mean
    running_var  = (1 - momentum) * running_var  + momentum * var * M / (M - 1)   (unbiased)

Backward.  In training, mean and invstd depend on x; differentiating through them gives::

    gbias   = sum gy                       gweight = sum gy * x_hat
    gx      = weight * invstd * (gy - mean(gy) - x_hat * mean(gy * x_hat))

(the two subtracted terms are the gradient flowing through the batch mean and the batch variance).
In eval mode mean and invstd are constants and ``gx = weight * invstd * gy``.

Cost, with E = N*C*H*W elements and itemsize s: forward about 7E FLOPs (two reductions, normalise,
affine) and at least reads x twice + writes y, ``3*s*E`` bytes; backward about 10E FLOPs, at least
reads gy and x (twice, for the reductions and for gx) and writes gx, ``5*s*E`` bytes.  Those are
the algorithm's minimum sweeps, which the fast kernels come close to; this NumPy version, written
to be read, makes about 9 whole-array ufunc passes each way (``x.var`` alone makes four: its own
mean, a subtraction, a square and a sum), several writing a temporary.  Per-channel vectors are
negligible.  Memory-bound: the arithmetic intensity is below 1 FLOP/byte (7/12 forward, 1/2
backward in float32).
"""
from __future__ import annotations

import numpy as np


def _reduction_axes(x: np.ndarray) -> tuple[int, ...]:
    """Every axis except the channel axis 1."""
    return (0,) + tuple(range(2, x.ndim))


def _per_channel(v: np.ndarray, ndim: int) -> np.ndarray:
    """Reshape a (C,) vector so it broadcasts along axis 1 of an ndim-dimensional array."""
    return v.reshape((1, -1) + (1,) * (ndim - 2))


def batch_norm(x: np.ndarray, running_mean: np.ndarray | None, running_var: np.ndarray | None,
               weight: np.ndarray | None, bias: np.ndarray | None, training: bool,
               momentum: float, eps: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Returns ``(y, mean, invstd)``; mean / invstd ``(C,)`` are the statistics actually used."""
    axes = _reduction_axes(x)
    if training:
        mean = x.mean(axis=axes)
        var = x.var(axis=axes)                               # biased (ddof=0): used to normalise
        if running_mean is not None and running_var is not None:
            count = x.size // x.shape[1]
            # M = 1 has no unbiased estimate; PyTorch refuses to train then and so should the
            # caller (tensorgan.functional).  max() only keeps this kernel from dividing by zero.
            unbiased_var = var * (count / max(count - 1, 1))
            running_mean *= 1.0 - momentum
            running_mean += momentum * mean
            running_var *= 1.0 - momentum
            running_var += momentum * unbiased_var
    else:
        mean = running_mean.astype(x.dtype, copy=True)
        var = running_var.astype(x.dtype, copy=False)
    invstd = (1.0 / np.sqrt(var + eps)).astype(x.dtype, copy=False)
    x_hat = (x - _per_channel(mean, x.ndim)) * _per_channel(invstd, x.ndim)
    y = x_hat
    if weight is not None:
        y *= _per_channel(weight, x.ndim)
    if bias is not None:
        y += _per_channel(bias, x.ndim)
    return y, mean, invstd


def batch_norm_backward(gy: np.ndarray, x: np.ndarray, weight: np.ndarray | None,
                        mean: np.ndarray, invstd: np.ndarray,
                        training: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Returns ``(gx, gweight, gbias)``; weight None is treated as ones (gweight/gbias still returned)."""
    axes = _reduction_axes(x)
    x_hat = (x - _per_channel(mean, x.ndim)) * _per_channel(invstd, x.ndim)
    gbias = gy.sum(axis=axes)
    gweight = (gy * x_hat).sum(axis=axes)
    scale = invstd if weight is None else weight * invstd
    if training:
        count = x.size // x.shape[1]
        # mean(gy) = gbias / M and mean(gy * x_hat) = gweight / M: reuse the two reductions.
        gx = gy - _per_channel(gbias / count, x.ndim) - x_hat * _per_channel(gweight / count, x.ndim)
        gx *= _per_channel(scale, x.ndim)
    else:
        gx = gy * _per_channel(scale, x.ndim)
    return gx, gweight, gbias
