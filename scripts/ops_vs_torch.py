"""Pooling, resizing and the activation / normalization ops, tensorgan beside PyTorch (CPU,
needs torch): the random differential checks behind the README's counts.

* pooling: random geometries (H, W 1-9; kernel 1-4, stride 1-4, padding up to kernel/2,
  dilation 1-3, ceil_mode, count_include_pad, divisor_override; adaptive sizes; 30% of inputs
  rounded to make ties) -- values, gradients and which calls are refused, within 1e-12 (float64).
  Where a dilated window lies wholly in the padding only the values (-inf) are compared: torch's
  backward writes outside the gradient there.
* resizing: random `F.interpolate` calls in every mode (1-3 spatial dims, sizes 1-12, scale
  factors 0.33-3, align_corners, recompute_scale_factor, float32 and float64) -- within 1e-12
  (float64) / 2e-6 (float32), gradients relative to (1 + their largest magnitude).  `area` with a
  factor giving an empty output is empty in both (torch's backward refuses it): shapes only,
  counted apart.
* activations and normalizations at fixed shapes, with edge values (0, +-20, +-30, +-1e3).
* ReduceLROnPlateau: 200 random configurations x 30 metrics (NaN among them), the same lrs;
  weight_norm on a Conv2d (dim 0, 1, None): output and g / v gradients within 1e-6 of torch's
  relative to (1 + their largest magnitude), float32.
* convolution options: random conv2d / conv_transpose2d calls (groups 1-3, kernel 1-3, dilation
  1-3, stride 1-2, padding 0-2 or 'same' / 'valid', output_padding up to max(stride, dilation)
  - 1) and the Conv1d / Conv2d / ConvTranspose1d layers with every padding_mode, weights copied
  -- values and the three gradients within 1e-12 (float64); calls torch refuses must be refused here too.
* class losses and torch forms: random cross_entropy / nll_loss calls on (C,), (N, C) and
  (N, C, d1, ..., dk) input (index or probability targets, weight, ignore_index, label_smoothing,
  every reduction), tensor ** tensor (zeros included), mse / l1 weight=, the conv layers'
  unbatched input and output_size -- values and gradients within 1e-12 (float64).
* integer dtypes: ~110 expressions (arithmetic, promotion, reductions, index results, bitwise,
  rounding division, factories) on random int64 / int32 / uint8 tensors and masks -- torch's
  dtype and values, and its refusals (but mean / std / norm of integers, float32 here).
* pool indices: max_pool2d's return_indices and max_unpool2d's values and gradients on random
  geometries with ties.
* reported, not failed: how many sizes (1-29 -> 1-49) torch's 1-D and 3-D nearest kernels round
  to another pixel than ours (its 2-D kernel, which ours follows, agrees on every size).

    python scripts/ops_vs_torch.py [--cases N]

Exits 1 on any mismatch.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))   # (run_path too)
from _torch_peer import require_torch  # noqa: E402

torch = require_torch(__file__)

import tensorgan as tg
import tensorgan.functional as F

TF = torch.nn.functional


def backward_both(yg, yt, rng, dtype):
    g = rng.standard_normal(yg.shape).astype(dtype)
    (yg * tg.tensor(g)).sum().backward()
    yt.backward(torch.tensor(g))


def pooling(cases: int, rng, seed: int) -> int:
    random.seed(seed)
    bad = 0
    for _ in range(cases):
        hw = (random.randint(1, 9), random.randint(1, 9))
        k = (random.randint(1, 4), random.randint(1, 4))
        s = (random.randint(1, 4), random.randint(1, 4))
        p = (random.randint(0, k[0] // 2), random.randint(0, k[1] // 2))
        d = (random.randint(1, 3), random.randint(1, 3))
        ceil, cip, div = random.random() < 0.5, random.random() < 0.5, random.choice([None, None, 3])
        out = (random.randint(1, 2 * hw[0]), random.randint(1, 2 * hw[1]))
        x = rng.standard_normal((2, 3) + hw)
        if random.random() < 0.3:
            x = np.round(x)
        calls = {
            "max": (lambda v: F.max_pool2d(v, k, s, p, d, ceil), lambda v: TF.max_pool2d(v, k, s, p, d, ceil)),
            "avg": (lambda v: F.avg_pool2d(v, k, s, p, ceil, cip, div),
                    lambda v: TF.avg_pool2d(v, k, s, p, ceil, cip, div)),
            "adaptive max": (lambda v: F.adaptive_max_pool2d(v, out), lambda v: TF.adaptive_max_pool2d(v, out)),
            "adaptive avg": (lambda v: F.adaptive_avg_pool2d(v, out), lambda v: TF.adaptive_avg_pool2d(v, out)),
        }
        for name, (ours, theirs) in calls.items():
            xg, xt = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
            try:
                yt = theirs(xt)
            except RuntimeError:
                yt = None
            try:
                yg = ours(xg)
            except tg.TensorganError:
                yg = None
            if (yt is None) != (yg is None) or (yg is not None and yg.shape != tuple(yt.shape)):
                bad += 1
                print(f"pooling {name} {hw} k{k} s{s} p{p} d{d} ceil={ceil}: refused by one only "
                      f"or shapes differ")
                continue
            if yg is None:
                continue
            if np.isinf(yg.numpy()).any():
                bad += not np.array_equal(yg.numpy(), yt.detach().numpy())
                continue
            backward_both(yg, yt, rng, np.float64)
            err = max(np.abs(yg.numpy() - yt.detach().numpy()).max(initial=0),
                      np.abs(xg.grad.numpy() - xt.grad.numpy()).max())
            if err > 1e-12:
                bad += 1
                print(f"pooling {name} {hw} k{k} s{s} p{p} d{d} ceil={ceil}: {err:.2e}")
    print(f"pooling: {cases} geometries x 4 calls, {bad} mismatches")
    return bad


def resizing(cases: int, rng, seed: int) -> int:
    random.seed(seed + 1)
    bad = empty_area = 0
    for _ in range(cases):
        mode = random.choice(["nearest", "nearest-exact", "linear", "bilinear", "trilinear", "area"])
        dims = {"linear": 1, "bilinear": 2, "trilinear": 3}.get(mode, random.randint(1, 2 if mode == "area" else 3))
        if mode.startswith("nearest"):
            dims = 2          # torch's 1-D/3-D nearest kernels round differently (README)
        spatial = tuple(random.randint(1, 7) for _ in range(dims))
        dtype = random.choice([np.float32, np.float64])
        x = rng.standard_normal((2, 2) + spatial).astype(dtype)
        corners = random.choice([None, True, False]) if mode in ("linear", "bilinear", "trilinear") else None
        if random.random() < 0.5:
            kw = dict(size=tuple(random.randint(1, 12) for _ in range(dims)))
        else:
            kw = dict(scale_factor=tuple(random.choice([0.5, 0.7, 1.0, 1.5, 2.0, 2.3, 3.0, 1 / 3])
                                         for _ in range(dims)))
            if random.random() < 0.3:
                kw["recompute_scale_factor"] = True
        xg, xt = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        try:
            yt = TF.interpolate(xt, mode=mode, align_corners=corners, **kw)
        except RuntimeError:
            yt = None
        try:
            yg = F.interpolate(xg, mode=mode, align_corners=corners, **kw)
        except tg.TensorganError:
            yg = None
        if yt is not None and mode == "area" and yt.numel() == 0:
            # empty in torch, whose backward then refuses: compare the shapes only
            empty_area += 1
            bad += yg is None or yg.shape != tuple(yt.shape)
            continue
        if (yg is None) != (yt is None):
            bad += 1
            print(f"resize {mode} {spatial} {kw}: refused by one only")
            continue
        if yg is None:
            continue
        if yg.shape != tuple(yt.shape):
            bad += 1
            print(f"resize {mode} {spatial} {kw}: shape {yg.shape} vs {tuple(yt.shape)}")
            continue
        backward_both(yg, yt, rng, dtype)
        ev = np.abs(yg.numpy() - yt.detach().numpy()).max(initial=0)
        scale = 1.0 + np.abs(xt.grad.numpy()).max()  # a gradient sums up to hundreds of terms
        eg = np.abs(xg.grad.numpy() - xt.grad.numpy()).max() / scale
        tol = 1e-12 if dtype == np.float64 else 2e-6
        if ev > tol or eg > tol:
            bad += 1
            print(f"resize {mode} {dtype.__name__} {spatial} {kw} corners={corners}: {ev:.1e} {eg:.1e}")
    print(f"resizing: {cases} calls, {bad} mismatches ({empty_area} empty `area` outputs, "
          f"compared by shape: torch's backward refuses them)")
    return bad


def elementwise(rng) -> int:
    edge = [0.0, -0.0, 20.0, -20.0, 1.0, -1.0, 30.0, 1e3, -1e3]
    w6, b6 = rng.standard_normal(6), rng.standard_normal(6)
    cases = {
        "softplus": (F.softplus, TF.softplus, (4, 5)),
        "softplus beta -1": (lambda v: F.softplus(v, -1.0), lambda v: TF.softplus(v, -1.0), (4, 5)),
        "gelu": (F.gelu, TF.gelu, (4, 5)),
        "gelu tanh": (lambda v: F.gelu(v, "tanh"), lambda v: TF.gelu(v, approximate="tanh"), (4, 5)),
        "silu": (F.silu, TF.silu, (4, 5)),
        "elu": (lambda v: F.elu(v, 0.5), lambda v: TF.elu(v, 0.5), (4, 5)),
        "hardtanh": (F.hardtanh, TF.hardtanh, (4, 5)),
        "normalize": (F.normalize, TF.normalize, (4, 5)),
        "layer_norm": (lambda v: F.layer_norm(v, (3, 4)), lambda v: TF.layer_norm(v, (3, 4)), (2, 3, 4)),
        "group_norm": (lambda v: F.group_norm(v, 3, tg.tensor(w6), tg.tensor(b6)),
                       lambda v: TF.group_norm(v, 3, torch.tensor(w6), torch.tensor(b6)), (2, 6, 3, 4)),
        "instance_norm": (F.instance_norm, TF.instance_norm, (2, 3, 4, 5)),
        "norm p=3 dim=1": (lambda v: v.norm(3, dim=1), lambda v: v.norm(3, dim=1), (4, 5)),
        "pixel_shuffle": (lambda v: F.pixel_shuffle(v, 2), lambda v: TF.pixel_shuffle(v, 2), (2, 8, 3, 4)),
    }
    bad = 0
    for name, (ours, theirs, shape) in cases.items():
        x = rng.standard_normal(shape) * 3
        if len(shape) == 2:
            x.ravel()[:len(edge)] = edge
        xg, xt = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        yg, yt = ours(xg), theirs(xt)
        backward_both(yg, yt, rng, np.float64)
        err = max(np.abs(yg.numpy() - yt.detach().numpy()).max(), np.abs(xg.grad.numpy() - xt.grad.numpy()).max())
        bad += err > 1e-12
        print(f"  {name:18s} max |difference| (values, gradients, float64) {err:.1e}")
    return bad


def plateau_and_weight_norm(rng, seed: int) -> int:
    random.seed(seed + 2)
    bad = 0
    for _ in range(200):
        kw = dict(mode=random.choice(["min", "max"]), factor=random.choice([0.1, 0.5]),
                  patience=random.randint(0, 3), threshold=random.choice([1e-4, 0.1, 0.5]),
                  threshold_mode=random.choice(["rel", "abs"]), cooldown=random.randint(0, 2),
                  min_lr=random.choice([0.0, 1e-3]))
        ours = tg.optim.lr_scheduler.ReduceLROnPlateau(tg.optim.SGD([tg.zeros(1, requires_grad=True)], lr=0.1), **kw)
        theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(
            torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1), **kw)
        for i in range(30):
            metric = random.choice([random.random(), 1.0, float("nan")]) if random.random() < 0.9 else i * 0.1
            ours.step(metric)
            theirs.step(metric)
            if abs(ours.get_last_lr()[0] - theirs.get_last_lr()[0]) > 1e-15:
                bad += 1
                print(f"ReduceLROnPlateau {kw}: step {i}: {ours.get_last_lr()} vs {theirs.get_last_lr()}")
                break
    print(f"ReduceLROnPlateau: 200 configurations x 30 metrics, {bad} mismatches")
    for dim in (0, 1, None):
        layer, twin = tg.nn.Conv2d(3, 4, 3), torch.nn.Conv2d(3, 4, 3)
        with torch.no_grad():
            twin.weight.copy_(torch.tensor(layer.weight.numpy()))
            twin.bias.copy_(torch.tensor(layer.bias.numpy()))
        tg.nn.utils.weight_norm(layer, dim=dim)
        torch.nn.utils.weight_norm(twin, dim=dim)
        x = rng.standard_normal((2, 3, 5, 5)).astype(np.float32)
        yg, yt = layer(tg.tensor(x)), twin(torch.tensor(x))
        g = rng.standard_normal(yg.shape).astype(np.float32)
        (yg * tg.tensor(g)).sum().backward()
        (yt * torch.tensor(g)).sum().backward()
        pairs = [(yg.numpy(), yt.detach().numpy()), (layer.weight_g.grad.numpy(), twin.weight_g.grad.numpy()),
                 (layer.weight_v.grad.numpy(), twin.weight_v.grad.numpy())]
        err = max(np.abs(a - b).max() / (1 + np.abs(b).max()) for a, b in pairs)
        bad += err > 1e-6
        print(f"  weight_norm dim={dim}: max |difference| / (1 + max |torch's|) {err:.1e}")
    return bad


def conv_options(cases: int, rng) -> int:
    def compare(ours, theirs, tensors_g, tensors_t):
        g = rng.standard_normal(theirs.shape)
        (ours * tg.tensor(g)).sum().backward()
        theirs.backward(torch.tensor(g))
        pairs = [(ours.numpy(), theirs.detach().numpy())] + [
            (a.grad.numpy(), b.grad.numpy()) for a, b in zip(tensors_g, tensors_t) if a is not None]
        return max(np.abs(a - b).max() / (1 + np.abs(b).max()) for a, b in pairs)

    bad = ran = skipped = 0
    for _ in range(cases):
        groups = int(rng.integers(1, 4))
        c_in, c_out = groups * int(rng.integers(1, 3)), groups * int(rng.integers(1, 3))
        k, dil, stride = (tuple(int(v) for v in rng.integers(1, 4, 2)) for _ in range(3))
        stride = tuple(min(s, 2) for s in stride)
        size = tuple(int(v) for v in rng.integers(1, 10, 2))
        transposed = rng.random() < 0.4
        padding = str(rng.choice(["same", "valid"])) if not transposed and rng.random() < 0.3 else \
            tuple(int(v) for v in rng.integers(0, 3, 2))
        if padding == "same":
            stride = (1, 1)
        x = rng.standard_normal((2, c_in) + size)
        w = rng.standard_normal(((c_in, c_out // groups) if transposed else (c_out, c_in // groups)) + k)
        b = rng.standard_normal(c_out) if rng.random() < 0.7 else None
        arrays_t = [None if a is None else torch.tensor(a, requires_grad=True) for a in (x, w, b)]
        arrays_g = [None if a is None else tg.tensor(a, dtype=tg.float64, requires_grad=True) for a in (x, w, b)]
        op = tuple(int(rng.integers(0, max(s, d))) for s, d in zip(stride, dil))
        calls = ((lambda lib, a: lib.conv_transpose2d(*a, stride, padding, op, groups, dil)) if transposed
                 else (lambda lib, a: lib.conv2d(*a, stride, padding, dil, groups)))
        try:
            yt = calls(TF, arrays_t)
        except RuntimeError:
            skipped += 1
            try:
                calls(F, arrays_g)
                bad += 1
                print(f"accepted here, refused by torch: groups {groups} k {k} dilation {dil} stride {stride} "
                      f"padding {padding} output_padding {op} size {size}")
            except tg.TensorganError:
                pass
            continue
        yg = calls(F, arrays_g)
        err = compare(yg, yt, arrays_g, arrays_t)
        ran += 1
        if err > 1e-12:
            bad += 1
            print(f"conv {'transposed ' if transposed else ''}groups {groups} k {k} dilation {dil} "
                  f"stride {stride} padding {padding} size {size}: {err:.1e}")
    layers = 0
    for mode in ("zeros", "reflect", "replicate", "circular"):
        for make in (lambda m, lib, dt: lib.Conv1d(4, 6, 3, 2, 1, 2, 2, True, m, dtype=dt),
                     lambda m, lib, dt: lib.Conv2d(4, 6, (3, 2), 1, "same", (1, 3), 2, True, m, dtype=dt),
                     lambda m, lib, dt: lib.ConvTranspose1d(4, 6, 3, 2, 1, 1, 2, True, 2, dtype=dt)):
            if "Transpose" in repr(make("zeros", torch.nn, None)) and mode != "zeros":
                continue
            theirs, ours = make(mode, torch.nn, torch.float64), make(mode, tg.nn, tg.float64)
            ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
            x = rng.standard_normal((2, 4) + (9,) * (ours.weight.ndim - 2))
            xg, xt = tg.tensor(x, dtype=tg.float64, requires_grad=True), torch.tensor(x, requires_grad=True)
            err = compare(ours(xg), theirs(xt), [xg, ours.weight, ours.bias], [xt, theirs.weight, theirs.bias])
            layers += 1
            if err > 1e-12 or repr(ours) != repr(theirs):
                bad += 1
                print(f"{theirs!r} vs {ours!r}: {err:.1e}")
    print(f"convolution options: {ran} random calls ({skipped} refused by torch and here), {layers} layers "
          f"with padding modes: {bad} mismatches")
    return bad


def class_losses_and_forms(cases: int, rng) -> int:
    """cross_entropy / nll_loss on (C,), (N, C) and (N, C, d1, ..., dk) input (index and
    probability targets, weight / ignore_index / label_smoothing, every reduction), tensor **
    tensor, mse / l1 weight=, and the conv layers' unbatched input and output_size."""
    bad = refused = 0

    def differ(yg, yt, leaves_g, leaves_t):
        if yg.shape != tuple(yt.shape):
            return np.inf
        if yt.numel() and yt.requires_grad:
            backward_both(yg, yt, rng, np.float64)
        pairs = [(yg.numpy(), yt.detach().numpy())] + [
            (a.grad.numpy(), b.grad.numpy()) for a, b in zip(leaves_g, leaves_t) if b.grad is not None]
        return max(gap(a, b) for a, b in pairs)

    def gap(a, b):       # relative to (1 + the largest magnitude); NaN and inf must sit in the same places
        same = (a == b) | (np.isnan(a) & np.isnan(b))
        if same.all():
            return 0.0
        if not np.isfinite(a[~same]).all() or not np.isfinite(b[~same]).all():
            return np.inf
        return np.abs(a - b)[~same].max() / (1 + np.abs(b[np.isfinite(b)]).max())

    for _ in range(cases):
        rank = int(rng.integers(1, 5))
        c = int(rng.integers(1, 5))
        shape = (c,) if rank == 1 else (int(rng.integers(0, 4)), c) + tuple(int(v) for v in rng.integers(1, 4, rank - 2))
        positions = () if rank == 1 else (shape[0],) + shape[2:]
        probabilities = rng.random() < 0.3
        fn = "cross_entropy" if probabilities or rng.random() < 0.6 else "nll_loss"
        options = {"reduction": str(rng.choice(["mean", "sum", "none"]))}
        if rng.random() < 0.4:
            options["weight"] = rng.uniform(0.5, 2.0, c)
        if not probabilities and rng.random() < 0.3:
            options["ignore_index"] = int(rng.integers(0, c))
        if fn == "cross_entropy" and rng.random() < 0.3:
            options["label_smoothing"] = float(rng.uniform(0, 1))
        x = rng.standard_normal(shape)
        target = rng.uniform(0, 1, shape) if probabilities else rng.integers(0, c, positions)
        xg, xt = tg.tensor(x, dtype=tg.float64, requires_grad=True), torch.tensor(x, requires_grad=True)
        weight = options.pop("weight", None)
        kw_g = dict(options, weight=None if weight is None else tg.tensor(weight, dtype=tg.float64))
        kw_t = dict(options, weight=None if weight is None else torch.tensor(weight))
        try:
            yt = getattr(TF, fn)(xt, torch.tensor(target), **kw_t)
        except (RuntimeError, ValueError, IndexError):
            refused += 1
            try:
                getattr(F, fn)(xg, tg.tensor(target, dtype=tg.float64) if probabilities else target, **kw_g)
                bad += 1
                print(f"{fn} {shape} {options}: accepted here, refused by torch")
            except tg.TensorganError:
                pass
            continue
        yg = getattr(F, fn)(xg, tg.tensor(target, dtype=tg.float64) if probabilities else target, **kw_g)
        err = differ(yg, yt, [xg], [xt])
        if err > 1e-12:
            bad += 1
            print(f"{fn} {shape} {options} probabilities={probabilities}: {err:.1e}")
    base, exponent = rng.uniform(-2, 2, (3, 4)), rng.uniform(-2, 2, (4,))
    base[0, :2], exponent[:2] = 0.0, (0.0, 2.0)
    leaves_g = [tg.tensor(a, dtype=tg.float64, requires_grad=True) for a in (base, exponent)]
    leaves_t = [torch.tensor(a, requires_grad=True) for a in (base, exponent)]
    checks = {"tensor ** tensor": (leaves_g[0] ** leaves_g[1], leaves_t[0] ** leaves_t[1])}
    for name in ("mse_loss", "l1_loss"):
        a, b, w = (rng.standard_normal((3, 4)) for _ in range(3))
        checks[f"{name} weight="] = (getattr(F, name)(tg.tensor(a, dtype=tg.float64), tg.tensor(b, dtype=tg.float64),
                                                      weight=tg.tensor(np.abs(w), dtype=tg.float64)),
                                     getattr(TF, name)(torch.tensor(a), torch.tensor(b), weight=torch.tensor(np.abs(w))))
    for name, (yg, yt) in checks.items():
        err = differ(yg, yt, leaves_g if name.startswith("tensor") else [], leaves_t if name.startswith("tensor") else [])
        bad += err > 1e-12
        print(f"  {name:18s} max |difference| (values, gradients, float64) {err:.1e}")
    for layer, size, out in (("Conv2d", (3, 7, 6), None), ("ConvTranspose2d", (3, 5, 4), (4, 12, 10)),
                             ("Conv1d", (3, 9), None), ("ConvTranspose1d", (2, 3, 6), (14,))):
        theirs = getattr(torch.nn, layer)(3, 4, 3, stride=1 if out is None else 2, dtype=torch.float64)
        ours = getattr(tg.nn, layer)(3, 4, 3, stride=1 if out is None else 2, dtype=tg.float64)
        ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
        x = rng.standard_normal(size)
        xg, xt = tg.tensor(x, dtype=tg.float64, requires_grad=True), torch.tensor(x, requires_grad=True)
        yg = ours(xg) if out is None else ours(xg, output_size=out)
        yt = theirs(xt) if out is None else theirs(xt, output_size=list(out))
        err = differ(yg, yt, [xg, ours.weight], [xt, theirs.weight])
        bad += err > 1e-12
        print(f"  {layer:15s} input {size}{' output_size ' + str(out) if out else ''}: {err:.1e}")
    print(f"class losses: {cases} random calls ({refused} refused by torch and here); torch forms: "
          f"{bad} mismatches")
    return bad


def integer_dtypes(cases: int, rng) -> int:
    """Integer tensors: each expression on random int64 / int32 / uint8 tensors, masks and floats
    gives torch's dtype and values (floats within 1e-6 relative: libm), and fails where torch's
    fails -- but for the reductions tensorgan computes in float32 where torch refuses."""
    lax = {"a.mean()", "a.std()", "a.norm()"}
    exprs = [
        "a + b", "a - b", "a * b", "a / b", "a // b", "a % b", "a ** 2", "-a", "abs(a)", "a + 1",
        "a + 1.5", "a * 2.5", "a / 2", "a + f", "a * d", "a.sum()", "a.sum(1)", "a.max()",
        "a.min(1).values", "a.max(1).indices", "a.argmax()", "a.prod()", "a.cumsum(1)", "a.flip(1)",
        "a.roll(1, 1)", "a.T", "a.reshape(-1)", "a[0]", "a[:, 1]", "a[a > 0]", "a.clamp(0, 3)",
        "a.clamp(min=0.5)", "a.sort(1).values", "a.sort(dim=1, stable=True).indices", "a.topk(2).values",
        "a.unique()", "a.exp()", "a.sqrt()", "a.sigmoid()", "a.relu()", "a.sign()", "a.float()",
        "a.bool()", "a == 3", "a.eq(b)", "(a > 0).sum()", "m + a", "m * 2", "m.sum()",
        "torch.cat([a, a * 2])", "torch.cat([a, f])", "torch.stack([a, a])", "a.repeat(2, 1)",
        "a.gather(1, a.abs() % 3)", "a @ b.T", "a.square()", "a.diag()", "a.tril()",
        "torch.where(a > 0, a, 0.5)", "torch.where(a > 0, a, b)", "a.masked_fill(a > 0, 7)",
        "a.nonzero()", "a.count_nonzero()", "a.amax(1)", "a.floor()", "a.round()", "a.maximum(b)",
        "a.abs().reshape(-1).bincount()", "a.long()", "a.int() + a", "a.int() * 2", "a.int() + 2.5",
        "a.abs().byte() + 1", "a & 6", "a | b", "a ^ b", "~a", "a.logical_and(b)", "a.logical_not()",
        "a.div(b, rounding_mode='trunc')", "a.div(b, rounding_mode='floor')", "torch.remainder(a, 3)",
        "torch.fmod(a, 3)", "a.argsort(dim=1, stable=True)", "a.kthvalue(2, 1).values", "a.cumprod(1)",
        "torch.floor_divide(a, b)", "torch.true_divide(a, 2)", "a.index_select(1, a.abs()[0] % 3)",
        "a.scatter(1, a.abs() % 3, 9)", "torch.nn.functional.one_hot(a.abs().reshape(-1), 21)",
        "torch.nn.functional.pad(a, (1, 1))", "torch.arange(3, 10, 2)", "torch.full((2,), 7)",
        "torch.tensor([1, 2.5])", "torch.tensor([True, 2])", "torch.tensor(3)", "a ** -1",
        "a // 0", "a.mean()", "a.std()", "a.norm()", "a.unsqueeze(0).expand(2, 2, 3)",
    ]
    bad = checked = 0
    for _ in range(max(cases // 60, 1)):
        base = rng.integers(-20, 21, (2, 3))
        divisor = rng.integers(1, 9, (2, 3)) * rng.choice([-1, 1], (2, 3))
        arrays = {"a": base, "b": divisor, "f": rng.standard_normal(3).astype(np.float32),
                  "d": rng.standard_normal(3), "m": base > 0}
        for expr in exprs:
            results = []
            for lib in (tg, torch):
                names = {k: lib.tensor(v) for k, v in arrays.items()}
                names["torch"] = lib
                try:
                    out = eval(expr, {"abs": abs}, names)
                    results.append(out[0] if isinstance(out, tuple) else out)
                except Exception as exc:               # noqa: BLE001  (either side may refuse)
                    results.append(exc)
            ours, theirs = results
            checked += 1
            if isinstance(theirs, Exception):
                if not isinstance(ours, Exception) and expr not in lax:
                    bad += 1
                    print(f"  {expr}: torch refuses ({theirs}), tensorgan gives {ours}")
                continue
            if isinstance(ours, Exception):
                bad += 1
                print(f"  {expr}: tensorgan refuses ({ours}), torch gives {theirs}")
                continue
            got, want = ours.numpy(), theirs.detach().numpy()
            same = got.dtype == want.dtype and got.shape == want.shape and (
                np.array_equal(got, want) if want.dtype.kind != "f" else np.allclose(got, want, 1e-6, 0, equal_nan=True))
            if not same:
                bad += 1
                print(f"  {expr}: tensorgan {got.dtype} {got.ravel()[:4]}, torch {want.dtype} {want.ravel()[:4]}")
    print(f"integer dtypes: {checked} expression evaluations, {bad} differ")
    return bad


def pool_indices_and_unpool(cases: int, rng) -> int:
    """max_pool2d's return_indices and max_unpool2d (values and gradients) on random geometries
    with ties; where torch's default unpool size is empty (it drops the values) tensorgan refuses."""
    bad = unpooled = refused = dropped = 0
    for _ in range(cases // 2):
        h, w = int(rng.integers(2, 9)), int(rng.integers(2, 9))
        k = int(rng.integers(1, min(h, w) + 1))
        s, p, ceil = int(rng.integers(1, 4)), int(rng.integers(0, k // 2 + 1)), bool(rng.integers(0, 2))
        a = np.round(rng.standard_normal((2, 3, h, w)), 1)
        try:
            vt, it = TF.max_pool2d(torch.tensor(a), k, s, p, ceil_mode=ceil, return_indices=True)
        except RuntimeError:
            continue
        vg, ig = F.max_pool2d(tg.tensor(a), k, s, p, ceil_mode=ceil, return_indices=True)
        if not (np.array_equal(vg.numpy(), vt.numpy()) and np.array_equal(ig.numpy(), it.numpy())):
            bad += 1
            print(f"  max_pool2d indices differ: {(h, w, k, s, p, ceil)}")
        for size in ((h, w), None):
            xt, xg = vt.clone().requires_grad_(), tg.tensor(vt.numpy(), requires_grad=True)
            try:
                yt = TF.max_unpool2d(xt, it, k, s, p, output_size=size)
            except (ValueError, RuntimeError):
                try:
                    F.max_unpool2d(xg, ig, k, s, p, output_size=size)
                    bad += 1
                    print(f"  max_unpool2d: torch refuses {(h, w, k, s, p, size)}, tensorgan does not")
                except tg.TensorganError:
                    refused += 1
                continue
            if yt.numel() == 0 and vt.numel():
                dropped += 1
                continue
            yg = F.max_unpool2d(xg, ig, k, s, p, output_size=size)
            backward_both(yg, yt, rng, np.float64)
            if not (np.array_equal(yg.numpy(), yt.detach().numpy()) and np.allclose(xg.grad.numpy(), xt.grad.numpy(), 1e-12, 1e-12)):
                bad += 1
                print(f"  max_unpool2d differs: {(h, w, k, s, p, size)}")
            unpooled += 1
    print(f"pool indices / unpool: {unpooled} unpools equal in values and gradients, {refused} refused "
          f"by both, {dropped} where torch's output is empty (values dropped; tensorgan refuses); {bad} differ")
    return bad


def nearest_rounding() -> None:
    for mode in ("nearest", "nearest-exact"):
        for dims in (1, 2, 3):
            for dtype in (np.float32, np.float64):
                differ = 0
                for n in range(1, 30):
                    x = np.arange(n, dtype=dtype).reshape((1, 1) + (1,) * (dims - 1) + (n,))
                    for o in range(1, 50):
                        size = (1,) * (dims - 1) + (o,)
                        ours = F.interpolate(tg.tensor(x), size=size, mode=mode).numpy()
                        theirs = TF.interpolate(torch.tensor(x), size=size, mode=mode).numpy()
                        differ += not np.array_equal(ours, theirs)
                print(f"  {mode:13s} {dims}-D {dtype.__name__}: {differ} of {29 * 49} sizes pick "
                      f"another pixel")


def main() -> int:
    warnings.simplefilter("ignore", FutureWarning)   # torch's weight_norm is deprecated there
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=600)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    bad = pooling(args.cases, rng, args.seed) + resizing(args.cases, rng, args.seed)
    bad += elementwise(rng) + plateau_and_weight_norm(rng, args.seed) + conv_options(args.cases, rng)
    bad += class_losses_and_forms(args.cases, rng)
    bad += integer_dtypes(args.cases, rng) + pool_indices_and_unpool(args.cases, rng)
    nearest_rounding()
    print("all equal" if bad == 0 else f"{bad} mismatches")
    return int(bad > 0)


if __name__ == "__main__":
    sys.exit(main())
