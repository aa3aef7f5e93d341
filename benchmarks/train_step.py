"""Train-step benchmark: one full GAN training step of the default MNIST DCGAN, tensorgan vs PyTorch.

    python -m benchmarks.train_step [--batch 64] [--steps 20] [--warmup 3] [--json [PATH]]
                                    [--memory-steps 30] [--no-torch] [--no-memory] [--no-overhead]

One step is what ``tensorgan.train.Trainer.train_step`` does -- and the tensorgan side *calls* it, so
the benchmark times the real thing: draw z, ``fake = G(z)``; D step on real + ``fake.detach()``
(BCE-with-logits losses, backward, Adam); G step through the (frozen) updated D (non-saturating loss,
backward, Adam); the finiteness checks on losses and gradients and the D(x)/D(G(z)) read-backs.
The PyTorch side is an identical model built here (same layers, DCGAN N(0, 0.02) init -- the
tensorgan weights are copied in, and two steps are checked to give the same losses, Adam moments
and parameters (parity_check) -- same Adam(lr,
betas), same batch, float32, ``torch.set_num_threads`` = Numba's thread count) running the same
step written in PyTorch. torch is imported in ``benchmarks/`` only; without it the table is
tensorgan-only.

Reported:

* median seconds per step with the spread (p10-p90, min-max) over ``--steps`` interleaved rounds
  (tensorgan, torch, tensorgan, torch, ...) after ``--warmup`` rounds, images/s, tensorgan/torch;
* the FLOP floor: the step's GEMM-shaped FLOPs (conv / transposed conv / linear: 2 * MACs of each
  forward pass, plus one equal-sized pass per input gradient and per weight gradient the step
  actually computes; elementwise work -- batch norm, leaky ReLU, Adam, losses -- is not counted)
  divided by the machine's SGEMM rate measured in the same run (NumPy float32 2048^3);
* where the tensorgan step's time goes: the sum of the kernel calls (``device.kernels.*``, timed by
  a wrapper), the other ops' array work (``Function.forward/backward`` bodies outside kernels: the
  linear layers' GEMMs, the losses, layout copies), the optimizer updates, and the rest -- the
  engine's Python (graph building, dispatch, checks, backward bookkeeping, gradient accumulation).
  "engine adds" = step / kernels - 1, the issue's measure (so it counts the Linear GEMMs, the
  losses and Adam too; "engine Python alone" is the engine's own share); the same split by
  category, computed per step ("other" = that step's rest) and then a median per category, next
  to torch.profiler's self times, each charged to its outermost named caller (so Adam's ops and
  autograd's ConvolutionBackward0 / NativeBatchNormBackward0 / LeakyReluBackward0 nodes land in
  their rows); and, on the CPU, the thread hand-over
  inside the kernels: each split call's wall time minus its threads' mean busy time;
* memory: each framework's probe runs in its own subprocess (peak RSS is per process, and a
  process that imported both would charge one's libraries to the other). Reported per framework:
  RSS after the imports, peak RSS (VmHWM) and their difference (the model + step working set),
  and the steady-state growth of RSS (/proc/self/statm) over ``--memory-steps`` steps after a
  warm-up of at least MEMORY_MIN_WARMUP steps: the median of the last quarter's samples minus the
  first quarter's, the min-max band of the second half, and -- only for runs of SLOPE_MIN_STEPS
  steps or more -- a per-1000-steps slope fitted over the second half.

On a machine with an active GPU (tensorgan's CUDA device) both sides run on it and each step is
timed with CUDA events; here the output says that no GPU is present and the CPU is timed.
"""
from __future__ import annotations

import argparse
import contextlib
import ctypes
import importlib
import json
import math
import os
import re
import resource
import subprocess
import sys
import time

# One OpenMP wait policy for the whole process, fixed before torch (or Numba) loads its OpenMP
# runtime: tensorgan.kernels.cpu sets PASSIVE at import, but torch imported first keeps libgomp's
# default spinning workers, which then steal the cores from Numba/OpenBLAS *and* from torch's own
# next step. Measured here (batch 64, interleaved, load ~5): policy unset -> tensorgan 3.2 s, torch
# 3.4 s per step; PASSIVE for both -> tensorgan 1.6 s, torch 0.78 s. An explicit setting in the
# environment wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402

from ._common import (int_at_least, json_dest, machine_info, sgemm_peak,  # noqa: E402
                      sgemm_peak_gpu, stats_ms, torch_cuda_strict_fp32, torch_missing_note,
                      write_json)

LATENT, BASE, SLOPE = 100, 64, 0.2
IMAGE = (1, 28, 28)
LR, BETAS = 2e-4, (0.5, 0.999)


# --------------------------------------------------------------------------- small helpers
def rss_bytes() -> int:
    """Current resident set size of this process (Linux /proc/self/statm)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def max_rss_bytes() -> int:
    """Peak RSS of this process's address space: VmHWM from /proc/self/status. (Not ru_maxrss:
    Linux carries ru_maxrss across execve, so a probe subprocess would report its parent's peak.)"""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def openblas_threads() -> int | None:
    """OpenBLAS's thread count, read from the library NumPy loaded (None if not found)."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line.lower() and "/" in line}
    except OSError:
        return None
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for sym in ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_",
                    "openblas_get_num_threads"):
            fn = getattr(lib, sym, None)
            if fn is not None:
                fn.restype = ctypes.c_int
                return int(fn())
    return None


def git_state() -> dict:
    """The commit timed and whether the kernels/engine differ from it (a shared working tree)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

    def git(*a):
        try:
            return subprocess.run(["git", *a], cwd=root, capture_output=True, text=True,
                                  timeout=10).stdout.rstrip()
        except (OSError, subprocess.SubprocessError):
            return ""
    dirty = [line[3:] for line in git("status", "--porcelain", "--", "kernels", "tensorgan").splitlines()
             if line[:2].strip() and not line.startswith("??")]
    commit = git("rev-parse", "--short", "HEAD")
    if not commit:  # a copy of the tree without .git (a lent GPU machine): the sender may say it
        commit = os.environ.get("TENSORGAN_COMMIT", "")
        dirty = ["(not a git checkout: unknown)"] if not commit else dirty
    return {"commit": commit, "dirty": dirty}


def _dataset(batch: int, seed: int = 0):
    class _Synthetic:  # what the Trainer needs of a dataset: uint8 images (N, C, H, W)
        def __init__(self):
            rng = np.random.default_rng(seed)
            self.images = rng.integers(0, 256, (2 * batch,) + IMAGE, dtype=np.uint8)
            self.labels = None

        def __len__(self):
            return len(self.images)

        def __getitem__(self, i):
            return self.images[i], None

    return _Synthetic()


def real_batch(batch: int, seed: int = 1) -> np.ndarray:
    """A float32 batch in [-1, 1] (the values do not matter for speed)."""
    return np.random.default_rng(seed).uniform(-1, 1, (batch,) + IMAGE).astype(np.float32)


# --------------------------------------------------------------------------- tensorgan
def make_trainer(batch: int, device: str | None = None):
    from tensorgan.train import Trainer, TrainConfig
    cfg = TrainConfig(steps=10 ** 9, batch_size=batch, lr=LR, beta1=BETAS[0], beta2=BETAS[1],
                      latent_dim=LATENT, base_channels=BASE, seed=0, device=device)
    return Trainer(_dataset(batch), None, cfg)


def step_flops(G, D, batch: int) -> dict:
    """GEMM FLOPs of one training step, counted from the layer shapes of the two Sequentials.

    Per conv / transposed conv / linear layer, a forward pass is 2 * MACs (conv: 2 N Cout OH OW Cin
    kH kW; transposed conv: 2 N Cin H W Cout kH kW; linear: 2 N in out). The input gradient and the
    weight gradient each cost as much again. Which passes the trainer's step runs:
    G: forward; weight grads; input grads of every layer but the first (z needs no gradient).
    D: three forwards (real, fake for the D step, fake again through the updated D for the G step);
    D step: weight grads on both batches and input grads of every layer but the first on both;
    G step: input grads of every layer (down to the image, into G), no weight grads (D is frozen)."""
    from tensorgan import nn

    def per_layer(model, in_shape):
        out, shape = [], (batch,) + tuple(in_shape)
        for m in model:
            if isinstance(m, nn.Linear):
                f = 2.0 * batch * m.in_features * m.out_features
                shape = (batch, m.out_features)
            elif isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                _, c, h, w = shape
                (kh, kw), (sh, sw), (ph, pw) = m.kernel_size, m.stride, m.padding
                if isinstance(m, nn.Conv2d):
                    oh, ow = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
                    f = 2.0 * batch * m.out_channels * oh * ow * c * kh * kw
                else:
                    oh, ow = (h - 1) * sh - 2 * ph + kh, (w - 1) * sw - 2 * pw + kw
                    f = 2.0 * batch * c * h * w * m.out_channels * kh * kw
                shape = (batch, m.out_channels, oh, ow)
            else:
                if isinstance(m, nn.Flatten):
                    shape = (batch, int(np.prod(shape[1:])))
                elif isinstance(m, nn.Unflatten):
                    shape = (batch,) + m.unflattened_size
                continue
            out.append(f)
        return out

    g, d = per_layer(G, (LATENT,)), per_layer(D, IMAGE)
    g_total = sum(g) + sum(g) + sum(g[1:])
    d_total = 3 * sum(d) + 2 * sum(d) + 2 * sum(d[1:]) + sum(d)
    return {"generator_forward": sum(g), "discriminator_forward": sum(d),
            "generator_in_step": g_total, "discriminator_in_step": d_total, "total": g_total + d_total}


class _Timers:
    """Wraps device.kernels (per-kernel times), every Function's forward/backward and the two
    optimizers' step() so one instrumented train_step can be split into where its time goes."""

    def __init__(self, trainer):
        self.trainer = trainer
        self.kernel_s: dict[str, float] = {}
        self.kernel_calls: dict[str, int] = {}
        self.kernel_shape_s: dict[tuple, float] = {}
        self.op_s = 0.0
        self.opt_s = 0.0
        self.linear_s = 0.0
        self.split_calls = 0
        self.split_wall_s = 0.0
        self.split_busy_s = 0.0
        self._depth = 0

    def reset(self):
        self.kernel_s.clear()
        self.kernel_calls.clear()
        self.kernel_shape_s.clear()
        self.op_s = self.opt_s = self.linear_s = 0.0
        self.split_calls, self.split_wall_s, self.split_busy_s = 0, 0.0, 0.0

    @contextlib.contextmanager
    def installed(self):
        import types

        from tensorgan.tensor import Function
        dev = self.trainer.device
        module = dev.kernels
        proxy = types.SimpleNamespace()
        from tensorgan.kernels import KERNEL_API
        layer_kernels = set(KERNEL_API) - {"adam_update"}   # the optimizer's is in the Adam row
        for name in dir(module):
            fn = getattr(module, name)
            if callable(fn) and not name.startswith("_"):  # time the kernels, pass the rest through
                setattr(proxy, name, self._kernel(name, fn) if name in layer_kernels else fn)
        classes, stack = [], [Function]
        while stack:
            cls = stack.pop()
            classes.append(cls)
            stack.extend(cls.__subclasses__())
        saved = []
        for cls in classes:
            for meth in ("forward", "backward"):
                if meth in cls.__dict__:
                    saved.append((cls, meth, cls.__dict__[meth]))
                    setattr(cls, meth, self._op(cls.__dict__[meth], cls.__name__ == "Linear"))
        opts = [self.trainer.opt_d, self.trainer.opt_g]
        for opt in opts:
            opt.step = self._optimizer(opt.step)
        # The CPU kernels' thread split: every caller looks run_parts up in one of these modules.
        split_modules = [importlib.import_module(f"tensorgan.kernels.cpu.{m}") for m in ("_workers", "optim")]
        split_saved = [mod.run_parts for mod in split_modules]
        for mod in split_modules:
            mod.run_parts = self._split(split_saved[0])
        dev._kernels = proxy
        try:
            yield self
        finally:
            for mod, fn in zip(split_modules, split_saved):
                mod.run_parts = fn
            dev._kernels = module
            for cls, meth, fn in saved:
                setattr(cls, meth, fn)
            for opt in opts:
                del opt.step  # back to the class's method

    def _kernel(self, name, fn):
        perf = time.perf_counter

        def timed(*args, **kwargs):
            t0 = perf()
            try:
                return fn(*args, **kwargs)
            finally:
                dt = perf() - t0
                self.kernel_s[name] = self.kernel_s.get(name, 0.0) + dt
                self.kernel_calls[name] = self.kernel_calls.get(name, 0) + 1
                shapes = "x".join(str(n) for n in getattr(args[0], "shape", ())) if args else ""
                if len(args) > 1 and hasattr(args[1], "shape"):
                    shapes += " | " + "x".join(str(n) for n in args[1].shape)
                key = (name, shapes)
                self.kernel_shape_s[key] = self.kernel_shape_s.get(key, 0.0) + dt
        return timed

    def _op(self, fn, linear=False):
        perf = time.perf_counter

        def timed(*args, **kwargs):
            self._depth += 1
            t0 = perf()
            try:
                return fn(*args, **kwargs)
            finally:
                self._depth -= 1
                dt = perf() - t0
                if self._depth == 0:  # super().forward() inside an op is counted once
                    self.op_s += dt
                if linear:
                    self.linear_s += dt
        return timed

    def _split(self, run_parts):
        """run_parts, timed: each split call's wall time and its parts' mean busy time -- the
        difference is the hand-over (waking the worker, waiting for the slower part)."""
        perf = time.perf_counter

        def timed(threads, parts, fn, *args, **kwargs):
            busy = []

            def part(p):
                t0 = perf()
                try:
                    return fn(p)
                finally:
                    busy.append(perf() - t0)
            t0 = perf()
            try:
                return run_parts(threads, parts, part, *args, **kwargs)
            finally:
                if len(parts) > 1:
                    self.split_calls += 1
                    self.split_wall_s += perf() - t0
                    self.split_busy_s += sum(busy) / len(busy)
        return timed

    def _optimizer(self, fn):
        perf = time.perf_counter

        def timed():
            t0 = perf()
            try:
                return fn()
            finally:
                self.opt_s += perf() - t0
        return timed


def breakdown(trainer, real: np.ndarray, steps: int, sync=None) -> dict:
    """Per-step medians of: step, kernels, other op work, optimizer, engine (the rest)."""
    timers = _Timers(trainer)
    rows = []
    with timers.installed():
        trainer.train_step(real)  # one warm call through the wrappers
        for _ in range(steps):
            timers.reset()
            t0 = time.perf_counter()
            trainer.train_step(real)
            if sync:
                sync()
            step = time.perf_counter() - t0
            k = sum(timers.kernel_s.values())
            rows.append({"step": step, "kernels": k, "ops_outside_kernels": timers.op_s - k,
                         "optimizer": timers.opt_s, "engine": step - timers.op_s - timers.opt_s,
                         "linear": timers.linear_s, "split_calls": timers.split_calls,
                         "handover": timers.split_wall_s - timers.split_busy_s,
                         "per_kernel": dict(timers.kernel_s), "calls": dict(timers.kernel_calls),
                         "per_call": dict(timers.kernel_shape_s)})
    med = {key: float(np.median([r[key] for r in rows]))
           for key in ("step", "kernels", "ops_outside_kernels", "optimizer", "engine")}
    # The categories of each step (which add up to that step's time), then each one's median.
    per_step = [step_categories(r["per_kernel"], r["optimizer"], r["linear"], r["step"]) for r in rows]
    med["categories"] = category_medians(per_step)
    names = sorted(rows[0]["per_kernel"])
    med["per_kernel"] = {n: {"ms": 1e3 * float(np.median([r["per_kernel"].get(n, 0.0) for r in rows])),
                             "calls": rows[0]["calls"][n]} for n in names}
    # Per-step ratios first, then the median: the load on a shared machine changes between steps.
    med["engine_adds"] = float(np.median([r["step"] / r["kernels"] - 1.0 for r in rows]))
    med["non_kernel_share"] = float(np.median([1.0 - r["kernels"] / r["step"] for r in rows]))
    med["engine_share"] = float(np.median([r["engine"] / r["step"] for r in rows]))
    keys = sorted(rows[0]["per_call"], key=lambda k: -rows[0]["per_call"][k])
    med["per_kernel_shape"] = [{"kernel": k[0], "args": k[1], "ms": 1e3 * float(np.median(
        [r["per_call"].get(k, 0.0) for r in rows]))} for k in keys]
    med["per_kernel_shape"].sort(key=lambda e: -e["ms"])
    med["linear_ms"] = 1e3 * float(np.median([r["linear"] for r in rows]))
    med["split_calls"] = rows[0]["split_calls"]
    med["handover_ms"] = 1e3 * float(np.median([r["handover"] for r in rows]))
    med["steps"] = steps
    return med


# --------------------------------------------------------------------------- PyTorch
def build_torch(torch, device: str = "cpu", seed: int = 0):
    """The same DCGAN pair in PyTorch, DCGAN-initialized (N(0, .02) weights, N(1, .02) BN weights,
    zero biases), with the same Adam settings."""
    nn = torch.nn
    torch.manual_seed(seed)
    G = nn.Sequential(
        nn.Linear(LATENT, 4 * BASE * 7 * 7, bias=False), nn.BatchNorm1d(4 * BASE * 7 * 7),
        nn.LeakyReLU(SLOPE), nn.Unflatten(1, (4 * BASE, 7, 7)),
        nn.ConvTranspose2d(4 * BASE, 2 * BASE, 4, 2, 1), nn.BatchNorm2d(2 * BASE), nn.LeakyReLU(SLOPE),
        nn.ConvTranspose2d(2 * BASE, BASE, 4, 2, 1), nn.BatchNorm2d(BASE), nn.LeakyReLU(SLOPE),
        nn.Conv2d(BASE, 1, 3, 1, 1), nn.Tanh())
    D = nn.Sequential(
        nn.Conv2d(1, BASE, 4, 2, 1), nn.LeakyReLU(SLOPE),
        nn.Conv2d(BASE, 2 * BASE, 4, 2, 1), nn.BatchNorm2d(2 * BASE), nn.LeakyReLU(SLOPE),
        nn.Flatten(), nn.Linear(2 * BASE * 7 * 7, 1))
    with torch.no_grad():
        for m in list(G.modules()) + list(D.modules()):
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
                m.weight.normal_(0.0, 0.02)
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                m.weight.normal_(1.0, 0.02)
                m.bias.zero_()
    G.to(device), D.to(device)
    opt_g = torch.optim.Adam(G.parameters(), lr=LR, betas=BETAS)
    opt_d = torch.optim.Adam(D.parameters(), lr=LR, betas=BETAS)
    return G, D, opt_g, opt_d


def copy_weights_from_tensorgan(torch, trainer, G, D) -> None:
    """Load the tensorgan models' state (same layer indices in both Sequentials) into G, D."""
    for src, dst in ((trainer.G, G), (trainer.D, D)):
        state = {k: torch.as_tensor(np.array(v.get() if hasattr(v, "get") else v)).to(
            next(dst.parameters()).device) for k, v in src.state_dict().items()}
        dst.load_state_dict(state)


def torch_step_fn(torch, G, D, opt_g, opt_d, real, batch: int, device: str = "cpu", seed: int = 0):
    """A closure running the trainer's step in PyTorch (optionally on a given z)."""
    F = torch.nn.functional
    gen = torch.Generator(device=device).manual_seed(seed)
    d_params, g_params = list(D.parameters()), list(G.parameters())

    def grads_finite(params):  # the trainer's check_grads: one float64 total per network
        return math.isfinite(float(sum(p.grad.sum(dtype=torch.float64) for p in params
                                       if p.grad is not None)))

    def step(z=None):
        if z is None:
            z = torch.randn(batch, LATENT, generator=gen, device=device)
        fake = G(z)
        d_real, d_fake = D(real), D(fake.detach())
        loss_d = (F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real))
                  + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake)))
        loss_d_value = loss_d.item()
        opt_d.zero_grad(set_to_none=True)
        if math.isfinite(loss_d_value):
            loss_d.backward()
            if grads_finite(d_params):
                opt_d.step()
        for p in d_params:
            p.requires_grad_(False)
        try:
            out = D(fake)
            loss_g = F.binary_cross_entropy_with_logits(out, torch.ones_like(out))
            loss_g_value = loss_g.item()
            opt_g.zero_grad(set_to_none=True)
            if math.isfinite(loss_g_value):
                loss_g.backward()
                if grads_finite(g_params):
                    opt_g.step()
        finally:
            for p in d_params:
                p.requires_grad_(True)
        return {"loss_d": loss_d_value, "loss_g": loss_g_value,
                "d_x": torch.sigmoid(d_real.double()).mean().item(),
                "d_g_z": torch.sigmoid(d_fake.double()).mean().item()}

    return step


# Parity tolerances, from measured baselines (batch 64, several runs; the two sides do not round
# alike, and the same process's first run differs from its second):
# * |loss / D-output difference|: 3e-5 to 4e-4 by step 2 -- the 2e-4 hoped for is not reliable;
# * Adam moments, max |tg - torch| / max |tg| per tensor: <= 3e-2 after step 1 (gradients from the
#   same weights; the batch norms' backward subtracts near-equal terms), <= 0.25 after step 2
#   (step 1's updates already differed, below);
# * parameters, ||tg - torch|| / ||update|| per tensor: <= 0.14 after step 1, <= 0.23 after step 2:
#   Adam's first update is about lr * sign(g), so the elements whose gradient is within rounding of
#   0 move +lr on one side and -lr on the other.
# Caught (checked with the torch side patched): betas (0.5, 0.99) -> moments 9.0 after step 1;
# betas (0.6, 0.999) -> moments 0.2 and losses 2e-2; lr 2.2e-4 -> losses 8e-2, parameters 0.58.
# Not caught: eps 1e-6 or amsgrad (within the noise over two steps).
PARITY_SCALAR_TOL = 1e-3
PARITY_MOMENT_TOL = {1: 0.1, 2: 0.5}
PARITY_PARAM_TOL = {1: 0.5, 2: 0.5}


def _host(a) -> np.ndarray:
    return np.array(a.get() if hasattr(a, "get") else a, dtype=np.float64)


def _noise_gradient_biases(seq) -> set:
    """Names of the biases in a torch Sequential that feed a batch norm: their gradient is 0 in
    exact arithmetic, so each side's Adam step moves them by lr * noise / (|noise| + eps) -- two
    different random numbers; they are left out of the comparison."""
    mods = list(seq.children())
    return {f"{i}.bias" for i, (m, nxt) in enumerate(zip(mods, mods[1:]))
            if getattr(m, "bias", None) is not None and "BatchNorm" in type(nxt).__name__}


def relative_diff(a: np.ndarray, b: np.ndarray, scale: np.ndarray, norm: str = "max") -> float:
    """|a - b| over |scale|, by the largest element ("max") or the Euclidean norm ("rms");
    0 for two equal tensors, inf for a difference against a zero scale."""
    f = (lambda x: float(np.max(np.abs(x)))) if norm == "max" else (lambda x: float(np.linalg.norm(x)))
    d, s = (f(a - b), f(scale)) if a.size else (0.0, 0.0)
    return d / s if s > 0 else (0.0 if d == 0 else math.inf)


def _snapshot(trainer, G, D, og, od) -> tuple[dict, dict]:
    """{'G.<name>': {'p', 'exp_avg', 'exp_avg_sq'}} for both sides, as float64 NumPy arrays."""
    tg, th = {}, {}
    for tag, tgm, thm, tgo, tho in (("G", trainer.G, G, trainer.opt_g, og),
                                     ("D", trainer.D, D, trainer.opt_d, od)):
        th_params = dict(thm.named_parameters())
        for name, p in tgm.named_parameters():
            q, key = th_params[name], f"{tag}.{name}"
            st_tg, st_th = tgo.state[p] or {}, tho.state.get(q, {})
            tg[key] = {"p": _host(p.array)} | {k: _host(st_tg[k]) for k in ("exp_avg", "exp_avg_sq")
                                              if k in st_tg}
            th[key] = {"p": q.detach().cpu().double().numpy().copy()} | {
                k: st_th[k].detach().cpu().double().numpy() for k in ("exp_avg", "exp_avg_sq")
                if k in st_th}
    return tg, th


def parameter_parity(tg: dict, th: dict, before: dict, skip=()) -> dict:
    """Per tensor, after one step of each side (snapshots from _snapshot; ``before`` is
    tensorgan's before that step): 'moments', the worse of Adam's two moments by max |tg - torch|
    / max |tg| -- a direct function of the gradients, so float32 rounding only; and 'param',
    ||p_tg - p_torch|| / ||p_tg - p_before||, the parameters' difference against how far the step
    moved them.  (RMS, not the largest element: Adam's first update is about lr * sign(g), so an
    element whose gradient is within rounding of 0 moves +lr on one side and -lr on the other.)"""
    out = {}
    for name, a in tg.items():
        if name in skip:
            continue
        b = th[name]
        moments = [relative_diff(a[k], b[k], a[k]) for k in ("exp_avg", "exp_avg_sq") if k in a]
        if set(a) != set(b):              # a step taken on one side only
            moments.append(math.inf)
        out[name] = {"moments": max(moments, default=0.0),
                     "param": relative_diff(a["p"], b["p"], a["p"] - before[name]["p"], "rms")}
    return out


def parity_check(torch, batch: int, device: str | None, torch_device: str) -> dict:
    """Two steps of each from the same weights, the same real batch and the same z: the losses and
    D's outputs must agree (float32 rounding only); after each step so must every parameter's Adam
    moments and every parameter (relative to that step's update; see parameter_parity) -- which
    shows the two steps compute the same gradients and the same Adam update (lr, betas, bias
    correction).  The biases that feed a batch norm are left out (no gradient to compare)."""
    from tensorgan.random import Generator
    trainer = make_trainer(batch, device)
    G, D, og, od = build_torch(torch, torch_device)
    copy_weights_from_tensorgan(torch, trainer, G, D)
    skip = {f"G.{n}" for n in _noise_gradient_biases(G)} | {f"D.{n}" for n in _noise_gradient_biases(D)}
    real = real_batch(batch)
    noise = Generator()
    noise.set_state(trainer.rng["noise"].get_state())
    z = noise.normal((batch, LATENT))  # the z the trainer is about to draw
    step = torch_step_fn(torch, G, D, og, od, torch.as_tensor(real, device=torch_device), batch,
                         torch_device)
    out = {}
    for i in (1, 2):  # the second step also checks Adam's moment updates and bias correction
        before, _ = _snapshot(trainer, G, D, og, od)
        a = trainer.train_step(real)
        b = step(torch.as_tensor(z, device=torch_device))
        z = noise.normal((batch, LATENT))
        rel = parameter_parity(*_snapshot(trainer, G, D, og, od), before, skip)
        st = {"scalars": {k: (a[k], b[k]) for k in ("loss_d", "loss_g", "d_x", "d_g_z")}, "tensors": rel}
        for kind in ("moments", "param"):
            name = max(rel, key=lambda n: rel[n][kind])
            st[f"max_{kind}"], st[f"worst_{kind}"] = rel[name][kind], name
        st["ok"] = (st["max_moments"] < PARITY_MOMENT_TOL[i] and st["max_param"] < PARITY_PARAM_TOL[i]
                    and max(abs(x - y) for x, y in st["scalars"].values()) < PARITY_SCALAR_TOL)
        out[f"step{i}"] = st
    out["max_abs_diff"] = max(abs(x - y) for i in (1, 2) for x, y in out[f"step{i}"]["scalars"].values())
    out["skipped"] = sorted(skip)
    out["tol"] = {"scalar": PARITY_SCALAR_TOL, "moments": PARITY_MOMENT_TOL, "param": PARITY_PARAM_TOL}
    out["ok"] = out["step1"]["ok"] and out["step2"]["ok"]
    return out


CATEGORIES = ("conv forward", "conv backward", "batch norm", "leaky relu", "linear", "optimizer", "other")


def step_categories(per_kernel_s: dict, optimizer_s: float, linear_s: float, step_s: float) -> dict:
    """One instrumented step's time by category, in ms: its kernels' times (seconds, by kernel
    name) grouped like torch_profile's categories, its optimizer and Linear times, and "other" =
    the rest of that same step -- so the categories add up to the step exactly."""
    out = dict.fromkeys(CATEGORIES, 0.0)
    for name, s in per_kernel_s.items():
        # batch_norm(_backward), and the fused batch_norm_leaky_relu(_backward) that runs the
        # DCGAN's every BatchNorm + LeakyReLU pair: batch norm.  "leaky relu" then holds only the
        # unfused activations (the discriminator's first layer); torch's are all there.
        if name.startswith("batch_norm"):
            out["batch norm"] += 1e3 * s
        elif name.startswith("leaky_relu"):
            out["leaky relu"] += 1e3 * s
        elif "grad" in name or name.endswith("_backward"):   # conv*_grad_*, conv*_backward
            out["conv backward"] += 1e3 * s
        else:
            out["conv forward"] += 1e3 * s
    out["optimizer"] = 1e3 * optimizer_s
    out["linear"] = 1e3 * linear_s
    out["other"] = 1e3 * step_s - sum(out.values())
    return out


def category_medians(per_step: list) -> dict:
    """The median of each category over steps (each step's categories from step_categories).
    Medians do not add: their sum is reported next to the median step, not forced to it."""
    return {c: float(np.median([s[c] for s in per_step])) for c in CATEGORIES}


def tensorgan_categories(b: dict) -> dict:
    """The breakdown's per-category medians (ms/step), each over the instrumented steps."""
    return dict(b["categories"])


def torch_category(name: str) -> str | None:
    """The category of one torch.profiler event by its name, or None when the name alone does
    not say (a helper op such as aten::empty / aten::sum, which then takes its caller's).
    Backward work is named by autograd's nodes ("ConvolutionBackward0", "NativeBatchNormBackward0",
    "LeakyReluBackward0", "AddmmBackward0", also as "autograd::engine::evaluate_function: ...")
    and by the aten backward ops they call (aten::convolution_backward, ...)."""
    k = name.lower()
    if k.startswith("optimizer.step#"):
        return "optimizer"
    if k.startswith("optimizer.") or k.startswith("profilerstep"):
        return "other"                     # zero_grad (set_to_none): the trainer's side times it there too
    compact = k.replace("_", "")
    if "backward" in k:
        if "convolution" in compact or "conv" in compact:
            return "conv backward"
        if "batchnorm" in compact:
            return "batch norm"
        if "leakyrelu" in compact:
            return "leaky relu"
        if re.search(r"(^|[\s:])(addmm|mm|t|linear)backward", compact):   # Linear's nodes
            return "linear"
        return None
    if "conv" in k:                        # aten::conv2d, conv_transpose2d, convolution, mkldnn_...
        return "conv forward"
    if "batch_norm" in k:
        return "batch norm"
    if "leaky_relu" in k:
        return "leaky relu"
    if k in ("aten::addmm", "aten::mm", "aten::linear", "aten::matmul"):
        return "linear"
    return None


def categorize_profile(events) -> dict:
    """Self CPU time (us) per category over profiler events (anything with .name,
    .self_cpu_time_total and .cpu_parent): each event's self time goes to the category of the
    outermost event on its chain of callers whose name has one (torch_category), so that the ops
    called inside Optimizer.step, inside a ConvolutionBackward0 node, or inside aten::batch_norm are
    counted there; events no caller names go to "other".  Every self time is counted once, so the
    categories add up to the profiled time."""
    out = dict.fromkeys(CATEGORIES, 0.0)
    for e in events:
        cat, node = None, e
        while node is not None:
            c = torch_category(node.name)
            if c is not None:
                cat = c                    # keep walking: the outermost named caller wins
            node = node.cpu_parent
        out[cat or "other"] += e.self_cpu_time_total
    return out


def torch_profile(torch, step, steps: int) -> dict:
    """ms/step of torch's step by category, from torch.profiler's self CPU times (the profiler
    adds its own overhead, so read these as shares, next to the unprofiled step time)."""
    from torch.profiler import ProfilerActivity, profile
    step()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            step()
    us = categorize_profile(prof.events())
    out = {c: t / 1e3 / steps for c, t in us.items()}
    top = sorted(((e.self_cpu_time_total / 1e3 / steps, e.key, e.count / steps)
                  for e in prof.key_averages()), reverse=True)
    return {"ms_per_step": out, "profiled_step_ms": sum(out.values()),
            "top_ops": [{"op": k, "ms": ms, "calls": c} for ms, k, c in top[:15]]}


# --------------------------------------------------------------------------- timing
def _timer(kind: str, fn, sync=None):
    """() -> seconds for one call: CUDA events on a GPU, perf_counter on the CPU."""
    if kind == "cupy":
        import cupy

        def run():
            a, b = cupy.cuda.Event(), cupy.cuda.Event()
            a.record()
            fn()
            b.record()
            b.synchronize()
            return cupy.cuda.get_elapsed_time(a, b) * 1e-3
        return run
    if kind == "torch.cuda":
        import torch

        def run():
            a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            a.record()
            fn()
            b.record()
            b.synchronize()
            return a.elapsed_time(b) * 1e-3
        return run

    def run():
        t0 = time.perf_counter()
        fn()
        if sync:
            sync()
        return time.perf_counter() - t0
    return run


def interleaved(timers: dict, steps: int, warmup: int) -> dict:
    """Round-robin, back to back: no pause between the calls (unlike _common.time_interleaved);
    OMP_WAIT_POLICY=PASSIVE, set for both OpenMP runtimes above, is what keeps torch's workers
    from spinning into tensorgan's step, and a step (~170 ms) dwarfs OpenBLAS's spin-down."""
    for _ in range(warmup):
        for t in timers.values():
            t()
    samples = {name: [] for name in timers}
    for _ in range(steps):
        for name, t in timers.items():
            samples[name].append(t())
    return samples


# --------------------------------------------------------------------------- memory probes
MEMORY_MIN_WARMUP = 3       # memory probe: untimed steps before the first RSS sample, at least
SLOPE_MIN_STEPS = 500       # no per-1000-steps slope from a shorter run: RSS noise would be the slope


def memory_growth(trace: list, steps: int) -> dict:
    """Steady-state growth from an RSS trace [(step, bytes), ...] sampled after warm-up (step 0 =
    right after it) up to ``steps``.  RSS moves by tens of MiB between steps (malloc giving
    memory back and taking it again; torch's step swings +-40 MiB), so no single sample stands for
    a level:

    * ``growth``: median RSS of the last quarter of the run minus median of the first quarter;
    * ``band_min`` / ``band_max``: the range of RSS over the second half (the noise to read it by);
    * ``growth_per_1000_steps``: a line fitted over the second half, scaled to 1000 steps -- only
      for runs of at least SLOPE_MIN_STEPS steps (None otherwise: extrapolating a few dozen noisy
      samples by 1000 steps says nothing), with ``slope_note`` saying why it is absent."""
    first = [b for i, b in trace if i <= steps / 4]
    last = [b for i, b in trace if i >= 3 * steps / 4]
    half = [(i, b) for i, b in trace if i >= steps / 2]
    out = {"growth": float(np.median(last) - np.median(first)),
           "first_quarter_median": float(np.median(first)), "last_quarter_median": float(np.median(last)),
           "band_min": float(min(b for _, b in half)), "band_max": float(max(b for _, b in half)),
           "growth_per_1000_steps": None, "slope_note": None}
    if steps < SLOPE_MIN_STEPS:
        out["slope_note"] = f"not fitted: {steps} steps < {SLOPE_MIN_STEPS}"
    elif len(half) < 2:
        out["slope_note"] = "not fitted: under two samples in the second half"
    else:
        slope = np.polyfit([i for i, _ in half], [b for _, b in half], 1)[0]
        out["growth_per_1000_steps"] = float(slope) * 1000
    return out


def memory_probe(framework: str, batch: int, steps: int, warmup: int) -> dict:
    """Run in a fresh subprocess: RSS after imports, after warm-up, along ``steps`` steps; peak.
    The warm-up is at least MEMORY_MIN_WARMUP steps whatever ``warmup`` says: the first steps
    allocate the optimizer state and the kernels' scratch buffers, which is not growth."""
    warmup_requested, warmup = warmup, max(warmup, MEMORY_MIN_WARMUP)
    if framework == "tensorgan":
        from tensorgan.backend import get_device
        get_device("cpu").kernels  # kernel modules (and Numba's cached code) are part of the baseline
        rss_import = rss_bytes()
        trainer = make_trainer(batch)
        real = real_batch(batch)
        step = lambda: trainer.train_step(real)  # noqa: E731
    else:
        import torch
        import numba
        torch.set_num_threads(numba.get_num_threads())
        rss_import = rss_bytes()
        G, D, og, od = build_torch(torch)
        real = torch.as_tensor(real_batch(batch))
        step = torch_step_fn(torch, G, D, og, od, real, batch)
    for _ in range(warmup):
        step()
    rss_warm = rss_bytes()
    every = max(1, steps // 200)   # reading /proc/self/statm costs microseconds: sample densely
    trace = [(0, rss_warm)]
    t0 = time.perf_counter()
    for i in range(1, steps + 1):
        step()
        if i % every == 0 or i == steps:
            trace.append((i, rss_bytes()))
    seconds = time.perf_counter() - t0
    peak = max_rss_bytes()
    return {"framework": framework, "steps": steps, "warmup": warmup,
            "warmup_requested": warmup_requested, "rss_import": rss_import,
            "rss_after_warmup": rss_warm, "rss_end": trace[-1][1], "peak_rss": peak,
            "working_set": peak - rss_import, **memory_growth(trace, steps), "rss_trace": trace,
            "seconds_per_step": seconds / steps}


def run_memory_probe(framework: str, batch: int, steps: int, warmup: int) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.train_step", "--memory-probe", framework,
           "--batch", str(batch), "--memory-steps", str(steps), "--warmup", str(warmup)]
    if MALLOC["kept"]:
        cmd.append("--keep-freed-memory")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=root)
    if proc.returncode != 0:
        return {"framework": framework, "error": proc.stderr.strip().splitlines()[-1:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- driver
MALLOC = {"kept": False}     # whether this process runs with tensorgan.keep_freed_memory()


def _malloc_note() -> str:
    if MALLOC["kept"]:
        return "malloc keeps freed memory (tensorgan.keep_freed_memory, both frameworks)"
    env = [k for k in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_") if k in os.environ]
    return f"malloc tuned by the environment ({', '.join(env)})" if env else "malloc as the C library sets it"


def _gpu():
    """(tensorgan device name, torch device name, reason)."""
    from tensorgan import backend
    ok, why = backend.cuda_status()
    if ok and not backend.simulator_enabled():
        return "cuda", "cuda", why
    return "cpu", "cpu", why


TORCH_NOTE = {"note": None}    # why torch is absent, once _load_torch found it so


def _load_torch():
    if os.environ.get("TENSORGAN_BENCH_NO_TORCH"):
        TORCH_NOTE["note"] = torch_missing_note(None, "TENSORGAN_BENCH_NO_TORCH is set")
        return None
    try:
        import torch
    except ImportError as e:
        TORCH_NOTE["note"] = torch_missing_note(e)
        return None
    return torch


def host_info() -> dict:
    """The JSON's ``machine`` block as far as it does not depend on the timed run: versions,
    thread counts, the OpenMP wait policy, malloc's mode and the commit."""
    info = machine_info()
    info["openblas_threads"] = openblas_threads()
    info["omp_wait_policy"] = os.environ.get("OMP_WAIT_POLICY")  # both frameworks' OpenMP runtimes
    info["malloc"] = _malloc_note()
    info["git"] = git_state()
    return info


def run(args) -> dict:
    import numba
    threads = numba.get_num_threads()
    torch = None if args.no_torch else _load_torch()
    tg_dev, th_dev, why = _gpu()
    if tg_dev == "cuda" and torch is not None and not torch.cuda.is_available():
        torch = None
    info = host_info()
    info["gpu"] = why if tg_dev == "cuda" else f"no GPU present ({why}); timing the CPU"
    if torch is not None:
        torch.set_num_threads(threads)
        info["torch"], info["torch_threads"] = torch.__version__, torch.get_num_threads()
        if th_dev == "cuda":
            info["torch_cuda_settings"] = torch_cuda_strict_fp32(torch)
    else:
        info["torch"] = info["torch_threads"] = None
        info["torch_note"] = (torch_missing_note(None, "--no-torch") if args.no_torch
                              else TORCH_NOTE["note"] or "torch has no CUDA device: tensorgan timed alone")
    measure_peak = sgemm_peak_gpu if tg_dev == "cuda" else sgemm_peak   # the floor on that device
    peaks = [measure_peak()]

    trainer = make_trainer(args.batch, tg_dev)
    real = real_batch(args.batch)
    real_dev = trainer.device.xp.asarray(real)
    flops = step_flops(trainer.G, trainer.D, args.batch)
    timers = {"tensorgan": _timer("cupy" if tg_dev == "cuda" else "cpu",
                                  lambda: trainer.train_step(real_dev))}
    parity = None
    if torch is not None:
        parity = parity_check(torch, args.batch, tg_dev, th_dev)
        G, D, og, od = build_torch(torch, th_dev)
        copy_weights_from_tensorgan(torch, trainer, G, D)
        step = torch_step_fn(torch, G, D, og, od, torch.as_tensor(real, device=th_dev), args.batch, th_dev)
        timers["torch"] = _timer("torch.cuda" if th_dev == "cuda" else "cpu", step)
    samples = interleaved(timers, args.steps, args.warmup)
    peaks.append(measure_peak())
    peak = max(peaks, key=lambda p: p["gflops"])
    results = {}
    for name, s in samples.items():
        st = stats_ms(s)
        st["images_per_s"] = args.batch / (st["median_ms"] * 1e-3)
        st["gflops"] = flops["total"] / (st["median_ms"] * 1e-3) / 1e9
        st["over_floor"] = st["median_ms"] * 1e-3 / (flops["total"] / (peak["gflops"] * 1e9))
        results[name] = st
    out = {"batch": args.batch, "dtype": "float32", "steps": args.steps, "warmup": args.warmup,
           "device": tg_dev, "machine": info, "sgemm_peak": peak, "sgemm_peaks_measured": peaks,
           "flops": flops, "floor_ms": flops["total"] / (peak["gflops"] * 1e9) * 1e3,
           "results": results, "parity": parity}
    if "torch" in results:
        out["tensorgan_over_torch"] = results["tensorgan"]["median_ms"] / results["torch"]["median_ms"]
        # The same ratio per interleaved round (each pair ran back to back under the same load).
        per_round = np.array(samples["tensorgan"]) / np.array(samples["torch"])
        out["ratio_per_round"] = {"median": float(np.median(per_round)),
                                  "p10": float(np.percentile(per_round, 10)),
                                  "p90": float(np.percentile(per_round, 90))}
    if not args.no_overhead:
        out["breakdown"] = breakdown(trainer, real_dev, args.steps)
        out["categories"] = {"tensorgan": tensorgan_categories(out["breakdown"])}
        if "torch" in timers and th_dev == "cpu":
            prof = torch_profile(torch, step, max(3, args.steps // 2))
            out["torch_profile"] = prof
            out["categories"]["torch"] = prof["ms_per_step"]
    if not args.no_memory:
        out["memory"] = {fw: run_memory_probe(fw, args.batch, args.memory_steps, args.warmup)
                         for fw in (["tensorgan"] + (["torch"] if torch is not None else []))}
    return out


def _mib(b):
    return f"{b / 2 ** 20:.0f}"


def format_report(r: dict) -> str:
    m, pk, fl = r["machine"], r["sgemm_peak"], r["flops"]
    lines = [f"train step, batch {r['batch']}, float32, device {r['device']}; "
             f"{m['cpu_count']} CPUs, numba {m.get('numba')} ({m.get('numba_threads')} threads, "
             f"{m.get('numba_threading_layer')} layer), OpenBLAS threads {m.get('openblas_threads')}, "
             f"OMP_WAIT_POLICY={m.get('omp_wait_policy')}, {m.get('malloc')}, "
             + (f"torch {m['torch']} ({m['torch_threads']} threads)" if m["torch"] else
                m.get("torch_note") or "torch not used") + f"; {m['gpu']}",
             f"code: commit {m['git'].get('commit') or '?'}"
             + (f" + uncommitted changes in {', '.join(m['git']['dirty'])}" if m["git"].get("dirty") else
                " (clean)"),
             f"FLOPs per step (GEMM-shaped passes): {fl['total'] / 1e9:.2f} GFLOP "
             f"(G {fl['generator_in_step'] / 1e9:.2f}, D {fl['discriminator_in_step'] / 1e9:.2f}); "
             f"SGEMM peak {pk['gflops']:.1f} GFLOP/s ({pk.get('via', 'NumPy')} {pk['n']}^3, best of "
             f"{', '.join('%.0f' % p['gflops'] for p in r['sgemm_peaks_measured'])}) "
             f"-> floor {r['floor_ms']:.0f} ms",
             "",
             f"{'':10s} {'median ms':>10s} {'p10-p90 ms':>14s} {'min-max ms':>14s} {'img/s':>7s} "
             f"{'GFLOP/s':>8s} {'x floor':>8s}"]
    for name, s in r["results"].items():
        lines.append(f"{name:10s} {s['median_ms']:10.1f} {s['p10_ms']:6.0f}-{s['p90_ms']:<7.0f} "
                     f"{s['min_ms']:6.0f}-{s['max_ms']:<7.0f} {s['images_per_s']:7.0f} {s['gflops']:8.1f} "
                     f"{s['over_floor']:8.2f}")
    if "tensorgan_over_torch" in r:
        pr = r["ratio_per_round"]
        lines.append(f"tensorgan / torch: {r['tensorgan_over_torch']:.2f} (ratio of medians); per "
                     f"interleaved round: median {pr['median']:.2f}, p10-p90 {pr['p10']:.2f}-{pr['p90']:.2f}")
    if r.get("parity"):
        p = r["parity"]
        t = p["tol"]
        lines.append(f"parity (same weights, batch, z; 2 steps): {'ok' if p['ok'] else 'MISMATCH'} -- "
                     f"max |loss/D diff| {p['max_abs_diff']:.1e} (tol {t['scalar']:.0e}); "
                     f"{len(p['skipped'])} biases feeding a batch norm not compared")
        for i in (1, 2):
            st = p[f"step{i}"]
            lines.append(f"  after step {i}: Adam moments max |tg - torch| / max |tg| {st['max_moments']:.1e} "
                         f"({st['worst_moments']}, tol {t['moments'][i]:.2g}); parameters ||tg - torch|| / "
                         f"||update|| {st['max_param']:.1e} ({st['worst_param']}, tol {t['param'][i]:.2g})")
    b = r.get("breakdown")
    if b:
        lines += ["", f"where tensorgan's step goes (median of {b['steps']} instrumented steps, ms):",
                  f"  step {1e3 * b['step']:.1f} = kernels {1e3 * b['kernels']:.1f} + other op array work "
                  f"{1e3 * b['ops_outside_kernels']:.1f} + Adam {1e3 * b['optimizer']:.1f} + engine Python "
                  f"{1e3 * b['engine']:.1f}",
                  f"  engine adds {100 * b['engine_adds']:.1f}% to the kernels (step/kernels - 1: everything "
                  f"outside the layer kernels -- the Linear GEMMs, losses, Adam and the engine's Python); "
                  f"outside kernels {100 * b['non_kernel_share']:.1f}% of the step; engine Python alone "
                  f"{100 * b['engine_share']:.1f}%"]
        if b.get("split_calls"):
            lines.append(f"  thread hand-over (inside the kernels): {b['handover_ms']:.1f} ms over "
                         f"{b['split_calls']} split calls (each call's wall time - its parts' mean "
                         f"busy time)")
        for name, k in sorted(b["per_kernel"].items(), key=lambda kv: -kv[1]["ms"]):
            lines.append(f"    {name:32s} {k['ms']:8.1f} ms  ({k['calls']} calls)")
    if b and b.get("per_kernel_shape"):
        lines.append("  slowest kernel calls (ms/step, summed over calls with the same argument shapes):")
        for e in b["per_kernel_shape"][:8]:
            lines.append(f"    {e['kernel']:30s} {e['args']:34s} {e['ms']:8.1f}")
    cats = r.get("categories")
    if cats and "torch" in cats:
        tg_c, th_c = cats["tensorgan"], cats["torch"]
        lines += ["", "by category, ms/step (tensorgan: each instrumented step split into categories, "
                  "then each category's median; 'other' = that step's rest; torch: profiler self CPU "
                  "time, mean per step -- both include their instrumentation; compare within a row):",
                  f"  {'':14s} {'tensorgan':>10s} {'torch':>9s} {'ratio':>6s}"]
        for c in CATEGORIES:
            ratio = tg_c[c] / th_c[c] if th_c[c] > 0.05 else float("nan")
            lines.append(f"  {c:14s} {tg_c[c]:10.1f} {th_c[c]:9.1f} {ratio:6.2f}")
        lines.append(f"  {'total':14s} {sum(tg_c.values()):10.1f} {sum(th_c.values()):9.1f}")
        if b:
            lines.append(f"  (tensorgan's category medians add to {sum(tg_c.values()):.1f} ms; its median "
                         f"instrumented step is {1e3 * b['step']:.1f} ms: medians do not add, each step's "
                         f"categories do)")
    if r.get("memory"):
        lines += ["", format_memory(r["memory"])]
    return "\n".join(lines)


def format_memory(mem: dict) -> str:
    """The memory probes' table: growth = median RSS of the last quarter of the steps minus the
    first quarter's; the second half's min-max RSS beside it; a per-1000-steps slope only from
    runs of SLOPE_MIN_STEPS steps or more."""
    warm = sorted({s["warmup"] for s in mem.values() if "warmup" in s})
    asked = sorted({s.get("warmup_requested", s.get("warmup")) for s in mem.values() if "warmup" in s})
    lines = ["memory (each framework in its own subprocess; MiB; after "
             + "/".join(map(str, warm)) + " warm-up steps"
             + (f" (asked {'/'.join(map(str, asked))}; the probe takes at least {MEMORY_MIN_WARMUP})"
                if warm != asked else "")
             + "; growth = median RSS of the last quarter of the steps - median of the first quarter; "
             "band = min-max RSS over the second half):",
             f"  {'':10s} {'after import':>12s} {'peak RSS':>9s} {'peak-import':>11s} "
             f"{'growth':>8s} {'2nd-half band':>15s} {'per 1k steps':>12s} {'steps':>6s}"]
    notes = set()
    for fw, s in mem.items():
        if "error" in s:
            lines.append(f"  {fw:10s} probe failed: {s['error']}")
            continue
        band = f"{s['band_min'] / 2 ** 20:.1f}-{s['band_max'] / 2 ** 20:.1f}"
        slope = s.get("growth_per_1000_steps")
        if slope is None:
            notes.add(s.get("slope_note") or "not fitted")
        lines.append(f"  {fw:10s} {_mib(s['rss_import']):>12s} {_mib(s['peak_rss']):>9s} "
                     f"{_mib(s['working_set']):>11s} {s['growth'] / 2 ** 20:8.1f} {band:>15s} "
                     f"{'-' if slope is None else f'{slope / 2 ** 20:.1f}':>12s} {s['steps']:6d}")
    if notes:
        lines.append(f"  per 1k steps: {'; '.join(sorted(notes))} -- a slope from a short run of "
                     f"noisy RSS would be noise scaled up (use --memory-steps 1000)")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.train_step",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--batch", type=int_at_least(2, " (batch norm in training needs more than one "
                                                     "value per channel)"), default=64)
    ap.add_argument("--steps", type=int_at_least(1), default=20, help="timed interleaved rounds (default 20)")
    ap.add_argument("--warmup", type=int_at_least(0), default=3,
                    help=f"untimed rounds first (default 3; the memory probes take at least "
                         f"{MEMORY_MIN_WARMUP})")
    ap.add_argument("--memory-steps", type=int_at_least(4, " (growth compares the first and last "
                                                            "quarters)"), default=30,
                    help=f"steps per memory probe (use 1000 for the steady-state check; a per-1000-steps "
                         f"slope needs {SLOPE_MIN_STEPS})")
    ap.add_argument("--json", nargs="?", const="-", default=None, type=json_dest, metavar="PATH",
                    help="write the results as JSON to PATH (or stdout with no PATH)")
    ap.add_argument("--no-torch", action="store_true", help="time tensorgan alone")
    ap.add_argument("--no-memory", action="store_true", help="skip the memory probes")
    ap.add_argument("--no-overhead", action="store_true",
                    help="skip the breakdown of where the step's time goes")
    ap.add_argument("--memory-only", action="store_true",
                    help="only the memory probes (e.g. --memory-only --memory-steps 1000)")
    ap.add_argument("--keep-freed-memory", action="store_true",
                    help="call tensorgan.keep_freed_memory() first: malloc keeps freed memory for "
                         "reuse (process-wide: PyTorch's side runs with it too), as `tensorgan train` does")
    ap.add_argument("--memory-probe", choices=("tensorgan", "torch"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.keep_freed_memory:
        from tensorgan import keep_freed_memory
        MALLOC["kept"] = keep_freed_memory()
    if args.memory_probe:
        print(json.dumps(memory_probe(args.memory_probe, args.batch, args.memory_steps, args.warmup)))
        return 0
    out = sys.stderr if args.json == "-" else sys.stdout
    if args.memory_only:
        torch_ok = not args.no_torch and _load_torch() is not None
        frameworks = ["tensorgan"] + (["torch"] if torch_ok else [])
        result = {"batch": args.batch, "machine": host_info(),
                  "memory": {fw: run_memory_probe(fw, args.batch, args.memory_steps, args.warmup)
                             for fw in frameworks}}
        result["machine"]["torch"] = _load_torch().__version__ if torch_ok else None
        if not torch_ok:
            result["torch_note"] = (torch_missing_note(None, "--no-torch") if args.no_torch
                                    else TORCH_NOTE["note"])
            result["machine"]["torch_note"] = result["torch_note"]
            print(result["torch_note"], file=out)
        print(format_memory(result["memory"]), file=out)
    else:
        result = run(args)
        print(format_report(result), file=out)
    if args.json:
        write_json(result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
