"""Fused Adam step and weight average on the GPU: one grid-stride pass each (see reference/optim.py).

Algorithm: thread ``i`` updates elements ``i, i + gridsize, ...``: reads p, g, m, v, writes p, m, v
(28 bytes per element in float32, 13 FLOPs: memory-bound).  One launch per parameter tensor
replaces the thirteen CuPy element-wise launches of the ufunc sequence (measured on an H100: those
launches, ~13 per tensor x 21 tensors, were 2.8 ms of a 13 ms DCGAN step).  The step's constants
are computed on the host in float64 and rounded to float32 here, once per thread.  The compiler may
contract ``a * b + c`` into one FMA, so the result can differ from the reference's separately
rounded ufuncs in the last bit (the tests allow for that).

``lerp_kernel`` (the generator's EMA, ``p_ema.lerp_(p, 1 - beta)``): the same grid-stride shape,
reading a and end, writing out (12 bytes and 3 FLOPs an element: memory-bound), in place when out
is a; one launch instead of the reference's three.  Here too the compiler may contract into FMAs.

Launch (both): ``ew_grid(n, 256, 4096)`` blocks of 256 threads; no shared memory.
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


LERP_SIGNATURE = "void(float32[::1], float32[::1], float32[::1], float64, int64, int64)"


@cuda.jit
def lerp_kernel(a, end, out, weight, small, n):
    """out = a + (end - a) * w where ``small`` (|weight| < 0.5), else end - (end - a) * w; the
    host passes w = weight or 1 - weight, rounded to float32 here as the reference rounds it."""
    w = float32(weight)
    i = cuda.grid(1)
    stride = cuda.gridsize(1)
    while i < n:
        e = end[i]
        d = e - a[i]
        out[i] = a[i] + d * w if small else e - d * w
        i += stride


KERNELS = [
    ("adam", adam_kernel, SIGNATURE, EW_THREADS, 0),
    ("lerp", lerp_kernel, LERP_SIGNATURE, EW_THREADS, 0),
]
