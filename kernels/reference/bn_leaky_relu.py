"""Batch normalization followed by leaky ReLU, as one op: literally the composition of the two.

Forward (see batchnorm.py and leaky_relu.py for the two halves)::

    z, mean, invstd = batch_norm(x, running_mean, running_var, weight, bias, training, momentum, eps)
    y               = leaky_relu(z, negative_slope)

Backward.  The chain rule, last op first::

    gz = leaky_relu_backward(gy, z, negative_slope)      # 1 where z > 0, else slope
    gx, gweight, gbias = batch_norm_backward(gz, x, weight, mean, invstd, training)

The pre-activation ``z = (x - mean) * invstd * weight + bias`` is not saved by the forward: the
backward recomputes it from x and the per-channel statistics, so the op keeps exactly what
batch_norm keeps (x, mean, invstd) and nothing more.  (Reading the mask off ``sign(y)`` instead
would be wrong for ``negative_slope <= 0``: slope 0 maps every negative z to 0, a negative slope
flips its sign.)

Why an op of its own: in a DCGAN every batch norm is followed by leaky ReLU(0.2), and the fast
kernel sets (cpu/, cuda/) apply the activation in the same pass that writes the normalised value,
and fold the mask into batch norm's backward reductions -- one sweep over memory fewer each way,
and no z tensor.  This file is the specification they are tested against.

Cost, with E = N*C*H*W elements and itemsize s: forward about 9E FLOPs (batch_norm's 7E, leaky_relu's
2E -- a compare and a multiply, the convention of every kernel file); backward about 16E (z
recomputed 4E: subtract, two multiplies, add; leaky_relu_backward 2E; batch_norm_backward 10E).
Unfused, the two ops' minimum traffic adds up to about ``5*s*E`` bytes forward (batch_norm's 3,
leaky_relu's 2) and ``8*s*E`` backward (5 + 3), plus z written and read back (``2*s*E`` each way);
this NumPy version makes more passes still (see batchnorm.py).  Fused, the minimum is ``2*s*E``
forward (read x, write y) and ``3*s*E`` backward (read gy and x, write gx), plus the reductions'
re-read of x (from cache when a channel fits).  Memory-bound.
"""
from __future__ import annotations

import numpy as np

from .batchnorm import _per_channel, batch_norm, batch_norm_backward
from .leaky_relu import leaky_relu, leaky_relu_backward


def batch_norm_leaky_relu(x: np.ndarray, running_mean: np.ndarray | None,
                          running_var: np.ndarray | None, weight: np.ndarray | None,
                          bias: np.ndarray | None, training: bool, momentum: float, eps: float,
                          negative_slope: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``leaky_relu(batch_norm(x, ...))``; returns ``(y, mean, invstd)`` as batch_norm does
    (running statistics updated in place by the same rules)."""
    z, mean, invstd = batch_norm(x, running_mean, running_var, weight, bias, training, momentum, eps)
    return leaky_relu(z, negative_slope), mean, invstd


def batch_norm_leaky_relu_backward(gy: np.ndarray, x: np.ndarray, weight: np.ndarray | None,
                                   bias: np.ndarray | None, mean: np.ndarray,
                                   invstd: np.ndarray, training: bool,
                                   negative_slope: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Returns ``(gx, gweight, gbias)``; weight / bias None are treated as ones / zeros."""
    # Recompute the pre-activation z exactly as batch_norm computed it (same order of operations).
    z = (x - _per_channel(mean, x.ndim)) * _per_channel(invstd, x.ndim)
    if weight is not None:
        z *= _per_channel(weight, x.ndim)
    if bias is not None:
        z += _per_channel(bias, x.ndim)
    gz = leaky_relu_backward(gy, z, negative_slope)
    return batch_norm_backward(gz, x, weight, mean, invstd, training)
