"""Fused Adam step on the GPU: one grid-stride pass over p, g, m, v (see reference/optim.py).

Algorithm: thread ``i`` updates elements ``i, i + gridsize, ...``: reads p, g, m, v, writes p, m, v
(28 bytes per element in float32, 13 FLOPs: memory-bound).  One launch per parameter tensor
replaces the thirteen CuPy element-wise launches of the ufunc sequence (measured on an H100: those
launches, ~13 per tensor x 21 tensors, were 2.8 ms of a 13 ms DCGAN step).  The step's constants
are computed on the host in float64 and rounded to float32 here, once per thread.  The compiler may
contract ``a * b + c`` into one FMA, so the result can differ from the reference's separately
rounded ufuncs in the last bit (the tests allow for that).

Launch: ``ew_grid(n, 256, 4096)`` blocks of 256 threads; no shared memory.
"""
import math

from numba import cuda, float32

from .tiles import EW_THREADS

SIGNATURE = ("void(float32[::1], float32[::1], float32[::1], float32[::1], float64, float64, "
             "float64, float64, float64, float64, float64, int64)")


@cuda.jit
def adam_kernel(p, g, m, v, beta1, c1, beta2, c2, inv_bc2, eps, step_size, n):
    b1, k1, b2, k2 = float32(beta1), float32(c1), float32(beta2), float32(c2)
    ib, ep, ss = float32(inv_bc2), float32(eps), float32(step_size)
    i = cuda.grid(1)
    stride = cuda.gridsize(1)
    while i < n:
        gi = g[i]
        mi = m[i] * b1 + gi * k1
        vi = v[i] * b2 + (gi * gi) * k2
        m[i] = mi
        v[i] = vi
        p[i] += mi / (math.sqrt(vi) * ib + ep) * ss
        i += stride


KERNELS = [
    ("adam", adam_kernel, SIGNATURE, EW_THREADS, 0),
]
