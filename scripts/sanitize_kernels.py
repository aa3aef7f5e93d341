"""Launch every CUDA kernel once on small, odd shapes and check it against the NumPy reference: the
program to run under NVIDIA's compute-sanitizer on a GPU machine.

    compute-sanitizer --tool memcheck  python scripts/sanitize_kernels.py
    compute-sanitizer --tool racecheck python scripts/sanitize_kernels.py

memcheck reports out-of-bounds and misaligned accesses, racecheck shared-memory hazards (a missing
``syncthreads``) -- what the CUDA simulator cannot show, since it runs one thread at a time between
barriers.  Each kernel family runs with both conv paths (conv_thin's direct kernels and the tiled
implicit GEMMs) and with split-K.  Exits 1 if a result differs from the reference.
"""
from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tensorgan.kernels import cuda as kc  # noqa: E402
from tensorgan.kernels import reference as ref  # noqa: E402


def main() -> int:
    xp = kc._xp()
    rng = np.random.default_rng(0)
    bad = []

    def check(name, got, want):
        got = got.get() if hasattr(got, "get") else np.asarray(got)
        err = float(np.abs(got - want).max() / (1 + np.abs(want).max())) if want.size else 0.0
        print(f"{name:48s} max rel err {err:.1e}")
        if not err < 1e-4:
            bad.append(name)

    def r(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    d = lambda a: xp.array(a, copy=True)   # noqa: E731  (a copy on NumPy too: adam writes in place)
    f64 = lambda a: a.astype(np.float64)  # noqa: E731
    # (N, C_in, H, W, C_out, k, stride, padding): thin outputs on both sides, and wide ones.
    for case in [(2, 3, 9, 7, 1, 3, 1, 1), (2, 1, 10, 9, 3, 4, 2, 1), (2, 5, 11, 10, 70, 4, 2, 1),
                 (1, 40, 6, 5, 2, 4, 2, 1)]:
        n, ci, h, w, co, k, s, p = case
        x, wt, b = r(n, ci, h, w), r(co, ci, k, k), r(co)
        oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        gy = r(n, co, oh, ow)
        for tiled in (False, True):
            kc._FORCE_TILED = tiled
            tag = f"{case} {'tiled' if tiled else 'default'}"
            check(f"conv2d {tag}", kc.conv2d(d(x), d(wt), d(b), (s, s), (p, p)),
                  ref.conv2d(f64(x), f64(wt), f64(b), (s, s), (p, p)))
            check(f"conv2d_grad_input {tag}",
                  kc.conv2d_grad_input(d(gy), d(wt), (h, w), (s, s), (p, p)),
                  ref.conv2d_grad_input(f64(gy), f64(wt), (h, w), (s, s), (p, p)))
            for splits in (None, 3):
                check(f"conv2d_grad_weight {tag} splits={splits}",
                      kc._conv_wgrad(d(x), d(gy), (k, k), (s, s), (p, p), splits=splits),
                      ref.conv2d_grad_weight(f64(x), f64(gy), (k, k), (s, s), (p, p)))
        kc._FORCE_TILED = False
        check(f"conv2d_grad_bias {case}", kc.conv2d_grad_bias(d(gy)), ref.conv2d_grad_bias(f64(gy)))
    x, wt, b = r(2, 4, 5, 6), r(4, 3, 4, 4), r(3)
    check("conv_transpose2d", kc.conv_transpose2d(d(x), d(wt), d(b), (2, 2), (1, 1), (1, 0)),
          ref.conv_transpose2d(f64(x), f64(wt), f64(b), (2, 2), (1, 1), (1, 0)))
    for shape in [(6, 5), (3, 4, 5, 6)]:
        x, gy, wt, bs = r(*shape), r(*shape), r(shape[1]), r(shape[1])
        rm, rv = np.zeros(shape[1], np.float32), np.ones(shape[1], np.float32)
        y, mean, invstd = kc.batch_norm_leaky_relu(d(x), d(rm), d(rv), d(wt), d(bs), True, 0.1,
                                                   1e-5, 0.2)
        ry, rmean, rinv = ref.batch_norm_leaky_relu(f64(x), f64(rm), f64(rv), f64(wt), f64(bs),
                                                    True, 0.1, 1e-5, 0.2)
        check(f"batch_norm_leaky_relu {shape}", y, ry)
        got = kc.batch_norm_leaky_relu_backward(d(gy), d(x), d(wt), d(bs), mean, invstd, True, 0.2)
        want = ref.batch_norm_leaky_relu_backward(f64(gy), f64(x), f64(wt), f64(bs), rmean, rinv,
                                                  True, 0.2)
        for name, g_, w_ in zip(("gx", "gweight", "gbias"), got, want):
            check(f"batch_norm_leaky_relu_backward {shape} {name}", g_, w_)
        y, mean, invstd = kc.batch_norm(d(x), None, None, d(wt), d(bs), True, 0.1, 1e-5)
        ry, rmean, rinv = ref.batch_norm(f64(x), None, None, f64(wt), f64(bs), True, 0.1, 1e-5)
        check(f"batch_norm {shape}", y, ry)
        got = kc.batch_norm_backward(d(gy), d(x), d(wt), mean, invstd, True)
        want = ref.batch_norm_backward(f64(gy), f64(x), f64(wt), rmean, rinv, True)
        for name, g_, w_ in zip(("gx", "gweight", "gbias"), got, want):
            check(f"batch_norm_backward {shape} {name}", g_, w_)
    x, gy = r(1000), r(1000)
    check("leaky_relu", kc.leaky_relu(d(x), 0.2), ref.leaky_relu(f64(x), 0.2))
    check("leaky_relu_backward", kc.leaky_relu_backward(d(gy), d(x), 0.2),
          ref.leaky_relu_backward(f64(gy), f64(x), 0.2))
    p, g, m, v = r(777), r(777), r(777), np.abs(r(777))
    pd, md, vd = d(p), d(m), d(v)
    kc.adam_update(pd, d(g), md, vd, 1e-3, 0.9, 0.999, 1e-8, 3)
    pr, mr, vr = f64(p), f64(m), f64(v)
    ref.adam_update(pr, f64(g), mr, vr, 1e-3, 0.9, 0.999, 1e-8, 3)
    check("adam_update", pd, pr)
    if kc.SIMULATOR is False:
        xp.cuda.Device().synchronize()
    print("FAILED: " + ", ".join(bad) if bad else "all kernels match the reference")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
