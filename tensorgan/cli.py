"""The ``tensorgan`` command line: ``train``, ``sample`` (and commands other modules register).

Errors print one line on stderr and exit non-zero (2 for bad arguments, 1 for everything else,
130 after Ctrl-C, 143 after SIGTERM: once training runs, ``train`` writes a checkpoint first);
``--debug`` shows the traceback instead.

Other modules add subcommands without editing this file: a module listed in ``PLUGIN_MODULES``
that defines ``register_cli(register_command)`` is imported when present, and calls
``register_command(name, help, add_arguments, run)``.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib
import importlib.util
import inspect
import io
import math
import os
import re
import signal
import sys
import threading
import warnings
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from . import _cli_startup
from .errors import CheckpointError, ConfigError, TensorganError
from .fileio import available_memory as _available_memory  # (tests patch cli's name)

__all__ = ["main", "build_parser", "register_command", "UsageError", "PLUGIN_MODULES"]

PLUGIN_MODULES = ("tensorgan.metrics",)   # e.g. an ``eval`` subcommand
_COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[Any], int]]] = {}


class _UsageError(Exception):
    pass


class UsageError(ConfigError):
    """Arguments that do not go together (exit status 2, as argparse's own errors); subcommands
    registered from other modules raise it too."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (not usage + error) and goes through main()."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(f"{message} (see '{self.prog} --help')")


def register_command(name: str, help: str, add_arguments: Callable[[argparse.ArgumentParser], None],
                     run: Callable[[Any], int]) -> None:
    """Add a subcommand: ``add_arguments(parser)`` declares its options, ``run(args)`` returns
    the exit status and raises TensorganError for user errors."""
    _COMMANDS[name] = (help, add_arguments, run)


# ---------------------------------------------------------------------------------------------
# train
# ---------------------------------------------------------------------------------------------
def _int_at_least(minimum: int, what: str) -> Callable[[str], int]:
    """An argparse type: an integer >= minimum, with a one-line message naming what was expected."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected {what}, got {value}")
        return value
    return parse


positive_int = _int_at_least(1, "a positive integer")
nonnegative_int = _int_at_least(0, "a non-negative integer")


def seed_int(text: str) -> int:
    """An argparse type: a seed in torch.manual_seed's range, -2**63 .. 2**64 - 1; a negative one
    is taken modulo 2**64, as torch's ``initial_seed()`` reports it (-1 is 2**64 - 1)."""
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not -2**63 <= value < 2**64:
        raise argparse.ArgumentTypeError(f"expected a seed in {-2**63} .. {2**64 - 1} (64 bits, "
                                         f"as torch.manual_seed takes), got {text!r}")
    return value % 2**64


def _float_above(minimum: float, inclusive: bool, what: str) -> Callable[[str], float]:
    """An argparse type: a finite number > minimum (>= when inclusive)."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not math.isfinite(value) or value < minimum or (value == minimum and not inclusive):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text}")
        return value
    return parse


_positive_float = _float_above(0.0, False, "a positive number")
nonnegative_float = _float_above(0.0, True, "a number >= 0")


def _unit_interval(text: str) -> float:
    """An argparse type: a number in [0, 1) (Adam's betas)."""
    value = nonnegative_float(text)
    if value >= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text}")
    return value


def _ema_decay(text: str) -> float:
    """An argparse type: an EMA decay in [0, 1) (0: off)."""
    value = nonnegative_float(text)
    if value >= 1.0:
        raise argparse.ArgumentTypeError(f"expected a decay in [0, 1) (typical 0.999; 0: off), got {text}")
    return value


def _augment_policy(text: str) -> str:
    """An argparse type: a DiffAugment policy such as ``color,translation,cutout`` in its one
    spelling (``none`` or ``""``: off)."""
    from .augment import parse_policy
    try:
        return ",".join(parse_policy("" if text.strip() == "none" else text, "--augment"))
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--augment: ")) from None


def user_path(text: str) -> str:
    """An argparse type for paths: ``~`` expanded, as --dataset folder:~/x and --data-dir do
    (the shell leaves ``--out=~/runs`` alone, which made a folder named ``~``)."""
    return os.path.expanduser(text)


DEFAULT_STEPS = 300  # a couple of minutes on a laptop CPU at batch 64


def _add_length_and_optimizer_arguments(p: argparse.ArgumentParser) -> None:
    """How long to train and the optimizers' step sizes (and G's moving average)."""
    length = p.add_mutually_exclusive_group()
    length.add_argument("--epochs", type=positive_int, help="passes over the dataset")
    length.add_argument("--steps", type=positive_int,
                        help=f"total optimizer steps (default {DEFAULT_STEPS} when --epochs is not given)")
    p.add_argument("--batch-size", type=positive_int, help="images per step (default 64)")
    p.add_argument("--lr", type=_positive_float, help="Adam learning rate for both networks (default 2e-4)")
    p.add_argument("--lr-g", type=_positive_float, metavar="LR",
                   help="the generator's learning rate (default --lr; TTUR, Heusel et al. 2017: "
                        "e.g. --lr-g 1e-4 --lr-d 4e-4)")
    p.add_argument("--lr-d", type=_positive_float, metavar="LR",
                   help="the discriminator's learning rate (default --lr)")
    p.add_argument("--ema", type=_ema_decay, dest="ema_decay", metavar="DECAY",
                   help="keep an exponential moving average of G's weights, EMA = d * EMA + "
                        "(1 - d) * G after the n-th G step, d = min(DECAY, (1 + n) / (10 + n)) "
                        "(typical 0.999; default 0: off); it draws "
                        "the sample grids (samples/step_N_ema.png) and --eval-every's images, is "
                        "saved in the checkpoint and used by 'tensorgan sample'")


def _add_gan_variant_arguments(p: argparse.ArgumentParser) -> None:
    """What kind of GAN: class-conditional, augmented, and its seed."""
    p.add_argument("--conditional", action="store_true", default=None,
                   help="class-conditional DCGAN (cGAN): G gets a label embedding beside z, D one-hot "
                        "label maps beside the image; sample grids show one row per class (several classes "
                        "a row when there are many). Needs labels (MNIST; image folders have none)")
    p.add_argument("--augment", type=_augment_policy, metavar="POLICY",
                   help="DiffAugment (Zhao et al. 2020): augment the real and the generated images "
                        "every time D sees them, with the comma-separated policies color, "
                        "translation, cutout (the paper's: color,translation,cutout); the saved "
                        "and evaluated samples are not augmented (default: off)")
    p.add_argument("--seed", type=seed_int, help="seed of every random stream (default 0)")


def _add_data_arguments(p: argparse.ArgumentParser) -> None:
    """Where the images come from and how folder images are read."""
    p.add_argument("--data-dir", type=user_path, help="folder holding the MNIST IDX files (else $TENSORGAN_DATA, the "
                                      "cache, or the bundled 10,000-image set)")
    p.add_argument("--dataset", help="'mnist' (default) or 'folder:PATH' (PNG, JPEG, BMP, TIFF, "
                                     "WebP images)")
    p.add_argument("--no-verify", action="store_true",
                   help="skip the MNIST files' SHA-256 check: other data in MNIST's format "
                        "(Fashion-MNIST, KMNIST, EMNIST), unless a SHA256SUMS file beside it "
                        "lists its digests; kept on --resume")
    p.add_argument("--image-size", type=image_size,
                   help="size images from a folder are resized to: a side (default 64) or HxW "
                        "(e.g. 48x32)")
    p.add_argument("--channels", type=int, choices=(1, 3),
                   help="channels of folder images (default 3)")
    p.add_argument("--strict-size", action="store_true",
                   help="reject folder images of another size instead of cropping and resizing them")


def _add_run_dir_arguments(p: argparse.ArgumentParser) -> None:
    """Where the run is written (and resumed from), and how often."""
    p.add_argument("--out", type=user_path, help="run directory (default runs/dcgan; with --resume CKPT, CKPT's folder)")
    p.add_argument("--resume", nargs="?", const="", metavar="CKPT", type=user_path,
                   help="continue from CKPT (default: RUN_DIR/checkpoint.npz)")
    p.add_argument("--sample-every", type=positive_int, help="steps between sample grids (default 200)")
    p.add_argument("--checkpoint-every", type=positive_int,
                   help="steps between checkpoints (default 200)")


def _add_network_arguments(p: argparse.ArgumentParser) -> None:
    """The networks' sizes and the discriminator's kind."""
    p.add_argument("--latent-dim", type=positive_int, help="noise dimension (default 100)")
    p.add_argument("--base-channels", type=positive_int, help="channels next to the image (default 64)")
    p.add_argument("--discriminator", choices=("conv", "mlp"), help="discriminator kind (default conv)")


def _add_objective_arguments(p: argparse.ArgumentParser) -> None:
    """The GAN objective and its penalties, Adam's betas and D's normalization."""
    p.add_argument("--loss", choices=("bce", "hinge", "wgan-gp"),
                   help="GAN objective: bce (the minimax game on logits, default), hinge "
                        "(SN-GAN's: D on relu(1 -/+ score), G on -score) or wgan-gp (a critic on "
                        "E D(fake) - E D(real) + LAMBDA * gradient penalty; needs --d-norm layer "
                        "or none with the conv discriminator)")
    p.add_argument("--gp-lambda", type=_positive_float, metavar="LAMBDA",
                   help="weight of WGAN-GP's gradient penalty (default 10)")
    p.add_argument("--n-critic", type=positive_int, metavar="K",
                   help="D updates per G update (default 1; WGAN-GP's paper: 5): G steps on every "
                        "K-th batch")
    p.add_argument("--beta1", type=_unit_interval, help="Adam's beta1 for both networks (default 0.5; "
                   "WGAN-GP's paper: 0)")
    p.add_argument("--beta2", type=_unit_interval, help="Adam's beta2 (default 0.999; WGAN-GP's paper: 0.9)")
    p.add_argument("--d-norm", choices=("batch", "layer", "none", "spectral"),
                   help="the conv discriminator's normalization (default batch; layer: "
                        "GroupNorm(1, C); spectral: SN-GAN's spectral normalization of every "
                        "conv / linear weight, no batch norm, with any --loss)")
    p.add_argument("--generator-loss", choices=("non_saturating", "minimax"),
                   help="generator objective with --loss bce (default non_saturating)")
    p.add_argument("--r1-gamma", type=nonnegative_float, metavar="GAMMA",
                   help="R1 gradient penalty on the discriminator (Mescheder et al. 2018): adds "
                        "GAMMA/2 * E||grad D(real)||^2 to its loss (default 0: off; try 1-10)")
    p.add_argument("--r1-every", type=positive_int, metavar="K",
                   help="lazy R1: the penalty on every K-th step only, weighted K times (default 1)")


def _add_run_behaviour_arguments(p: argparse.ArgumentParser) -> None:
    """What a run does on non-finite values, its progress bar, memory and evaluation."""
    p.add_argument("--on-nonfinite", choices=("stop", "skip"),
                   help="on a NaN/inf loss or gradient: stop (default) or skip that update")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--return-freed-memory", action="store_true",
                   help="let malloc return freed memory to the OS (its default; each step then "
                        "page-faults its arrays in again). By default this command keeps it for "
                        "reuse: see tensorgan.keep_freed_memory")
    p.add_argument("--eval-every", type=nonnegative_int, metavar="K",
                   help="every K steps score 1000 samples with tensorgan.metrics (MNIST; "
                        "RUN_DIR/eval.jsonl); kept on --resume, where 0 turns it off")


def _add_train_arguments(p: argparse.ArgumentParser) -> None:
    """The train command's options, in --help's order (each group adds its options in turn)."""
    for add_group in (_add_length_and_optimizer_arguments, _add_gan_variant_arguments,
                      _add_data_arguments, _add_run_dir_arguments, _add_network_arguments,
                      _add_objective_arguments, _add_run_behaviour_arguments):
        add_group(p)


# Options that may differ on --resume (everything else comes from the checkpoint).
_RESUMABLE = ("steps", "epochs", "sample_every", "checkpoint_every", "device", "on_nonfinite")
_ARCH_OPTIONS = ("batch_size", "lr", "seed", "latent_dim", "base_channels", "discriminator",
                 "loss", "generator_loss", "r1_gamma", "r1_every", "gp_lambda", "d_norm",
                 "n_critic", "beta1", "beta2", "lr_g", "lr_d", "ema_decay", "conditional", "augment")


def _config_from_args(args: Any, base: dict[str, Any] | None) -> "Any":
    from .train import TrainConfig
    # (a checkpoint from before an option existed has no entry for it: it ran with the default)
    values = {**TrainConfig().to_dict(), **(base or {})}
    names = _RESUMABLE if base is not None else _RESUMABLE + _ARCH_OPTIONS
    if base is not None:
        # --lr-g / --lr-d compare with the rates the run used (lr where they are None)
        saved = dict(values, lr_g=values.get("lr_g") or values["lr"], lr_d=values.get("lr_d") or values["lr"])
        flag = {"ema_decay": "--ema"}
        changed = {flag.get(n, f"--{n.replace('_', '-')}"): (getattr(args, n), saved.get(n))
                   for n in _ARCH_OPTIONS
                   if getattr(args, n) is not None and getattr(args, n) != saved.get(n)}
        if changed:     # both values: which one to change is the user's call
            both = "; ".join(_both_values(f, new, old) for f, (new, old) in changed.items())
            raise ConfigError(f"{', '.join(changed)} {'differs' if len(changed) == 1 else 'differ'} "
                              f"from the checkpoint's run ({both}); a resumed run keeps its "
                              f"settings (start a new --out to change them)")
    for name in names:
        value = getattr(args, name, None)
        if value is not None:
            values[name] = value
    if args.steps is not None:
        values["epochs"] = None
    elif args.epochs is not None:
        values["steps"] = None
    elif base is None:
        values["steps"], values["epochs"] = DEFAULT_STEPS, None
    try:        # checked here: the CLI compares its values with the data before the trainer would
        return TrainConfig.from_dict(values).validate()
    except (ConfigError, TypeError) as exc:
        if base is not None:
            raise CheckpointError(f"the checkpoint's training config is invalid: {exc}") from None
        if isinstance(exc, ConfigError):    # flags that do not go together: a usage error
            raise UsageError(_as_flags(str(exc))) from None
        raise


def _both_values(flag: str, new: Any, old: Any) -> str:
    """``--lr 0.001 here, 0.0002 in the run``; a switch: ``--conditional here, not in the run``."""
    if isinstance(new, bool) and isinstance(old, bool):
        return f"{flag} {'here, not in the run' if new else 'in the run, not here'}"
    return f"{flag} {new!r} here, {old!r} in the run"


def _as_flags(message: str) -> str:
    """A TrainConfig message in the CLI's words: ``d_norm='spectral'`` is ``--d-norm 'spectral'``,
    ``conditional=True`` is ``--conditional``, ``r1_gamma`` is ``--r1-gamma``."""
    flags = {name: "--ema" if name == "ema_decay" else f"--{name.replace('_', '-')}"
             for name in _RESUMABLE + _ARCH_OPTIONS}
    names = "|".join(sorted(flags, key=len, reverse=True))
    message = re.sub(rf"\b({names})=True\b", lambda m: flags[m.group(1)], message)
    message = re.sub(rf"\b({names})=", lambda m: flags[m.group(1)] + " ", message)
    # a bare name is a flag where it cannot be a word of the prose (r1_gamma, beta1, ...)
    return re.sub(rf"(?<![-\w])({names})(?![-\w=])",
                  lambda m: flags[m.group(1)] if "_" in m.group(1) or m.group(1)[-1].isdigit()
                  else m.group(1), message)


def _load_dataset(spec: str, data_dir: str | None, image_shape: tuple[int, int, int],
                  strict_size: bool = False, verify: bool = True) -> Any:
    from . import data
    if spec == "mnist":
        return data.mnist_dataset(data_dir, verify=verify)
    if spec.startswith("folder:") and len(spec) > len("folder:"):
        return data.ImageFolder(spec[len("folder:"):], image_shape=image_shape, strict_size=strict_size)
    raise ConfigError(f"--dataset must be 'mnist' or 'folder:PATH', got {spec!r}")


def image_size(text: str) -> tuple[int, int]:
    """An argparse type: ``64`` (square) or ``48x32`` (height x width), each side >= 1."""
    parts = text.lower().replace("×", "x").split("x")
    try:
        sides = tuple(int(part) for part in parts)
    except ValueError:
        sides = ()
    if len(sides) not in (1, 2) or min(sides) < 1:
        raise argparse.ArgumentTypeError(f"expected a side (64) or HxW (48x32) of positive "
                                         f"integers, got {text!r}")
    return (sides[0], sides[-1])


def _image_shape(args: Any, dataset_spec: str, checkpoint: Any) -> tuple[int, int, int]:
    """(C, H, W) for a folder dataset: the checkpoint's on --resume, else --channels/--image-size.
    Either option where it cannot apply (MNIST, or another shape than the resumed run's) is an
    error rather than silently ignored."""
    given = {"--channels": args.channels, "--image-size": args.image_size}
    named = [k for k, v in given.items() if v is not None]
    if dataset_spec == "mnist" and named:
        raise UsageError(f"{' and '.join(named)} {'apply' if len(named) > 1 else 'applies'} to "
                         f"--dataset folder:PATH (MNIST is 1x28x28)")
    shape = (args.channels or 3, *(args.image_size or (64, 64)))
    if checkpoint is not None and "image_shape" in checkpoint:
        saved = tuple(int(v) for v in checkpoint["image_shape"])
        if (args.channels not in (None, saved[0])) or (args.image_size not in (None, saved[1:])):
            raise ConfigError(f"the checkpoint's run trains on {saved[0]}x{saved[1]}x{saved[2]} "
                              f"images; {' and '.join(named)} cannot change that on --resume")
        shape = saved
    return shape


def _check_source_options(args: Any, dataset_spec: str) -> None:
    """--data-dir and --no-verify concern MNIST's files, --strict-size a folder's images: given
    for the other kind of dataset they would be silently ignored, so they are refused, as
    --image-size is for MNIST."""
    if dataset_spec == "mnist":
        named, target = (["--strict-size"] if args.strict_size else []), "--dataset folder:PATH"
    else:
        named = [flag for flag, value in (("--data-dir", args.data_dir), ("--no-verify", args.no_verify))
                 if value]
        target = "--dataset mnist (a folder's images are read from its PATH)"
    if named:
        raise UsageError(f"{' and '.join(named)} {'apply' if len(named) > 1 else 'applies'} to "
                         f"{target}, not to --dataset {dataset_spec}")


def _absolute_spec(spec: str) -> str:
    """'folder:PATH' with PATH made absolute; other specs unchanged."""
    if spec.startswith("folder:") and len(spec) > len("folder:"):
        return "folder:" + str(Path(spec[len("folder:"):]).expanduser().resolve())
    return spec


@dataclasses.dataclass
class _Run:
    """What ``train`` settles before it trains: the run's folder, the checkpoint it continues
    (None: a new run) and the record of the run's data that ``trainer.meta`` gets."""
    run_dir: Path
    progress: bool = True
    checkpoint: dict[str, Any] | None = None
    source: Path | None = None          # where the checkpoint was read
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)
    eval_every: int | None = None
    existed: bool = True                # whether run_dir was there before this command
    config_written: bool = False        # (a stop before training names what start-up wrote)


class _Terminated(BaseException):
    """SIGTERM outside ``fit()`` (which ends its step and writes a checkpoint first): ``main``
    prints the message (else ``terminated``) and exits 143. A BaseException, as
    KeyboardInterrupt is, so that no ``except Exception`` on the way swallows it."""


class _Interrupted(KeyboardInterrupt):
    """Ctrl-C, with a message saying where the run stands; ``main`` prints it and exits 130."""


def _run_train(args: Any) -> int:
    if not args.return_freed_memory:
        from .backend import keep_freed_memory
        keep_freed_memory()             # this command owns its process (see the function's doc)
    run = _Run(_run_dir_of(args), progress=not args.no_progress)
    if run.run_dir.exists() and not run.run_dir.is_dir():
        raise ConfigError(f"--out {run.run_dir} is a file, not a directory")
    run.existed = locked = run.run_dir.is_dir()
    with contextlib.ExitStack() as held:
        try:
            if locked:      # first: a busy --out is "in use", whatever else is wrong with it
                held.enter_context(_run_dir_lock(run.run_dir))
            trainer = _build_trainer(args, run)     # (creates run_dir)
            if not locked:
                held.enter_context(_run_dir_lock(run.run_dir))
            if not _prepare_locked(trainer, run):
                return 0
        except (_Terminated, KeyboardInterrupt) as stop:
            raise _stopped_before_training(stop, run) from None
        return _train_locked(trainer, run)


def _run_dir_of(args: Any) -> Path:
    for flag, value in (("--out", args.out), ("--data-dir", args.data_dir), ("--dataset", args.dataset)):
        if value is not None and not value.strip():     # "" would silently mean the default
            raise UsageError(f"{flag} is empty; give a path (or omit {flag} for the default)")
    # --resume CKPT continues in CKPT's folder unless --out names another (a fork of the run)
    return Path(args.out or (Path(args.resume).parent if args.resume else "runs/dcgan"))


def _open_checkpoint(args: Any, run: _Run) -> dict[str, Any] | None:
    """On --resume, read the checkpoint into ``run`` and return the config it trained with;
    for a new run, refuse an --out that already holds a checkpoint."""
    from .checkpoint import load_checkpoint
    from .train import CHECKPOINT_NAME
    own = run.run_dir / CHECKPOINT_NAME          # (a checkpoint kept inside the run's folder is its own)
    if args.resume is None:
        if own.exists():
            raise ConfigError(f"{run.run_dir} already holds a checkpoint; pass --resume to continue "
                              f"it or choose another --out")
        return None
    path = Path(args.resume) if args.resume else own
    if own.exists() and path.exists() and not path.parent.samefile(run.run_dir):
        raise ConfigError(f"--out {run.run_dir} holds another run's checkpoint, which resuming {path} "
                          f"there would overwrite; choose an empty --out (or resume {own})")
    run.checkpoint, run.source = load_checkpoint(path), path
    try:
        base, run.meta = dict(run.checkpoint["config"]), dict(run.checkpoint.get("meta") or {})
    except (KeyError, TypeError):
        raise ConfigError(f"{path} is not a training checkpoint (no config)") from None
    return base


def _build_trainer(args: Any, run: _Run) -> Any:
    """Check the options against the checkpoint and the data, load the data and build the
    Trainer (which creates run_dir); ``run.meta`` becomes the run's record of its data."""
    from .train import CHECKPOINT_NAME, Trainer, dataset_num_classes
    base = _open_checkpoint(args, run)
    checkpoint, meta, run_dir = run.checkpoint, run.meta, run.run_dir
    # Paths are stored absolute, so that --resume works from any working directory.
    dataset_spec = _absolute_spec(args.dataset or meta.get("dataset") or "mnist")
    if (checkpoint is not None and args.dataset
            and meta.get("dataset") not in (None, args.dataset, dataset_spec)):
        raise ConfigError(f"the checkpoint was trained on --dataset {meta['dataset']}, not {args.dataset}")
    _check_source_options(args, dataset_spec)
    image_shape = _image_shape(args, dataset_spec, checkpoint)
    run.eval_every = eval_every = args.eval_every if args.eval_every is not None else meta.get("eval_every")
    if eval_every:
        from .evaluate_cli import check_eval_shape
        check_eval_shape(image_shape if dataset_spec != "mnist" else None)   # before any file
    config = _config_from_args(args, base)
    if not (run_dir / CHECKPOINT_NAME).exists():     # a new run, or a fork into another --out
        _refuse_files_of_another_run(run_dir, config)
    if config.conditional and dataset_spec != "mnist":
        raise UsageError(f"--conditional needs class labels, and --dataset {dataset_spec} images are "
                         f"unlabelled (MNIST has labels)")
    verify = not (args.no_verify or meta.get("verify") is False)
    dataset = _load_dataset(dataset_spec, args.data_dir or meta.get("data_dir"), image_shape,
                            args.strict_size, verify)
    fingerprint = _check_dataset(dataset, config, meta, dataset_spec, checkpoint is not None)
    if eval_every and dataset_spec == "mnist":     # (other data in MNIST's files: --no-verify)
        check_eval_shape(tuple(dataset.images.shape[1:]))
    num_classes = dataset_num_classes(dataset) if config.conditional else None
    _check_model_size(config, tuple(dataset.images.shape[1:]), checkpoint,
                      args.resume or run_dir / CHECKPOINT_NAME, num_classes)
    source = getattr(dataset, "source", None)       # the MNIST folder actually read ($TENSORGAN_DATA,
    run.meta = {**meta, "dataset": dataset_spec,     # --data-dir or the cache), or "bundled"
                "data_dir": str(Path(source).resolve()) if source not in (None, "bundled") else None,
                "dataset_name": getattr(dataset, "name", None), "dataset_len": len(dataset),
                "dataset_fingerprint": fingerprint,
                "eval_every": eval_every, "verify": verify,   # kept, like the data, for --resume
                "trained_on_mnist": _trained_on_mnist(dataset_spec, dataset, meta)}
    return Trainer(dataset, run_dir, config)


def _check_dataset(dataset: Any, config: Any, meta: dict[str, Any], dataset_spec: str,
                   resumed: bool) -> str:
    """Refuse a batch larger than the dataset and, on --resume, other data than the run's (a
    warning where only the pixels differ); returns the images' fingerprint."""
    if config.batch_size > len(dataset):
        raise ConfigError(f"--batch-size {config.batch_size} is larger than the dataset's "
                          f"{len(dataset)} images")
    trained_on = meta.get("dataset_len")
    if resumed and trained_on is not None and trained_on != len(dataset):
        raise ConfigError(f"the checkpoint was trained on {trained_on} images "
                          f"({meta.get('dataset_name') or dataset_spec}), but {len(dataset)} were "
                          f"loaded ({getattr(dataset, 'name', dataset_spec)}); point --data-dir (or "
                          f"TENSORGAN_DATA) at the data it was trained on")
    fingerprint = _images_fingerprint(dataset.images)
    if resumed and meta.get("dataset_fingerprint") not in (None, fingerprint):
        warnings.warn(f"the {len(dataset)} images loaded are not those the checkpoint was trained on "
                      f"(same count, other pixels: files changed in {dataset_spec}?); resuming on "
                      f"them, so the run is no longer the one an uninterrupted run would give")
    return fingerprint


def _prepare_locked(trainer: Any, run: _Run) -> bool:
    """Restore the checkpoint and write config.json; False when the run is already complete."""
    if run.checkpoint is not None:
        trainer.load_state_dict(run.checkpoint, source=str(run.source))
    trainer.meta = run.meta
    if trainer.step >= trainer.total_steps:
        print(f"tensorgan: the run is already at step {trainer.step} of {trainer.total_steps}: "
              f"pass a larger --steps or --epochs to train further", file=sys.stderr)
        return False
    _write_config(run.run_dir, trainer)
    run.config_written = True
    return True


def _stopped_before_training(stop: BaseException, run: _Run) -> BaseException:
    """The exception that says what a SIGTERM or Ctrl-C before the first step left behind."""
    if not run.existed and run.run_dir.exists():
        made = f"created {run.run_dir}" + (" and its config.json" if run.config_written else "")
    else:
        made = f"wrote {run.run_dir / 'config.json'}" if run.config_written else ""
    left = f"no step was run and no checkpoint written ({made})" if made else "nothing was written"
    if isinstance(stop, _Terminated):
        return _Terminated(f"terminated before training began; {left}")
    return _Interrupted(f"interrupted before training began; {left}")


def _train_locked(trainer: Any, run: _Run) -> int:
    from .evaluate_cli import make_eval_hook
    from .train import CHECKPOINT_NAME
    kept = run.run_dir / CHECKPOINT_NAME
    terminated: list[int] = []
    try:
        with _sigterm_stops(trainer) as terminated:
            summary = trainer.fit(progress=run.progress, on_step=make_eval_hook(trainer, run.eval_every))
    except KeyboardInterrupt:   # a second Ctrl-C / SIGTERM: the checkpoint on disk is the last whole one
        stopped = f"{'terminated' if terminated else 'interrupted'} at step {trainer.step}"
        raise (_Terminated if terminated else _Interrupted)(_checkpoint_left(stopped, kept, trainer.step)) from None
    except OSError as exc:      # disk full mid-run: say where the run stands, not just errno's text
        if exc.errno is None:
            raise
        raise type(exc)(exc.errno, f"{exc.strerror or exc}; training stopped at step {trainer.step}"
                        + (f", {kept} holds the last checkpoint (continue with --resume)"
                           if kept.exists() else ""), exc.filename) from None
    if summary["interrupted"]:
        print(f"tensorgan: {'terminated' if terminated else 'interrupted'} at step {summary['step']}; "
              f"checkpoint written to {kept} (continue with --resume)", file=sys.stderr)
        return 128 + signal.SIGTERM if terminated else 130
    print(_summary_line(summary, trainer, run.run_dir))
    return 0


def _checkpoint_left(stopped: str, kept: Path, step: int) -> str:
    """``stopped``, and which checkpoint is whole: checkpoints are written atomically (a temp file
    renamed over the old one), so a stop in the middle of a write leaves the previous one."""
    saved = _checkpoint_step(kept)
    if saved is None:
        return f"{stopped} before any checkpoint was written (start the run again)"
    if saved == step:
        return f"{stopped}; {kept} is intact and holds step {saved} (continue with --resume)"
    return (f"{stopped} before its checkpoint was complete; {kept} is intact and holds step "
            f"{saved} (continue with --resume)")


def _checkpoint_step(path: Path) -> int | None:
    """The step a checkpoint holds, from its header alone (None: no readable checkpoint)."""
    import json
    from .checkpoint import _META_KEY
    try:
        with np.load(path, allow_pickle=False) as archive:
            return int(json.loads(str(archive[_META_KEY]))["step"])
    except Exception:       # (missing, or not a checkpoint: there is none to resume)
        return None


def _summary_line(summary: dict[str, Any], trainer: Any, run_dir: Path) -> str:
    from .train import CHECKPOINT_NAME
    per_step = summary["seconds_per_step"]
    rate = (f" ({per_step:.3f} s/step; train_step median {summary['median_step_seconds']:.3f} s, "
            f"first {summary['first_step_seconds']:.3f} s)" if per_step else "")
    last = summary["last"]
    last_g = next((r["loss_g"] for r in reversed(trainer.history) if "loss_g" in r), None)
    losses = (f"; Loss_D {last['loss_d']:.4f}" + (f", Loss_G {last_g:.4f}" if last_g is not None else "")
              if last else "")
    skipped = (f"; {summary['skipped']} non-finite updates skipped (--on-nonfinite skip)"
               if summary["skipped"] else "")
    return (f"trained to step {summary['step']} ({summary['steps_run']} steps in "
            f"{summary['seconds']:.1f} s{rate}{losses}{skipped}); samples {run_dir / 'samples.png'}, "
            f"checkpoint {run_dir / CHECKPOINT_NAME}")


@contextlib.contextmanager
def _run_dir_lock(run_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on the run directory while training into it: a second 'tensorgan
    train' on the same --out (another terminal, a forgotten tmux) would otherwise train beside
    the first, each overwriting the other's checkpoints and log. flock on the directory itself
    (no lock file to leave behind); the kernel drops it when the process ends, even by SIGKILL.
    Best effort: not on Windows (no flock), nor where the file system refuses to lock a
    directory (NFS emulates flock with byte-range locks, which need a file open for writing:
    EBADF; some FUSE mounts: ENOLCK / EOPNOTSUPP) -- training goes on there unlocked.
    The descriptor is close-on-exec (Python's default, PEP 446; spelled out here): a program the
    trainer starts (matplotlib's fc-list, a user's hook) does not inherit it, so one that outlives
    a SIGKILLed trainer leaves --out free. Nothing in tensorgan forks without exec (DataLoader's
    num_workers is accepted but batches are gathered in-process); such a child would share it."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    fd = os.open(run_dir, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigError(f"--out {run_dir} is in use: another 'tensorgan train' is training "
                              f"into it now; wait for it to end (or stop it) or choose another "
                              f"--out") from None
        except OSError:
            pass        # no directory locks on this file system (see above): train unlocked
        yield
    finally:
        os.close(fd)


@contextlib.contextmanager
def _sigterm_stops(trainer: Any) -> Iterator[list[int]]:
    """SIGTERM (kill, timeout, docker stop, a batch system's end of job) during fit() does what
    Ctrl-C does: finish the step, write a checkpoint, return; a second one stops at once. Yields
    a list that holds the signal once one came (empty: none)."""
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def handler(signum: int, frame: Any) -> None:
        if received:            # a second SIGTERM: stop now (main says "interrupted", 130)
            raise KeyboardInterrupt
        received.append(signum)
        trainer.request_stop()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield received
    finally:
        signal.signal(signal.SIGTERM, previous)


def _trained_on_mnist(dataset_spec: str, dataset: Any, meta: dict[str, Any]) -> bool:
    """Whether the run's images are MNIST's (and were before a --resume): the metrics of
    ``eval`` / ``--eval-every`` compare with MNIST's test set, which says little otherwise.
    The images are hashed only where loading did not already verify them as MNIST's."""
    from .data.mnist import is_mnist_images
    return (meta.get("trained_on_mnist") is not False and dataset_spec == "mnist"
            and (getattr(dataset, "verified_mnist", False) or is_mnist_images(dataset.images)))


def _refuse_files_of_another_run(run_dir: Path, config: Any) -> None:
    """A new run (or a fork) writes config.json and logs (metrics.jsonl, eval.jsonl) in --out,
    keeping only the records of its own steps: refuse an --out whose files are another run's
    (one whose checkpoint was moved away: its log would be destroyed, or a fork's mixed into it)
    or not a run's at all (``--out .`` beside a project's config.json). The same run started
    again -- killed before its first checkpoint -- has the same settings and goes on."""
    import json
    from .train import CHECKPOINT_NAME, METRICS_NAME
    config_path = run_dir / "config.json"
    saved = None
    if config_path.is_file():
        try:
            saved = json.loads(config_path.read_text(encoding="utf-8")).get("config")
        except (ValueError, UnicodeDecodeError, AttributeError):
            pass
        if not isinstance(saved, dict):
            raise ConfigError(f"--out {run_dir} holds a config.json that is not a tensorgan run's, "
                              f"which this run would overwrite; choose another --out")
    logs = [name for name in (METRICS_NAME, "eval.jsonl")
            if (run_dir / name).is_file() and (run_dir / name).stat().st_size]
    ours = config.to_dict()
    other = saved is None or any(saved[k] != ours[k] for k in saved.keys() & ours.keys()
                                 if k not in _RESUMABLE)
    if logs and other:
        raise ConfigError(f"--out {run_dir} holds the {' and '.join(logs)} of another run (with "
                          f"{'other settings' if saved is not None else 'no config.json'} and no "
                          f"{CHECKPOINT_NAME}), which this run would overwrite; choose an empty --out "
                          f"(or move those files away)")


def _images_fingerprint(images: np.ndarray) -> str:
    """A hash of the training images (0.1 s for MNIST), so that --resume notices a folder whose
    files changed while its image count stayed the same."""
    import hashlib
    digest = hashlib.blake2b(str(images.shape).encode(), digest_size=16)
    digest.update(memoryview(np.ascontiguousarray(images)).cast("B"))
    return digest.hexdigest()


def _write_config(run_dir: Path, trainer: Any) -> None:
    import json
    from .checkpoint import atomic_write
    text = json.dumps({"config": trainer.config.to_dict(), "image_shape": list(trainer.image_shape),
                       "architecture": {"generator": trainer.G.config(),
                                        "discriminator": trainer.D.config()},
                       "meta": trainer.meta}, indent=2)
    atomic_write(run_dir / "config.json", lambda f: f.write(text.encode()))


# ---------------------------------------------------------------------------------------------
# sample
# ---------------------------------------------------------------------------------------------
def _add_sample_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", required=True, type=user_path, help="a checkpoint written by 'tensorgan train'")
    p.add_argument("-n", "--num", type=positive_int, default=64, help="images to generate (default 64)")
    p.add_argument("-o", "--output", required=True, type=user_path,
                   help="OUT.npy (uint8 array (N, C, H, W)) or OUT.png (a grid)")
    p.add_argument("--seed", type=seed_int, default=0, help="noise seed (default 0)")
    p.add_argument("--batch-size", type=positive_int, default=256, help="images per forward pass")


def load_generator(path: str | os.PathLike[str], device: Any = None, ema: bool | None = None) -> Any:
    """The trained generator stored in a training checkpoint, in eval mode: its EMA generator
    where it keeps one (``ema=None``, or ``True``, which refuses a checkpoint without), else G.
    ``G.is_ema`` says which."""
    from .checkpoint import load_checkpoint
    from .models.dcgan import Generator
    from .random import Generator as RandomGenerator
    state = load_checkpoint(path)
    from .errors import TensorganError
    try:
        g_config, weights = state["architecture"]["generator"], state["models"]["generator"]
        averaged = state["models"].get("generator_ema") if ema is not False else None
        if ema and averaged is None:
            raise CheckpointError(f"{path} keeps no EMA generator (trained without --ema)")
        if averaged is not None:        # AveragedModel's keys: module.* and n_averaged
            weights = {k[len("module."):]: v for k, v in averaged.items() if k.startswith("module.")}
        _check_stored_generator(path, g_config, weights)
        G = Generator(g_config["image_shape"], g_config["latent_dim"], g_config["base_channels"],
                      g_config["head"], generator=RandomGenerator(0),
                      num_classes=g_config.get("num_classes"))
    except (KeyError, TypeError, IndexError) as exc:
        raise CheckpointError(f"{path} holds no generator (missing {exc})") from None
    except CheckpointError:     # (already names the file and the damage)
        raise
    except (TensorganError, ValueError, MemoryError) as exc:  # a damaged architecture record
        raise CheckpointError(f"{path}: the generator architecture it records cannot be built "
                              f"({type(exc).__name__}: {exc})") from None
    try:
        G.load_state_dict(weights)
    except CheckpointError as exc:
        raise CheckpointError(f"{path}: {exc}") from None
    if device is not None:
        G.to(device)
    G.is_ema = averaged is not None
    meta = state.get("meta")
    G.train_meta = dict(meta) if isinstance(meta, dict) else {}     # what it was trained on
    return G.eval()


def _check_stored_generator(path: Any, g_config: dict[str, Any], weights: Any) -> None:
    """Refuse a generator whose stored weights are not finite, and, before building it, a generator the checkpoint's architecture describes as larger
    than the weights it stores: a damaged record (base_channels 10**6) would otherwise allocate and
    initialize hundreds of GB and be OOM-killed without a message. (A smaller one is cheap to
    build, and load_state_dict then names the first parameter whose shape differs.)"""
    from .models.dcgan import state_numel
    if not isinstance(weights, dict):
        raise CheckpointError(f"{path}: its generator weights are a {type(weights).__name__}, "
                              f"not a state dict")
    stored = sum(int(np.size(v)) for v in weights.values())
    described = state_numel(g_config)
    if described > stored:
        raise CheckpointError(f"{path}: the generator architecture it records ({g_config}) has "
                              f"{described:,} numbers in its state, but the checkpoint stores "
                              f"{stored:,}: the file is damaged or was edited")
    for name, value in weights.items():    # the trainer never saves these; an edited file might
        if np.issubdtype(np.asarray(value).dtype, np.floating) and not np.isfinite(value).all():
            raise CheckpointError(f"{path}: the generator's {name!r} holds NaN or infinite values; "
                                  f"its images would be garbage")


def generate_images(G: Any, n: int, seed: int = 0, batch_size: int = 256) -> np.ndarray:
    """``n`` uint8 images ``(n, C, H, W)`` from noise seeded with ``seed`` (a conditional
    generator's classes in turn: 0, 1, ..., K-1, 0, ...)."""
    from .random import Generator as RandomGenerator
    from .tensor import Tensor, no_grad
    from .train import to_uint8
    noise = RandomGenerator(seed).normal((n, G.latent_dim))
    classes = getattr(G, "num_classes", None)
    device = G.device
    chunks = []
    with no_grad():
        for start in range(0, n, batch_size):
            z = Tensor._from(noise[start:start + batch_size], device=device)
            labels = (np.arange(start, start + len(z)) % classes,) if classes else ()
            chunks.append(to_uint8(G(z, *(device.xp.asarray(y) for y in labels)).numpy()))
    return np.concatenate(chunks)


def planned_model_configs(config: Any, image_shape: tuple[int, ...],
                          num_classes: int | None = None) -> dict[str, dict[str, Any]]:
    """The ``config()`` dicts of the generator and discriminator a Trainer with ``config`` builds
    for ``image_shape`` images (``num_classes``: a conditional run's), without building them
    (tests pin them to the built ones)."""
    from .models.dcgan import MLPDiscriminator
    shape = list(image_shape)
    classes = {"num_classes": num_classes} if num_classes is not None else {}
    generator = {"type": "Generator", "image_shape": shape, "latent_dim": config.latent_dim,
                 "base_channels": config.base_channels, "head": None, **classes}
    if config.discriminator == "mlp":
        hidden = inspect.signature(MLPDiscriminator).parameters["hidden"].default
        discriminator = {"type": "MLPDiscriminator", "image_shape": shape, "hidden": list(hidden)}
    else:
        discriminator = {"type": "Discriminator", "image_shape": shape,
                         "base_channels": config.base_channels, "norm": config.d_norm, **classes}
    return {"generator": generator, "discriminator": discriminator}


def _check_model_size(config: Any, image_shape: tuple[int, ...], checkpoint: Any, path: Any,
                      num_classes: int | None = None) -> None:
    """Before the trainer builds its models, refuse (1) on --resume, a checkpoint whose training
    config describes larger models than the weights it stores (an edited base_channels 10**6
    would be built, ~hundreds of GB, before the weights were compared), and (2) models whose
    weights, gradients and Adam moments (4 float32 copies) would not fit in memory: either way
    the OOM killer would otherwise end the process without a message."""
    from .models.dcgan import state_numel
    described = {network: state_numel(planned)
                 for network, planned in planned_model_configs(config, image_shape, num_classes).items()}
    if checkpoint is not None:
        models = checkpoint.get("models") if isinstance(checkpoint.get("models"), dict) else {}
        for network, count in described.items():
            weights = models.get(network)
            stored = sum(int(np.size(v)) for v in weights.values()) if isinstance(weights, dict) else 0
            if count > stored:
                raise CheckpointError(f"{path}: its training config describes a {network} with "
                                      f"{count:,} numbers in its state (latent_dim "
                                      f"{config.latent_dim}, base_channels {config.base_channels}), "
                                      f"but the checkpoint stores {stored:,}: the file is damaged or "
                                      f"was edited")
    need = 4 * 4 * sum(described.values())
    available = _available_memory()
    if available is not None and need > available:
        raise ConfigError(f"the models (--base-channels {config.base_channels}, --latent-dim "
                          f"{config.latent_dim}, {'x'.join(map(str, image_shape))} images) need about "
                          f"{need / 2**30:.1f} GiB for their weights, gradients and Adam's moments, "
                          f"more than the {available / 2**30:.1f} GiB available")


def _check_sample_memory(n: int, latent_dim: int, image_shape: tuple[int, ...]) -> None:
    """Refuse an -n whose noise (float32) and images (uint8, held ~3 times: the chunks, their
    concatenation, the file's bytes) would not fit: the OOM killer would end the process unnamed."""
    need = n * (4 * latent_dim + 3 * math.prod(image_shape))
    available = _available_memory()
    if available is not None and need > available:
        raise ConfigError(f"-n {n} needs about {need / 2**30:.1f} GiB of memory for the noise and "
                          f"images, more than the {available / 2**30:.1f} GiB available; ask for "
                          f"fewer images (several runs with other --seed values)")


def _run_sample(args: Any) -> int:
    from .checkpoint import atomic_write
    from .train import save_grid
    out = Path(args.output)
    if out.suffix.lower() not in (".npy", ".png"):
        raise ConfigError(f"output {out} must end in .npy (uint8 array) or .png (grid)")
    if not out.parent.is_dir():
        raise ConfigError(f"output folder {out.parent} "
                          + ("is not a folder" if out.parent.exists() else "does not exist"))
    G = load_generator(args.checkpoint, args.device)
    _check_sample_memory(args.num, G.latent_dim, G.image_shape)
    drawn_by = " by the EMA generator" if G.is_ema else ""
    images = generate_images(G, args.num, args.seed, args.batch_size)
    if out.suffix.lower() == ".npy":
        buffer = io.BytesIO()
        np.save(buffer, images, allow_pickle=False)
        atomic_write(out, lambda f: f.write(buffer.getvalue()))
    else:
        save_grid(images, out)
    print(f"wrote {len(images)} images {tuple(images.shape[1:])}{drawn_by} to {out}")
    return 0


register_command("train", "train a DCGAN (MNIST by default)", _add_train_arguments, _run_train)
register_command("sample", "generate images from a checkpoint", _add_sample_arguments, _run_sample)


# ---------------------------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------------------------
def _load_plugins() -> None:
    for name in PLUGIN_MODULES:
        try:
            if importlib.util.find_spec(name) is None:
                continue
            module = importlib.import_module(name)
        except Exception:  # a broken optional module must not break train/sample
            continue
        hook = getattr(module, "register_cli", None)
        if callable(hook):
            hook(register_command)


def _common_options(default: Any) -> argparse.ArgumentParser:
    """--device and --debug, with their own action objects (parents share them, and a default
    set on one parser would otherwise change the other's)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--device", default=default, help="cpu or cuda (default: cuda when usable, else cpu)")
    common.add_argument("--debug", action="store_true", default=False if default is None else default,
                        help="show tracebacks on errors")
    return common


def build_parser() -> argparse.ArgumentParser:
    _load_plugins()
    # --device and --debug go before or after the command (tensorgan --device cpu train ...):
    # the subcommand's copies default to SUPPRESS so that they do not undo the top-level ones.
    common = _common_options(argparse.SUPPRESS)
    parser = _Parser(prog="tensorgan", description="A from-scratch GAN library: train, sample and evaluate DCGANs.",
                     parents=[_common_options(None)])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name, (help_text, add_arguments, run) in _COMMANDS.items():
        p = sub.add_parser(name, help=help_text, parents=[common], description=help_text)
        add_arguments(p)
        p.set_defaults(run=run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as exc:
        print(f"tensorgan: error: {_unknown_before_command(parser, argv) or exc}", file=sys.stderr)
        return 2
    try:
        from .backend import get_device
        get_device(args.device)  # fail now, with the reason ($TENSORGAN_DEVICE too), not mid-setup
        with warnings.catch_warnings(), _sigterm_ends_command():
            warnings.showwarning = _one_line_warning
            return int(args.run(args) or 0)
    except _Terminated as exc:
        if debug:
            raise
        print(f"tensorgan: {exc or 'terminated'}", file=sys.stderr)
        return 128 + signal.SIGTERM
    except UsageError as exc:
        if debug:
            raise
        print(f"tensorgan: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        if debug:
            raise
        print(f"tensorgan: {exc if isinstance(exc, _Interrupted) else 'interrupted'}", file=sys.stderr)
        return 130
    except (TensorganError, OSError) as exc:
        if debug:
            raise
        print(f"tensorgan: error: {_one_line(exc)}", file=sys.stderr)
        return 1
    except Exception as exc:  # a bug, not a user error: still one line unless --debug
        if debug:
            raise
        print(f"tensorgan: internal error: {type(exc).__name__}: {_one_line(exc)} "
              f"(run with --debug for the traceback)", file=sys.stderr)
        return 1


@contextlib.contextmanager
def _sigterm_ends_command() -> Iterator[None]:
    """SIGTERM raises _Terminated (one line, exit 143) while a command runs, as Ctrl-C raises
    KeyboardInterrupt; ``train`` says how far the run got, and ``fit()`` installs its own handler
    (finish the step, checkpoint). Afterwards the handler before main() is back -- or the
    default, where that was _cli_startup's import-time one, whose message would be wrong now."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise _Terminated()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is _cli_startup.terminated_while_starting
                      else previous)


def _unknown_before_command(parser: argparse.ArgumentParser, argv: list[str]) -> str | None:
    """For ``tensorgan --frobnicate train``: argparse says the COMMAND is missing; name the
    option it did not know instead."""
    commands = set(_COMMANDS)
    head = argv[:next((i for i, a in enumerate(argv) if a in commands), len(argv))]
    known = {s for action in parser._actions for s in action.option_strings}
    unknown = [a for a in head if a.startswith("-") and a.split("=", 1)[0] not in known]
    if not unknown:
        return None
    return (f"unrecognized arguments: {' '.join(unknown)} (the options of a command go after it: "
            f"tensorgan COMMAND [options]; see 'tensorgan --help')")


def _one_line_warning(message: Any, category: type, filename: str, lineno: int,
                      file: Any = None, line: str | None = None) -> None:
    """Warnings as one line (``tensorgan: warning: ...``), not Python's file:line plus source."""
    print(f"tensorgan: warning: {' '.join(str(message).split())}", file=file or sys.stderr)


def _one_line(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, OSError) and exc.filename and exc.strerror:
        text = f"{exc.filename}: {exc.strerror}"
    return " ".join(text.split())


if __name__ == "__main__":
    sys.exit(main())
