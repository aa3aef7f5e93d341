#!/usr/bin/env python
"""Train the MNIST classifier behind ``tensorgan.metrics`` with tensorgan itself, then write

* ``tensorgan/assets/mnist_classifier.npz``  -- its weights (float32, no pickle), and
* ``tensorgan/assets/mnist_test_stats.npz``  -- mean and covariance of the 128-d features of the
  10,000 MNIST test images, the test accuracy and a format version.

Usage (the full 60,000-image training set is needed; about 10-15 minutes on two CPU cores):

    .venv/bin/python scripts/train_classifier.py --data-dir ../shared/datasets/mnist
    .venv/bin/python scripts/train_classifier.py --stats-only   # recompute the statistics only

Adam with a cosine learning-rate decay, cross-entropy on logits, images scaled to [-1, 1] (the
generator's tanh range), optional random shifts (``--shift``).
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import tensorgan as tg  # noqa: E402
from tensorgan import functional as F  # noqa: E402
from tensorgan.data import DataLoader, load_mnist, to_unit_range  # noqa: E402
from tensorgan.models.classifier import MnistClassifier, load_classifier, save_classifier  # noqa: E402
from tensorgan.optim import Adam  # noqa: E402

ASSETS = ROOT / "tensorgan" / "assets"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def shift_batch(images: np.ndarray, max_shift: int, rng: np.random.Generator) -> np.ndarray:
    """Translate each image by up to ``max_shift`` pixels, filling with the background (-1)."""
    if max_shift <= 0:
        return images
    n, c, h, w = images.shape
    s = max_shift
    padded = np.full((n, c, h + 2 * s, w + 2 * s), -1.0, dtype=images.dtype)
    padded[:, :, s:s + h, s:s + w] = images
    dy, dx = rng.integers(0, 2 * s + 1, n), rng.integers(0, 2 * s + 1, n)
    out = np.empty_like(images)
    for i in range(n):
        out[i] = padded[i, :, dy[i]:dy[i] + h, dx[i]:dx[i] + w]
    return out


@tg.no_grad()
def predict(model, images_u8: np.ndarray, batch: int = 500) -> tuple[np.ndarray, np.ndarray]:
    """(logits, features) of uint8 images, in float64."""
    model.eval()
    logits, feats = [], []
    for i in range(0, len(images_u8), batch):
        x = tg.tensor(to_unit_range(images_u8[i:i + batch]))
        f = model.features(x)
        logits.append(model.head(f).numpy().astype(np.float64))
        feats.append(f.numpy().astype(np.float64))
    return np.concatenate(logits), np.concatenate(feats)


def write_stats(weights: Path, out: Path, data_dir) -> None:
    from tensorgan.metrics import STATS_FORMAT_VERSION, feature_statistics, file_sha256
    model, meta = load_classifier(weights)
    test = load_mnist("test", data_dir)
    t0 = time.perf_counter()
    logits, feats = predict(model, test.images)
    acc = float((logits.argmax(1) == test.labels).mean())
    mu, sigma = feature_statistics(feats)
    tmp = f"{out}.tmp.npz"
    np.savez(tmp, format_version=np.array(STATS_FORMAT_VERSION), mu=mu, sigma=sigma,
             n=np.array(len(feats)), test_accuracy=np.array(acc),
             feature_dim=np.array(feats.shape[1]),
             classifier_sha256=np.array(file_sha256(weights)))
    os.replace(tmp, out)
    log(f"test accuracy {acc:.4f}; feature statistics of {len(feats)} test images -> {out} "
        f"({time.perf_counter() - t0:.1f} s)")
    if out.parent.resolve() == ASSETS.resolve():
        log("the shipped assets changed: set tensorgan.metrics.ASSET_SHA256 to\n" + "\n".join(
            f"    {p.name!r}: {file_sha256(p)!r}," for p in (weights, out)))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=os.environ.get("TENSORGAN_DATA", str(ROOT.parent / "shared/datasets/mnist")))
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--min-lr", type=float, default=2e-5)
    p.add_argument("--channels", default="16,32,64")
    p.add_argument("--shift", type=int, default=0, help="random translation in pixels (augmentation)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--log-every", type=int, default=50)
    p.add_argument("--init", type=Path, help="start from these weights instead of a fresh model")
    p.add_argument("--out-dir", type=Path, default=ASSETS)
    p.add_argument("--work-dir", type=Path, default=Path("/tmp/tensorgan_classifier"),
                   help="per-epoch weights go here; only the final ones go to --out-dir")
    p.add_argument("--train-limit", type=int, default=0, help="use only the first N training images (smoke runs)")
    p.add_argument("--stats-only", action="store_true", help="recompute the test statistics only")
    args = p.parse_args(argv)

    weights_path = args.out_dir / "mnist_classifier.npz"
    stats_path = args.out_dir / "mnist_test_stats.npz"
    args.out_dir.mkdir(parents=True, exist_ok=True)
    if args.stats_only:
        write_stats(weights_path, stats_path, args.data_dir)
        return 0

    tg.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    train = load_mnist("train", args.data_dir)
    test = load_mnist("test", args.data_dir)
    if args.train_limit:
        from tensorgan.data import ArrayDataset
        train = ArrayDataset(train.images[:args.train_limit], train.labels[:args.train_limit])
    log(f"train {train.images.shape} from {args.data_dir}; test {test.images.shape}")
    if args.init:
        model, _ = load_classifier(args.init)
        model.train()
    else:
        model = MnistClassifier(tuple(int(c) for c in args.channels.split(",")),
                                generator=tg.Generator(args.seed))
    log(f"{model.num_parameters()} parameters ({model.num_parameters() * 4 / 1e6:.2f} MB float32): {model}")
    loader = DataLoader(train, batch_size=args.batch_size, shuffle=True, seed=args.seed)
    opt = Adam(model.parameters(), lr=args.lr)
    total = args.epochs * len(loader)
    step, t_start = 0, time.perf_counter()
    args.work_dir.mkdir(parents=True, exist_ok=True)
    acc = 0.0
    for epoch in range(args.epochs):
        model.train()
        run_loss = run_acc = 0.0
        count = 0
        t_log = time.perf_counter()
        for images, labels in loader:
            lr = args.min_lr + 0.5 * (args.lr - args.min_lr) * (1 + math.cos(math.pi * step / total))
            for group in opt.param_groups:
                group["lr"] = lr
            x = tg.tensor(shift_batch(images, args.shift, rng))
            logits = model(x)
            loss = F.cross_entropy(logits, labels)
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            run_loss += loss.item()
            run_acc += float((logits.numpy().argmax(1) == labels).mean())
            count += 1
            if step % args.log_every == 0:
                now = time.perf_counter()
                rate = count * args.batch_size / (now - t_log)
                elapsed = now - t_start
                eta = elapsed / step * (total - step)
                log(f"epoch {epoch + 1} step {step}/{total} loss {run_loss / count:.4f} "
                    f"train acc {run_acc / count:.4f} lr {lr:.2e} {rate:.0f} img/s "
                    f"elapsed {elapsed / 60:.1f} min eta {eta / 60:.1f} min")
                run_loss = run_acc = 0.0
                count = 0
                t_log = now
        logits, _ = predict(model, test.images)
        acc = float((logits.argmax(1) == test.labels).mean())
        save_classifier(args.work_dir / f"epoch{epoch + 1}.npz", model, test_accuracy=acc,
                        epochs=epoch + 1, seed=args.seed)
        log(f"epoch {epoch + 1} done: test accuracy {acc:.4f} "
            f"({(time.perf_counter() - t_start) / 60:.1f} min so far)")
    minutes = (time.perf_counter() - t_start) / 60
    save_classifier(weights_path, model, test_accuracy=acc, epochs=args.epochs, seed=args.seed,
                    batch_size=args.batch_size, lr=args.lr, shift=args.shift,
                    train_minutes=round(minutes, 2))
    log(f"saved {weights_path} ({weights_path.stat().st_size / 1e6:.2f} MB); training took {minutes:.1f} min")
    write_stats(weights_path, stats_path, args.data_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
