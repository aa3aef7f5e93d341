"""Gradient penalties on the default MNIST DCGAN, tensorgan beside PyTorch (CPU, needs torch).

Both frameworks start from the same weights (benchmarks/train_step.py builds the PyTorch twin
and copies tensorgan's state into it) and the same batch, in train mode (D's BatchNorm uses the
batch's statistics).  Two losses that need second derivatives (``create_graph=True``):

* WGAN-GP: ``mean (||grad D(x_hat)|| - 1)^2`` on interpolates of real images and G(z), G's
  output not detached, so the gradient reaches D's and G's parameters;
* R1: ``mean ||grad D(real)||^2`` (``tg.losses.r1_penalty``), D's parameters.

Prints the largest difference of the parameter gradients over the largest gradient, per dtype;
exits 1 if one is above 1e-4 (float32) or 1e-10 (float64).

    python scripts/penalty_vs_torch.py
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))      # _torch_peer (run_path too)
from _torch_peer import require_torch  # noqa: E402

torch = require_torch(__file__)

import tensorgan as tg  # noqa: E402
from benchmarks import train_step as ts  # noqa: E402

BATCH = 8
TOLERANCE = {"float32": 1e-4, "float64": 1e-10}


def models(dtype: str):
    trainer = ts.make_trainer(BATCH)
    G, D = trainer.G, trainer.D
    G.to(dtype), D.to(dtype)
    tG, tD, _, _ = ts.build_torch(torch)
    ts.copy_weights_from_tensorgan(torch, trainer, tG, tD)
    tG.to(getattr(torch, dtype)), tD.to(getattr(torch, dtype))
    return G, D, tG, tD


def worst_difference(ours, theirs) -> float:
    pairs = [(a.grad.numpy() if a.grad is not None else np.zeros(a.shape),
              b.grad.numpy() if b.grad is not None else np.zeros(tuple(b.shape)))
             for a, b in zip(ours, theirs)]
    scale = max(np.abs(b).max() for _, b in pairs)
    return max(np.abs(a - b).max() for a, b in pairs) / scale


def wgan_gp(dtype: str, real, z, e) -> dict:
    G, D, tG, tD = models(dtype)
    x_hat = tg.tensor(e) * tg.tensor(real) + (1 - tg.tensor(e)) * G(tg.tensor(z))
    (g,) = tg.autograd.grad(D(x_hat).sum(), x_hat, create_graph=True)
    (((g * g).reshape(BATCH, -1).sum(dim=1) + 1e-12).sqrt() - 1).pow(2).mean().backward()
    tx_hat = torch.tensor(e) * torch.tensor(real) + (1 - torch.tensor(e)) * tG(torch.tensor(z))
    (tg_,) = torch.autograd.grad(tD(tx_hat).sum(), tx_hat, create_graph=True)
    (((tg_ * tg_).reshape(BATCH, -1).sum(dim=1) + 1e-12).sqrt() - 1).pow(2).mean().backward()
    return {"WGAN-GP, D's parameters": worst_difference(D.parameters(), tD.parameters()),
            "WGAN-GP, G's parameters": worst_difference(G.parameters(), tG.parameters())}


def r1(dtype: str, real) -> dict:
    _, D, _, tD = models(dtype)
    tg.losses.r1_penalty(D, tg.tensor(real)).backward()
    treal = torch.tensor(real).requires_grad_()
    (tg_,) = torch.autograd.grad(tD(treal).sum(), treal, create_graph=True)
    (tg_ * tg_).reshape(BATCH, -1).sum(dim=1).mean().backward()
    return {"R1, D's parameters": worst_difference(D.parameters(), tD.parameters())}


def main() -> int:
    failed = False
    for dtype in ("float32", "float64"):
        rng = np.random.default_rng(0)
        real = rng.uniform(-1, 1, (BATCH, 1, 28, 28)).astype(dtype)
        z = rng.standard_normal((BATCH, 100)).astype(dtype)
        e = rng.uniform(size=(BATCH, 1, 1, 1)).astype(dtype)
        for name, diff in {**wgan_gp(dtype, real, z, e), **r1(dtype, real)}.items():
            failed |= diff > TOLERANCE[dtype]
            print(f"{name:26s} {dtype}: max |tensorgan - torch| / max |torch| = {diff:.1e}")
    return int(failed)


if __name__ == "__main__":
    sys.exit(main())
