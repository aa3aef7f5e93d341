"""Helpers shared by the CUDA kernel tests (under the simulator or on a GPU): float32 device
arrays in, host arrays out, a closeness check scaled to the expected values, and the fused batch
norm + leaky ReLU round trip against the reference.  (The ``launched`` fixture, the kernels a
glue call launches, is in conftest.py.)"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tensorgan.kernels import cuda as kc
from tensorgan.kernels import reference as ref
from tensorgan.kernels import shapes
from tensorgan.kernels.cuda import _launch

xp = _launch.xp()


def dev(a):
    return None if a is None else xp.asarray(np.ascontiguousarray(a, dtype=np.float32))


def host(a):
    return a.get() if hasattr(a, "get") else np.asarray(a)


def f64(a):
    return None if a is None else np.asarray(a, dtype=np.float64)


def rand(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


def conv_data(case, seed):
    """x, w, b and an upstream gradient for ``case`` = (n, c_in, h, w, c_out, kh, kw, stride,
    padding), random float32."""
    n, c_in, h, w, c_out, kh, kw, stride, padding = case
    rng = np.random.default_rng(seed)
    oh = shapes.conv2d_output_size(h, kh, stride[0], padding[0])
    ow = shapes.conv2d_output_size(w, kw, stride[1], padding[1])
    return (rand(rng, n, c_in, h, w), rand(rng, c_out, c_in, kh, kw), rand(rng, c_out),
            rand(rng, n, c_out, oh, ow))


def assert_close(got, want, rtol=1e-4):
    """float32 ``got`` of ``want``'s shape, within rtol, plus an absolute slack of rtol times the
    largest |want| (float32 sums of many terms lose digits relative to the largest term)."""
    got = host(got)
    assert got.dtype == np.float32 and got.shape == want.shape
    scale = float(np.nanmax(np.abs(want))) if want.size else 0.0
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * (1.0 + scale))


def check_conv(case, seed, which, splits=1):
    """The CUDA ``which`` pass ("forward", "grad_input" or "grad_weight", the last over ``splits``
    K ranges) of the convolution ``case`` (see :func:`conv_data`) against the float64 reference."""
    x, w, b, gy = conv_data(case, seed)
    stride, padding = case[7], case[8]
    if which == "forward":
        got, want = (kc.conv2d(dev(x), dev(w), dev(b), stride, padding),
                     ref.conv2d(f64(x), f64(w), f64(b), stride, padding))
    elif which == "grad_input":
        hw = x.shape[2:]
        got, want = (kc.conv2d_grad_input(dev(gy), dev(w), hw, stride, padding),
                     ref.conv2d_grad_input(f64(gy), f64(w), hw, stride, padding))
    else:
        khw = w.shape[2:]
        got, want = (kc._conv_wgrad(dev(x), dev(gy), khw, stride, padding, splits=splits),
                     ref.conv2d_grad_weight(f64(x), f64(gy), khw, stride, padding))
    assert_close(got, want)


def check_batch_norm_leaky_relu(x, w, b, rm, rv, training, slope, gy):
    """The fused kernel's forward (output, saved statistics, updated running statistics) and
    backward (with upstream gradient ``gy``) match the float64 reference."""
    rm_dev, rv_dev, rm_ref, rv_ref = dev(rm), dev(rv), f64(rm), f64(rv)
    got = kc.batch_norm_leaky_relu(dev(x), rm_dev, rv_dev, dev(w), dev(b), training, 0.1, 1e-5, slope)
    want = ref.batch_norm_leaky_relu(f64(x), rm_ref, rv_ref, f64(w), f64(b), training, 0.1, 1e-5,
                                     slope)
    for g, e in zip(got, want):
        assert_close(g, e)
    assert_close(rm_dev, rm_ref)
    assert_close(rv_dev, rv_ref)
    mean, invstd = host(got[1]), host(got[2])
    got_b = kc.batch_norm_leaky_relu_backward(dev(gy), dev(x), dev(w), dev(b), dev(mean),
                                              dev(invstd), training, slope)
    want_b = ref.batch_norm_leaky_relu_backward(f64(gy), f64(x), f64(w), f64(b), f64(mean),
                                                f64(invstd), training, slope)
    for g, e in zip(got_b, want_b):
        assert_close(g, e, rtol=3e-4)


def per_channel(monkeypatch):
    """Force the one-block-per-channel reductions, also for (N, C) inputs (no rows layout)."""
    monkeypatch.setattr(kc, "_ROWS_MAX_BATCH", 0)
    monkeypatch.setattr(kc, "_ROWS_MIN_CHANNELS", 2 ** 40)


_BOUNDS_SCRIPT = r"""
import importlib, json, sys
try:
    from numba.cuda.cudadrv.nvvm import NVVM
    NVVM()
except Exception as e:
    print(json.dumps({"skip": f"NVVM unavailable: {e}"})); sys.exit(0)
from tensorgan.kernels.cuda import _launch
module = importlib.import_module("tensorgan.kernels.cuda." + sys.argv[1])
out = {}
for name in sys.argv[2:]:
    kernel = getattr(module, name)
    bounds = _launch.launch_bounds(kernel)
    if bounds is not None:
        ptx = _launch.compile_ptx_cached(kernel, _launch._signatures[kernel], (9, 0))
        bounds = [*bounds, f".maxntid {bounds[0]}, 1, 1" in ptx and f".minnctapersm {bounds[1]}" in ptx]
    out[name] = bounds
print(json.dumps(out))
"""


def compiled_launch_bounds(module: str, *kernels: str) -> dict:
    """``{kernel: None or [threads, blocks an SM, whether the sm_90 PTX the glue loads carries
    them]}``, compiled in a subprocess without the simulator; skips the test without NVVM."""
    root = Path(__file__).resolve().parents[1]
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    env.update(TENSORGAN_PTX_CACHE="0", PYTHONPATH=str(root))
    proc = subprocess.run([sys.executable, "-c", _BOUNDS_SCRIPT, module, *kernels], cwd=root,
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    if "skip" in out:
        pytest.skip(out["skip"])
    return out
