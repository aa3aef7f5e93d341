"""Train-step benchmark: one full GAN training step of the default MNIST DCGAN, tensorgan vs PyTorch.

    python -m benchmarks.train_step [--batch 64] [--steps 20] [--warmup 3] [--json [PATH]]
                                    [--memory-steps 30] [--no-torch] [--no-memory] [--no-overhead]

One step is what ``tensorgan.train.Trainer.train_step`` does -- and the tensorgan side *calls* it, so
the benchmark times the real thing: draw z, ``fake = G(z)``; D step on real + ``fake.detach()``
(BCE-with-logits losses, backward, Adam); G step through the (frozen) updated D (non-saturating loss,
backward, Adam); the finiteness checks on losses and gradients and the D(x)/D(G(z)) read-backs.
The PyTorch side is an identical model built here (same layers, DCGAN N(0, 0.02) init -- the
tensorgan weights are copied in, and one step is checked to give the same losses -- same Adam(lr,
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
  "engine adds" = step / kernels - 1, the issue's measure; and, on the CPU, the thread hand-over
  inside the kernels: each split call's wall time minus its threads' mean busy time;
* memory: each framework's probe runs in its own subprocess (peak RSS is per process, and a
  process that imported both would charge one's libraries to the other). Reported per framework:
  RSS after the imports, peak RSS (VmHWM) and their difference (the model + step working set),
  and the steady-state growth of RSS (/proc/self/statm) from after warm-up to the end of
  ``--memory-steps`` steps, with a per-1000-steps slope fitted over the second half of the run.

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

from ._common import (machine_info, sgemm_peak, sgemm_peak_gpu, stats_ms,  # noqa: E402
                      torch_cuda_strict_fp32, write_json)

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


def parity_check(torch, batch: int, device: str | None, torch_device: str) -> dict:
    """One step of each from the same weights, the same real batch and the same z: the losses
    must agree (float32 rounding only), which shows the two steps compute the same thing."""
    from tensorgan.random import Generator
    trainer = make_trainer(batch, device)
    G, D, og, od = build_torch(torch, torch_device)
    copy_weights_from_tensorgan(torch, trainer, G, D)
    real = real_batch(batch)
    noise = Generator()
    noise.set_state(trainer.rng["noise"].get_state())
    z = noise.normal((batch, LATENT))  # the z the trainer is about to draw
    step = torch_step_fn(torch, G, D, og, od, torch.as_tensor(real, device=torch_device), batch,
                         torch_device)
    out = {}
    for i in range(2):  # the second step also checks both Adam updates
        a = trainer.train_step(real)
        b = step(torch.as_tensor(z, device=torch_device))
        z = noise.normal((batch, LATENT))
        out[f"step{i + 1}"] = {k: (a[k], b[k]) for k in ("loss_d", "loss_g", "d_x", "d_g_z")}
    worst = max(abs(x - y) for s in out.values() for x, y in s.values())
    out["max_abs_diff"] = worst
    out["ok"] = worst < 1e-3
    return out


CATEGORIES = ("conv forward", "conv backward", "batch norm", "leaky relu", "linear", "optimizer", "other")


def tensorgan_categories(b: dict) -> dict:
    """The breakdown's per-kernel times (ms/step) grouped like torch_profile's categories."""
    out = dict.fromkeys(CATEGORIES, 0.0)
    for name, k in b["per_kernel"].items():
        # batch_norm(_backward), and the fused batch_norm_leaky_relu(_backward) that runs the
        # DCGAN's every BatchNorm + LeakyReLU pair: batch norm.  "leaky relu" then holds only the
        # unfused activations (the discriminator's first layer); torch's are all there.
        if name.startswith("batch_norm"):
            out["batch norm"] += k["ms"]
        elif name.startswith("leaky_relu"):
            out["leaky relu"] += k["ms"]
        elif "grad" in name or name.endswith("_backward"):   # conv*_grad_*, conv*_backward
            out["conv backward"] += k["ms"]
        else:
            out["conv forward"] += k["ms"]
    out["optimizer"] = 1e3 * b["optimizer"]
    out["linear"] = b.get("linear_ms", 0.0)
    out["other"] = 1e3 * b["step"] - sum(out.values())
    return out


def torch_profile(torch, step, steps: int) -> dict:
    """ms/step of torch's step by category, from torch.profiler's self CPU times (the profiler
    adds its own overhead, so read these as shares, next to the unprofiled step time)."""
    from torch.profiler import ProfilerActivity, profile
    step()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            step()
    out = dict.fromkeys(CATEGORIES, 0.0)
    top = []
    adam_total = 0.0
    events = prof.key_averages()
    for e in events:
        ms = e.self_cpu_time_total / 1e3 / steps
        key = e.key
        if key.startswith("Optimizer.step#"):
            adam_total += e.cpu_time_total / 1e3 / steps
            continue
        if key.startswith("Optimizer.") or key.startswith("ProfilerStep"):
            continue
        top.append((ms, key, e.count / steps))
    # Self times of the ops called inside Optimizer.step are counted in 'optimizer', not by op.
    inside_opt = adam_total
    for ms, key, _ in top:
        k = key.lower()
        if "convolution_backward" in k:
            cat = "conv backward"
        elif "conv" in k:
            cat = "conv forward"
        elif "batch_norm" in k:
            cat = "batch norm"
        elif "leaky_relu" in k:
            cat = "leaky relu"
        elif k in ("aten::addmm", "aten::mm", "aten::linear", "aten::matmul"):
            cat = "linear"
        else:
            cat = "other"
        out[cat] += ms
    out["other"] -= inside_opt  # the optimizer's elementwise ops landed in 'other'
    out["optimizer"] = inside_opt
    top.sort(reverse=True)
    return {"ms_per_step": out, "profiled_step_ms": sum(ms for ms, _, _ in top),
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
    for _ in range(warmup):
        for t in timers.values():
            t()
    samples = {name: [] for name in timers}
    for _ in range(steps):
        for name, t in timers.items():
            samples[name].append(t())
    return samples


# --------------------------------------------------------------------------- memory probes
def memory_probe(framework: str, batch: int, steps: int, warmup: int) -> dict:
    """Run in a fresh subprocess: RSS after imports, after warm-up, along ``steps`` steps; peak."""
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
    every = max(1, steps // 20)
    trace = [(0, rss_warm)]
    t0 = time.perf_counter()
    for i in range(1, steps + 1):
        step()
        if i % every == 0 or i == steps:
            trace.append((i, rss_bytes()))
    seconds = time.perf_counter() - t0
    half = [p for p in trace if p[0] >= steps / 2]
    slope = float(np.polyfit([p[0] for p in half], [p[1] for p in half], 1)[0]) if len(half) >= 2 else 0.0
    return {"framework": framework, "steps": steps, "warmup": warmup, "rss_import": rss_import,
            "rss_after_warmup": rss_warm, "rss_end": trace[-1][1], "peak_rss": max_rss_bytes(),
            "working_set": max_rss_bytes() - rss_import, "growth": trace[-1][1] - rss_warm,
            "growth_per_1000_steps": slope * 1000, "rss_trace": trace,
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


def _load_torch():
    if os.environ.get("TENSORGAN_BENCH_NO_TORCH"):
        return None
    try:
        import torch
    except ImportError:
        return None
    return torch


def run(args) -> dict:
    import numba
    threads = numba.get_num_threads()
    torch = None if args.no_torch else _load_torch()
    tg_dev, th_dev, why = _gpu()
    if tg_dev == "cuda" and torch is not None and not torch.cuda.is_available():
        torch = None
    info = machine_info()
    info["openblas_threads"] = openblas_threads()
    info["omp_wait_policy"] = os.environ.get("OMP_WAIT_POLICY")  # both frameworks' OpenMP runtimes
    info["malloc"] = _malloc_note()
    info["git"] = git_state()
    info["gpu"] = why if tg_dev == "cuda" else f"no GPU present ({why}); timing the CPU"
    if torch is not None:
        torch.set_num_threads(threads)
        info["torch"], info["torch_threads"] = torch.__version__, torch.get_num_threads()
        if th_dev == "cuda":
            info["torch_cuda_settings"] = torch_cuda_strict_fp32(torch)
    else:
        info["torch"] = info["torch_threads"] = None
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
                "torch not used (not installed or --no-torch)") + f"; {m['gpu']}",
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
        lines.append(f"parity (same weights, batch, z; 2 steps): max |loss/D diff| {p['max_abs_diff']:.1e} "
                     f"({'ok' if p['ok'] else 'MISMATCH'})")
    b = r.get("breakdown")
    if b:
        lines += ["", f"where tensorgan's step goes (median of {b['steps']} instrumented steps, ms):",
                  f"  step {1e3 * b['step']:.1f} = kernels {1e3 * b['kernels']:.1f} + other op array work "
                  f"{1e3 * b['ops_outside_kernels']:.1f} + Adam {1e3 * b['optimizer']:.1f} + engine Python "
                  f"{1e3 * b['engine']:.1f}",
                  f"  engine adds {100 * b['engine_adds']:.1f}% to the kernels (step/kernels - 1); outside "
                  f"kernels {100 * b['non_kernel_share']:.1f}% of the step; engine Python alone "
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
        lines += ["", "by category, ms/step (tensorgan: instrumented kernels; torch: profiler self CPU "
                  "time -- both include their instrumentation; compare within a row):",
                  f"  {'':14s} {'tensorgan':>10s} {'torch':>9s} {'ratio':>6s}"]
        for c in CATEGORIES:
            ratio = tg_c[c] / th_c[c] if th_c[c] > 0.05 else float("nan")
            lines.append(f"  {c:14s} {tg_c[c]:10.1f} {th_c[c]:9.1f} {ratio:6.2f}")
        lines.append(f"  {'total':14s} {sum(tg_c.values()):10.1f} {sum(th_c.values()):9.1f}")
    if r.get("memory"):
        lines += ["", format_memory(r["memory"])]
    return "\n".join(lines)


def format_memory(mem: dict) -> str:
    lines = ["memory (each framework in its own subprocess; MiB; growth = RSS after the last step "
             "- RSS after warm-up; slope fitted over the second half):",
             f"  {'':10s} {'after import':>12s} {'peak RSS':>9s} {'peak-import':>11s} "
             f"{'growth':>8s} {'per 1k steps':>12s} {'steps':>6s}"]
    for fw, s in mem.items():
        if "error" in s:
            lines.append(f"  {fw:10s} probe failed: {s['error']}")
            continue
        lines.append(f"  {fw:10s} {_mib(s['rss_import']):>12s} {_mib(s['peak_rss']):>9s} "
                     f"{_mib(s['working_set']):>11s} {s['growth'] / 2 ** 20:8.1f} "
                     f"{s['growth_per_1000_steps'] / 2 ** 20:12.1f} {s['steps']:6d}")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=20, help="timed interleaved rounds (default 20)")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--memory-steps", type=int, default=30,
                    help="steps per memory probe (use 1000 for the steady-state check)")
    ap.add_argument("--json", nargs="?", const="-", default=None,
                    help="write the results as JSON to PATH (or stdout with no PATH)")
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--no-memory", action="store_true")
    ap.add_argument("--no-overhead", action="store_true")
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
        frameworks = ["tensorgan"] + ([] if args.no_torch or _load_torch() is None else ["torch"])
        result = {"batch": args.batch, "memory": {fw: run_memory_probe(fw, args.batch, args.memory_steps,
                                                                        args.warmup) for fw in frameworks}}
        print(format_memory(result["memory"]), file=out)
    else:
        result = run(args)
        print(format_report(result), file=out)
    if args.json:
        write_json(result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
