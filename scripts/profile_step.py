"""Where the host's time goes in a DCGAN training step: cProfile around warmed-up steps.

    python scripts/profile_step.py [--device cpu|cuda] [--steps 30] [--top 30] [--sort tottime]

On a GPU the step is bound by the host (Python, CuPy's and our launch glue), so this listing is
the map for making it faster; on the CPU it shows the engine's share next to the kernels'.  Run
from the repository root (it imports ``benchmarks``).
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.train_step import make_trainer, real_batch  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default=None, help="cpu or cuda (default: tensorgan's default)")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--sort", default="tottime", choices=["tottime", "cumulative", "ncalls"])
    args = ap.parse_args(argv)
    trainer = make_trainer(args.batch, args.device)
    real = trainer.device.xp.asarray(real_batch(args.batch))
    for _ in range(5):
        trainer.train_step(real)
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(args.steps):
        trainer.train_step(real)
    if trainer.device.type == "cuda":
        trainer.device.xp.cuda.Device().synchronize()
    profile.disable()
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    print(f"device {trainer.device}, batch {args.batch}, {args.steps} steps: "
          f"{stats.total_tt / args.steps * 1e3:.2f} ms of profiled host time per step")
    stats.sort_stats(args.sort).print_stats(args.top)
    print(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
