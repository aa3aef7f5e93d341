"""Kernel benchmark: every kernel, forward and each backward, at the DCGAN-on-MNIST layer shapes.

    python -m benchmarks.kernels [--batch 64] [--repeats 20] [--warmup 3] [--only convT]
                                 [--json [PATH]] [--no-torch] [--no-reference] [--clock wall|cpu]
                                 [--gpu-only] [--quiet]

Contenders, timed round-robin on the same float32 arrays (one call of each per round, so load from
other processes on a shared machine hits all of them alike):

* ``cpu``   -- tensorgan.kernels.cpu (Numba + OpenBLAS), the kernels the engine runs on the CPU;
* ``ref``   -- tensorgan.kernels.reference (NumPy), the readable specification;
* ``torch`` -- PyTorch's CPU kernels for the same op (``aten.convolution_backward`` etc., exactly
  what autograd would call), when torch is installed, with ``torch.set_num_threads`` set to Numba's
  thread count.  torch is imported here only, never by the library or its tests;
* ``cuda``  -- tensorgan.kernels.cuda on CuPy arrays, timed with CUDA events, when a GPU is active;
* ``gemm``  -- (convolutions) only the GEMMs that the ``cpu`` kernel's call runs: recorded once
  (``_pack.record_gemms``), then replayed with the same shapes, operand layouts and thread split on
  fresh operands.  ``cpu - gemm`` is the kernel's data movement (im2col, shifted adds, transposes);
  ``gemm / torch`` above 1 means that even with free packing this formulation on OpenBLAS could
  not match PyTorch's (oneDNN's) convolution at that shape.

Conv "backward" rows: all three gradients in one call (``conv2d_backward`` /
``conv_transpose2d_backward``, what the engine calls), against torch's ``convolution_backward``
with the output mask (True, True, True) -- what autograd calls.

Fused rows ("bn2d+lrelu", kernel ``batch_norm_leaky_relu``): the op the DCGAN runs for each
BatchNorm + LeakyReLU pair, against torch's two ops one after the other -- forward native_batch_norm
then leaky_relu, backward leaky_relu_backward then native_batch_norm_backward (the aten calls
autograd makes for that graph).

Reported per kernel: median ms and spread (p10-p90) over the repeats after warm-up, achieved
GFLOP/s, the fraction of the machine's SGEMM peak (a NumPy float32 2048^3 matmul measured before
and after the rows, the higher used), and the ratio cpu/torch.  FLOPs: 2*N*C_out*OH*OW*C_in*kH*kW
per convolution pass (forward, input gradient and weight gradient alike); for batch norm / leaky
ReLU the FLOPs of the reference docstrings (memory-bound: GB/s of the minimal traffic is the
meaningful rate, also reported).  GB/s counts each pass's own minimal traffic (conv_pass_bytes,
bn_pass_bytes: the arrays it must read and write once).  The Adam row times tensorgan's bare
``adam_update`` calls (a Python loop over the 21 tensors) against the whole
``torch.optim.Adam.step()``, its Python included; the EMA row times ``lerp_update`` over G's
13 tensors (the generator's running average, decay 0.999) against a loop of torch's ``lerp_``.  Not in the table: the Linear layers' GEMM
(``kernels.gemm``, Device.matmul).
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

# torch is imported before tensorgan.kernels.cpu (which sets OMP_WAIT_POLICY=PASSIVE for its own
# OpenMP runtime) so that torch keeps its default wait policy -- and then tensorgan's prange kernels
# share torch's spinning OpenMP workers.  TENSORGAN_BENCH_NO_TORCH=1 leaves torch out of the
# process entirely: tensorgan timed as a user without torch runs it.
_torch, _TORCH_ERROR = None, None
if not os.environ.get("TENSORGAN_BENCH_NO_TORCH"):
    try:
        import torch as _torch
    except ImportError as _e:
        _TORCH_ERROR = _e

from tensorgan.kernels import cpu as K
from tensorgan.kernels import reference as R

from ._common import (cupy_event_samples, int_at_least, json_dest, machine_info, sgemm_peak,
                      sgemm_peak_gpu, stats_ms, time_interleaved, torch_cuda_strict_fp32,
                      torch_missing_note, write_json)

SLOPE = 0.2
MOMENTUM, EPS = 0.1, 1e-5
OPENBLAS_SPIN_S = 0.25   # how long to let a multi-threaded OpenBLAS call's workers spin down


def layers(batch):
    """(name, kind, params) for every layer of the DCGAN MNIST generator and discriminator."""
    B = batch
    return [
        ("G.convT 256->128 7->14", "convT", dict(x=(B, 256, 7, 7), cout=128, k=4, s=2, p=1)),
        ("G.convT 128->64 14->28", "convT", dict(x=(B, 128, 14, 14), cout=64, k=4, s=2, p=1)),
        ("G.conv 64->1 28->28 k3", "conv", dict(x=(B, 64, 28, 28), cout=1, k=3, s=1, p=1)),
        ("G.bn1d 12544", "bn", dict(x=(B, 12544))),
        ("G.bn2d 128 14x14", "bn", dict(x=(B, 128, 14, 14))),
        ("G.bn2d 64 28x28", "bn", dict(x=(B, 64, 28, 28))),
        ("G.lrelu (B,12544)", "lrelu", dict(x=(B, 12544))),
        ("G.lrelu 128x14x14", "lrelu", dict(x=(B, 128, 14, 14))),
        ("G.lrelu 64x28x28", "lrelu", dict(x=(B, 64, 28, 28))),
        ("D.conv 1->64 28->14", "conv", dict(x=(B, 1, 28, 28), cout=64, k=4, s=2, p=1)),
        ("D.conv 64->128 14->7", "conv", dict(x=(B, 64, 14, 14), cout=128, k=4, s=2, p=1)),
        ("D.bn2d 128 7x7", "bn", dict(x=(B, 128, 7, 7))),
        ("D.lrelu 64x14x14", "lrelu", dict(x=(B, 64, 14, 14))),
        ("D.lrelu 128x7x7", "lrelu", dict(x=(B, 128, 7, 7))),
        # batch_norm_leaky_relu, the fused op the DCGAN runs for each BatchNorm + LeakyReLU pair;
        # torch's peer is its batch norm followed by its leaky ReLU (backward: both backwards).
        ("G.bn1d+lrelu 12544", "bnlrelu", dict(x=(B, 12544))),
        ("G.bn2d+lrelu 128x14x14", "bnlrelu", dict(x=(B, 128, 14, 14))),
        ("G.bn2d+lrelu 64x28x28", "bnlrelu", dict(x=(B, 64, 28, 28))),
        ("D.bn2d+lrelu 128x7x7", "bnlrelu", dict(x=(B, 128, 7, 7))),
        # adam_update over every parameter tensor of G and D (one step of both optimizers);
        # torch's peer is torch.optim.Adam.step() on tensors of the same shapes.
        ("G+D Adam, all parameters", "adam", dict(shapes=_dcgan_parameter_shapes())),
        # lerp_update over every parameter tensor of G: the generator's EMA (p_ema.lerp_(p, 1 -
        # beta)); torch's peer is a loop of Tensor.lerp_ over tensors of the same shapes.
        ("G EMA, all parameters", "ema", dict(shapes=_dcgan_parameter_shapes("G"))),
    ]


def _dcgan_parameter_shapes(which="GD"):
    """The shapes of the default MNIST DCGAN's parameters (G and D: 2.07M elements in 21 tensors;
    G alone: 1.94M in 13)."""
    from tensorgan.models.dcgan import build_models
    g, d = build_models(seed=0, device="cpu")
    params = (list(g.parameters()) if "G" in which else []) + (list(d.parameters()) if "D" in which else [])
    return [tuple(p.shape) for p in params]


def adam_cases(prm, rng, dtype):
    """One Adam step over all the DCGAN's parameters: ours (adam_update per tensor, flat, in place)
    and torch.optim.Adam's step() -- what a user of each gets by default."""
    tensors = [[rng.standard_normal(shape).astype(dtype).reshape(-1) for _ in range(2)]
               + [np.zeros(int(np.prod(shape)), dtype) for _ in range(2)] for shape in prm["shapes"]]
    E = float(sum(t[0].size for t in tensors))
    step = [0]

    def ours(M):
        def run():
            step[0] += 1
            for p, g, m, v in tensors:
                M.adam_update(p, g, m, v, 2e-4, 0.5, 0.999, 1e-8, step[0])
        return run

    torch_ops = {}
    for device in TORCH_DEVICES:
        params = []
        for p, g, _, _ in tensors:
            tp = _tensor(p.copy(), device).requires_grad_(True)
            tp.grad = _tensor(g.copy(), device)
            params.append(tp)
        opt = TORCH.optim.Adam(params, lr=2e-4, betas=(0.5, 0.999), eps=1e-8)
        torch_ops[device] = {"step": opt.step}
    return [("step", 13 * E, 7 * E * np.dtype(dtype).itemsize, ours,
             _per_device(torch_ops, "step"))]


def ema_cases(prm, rng, dtype, weight=0.001):
    """One EMA update of the generator's weights (decay 0.999): ours (lerp_update per tensor, flat,
    in place) and a loop of torch's Tensor.lerp_ -- the loop a user of each writes."""
    pairs = [[rng.standard_normal(int(np.prod(shape))).astype(dtype) for _ in range(2)]
             for shape in prm["shapes"]]
    E = float(sum(a.size for a, _ in pairs))

    def ours(M):
        def run():
            for average, current in pairs:
                M.lerp_update(average, current, weight, average)
        return run

    torch_ops = {}
    for device in TORCH_DEVICES:
        tensors = [(_tensor(a.copy(), device), _tensor(c.copy(), device)) for a, c in pairs]

        def step(tensors=tensors):
            for average, current in tensors:
                average.lerp_(current, weight)
        torch_ops[device] = {"update": step}
    return [("update", 3 * E, 3 * E * np.dtype(dtype).itemsize, ours,
             _per_device(torch_ops, "update"))]


# --------------------------------------------------------------------------- the kernels per layer
def conv_pass_bytes(x: int, w: int, b: int, y: int, itemsize: int) -> dict:
    """The minimal memory traffic of each convolution pass (bytes): every array it must read once
    and write once, for input x, weight w, bias b and output y (element counts; the gradients gx,
    gw, gb, gy have the same sizes).  forward reads x, w, b, writes y; grad_input reads gy, w,
    writes gx; grad_weight reads x, gy, writes gw; grad_bias reads gy, writes gb; the combined
    backward reads x, w, gy and writes gx, gw, gb."""
    elems = {"forward": x + w + b + y, "grad_input": y + w + x, "grad_weight": x + y + w,
             "grad_bias": y + b, "backward": x + w + y + x + w + b}
    return {op: float(n * itemsize) for op, n in elems.items()}


def bn_pass_bytes(E: int, C: int, itemsize: int, fused: bool = False) -> dict:
    """Minimal traffic of a training-mode batch norm (fused: + leaky ReLU) over E elements in C
    channels.  forward reads x, weight, bias, running mean / var and writes y, the running mean /
    var and the batch mean / invstd: 2E + 8C; backward reads gy, x, weight, mean, invstd (the fused
    one also bias, to recompute the pre-activation) and writes gx, gweight, gbias: 3E + 5C (+C)."""
    return {"forward train": float((2 * E + 8 * C) * itemsize),
            "backward train": float((3 * E + (6 if fused else 5) * C) * itemsize)}


def conv_cases(kind, prm, rng, dtype):
    """[(op, flops, bytes, {impl: callable-factory})] for a conv / transposed conv layer."""
    N, Cin, H, W = prm["x"]
    Co, k, s, p = prm["cout"], prm["k"], prm["s"], prm["p"]
    st, pd = (s, s), (p, p)
    x = rng.standard_normal(prm["x"]).astype(dtype)
    if kind == "conv":
        w = (rng.standard_normal((Co, Cin, k, k)) * 0.05).astype(dtype)
        b = rng.standard_normal(Co).astype(dtype)
        y = K.conv2d(x, w, b, st, pd)
        OH, OW = y.shape[2:]
        flops = 2.0 * N * Co * OH * OW * Cin * k * k
        gy = rng.standard_normal(y.shape).astype(dtype)
        ops = {
            "forward": (lambda M: lambda: M.conv2d(x, w, b, st, pd)),
            "grad_input": (lambda M: lambda: M.conv2d_grad_input(gy, w, (H, W), st, pd)),
            "grad_weight": (lambda M: lambda: M.conv2d_grad_weight(x, gy, (k, k), st, pd)),
            "grad_bias": (lambda M: lambda: M.conv2d_grad_bias(gy)),
            "backward": (lambda M: lambda: M.conv2d_backward(x, gy, w, st, pd, (True,) * 3)),
        }
        op_flops = {"forward": flops, "grad_input": flops, "grad_weight": flops,
                    "grad_bias": float(gy.size), "backward": 2 * flops + gy.size}
    else:
        w = (rng.standard_normal((Cin, Co, k, k)) * 0.05).astype(dtype)
        b = rng.standard_normal(Co).astype(dtype)
        y = K.conv_transpose2d(x, w, b, st, pd, (0, 0))
        flops = 2.0 * N * Cin * H * W * Co * k * k
        gy = rng.standard_normal(y.shape).astype(dtype)
        ops = {
            "forward": (lambda M: lambda: M.conv_transpose2d(x, w, b, st, pd, (0, 0))),
            "grad_input": (lambda M: lambda: M.conv_transpose2d_grad_input(gy, w, st, pd)),
            "grad_weight": (lambda M: lambda: M.conv_transpose2d_grad_weight(x, gy, (k, k), st, pd)),
            "backward": (lambda M: lambda: M.conv_transpose2d_backward(x, gy, w, st, pd, (True,) * 3)),
        }
        op_flops = {"forward": flops, "grad_input": flops, "grad_weight": flops,
                    "backward": 2 * flops + gy.size}
    all_bytes = conv_pass_bytes(x.size, w.size, b.size, y.size, np.dtype(dtype).itemsize)
    op_bytes = {op: all_bytes[op] for op in ops}
    torch_ops = {d: _torch_conv(kind, x, w, b, gy, st, pd, d) for d in TORCH_DEVICES}
    return [(op, op_flops[op], op_bytes[op], ops[op], _per_device(torch_ops, op)) for op in ops]


def _bn_arrays(prm, rng, dtype):
    """x, weight, bias, running mean / var, gy and the batch statistics of one batch-norm layer."""
    x = (rng.standard_normal(prm["x"]) * 2 + 0.5).astype(dtype)
    C = x.shape[1]
    wt = rng.standard_normal(C).astype(dtype)
    bs = rng.standard_normal(C).astype(dtype)
    rm, rv = np.zeros(C, dtype), np.ones(C, dtype)
    gy = rng.standard_normal(x.shape).astype(dtype)
    _, mean, invstd = R.batch_norm(x, rm.copy(), rv.copy(), wt, bs, True, MOMENTUM, EPS)
    return x, wt, bs, rm, rv, gy, mean, invstd


def bn_cases(prm, rng, dtype):
    x, wt, bs, rm, rv, gy, mean, invstd = _bn_arrays(prm, rng, dtype)
    E, isz = float(x.size), np.dtype(dtype).itemsize
    nb = bn_pass_bytes(x.size, x.shape[1], isz)
    ops = [
        ("forward train", 7 * E, nb["forward train"],
         lambda M: lambda: M.batch_norm(x, rm, rv, wt, bs, True, MOMENTUM, EPS)),
        ("backward train", 10 * E, nb["backward train"],
         lambda M: lambda: M.batch_norm_backward(gy, x, wt, mean, invstd, True)),
    ]
    torch_ops = {d: _torch_bn(x, wt, bs, rm, rv, gy, d) for d in TORCH_DEVICES}
    return [(op, f, by, fac, _per_device(torch_ops, op)) for op, f, by, fac in ops]


def bn_lrelu_cases(prm, rng, dtype):
    x, wt, bs, rm, rv, gy, mean, invstd = _bn_arrays(prm, rng, dtype)
    E, isz = float(x.size), np.dtype(dtype).itemsize
    nb = bn_pass_bytes(x.size, x.shape[1], isz, fused=True)
    ops = [  # FLOPs from the reference docstring; bytes: the fused minimum (bn_pass_bytes)
        ("forward train", 10 * E, nb["forward train"],
         lambda M: lambda: M.batch_norm_leaky_relu(x, rm, rv, wt, bs, True, MOMENTUM, EPS, SLOPE)),
        ("backward train", 16 * E, nb["backward train"],
         lambda M: lambda: M.batch_norm_leaky_relu_backward(gy, x, wt, bs, mean, invstd, True, SLOPE)),
    ]
    torch_ops = {d: _torch_bn_lrelu(x, wt, bs, rm, rv, gy, d) for d in TORCH_DEVICES}
    return [(op, f, by, fac, _per_device(torch_ops, op)) for op, f, by, fac in ops]


def lrelu_cases(prm, rng, dtype):
    x = rng.standard_normal(prm["x"]).astype(dtype)
    gy = rng.standard_normal(prm["x"]).astype(dtype)
    E, isz = float(x.size), np.dtype(dtype).itemsize
    ops = [  # bytes: forward reads x, writes y; backward reads gy, x, writes gx
        ("forward", E, 2 * E * isz, lambda M: lambda: M.leaky_relu(x, SLOPE)),
        ("backward", E, 3 * E * isz, lambda M: lambda: M.leaky_relu_backward(gy, x, SLOPE)),
    ]
    torch_ops = {d: _torch_lrelu(x, gy, d) for d in TORCH_DEVICES}
    return [(op, f, by, fac, _per_device(torch_ops, op)) for op, f, by, fac in ops]


# --------------------------------------------------------------------------- the PyTorch peer
TORCH = None
TORCH_DEVICES: list[str] = []      # "cpu", and "cuda" when a GPU is active (torch on cuDNN)


def _per_device(torch_ops, op):
    """{device: closure} for one op (devices where torch has it)."""
    return {d: ops[op] for d, ops in torch_ops.items() if op in ops}


def _torch_lrelu(x, gy, device):
    tx, tgy = _tensor(x, device), _tensor(gy, device)
    return {"forward": lambda: TORCH.nn.functional.leaky_relu(tx, SLOPE),
            "backward": lambda: TORCH.ops.aten.leaky_relu_backward(tgy, tx, SLOPE, False)}


def _tensor(a, device):
    return TORCH.from_numpy(a).to(device)


def _torch_conv(kind, x, w, b, gy, st, pd, device):
    T = TORCH
    tx, tw, tb, tgy = (_tensor(a, device) for a in (x, w, b, gy))
    transposed = kind == "convT"
    F = T.nn.functional

    def bwd(mask):
        return lambda: T.ops.aten.convolution_backward(
            tgy, tx, tw, None, list(st), list(pd), [1, 1], transposed, [0, 0], 1, mask)

    fwd = (lambda: F.conv_transpose2d(tx, tw, tb, st, pd)) if transposed else \
          (lambda: F.conv2d(tx, tw, tb, st, pd))
    ops = {"forward": fwd, "grad_input": bwd([True, False, False]),
           "grad_weight": bwd([False, True, False]), "backward": bwd([True, True, True])}
    if not transposed:
        ops["grad_bias"] = lambda: tgy.sum((0, 2, 3))
    return ops


def _torch_bn(x, wt, bs, rm, rv, gy, device):
    T = TORCH
    tx, tw, tb, tgy = (_tensor(a, device) for a in (x, wt, bs, gy))
    trm, trv = _tensor(rm.copy(), device), _tensor(rv.copy(), device)
    _, smean, sinv = T.ops.aten.native_batch_norm(tx, tw, tb, trm, trv, True, MOMENTUM, EPS)
    return {
        "forward train": lambda: T.ops.aten.native_batch_norm(tx, tw, tb, trm, trv, True, MOMENTUM, EPS),
        "backward train": lambda: T.ops.aten.native_batch_norm_backward(
            tgy, tx, tw, trm, trv, smean, sinv, True, EPS, [True, True, True]),
    }


def _torch_bn_lrelu(x, wt, bs, rm, rv, gy, device):
    """torch's batch norm then leaky ReLU, with the aten calls autograd makes for that graph:
    forward native_batch_norm + leaky_relu; backward leaky_relu_backward (on the saved
    pre-activation z) + native_batch_norm_backward."""
    T = TORCH
    tx, tw, tb, tgy = (_tensor(a, device) for a in (x, wt, bs, gy))
    trm, trv = _tensor(rm.copy(), device), _tensor(rv.copy(), device)
    tz, smean, sinv = T.ops.aten.native_batch_norm(tx, tw, tb, trm, trv, True, MOMENTUM, EPS)
    lrelu = T.nn.functional.leaky_relu

    def forward():
        z = T.ops.aten.native_batch_norm(tx, tw, tb, trm, trv, True, MOMENTUM, EPS)[0]
        return lrelu(z, SLOPE)

    def backward():
        gz = T.ops.aten.leaky_relu_backward(tgy, tz, SLOPE, False)
        return T.ops.aten.native_batch_norm_backward(gz, tx, tw, trm, trv, smean, sinv, True, EPS,
                                                     [True, True, True])

    return {"forward train": forward, "backward train": backward}


def _gemm_replay(call):
    """The bare GEMMs of one CPU kernel call -- the same shapes, operand layouts and thread split,
    on fresh operands, with no packing around them -- or None if the call runs no GEMM.  Their
    time against the kernel's is the share of data movement (im2col, shifted adds, transposes)."""
    from tensorgan.kernels.cpu import _pack, _workers
    with _pack.record_gemms() as per_thread:
        call()
    if not per_thread:
        return None
    rng = np.random.default_rng(1)

    def operand(layout, dtype):
        shape, transposed = layout
        a = rng.standard_normal(shape[::-1] if transposed else shape).astype(dtype)
        return a.T if transposed else a

    work = [[(operand(a, dt), operand(b, dt), np.empty((a[0][0], b[0][1]), dtype=dt))
             for a, b, dt in gemms] for gemms in per_thread.values()]

    def run_thread(gemms):
        for a, b, out in gemms:
            np.matmul(a, b, out=out)

    return lambda: _workers.run_parts(len(work), work, run_thread)


def _load_torch(threads):
    global TORCH
    if _torch is None:
        return None
    torch = _torch
    torch.set_num_threads(threads)
    torch.set_grad_enabled(False)
    TORCH = torch
    return torch


# --------------------------------------------------------------------------- the GPU, if any
def _cuda_device():
    """(kernels, cupy) when tensorgan's CUDA device is active, else None (with a reason)."""
    try:
        from tensorgan import backend
    except ImportError as e:  # pragma: no cover
        return None, f"tensorgan.backend unavailable ({e})"
    try:
        ok, why = backend.cuda_status()
    except Exception as e:  # pragma: no cover
        return None, f"cuda_status failed ({e})"
    if not ok:
        return None, why
    if backend.simulator_enabled():          # NumPy arrays and Python threads: nothing to time
        return None, "the CUDA device is Numba's simulator here"
    import cupy
    from tensorgan.kernels import cuda as CK
    return (CK, cupy), why


def _time_cuda(factory, cupy, CK, repeats, warmup):
    """Run the numpy-array closure factory against CUDA kernels on device copies; CUDA events."""
    return cupy_event_samples(factory(_CupyView(CK, cupy)), repeats, warmup)


def _time_torch_cuda(fn, repeats, warmup):
    """torch's closure on the GPU, CUDA events, as _time_cuda."""
    torch = TORCH
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    samples = []
    for _ in range(repeats):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        samples.append(a.elapsed_time(b) * 1e-3)
    return samples


class _CupyView:
    """Wraps the CUDA kernel set so the NumPy-array closures call it on cached device copies."""

    def __init__(self, CK, cupy):
        self._CK, self._cp, self._cache = CK, cupy, {}

    def _dev(self, a):
        if isinstance(a, np.ndarray):
            key = id(a)
            if key not in self._cache:
                self._cache[key] = (a, self._cp.asarray(a))
            return self._cache[key][1]
        return a

    def __getattr__(self, name):
        fn = getattr(self._CK, name)
        return lambda *args: fn(*(self._dev(a) for a in args))


# --------------------------------------------------------------------------- driver
def run(args):
    import numba
    threads = numba.get_num_threads()
    torch = None if args.no_torch else _load_torch(threads)
    cuda, cuda_why = _cuda_device()
    TORCH_DEVICES[:] = [] if torch is None else ["cpu"]
    if cuda and torch is not None and torch.cuda.is_available():
        TORCH_DEVICES.append("cuda")
    info = machine_info()
    info["torch"] = torch.__version__ if torch is not None else None
    info["torch_threads"] = torch.get_num_threads() if torch is not None else None
    info["torch_note"] = (f"torch {torch.__version__}" if torch is not None else
                          torch_missing_note(_TORCH_ERROR, "--no-torch" if args.no_torch else
                                             "TENSORGAN_BENCH_NO_TORCH is set" if _TORCH_ERROR is None
                                             else ""))
    if args.gpu_only and not cuda:
        raise SystemExit(f"--gpu-only: no GPU active ({cuda_why})")
    info["gpu"] = cuda_why if cuda else f"no GPU active ({cuda_why}); timing the CPU only"
    if "cuda" in TORCH_DEVICES:
        info["torch_cuda_settings"] = torch_cuda_strict_fp32(torch)
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    # The SGEMM peak before and after the timed rows, the higher one used (as train_step does): a
    # single measurement at the start can land on a busy moment of a shared machine.
    peaks = [sgemm_peak(clock=clock)]
    gpu_peaks = [sgemm_peak_gpu()] if cuda else []      # the GPU rows' ceiling: cuBLAS SGEMM
    time.sleep(OPENBLAS_SPIN_S)
    rng = np.random.default_rng(0)
    dtype = np.float32
    rows = []
    for name, kind, prm in layers(args.batch):
        if args.only and not any(o in name for o in args.only):
            continue
        if kind in ("conv", "convT"):
            cases = conv_cases(kind, prm, rng, dtype)
        elif kind == "bn":
            cases = bn_cases(prm, rng, dtype)
        elif kind == "bnlrelu":
            cases = bn_lrelu_cases(prm, rng, dtype)
        elif kind == "adam":
            cases = adam_cases(prm, rng, dtype)
        elif kind == "ema":
            cases = ema_cases(prm, rng, dtype)
        else:
            cases = lrelu_cases(prm, rng, dtype)
        for op, flops, nbytes, factory, torch_fn in cases:
            samples = {}
            if not args.gpu_only:
                fns = {"cpu": factory(K)}
                replay = _gemm_replay(fns["cpu"])
                if replay is not None:
                    fns["gemm"] = replay
                if "cpu" in torch_fn:
                    fns["torch"] = torch_fn["cpu"]
                samples = time_interleaved(fns, args.repeats, args.warmup, clock=clock)
            if not args.no_reference and not args.gpu_only:
                # Timed apart and last: the reference's NumPy calls run multi-threaded OpenBLAS,
                # whose workers then spin for ~0.1 s and would steal the cores from the next
                # contender (measured: torch's 12 ms transposed convolution read 47-56 ms when it
                # followed the reference in the round-robin).
                samples["ref"] = time_interleaved({"ref": factory(R)}, args.repeats, args.warmup,
                                                  clock=clock)["ref"]
                time.sleep(OPENBLAS_SPIN_S)
            if cuda:
                CK, cupy = cuda
                samples["cuda"] = _time_cuda(factory, cupy, CK, args.repeats, args.warmup)
                if "cuda" in torch_fn:
                    samples["torch_cuda"] = _time_torch_cuda(torch_fn["cuda"], args.repeats, args.warmup)
            row = {"layer": name, "op": op, "flops": flops, "bytes": nbytes, "impl": {}}
            for impl, s in samples.items():
                st = stats_ms(s)
                st["gflops"] = flops / (st["median_ms"] * 1e-3) / 1e9
                st["gbytes_per_s"] = nbytes / (st["median_ms"] * 1e-3) / 1e9
                row["impl"][impl] = st      # frac_sgemm_peak: below, once the peak is known
            if "torch" in row["impl"]:
                row["cpu_over_torch"] = row["impl"]["cpu"]["median_ms"] / row["impl"]["torch"]["median_ms"]
            if "gemm" in row["impl"]:
                row["gemm_share_of_cpu"] = row["impl"]["gemm"]["median_ms"] / row["impl"]["cpu"]["median_ms"]
                if "torch" in row["impl"]:
                    row["gemm_over_torch"] = (row["impl"]["gemm"]["median_ms"]
                                              / row["impl"]["torch"]["median_ms"])
            if "torch_cuda" in row["impl"]:
                row["cuda_over_torch_cuda"] = (row["impl"]["cuda"]["median_ms"]
                                               / row["impl"]["torch_cuda"]["median_ms"])
            rows.append(row)
            if not args.quiet:      # progress; the table comes at the end, with the final peak
                c = row["impl"].get("cpu") or next(iter(row["impl"].values()), None)
                print(f"  timed {name} {op}" + (f": {c['median_ms']:.2f} ms" if c else ""),
                      file=sys.stderr, flush=True)
    time.sleep(OPENBLAS_SPIN_S)
    peaks.append(sgemm_peak(clock=clock))
    if cuda:
        gpu_peaks.append(sgemm_peak_gpu())
    peak = max(peaks, key=lambda p: p["gflops"])
    gpu_peak = max(gpu_peaks, key=lambda p: p["gflops"]) if gpu_peaks else None
    for row in rows:
        for impl, st in row["impl"].items():
            on_gpu = impl in ("cuda", "torch_cuda")
            st["frac_sgemm_peak"] = st["gflops"] / (gpu_peak if on_gpu else peak)["gflops"]
    return {"batch": args.batch, "dtype": "float32", "repeats": args.repeats, "warmup": args.warmup,
            "clock": args.clock, "machine": info, "sgemm_peak": peak, "sgemm_peaks_measured": peaks,
            "sgemm_peak_gpu": gpu_peak, "sgemm_peaks_gpu_measured": gpu_peaks, "results": rows}


HEADER = (f"{'layer':24s} {'op':15s} {'cpu ms (p10-p90)':>22s} {'ref ms':>8s} {'torch ms (p10-p90)':>22s}"
          f" {'cpu/torch':>9s} {'cpu GF/s':>8s} {'%peak':>6s} {'GB/s':>6s} {'gemm ms':>8s}")


def _format_row(row):
    im = row["impl"]

    def cell(k, spread=True):
        if k not in im:
            return "-"
        s = im[k]
        if not spread:
            return f"{s['median_ms']:.2f}"
        return f"{s['median_ms']:.2f} ({s['p10_ms']:.2f}-{s['p90_ms']:.2f})"

    if "cpu" not in im:                       # --gpu-only: ms (p10-p90), GFLOP/s, % of cuBLAS SGEMM
        line = f"{row['layer']:24s} {row['op']:15s}"
        for k in ("cuda", "torch_cuda"):
            if k in im:
                s = im[k]
                line += (f"  {k} {s['median_ms']:.3f} ({s['p10_ms']:.3f}-{s['p90_ms']:.3f}) ms"
                         f" {s['gflops']:7.0f} GF/s {100 * s['frac_sgemm_peak']:4.1f}%")
        if "cuda_over_torch_cuda" in row:
            line += f"  cuda/torch {row['cuda_over_torch_cuda']:.2f}"
        return line
    c = im["cpu"]
    ratio = f"{row['cpu_over_torch']:.2f}" if "cpu_over_torch" in row else "-"
    line = (f"{row['layer']:24s} {row['op']:15s} {cell('cpu'):>22s} {cell('ref', False):>8s} "
            f"{cell('torch'):>22s} {ratio:>9s} {c['gflops']:8.1f} {100 * c['frac_sgemm_peak']:5.1f}% "
            f"{c['gbytes_per_s']:6.1f} {cell('gemm', False):>8s}")
    if "cuda" in im:
        line += f"  cuda {im['cuda']['median_ms']:.3f} ms"
    if "torch_cuda" in im:
        line += (f"  torch cuda {im['torch_cuda']['median_ms']:.3f} ms"
                 f"  cuda/torch {row['cuda_over_torch_cuda']:.2f}")
    return line


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m benchmarks.kernels",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--batch", type=int_at_least(1), default=64)
    ap.add_argument("--repeats", type=int_at_least(1), default=20)
    ap.add_argument("--warmup", type=int_at_least(0), default=3)
    ap.add_argument("--only", nargs="+", help="substrings of layer names to run (e.g. convT bn2d)")
    ap.add_argument("--json", nargs="?", const="-", default=None, type=json_dest, metavar="PATH",
                    help="write the results as JSON to PATH (or stdout with no PATH)")
    ap.add_argument("--no-torch", action="store_true", help="time tensorgan alone")
    ap.add_argument("--no-reference", action="store_true", help="skip the NumPy reference")
    ap.add_argument("--gpu-only", action="store_true",
                    help="on a GPU machine: time only the CUDA kernels and torch on CUDA")
    ap.add_argument("--quiet", action="store_true",
                    help="no per-row progress lines on stderr (the table is still printed)")
    ap.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                    help="wall: elapsed time (default); cpu: process CPU time -- robust on a loaded "
                         "machine, fair only with one thread (NUMBA_NUM_THREADS=1 "
                         "OPENBLAS_NUM_THREADS=1)")
    args = ap.parse_args(argv)
    if args.only:
        names = [name for name, _, _ in layers(args.batch)]
        if not any(o in name for o in args.only for name in names):
            ap.error(f"--only {' '.join(args.only)}: no layer name contains any of these; the layers "
                     f"are: {', '.join(names)}")
    out = sys.stderr if args.json == "-" else sys.stdout
    result = run(args)
    print(HEADER, file=out)
    for row in result["results"]:
        print(_format_row(row), file=out)
    m, pk = result["machine"], result["sgemm_peak"]
    measured = ", ".join(f"{p['gflops']:.1f}" for p in result["sgemm_peaks_measured"])
    print(f"\nbatch {args.batch}, float32, {args.clock} clock; numba {m.get('numba')} ({m.get('numba_threads')} threads), "
          + (f"torch {m['torch']} ({m['torch_threads']} threads)" if m["torch"] else
             m["torch_note"]) + f"; {m['gpu']}\n"
          f"SGEMM peak (NumPy {pk['n']}^3): {pk['gflops']:.1f} GFLOP/s median, {pk['gflops_best']:.1f} best "
          f"(the higher of before / after the rows: {measured}; %peak is against it)"
          + (f"; GPU SGEMM peak (CuPy/cuBLAS {gp['n']}^3, TF32 off): {gp['gflops']:.0f} GFLOP/s median"
             if (gp := result["sgemm_peak_gpu"]) else ""),
          file=out)
    conv = [r for r in result["results"] if "cpu_over_torch" in r]
    if conv:
        worst = max(conv, key=lambda r: r["cpu_over_torch"])
        print(f"slowest vs torch: {worst['layer']} {worst['op']} {worst['cpu_over_torch']:.2f}x", file=out)
    if args.json:
        write_json(result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
