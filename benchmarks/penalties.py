"""What the gradient penalties cost: ``Trainer.train_step`` of the default MNIST DCGAN without R1,
with R1 on every step, and with lazy R1 (every 16th step), timed round-robin in one process.

    python -m benchmarks.penalties --steps 32 --warmup 2       # --batch, --json [PATH]

An R1 step backpropagates through D's backward (second derivatives), so it costs one more pass
over D's graph; lazy R1 pays that on one step in K.  Each round runs one step of each trainer, so
a lazy trainer's median is an ordinary step and its mean carries the penalty: both are shown.
"""
from __future__ import annotations

import argparse

import numpy as np

from ._common import int_at_least, stats_ms, time_interleaved, json_dest, write_json


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int_at_least(1), default=32, help="timed steps per trainer")
    p.add_argument("--warmup", type=int_at_least(0), default=2)
    p.add_argument("--batch", type=int_at_least(1), default=64)
    p.add_argument("--json", nargs="?", const="-", metavar="PATH", type=json_dest)
    args = p.parse_args(argv)

    from tensorgan.data import ArrayDataset
    from tensorgan.train import TrainConfig, Trainer

    rng = np.random.default_rng(0)
    data = ArrayDataset(rng.integers(0, 256, (4 * args.batch, 1, 28, 28), dtype=np.uint8), name="noise")
    batch = data.images[:args.batch].astype(np.float32) / 127.5 - 1.0
    settings = {"no penalty": {}, "R1 every step": {"r1_gamma": 10.0},
                "R1 every 16th step": {"r1_gamma": 10.0, "r1_every": 16}}
    trainers = {name: Trainer(data, None, TrainConfig(steps=10 ** 6, batch_size=args.batch, **kw))
                for name, kw in settings.items()}
    samples = time_interleaved({name: (lambda t=t: t.train_step(batch)) for name, t in trainers.items()},
                               repeats=args.steps, warmup=args.warmup)
    result = {"batch": args.batch, "steps": args.steps, "rows": {}}
    base = None
    print(f"Trainer.train_step, default MNIST DCGAN, batch {args.batch}, {args.steps} steps each")
    print(f"{'':20s} {'median ms':>10s} {'mean ms':>9s} {'mean / no penalty':>18s}")
    for name, s in samples.items():
        row = {**stats_ms(s), "mean_ms": float(np.mean(s) * 1e3)}
        base = base or row["mean_ms"]
        row["mean_ratio"] = row["mean_ms"] / base
        result["rows"][name] = row
        print(f"{name:20s} {row['median_ms']:10.1f} {row['mean_ms']:9.1f} {row['mean_ratio']:18.2f}")
    if args.json:
        write_json(result, args.json)
    return result


if __name__ == "__main__":
    main()
