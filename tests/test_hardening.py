"""Hardening (issue 7): every bad input is a typed error naming what was wrong, every fault during
training costs at most the work since the last checkpoint, and the CLI reports each in one line.

Tests that already live elsewhere are not repeated here:
  tests/test_train.py  exact resume (epoch boundary, dropout streams), atomic write that fails in
                       np.savez, non-finite stop/skip, in-process SIGINT, invalid TrainConfig,
                       unwritable run dir, corrupt/foreign/pickled checkpoints (library)
  tests/test_cli.py    SIGKILL mid-run then --resume matches an uninterrupted run, one-line errors
                       (bad --lr/--batch-size, missing checkpoint), --debug traceback
  tests/test_data.py   IDX truncation/magic/counts/hypothesis-mutated bytes, ImageFolder errors,
                       DataLoader validation
"""
from __future__ import annotations

import errno
import io
import json
import os
import stat
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

import tensorgan as tg
import tensorgan.checkpoint as ckpt
from tensorgan import functional as F
from tensorgan import nn, optim
from tensorgan.cli import load_generator, main
from tensorgan.data import ArrayDataset, DataLoader, write_idx
from tensorgan.errors import (CheckpointError, ConfigError, DeviceError, DTypeError,
                              InputTypeError, NonFiniteError, ShapeError, TensorganError)
from tensorgan.train import TrainConfig, Trainer

REPO = Path(__file__).resolve().parents[1]
fast = settings(max_examples=60, deadline=5000, suppress_health_check=[HealthCheck.function_scoped_fixture])


def t(*shape, dtype=np.float32, requires_grad=False):
    return tg.tensor(np.linspace(-1, 1, int(np.prod(shape)), dtype=dtype).reshape(shape),
                     requires_grad=requires_grad)


def raises(fn, cls, *needles):
    """fn() raises exactly a ``cls`` (a TensorganError) whose message holds every needle."""
    with pytest.raises(TensorganError) as info:
        fn()
    assert isinstance(info.value, cls), f"{type(info.value).__name__}: {info.value}"
    for needle in needles:
        assert needle.lower() in str(info.value).lower(), f"{needle!r} not in {str(info.value)!r}"
    return info.value


ARRAY = np.ones((2, 3), np.float32)

# (label, call, error class, substrings the message must contain)
OP_CASES = [
    # -- elementary ops and Tensor methods --
    ("add shapes", lambda: t(2, 3) + t(4), ShapeError, ["add", "(2, 3)", "(4,)"]),
    ("matmul dtypes", lambda: t(2, 2) @ t(2, dtype=np.float64), DTypeError, ["MatMul", "float32", "float64"]),
    ("add string", lambda: t(2) + "a", InputTypeError, ["str"]),
    ("matmul", lambda: t(2, 3) @ t(4, 5), ShapeError, ["matmul", "(2, 3)", "(4, 5)"]),
    ("reshape", lambda: t(2, 3).reshape(4), ShapeError, ["reshape", "(2, 3)", "(4,)"]),
    ("sum axis", lambda: t(2, 3).sum(axis=3), ShapeError, ["axis 3"]),
    ("permute", lambda: t(2, 3).permute(0, 0), ShapeError, ["permute", "(0, 0)"]),
    ("transpose", lambda: t(2, 3).transpose(0, 5), ShapeError, ["transpose", "5", "(2, 3)"]),
    ("index", lambda: t(2, 3)[5], ShapeError, ["index", "5", "(2, 3)"]),
    ("pow shapes", lambda: t(2, 3) ** t(4), ShapeError, ["pow", "(2, 3)", "(4,)"]),
    ("pow string", lambda: t(2) ** "a", InputTypeError, ["exponent", "str"]),
    ("clip string", lambda: t(2).clip("a"), InputTypeError, ["clip", "str"]),
    ("item", lambda: t(2).item(), ShapeError, ["item", "(2,)"]),
    ("backward shape", lambda: (t(2, requires_grad=True) * 2).backward(np.ones(3)), ShapeError,
     ["(3,)", "(2,)"]),
    ("to uint16", lambda: t(2).to("uint16"), DTypeError, ["uint16"]),
    ("tensor uint32 dtype", lambda: tg.tensor([1, 2], dtype=np.uint32), DTypeError, ["uint32"]),
    ("int tensor requires grad", lambda: tg.tensor([1, 2], dtype=tg.int64, requires_grad=True),
     DTypeError, ["only float tensors", "int64"]),
    ("int zeros requires grad", lambda: tg.zeros(2, dtype=tg.int64, requires_grad=True), DTypeError,
     ["only float tensors", "int64"]),
    ("tensor string", lambda: tg.tensor("abc"), InputTypeError, ["str"]),
    ("tensor ragged", lambda: tg.tensor([[1.0, 2.0], [3.0]]), ShapeError, ["ragged"]),
    ("zeros negative", lambda: tg.zeros(2, -1), ShapeError, ["zeros", "(2, -1)"]),
    ("randn negative", lambda: tg.randn(-3), ShapeError, ["randn", "(-3,)"]),
    ("concat none", lambda: tg.concat([]), ShapeError, ["concat"]),
    ("concat shapes", lambda: tg.concat([t(2, 3), t(2, 4)]), ShapeError, ["(2, 3)", "(2, 4)"]),
    ("device unknown", lambda: tg.tensor([1.0], device="tpu"), DeviceError, ["tpu"]),
    # -- functional --
    ("conv2d rank", lambda: F.conv2d(t(8, 8), t(4, 1, 3, 3)), ShapeError, ["conv2d", "(8, 8)"]),
    ("conv2d channels", lambda: F.conv2d(t(1, 2, 8, 8), t(4, 1, 3, 3)), ShapeError,
     ["conv2d", "(1, 2, 8, 8)", "(4, 1, 3, 3)"]),
    ("conv2d dtype", lambda: F.conv2d(t(1, 1, 8, 8), t(4, 1, 3, 3, dtype=np.float64)), DTypeError,
     ["Conv2d", "float32", "float64"]),
    ("conv2d array input", lambda: F.conv2d(np.ones((1, 1, 8, 8)), t(4, 1, 3, 3)), InputTypeError,
     ["conv2d", "input", "ndarray"]),
    ("conv2d array bias", lambda: F.conv2d(t(1, 1, 8, 8), t(4, 1, 3, 3), np.ones(4, np.float32)),
     InputTypeError, ["conv2d", "bias", "ndarray"]),
    ("conv2d bias dtype", lambda: F.conv2d(t(1, 1, 8, 8), t(4, 1, 3, 3), t(4, dtype=np.float64)),
     DTypeError, ["float32", "float64"]),
    ("conv2d kernel", lambda: F.conv2d(t(1, 1, 2, 2), t(4, 1, 3, 3)), ShapeError, ["conv2d", "(3, 3)"]),
    ("conv2d stride", lambda: F.conv2d(t(1, 1, 8, 8), t(4, 1, 3, 3), stride=0), ConfigError, ["stride"]),
    ("conv_t rank", lambda: F.conv_transpose2d(t(8, 8), t(1, 4, 3, 3)), ShapeError,
     ["conv_transpose2d", "(8, 8)"]),
    ("conv_t channels", lambda: F.conv_transpose2d(t(1, 2, 8, 8), t(1, 4, 3, 3)), ShapeError,
     ["conv_transpose2d", "(1, 2, 8, 8)", "(1, 4, 3, 3)"]),
    ("conv_t dtype", lambda: F.conv_transpose2d(t(1, 1, 8, 8, dtype=np.float64), t(1, 4, 3, 3)),
     DTypeError, ["float32", "float64"]),
    ("conv_t output_padding", lambda: F.conv_transpose2d(t(1, 1, 4, 4), t(1, 1, 3, 3), stride=2,
                                                         output_padding=2), ConfigError, ["output_padding"]),
    ("batch_norm rank", lambda: F.batch_norm(t(2, 3, 4, 5, 6, 2), None, None, training=True), ShapeError,
     ["batch_norm", "(2, 3, 4, 5, 6, 2)"]),
    ("batch_norm weight", lambda: F.batch_norm(t(2, 3), None, None, t(4), training=True), ShapeError,
     ["batch_norm", "weight", "(4,)", "(2, 3)"]),
    ("batch_norm stats dtype", lambda: F.batch_norm(t(2, 3, dtype=np.float64), t(3), t(3)), DTypeError,
     ["batch_norm", "running_mean", "float32", "float64"]),
    ("batch_norm array stats", lambda: F.batch_norm(t(2, 3), np.zeros(3), np.ones(3)), InputTypeError,
     ["batch_norm", "running_mean", "ndarray"]),
    ("batch_norm eps", lambda: F.batch_norm(t(2, 3), None, None, training=True, eps=0.0), ConfigError,
     ["eps"]),
    ("batch_norm one value", lambda: F.batch_norm(t(1, 3), None, None, training=True), ShapeError,
     ["batch_norm", "(1, 3)"]),
    ("leaky_relu array", lambda: F.leaky_relu(ARRAY), InputTypeError, ["leaky_relu", "ndarray"]),
    ("relu array", lambda: F.relu(ARRAY), InputTypeError, ["relu", "ndarray"]),
    ("sigmoid array", lambda: F.sigmoid(ARRAY), InputTypeError, ["sigmoid", "ndarray"]),
    ("tanh list", lambda: F.tanh([1.0]), InputTypeError, ["tanh", "list"]),
    ("linear features", lambda: F.linear(t(2, 3), t(4, 5)), ShapeError, ["linear", "(2, 3)", "(4, 5)"]),
    ("linear dtype", lambda: F.linear(t(2, 5), t(4, 5, dtype=np.float64)), DTypeError, ["float64"]),
    ("linear bias", lambda: F.linear(t(2, 5), t(4, 5), t(3)), ShapeError, ["linear", "bias", "(3,)"]),
    ("linear array bias", lambda: F.linear(t(2, 5), t(4, 5), np.ones(4, np.float32)), InputTypeError,
     ["linear", "bias", "ndarray"]),
    ("dropout p", lambda: F.dropout(t(3), p=1.5), ConfigError, ["dropout", "1.5"]),
    ("dropout p string", lambda: F.dropout(t(3), "a"), InputTypeError, ["dropout", "p", "str"]),
    ("leaky_relu slope string", lambda: F.leaky_relu(t(3), "a"), InputTypeError,
     ["leaky_relu", "negative_slope", "str"]),
    ("batch_norm momentum string", lambda: F.batch_norm(t(4, 3), None, None, training=True, momentum="a"),
     InputTypeError, ["batch_norm", "momentum", "str"]),
    ("batch_norm eps None", lambda: F.batch_norm(t(4, 3), None, None, training=True, eps=None),
     InputTypeError, ["batch_norm", "eps", "NoneType"]),
    ("fused slope None", lambda: F.batch_norm_leaky_relu(t(4, 3), None, None, training=True,
                                                         negative_slope=None),
     InputTypeError, ["batch_norm_leaky_relu", "negative_slope"]),
    ("mse target string", lambda: F.mse_loss(t(3), "a"), InputTypeError, ["mse_loss", "target", "str"]),
    ("dropout array", lambda: F.dropout(ARRAY), InputTypeError, ["dropout", "ndarray"]),
    ("bce shapes", lambda: F.binary_cross_entropy_with_logits(t(4, 1), t(4)), ShapeError,
     ["binary_cross_entropy_with_logits", "(4,)", "(4, 1)"]),
    ("bce target dtype", lambda: F.binary_cross_entropy(t(4), t(4, dtype=np.float64)),
     DTypeError, ["binary_cross_entropy", "target", "float64", "float32"]),
    ("bce array logits", lambda: F.binary_cross_entropy_with_logits(np.zeros(4), 1.0), InputTypeError,
     ["binary_cross_entropy_with_logits", "ndarray"]),
    ("bce reduction", lambda: F.binary_cross_entropy_with_logits(t(4), 1.0, reduction="avg"), ConfigError,
     ["reduction", "avg"]),
    ("cross_entropy target shape", lambda: F.cross_entropy(t(4, 3), np.zeros(5, np.int64)), ShapeError,
     ["cross_entropy", "(5,)", "(4,)"]),
    ("cross_entropy float target", lambda: F.cross_entropy(t(4, 3), np.full(4, 0.5)), DTypeError,
     ["cross_entropy", "integer"]),
    ("cross_entropy class range", lambda: F.cross_entropy(t(4, 3), np.full(4, 3)), ConfigError,
     ["cross_entropy", "[0, 3)"]),
    ("cross_entropy rank", lambda: F.cross_entropy(t(4, 3, 2), np.zeros(4, np.int64)), ShapeError,
     ["cross_entropy", "(4, 3, 2)"]),
    ("softmax dim", lambda: F.softmax(t(4, 3), dim=2), ShapeError, ["softmax", "dim 2", "(4, 3)"]),
    ("log_softmax array", lambda: F.log_softmax(ARRAY), InputTypeError, ["log_softmax", "ndarray"]),
    ("max_pool2d rank", lambda: F.max_pool2d(t(4, 4), 2), ShapeError, ["max_pool2d", "(4, 4)"]),   # (C, H, W) is torch's unbatched layout
    ("avg_pool2d too big", lambda: F.avg_pool2d(t(1, 1, 1, 1), 2), ShapeError, ["avg_pool2d", "(1, 1)"]),
    ("losses generator kind", lambda: tg.losses.generator_loss(t(4), "wasserstein"), ConfigError,
     ["wasserstein"]),
    ("losses discriminator shapes", lambda: tg.losses.discriminator_loss(ARRAY, t(4)), InputTypeError,
     ["ndarray"]),
]


@pytest.mark.parametrize("call, cls, needles", [c[1:] for c in OP_CASES], ids=[c[0] for c in OP_CASES])
def test_every_public_op_rejects_bad_input_with_a_typed_error(call, cls, needles):
    raises(call, cls, *needles)


def _modules():
    g = tg.Generator(0)
    return {
        "Linear": nn.Linear(3, 4, generator=g), "Conv2d": nn.Conv2d(2, 4, 3, generator=g),
        "ConvTranspose2d": nn.ConvTranspose2d(2, 4, 3, generator=g), "BatchNorm1d": nn.BatchNorm1d(3),
        "BatchNorm2d": nn.BatchNorm2d(2), "LeakyReLU": nn.LeakyReLU(0.2), "ReLU": nn.ReLU(),
        "Tanh": nn.Tanh(), "Sigmoid": nn.Sigmoid(), "Dropout": nn.Dropout(0.5, generator=g),
        "Flatten": nn.Flatten(), "Unflatten": nn.Unflatten(1, (2, 2)),
        "Sequential": nn.Sequential(nn.Linear(3, 4, generator=g)),
    }


# (module, a good input shape, a wrong input shape or None when any shape is fine)
MODULE_CASES = [
    ("Linear", (2, 3), (2, 5)), ("Conv2d", (1, 2, 5, 5), (1, 3, 5, 5)),
    ("ConvTranspose2d", (1, 2, 3, 3), (3, 3)), ("BatchNorm1d", (2, 3), (2, 4)),
    ("BatchNorm2d", (2, 2, 3, 3), (2, 2)), ("LeakyReLU", (2, 3), None), ("ReLU", (2, 3), None),
    ("Tanh", (2, 3), None), ("Sigmoid", (2, 3), None), ("Dropout", (2, 3), None),
    ("Flatten", (2, 3, 2), ()), ("Unflatten", (2, 4), (2, 3)), ("Sequential", (2, 3), (2, 5)),
]
PARAMETRIC = {"Linear", "Conv2d", "ConvTranspose2d", "BatchNorm1d", "BatchNorm2d", "Sequential"}


@pytest.mark.parametrize("name, good, bad", MODULE_CASES, ids=[c[0] for c in MODULE_CASES])
def test_every_module_rejects_bad_input_with_a_typed_error(name, good, bad):
    module = _modules()[name]
    module(t(*good))  # the good input works
    raises(lambda: module(np.ones(good, np.float32)), InputTypeError, "ndarray")
    if bad is not None:
        raises(lambda: module(t(*bad)), ShapeError, str(tuple(bad)))
    if name in PARAMETRIC:  # float64 input into float32 weights names both dtypes
        raises(lambda: module(t(*good, dtype=np.float64)), DTypeError, "float64", "float32")


def test_dcgan_models_name_the_layer_and_shapes():
    G, D = tg.models.dcgan.build_models((1, 28, 28), latent_dim=8, base_channels=4)
    raises(lambda: G(t(2, 9)), ShapeError, "Linear", "(2, 9)")
    raises(lambda: D(t(2, 1, 32, 32)), ShapeError, "(2, 1, 32, 32)")
    raises(lambda: D(t(2, 3, 28, 28)), ShapeError, "(2, 3, 28, 28)")
    _, mlp = tg.models.dcgan.build_models((1, 8, 8), latent_dim=8, base_channels=4, discriminator="mlp")
    raises(lambda: mlp(t(2, 1, 28, 28)), ShapeError, "MLPDiscriminator", "(1, 8, 8)", "(2, 1, 28, 28)")


def test_device_mismatch_names_op_and_both_devices(monkeypatch):
    # Under the CUDA simulator 'cuda' exists (NumPy arrays), so device rules can be checked here.
    try:
        tg.get_device("cuda")
    except DeviceError:
        pytest.skip("no cuda device, real or simulated")
    a, b = t(2, 3), t(2, 3).to("cuda")
    raises(lambda: a + b, DeviceError, "Add", "cpu", "cuda")
    raises(lambda: F.binary_cross_entropy_with_logits(a, b), DeviceError, "target", "cpu", "cuda")
    raises(lambda: F.batch_norm(a, b[0], b[0]), DeviceError, "running_mean", "cpu", "cuda")
    raises(lambda: F.linear(a, t(4, 3).to("cuda")), DeviceError, "cpu", "cuda")
    raises(lambda: nn.Linear(3, 4).to("cuda")(a), DeviceError, "Linear", "cpu", "cuda")


# -- optimizers and hyperparameters ---------------------------------------------------------------
def _p():
    return nn.Parameter(np.ones(3, np.float32))


@pytest.mark.parametrize("make, cls, needles", [
    (lambda: optim.Adam([np.ones(3)]), InputTypeError, ["Adam", "ndarray"]),
    (lambda: optim.Adam(nn.Linear(2, 2)), ConfigError, ["Adam", "parameters()"]),
    (lambda: optim.SGD(3), ConfigError, ["SGD", "int"]),
    (lambda: optim.Adam([{"lr": 0.1}]), ConfigError, ["Adam", "params"]),
    (lambda: optim.Adam([t(3, requires_grad=True) * 2]), ConfigError, ["leaf"]),
    (lambda: optim.Adam([_p()], lr=-1), ConfigError, ["lr", "-1"]),
    (lambda: optim.Adam([_p()], lr="fast"), ConfigError, ["lr", "fast"]),
    (lambda: optim.Adam([_p()], betas=(0.9, 1.0)), ConfigError, ["betas[1]"]),
    (lambda: optim.Adam([_p()], betas=(-0.1, 0.9)), ConfigError, ["betas[0]"]),
    (lambda: optim.Adam([_p()], betas=0.9), ConfigError, ["betas"]),
    (lambda: optim.Adam([_p()], eps=-1e-8), ConfigError, ["eps"]),
    (lambda: optim.SGD([_p()], momentum=-0.1), ConfigError, ["momentum"]),
    (lambda: optim.SGD([_p()], momentum=1.5), ConfigError, ["momentum", "1.5"]),
    (lambda: optim.SGD([_p()], dampening=2.0), ConfigError, ["dampening"]),
    (lambda: optim.SGD([_p()], weight_decay=-1.0), ConfigError, ["weight_decay"]),
    (lambda: nn.BatchNorm2d(3, eps=0), ConfigError, ["eps"]),
    (lambda: nn.BatchNorm2d(3, momentum=1.5), ConfigError, ["momentum"]),
    (lambda: nn.Dropout(1.5), ConfigError, ["1.5"]),
    (lambda: nn.Conv2d(1, 1, 0), ConfigError, ["kernel_size"]),
    (lambda: nn.Linear(-1, 3), ConfigError, ["in_features"]),
    (lambda: DataLoader(ArrayDataset(np.zeros((4, 1, 2, 2), np.uint8)), batch_size=0), ConfigError,
     ["batch_size"]),
    (lambda: DataLoader(ArrayDataset(np.zeros((4, 1, 2, 2), np.uint8)), batch_size=5, drop_last=True),
     ConfigError, ["larger than the dataset"]),
])
def test_invalid_hyperparameters_are_config_errors(make, cls, needles):
    raises(make, cls, *needles)


@pytest.mark.parametrize("field, value, needle", [
    ("lr", -1e-3, "learning rate"), ("lr", 0.0, "learning rate"), ("lr", float("nan"), "learning rate"),
    ("lr", True, "learning rate"), ("beta1", 1.0, "beta1"), ("beta2", -0.5, "beta2"),
    ("beta1", "0.5", "beta1"), ("batch_size", 0, "batch_size"), ("steps", 0, "steps"),
    ("dropout", 1.5, "dropout"), ("seed", -1, "seed"), ("on_nonfinite", "ignore", "on_nonfinite"),
])
def test_invalid_train_config(field, value, needle):
    with pytest.raises(ConfigError, match=needle):
        TrainConfig(**{"steps": 1, field: value}).validate()


# -- shared fixtures for trainer / CLI tests ------------------------------------------------------
@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(0)
    images = np.zeros((32, 1, 8, 8), np.uint8)
    for i in range(32):
        y, x = rng.integers(0, 5, 2)
        images[i, 0, y:y + 3, x:x + 3] = 255
    return images


@pytest.fixture(scope="module")
def folder(tmp_path_factory, blobs):
    root = tmp_path_factory.mktemp("blobs")
    for i, img in enumerate(blobs):
        Image.fromarray(img[0]).save(root / f"{i:03d}.png")
    return root


def small(**kw):
    base = dict(steps=4, batch_size=8, latent_dim=8, base_channels=4, sample_every=100,
                checkpoint_every=2, num_samples=4, seed=0)
    base.update(kw)
    return TrainConfig(**base)


@pytest.fixture(scope="module")
def good_checkpoint(tmp_path_factory, blobs):
    run = tmp_path_factory.mktemp("good")
    Trainer(ArrayDataset(blobs), run, small(steps=2)).fit()
    return run / "checkpoint.npz"


def train_args(folder, out, steps=4, *extra):
    return ["train", "--dataset", f"folder:{folder}", "--image-size", "8", "--channels", "1",
            "--base-channels", "4", "--latent-dim", "8", "--batch-size", "8", "--steps", str(steps),
            "--sample-every", "100", "--checkpoint-every", "2", "--out", str(out), "--no-progress", *extra]


def one_line_error(capsys, argv, *needles, code=1):
    assert main([str(a) for a in argv]) == code
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("tensorgan: error:"), err
    for needle in needles:
        assert needle in err[0], err[0]
    return err[0]


# -- checkpoints -----------------------------------------------------------------------------------
def test_not_a_checkpoint_at_all(tmp_path, good_checkpoint, capsys):
    png = io.BytesIO()
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(png, format="PNG")
    object_npz = tmp_path / "objects.npz"
    np.savez(object_npz, a=np.array([{"x": 1}, None], dtype=object))
    meta_npz = tmp_path / "meta_objects.npz"
    np.savez(meta_npz, __meta__=np.array('{"format": "tensorgan-checkpoint"}'),
             b=np.array([[1], "x"], dtype=object))
    npy = io.BytesIO()
    np.save(npy, np.ones(3))
    files = {"empty.npz": b"", "random.npz": np.random.default_rng(0).bytes(300),
             "image.npz": png.getvalue(), "zip-ish.npz": b"PK\x03\x04" + b"\0" * 40,
             "array.npz": npy.getvalue()}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    for path in [tmp_path / n for n in files] + [object_npz, meta_npz, tmp_path]:
        raises(lambda: ckpt.load_checkpoint(path), CheckpointError, str(path))
        one_line_error(capsys, ["sample", "--checkpoint", path, "-o", tmp_path / "x.png"], str(path))
    for path in (object_npz, meta_npz):
        raises(lambda: ckpt.load_checkpoint(path), CheckpointError, "pickle")
    one_line_error(capsys, train_args("x", tmp_path / "r", 4, "--resume", meta_npz), "pickle")


def _mutate_checkpoint(path, out, edit):
    state = ckpt.load_checkpoint(path)
    edit(state)
    state.pop("format"), state.pop("format_version")
    ckpt.save_checkpoint(out, state)
    return out


def test_checkpoint_of_another_architecture_names_the_first_parameter_and_both_shapes(
        tmp_path, blobs, folder, good_checkpoint, capsys):
    dataset = ArrayDataset(blobs)
    other = Trainer(dataset, None, small(base_channels=2))
    err = raises(lambda: other.resume(good_checkpoint), CheckpointError, "generator",
                 "'0.weight'", "(128, 8)", "(64, 8)")
    assert "base_channels" in str(err)
    # another image shape
    big = ArrayDataset(np.zeros((8, 1, 16, 16), np.uint8))
    raises(lambda: Trainer(big, None, small()).resume(good_checkpoint), CheckpointError,
           "(1, 8, 8)", "(1, 16, 16)")
    # through the CLI: a checkpoint whose recorded architecture does not fit its weights
    lying = _mutate_checkpoint(good_checkpoint, tmp_path / "lying.npz",
                               lambda s: s["architecture"]["generator"].update(base_channels=2))
    one_line_error(capsys, ["sample", "--checkpoint", lying, "-o", tmp_path / "x.png"],
                   "'0.weight'", "(128, 8)", "(64, 8)")
    one_line_error(capsys, train_args(folder, tmp_path / "r", 4, "--resume", lying),
                   "another generator architecture", "base_channels")


@pytest.mark.parametrize("edit", [dict(base_channels=10**6), dict(latent_dim=10**9),
                                  dict(image_shape=[1, 2**20, 2**20])])
def test_sample_refuses_an_absurd_recorded_architecture_before_building_it(
        tmp_path, good_checkpoint, capsys, monkeypatch, edit):
    """Building base_channels 10**6 would allocate ~78 GB and be OOM-killed without a message."""
    lying = _mutate_checkpoint(good_checkpoint, tmp_path / "absurd.npz",
                               lambda s: s["architecture"]["generator"].update(**edit))
    def no_building(*args, **kwargs):
        raise AssertionError("the generator was built before its size was checked")
    monkeypatch.setattr(tg.models.dcgan, "Generator", no_building)
    one_line_error(capsys, ["sample", "--checkpoint", lying, "-o", tmp_path / "x.png"],
                   str(lying), "numbers in its state", "stores", next(iter(edit)))
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize("options", [dict(), dict(discriminator="mlp"), dict(d_norm="layer"),
                                     dict(d_norm="none", base_channels=3, latent_dim=5),
                                     dict(d_norm="spectral"), dict(conditional=True)])
def test_planned_model_configs_are_the_models_the_trainer_builds(blobs, options):
    from tensorgan.cli import planned_model_configs
    from tensorgan.models.dcgan import state_numel
    trainer = Trainer(ArrayDataset(blobs, labels=np.arange(len(blobs)) % 4), None, small(**options))
    planned = planned_model_configs(trainer.config, blobs.shape[1:], trainer.num_classes)
    for network, model in (("generator", trainer.G), ("discriminator", trainer.D)):
        assert state_numel(planned[network]) == sum(v.size for v in model.state_dict().values()), network
        built = model.config()
        assert {k: v for k, v in planned[network].items() if k not in ("head", "norm")} == \
            {k: v for k, v in built.items() if k not in ("head", "norm", "dropout")}, network


@pytest.mark.parametrize("network, edit", [("generator", dict(base_channels=10 ** 6)),
                                           ("generator", dict(latent_dim=10 ** 9)),
                                           ("discriminator", dict(discriminator="mlp"))])
def test_train_resume_refuses_a_config_larger_than_its_weights_before_building(
        tmp_path, folder, capsys, monkeypatch, network, edit):
    """An edited training config (base_channels 10**6) was built -- ~hundreds of GB -- before
    load_state_dict compared it with the stored weights: the OOM killer ended it unnamed."""
    run = tmp_path / "run"
    assert main([str(a) for a in train_args(folder, run, 2)]) == 0
    capsys.readouterr()
    # (a conv-D run whose config now says mlp: the MLP's 164k numbers against the conv D's few)
    lying = _mutate_checkpoint(run / "checkpoint.npz", tmp_path / "lying.npz",
                               lambda s: s["config"].update(**edit))
    def no_building(*args, **kwargs):
        raise AssertionError("the models were built before their size was checked")
    monkeypatch.setattr(tg.train, "build_models", no_building)
    one_line_error(capsys, ["train", "--resume", lying, "--out", tmp_path / "fork", "--no-progress"],
                   str(lying), network, "numbers in its state", "stores")


def test_train_refuses_models_larger_than_memory_before_building(tmp_path, folder, capsys, monkeypatch):
    def no_building(*args, **kwargs):
        raise AssertionError("the models were built before their size was checked")
    monkeypatch.setattr(tg.train, "build_models", no_building)
    monkeypatch.setattr(tg.cli, "_available_memory", lambda: 2 ** 30)
    argv = train_args(folder, tmp_path / "big", 2)
    argv[argv.index("--base-channels") + 1] = "4096"     # ~1.8 G numbers: 27 GiB at 4 copies
    one_line_error(capsys, argv, "--base-channels 4096", "GiB", "1.0 GiB available")
    assert not (tmp_path / "big" / "checkpoint.npz").exists()


def test_sample_and_eval_refuse_a_generator_with_non_finite_weights(tmp_path, good_checkpoint, capsys):
    """The trainer never saves NaN weights; an edited or foreign file would give garbage images."""
    def poison(s):
        s["models"]["generator"]["0.weight"][0, 0] = np.nan
    bad = _mutate_checkpoint(good_checkpoint, tmp_path / "nan.npz", poison)
    one_line_error(capsys, ["sample", "--checkpoint", bad, "-o", tmp_path / "x.png"],
                   str(bad), "'0.weight'", "NaN")
    assert not (tmp_path / "x.png").exists()
    one_line_error(capsys, ["eval", "--checkpoint", bad, "-n", "10"], "'0.weight'", "NaN")
    # and resuming with other architecture options says which ones
    argv = train_args(folder, tmp_path / "r2", 4, "--resume", good_checkpoint)
    argv[argv.index("--base-channels") + 1] = "2"
    one_line_error(capsys, argv, "--base-channels")


@pytest.mark.parametrize("edit, needle", [
    (lambda s: s.update(step="many"), "step"),
    (lambda s: s["rng"].update(noise="{not json"), "noise"),
    (lambda s: s["rng"].update(noise='{"bit_generator": "MT19937", "state": 3}'), "noise"),
    (lambda s: s["optimizers"]["generator"]["state"][0].update(exp_avg=np.zeros(7, np.float32)), "exp_avg"),
    (lambda s: s["optimizers"]["generator"].update(param_groups="x"), "generator"),
    (lambda s: s["models"]["discriminator"].pop("0.weight"), "0.weight"),
    (lambda s: s["data"].update(order=np.zeros(3, np.int64)), "DataLoader"),
    (lambda s: s.update(fixed_noise=np.zeros((2, 2, 2), np.float32)), "fixed_noise"),
])
def test_malformed_checkpoint_contents_are_checkpoint_errors_and_change_nothing(
        tmp_path, blobs, good_checkpoint, edit, needle):
    bad = _mutate_checkpoint(good_checkpoint, tmp_path / "bad.npz", edit)
    trainer = Trainer(ArrayDataset(blobs), None, small())
    before = trainer.state_dict()
    raises(lambda: trainer.resume(bad), CheckpointError, needle)
    after = trainer.state_dict()
    assert after["step"] == before["step"] == 0 and after["rng"] == before["rng"]
    for name in ("generator", "discriminator"):
        for k, v in before["models"][name].items():
            np.testing.assert_array_equal(v, after["models"][name][k])


@fast
@given(position=st.integers(0, 10**7), value=st.integers(0, 255), cut=st.none() | st.integers(0, 10**7),
       extra=st.binary(max_size=16))
def test_hypothesis_corrupt_checkpoint_bytes_are_checkpoint_errors(tmp_path, blobs, good_checkpoint,
                                                                   position, value, cut, extra):
    """Any byte changed, the file cut anywhere, junk appended: a CheckpointError or a checkpoint
    that loads completely (into the trainer and the sampler), never another exception or a hang."""
    data = bytearray(good_checkpoint.read_bytes())
    data[position % len(data)] = value
    if cut is not None:
        data = data[:cut % len(data)]
    path = tmp_path / "fuzzed.npz"
    path.write_bytes(bytes(data) + extra)
    _load_everywhere(path, blobs)


@fast
@given(data=st.binary(max_size=400), zip_prefix=st.booleans())
def test_hypothesis_random_bytes_are_checkpoint_errors(tmp_path, blobs, data, zip_prefix):
    path = tmp_path / "random.npz"
    path.write_bytes((b"PK\x03\x04" if zip_prefix else b"") + data)
    _load_everywhere(path, blobs)


def _load_everywhere(path, blobs):
    try:
        state = ckpt.load_checkpoint(path)
    except CheckpointError:
        return
    try:
        Trainer(ArrayDataset(blobs), None, small()).load_state_dict(state, source=str(path))
    except CheckpointError:
        pass
    try:
        load_generator(path)
    except CheckpointError:
        pass


def _tree_paths(tree, prefix=()):
    yield prefix
    items = tree.items() if isinstance(tree, dict) else enumerate(tree) if isinstance(tree, list) else ()
    for key, value in items:
        yield from _tree_paths(value, prefix + (key,))


JUNK = st.sampled_from([None, "x", -1, 0, 10**12, 1.5, float("nan"), [], {}, [1, 2], {"a": 1}, True,
                        np.zeros(3, np.float32), np.zeros((2, 2), np.int64), np.array("s")])


@fast
@given(data=st.data(), junk=JUNK)
def test_hypothesis_damaged_checkpoint_entries_are_checkpoint_errors(tmp_path, blobs, good_checkpoint,
                                                                    data, junk):
    """A well-formed file whose contents are wrong (any entry replaced by junk) loads completely or
    is a CheckpointError, in the trainer and in the sampler."""
    state = ckpt.load_checkpoint(good_checkpoint)
    paths = sorted((p for p in _tree_paths(state) if p and p[0] not in ("format", "format_version")), key=str)
    path = data.draw(st.sampled_from(paths))
    target = state
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = junk
    state.pop("format"), state.pop("format_version")
    out = tmp_path / "damaged.npz"
    ckpt.save_checkpoint(out, state)
    _load_everywhere(out, blobs)


@fast
@given(entry=st.sampled_from(["models/generator/0.weight", "__meta__", "data/order"]),
       header=st.sampled_from([b"{'descr': '<f4', 'fortran_order': False, 'shape': (4000000000000,), }",
                               b"{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }",
                               b"{'descr': '|O', 'fortran_order': False, 'shape': (2,), }",
                               b"{'descr': 'zz', 'fortran_order': False, 'shape': (2,), }",
                               b"not a dict"]))
def test_hostile_array_headers_are_refused_before_allocating(tmp_path, good_checkpoint, entry, header):
    """An entry whose .npy header declares a huge (or impossible) array is a CheckpointError, not a
    MemoryError or an attempt to read terabytes."""
    out = tmp_path / "hostile.npz"
    with zipfile.ZipFile(good_checkpoint) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == entry + ".npy":
                pad = 64 - (10 + len(header) + 1) % 64
                head = header + b" " * pad + b"\n"
                data = b"\x93NUMPY\x01\x00" + len(head).to_bytes(2, "little") + head + data[-32:]
            dst.writestr(info, data)
    raises(lambda: ckpt.load_checkpoint(out), CheckpointError, str(out))


# -- faults during training ----------------------------------------------------------------------
def _no_litter(folder):
    return [p.name for p in Path(folder).rglob("*.tmp")]


@pytest.mark.parametrize("fail_in", ["write", "fsync", "replace", "interrupt"])
def test_failed_checkpoint_write_never_replaces_the_good_one(tmp_path, blobs, monkeypatch, fail_in):
    trainer = Trainer(ArrayDataset(blobs), tmp_path, small(steps=2))
    trainer.fit()
    path = tmp_path / "checkpoint.npz"
    good = path.read_bytes()
    real_write = ckpt._write_npz        # (the checkpoint writer: np.savez's file, see checkpoint)

    def write_npz(f, arrays):
        real_write(f, arrays)
        if fail_in == "write":
            raise OSError(errno.ENOSPC, "No space left on device")
        if fail_in == "interrupt":
            raise KeyboardInterrupt

    def fail(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(ckpt, "_write_npz", write_npz)
    if fail_in == "fsync":
        monkeypatch.setattr(os, "fsync", fail)
    if fail_in == "replace":
        monkeypatch.setattr(os, "replace", fail)
    trainer.step = 7
    with pytest.raises(KeyboardInterrupt if fail_in == "interrupt" else CheckpointError):
        trainer.save_checkpoint()
    monkeypatch.undo()
    assert path.read_bytes() == good and ckpt.load_checkpoint(path)["step"] == 2
    assert _no_litter(tmp_path) == []


def test_checkpoint_failure_mid_training_keeps_the_last_good_one(tmp_path, folder, monkeypatch, capsys):
    import tensorgan.train as train_module
    real = train_module.save_checkpoint
    calls = []

    def flaky(path, state):
        calls.append(state["step"])
        if state["step"] >= 4:
            raise CheckpointError(f"could not write checkpoint {path}: No space left on device")
        return real(path, state)

    monkeypatch.setattr(train_module, "save_checkpoint", flaky)
    err = one_line_error(capsys, train_args(folder, tmp_path / "run", 6),
                         "No space left")
    assert calls == [2, 4] and ckpt.load_checkpoint(tmp_path / "run" / "checkpoint.npz")["step"] == 2
    assert _no_litter(tmp_path / "run") == [], err


def test_full_disk_and_unwritable_run_dir_are_reported_before_training(tmp_path, blobs, folder,
                                                                         monkeypatch, capsys):
    import collections
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    one_line_error(capsys, train_args(folder, blocker / "run"), "not writable", str(blocker / "run"))
    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**9, 10**9 - 4096, 4096))
    with pytest.raises(ConfigError, match="MiB free"):
        Trainer(ArrayDataset(blobs), tmp_path / "lib-run", small())
    one_line_error(capsys, train_args(folder, tmp_path / "run"), "MiB free", str(tmp_path / "run"))
    # ... and the run directories those calls would have created are not left behind, empty
    assert not (tmp_path / "lib-run").exists() and not (tmp_path / "run").exists()
    (tmp_path / "kept").mkdir()                # a directory that was there before stays
    one_line_error(capsys, train_args(folder, tmp_path / "kept"), "MiB free", str(tmp_path / "kept"))
    assert (tmp_path / "kept").is_dir() and not any((tmp_path / "kept").iterdir())


def test_non_finite_parameters_never_reach_a_checkpoint(tmp_path, blobs):
    """With the per-step gradient check off, a NaN gradient reaches the weights; the checkpoint
    due after that step is refused, so the last good one stays."""
    trainer = Trainer(ArrayDataset(blobs), tmp_path, small(steps=8, checkpoint_every=2, check_grads=False))
    real_step = trainer.opt_g.step

    def step():
        if trainer.step == 3:  # the update of step 4
            trainer.G[0].weight.grad.array[0, 0] = np.nan
        real_step()

    trainer.opt_g.step = step
    with pytest.raises(NonFiniteError, match=r"step 4: the generator's parameters are not finite.*kept"):
        trainer.fit()
    assert ckpt.load_checkpoint(tmp_path / "checkpoint.npz")["step"] == 2


def test_non_finite_loss_from_the_cli_is_one_line_naming_step_and_network(tmp_path, folder, monkeypatch,
                                                                          capsys):
    import tensorgan.train as train_module
    monkeypatch.setattr(train_module, "_grads_finite", lambda params: False)
    one_line_error(capsys, train_args(folder, tmp_path / "run"), "step 1", "discriminator", "not finite")
    monkeypatch.undo()


def test_second_sigint_stops_at_once_and_the_checkpoint_stays_whole(tmp_path, blobs):
    trainer = Trainer(ArrayDataset(blobs), tmp_path, small(steps=50, checkpoint_every=2))
    previous = signal.getsignal(signal.SIGINT)

    def twice(record):
        if record["step"] == 3:
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(KeyboardInterrupt):
        trainer.fit(on_step=twice)
    assert ckpt.load_checkpoint(tmp_path / "checkpoint.npz")["step"] == 2
    assert _no_litter(tmp_path) == [] and signal.getsignal(signal.SIGINT) is previous


def test_sigint_subprocess_exits_130_with_a_checkpoint_and_resume_continues(tmp_path, folder):
    run = tmp_path / "run"
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    proc = subprocess.Popen([sys.executable, "-m", "tensorgan", *train_args(folder, run, 100_000)],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    metrics = run / "metrics.jsonl"
    deadline = time.time() + 120
    try:
        while time.time() < deadline and proc.poll() is None:
            if metrics.exists() and metrics.read_text().count("\n") >= 3:
                break
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert err.strip().count("\n") == 0 and "Traceback" not in err and "interrupted at step" in err, err
    step = ckpt.load_checkpoint(run / "checkpoint.npz")["step"]
    lines = [json.loads(line) for line in metrics.read_text().splitlines()]
    assert step >= 3 and lines[-1]["step"] == step and f"step {step}" in err
    assert _no_litter(run) == []
    # --resume continues from there, and matches an uninterrupted run
    assert main(train_args(folder, run, step + 2, "--resume")) == 0
    reference = tmp_path / "reference"
    assert main(train_args(folder, reference, step + 2)) == 0
    resumed = [(r["step"], r["loss_d"], r["loss_g"]) for r in map(json.loads, metrics.read_text().splitlines())]
    straight = [(r["step"], r["loss_d"], r["loss_g"])
                for r in map(json.loads, (reference / "metrics.jsonl").read_text().splitlines())]
    assert resumed == straight


# -- bad input through the CLI -------------------------------------------------------------------
def _mnist_dir(tmp_path, images, labels, raw_images=None):
    root = tmp_path / "mnist-bad"
    root.mkdir(exist_ok=True)
    write_idx(root / "train-images-idx3-ubyte", images)
    write_idx(root / "train-labels-idx1-ubyte", labels)
    if raw_images is not None:
        (root / "train-images-idx3-ubyte").write_bytes(raw_images)
    return root


def _idx(array):
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.tobytes()


IMAGES = np.zeros((10, 28, 28), np.uint8)
LABELS = np.zeros(10, np.uint8)


@pytest.mark.parametrize("raw, labels, needles", [
    (_idx(IMAGES)[:-100], LABELS, ["train-images-idx3-ubyte", "truncated"]),
    (b"\x01\x02" + _idx(IMAGES)[2:], LABELS, ["train-images-idx3-ubyte", "not an IDX file"]),
    (_idx(IMAGES)[:2] + b"\x0d" + _idx(IMAGES)[3:], LABELS, ["train-images-idx3-ubyte", "0x0d"]),
    (b"\x1f\x8b" + b"garbage" * 10, LABELS, ["train-images-idx3-ubyte", "gzip"]),
    (_idx(IMAGES), np.zeros(9, np.uint8), ["train-"]),  # mismatched counts (or a checksum) named
])
def test_bad_idx_files_in_data_dir_are_one_line(tmp_path, capsys, raw, labels, needles):
    root = _mnist_dir(tmp_path, IMAGES, labels, raw_images=raw)
    one_line_error(capsys, ["train", "--data-dir", root, "--out", tmp_path / "run", "--steps", "1"],
                   *needles)


def test_bad_image_folders_are_one_line(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    one_line_error(capsys, train_args(empty, tmp_path / "r"), "no PNG or JPEG")
    broken = tmp_path / "broken"
    broken.mkdir()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(broken / "a.png")
    (broken / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
    one_line_error(capsys, train_args(broken, tmp_path / "r"), "b.png", "cannot read image")
    sizes = tmp_path / "sizes"
    sizes.mkdir()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(sizes / "a.png")
    Image.fromarray(np.zeros((9, 8), np.uint8)).save(sizes / "b.png")
    one_line_error(capsys, train_args(sizes, tmp_path / "r", 4, "--strict-size"), "b.png", "8x9")


@pytest.mark.parametrize("argv, needle", [
    (["train", "--lr", "nan"], "--lr"), (["train", "--lr", "0"], "--lr"), (["train", "--lr", "inf"], "--lr"),
    (["train", "--steps", "0"], "--steps"), (["train", "--seed", str(-2**63 - 1)], "--seed"),
    (["train", "--epochs", "x"], "--epochs"), (["train", "--image-size", "0"], "--image-size"),
    (["train", "--channels", "2"], "--channels"), (["train", "--on-nonfinite", "ignore"], "--on-nonfinite"),
    (["sample", "--checkpoint", "c.npz", "-o", "x.png", "--batch-size", "0"], "--batch-size"),
])
def test_invalid_hyperparameters_from_the_cli(capsys, argv, needle):
    one_line_error(capsys, argv, needle, code=2)


def test_device_cuda_without_a_gpu_says_why_and_how_to_install(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    from tensorgan.backend import cuda_status
    code = ("import os; os.environ.pop('NUMBA_ENABLE_CUDASIM', None); from tensorgan.backend import "
            "cuda_status; print(cuda_status()[0])")
    usable = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                            cwd=REPO, timeout=120).stdout.strip()
    if usable == "True":
        pytest.skip("a real GPU is usable here")
    for command in (["train", "--out", str(tmp_path / "r")],
                    ["sample", "--checkpoint", str(tmp_path / "c.npz"), "-o", str(tmp_path / "x.png")]):
        proc = subprocess.run([sys.executable, "-m", "tensorgan", *command, "--device", "cuda"],
                              capture_output=True, text=True, env=env, cwd=REPO, timeout=120)
        assert proc.returncode == 1 and "Traceback" not in proc.stderr
        err = proc.stderr.strip()
        assert err.count("\n") == 0 and err.startswith("tensorgan: error: device 'cuda' is not available")
        assert "pip install 'tensorgan[cuda12]'" in err or "driver" in err, err
    assert not (tmp_path / "r").exists()  # nothing was created before the device was checked
    assert cuda_status  # the library reports the same reason


def test_atomic_write_gives_the_umask_mode_not_mkstemps_0600(tmp_path):
    from tensorgan.checkpoint import atomic_write
    old = os.umask(0o022)
    try:
        target = atomic_write(tmp_path / "out.bin", lambda f: f.write(b"x"))
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_atomic_write_errors_name_the_path_asked_for_not_the_temp_file(tmp_path):
    from tensorgan.fileio import atomic_write
    (tmp_path / "grid.png").mkdir()
    with pytest.raises(IsADirectoryError, match=r"is a directory, not a file: '.*grid\.png'$"):
        atomic_write(tmp_path / "grid.png", lambda f: f.write(b"x"))
    with pytest.raises(FileNotFoundError, match=r"cannot create a file in .*missing.*'.*missing/x\.png'$"):
        atomic_write(tmp_path / "missing" / "x.png", lambda f: f.write(b"x"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grid.png"]        # no temp file left
