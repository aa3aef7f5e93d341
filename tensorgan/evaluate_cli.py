"""``tensorgan eval``: score samples with :mod:`tensorgan.metrics`, and the trainer's ``--eval-every``.

    tensorgan eval SAMPLES.npy [--json]
    tensorgan eval --checkpoint CKPT [-n N] [--seed S] [--json]

SAMPLES.npy holds uint8 or float images in [0, 1] or [-1, 1], shaped (N, 1, 28, 28) or (N, 28, 28).
With ``--checkpoint`` the generator in a checkpoint written by ``tensorgan train`` draws N samples
(default 2000) from noise seeded with S. Prints a table, or one JSON object with ``--json``.
The scores are against MNIST's test set: a checkpoint trained on other data (Fashion-MNIST files
with --no-verify, an image folder) is scored all the same, with a warning line on stderr and
``"trained_on_mnist": false`` and ``"warning"`` in the JSON (``--eval-every``: the warning on
stderr once a run, not again on ``--resume``; ``"trained_on_mnist"`` in each eval.jsonl line).

The command is registered through the CLI's plugin hook (``tensorgan.metrics.register_cli``);
``add_eval_parser(subparsers)`` adds it to any argparse sub-parser set as well.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .cli import positive_int, seed_int, user_path
from .errors import ConfigError, DataError

__all__ = ["add_eval_arguments", "add_eval_parser", "run_eval", "load_samples", "make_eval_hook",
           "DEFAULT_NUM_SAMPLES"]

DEFAULT_NUM_SAMPLES = 2000
_RANGES = {"auto": "auto", "unit": "0,1", "tanh": "-1,1"}
EVAL_HELP = "score samples (a .npy or a checkpoint's generator) against MNIST: Fréchet distance, classifier score"


def add_eval_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("samples", nargs="?", metavar="SAMPLES.npy", type=user_path,
                   help="images: uint8 or float in [0, 1] / [-1, 1], (N, 1, 28, 28) or (N, 28, 28)")
    p.add_argument("--checkpoint", metavar="CKPT", type=user_path, help="generate the samples with this checkpoint's generator")
    p.add_argument("-n", "--num", type=positive_int, default=None,
                   help=f"samples to generate with --checkpoint (default {DEFAULT_NUM_SAMPLES})")
    p.add_argument("--seed", type=seed_int, default=0, help="noise seed for --checkpoint (default 0)")
    p.add_argument("--range", dest="value_range", choices=tuple(_RANGES), default="auto",
                   help="value range of float samples: unit = [0, 1], tanh = [-1, 1] (default auto: "
                        "[-1, 1] if the minimum is below -0.5, else [0, 1])")
    p.add_argument("--batch-size", type=positive_int, default=500, help="images per forward pass")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--set-metrics", action="store_true",
                   help="also the kernel distance (KID) and precision / recall / density / coverage "
                        "against the bundled MNIST test set's features (slower)")
    if not any(a.dest == "device" for a in p._actions):
        p.add_argument("--device", help="cpu or cuda")


def add_eval_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``eval`` sub-command to an ``argparse`` sub-parser set; returns its parser."""
    p = subparsers.add_parser("eval", help=EVAL_HELP, description=EVAL_HELP)
    add_eval_arguments(p)
    p.set_defaults(run=run_eval)
    return p


def load_samples(path: str) -> np.ndarray:
    """A ``.npy`` array of images (never with pickle); DataError when it is not one."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"samples file {p} does not exist" if not p.exists() else f"{p} is not a file")
    with open(p, "rb") as f:
        magic = f.read(6)
    if magic[:4] == b"PK\x03\x04":
        raise DataError(f"{p} is an .npz archive; save the images as a single array with np.save "
                        f"(or pass a checkpoint with --checkpoint)")
    if magic != b"\x93NUMPY":   # else np.load would talk of pickles: it tries that format next
        raise DataError(f"{p} is not a .npy file (no NumPy header); save the images with np.save")
    _check_npy_size(p)
    try:
        array = np.load(p, allow_pickle=False)
    except ValueError as exc:
        raise DataError(f"{p} is not a .npy array of images ({exc})") from None
    return array


def _check_npy_size(p: Path) -> None:
    """Refuse a .npy whose header declares more data than the file holds (a damaged or edited
    header) before np.load allocates it: 10**12 images would be a MemoryError, not a message."""
    import tokenize
    from numpy.lib import format as npy_format
    try:
        with open(p, "rb") as f:
            version = npy_format.read_magic(f)
            read_header = (npy_format.read_array_header_1_0 if version == (1, 0)
                           else npy_format.read_array_header_2_0)
            shape, _, dtype = read_header(f)
            offset = f.tell()
    except (ValueError, TypeError, SyntaxError, tokenize.TokenError) as exc:
        raise DataError(f"{p} is not a .npy array of images (malformed header: {exc})") from None
    if dtype.hasobject:     # its data is a pickle, whose size the header does not give
        raise DataError(f"{p} holds Python objects (dtype {dtype}), which only pickle can load "
                        f"(tensorgan reads .npy files with allow_pickle=False); save the images "
                        f"as a numeric array (uint8 or float)")
    needed = int(np.prod(shape, dtype=object)) * dtype.itemsize
    held = p.stat().st_size - offset
    if needed > held:
        raise DataError(f"{p}: its header declares a {dtype} array of shape {tuple(shape)} "
                        f"({needed} bytes) but the file holds {held} bytes of data; it is "
                        f"truncated or corrupt")


def run_eval(args: Any) -> int:
    from . import metrics

    from .cli import UsageError

    device = getattr(args, "device", None)
    if args.samples is None and args.checkpoint is None:
        raise UsageError("give SAMPLES.npy or --checkpoint CKPT")
    if args.samples is not None and args.checkpoint is not None:
        raise UsageError("give SAMPLES.npy or --checkpoint CKPT, not both")
    if args.checkpoint is None and args.num is not None:
        raise UsageError("-n/--num only applies with --checkpoint")
    t0 = time.perf_counter()
    if args.checkpoint is not None:
        from .cli import _check_sample_memory, generate_images, load_generator
        G = load_generator(args.checkpoint, device)
        shape = tuple(getattr(G, "image_shape", ()) or ())
        if shape and shape != metrics.IMAGE_SHAPE:
            raise ConfigError(f"the checkpoint's generator makes {shape} images; the metrics need "
                              f"MNIST-shaped {metrics.IMAGE_SHAPE} images")
        n = args.num or DEFAULT_NUM_SAMPLES
        _check_sample_memory(n, G.latent_dim, G.image_shape)    # (a huge -n: one line, not a MemoryError)
        images = generate_images(G, n, args.seed, 256)
        on_mnist, note = training_data_note(getattr(G, "train_meta", {}))
        source = {"checkpoint": str(args.checkpoint), "seed": args.seed, "trained_on_mnist": on_mnist,
                  **({"warning": note} if note else {})}
        if note:
            print(f"tensorgan: warning: {note}", file=sys.stderr)
    else:
        images = load_samples(args.samples)
        source = {"samples": str(args.samples)}
    model = metrics.get_classifier(device)
    result = metrics.evaluate_samples(images, batch_size=args.batch_size,
                                      value_range=_RANGES[args.value_range], model=model,
                                      reference_features=("mnist" if getattr(args, "set_metrics", False)
                                                          else None))
    seconds = time.perf_counter() - t0
    if args.json:
        print(json.dumps({**result.to_dict(), **source, "seconds": round(seconds, 2)}))
    else:
        what = source.get("samples") or f"{source['checkpoint']} (seed {args.seed})"
        print(f"{what}:")
        print(result.table())
    return 0


def training_data_note(meta: dict[str, Any]) -> tuple[bool | None, str | None]:
    """Whether a run (its checkpoint's ``meta``) trained on MNIST (None: unknown), and when not,
    the one-line warning that its scores are against MNIST's test set all the same."""
    on_mnist = meta.get("trained_on_mnist")
    spec = meta.get("dataset")
    if on_mnist is None and spec is not None:          # a checkpoint from before the field
        on_mnist = False if spec != "mnist" else (None if meta.get("verify") is False else True)
    if on_mnist is not False and on_mnist is not None:
        return True, None
    if on_mnist is None and spec is None:              # no record (a Trainer used directly)
        return None, None
    if spec and spec != "mnist":
        what = f"--dataset {spec}"
    elif meta.get("data_dir"):
        what = f"the IDX files in {meta['data_dir']}"
    else:
        what = f"{meta.get('dataset_name') or 'its data'}"
    known = ("not MNIST's 60,000 training or 10,000 test images" if on_mnist is False
             else "not checked to be MNIST (--no-verify)")
    return on_mnist, (f"this run trained on {what}, {known}: its FID and class shares are "
                      f"measured against MNIST's test set and digit classifier all the same")


# ---------------------------------------------------------------------------------------------
# The trainer's periodic evaluation (tensorgan train --eval-every K)
# ---------------------------------------------------------------------------------------------
def _write_line(line: str) -> None:
    """One line on stderr, above a tqdm progress bar when one is showing."""
    try:
        from tqdm import tqdm
        tqdm.write(line, file=sys.stderr)
    except ImportError:
        print(line, file=sys.stderr, flush=True)


def check_eval_shape(image_shape: tuple | None) -> None:
    """Scoring needs MNIST-shaped images and the bundled metric assets: fail before training
    starts (``None``: MNIST, whose shape is right)."""
    from . import metrics
    if image_shape is not None and tuple(image_shape) != metrics.IMAGE_SHAPE:
        raise ConfigError(f"--eval-every needs MNIST-shaped {metrics.IMAGE_SHAPE} images, this run "
                          f"trains on {tuple(image_shape)}")
    metrics.reference_statistics()  # missing/corrupt assets now, not at the first eval


def make_eval_hook(trainer: Any, every: int | None, num_samples: int = 1000,
                   write: Callable[[str], None] | None = None) -> Callable[[dict], None] | None:
    """An ``on_step`` callback for :meth:`Trainer.fit` that, every ``every`` steps, scores
    ``num_samples`` generated images (fixed noise, seed 0) and appends a JSON line to
    ``RUN_DIR/eval.jsonl`` (and prints a one-line summary). None when ``every`` is falsy."""
    if not every:
        return None
    from . import metrics
    from .random import Generator
    from .train import cut_log_after, json_line

    check_eval_shape(tuple(trainer.image_shape))
    noise = Generator(0).normal((num_samples, trainer.config.latent_dim))
    out = Path(trainer.run_dir) / "eval.jsonl" if trainer.run_dir is not None else None
    if out is not None:          # a resume after a crash scores those steps again: cut back first
        cut_log_after(out, trainer.step)
    write = write or _write_line
    meta = getattr(trainer, "meta", None)
    on_mnist, note = training_data_note(meta or {})
    if note and (meta or {}).get("eval_warned") != note:   # once a run, not again on --resume
        write(f"tensorgan: warning: {note}")
        if isinstance(meta, dict):
            meta["eval_warned"] = note              # (saved with the checkpoints)
    known = {"trained_on_mnist": on_mnist} if on_mnist is not None else {}

    def hook(record: dict) -> None:
        step = trainer.step
        if step % every:
            return
        chunks = [trainer.generate(noise[i:i + 500]) for i in range(0, num_samples, 500)]
        result = metrics.evaluate_samples(np.concatenate(chunks), value_range="-1,1")
        entry = {"step": step, "epoch": trainer.epoch, **result.to_dict(), **known}
        if getattr(trainer, "G_ema", None) is not None:
            entry["generator"] = "ema"       # the EMA generator drew the images
        if out is not None:
            with open(out, "a", encoding="utf-8") as f:
                f.write(json_line(entry))
        write(f"eval step {step}{' (EMA generator)' if 'generator' in entry else ''}: FID {result.fid:.2f}, classifier score "
              f"{result.classifier_score:.2f}, classes {result.classes_covered}/10, confidence "
              f"{result.mean_confidence:.3f}")

    return hook
