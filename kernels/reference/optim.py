"""Optimizer updates: one Adam step, and the weight average (lerp), in place (the specification of
the fused CPU and CUDA passes).

``adam_update(p, g, m, v, lr, beta1, beta2, eps, step)`` on flat arrays of one float dtype, after
PyTorch's formulation (weight decay, when any, is already folded into ``g`` by the optimizer)::

    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g^2
    p = p - lr / (1 - beta1^step) * m / (sqrt(v) / sqrt(1 - beta2^step) + eps)

As ufuncs on whole arrays, with one scratch array: thirteen passes over memory per parameter tensor
(the fused kernels make one).  FLOPs: 13 per element (one of them a square root, one a division).
Bytes, with itemsize s: the minimum is ``7*s`` per element (read p, g, m, v; write p, m, v); the
thirteen passes below read or write 31 elements' worth, ``31*s`` (4.4x that minimum).
The scalars are Python floats, which NumPy >= 2 applies in the arrays' dtype, so the fused CPU
kernel -- which takes each scalar already rounded to that dtype and does the same operations in
the same order -- matches this sequence bit for bit.

``lerp_update(a, end, weight, out)`` is the running average of weights that GAN training keeps
beside the optimizer (an exponential moving average of the generator, ``p_ema.lerp_(p, 1 - beta)``,
StyleGAN's and BigGAN's sampling weights; SWA's running mean), written as torch.lerp writes it::

    out = a + weight * (end - a)              where |weight| <  0.5
    out = end - (end - a) * (1 - weight)      where |weight| >= 0.5   (weight 1 gives end exactly)

As ufuncs with one scratch array: three passes over memory (the fused kernels make one).  FLOPs: 3
per element; bytes: reads a and end, writes out (12 in float32).  ``out`` may be ``a`` (the EMA's
in-place update).

``xp`` is the array module (NumPy here; the CUDA set passes CuPy for dtypes its kernel lacks).
"""
import math

import numpy as np


def adam_scalars(lr, beta1, beta2, step):
    """The step's constants: (1 - beta1, 1 - beta2, 1/sqrt(1 - beta2^step), -lr/(1 - beta1^step))."""
    return 1.0 - beta1, 1.0 - beta2, 1.0 / math.sqrt(1.0 - beta2 ** step), -lr / (1.0 - beta1 ** step)


def adam_update(p, g, m, v, lr, beta1, beta2, eps, step, xp=np, max_v=None):
    """``max_v`` (AMSGrad, ``Adam(amsgrad=True)``): the running maximum of v, updated in place
    and used in v's place in the denominator -- PyTorch's formulation; the fused kernels have no
    such variant, the optimizer runs this one for it."""
    c1, c2, inv_bc2, step_size = adam_scalars(lr, beta1, beta2, step)
    tmp = xp.multiply(g, c1, dtype=p.dtype)   # the one scratch array
    m *= beta1
    m += tmp
    xp.multiply(g, g, out=tmp)
    tmp *= c2
    v *= beta2
    v += tmp
    if max_v is not None:
        xp.maximum(max_v, v, out=max_v)
        v = max_v
    xp.sqrt(v, out=tmp)
    tmp *= inv_bc2
    tmp += eps
    xp.divide(m, tmp, out=tmp)
    tmp *= step_size
    p += tmp


def lerp_update(a, end, weight, out, xp=np):
    """``out = lerp(a, end, weight)`` (see above) for a Python-number weight, which NumPy >= 2
    applies in the arrays' dtype: ``weight`` and ``1 - weight`` are each rounded to it once."""
    diff = xp.subtract(end, a)              # the one scratch array
    if abs(weight) < 0.5:
        diff *= weight
        xp.add(a, diff, out=out)
    else:
        diff *= 1.0 - weight
        xp.subtract(end, diff, out=out)
