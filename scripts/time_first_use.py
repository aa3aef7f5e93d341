"""Seconds each first use costs in a fresh process (compiles, imports, caches), then the second use.

    python scripts/time_first_use.py --device cuda --data-dir ../shared/datasets/mnist

Run it twice on a fresh machine: the first run pays what a new user pays once (Numba and CuPy
compile into their on-disk caches), the second what every later process pays (loading them).
Measured on a fresh H200 machine (scripts/device_check.sh runs it first): the first train_step
12.5-14.8 s cold, 0.75-0.96 s warm; the first checkpoint took 13.9 s cold until its finite check
stopped compiling a float64 reduction of its own (now 0.04 s). On this 2-core CPU VM: the first
train_step 9.5 s with an empty Numba cache, 0.5 s from the cache.
"""
import argparse
import importlib
import json
import tempfile
import time

import numpy as np

t_start = time.perf_counter()


def timed(label, fn, repeat=2):
    for i in range(repeat):
        t = time.perf_counter()
        fn()
        print(f"{label:<28} {'first' if i == 0 else 'again':<6} {time.perf_counter() - t:8.3f} s", flush=True)


def compiled_kernels():
    """(dispatcher name, number of compiled signatures) for every Numba kernel loaded so far."""
    import sys
    out = {}
    for mod_name, mod in list(sys.modules.items()):
        if not mod_name.startswith(("kernels.", "tensorgan.kernels.")):
            continue
        for name, obj in vars(mod).items():
            overloads = getattr(obj, "overloads", None)
            if isinstance(overloads, dict):
                out[f"{mod_name.split('.')[-1]}.{name}"] = len(overloads)
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()
    t = time.perf_counter()
    importlib.import_module("tensorgan")  # the import itself is what is timed
    from tensorgan.data import load_mnist
    from tensorgan.train import Trainer, TrainConfig
    print(f"{'import tensorgan':<28} {'first':<6} {time.perf_counter() - t:8.3f} s")
    data = load_mnist("train", args.data_dir)
    trainer = Trainer(data, tempfile.mkdtemp(), TrainConfig(device=args.device))
    batches = iter(trainer.loader)
    before = compiled_kernels()
    records = []
    timed("train_step", lambda: records.append(trainer.train_step(next(batches)[0])))
    after_train = compiled_kernels()
    timed("save_samples (generate)", trainer.save_samples)
    after_sample = compiled_kernels()
    # save_checkpoint's parts, each cold once: the finite check in the arrays' own dtype (what the
    # trainer does), the same check as float64 sums, the state dict, the file write.
    from tensorgan import train as train_module
    from tensorgan.checkpoint import save_checkpoint
    tensors = [*trainer.G.parameters(), *trainer.D.parameters()]
    timed("finite check, own dtype", lambda: train_module._all_finite(tensors))
    timed("finite check, float64 sums", lambda: float(sum(t.array.sum(dtype=np.float64) for t in tensors)))
    state = {}
    timed("state_dict", lambda: state.update(trainer.state_dict()))
    timed("write checkpoint file", lambda: save_checkpoint(trainer.run_dir / "parts.npz", state))
    timed("save_checkpoint", trainer.save_checkpoint)
    (trainer.run_dir / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    timed("save_loss_curve", trainer.save_loss_curve)
    for label, a, b in (("train_step", before, after_train), ("save_samples", after_train, after_sample)):
        new = sorted(k for k in b if b[k] > a.get(k, 0))
        print(f"Numba CPU kernels compiled by {label}: {len(new)}: {' '.join(new)}")
    print(f"{'whole script':<28} {'':<6} {time.perf_counter() - t_start:8.3f} s")


if __name__ == "__main__":
    main()
